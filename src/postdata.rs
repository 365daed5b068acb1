//! Post-data overlapped with the copy (a database output whose schema came from `pg_dump`):
//! the source's post-data section is read in the snapshot when the data phase starts, and each
//! table's own indexes and keys are built by a pool of index sessions as soon as that table's
//! rows are committed (`Pool::loaded`), while other tables still copy. `Pool::finish` then runs
//! the rest in order (`target::build_post_data_rest`): the other indexes, partition index
//! attachments, foreign keys, triggers, rules, policies.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow};
use postgres::Client;

use crate::conn::{self, Settings};
use crate::pgerror::PgContext;
use crate::policy::model::TableName;
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
    let schema = words.identifier()?;
    words.0 = words.0.strip_prefix('.')?;
    let name = words.identifier()?;
    if entry.kind == "CONSTRAINT" {
        words.keyword("ADD")?;
        words.keyword("CONSTRAINT")?;
    }
    Some(TableName { schema, name })
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

#[derive(Default)]
struct State {
    /// Per-table statements whose table is not loaded yet.
    waiting: HashMap<TableName, Vec<String>>,
    ready: VecDeque<String>,
    /// No more tables will be loaded: the sessions stop when `ready` is empty.
    closed: bool,
    /// The sessions stop at once (a failure, or the pull is abandoned).
    stopped: bool,
    failure: Option<anyhow::Error>,
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

/// The index sessions building each table's own indexes and keys while the copy runs.
pub struct Pool {
    shared: Arc<Shared>,
    sessions: Vec<JoinHandle<Option<Client>>>,
    /// Every entry that is not a loaded table's own index or key, in pg_dump's order.
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
    /// (schema only, partitioned parents, materialized views) wait for `finish`, with the rest.
    pub fn start(
        preamble: &str,
        entries: Vec<DumpEntry>,
        tables: &[TableName],
        target: &Settings,
        jobs: usize,
        settings: &IndexSettings,
    ) -> Result<Pool> {
        let mut state = State::default();
        for table in tables {
            state.waiting.insert(table.clone(), Vec::new());
        }
        let mut rest = Vec::new();
        for entry in entries {
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
        if let Some(statements) = state.waiting.remove(table) {
            state.ready.extend(statements);
            self.shared.wake.notify_all();
        }
        Ok(())
    }

    /// Stop the sessions (they finish their current statement; the caller drops the database)
    /// and hand back the pool's failure, if it had one.
    pub fn abort(self) -> Option<anyhow::Error> {
        self.shared.lock().failure.take()
    }

    /// Wait for every table's indexes and keys, then build the rest (`target::build_post_data_rest`)
    /// on the same sessions.
    pub fn finish(mut self, privileges: &mut Privileges) -> Result<()> {
        {
            let mut state = self.shared.lock();
            // Tables with no `loaded` call (none, after a complete copy) are built now.
            let left: Vec<String> = state.waiting.drain().flat_map(|(_, sql)| sql).collect();
            state.ready.extend(left);
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
        if let Some(err) = self.shared.lock().failure.take() {
            return Err(err);
        }
        target::build_post_data_rest(&mut sessions, &self.rest, privileges)
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

/// One index session: take ready statements until the pool is closed and drained, or stopped.
/// Returns the session for the steps after the copy (`None` once it failed).
fn build(shared: &Shared, mut client: Client) -> Option<Client> {
    loop {
        let statement = {
            let mut state = shared.lock();
            loop {
                if state.stopped || state.failure.is_some() {
                    return Some(client);
                }
                if let Some(statement) = state.ready.pop_front() {
                    break statement;
                }
                if state.closed {
                    return Some(client);
                }
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        if let Err(err) = client.batch_execute(&statement) {
            let mut state = shared.lock();
            if !state.stopped {
                state
                    .failure
                    .get_or_insert(target::rejected_post_data(&err));
            }
            shared.wake.notify_all();
            return None;
        }
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
    fn index_sessions_get_256_mib_unless_the_server_gives_more() {
        assert_eq!(IndexSettings::sized(64).maintenance_work_mem_mb, 256);
        assert_eq!(IndexSettings::sized(512).maintenance_work_mem_mb, 512);
        assert!(IndexSettings::sized(64).sql().contains("'256MB'"));
    }
}
