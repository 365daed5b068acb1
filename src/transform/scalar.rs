//! One strategy applied to one decoded scalar value (`Val`): null, redact, const, hash,
//! fake, generalise, shift, mask and json, with the output fitted to the column's type.

use super::fake::{FakeGen, UNIQUE_CHARS};
use super::json::JsonTransform;
use super::value::{self, Inet, USECS_PER_DAY, Val};
use super::xml::XmlTransform;
use super::{Keyed, Salt, TransformError};
use crate::policy::model::{FakeKind, Generalise, Rule, Strategy};
use crate::sqltype::{BaseType, SqlType};

/// Bits of the HMAC a `unique` text output must carry. With n = 10^8 rows the chance of
/// any collision is at most n²/2^81 ≈ 4.1e-9 (birthday bound).
pub(crate) const UNIQUE_BITS: usize = 80;

pub(crate) struct Scalar {
    /// The element type (never an array).
    pub ty: SqlType,
    strategy: Strat,
    unique: bool,
    keyed: Keyed,
    /// Character limit of textual outputs (`varchar(n)`, `char(n)`; 63 bytes for `name`).
    limit: Option<usize>,
    /// `const`: NULL inputs get the literal too.
    is_const: bool,
    lower: String,
}

enum Strat {
    Null,
    /// The literal's text form (or bytes for bytea).
    Literal(Vec<u8>),
    Hash,
    Fake(FakeGen),
    Bucket {
        width: f64,
        decimal: (i128, u32),
    },
    Month,
    Year,
    Shift {
        max_days: u32,
    },
    Mask {
        keep_last: usize,
    },
    Json(Box<JsonTransform>),
    Xml(Box<XmlTransform>),
    /// `hash` on xml: a small valid document carrying the keyed digest.
    XmlHash,
}

/// The `xml` type (resolved as an `Other` base type: COPY moves it in text format).
pub(crate) fn is_xml(base: &BaseType) -> bool {
    matches!(base, BaseType::Other(name) if name == "xml")
}

fn fail(message: String) -> TransformError {
    TransformError(message)
}

impl Scalar {
    /// The JSON transform, when this is a `json` rule: it works on the document's bytes
    /// directly (no decoding, no validation pass, no intermediate copy).
    pub fn json_mut(&mut self) -> Option<&mut JsonTransform> {
        match &mut self.strategy {
            Strat::Json(json) => Some(json),
            _ => None,
        }
    }

    pub fn new(rule: &Rule, ty: &SqlType, salt: &Salt) -> Result<Scalar, TransformError> {
        let mut ty = ty.clone();
        ty.array = false;
        let base = ty.base.clone();
        let type_name = ty.display.clone();
        let limit = match base {
            BaseType::Name => Some(63),
            _ if base.is_textual() => ty.max_chars.map(|n| n as usize),
            _ => None,
        };
        let wrong = |what: &str| {
            fail(format!(
                "{what} cannot be applied to a column of type `{type_name}`"
            ))
        };
        let tag: String;
        let strategy = match &rule.strategy {
            Strategy::Keep | Strategy::Todo { .. } => {
                return Err(fail(
                    "internal error: `keep`/`todo` columns are not transformed".into(),
                ));
            }
            Strategy::Null => {
                tag = "null".into();
                Strat::Null
            }
            Strategy::Redact => {
                tag = "redact".into();
                Strat::Literal(redact_literal(&ty).ok_or_else(|| wrong("`redact`"))?)
            }
            Strategy::Const(text) => {
                tag = "const".into();
                Strat::Literal(validate_const(&ty, text)?)
            }
            Strategy::Hash if is_xml(&base) => {
                tag = "hash".into();
                Strat::XmlHash
            }
            Strategy::Hash => {
                tag = "hash".into();
                if matches!(base, BaseType::Other(_)) {
                    return Err(wrong("`hash`"));
                }
                Strat::Hash
            }
            Strategy::Fake(spec) => {
                tag = format!("fake.{}", spec.kind.name());
                let fits = match spec.kind {
                    FakeKind::Uuid => base.is_textual() || base == BaseType::Uuid,
                    FakeKind::Ipv4 | FakeKind::Ipv6 => {
                        base.is_textual() || matches!(base, BaseType::Inet | BaseType::Cidr)
                    }
                    FakeKind::Date | FakeKind::DateOfBirth => {
                        base.is_textual() || base.is_temporal()
                    }
                    _ => base.is_textual(),
                };
                if !fits {
                    return Err(wrong(&format!("`fake.{}`", spec.kind.name())));
                }
                Strat::Fake(FakeGen::new(spec)?)
            }
            Strategy::Generalise(Generalise::Month) if base.is_temporal() => {
                tag = "generalise".into();
                Strat::Month
            }
            Strategy::Generalise(Generalise::Year) if base.is_temporal() => {
                tag = "generalise".into();
                Strat::Year
            }
            Strategy::Generalise(Generalise::Bucket(width)) if base.is_numeric() => {
                tag = "generalise".into();
                let width = *width;
                if !(width.is_finite() && width > 0.0) {
                    return Err(fail(
                        "the bucket width of `generalise` must be a positive number".into(),
                    ));
                }
                if base.is_integer() && width.fract() != 0.0 {
                    return Err(fail(format!(
                        "the bucket width of `generalise` must be a whole number for `{type_name}`"
                    )));
                }
                let decimal = parse_decimal(&format!("{width}")).ok_or_else(|| {
                    fail("the bucket width of `generalise` is too precise".into())
                })?;
                Strat::Bucket { width, decimal }
            }
            Strategy::Generalise(_) => return Err(wrong("this `generalise`")),
            Strategy::Shift { max_days } if base.is_temporal() => {
                tag = "shift".into();
                Strat::Shift {
                    max_days: *max_days,
                }
            }
            Strategy::Shift { .. } => return Err(wrong("`shift`")),
            Strategy::Mask { keep_last } if base.is_textual() => {
                tag = "mask".into();
                Strat::Mask {
                    keep_last: *keep_last as usize,
                }
            }
            Strategy::Mask { .. } => return Err(wrong("`mask`")),
            Strategy::Json(rules) if matches!(base, BaseType::Json | BaseType::Jsonb) => {
                tag = "json".into();
                Strat::Json(Box::new(JsonTransform::new(rules, salt)?))
            }
            Strategy::Json(_) => return Err(wrong("`json`")),
            Strategy::Xml(rules) if is_xml(&base) => {
                tag = "xml".into();
                Strat::Xml(Box::new(XmlTransform::new(rules, salt)?))
            }
            Strategy::Xml(_) => return Err(wrong("`xml`")),
        };
        if rule.unique {
            check_unique(&strategy, &ty, limit)?;
        }
        if let (Strat::Fake(generator), Some(limit)) = (&strategy, limit)
            && base.is_textual()
            && limit < generator.min_chars(rule.unique)
        {
            return Err(fail(format!(
                "`fake.{}` needs at least {} characters but `{type_name}` holds {limit}",
                generator.kind.name(),
                generator.min_chars(rule.unique)
            )));
        }
        // An email always carries its keyed suffix when it fits, unique or not, so the same
        // address gets the same pseudonym in every column and JSON document (G6).
        let unique = rule.unique
            || matches!(&strategy, Strat::Fake(generator)
                if generator.kind == FakeKind::Email
                    && limit.is_none_or(|n| n >= generator.min_chars(true)));
        Ok(Scalar {
            ty,
            strategy,
            unique,
            keyed: Keyed::new(salt, tag.as_bytes()),
            limit,
            is_const: matches!(rule.strategy, Strategy::Const(_)),
            lower: String::new(),
        })
    }

    /// The strategy's output for a non-NULL input, built in `buf` when it is not a plain copy.
    /// Inlined into its one caller: as a call, its `Val` result went through memory and
    /// stalled store forwarding (cheap strategies such as `redact` ran 20% slower).
    #[inline]
    pub fn produce<'c>(
        &mut self,
        input: Val<'c>,
        buf: &'c mut Vec<u8>,
    ) -> Result<Option<Val<'c>>, TransformError> {
        buf.clear();
        let base = &self.ty.base;
        // An empty string holds nothing personal: it stays empty, as NULL stays NULL, under
        // every strategy that writes a value but `const` (one pseudonym for every `''` breaks
        // unique indexes); `null` still leaves no value at all.
        if !self.is_const && !matches!(self.strategy, Strat::Null) && is_empty_text(base, &input) {
            return Ok(Some(input));
        }
        let out = match &mut self.strategy {
            Strat::Null => return Ok(None),
            Strat::Literal(literal) => {
                buf.extend_from_slice(literal);
                literal_val(base, buf)
            }
            Strat::Hash => {
                let fold_case = *base == BaseType::Citext;
                let digest = digest_of(&self.keyed, &input, fold_case, &mut self.lower);
                hash_value(
                    &self.ty,
                    self.limit,
                    self.unique,
                    &self.keyed,
                    &input,
                    &digest,
                    buf,
                )?
            }
            Strat::Fake(generator) => {
                let fold_case = *base == BaseType::Citext || generator.kind == FakeKind::Email;
                let digest = digest_of(&self.keyed, &input, fold_case, &mut self.lower);
                match base {
                    BaseType::Uuid => Val::Uuid(FakeGen::uuid(&digest)),
                    BaseType::Inet | BaseType::Cidr => {
                        if generator.kind == FakeKind::Ipv4 {
                            Val::Inet(FakeGen::ipv4(&digest))
                        } else {
                            Val::Inet(FakeGen::ipv6(&digest))
                        }
                    }
                    BaseType::Date => Val::Date(generator.day(&digest)),
                    BaseType::Timestamp | BaseType::Timestamptz => Val::Ts(
                        generator.day(&digest) as i64 * USECS_PER_DAY
                            + generator.micros_in_day(&digest),
                    ),
                    _ => {
                        generator.text(&digest, self.unique, self.limit, buf);
                        text_val(buf)
                    }
                }
            }
            Strat::Month | Strat::Year => {
                let year_only = matches!(self.strategy, Strat::Year);
                match input {
                    Val::Date(days) if days != i32::MIN && days != i32::MAX => {
                        Val::Date(truncate_day(days as i64, year_only) as i32)
                    }
                    Val::Ts(us) if us != i64::MIN && us != i64::MAX => {
                        let day = truncate_day(us.div_euclid(USECS_PER_DAY), year_only);
                        Val::Ts(day.saturating_mul(USECS_PER_DAY).max(value::TS_MIN))
                    }
                    other => other,
                }
            }
            Strat::Bucket { width, decimal } => bucket(&self.ty, input, *width, *decimal, buf)?,
            Strat::Shift { max_days } => {
                let digest = digest_of(&self.keyed, &input, false, &mut self.lower);
                let span = 2 * *max_days as u64 + 1;
                let pick = u64::from_le_bytes(digest[..8].try_into().expect("eight bytes")) % span;
                let offset = pick as i64 - *max_days as i64;
                match input {
                    Val::Date(days) if days != i32::MIN && days != i32::MAX => Val::Date(
                        (days as i64 + offset).clamp(value::DATE_MIN as i64, value::DATE_MAX as i64)
                            as i32,
                    ),
                    Val::Ts(us) if us != i64::MIN && us != i64::MAX => Val::Ts(
                        us.saturating_add(offset * USECS_PER_DAY)
                            .clamp(value::TS_MIN, value::TS_MAX),
                    ),
                    other => other,
                }
            }
            Strat::Mask { keep_last } => {
                let Val::Text(text) = input else {
                    return Err(fail("internal error: `mask` on a non-text value".into()));
                };
                let chars = text.chars().count();
                let masked = chars.saturating_sub(*keep_last);
                buf.resize(masked, b'*');
                let kept = text
                    .char_indices()
                    .nth(masked)
                    .map_or("", |(at, _)| &text[at..]);
                buf.extend_from_slice(kept.as_bytes());
                text_val(buf)
            }
            Strat::Json(json) => {
                let Val::Text(text) = input else {
                    return Err(fail("internal error: `json` on a non-json value".into()));
                };
                json.transform(text.as_bytes(), buf)?;
                text_val(buf)
            }
            Strat::Xml(xml) => {
                let Val::Text(text) = input else {
                    return Err(fail("internal error: `xml` on a non-xml value".into()));
                };
                xml.transform(text.as_bytes(), buf)?;
                text_val(buf)
            }
            Strat::XmlHash => {
                let digest = digest_of(&self.keyed, &input, false, &mut self.lower);
                buf.extend_from_slice(b"<hash>");
                value::write_hex(buf, &digest[..16]);
                buf.extend_from_slice(b"</hash>");
                text_val(buf)
            }
        };
        Ok(Some(out))
    }

    /// The column's value when the input is NULL: only `const` writes a value.
    pub fn null_output<'c>(&self, buf: &'c mut Vec<u8>) -> Option<Val<'c>> {
        buf.clear();
        match (&self.strategy, self.is_const) {
            (Strat::Literal(literal), true) => {
                buf.extend_from_slice(literal);
                Some(literal_val(&self.ty.base, buf))
            }
            _ => None,
        }
    }
}

/// `''` of a textual type (`char(n)` pads it with spaces), or an empty `bytea`.
fn is_empty_text(base: &BaseType, input: &Val<'_>) -> bool {
    match input {
        Val::Text(text) if base.is_textual() => {
            text.is_empty() || (*base == BaseType::Bpchar && text.bytes().all(|b| b == b' '))
        }
        Val::Bytes(bytes) => bytes.is_empty(),
        _ => false,
    }
}

fn text_val(buf: &[u8]) -> Val<'_> {
    Val::Text(std::str::from_utf8(buf).expect("transforms write UTF-8"))
}

/// Inlined: as a call its `Val` went back through memory and stalled store forwarding.
#[inline(always)]
fn literal_val<'c>(base: &BaseType, buf: &'c [u8]) -> Val<'c> {
    if *base == BaseType::Bytea {
        return Val::Bytes(buf);
    }
    if base.is_textual() {
        // What `parse_text` returns for textual types, without the call.
        return text_val(buf);
    }
    value::parse_text(base, std::str::from_utf8(buf).expect("validated literal"))
        .expect("literal validated at construction")
}

/// The keyed digest of a value. Case-insensitive values (citext, and email addresses in any
/// column or JSON document) are keyed on their lower-case form: equal values, equal pseudonyms.
fn digest_of(keyed: &Keyed, input: &Val<'_>, fold_case: bool, lower: &mut String) -> [u8; 32] {
    if let (true, Val::Text(text)) = (fold_case, input)
        && text.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80)
    {
        lower_case_into(text, lower);
        return keyed.digest(lower.as_bytes());
    }
    let mut small = [0u8; 20];
    keyed.digest(value::canonical(input, &mut small))
}

/// `text` in lower case (Unicode's `to_lowercase` per character) in `lower`; ASCII text,
/// the usual case, is copied and folded byte by byte.
fn lower_case_into(text: &str, lower: &mut String) {
    lower.clear();
    if text.is_ascii() {
        lower.push_str(text);
        lower.make_ascii_lowercase();
    } else {
        lower.extend(text.chars().flat_map(char::to_lowercase));
    }
}

fn truncate_day(day: i64, year_only: bool) -> i64 {
    let (year, month, _) = value::pg_civil(day);
    value::pg_date(year, if year_only { 1 } else { month }, 1)
}

/// The placeholder of `redact`, in the type's text form (raw bytes for bytea).
fn redact_literal(ty: &SqlType) -> Option<Vec<u8>> {
    let text: &str = match &ty.base {
        base if base.is_textual() => {
            let mut text = b"[redacted]".to_vec();
            let limit = if *base == BaseType::Name {
                63
            } else {
                ty.max_chars.map_or(10, |n| n as usize)
            };
            text.truncate(limit);
            return Some(text);
        }
        BaseType::Enum => {
            return ty
                .enum_labels
                .first()
                .map(|label| label.as_bytes().to_vec());
        }
        BaseType::Int2
        | BaseType::Int4
        | BaseType::Int8
        | BaseType::Numeric
        | BaseType::Float4
        | BaseType::Float8 => "0",
        BaseType::Bool => "f",
        BaseType::Date => "1970-01-01",
        BaseType::Timestamp => "1970-01-01 00:00:00",
        BaseType::Timestamptz => "1970-01-01 00:00:00+00",
        BaseType::Uuid => "00000000-0000-0000-0000-000000000000",
        BaseType::Inet => "0.0.0.0",
        BaseType::Cidr => "0.0.0.0/32",
        // The bytes of `[redacted]`: small, and visibly a placeholder.
        BaseType::Bytea => return Some(b"[redacted]".to_vec()),
        BaseType::Json | BaseType::Jsonb => "{}",
        base if is_xml(base) => "<redacted/>",
        _ => return None,
    };
    Some(text.as_bytes().to_vec())
}

/// Check that a `const` literal is a valid value of the column's (element) type; returns
/// its stored form (decoded bytes for bytea).
pub(crate) fn validate_const(ty: &SqlType, text: &str) -> Result<Vec<u8>, TransformError> {
    let invalid = || {
        fail(format!(
            "the `const` literal is not a valid `{}`",
            ty.display
        ))
    };
    let base = &ty.base;
    if *base == BaseType::Bytea {
        // `\x…` hex, or base64: PostgreSQL's escape format would take any text as bytes.
        if text.starts_with("\\x") {
            let mut scratch = Vec::new();
            let Ok(Val::Bytes(bytes)) =
                value::decode(base, super::Format::Text, text.as_bytes(), &mut scratch)
            else {
                return Err(invalid_bytea(ty));
            };
            return Ok(bytes.to_vec());
        }
        return decode_base64(text.trim()).ok_or_else(|| invalid_bytea(ty));
    }
    let val = value::parse_text(base, text).ok_or_else(invalid)?;
    let ok = match base {
        BaseType::Name => text.len() <= 63,
        b if b.is_textual() => ty
            .max_chars
            .is_none_or(|n| text.chars().count() <= n as usize),
        BaseType::Enum => ty.enum_labels.iter().any(|label| label == text),
        BaseType::Numeric => match (ty.numeric, val) {
            (Some((precision, scale)), Val::Numeric(text)) => {
                value::numeric_fits(text, precision, scale)
            }
            _ => true,
        },
        BaseType::Json | BaseType::Jsonb => {
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
        }
        base if is_xml(base) => XmlTransform::new(&[], &super::Salt::new(Vec::new()))
            .and_then(|mut xml| xml.transform(text.as_bytes(), &mut Vec::new()))
            .is_ok(),
        _ => true,
    };
    if !ok {
        return Err(invalid());
    }
    if let Val::Text(text) = val
        && text.contains('\0')
    {
        return Err(invalid());
    }
    Ok(text.as_bytes().to_vec())
}

fn invalid_bytea(ty: &SqlType) -> TransformError {
    fail(format!(
        "the `const` literal is not a valid `{}`: write hex (`\\x0a1b…`) or base64 (`Chs=`)",
        ty.display
    ))
}

/// Standard base64 (RFC 4648, `+/`, padding optional); `None` for anything else.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=');
    if text.len() - digits.len() > 2 || digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in digits.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn check_unique(
    strategy: &Strat,
    ty: &SqlType,
    limit: Option<usize>,
) -> Result<(), TransformError> {
    let name = &ty.display;
    let base = &ty.base;
    let cannot = |what: &str| Err(fail(format!("{what} cannot keep `{name}` values unique")));
    match strategy {
        Strat::Null => Ok(()),
        Strat::Literal(_) => cannot("`const`/`redact`"),
        Strat::Month | Strat::Year | Strat::Bucket { .. } => cannot("`generalise`"),
        Strat::Shift { .. } => cannot("`shift`"),
        Strat::Mask { .. } => cannot("`mask`"),
        Strat::Json(_) => cannot("`json` (put `unique` on a path rule)"),
        Strat::Xml(_) => cannot("`xml` (put `unique` on a path rule)"),
        // 128 keyed bits.
        Strat::XmlHash => Ok(()),
        Strat::Hash => match base {
            b if b.is_textual() => match limit {
                Some(n) if n * 4 < UNIQUE_BITS => Err(fail(format!(
                    "`{name}` is too short for a unique `hash`: it needs at least {} characters",
                    UNIQUE_BITS / 4
                ))),
                _ => Ok(()),
            },
            BaseType::Int2
            | BaseType::Int4
            | BaseType::Int8
            | BaseType::Uuid
            | BaseType::Bytea
            | BaseType::Inet
            | BaseType::Json
            | BaseType::Jsonb => Ok(()),
            BaseType::Numeric => match ty.numeric {
                Some((precision, _)) if (precision as usize) < 25 => Err(fail(format!(
                    "`{name}` is too small for a unique `hash`: it needs a precision of at least 25 digits"
                ))),
                _ => Ok(()),
            },
            _ => cannot("`hash`"),
        },
        Strat::Fake(generator) => {
            let ok = match base {
                BaseType::Uuid => true,
                BaseType::Inet => generator.kind == FakeKind::Ipv6,
                b if b.is_textual() => generator.can_be_unique(),
                _ => false,
            };
            if !ok {
                return cannot(&format!("`fake.{}`", generator.kind.name()));
            }
            if base.is_textual() && limit.is_some_and(|n| n < UNIQUE_CHARS + 1) {
                return Err(fail(format!(
                    "`{name}` is too short for a unique `fake.{}`: it needs at least {} characters",
                    generator.kind.name(),
                    generator.min_chars(true)
                )));
            }
            Ok(())
        }
    }
}

/// `hash`: a keyed pseudonym of the same type.
fn hash_value<'c>(
    ty: &SqlType,
    limit: Option<usize>,
    unique: bool,
    keyed: &Keyed,
    input: &Val<'_>,
    digest: &[u8; 32],
    buf: &'c mut Vec<u8>,
) -> Result<Val<'c>, TransformError> {
    let word = |at: usize| u64::from_le_bytes(digest[at..at + 8].try_into().expect("eight bytes"));
    Ok(match &ty.base {
        base if base.is_textual() => {
            let chars = limit.unwrap_or(32).min(32);
            value::write_hex(buf, &digest[..chars.div_ceil(2)]);
            buf.truncate(chars);
            text_val(buf)
        }
        BaseType::Enum => {
            let labels = &ty.enum_labels;
            if labels.is_empty() {
                return Err(fail(format!("enum `{}` has no labels", ty.display)));
            }
            let label = &labels[(word(0) % labels.len() as u64) as usize];
            buf.extend_from_slice(label.as_bytes());
            text_val(buf)
        }
        BaseType::Int2 | BaseType::Int4 | BaseType::Int8 => {
            let bits = match ty.base {
                BaseType::Int2 => 16,
                BaseType::Int4 => 32,
                _ => 64,
            };
            if unique {
                let Val::Int(n) = *input else {
                    return Err(fail("internal error: integer hash of a non-integer".into()));
                };
                Val::Int(feistel_int(keyed, n, bits))
            } else {
                Val::Int((word(0) >> (65 - bits)) as i64)
            }
        }
        BaseType::Numeric => {
            let (precision, scale) = match ty.numeric {
                Some((p, s)) => (p as u32, s as u32),
                None => (if unique { 38 } else { 18 }, 0),
            };
            let digits = precision.min(if unique { 38 } else { 18 });
            let n = u128::from_le_bytes(digest[..16].try_into().expect("sixteen bytes"))
                % 10u128.pow(digits);
            write_scaled(buf, n as i128, scale);
            Val::Numeric(std::str::from_utf8(buf).expect("ascii"))
        }
        BaseType::Float4 => {
            Val::Float(((word(0) >> 40) as f32 / (1u32 << 24) as f32 * 10_000.0) as f64)
        }
        BaseType::Float8 => Val::Float((word(0) >> 11) as f64 / (1u64 << 53) as f64 * 1_000_000.0),
        BaseType::Bool => Val::Bool(digest[0] & 1 == 1),
        BaseType::Date => {
            let (from, to) = (value::pg_date(1970, 1, 1), value::pg_date(2029, 12, 31));
            Val::Date((from + (word(0) % (to - from + 1) as u64) as i64) as i32)
        }
        BaseType::Timestamp | BaseType::Timestamptz => {
            let (from, to) = (value::pg_date(1970, 1, 1), value::pg_date(2030, 1, 1));
            let seconds = (to - from) as u64 * 86_400;
            Val::Ts(from * USECS_PER_DAY + (word(0) % seconds) as i64 * 1_000_000)
        }
        BaseType::Uuid => Val::Uuid(FakeGen::uuid(digest)),
        BaseType::Inet | BaseType::Cidr => {
            let Val::Inet(original) = *input else {
                return Err(fail("internal error: inet hash of a non-inet".into()));
            };
            let mut inet: Inet;
            if original.v6 || unique {
                inet = FakeGen::ipv6(digest);
                inet.bits = if original.v6 {
                    original.bits.max(32)
                } else {
                    128
                };
            } else {
                inet = FakeGen::ipv4(digest);
                inet.bits = original.bits.max(8);
            }
            if ty.base == BaseType::Cidr {
                value::clear_host_bits(&mut inet);
            }
            Val::Inet(inet)
        }
        BaseType::Bytea => {
            buf.extend_from_slice(digest);
            Val::Bytes(buf)
        }
        BaseType::Json | BaseType::Jsonb => {
            buf.push(b'"');
            value::write_hex(buf, &digest[..16]);
            buf.push(b'"');
            text_val(buf)
        }
        BaseType::Other(_) => {
            return Err(fail("internal error: hash of an unsupported type".into()));
        }
        _ => unreachable!("textual types handled above"),
    })
}

/// A keyed permutation of the integers of `bits` width that keeps the sign: non-negative
/// values map to non-negative ones (and negative to negative), bijectively. Balanced
/// 4-round Feistel network over `bits` bits with HMAC round functions, cycle-walking
/// until the result is below 2^(bits-1).
pub(crate) fn feistel_int(keyed: &Keyed, n: i64, bits: u32) -> i64 {
    let negative = n < 0;
    let mut x = if negative { !n } else { n } as u64;
    let half = bits / 2;
    let mask = if half == 32 {
        u32::MAX as u64
    } else {
        (1u64 << half) - 1
    };
    let limit = 1u64 << (bits - 1);
    loop {
        let (mut left, mut right) = (x >> half, x & mask);
        for round in 0u8..4 {
            let mut input = [0u8; 9];
            input[0] = round;
            input[1..].copy_from_slice(&right.to_be_bytes());
            let f = keyed.digest_parts(b"feistel", &input);
            let f = u64::from_le_bytes(f[..8].try_into().expect("eight bytes")) & mask;
            (left, right) = (right, left ^ f);
        }
        x = (left << half) | right;
        if x < limit {
            break;
        }
    }
    if negative { !(x as i64) } else { x as i64 }
}

/// Write n / 10^scale as plain decimal text.
fn write_scaled(buf: &mut Vec<u8>, n: i128, scale: u32) {
    let start = buf.len();
    if n < 0 {
        buf.push(b'-');
    }
    let digits = n.unsigned_abs().to_string();
    let scale = scale as usize;
    if scale == 0 {
        buf.extend_from_slice(digits.as_bytes());
        return;
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    buf.extend_from_slice(int.as_bytes());
    buf.push(b'.');
    buf.extend_from_slice(frac.as_bytes());
    debug_assert!(buf.len() > start);
}

/// floor(value / width) * width for a decimal `value` of any length (PostgreSQL's numeric has
/// up to 131072 digits before the point and 16383 after), `width` = `width_digits`
/// × 10^-`width_scale` (at most 36 digits). Written with the value's own scale (at least the
/// width's) into `out`. `toward_zero` truncates instead of flooring.
///
/// With S the common scale and k = S - `width_scale`, the value is the integer V = Q·10^k + L
/// (L its last k digits) and the width W = w·10^k, so V mod W = (Q mod w)·10^k + L: only a
/// remainder by a small `w` is computed, digit by digit.
fn bucket_decimal(
    text: &str,
    width_digits: i128,
    width_scale: u32,
    toward_zero: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    if width_digits <= 0 || !value::valid_numeric_text(text) {
        return None;
    }
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches(['-', '+']);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let width_scale = width_scale as usize;
    let scale = frac.len().max(width_scale);
    // All digits of V, the value scaled to `scale`.
    let mut all: Vec<u8> = Vec::with_capacity(int.len() + scale);
    all.extend(int.bytes().chain(frac.bytes()).map(|b| b - b'0'));
    all.resize(int.len() + scale, 0);
    let k = scale - width_scale;
    let (q, low) = all.split_at(all.len() - k);
    let mut rem: i128 = 0;
    for &d in q {
        rem = (rem * 10 + d as i128) % width_digits;
    }
    let inexact = rem != 0 || low.iter().any(|&d| d != 0);
    // M = Q - (Q mod w), plus w when flooring a negative value that is not a multiple.
    let mut m: Vec<u8> = q.to_vec();
    sub_small(&mut m, rem);
    if negative && inexact && !toward_zero {
        add_small(&mut m, width_digits);
    }
    // The result is M·10^-width_scale, printed with `scale` decimals.
    let first = m.iter().position(|&d| d != 0);
    let Some(first) = first else {
        // Zero: printed as PostgreSQL prints a zero of this scale.
        out.push(b'0');
        if scale > 0 {
            out.push(b'.');
            out.resize(out.len() + scale, b'0');
        }
        return Some(());
    };
    if negative {
        out.push(b'-');
    }
    let m = &m[first..];
    let int_len = m.len().saturating_sub(width_scale);
    if int_len == 0 {
        out.push(b'0');
    } else {
        out.extend(m[..int_len].iter().map(|d| b'0' + d));
    }
    if scale > 0 {
        out.push(b'.');
        let frac_digits = &m[int_len..];
        out.resize(out.len() + (width_scale - frac_digits.len()), b'0');
        out.extend(frac_digits.iter().map(|d| b'0' + d));
        out.resize(out.len() + (scale - width_scale), b'0');
    }
    Some(())
}

/// `digits -= n` for a non-negative `n` no larger than the number they spell.
fn sub_small(digits: &mut [u8], mut n: i128) {
    for d in digits.iter_mut().rev() {
        if n == 0 {
            return;
        }
        let take = (n % 10) as i8;
        n /= 10;
        let mut v = *d as i8 - take;
        if v < 0 {
            v += 10;
            n += 1;
        }
        *d = v as u8;
    }
}

/// `digits += n`, growing at the front when it carries out.
fn add_small(digits: &mut Vec<u8>, mut n: i128) {
    for d in digits.iter_mut().rev() {
        if n == 0 {
            return;
        }
        let v = *d as i128 + n % 10;
        n /= 10;
        *d = (v % 10) as u8;
        n += v / 10;
    }
    while n > 0 {
        digits.insert(0, (n % 10) as u8);
        n /= 10;
    }
}

/// Plain decimal text to (mantissa, scale), at most 36 significant digits.
fn parse_decimal(text: &str) -> Option<(i128, u32)> {
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches(['-', '+']);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    if int.len() + frac.len() > 36 || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut mantissa: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        mantissa = mantissa * 10 + (b - b'0') as i128;
    }
    Some((
        if negative { -mantissa } else { mantissa },
        frac.len() as u32,
    ))
}

/// `generalise` to buckets: floor(value / width) * width, or towards zero when flooring
/// would leave the column's range.
fn bucket<'c>(
    ty: &SqlType,
    input: Val<'c>,
    width: f64,
    decimal: (i128, u32),
    buf: &'c mut Vec<u8>,
) -> Result<Val<'c>, TransformError> {
    Ok(match input {
        Val::Int(n) => {
            let w = width as i64;
            let (min, max) = match ty.base {
                BaseType::Int2 => (i16::MIN as i64, i16::MAX as i64),
                BaseType::Int4 => (i32::MIN as i64, i32::MAX as i64),
                _ => (i64::MIN, i64::MAX),
            };
            let floored = n
                .div_euclid(w)
                .checked_mul(w)
                .filter(|v| (min..=max).contains(v));
            Val::Int(floored.unwrap_or((n / w) * w))
        }
        Val::Float(x) if x.is_finite() => {
            let floored = (x / width).floor() * width;
            if ty.base == BaseType::Float4 && !(floored as f32).is_finite() {
                Val::Float((x / width).trunc() * width)
            } else {
                Val::Float(floored)
            }
        }
        Val::Numeric(text) if !matches!(text, "NaN" | "Infinity" | "-Infinity") => {
            let (width, width_scale) = decimal;
            let floored = |toward_zero: bool, buf: &mut Vec<u8>| {
                buf.clear();
                bucket_decimal(text, width, width_scale, toward_zero, buf)
                    .ok_or_else(|| fail("a `numeric` value is not a plain decimal".into()))
            };
            floored(false, buf)?;
            let fits = ty.numeric.is_none_or(|(p, s)| {
                value::numeric_fits(std::str::from_utf8(buf).expect("ascii"), p, s)
            });
            if !fits {
                floored(true, buf)?;
            }
            Val::Numeric(std::str::from_utf8(buf).expect("ascii"))
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_into_is_unicode_to_lowercase() {
        let mut lower = String::from("left over");
        for text in [
            "",
            "bob@example.com",
            "Bob@Example.COM",
            "MiXeD.Case_123+tag@Sub.Example.ORG",
            "ÉLODIE@exemple.fr",
            "İstanbul@örnek.com.TR",
            "ΣΟΦΙΑ@παράδειγμα.gr",
            "ẞtraße@beispiel.DE",
            "\u{0}\u{7f}@A",
            "ǅemal@x.y",
        ] {
            lower_case_into(text, &mut lower);
            let expected: String = text.chars().flat_map(char::to_lowercase).collect();
            assert_eq!(lower, expected, "{text}");
        }
    }
}
