//! The developer's side: build the new database under a temporary name (schema before and
//! after the data, sequences, materialized views), then swap it in atomically (G5).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use postgres::Client;

use crate::conn::{self, Settings};
use crate::pgerror::PgContext;
use crate::policy::model::TableName;
use crate::sql::{quote_ident, quote_literal};

/// Which part of `pg_dump --schema-only` to pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Types, functions, tables, sequences: everything the data needs.
    PreData,
    /// Indexes, constraints, triggers, policies: built after the data.
    PostData,
}

impl Section {
    fn flag(self) -> &'static str {
        match self {
            Section::PreData => "--section=pre-data",
            Section::PostData => "--section=post-data",
        }
    }
}

/// Names pullprod gives its temporary databases: `<target>__pp_new_<pid>` while building and
/// `<target>__pp_old_<pid>` for the replaced one until it is dropped.
pub fn temp_name(target_db: &str, role: &str, pid: u32) -> String {
    let suffix = format!("__pp_{role}_{pid}");
    let mut prefix: String = target_db.to_string();
    while prefix.len() + suffix.len() > 63 {
        prefix.pop();
    }
    format!("{prefix}{suffix}")
}

/// A maintenance connection to the target's server (database `postgres`).
pub fn connect_admin(target: &Settings) -> Result<Client> {
    let admin = target.with_dbname("postgres");
    conn::connect_settings(&admin, "the dev database server")
}

/// Drop databases left by killed runs for this target: `__pp_new_` ones (half-built) and
/// `__pp_old_` ones (already replaced). Those of live pullprod processes are left alone.
pub fn drop_leftovers(admin: &mut Client, target_db: &str) -> Result<Vec<String>> {
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE '%\\_\\_pp\\_%'",
            &[],
        )
        .pg_context("failed to list databases on the dev server")?;
    let mut dropped = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let Some(pid) = leftover_pid(&name, target_db) else {
            continue;
        };
        if pid != std::process::id() && std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&name)
            ))
            .pg_with_context(|| format!("failed to drop the leftover database `{name}`"))?;
        dropped.push(name);
    }
    Ok(dropped)
}

fn leftover_pid(name: &str, target_db: &str) -> Option<u32> {
    for role in ["new", "old"] {
        let marker = format!("__pp_{role}_");
        if let Some(idx) = name.rfind(&marker) {
            let pid: u32 = name[idx + marker.len()..].parse().ok()?;
            if name == temp_name(target_db, role, pid) {
                return Some(pid);
            }
        }
    }
    None
}

/// Encoding and locale of the source database, so the new one sorts and stores text alike.
#[derive(Debug, Clone)]
pub struct DatabaseLocale {
    pub encoding: String,
    pub collate: String,
    pub ctype: String,
}

pub fn source_locale(source: &mut Client) -> Result<DatabaseLocale> {
    let row = source
        .query_one(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database \
             WHERE datname = current_database()",
            &[],
        )
        .pg_context("failed to read the source database's encoding")?;
    Ok(DatabaseLocale {
        encoding: row.get(0),
        collate: row.get(1),
        ctype: row.get(2),
    })
}

/// Create the empty database the pull builds into.
pub fn create_database(admin: &mut Client, name: &str, locale: &DatabaseLocale) -> Result<()> {
    let sql = format!(
        "CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        quote_ident(name),
        quote_literal(&locale.encoding),
        quote_literal(&locale.collate),
        quote_literal(&locale.ctype),
    );
    admin
        .batch_execute(&sql)
        .pg_with_context(|| format!("failed to create the new database `{name}`"))
}

/// `pg_dump` (or `psql`) for this server's major version: the one on PATH if new enough, else
/// Debian's `/usr/lib/postgresql/<major>/bin/<tool>`. Where the one on PATH is Debian's
/// `pg_wrapper` (a Perl script choosing a version on every call, 30–100 ms each time), the
/// versioned binaries are tried first, the oldest new enough first (its SQL suits the oldest
/// servers). Found once per process.
pub fn find_tool(tool: &str, server_major: u32) -> Result<PathBuf> {
    type Found = Vec<((String, u32, Option<std::ffi::OsString>), PathBuf)>;
    // Held through the search: a second caller waits for the first's answer (`find_tools_early`).
    static FOUND: std::sync::Mutex<Found> = std::sync::Mutex::new(Vec::new());
    let key = (tool.to_string(), server_major, std::env::var_os("PATH"));
    let mut found = FOUND.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = found.iter().find(|(at, _)| *at == key) {
        return Ok(path.clone());
    }
    let path = search_tool(tool, server_major)?;
    found.push((key, path.clone()));
    Ok(path)
}

/// Find `pg_dump` (for a `source_major` server) and `psql` on a thread of their own, while the
/// caller goes on (each probe runs the tool's `--version`, 10–15 ms): the pull's later
/// `find_tool` calls then only read the answer. An error is the later call's to report.
pub fn find_tools_early(source_major: u32) {
    std::thread::spawn(move || {
        let _ = find_tool("pg_dump", source_major);
        let _ = find_tool("psql", 0);
    });
}

/// Whether `tool` as PATH finds it is Debian's `pg_wrapper`.
fn is_pg_wrapper(tool: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
        .and_then(|candidate| std::fs::canonicalize(candidate).ok())
        .is_some_and(|real| real.file_name().is_some_and(|name| name == "pg_wrapper"))
}

fn search_tool(tool: &str, server_major: u32) -> Result<PathBuf> {
    let mut candidates = Vec::new();
    let wrapper = is_pg_wrapper(tool);
    if !wrapper {
        candidates.push(PathBuf::from(tool));
    }
    if let Ok(dir) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<u32> = dir
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .filter(|major| *major >= server_major)
            .collect();
        versions.sort_unstable();
        candidates.extend(
            versions
                .iter()
                .map(|major| PathBuf::from(format!("/usr/lib/postgresql/{major}/bin/{tool}"))),
        );
    }
    if wrapper {
        candidates.push(PathBuf::from(tool));
    }
    let mut found_older = None;
    for candidate in candidates {
        let Ok(output) = Command::new(&candidate).arg("--version").output() else {
            continue;
        };
        let version = String::from_utf8_lossy(&output.stdout);
        let major: u32 = version
            .split_whitespace()
            .last()
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if major >= server_major {
            return Ok(candidate);
        }
        found_older.get_or_insert(major);
    }
    match found_older {
        Some(major) => bail!(
            "`{tool}` is version {major} but the source server is PostgreSQL {server_major}: \
             install the PostgreSQL {server_major} client tools (e.g. `apt install postgresql-client-{server_major}`) \
             and put them first on PATH"
        ),
        None => bail!(
            "`{tool}` was not found: install the PostgreSQL client tools (e.g. `apt install postgresql-client`)"
        ),
    }
}

/// The server's major version (`server_version_num / 10000`).
pub fn server_major(client: &mut Client) -> Result<u32> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .pg_context("failed to read the server version")?;
    let num: i32 = row.get(0);
    Ok((num / 10000) as u32)
}

/// `pg_dump --schema-only` of one section of the source, in `snapshot` when given: no owners,
/// privileges or tablespaces (a dev server has none of production's), never pullprod's own
/// schema, in a session that cannot write (G4) and with secrets only in the environment.
pub fn schema_dump(
    pg_dump: &std::path::Path,
    source: &Settings,
    snapshot: Option<&str>,
    section: Section,
) -> Command {
    let mut dump = Command::new(pg_dump);
    dump.args([
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--no-tablespaces",
        "--exclude-schema=pullprod",
        section.flag(),
    ]);
    if let Some(snapshot) = snapshot {
        dump.arg(format!("--snapshot={snapshot}"));
    }
    dump.envs(source.libpq_env())
        .env("PGOPTIONS", "-c default_transaction_read_only=on");
    dump
}

/// `psql` loading SQL into `target`: no psqlrc, quiet, stopping at the first error, with the
/// connection settings (password included) in the environment rather than on the command line.
pub fn psql_into(psql: &std::path::Path, target: &Settings) -> Command {
    let mut load = Command::new(psql);
    load.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null"])
        .envs(target.libpq_env())
        .env_remove("PGOPTIONS");
    load
}

/// Pipe `pg_dump --schema-only <section>` of the source (in `snapshot`) into `psql` on the new
/// database. Nothing touches disk; passwords travel in the environment, not on command lines.
pub fn pipe_schema(
    pg_dump: &std::path::Path,
    psql: &std::path::Path,
    source: &Settings,
    snapshot: Option<&str>,
    section: Section,
    target: &Settings,
) -> Result<()> {
    RunningDump::start(pg_dump, source, snapshot, section)?.load(psql, target)
}

/// A section's `pg_dump` started before its target exists (it reads the source's catalog
/// meanwhile; its output waits in the pipe), loaded with `load`. Dropped unloaded, it is killed.
#[derive(Debug)]
pub struct RunningDump {
    child: Option<std::process::Child>,
    section: Section,
}

impl RunningDump {
    pub fn start(
        pg_dump: &std::path::Path,
        source: &Settings,
        snapshot: Option<&str>,
        section: Section,
    ) -> Result<RunningDump> {
        let mut dump = schema_dump(pg_dump, source, snapshot, section);
        dump.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = dump.spawn().context("failed to start `pg_dump`")?;
        Ok(RunningDump {
            child: Some(child),
            section,
        })
    }

    /// Pipe the dump into `psql` on `target`, in one transaction.
    pub fn load(mut self, psql: &std::path::Path, target: &Settings) -> Result<()> {
        let section = self.section;
        let mut dump_child = self.child.take().expect("loaded once");
        let dump_out = dump_child.stdout.take().expect("stdout is piped");
        let mut load = psql_into(psql, target);
        load.arg("--single-transaction")
            .stdin(Stdio::from(dump_out))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let dump_err = read_all(dump_child.stderr.take());
        let mut load_child = match load.spawn() {
            Ok(child) => child,
            Err(err) => {
                let _ = dump_child.kill();
                let _ = dump_child.wait();
                return Err(err).context("failed to start `psql`");
            }
        };

        crate::fault::point(match section {
            Section::PreData => "pre-data-running",
            Section::PostData => "post-data-running",
        });
        let load_err = read_all(load_child.stderr.take());
        let dump_status = dump_child.wait().context("failed to wait for `pg_dump`")?;
        let load_status = load_child.wait().context("failed to wait for `psql`")?;
        let section_name = match section {
            Section::PreData => "schema",
            Section::PostData => "indexes and constraints",
        };
        if !dump_status.success() {
            bail!(
                "`pg_dump` failed to read the source {section_name}: {}",
                first_lines(&dump_err.join())
            );
        }
        if !load_status.success() {
            bail!(
                "the new database rejected the source {section_name}: {}",
                first_lines(&load_err.join())
            );
        }
        Ok(())
    }
}

impl Drop for RunningDump {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

struct Reader(Option<std::thread::JoinHandle<String>>);

impl Reader {
    fn join(self) -> String {
        self.0
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default()
    }
}

fn read_all(stream: Option<impl Read + Send + 'static>) -> Reader {
    Reader(stream.map(|mut stream| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            text
        })
    }))
}

/// The first few non-empty lines of a tool's error output, on one line.
pub fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(5)
        .collect();
    if lines.is_empty() {
        "no error output".to_string()
    } else {
        lines.join("; ")
    }
}

/// Sequence positions read from the source's snapshot.
pub fn read_sequences(
    source: &mut Client,
    sequences: &[TableName],
) -> Result<Vec<(TableName, i64, bool)>> {
    let mut values = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let row = source
            .query_one(
                &format!("SELECT last_value, is_called FROM {}", sequence.quoted()),
                &[],
            )
            .pg_with_context(|| format!("failed to read sequence `{sequence}`"))?;
        values.push((sequence.clone(), row.get(0), row.get(1)));
    }
    Ok(values)
}

pub fn set_sequences(target: &mut Client, values: &[(TableName, i64, bool)]) -> Result<()> {
    for (sequence, last_value, is_called) in values {
        target
            .batch_execute(&setval_sql(sequence, *last_value, *is_called))
            .pg_with_context(|| format!("failed to set sequence `{sequence}`"))?;
    }
    Ok(())
}

/// The statement that sets a sequence as the source has it (run on the new database, or
/// written into a dump file).
pub fn setval_sql(sequence: &TableName, last_value: i64, is_called: bool) -> String {
    format!(
        "SELECT pg_catalog.setval({}, {last_value}, {is_called});",
        crate::sql::quote_literal(&sequence.quoted())
    )
}

/// The statement that fills a materialized view.
pub fn refresh_sql(matview: &TableName) -> String {
    format!("REFRESH MATERIALIZED VIEW {};", matview.quoted())
}

/// A sequence that feeds a column: owned by it (`serial`, identity) or named in its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceUse {
    pub sequence: TableName,
    pub table: TableName,
    pub column: String,
}

/// Every sequence that feeds a column of an ordinary or partitioned table, in `client`'s
/// database (the source's snapshot, or the new database: their schemas are the same).
pub fn sequence_uses(client: &mut Client) -> Result<Vec<SequenceUse>> {
    let rows = client
        .query(
            "SELECT DISTINCT sn.nspname, s.relname, tn.nspname, t.relname, a.attname              FROM (SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS att FROM pg_depend d                    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass                      AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0                    UNION                    SELECT d.refobjid, ad.adrelid, ad.adnum FROM pg_attrdef ad JOIN pg_depend d                      ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid                     AND d.refclassid = 'pg_class'::regclass) u              JOIN pg_class s ON s.oid = u.seq AND s.relkind = 'S'              JOIN pg_namespace sn ON sn.oid = s.relnamespace              JOIN pg_class t ON t.oid = u.rel AND t.relkind IN ('r', 'p')              JOIN pg_namespace tn ON tn.oid = t.relnamespace              JOIN pg_attribute a ON a.attrelid = u.rel AND a.attnum = u.att              ORDER BY 1, 2, 3, 4, 5",
            &[],
        )
        .map_err(|err| anyhow!("{}", crate::pgerror::message(&err)))
        .context("failed to read which columns sequences feed")?;
    Ok(rows
        .iter()
        .map(|row| SequenceUse {
            sequence: TableName {
                schema: row.get(0),
                name: row.get(1),
            },
            table: TableName {
                schema: row.get(2),
                name: row.get(3),
            },
            column: row.get(4),
        })
        .collect())
}

/// SQL that moves `use_.sequence` past the largest value of its column when the column's
/// values were transformed (a hashed serial key lands far beyond the source's sequence), so
/// the next insert does not collide. Does nothing when the sequence is already past it, or
/// counts down.
pub fn advance_sequence_sql(use_: &SequenceUse) -> String {
    let sequence = use_.sequence.quoted();
    format!(
        "SELECT pg_catalog.setval('{}', m.v) FROM (SELECT max({})::bigint AS v FROM {}) m, {sequence} s, pg_catalog.pg_sequences ps WHERE ps.schemaname = {} AND ps.sequencename = {} AND ps.increment_by > 0 AND m.v IS NOT NULL AND m.v > s.last_value AND m.v <= ps.max_value;",
        sequence.replace('\'', "''"),
        quote_ident(&use_.column),
        use_.table.quoted(),
        crate::sql::quote_literal(&use_.sequence.schema),
        crate::sql::quote_literal(&use_.sequence.name),
    )
}

/// The uses whose column some plan transforms (on the table, or on any of its partitions).
pub fn transformed_uses(
    uses: &[SequenceUse],
    catalog: &crate::schema::Catalog,
    plans: &[crate::pipeline::TablePlan],
) -> Vec<SequenceUse> {
    let mut transformed = std::collections::BTreeSet::new();
    for plan in plans {
        let ancestor = catalog
            .table(&plan.table)
            .and_then(|table| table.parent.clone());
        for (column, rule) in plan.columns.iter().zip(&plan.rules) {
            if rule.is_keep() {
                continue;
            }
            transformed.insert((plan.table.clone(), column.clone()));
            if let Some(ancestor) = &ancestor {
                transformed.insert((ancestor.clone(), column.clone()));
            }
        }
    }
    uses.iter()
        .filter(|use_| transformed.contains(&(use_.table.clone(), use_.column.clone())))
        .cloned()
        .collect()
}

/// Run `advance_sequence_sql` for each use in the new database.
pub fn advance_sequences(target: &mut Client, uses: &[SequenceUse]) -> Result<()> {
    for use_ in uses {
        target
            .batch_execute(&advance_sequence_sql(use_))
            .map_err(|err| anyhow!("{}", crate::pgerror::message(&err)))
            .with_context(|| {
                format!(
                    "failed to move sequence `{}` past the transformed `{}.{}`",
                    use_.sequence, use_.table, use_.column
                )
            })?;
    }
    Ok(())
}

pub fn refresh_matviews(target: &mut Client, matviews: &[TableName]) -> Result<()> {
    for matview in matviews {
        target
            .batch_execute(&refresh_sql(matview))
            .map_err(|err| anyhow!("{}", crate::pgerror::data_message(&err, None, &[])))
            .with_context(|| format!("failed to refresh materialized view `{matview}`"))?;
    }
    Ok(())
}

/// Drop a database pullprod created (`WITH (FORCE)`), ignoring errors: used to clean up
/// after a failure, when the first error is the one worth reporting.
pub fn drop_quietly(admin: &mut Client, name: &str) {
    let _ = admin.batch_execute(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(name)
    ));
}

/// `swap_in`, dropping the new database if the swap cannot happen (the old one stays).
pub fn swap_in_or_drop(
    admin: &mut Client,
    new_db: &str,
    target_db: &str,
    options: SwapOptions,
) -> Result<()> {
    swap_in(admin, new_db, target_db, options).inspect_err(|_| drop_quietly(admin, new_db))
}

/// `swap_in_keeping_old`, dropping the new database if the swap cannot happen.
pub fn swap_in_keeping_old_or_drop(
    admin: &mut Client,
    new_db: &str,
    target_db: &str,
    options: SwapOptions,
) -> Result<Option<String>> {
    swap_in_keeping_old(admin, new_db, target_db, options)
        .inspect_err(|_| drop_quietly(admin, new_db))
}

/// `DROP DATABASE … WITH (FORCE)` of a database pullprod made.
pub fn drop_database(admin: &mut Client, name: &str) -> Result<()> {
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        ))
        .pg_with_context(|| format!("failed to drop `{name}`"))
}

/// Drop `name` on `target`'s server from a detached `psql` (its own process group, so neither
/// this process ending nor a Ctrl-C stops it); nobody waits for it. If it never finishes, the
/// database is a leftover the next run's `drop_leftovers` removes.
pub fn drop_in_background(psql: &std::path::Path, target: &Settings, name: &str) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let mut child = psql_into(psql, &target.with_dbname("postgres"))
        .arg("-c")
        .arg(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("failed to start `psql`")?;
    // Reaped if this process lives on (a library caller); the drop goes on either way.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Options for `swap_in`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SwapOptions {
    /// Close other sessions connected to the old dev database instead of refusing.
    pub force: bool,
}

/// Rename `new_db` to `target_db` and the old one out of the way in ONE transaction (so a kill
/// at any moment leaves either the old or the new database under the target's name), then drop
/// the old one.
pub fn swap_in(
    admin: &mut Client,
    new_db: &str,
    target_db: &str,
    options: SwapOptions,
) -> Result<()> {
    if let Some(old_db) = swap_in_keeping_old(admin, new_db, target_db, options)? {
        drop_database(admin, &old_db).with_context(|| {
            format!("the new data is in place, but dropping the old copy `{old_db}` failed")
        })?;
    }
    Ok(())
}

/// `swap_in` without the drop: returns the replaced database's new name (`None` when there was
/// no dev database yet), for the caller to drop when it suits.
pub fn swap_in_keeping_old(
    admin: &mut Client,
    new_db: &str,
    target_db: &str,
    options: SwapOptions,
) -> Result<Option<String>> {
    let old_db = temp_name(target_db, "old", std::process::id());
    for attempt in 0..5 {
        let sessions = admin
            .query(
                "SELECT pid, coalesce(nullif(application_name, ''), 'unnamed client') FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&target_db],
            )
            .pg_context("failed to list sessions on the dev database")?;
        if !sessions.is_empty() {
            let names: Vec<String> = sessions.iter().map(|row| row.get(1)).collect();
            if !options.force {
                bail!(
                    "{} other session(s) are connected to `{target_db}` ({}): close them (stop your app server, \
                     psql…) or pass `--force` to close them; the new data is ready and nothing was changed",
                    sessions.len(),
                    names.join(", ")
                );
            }
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                    &[&target_db],
                )
                .pg_context("failed to close sessions on the dev database")?;
            std::thread::sleep(std::time::Duration::from_millis(100 * (attempt + 1)));
        }
        let exists = admin
            .query_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&target_db],
            )
            .pg_context("failed to look up the dev database")?
            .is_some();
        let mut transaction = admin.transaction().pg_context("failed to begin the swap")?;
        let renamed = (|| -> Result<(), postgres::Error> {
            if exists {
                transaction.batch_execute(&format!(
                    "ALTER DATABASE {} RENAME TO {}",
                    quote_ident(target_db),
                    quote_ident(&old_db)
                ))?;
            }
            crate::fault::point("swap-half-renamed");
            transaction.batch_execute(&format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(new_db),
                quote_ident(target_db)
            ))
        })();
        match renamed {
            Ok(()) => {
                transaction
                    .commit()
                    .pg_context("failed to commit the swap")?;
                crate::fault::point("after-swap-commit");
                return Ok(exists.then_some(old_db));
            }
            Err(err) if options.force && attempt < 4 => {
                drop(transaction);
                let _ = err;
                continue;
            }
            Err(err) => {
                return Err(anyhow!("{}", crate::pgerror::message(&err))).with_context(|| {
                    format!("failed to swap the new database in as `{target_db}`")
                });
            }
        }
    }
    bail!("other sessions kept reconnecting to `{target_db}`: stop them and run again")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_named_by_grants_owners_and_policies() {
        let roles = |text: &str| statement_roles(text).map(|found| found.join("|"));
        for (statement, expected) in [
            (
                "GRANT SELECT ON TABLE auth.users TO postgres;",
                Some("postgres"),
            ),
            (
                "GRANT SELECT(email),UPDATE ON TABLE t TO reader, \"Odd \"\"Role\" WITH GRANT OPTION;",
                Some("reader|Odd \"Role"),
            ),
            ("REVOKE ALL ON SCHEMA public FROM PUBLIC;", Some("")),
            (
                "GRANT USAGE ON SCHEMA auth TO gone GRANTED BY admin;",
                Some("gone"),
            ),
            (
                "ALTER TABLE auth.users OWNER TO supabase_auth_admin;",
                Some("supabase_auth_admin"),
            ),
            (
                "CREATE POLICY own ON public.notes FOR SELECT TO app, gone USING ((owner = CURRENT_USER));",
                Some("app|gone"),
            ),
            (
                "CREATE POLICY all_rows ON public.notes USING (true);",
                Some(""),
            ),
            ("CREATE INDEX i ON t (a);", None),
        ] {
            assert_eq!(roles(statement).as_deref(), expected, "{statement}");
        }
        let dump = "CREATE TABLE t (a int);\nALTER TABLE public.t OWNER TO alice;\n\
                    GRANT SELECT ON TABLE public.t TO bob;\nSELECT 1;\n";
        assert_eq!(privilege_statements(dump).len(), 2);
        let mut privileges = Privileges::default();
        assert_eq!(privileges.skipped_line(), None);
        privileges
            .missing_roles
            .extend(["gone".to_string(), "old".to_string()]);
        assert_eq!(
            privileges.skipped_line().as_deref(),
            Some(
                "skipped grants, owners and row-level security policies for roles the dev server does not have: `gone`, `old`"
            )
        );
    }

    #[test]
    fn temp_names_fit_and_are_recognised() {
        let long = "d".repeat(70);
        let name = temp_name(&long, "new", 4_000_000);
        assert!(name.len() <= 63);
        assert_eq!(leftover_pid(&name, &long), Some(4_000_000));
        assert_eq!(
            leftover_pid(&temp_name("shop_dev", "old", 12), "shop_dev"),
            Some(12)
        );
        assert_eq!(
            leftover_pid("shop_dev2__pp_new_12", "shop_dev"),
            None,
            "another target's leftovers are not ours"
        );
        assert_eq!(leftover_pid("shop_dev", "shop_dev"), None);
    }
}

/// One entry of `pg_dump`'s SQL output: its TOC type (`INDEX`, `FK CONSTRAINT`…) and statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpEntry {
    pub kind: String,
    pub sql: String,
}

/// Split `pg_dump` SQL into its preamble (the `SET`s every session needs) and its entries.
/// psql meta-commands (`\restrict`…) are dropped: the statements run through a client.
pub fn split_dump(sql: &str) -> (String, Vec<DumpEntry>) {
    let mut preamble = String::new();
    let mut entries: Vec<DumpEntry> = Vec::new();
    let mut lines = sql.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with('\\') {
            continue;
        }
        if line == "--"
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("-- Name: "))
        {
            let header = lines.next().expect("peeked");
            let kind = header
                .split("; Type: ")
                .nth(1)
                .and_then(|rest| rest.split("; Schema: ").next())
                .unwrap_or("")
                .to_string();
            entries.push(DumpEntry {
                kind,
                sql: String::new(),
            });
            continue;
        }
        if line.starts_with("--") {
            continue;
        }
        match entries.last_mut() {
            Some(entry) => {
                entry.sql.push_str(line);
                entry.sql.push('\n');
            }
            None => {
                preamble.push_str(line);
                preamble.push('\n');
            }
        }
    }
    entries.retain(|entry| !entry.sql.trim().is_empty());
    (preamble, entries)
}

/// pg_dump's post-data section of the source, read in `snapshot`, split into its preamble
/// (the `SET`s every session needs) and its entries.
pub fn read_post_data(
    pg_dump: &std::path::Path,
    source: &Settings,
    snapshot: Option<&str>,
) -> Result<(String, Vec<DumpEntry>)> {
    let output = schema_dump(pg_dump, source, snapshot, Section::PostData)
        // Read as UTF-8 below, whatever the source database's encoding (LATIN1…).
        .arg("--encoding=UTF8")
        .output()
        .context("failed to start `pg_dump`")?;
    if !output.status.success() {
        bail!(
            "`pg_dump` failed to read the source indexes and constraints: {}",
            first_lines(&String::from_utf8_lossy(&output.stderr))
        );
    }
    crate::fault::point("post-data-running");
    let sql = String::from_utf8(output.stdout).context("`pg_dump` wrote text that is not UTF-8")?;
    Ok(split_dump(&sql))
}

/// A `pg_dump` read running in a thread of its own.
#[derive(Debug)]
pub struct Pending<T>(std::thread::JoinHandle<Result<T>>);

impl<T: Send + 'static> Pending<T> {
    fn start(read: impl FnOnce() -> Result<T> + Send + 'static) -> Pending<T> {
        Pending(std::thread::spawn(read))
    }

    /// Wait for the read and take its result.
    pub fn wait(self) -> Result<T> {
        self.0
            .join()
            .map_err(|_| anyhow!("reading the source's schema with `pg_dump` panicked"))?
    }
}

/// What a database built from pg_dump's schema reads besides its pre-data, started together so
/// both run while the pre-data loads: the post-data section (`read_post_data`) and the
/// privileges (`read_privileges`), in `snapshot`.
pub fn start_schema_reads(
    pg_dump: &std::path::Path,
    source: &Settings,
    snapshot: &str,
) -> (Pending<(String, Vec<DumpEntry>)>, Pending<String>) {
    let args = || (pg_dump.to_path_buf(), source.clone(), snapshot.to_string());
    let (dump, settings, at) = args();
    let post_data = Pending::start(move || read_post_data(&dump, &settings, Some(&at)));
    let (dump, settings, at) = args();
    let privileges = Pending::start(move || read_privileges(&dump, &settings, Some(&at)));
    (post_data, privileges)
}

/// The kinds of post-data entry `build_post_data_rest` runs in its own steps; any other kind
/// (triggers, rules, policies, NOT VALID checks…) runs last, in pg_dump's order.
const STEPPED_KINDS: [&str; 4] = ["CONSTRAINT", "INDEX", "INDEX ATTACH", "FK CONSTRAINT"];

/// What is left of the post-data once every table's own indexes and keys are built (`entries`
/// holds everything but those): the remaining indexes and keys in parallel (tables without
/// rows, partitioned parents, materialized views), partition index attachments, foreign keys
/// added `NOT VALID` and validated in parallel (in key order between tables in `frozen`, those
/// loaded by `COPY … FREEZE`: `postdata::validate_in_key_order`), then the rest in order, over
/// `sessions`.
pub fn build_post_data_rest(
    sessions: &mut [Client],
    entries: &[DumpEntry],
    frozen: &std::collections::HashSet<TableName>,
    privileges: &mut Privileges,
) -> Result<()> {
    let of_kind = |kinds: &[&str]| -> Vec<String> {
        entries
            .iter()
            .filter(|entry| kinds.contains(&entry.kind.as_str()))
            .map(|entry| entry.sql.clone())
            .collect()
    };
    run_parallel(sessions, &of_kind(&["CONSTRAINT", "INDEX"]))?;
    run_parallel(&mut sessions[..1], &of_kind(&["INDEX ATTACH"]))?;

    // Foreign keys: adding them NOT VALID is instant; validating is the slow part and runs
    // in parallel. Partitioned tables cannot take NOT VALID keys: those are added as they are.
    let first = &mut sessions[0];
    // Keys the source left unvalidated (`NOT VALID` in the dump) are added last, as they are:
    // validating them could fail, and would make the dev database differ from the source.
    let (unvalidated, keys): (Vec<String>, Vec<String>) = of_kind(&["FK CONSTRAINT"])
        .into_iter()
        .partition(|statement| statement.contains("NOT VALID"));
    for statement in keys {
        let trimmed = statement.trim_end();
        let not_valid = format!("{} NOT VALID;", trimmed.trim_end_matches(';'));
        // Partitioned tables cannot take NOT VALID keys (and any other refusal is reported
        // by the plain statement itself).
        let added_not_valid = first.batch_execute(&not_valid).is_ok();
        // A key referencing a partitioned table gets per-partition clones that VALIDATE does
        // not reach: add those keys validated, the plain way.
        if added_not_valid && let Some(row) = first
            .query_opt(
                "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', p.conrelid::regclass, p.conname) \
                 FROM pg_constraint p WHERE p.contype = 'f' AND NOT p.convalidated AND p.conparentid = 0 \
                 AND EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conparentid = p.oid)",
                &[],
            )
            .pg_context("failed to inspect a foreign key")?
        {
            let drop_it: String = row.get(0);
            first.batch_execute(&drop_it).pg_context("failed to re-create a foreign key")?;
        } else if added_not_valid {
            continue;
        }
        first
            .batch_execute(trimmed)
            .pg_context("the new database rejected a foreign key of the source")?;
    }
    let to_validate: Vec<String> = first
        .query(
            "SELECT format('ALTER TABLE %s VALIDATE CONSTRAINT %I', k.conrelid::regclass, k.conname), \
                    n.nspname, c.relname, rn.nspname, r.relname, \
                    ARRAY(SELECT a.attname::text FROM unnest(k.conkey) AS u(attnum) \
                          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) \
             FROM pg_constraint k \
             JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace \
             WHERE k.contype = 'f' AND NOT k.convalidated AND k.conparentid = 0",
            &[],
        )
        .pg_context("failed to list foreign keys to validate")?
        .iter()
        .map(|row| {
            let validate: String = row.get(0);
            let table = TableName {
                schema: row.get(1),
                name: row.get(2),
            };
            let referenced = TableName {
                schema: row.get(3),
                name: row.get(4),
            };
            if frozen.contains(&table) && frozen.contains(&referenced) {
                let columns: Vec<String> = row.get(5);
                format!(
                    "{}\n{validate};",
                    crate::postdata::validate_in_key_order(&table, &columns)
                )
            } else {
                validate
            }
        })
        .collect();
    run_parallel(sessions, &to_validate)?;
    for statement in unvalidated {
        sessions[0]
            .batch_execute(&statement)
            .pg_context("the new database rejected a foreign key of the source")?;
    }

    let roles = server_roles(&mut sessions[0])?;
    let mut rest: Vec<String> = Vec::new();
    for entry in entries
        .iter()
        .filter(|entry| !STEPPED_KINDS.contains(&entry.kind.as_str()))
    {
        // A row-level security policy for a role the dev server lacks cannot be created.
        if entry.kind == "POLICY" {
            let missing: Vec<String> = statement_roles(&entry.sql)
                .unwrap_or_default()
                .into_iter()
                .filter(|role| !roles.contains(role))
                .collect();
            if !missing.is_empty() {
                privileges.missing_roles.extend(missing);
                continue;
            }
            privileges.applied += 1;
        }
        rest.push(entry.sql.clone());
    }
    run_parallel(&mut sessions[..1], &rest)
}

/// What became of the source's privileges, owners and row-level security policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privileges {
    /// GRANT/REVOKE, `OWNER TO` and `CREATE POLICY` statements applied.
    pub applied: usize,
    /// Roles named by statements that were left out: they do not exist on the dev server.
    pub missing_roles: std::collections::BTreeSet<String>,
}

impl Privileges {
    /// One line for the user, when something was left out.
    pub fn skipped_line(&self) -> Option<String> {
        if self.missing_roles.is_empty() {
            return None;
        }
        let roles: Vec<String> = self
            .missing_roles
            .iter()
            .map(|role| format!("`{role}`"))
            .collect();
        Some(format!(
            "skipped grants, owners and row-level security policies for roles the dev server does not have: {}",
            roles.join(", ")
        ))
    }
}

/// The roles a privilege, owner or policy statement of `pg_dump` names (PUBLIC left out);
/// `None` for any other statement.
pub fn statement_roles(statement: &str) -> Option<Vec<String>> {
    let text = statement.trim().trim_end_matches(';').trim_end();
    let list = if let Some(at) = text.find(" OWNER TO ") {
        &text[at + " OWNER TO ".len()..]
    } else if text.starts_with("GRANT ") {
        let list = &text[text.rfind(" TO ")? + " TO ".len()..];
        let list = list.split(" GRANTED BY ").next().unwrap_or(list);
        list.strip_suffix(" WITH GRANT OPTION").unwrap_or(list)
    } else if text.starts_with("REVOKE ") {
        let list = &text[text.rfind(" FROM ")? + " FROM ".len()..];
        let list = list.split(" GRANTED BY ").next().unwrap_or(list);
        list.strip_suffix(" CASCADE").unwrap_or(list)
    } else if text.starts_with("CREATE POLICY ") {
        let Some(at) = text.find(" TO ") else {
            return Some(Vec::new());
        };
        let rest = &text[at + " TO ".len()..];
        let end = [" USING (", " WITH CHECK ("]
            .iter()
            .filter_map(|marker| rest.find(marker))
            .min()
            .unwrap_or(rest.len());
        &rest[..end]
    } else {
        return None;
    };
    let mut roles = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = list.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => roles.push(std::mem::take(&mut current)),
            c if c.is_whitespace() && !quoted => {}
            c => current.push(c),
        }
    }
    roles.push(current);
    roles.retain(|role| !role.is_empty() && !role.eq_ignore_ascii_case("public"));
    Some(roles)
}

/// Roles that exist on the server of `client`.
pub fn server_roles(client: &mut Client) -> Result<std::collections::BTreeSet<String>> {
    Ok(client
        .query("SELECT rolname::text FROM pg_roles", &[])
        .context("failed to list the roles of the dev server")?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// The statements of a `pg_dump` script that set privileges and owners, in order.
pub fn privilege_statements(sql: &str) -> Vec<String> {
    sql.lines()
        .filter(|line| {
            (line.starts_with("GRANT ") || line.starts_with("REVOKE "))
                || (line.starts_with("ALTER ") && line.contains(" OWNER TO "))
        })
        .map(str::to_string)
        .collect()
}

/// The source's GRANTs and owners as `pg_dump` writes them (a whole schema dump, in `snapshot`),
/// for `apply_privileges`.
pub fn read_privileges(
    pg_dump: &std::path::Path,
    source: &Settings,
    snapshot: Option<&str>,
) -> Result<String> {
    let mut dump = Command::new(pg_dump);
    dump.args([
        "--schema-only",
        "--no-tablespaces",
        "--exclude-schema=pullprod",
        "--encoding=UTF8",
    ]);
    if let Some(snapshot) = snapshot {
        dump.arg(format!("--snapshot={snapshot}"));
    }
    let output = dump
        .envs(source.libpq_env())
        .env("PGOPTIONS", "-c default_transaction_read_only=on")
        .output()
        .context("failed to start `pg_dump`")?;
    if !output.status.success() {
        bail!(
            "`pg_dump` failed to read the source privileges: {}",
            first_lines(&String::from_utf8_lossy(&output.stderr))
        );
    }
    String::from_utf8(output.stdout).context("`pg_dump` wrote text that is not UTF-8")
}

/// Give the new database the GRANTs and owners of `sql` (`read_privileges`), for the roles the
/// dev server has (policies were created with the post-data); the others are counted in
/// `privileges`.
pub fn apply_privileges(sql: &str, target: &mut Client, privileges: &mut Privileges) -> Result<()> {
    let roles = server_roles(target)?;
    for statement in privilege_statements(sql) {
        let named = statement_roles(&statement).unwrap_or_default();
        let missing: Vec<&String> = named.iter().filter(|role| !roles.contains(*role)).collect();
        if !missing.is_empty() {
            privileges
                .missing_roles
                .extend(missing.into_iter().cloned());
            continue;
        }
        let outcome = target.batch_execute(&statement);
        // A dev user that may not act for a role cannot give it objects: reported, not fatal.
        if let Err(err) = &outcome
            && err.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
        {
            privileges.missing_roles.extend(named);
            continue;
        }
        outcome
            .map_err(|err| anyhow!("{}", crate::pgerror::message(&err)))
            .with_context(|| {
                format!(
                    "the new database rejected a privilege or owner of the source ({})",
                    statement.split(" ON ").next().unwrap_or("GRANT")
                )
            })?;
        privileges.applied += 1;
    }
    Ok(())
}

/// Run statements over the sessions, each statement once, in parallel; the first error wins.
pub fn run_parallel(sessions: &mut [Client], statements: &[String]) -> Result<()> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let workers: Vec<_> = sessions
            .iter_mut()
            .map(|client| {
                let next = &next;
                let failed = &failed;
                scope.spawn(move || -> Result<()> {
                    loop {
                        if failed.load(std::sync::atomic::Ordering::Relaxed) {
                            return Ok(());
                        }
                        let idx = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(statement) = statements.get(idx) else {
                            return Ok(());
                        };
                        let mut outcome = client.batch_execute(statement);
                        // Two foreign keys between the same tables can deadlock; one retry settles it.
                        if outcome.as_ref().err().and_then(|err| err.code())
                            == Some(&postgres::error::SqlState::T_R_DEADLOCK_DETECTED)
                        {
                            outcome = client.batch_execute(statement);
                        }
                        if let Err(err) = outcome {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                            return Err(rejected_post_data(&err));
                        }
                    }
                })
            })
            .collect();
        let mut first_error = None;
        for worker in workers {
            match worker.join() {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    first_error.get_or_insert(err);
                }
                Err(_) => {
                    first_error.get_or_insert(anyhow!("an index-building session panicked"));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}

/// A post-data statement's failure as reported: the server's message (never a row value).
pub fn rejected_post_data(err: &postgres::Error) -> anyhow::Error {
    anyhow!("{}", crate::pgerror::data_message(err, None, &[]))
        .context("the new database rejected the source indexes and constraints")
}
