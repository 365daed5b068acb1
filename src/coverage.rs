//! Policy against a schema: every table and column classified, nothing stale, rules fit
//! their column types, sensitive data never kept, personal data kept only with a reason,
//! foreign keys transformed like the keys they reference. Pure.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::detect::{NameClass, Samples, classify_column};
use crate::diag::{Code, Diagnostic};
use crate::policy::model::{
    FakeKind, Generalise, Policy, Rule, Strategy, TableAction, TableName, TableRule,
};
use crate::policy::validate::policy_table_name;
use crate::schema::{Catalog, Column, Table};
use crate::sqltype::{BaseType, SqlType};

/// What coverage needs besides the policy and the catalog.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The policy folder or file: where findings with no position in a file point.
    pub policy_path: PathBuf,
    /// Tables (column `None`) and columns whose rules were written but invalid (already reported).
    pub broken: BTreeSet<(TableName, Option<String>)>,
}

/// Every coverage problem of `policy` against `catalog` (and the sampled findings, if any).
pub fn check(
    policy: &Policy,
    catalog: &Catalog,
    samples: Option<&Samples>,
    context: &Context,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let empty = Samples::default();
    let samples = samples.unwrap_or(&empty);
    for table in &catalog.tables {
        if context.broken.contains(&(table.name.clone(), None)) {
            continue;
        }
        match policy.table(&table.name) {
            Some(rule) => check_table(
                policy,
                catalog,
                samples,
                context,
                table,
                rule,
                &mut diagnostics,
            ),
            None if inherited_rule(policy, catalog, table).is_some() => {}
            // A partition of a table in the catalog: reported (and fixed) through its parent.
            None if table
                .parent
                .as_ref()
                .is_some_and(|parent| catalog.table(parent).is_some()) => {}
            None => diagnostics.push(unclassified_table(table, context)),
        }
    }
    for rule in &policy.tables {
        if catalog.table(&rule.table).is_none() {
            diagnostics.push(
                Diagnostic::error(
                    Code::StaleRule,
                    &rule.origin.file,
                    rule.origin.span.clone(),
                    format!(
                        "table `{}` is in the policy but not in the database",
                        rule.table
                    ),
                )
                .with_help(format!(
                    "remove `[{}]`, or check the table's name and schema",
                    policy_table_name(&rule.table)
                )),
            );
        }
    }
    diagnostics.extend(crate::subset::check(policy, catalog));
    crate::diag::sort(&mut diagnostics);
    diagnostics
}

/// The rule a table's rows follow: its own, or for a partition its nearest classified ancestor's.
pub fn effective_rule<'a>(
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

/// The rule one column follows (`keep` for a whole-table keep), `None` for skipped tables or no rule.
pub fn column_rule(
    policy: &Policy,
    catalog: &Catalog,
    table: &TableName,
    column: &str,
) -> Option<Rule> {
    let rule = effective_rule(policy, catalog, table)?;
    match &rule.action {
        TableAction::Skip => None,
        TableAction::KeepAll { reason } => Some(Rule {
            strategy: Strategy::Keep,
            unique: false,
            reason: Some(reason.clone()),
            not_sensitive: None,
        }),
        TableAction::Copy => rule
            .column(column)
            .map(|column_rule| column_rule.rule.clone()),
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

fn inherited_rule<'a>(
    policy: &'a Policy,
    catalog: &Catalog,
    table: &Table,
) -> Option<&'a TableRule> {
    table
        .parent
        .as_ref()
        .and_then(|parent| effective_rule(policy, catalog, parent))
}

fn unclassified_table(table: &Table, context: &Context) -> Diagnostic {
    let label = policy_table_name(&table.name);
    Diagnostic::error(
        Code::UnclassifiedTable,
        &context.policy_path,
        0..0,
        format!("table `{}` is not classified ({} columns)", table.name, table.columns.len()),
    )
    .with_help(format!(
        "add `[{label}]` with a rule per column, `skip = true`, or run `cargo xtask check-policy --fix`"
    ))
}

fn check_table(
    policy: &Policy,
    catalog: &Catalog,
    samples: &Samples,
    context: &Context,
    table: &Table,
    rule: &TableRule,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let label = policy_table_name(&table.name);
    match &rule.action {
        TableAction::Skip => {}
        TableAction::KeepAll { .. } => {
            for column in &table.columns {
                let by_name = classify_column(catalog, table, column) == Some(NameClass::Sensitive);
                let sampled = samples
                    .get(&table.name, &column.name)
                    .and_then(|found| found.iter().find(|finding| finding.is_sensitive()).copied());
                if by_name || sampled.is_some() {
                    let why = match sampled {
                        Some(finding) if !by_name => {
                            format!("its sampled values look like {}", finding.describe())
                        }
                        _ => "its name marks it as security-sensitive".to_string(),
                    };
                    diagnostics.push(
                        Diagnostic::error(
                            Code::SensitiveKept,
                            &rule.origin.file,
                            rule.origin.span.clone(),
                            format!("`{label}` is kept whole but `{label}.{}` is security-sensitive: {why}", column.name),
                        )
                        .with_help(format!(
                            "list the columns instead of a table-level `keep`, with `{} = \"hash\"` (or `redact`, `null`, `const`)",
                            column.name
                        )),
                    );
                }
            }
        }
        TableAction::Copy => {
            for column in &table.columns {
                match rule.column(&column.name) {
                    Some(column_rule) => check_column(
                        policy,
                        catalog,
                        samples,
                        table,
                        column,
                        &column_rule.rule,
                        &column_rule.origin.file,
                        column_rule.origin.span.clone(),
                        diagnostics,
                    ),
                    None if context.broken.contains(&(table.name.clone(), Some(column.name.clone()))) => {}
                    None => diagnostics.push(
                        Diagnostic::error(
                            Code::UnclassifiedColumn,
                            &rule.origin.file,
                            rule.origin.span.clone(),
                            format!("column `{label}.{}` ({}) is not classified", column.name, column.sql_type.display),
                        )
                        .with_help(format!(
                            "add `{} = \"…\"` under `[{label}]`, or run `cargo xtask check-policy --fix`",
                            column.name
                        )),
                    ),
                }
            }
            for column_rule in &rule.columns {
                if table.column(&column_rule.column).is_none() {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::StaleRule,
                            &column_rule.origin.file,
                            column_rule.origin.span.clone(),
                            format!(
                                "column `{label}.{}` is in the policy but not in the database",
                                column_rule.column
                            ),
                        )
                        .with_help("remove the rule, or check the column's name"),
                    );
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_column(
    policy: &Policy,
    catalog: &Catalog,
    samples: &Samples,
    table: &Table,
    column: &Column,
    rule: &Rule,
    file: &Path,
    span: Range<usize>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if matches!(rule.strategy, Strategy::Todo { .. }) {
        // Already reported as `todo` by validation; nothing else to say until it is classified.
        return;
    }
    let label = format!("{}.{}", policy_table_name(&table.name), column.name);
    let error = |code: Code, message: String, help: String| {
        Diagnostic::error(code, file, span.clone(), message).with_help(help)
    };
    if let Some(problem) = type_problem(&rule.strategy, &column.sql_type) {
        diagnostics.push(error(
            Code::TypeMismatch,
            format!("`{label}`: {problem}"),
            "choose a strategy that fits the type (`generalise.year` on dates, `fake.email` on text, …)".into(),
        ));
    }
    if matches!(rule.strategy, Strategy::Null) && column.not_null {
        diagnostics.push(error(
            Code::TypeMismatch,
            format!("`{label}` is NOT NULL but its rule is `null`"),
            "use `redact`, `const` or `fake` for a NOT NULL column".into(),
        ));
    }
    let referenced = single_column_reference(table, &column.name);
    let referenced_rule = referenced.and_then(|(ref_table, ref_column)| {
        column_rule(policy, catalog, ref_table, ref_column)
            .map(|ref_rule| (ref_table, ref_column, ref_rule))
    });
    if let Some((ref_table, ref_column, ref_rule)) = &referenced_rule {
        let ref_label = format!("{}.{ref_column}", policy_table_name(ref_table));
        let consistent = if ref_rule.is_keep() {
            rule.is_keep() || matches!(rule.strategy, Strategy::Null)
        } else {
            rule.is_keep()
                || rule.strategy == ref_rule.strategy
                || matches!(rule.strategy, Strategy::Null)
        };
        if !consistent {
            diagnostics.push(error(
                Code::FkMismatch,
                format!(
                    "`{label}` references `{ref_label}` but is transformed differently (`{}` vs `{}`)",
                    strategy_name(&rule.strategy),
                    strategy_name(&ref_rule.strategy)
                ),
                format!("write `{} = \"keep\"`: a foreign key follows the rule of the key it references", column.name),
            ));
        }
    }
    let follows_reference = rule.is_keep()
        && referenced_rule
            .as_ref()
            .is_some_and(|(_, _, ref_rule)| !ref_rule.is_keep());
    if !rule.is_keep() || follows_reference {
        return;
    }
    let by_name = classify_column(catalog, table, column);
    let sampled = samples.get(&table.name, &column.name);
    let secret_sample = sampled
        .as_ref()
        .and_then(|found| found.iter().find(|finding| finding.is_secret()).copied());
    // `not-sensitive = "…"` overrides a security finding from the name (or from a loose
    // national-ID shape), never sampled secrets.
    let overridden = rule.not_sensitive.is_some();
    let sensitive_sample = secret_sample.or_else(|| {
        sampled
            .as_ref()
            .and_then(|found| found.iter().find(|finding| finding.is_sensitive()).copied())
            .filter(|_| !overridden)
    });
    let by_name = match by_name {
        Some(NameClass::Sensitive) if overridden => None,
        other => other,
    };
    let personal_sample = sampled.as_ref().and_then(|found| {
        found
            .iter()
            .find(|finding| !finding.is_sensitive())
            .copied()
    });
    if by_name == Some(NameClass::Sensitive) || sensitive_sample.is_some() {
        let (why, help) = match sensitive_sample {
            Some(finding) if finding.is_secret() || by_name != Some(NameClass::Sensitive) => (
                format!("its sampled values look like {}", finding.describe()),
                "security-sensitive data must be anonymised whatever the reason: use `hash`, `redact`, `null` or `const`".to_string(),
            ),
            _ => (
                "its name marks it as security-sensitive".to_string(),
                format!(
                    "use `hash`, `redact`, `null` or `const`; if the name misleads and the column holds no secret, \
                     say why for reviewers: `{} = {{ keep = true, not-sensitive = \"…\" }}`",
                    column.name
                ),
            ),
        };
        diagnostics.push(error(
            Code::SensitiveKept,
            format!("`{label}` is kept in clear but {why}"),
            help,
        ));
        return;
    }
    if rule.reason.is_some() || overridden {
        return;
    }
    if by_name == Some(NameClass::Personal) || personal_sample.is_some() {
        let why = match personal_sample {
            Some(finding) if by_name != Some(NameClass::Personal) => {
                format!("its sampled values look like {}", finding.describe())
            }
            _ => "its name suggests personal data".to_string(),
        };
        diagnostics.push(error(
            Code::PersonalKept,
            format!("`{label}` is kept in clear but {why}"),
            format!(
                "anonymise it (e.g. `\"{}\"`), or justify it: `{} = {{ keep = true, reason = \"…\" }}`",
                match crate::detect::suggest(&table.name, column, sampled.as_ref()).as_str() {
                    "keep" => "hash".to_string(),
                    transforming => transforming.to_string(),
                },
                column.name
            ),
        ));
    }
}

fn single_column_reference<'a>(table: &'a Table, column: &str) -> Option<(&'a TableName, &'a str)> {
    table
        .foreign_keys
        .iter()
        .find(|fk| fk.columns.len() == 1 && fk.columns[0] == column)
        .map(|fk| (&fk.referenced_table, fk.referenced_columns[0].as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::validate::{PolicyFile, parse};
    use crate::schema::{ForeignKey, TableKind};

    fn name(text: &str) -> TableName {
        crate::policy::validate::table_name(text)
    }

    fn column(name: &str, base: &str) -> Column {
        let (base_type, display) = match base {
            "int" => (BaseType::Int4, "integer"),
            "bigint" => (BaseType::Int8, "bigint"),
            "date" => (BaseType::Date, "date"),
            "timestamptz" => (BaseType::Timestamptz, "timestamp with time zone"),
            "jsonb" => (BaseType::Jsonb, "jsonb"),
            "inet" => (BaseType::Inet, "inet"),
            "bool" => (BaseType::Bool, "boolean"),
            _ => (BaseType::Text, "text"),
        };
        Column {
            name: name.into(),
            sql_type: SqlType::simple(base_type, display),
            not_null: false,
            generated: false,
            identity: false,
            unique: false,
            binary_safe: true,
        }
    }

    fn table(table_name: &str, columns: &[(&str, &str)]) -> Table {
        Table {
            name: name(table_name),
            kind: TableKind::Ordinary,
            parent: None,
            columns: columns.iter().map(|(n, t)| column(n, t)).collect(),
            primary_key: vec!["id".into()],
            foreign_keys: Vec::new(),
            estimated_rows: 0,
            total_bytes: 0,
            row_security: false,
        }
    }

    fn fk(from: &str, to_table: &str, to: &str) -> ForeignKey {
        ForeignKey {
            constraint: format!("{from}_fkey"),
            columns: vec![from.into()],
            referenced_table: name(to_table),
            referenced_columns: vec![to.into()],
        }
    }

    fn catalog() -> Catalog {
        let mut orders = table(
            "orders",
            &[
                ("id", "int"),
                ("user_id", "int"),
                ("user_email", "text"),
                ("notes", "text"),
            ],
        );
        orders.foreign_keys = vec![
            fk("user_id", "users", "id"),
            fk("user_email", "users", "email"),
        ];
        let mut events = table("events", &[("id", "int"), ("at", "timestamptz")]);
        events.kind = TableKind::Partitioned;
        let mut events_2024 = table("events_2024", &[("id", "int"), ("at", "timestamptz")]);
        events_2024.kind = TableKind::Partition;
        events_2024.parent = Some(name("events"));
        let mut users = table(
            "users",
            &[
                ("id", "int"),
                ("email", "text"),
                ("full_name", "text"),
                ("password_digest", "text"),
                ("date_of_birth", "date"),
                ("signup_ip", "inet"),
                ("prefs", "jsonb"),
                ("country", "text"),
                ("active", "bool"),
            ],
        );
        users.columns[1].unique = true;
        users.columns[8].not_null = true;
        Catalog {
            tables: vec![
                events,
                events_2024,
                orders,
                table("audit_events", &[("id", "int"), ("api_token", "text")]),
                table("tags", &[("id", "int"), ("label", "text")]),
                users,
            ],
            ..Catalog::default()
        }
    }

    /// Run coverage of `input` (as `policy/p.toml`) against `catalog()`; snapshot as `expected`.
    fn check_policy(input: &str, samples: Option<&Samples>, expected: &str) {
        let file = PolicyFile {
            path: "/p/policy/p.toml".into(),
            text: input.to_string(),
        };
        let parsed = parse(std::slice::from_ref(&file));
        let context = Context {
            policy_path: "/p/policy".into(),
            broken: parsed.broken.clone(),
        };
        let mut diagnostics = parsed.diagnostics.clone();
        diagnostics.extend(check(&parsed.policy, &catalog(), samples, &context));
        crate::diag::sort(&mut diagnostics);
        let mut sources = crate::diag::Sources::new();
        sources.insert(file.path.clone(), file.text.clone());
        let out = crate::diag::render_human(&diagnostics, &sources, Path::new("/p"));
        insta::with_settings!({ description => input, omit_expression => true }, {
            insta::assert_snapshot!(expected, out);
        });
    }

    const CLEAN: &str = r#"
[events]
id = "keep"
at = { shift = { days = 3 } }

[orders]
id = "keep"
user_id = "keep"
user_email = "keep"
notes = "redact"

[audit_events]
id = "keep"
api_token = "hash"

[tags]
keep = { reason = "labels chosen by staff" }

[users]
id = "keep"
email = { fake = "email", unique = true }
full_name = "fake.name"
password_digest = { const = "$2a$12$x" }
date_of_birth = "generalise.year"
signup_ip = "fake.ipv4"
prefs = { json = { "$.contact.email" = "fake.email" } }
country = { keep = true, reason = "coarse" }
active = "keep"
"#;

    #[test]
    fn clean_policy_has_no_findings() {
        check_policy(CLEAN, None, "coverage_clean");
    }

    #[test]
    fn unclassified_stale_and_mismatched() {
        check_policy(
            r#"
[orders]
id = "keep"
user_id = "hash"
user_email = "fake.email"
gone = "keep"

[audit_events]
keep = { reason = "system events" }

[users]
id = "keep"
email = "keep"
full_name = "generalise.year"
password_digest = { keep = true, reason = "it is only a hash" }
date_of_birth = "fake.email"
signup_ip = { shift = { days = 3 } }
prefs = "fake.name"
country = "keep"
active = "null"

[ghosts]
id = "keep"
"#,
            None,
            "coverage_problems",
        );
    }

    #[test]
    fn sampled_values_flag_kept_columns() {
        let mut samples = Samples::default();
        samples.add(&name("orders"), "notes", "card 4111 1111 1111 1111");
        samples.add(&name("users"), "country", "ring +44 20 7946 0958");
        samples.add(
            &name("tags"),
            "label",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        );
        let policy = CLEAN
            .replace(
                "notes = \"redact\"",
                "notes = { keep = true, reason = \"staff notes\" }",
            )
            .replace(
                "country = { keep = true, reason = \"coarse\" }",
                "country = \"keep\"",
            );
        check_policy(&policy, Some(&samples), "coverage_samples");
    }

    #[test]
    fn sensitive_kept_cannot_be_silenced() {
        for policy in [
            "[users]\npassword_digest = \"keep\"\n",
            "[users]\npassword_digest = { keep = true, reason = \"we need it\" }\n",
            "[audit_events]\nkeep = { reason = \"trust me\" }\n",
        ] {
            let file = PolicyFile {
                path: "/p/policy/p.toml".into(),
                text: policy.into(),
            };
            let parsed = parse(std::slice::from_ref(&file));
            let diagnostics = check(&parsed.policy, &catalog(), None, &Context::default());
            assert!(
                diagnostics.iter().any(|d| d.code == Code::SensitiveKept),
                "{policy}"
            );
        }
    }
}
