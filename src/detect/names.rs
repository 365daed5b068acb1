//! What a column's name and type say about it: the words of the name (see `words`), its last
//! word as a qualifier (`_at`, `_id`, `_url`, `_type`, `_count`…), and the type it is stored
//! as (a boolean or timestamp whose name mentions email is not an email). Pure.

use super::NameClass;
use super::words::words;

/// How a column's type bears on its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    Text,
    Integer,
    Decimal,
    Bool,
    Temporal,
    Uuid,
    Inet,
    Json,
    Xml,
    Bytes,
    Enum,
    Other,
}

/// Trailing words that make a column describe something rather than hold it: `token_url`,
/// `token_type`, `refresh_token_counter`, `email_optional`, `password_changed_at`.
const NEUTRAL_QUALIFIERS: &[&str] = &[
    "url",
    "uri",
    "urls",
    "endpoint",
    "method",
    "methods",
    "type",
    "types",
    "kind",
    "count",
    "counter",
    "counts",
    "provider",
    "scope",
    "scopes",
    "mode",
    "format",
    "status",
    "strategy",
    "algorithm",
    "alg",
    "length",
    "size",
    "version",
    "attempts",
    "tries",
    "limit",
    "template",
    "domain",
    "policy",
    "preference",
    "preferences",
    "setting",
    "settings",
    "enabled",
    "disabled",
    "required",
    "optional",
    "allowed",
    "verified",
    "confirmed",
    "sent",
    "changed",
    "updated",
    "created",
    "visible",
    "requested",
    "frequency",
    "last4",
    "brand",
    "expires",
    "expiry",
    "expiration",
    "exp",
    "lifetime",
    "ttl",
    "in",
    "issued",
    "used",
    "revoked",
    "prefix",
    "suffix",
    "column",
    "field",
    "label",
    "public",
    "valid",
    "validated",
    "consent",
    "opt",
    "subscribed",
    "unsubscribed",
    "bounced",
    "bounce",
    "bounces",
    "delivered",
    "opened",
    "clicked",
    "notifications",
    "notification",
    "reminder",
    "reminders",
    "fingerprint",
    "header",
    "param",
    "parameter",
    "name",
    "names",
    "rotation",
    "rotated",
    "country",
    "region",
    "state",
    "city",
    "locale",
    "language",
    "timezone",
    "zone",
];

/// Trailing words of time: only a birth (or death) date stays personal.
const TEMPORAL_QUALIFIERS: &[&str] = &[
    "at",
    "on",
    "date",
    "time",
    "timestamp",
    "until",
    "since",
    "when",
    "datetime",
    "day",
    "month",
    "year",
];

/// Trailing words of a key or reference.
const ID_QUALIFIERS: &[&str] = &["id", "ids", "uuid", "guid", "fk", "ref"];

/// People's roles: `reviewer_name`, `owner_name` and `contact_name` are people's names.
const PERSON_ROLES: &[&str] = &[
    "first",
    "last",
    "middle",
    "given",
    "family",
    "full",
    "maiden",
    "nick",
    "display",
    "legal",
    "preferred",
    "real",
    "screen",
    "user",
    "login",
    "person",
    "customer",
    "contact",
    "reviewer",
    "author",
    "owner",
    "member",
    "employee",
    "recipient",
    "sender",
    "holder",
    "manager",
    "assignee",
    "requester",
    "spouse",
    "parent",
    "guardian",
    "emergency",
    "billing",
    "shipping",
    "patient",
    "student",
    "teacher",
    "guest",
    "applicant",
    "candidate",
    "buyer",
    "seller",
    "signer",
    "approver",
    "submitter",
    "creator",
    "uploader",
    "volunteer",
    "client",
    "account",
    "cardholder",
    "sur",
    "fore",
    "mother",
    "father",
    "child",
    "supervisor",
    "reporter",
    "referrer",
    "maintainer",
    "committer",
    "sign",
    "org",
    "birth",
];

/// Tables holding people: a bare `name` there is a person's name.
const PEOPLE_TABLES: &[&str] = &[
    "user",
    "users",
    "customer",
    "customers",
    "person",
    "persons",
    "people",
    "employee",
    "employees",
    "contact",
    "contacts",
    "member",
    "members",
    "author",
    "authors",
    "patient",
    "patients",
    "student",
    "students",
    "client",
    "clients",
    "staff",
    "profile",
    "profiles",
    "subscriber",
    "subscribers",
    "applicant",
    "applicants",
    "volunteer",
    "volunteers",
    "candidate",
    "candidates",
    "guardian",
    "guardians",
    "supervisor",
    "admin",
    "supervisors",
    "reviewer",
    "reviewers",
    "recipient",
    "recipients",
    "owner",
    "owners",
    "teacher",
    "teachers",
    "parent",
    "parents",
    "child",
    "children",
    "admin",
    "admins",
];

/// Tables of secrets: their value-like and lineage columns hold secrets too
/// (`refresh_tokens.parent`, `api_keys.value`).
const SECRET_TABLE_WORDS: &[&str] = &[
    "token",
    "tokens",
    "secret",
    "secrets",
    "credential",
    "credentials",
    "password",
    "passwords",
    "invitation",
    "invitations",
    "invite",
    "invites",
];
const SECRET_TABLE_COLUMNS: &[&str] = &[
    "value",
    "token",
    "secret",
    "hash",
    "digest",
    "key",
    "code",
    "parent",
    "previous",
    "prev",
    "next",
    "replaced",
    "original",
    "child",
    "successor",
    "predecessor",
    "old",
    "new",
    "current",
    "rotated",
    "data",
    "encrypted",
    "payload",
];

/// Words that name secrets wherever they stand.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "otp",
    "totp",
    "hotp",
    "cvv",
    "cvc",
    "cvv2",
    "ssn",
    "iban",
    "nino",
    "pan",
    "verifier",
    "passport",
    "jwt",
    "bearer",
    "apikey",
    "privatekey",
    "pin",
    "cookie",
    "creditcard",
    "cardnumber",
    "ccnumber",
    "crypted",
    "salt",
];

/// The last words a secret's name may end with: `reset_password_token`, `password_digest`,
/// `otp_backup_codes`; `api_key_permissions` and `token_hint` describe a secret, they do not hold it.
const SECRET_HEADS: &[&str] = &[
    "value",
    "hash",
    "hashed",
    "digest",
    "data",
    "number",
    "numbers",
    "no",
    "num",
    "code",
    "codes",
    "key",
    "keys",
    "seed",
    "salt",
    "crypt",
    "encrypted",
    "ciphertext",
    "cipher",
    "blob",
    "string",
    "raw",
    "plain",
    "plaintext",
    "signature",
];

/// Words that make a name describe the outcome of checking a secret, not the secret:
/// `cvv_response_code`, `otp_result`.
const OUTCOME_WORDS: &[&str] = &["response", "result", "results", "check", "match", "matched"];

/// `<word>_key` names a secret key; `public_key` does not.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "private",
    "secret",
    "access",
    "signing",
    "encryption",
    "master",
    "license",
    "licence",
    "session",
    "auth",
    "client",
    "app",
    "webhook",
    "hmac",
    "shared",
    "recovery",
    "otp",
];

/// `<word>_code` names a one-time secret: `auth_code`, `authorization_code`, `reset_code`.
const CODE_QUALIFIERS: &[&str] = &[
    "auth",
    "authorization",
    "authorisation",
    "authentication",
    "verification",
    "verify",
    "confirmation",
    "confirm",
    "reset",
    "recovery",
    "backup",
    "otp",
    "mfa",
    "sms",
    "security",
    "access",
    "activation",
    "invite",
    "invitation",
    "unlock",
    "login",
    "signin",
    "device",
    "one",
    "twofa",
    "magic",
    "pin",
    "secret",
    "oauth",
    "grant",
];

/// Words that name personal data wherever they stand.
const PERSONAL_WORDS: &[&str] = &[
    "email",
    "emails",
    "mail",
    "phone",
    "phones",
    "mobile",
    "telephone",
    "tel",
    "fax",
    "msisdn",
    "address",
    "addresses",
    "street",
    "addressline",
    "postcode",
    "zip",
    "zipcode",
    "birth",
    "birthday",
    "birthdate",
    "dob",
    "born",
    "ip",
    "ipv4",
    "ipv6",
    "ipaddr",
    "surname",
    "forename",
    "firstname",
    "lastname",
    "fullname",
    "username",
    "usernames",
    "nickname",
    "login",
    "bio",
    "biography",
    "notes",
    "note",
    "comment",
    "comments",
    "remarks",
    "avatar",
    "photo",
    "photos",
    "picture",
    "portrait",
    "selfie",
    "signature",
    "gender",
    "sex",
    "latitude",
    "longitude",
    "lat",
    "lng",
    "lon",
    "geolocation",
    "ethnicity",
    "religion",
    "marital",
    "resume",
    "cv",
    "demographics",
    "salary",
    "wage",
    "diagnosis",
    "disability",
    "allergies",
    "nationality",
];

/// Personal attributes whose class no trailing qualifier changes (`marital_status`).
const ATTRIBUTE_WORDS: &[&str] = &[
    "gender",
    "sex",
    "marital",
    "ethnicity",
    "religion",
    "nationality",
];

/// The class of a column from its name, its table's name and its type.
pub fn classify(table: &str, column: &str, kind: TypeKind) -> Option<NameClass> {
    let words: Vec<String> = words(column)
        .into_iter()
        .filter(|word| !word.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    if words.is_empty() || kind == TypeKind::Bool {
        return None;
    }
    let has = |list: &[&str]| words.iter().any(|word| list.contains(&word.as_str()));
    if has(ATTRIBUTE_WORDS) {
        return matches!(kind, TypeKind::Text | TypeKind::Enum | TypeKind::Other)
            .then_some(NameClass::Personal);
    }
    let last = words.last().expect("not empty").as_str();
    let concept: &[String] = if NEUTRAL_QUALIFIERS.contains(&last)
        || TEMPORAL_QUALIFIERS.contains(&last)
        || ID_QUALIFIERS.contains(&last)
    {
        &words[..words.len() - 1]
    } else {
        &words
    };
    let birth = has(&[
        "birth",
        "birthday",
        "birthdate",
        "dob",
        "born",
        "death",
        "died",
    ]);
    if TEMPORAL_QUALIFIERS.contains(&last) || kind == TypeKind::Temporal {
        return birth.then_some(NameClass::Personal);
    }
    if last == "name" || last == "names" {
        return person_name(table, &words).then_some(NameClass::Personal);
    }
    if NEUTRAL_QUALIFIERS.contains(&last) {
        // `avatar_url` and `website_url` still point at a person; `token_url` is an endpoint.
        let personal_url = ["url", "uri", "urls"].contains(&last)
            && concept.iter().any(|word| {
                ["avatar", "photo", "picture", "portrait", "profile"].contains(&word.as_str())
            });
        return personal_url.then_some(NameClass::Personal);
    }
    if ID_QUALIFIERS.contains(&last) {
        return identifier(concept, kind);
    }
    if last == "handle" {
        let role = words.len() > 1 && PERSON_ROLES.contains(&words[words.len() - 2].as_str());
        return (is_people_table(table) || role).then_some(NameClass::Personal);
    }
    let coordinate = |word: &String| {
        ["latitude", "longitude", "lat", "lng", "lon", "geolocation"].contains(&word.as_str())
    };
    if concept.iter().any(coordinate) {
        let personal = is_located_people_table(table)
            || concept
                .iter()
                .any(|word| ["home", "user", "current", "last"].contains(&word.as_str()));
        return (personal && kind != TypeKind::Bool).then_some(NameClass::Personal);
    }
    let class = concept_class(table, concept);
    weigh_type(class, concept, kind)
}

/// The class a name-only reader (the data-handling doc, without types) gives a column.
pub fn classify_name(table: &str, column: &str) -> Option<NameClass> {
    classify(table, column, TypeKind::Text)
}

/// Whether `table` holds people (a bare `name` there is a person's name).
pub fn is_people_table(table: &str) -> bool {
    words(table)
        .last()
        .is_some_and(|word| PEOPLE_TABLES.contains(&word.as_str()))
}

/// Tables whose rows are about one person's whereabouts: coordinates there locate a person.
fn is_located_people_table(table: &str) -> bool {
    is_people_table(table)
        || words(table).iter().any(|word| {
            [
                "address",
                "addresses",
                "login",
                "logins",
                "session",
                "sessions",
                "activity",
                "activities",
                "visit",
                "visits",
                "sign",
                "checkin",
                "checkins",
                "device",
                "devices",
            ]
            .contains(&word.as_str())
        })
}

/// The class of the words before any qualifier.
fn concept_class(table: &str, concept: &[String]) -> Option<NameClass> {
    let has = |list: &[&str]| concept.iter().any(|word| list.contains(&word.as_str()));
    let followed_by = |first: &[&str], second: &[&str]| {
        concept
            .windows(2)
            .any(|pair| first.contains(&pair[0].as_str()) && second.contains(&pair[1].as_str()))
    };
    let last = concept.last().map(String::as_str).unwrap_or("");
    let card = concept
        .iter()
        .position(|word| word == "card" || word == "cards");
    let card_secret = card.is_some_and(|idx| {
        idx + 1 == concept.len()
            || [
                "number", "numbers", "no", "num", "pan", "data", "details", "cvv", "cvc",
            ]
            .contains(&concept[idx + 1].as_str())
    }) && !has(&[
        "holder",
        "cardholder",
        "expiry",
        "brand",
        "last4",
        "country",
        "type",
    ]);
    if has(OUTCOME_WORDS) {
        return None;
    }
    let secret_head = SECRET_WORDS.contains(&last) || SECRET_HEADS.contains(&last);
    let secret = (has(SECRET_WORDS) && secret_head && !has(&["public", "publishable"]))
        || card_secret
        || followed_by(KEY_QUALIFIERS, &["key", "keys"])
            && secret_head
            && !has(&["public", "publishable"])
        || followed_by(CODE_QUALIFIERS, &["code", "codes"])
        || followed_by(&["code"], &["verifier", "challenge"])
        || followed_by(
            &["national", "social", "tax", "driver", "drivers", "ni"],
            &[
                "id",
                "identity",
                "insurance",
                "security",
                "number",
                "license",
                "licence",
                "identifier",
            ],
        )
        || followed_by(&["account", "bank", "routing"], &["number", "no", "num"])
        || followed_by(&["recovery", "backup"], &["codes", "code"])
        || (!last.is_empty() && is_secret_table(table) && SECRET_TABLE_COLUMNS.contains(&last));
    if secret {
        return Some(NameClass::Sensitive);
    }
    let personal = has(PERSONAL_WORDS)
        && !has(&["mailer", "mailing", "template", "domain", "subject"])
        || followed_by(&["postal", "post", "zip"], &["code", "codes"])
        || followed_by(&["ip"], &["address", "addr"])
        || followed_by(&["remote"], &["ip", "addr", "address"])
        || followed_by(&["address"], &["line"])
        || followed_by(&["cell"], &["phone", "number"])
        || followed_by(&["about"], &["me", "you"])
        || (concept.len() == 1 && last == "about");
    personal.then_some(NameClass::Personal)
}

/// A `…_id` column that is not a foreign key: identifiers of people stay classified.
fn identifier(concept: &[String], kind: TypeKind) -> Option<NameClass> {
    let has = |list: &[&str]| concept.iter().any(|word| list.contains(&word.as_str()));
    let last = concept.last().map(String::as_str).unwrap_or("");
    if [
        "national", "tax", "passport", "ssn", "nino", "security", "driver", "drivers", "vat",
    ]
    .contains(&last)
    {
        return Some(NameClass::Sensitive);
    }
    if has(&["session", "cookie"]) && kind == TypeKind::Text {
        return Some(NameClass::Sensitive);
    }
    if has(&["login", "email"]) && kind == TypeKind::Text {
        return Some(NameClass::Personal);
    }
    None
}

fn person_name(table: &str, words: &[String]) -> bool {
    match words {
        [_] => is_people_table(table),
        // `display_name` and `full_name` name people in a table of people, products elsewhere.
        [.., role, _]
            if [
                "display",
                "full",
                "legal",
                "preferred",
                "real",
                "screen",
                "nick",
            ]
            .contains(&role.as_str()) =>
        {
            is_people_table(table)
        }
        [.., role, _] => PERSON_ROLES.contains(&role.as_str()),
        [] => false,
    }
}

fn is_secret_table(table: &str) -> bool {
    let words = words(table);
    words
        .iter()
        .any(|word| SECRET_TABLE_WORDS.contains(&word.as_str()))
        || words.windows(2).any(|pair| {
            KEY_QUALIFIERS.contains(&pair[0].as_str())
                && ["key", "keys"].contains(&pair[1].as_str())
        })
}

/// A class the type cannot hold is no class: an integer is not an email, an enum is not a token.
fn weigh_type(class: Option<NameClass>, concept: &[String], kind: TypeKind) -> Option<NameClass> {
    let has = |list: &[&str]| concept.iter().any(|word| list.contains(&word.as_str()));
    match (class, kind) {
        (None, TypeKind::Inet) => Some(NameClass::Personal),
        (None, _) => None,
        (Some(_), TypeKind::Bool | TypeKind::Temporal) => None,
        (Some(NameClass::Sensitive), TypeKind::Integer | TypeKind::Decimal) => has(&[
            "card",
            "cards",
            "creditcard",
            "cardnumber",
            "ccnumber",
            "ssn",
            "national",
            "social",
            "tax",
            "pin",
            "otp",
            "totp",
            "hotp",
            "code",
            "codes",
            "cvv",
            "cvc",
            "cvv2",
            "account",
            "bank",
            "passport",
            "nino",
            "pan",
            "iban",
        ])
        .then_some(NameClass::Sensitive),
        (Some(NameClass::Personal), TypeKind::Integer | TypeKind::Decimal) => has(&[
            "phone",
            "mobile",
            "telephone",
            "fax",
            "postcode",
            "zip",
            "zipcode",
            "postal",
            "birth",
            "birthday",
            "dob",
            "latitude",
            "longitude",
            "lat",
            "lng",
            "lon",
            "salary",
            "income",
            "wage",
        ])
        .then_some(NameClass::Personal),
        (Some(NameClass::Personal), TypeKind::Uuid) => None,
        (Some(_), TypeKind::Enum) => None,
        (class, _) => class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, &str, TypeKind, Option<NameClass>)]) {
        for (table, column, kind, expected) in cases {
            assert_eq!(
                classify(table, column, *kind),
                *expected,
                "{table}.{column} ({kind:?})"
            );
        }
    }

    const S: Option<NameClass> = Some(NameClass::Sensitive);
    const P: Option<NameClass> = Some(NameClass::Personal);
    use TypeKind::*;

    #[test]
    fn run_together_names_are_read_as_words() {
        check(&[
            ("person", "emailaddress", Text, P),
            ("person", "phonenumber", Text, P),
            ("address", "addressline1", Text, P),
            ("address", "AddressLine2", Text, P),
            ("address", "postalcode", Text, P),
            ("employee", "nationalidnumber", Text, S),
            ("employee", "NationalIDNumber", Text, S),
            ("employee", "loginid", Text, P),
            ("person", "middlename", Text, P),
            ("productreview", "reviewername", Text, P),
            ("person", "FirstName", Text, P),
        ]);
    }

    #[test]
    fn security_names_beyond_password_and_token() {
        check(&[
            ("flow_state", "auth_code", Text, S),
            ("oauth_authorizations", "authorization_code", Text, S),
            ("oauth_client_states", "code_verifier", Text, S),
            ("flow_state", "code_challenge", Text, S),
            ("refresh_tokens", "parent", Text, S),
            ("refresh_tokens", "token", Text, S),
            ("api_keys", "value", Text, S),
            ("users", "encrypted_password", Text, S),
            ("users", "password_digest", Text, S),
            ("users", "reset_password_token", Text, S),
            ("users", "otp_secret", Text, S),
            ("users", "recovery_codes", Text, S),
            ("webhooks", "signing_key", Text, S),
            ("payments", "card_number", Text, S),
            ("payments", "card_number", Decimal, S),
            ("payments", "cvv", Text, S),
            ("employees", "ni_number", Text, S),
            ("users", "ssn", Integer, S),
            ("sessions", "session_id", Text, S),
            ("users", "confirmation_token", Uuid, S),
        ]);
    }

    /// The false-alarm families of issue 14: qualifiers and types change the class.
    #[test]
    fn qualifiers_and_types_are_not_alarms() {
        check(&[
            ("oauth_clients", "token_url", Text, None),
            ("oauth_clients", "token_endpoint_auth_method", Text, None),
            ("refresh_tokens", "token_type", Enum, None),
            ("oauth_clients", "token_type", Text, None),
            ("one_time_tokens", "refresh_token_counter", Integer, None),
            ("mfa_factors", "refresh_token_counter", Integer, None),
            ("users", "email_confirmed_at", Temporal, None),
            ("users", "confirmation_sent_at", Temporal, None),
            ("users", "recovery_sent_at", Temporal, None),
            ("users", "email_change_sent_at", Temporal, None),
            ("users", "phone_change_sent_at", Text, None),
            ("settings", "email_optional", Bool, None),
            ("users", "email_optional", Text, None),
            ("users", "email_count", Integer, None),
            ("users", "email", Integer, None),
            ("customer", "address_id", Integer, None),
            ("salesorderheader", "creditcardid", Integer, None),
            ("creditcard", "cardtype", Text, None),
            ("users", "password_changed_at", Temporal, None),
            ("users", "tokens_used", Integer, None),
            ("users", "public_key", Text, None),
            ("products", "name", Text, None),
            ("users", "user_id", Integer, None),
            ("users", "name", Text, P),
            ("users", "date_of_birth", Temporal, P),
            ("users", "birth_date", Temporal, P),
            ("users", "last_sign_in_ip", Text, P),
            ("users", "current_sign_in_ip", Inet, P),
            ("users", "avatar_url", Text, P),
            ("spree_products", "tax_category_id", Integer, None),
            ("spree_variants", "primary_taxon_id", Integer, None),
            ("spree_payments", "cvv_response_code", Text, None),
            ("stripe_accounts", "stripe_publishable_key", Text, None),
            ("oidc_api_key_roles", "api_key_permissions", Json, None),
            ("organizations", "handle", Text, None),
            ("users", "handle", Text, P),
            ("versions", "full_name", Text, None),
            ("users", "full_name", Text, P),
            ("contact_types", "name", Text, None),
            ("nodes", "latitude", Integer, None),
            ("users", "home_lat", Decimal, P),
            ("spree_addresses", "latitude", Decimal, P),
            ("merchants", "website_url", Text, None),
            ("employees", "tax_id", Text, S),
            ("invitations", "code", Text, S),
        ]);
    }
}
