//! Least privilege on a source: what a role could write (the check pull-prod and the console
//! share), and the SQL for a read-only role that can pull (`cargo xtask policy grants`).

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use postgres::Client;

use crate::pgerror::PgContext;
use crate::policy::model::{Policy, TableName};
use crate::schema::{Catalog, TableKind};
use crate::sql::quote_ident;

/// The command that prints the SQL for a read-only role; messages about a role that can write
/// point to it.
pub const GRANTS_COMMAND: &str = "cargo xtask policy grants";

/// What the session's role could change on this database, were its transactions not read-only:
/// one line per kind of write (superuser, table writes, ownership, sequences, `CREATE`), naming
/// at most one object each. Empty for a read-only role.
pub fn write_privileges(client: &mut Client) -> Result<Vec<String>> {
    let rows = client
        .query(WRITE_PRIVILEGES_SQL, &[])
        .pg_context("failed to check the source role's privileges")?;
    // A superuser can do everything: that one line says it all.
    let superuser = rows.iter().any(|row| row.get::<_, &str>(0) == "superuser");
    Ok(rows
        .iter()
        .filter(|row| !superuser || row.get::<_, &str>(0) == "superuser")
        .map(|row| {
            let kind: &str = row.get(0);
            let example: String = row.get(1);
            let count: i64 = row.get(2);
            let more = if count > 1 {
                format!(" (and {} more)", count - 1)
            } else {
                String::new()
            };
            match kind {
                "superuser" => format!("`{example}` is a superuser"),
                "owner" => format!("owns `{example}`{more}"),
                "write" => format!("may write to `{example}`{more}"),
                "sequence" => format!("may advance the sequence `{example}`{more}"),
                "schema" => format!("may create objects in the schema `{example}`{more}"),
                _ => format!("may create schemas in the database `{example}`"),
            }
        })
        .collect())
}

/// `cargo xtask policy grants`: which source to read the catalog of, and the role to name.
#[derive(Debug, Clone, Default)]
pub struct GrantsOptions {
    /// The configured source the role is for (`production` by default).
    pub from: String,
    /// The role's name (default `<project>_pullprod`).
    pub role: Option<String>,
}

/// Read the source's catalog (read-only session) and the working copy's policy, and return
/// the SQL that creates a read-only role able to run `pull-prod` on that source.
pub fn grants(config: &crate::config::Config, options: &GrantsOptions) -> Result<String> {
    let (policy, _) = crate::config::load_policy(config);
    let policy = policy.context(
        "the policy has errors: fix them (`cargo xtask check-policy`) before generating grants",
    )?;
    let mut settings = crate::conn::Settings::parse(&config.source(&options.from)?)?;
    crate::conn::enforce_min_tls(&mut settings, &options.from)?;
    let mut client = crate::conn::open_source(&settings, &options.from)?;
    let catalog = crate::schema::load(&mut client)?;
    let role = options
        .role
        .clone()
        .unwrap_or_else(|| format!("{}_pullprod", config.project.replace('-', "_")));
    let description = format!("the `{}` source of `{}`", options.from, config.project);
    grants_sql(&catalog, &policy, &role, &settings.dbname, &description)
}

/// The SQL for a read-only role that can pull `catalog` with `policy`: `SELECT` on the tables
/// the pull reads, on every sequence, `USAGE` on their schemas, `BYPASSRLS` when a copied
/// table has row-level security, and nothing that writes.
pub fn grants_sql(
    catalog: &Catalog,
    policy: &Policy,
    role: &str,
    database: &str,
    description: &str,
) -> Result<String> {
    if role.is_empty() {
        bail!("the role name is empty: pass `--role NAME`");
    }
    let plans = crate::pipeline::plan_tables(
        catalog,
        policy,
        crate::pipeline::PlanOptions { binary: false },
    )
    .context(
        "the policy does not cover the source: grants are generated for a policy that pulls",
    )?;
    let copied: BTreeSet<&TableName> = plans.iter().map(|plan| &plan.table).collect();
    let role_ident = quote_ident(role);

    let mut read = BTreeSet::new();
    let mut locked_only = BTreeSet::new();
    let mut rls = BTreeSet::new();
    for table in &catalog.tables {
        let rows_read = match table.kind {
            TableKind::Partitioned => catalog.tables.iter().any(|partition| {
                partition.parent.as_ref() == Some(&table.name) && copied.contains(&partition.name)
            }),
            _ => copied.contains(&table.name),
        };
        if rows_read {
            read.insert(table.name.quoted());
            if table.row_security {
                rls.insert(table.name.quoted());
            }
        } else {
            locked_only.insert(table.name.quoted());
        }
    }
    let schemas: BTreeSet<String> = catalog
        .tables
        .iter()
        .map(|table| &table.name)
        .chain(&catalog.sequences)
        .map(|name| quote_ident(&name.schema))
        .collect();
    let sequences: Vec<String> = catalog.sequences.iter().map(TableName::quoted).collect();

    let mut sql = format!(
        "-- A read-only role for {description}: it can run `cargo xtask pull-prod` and \
         `cargo xtask console`, and write nothing.\n\
         -- Run as a superuser (BYPASSRLS needs one) or as the owner of the tables, then give the role a \
         password (`\\password {role_ident}`) or your usual authentication.\n\
         CREATE ROLE {role_ident} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;\n\
         ALTER ROLE {role_ident} SET default_transaction_read_only = on;\n\
         GRANT CONNECT ON DATABASE {} TO {role_ident};\n",
        quote_ident(database)
    );
    for schema in &schemas {
        sql.push_str(&format!(
            "GRANT USAGE ON SCHEMA {schema} TO {role_ident};\n"
        ));
    }
    if !read.is_empty() {
        sql.push_str("-- The tables the policy copies (partitions with their parents).\n");
        sql.push_str(&grant_select("TABLE", &read, &role_ident));
    }
    if !locked_only.is_empty() {
        sql.push_str(
            "-- Tables the policy skips: pull-prod reads none of their rows, but `pg_dump --schema-only` \
             takes an ACCESS SHARE lock on every table, which needs SELECT.\n",
        );
        sql.push_str(&grant_select("TABLE", &locked_only, &role_ident));
    }
    if !sequences.is_empty() {
        sql.push_str(
            "-- Sequences: their values are copied (SELECT reads them, it cannot advance them).\n",
        );
        sql.push_str(&grant_select(
            "SEQUENCE",
            &sequences.into_iter().collect(),
            &role_ident,
        ));
    }
    if !rls.is_empty() {
        sql.push_str(&format!(
            "-- Row-level security is on for {}: pullprod refuses to copy a table with rows hidden, so the \
             role reads past the policies (it still cannot write).\n\
             ALTER ROLE {role_ident} BYPASSRLS;\n",
            rls.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(sql)
}

fn grant_select(kind: &str, objects: &BTreeSet<String>, role_ident: &str) -> String {
    let list: Vec<&str> = objects.iter().map(String::as_str).collect();
    format!(
        "GRANT SELECT ON {kind} {} TO {role_ident};\n",
        list.join(", ")
    )
}

/// Kinds of write a role could do, with one example object and a count each.
const WRITE_PRIVILEGES_SQL: &str = "\
WITH rels AS (
  SELECT c.oid, c.relkind, c.relowner, format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
), found AS (
  SELECT 'superuser' AS kind, current_user::text AS name
    WHERE (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
  UNION ALL
  SELECT 'owner', name FROM rels WHERE pg_has_role(relowner, 'USAGE')
  UNION ALL
  SELECT 'write', name FROM rels
    WHERE CASE WHEN relkind IN ('r', 'p', 'v', 'f')
      THEN has_table_privilege(oid, 'INSERT, UPDATE, DELETE, TRUNCATE') ELSE false END
  UNION ALL
  SELECT 'sequence', name FROM rels
    WHERE CASE WHEN relkind = 'S' THEN has_sequence_privilege(oid, 'USAGE, UPDATE') ELSE false END
  UNION ALL
  SELECT 'schema', quote_ident(nspname) FROM pg_namespace
    WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
      AND (has_schema_privilege(oid, 'CREATE') OR pg_has_role(nspowner, 'USAGE'))
  UNION ALL
  SELECT 'database', quote_ident(current_database()) WHERE has_database_privilege(current_database(), 'CREATE')
)
SELECT kind, min(name), count(*) FROM found GROUP BY kind
ORDER BY array_position(ARRAY['superuser', 'owner', 'write', 'sequence', 'schema', 'database'], kind)";
