//! `where` conditions are reviewed code run on production: each must be one boolean expression
//! over its own table's row. After the lexical screen (`sql::screen_condition`), the database
//! judges it in a read-only transaction: no volatile function, operator or cast, and PostgreSQL
//! plans it (never runs it) over the table alone. check-policy and every pull run this check.

use anyhow::Result;
use postgres::Client;

use crate::diag::{Code, Diagnostic};
use crate::pgerror::{self, PgContext};
use crate::policy::model::{Origin, Policy, TableName};
use crate::policy::validate::policy_table_name;
use crate::schema::Catalog;
use crate::sql;

/// Operators a condition reaches through keywords (`LIKE`, `BETWEEN`, `IN`, `CASE`…) rather
/// than by writing them: they must not be volatile either.
const IMPLICIT_OPERATORS: &[&str] = &[
    "=", "<>", "<", ">", "<=", ">=", "~~", "!~~", "~~*", "!~~*", "~", "!~",
];

/// Check every `where` condition of `policy` whose table is in `catalog`. `client` is a
/// read-only session inside a transaction (savepoints undo each failed statement). Returns one
/// diagnostic per refused condition; `Err` only when the database itself fails.
pub fn check(client: &mut Client, policy: &Policy, catalog: &Catalog) -> Result<Vec<Diagnostic>> {
    let conditions: Vec<_> = crate::subset::conditions(policy)
        .into_iter()
        .filter(|(table, _, _)| catalog.table(table).is_some())
        .collect();
    let mut diagnostics = Vec::new();
    if conditions.is_empty() {
        return Ok(diagnostics);
    }
    let volatile_conversion = volatile_conversion(client)?;
    for (table, condition, origin) in conditions {
        if let Some(diagnostic) = check_one(
            client,
            &table,
            &condition,
            &origin,
            volatile_conversion.as_deref(),
        )? {
            diagnostics.push(diagnostic);
        }
    }
    Ok(diagnostics)
}

fn check_one(
    client: &mut Client,
    table: &TableName,
    condition: &str,
    origin: &Origin,
    volatile_conversion: Option<&str>,
) -> Result<Option<Diagnostic>> {
    let calls = match sql::screen_condition(condition) {
        Ok(calls) => calls,
        Err(refusal) => {
            return Ok(Some(unsafe_condition(
                table,
                origin,
                &refusal.message,
                &refusal.help,
            )));
        }
    };
    let volatile_help = "conditions are reviewed code run on production: only functions and \
                         operators marked IMMUTABLE or STABLE may appear";
    for (schema, name) in &calls.functions {
        let volatile = client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_proc p \
                 JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
                 WHERE p.proname = $2 AND p.provolatile = 'v' \
                   AND CASE WHEN $1::text IS NULL THEN pg_catalog.pg_function_is_visible(p.oid) \
                            ELSE n.nspname = $1 END \
                 LIMIT 1",
                &[schema, name],
            )
            .pg_context("failed to look up the functions of a `where` condition")?;
        if volatile.is_some() {
            return Ok(Some(unsafe_condition(
                table,
                origin,
                &format!(
                    "the condition calls `{name}`, which is volatile (it can change data or read outside its row)"
                ),
                volatile_help,
            )));
        }
    }
    let mut operators: Vec<String> = calls.operators.iter().cloned().collect();
    operators.extend(IMPLICIT_OPERATORS.iter().map(|op| op.to_string()));
    let volatile = client
        .query_opt(
            "SELECT o.oprname, p.proname FROM pg_catalog.pg_operator o \
             JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode \
             WHERE o.oprname = ANY($1) AND p.provolatile = 'v' \
             ORDER BY 1, 2 LIMIT 1",
            &[&operators],
        )
        .pg_context("failed to look up the operators of a `where` condition")?;
    if let Some(row) = volatile {
        let (operator, function): (String, String) = (row.get(0), row.get(1));
        return Ok(Some(unsafe_condition(
            table,
            origin,
            &format!("the operator `{operator}` runs `{function}`, which is volatile"),
            volatile_help,
        )));
    }
    if let Some(conversion) = volatile_conversion {
        return Ok(Some(unsafe_condition(
            table,
            origin,
            &format!(
                "this database converts types with a volatile function ({conversion}), which a condition could call"
            ),
            "mark the function STABLE or IMMUTABLE if it is, or select the rows without `where`",
        )));
    }
    let explain = format!(
        "EXPLAIN (VERBOSE, FORMAT JSON) SELECT 1 FROM ONLY {} WHERE ({condition})",
        table.quoted()
    );
    client
        .batch_execute("SAVEPOINT pullprod_condition")
        .pg_context("failed to check a `where` condition")?;
    let planned = client.query_one(explain.as_str(), &[]);
    let undo = match &planned {
        Ok(_) => "RELEASE SAVEPOINT pullprod_condition",
        Err(_) => "ROLLBACK TO SAVEPOINT pullprod_condition",
    };
    client
        .batch_execute(undo)
        .pg_context("failed to check a `where` condition")?;
    let plan: String = match planned {
        Ok(row) => row.get::<_, JsonText>(0).0,
        Err(err) if err.as_db_error().is_none() => {
            return Err(
                anyhow::anyhow!("{}", pgerror::message(&err)).context(format!(
                    "failed to check the `where` condition of `{table}`"
                )),
            );
        }
        Err(err) => {
            return Ok(Some(crate::subset::bad_condition(
                table,
                origin,
                &planning_error(&err, condition),
            )));
        }
    };
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap_or(serde_json::Value::Null);
    if let Some(problem) = plan_problem(&plan, table) {
        return Ok(Some(unsafe_condition(
            table,
            origin,
            &problem,
            "a condition may only look at its own table's row",
        )));
    }
    Ok(None)
}

/// `EXPLAIN (FORMAT JSON)`'s one value, as text (the binary form of `json` is its text).
struct JsonText(String);

impl<'a> postgres::types::FromSql<'a> for JsonText {
    fn from_sql(
        _: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(JsonText(String::from_utf8_lossy(raw).into_owned()))
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        *ty == postgres::types::Type::JSON
    }
}

/// The lexical screen alone (`sql::screen_condition`), for check-policy without a database.
pub fn screen(policy: &Policy) -> Vec<Diagnostic> {
    crate::subset::conditions(policy)
        .into_iter()
        .filter_map(|(table, condition, origin)| {
            let refusal = sql::screen_condition(&condition).err()?;
            Some(unsafe_condition(
                &table,
                &origin,
                &refusal.message,
                &refusal.help,
            ))
        })
        .collect()
}

/// `check`, for a pull: refuse before reading a row, with the diagnostics check-policy prints.
pub fn refuse_unsafe(
    client: &mut Client,
    policy: &Policy,
    catalog: &Catalog,
    source_name: &str,
) -> Result<()> {
    let mut diagnostics = check(client, policy, catalog)?;
    if diagnostics.is_empty() {
        return Ok(());
    }
    crate::diag::sort(&mut diagnostics);
    let sources = crate::diag::sources_for(&diagnostics);
    let project_dir = std::env::current_dir().unwrap_or_default();
    anyhow::bail!(
        "refusing to pull from `{source_name}`: the policy's `where` conditions do not pass check-policy:\n{}",
        crate::diag::render(
            &diagnostics,
            &sources,
            &project_dir,
            crate::diag::Format::Human
        )
        .trim_end()
    )
}

/// The first volatile cast or type input/output function of the database, if any: any
/// condition could reach it through a cast, so none is accepted there.
fn volatile_conversion(client: &mut Client) -> Result<Option<String>> {
    let row = client
        .query_opt(
            "SELECT format('`%s` to `%s` by `%s`', c.castsource::regtype, c.casttarget::regtype, p.proname) \
             FROM pg_catalog.pg_cast c JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc \
             WHERE p.provolatile = 'v' \
             UNION ALL \
             SELECT format('`%s` by `%s`', t.oid::regtype, p.proname) \
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_proc p ON p.oid IN (t.typinput, t.typoutput) \
             WHERE p.provolatile = 'v' \
             LIMIT 1",
            &[],
        )
        .pg_context("failed to look up the database's type conversions")?;
    Ok(row.map(|row| row.get(0)))
}

/// The reason PostgreSQL refused to plan a condition. The statement is the policy's own text,
/// so its message is shown, unless it quotes something the condition does not contain (a
/// value from the planner's statistics would be a row value).
fn planning_error(err: &postgres::Error, condition: &str) -> String {
    let text = pgerror::message(err);
    let quoted_elsewhere = text
        .split('"')
        .skip(1)
        .step_by(2)
        .any(|quoted| !condition.contains(quoted));
    if quoted_elsewhere {
        let code = err.as_db_error().map(|db| db.code().code()).unwrap_or("");
        format!(
            "PostgreSQL refused it with SQLSTATE {code} ({})",
            pgerror::sqlstate_name(code)
        )
    } else {
        text
    }
}

/// What in the plan shows that a condition reaches beyond its table: another relation, a
/// sub-plan, a function scan.
fn plan_problem(plan: &serde_json::Value, table: &TableName) -> Option<String> {
    match plan {
        serde_json::Value::Array(items) => items.iter().find_map(|item| plan_problem(item, table)),
        serde_json::Value::Object(node) => {
            if let Some(relation) = node.get("Relation Name").and_then(|v| v.as_str()) {
                let schema = node.get("Schema").and_then(|v| v.as_str()).unwrap_or("");
                if relation != table.name || schema != table.schema {
                    return Some(format!(
                        "the condition reads another table (`{schema}.{relation}`)"
                    ));
                }
            }
            let sub_plan = node.contains_key("Subplan Name")
                || matches!(
                    node.get("Parent Relationship").and_then(|v| v.as_str()),
                    Some("SubPlan" | "InitPlan")
                );
            if sub_plan {
                return Some("the condition contains a sub-select".to_string());
            }
            if node.contains_key("Function Name") {
                return Some("the condition scans a function".to_string());
            }
            node.values().find_map(|value| plan_problem(value, table))
        }
        _ => None,
    }
}

/// An `unsafe-condition` diagnostic at the condition's `where` key.
fn unsafe_condition(table: &TableName, origin: &Origin, message: &str, help: &str) -> Diagnostic {
    let label = policy_table_name(table);
    Diagnostic::error(
        Code::UnsafeCondition,
        &origin.file,
        origin.span.clone(),
        format!("`{label}.where` is refused: {message}"),
    )
    .with_help(help.to_string())
}
