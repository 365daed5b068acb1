//! The transform engine: one `ColumnTransform` per transformed column, applied to field
//! values as they travel in COPY's text or binary format. Pure: no IO.

mod array;
mod fake;
mod json;
mod scalar;
mod value;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::policy::model::{Rule, Strategy};
use crate::sqltype::{BaseType, SqlType};
use scalar::Scalar;

/// bcrypt (cost 12) of the development password `password`: the usual `const` for
/// password-digest columns, so every pulled account can sign in locally with `password`.
/// Verified with both libxcrypt and pgcrypto's `crypt('password', hash) = hash`.
pub const DEV_PASSWORD_BCRYPT: &str = "$2a$12$tQLY7aa1kdfPJQ00iNDxPOTgd0sUkVew8RN3t3Q7Y.Y35T99orbha";

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
                    let text = std::str::from_utf8(text).map_err(|_| invalid_array_const(column_type))?;
                    let stored = scalar::validate_const(&elem_ty, text)
                        .map_err(|_| invalid_array_const(column_type))?;
                    let val = if elem_ty.base == BaseType::Bytea {
                        value::Val::Bytes(&stored)
                    } else {
                        value::parse_text(&elem_ty.base, text).ok_or_else(|| invalid_array_const(column_type))?
                    };
                    value::encode(&elem_ty, Format::Binary, &val, out)
                })
                .map_err(|_| invalid_array_const(column_type))?;
                const_array = Some((literal.as_bytes().to_vec(), binary));
                let null_rule = Rule { strategy: Strategy::Null, unique: false, reason: None };
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
    pub fn apply(&mut self, input: Option<&[u8]>, out: &mut Vec<u8>) -> Result<Written, TransformError> {
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
        let (scalar, elem_ty, dec, buf) = (&mut self.scalar, &self.elem_ty, &mut self.dec, &mut self.buf);
        let format = self.format;
        let result = match format {
            Format::Text => array::transform_text(input, out, &mut self.elem_in, &mut self.elem_out, |elem, o| {
                match elem {
                    None => Ok(Written::Null),
                    some => apply_scalar(scalar, elem_ty, format, some, dec, buf, o),
                }
            }),
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
    TransformError(format!("the `const` literal is not a valid `{}`", column_type.display))
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
/// built once per transform and cloned per value (no re-keying per row).
#[derive(Clone)]
pub(crate) struct Keyed {
    mac: Hmac<Sha256>,
}

impl Keyed {
    pub fn new(salt: &Salt, tag: &[u8]) -> Keyed {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(salt.as_bytes()).expect("HMAC accepts keys of any length");
        mac.update(b"pullprod/");
        mac.update(tag);
        mac.update(&[0]);
        Keyed { mac }
    }

    /// HMAC(salt, "pullprod/" tag 0x00 canonical-value).
    pub fn digest(&self, canonical: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(canonical);
        mac.finalize().into_bytes().into()
    }

    pub fn digest_parts(&self, first: &[u8], second: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(first);
        mac.update(second);
        mac.finalize().into_bytes().into()
    }
}
