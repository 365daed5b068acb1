//! Sensitive-data detection: by column name, and by the shape of sampled values (emails,
//! card numbers, JWTs, password hashes, IPs, phones, UK postcodes and NI numbers). Pure.

use std::collections::{BTreeMap, BTreeSet};

use crate::policy::model::TableName;
use crate::schema::Column;
use crate::sqltype::BaseType;

/// What a sampled value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    CardNumber,
    Jwt,
    PasswordHash,
    UkNino,
    Email,
    Phone,
    Ipv4,
    Ipv6,
    UkPostcode,
}

/// How a column's name classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameClass {
    /// Passwords and their hashes, tokens, keys, secrets, card and national ID numbers: never kept.
    Sensitive,
    /// Names, contact details, dates of birth, IPs, free text: kept only with a reason.
    Personal,
}

/// Findings per sampled column. Holds no sampled value.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub findings: BTreeMap<(TableName, String), BTreeSet<Finding>>,
}

impl Finding {
    /// Plural description for messages: "sampled values look like {}".
    pub fn describe(self) -> &'static str {
        match self {
            Finding::CardNumber => "card numbers",
            Finding::Jwt => "JSON web tokens",
            Finding::PasswordHash => "password hashes",
            Finding::UkNino => "UK National Insurance numbers",
            Finding::Email => "email addresses",
            Finding::Phone => "phone numbers",
            Finding::Ipv4 => "IPv4 addresses",
            Finding::Ipv6 => "IPv6 addresses",
            Finding::UkPostcode => "UK postcodes",
        }
    }

    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            Finding::CardNumber | Finding::Jwt | Finding::PasswordHash | Finding::UkNino
        )
    }

    /// A strategy that suits a column holding such values.
    pub fn suggestion(self) -> &'static str {
        match self {
            Finding::CardNumber | Finding::Jwt | Finding::UkNino | Finding::PasswordHash => {
                "redact"
            }
            Finding::Email => "fake.email",
            Finding::Phone => "fake.phone",
            Finding::Ipv4 => "fake.ipv4",
            Finding::Ipv6 => "fake.ipv6",
            Finding::UkPostcode => "fake.postcode",
        }
    }
}

impl Samples {
    /// Record what `value` (one sampled value of `table.column`) looks like.
    pub fn add(&mut self, table: &TableName, column: &str, value: &str) {
        let found = scan(value);
        let entry = self
            .findings
            .entry((table.clone(), column.to_string()))
            .or_default();
        entry.extend(found);
    }

    pub fn get(&self, table: &TableName, column: &str) -> Option<&BTreeSet<Finding>> {
        self.findings
            .get(&(table.clone(), column.to_string()))
            .filter(|found| !found.is_empty())
    }
}

/// Whether values of this type are worth sampling (text that could hide anything).
pub fn is_sampled(column: &Column) -> bool {
    column.sql_type.base.is_textual()
        || matches!(column.sql_type.base, BaseType::Json | BaseType::Jsonb)
}

/// Every kind of sensitive or personal data found in one value.
pub fn scan(value: &str) -> BTreeSet<Finding> {
    let mut found = BTreeSet::new();
    let tokens: Vec<&str> = value
        .split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    ',' | ';' | '(' | ')' | '<' | '>' | '"' | '\'' | '[' | ']' | '{' | '}'
                )
        })
        .map(|token| token.trim_end_matches(['.', ':', '!', '?']))
        .filter(|token| !token.is_empty())
        .collect();
    for token in &tokens {
        if is_email(token) {
            found.insert(Finding::Email);
        }
        if is_jwt(token) {
            found.insert(Finding::Jwt);
        }
        if is_password_hash(token) {
            found.insert(Finding::PasswordHash);
        }
        if token.parse::<std::net::Ipv4Addr>().is_ok() {
            found.insert(Finding::Ipv4);
        }
        if token.matches(':').count() >= 2 && token.parse::<std::net::Ipv6Addr>().is_ok() {
            found.insert(Finding::Ipv6);
        }
    }
    for width in 1..=5 {
        for window in tokens.windows(width) {
            let joined: String = window.concat().to_ascii_uppercase();
            if width <= 2 && is_uk_postcode(&joined) {
                found.insert(Finding::UkPostcode);
            }
            if is_uk_nino(&joined) {
                found.insert(Finding::UkNino);
            }
        }
    }
    scan_digit_runs(value, &mut found);
    found
}

/// The class of a column by its name (and its table's, for a bare `name`).
pub fn classify_name(table: &str, column: &str) -> Option<NameClass> {
    let column = column.to_ascii_lowercase();
    let tokens: Vec<&str> = column
        .split(['_', '-', ' '])
        .filter(|token| !token.is_empty())
        .collect();
    let has = |words: &[&str]| tokens.iter().any(|token| words.contains(token));
    let contains = |parts: &[&str]| parts.iter().any(|part| column.contains(part));
    let sensitive = contains(&[
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "private_key",
        "access_key",
        "card_number",
        "cardnumber",
        "credit_card",
        "creditcard",
        "ni_number",
        "national_id",
        "national_insurance",
        "social_security",
        "passport",
    ]) || has(&[
        "pwd", "token", "secret", "cvv", "cvc", "ssn", "iban", "pan", "nino", "otp", "totp", "card",
    ]) && !(has(&["card"])
        && has(&["last4", "brand", "type", "expiry", "exp", "holder", "count"]));
    if sensitive {
        return Some(NameClass::Sensitive);
    }
    let personal = has(&[
        "email",
        "mail",
        "phone",
        "mobile",
        "tel",
        "telephone",
        "fax",
        "address",
        "street",
        "postcode",
        "zip",
        "zipcode",
        "postal",
        "dob",
        "birth",
        "birthday",
        "birthdate",
        "ip",
        "ipv4",
        "ipv6",
        "bio",
        "notes",
        "note",
        "comment",
        "comments",
        "surname",
        "firstname",
        "lastname",
        "fullname",
        "forename",
        "username",
        "avatar",
        "photo",
        "gender",
        "latitude",
        "longitude",
        "lat",
        "lng",
        "signature",
    ]) || contains(&[
        "first_name",
        "last_name",
        "full_name",
        "display_name",
        "given_name",
        "family_name",
        "maiden_name",
        "user_name",
        "e_mail",
    ]) || (column == "name" && is_people_table(table));
    personal.then_some(NameClass::Personal)
}

/// A suggested rule for a new column, for `todo` comments and `policy init`.
pub fn suggest(table: &TableName, column: &Column, findings: Option<&BTreeSet<Finding>>) -> String {
    if let Some(finding) = findings.and_then(|found| found.iter().next()) {
        return finding.suggestion().to_string();
    }
    let name = column.name.to_ascii_lowercase();
    let base = &column.sql_type.base;
    let textual = base.is_textual();
    let by_name: Option<&str> = match () {
        _ if name.contains("password") || name.contains("passwd") => Some("redact"),
        _ if classify_name(&table.name, &name) == Some(NameClass::Sensitive) => Some("hash"),
        _ if name.contains("email") => Some("fake.email"),
        _ if name.contains("first_name") || name == "forename" => Some("fake.first_name"),
        _ if name.contains("last_name") || name == "surname" => Some("fake.last_name"),
        _ if name.contains("full_name")
            || name.contains("display_name")
            || (name == "name" && is_people_table(&table.name)) =>
        {
            Some("fake.name")
        }
        _ if name.contains("username") || name == "login" => Some("fake.username"),
        _ if name.contains("phone") || name.contains("mobile") => Some("fake.phone"),
        _ if name.contains("street") || name.contains("address_line") || name == "address" => {
            Some("fake.street_address")
        }
        _ if name == "city" || name == "town" => Some("fake.city"),
        _ if name.contains("postcode") || name.contains("zip") || name.contains("postal") => {
            Some("fake.postcode")
        }
        _ if name.contains("birth") || name == "dob" => Some("generalise.year"),
        _ if name.split('_').any(|token| token == "ip") || name.contains("ip_address") => {
            Some("fake.ipv4")
        }
        _ if name.contains("company") => Some("fake.company"),
        _ if name.contains("url") || name.contains("website") => Some("fake.url"),
        _ if classify_name(&table.name, &name) == Some(NameClass::Personal) && textual => {
            Some("redact")
        }
        _ if textual
            && ["body", "message", "content", "text", "description"].contains(&name.as_str()) =>
        {
            Some("redact")
        }
        _ => None,
    };
    if let Some(strategy) = by_name {
        return strategy.to_string();
    }
    match base {
        BaseType::Json | BaseType::Jsonb => "keep".to_string(),
        _ => "keep".to_string(),
    }
}

fn is_people_table(table: &str) -> bool {
    let table = table.to_ascii_lowercase();
    [
        "user",
        "customer",
        "person",
        "people",
        "employee",
        "contact",
        "member",
        "account",
        "author",
        "patient",
        "student",
        "client",
        "staff",
        "profile",
        "subscriber",
        "applicant",
    ]
    .iter()
    .any(|word| table.contains(word))
}

fn is_email(token: &str) -> bool {
    let Some((local, domain)) = token.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

fn is_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].len() >= 4
        && parts[..2].iter().all(|part| {
            part.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        && parts[2]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_password_hash(token: &str) -> bool {
    let bcrypt = ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|prefix| token.starts_with(prefix))
        && token.len() == 60;
    bcrypt
        || token.starts_with("$argon2")
        || token.starts_with("$scrypt$")
        || token.starts_with("$7$")
        || token.starts_with("pbkdf2_sha256$")
}

/// `SW1A 1AA`, `M1 1AE`, `B33 8TH` (spaces removed, upper case).
fn is_uk_postcode(text: &str) -> bool {
    let bytes = text.as_bytes();
    if !(5..=7).contains(&bytes.len()) {
        return false;
    }
    let (outward, inward) = bytes.split_at(bytes.len() - 3);
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_uppercase()
        && inward[2].is_ascii_uppercase();
    let outward_ok = match outward {
        [a, d] => a.is_ascii_uppercase() && d.is_ascii_digit(),
        [a, b, c] => {
            a.is_ascii_uppercase()
                && (b.is_ascii_uppercase() && c.is_ascii_digit()
                    || b.is_ascii_digit() && c.is_ascii_alphanumeric())
        }
        [a, b, c, d] => {
            a.is_ascii_uppercase()
                && b.is_ascii_uppercase()
                && c.is_ascii_digit()
                && d.is_ascii_alphanumeric()
        }
        _ => false,
    };
    inward_ok && outward_ok
}

/// `QQ 12 34 56 C` (spaces removed, upper case).
fn is_uk_nino(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 9 {
        return false;
    }
    let first_ok = bytes[0].is_ascii_uppercase() && !b"DFIQUV".contains(&bytes[0]);
    let second_ok = bytes[1].is_ascii_uppercase() && !b"DFIOQUV".contains(&bytes[1]);
    let prefix = &bytes[..2];
    let banned = [b"BG", b"GB", b"NK", b"KN", b"TN", b"NT", b"ZZ"]
        .iter()
        .any(|pair| pair.as_slice() == prefix);
    first_ok
        && second_ok
        && !banned
        && bytes[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&bytes[8])
}

/// Card numbers (13–19 digits, Luhn-valid) and phone numbers (10–15 digits, `+` or `0` first),
/// allowing single spaces, dashes, dots and brackets between digits.
fn scan_digit_runs(value: &str, found: &mut BTreeSet<Finding>) {
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_plus = chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let starts_bracket = chars[i] == '(' && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if !(chars[i].is_ascii_digit() || starts_plus || starts_bracket) {
            i += 1;
            continue;
        }
        let preceded_by_word = i > 0 && chars[i - 1].is_alphanumeric();
        let mut digits = String::new();
        let mut j = if starts_plus || starts_bracket {
            i + 1
        } else {
            i
        };
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                digits.push(c);
                j += 1;
            } else if matches!(c, ' ' | '-' | '.' | '(' | ')')
                && chars
                    .get(j + 1)
                    .is_some_and(|next| next.is_ascii_digit() || *next == '(')
            {
                j += 1;
            } else {
                break;
            }
        }
        let followed_by_word = chars.get(j).is_some_and(|c| c.is_alphanumeric());
        if !preceded_by_word && !followed_by_word {
            let n = digits.len();
            if (13..=19).contains(&n)
                && luhn(&digits)
                && digits.bytes().any(|b| b != b'0')
                && !starts_plus
            {
                found.insert(Finding::CardNumber);
            } else if (10..=15).contains(&n) && (starts_plus || digits.starts_with('0')) {
                found.insert(Finding::Phone);
            }
        }
        i = j.max(i + 1);
    }
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (idx, byte) in digits.bytes().rev().enumerate() {
        let mut digit = u32::from(byte - b'0');
        if idx % 2 == 1 {
            digit *= 2;
            if digit > 9 {
                digit -= 9;
            }
        }
        sum += digit;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scan each line of `input`; snapshot the findings per line as `expected`.
    fn check(input: &str, expected: &str) {
        let mut out = String::new();
        for line in input.lines().filter(|line| !line.is_empty()) {
            out.push_str(&format!("{line:?} -> {:?}\n", scan(line)));
        }
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(expected, out);
        });
    }

    #[test]
    fn multi_byte_text_of_nino_length_is_not_a_panic() {
        assert!(!is_uk_nino("2–3 days"));
        assert!(!is_uk_nino("é1234567A"));
        assert!(is_uk_nino("AB123456C"));
        assert!(scan("2–3 days").is_empty());
    }

    #[test]
    fn values() {
        check(
            r#"
alice@example.com
write to bob.smith+x@mail.example.co.uk, thanks
4111 1111 1111 1111
card 4111-1111-1111-1111 exp 12/29
4111111111111112
1234567890123
eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW
$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG
192.168.1.20
2001:db8::1
call 07700 900123 after 5
+44 20 7946 0958
SW1A 1AA
lives near M1 1AE
QQ 12 34 56 C
AB123456C
version 1.2.3 released 2024-01-02
order 12345 shipped
the quick brown fox
"#,
            "detect_values",
        );
    }

    #[test]
    fn names() {
        let cases = [
            ("users", "password_digest", Some(NameClass::Sensitive)),
            ("users", "encrypted_password", Some(NameClass::Sensitive)),
            ("users", "api_token", Some(NameClass::Sensitive)),
            ("users", "reset_token_hash", Some(NameClass::Sensitive)),
            ("payments", "card_number", Some(NameClass::Sensitive)),
            ("payments", "card_last4", None),
            ("payments", "cvv", Some(NameClass::Sensitive)),
            ("employees", "ni_number", Some(NameClass::Sensitive)),
            ("users", "client_secret", Some(NameClass::Sensitive)),
            ("users", "email", Some(NameClass::Personal)),
            ("users", "full_name", Some(NameClass::Personal)),
            ("users", "name", Some(NameClass::Personal)),
            ("products", "name", None),
            ("users", "last_sign_in_ip", Some(NameClass::Personal)),
            ("users", "date_of_birth", Some(NameClass::Personal)),
            ("orders", "notes", Some(NameClass::Personal)),
            ("addresses", "postcode", Some(NameClass::Personal)),
            ("orders", "total_pence", None),
            ("orders", "shipping", None),
            ("users", "tokens_used", None),
        ];
        for (table, column, expected) in cases {
            assert_eq!(classify_name(table, column), expected, "{table}.{column}");
        }
    }

    #[test]
    fn samples_hold_no_values() {
        let mut samples = Samples::default();
        let table = TableName {
            schema: "public".into(),
            name: "t".into(),
        };
        samples.add(&table, "notes", "mail alice@example.com");
        samples.add(&table, "notes", "nothing here");
        let debug = format!("{samples:?}");
        assert!(!debug.contains("alice"), "{debug}");
        assert_eq!(
            samples
                .get(&table, "notes")
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            vec![Finding::Email]
        );
    }
}
