//! `fake.<kind>`: realistic pseudonyms picked by index from the `fake` crate's locale word
//! lists with bytes of the value's HMAC (no RNG is seeded per value). Reserved ranges only:
//! example.com/.org/.net, Ofcom drama phone numbers, 10/8, 2001:db8::/32.

use std::io::Write as _;
use std::sync::OnceLock;

use fake::locales::{DE_DE, Data, EN, FR_FR};

use super::TransformError;
use super::value::{self, Inet};
use crate::policy::model::{FakeKind, FakeSpec, Locale};

/// Characters of the unique suffix: 16 base32 characters carry 80 bits of the HMAC.
pub(crate) const UNIQUE_CHARS: usize = 16;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

pub(crate) struct FakeGen {
    pub kind: FakeKind,
    locale: Locale,
    min_day: i64,
    max_day: i64,
}

/// A tiny deterministic stream of picks from the digest (splitmix64): no seeding cost.
pub(crate) struct Picks(u64);

impl Picks {
    pub fn new(digest: &[u8; 32]) -> Picks {
        Picks(u64::from_le_bytes(
            digest[..8].try_into().expect("eight bytes"),
        ))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }

    pub fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }

    /// A folded name, picked as `pick` picks from the list it was folded from.
    fn pick_folded<'a>(&mut self, list: &'a [Box<[u8]>]) -> &'a [u8] {
        &list[self.below(list.len())]
    }
}

/// Cut the text in `out` from `start` to `limit` chars, ending with `-` and the digest's
/// suffix when `unique`.
fn limit_with_suffix(
    out: &mut Vec<u8>,
    start: usize,
    limit: usize,
    (unique, digest): (bool, &[u8; 32]),
) {
    if unique {
        truncate_chars(out, start, limit.saturating_sub(UNIQUE_CHARS + 1));
        if out.len() > start {
            out.push(b'-');
        }
        write_unique_suffix(out, digest);
    } else {
        truncate_chars(out, start, limit);
    }
}

/// Company name endings by locale.
fn company_suffixes(locale: Locale) -> &'static [&'static str] {
    match locale {
        Locale::EnGb => &["Ltd", "PLC", "LLP", "& Co", "Group"],
        Locale::EnUs => <EN as Data>::COMPANY_SUFFIX,
        Locale::FrFr => &["SA", "SARL", "SAS", "et Fils"],
        Locale::DeDe => <DE_DE as Data>::COMPANY_SUFFIX,
    }
}

/// An email's end after its local part (in `out` from `start`): the number (or, when `unique`,
/// the digest's suffix) and the domain, the local part cut so the whole fits `limit` chars.
fn email_tail(
    out: &mut Vec<u8>,
    start: usize,
    limit: usize,
    (unique, digest): (bool, &[u8; 32]),
    number: usize,
    domain: &str,
) {
    if !unique {
        value::write_int(out, number as i64);
    }
    let tail = domain.len() + 1 + if unique { UNIQUE_CHARS + 1 } else { 0 };
    truncate_chars(out, start, limit.saturating_sub(tail).max(1));
    if unique {
        out.push(b'.');
        write_unique_suffix(out, digest);
    }
    out.push(b'@');
    out.extend_from_slice(domain.as_bytes());
}

/// Append the 16-character unique suffix taken from digest bytes 16..26.
pub(crate) fn write_unique_suffix(out: &mut Vec<u8>, digest: &[u8; 32]) {
    let bits = u128::from_be_bytes(digest[16..32].try_into().expect("sixteen bytes")) >> 48;
    let mut suffix = [0u8; UNIQUE_CHARS];
    for (i, char) in suffix.iter_mut().enumerate() {
        *char = BASE32[((bits >> ((UNIQUE_CHARS - 1 - i) * 5)) & 31) as usize];
    }
    out.extend_from_slice(&suffix);
}

impl FakeGen {
    pub fn new(spec: &FakeSpec) -> Result<FakeGen, TransformError> {
        let (default_min, default_max) = match spec.kind {
            FakeKind::DateOfBirth => ("1940-01-01", "2006-12-31"),
            _ => ("1970-01-01", "2029-12-31"),
        };
        let bound = |text: Option<&String>, default: &str, which: &str| {
            let text = text.map(String::as_str).unwrap_or(default);
            value::parse_date(text)
                .filter(|d| *d != i32::MAX && *d != i32::MIN)
                .map(i64::from)
                .ok_or_else(|| {
                    TransformError(format!(
                        "`{which}` of `fake.{}` is not a date (YYYY-MM-DD)",
                        spec.kind.name()
                    ))
                })
        };
        let min_day = bound(spec.min.as_ref(), default_min, "min")?;
        let max_day = bound(spec.max.as_ref(), default_max, "max")?;
        if min_day > max_day {
            return Err(TransformError(format!(
                "`min` is after `max` in `fake.{}`",
                spec.kind.name()
            )));
        }
        Ok(FakeGen {
            kind: spec.kind,
            locale: spec.locale,
            min_day,
            max_day,
        })
    }

    /// Shortest output when truncated to a column limit, and whether it may be truncated at all.
    pub fn min_chars(&self, unique: bool) -> usize {
        match (self.kind, unique) {
            (FakeKind::Email, false) => 13,
            (FakeKind::Email, true) => UNIQUE_CHARS + 14,
            (FakeKind::Uuid, _) => 36,
            (FakeKind::Ipv4, _) => 15,
            (FakeKind::Ipv6, _) => 39,
            (FakeKind::Date | FakeKind::DateOfBirth, _) => 10,
            (FakeKind::Url, true) => 20 + UNIQUE_CHARS,
            (_, true) => UNIQUE_CHARS + 1,
            (_, false) => 1,
        }
    }

    /// Can `unique = true` be honoured for this kind on a text column?
    pub fn can_be_unique(&self) -> bool {
        !matches!(
            self.kind,
            FakeKind::Phone | FakeKind::Ipv4 | FakeKind::Date | FakeKind::DateOfBirth
        )
    }

    pub fn day(&self, digest: &[u8; 32]) -> i32 {
        let span = (self.max_day - self.min_day + 1) as u64;
        let pick = u64::from_le_bytes(digest[8..16].try_into().expect("eight bytes")) % span;
        (self.min_day + pick as i64) as i32
    }

    pub fn micros_in_day(&self, digest: &[u8; 32]) -> i64 {
        if self.kind == FakeKind::DateOfBirth {
            return 0;
        }
        let seconds = u32::from_le_bytes(digest[16..20].try_into().expect("four bytes")) % 86_400;
        seconds as i64 * 1_000_000
    }

    pub fn uuid(digest: &[u8; 32]) -> [u8; 16] {
        let mut bytes: [u8; 16] = digest[..16].try_into().expect("sixteen bytes");
        bytes[6] = (bytes[6] & 0x0F) | 0x40;
        bytes[8] = (bytes[8] & 0x3F) | 0x80;
        bytes
    }

    /// 10.0.0.0/8.
    pub fn ipv4(digest: &[u8; 32]) -> Inet {
        let mut addr = [0u8; 16];
        addr[0] = 10;
        addr[1..4].copy_from_slice(&digest[..3]);
        Inet {
            v6: false,
            bits: 32,
            addr,
        }
    }

    /// 2001:db8::/32 (documentation range), 96 bits from the digest.
    pub fn ipv6(digest: &[u8; 32]) -> Inet {
        let mut addr = [0u8; 16];
        addr[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        addr[4..].copy_from_slice(&digest[..12]);
        Inet {
            v6: true,
            bits: 128,
            addr,
        }
    }

    /// Append the text of the pseudonym, at most `limit` characters; with `unique`, 80
    /// bits of the digest are embedded (the caller checked `min_chars`).
    pub fn text(&self, digest: &[u8; 32], unique: bool, limit: Option<usize>, out: &mut Vec<u8>) {
        let start = out.len();
        let mut picks = Picks::new(digest);
        let limit = limit.unwrap_or(usize::MAX);
        match self.kind {
            FakeKind::Email => {
                let names = folded_names(self.locale);
                let first = picks.pick_folded(&names.first);
                let last = picks.pick_folded(&names.last);
                let domain = picks.pick(&["example.com", "example.org", "example.net"]);
                let number = picks.below(100);
                out.extend_from_slice(first);
                out.push(b'.');
                out.extend_from_slice(last);
                email_tail(out, start, limit, (unique, digest), number, domain);
                return;
            }
            FakeKind::Url if unique => {
                out.extend_from_slice(b"https://example.com/u/");
                write_unique_suffix(out, digest);
                return;
            }
            _ => self.plain_text(digest, &mut picks, out),
        }
        limit_with_suffix(out, start, limit, (unique, digest));
    }

    fn plain_text(&self, digest: &[u8; 32], picks: &mut Picks, out: &mut Vec<u8>) {
        let locale = self.locale;
        match self.kind {
            FakeKind::FirstName => {
                out.extend_from_slice(picks.pick(first_names(locale)).as_bytes())
            }
            FakeKind::LastName => out.extend_from_slice(picks.pick(last_names(locale)).as_bytes()),
            FakeKind::Name | FakeKind::Email => {
                out.extend_from_slice(picks.pick(first_names(locale)).as_bytes());
                out.push(b' ');
                out.extend_from_slice(picks.pick(last_names(locale)).as_bytes());
            }
            FakeKind::Phone => phone(locale, picks, out),
            FakeKind::StreetAddress => {
                let number = picks.below(250) as i64 + 1;
                let name = picks.pick(last_names(locale)).as_bytes();
                let suffix = match locale {
                    Locale::EnGb => picks.pick(UK_STREET_SUFFIXES),
                    Locale::EnUs => picks.pick(<EN as Data>::ADDRESS_STREET_SUFFIX),
                    Locale::FrFr => picks.pick(<FR_FR as Data>::ADDRESS_STREET_SUFFIX),
                    Locale::DeDe => picks.pick(&["straße", "weg", "allee", "gasse"]),
                }
                .as_bytes();
                match locale {
                    Locale::EnGb | Locale::EnUs => {
                        value::write_int(out, number);
                        push_all(out, &[b" ", name, b" ", suffix]);
                    }
                    Locale::FrFr => {
                        value::write_int(out, number);
                        push_all(out, &[b" ", suffix, b" ", name]);
                    }
                    Locale::DeDe => {
                        push_all(out, &[name, suffix, b" "]);
                        value::write_int(out, number);
                    }
                }
            }
            FakeKind::City => match locale {
                Locale::EnGb => out.extend_from_slice(picks.pick(UK_CITIES).as_bytes()),
                Locale::EnUs => {
                    let prefix = picks.pick(<EN as Data>::ADDRESS_CITY_PREFIX);
                    let suffix = picks.pick(<EN as Data>::ADDRESS_CITY_SUFFIX);
                    let name = picks.pick(<EN as Data>::NAME_LAST_NAME);
                    if picks.below(2) == 0 {
                        let _ = write!(out, "{prefix} {name}");
                    } else {
                        let _ = write!(out, "{name}{suffix}");
                    }
                }
                Locale::FrFr => out.extend_from_slice(picks.pick(FR_CITIES).as_bytes()),
                Locale::DeDe => out.extend_from_slice(picks.pick(DE_CITIES).as_bytes()),
            },
            FakeKind::Postcode => match locale {
                Locale::EnGb => {
                    const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
                    out.extend_from_slice(picks.pick(UK_POSTCODE_AREAS).as_bytes());
                    value::write_int(out, picks.below(9) as i64 + 1);
                    out.push(b' ');
                    value::write_int(out, picks.below(10) as i64);
                    out.push(LETTERS[picks.below(LETTERS.len())]);
                    out.push(LETTERS[picks.below(LETTERS.len())]);
                }
                Locale::EnUs | Locale::DeDe => {
                    let _ = write!(out, "{:05}", picks.below(99_000) + 1_000);
                }
                Locale::FrFr => {
                    let _ = write!(out, "{:02}{:03}", picks.below(95) + 1, picks.below(1000));
                }
            },
            FakeKind::Company => {
                let suffixes = company_suffixes(locale);
                let name = picks.pick(last_names(locale)).as_bytes();
                let suffix = picks.pick(suffixes).as_bytes();
                if picks.below(3) == 0 {
                    let other = picks.pick(last_names(locale)).as_bytes();
                    push_all(out, &[name, b" & ", other, b" ", suffix]);
                } else {
                    push_all(out, &[name, b" ", suffix]);
                }
            }
            FakeKind::Username => {
                let names = folded_names(locale);
                out.extend_from_slice(picks.pick_folded(&names.first));
                out.push(b'_');
                out.extend_from_slice(picks.pick_folded(&names.last));
                value::write_int(out, picks.below(100) as i64);
            }
            FakeKind::Url => {
                let host = picks.pick(&[
                    "example.com",
                    "www.example.com",
                    "example.org",
                    "example.net",
                ]);
                let _ = write!(
                    out,
                    "https://{host}/{}/{}",
                    picks.pick(<EN as Data>::LOREM_WORD),
                    picks.pick(<EN as Data>::LOREM_WORD)
                );
            }
            FakeKind::Ipv4 => value::write_inet(out, &FakeGen::ipv4(digest), false),
            FakeKind::Ipv6 => value::write_inet(out, &FakeGen::ipv6(digest), false),
            FakeKind::Uuid => value::write_uuid(out, &FakeGen::uuid(digest)),
            FakeKind::Word => {
                out.extend_from_slice(picks.pick(<EN as Data>::LOREM_WORD).as_bytes())
            }
            FakeKind::Words => words(picks, 3, out),
            FakeKind::Sentence => sentence(picks, out),
            FakeKind::Paragraph => {
                for i in 0..picks.below(4) + 3 {
                    if i > 0 {
                        out.push(b' ');
                    }
                    sentence(picks, out);
                }
            }
            FakeKind::Date | FakeKind::DateOfBirth => value::write_date(out, self.day(digest)),
        }
    }
}

/// Append the parts one after another (what `write!` with only `{}` and literals does).
fn push_all(out: &mut Vec<u8>, parts: &[&[u8]]) {
    for part in parts {
        out.extend_from_slice(part);
    }
}

fn words(picks: &mut Picks, n: usize, out: &mut Vec<u8>) {
    for i in 0..n {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(picks.pick(<EN as Data>::LOREM_WORD).as_bytes());
    }
}

fn sentence(picks: &mut Picks, out: &mut Vec<u8>) {
    let start = out.len();
    let count = picks.below(9) + 4;
    words(picks, count, out);
    out[start] = out[start].to_ascii_uppercase();
    out.push(b'.');
}

fn phone(locale: Locale, picks: &mut Picks, out: &mut Vec<u8>) {
    let n = picks.below(1000);
    match locale {
        // Ofcom's numbers reserved for drama: never allocated to anyone.
        Locale::EnGb => {
            let prefix: &[u8] = match picks.below(6) {
                0 => b"07700 900",
                1 => b"+44 7700 900",
                2 => b"020 7946 0",
                3 => b"0161 496 0",
                4 => b"0113 496 0",
                _ => b"01632 960",
            };
            out.extend_from_slice(prefix);
            write_digits(out, n, 3);
        }
        // 555-0100..555-0199 are reserved for fiction.
        Locale::EnUs => {
            let area = picks.pick(&["202", "212", "312", "415", "617", "713"]);
            out.push(b'(');
            out.extend_from_slice(area.as_bytes());
            out.extend_from_slice(b") 555-01");
            write_digits(out, n % 100, 2);
        }
        // ARCEP's numbers reserved for fiction.
        Locale::FrFr => {
            let prefix = picks.pick(&[
                "01 99 00", "02 61 91", "03 53 01", "04 65 71", "05 36 49", "06 39 98",
            ]);
            out.extend_from_slice(prefix.as_bytes());
            out.push(b' ');
            write_digits(out, n / 10 % 100, 2);
            out.push(b' ');
            write_digits(out, n % 10 * 10 + picks.below(10), 2);
        }
        Locale::DeDe => {
            let prefix = picks.pick(&["030 23125", "069 90009", "040 66969", "089 99998"]);
            out.extend_from_slice(prefix.as_bytes());
            out.push(b' ');
            write_digits(out, n, 3);
        }
    }
}

/// `n` (below 10^width) in exactly `width` decimal digits, zero-padded: `format!("{n:0width$}")`.
fn write_digits(out: &mut Vec<u8>, n: usize, width: usize) {
    let mut digits = [b'0'; 3];
    let mut rest = n;
    for digit in digits[..width].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&digits[..width]);
}

fn first_names(locale: Locale) -> &'static [&'static str] {
    match locale {
        Locale::EnGb | Locale::EnUs => <EN as Data>::NAME_FIRST_NAME,
        Locale::FrFr => <FR_FR as Data>::NAME_FIRST_NAME,
        Locale::DeDe => <DE_DE as Data>::NAME_FIRST_NAME,
    }
}

fn last_names(locale: Locale) -> &'static [&'static str] {
    match locale {
        Locale::EnGb | Locale::EnUs => <EN as Data>::NAME_LAST_NAME,
        Locale::FrFr => <FR_FR as Data>::NAME_LAST_NAME,
        Locale::DeDe => <DE_DE as Data>::NAME_LAST_NAME,
    }
}

/// A locale's first and last names folded by `fold_ascii`, in the order of its lists.
struct FoldedNames {
    first: Vec<Box<[u8]>>,
    last: Vec<Box<[u8]>>,
}

/// The folded names of emails and user names, built once per process and locale: a name is
/// picked by the same index as from the locale's own list.
fn folded_names(locale: Locale) -> &'static FoldedNames {
    static TABLES: [OnceLock<FoldedNames>; 3] = [const { OnceLock::new() }; 3];
    let slot = match locale {
        Locale::EnGb | Locale::EnUs => 0,
        Locale::FrFr => 1,
        Locale::DeDe => 2,
    };
    TABLES[slot].get_or_init(|| {
        let fold_all = |names: &[&str]| -> Vec<Box<[u8]>> {
            names
                .iter()
                .map(|name| {
                    let mut folded = Vec::new();
                    fold_ascii(name, &mut folded);
                    folded.into_boxed_slice()
                })
                .collect()
        };
        FoldedNames {
            first: fold_all(first_names(locale)),
            last: fold_all(last_names(locale)),
        }
    })
}

/// Lowercase ASCII for email and user names: accents folded, other characters dropped.
fn fold_ascii(name: &str, out: &mut Vec<u8>) {
    let start = out.len();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase() as u8);
            continue;
        }
        let folded: &[u8] = match c.to_lowercase().next().unwrap_or(c) {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' => b"a",
            'æ' => b"ae",
            'ç' | 'č' | 'ć' => b"c",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' => b"e",
            'ì' | 'í' | 'î' | 'ï' | 'ı' => b"i",
            'ñ' | 'ń' => b"n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => b"o",
            'œ' => b"oe",
            'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' => b"u",
            'ý' | 'ÿ' => b"y",
            'ß' => b"ss",
            'ğ' | 'ģ' => b"g",
            'š' | 'ś' | 'ş' => b"s",
            'ž' | 'ź' | 'ż' => b"z",
            'ł' => b"l",
            'ř' => b"r",
            'ť' => b"t",
            'đ' | 'ď' => b"d",
            _ => b"",
        };
        out.extend_from_slice(folded);
    }
    if out.len() == start {
        out.extend_from_slice(b"user");
    }
}

/// Keep at most `max` characters of the UTF-8 text in `out[start..]`.
pub(crate) fn truncate_chars(out: &mut Vec<u8>, start: usize, max: usize) {
    if out.len() - start <= max {
        return;
    }
    let mut chars = 0;
    for i in start..out.len() {
        if out[i] & 0xC0 != 0x80 {
            if chars == max {
                out.truncate(i);
                return;
            }
            chars += 1;
        }
    }
}

const UK_STREET_SUFFIXES: &[&str] = &[
    "Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Gardens", "Crescent", "Place",
    "Grove", "Terrace", "Mews", "Row", "Walk",
];

const UK_CITIES: &[&str] = &[
    "London",
    "Birmingham",
    "Manchester",
    "Leeds",
    "Glasgow",
    "Liverpool",
    "Bristol",
    "Sheffield",
    "Edinburgh",
    "Cardiff",
    "Leicester",
    "Coventry",
    "Bradford",
    "Belfast",
    "Nottingham",
    "Hull",
    "Newcastle upon Tyne",
    "Stoke-on-Trent",
    "Southampton",
    "Derby",
    "Portsmouth",
    "Brighton",
    "Plymouth",
    "Northampton",
    "Reading",
    "Luton",
    "Wolverhampton",
    "Bolton",
    "Aberdeen",
    "Bournemouth",
    "Norwich",
    "Swansea",
    "Swindon",
    "Dundee",
    "Milton Keynes",
    "York",
    "Oxford",
    "Cambridge",
    "Exeter",
    "Bath",
    "Canterbury",
    "Durham",
    "Inverness",
    "Stirling",
    "Lincoln",
    "Chester",
    "Worcester",
    "Gloucester",
    "Carlisle",
    "Lancaster",
];

const UK_POSTCODE_AREAS: &[&str] = &[
    "AB", "B", "BA", "BD", "BH", "BL", "BN", "BR", "BS", "CA", "CB", "CF", "CH", "CM", "CO", "CR",
    "CT", "CV", "DE", "DH", "DN", "E", "EC", "EH", "EX", "G", "GL", "GU", "HA", "HP", "HU", "IP",
    "KT", "L", "LA", "LE", "LN", "LS", "M", "ME", "MK", "N", "NE", "NG", "NN", "NR", "NW", "OX",
    "PL", "PO", "RG", "S", "SE", "SO", "SW", "TN", "W", "WC", "YO",
];

const FR_CITIES: &[&str] = &[
    "Paris",
    "Marseille",
    "Lyon",
    "Toulouse",
    "Nice",
    "Nantes",
    "Strasbourg",
    "Montpellier",
    "Bordeaux",
    "Lille",
    "Rennes",
    "Reims",
    "Le Havre",
    "Saint-Étienne",
    "Toulon",
    "Grenoble",
    "Dijon",
    "Angers",
    "Nîmes",
    "Villeurbanne",
    "Clermont-Ferrand",
    "Le Mans",
    "Aix-en-Provence",
    "Brest",
    "Tours",
    "Amiens",
    "Limoges",
    "Annecy",
    "Perpignan",
    "Metz",
];

const DE_CITIES: &[&str] = &[
    "Berlin",
    "Hamburg",
    "München",
    "Köln",
    "Frankfurt am Main",
    "Stuttgart",
    "Düsseldorf",
    "Leipzig",
    "Dortmund",
    "Essen",
    "Bremen",
    "Dresden",
    "Hannover",
    "Nürnberg",
    "Duisburg",
    "Bochum",
    "Wuppertal",
    "Bielefeld",
    "Bonn",
    "Münster",
    "Karlsruhe",
    "Mannheim",
    "Augsburg",
    "Wiesbaden",
    "Freiburg im Breisgau",
    "Kiel",
    "Lübeck",
    "Rostock",
    "Potsdam",
    "Erfurt",
];

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The versions the folded-name tables and the suffix buffer replaced: the reference
    /// for emails' and user names' bytes.
    mod reference {
        use super::super::*;

        /// The `write!`-based street addresses and company names.
        pub fn formatted(kind: FakeKind, locale: Locale, picks: &mut Picks, out: &mut Vec<u8>) {
            match kind {
                FakeKind::StreetAddress => {
                    let number = picks.below(250) + 1;
                    let name = picks.pick(last_names(locale));
                    match locale {
                        Locale::EnGb => {
                            let suffix = picks.pick(UK_STREET_SUFFIXES);
                            let _ = write!(out, "{number} {name} {suffix}");
                        }
                        Locale::EnUs => {
                            let suffix = picks.pick(<EN as Data>::ADDRESS_STREET_SUFFIX);
                            let _ = write!(out, "{number} {name} {suffix}");
                        }
                        Locale::FrFr => {
                            let suffix = picks.pick(<FR_FR as Data>::ADDRESS_STREET_SUFFIX);
                            let _ = write!(out, "{number} {suffix} {name}");
                        }
                        Locale::DeDe => {
                            let suffix = picks.pick(&["straße", "weg", "allee", "gasse"]);
                            let _ = write!(out, "{name}{suffix} {number}");
                        }
                    }
                }
                FakeKind::Company => {
                    let suffixes = company_suffixes(locale);
                    let name = picks.pick(last_names(locale));
                    let suffix = picks.pick(suffixes);
                    if picks.below(3) == 0 {
                        let other = picks.pick(last_names(locale));
                        let _ = write!(out, "{name} & {other} {suffix}");
                    } else {
                        let _ = write!(out, "{name} {suffix}");
                    }
                }
                _ => unreachable!("street addresses and companies only"),
            }
        }

        pub fn phone(locale: Locale, picks: &mut Picks, out: &mut Vec<u8>) {
            let n = picks.below(1000);
            match locale {
                // Ofcom's numbers reserved for drama: never allocated to anyone.
                Locale::EnGb => match picks.below(6) {
                    0 => {
                        let _ = write!(out, "07700 900{n:03}");
                    }
                    1 => {
                        let _ = write!(out, "+44 7700 900{n:03}");
                    }
                    2 => {
                        let _ = write!(out, "020 7946 0{n:03}");
                    }
                    3 => {
                        let _ = write!(out, "0161 496 0{n:03}");
                    }
                    4 => {
                        let _ = write!(out, "0113 496 0{n:03}");
                    }
                    _ => {
                        let _ = write!(out, "01632 960{n:03}");
                    }
                },
                // 555-0100..555-0199 are reserved for fiction.
                Locale::EnUs => {
                    let area = picks.pick(&["202", "212", "312", "415", "617", "713"]);
                    let _ = write!(out, "({area}) 555-01{:02}", n % 100);
                }
                // ARCEP's numbers reserved for fiction.
                Locale::FrFr => {
                    let prefix = picks.pick(&[
                        "01 99 00", "02 61 91", "03 53 01", "04 65 71", "05 36 49", "06 39 98",
                    ]);
                    let _ = write!(
                        out,
                        "{prefix} {:02} {:02}",
                        n / 10 % 100,
                        n % 10 * 10 + picks.below(10)
                    );
                }
                Locale::DeDe => {
                    let prefix = picks.pick(&["030 23125", "069 90009", "040 66969", "089 99998"]);
                    let _ = write!(out, "{prefix} {n:03}");
                }
            }
        }

        pub fn write_unique_suffix(out: &mut Vec<u8>, digest: &[u8; 32]) {
            let bits = u128::from_be_bytes(digest[16..32].try_into().expect("sixteen bytes")) >> 48;
            for i in (0..UNIQUE_CHARS).rev() {
                out.push(BASE32[((bits >> (i * 5)) & 31) as usize]);
            }
        }

        pub fn text(
            generator: &FakeGen,
            digest: &[u8; 32],
            unique: bool,
            limit: Option<usize>,
            out: &mut Vec<u8>,
        ) {
            let start = out.len();
            let mut picks = Picks::new(digest);
            let limit = limit.unwrap_or(usize::MAX);
            let locale = generator.locale;
            if generator.kind == FakeKind::Email {
                let first = picks.pick(first_names(locale));
                let last = picks.pick(last_names(locale));
                let domain = picks.pick(&["example.com", "example.org", "example.net"]);
                let number = picks.below(100);
                fold_ascii(first, out);
                out.push(b'.');
                fold_ascii(last, out);
                email_tail(out, start, limit, (unique, digest), number, domain);
                return;
            }
            assert_eq!(generator.kind, FakeKind::Username);
            let first = picks.pick(first_names(locale));
            let last = picks.pick(last_names(locale));
            fold_ascii(first, out);
            out.push(b'_');
            fold_ascii(last, out);
            value::write_int(out, picks.below(100) as i64);
            limit_with_suffix(out, start, limit, (unique, digest));
        }
    }

    const LOCALES: [Locale; 4] = [Locale::EnGb, Locale::EnUs, Locale::FrFr, Locale::DeDe];

    /// A generator of each of `kinds` in every locale.
    fn generators(kinds: &[FakeKind]) -> Vec<(FakeKind, Locale, FakeGen)> {
        let mut all = Vec::new();
        for locale in LOCALES {
            for &kind in kinds {
                let spec = FakeSpec {
                    kind,
                    locale,
                    min: None,
                    max: None,
                };
                all.push((kind, locale, FakeGen::new(&spec).unwrap()));
            }
        }
        all
    }

    fn test_digest(i: u32) -> [u8; 32] {
        Sha256::digest(i.to_le_bytes()).into()
    }

    #[test]
    fn street_addresses_and_companies_match_formatting_with_write() {
        for (kind, locale, generator) in generators(&[FakeKind::StreetAddress, FakeKind::Company]) {
            for i in 0..5000u32 {
                let digest = test_digest(i);
                let (mut out, mut expected) = (b"x".to_vec(), b"x".to_vec());
                generator.plain_text(&digest, &mut Picks::new(&digest), &mut out);
                reference::formatted(kind, locale, &mut Picks::new(&digest), &mut expected);
                assert_eq!(out, expected, "{kind:?} {locale:?}");
            }
        }
    }

    #[test]
    fn phones_match_formatting_with_write() {
        for locale in LOCALES {
            for i in 0..5000u32 {
                let digest = test_digest(i);
                let (mut out, mut expected) = (b"x".to_vec(), b"x".to_vec());
                phone(locale, &mut Picks::new(&digest), &mut out);
                reference::phone(locale, &mut Picks::new(&digest), &mut expected);
                assert_eq!(out, expected, "{locale:?}");
            }
        }
        let mut out = Vec::new();
        for (n, width) in [(0, 3), (7, 3), (42, 3), (999, 3), (0, 2), (5, 2), (99, 2)] {
            out.clear();
            write_digits(&mut out, n, width);
            assert_eq!(out, format!("{n:0width$}").into_bytes());
        }
    }

    #[test]
    fn emails_and_user_names_match_folding_per_value() {
        for (kind, locale, generator) in generators(&[FakeKind::Email, FakeKind::Username]) {
            for i in 0..3000u32 {
                let digest = test_digest(i);
                for unique in [false, true] {
                    for limit in [None, Some(generator.min_chars(unique)), Some(24), Some(40)] {
                        if limit.is_some_and(|n| n < generator.min_chars(unique)) {
                            continue;
                        }
                        let (mut out, mut expected) = (b"x".to_vec(), b"x".to_vec());
                        generator.text(&digest, unique, limit, &mut out);
                        reference::text(&generator, &digest, unique, limit, &mut expected);
                        assert_eq!(out, expected, "{kind:?} {locale:?} {unique} {limit:?}");
                    }
                }
                let (mut out, mut expected) = (Vec::new(), Vec::new());
                write_unique_suffix(&mut out, &digest);
                reference::write_unique_suffix(&mut expected, &digest);
                assert_eq!(out, expected);
            }
        }
    }
}
