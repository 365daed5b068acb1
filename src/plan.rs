//! The one resolver: policy × catalog → what every table gives (skip, copy, keep whole) and
//! the rule every column really gets, with where that rule came from (its own line, or the key
//! a foreign key follows). Pure. check-policy, pull-prod, `--to-file`, seed-dev, `policy doc`
//! and the benchmark all ask `resolve`; nobody else decides which rule applies to a column.
//! It also judges what needs no data: the type fits the strategy, `null` on NOT NULL, a
//! foreign key transformed like its key, a transform that can be built, and `unique` where a
//! unique index needs it (G11). `fit.rs` adds what needs sampled values.

use std::collections::BTreeSet;

use crate::diag::{Code, Diagnostic};
use crate::policy::model::{
    FakeKind, Generalise, Origin, Policy, Rule, Strategy, TableAction, TableName, TableRule,
};
pub use crate::policy::model::{strategy_name, type_problem};
use crate::policy::validate::{column_key, policy_table_name, short_strategy};
use crate::schema::{Catalog, Column, Table, TableKind};
use crate::sqltype::BaseType;
use crate::transform::{ColumnTransform, Format, Salt};

/// How deep a foreign key is followed to the key it references (a key of a key of …).
const MAX_FOLLOW_DEPTH: usize = 8;

/// Every table of the catalog with what happens to it, in catalog order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub tables: Vec<PlannedTable>,
}

#[derive(Debug, Clone)]
pub struct PlannedTable {
    pub table: TableName,
    pub kind: TableKind,
    /// The policy entry whose rules apply: the table's own, or a partition's nearest classified
    /// ancestor's. `None`: not classified.
    pub rules_from: Option<TableName>,
    pub action: Action,
    /// The policy's `where` condition (of `rules_from`).
    pub filter: Option<String>,
    /// Every column in attribute order, generated ones included (they are never copied).
    pub columns: Vec<PlannedColumn>,
    pub estimated_rows: i64,
    pub total_bytes: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// No policy entry (check-policy reports it; a pull refuses).
    Unclassified,
    /// `skip = true`: schema only.
    Skip,
    /// Rows copied, each column by its rule.
    Copy,
    /// `keep = { reason }`: every column in clear.
    KeepAll { reason: String },
}

#[derive(Debug, Clone)]
pub struct PlannedColumn {
    pub column: Column,
    /// The rule applied to the column's values. `None`: not classified, still `todo`, or its
    /// rule was invalid (already reported).
    pub rule: Option<Rule>,
    pub from: RuleFrom,
}

/// Where a column's effective rule came from.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleFrom {
    /// Its own line in the policy.
    Own(Origin),
    /// The table's `keep = { reason }` (or a skipped table: nothing is copied).
    Table(Origin),
    /// A foreign key takes the rule of the key it references (G6): `table.column`, whose own
    /// line is `origin`; `own` is the column's own line.
    Key {
        table: TableName,
        column: String,
        origin: Origin,
        own: Origin,
    },
    /// No rule.
    Nothing,
}

impl RuleFrom {
    /// The policy line a finding about this column points at: its own line when it has one.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            RuleFrom::Own(origin) | RuleFrom::Table(origin) => Some(origin),
            RuleFrom::Key { own, .. } => Some(own),
            RuleFrom::Nothing => None,
        }
    }
}

impl Plan {
    /// By binary search: tables are planned in the catalog's order, which is sorted by name.
    pub fn table(&self, name: &TableName) -> Option<&PlannedTable> {
        self.tables
            .binary_search_by(|table| table.table.cmp(name))
            .ok()
            .map(|index| &self.tables[index])
    }

    /// The rule `table.column` gets, if it is classified and copied.
    pub fn rule(&self, table: &TableName, column: &str) -> Option<&Rule> {
        self.table(table)?.column(column)?.rule.as_ref()
    }
}

impl PlannedTable {
    pub fn column(&self, name: &str) -> Option<&PlannedColumn> {
        self.columns
            .iter()
            .find(|column| column.column.name == name)
    }

    /// Rows of this table are read and written (a partitioned parent holds none itself).
    pub fn holds_rows(&self) -> bool {
        self.kind != TableKind::Partitioned
    }
}

impl PlannedColumn {
    /// The column's own rule as written (not the key's it follows).
    pub fn follows_key(&self) -> bool {
        matches!(self.from, RuleFrom::Key { .. })
    }
}

/// The policy entry whose rules `table` follows: its own, or for a partition its nearest
/// classified ancestor's.
pub fn table_rule<'a>(
    policy: &'a Policy,
    catalog: &Catalog,
    table: &TableName,
) -> Option<&'a TableRule> {
    let mut current = table.clone();
    for _ in 0..32 {
        if let Some(rule) = policy.table(&current) {
            return Some(rule);
        }
        current = catalog.table(&current)?.parent.clone()?;
    }
    None
}

/// Resolve every table and column, and report every rule that cannot run as written.
pub fn resolve(policy: &Policy, catalog: &Catalog) -> (Plan, Vec<Diagnostic>) {
    let mut plan = Plan::default();
    let mut diagnostics = Vec::new();
    for table in &catalog.tables {
        let table_rule = table_rule(policy, catalog, &table.name);
        let action = match table_rule.map(|rule| &rule.action) {
            None => Action::Unclassified,
            Some(TableAction::Skip) => Action::Skip,
            Some(TableAction::Copy) => Action::Copy,
            Some(TableAction::KeepAll { reason }) => Action::KeepAll {
                reason: reason.clone(),
            },
        };
        let mut columns = Vec::with_capacity(table.columns.len());
        for column in &table.columns {
            let (rule, from) = match (&action, table_rule) {
                (Action::KeepAll { reason }, Some(rule)) => (
                    Some(Rule {
                        reason: Some(reason.clone()),
                        ..Rule::keep()
                    }),
                    RuleFrom::Table(rule.origin.clone()),
                ),
                (Action::Copy, Some(_)) => {
                    let resolved = column_rule(policy, catalog, table, &column.name);
                    if let Some(diagnostic) = fk_mismatch(policy, catalog, table, column) {
                        diagnostics.push(diagnostic);
                    }
                    resolved
                }
                (Action::Skip, Some(rule)) => (None, RuleFrom::Table(rule.origin.clone())),
                _ => (None, RuleFrom::Nothing),
            };
            if let Some(rule) = &rule {
                diagnostics.extend(column_problems(
                    table_rule.map_or(&table.name, |rule| &rule.table),
                    column,
                    rule,
                    &from,
                    &[],
                    &mut |_| true,
                ));
            }
            columns.push(PlannedColumn {
                column: column.clone(),
                rule,
                from,
            });
        }
        plan.tables.push(PlannedTable {
            table: table.name.clone(),
            kind: table.kind,
            rules_from: table_rule.map(|rule| rule.table.clone()),
            action,
            filter: table_rule.and_then(|rule| rule.filter.clone()),
            columns,
            estimated_rows: table.estimated_rows,
            total_bytes: table.total_bytes,
        });
    }
    crate::diag::sort(&mut diagnostics);
    (plan, diagnostics)
}

/// The column's own rule as written, with its line (`None` for a missing rule or `todo`).
fn own_rule(
    policy: &Policy,
    catalog: &Catalog,
    table: &TableName,
    column: &str,
) -> Option<(Rule, Origin)> {
    let table_rule = table_rule(policy, catalog, table)?;
    match &table_rule.action {
        TableAction::Skip => None,
        TableAction::KeepAll { .. } => Some((Rule::keep(), table_rule.origin.clone())),
        TableAction::Copy => {
            let column_rule = table_rule.column(column)?;
            (!matches!(column_rule.rule.strategy, Strategy::Todo { .. }))
                .then(|| (column_rule.rule.clone(), column_rule.origin.clone()))
        }
    }
}

/// The key `table.column` references through a foreign key (single-column or composite)
/// declared on the table or, for a partition, on its ancestors.
fn referenced_key<'a>(
    catalog: &'a Catalog,
    table: &'a Table,
    column: &str,
) -> Option<(&'a TableName, &'a str)> {
    let mut current = table;
    for _ in 0..32 {
        if let Some((referenced, referenced_column)) = current.references(column) {
            let same = referenced == &table.name && referenced_column == column;
            return (!same).then_some((referenced, referenced_column));
        }
        current = catalog.table(current.parent.as_ref()?)?;
    }
    None
}

/// The rule a column really gets: its own, except that a foreign key whose own rule is not
/// `null` takes the rule of the key it references when that key is transformed, so joins
/// still match after anonymisation (G6). Depth-bounded and cycle-safe.
fn column_rule(
    policy: &Policy,
    catalog: &Catalog,
    table: &Table,
    column: &str,
) -> (Option<Rule>, RuleFrom) {
    let Some((rule, own)) = own_rule(policy, catalog, &table.name, column) else {
        return (None, RuleFrom::Nothing);
    };
    if matches!(rule.strategy, Strategy::Null) {
        return (Some(rule), RuleFrom::Own(own));
    }
    let mut seen = BTreeSet::from([(table.name.clone(), column.to_string())]);
    let mut current = (table, column.to_string());
    let mut followed = None;
    for _ in 0..MAX_FOLLOW_DEPTH {
        let Some((next_table, next_column)) = referenced_key(catalog, current.0, &current.1) else {
            break;
        };
        if !seen.insert((next_table.clone(), next_column.to_string())) {
            break;
        }
        let Some(next) = catalog.table(next_table) else {
            break;
        };
        match own_rule(policy, catalog, next_table, next_column) {
            Some((key_rule, origin)) if !key_rule.is_keep() => {
                followed = Some((
                    key_rule,
                    next_table.clone(),
                    next_column.to_string(),
                    origin,
                ));
                break;
            }
            // A kept key may itself follow another key.
            Some(_) => current = (next, next_column.to_string()),
            None => break,
        }
    }
    match followed {
        Some((key_rule, key_table, key_column, origin))
            if !matches!(key_rule.strategy, Strategy::Null) =>
        {
            (
                Some(key_rule),
                RuleFrom::Key {
                    table: key_table,
                    column: key_column,
                    origin,
                    own,
                },
            )
        }
        _ => (Some(rule), RuleFrom::Own(own)),
    }
}

/// `fk-mismatch`: a foreign key written with a rule of its own that differs from its key's.
fn fk_mismatch(
    policy: &Policy,
    catalog: &Catalog,
    table: &Table,
    column: &Column,
) -> Option<Diagnostic> {
    let (rule, own) = own_rule(policy, catalog, &table.name, &column.name)?;
    let (ref_table, ref_column) = referenced_key(catalog, table, &column.name)?;
    let ref_table = catalog.table(ref_table)?;
    let (Some(ref_rule), _) = column_rule(policy, catalog, ref_table, ref_column) else {
        return None;
    };
    let consistent = if ref_rule.is_keep() {
        rule.is_keep() || matches!(rule.strategy, Strategy::Null)
    } else {
        rule.is_keep()
            || rule.strategy == ref_rule.strategy
            || matches!(rule.strategy, Strategy::Null)
    };
    if consistent {
        return None;
    }
    let rules_table = table_rule(policy, catalog, &table.name).map_or(&table.name, |r| &r.table);
    let label = format!("{}.{}", policy_table_name(rules_table), column.name);
    let ref_label = format!("{}.{ref_column}", policy_table_name(&ref_table.name));
    Some(
        Diagnostic::error(
            Code::FkMismatch,
            &own.file,
            own.span.clone(),
            format!(
                "`{label}` references `{ref_label}` but is transformed differently (`{}` vs `{}`)",
                strategy_name(&rule.strategy),
                strategy_name(&ref_rule.strategy)
            ),
        )
        .with_help(format!(
            "write `{} = \"keep\"`: a foreign key follows the rule of the key it references",
            column_key(&column.name)
        )),
    )
}

/// Type, NOT NULL, transform and unique-index findings for one column's effective rule. Each
/// help names a rule that passes the static checks, `extra` candidates considered, and `also`
/// (the sampled checks when there is a database: `fit`).
pub fn column_problems(
    table: &TableName,
    column: &Column,
    rule: &Rule,
    from: &RuleFrom,
    extra: &[Rule],
    also: &mut dyn FnMut(&Rule) -> bool,
) -> Vec<Diagnostic> {
    let Some(origin) = from.origin() else {
        return Vec::new();
    };
    let label = format!("{}.{}", policy_table_name(table), column.name);
    if column.generated {
        // Never copied: the dev database computes it from the anonymised columns.
        if rule.is_keep() {
            return Vec::new();
        }
        return vec![
            Diagnostic::warning(
                Code::IneffectiveRule,
                &origin.file,
                origin.span.clone(),
                format!(
                    "`{label}` is a generated column: the dev database computes it from the \
                     anonymised columns, so `{}` has no effect",
                    strategy_name(&rule.strategy)
                ),
            )
            .with_help(format!(
                "write `{} = \"keep\"`; the columns it is computed from need the rules",
                column_key(&column.name)
            )),
        ];
    }
    let (code, message) = if let Some(problem) = type_problem(&rule.strategy, &column.sql_type) {
        (Code::TypeMismatch, format!("`{label}`: {problem}"))
    } else if matches!(rule.strategy, Strategy::Null) && column.not_null {
        (
            Code::TypeMismatch,
            format!("`{label}` is NOT NULL but its rule is `null`"),
        )
    } else if let Some(problem) = static_fit(rule, column) {
        (Code::DoesNotFit, format!("`{label}`: {problem}"))
    } else {
        return Vec::new();
    };
    let help = match from {
        RuleFrom::Key {
            table, column: key, ..
        } => key_help(table, key),
        _ => fit_help(table, column, rule, extra, also),
    };
    vec![Diagnostic::error(code, &origin.file, origin.span.clone(), message).with_help(help)]
}

/// The help for a foreign key whose key's rule does not fit it.
pub fn key_help(key_table: &TableName, key_column: &str) -> String {
    format!(
        "a foreign key takes the rule of the key it references: give `{}.{key_column}` a rule that fits both columns",
        policy_table_name(key_table)
    )
}

/// The salt the static checks build transforms with (construction never depends on the salt).
fn check_salt() -> Salt {
    Salt::new(b"pullprod check-policy: construction does not depend on the salt".to_vec())
}

/// Why `rule` cannot run on `column` whatever the data, if it cannot: the transform cannot be
/// built for the type or width, or a unique index needs `unique = true`.
pub fn static_fit(rule: &Rule, column: &Column) -> Option<String> {
    if rule.is_keep() || matches!(rule.strategy, Strategy::Todo { .. }) {
        return None;
    }
    if let Some(problem) = type_problem(&rule.strategy, &column.sql_type) {
        return Some(problem);
    }
    if matches!(rule.strategy, Strategy::Null) {
        if column.not_null {
            return Some("the column is NOT NULL but its rule is `null`".to_string());
        }
        // `null` on an array empties each element: `{NULL,NULL}` twice breaks the index.
        return (column.unique && column.sql_type.array).then(|| {
            "a unique index covers the column but `null` on an array keeps its length and empties its elements, so arrays collide".to_string()
        });
    }
    if let Err(err) = ColumnTransform::new(rule, &column.sql_type, Format::Text, &check_salt()) {
        return Some(err.0);
    }
    if column.unique && !rule.unique {
        return Some(format!(
            "a unique index covers the column but `{}` without `unique = true` can give two rows the same value",
            strategy_name(&rule.strategy)
        ));
    }
    None
}

/// Rules worth proposing instead of `failing` on `column`, closest first; `extra` (constants a
/// CHECK constraint names, from `fit`) before `null`.
pub fn candidates(table: &TableName, column: &Column, failing: &Rule, extra: &[Rule]) -> Vec<Rule> {
    let sql_type = &column.sql_type;
    let base = &sql_type.base;
    let mut out = Vec::new();
    let needs_unique = column.unique;
    // What the column's name suggests, when the written strategy does not apply to its type.
    if type_problem(&failing.strategy, sql_type).is_some()
        && let Some(strategy) = short_strategy(&crate::detect::suggest(table, column, None))
        && !matches!(strategy, Strategy::Keep | Strategy::Todo { .. })
    {
        out.push(if needs_unique {
            Rule::unique(strategy)
        } else {
            Rule::new(strategy)
        });
    }
    if failing.unique && !needs_unique {
        out.push(Rule::new(failing.strategy.clone()));
    }
    if needs_unique && !failing.unique {
        out.push(Rule::unique(failing.strategy.clone()));
    }
    let uniqueness = |strategy: Strategy| {
        if needs_unique {
            Rule::unique(strategy)
        } else {
            Rule::new(strategy)
        }
    };
    if let Strategy::Fake(spec) = &failing.strategy {
        // The same kind of value, one that can be unique or fits the width.
        let alternative = match spec.kind {
            FakeKind::Phone | FakeKind::Ipv4 | FakeKind::Date | FakeKind::DateOfBirth => {
                Some(FakeKind::Username)
            }
            _ => None,
        };
        if let Some(kind) = alternative {
            out.push(uniqueness(Strategy::fake(kind)));
        }
    }
    out.push(uniqueness(Strategy::Hash));
    if base.is_textual() || *base == BaseType::Uuid {
        out.push(uniqueness(Strategy::fake(FakeKind::Uuid)));
        out.push(uniqueness(Strategy::fake(FakeKind::Username)));
    }
    if !needs_unique {
        out.push(Rule::new(Strategy::Redact));
    }
    out.extend(extra.iter().cloned());
    if !column.not_null {
        out.push(Rule::new(Strategy::Null));
    }
    out.retain(|rule| rule != failing && rule_toml(rule).is_some());
    out.dedup();
    out
}

/// The help of a rule that does not fit: the first candidate that passes the static checks and
/// `also` (the sampled checks, with a database), written as the line to put in the policy.
pub fn fit_help(
    table: &TableName,
    column: &Column,
    failing: &Rule,
    extra: &[Rule],
    also: &mut dyn FnMut(&Rule) -> bool,
) -> String {
    match suggestion(table, column, failing, extra, also) {
        Some(rule) => format!(
            "write `{} = {}`, which fits",
            column_key(&column.name),
            rule_toml(&rule).expect("candidates are writable")
        ),
        None => format!(
            "no strategy fits `{}`{}: keep it with a written reason if it holds no personal data, or change the column",
            column.sql_type.display,
            if column.unique {
                " under a unique index"
            } else {
                ""
            }
        ),
    }
}

/// The first candidate that passes the static checks and `also`.
pub fn suggestion(
    table: &TableName,
    column: &Column,
    failing: &Rule,
    extra: &[Rule],
    also: &mut dyn FnMut(&Rule) -> bool,
) -> Option<Rule> {
    candidates(table, column, failing, extra)
        .into_iter()
        .find(|rule| static_fit(rule, column).is_none() && also(rule))
}

/// A rule in the policy language (`"hash"`, `{ hash = true, unique = true }`, …), for the
/// strategies help texts propose.
pub fn rule_toml(rule: &Rule) -> Option<String> {
    let (short, long) = match &rule.strategy {
        Strategy::Keep => ("keep".to_string(), "keep = true".to_string()),
        Strategy::Null => ("null".into(), "null = true".into()),
        Strategy::Redact => ("redact".into(), "redact = true".into()),
        Strategy::Hash => ("hash".into(), "hash = true".into()),
        Strategy::Generalise(Generalise::Month | Generalise::Year) if !rule.unique => {
            (strategy_name(&rule.strategy), String::new())
        }
        Strategy::Fake(spec)
            if spec.min.is_none() && spec.max.is_none() && spec.locale == Default::default() =>
        {
            (
                format!("fake.{}", spec.kind.name()),
                format!("fake = \"{}\"", spec.kind.name()),
            )
        }
        Strategy::Const(text) => {
            let literal = toml_edit::Value::from(text.as_str()).to_string();
            return (!rule.unique && rule.reason.is_none())
                .then(|| format!("{{ const = {} }}", literal.trim()));
        }
        _ => return None,
    };
    if rule.reason.is_some() {
        return None;
    }
    Some(if rule.unique {
        format!("{{ {long}, unique = true }}")
    } else {
        format!("\"{short}\"")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::validate::{PolicyFile, parse};
    use crate::schema::ForeignKey;
    use crate::sqltype::SqlType;

    fn name(text: &str) -> TableName {
        TableName::new("public", text)
    }

    fn column(name: &str, sql_type: SqlType) -> Column {
        Column::new(name, sql_type)
    }

    fn text() -> SqlType {
        SqlType::simple(BaseType::Text, "text")
    }

    fn table(table_name: &str, columns: Vec<Column>, foreign_keys: Vec<ForeignKey>) -> Table {
        Table {
            name: name(table_name),
            kind: TableKind::Ordinary,
            parent: None,
            columns,
            primary_key: Vec::new(),
            foreign_keys,
            estimated_rows: 0,
            total_bytes: 0,
            row_security: false,
        }
    }

    fn fk(columns: &[&str], to: &str, to_columns: &[&str]) -> ForeignKey {
        ForeignKey {
            constraint: format!("{}_fkey", columns.join("_")),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            referenced_table: name(to),
            referenced_columns: to_columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn policy(text: &str) -> Policy {
        let parsed = parse(&[PolicyFile {
            path: "policy/p.toml".into(),
            text: text.into(),
        }]);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        parsed.policy
    }

    /// accounts(region, code) hashed; orders references it through a composite key; an
    /// `events` partition declares its own key to orders; a self-cycle on `nodes`.
    fn catalog() -> Catalog {
        let accounts = table(
            "accounts",
            vec![column("region", text()), column("code", text())],
            Vec::new(),
        );
        let orders = table(
            "orders",
            vec![
                column("id", text()),
                column("region", text()),
                column("code", text()),
            ],
            vec![fk(&["region", "code"], "accounts", &["region", "code"])],
        );
        let mut events = table("events", vec![column("order_id", text())], Vec::new());
        events.kind = TableKind::Partitioned;
        let mut events_1 = table(
            "events_1",
            vec![column("order_id", text())],
            vec![fk(&["order_id"], "orders", &["id"])],
        );
        events_1.kind = TableKind::Partition;
        events_1.parent = Some(name("events"));
        let nodes = table(
            "nodes",
            vec![column("a", text()), column("b", text())],
            vec![fk(&["a"], "nodes", &["b"]), fk(&["b"], "nodes", &["a"])],
        );
        let mut catalog = Catalog {
            tables: vec![accounts, orders, events, events_1, nodes],
            ..Catalog::default()
        };
        catalog.sort();
        catalog
    }

    const POLICY: &str = r#"
[accounts]
region = "keep"
code = "hash"

[orders]
id = "fake.uuid"
region = "keep"
code = "keep"

[events]
order_id = "keep"

[nodes]
a = "keep"
b = "keep"
"#;

    #[test]
    fn keys_are_followed_through_composites_partitions_and_cycles() {
        let (plan, diagnostics) = resolve(&policy(POLICY), &catalog());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let rule = |table: &str, column: &str| {
            plan.rule(&name(table), column)
                .map(|rule| strategy_name(&rule.strategy))
        };
        // A composite key's second column follows the hashed key.
        assert_eq!(rule("orders", "code").as_deref(), Some("hash"));
        assert_eq!(rule("orders", "region").as_deref(), Some("keep"));
        // The partition follows its parent's rules, and its own key to orders.
        let partition = plan.table(&name("events_1")).expect("planned");
        assert_eq!(partition.rules_from, Some(name("events")));
        assert_eq!(rule("events_1", "order_id").as_deref(), Some("fake.uuid"));
        assert!(partition.column("order_id").expect("column").follows_key());
        // The parent itself declares no key: its column stays kept.
        assert_eq!(rule("events", "order_id").as_deref(), Some("keep"));
        // A cycle of kept keys ends.
        assert_eq!(rule("nodes", "a").as_deref(), Some("keep"));
    }

    #[test]
    fn a_foreign_key_with_its_own_different_rule_is_a_mismatch() {
        let text = POLICY.replace("code = \"keep\"", "code = \"redact\"");
        let (_, diagnostics) = resolve(&policy(&text), &catalog());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].code, Code::FkMismatch);
    }

    #[test]
    fn a_unique_index_needs_unique_and_the_suggestion_fits() {
        let mut catalog = catalog();
        catalog.tables[0].columns[1].unique = true;
        catalog.tables[0].columns[1].sql_type = SqlType {
            max_chars: Some(15),
            ..SqlType::simple(BaseType::Varchar, "character varying(15)")
        };
        let (_, diagnostics) = resolve(&policy(POLICY), &catalog);
        let finding = diagnostics
            .iter()
            .find(|d| d.message.starts_with("`accounts.code`"))
            .expect("a finding for accounts.code");
        assert_eq!(finding.code, Code::DoesNotFit);
        assert!(
            finding.message.contains("unique index"),
            "{}",
            finding.message
        );
        // `hash` with `unique` needs 20 characters: the help proposes `null`, which fits.
        assert_eq!(
            finding.help.as_deref(),
            Some("write `code = \"null\"`, which fits")
        );
        let column = &catalog.tables[0].columns[1];
        assert!(static_fit(&Rule::new(Strategy::Null), column).is_none());
        assert!(static_fit(&Rule::unique(Strategy::Hash), column).is_some());
    }

    #[test]
    fn unique_on_an_enum_gets_advice_that_holds() {
        let enum_type = SqlType {
            enum_labels: vec!["a".into(), "b".into()],
            ..SqlType::simple(BaseType::Enum, "mood")
        };
        let column = column("mood", enum_type);
        let problem = static_fit(&Rule::unique(Strategy::Hash), &column).expect("refused");
        assert!(problem.contains("unique"), "{problem}");
        let help = fit_help(
            &name("t"),
            &column,
            &Rule::unique(Strategy::Hash),
            &[],
            &mut |_| true,
        );
        assert_eq!(help, "write `mood = \"hash\"`, which fits");
    }
}
