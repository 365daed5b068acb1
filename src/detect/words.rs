//! Column names as words: snake_case, kebab-case, camelCase and run-together names
//! (`phonenumber`, `addressline1`) split by dictionary segmentation. Pure.

/// Words that column names are made of. Segmentation prefers the fewest known words, so a
/// run-together name splits into these; unknown stretches stay whole.
const VOCABULARY: &[&str] = &[
    // people and contact
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
    "name",
    "names",
    "surname",
    "forename",
    "user",
    "username",
    "login",
    "person",
    "people",
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
    "email",
    "mail",
    "address",
    "addresses",
    "line",
    "street",
    "city",
    "town",
    "state",
    "province",
    "region",
    "country",
    "postal",
    "post",
    "code",
    "zip",
    "postcode",
    "phone",
    "mobile",
    "cell",
    "telephone",
    "fax",
    "number",
    "numbers",
    "birth",
    "date",
    "day",
    "born",
    "dob",
    "gender",
    "sex",
    "photo",
    "avatar",
    "picture",
    "image",
    "signature",
    "bio",
    "about",
    "note",
    "notes",
    "comment",
    "comments",
    "message",
    "body",
    "text",
    "description",
    "title",
    "national",
    "identity",
    "social",
    "security",
    "insurance",
    "passport",
    "license",
    "licence",
    "driver",
    "tax",
    "vat",
    "ssn",
    "ip",
    "remote",
    "host",
    "latitude",
    "longitude",
    "location",
    "geo",
    "home",
    "work",
    "office",
    "billing",
    "shipping",
    "resume",
    "website",
    "homepage",
    "company",
    "organization",
    "organisation",
    "job",
    // security
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "pass",
    "word",
    "secret",
    "secrets",
    "token",
    "tokens",
    "key",
    "keys",
    "api",
    "private",
    "public",
    "access",
    "refresh",
    "session",
    "auth",
    "authorization",
    "authorize",
    "authentication",
    "credential",
    "credentials",
    "verifier",
    "challenge",
    "nonce",
    "salt",
    "hash",
    "hashed",
    "digest",
    "encrypted",
    "crypted",
    "cipher",
    "otp",
    "totp",
    "mfa",
    "pin",
    "recovery",
    "backup",
    "reset",
    "confirmation",
    "confirm",
    "verification",
    "verify",
    "activation",
    "invite",
    "invitation",
    "unlock",
    "card",
    "credit",
    "debit",
    "account",
    "bank",
    "iban",
    "cvv",
    "cvc",
    "expiry",
    "expiration",
    "brand",
    "signing",
    "webhook",
    "client",
    "bearer",
    "cookie",
    "jwt",
    // qualifiers and common words
    "id",
    "ids",
    "uuid",
    "guid",
    "url",
    "uri",
    "endpoint",
    "method",
    "type",
    "kind",
    "count",
    "counter",
    "at",
    "on",
    "in",
    "of",
    "for",
    "by",
    "to",
    "is",
    "has",
    "time",
    "sent",
    "created",
    "updated",
    "deleted",
    "changed",
    "confirmed",
    "verified",
    "required",
    "optional",
    "enabled",
    "disabled",
    "allowed",
    "status",
    "mode",
    "format",
    "provider",
    "scope",
    "scopes",
    "version",
    "length",
    "size",
    "total",
    "attempts",
    "failed",
    "expires",
    "expired",
    "valid",
    "until",
    "since",
    "start",
    "end",
    "begin",
    "modified",
    "rate",
    "price",
    "amount",
    "order",
    "product",
    "item",
    "sales",
    "territory",
    "store",
    "vendor",
    "unit",
    "measure",
    "currency",
    "sequence",
    "flag",
    "online",
    "group",
    "level",
    "value",
    "data",
    "info",
    "detail",
    "details",
    "row",
    "guid",
    "special",
    "offer",
    "standard",
    "cost",
    "list",
    "reason",
    "shift",
    "department",
    "history",
    "pay",
    "frequency",
    "hire",
    "marital",
    "salaried",
    "hours",
    "vacation",
    "sick",
    "leave",
    "current",
    "organization",
    "node",
    "model",
    "culture",
    "illustration",
    "document",
    "summary",
    "owner",
    "file",
    "extension",
    "revision",
    "change",
    "quantity",
    "stock",
    "safety",
    "reorder",
    "point",
    "weight",
    "color",
    "style",
    "class",
    "subcategory",
    "category",
    "sell",
    "discontinued",
    "finished",
    "goods",
    "make",
    "flag",
    "ship",
    "due",
    "purchase",
    "online",
    "revision",
    "sub",
    "freight",
    "tracking",
    "carrier",
    "receipt",
    "rejected",
    "stocked",
    "scrapped",
    "scrap",
    "actual",
    "planned",
    "resource",
    "doc",
    "primary",
    "preference",
    "promotion",
    "demographics",
    "instructions",
    "catalog",
    "employee",
    "rating",
    "review",
    "reviewed",
    "source",
    "target",
    "status",
    "region",
    "bonus",
    "quota",
    "ytd",
    "commission",
    "month",
    "year",
    "week",
    "hour",
    "minute",
    "second",
    "last4",
    "four",
    "prefix",
    "suffix",
];

/// The words of a column name, lower case: `emailAddress`, `email_address` and `emailaddress`
/// all give `["email", "address"]`; digits are words of their own (`addressline1` gives
/// `["address", "line", "1"]`).
pub fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in camel_parts(name) {
        let part = part.to_ascii_lowercase();
        let mut rest = part.as_str();
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                words.push(rest[..digits].to_string());
                rest = &rest[digits..];
                continue;
            }
            let letters = rest.len() - rest.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
            words.extend(segment(&rest[..letters]));
            rest = &rest[letters..];
        }
    }
    words
}

/// Split on separators and camelCase boundaries (`HTTPServer` gives `HTTP`, `Server`).
fn camel_parts(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let chars: Vec<char> = name.chars().collect();
    let mut current = String::new();
    for (idx, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = idx.checked_sub(1).map(|i| chars[i]);
        let next = chars.get(idx + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Dictionary segmentation of one lower-case run of letters: the split into known words with the
/// fewest pieces (one- and two-letter words cost more). A run that known words do not cover
/// whole stays one word: `secretary` is not `secret` + `ary`.
fn segment(run: &str) -> Vec<String> {
    if run.is_empty() {
        return Vec::new();
    }
    if !run.is_ascii() || VOCABULARY.contains(&run) {
        return vec![run.to_string()];
    }
    let n = run.len();
    // best[i]: (cost, start of the last piece) of the best cover of run[..i].
    let mut best: Vec<(u32, usize)> = vec![(u32::MAX, 0); n + 1];
    best[0] = (0, 0);
    for end in 1..=n {
        for start in 0..end {
            let piece = &run[start..end];
            if best[start].0 == u32::MAX || !VOCABULARY.contains(&piece) {
                continue;
            }
            let cost = 10 + 30 * 3u32.saturating_sub(piece.len() as u32);
            let total = best[start].0 + cost;
            if total < best[end].0 {
                best[end] = (total, start);
            }
        }
    }
    if best[n].0 == u32::MAX {
        return vec![run.to_string()];
    }
    let mut pieces = Vec::new();
    let mut end = n;
    while end > 0 {
        let start = best[end].1;
        pieces.push(run[start..end].to_string());
        end = start;
    }
    pieces.reverse();
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_spelling() {
        let cases = [
            ("phonenumber", "phone number"),
            ("PhoneNumber", "phone number"),
            ("phone_number", "phone number"),
            ("addressline1", "address line 1"),
            ("AddressLine2", "address line 2"),
            ("nationalidnumber", "national id number"),
            ("NationalIDNumber", "national id number"),
            ("emailaddress", "email address"),
            ("EmailAddress", "email address"),
            ("loginid", "login id"),
            ("middlename", "middle name"),
            ("reviewername", "reviewer name"),
            ("creditcardid", "credit card id"),
            ("postalcode", "postal code"),
            ("rowguid", "row guid"),
            ("token_endpoint_auth_method", "token endpoint auth method"),
            ("codeVerifier", "code verifier"),
            ("HTTPServer", "http server"),
            ("xyzzy", "xyzzy"),
            ("secretary", "secretary"),
            ("pinned", "pinned"),
            ("", ""),
        ];
        for (name, expected) in cases {
            assert_eq!(words(name).join(" "), expected, "{name}");
        }
    }
}
