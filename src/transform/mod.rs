//! The transform engine: one `ColumnTransform` per transformed column, applied to field
//! values as they travel in COPY's text or binary format. Pure: no IO.

use crate::policy::model::Rule;
use crate::sqltype::SqlType;

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

// PROVISIONAL (replaced when the transform engine lands): only `null` is supported.
pub struct ColumnTransform;

impl ColumnTransform {
    pub fn new(
        rule: &Rule,
        _column_type: &SqlType,
        _format: Format,
        _salt: &Salt,
    ) -> Result<ColumnTransform, TransformError> {
        match rule.strategy {
            crate::policy::model::Strategy::Null => Ok(ColumnTransform),
            _ => Err(TransformError("strategy not available yet".into())),
        }
    }

    pub fn apply(
        &mut self,
        _input: Option<&[u8]>,
        _out: &mut Vec<u8>,
    ) -> Result<Written, TransformError> {
        Ok(Written::Null)
    }
}

pub fn supports_binary(_column_type: &SqlType) -> bool {
    true
}
