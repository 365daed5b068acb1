//! The transform engine: one `ColumnTransform` per transformed column, applied to field
//! values as they travel in COPY's text or binary format. Pure: no IO.

mod array;
mod fake;
mod json;
mod scalar;
mod value;
pub(crate) use value::{parse_date, parse_timestamp, write_date, write_timestamp};
mod xml;

use sha2::block_api::compress256;

use crate::policy::model::{Rule, Strategy};
use crate::sqltype::{BaseType, SqlType};
use scalar::Scalar;

/// bcrypt (cost 12) of the development password `password`: the usual `const` for
/// password-digest columns, so every pulled account can sign in locally with `password`.
/// Verified with both libxcrypt and pgcrypto's `crypt('password', hash) = hash`.
pub const DEV_PASSWORD_BCRYPT: &str =
    "$2a$12$tQLY7aa1kdfPJQ00iNDxPOTgd0sUkVew8RN3t3Q7Y.Y35T99orbha";

/// The project's secret key for deterministic pseudonyms. Never printed.
#[derive(Clone)]
pub struct Salt(Vec<u8>);

impl Salt {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Salt {
        Salt(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salt(<redacted>)")
    }
}

/// The COPY format a field value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// COPY text format; values handed to `apply` are already unescaped, and the
    /// output is unescaped too (the row codec escapes it).
    Text,
    /// COPY binary format: the type's send/recv representation.
    Binary,
}

/// What `apply` produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Null,
    /// The value was appended to the output buffer.
    Value,
}

/// A value could not be decoded or transformed. Never carries the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

/// The transform of one column: decodes each field (text or binary COPY format), applies
/// the column's rule and encodes the result in the same format.
///
/// NULL stays NULL for every strategy except `const`, which writes its literal for every
/// row (NULLs included). Arrays are transformed element by element (NULL elements stay
/// NULL); `const` on an array column is the whole array literal.
pub struct ColumnTransform {
    format: Format,
    /// Element type of arrays, the column type otherwise (never an array).
    elem_ty: SqlType,
    array: bool,
    scalar: Scalar,
    /// `const` on an array column: the literal in text and binary form (binary without oid).
    const_array: Option<(Vec<u8>, Vec<u8>)>,
    last_oid: u32,
    dec: Vec<u8>,
    buf: Vec<u8>,
    elem_in: Vec<u8>,
    elem_out: Vec<u8>,
}

impl ColumnTransform {
    /// `rule`: the column's rule (model.rs); `column_type`: its resolved type (sqltype.rs);
    /// `format`: the COPY format fields arrive and leave in (decided per table by the pipeline).
    pub fn new(
        rule: &Rule,
        column_type: &SqlType,
        format: Format,
        salt: &Salt,
    ) -> Result<ColumnTransform, TransformError> {
        if format == Format::Binary && !supports_binary(column_type) {
            return Err(TransformError(format!(
                "internal error: `{}` columns must be transformed in text format",
                column_type.display
            )));
        }
        let mut elem_ty = column_type.clone();
        elem_ty.array = false;
        let mut const_array = None;
        let scalar = match &rule.strategy {
            Strategy::Const(literal) if column_type.array => {
                if rule.unique {
                    return Err(TransformError(format!(
                        "`const` cannot keep `{}` values unique",
                        column_type.display
                    )));
                }
                let binary = array::text_to_binary(literal.as_bytes(), |text, out| {
                    let text =
                        std::str::from_utf8(text).map_err(|_| invalid_array_const(column_type))?;
                    // Array elements are read by PostgreSQL as they are written: hex only.
                    if elem_ty.base == BaseType::Bytea && !text.starts_with("\\x") {
                        return Err(invalid_array_const(column_type));
                    }
                    let stored = scalar::validate_const(&elem_ty, text)
                        .map_err(|_| invalid_array_const(column_type))?;
                    let val = if elem_ty.base == BaseType::Bytea {
                        value::Val::Bytes(&stored)
                    } else {
                        value::parse_text(&elem_ty.base, text)
                            .ok_or_else(|| invalid_array_const(column_type))?
                    };
                    value::encode(&elem_ty, Format::Binary, &val, out)
                })
                .map_err(|_| invalid_array_const(column_type))?;
                const_array = Some((literal.as_bytes().to_vec(), binary));
                let null_rule = Rule {
                    strategy: Strategy::Null,
                    unique: false,
                    reason: None,
                    not_sensitive: None,
                };
                Scalar::new(&null_rule, &elem_ty, salt)?
            }
            _ => Scalar::new(rule, &elem_ty, salt)?,
        };
        Ok(ColumnTransform {
            format,
            last_oid: builtin_oid(&elem_ty.base),
            elem_ty,
            array: column_type.array,
            scalar,
            const_array,
            dec: Vec::new(),
            buf: Vec::new(),
            elem_in: Vec::new(),
            elem_out: Vec::new(),
        })
    }

    /// `input`: None = SQL NULL; Some(bytes) = the value — in Text format already UNESCAPED text
    /// (PostgreSQL's text output, DateStyle ISO, TimeZone UTC, bytea_output hex, extra_float_digits 3),
    /// in Binary format the type's send() bytes. Appends the output value (same format, unescaped) to `out`
    /// and returns Written::Value, or returns Written::Null. `out` is reused across rows by the caller.
    pub fn apply(
        &mut self,
        input: Option<&[u8]>,
        out: &mut Vec<u8>,
    ) -> Result<Written, TransformError> {
        if let Some((text, binary)) = &self.const_array {
            match self.format {
                Format::Text => out.extend_from_slice(text),
                Format::Binary => {
                    if let Some(bytes) = input
                        && let Some(oid) = bytes.get(8..12)
                    {
                        self.last_oid = u32::from_be_bytes(oid.try_into().expect("four bytes"));
                    }
                    let start = out.len();
                    out.extend_from_slice(binary);
                    out[start + 8..start + 12].copy_from_slice(&self.last_oid.to_be_bytes());
                }
            }
            return Ok(Written::Value);
        }
        if !self.array
            && let Some(json) = self.scalar.json_mut()
        {
            let Some(input) = input else {
                return Ok(Written::Null);
            };
            let document = match (self.format, &self.elem_ty.base) {
                (Format::Binary, BaseType::Jsonb) => match input.split_first() {
                    Some((1, document)) => {
                        out.push(1);
                        document
                    }
                    _ => {
                        return Err(TransformError(
                            "malformed jsonb value (unknown version)".into(),
                        ));
                    }
                },
                _ => input,
            };
            json.transform(document, out)?;
            return Ok(Written::Value);
        }
        if !self.array {
            return apply_scalar(
                &mut self.scalar,
                &self.elem_ty,
                self.format,
                input,
                &mut self.dec,
                &mut self.buf,
                out,
            );
        }
        let Some(input) = input else {
            return Ok(Written::Null);
        };
        let start = out.len();
        let (scalar, elem_ty, dec, buf) = (
            &mut self.scalar,
            &self.elem_ty,
            &mut self.dec,
            &mut self.buf,
        );
        let format = self.format;
        let result = match format {
            Format::Text => array::transform_text(
                input,
                out,
                &mut self.elem_in,
                &mut self.elem_out,
                |elem, o| match elem {
                    None => Ok(Written::Null),
                    some => apply_scalar(scalar, elem_ty, format, some, dec, buf, o),
                },
            ),
            Format::Binary => array::transform_binary(input, out, |elem, o| match elem {
                None => Ok(Written::Null),
                some => apply_scalar(scalar, elem_ty, format, some, dec, buf, o),
            })
            .map(|oid| self.last_oid = oid),
        };
        if let Err(err) = result {
            out.truncate(start);
            return Err(err);
        }
        Ok(Written::Value)
    }
}

/// Can a transform of this type work on binary-format fields? (The pipeline uses text format for
/// a table when any transformed column's type returns false.)
///
/// False for types the engine does not know (`Other`), and for arrays of citext and enums,
/// whose element type oid a `const` array would need but cannot know.
pub fn supports_binary(column_type: &SqlType) -> bool {
    match column_type.base {
        BaseType::Other(_) => false,
        BaseType::Citext | BaseType::Enum => !column_type.array,
        _ => true,
    }
}

fn apply_scalar(
    scalar: &mut Scalar,
    elem_ty: &SqlType,
    format: Format,
    input: Option<&[u8]>,
    dec: &mut Vec<u8>,
    buf: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<Written, TransformError> {
    let produced = match input {
        None => scalar.null_output(buf),
        Some(bytes) => {
            let val = value::decode(&elem_ty.base, format, bytes, dec)?;
            scalar.produce(val, buf)?
        }
    };
    match produced {
        None => Ok(Written::Null),
        Some(val) => {
            value::encode(elem_ty, format, &val, out)?;
            Ok(Written::Value)
        }
    }
}

fn invalid_array_const(column_type: &SqlType) -> TransformError {
    TransformError(format!(
        "the `const` literal is not a valid `{}`",
        column_type.display
    ))
}

/// The oid of a built-in element type (for `const` arrays in binary format before any
/// non-NULL input showed the real one).
fn builtin_oid(base: &BaseType) -> u32 {
    match base {
        BaseType::Bool => 16,
        BaseType::Bytea => 17,
        BaseType::Name => 19,
        BaseType::Int8 => 20,
        BaseType::Int2 => 21,
        BaseType::Int4 => 23,
        BaseType::Text => 25,
        BaseType::Json => 114,
        BaseType::Cidr => 650,
        BaseType::Float4 => 700,
        BaseType::Float8 => 701,
        BaseType::Inet => 869,
        BaseType::Bpchar => 1042,
        BaseType::Varchar => 1043,
        BaseType::Date => 1082,
        BaseType::Timestamp => 1114,
        BaseType::Timestamptz => 1184,
        BaseType::Numeric => 1700,
        BaseType::Uuid => 2950,
        BaseType::Jsonb => 3802,
        _ => 0,
    }
}

/// HMAC-SHA256 keyed by the salt, with a strategy family's domain tag already absorbed:
/// built once per transform; a value costs the SHA-256 compressions its bytes need (two for
/// short values: the inner hash's last block and the outer hash), on copies of the two keyed
/// states. Assembled over `sha2`'s compression function because the `hmac` crate's clone and
/// finalize copied more than they compressed (28 % of pullprod's CPU went to HMAC in a pull);
/// the tests check it against the `hmac` crate for every length and key size that matters.
#[derive(Clone)]
pub(crate) struct Keyed {
    /// The inner hash's state after `K ⊕ ipad` and the whole blocks of the prefix.
    inner: [u32; 8],
    /// The prefix's bytes after its last whole block, at the start of an otherwise zero block.
    tail: [u8; 64],
    /// Bytes before the value: the key block and the prefix (`tail` holds `prefixed % 64`).
    prefixed: u64,
    /// The outer hash's state after `K ⊕ opad`.
    outer: [u32; 8],
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

impl Keyed {
    pub fn new(salt: &Salt, tag: &[u8]) -> Keyed {
        // RFC 2104: a key longer than the block is hashed; shorter ones are padded with zeros.
        let mut key = [0u8; 64];
        let salt = salt.as_bytes();
        if salt.len() > 64 {
            use sha2::Digest;
            key[..32].copy_from_slice(&sha2::Sha256::digest(salt));
        } else {
            key[..salt.len()].copy_from_slice(salt);
        }
        let keyed = |pad: u8| {
            let mut state = SHA256_IV;
            compress256(&mut state, &[key.map(|byte| byte ^ pad)]);
            state
        };
        let prefix = [b"pullprod/".as_slice(), tag, &[0]].concat();
        let (blocks, rest) = prefix.as_chunks::<64>();
        let mut inner = keyed(0x36);
        compress256(&mut inner, blocks);
        let mut tail = [0u8; 64];
        tail[..rest.len()].copy_from_slice(rest);
        Keyed {
            inner,
            tail,
            prefixed: 64 + prefix.len() as u64,
            outer: keyed(0x5c),
        }
    }

    /// HMAC(salt, "pullprod/" tag 0x00 canonical-value).
    pub fn digest(&self, canonical: &[u8]) -> [u8; 32] {
        self.digest_parts(canonical, &[])
    }

    /// HMAC(salt, "pullprod/" tag 0x00 first second).
    pub fn digest_parts(&self, first: &[u8], second: &[u8]) -> [u8; 32] {
        let mut state = self.inner;
        let mut block = self.tail;
        let mut filled = (self.prefixed % 64) as usize;
        for mut part in [first, second] {
            while !part.is_empty() {
                let take = (64 - filled).min(part.len());
                block[filled..filled + take].copy_from_slice(&part[..take]);
                filled += take;
                part = &part[take..];
                if filled == 64 {
                    compress256(&mut state, &[block]);
                    filled = 0;
                }
            }
        }
        let length = self.prefixed + (first.len() + second.len()) as u64;
        // SHA-256 padding: 0x80, zeros, the message's length in bits (big-endian) at the end.
        block[filled] = 0x80;
        filled += 1;
        if filled > 56 {
            block[filled..].fill(0);
            compress256(&mut state, &[block]);
            filled = 0;
        }
        block[filled..56].fill(0);
        block[56..].copy_from_slice(&(length * 8).to_be_bytes());
        compress256(&mut state, &[block]);
        // The outer hash: `K ⊕ opad` (in `outer`), then the inner digest, in one padded block.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&state_bytes(state));
        block[32] = 0x80;
        block[56..].copy_from_slice(&((64u64 + 32) * 8).to_be_bytes());
        let mut outer = self.outer;
        compress256(&mut outer, &[block]);
        state_bytes(outer)
    }
}

/// A SHA-256 state as its digest bytes.
fn state_bytes(state: [u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::{
        FakeKind, FakeSpec, Generalise, JsonPath, JsonRule, JsonStep, Locale,
    };

    fn ty(base: BaseType) -> SqlType {
        let display = value::type_name(&base).to_string();
        SqlType::simple(base, &display)
    }

    fn varchar(n: u32) -> SqlType {
        SqlType {
            max_chars: Some(n),
            ..SqlType::simple(BaseType::Varchar, &format!("character varying({n})"))
        }
    }

    fn array_of(mut t: SqlType) -> SqlType {
        t.array = true;
        t.display.push_str("[]");
        t
    }

    fn salt() -> Salt {
        Salt::new("test-salt")
    }

    /// Apply in text format to a text input; None = NULL output.
    fn check(rule: &Rule, t: &SqlType, input: Option<&str>) -> Option<String> {
        let mut transform =
            ColumnTransform::new(rule, t, Format::Text, &salt()).expect("transform builds");
        let mut out = Vec::new();
        match transform
            .apply(input.map(str::as_bytes), &mut out)
            .expect("apply succeeds")
        {
            Written::Null => None,
            Written::Value => Some(String::from_utf8(out).expect("utf-8 output")),
        }
    }

    fn text_of(rule: &Rule, t: &SqlType, input: &str) -> String {
        check(rule, t, Some(input)).expect("a value")
    }

    /// Same value through the binary path: text input converted to binary, transformed,
    /// converted back to text.
    #[test]
    fn empty_strings_stay_empty_except_under_const() {
        assert_eq!(
            check(&Rule::new(Strategy::Null), &ty(BaseType::Text), Some("")),
            None
        );
        let strategies = [
            Strategy::Redact,
            Strategy::Hash,
            Strategy::fake(FakeKind::Email),
            Strategy::fake(FakeKind::Name),
            Strategy::Mask { keep_last: 2 },
        ];
        for t in [ty(BaseType::Text), varchar(40), ty(BaseType::Citext)] {
            for strategy in &strategies {
                for rule in [Rule::new(strategy.clone()), Rule::unique(strategy.clone())] {
                    if rule.unique
                        && matches!(rule.strategy, Strategy::Redact | Strategy::Mask { .. })
                    {
                        continue;
                    }
                    assert_eq!(check(&rule, &t, Some("")).as_deref(), Some(""), "{rule:?}");
                    assert_eq!(via_binary(&rule, &t, ""), "", "{rule:?}");
                }
            }
        }
        let padded = SqlType {
            max_chars: Some(3),
            ..SqlType::simple(BaseType::Bpchar, "character(3)")
        };
        assert_eq!(
            check(&Rule::new(Strategy::Hash), &padded, Some("   ")).as_deref(),
            Some("   ")
        );
        let tags = array_of(ty(BaseType::Text));
        let out = text_of(&Rule::new(Strategy::Hash), &tags, "{\"\",a,\"\"}");
        assert!(
            out.starts_with("{\"\",") && out.ends_with(",\"\"}"),
            "{out}"
        );
        let constant = Rule::new(Strategy::Const("n/a".into()));
        assert_eq!(
            check(&constant, &ty(BaseType::Text), Some("")).as_deref(),
            Some("n/a")
        );
    }

    #[test]
    fn bytea_const_is_hex_or_base64() {
        let bytea = ty(BaseType::Bytea);
        let hex = Rule::new(Strategy::Const("\\x0102".into()));
        assert_eq!(text_of(&hex, &bytea, "\\xff"), "\\x0102");
        let base64 = Rule::new(Strategy::Const("AQID".into()));
        assert_eq!(text_of(&base64, &bytea, "\\xff"), "\\x010203");
        assert_eq!(scalar::decode_base64("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(scalar::decode_base64("aGVsbG8"), Some(b"hello".to_vec()));
        for bad in ["not base64!", "\\xzz", "a"] {
            let rule = Rule::new(Strategy::Const(bad.into()));
            let err = ColumnTransform::new(&rule, &bytea, Format::Text, &salt())
                .err()
                .expect("refused");
            assert!(err.0.contains("base64"), "{}", err.0);
        }
        assert_eq!(
            text_of(&Rule::new(Strategy::Redact), &bytea, "\\xff"),
            "\\x5b72656461637465645d"
        );
    }

    fn via_binary(rule: &Rule, t: &SqlType, input: &str) -> String {
        let mut transform =
            ColumnTransform::new(rule, t, Format::Binary, &salt()).expect("transform builds");
        let binary = to_binary(t, input);
        let mut out = Vec::new();
        assert_eq!(
            transform.apply(Some(&binary), &mut out).expect("apply"),
            Written::Value
        );
        to_text(t, &out)
    }

    fn to_binary(t: &SqlType, text: &str) -> Vec<u8> {
        let mut elem = t.clone();
        elem.array = false;
        let mut out = Vec::new();
        if t.array {
            let mut bytes = array::text_to_binary(text.as_bytes(), |e, o| {
                let mut scratch = Vec::new();
                let val = value::decode(&elem.base, Format::Text, e, &mut scratch)?;
                value::encode(&elem, Format::Binary, &val, o)
            })
            .expect("array converts");
            bytes[8..12].copy_from_slice(&builtin_oid(&elem.base).to_be_bytes());
            return bytes;
        }
        let mut scratch = Vec::new();
        let val = value::decode(&elem.base, Format::Text, text.as_bytes(), &mut scratch)
            .expect("valid text");
        value::encode(&elem, Format::Binary, &val, &mut out).expect("encodes");
        out
    }

    fn to_text(t: &SqlType, binary: &[u8]) -> String {
        let mut elem = t.clone();
        elem.array = false;
        let mut out = Vec::new();
        if t.array {
            let mut elem_in = Vec::new();
            // Decode through a keep-like identity: binary elements rendered as text.
            let mut pos = 12;
            let ndim = i32::from_be_bytes(binary[0..4].try_into().unwrap());
            let mut dims = Vec::new();
            for _ in 0..ndim {
                dims.push(i32::from_be_bytes(binary[pos..pos + 4].try_into().unwrap()));
                pos += 8;
            }
            let mut parts = Vec::new();
            let count: i32 = if ndim == 0 { 0 } else { dims.iter().product() };
            for _ in 0..count {
                let len = i32::from_be_bytes(binary[pos..pos + 4].try_into().unwrap());
                pos += 4;
                if len < 0 {
                    parts.push("NULL".to_string());
                    continue;
                }
                let bytes = &binary[pos..pos + len as usize];
                pos += len as usize;
                let val = value::decode(&elem.base, Format::Binary, bytes, &mut elem_in).unwrap();
                let mut text = Vec::new();
                value::encode(&elem, Format::Text, &val, &mut text).unwrap();
                let mut quoted = Vec::new();
                array::write_text_element(&mut quoted, &text);
                parts.push(String::from_utf8(quoted).unwrap());
            }
            return format!("{{{}}}", parts.join(","));
        }
        let mut scratch = Vec::new();
        let val = value::decode(&elem.base, Format::Binary, binary, &mut scratch)
            .expect("valid binary output");
        value::encode(&elem, Format::Text, &val, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The `hmac` crate's HMAC-SHA256 of `message` under `key`: the reference `Keyed` is
    /// checked against.
    fn reference_hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn keyed_is_hmac_sha256_for_every_key_tag_and_value_length() {
        // Keys around the block size (hashed above 64 bytes), tags putting the prefix on both
        // sides of a block boundary, values crossing one, two and three blocks and the
        // padding's 55/56-byte edge; digest_parts split at every point.
        for key_len in [0, 1, 9, 32, 63, 64, 65, 200] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 31 + 7) as u8).collect();
            let salt = Salt::new(key.clone());
            for tag_len in [0, 4, 45, 46, 54, 55, 56, 70, 130] {
                let tag: Vec<u8> = (0..tag_len).map(|i| b'a' + (i % 26) as u8).collect();
                let keyed = Keyed::new(&salt, &tag);
                let prefix = [b"pullprod/".as_slice(), &tag, &[0]].concat();
                for len in (0..=200).chain([255, 256, 1000]) {
                    let value: Vec<u8> = (0..len).map(|i| (i * 13 + len) as u8).collect();
                    let expected = reference_hmac(&key, &[prefix.as_slice(), &value].concat());
                    assert_eq!(
                        keyed.digest(&value),
                        expected,
                        "key {key_len}, tag {tag_len}, value {len}"
                    );
                    if len % 7 == 0 {
                        for at in 0..=len {
                            assert_eq!(
                                keyed.digest_parts(&value[..at], &value[at..]),
                                expected,
                                "key {key_len}, tag {tag_len}, value {len} split at {at}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn hmac_matches_rfc_style_vector_and_fixed_pseudonym() {
        let mut hex = Vec::new();
        value::write_hex(
            &mut hex,
            &reference_hmac(b"key", b"The quick brown fox jumps over the lazy dog"),
        );
        assert_eq!(
            hex,
            b"f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        // HMAC(salt, "pullprod/hash\0" + value), computed independently with Python's hmac.
        let digest = Keyed::new(&salt(), b"hash").digest(b"alice@example.com");
        let mut hex = Vec::new();
        value::write_hex(&mut hex, &digest);
        assert_eq!(
            hex,
            b"ed562cbaefc75b78f26ff3369df49bf97b78717f267fb19a1ec84dc091bd90de"
        );
        assert_eq!(
            text_of(
                &Rule::new(Strategy::Hash),
                &ty(BaseType::Text),
                "alice@example.com"
            ),
            "ed562cbaefc75b78f26ff3369df49bf9"
        );
    }

    #[test]
    fn deterministic_across_tables_and_salt_dependent() {
        for strategy in [
            Strategy::Hash,
            Strategy::fake(FakeKind::Email),
            Strategy::fake(FakeKind::Name),
            Strategy::Shift { max_days: 30 },
        ] {
            let t = if matches!(strategy, Strategy::Shift { .. }) {
                ty(BaseType::Date)
            } else {
                ty(BaseType::Text)
            };
            let input = if t.base == BaseType::Date {
                "1990-05-17"
            } else {
                "Ada Lovelace"
            };
            let first = text_of(&Rule::new(strategy.clone()), &t, input);
            let second = text_of(&Rule::new(strategy.clone()), &t, input);
            assert_eq!(first, second);
            let mut other_salt = ColumnTransform::new(
                &Rule::new(strategy.clone()),
                &t,
                Format::Text,
                &Salt::new("other"),
            )
            .unwrap();
            let mut out = Vec::new();
            let outputs: Vec<String> = (0..20)
                .map(|i| {
                    text_of(
                        &Rule::new(strategy.clone()),
                        &t,
                        &if t.base == BaseType::Date {
                            format!("1990-05-{:02}", i + 1)
                        } else {
                            format!("{input}{i}")
                        },
                    )
                })
                .collect();
            other_salt.apply(Some(input.as_bytes()), &mut out).unwrap();
            if strategy == Strategy::Hash || strategy == Strategy::fake(FakeKind::Email) {
                assert_ne!(
                    String::from_utf8(out).unwrap(),
                    first,
                    "different salt, different output"
                );
            }
            let distinct: std::collections::BTreeSet<_> = outputs.iter().collect();
            assert!(
                distinct.len() > 5,
                "outputs vary with the input: {outputs:?}"
            );
        }
    }

    #[test]
    fn null_stays_null_except_const() {
        let t = ty(BaseType::Text);
        for strategy in [
            Strategy::Null,
            Strategy::Redact,
            Strategy::Hash,
            Strategy::fake(FakeKind::Name),
            Strategy::Mask { keep_last: 2 },
        ] {
            assert_eq!(check(&Rule::new(strategy), &t, None), None);
        }
        assert_eq!(
            check(&Rule::new(Strategy::Const("x".into())), &t, None).as_deref(),
            Some("x")
        );
        assert_eq!(check(&Rule::new(Strategy::Null), &t, Some("secret")), None);
        assert_eq!(
            check(
                &Rule::new(Strategy::Const(DEV_PASSWORD_BCRYPT.into())),
                &varchar(60),
                Some("$2a$12$other")
            )
            .as_deref(),
            Some(DEV_PASSWORD_BCRYPT)
        );
    }

    #[test]
    fn redact_placeholders_fit_their_types() {
        let cases: Vec<(SqlType, &str, &str)> = vec![
            (ty(BaseType::Text), "secret", "[redacted]"),
            (varchar(4), "secret", "[red"),
            (ty(BaseType::Int4), "42", "0"),
            (ty(BaseType::Numeric), "4.2", "0"),
            (ty(BaseType::Bool), "t", "f"),
            (ty(BaseType::Date), "1990-01-02", "1970-01-01"),
            (
                ty(BaseType::Timestamptz),
                "1990-01-02 03:04:05+00",
                "1970-01-01 00:00:00+00",
            ),
            (
                ty(BaseType::Uuid),
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                "00000000-0000-0000-0000-000000000000",
            ),
            (ty(BaseType::Inet), "192.168.0.1", "0.0.0.0"),
            (ty(BaseType::Cidr), "192.168.0.0/24", "0.0.0.0/32"),
            (ty(BaseType::Jsonb), r#"{"a": 1}"#, "{}"),
            (
                ty(BaseType::Bytea),
                "\\xdeadbeef",
                "\\x5b72656461637465645d",
            ),
            (
                SqlType {
                    enum_labels: vec!["low".into(), "high".into()],
                    ..ty(BaseType::Enum)
                },
                "high",
                "low",
            ),
        ];
        for (t, input, expected) in cases {
            assert_eq!(
                text_of(&Rule::new(Strategy::Redact), &t, input),
                expected,
                "{}",
                t.display
            );
            assert_eq!(
                via_binary(&Rule::new(Strategy::Redact), &t, input),
                expected,
                "{} binary",
                t.display
            );
        }
    }

    #[test]
    fn const_is_validated_against_the_type() {
        let numeric = SqlType {
            numeric: Some((4, 2)),
            ..ty(BaseType::Numeric)
        };
        let bad: Vec<(SqlType, &str)> = vec![
            (varchar(3), "abcd"),
            (ty(BaseType::Int2), "70000"),
            (numeric.clone(), "123.4"),
            (ty(BaseType::Date), "2020-02-30"),
            (ty(BaseType::Uuid), "nope"),
            (ty(BaseType::Jsonb), "{"),
            (
                SqlType {
                    enum_labels: vec!["a".into()],
                    ..ty(BaseType::Enum)
                },
                "b",
            ),
        ];
        for (t, literal) in bad {
            let err = ColumnTransform::new(
                &Rule::new(Strategy::Const(literal.into())),
                &t,
                Format::Text,
                &salt(),
            )
            .err()
            .unwrap_or_else(|| panic!("`{literal}` accepted for {}", t.display));
            assert!(err.0.contains("not a valid"), "{}", err.0);
            assert!(
                !err.0.contains(literal) || literal.len() < 3,
                "message carries no value: {}",
                err.0
            );
        }
        assert_eq!(
            text_of(&Rule::new(Strategy::Const("12.34".into())), &numeric, "1"),
            "12.34"
        );
        assert_eq!(
            via_binary(&Rule::new(Strategy::Const("12.34".into())), &numeric, "1"),
            "12.34"
        );
    }

    #[test]
    fn text_outputs_fit_character_limits() {
        let long = "ÄÖÜ ñandú 漢字 ".repeat(20);
        for n in [1u32, 5, 12, 40] {
            let t = varchar(n);
            let hashed = text_of(&Rule::new(Strategy::Hash), &t, &long);
            assert_eq!(hashed.chars().count(), (n as usize).min(32));
            let redacted = text_of(&Rule::new(Strategy::Redact), &t, &long);
            assert!(redacted.chars().count() <= n as usize);
            let masked = text_of(&Rule::new(Strategy::Mask { keep_last: 3 }), &t, "ab漢字€x");
            assert_eq!(masked, "***字€x");
        }
        let bpchar = SqlType {
            max_chars: Some(5),
            ..ty(BaseType::Bpchar)
        };
        assert_eq!(
            text_of(&Rule::new(Strategy::Hash), &bpchar, "abc  ")
                .chars()
                .count(),
            5
        );
        let name = text_of(
            &Rule::new(Strategy::fake(FakeKind::Paragraph)),
            &ty(BaseType::Name),
            "x",
        );
        assert!(name.len() <= 63);
        // The longest names still fit a 13-character column.
        for i in 0..2000 {
            let out = text_of(
                &Rule::new(Strategy::fake(FakeKind::Name)),
                &varchar(13),
                &format!("person {i}"),
            );
            assert!(out.chars().count() <= 13, "{out}");
            let email = text_of(
                &Rule::new(Strategy::fake(FakeKind::Email)),
                &varchar(20),
                &format!("person {i}"),
            );
            assert!(
                email.chars().count() <= 20 && email.contains('@'),
                "{email}"
            );
        }
    }

    #[test]
    fn mask_keeps_tabs_newlines_backslashes_and_empty_strings() {
        let r = Rule::new(Strategy::Mask { keep_last: 4 });
        let t = ty(BaseType::Text);
        assert_eq!(text_of(&r, &t, "a\tb\nc\\d"), "***\nc\\d");
        assert_eq!(text_of(&r, &t, ""), "");
        assert_eq!(text_of(&r, &t, "abc"), "abc");
        assert_eq!(
            text_of(&r, &t, "4111 1111 1111 1234"),
            "***************1234"
        );
        // An empty string stays empty under `hash` too (issue 16).
        assert_eq!(text_of(&Rule::new(Strategy::Hash), &t, ""), "");
        assert_eq!(text_of(&Rule::new(Strategy::Hash), &t, "\\").len(), 32);
    }

    #[test]
    fn fake_kinds_look_real_and_use_reserved_ranges() {
        let t = ty(BaseType::Text);
        let mut gallery = String::new();
        for (kind, name) in FakeKind::ALL {
            for locale in [Locale::EnGb, Locale::EnUs, Locale::FrFr, Locale::DeDe] {
                let strategy = Strategy::Fake(FakeSpec {
                    kind: *kind,
                    locale,
                    min: None,
                    max: None,
                });
                let out = text_of(&Rule::new(strategy.clone()), &t, "jane.doe@corp.example");
                gallery.push_str(&format!("{name} {locale:?}: {out}\n"));
                match kind {
                    FakeKind::Email => assert!(
                        out.ends_with("@example.com")
                            || out.ends_with("@example.org")
                            || out.ends_with("@example.net"),
                        "{out}"
                    ),
                    FakeKind::Ipv4 => assert!(out.starts_with("10."), "{out}"),
                    FakeKind::Ipv6 => assert!(out.starts_with("2001:db8:"), "{out}"),
                    FakeKind::Url => assert!(
                        out.starts_with("https://") && out.contains("example."),
                        "{out}"
                    ),
                    FakeKind::Uuid => assert!(value::parse_uuid(&out).is_some(), "{out}"),
                    FakeKind::Date | FakeKind::DateOfBirth => {
                        assert!(value::parse_date(&out).is_some(), "{out}")
                    }
                    _ => assert!(!out.is_empty()),
                }
            }
        }
        insta::assert_snapshot!(gallery);
        for i in 0..500 {
            let mut input = Vec::new();
            value::write_date(&mut input, i * 37);
            let input = String::from_utf8(input).unwrap();
            let dob = text_of(
                &Rule::new(Strategy::fake(FakeKind::DateOfBirth)),
                &ty(BaseType::Date),
                &input,
            );
            assert!(
                ("1940-01-01".."2006-12-32").contains(&dob.as_str()),
                "{dob}"
            );
            let phone = text_of(
                &Rule::new(Strategy::fake(FakeKind::Phone)),
                &t,
                &i.to_string(),
            );
            assert!(
                [
                    "07700 900",
                    "+44 7700 900",
                    "020 7946 0",
                    "0161 496 0",
                    "0113 496 0",
                    "01632 960"
                ]
                .iter()
                .any(|p| phone.starts_with(p)),
                "{phone}"
            );
        }
        let bounded = Strategy::Fake(FakeSpec {
            kind: FakeKind::Date,
            locale: Locale::EnGb,
            min: Some("2020-02-01".into()),
            max: Some("2020-02-29".into()),
        });
        for i in 0..200 {
            let input = format!("2001-01-01 00:00:{:02}", i % 60);
            let day = text_of(
                &Rule::new(bounded.clone()),
                &ty(BaseType::Timestamp),
                &input,
            );
            assert!(day.starts_with("2020-02-"), "{day}");
        }
    }

    #[test]
    fn integer_hash_stays_in_range_and_unique_is_a_bijection() {
        for (base, max) in [
            (BaseType::Int2, i16::MAX as i64),
            (BaseType::Int4, i32::MAX as i64),
            (BaseType::Int8, i64::MAX),
        ] {
            for i in -50..50 {
                let out: i64 = text_of(
                    &Rule::new(Strategy::Hash),
                    &ty(base.clone()),
                    &i.to_string(),
                )
                .parse()
                .unwrap();
                assert!((0..=max).contains(&out));
            }
        }
        let mut transform = ColumnTransform::new(
            &Rule::unique(Strategy::Hash),
            &ty(BaseType::Int2),
            Format::Binary,
            &salt(),
        )
        .unwrap();
        let mut seen = vec![false; 65536];
        let mut out = Vec::new();
        for n in i16::MIN..=i16::MAX {
            out.clear();
            transform.apply(Some(&n.to_be_bytes()), &mut out).unwrap();
            let mapped = i16::from_be_bytes(out[..2].try_into().unwrap());
            assert_eq!(mapped < 0, n < 0, "sign kept");
            assert!(
                !std::mem::replace(&mut seen[(mapped as u16) as usize], true),
                "collision"
            );
        }
        let a = text_of(&Rule::unique(Strategy::Hash), &ty(BaseType::Int8), "12345");
        assert_eq!(
            a,
            via_binary(&Rule::unique(Strategy::Hash), &ty(BaseType::Int8), "12345")
        );
        // int4 and int8 keys of the same value get the same pseudonym (foreign keys).
        assert_eq!(
            text_of(&Rule::new(Strategy::Hash), &ty(BaseType::Int4), "77"),
            text_of(&Rule::new(Strategy::Hash), &ty(BaseType::Int8), "77")
                .parse::<i64>()
                .map(|v| (v >> 32).to_string())
                .unwrap()
        );
    }

    #[test]
    fn text_and_binary_paths_agree() {
        let numeric = SqlType {
            numeric: Some((8, 2)),
            ..ty(BaseType::Numeric)
        };
        let cases: Vec<(Strategy, SqlType, &str)> = vec![
            (Strategy::Hash, ty(BaseType::Text), "héllo\twörld"),
            (Strategy::Hash, ty(BaseType::Int4), "-17"),
            (
                Strategy::Hash,
                ty(BaseType::Uuid),
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            ),
            (Strategy::Hash, ty(BaseType::Inet), "192.168.1.7/24"),
            (Strategy::Hash, ty(BaseType::Cidr), "2001:db8:1234::/48"),
            (Strategy::Hash, ty(BaseType::Bytea), "\\x00ff10"),
            (Strategy::Hash, numeric.clone(), "-123456.78"),
            (Strategy::Hash, ty(BaseType::Numeric), "0.000012300"),
            (Strategy::Hash, ty(BaseType::Float8), "3.141592653589793"),
            (Strategy::Hash, ty(BaseType::Float4), "1.5"),
            (Strategy::Hash, ty(BaseType::Bool), "t"),
            (Strategy::Hash, ty(BaseType::Date), "2001-02-03"),
            (
                Strategy::Hash,
                ty(BaseType::Timestamptz),
                "2001-02-03 04:05:06.789+00",
            ),
            (Strategy::Hash, ty(BaseType::Jsonb), r#"{"a": [1, 2]}"#),
            (
                Strategy::Generalise(Generalise::Month),
                ty(BaseType::Timestamp),
                "2001-02-03 04:05:06.5",
            ),
            (
                Strategy::Generalise(Generalise::Year),
                ty(BaseType::Date),
                "0044-03-15 BC",
            ),
            (
                Strategy::Generalise(Generalise::Bucket(10.0)),
                ty(BaseType::Int8),
                "-15",
            ),
            (
                Strategy::Generalise(Generalise::Bucket(0.5)),
                numeric.clone(),
                "-12.34",
            ),
            (
                Strategy::Generalise(Generalise::Bucket(100.0)),
                ty(BaseType::Float8),
                "1234.5",
            ),
            (
                Strategy::Shift { max_days: 10 },
                ty(BaseType::Timestamptz),
                "2020-02-29 23:59:59.999999+00",
            ),
            (
                Strategy::Shift { max_days: 10 },
                ty(BaseType::Date),
                "infinity",
            ),
            (
                Strategy::fake(FakeKind::Ipv6),
                ty(BaseType::Inet),
                "10.1.2.3",
            ),
            (
                Strategy::fake(FakeKind::Uuid),
                ty(BaseType::Uuid),
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            ),
            (
                Strategy::fake(FakeKind::DateOfBirth),
                ty(BaseType::Timestamptz),
                "1999-01-01 00:00:00+00",
            ),
            (
                Strategy::Hash,
                array_of(ty(BaseType::Int4)),
                "{{1,NULL},{3,4}}",
            ),
            (
                Strategy::fake(FakeKind::FirstName),
                array_of(ty(BaseType::Text)),
                "{alice,NULL,\"b c\",\"\"}",
            ),
        ];
        for (strategy, t, input) in cases {
            let text = text_of(&Rule::new(strategy.clone()), &t, input);
            let binary = via_binary(&Rule::new(strategy.clone()), &t, input);
            // Multi-dimensional arrays are flattened by the test's binary renderer.
            let text_flat = if t.array {
                text.replace("},{", ",")
                    .replace("{{", "{")
                    .replace("}}", "}")
            } else {
                text.clone()
            };
            assert_eq!(text_flat, binary, "{strategy:?} on {}", t.display);
        }
        assert_eq!(
            text_of(
                &Rule::new(Strategy::Generalise(Generalise::Bucket(0.5))),
                &numeric,
                "-12.34"
            ),
            "-12.50"
        );
        assert_eq!(
            text_of(
                &Rule::new(Strategy::Generalise(Generalise::Bucket(10.0))),
                &ty(BaseType::Int8),
                "-15"
            ),
            "-20"
        );
        assert_eq!(
            text_of(
                &Rule::new(Strategy::Generalise(Generalise::Year)),
                &ty(BaseType::Date),
                "0044-03-15 BC"
            ),
            "0044-01-01 BC"
        );
        assert_eq!(
            text_of(
                &Rule::new(Strategy::Generalise(Generalise::Month)),
                &ty(BaseType::Timestamptz),
                "2001-02-03 04:05:06.5+00"
            ),
            "2001-02-01 00:00:00+00"
        );
    }

    #[test]
    fn shift_moves_dates_within_the_bound() {
        let r = Rule::new(Strategy::Shift { max_days: 7 });
        let base = value::parse_date("2020-06-15").unwrap();
        let mut moved = 0;
        for day in 0..300 {
            let input = {
                let mut out = Vec::new();
                value::write_date(&mut out, base + day);
                String::from_utf8(out).unwrap()
            };
            let out = value::parse_date(&text_of(&r, &ty(BaseType::Date), &input)).unwrap();
            assert!((out - (base + day)).abs() <= 7);
            moved += (out != base + day) as u32;
        }
        assert!(moved > 200);
    }

    #[test]
    fn arrays_keep_shape_and_null_elements() {
        let t = array_of(varchar(12));
        let out = text_of(
            &Rule::new(Strategy::Hash),
            &t,
            r#"[0:2]={"a b",NULL,"x\"y\\z"}"#,
        );
        assert!(out.starts_with("[0:2]={"), "{out}");
        let parts: Vec<&str> = out["[0:2]={".len()..out.len() - 1].split(',').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], "NULL");
        assert_eq!(parts[0].len(), 12);
        let nested = text_of(
            &Rule::new(Strategy::Mask { keep_last: 1 }),
            &array_of(ty(BaseType::Text)),
            r#"{{ab,"c,d"},{"",NULL}}"#,
        );
        assert_eq!(nested, r#"{{*b,**d},{"",NULL}}"#);
        assert_eq!(
            text_of(
                &Rule::new(Strategy::Hash),
                &array_of(ty(BaseType::Int4)),
                "{}"
            ),
            "{}"
        );
        let const_array = Rule::new(Strategy::Const("{1,NULL,3}".into()));
        assert_eq!(
            check(&const_array, &array_of(ty(BaseType::Int4)), None).as_deref(),
            Some("{1,NULL,3}")
        );
        assert_eq!(
            via_binary(&const_array, &array_of(ty(BaseType::Int4)), "{7}"),
            "{1,NULL,3}"
        );
        // Binary: has_nulls flag and lower bounds survive.
        let mut transform = ColumnTransform::new(
            &Rule::new(Strategy::Hash),
            &array_of(ty(BaseType::Int4)),
            Format::Binary,
            &salt(),
        )
        .unwrap();
        let mut input = Vec::new();
        for word in [1i32, 1, 23, 2, 0] {
            input.extend_from_slice(&word.to_be_bytes());
        }
        input.extend_from_slice(&(-1i32).to_be_bytes());
        input.extend_from_slice(&4i32.to_be_bytes());
        input.extend_from_slice(&5i32.to_be_bytes());
        let mut out = Vec::new();
        transform.apply(Some(&input), &mut out).unwrap();
        assert_eq!(&out[..20], &input[..20]);
        assert_eq!(&out[20..24], &(-1i32).to_be_bytes());
        assert_eq!(out.len(), input.len());
        assert_ne!(&out[28..32], &5i32.to_be_bytes());
    }

    #[test]
    fn json_rules_touch_only_their_paths() {
        let path = |text: &str, steps: Vec<JsonStep>| JsonPath {
            text: text.into(),
            steps,
        };
        let key = |k: &str| JsonStep::Key(k.into());
        let rules = vec![
            JsonRule {
                path: path("$.contact.email", vec![key("contact"), key("email")]),
                rule: Rule::new(Strategy::fake(FakeKind::Email)),
            },
            JsonRule {
                path: path(
                    "$.items[*].name",
                    vec![key("items"), JsonStep::EveryElement, key("name")],
                ),
                rule: Rule::new(Strategy::Hash),
            },
            JsonRule {
                path: path(
                    "$.grid[*][*]",
                    vec![key("grid"), JsonStep::EveryElement, JsonStep::EveryElement],
                ),
                rule: Rule::new(Strategy::Generalise(Generalise::Bucket(10.0))),
            },
            JsonRule {
                path: path("$.secret", vec![key("secret")]),
                rule: Rule::new(Strategy::Redact),
            },
            JsonRule {
                path: path("$.born", vec![key("born")]),
                rule: Rule::new(Strategy::Generalise(Generalise::Year)),
            },
            JsonRule {
                path: path("$.gone", vec![key("gone")]),
                rule: Rule::new(Strategy::Null),
            },
        ];
        let t = ty(BaseType::Jsonb);
        let input = r#"{"born": "1987-06-05", "contact": {"email": "a\"b@c.d", "phone": "+44 1"}, "gone": [1], "grid": [[1, 25.5], [-3]], "items": [{"name": "x\n", "qty": 1e3}, {"qty": 2}], "secret": {"k": [1]}, "theme": "dark"}"#;
        let out = text_of(&Rule::new(Strategy::Json(rules.clone())), &t, input);
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid json");
        assert!(
            parsed["contact"]["email"]
                .as_str()
                .unwrap()
                .ends_with(".com")
                || parsed["contact"]["email"]
                    .as_str()
                    .unwrap()
                    .contains("@example.")
        );
        assert_eq!(parsed["contact"]["phone"], "+44 1");
        assert_eq!(parsed["items"][0]["name"].as_str().unwrap().len(), 32);
        assert!(
            out.contains("1e3"),
            "kept numbers keep their spelling: {out}"
        );
        assert_eq!(parsed["grid"], serde_json::json!([[0, 20.0], [-10]]));
        assert_eq!(parsed["secret"], serde_json::json!({}));
        assert_eq!(parsed["born"], "1987-01-01");
        assert_eq!(parsed["gone"], serde_json::Value::Null);
        assert_eq!(parsed["theme"], "dark");
        assert_eq!(
            out,
            via_binary(&Rule::new(Strategy::Json(rules.clone())), &t, input)
        );
        let json_ty = ty(BaseType::Json);
        let malformed = ColumnTransform::new(
            &Rule::new(Strategy::Json(rules)),
            &json_ty,
            Format::Text,
            &salt(),
        )
        .unwrap()
        .apply(Some(br#"{"contact": "#), &mut Vec::new());
        assert_eq!(
            malformed,
            Err(TransformError("malformed json value".into()))
        );
    }

    #[test]
    fn deeply_nested_json_is_copied_or_refused_never_a_stack_overflow() {
        let key = |k: &str| JsonStep::Key(k.into());
        let rule_at = |text: &str, steps: Vec<JsonStep>, strategy: Strategy| JsonRule {
            path: JsonPath {
                text: text.into(),
                steps,
            },
            rule: Rule::new(strategy),
        };
        // PostgreSQL accepts this (12,000 levels); it used to overflow the worker's stack.
        let depth = 12_000;
        let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let deep_object = format!("{}1{}", r#"{"k": "#.repeat(depth), "}".repeat(depth));
        let doc =
            format!(r#"{{"contact": {{"email": "a@b.c"}}, "deep": {deep}, "o": {deep_object}}}"#);
        let t = ty(BaseType::Jsonb);
        let run = |rules: Vec<JsonRule>, input: &str| {
            // A thread with the pipeline workers' stack (Rust's default, 2 MiB).
            let (rules, input, t) = (rules, input.to_string(), t.clone());
            std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || {
                    let mut transform = ColumnTransform::new(
                        &Rule::new(Strategy::Json(rules)),
                        &t,
                        Format::Text,
                        &salt(),
                    )
                    .unwrap();
                    let mut out = Vec::new();
                    transform
                        .apply(Some(input.as_bytes()), &mut out)
                        .map(|_| String::from_utf8(out).unwrap())
                })
                .unwrap()
                .join()
                .expect("no stack overflow")
        };
        // Where no rule reaches, the value is copied byte for byte.
        let email = rule_at(
            "$.contact.email",
            vec![key("contact"), key("email")],
            Strategy::fake(FakeKind::Email),
        );
        let out = run(vec![email], &doc).expect("copied");
        assert!(out.contains(&deep) && out.contains(&deep_object));
        assert!(!out.contains("a@b.c"));
        // Kept or replaced as a whole: fine at any depth.
        for strategy in [Strategy::Keep, Strategy::Null, Strategy::Redact] {
            run(vec![rule_at("$.deep", vec![key("deep")], strategy)], &doc).expect("whole value");
        }
        // A rule that must walk into every leaf stops at a bound, with an error.
        let err = run(
            vec![rule_at("$.deep", vec![key("deep")], Strategy::Hash)],
            &doc,
        )
        .unwrap_err();
        assert!(err.0.contains("nested deeper than 1000 levels"), "{err:?}");
        // Malformed deep input is malformed, not a crash.
        let err = run(vec![], &format!("{{\"x\": {}", "[".repeat(depth))).unwrap_err();
        assert_eq!(err, TransformError("malformed json value".into()));
        // Just within the bound, a rule walks the whole document.
        let within = format!(
            "{}5{}",
            "[".repeat(json::MAX_RULE_DEPTH - 1),
            "]".repeat(json::MAX_RULE_DEPTH - 1)
        );
        let out = run(
            vec![rule_at(
                "$.deep",
                vec![key("deep")],
                Strategy::Generalise(Generalise::Bucket(10.0)),
            )],
            &format!(r#"{{"deep": {within}}}"#),
        );
        assert!(out.expect("within the bound").contains("[0]"));
    }

    #[test]
    fn numerics_of_any_size_go_in_buckets_and_hash() {
        let numeric = ty(BaseType::Numeric);
        let bucket = |width: f64| Rule::new(Strategy::Generalise(Generalise::Bucket(width)));
        let tiny = format!("0.{}1", "0".repeat(16_382)); // 1e-16383, PostgreSQL's smallest
        let huge = format!("1{}", "0".repeat(131_071)); // 1e131071, its largest order
        let cases: Vec<(String, f64, String)> = vec![
            ("12.345".into(), 10.0, "10.000".into()),
            ("-12.345".into(), 10.0, "-20.000".into()),
            ("-12.34".into(), 0.5, "-12.50".into()),
            ("123".into(), 0.5, "123.0".into()),
            ("-20".into(), 10.0, "-20".into()),
            ("0.004".into(), 0.01, "0.000".into()),
            ("-0.004".into(), 0.01, "-0.010".into()),
            (
                "99999999999999999999999999999999999999999999".into(),
                7.0,
                "99999999999999999999999999999999999999999998".into(),
            ),
            (tiny.clone(), 10.0, format!("0.{}", "0".repeat(16_383))),
            (
                format!("-{tiny}"),
                10.0,
                format!("-10.{}", "0".repeat(16_383)),
            ),
            (huge.clone(), 10.0, huge.clone()),
            (
                format!("{huge}.5"),
                3.0,
                format!("{}.0", {
                    // 10^131071 = 3·(333…3) + 1, so the bucket is 10^131071 - 1.
                    "9".repeat(131_071)
                }),
            ),
        ];
        for (input, width, expected) in &cases {
            assert_eq!(
                &text_of(&bucket(*width), &numeric, input),
                expected,
                "{width}"
            );
            assert_eq!(
                &via_binary(&bucket(*width), &numeric, input),
                expected,
                "{width}"
            );
        }
        // A bounded column still gets a value that fits (towards zero when flooring would not).
        let mut bounded = ty(BaseType::Numeric);
        bounded.numeric = Some((3, 0));
        assert_eq!(text_of(&bucket(10.0), &bounded, "-995"), "-990");
        // Hashing and keeping them is no abort either, in both formats.
        for input in [&tiny, &huge] {
            let hashed = text_of(&Rule::new(Strategy::Hash), &numeric, input);
            assert_eq!(
                hashed,
                via_binary(&Rule::new(Strategy::Hash), &numeric, input)
            );
        }
    }

    #[test]
    fn unique_needs_room_and_a_capable_strategy() {
        let cases: Vec<(Strategy, SqlType, &str)> = vec![
            (Strategy::Hash, varchar(12), "too short for a unique `hash`"),
            (
                Strategy::fake(FakeKind::Email),
                varchar(20),
                "needs at least 30 characters",
            ),
            (
                Strategy::fake(FakeKind::Phone),
                ty(BaseType::Text),
                "cannot keep",
            ),
            (
                Strategy::Mask { keep_last: 4 },
                ty(BaseType::Text),
                "cannot keep",
            ),
            (Strategy::Hash, ty(BaseType::Bool), "cannot keep"),
            (
                Strategy::Hash,
                SqlType {
                    numeric: Some((10, 2)),
                    ..ty(BaseType::Numeric)
                },
                "precision of at least 25",
            ),
        ];
        for (strategy, t, message) in cases {
            let err =
                ColumnTransform::new(&Rule::unique(strategy.clone()), &t, Format::Text, &salt())
                    .err()
                    .expect("refused");
            assert!(err.0.contains(message), "{strategy:?}: {}", err.0);
        }
        let email = text_of(
            &Rule::unique(Strategy::fake(FakeKind::Email)),
            &varchar(30),
            "someone",
        );
        assert!(
            email.chars().count() <= 30 && email.ends_with("@example.com")
                || email.contains("@example."),
            "{email}"
        );
        let hashed = text_of(&Rule::unique(Strategy::Hash), &varchar(20), "someone");
        assert_eq!(hashed.len(), 20);
    }

    #[test]
    fn citext_pseudonyms_ignore_case() {
        let t = ty(BaseType::Citext);
        assert_eq!(
            text_of(
                &Rule::new(Strategy::fake(FakeKind::Email)),
                &t,
                "Bob@Example.COM"
            ),
            text_of(
                &Rule::new(Strategy::fake(FakeKind::Email)),
                &t,
                "bob@example.com"
            )
        );
    }

    #[test]
    fn decoders_reject_bad_input_without_echoing_it() {
        let mut transform = ColumnTransform::new(
            &Rule::new(Strategy::Hash),
            &ty(BaseType::Int4),
            Format::Binary,
            &salt(),
        )
        .unwrap();
        let err = transform
            .apply(Some(b"secret-value"), &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.0, "invalid `int4` value in binary format");
        let mut transform = ColumnTransform::new(
            &Rule::new(Strategy::Hash),
            &ty(BaseType::Date),
            Format::Text,
            &salt(),
        )
        .unwrap();
        let err = transform
            .apply(Some(b"secret-value"), &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.0, "invalid `date` value in text format");
        assert!(!supports_binary(&ty(BaseType::Other("tsvector".into()))));
        assert!(supports_binary(&array_of(ty(BaseType::Int4))));
        assert!(!supports_binary(&array_of(ty(BaseType::Enum))));
    }

    #[test]
    fn numeric_binary_round_trips() {
        for text in [
            "0",
            "0.00",
            "1",
            "-1",
            "12345678.9012",
            "0.0001",
            "-0.000012300",
            "10000",
            "99999999999999999999.5",
            "NaN",
            "Infinity",
        ] {
            let mut binary = Vec::new();
            value::numeric_text_to_binary(text, &mut binary).unwrap();
            let mut scratch = Vec::new();
            let val =
                value::decode(&BaseType::Numeric, Format::Binary, &binary, &mut scratch).unwrap();
            assert_eq!(val, value::Val::Numeric(text), "{text}");
        }
    }
}
