//! What one sampled value looks like: recognisers for personal data (emails, phones, postcodes,
//! street addresses, person names, IPs, documents) and secrets (password hashes, JWTs, PEM keys,
//! URLs with credentials, card numbers, IBANs, national IDs, high-entropy tokens). Pure.

use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

/// What a sampled value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    PasswordHash,
    Jwt,
    PrivateKey,
    UrlCredentials,
    CardNumber,
    Token,
    Iban,
    NationalId,
    Email,
    Phone,
    IpAddress,
    Postcode,
    StreetAddress,
    PersonName,
    Document,
}

/// What the value's column (or JSON key) is called, as far as recognisers care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// Named like a password: hex SHA-1/MD5 digests count as password hashes.
    pub password_like: bool,
    /// Named like a checksum, digest or revision: hex and base64 strings are not secrets.
    pub checksum_like: bool,
}

impl Finding {
    /// Plural description for messages: "sampled values look like {}".
    pub fn describe(self) -> &'static str {
        match self {
            Finding::PasswordHash => "password hashes",
            Finding::Jwt => "JSON web tokens",
            Finding::PrivateKey => "private keys",
            Finding::UrlCredentials => "URLs with credentials",
            Finding::CardNumber => "card numbers",
            Finding::Token => "secret tokens",
            Finding::Iban => "bank account numbers (IBAN)",
            Finding::NationalId => "national identifiers",
            Finding::Email => "email addresses",
            Finding::Phone => "phone numbers",
            Finding::IpAddress => "IP addresses",
            Finding::Postcode => "postcodes",
            Finding::StreetAddress => "street addresses",
            Finding::PersonName => "person names",
            Finding::Document => "images or documents",
        }
    }

    /// Security-sensitive: never kept in clear.
    pub fn is_sensitive(self) -> bool {
        self.is_secret() || matches!(self, Finding::Iban | Finding::NationalId)
    }

    /// A secret (hashes, tokens, keys, card numbers): no override can keep it.
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            Finding::PasswordHash
                | Finding::Jwt
                | Finding::PrivateKey
                | Finding::UrlCredentials
                | Finding::CardNumber
                | Finding::Token
        )
    }

    /// The share of sampled values (in percent) that must look like this for the column to
    /// count: one value is enough for unmistakable shapes, loose shapes need many.
    pub fn min_share(self) -> u32 {
        match self {
            Finding::PasswordHash
            | Finding::Jwt
            | Finding::PrivateKey
            | Finding::UrlCredentials
            | Finding::Iban
            | Finding::Email
            | Finding::CardNumber
            | Finding::Document => 0,
            Finding::StreetAddress | Finding::NationalId => 10,
            Finding::Phone | Finding::IpAddress | Finding::Postcode | Finding::PersonName => 30,
            Finding::Token => 50,
        }
    }
}

/// Every finding in one text value.
pub fn scan_text(value: &str, context: Context, found: &mut BTreeSet<Finding>) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    scan_whole(value, context, found);
    let tokens = tokens(value);
    for token in &tokens {
        if is_email(token) {
            found.insert(Finding::Email);
        }
        if is_jwt(token) {
            found.insert(Finding::Jwt);
        }
        if is_password_hash(token, context) {
            found.insert(Finding::PasswordHash);
        }
        if has_url_credentials(token) {
            found.insert(Finding::UrlCredentials);
        }
        if token.parse::<std::net::Ipv4Addr>().is_ok()
            || (token.matches(':').count() >= 2 && token.parse::<std::net::Ipv6Addr>().is_ok())
        {
            found.insert(Finding::IpAddress);
        }
    }
    if value.contains("-----BEGIN ") && value.contains("PRIVATE KEY") {
        found.insert(Finding::PrivateKey);
    }
    for width in 1..=9 {
        for window in tokens.windows(width) {
            let joined: String = window.concat().to_ascii_uppercase();
            if width <= 2 && is_uk_postcode(&joined) {
                found.insert(Finding::Postcode);
            }
            if width <= 5 && is_uk_nino(&joined) {
                found.insert(Finding::NationalId);
            }
            if is_iban(&joined) {
                found.insert(Finding::Iban);
            }
        }
    }
    if has_street_address(&tokens) {
        found.insert(Finding::StreetAddress);
    }
    scan_digit_runs(value, found);
}

/// Every finding in a JSON document: each string (and number) leaf, with its key's name as context.
pub fn scan_json(text: &str, found: &mut BTreeSet<Finding>) {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => scan_json_value(&value, Context::default(), found, 0),
        Err(_) => scan_text(text, Context::default(), found),
    }
}

/// Every finding in an XML document: text nodes and attribute values.
pub fn scan_xml(text: &str, found: &mut BTreeSet<Finding>) {
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let end = rest.find('>').map_or(rest.len(), |end| end + 1);
                let tag = &rest[..end];
                for (idx, part) in tag.split(['"', '\'']).enumerate() {
                    if idx % 2 == 1 {
                        scan_text(&unescape_xml(part), Context::default(), found);
                    }
                }
                rest = &rest[end..];
            }
            Some(start) => {
                scan_text(&unescape_xml(&rest[..start]), Context::default(), found);
                rest = &rest[start..];
            }
            None => {
                scan_text(&unescape_xml(rest), Context::default(), found);
                rest = "";
            }
        }
    }
}

/// Images, PDFs and office documents, by their first bytes.
pub fn scan_bytes(prefix: &[u8], found: &mut BTreeSet<Finding>) {
    let magic: &[&[u8]] = &[
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"GIF8",
        b"%PDF",
        b"PK\x03\x04",
        b"\xD0\xCF\x11\xE0",
        b"II*\x00",
        b"MM\x00*",
        b"{\\rtf",
    ];
    let webp = prefix.starts_with(b"RIFF") && prefix.get(8..12) == Some(b"WEBP".as_slice());
    let iso_media = prefix.get(4..8) == Some(b"ftyp".as_slice());
    if webp || iso_media || magic.iter().any(|magic| prefix.starts_with(magic)) {
        found.insert(Finding::Document);
    }
}

/// The context a column or key name gives: password-like or checksum-like.
pub fn context_of(words: &[String]) -> Context {
    let has = |list: &[&str]| words.iter().any(|word| list.contains(&word.as_str()));
    Context {
        password_like: has(&["password", "passwd", "pwd", "passphrase", "pass"]),
        checksum_like: has(&[
            "checksum",
            "sha",
            "sha1",
            "sha256",
            "sha512",
            "md5",
            "etag",
            "fingerprint",
            "revision",
            "commit",
            "integrity",
            "digest",
            "hash",
            "signature",
        ]) && !has(&["password", "passwd", "pwd", "token", "secret", "key", "otp"]),
    }
}

fn scan_json_value(
    value: &serde_json::Value,
    context: Context,
    found: &mut BTreeSet<Finding>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    match value {
        serde_json::Value::String(text) => scan_text(text, context, found),
        serde_json::Value::Number(number) => scan_text(&number.to_string(), context, found),
        serde_json::Value::Array(items) => {
            for item in items {
                scan_json_value(item, context, found, depth + 1);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                let key_context = context_of(&super::words::words(key));
                scan_json_value(item, key_context, found, depth + 1);
            }
        }
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

fn unescape_xml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn tokens(value: &str) -> Vec<&str> {
    value
        .split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    ',' | ';' | '(' | ')' | '<' | '>' | '"' | '\'' | '[' | ']' | '{' | '}'
                )
        })
        .map(|token| token.trim_end_matches(['.', ':', '!', '?']))
        .filter(|token| !token.is_empty())
        .collect()
}

/// Recognisers that judge the value as a whole: names, ZIP codes, SSNs, tokens, hex digests.
fn scan_whole(value: &str, context: Context, found: &mut BTreeSet<Finding>) {
    if is_person_name(value) {
        found.insert(Finding::PersonName);
    }
    let bytes = value.as_bytes();
    let zip = (bytes.len() == 5 || (bytes.len() == 10 && bytes[5] == b'-'))
        && bytes
            .iter()
            .enumerate()
            .all(|(idx, b)| b.is_ascii_digit() || idx == 5);
    if zip {
        found.insert(Finding::Postcode);
    }
    if is_ca_postcode(value) {
        found.insert(Finding::Postcode);
    }
    if is_token(value, context) {
        found.insert(Finding::Token);
    }
}

fn is_email(token: &str) -> bool {
    let Some((local, domain)) = token.split_once('@') else {
        return false;
    };
    let local = local.rsplit(':').next().unwrap_or(local);
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
        && parts.iter().all(|part| {
            part.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

fn is_password_hash(token: &str, context: Context) -> bool {
    let bcrypt = ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|prefix| token.starts_with(prefix))
        && token.len() == 60;
    let crypt = [
        "$1$", "$5$", "$6$", "$7$", "$y$", "$scrypt$", "$argon2", "$pbkdf2",
    ]
    .iter()
    .any(|prefix| token.starts_with(prefix))
        && token.len() >= 20;
    let django = [
        "pbkdf2_sha256$",
        "pbkdf2_sha1$",
        "argon2$",
        "bcrypt_sha256$",
        "scrypt$",
    ]
    .iter()
    .any(|prefix| token.starts_with(prefix));
    let werkzeug = token.starts_with("pbkdf2:") || token.starts_with("scrypt:");
    let hex_digest = context.password_like
        && [32, 40, 64, 128].contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_hexdigit());
    bcrypt || crypt || django || werkzeug || hex_digest
}

fn has_url_credentials(token: &str) -> bool {
    let Some((_, rest)) = token.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            !host.is_empty()
                && userinfo
                    .split_once(':')
                    .is_some_and(|(user, password)| !user.is_empty() && !password.is_empty())
        }
        None => false,
    }
}

/// A random-looking secret: 20+ characters of hex, base64 or base62 (`_`/`-` allowed), not a
/// UUID, a word, a path or a checksum in a checksum-named column.
fn is_token(value: &str, context: Context) -> bool {
    let len = value.len();
    if !(20..=512).contains(&len) || context.checksum_like {
        return false;
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+/=_-.".contains(c);
    if !value.chars().all(allowed) || value.contains("..") || value.starts_with('/') {
        return false;
    }
    if is_uuid(value) || value.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let core = value.trim_end_matches('=');
    let n_upper = core.bytes().filter(u8::is_ascii_uppercase).count();
    let n_lower = core.bytes().filter(u8::is_ascii_lowercase).count();
    let n_digit = core.bytes().filter(u8::is_ascii_digit).count();
    let classes = [n_upper, n_lower, n_digit]
        .iter()
        .filter(|n| **n > 0)
        .count();
    let hex = core.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        // A digest or key in hex: letters and digits both, as random hex always has at this length.
        return n_digit > 0 && n_upper + n_lower > 0;
    }
    if classes < 2 || n_digit == 0 {
        return false;
    }
    // Words in camelCase or snake_case change character class rarely; random strings often.
    let transitions = core
        .as_bytes()
        .windows(2)
        .filter(|pair| char_class(pair[0]) != char_class(pair[1]))
        .count();
    transitions * 4 >= core.len() && entropy(core) >= 3.5
}

fn char_class(byte: u8) -> u8 {
    match byte {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    }
}

/// Shannon entropy in bits per character.
fn entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    for byte in text.bytes() {
        counts[usize::from(byte)] += 1;
    }
    let len = text.len() as f64;
    counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let p = f64::from(*count) / len;
            -p * p.log2()
        })
        .sum()
}

fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(idx, b)| {
            if [8, 13, 18, 23].contains(&idx) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
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

/// Canadian `K1A 0B1`.
fn is_ca_postcode(value: &str) -> bool {
    let compact: Vec<u8> = value.bytes().filter(|b| *b != b' ').collect();
    compact.len() == 6
        && value.len() <= 7
        && compact.iter().enumerate().all(|(idx, b)| {
            if idx % 2 == 0 {
                b.is_ascii_uppercase()
            } else {
                b.is_ascii_digit()
            }
        })
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

/// An IBAN: country letters, check digits, 11–30 alphanumerics, and the mod-97 check.
fn is_iban(text: &str) -> bool {
    let bytes = text.as_bytes();
    if !(15..=34).contains(&bytes.len())
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes.iter().all(u8::is_ascii_alphanumeric)
        || !bytes[4..].iter().any(u8::is_ascii_digit)
    {
        return false;
    }
    let mut remainder: u32 = 0;
    for &byte in bytes[4..].iter().chain(&bytes[..4]) {
        let value = if byte.is_ascii_digit() {
            u32::from(byte - b'0')
        } else {
            u32::from(byte - b'A') + 10
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

const STREET_SUFFIXES: &[&str] = &[
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "av",
    "lane",
    "ln",
    "drive",
    "dr",
    "boulevard",
    "blvd",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "terrace",
    "close",
    "crescent",
    "highway",
    "hwy",
    "parkway",
    "pkwy",
    "circle",
    "cir",
    "square",
    "sq",
    "trail",
    "row",
    "gardens",
    "mews",
    "hill",
    "strasse",
    "straße",
    "rue",
    "calle",
    "via",
];

/// A house number followed within a few words by a street suffix: `1970 Napa Ct.`,
/// `12 High Street`, `4 Rue de Rivoli` (suffix first).
fn has_street_address(tokens: &[&str]) -> bool {
    for (idx, token) in tokens.iter().enumerate() {
        let digits = token.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let house = !digits.is_empty()
            && digits.len() <= 5
            && digits.bytes().all(|b| b.is_ascii_digit())
            && token.len() - digits.len() <= 1;
        if !house {
            continue;
        }
        let following = &tokens[idx + 1..tokens.len().min(idx + 6)];
        let named = following
            .first()
            .is_some_and(|word| word.chars().next().is_some_and(char::is_alphabetic));
        let suffix = following.iter().skip(1).any(|word| {
            let word = word.trim_end_matches('.').to_lowercase();
            STREET_SUFFIXES.contains(&word.as_str())
        }) || following
            .first()
            .is_some_and(|word| ["rue", "calle", "via"].contains(&word.to_lowercase().as_str()));
        if named && suffix {
            return true;
        }
    }
    false
}

struct PeopleNames {
    first: HashSet<&'static str>,
    last: HashSet<&'static str>,
}

/// The committed first-name and surname lists (`people_names.txt`, see its header).
fn people_names() -> &'static PeopleNames {
    static NAMES: OnceLock<PeopleNames> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = PeopleNames {
            first: HashSet::new(),
            last: HashSet::new(),
        };
        let mut section = "";
        for line in include_str!("people_names.txt").lines() {
            match line {
                "" => {}
                l if l.starts_with('#') => {}
                "[first]" | "[last]" => section = line,
                name if section == "[first]" => {
                    names.first.insert(name);
                }
                name => {
                    names.last.insert(name);
                }
            }
        }
        names
    })
}

/// `Ken Sánchez`, `Mr. John A. Smith`, `Smith, John`: two to four capitalised words, a known
/// first name and a known surname.
fn is_person_name(value: &str) -> bool {
    if value.len() > 60 || value.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
        return false;
    }
    // `Smith, John` reads as `John Smith`.
    let value = match value.split_once(',') {
        Some((last, first)) => format!("{} {}", first.trim(), last.trim()),
        None => value.to_string(),
    };
    let mut words: Vec<&str> = value.split_whitespace().collect();
    if let Some(first) = words.first()
        && ["mr", "mrs", "ms", "miss", "dr", "prof", "sr", "sra"]
            .contains(&first.trim_end_matches('.').to_lowercase().as_str())
    {
        words.remove(0);
    }
    if !(2..=4).contains(&words.len()) {
        return false;
    }
    let capitalised = words.iter().all(|word| {
        word.chars().next().is_some_and(char::is_uppercase)
            && word.chars().all(|c| c.is_alphabetic() || "'-.".contains(c))
    });
    if !capitalised {
        return false;
    }
    let names = people_names();
    let plain = |word: &str| {
        word.trim_end_matches('.')
            .to_lowercase()
            .chars()
            .map(fold_accent)
            .collect::<String>()
    };
    let first = plain(words[0]);
    let last = plain(words[words.len() - 1]);
    names.first.contains(first.as_str()) && names.last.contains(last.as_str())
}

fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        other => other,
    }
}

/// Card numbers (Luhn, with a card's length and prefix), phone numbers (international with `+`,
/// national with a leading 0, North American `697-555-0142` / `(403) 555-0001`) and US SSNs
/// (`123-45-6789`), allowing single spaces, dashes, dots and brackets between digit groups.
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
        let preceded_by_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '.');
        let mut digits = String::new();
        let mut groups: Vec<usize> = vec![0];
        let mut separators = String::new();
        let mut j = if starts_plus || starts_bracket {
            i + 1
        } else {
            i
        };
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                digits.push(c);
                *groups.last_mut().expect("one group") += 1;
                j += 1;
            } else if matches!(c, ' ' | '-' | '.' | '(' | ')')
                && chars
                    .get(j + 1)
                    .is_some_and(|next| next.is_ascii_digit() || *next == '(' || *next == ' ')
                && groups.last() != Some(&0)
            {
                separators.push(c);
                groups.push(0);
                j += 1;
                while j < chars.len() && matches!(chars[j], ' ' | '(') {
                    j += 1;
                }
            } else {
                break;
            }
        }
        groups.retain(|n| *n > 0);
        let followed_by_word = chars.get(j).is_some_and(|c| {
            c.is_alphanumeric() || *c == '.' && chars.get(j + 1).is_some_and(char::is_ascii_digit)
        });
        if !preceded_by_word && !followed_by_word {
            classify_digits(&digits, &groups, &separators, starts_plus, found);
        }
        i = j.max(i + 1);
    }
}

fn classify_digits(
    digits: &str,
    groups: &[usize],
    separators: &str,
    starts_plus: bool,
    found: &mut BTreeSet<Finding>,
) {
    let n = digits.len();
    let dots_only = !separators.is_empty() && separators.chars().all(|c| c == '.');
    if !starts_plus && !dots_only && is_card(digits) {
        found.insert(Finding::CardNumber);
        return;
    }
    if groups == [3, 2, 4] && separators.chars().all(|c| c == '-' || c == ' ') {
        let area: u32 = digits[..3].parse().unwrap_or(0);
        if area != 0 && area != 666 && area < 900 && &digits[3..5] != "00" && &digits[5..] != "0000"
        {
            found.insert(Finding::NationalId);
            return;
        }
    }
    let north_american =
        matches!(groups, [3, 3, 4] | [1, 3, 3, 4]) && (n == 10 || digits.starts_with('1'));
    let international = starts_plus && (8..=15).contains(&n) && (groups.len() >= 2 || n >= 10);
    let national = digits.starts_with('0') && (10..=11).contains(&n) && !dots_only;
    let grouped_intl = groups.len() >= 4 && (10..=13).contains(&n) && groups[0] <= 3 && !dots_only;
    if north_american || international || national || grouped_intl {
        found.insert(Finding::Phone);
    }
}

/// Luhn-valid, with the length and prefix of a card scheme (Visa, Mastercard, Amex, Discover,
/// JCB, Diners, UnionPay, Maestro).
fn is_card(digits: &str) -> bool {
    let n = digits.len();
    if !(13..=19).contains(&n) || !luhn(digits) || digits.bytes().all(|b| b == digits.as_bytes()[0])
    {
        return false;
    }
    let prefix = |len: usize| digits[..len].parse::<u32>().unwrap_or(0);
    let visa = digits.starts_with('4') && [13, 16, 19].contains(&n);
    let mastercard =
        n == 16 && ((51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)));
    let amex = n == 15 && [34, 37].contains(&prefix(2));
    let discover = (16..=19).contains(&n)
        && (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)));
    let jcb = (16..=19).contains(&n) && (3528..=3589).contains(&prefix(4));
    let diners = n == 14 && ([36, 38, 39].contains(&prefix(2)) || (300..=305).contains(&prefix(3)));
    let unionpay = (16..=19).contains(&n) && prefix(2) == 62;
    let maestro =
        (12..=19).contains(&n) && [5018, 5020, 5038, 6304, 6759, 6761, 6763].contains(&prefix(4));
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro
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

    fn scan(value: &str) -> BTreeSet<Finding> {
        let mut found = BTreeSet::new();
        scan_text(value, Context::default(), &mut found);
        found
    }

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
pbkdf2_sha256$600000$abc$def
192.168.1.20
2001:db8::1
call 07700 900123 after 5
+44 20 7946 0958
697-555-0142
+1 (403) 555-0001
1 (11) 500 555-0190
+14035550001
SW1A 1AA
lives near M1 1AE
98052
K1A 0B1
QQ 12 34 56 C
AB123456C
123-45-6789
GB82 WEST 1234 5698 7654 32
1970 Napa Ct.
12 High Street, Leeds
Ken Sánchez
Smith, John
Mr. John A. Smith
postgres://admin:hunter2@db.example.com/app
-----BEGIN RSA PRIVATE KEY----- MIIEow
sk_live_4eC39HqLyjWDarjtT1zdp7dc
9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
version 1.2.3 released 2024-01-02
20240101120000
20231105093012
order 12345 shipped
the quick brown fox
550e8400-e29b-41d4-a716-446655440000
SomeCamelCaseIdentifierName
"#,
            "detect_values",
        );
    }

    #[test]
    fn hex_digests_are_password_hashes_only_where_passwords_are_expected() {
        let md5 = "5f4dcc3b5aa765d61d8327deb882cf99";
        let mut found = BTreeSet::new();
        scan_text(
            md5,
            Context {
                password_like: true,
                checksum_like: false,
            },
            &mut found,
        );
        assert!(found.contains(&Finding::PasswordHash));
        let mut found = BTreeSet::new();
        scan_text(
            md5,
            Context {
                password_like: false,
                checksum_like: true,
            },
            &mut found,
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn json_xml_and_bytes() {
        let mut found = BTreeSet::new();
        scan_json(
            r#"{"contact": {"emails": ["ada@example.com"]}, "n": 3}"#,
            &mut found,
        );
        assert_eq!(found, BTreeSet::from([Finding::Email]));
        let mut found = BTreeSet::new();
        scan_json(
            r#"{"password": "5f4dcc3b5aa765d61d8327deb882cf99"}"#,
            &mut found,
        );
        assert!(found.contains(&Finding::PasswordHash), "{found:?}");
        let mut found = BTreeSet::new();
        scan_xml(
            r#"<r><Telephone kind="home">697-555-0142</Telephone><a href="mailto:x" mail="b@example.org"/></r>"#,
            &mut found,
        );
        assert_eq!(found, BTreeSet::from([Finding::Email, Finding::Phone]));
        for magic in [&b"\x89PNG\r\n"[..], b"%PDF-1.7", b"PK\x03\x04\x14\x00"] {
            let mut found = BTreeSet::new();
            scan_bytes(magic, &mut found);
            assert_eq!(found, BTreeSet::from([Finding::Document]));
        }
        let mut found = BTreeSet::new();
        scan_bytes(b"\x00\x01plain", &mut found);
        assert!(found.is_empty());
    }
}
