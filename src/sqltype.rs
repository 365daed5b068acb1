//! Column types as the transforms need them: the base type behind domains and arrays,
//! length limits, numeric precision and enum labels. Pure data, filled in by `schema`.

/// A column's type, resolved through domains (to their base type) and arrays (to their element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    /// `format_type()` of the column as declared, for messages: `character varying(40)`, `public.email_address`.
    pub display: String,
    pub base: BaseType,
    /// The column holds an array of `base` (any number of dimensions).
    pub array: bool,
    /// Character limit of `varchar(n)` / `char(n)` (after resolving domains).
    pub max_chars: Option<u32>,
    /// `numeric(precision, scale)`.
    pub numeric: Option<(u16, u16)>,
    /// Labels of an enum, in order.
    pub enum_labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseType {
    Text,
    Varchar,
    /// `char(n)`, blank-padded.
    Bpchar,
    Citext,
    Name,
    Uuid,
    Inet,
    Cidr,
    Date,
    Timestamp,
    Timestamptz,
    Int2,
    Int4,
    Int8,
    Numeric,
    Float4,
    Float8,
    Bool,
    Bytea,
    Json,
    Jsonb,
    Enum,
    /// Anything else, by its type name (`interval`, `tsvector`, a composite type…).
    Other(String),
}

impl BaseType {
    /// The base type for a built-in or extension type name as `pg_type.typname` spells it.
    pub fn from_typname(typname: &str) -> BaseType {
        match typname {
            "text" => BaseType::Text,
            "varchar" => BaseType::Varchar,
            "bpchar" => BaseType::Bpchar,
            "citext" => BaseType::Citext,
            "name" => BaseType::Name,
            "uuid" => BaseType::Uuid,
            "inet" => BaseType::Inet,
            "cidr" => BaseType::Cidr,
            "date" => BaseType::Date,
            "timestamp" => BaseType::Timestamp,
            "timestamptz" => BaseType::Timestamptz,
            "int2" => BaseType::Int2,
            "int4" => BaseType::Int4,
            "int8" => BaseType::Int8,
            "numeric" => BaseType::Numeric,
            "float4" => BaseType::Float4,
            "float8" => BaseType::Float8,
            "bool" => BaseType::Bool,
            "bytea" => BaseType::Bytea,
            "json" => BaseType::Json,
            "jsonb" => BaseType::Jsonb,
            other => BaseType::Other(other.to_string()),
        }
    }

    pub fn is_textual(&self) -> bool {
        matches!(
            self,
            BaseType::Text
                | BaseType::Varchar
                | BaseType::Bpchar
                | BaseType::Citext
                | BaseType::Name
        )
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, BaseType::Int2 | BaseType::Int4 | BaseType::Int8)
    }

    pub fn is_temporal(&self) -> bool {
        matches!(
            self,
            BaseType::Date | BaseType::Timestamp | BaseType::Timestamptz
        )
    }

    pub fn is_numeric(&self) -> bool {
        self.is_integer()
            || matches!(
                self,
                BaseType::Numeric | BaseType::Float4 | BaseType::Float8
            )
    }
}

impl SqlType {
    /// A scalar type with no modifiers, e.g. `SqlType::simple(BaseType::Text, "text")`.
    pub fn simple(base: BaseType, display: &str) -> SqlType {
        SqlType {
            display: display.to_string(),
            base,
            array: false,
            max_chars: None,
            numeric: None,
            enum_labels: Vec::new(),
        }
    }
}
