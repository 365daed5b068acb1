//! Sensitive-data detection (G10): a column's class from its name, type and foreign key
//! (`names`, `words`), and from the shape of sampled values (`values`). Holds no value. Pure.

mod names;
mod values;
mod words;

use std::collections::{BTreeMap, BTreeSet};

pub use names::{TypeKind, classify, classify_name, is_people_table};
pub use values::{Context, Finding, scan_bytes, scan_json, scan_text, scan_xml};
pub use words::words;

use crate::policy::model::{FakeKind, FakeSpec, Generalise, Strategy, TableName};
use crate::schema::{Catalog, Column, Table};
use crate::sqltype::BaseType;

/// How a column's name classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameClass {
    /// Passwords and their hashes, tokens, keys, secrets, card and national ID numbers: never kept.
    Sensitive,
    /// Names, contact details, dates of birth, IPs, free text: kept only with a reason.
    Personal,
}

/// One sampled value, in the form its type is read in.
#[derive(Debug, Clone, Copy)]
pub enum Sampled<'a> {
    Text(&'a str),
    /// json, jsonb, and arrays (read as JSON).
    Json(&'a str),
    Xml(&'a str),
    /// The first bytes of a bytea value.
    Bytes(&'a [u8]),
}

/// What the sampled values of one column looked like: how many were read, and how many showed
/// each finding. Holds no value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnSample {
    pub n_values: u32,
    pub hits: BTreeMap<Finding, u32>,
}

/// Findings per sampled column. Holds no sampled value.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub columns: BTreeMap<(TableName, String), ColumnSample>,
}

impl ColumnSample {
    /// The findings frequent enough to count (see `Finding::min_share`).
    pub fn findings(&self) -> BTreeSet<Finding> {
        self.hits
            .iter()
            .filter(|(finding, hits)| {
                **hits > 0
                    && u64::from(**hits) * 100
                        >= u64::from(finding.min_share()) * u64::from(self.n_values)
            })
            .map(|(finding, _)| *finding)
            .collect()
    }
}

impl Samples {
    /// Record what `value` (one sampled text value of `table.column`) looks like.
    pub fn add(&mut self, table: &TableName, column: &str, value: &str) {
        self.add_value(table, column, Sampled::Text(value));
    }

    /// Record what one sampled value of `table.column` looks like.
    pub fn add_value(&mut self, table: &TableName, column: &str, value: Sampled<'_>) {
        let mut found = BTreeSet::new();
        match value {
            Sampled::Text(text) => {
                scan_text(text, values::context_of(&words(column)), &mut found);
            }
            Sampled::Json(text) => scan_json(text, &mut found),
            Sampled::Xml(text) => scan_xml(text, &mut found),
            Sampled::Bytes(bytes) => scan_bytes(bytes, &mut found),
        }
        let entry = self
            .columns
            .entry((table.clone(), column.to_string()))
            .or_default();
        entry.n_values += 1;
        for finding in found {
            *entry.hits.entry(finding).or_default() += 1;
        }
    }

    /// The findings that count for `table.column`, if any.
    pub fn get(&self, table: &TableName, column: &str) -> Option<BTreeSet<Finding>> {
        self.columns
            .get(&(table.clone(), column.to_string()))
            .map(ColumnSample::findings)
            .filter(|found| !found.is_empty())
    }
}

/// Whether values of this type are worth sampling: text of any kind, json, xml, arrays, bytea.
pub fn is_sampled(column: &Column) -> bool {
    let base = &column.sql_type.base;
    base.is_textual()
        || column.sql_type.array
        || matches!(base, BaseType::Json | BaseType::Jsonb | BaseType::Bytea)
        || matches!(base, BaseType::Other(name) if name == "xml")
}

/// How the type of `column` bears on its class.
pub fn type_kind(column: &Column) -> TypeKind {
    let base = &column.sql_type.base;
    if column.sql_type.array
        && (base.is_textual() || matches!(base, BaseType::Json | BaseType::Jsonb))
    {
        return TypeKind::Text;
    }
    match base {
        b if b.is_textual() => TypeKind::Text,
        b if b.is_integer() => TypeKind::Integer,
        BaseType::Numeric | BaseType::Float4 | BaseType::Float8 => TypeKind::Decimal,
        BaseType::Bool => TypeKind::Bool,
        b if b.is_temporal() => TypeKind::Temporal,
        BaseType::Uuid => TypeKind::Uuid,
        BaseType::Inet | BaseType::Cidr => TypeKind::Inet,
        BaseType::Json | BaseType::Jsonb => TypeKind::Json,
        BaseType::Bytea => TypeKind::Bytes,
        BaseType::Enum => TypeKind::Enum,
        BaseType::Other(name) if name == "xml" => TypeKind::Xml,
        BaseType::Other(name) if name == "citext" => TypeKind::Text,
        _ => TypeKind::Other,
    }
}

/// The class of a column from its name and type; a column that references a key (a
/// single-column foreign key) takes the class of the key it references, never its own name's.
pub fn classify_column(catalog: &Catalog, table: &Table, column: &Column) -> Option<NameClass> {
    let mut current = (table, column);
    for _ in 0..16 {
        let (table, column) = current;
        let referenced = table
            .foreign_keys
            .iter()
            .find(|fk| fk.columns.len() == 1 && fk.columns[0] == column.name)
            .and_then(|fk| {
                let ref_table = catalog.table(&fk.referenced_table)?;
                let ref_column = ref_table.column(&fk.referenced_columns[0])?;
                Some((ref_table, ref_column))
            });
        match referenced {
            Some(next) if !std::ptr::eq(next.1, column) => current = next,
            _ => return classify(&table.name.name, &column.name, type_kind(column)),
        }
    }
    None
}

/// A suggested rule for a new column, for `todo` comments and `policy init`: one strategy per
/// kind of data (every phone or fax `fake.phone`, every street address `fake.street_address`),
/// and only one that fits the column's type (never `fake.email` on an integer or a whole jsonb).
pub fn suggest(table: &TableName, column: &Column, findings: Option<&BTreeSet<Finding>>) -> String {
    let kind = type_kind(column);
    let by_value = findings
        .and_then(|found| found.iter().next())
        .map(|finding| by_finding(*finding));
    let words = words(&column.name);
    let class = classify(&table.name, &column.name, kind);
    let by_name = match class {
        Some(NameClass::Sensitive) => Some(
            if words
                .iter()
                .any(|w| ["password", "passwd", "pwd", "passphrase"].contains(&w.as_str()))
            {
                "redact"
            } else {
                "hash"
            },
        ),
        Some(NameClass::Personal) => Some(by_personal_words(&table.name, &words, kind)),
        None => None,
    };
    let free_text = kind == TypeKind::Text
        && words.last().is_some_and(|last| {
            [
                "body",
                "message",
                "content",
                "text",
                "description",
                "comment",
                "comments",
                "notes",
                "note",
                "memo",
            ]
            .contains(&last.as_str())
        });
    let Some(strategy) = by_value.or(by_name).or(free_text.then_some("redact")) else {
        return "keep".to_string();
    };
    if fits(strategy, column) {
        return strategy.to_string();
    }
    // A kind of data the type cannot hold as such (a whole jsonb of contact details, a bytea
    // photo, a numeric phone): a strategy every type takes.
    match kind {
        TypeKind::Temporal => "generalise.year",
        TypeKind::Integer | TypeKind::Decimal | TypeKind::Uuid | TypeKind::Inet => "hash",
        _ => "redact",
    }
    .to_string()
}

fn by_finding(finding: Finding) -> &'static str {
    match finding {
        Finding::PasswordHash | Finding::PrivateKey | Finding::UrlCredentials | Finding::Jwt => {
            "redact"
        }
        Finding::CardNumber | Finding::Token | Finding::Iban | Finding::NationalId => "hash",
        Finding::Email => "fake.email",
        Finding::Phone => "fake.phone",
        Finding::IpAddress => "fake.ipv4",
        Finding::Postcode => "fake.postcode",
        Finding::StreetAddress => "fake.street_address",
        Finding::PersonName => "fake.name",
        Finding::Document => "null",
    }
}

fn by_personal_words(table: &str, words: &[String], kind: TypeKind) -> &'static str {
    let has = |list: &[&str]| words.iter().any(|word| list.contains(&word.as_str()));
    let last = words.last().map(String::as_str).unwrap_or("");
    match () {
        _ if has(&["email", "emails", "mail"]) => "fake.email",
        _ if has(&[
            "phone",
            "mobile",
            "telephone",
            "tel",
            "fax",
            "msisdn",
            "cell",
        ]) =>
        {
            "fake.phone"
        }
        _ if has(&["birth", "birthday", "birthdate", "dob", "born"]) => "generalise.year",
        _ if has(&["postcode", "zip", "zipcode", "postal"]) => "fake.postcode",
        _ if has(&["street", "address", "addressline", "addresses"]) && !has(&["ip"]) => {
            "fake.street_address"
        }
        _ if has(&["ip", "ipv4", "ipaddr", "ipv6"]) || kind == TypeKind::Inet => "fake.ipv4",
        _ if has(&["first", "given", "forename", "firstname", "middle"]) && last == "name"
            || has(&["firstname", "forename"]) =>
        {
            "fake.first_name"
        }
        _ if has(&["last", "family", "surname", "lastname", "maiden"]) => "fake.last_name",
        _ if has(&["username", "login", "handle", "nickname", "nick", "screen"]) => "fake.username",
        _ if last == "name"
            || last == "fullname"
            || (words == ["name"] && is_people_table(table)) =>
        {
            "fake.name"
        }
        _ if has(&["website", "homepage", "url", "uri"]) => "fake.url",
        _ if has(&[
            "avatar",
            "photo",
            "picture",
            "portrait",
            "selfie",
            "signature",
        ]) =>
        {
            "null"
        }
        _ => "redact",
    }
}

/// Whether the strategy written as `name` applies to the column's type.
fn fits(name: &str, column: &Column) -> bool {
    let strategy = match name {
        "keep" => Strategy::Keep,
        "null" => Strategy::Null,
        "redact" => Strategy::Redact,
        "hash" => Strategy::Hash,
        "generalise.year" => Strategy::Generalise(Generalise::Year),
        fake => {
            let Some(kind) = fake
                .strip_prefix("fake.")
                .and_then(|kind| FakeKind::ALL.iter().find(|(_, known)| *known == kind))
                .map(|(kind, _)| *kind)
            else {
                return false;
            };
            Strategy::Fake(FakeSpec {
                kind,
                locale: Default::default(),
                min: None,
                max: None,
            })
        }
    };
    crate::policy::model::type_problem(&strategy, &column.sql_type).is_none()
        && !(column.sql_type.array && matches!(strategy, Strategy::Fake(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqltype::SqlType;

    fn column(name: &str, base: BaseType, display: &str) -> Column {
        Column::new(name, SqlType::simple(base, display))
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
                .into_iter()
                .collect::<Vec<_>>(),
            vec![Finding::Email]
        );
    }

    #[test]
    fn loose_shapes_need_many_values() {
        let table = TableName {
            schema: "public".into(),
            name: "t".into(),
        };
        let mut samples = Samples::default();
        samples.add(&table, "code", "98052");
        for _ in 0..9 {
            samples.add(&table, "code", "widget");
        }
        assert_eq!(samples.get(&table, "code"), None);
        for _ in 0..10 {
            samples.add(&table, "code", "98052");
        }
        assert_eq!(
            samples.get(&table, "code"),
            Some(BTreeSet::from([Finding::Postcode]))
        );
    }

    /// Numeric migration versions are not card numbers, whatever their checksum.
    #[test]
    fn migration_versions_are_not_cards() {
        let table = TableName {
            schema: "public".into(),
            name: "schema_migrations".into(),
        };
        let mut samples = Samples::default();
        for version in [
            "20240101120000",
            "20231105093012",
            "20190522141233",
            "20210817094500",
            "4",
            "20240315000001",
        ] {
            samples.add(&table, "version", version);
        }
        assert_eq!(samples.get(&table, "version"), None);
    }

    #[test]
    fn suggestions_fit_the_type_and_agree_across_copies() {
        let users = TableName {
            schema: "public".into(),
            name: "users".into(),
        };
        let cases = [
            (column("email", BaseType::Text, "text"), "fake.email"),
            (column("email_count", BaseType::Int4, "integer"), "keep"),
            (column("email", BaseType::Int4, "integer"), "keep"),
            (
                column("email_confirmed_at", BaseType::Timestamptz, "timestamptz"),
                "keep",
            ),
            (column("contact_email", BaseType::Jsonb, "jsonb"), "redact"),
            (column("phone", BaseType::Text, "text"), "fake.phone"),
            (column("fax", BaseType::Varchar, "varchar"), "fake.phone"),
            (
                column("mobile_number", BaseType::Text, "text"),
                "fake.phone",
            ),
            (
                column("addressline1", BaseType::Text, "text"),
                "fake.street_address",
            ),
            (
                column("street", BaseType::Text, "text"),
                "fake.street_address",
            ),
            (column("phone", BaseType::Int8, "bigint"), "hash"),
            (
                column("date_of_birth", BaseType::Date, "date"),
                "generalise.year",
            ),
            (
                column("last_sign_in_ip", BaseType::Inet, "inet"),
                "fake.ipv4",
            ),
            (column("password_digest", BaseType::Text, "text"), "redact"),
            (column("api_token", BaseType::Text, "text"), "hash"),
            (column("photo", BaseType::Bytea, "bytea"), "null"),
        ];
        for (column, expected) in cases {
            assert_eq!(suggest(&users, &column, None), expected, "{}", column.name);
        }
        let email = BTreeSet::from([Finding::Email]);
        assert_eq!(
            suggest(
                &users,
                &column("prefs", BaseType::Jsonb, "jsonb"),
                Some(&email)
            ),
            "redact"
        );
        assert_eq!(
            suggest(
                &users,
                &column("extra", BaseType::Text, "text"),
                Some(&email)
            ),
            "fake.email"
        );
    }
}
