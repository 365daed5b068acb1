//! Post-data overlapped with the copy (a database output whose schema came from `pg_dump`):
//! the source's post-data section is read in the snapshot when the data phase starts, and each
//! table's own indexes and keys are built by a pool of index sessions as soon as that table's
//! rows are committed (`Pool::loaded`), while other tables still copy, the largest table's
//! first; a foreign key between two loaded tables is added (`NOT VALID`, then validated) as soon
//! as both tables' own indexes and keys are built. `Pool::finish` then runs the rest in order
//! (`target::build_post_data_rest`): the other indexes, partition index attachments, the other
//! foreign keys, triggers, rules, policies.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow};
use postgres::Client;

use crate::conn::{self, Settings};
use crate::pgerror::PgContext;
use crate::policy::model::TableName;
use crate::sql::quote_ident;
use crate::target::{self, DumpEntry, Privileges};

/// The table a per-table post-data entry builds on: `CREATE [UNIQUE] INDEX … ON [ONLY] t` (kind
/// `INDEX`) or `ALTER TABLE [ONLY] t ADD CONSTRAINT …` (kind `CONSTRAINT`: primary keys, unique
/// and exclusion constraints). `None` for every other entry.
pub fn entry_table(entry: &DumpEntry) -> Option<TableName> {
    let mut words = Words(entry.sql.trim_start());
    match entry.kind.as_str() {
        "INDEX" => {
            words.keyword("CREATE")?;
            words.keyword("UNIQUE");
            words.keyword("INDEX")?;
            words.identifier()?;
            words.keyword("ON")?;
        }
        "CONSTRAINT" => {
            words.keyword("ALTER")?;
            words.keyword("TABLE")?;
        }
        _ => return None,
    }
    words.keyword("ONLY");
    let table = words.qualified()?;
    if entry.kind == "CONSTRAINT" {
        words.keyword("ADD")?;
        words.keyword("CONSTRAINT")?;
    }
    Some(table)
}

/// A foreign key as pg_dump writes it (`ALTER TABLE [ONLY] t ADD CONSTRAINT k FOREIGN KEY (…)
/// REFERENCES r(…)…`, kind `FK CONSTRAINT`): its table, name and referenced table. `None` for
/// anything else, and for keys already `NOT VALID` in the source (they stay unvalidated).
pub fn foreign_key(entry: &DumpEntry) -> Option<(TableName, String, TableName)> {
    if entry.kind != "FK CONSTRAINT" || entry.sql.contains("NOT VALID") {
        return None;
    }
    let mut words = Words(entry.sql.trim_start());
    let (table, name) = words.add_constraint()?;
    words.keyword("FOREIGN")?;
    words.keyword("KEY")?;
    words.columns()?;
    words.keyword("REFERENCES")?;
    let referenced = words.qualified()?;
    Some((table, name, referenced))
}

/// A primary key or unique constraint as pg_dump writes it in its plainest form (`ALTER TABLE
/// [ONLY] t ADD CONSTRAINT k PRIMARY KEY|UNIQUE (a, b);`, nothing else) as two statements: `CREATE
/// UNIQUE INDEX k ON t USING btree (a, b)`, then `ALTER TABLE ONLY t ADD CONSTRAINT k … USING
/// INDEX k`, the same key and index. `ALTER TABLE … ADD CONSTRAINT` holds its table ACCESS
/// EXCLUSIVE for the whole index build, so a table's keys and indexes would be built one after
/// the other; `CREATE INDEX` shares the table with the other index builds, and adding the key
/// on the built index is instant. `None` for anything else (INCLUDE, WITH, DEFERRABLE, NULLS NOT
/// DISTINCT, exclusion constraints…), which runs as written.
pub fn index_then_key(sql: &str) -> Option<(String, String)> {
    let mut words = Words(sql.trim_start());
    let (table, name) = words.add_constraint()?;
    let kind = if words.keyword("PRIMARY").is_some() {
        words.keyword("KEY")?;
        "PRIMARY KEY"
    } else {
        words.keyword("UNIQUE")?;
        "UNIQUE"
    };
    let columns: Vec<String> = words.columns()?.iter().map(|c| quote_ident(c)).collect();
    words.punct(';')?;
    if !words.0.trim().is_empty() {
        return None;
    }
    let (table, name) = (table.quoted(), quote_ident(&name));
    Some((
        format!(
            "CREATE UNIQUE INDEX {name} ON {table} USING btree ({});",
            columns.join(", ")
        ),
        format!("ALTER TABLE ONLY {table} ADD CONSTRAINT {name} {kind} USING INDEX {name};"),
    ))
}

/// A cursor over SQL as pg_dump writes it: keywords and (quoted) identifiers.
struct Words<'a>(&'a str);

impl Words<'_> {
    /// Consume `word` (and the whitespace after it) when it comes next.
    fn keyword(&mut self, word: &str) -> Option<()> {
        let rest = self.0.strip_prefix(word)?;
        if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            return None;
        }
        self.0 = rest.trim_start();
        Some(())
    }

    /// Consume `c` (and the whitespace after it) when it comes next.
    fn punct(&mut self, c: char) -> Option<()> {
        self.0 = self.0.strip_prefix(c)?.trim_start();
        Some(())
    }

    /// Consume `ALTER TABLE [ONLY] t ADD CONSTRAINT k`: the table and the constraint's name.
    fn add_constraint(&mut self) -> Option<(TableName, String)> {
        self.keyword("ALTER")?;
        self.keyword("TABLE")?;
        self.keyword("ONLY");
        let table = self.qualified()?;
        self.keyword("ADD")?;
        self.keyword("CONSTRAINT")?;
        Some((table, self.identifier()?))
    }

    /// Consume a parenthesised list of column names.
    fn columns(&mut self) -> Option<Vec<String>> {
        self.punct('(')?;
        let mut columns = Vec::new();
        loop {
            columns.push(self.identifier()?);
            if self.punct(')').is_some() {
                return Some(columns);
            }
            self.punct(',')?;
        }
    }

    /// Consume `schema.name`.
    fn qualified(&mut self) -> Option<TableName> {
        let schema = self.identifier()?;
        self.0 = self.0.strip_prefix('.')?;
        let name = self.identifier()?;
        Some(TableName { schema, name })
    }

    /// Consume one identifier, quoted (`"a ""b"""`) or plain, and the whitespace after it.
    fn identifier(&mut self) -> Option<String> {
        let text = self.0;
        if let Some(quoted) = text.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = quoted.char_indices();
            while let Some((at, c)) = chars.next() {
                if c != '"' {
                    name.push(c);
                    continue;
                }
                if quoted[at + 1..].starts_with('"') {
                    chars.next();
                    name.push('"');
                    continue;
                }
                self.0 = quoted[at + 1..].trim_start_matches([' ', '\n', '\t']);
                return Some(name);
            }
            return None;
        }
        let end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(text.len());
        if end == 0 {
            return None;
        }
        self.0 = text[end..].trim_start_matches([' ', '\n', '\t']);
        Some(text[..end].to_string())
    }
}

/// Session settings for building indexes on the target. Measured (two 2 M-row text index
/// builds at once on the shared 2-core machine, medians): `maintenance_work_mem` 256 MiB vs
/// 1 GiB made no difference (14–18 s vs 14–15 s; 64 MiB and 1 GiB without parallel workers
/// 21–34 s), and turning parallel maintenance workers off made the builds 1.6–2× slower, so the
/// server's own `max_parallel_maintenance_workers` stays and memory is a fixed 256 MiB (never
/// below the server's setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSettings {
    /// `maintenance_work_mem` in MiB for each index session.
    pub maintenance_work_mem_mb: u64,
}

impl IndexSettings {
    /// 256 MiB, or the server's own `server_mb` when larger.
    pub fn sized(server_mb: u64) -> IndexSettings {
        IndexSettings {
            maintenance_work_mem_mb: server_mb.max(256),
        }
    }

    /// For the target `client` is connected to.
    pub fn for_server(client: &mut Client) -> Result<IndexSettings> {
        let server_mb: i64 = client
            .query_one(
                "SELECT (pg_size_bytes(current_setting('maintenance_work_mem')) / 1048576)::bigint",
                &[],
            )
            .pg_context("failed to read the dev server's settings")?
            .get(0);
        Ok(IndexSettings::sized(server_mb.max(0) as u64))
    }

    /// The `SET`s for an index session (its few commits need not wait for the disk: the pull's
    /// last commit is synchronous, `pull::write_target_audit`).
    pub fn sql(&self) -> String {
        format!(
            "SET maintenance_work_mem = '{}MB'; SET synchronous_commit = off;",
            self.maintenance_work_mem_mb
        )
    }
}

/// The pool's failure signal, returned by `Pool::loaded` so the copy stops; the real error is
/// the pool's own (`Pool::abort`).
#[derive(Debug, thiserror::Error)]
#[error("stopped because building an index or key failed")]
pub struct PoolFailed;

/// Statements a session runs one after the other (each its own transaction): one of a table's
/// own indexes or keys, or a foreign key.
#[derive(Debug, PartialEq, Eq)]
struct Job {
    /// Bytes of the table it reads: the largest job first, so the last to finish is small.
    cost: u64,
    /// The table it locks.
    table: TableName,
    /// Whether its lock excludes every other job on the table: `ALTER TABLE … ADD CONSTRAINT`
    /// (primary keys, unique constraints: ACCESS EXCLUSIVE) and foreign keys (validation's
    /// SHARE UPDATE EXCLUSIVE); `CREATE INDEX`es (SHARE) share the table with each other.
    exclusive: bool,
    /// Whether finishing it counts towards its table being built (not a foreign key).
    builds_table: bool,
    /// The table a foreign key references, which it also locks (shared: keys to one table run
    /// together, but never with a key from that table, whose locks taken in the other order
    /// could deadlock).
    references: Option<TableName>,
    statements: Vec<String>,
    /// A statement that becomes a job of its own (exclusive, building the table) once this one
    /// is done: a key added `USING INDEX` the job built.
    then: Option<String>,
}

impl Job {
    /// The tables it locks, and whether exclusively.
    fn locks(&self) -> impl Iterator<Item = (&TableName, bool)> {
        std::iter::once((&self.table, self.exclusive))
            .chain(self.references.iter().map(|table| (table, false)))
    }

    fn conflicts(&self, running: &(TableName, bool)) -> bool {
        self.locks()
            .any(|(table, exclusive)| *table == running.0 && (exclusive || running.1))
    }
}

/// A foreign key between two tables that get rows, waiting for both to be built.
#[derive(Debug)]
struct WaitingKey {
    table: TableName,
    referenced: TableName,
    entry: DumpEntry,
    statements: Vec<String>,
}

#[derive(Default)]
struct State {
    /// Per-table statements whose table is not loaded yet.
    waiting: HashMap<TableName, Vec<String>>,
    /// Each table's size on the source, for `Job::cost`.
    bytes: HashMap<TableName, u64>,
    /// For each loaded table, how many of its own statements are not done yet (0: built).
    unbuilt: HashMap<TableName, usize>,
    keys: Vec<WaitingKey>,
    /// Jobs to run, in the order they became ready.
    ready: Vec<Job>,
    /// The table and exclusivity of each job a session is running.
    running: Vec<(TableName, bool)>,
    /// No more tables will be loaded: the sessions stop when nothing is ready or running.
    closed: bool,
    /// The sessions stop at once (a failure, or the pull is abandoned).
    stopped: bool,
    failure: Option<anyhow::Error>,
}

impl State {
    fn push(
        &mut self,
        table: &TableName,
        exclusive: bool,
        builds_table: bool,
        statements: Vec<String>,
    ) {
        self.ready.push(Job {
            cost: self.bytes.get(table).copied().unwrap_or(0),
            table: table.clone(),
            exclusive,
            builds_table,
            references: None,
            statements,
            then: None,
        });
    }

    /// The largest ready job whose lock does not conflict with a running one (a conflicting
    /// job would only wait for the lock, holding a session); the earliest among equals.
    fn take(&mut self) -> Option<Job> {
        let mut best: Option<usize> = None;
        for (at, job) in self.ready.iter().enumerate() {
            if self.running.iter().any(|running| job.conflicts(running)) {
                continue;
            }
            if best.is_none_or(|best| job.cost > self.ready[best].cost) {
                best = Some(at);
            }
        }
        let job = self.ready.remove(best?);
        let locks: Vec<(TableName, bool)> = job
            .locks()
            .map(|(table, exclusive)| (table.clone(), exclusive))
            .collect();
        self.running.extend(locks);
        Some(job)
    }

    /// A session finished `job`.
    fn done(&mut self, job: &Job) {
        for (table, exclusive) in job.locks() {
            if let Some(at) = self
                .running
                .iter()
                .position(|running| running.0 == *table && running.1 == exclusive)
            {
                self.running.remove(at);
            }
        }
        if let Some(then) = &job.then {
            self.push(&job.table, true, true, vec![then.clone()]);
        } else if job.builds_table {
            if let Some(left) = self.unbuilt.get_mut(&job.table) {
                *left = left.saturating_sub(1);
            }
            self.release_keys();
        }
    }

    /// `table`'s rows are in: its statements become ready (one job each).
    fn load(&mut self, table: &TableName) {
        let Some(statements) = self.waiting.remove(table) else {
            return;
        };
        self.unbuilt.insert(table.clone(), statements.len());
        for statement in statements {
            if let Some((create, add)) = index_then_key(&statement) {
                self.push(table, false, true, vec![create]);
                if let Some(job) = self.ready.last_mut() {
                    job.then = Some(add);
                }
                continue;
            }
            let exclusive = !statement.trim_start().starts_with("CREATE");
            self.push(table, exclusive, true, vec![statement]);
        }
        self.release_keys();
    }

    /// Foreign keys whose two tables are built become ready.
    fn release_keys(&mut self) {
        let is_built =
            |unbuilt: &HashMap<TableName, usize>, table: &TableName| unbuilt.get(table) == Some(&0);
        let (ready, waiting): (Vec<WaitingKey>, Vec<WaitingKey>) =
            std::mem::take(&mut self.keys).into_iter().partition(|key| {
                is_built(&self.unbuilt, &key.table) && is_built(&self.unbuilt, &key.referenced)
            });
        self.keys = waiting;
        for key in ready {
            self.push(&key.table, true, false, key.statements);
            if let Some(job) = self.ready.last_mut()
                && key.referenced != key.table
            {
                job.references = Some(key.referenced);
            }
        }
    }
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A table that gets rows, as the pool needs it.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: TableName,
    /// Its size on the source: the larger, the earlier its indexes and keys are built.
    pub bytes: u64,
    /// A partition: its own foreign keys wait for `finish` (pg_dump's order there attaches
    /// them to the keys their parent declares).
    pub partition: bool,
}

/// The index sessions building each table's own indexes and keys while the copy runs.
pub struct Pool {
    shared: Arc<Shared>,
    sessions: Vec<JoinHandle<Option<Client>>>,
    /// Every entry that is not a loaded table's own index or key, nor a foreign key between two
    /// loaded tables, in pg_dump's order.
    rest: Vec<DumpEntry>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl Pool {
    /// Open `jobs` index sessions on `target` (each with `preamble` and `settings`), waiting for
    /// the per-table entries of `tables` (the tables that get rows). Entries on other tables
    /// (schema only, partitioned parents, materialized views), foreign keys that involve one and
    /// those of partitions wait for `finish`, with the rest.
    pub fn start(
        preamble: &str,
        entries: Vec<DumpEntry>,
        tables: &[Table],
        target: &Settings,
        jobs: usize,
        settings: &IndexSettings,
    ) -> Result<Pool> {
        let mut state = State::default();
        for table in tables {
            state.waiting.insert(table.name.clone(), Vec::new());
            state.bytes.insert(table.name.clone(), table.bytes);
        }
        let whole = |name: &TableName| tables.iter().any(|t| t.name == *name && !t.partition);
        // An index or key whose table cannot be read from its SQL might be the one a foreign
        // key needs: then every key waits for `finish`.
        let all_read = entries.iter().all(|entry| {
            !matches!(entry.kind.as_str(), "INDEX" | "CONSTRAINT") || entry_table(entry).is_some()
        });
        let mut rest = Vec::new();
        for entry in entries {
            if let Some((table, name, referenced)) = foreign_key(&entry)
                && all_read
                && whole(&table)
                && state.waiting.contains_key(&referenced)
            {
                let add = format!("{} NOT VALID;", entry.sql.trim_end().trim_end_matches(';'));
                let validate = format!(
                    "ALTER TABLE ONLY {} VALIDATE CONSTRAINT {};",
                    table.quoted(),
                    quote_ident(&name)
                );
                state.keys.push(WaitingKey {
                    table,
                    referenced,
                    entry,
                    statements: vec![add, validate],
                });
                continue;
            }
            match entry_table(&entry).and_then(|table| state.waiting.get_mut(&table)) {
                Some(statements) => statements.push(entry.sql),
                None => rest.push(entry),
            }
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            wake: Condvar::new(),
        });
        let mut pool = Pool {
            shared,
            sessions: Vec::new(),
            rest,
        };
        for _ in 0..jobs.max(1) {
            let mut client = conn::connect_settings(target, "the new dev database")?;
            client
                .batch_execute(&format!("{preamble}\n{}", settings.sql()))
                .context("failed to set up a session for indexes and constraints")?;
            let shared = Arc::clone(&pool.shared);
            pool.sessions
                .push(std::thread::spawn(move || build(&shared, client)));
        }
        Ok(pool)
    }

    /// Every row of `table` is committed: its indexes and keys may be built now.
    pub fn loaded(&self, table: &TableName) -> Result<()> {
        let mut state = self.shared.lock();
        if state.failure.is_some() {
            return Err(PoolFailed.into());
        }
        state.load(table);
        self.shared.wake.notify_all();
        Ok(())
    }

    /// Stop the sessions (they finish their current statement; the caller drops the database)
    /// and hand back the pool's failure, if it had one.
    pub fn abort(self) -> Option<anyhow::Error> {
        self.shared.lock().failure.take()
    }

    /// Wait for every table's indexes and keys and the foreign keys between them, then build
    /// the rest (`target::build_post_data_rest`) on the same sessions.
    pub fn finish(mut self, privileges: &mut Privileges) -> Result<()> {
        {
            let mut state = self.shared.lock();
            // Tables with no `loaded` call (none, after a complete copy) are built now.
            let left: Vec<TableName> = state.waiting.keys().cloned().collect();
            for table in &left {
                state.load(table);
            }
            state.closed = true;
            self.shared.wake.notify_all();
        }
        let mut sessions = Vec::new();
        for handle in std::mem::take(&mut self.sessions) {
            match handle.join() {
                Ok(Some(client)) => sessions.push(client),
                Ok(None) => {}
                Err(_) => {
                    self.shared
                        .lock()
                        .failure
                        .get_or_insert(anyhow!("an index-building session panicked"));
                }
            }
        }
        let unreleased = {
            let mut state = self.shared.lock();
            if let Some(err) = state.failure.take() {
                return Err(err);
            }
            std::mem::take(&mut state.keys)
        };
        // Keys whose tables never got built (none once every table is) go the ordinary way.
        let mut rest = std::mem::take(&mut self.rest);
        rest.extend(unreleased.into_iter().map(|key| key.entry));
        target::build_post_data_rest(&mut sessions, &rest, privileges)
    }
}

impl Drop for Pool {
    /// Sessions still running stop after their current statement (a failed pull drops the
    /// database under them).
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.wake.notify_all();
    }
}

/// One index session: take the largest ready job until the pool is closed and nothing is ready
/// or running (a running job may release foreign keys), or stopped. Returns the session for the
/// steps after the copy (`None` once it failed).
fn build(shared: &Shared, mut client: Client) -> Option<Client> {
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if state.stopped || state.failure.is_some() {
                    return Some(client);
                }
                if let Some(job) = state.take() {
                    break job;
                }
                if state.closed && state.ready.is_empty() && state.running.is_empty() {
                    shared.wake.notify_all();
                    return Some(client);
                }
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        let outcome = job
            .statements
            .iter()
            .try_for_each(|statement| client.batch_execute(statement));
        let mut state = shared.lock();
        state.done(&job);
        if let Err(err) = outcome {
            if !state.stopped {
                state
                    .failure
                    .get_or_insert(target::rejected_post_data(&err));
            }
            shared.wake.notify_all();
            return None;
        }
        shared.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, sql: &str) -> DumpEntry {
        DumpEntry {
            kind: kind.to_string(),
            sql: sql.to_string(),
        }
    }

    fn table(schema: &str, name: &str) -> Option<TableName> {
        Some(TableName {
            schema: schema.to_string(),
            name: name.to_string(),
        })
    }

    #[test]
    fn per_table_entries_name_their_table() {
        for (kind, sql, expected) in [
            (
                "INDEX",
                "CREATE INDEX orders_note_idx ON public.orders USING btree (note);\n",
                table("public", "orders"),
            ),
            (
                "INDEX",
                "CREATE UNIQUE INDEX \"odd ON name\" ON ONLY \"My \"\"Schema\".\"Tab le\" USING btree (a);\n",
                table("My \"Schema", "Tab le"),
            ),
            (
                "CONSTRAINT",
                "ALTER TABLE ONLY public.people\n    ADD CONSTRAINT people_pkey PRIMARY KEY (id);\n",
                table("public", "people"),
            ),
            (
                "CONSTRAINT",
                "ALTER TABLE ONLY \"Weird \"\"Schema\"\" ü\".\"Tab\"\"le 🐘\"\n    ADD CONSTRAINT k UNIQUE (a);\n",
                table("Weird \"Schema\" ü", "Tab\"le 🐘"),
            ),
            (
                "FK CONSTRAINT",
                "ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES public.people(id);\n",
                None,
            ),
            (
                "INDEX ATTACH",
                "ALTER INDEX public.events_pkey ATTACH PARTITION public.events_2024_pkey;\n",
                None,
            ),
            ("INDEX", "CREATE INDEXES ON public.t (a);\n", None),
        ] {
            assert_eq!(entry_table(&entry(kind, sql)), expected, "{sql}");
        }
    }

    #[test]
    fn foreign_keys_name_their_table_and_the_table_they_reference() {
        let key = |sql: &str| foreign_key(&entry("FK CONSTRAINT", sql));
        for (sql, (schema, name), constraint, (to_schema, to_name)) in [
            (
                "ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);\n",
                ("public", "orders"),
                "orders_user_id_fkey",
                ("public", "users"),
            ),
            (
                "ALTER TABLE \"S\".\"T t\"\n    ADD CONSTRAINT \"k\"\"1\" FOREIGN KEY (a, \"B (x)\") REFERENCES \"S\".\"P\"(a, b) ON DELETE CASCADE;\n",
                ("S", "T t"),
                "k\"1",
                ("S", "P"),
            ),
        ] {
            let expected = (
                table(schema, name),
                constraint.to_string(),
                table(to_schema, to_name),
            );
            assert_eq!(
                key(sql).map(|(t, k, r)| (Some(t), k, Some(r))),
                Some(expected),
                "{sql}"
            );
        }
        // Left unvalidated in the source: not ours to validate.
        assert_eq!(
            key(
                "ALTER TABLE ONLY public.o\n    ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES public.p(id) NOT VALID;\n"
            ),
            None
        );
        assert_eq!(
            foreign_key(&entry(
                "CONSTRAINT",
                "ALTER TABLE ONLY public.p\n    ADD CONSTRAINT p_pkey PRIMARY KEY (id);\n"
            )),
            None
        );
    }

    fn job_sql(job: &Job) -> &str {
        job.statements[0].as_str()
    }

    #[test]
    fn the_largest_job_goes_first_unless_its_table_is_locked_and_keys_wait_for_both_tables() {
        let t = |name: &str| table("public", name).unwrap();
        let mut state = State::default();
        for (name, bytes) in [("big", 100), ("small", 10)] {
            state.bytes.insert(t(name), bytes);
        }
        state.waiting.insert(
            t("big"),
            vec![
                "ALTER TABLE ONLY public.big ADD CONSTRAINT big_excl EXCLUDE USING gist (a WITH =);"
                    .into(),
                "CREATE INDEX big_a ON public.big (a);".into(),
                "CREATE INDEX big_b ON public.big (b);".into(),
            ],
        );
        state.waiting.insert(
            t("small"),
            vec!["CREATE INDEX small_a ON public.small (a);".into()],
        );
        state.keys.push(WaitingKey {
            table: t("small"),
            referenced: t("big"),
            entry: entry("FK CONSTRAINT", "fk"),
            statements: vec!["ADD".into(), "VALIDATE".into()],
        });
        state.load(&t("small"));
        state.load(&t("big"));
        // The exclusion constraint locks `big` whole: the next session takes `small`, not `big_a`.
        let pkey = state.take().unwrap();
        assert!(job_sql(&pkey).contains("big_excl"));
        let small = state.take().unwrap();
        assert!(job_sql(&small).contains("small_a"));
        assert_eq!(state.take(), None, "every other job would wait for a lock");
        state.done(&small);
        assert_eq!(state.take(), None, "the key waits for `big` to be built");
        state.done(&pkey);
        // Index builds share their table.
        let first = state.take().unwrap();
        let second = state.take().unwrap();
        assert!(job_sql(&first).contains("big_a") && job_sql(&second).contains("big_b"));
        state.done(&first);
        assert_eq!(state.take(), None);
        state.done(&second);
        let key = state.take().unwrap();
        assert_eq!(key.statements, ["ADD", "VALIDATE"]);
        assert!(state.ready.is_empty() && state.keys.is_empty());
    }

    #[test]
    fn keys_to_one_table_run_together_but_never_with_a_key_from_it() {
        let t = |name: &str| table("public", name).unwrap();
        let mut state = State::default();
        for (name, bytes) in [("a", 30), ("b", 20), ("c", 10)] {
            state.bytes.insert(t(name), bytes);
            state.waiting.insert(t(name), Vec::new());
        }
        for (from, to) in [("a", "b"), ("b", "a"), ("c", "b")] {
            state.keys.push(WaitingKey {
                table: t(from),
                referenced: t(to),
                entry: entry("FK CONSTRAINT", from),
                statements: vec![format!("{from} -> {to}")],
            });
        }
        for name in ["a", "b", "c"] {
            state.load(&t(name));
        }
        let first = state.take().unwrap();
        assert_eq!(first.statements, ["a -> b"]);
        // `b -> a` locks both tables the other way round: it waits; `c -> b` shares `b`.
        let second = state.take().unwrap();
        assert_eq!(second.statements, ["c -> b"]);
        assert_eq!(state.take(), None);
        state.done(&first);
        assert_eq!(
            state.take(),
            None,
            "`c -> b` still shares `b`, which `b -> a` locks whole"
        );
        state.done(&second);
        assert_eq!(state.take().unwrap().statements, ["b -> a"]);
        assert!(state.running.len() == 2 && state.ready.is_empty());
    }

    #[test]
    fn plain_keys_are_built_as_unique_indexes_then_added_using_them() {
        assert_eq!(
            index_then_key(
                "\nALTER TABLE ONLY public.users\n    ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n\n\n"
            ),
            Some((
                "CREATE UNIQUE INDEX \"users_pkey\" ON \"public\".\"users\" USING btree (\"id\");".into(),
                "ALTER TABLE ONLY \"public\".\"users\" ADD CONSTRAINT \"users_pkey\" PRIMARY KEY USING INDEX \"users_pkey\";".into()
            ))
        );
        assert_eq!(
            index_then_key(
                "ALTER TABLE ONLY \"S\".\"T\"\n    ADD CONSTRAINT \"T key\" UNIQUE (a, \"B c\");\n"
            ),
            Some((
                "CREATE UNIQUE INDEX \"T key\" ON \"S\".\"T\" USING btree (\"a\", \"B c\");".into(),
                "ALTER TABLE ONLY \"S\".\"T\" ADD CONSTRAINT \"T key\" UNIQUE USING INDEX \"T key\";".into()
            ))
        );
        for other in [
            "ALTER TABLE ONLY public.t ADD CONSTRAINT k UNIQUE (a) INCLUDE (b);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT k UNIQUE (a) DEFERRABLE;",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT k UNIQUE NULLS NOT DISTINCT (a);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT k PRIMARY KEY (a) WITH (fillfactor='50');",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT k EXCLUDE USING gist (a WITH =);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT k CHECK (a > 0);",
            "CREATE INDEX i ON public.t USING btree (a);",
        ] {
            assert_eq!(index_then_key(other), None, "{other}");
        }
    }

    #[test]
    fn a_key_built_as_an_index_shares_its_table_then_is_added_alone() {
        let t = |name: &str| table("public", name).unwrap();
        let mut state = State::default();
        state.bytes.insert(t("big"), 100);
        state.waiting.insert(
            t("big"),
            vec![
                "ALTER TABLE ONLY public.big ADD CONSTRAINT big_pkey PRIMARY KEY (id);".into(),
                "CREATE INDEX big_a ON public.big (a);".into(),
            ],
        );
        state.load(&t("big"));
        let pkey = state.take().unwrap();
        assert!(job_sql(&pkey).starts_with("CREATE UNIQUE INDEX \"big_pkey\""));
        let index = state.take().unwrap();
        assert!(job_sql(&index).contains("big_a"), "both build at once");
        state.done(&pkey);
        assert_eq!(state.take(), None, "the key waits for the other build");
        state.done(&index);
        assert_eq!(state.unbuilt.get(&t("big")), Some(&1));
        let add = state.take().unwrap();
        assert!(job_sql(&add).contains("PRIMARY KEY USING INDEX \"big_pkey\""));
        state.done(&add);
        assert_eq!(state.unbuilt.get(&t("big")), Some(&0));
    }

    #[test]
    fn index_sessions_get_256_mib_unless_the_server_gives_more() {
        assert_eq!(IndexSettings::sized(64).maintenance_work_mem_mb, 256);
        assert_eq!(IndexSettings::sized(512).maintenance_work_mem_mb, 512);
        assert!(IndexSettings::sized(64).sql().contains("'256MB'"));
    }
}
