//! Field values decoded from COPY text or binary format into typed `Val`s, encoded back,
//! and their canonical bytes (the same whichever format a value arrived in) for the HMAC.

use std::io::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Format, TransformError};
use crate::sqltype::{BaseType, SqlType};

/// Days from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
pub(crate) const PG_EPOCH_UNIX_DAYS: i64 = 10_957;
pub(crate) const USECS_PER_DAY: i64 = 86_400_000_000;
/// First and last valid `date` (days since 2000-01-01): 4714-11-24 BC and 5874897-12-31.
pub(crate) const DATE_MIN: i32 = -2_451_545;
pub(crate) const DATE_MAX: i32 = 2_145_031_948;
/// Valid `timestamp` range in µs since 2000-01-01: 4714-11-24 BC .. 294276-12-31.
pub(crate) const TS_MIN: i64 = -211_813_488_000_000_000;
pub(crate) const TS_MAX: i64 = 9_223_371_331_199_999_999;

/// One decoded value. Textual types, enums and json carry their text; numerics their
/// canonical decimal text; dates and timestamps PostgreSQL's internal integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Numeric(&'a str),
    Bool(bool),
    /// Days since 2000-01-01; `i32::MIN`/`i32::MAX` are -infinity/infinity.
    Date(i32),
    /// µs since 2000-01-01 (UTC for timestamptz); `i64::MIN`/`i64::MAX` are ±infinity.
    Ts(i64),
    Uuid([u8; 16]),
    Inet(Inet),
    Bytes(&'a [u8]),
}

/// An inet/cidr value: address bytes (first 4 used for IPv4) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inet {
    pub v6: bool,
    pub bits: u8,
    pub addr: [u8; 16],
}

impl Inet {
    pub fn max_bits(&self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }
}

fn bad(base: &BaseType, format: Format) -> TransformError {
    let form = match format {
        Format::Text => "text",
        Format::Binary => "binary",
    };
    TransformError(format!(
        "invalid `{}` value in {form} format",
        type_name(base)
    ))
}

pub(crate) fn type_name(base: &BaseType) -> &str {
    match base {
        BaseType::Text => "text",
        BaseType::Varchar => "varchar",
        BaseType::Bpchar => "char",
        BaseType::Citext => "citext",
        BaseType::Name => "name",
        BaseType::Uuid => "uuid",
        BaseType::Inet => "inet",
        BaseType::Cidr => "cidr",
        BaseType::Date => "date",
        BaseType::Timestamp => "timestamp",
        BaseType::Timestamptz => "timestamptz",
        BaseType::Int2 => "int2",
        BaseType::Int4 => "int4",
        BaseType::Int8 => "int8",
        BaseType::Numeric => "numeric",
        BaseType::Float4 => "float4",
        BaseType::Float8 => "float8",
        BaseType::Bool => "bool",
        BaseType::Bytea => "bytea",
        BaseType::Json => "json",
        BaseType::Jsonb => "jsonb",
        BaseType::Enum => "enum",
        BaseType::Other(name) => name,
    }
}

/// Decode one (non-array) field. `scratch` holds decoded bytes for types whose value
/// needs conversion (bytea in text, numeric in binary).
pub(crate) fn decode<'a>(
    base: &BaseType,
    format: Format,
    bytes: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Result<Val<'a>, TransformError> {
    let err = || bad(base, format);
    match format {
        Format::Text => {
            if *base == BaseType::Bytea {
                scratch.clear();
                let hex = bytes.strip_prefix(b"\\x").ok_or_else(err)?;
                if hex.len() % 2 != 0 {
                    return Err(err());
                }
                for pair in hex.chunks_exact(2) {
                    let hi = hex_val(pair[0]).ok_or_else(err)?;
                    let lo = hex_val(pair[1]).ok_or_else(err)?;
                    scratch.push(hi << 4 | lo);
                }
                return Ok(Val::Bytes(scratch));
            }
            let text = std::str::from_utf8(bytes).map_err(|_| err())?;
            parse_text(base, text).ok_or_else(err)
        }
        Format::Binary => decode_binary(base, bytes, scratch).ok_or_else(err),
    }
}

/// Parse PostgreSQL's text output (or input syntax) of a scalar.
pub(crate) fn parse_text<'a>(base: &BaseType, text: &'a str) -> Option<Val<'a>> {
    Some(match base {
        BaseType::Text
        | BaseType::Varchar
        | BaseType::Bpchar
        | BaseType::Citext
        | BaseType::Name
        | BaseType::Enum
        | BaseType::Json
        | BaseType::Jsonb
        | BaseType::Other(_) => Val::Text(text),
        BaseType::Int2 => Val::Int(text.trim().parse::<i16>().ok()?.into()),
        BaseType::Int4 => Val::Int(text.trim().parse::<i32>().ok()?.into()),
        BaseType::Int8 => Val::Int(text.trim().parse::<i64>().ok()?),
        BaseType::Float4 => Val::Float(parse_float(text)? as f32 as f64),
        BaseType::Float8 => Val::Float(parse_float(text)?),
        BaseType::Numeric => {
            let text = text.trim();
            if !valid_numeric_text(text) {
                return None;
            }
            Val::Numeric(text)
        }
        BaseType::Bool => match text.trim() {
            "t" | "true" | "TRUE" | "True" | "yes" | "on" | "1" => Val::Bool(true),
            "f" | "false" | "FALSE" | "False" | "no" | "off" | "0" => Val::Bool(false),
            _ => return None,
        },
        BaseType::Date => Val::Date(parse_date(text.trim())?),
        BaseType::Timestamp | BaseType::Timestamptz => Val::Ts(parse_timestamp(text.trim())?),
        BaseType::Uuid => Val::Uuid(parse_uuid(text.trim())?),
        BaseType::Inet | BaseType::Cidr => {
            let inet = parse_inet(text.trim())?;
            if *base == BaseType::Cidr && !host_bits_zero(&inet) {
                return None;
            }
            Val::Inet(inet)
        }
        BaseType::Bytea => return None,
    })
}

fn decode_binary<'a>(
    base: &BaseType,
    bytes: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Option<Val<'a>> {
    Some(match base {
        BaseType::Text
        | BaseType::Varchar
        | BaseType::Bpchar
        | BaseType::Citext
        | BaseType::Name
        | BaseType::Enum
        | BaseType::Json => Val::Text(std::str::from_utf8(bytes).ok()?),
        BaseType::Jsonb => {
            let (&version, rest) = bytes.split_first()?;
            if version != 1 {
                return None;
            }
            Val::Text(std::str::from_utf8(rest).ok()?)
        }
        BaseType::Int2 => Val::Int(i16::from_be_bytes(bytes.try_into().ok()?).into()),
        BaseType::Int4 => Val::Int(i32::from_be_bytes(bytes.try_into().ok()?).into()),
        BaseType::Int8 => Val::Int(i64::from_be_bytes(bytes.try_into().ok()?)),
        BaseType::Float4 => Val::Float(f32::from_be_bytes(bytes.try_into().ok()?).into()),
        BaseType::Float8 => Val::Float(f64::from_be_bytes(bytes.try_into().ok()?)),
        BaseType::Bool => match bytes {
            [0] => Val::Bool(false),
            [_] => Val::Bool(true),
            _ => return None,
        },
        BaseType::Date => Val::Date(i32::from_be_bytes(bytes.try_into().ok()?)),
        BaseType::Timestamp | BaseType::Timestamptz => {
            Val::Ts(i64::from_be_bytes(bytes.try_into().ok()?))
        }
        BaseType::Uuid => Val::Uuid(bytes.try_into().ok()?),
        BaseType::Bytea => Val::Bytes(bytes),
        BaseType::Inet | BaseType::Cidr => {
            let [family, bits, _is_cidr, n, addr @ ..] = bytes else {
                return None;
            };
            let v6 = match (*family, *n) {
                (2, 4) => false,
                (3, 16) => true,
                _ => return None,
            };
            if addr.len() != *n as usize || *bits > if v6 { 128 } else { 32 } {
                return None;
            }
            let mut inet = Inet {
                v6,
                bits: *bits,
                addr: [0; 16],
            };
            inet.addr[..addr.len()].copy_from_slice(addr);
            Val::Inet(inet)
        }
        BaseType::Numeric => {
            scratch.clear();
            numeric_binary_to_text(bytes, scratch)?;
            Val::Numeric(std::str::from_utf8(scratch).ok()?)
        }
        BaseType::Other(_) => return None,
    })
}

/// Append `val` encoded for a column of type `ty` in `format`.
pub(crate) fn encode(
    ty: &SqlType,
    format: Format,
    val: &Val<'_>,
    out: &mut Vec<u8>,
) -> Result<(), TransformError> {
    let err = || {
        TransformError(format!(
            "internal error: cannot encode a value as `{}`",
            type_name(&ty.base)
        ))
    };
    match format {
        Format::Text => match *val {
            Val::Text(text) | Val::Numeric(text) => out.extend_from_slice(text.as_bytes()),
            Val::Int(n) => write_int(out, n),
            Val::Float(x) => write_float(out, x, ty.base == BaseType::Float4),
            Val::Bool(b) => out.push(if b { b't' } else { b'f' }),
            Val::Date(days) => write_date(out, days),
            Val::Ts(us) => write_timestamp(out, us, ty.base == BaseType::Timestamptz),
            Val::Uuid(bytes) => write_uuid(out, &bytes),
            Val::Inet(inet) => write_inet(out, &inet, ty.base == BaseType::Cidr),
            Val::Bytes(bytes) => {
                out.extend_from_slice(b"\\x");
                write_hex(out, bytes);
            }
        },
        Format::Binary => match (&ty.base, *val) {
            (BaseType::Jsonb, Val::Text(text)) => {
                out.push(1);
                out.extend_from_slice(text.as_bytes());
            }
            (_, Val::Text(text)) => out.extend_from_slice(text.as_bytes()),
            (BaseType::Int2, Val::Int(n)) => {
                out.extend_from_slice(&(i16::try_from(n).map_err(|_| err())?).to_be_bytes())
            }
            (BaseType::Int4, Val::Int(n)) => {
                out.extend_from_slice(&(i32::try_from(n).map_err(|_| err())?).to_be_bytes())
            }
            (BaseType::Int8, Val::Int(n)) => out.extend_from_slice(&n.to_be_bytes()),
            (BaseType::Float4, Val::Float(x)) => out.extend_from_slice(&(x as f32).to_be_bytes()),
            (BaseType::Float8, Val::Float(x)) => out.extend_from_slice(&x.to_be_bytes()),
            (BaseType::Numeric, Val::Numeric(text)) => {
                numeric_text_to_binary(text, out).ok_or_else(err)?
            }
            (BaseType::Bool, Val::Bool(b)) => out.push(b as u8),
            (BaseType::Date, Val::Date(days)) => out.extend_from_slice(&days.to_be_bytes()),
            (BaseType::Timestamp | BaseType::Timestamptz, Val::Ts(us)) => {
                out.extend_from_slice(&us.to_be_bytes())
            }
            (BaseType::Uuid, Val::Uuid(bytes)) => out.extend_from_slice(&bytes),
            (BaseType::Bytea, Val::Bytes(bytes)) => out.extend_from_slice(bytes),
            (BaseType::Inet | BaseType::Cidr, Val::Inet(inet)) => {
                let n = if inet.v6 { 16 } else { 4 };
                out.extend_from_slice(&[
                    if inet.v6 { 3 } else { 2 },
                    inet.bits,
                    (ty.base == BaseType::Cidr) as u8,
                    n as u8,
                ]);
                out.extend_from_slice(&inet.addr[..n]);
            }
            _ => return Err(err()),
        },
    }
    Ok(())
}

/// The canonical bytes of a value for the HMAC: identical for the text and binary forms
/// of the same value. Integers of every width share one form (so an `int4` foreign key to
/// an `int8` key gets the same pseudonym), as do all textual types.
pub(crate) fn canonical<'a>(val: &Val<'a>, small: &'a mut [u8; 20]) -> &'a [u8] {
    match *val {
        Val::Text(text) | Val::Numeric(text) => text.as_bytes(),
        Val::Bytes(bytes) => bytes,
        Val::Int(n) => {
            small[..8].copy_from_slice(&n.to_be_bytes());
            &small[..8]
        }
        Val::Float(x) => {
            small[..8].copy_from_slice(&x.to_bits().to_be_bytes());
            &small[..8]
        }
        Val::Bool(b) => {
            small[0] = b as u8;
            &small[..1]
        }
        Val::Date(days) => {
            small[..4].copy_from_slice(&days.to_be_bytes());
            &small[..4]
        }
        Val::Ts(us) => {
            small[..8].copy_from_slice(&us.to_be_bytes());
            &small[..8]
        }
        Val::Uuid(bytes) => {
            small[..16].copy_from_slice(&bytes);
            &small[..16]
        }
        Val::Inet(inet) => {
            let n = if inet.v6 { 16 } else { 4 };
            small[0] = inet.v6 as u8;
            small[1] = inet.bits;
            small[2..2 + n].copy_from_slice(&inet.addr[..n]);
            &small[..2 + n]
        }
    }
}

pub(crate) fn hex_val(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex digits of `bytes`, built 32 bytes at a time on the stack (one copy into
/// `out` per chunk rather than a push per digit).
pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 * bytes.len());
    for chunk in bytes.chunks(32) {
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(chunk) {
            pair[0] = DIGITS[(byte >> 4) as usize];
            pair[1] = DIGITS[(byte & 15) as usize];
        }
        out.extend_from_slice(&hex[..2 * chunk.len()]);
    }
}

pub(crate) fn write_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut magnitude = n.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
}

fn write_float(out: &mut Vec<u8>, x: f64, single: bool) {
    if x.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if x.is_infinite() {
        out.extend_from_slice(if x > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else if single {
        let _ = write!(out, "{}", x as f32);
    } else {
        let _ = write!(out, "{x}");
    }
}

fn parse_float(text: &str) -> Option<f64> {
    match text.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// Plain decimal (`-12.50`), or `NaN`/`Infinity`/`-Infinity`. No exponent.
pub(crate) fn valid_numeric_text(text: &str) -> bool {
    if matches!(text, "NaN" | "Infinity" | "-Infinity") {
        return true;
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Does a numeric's decimal text fit `numeric(precision, scale)` without rounding?
pub(crate) fn numeric_fits(text: &str, precision: u16, scale: u16) -> bool {
    if matches!(text, "NaN") {
        return true;
    }
    if !valid_numeric_text(text) || text.contains("Infinity") {
        return false;
    }
    let digits = text.trim_start_matches(['-', '+']);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    frac.len() <= scale as usize && int.len() + scale as usize <= precision as usize
}

/// PostgreSQL's `numeric_send` bytes to the text `numeric_out` would print.
fn numeric_binary_to_text(bytes: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let field = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes(bytes.get(i..i + 2)?.try_into().ok()?))
    };
    let ndigits = field(0)? as usize;
    let weight = field(2)? as i16 as i32;
    let sign = field(4)?;
    let dscale = field(6)? as i32;
    if bytes.len() != 8 + 2 * ndigits {
        return None;
    }
    match sign {
        0xC000 => {
            out.extend_from_slice(b"NaN");
            return Some(());
        }
        0xD000 => {
            out.extend_from_slice(b"Infinity");
            return Some(());
        }
        0xF000 => {
            out.extend_from_slice(b"-Infinity");
            return Some(());
        }
        0x4000 => out.push(b'-'),
        0 => {}
        _ => return None,
    }
    let digit = |i: i32| -> Option<u16> {
        if i < 0 || i as usize >= ndigits {
            return Some(0);
        }
        let d = field(8 + 2 * i as usize)?;
        (d < 10_000).then_some(d)
    };
    if weight < 0 {
        out.push(b'0');
    } else {
        for i in 0..=weight {
            let d = digit(i)?;
            if i == 0 {
                write_int(out, d as i64);
            } else {
                let _ = write!(out, "{d:04}");
            }
        }
    }
    if dscale > 0 {
        out.push(b'.');
        let mut written = 0;
        let mut i = weight + 1;
        while written < dscale {
            let d = digit(i)?;
            let group = [
                b'0' + (d / 1000) as u8,
                b'0' + (d / 100 % 10) as u8,
                b'0' + (d / 10 % 10) as u8,
                b'0' + (d % 10) as u8,
            ];
            let take = (dscale - written).min(4) as usize;
            out.extend_from_slice(&group[..take]);
            written += take as i32;
            i += 1;
        }
    }
    Some(())
}

/// Decimal text (as `valid_numeric_text`) to `numeric_recv` bytes.
pub(crate) fn numeric_text_to_binary(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let header = |out: &mut Vec<u8>, ndigits: u16, weight: i16, sign: u16, dscale: u16| {
        out.extend_from_slice(&ndigits.to_be_bytes());
        out.extend_from_slice(&weight.to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
    };
    match text {
        "NaN" => {
            header(out, 0, 0, 0xC000, 0);
            return Some(());
        }
        "Infinity" => {
            header(out, 0, 0, 0xD000, 0);
            return Some(());
        }
        "-Infinity" => {
            header(out, 0, 0, 0xF000, 0);
            return Some(());
        }
        _ => {}
    }
    if !valid_numeric_text(text) {
        return None;
    }
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches(['-', '+']);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let dscale = frac.len();
    // Base-10000 groups aligned on the decimal point.
    let int_groups = int.len().div_ceil(4);
    let frac_groups = frac.len().div_ceil(4);
    let mut groups: Vec<u16> = Vec::with_capacity(int_groups + frac_groups);
    let pad = int_groups * 4 - int.len();
    let mut acc = 0u16;
    for (i, b) in int.bytes().enumerate() {
        acc = acc * 10 + (b - b'0') as u16;
        if (i + pad + 1) % 4 == 0 {
            groups.push(acc);
            acc = 0;
        }
    }
    for chunk in frac.as_bytes().chunks(4) {
        let mut group = 0u16;
        for i in 0..4 {
            group = group * 10 + chunk.get(i).map_or(0, |b| (b - b'0') as u16);
        }
        groups.push(group);
    }
    let mut weight = int_groups as i32 - 1;
    let mut start = 0;
    while start < groups.len() && groups[start] == 0 {
        start += 1;
        weight -= 1;
    }
    let mut end = groups.len();
    while end > start && groups[end - 1] == 0 {
        end -= 1;
    }
    let kept = &groups[start..end];
    if kept.is_empty() {
        header(out, 0, 0, 0, dscale as u16);
        return Some(());
    }
    header(
        out,
        kept.len() as u16,
        weight as i16,
        if negative { 0x4000 } else { 0 },
        dscale as u16,
    );
    for group in kept {
        out.extend_from_slice(&group.to_be_bytes());
    }
    Some(())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of days since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + (month <= 2) as i64;
    (year, month, day)
}

/// PostgreSQL date (days since 2000-01-01) of a civil date.
pub(crate) fn pg_date(year: i64, month: u32, day: u32) -> i64 {
    days_from_civil(year, month, day) - PG_EPOCH_UNIX_DAYS
}

pub(crate) fn pg_civil(days: i64) -> (i64, u32, u32) {
    civil_from_days(days + PG_EPOCH_UNIX_DAYS)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// `YYYY-MM-DD` with an optional ` BC`, or `infinity`/`-infinity`.
pub(crate) fn parse_date(text: &str) -> Option<i32> {
    let (text, bc) = match infinity_or_era(text) {
        Err(infinite) => return Some(if infinite > 0 { i32::MAX } else { i32::MIN }),
        Ok(found) => found,
    };
    let (days, rest) = parse_ymd(text, bc)?;
    if !rest.is_empty() {
        return None;
    }
    i32::try_from(days)
        .ok()
        .filter(|d| (DATE_MIN..=DATE_MAX).contains(d))
}

/// `Err(+1)` / `Err(-1)` for `infinity` / `-infinity`; otherwise the text without a trailing
/// ` BC`, and whether it had one.
fn infinity_or_era(text: &str) -> Result<(&str, bool), i8> {
    match text {
        "infinity" => Err(1),
        "-infinity" => Err(-1),
        _ => Ok(match text.strip_suffix(" BC") {
            Some(rest) => (rest, true),
            None => (text, false),
        }),
    }
}

fn parse_ymd(text: &str, bc: bool) -> Option<(i64, &str)> {
    let (year, rest) = text.split_once('-')?;
    if year.is_empty() || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = year.parse().ok()?;
    let month: u32 = rest.get(0..2)?.parse().ok()?;
    if rest.as_bytes().get(2) != Some(&b'-') {
        return None;
    }
    let day: u32 = rest.get(3..5)?.parse().ok()?;
    let year = if bc { 1 - year } else { year };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some((pg_date(year, month, day), &rest[5..]))
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]` (a `T` separator and `Z` are accepted).
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let (text, bc) = match infinity_or_era(text) {
        Err(infinite) => return Some(if infinite > 0 { i64::MAX } else { i64::MIN }),
        Ok(found) => found,
    };
    let (days, rest) = parse_ymd(text, bc)?;
    let mut micros = days.checked_mul(USECS_PER_DAY)?;
    if rest.is_empty() {
        return Some(micros);
    }
    let rest = rest.strip_prefix([' ', 'T'])?;
    let hour: i64 = rest.get(0..2)?.parse().ok()?;
    let minute: i64 = rest.get(3..5)?.parse().ok()?;
    let second: i64 = rest.get(6..8)?.parse().ok()?;
    if rest.as_bytes().get(2) != Some(&b':') || rest.as_bytes().get(5) != Some(&b':') {
        return None;
    }
    if hour > 24 || minute > 59 || second > 60 {
        return None;
    }
    micros += ((hour * 60 + minute) * 60 + second) * 1_000_000;
    let mut rest = &rest[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        let digits = &frac[..end];
        if digits.is_empty() || digits.len() > 6 {
            return None;
        }
        let mut value: i64 = digits.parse().ok()?;
        for _ in digits.len()..6 {
            value *= 10;
        }
        micros += value;
        rest = &frac[end..];
    }
    if rest == "Z" {
        return Some(micros);
    }
    if let Some(sign) = rest.chars().next().filter(|c| *c == '+' || *c == '-') {
        let mut seconds = 0i64;
        let mut unit = 3600;
        for part in rest[1..].split(':') {
            if unit == 0 || part.len() != 2 {
                return None;
            }
            seconds += part.parse::<i64>().ok()? * unit;
            unit /= 60;
        }
        let delta = seconds * 1_000_000;
        micros = if sign == '+' {
            micros - delta
        } else {
            micros + delta
        };
        rest = "";
    }
    rest.is_empty().then_some(micros)
}

pub(crate) fn write_date(out: &mut Vec<u8>, days: i32) {
    match days {
        i32::MAX => return out.extend_from_slice(b"infinity"),
        i32::MIN => return out.extend_from_slice(b"-infinity"),
        _ => {}
    }
    let (year, month, day) = pg_civil(days as i64);
    write_ymd(out, year, month, day);
    if year <= 0 {
        out.extend_from_slice(b" BC");
    }
}

fn write_ymd(out: &mut Vec<u8>, year: i64, month: u32, day: u32) {
    let shown = if year <= 0 { 1 - year } else { year };
    let _ = write!(out, "{shown:04}-{month:02}-{day:02}");
}

pub(crate) fn write_timestamp(out: &mut Vec<u8>, micros: i64, tz: bool) {
    match micros {
        i64::MAX => return out.extend_from_slice(b"infinity"),
        i64::MIN => return out.extend_from_slice(b"-infinity"),
        _ => {}
    }
    let days = micros.div_euclid(USECS_PER_DAY);
    let in_day = micros.rem_euclid(USECS_PER_DAY);
    let (year, month, day) = pg_civil(days);
    write_ymd(out, year, month, day);
    let seconds = in_day / 1_000_000;
    let fraction = in_day % 1_000_000;
    let _ = write!(
        out,
        " {:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let mut digits = [0u8; 6];
        let mut value = fraction;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        let len = 6 - digits.iter().rev().take_while(|d| **d == b'0').count();
        out.push(b'.');
        out.extend_from_slice(&digits[..len]);
    }
    if tz {
        out.extend_from_slice(b"+00");
    }
    if year <= 0 {
        out.extend_from_slice(b" BC");
    }
}

pub(crate) fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let mut bytes = [0u8; 16];
    let mut nibbles = 0;
    for b in text.bytes() {
        if b == b'-' {
            continue;
        }
        if nibbles == 32 {
            return None;
        }
        let value = hex_val(b)?;
        bytes[nibbles / 2] |= if nibbles % 2 == 0 { value << 4 } else { value };
        nibbles += 1;
    }
    (nibbles == 32).then_some(bytes)
}

pub(crate) fn write_uuid(out: &mut Vec<u8>, bytes: &[u8; 16]) {
    write_hex(out, &bytes[0..4]);
    out.push(b'-');
    write_hex(out, &bytes[4..6]);
    out.push(b'-');
    write_hex(out, &bytes[6..8]);
    out.push(b'-');
    write_hex(out, &bytes[8..10]);
    out.push(b'-');
    write_hex(out, &bytes[10..16]);
}

pub(crate) fn parse_inet(text: &str) -> Option<Inet> {
    let (addr, bits) = match text.split_once('/') {
        Some((addr, bits)) => (addr, Some(bits.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let mut inet = Inet {
        v6: false,
        bits: 0,
        addr: [0; 16],
    };
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        inet.addr[..4].copy_from_slice(&v4.octets());
    } else {
        let v6: Ipv6Addr = addr.parse().ok()?;
        inet.v6 = true;
        inet.addr = v6.octets();
    }
    inet.bits = bits.unwrap_or(inet.max_bits());
    (inet.bits <= inet.max_bits()).then_some(inet)
}

pub(crate) fn host_bits_zero(inet: &Inet) -> bool {
    let n = if inet.v6 { 16 } else { 4 };
    (0..n * 8).all(|bit| bit < inet.bits as usize || inet.addr[bit / 8] & (0x80 >> (bit % 8)) == 0)
}

/// Clear the bits after the prefix length (for `cidr`).
pub(crate) fn clear_host_bits(inet: &mut Inet) {
    for bit in inet.bits as usize..inet.max_bits() as usize {
        inet.addr[bit / 8] &= !(0x80 >> (bit % 8));
    }
}

pub(crate) fn write_inet(out: &mut Vec<u8>, inet: &Inet, cidr: bool) {
    if inet.v6 {
        let _ = write!(out, "{}", Ipv6Addr::from(inet.addr));
    } else {
        for (i, octet) in inet.addr[..4].iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            write_int(out, i64::from(*octet));
        }
    }
    if cidr || inet.bits != inet.max_bits() {
        out.push(b'/');
        write_int(out, i64::from(inet.bits));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_hex_matches_two_digits_per_byte() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in (0..80).chain([255, 256, 511, 512]) {
            let mut out = b"\\x".to_vec();
            write_hex(&mut out, &bytes[..len]);
            let expected: String = bytes[..len].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(out, format!("\\x{expected}").into_bytes());
        }
    }

    #[test]
    fn write_inet_matches_formatting_with_display() {
        let mut out = Vec::new();
        for (i, octets) in (0..=255u8)
            .map(|n| [n, 255 - n, n / 10, n % 100])
            .chain([[0; 4], [255; 4], [10, 0, 0, 1]])
            .enumerate()
        {
            let mut addr = [0u8; 16];
            addr[..4].copy_from_slice(&octets);
            for (bits, cidr) in [(32, false), (32, true), (8, true), ((i % 33) as u8, false)] {
                out.clear();
                write_inet(
                    &mut out,
                    &Inet {
                        v6: false,
                        bits,
                        addr,
                    },
                    cidr,
                );
                let [a, b, c, d] = octets;
                let mut expected = format!("{a}.{b}.{c}.{d}");
                if cidr || bits != 32 {
                    expected.push_str(&format!("/{bits}"));
                }
                assert_eq!(String::from_utf8_lossy(&out), expected);
            }
        }
    }
}
