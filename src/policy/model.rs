//! The validated policy: what happens to every table and column.
//! Built by `policy::validate` from the TOML files; read by coverage, transform and pipeline.

use std::ops::Range;
use std::path::PathBuf;

use crate::sqltype::{BaseType, SqlType};

/// Where a policy item was written: a file and a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: PathBuf,
    pub span: Range<usize>,
}

/// A table name, schema-qualified. `[users]` means `public.users`; `["billing.invoices"]` names a schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

/// The whole policy: every table the project copies, sorted by name.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub tables: Vec<TableRule>,
}

#[derive(Debug, Clone)]
pub struct TableRule {
    pub table: TableName,
    pub origin: Origin,
    pub action: TableAction,
    /// `where = "…"`: only rows matching this SQL condition are copied.
    pub filter: Option<String>,
    /// `rows = N`: how many rows `seed-dev --synthetic` generates for this table.
    pub seed_rows: Option<u64>,
    /// `percent`, `limit`, `follow`, `nullify`: how the table takes part in a subset.
    pub subset: Subset,
    pub columns: Vec<ColumnRule>,
}

/// A table's subset keys (see `subset.rs` for what they select). Empty: no subset keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subset {
    /// `percent = 5`: a deterministic sample of about this share of the rows (0 < p <= 100).
    pub percent: Option<f64>,
    /// `limit = 1000`: the first N rows by primary key.
    pub limit: Option<u64>,
    /// `follow = ["users"]`: only rows that reference chosen rows of these tables.
    pub follow: Vec<(TableName, Origin)>,
    /// `nullify = ["referred_by"]`: references to rows left out become NULL instead of
    /// pulling the referenced row in.
    pub nullify: Vec<(String, Origin)>,
    /// Where the `where` condition was written.
    pub filter_origin: Option<Origin>,
}

impl Subset {
    /// The table uses `percent`, `limit`, `follow` or `nullify`.
    pub fn is_used(&self) -> bool {
        self.percent.is_some()
            || self.limit.is_some()
            || !self.follow.is_empty()
            || !self.nullify.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TableAction {
    /// Copy rows, each column by its rule.
    Copy,
    /// `skip = true`: schema only, no rows.
    Skip,
    /// `keep = { reason = "…" }`: every column in clear, justified.
    KeepAll { reason: String },
}

#[derive(Debug, Clone)]
pub struct ColumnRule {
    pub column: String,
    pub rule: Rule,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub strategy: Strategy,
    /// `unique = true`: distinct inputs give distinct outputs.
    pub unique: bool,
    /// `reason = "…"`: why a personal-looking column may be kept in clear.
    pub reason: Option<String>,
    /// `not-sensitive = "…"`: why a column whose name looks security-sensitive is not (a
    /// reviewer-visible override of a name-only finding; never of sampled secrets).
    pub not_sensitive: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    Keep,
    Null,
    /// A fixed placeholder that fits the column's type.
    Redact,
    /// A literal value, in PostgreSQL's text form.
    Const(String),
    /// Keyed HMAC of the value, type-preserving where the type allows.
    Hash,
    Fake(FakeSpec),
    Generalise(Generalise),
    /// Dates and timestamps moved by a deterministic per-value offset of at most `max_days`.
    Shift {
        max_days: u32,
    },
    /// Keep the last `keep_last` characters, mask the rest.
    Mask {
        keep_last: u32,
    },
    /// Rules per JSON path; paths not listed are kept.
    Json(Vec<JsonRule>),
    /// Rules per XML path (text of elements, attribute values); everything else is kept.
    Xml(Vec<XmlRule>),
    /// Not classified yet: always a check-policy error.
    Todo {
        suggestion: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeSpec {
    pub kind: FakeKind,
    pub locale: Locale,
    /// Lower bound for dates (`fake.date`, `fake.date_of_birth`), ISO text.
    pub min: Option<String>,
    /// Upper bound for dates, ISO text.
    pub max: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FakeKind {
    FirstName,
    LastName,
    Name,
    Email,
    Phone,
    StreetAddress,
    City,
    Postcode,
    Company,
    Username,
    Url,
    Ipv4,
    Ipv6,
    Uuid,
    Word,
    Words,
    Sentence,
    Paragraph,
    Date,
    DateOfBirth,
}

impl FakeKind {
    /// Every kind with the name it has in policy files (`fake.<name>`).
    pub const ALL: &[(FakeKind, &str)] = &[
        (FakeKind::FirstName, "first_name"),
        (FakeKind::LastName, "last_name"),
        (FakeKind::Name, "name"),
        (FakeKind::Email, "email"),
        (FakeKind::Phone, "phone"),
        (FakeKind::StreetAddress, "street_address"),
        (FakeKind::City, "city"),
        (FakeKind::Postcode, "postcode"),
        (FakeKind::Company, "company"),
        (FakeKind::Username, "username"),
        (FakeKind::Url, "url"),
        (FakeKind::Ipv4, "ipv4"),
        (FakeKind::Ipv6, "ipv6"),
        (FakeKind::Uuid, "uuid"),
        (FakeKind::Word, "word"),
        (FakeKind::Words, "words"),
        (FakeKind::Sentence, "sentence"),
        (FakeKind::Paragraph, "paragraph"),
        (FakeKind::Date, "date"),
        (FakeKind::DateOfBirth, "date_of_birth"),
    ];

    pub fn name(self) -> &'static str {
        FakeKind::ALL
            .iter()
            .find(|(kind, _)| *kind == self)
            .map(|(_, name)| *name)
            .expect("every kind is listed in ALL")
    }

    pub fn from_name(name: &str) -> Option<FakeKind> {
        FakeKind::ALL
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(kind, _)| *kind)
    }
}

/// Locale of generated names, addresses and phones. British English by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    EnGb,
    EnUs,
    FrFr,
    DeDe,
}

impl Locale {
    pub const ALL: &[(Locale, &str)] = &[
        (Locale::EnGb, "en_GB"),
        (Locale::EnUs, "en_US"),
        (Locale::FrFr, "fr_FR"),
        (Locale::DeDe, "de_DE"),
    ];
}

#[derive(Debug, Clone, PartialEq)]
pub enum Generalise {
    /// Dates and timestamps truncated to the first day of their month.
    Month,
    /// Dates and timestamps truncated to the first day of their year.
    Year,
    /// Numbers rounded down to a multiple of the width.
    Bucket(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonRule {
    pub path: JsonPath,
    pub rule: Rule,
}

/// `$.contact.email`, `$.items[*].email`: object keys and "every element" steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub text: String,
    pub steps: Vec<JsonStep>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct XmlRule {
    pub path: XmlPath,
    pub rule: Rule,
}

/// `//EMail`, `//@phone`, `//Contact/@phone`, `/Person/Name`: element steps (a step without a
/// prefix matches any prefix; `*` any element), then an optional attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlPath {
    pub text: String,
    /// `//…`: the steps may start at any depth; `/…`: at the document's root.
    pub anywhere: bool,
    pub elements: Vec<String>,
    pub attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonStep {
    Key(String),
    EveryElement,
}

impl Strategy {
    /// `fake.<kind>` in the default locale, without date bounds.
    pub fn fake(kind: FakeKind) -> Strategy {
        Strategy::Fake(FakeSpec {
            kind,
            locale: Locale::default(),
            min: None,
            max: None,
        })
    }
}

impl Policy {
    /// The rule for `table`, by binary search: `tables` is kept sorted by table (parsing and
    /// `sort` establish it), so lookups stay logarithmic in policies of 100,000 tables.
    pub fn table(&self, table: &TableName) -> Option<&TableRule> {
        self.tables
            .binary_search_by(|rule| rule.table.cmp(table))
            .ok()
            .map(|index| &self.tables[index])
    }

    /// Restore the order `table` relies on, after rules were added by hand.
    pub fn sort(&mut self) {
        self.tables.sort_by(|a, b| a.table.cmp(&b.table));
    }
}

impl TableRule {
    pub fn column(&self, column: &str) -> Option<&ColumnRule> {
        self.columns.iter().find(|rule| rule.column == column)
    }
}

impl Rule {
    /// A rule with this strategy, no `unique`, no reason.
    pub fn new(strategy: Strategy) -> Rule {
        Rule {
            strategy,
            unique: false,
            reason: None,
            not_sensitive: None,
        }
    }

    /// A rule with this strategy and `unique = true`.
    pub fn unique(strategy: Strategy) -> Rule {
        Rule {
            unique: true,
            ..Rule::new(strategy)
        }
    }

    pub fn keep() -> Rule {
        Rule::new(Strategy::Keep)
    }

    /// True when the output is the input unchanged.
    pub fn is_keep(&self) -> bool {
        matches!(self.strategy, Strategy::Keep)
    }
}

impl TableName {
    pub fn new(schema: &str, name: &str) -> TableName {
        TableName {
            schema: schema.to_string(),
            name: name.to_string(),
        }
    }

    /// `"schema"."name"`, quoted for SQL.
    pub fn quoted(&self) -> String {
        crate::sql::qualified(&self.schema, &self.name)
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Why `strategy` cannot apply to a column of type `sql_type`, if it cannot.
pub fn type_problem(strategy: &Strategy, sql_type: &SqlType) -> Option<String> {
    let base = &sql_type.base;
    let textual = base.is_textual();
    let ok = match strategy {
        Strategy::Keep | Strategy::Null | Strategy::Redact | Strategy::Todo { .. } => true,
        Strategy::Hash => *base != BaseType::Bool,
        Strategy::Const(text) => match base {
            _ if sql_type.array => true,
            b if b.is_integer() => text.parse::<i64>().is_ok(),
            BaseType::Numeric | BaseType::Float4 | BaseType::Float8 => text.parse::<f64>().is_ok(),
            BaseType::Bool => matches!(text.as_str(), "true" | "false" | "t" | "f"),
            BaseType::Enum => {
                sql_type.enum_labels.is_empty() || sql_type.enum_labels.contains(text)
            }
            _ => true,
        },
        Strategy::Fake(spec) => match spec.kind {
            FakeKind::Ipv4 | FakeKind::Ipv6 => {
                textual || matches!(base, BaseType::Inet | BaseType::Cidr)
            }
            FakeKind::Uuid => textual || *base == BaseType::Uuid,
            FakeKind::Date | FakeKind::DateOfBirth => textual || base.is_temporal(),
            _ => textual,
        },
        Strategy::Generalise(Generalise::Month | Generalise::Year) => base.is_temporal(),
        Strategy::Generalise(Generalise::Bucket(_)) => base.is_numeric(),
        Strategy::Shift { .. } => base.is_temporal(),
        Strategy::Mask { .. } => textual,
        Strategy::Json(_) => matches!(base, BaseType::Json | BaseType::Jsonb),
        Strategy::Xml(_) => matches!(base, BaseType::Other(name) if name == "xml"),
    };
    (!ok).then(|| match strategy {
        Strategy::Const(_) => format!(
            "the constant does not fit the column type `{}`",
            sql_type.display
        ),
        other => format!(
            "`{}` does not apply to the column type `{}`",
            strategy_name(other),
            sql_type.display
        ),
    })
}

/// The name a strategy is written with, for messages.
pub fn strategy_name(strategy: &Strategy) -> String {
    match strategy {
        Strategy::Keep => "keep".into(),
        Strategy::Null => "null".into(),
        Strategy::Redact => "redact".into(),
        Strategy::Const(_) => "const".into(),
        Strategy::Hash => "hash".into(),
        Strategy::Fake(spec) => format!("fake.{}", spec.kind.name()),
        Strategy::Generalise(Generalise::Month) => "generalise.month".into(),
        Strategy::Generalise(Generalise::Year) => "generalise.year".into(),
        Strategy::Generalise(Generalise::Bucket(_)) => "generalise.bucket".into(),
        Strategy::Shift { .. } => "shift".into(),
        Strategy::Mask { .. } => "mask".into(),
        Strategy::Json(_) => "json".into(),
        Strategy::Xml(_) => "xml".into(),
        Strategy::Todo { .. } => "todo".into(),
    }
}
