//! Fit checks that need the database (G11), run by check-policy `--database-url` and by
//! pull-prod before it creates anything: each transformed column's rule is applied to sampled
//! values (a few source rows plus one synthetic value per type, under several salts) in memory,
//! and the outputs are judged by the server in read-only queries: cast to the column's type
//! (length, enum labels, domains and their CHECKs), NOT NULL, and every CHECK constraint of the
//! table really evaluated over the transformed rows (`SELECT … FROM (VALUES …) WHERE NOT …`).
//! A finding names the column's policy line and a rule that fits, itself checked the same way.
//! Values travel only as SQL literals to the source in a read-only transaction; no message
//! ever holds one.

use anyhow::Result;
use postgres::Client;

use crate::diag::{Code, Diagnostic};
use crate::pgerror::{self, PgContext};
use crate::plan::{self, Action, PlannedTable, RuleFrom};
use crate::policy::model::{Policy, Rule, Strategy};
use crate::policy::validate::policy_table_name;
use crate::schema::{Catalog, Column};
use crate::sql::{quote_ident, quote_literal};
use crate::sqltype::{BaseType, SqlType};
use crate::transform::{ColumnTransform, Format, Salt, Written};

/// Source rows sampled per table.
pub const SAMPLE_ROWS: i64 = 20;

/// Fixed salts every check runs with, so that a verdict does not depend on one salt's luck;
/// a pull adds its own.
const CHECK_SALTS: &[&[u8]] = &[
    b"pullprod fit check salt one",
    b"pullprod fit check salt two",
    b"pullprod fit check salt three",
];

/// Every rule of `policy` that cannot run on `catalog`'s columns as the sampled values show.
/// `client` must be in a read-only transaction on the database `catalog` was read from.
pub fn check(
    client: &mut Client,
    policy: &Policy,
    catalog: &Catalog,
    salt: Option<&Salt>,
) -> Result<Vec<Diagnostic>> {
    let (resolved, _) = plan::resolve(policy, catalog);
    let mut salts: Vec<Salt> = CHECK_SALTS.iter().map(|salt| Salt::new(*salt)).collect();
    salts.extend(salt.cloned());
    let mut diagnostics = Vec::new();
    for table in resolved
        .tables
        .iter()
        .filter(|table| table.holds_rows() && table.action == Action::Copy)
    {
        let checked: Vec<usize> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(_, planned)| {
                !planned.column.generated
                    && planned.rule.as_ref().is_some_and(|rule| !rule.is_keep())
            })
            .map(|(idx, _)| idx)
            .collect();
        if checked.is_empty() {
            continue;
        }
        let sample = Sample::read(client, table, &salts)?;
        let label_table = table.rules_from.as_ref().unwrap_or(&table.table);
        for idx in checked {
            let planned = &table.columns[idx];
            let rule = planned.rule.as_ref().expect("checked columns have a rule");
            let column = &planned.column;
            let extra = sample.check_constants(&column.name, &column.sql_type);
            let mut fits =
                |candidate: &Rule| matches!(sample.problem(client, idx, candidate), Ok(None));
            // The static findings again, with a help that passes the sampled checks too.
            let found =
                plan::column_problems(label_table, column, rule, &planned.from, &extra, &mut fits);
            if !found.is_empty() {
                diagnostics.extend(found);
                continue;
            }
            let Some(problem) = sample.problem(client, idx, rule)? else {
                continue;
            };
            let Some(origin) = planned.from.origin() else {
                continue;
            };
            let help = match &planned.from {
                RuleFrom::Key {
                    table: key_table,
                    column: key,
                    ..
                } => plan::key_help(key_table, key),
                _ => {
                    let mut fits = |candidate: &Rule| {
                        matches!(sample.problem(client, idx, candidate), Ok(None))
                    };
                    plan::fit_help(label_table, column, rule, &extra, &mut fits)
                }
            };
            diagnostics.push(
                Diagnostic::error(
                    Code::DoesNotFit,
                    &origin.file,
                    origin.span.clone(),
                    format!(
                        "`{}.{}`: {problem}",
                        policy_table_name(label_table),
                        column.name
                    ),
                )
                .with_help(help),
            );
        }
    }
    crate::diag::sort(&mut diagnostics);
    Ok(diagnostics)
}

/// Add `found` to `diagnostics`, replacing the findings it repeats (same place, code and
/// message: the static ones, whose help `fit` checked against sampled values too).
pub fn merge(diagnostics: &mut Vec<Diagnostic>, found: Vec<Diagnostic>) {
    diagnostics.retain(|old| {
        !found.iter().any(|new| {
            (&new.file, &new.span, new.code, &new.message)
                == (&old.file, &old.span, old.code, &old.message)
        })
    });
    diagnostics.extend(found);
    crate::diag::sort(diagnostics);
}

/// A CHECK constraint of the table: its name, expression and the columns it reads.
struct Check {
    name: String,
    expression: String,
    columns: Vec<String>,
}

/// Sampled inputs of one table and the outputs of its planned rules.
struct Sample<'a> {
    table: &'a PlannedTable,
    salts: &'a [Salt],
    /// Per row, per column: the value in text form (sampled rows, then one synthetic row).
    rows: Vec<Vec<Option<String>>>,
    /// Per column: its values under its planned rule, `salts.len() × rows.len()` of them.
    outputs: Vec<Vec<Option<String>>>,
    checks: Vec<Check>,
}

impl<'a> Sample<'a> {
    fn read(client: &mut Client, table: &'a PlannedTable, salts: &'a [Salt]) -> Result<Self> {
        let names: Vec<String> = table
            .columns
            .iter()
            .map(|planned| planned.column.name.clone())
            .collect();
        let select = names
            .iter()
            .map(|name| format!("{}::text", quote_ident(name)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {select} FROM ONLY {} LIMIT {SAMPLE_ROWS}",
            table.table.quoted()
        );
        let mut rows: Vec<Vec<Option<String>>> = client
            .query(sql.as_str(), &[])
            .data_context(
                &table.table,
                &names,
                "failed to sample rows to check the policy fits",
            )?
            .iter()
            .map(|row| (0..names.len()).map(|idx| row.get(idx)).collect())
            .collect();
        // One made-up value per transformed column, so an empty table is judged too.
        rows.push(
            table
                .columns
                .iter()
                .map(|planned| match &planned.rule {
                    Some(rule) if !rule.is_keep() && !planned.column.generated => {
                        synthetic_input(&planned.column.sql_type)
                    }
                    _ => None,
                })
                .collect(),
        );
        let checks = client
            .query(
                "SELECT con.conname::text, pg_get_expr(con.conbin, con.conrelid), \
                        array(SELECT a.attname::text FROM pg_attribute a \
                              WHERE a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)) \
                 FROM pg_constraint con \
                 WHERE con.conrelid = to_regclass($1::text) AND con.contype = 'c' \
                 ORDER BY con.conname",
                &[&table.table.quoted()],
            )
            .pg_with_context(|| {
                format!("failed to read the CHECK constraints of `{}`", table.table)
            })?
            .iter()
            .map(|row| Check {
                name: row.get(0),
                expression: row.get(1),
                columns: row.get(2),
            })
            .collect();
        let mut sample = Sample {
            table,
            salts,
            rows,
            outputs: Vec::new(),
            checks,
        };
        // Other columns take part in a column's CHECK constraints with their planned outputs,
        // or their inputs where those outputs are refused anyway (reported on their own line).
        sample.outputs = (0..table.columns.len())
            .map(|idx| sample.inputs_of(idx))
            .collect();
        for idx in 0..table.columns.len() {
            let planned = &table.columns[idx];
            let Some(rule) = planned.rule.as_ref().filter(|rule| !rule.is_keep()) else {
                continue;
            };
            if planned.column.generated {
                continue;
            }
            if let Ok(outputs) = sample.outputs_of(idx, rule)
                && local_problem(
                    &planned.column,
                    &sample.inputs_of(idx),
                    &outputs,
                    sample.rows.len(),
                )
                .is_none()
                && cast_problem(client, &planned.column, &outputs)?.is_none()
            {
                sample.outputs[idx] = outputs;
            }
        }
        Ok(sample)
    }

    /// Column `idx`'s inputs, once per salt.
    fn inputs_of(&self, idx: usize) -> Vec<Option<String>> {
        let mut values = Vec::with_capacity(self.salts.len() * self.rows.len());
        for _ in self.salts {
            values.extend(self.rows.iter().map(|row| row[idx].clone()));
        }
        values
    }

    /// Column `idx`'s values under `rule`, per salt and row; `Err` is why the rule fails.
    fn outputs_of(&self, idx: usize, rule: &Rule) -> Result<Vec<Option<String>>, String> {
        if rule.is_keep() {
            return Ok(self.inputs_of(idx));
        }
        let column = &self.table.columns[idx].column;
        let mut values = Vec::with_capacity(self.salts.len() * self.rows.len());
        let mut out = Vec::new();
        for salt in self.salts {
            let mut transform = ColumnTransform::new(rule, &column.sql_type, Format::Text, salt)
                .map_err(|err| err.0)?;
            for row in &self.rows {
                out.clear();
                let written = transform
                    .apply(row[idx].as_deref().map(str::as_bytes), &mut out)
                    .map_err(|err| format!("the rule fails on sampled values: {err}"))?;
                values.push(match written {
                    Written::Null => None,
                    Written::Value => Some(String::from_utf8_lossy(&out).into_owned()),
                });
            }
        }
        Ok(values)
    }

    /// Why column `idx` under `rule` would fail to load, if it would.
    fn problem(&self, client: &mut Client, idx: usize, rule: &Rule) -> Result<Option<String>> {
        let column = &self.table.columns[idx].column;
        let outputs = match self.outputs_of(idx, rule) {
            Ok(outputs) => outputs,
            Err(problem) => return Ok(Some(problem)),
        };
        if let Some(problem) =
            local_problem(column, &self.inputs_of(idx), &outputs, self.rows.len())
        {
            return Ok(Some(problem));
        }
        if let Some(problem) = cast_problem(client, column, &outputs)? {
            return Ok(Some(problem));
        }
        for check in self
            .checks
            .iter()
            .filter(|check| check.columns.contains(&column.name))
        {
            let sql = self.check_sql(check, idx, &outputs);
            match try_count(client, &sql)? {
                Ok(0) => {}
                Ok(_) => {
                    return Ok(Some(format!(
                        "values the rule gives break the CHECK constraint `{}`",
                        check.name
                    )));
                }
                Err(err) => {
                    return Ok(Some(format!(
                        "the CHECK constraint `{}` fails on values the rule gives: {}",
                        check.name,
                        pgerror::data_message(&err, None, &[])
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Rows of the table with column `idx` as `outputs` and the others as planned, counted
    /// where `check` is false.
    fn check_sql(&self, check: &Check, idx: usize, outputs: &[Option<String>]) -> String {
        let columns = &self.table.columns;
        let rows: Vec<String> = (0..outputs.len())
            .map(|at| {
                let values: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(column_idx, planned)| {
                        let value = if column_idx == idx {
                            outputs[at].as_deref()
                        } else if planned.column.generated {
                            None
                        } else {
                            self.outputs[column_idx][at].as_deref()
                        };
                        let literal = value.map_or("NULL".to_string(), quote_literal);
                        format!("{literal}::{}", planned.column.sql_type.display)
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        let names: Vec<String> = columns
            .iter()
            .map(|planned| quote_ident(&planned.column.name))
            .collect();
        format!(
            "SELECT count(*) FROM (VALUES {}) AS t({}) WHERE ({}) IS FALSE",
            rows.join(", "),
            names.join(", "),
            check.expression
        )
    }

    /// `const` rules with the string literals the column's CHECK constraints name (`'M'`…).
    fn check_constants(&self, column: &str, sql_type: &SqlType) -> Vec<Rule> {
        if !(sql_type.base.is_textual() || sql_type.base == BaseType::Enum) || sql_type.array {
            return Vec::new();
        }
        let mut rules: Vec<Rule> = Vec::new();
        for check in self
            .checks
            .iter()
            .filter(|check| check.columns.iter().any(|name| name == column))
        {
            for literal in string_literals(&check.expression) {
                let rule = Rule::new(Strategy::Const(literal));
                if !rules.contains(&rule) && rules.len() < 4 {
                    rules.push(rule);
                }
            }
        }
        rules
    }
}

/// NOT NULL, collisions under a unique index and length, judged here (an explicit cast to `varchar(n)` would truncate).
fn local_problem(
    column: &Column,
    inputs: &[Option<String>],
    outputs: &[Option<String>],
    rows: usize,
) -> Option<String> {
    if column.not_null
        && inputs
            .iter()
            .zip(outputs)
            .any(|(input, output)| input.is_some() && output.is_none())
    {
        return Some("the rule gives NULL but the column is NOT NULL".into());
    }
    if column.unique && collides(inputs, outputs, rows) {
        return Some(
            "different sampled values give the same output, which the column's unique index refuses"
                .into(),
        );
    }
    let limit = column.sql_type.max_chars?;
    if column.sql_type.array {
        return None;
    }
    let too_long = outputs.iter().flatten().any(|value| {
        let value = if column.sql_type.base == BaseType::Bpchar {
            value.trim_end_matches(' ')
        } else {
            value
        };
        value.chars().count() > limit as usize
    });
    too_long.then(|| {
        format!(
            "the rule gives values longer than the {limit} characters of `{}`",
            column.sql_type.display
        )
    })
}

/// The column's type (length, enum labels, domain CHECKs) refusing one of `outputs`.
fn cast_problem(
    client: &mut Client,
    column: &Column,
    outputs: &[Option<String>],
) -> Result<Option<String>> {
    let literals: Vec<String> = outputs
        .iter()
        .flatten()
        .map(|value| format!("({}::{})", quote_literal(value), column.sql_type.display))
        .collect();
    if literals.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT count(*) FROM (VALUES {}) AS t(v)",
        literals.join(", ")
    );
    Ok(try_count(client, &sql)?.err().map(|err| {
        format!(
            "the column type `{}` refuses values the rule gives: {}",
            column.sql_type.display,
            pgerror::data_message(&err, None, &[])
        )
    }))
}

/// Two different non-NULL inputs give the same non-NULL output under one salt (`inputs` and
/// `outputs` are salt after salt, each over the same rows).
fn collides(inputs: &[Option<String>], outputs: &[Option<String>], rows: usize) -> bool {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (at, (input, output)) in inputs.iter().zip(outputs).enumerate() {
        if rows > 0 && at % rows == 0 {
            seen.clear();
        }
        let (Some(input), Some(output)) = (input, output) else {
            continue;
        };
        if *seen.entry(output.as_str()).or_insert(input.as_str()) != input.as_str() {
            return true;
        }
    }
    false
}

/// Run a `SELECT count(*) …` in a savepoint: the server's error, if any, leaves the
/// transaction usable.
fn try_count(client: &mut Client, sql: &str) -> Result<Result<i64, postgres::Error>> {
    client
        .batch_execute("SAVEPOINT pullprod_fit")
        .pg_context("failed to start a savepoint for the fit check")?;
    match client.query_one(sql, &[]) {
        Ok(row) => {
            client
                .batch_execute("RELEASE SAVEPOINT pullprod_fit")
                .pg_context("failed to release the fit check's savepoint")?;
            Ok(Ok(row.get(0)))
        }
        Err(err) => {
            client
                .batch_execute("ROLLBACK TO SAVEPOINT pullprod_fit")
                .pg_context("failed to roll back the fit check's savepoint")?;
            Ok(Err(err))
        }
    }
}

/// The string literals of an SQL expression as PostgreSQL deparses it (`'M'::text`).
fn string_literals(expression: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    literal.push('\'');
                    continue;
                }
                break;
            }
            literal.push(c);
        }
        literals.push(literal);
    }
    literals
}

/// A plausible value of the type in PostgreSQL's text form, for tables with no rows.
fn synthetic_input(sql_type: &SqlType) -> Option<String> {
    let scalar = match &sql_type.base {
        BaseType::Text | BaseType::Citext | BaseType::Name => "Sample Value",
        BaseType::Varchar | BaseType::Bpchar => match sql_type.max_chars {
            Some(n) if n < 12 => "S",
            _ => "Sample Value",
        },
        BaseType::Uuid => "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6",
        BaseType::Inet => "192.0.2.17",
        BaseType::Cidr => "192.0.2.0/24",
        BaseType::Date => "1987-06-15",
        BaseType::Timestamp => "2021-03-04 05:06:07",
        BaseType::Timestamptz => "2021-03-04 05:06:07+00",
        BaseType::Int2 | BaseType::Int4 | BaseType::Int8 => "7",
        BaseType::Numeric => "7",
        BaseType::Float4 | BaseType::Float8 => "7.5",
        BaseType::Bool => "t",
        BaseType::Bytea => "\\x53616d706c65",
        BaseType::Json | BaseType::Jsonb => "{\"name\": \"Sample\"}",
        BaseType::Enum => sql_type.enum_labels.first()?.as_str(),
        BaseType::Other(name) if name == "xml" => "<person><name>Sample</name></person>",
        BaseType::Other(_) => return None,
    };
    Some(if sql_type.array {
        let element = if matches!(
            sql_type.base,
            BaseType::Json | BaseType::Jsonb | BaseType::Bytea
        ) || scalar.contains([' ', ',', '"', '\\', '{', '}'])
        {
            format!("\"{}\"", scalar.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            scalar.to_string()
        };
        format!("{{{element}}}")
    } else {
        scalar.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_a_deparsed_check() {
        assert_eq!(
            string_literals(
                "(upper((gender)::text) = ANY (ARRAY['M'::text, 'F'::text, 'O''K'::text]))"
            ),
            vec!["M", "F", "O'K"]
        );
        assert!(string_literals("(length(code) = 3)").is_empty());
    }
}
