//! Policy against a schema: every table and column classified, nothing stale, rules fit
//! their column types, sensitive data never kept, personal data kept only with a reason,
//! foreign keys transformed like the keys they reference. Pure.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::detect::{NameClass, Samples, classify_column};
use crate::diag::{Code, Diagnostic};
use crate::plan::Plan;
use crate::policy::model::{Policy, Rule, Strategy, TableAction, TableName, TableRule};
use crate::policy::validate::policy_table_name;
use crate::schema::{Catalog, Column, Table};

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
    let (plan, resolved) = crate::plan::resolve(policy, catalog);
    diagnostics.extend(resolved);
    for table in &catalog.tables {
        if context.broken.contains(&(table.name.clone(), None)) {
            continue;
        }
        match policy.table(&table.name) {
            Some(rule) => check_table(
                catalog,
                &plan,
                samples,
                context,
                table,
                rule,
                &mut diagnostics,
            ),
            None if crate::plan::table_rule(policy, catalog, &table.name).is_some() => {}
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
    catalog: &Catalog,
    plan: &Plan,
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
                        catalog,
                        plan,
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
    catalog: &Catalog,
    plan: &Plan,
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
    if column.generated {
        // Never copied: the dev database computes it from the anonymised columns. A rule on it
        // is reported as ineffective by `plan::column_problems`; its name judges nothing.
        return;
    }
    // Type, NOT NULL, foreign keys and fit come from `plan::resolve`; a kept foreign key that
    // follows a transformed key is not kept in clear.
    let follows_key = plan
        .table(&table.name)
        .and_then(|planned| planned.column(&column.name))
        .is_some_and(|planned| planned.follows_key());
    if !rule.is_keep() || follows_key {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::validate::{PolicyFile, parse};
    use crate::schema::{ForeignKey, TableKind};
    use crate::sqltype::{BaseType, SqlType};

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
        Column::new(name, SqlType::simple(base_type, display))
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
        let mut catalog = Catalog {
            tables: vec![
                events,
                events_2024,
                orders,
                table("audit_events", &[("id", "int"), ("api_token", "text")]),
                table("tags", &[("id", "int"), ("label", "text")]),
                users,
            ],
            ..Catalog::default()
        };
        catalog.sort();
        catalog
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

    /// Parse a policy of `n` tables (half of them partitioned, every other one referencing the
    /// previous) and check it against the matching catalog, with one unclassified table and one
    /// stale rule; the time it took.
    fn time_check(n: usize) -> std::time::Duration {
        let mut catalog = Catalog::default();
        let mut text = String::new();
        for i in 0..n {
            let mut t = table(&format!("t{i}"), &[("id", "int"), ("email", "text")]);
            if i > 0 {
                t.columns.push(column("prev_id", "int"));
                t.foreign_keys = vec![fk("prev_id", &format!("t{}", i - 1), "id")];
            }
            if i % 2 == 0 {
                t.kind = TableKind::Partitioned;
                let mut part = table(&format!("t{i}_p"), &[("id", "int"), ("email", "text")]);
                part.kind = TableKind::Partition;
                part.parent = Some(name(&format!("t{i}")));
                catalog.tables.push(part);
            }
            let prev = if i > 0 { "prev_id = \"keep\"\n" } else { "" };
            text.push_str(&format!(
                "[t{i}]\nid = \"keep\"\nemail = {{ fake = \"email\", unique = true }}\n{prev}\n"
            ));
            catalog.tables.push(t);
        }
        catalog.tables.push(table("unclassified", &[("id", "int")]));
        text.push_str("[gone]\nskip = true\n");
        catalog.sort();
        let file = PolicyFile {
            path: "/p/policy/p.toml".into(),
            text,
        };
        let started = std::time::Instant::now();
        let parsed = parse(std::slice::from_ref(&file));
        let context = Context {
            policy_path: "/p/policy".into(),
            broken: parsed.broken.clone(),
        };
        let diagnostics = check(&parsed.policy, &catalog, None, &context);
        let elapsed = started.elapsed();
        assert_eq!(parsed.policy.tables.len(), n + 1);
        assert_eq!(
            diagnostics.iter().filter(|d| d.is_error()).count(),
            2,
            "one unclassified table and one stale rule: {diagnostics:#?}"
        );
        elapsed
    }

    /// check-policy is linear in the number of tables: ten times the tables take about ten
    /// times as long (a quadratic lookup takes a hundred times; 100,000 tables took 41 s).
    #[test]
    fn checking_is_linear_in_tables() {
        let best = |n| (0..2).map(|_| time_check(n)).min().unwrap();
        let small = best(2_000);
        let large = best(20_000);
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
        assert!(
            ratio < 30.0,
            "2,000 tables: {small:?}, 20,000 tables: {large:?} ({ratio:.0}x for 10x the tables)"
        );
    }
}
