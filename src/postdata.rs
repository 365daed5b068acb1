//! Post-data overlapped with the copy (a database output whose schema came from `pg_dump`):
//! the source's post-data section is read in the snapshot when the data phase starts, and each
//! table's own indexes and keys are built by a pool of index sessions as soon as that table's
//! rows are committed (`Pool::loaded`), while other tables still copy, the largest table's
//! first; a foreign key between two loaded tables is added (`NOT VALID`, then validated) as soon
//! as both tables' own indexes and keys are built, and a partitioned table's key (added as
//! written) once every partition's are. Two statements run at once only when the locks
//! PostgreSQL takes for them do not conflict (`Lock`), so no session waits for another.
//! `Pool::finish` then runs the rest in order (`target::build_post_data_rest`): the other
//! indexes, partition index attachments, the other foreign keys, triggers, rules, policies.

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

/// The columns of a foreign key `foreign_key` reads, in the key's order.
fn key_columns(entry: &DumpEntry) -> Option<Vec<String>> {
    let mut words = Words(entry.sql.trim_start());
    words.add_constraint()?;
    words.keyword("FOREIGN")?;
    words.keyword("KEY")?;
    words.columns()
}

/// A statement to run just before a foreign key of `table` on `columns` is validated, in the same
/// transaction: when every relation whose rows the check reads (`table`, or each of its leaf
/// partitions) has a valid plain btree index leading with exactly those columns (in their
/// types' default orderings, as a primary key's or unique constraint's index has them), it turns hash
/// joins off for the transaction, so the check (an anti join of the rows to the referenced key)
/// reads both keys in order, a merge join of two index-only scans, rather than hashing the
/// referenced table. Without statistics the planner takes the hash join; on tables loaded by
/// `COPY FREEZE` (which sets the visibility map, so the scans need not visit the rows) the
/// merge join used 0.22 CPU-s where the hash join used 0.55 (`order_items → orders` at demo
/// scale 200000). Only for such tables: on rows loaded without it every index entry visits its
/// row, in key order, which made a split 3.6 M-row table's validation take 11 s instead of
/// 0.4. Plain SQL, no procedural language; it changes nothing else.
pub fn validate_in_key_order(table: &TableName, columns: &[String]) -> String {
    let mut sorted: Vec<&str> = columns.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let names = sorted
        .iter()
        .map(|column| crate::sql::quote_literal(column))
        .collect::<Vec<_>>()
        .join(", ");
    let table = format!("{}::regclass", crate::sql::quote_literal(&table.quoted()));
    format!(
        "SELECT set_config('enable_hashjoin', 'off', true) \
         WHERE NOT EXISTS (SELECT 1 FROM (SELECT relid FROM pg_partition_tree({table}) WHERE isleaf \
             UNION SELECT oid FROM pg_class WHERE oid = {table} AND relkind <> 'p') r \
           WHERE NOT EXISTS (SELECT 1 FROM pg_index i \
             JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam \
             WHERE i.indrelid = r.relid AND am.amname = 'btree' AND i.indisvalid \
               AND i.indpred IS NULL AND i.indexprs IS NULL \
               AND NOT EXISTS (SELECT 1 FROM unnest(i.indclass::oid[]) WITH ORDINALITY AS o(opclass, n) \
                 JOIN pg_opclass oc ON oc.oid = o.opclass WHERE o.n <= {count} AND NOT oc.opcdefault) \
               AND ARRAY(SELECT a.attname::text \
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
                 JOIN pg_attribute a ON a.attrelid = r.relid AND a.attnum = k.attnum \
                 WHERE k.n <= {count} ORDER BY 1) = ARRAY[{names}]::text[]));",
        count = columns.len(),
    )
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
/// 21–34 s), and turning parallel maintenance workers off made the builds 1.6–2× slower, so
/// memory is a fixed 256 MiB (never below the server's setting) and the server's own
/// `max_parallel_maintenance_workers` is used once the copy is over. While rows still copy the
/// copy keeps every core busy, and starting parallel workers for each build only adds their
/// start-up and merge (demo scale 200000, the server's setting at 0 for whole pulls, 7
/// alternating pulls each: 13.05 s vs 13.75 s median). So a build starts without them
/// (`SERIAL_WHILE_COPYING`) while more bytes remain to be copied than its table holds
/// (`State::serial`); a larger one would outlast the copy on one core (the skewed database's
/// 3.6 M-row table, loaded just before the last small ones: `--jobs 2` post-data 4.4 s when
/// every build during the copy was serial, 3.3 s with this rule).
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
    /// last commit is synchronous, `pull::write_target_audit`); it starts serial.
    pub fn sql(&self) -> String {
        format!(
            "SET maintenance_work_mem = '{}MB'; SET synchronous_commit = off; SET jit = off; \
             {SERIAL_WHILE_COPYING}",
            self.maintenance_work_mem_mb
        )
    }
}

/// An index session's setting for a build while the copy keeps the cores busy (see
/// `IndexSettings`)…
const SERIAL_WHILE_COPYING: &str = "SET max_parallel_maintenance_workers = 0;";
/// … and otherwise (the server's own).
const PARALLEL_AFTER_COPY: &str = "RESET max_parallel_maintenance_workers;";

/// The pool's failure signal, returned by `Pool::loaded` so the copy stops; the real error is
/// the pool's own (`Pool::abort`).
#[derive(Debug, thiserror::Error)]
#[error("stopped because building an index or key failed")]
pub struct PoolFailed;

/// The table locks the pool's statements take (PostgreSQL's lock modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// `VALIDATE CONSTRAINT` on the table a foreign key references.
    RowShare,
    /// `VALIDATE CONSTRAINT` on the key's own table.
    ShareUpdateExclusive,
    /// `CREATE INDEX`.
    Share,
    /// `ADD CONSTRAINT … FOREIGN KEY … NOT VALID`, on both of the key's tables.
    ShareRowExclusive,
    /// Every other `ALTER TABLE` (a key added `USING INDEX`, an exclusion constraint…).
    AccessExclusive,
}

impl Lock {
    pub const ALL: [Lock; 5] = [
        Lock::RowShare,
        Lock::ShareUpdateExclusive,
        Lock::Share,
        Lock::ShareRowExclusive,
        Lock::AccessExclusive,
    ];

    /// The mode as `LOCK TABLE … IN … MODE` names it.
    pub fn sql(self) -> &'static str {
        match self {
            Lock::RowShare => "ROW SHARE",
            Lock::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Lock::Share => "SHARE",
            Lock::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Lock::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// The mode as `pg_locks.mode` names it.
    pub fn pg_locks_mode(self) -> &'static str {
        match self {
            Lock::RowShare => "RowShareLock",
            Lock::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            Lock::Share => "ShareLock",
            Lock::ShareRowExclusive => "ShareRowExclusiveLock",
            Lock::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// PostgreSQL's table of conflicting lock modes ("Explicit Locking"), for these five.
    pub fn conflicts(self, other: Lock) -> bool {
        use Lock::*;
        match (self, other) {
            (AccessExclusive, _) | (_, AccessExclusive) => true,
            (RowShare, _) | (_, RowShare) => false,
            (Share, Share) => false,
            _ => true,
        }
    }
}

/// A statement a session runs (its own transaction): one of a table's own indexes or keys, or a
/// step of a foreign key.
#[derive(Debug, PartialEq, Eq)]
struct Job {
    /// Bytes of the table it reads: the largest job first, so the last to finish is small.
    cost: u64,
    /// The table it builds on (a foreign key's own table).
    table: TableName,
    /// The tables it locks and how (a foreign key's also the table it references). No two jobs
    /// whose locks conflict run at once: a session never waits for another's lock (it would
    /// hold a session idle, and two jobs taking each other's tables could deadlock).
    locks: Vec<(TableName, Lock)>,
    /// Whether finishing it counts towards its table being built (not a foreign key).
    builds_table: bool,
    statement: String,
    /// The job that becomes ready once this one is done: a key added `USING INDEX` the job
    /// built, a foreign key's validation once it is added `NOT VALID`.
    then: Option<Box<Job>>,
}

impl Job {
    fn new(cost: u64, table: &TableName, lock: Lock, builds_table: bool, statement: String) -> Job {
        Job {
            cost,
            table: table.clone(),
            locks: vec![(table.clone(), lock)],
            builds_table,
            statement,
            then: None,
        }
    }

    fn conflicts(&self, running: &(TableName, Lock)) -> bool {
        self.locks
            .iter()
            .any(|(table, lock)| *table == running.0 && lock.conflicts(running.1))
    }
}

/// A foreign key between two tables that get rows (or from a partitioned table whose every
/// partition gets rows), waiting for both to be built.
#[derive(Debug)]
struct WaitingKey {
    table: TableName,
    referenced: TableName,
    /// When `table` is partitioned: its partitions (leaves). PostgreSQL 15 cannot add such a key
    /// `NOT VALID`: it is added as written (`entry`), validating every partition, and locks them
    /// all SHARE ROW EXCLUSIVE.
    partitions: Vec<TableName>,
    entry: DumpEntry,
    /// `ADD CONSTRAINT … NOT VALID`, then `VALIDATE CONSTRAINT`.
    add: String,
    validate: String,
    /// `validate_in_key_order` for the key, run before its validation when every table it
    /// reads was loaded frozen (the index-only scans then need not visit the rows).
    in_key_order: String,
}

impl WaitingKey {
    /// `entry` as the pool adds it, when it is a foreign key it can add (`foreign_key`).
    fn of(entry: &DumpEntry) -> Option<WaitingKey> {
        let (table, name, referenced) = foreign_key(entry)?;
        let in_key_order = validate_in_key_order(&table, &key_columns(entry)?);
        let add = format!("{} NOT VALID;", entry.sql.trim_end().trim_end_matches(';'));
        let validate = format!(
            "ALTER TABLE ONLY {} VALIDATE CONSTRAINT {};",
            table.quoted(),
            quote_ident(&name)
        );
        Some(WaitingKey {
            table,
            referenced,
            partitions: Vec::new(),
            entry: entry.clone(),
            add,
            validate,
            in_key_order,
        })
    }
}

#[derive(Default)]
struct State {
    /// Per-table statements whose table is not loaded yet.
    waiting: HashMap<TableName, Vec<String>>,
    /// Each table's size on the source, for `Job::cost` (a partition's: its tree's).
    bytes: HashMap<TableName, u64>,
    /// Each table's own size on the source.
    own_bytes: HashMap<TableName, u64>,
    /// The own sizes of the tables not loaded yet (`waiting`), summed.
    left_bytes: u64,
    /// For each loaded table, how many of its own statements are not done yet (0: built).
    unbuilt: HashMap<TableName, usize>,
    /// Loaded tables whose rows were loaded frozen (`COPY … FREEZE`: the visibility map set).
    frozen: std::collections::HashSet<TableName>,
    keys: Vec<WaitingKey>,
    /// Jobs to run, in the order they became ready.
    ready: Vec<Job>,
    /// The locks of each job a session is running.
    running: Vec<(TableName, Lock)>,
    /// No more tables will be loaded: the sessions stop when nothing is ready or running.
    closed: bool,
    /// The sessions stop at once (a failure, or the pull is abandoned).
    stopped: bool,
    failure: Option<anyhow::Error>,
}

impl State {
    fn cost(&self, table: &TableName) -> u64 {
        self.bytes.get(table).copied().unwrap_or(0)
    }

    /// Whether `job` should run without parallel workers: the copy is still going and has more
    /// bytes left (tables not loaded yet, the ones being copied among them) than the job's
    /// table, so it keeps the cores busy for at least as long as the build.
    fn serial(&self, job: &Job) -> bool {
        !self.closed && self.left_bytes >= self.own_bytes.get(&job.table).copied().unwrap_or(0)
    }

    /// The largest ready job whose locks conflict with no running job's; the earliest among
    /// equals.
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
        self.running.extend(job.locks.iter().cloned());
        Some(job)
    }

    /// A session finished `job`.
    fn done(&mut self, job: Job) {
        for lock in &job.locks {
            if let Some(at) = self.running.iter().position(|running| running == lock) {
                self.running.remove(at);
            }
        }
        if let Some(then) = job.then {
            self.ready.push(*then);
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
        let own = self.own_bytes.get(table).copied().unwrap_or(0);
        self.left_bytes = self.left_bytes.saturating_sub(own);
        self.unbuilt.insert(table.clone(), statements.len());
        let cost = self.cost(table);
        for statement in statements {
            let job = match index_then_key(&statement) {
                Some((create, add)) => Job {
                    then: Some(Box::new(Job::new(
                        cost,
                        table,
                        Lock::AccessExclusive,
                        true,
                        add,
                    ))),
                    ..Job::new(cost, table, Lock::Share, true, create)
                },
                None if statement.trim_start().starts_with("CREATE") => {
                    Job::new(cost, table, Lock::Share, true, statement)
                }
                None => Job::new(cost, table, Lock::AccessExclusive, true, statement),
            };
            self.ready.push(job);
        }
        self.release_keys();
    }

    /// Foreign keys whose two tables are built become ready: added `NOT VALID` (both tables
    /// SHARE ROW EXCLUSIVE, an instant), then validated (its table SHARE UPDATE EXCLUSIVE, the
    /// referenced one ROW SHARE), so keys into a table validate while keys from it are added
    /// or validated too.
    fn release_keys(&mut self) {
        let is_built =
            |unbuilt: &HashMap<TableName, usize>, table: &TableName| unbuilt.get(table) == Some(&0);
        let (ready, waiting): (Vec<WaitingKey>, Vec<WaitingKey>) =
            std::mem::take(&mut self.keys).into_iter().partition(|key| {
                let own = match key.partitions.as_slice() {
                    [] => is_built(&self.unbuilt, &key.table),
                    partitions => partitions.iter().all(|p| is_built(&self.unbuilt, p)),
                };
                own && is_built(&self.unbuilt, &key.referenced)
            });
        self.keys = waiting;
        for key in ready {
            let frozen = self.frozen.contains(&key.referenced)
                && match key.partitions.as_slice() {
                    [] => self.frozen.contains(&key.table),
                    partitions => partitions.iter().all(|p| self.frozen.contains(p)),
                };
            let in_key_order = if frozen {
                format!("{}\n", key.in_key_order)
            } else {
                String::new()
            };
            if !key.partitions.is_empty() {
                let cost = key
                    .partitions
                    .iter()
                    .map(|p| self.cost(p))
                    .max()
                    .unwrap_or(0);
                let mut job = Job::new(
                    cost,
                    &key.table,
                    Lock::ShareRowExclusive,
                    false,
                    format!("{in_key_order}{}", key.entry.sql),
                );
                for table in key.partitions.into_iter().chain([key.referenced]) {
                    if !job.locks.iter().any(|(locked, _)| *locked == table) {
                        job.locks.push((table, Lock::ShareRowExclusive));
                    }
                }
                self.ready.push(job);
                continue;
            }
            let cost = self.cost(&key.table);
            let step = |statement: String, own: Lock, referenced: Lock| {
                let mut job = Job::new(cost, &key.table, own, false, statement);
                if key.referenced != key.table {
                    job.locks.push((key.referenced.clone(), referenced));
                }
                job
            };
            let validate = step(
                format!("{in_key_order}{}", key.validate),
                Lock::ShareUpdateExclusive,
                Lock::RowShare,
            );
            self.ready.push(Job {
                then: Some(Box::new(validate)),
                ..step(key.add, Lock::ShareRowExclusive, Lock::ShareRowExclusive)
            });
        }
    }
}

/// The statements the pool runs for `entry` (one of a table's own indexes or keys, or a foreign
/// key between two tables that get rows; `partitions`: the partitions of its table when that
/// is partitioned), in order, each with the table locks it is scheduled under. Empty for an
/// entry the pool leaves to `finish`. (The model the tests hold against the server's
/// `pg_locks`.)
pub fn pool_steps(
    entry: &DumpEntry,
    partitions: &[TableName],
) -> Vec<(String, Vec<(TableName, Lock)>)> {
    let mut state = State::default();
    if let Some(mut key) = WaitingKey::of(entry) {
        key.partitions = partitions.to_vec();
        for table in partitions.iter().chain([&key.table, &key.referenced]) {
            state.unbuilt.insert(table.clone(), 0);
            state.frozen.insert(table.clone());
        }
        state.keys.push(key);
        state.release_keys();
    } else if let Some(table) = entry_table(entry) {
        state.waiting.insert(table.clone(), vec![entry.sql.clone()]);
        state.load(&table);
    }
    let mut steps = Vec::new();
    while let Some(job) = state.take() {
        steps.push((job.statement.clone(), job.locks.clone()));
        state.done(job);
    }
    steps
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
    /// For a partition, the partitioned table at the root of its tree. A partition's own
    /// foreign keys wait for `finish` (pg_dump's order there attaches them to the keys their
    /// parent declares); a key of the root is added once all its partitions are built.
    pub root: Option<TableName>,
}

/// The size each table's jobs are ordered by (`Job::cost`): its own, or for a partition its whole
/// tree's, since its indexes hold up its root's keys (added once every partition is built).
fn job_bytes(tables: &[Table]) -> HashMap<TableName, u64> {
    let mut tree_bytes: HashMap<&TableName, u64> = HashMap::new();
    for table in tables {
        if let Some(root) = &table.root {
            *tree_bytes.entry(root).or_default() += table.bytes;
        }
    }
    tables
        .iter()
        .map(|table| {
            let bytes = table
                .root
                .as_ref()
                .and_then(|root| tree_bytes.get(root))
                .copied()
                .unwrap_or(table.bytes);
            (table.name.clone(), bytes)
        })
        .collect()
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
    /// (schema only, partitioned parents, materialized views), foreign keys that involve one
    /// (but a partitioned root's key to a table that gets rows, added once its partitions are
    /// built) and those of partitions wait for `finish`, with the rest.
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
            state.own_bytes.insert(table.name.clone(), table.bytes);
            state.left_bytes += table.bytes;
        }
        state.bytes = job_bytes(tables);
        // Looked up once per foreign key: a catalog may hold 100,000 tables.
        let whole: std::collections::HashSet<&TableName> = tables
            .iter()
            .filter(|t| t.root.is_none())
            .map(|t| &t.name)
            .collect();
        let mut partitions_of: HashMap<&TableName, Vec<TableName>> = HashMap::new();
        for table in tables {
            if let Some(root) = &table.root {
                partitions_of
                    .entry(root)
                    .or_default()
                    .push(table.name.clone());
            }
        }
        // An index or key whose table cannot be read from its SQL might be the one a foreign
        // key needs: then every key waits for `finish`.
        let all_read = entries.iter().all(|entry| {
            !matches!(entry.kind.as_str(), "INDEX" | "CONSTRAINT") || entry_table(entry).is_some()
        });
        let mut rest = Vec::new();
        for entry in entries {
            if let Some(mut key) = WaitingKey::of(&entry)
                && all_read
                && state.waiting.contains_key(&key.referenced)
            {
                if whole.contains(&key.table) {
                    state.keys.push(key);
                    continue;
                }
                key.partitions = partitions_of.get(&key.table).cloned().unwrap_or_default();
                if !key.partitions.is_empty() && !state.waiting.contains_key(&key.table) {
                    state.keys.push(key);
                    continue;
                }
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

    /// Every row of `table` is committed (`frozen`: by `COPY … FREEZE`): its indexes and keys
    /// may be built now.
    pub fn loaded(&self, table: &TableName, frozen: bool) -> Result<()> {
        let mut state = self.shared.lock();
        if state.failure.is_some() {
            return Err(PoolFailed.into());
        }
        if frozen {
            state.frozen.insert(table.clone());
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
        let (unreleased, frozen) = {
            let mut state = self.shared.lock();
            if let Some(err) = state.failure.take() {
                return Err(err);
            }
            (
                std::mem::take(&mut state.keys),
                std::mem::take(&mut state.frozen),
            )
        };
        for session in &mut sessions {
            session
                .batch_execute(PARALLEL_AFTER_COPY)
                .context("failed to set up a session for indexes and constraints")?;
        }
        // Keys whose tables never got built (none once every table is) go the ordinary way.
        let mut rest = std::mem::take(&mut self.rest);
        rest.extend(unreleased.into_iter().map(|key| key.entry));
        target::build_post_data_rest(&mut sessions, &rest, &frozen, privileges)
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
    // As `IndexSettings::sql` left the session.
    let mut serial = true;
    loop {
        let (job, wanted) = {
            let mut state = shared.lock();
            loop {
                if state.stopped || state.failure.is_some() {
                    return Some(client);
                }
                if let Some(job) = state.take() {
                    let wanted = state.serial(&job);
                    break (job, wanted);
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
        let outcome = if serial != wanted {
            serial = wanted;
            let setting = if wanted {
                SERIAL_WHILE_COPYING
            } else {
                PARALLEL_AFTER_COPY
            };
            client
                .batch_execute(setting)
                .and_then(|()| client.batch_execute(&job.statement))
        } else {
            client.batch_execute(&job.statement)
        };
        let mut state = shared.lock();
        state.done(job);
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
        job.statement.as_str()
    }

    fn key(from: &TableName, to: &TableName) -> WaitingKey {
        WaitingKey {
            table: from.clone(),
            referenced: to.clone(),
            partitions: Vec::new(),
            entry: entry("FK CONSTRAINT", &from.name),
            add: format!("add {} -> {}", from.name, to.name),
            validate: format!("validate {} -> {}", from.name, to.name),
            in_key_order: "in key order;".into(),
        }
    }

    #[test]
    fn keys_are_validated_in_key_order_only_between_frozen_tables() {
        let t = |name: &str| table("public", name).unwrap();
        for (frozen, in_key_order) in [
            (&["a", "b"][..], true),
            (&["a"][..], false),
            (&["b"][..], false),
        ] {
            let mut state = State::default();
            for name in ["a", "b"] {
                state.waiting.insert(t(name), Vec::new());
            }
            for name in frozen {
                state.frozen.insert(t(name));
            }
            state.keys.push(key(&t("a"), &t("b")));
            state.load(&t("a"));
            state.load(&t("b"));
            let add = state.take().unwrap();
            assert_eq!(job_sql(&add), "add a -> b");
            state.done(add);
            let validate = state.take().unwrap();
            let expected = if in_key_order {
                "in key order;\nvalidate a -> b"
            } else {
                "validate a -> b"
            };
            assert_eq!(job_sql(&validate), expected, "frozen: {frozen:?}");
        }
    }

    #[test]
    fn lock_modes_conflict_as_postgres_documents() {
        use Lock::*;
        // "Conflicting Lock Modes" (PostgreSQL 15 docs, 13.3.1), rows and columns in this order.
        let table = [
            (RowShare, [false, false, false, false, true]),
            (ShareUpdateExclusive, [false, true, true, true, true]),
            (Share, [false, true, false, true, true]),
            (ShareRowExclusive, [false, true, true, true, true]),
            (AccessExclusive, [true, true, true, true, true]),
        ];
        for (mode, row) in table {
            for (other, conflicts) in Lock::ALL.into_iter().zip(row) {
                assert_eq!(mode.conflicts(other), conflicts, "{mode:?} vs {other:?}");
            }
        }
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
        state.keys.push(key(&t("small"), &t("big")));
        state.load(&t("small"));
        state.load(&t("big"));
        // The exclusion constraint locks `big` whole: the next session takes `small`, not `big_a`.
        let pkey = state.take().unwrap();
        assert!(job_sql(&pkey).contains("big_excl"));
        let small = state.take().unwrap();
        assert!(job_sql(&small).contains("small_a"));
        assert_eq!(state.take(), None, "every other job would wait for a lock");
        state.done(small);
        assert_eq!(state.take(), None, "the key waits for `big` to be built");
        state.done(pkey);
        // Index builds share their table.
        let first = state.take().unwrap();
        let second = state.take().unwrap();
        assert!(job_sql(&first).contains("big_a") && job_sql(&second).contains("big_b"));
        state.done(first);
        assert_eq!(state.take(), None);
        state.done(second);
        let add = state.take().unwrap();
        assert_eq!(job_sql(&add), "add small -> big");
        assert_eq!(state.take(), None, "validated once added");
        state.done(add);
        let validate = state.take().unwrap();
        assert_eq!(job_sql(&validate), "validate small -> big");
        state.done(validate);
        assert!(state.ready.is_empty() && state.keys.is_empty() && state.running.is_empty());
    }

    #[test]
    fn foreign_keys_are_added_and_validated_under_the_locks_postgres_takes() {
        let t = |name: &str| table("public", name).unwrap();
        let mut state = State::default();
        for (name, bytes) in [("a", 30), ("b", 20), ("c", 10)] {
            state.bytes.insert(t(name), bytes);
            state.waiting.insert(t(name), Vec::new());
        }
        for (from, to) in [("a", "b"), ("b", "a"), ("c", "b")] {
            state.keys.push(key(&t(from), &t(to)));
        }
        for name in ["a", "b", "c"] {
            state.load(&t(name));
        }
        // Adding takes SHARE ROW EXCLUSIVE on both tables: one add into `b` at a time.
        let add_ab = state.take().unwrap();
        assert_eq!(job_sql(&add_ab), "add a -> b");
        assert_eq!(state.take(), None, "`b -> a` and `c -> b` lock `b` too");
        state.done(add_ab);
        let validate_ab = state.take().unwrap();
        assert_eq!(job_sql(&validate_ab), "validate a -> b");
        // Validating `a -> b` holds `a` SHARE UPDATE EXCLUSIVE and `b` ROW SHARE: `c -> b` is
        // added and validated meanwhile; `b -> a`, whose add locks `a`, waits.
        let add_cb = state.take().unwrap();
        assert_eq!(job_sql(&add_cb), "add c -> b");
        assert_eq!(state.take(), None);
        state.done(add_cb);
        let validate_cb = state.take().unwrap();
        assert_eq!(job_sql(&validate_cb), "validate c -> b");
        assert_eq!(state.take(), None, "`b -> a` still waits for `a`");
        state.done(validate_ab);
        // Keys into `b` being validated (ROW SHARE) do not stop a key from `b` (both ways).
        let add_ba = state.take().unwrap();
        assert_eq!(job_sql(&add_ba), "add b -> a");
        state.done(add_ba);
        let validate_ba = state.take().unwrap();
        assert_eq!(job_sql(&validate_ba), "validate b -> a");
        assert_eq!(
            state.running.len(),
            4,
            "`c -> b` and `b -> a` validate at once"
        );
        state.done(validate_cb);
        state.done(validate_ba);
        assert!(state.ready.is_empty() && state.running.is_empty());
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
        state.done(pkey);
        assert_eq!(state.take(), None, "the key waits for the other build");
        state.done(index);
        assert_eq!(state.unbuilt.get(&t("big")), Some(&1));
        let add = state.take().unwrap();
        assert!(job_sql(&add).contains("PRIMARY KEY USING INDEX \"big_pkey\""));
        state.done(add);
        assert_eq!(state.unbuilt.get(&t("big")), Some(&0));
    }

    #[test]
    fn builds_are_serial_while_more_is_left_to_copy_than_their_table() {
        let t = |name: &str| table("public", name).unwrap();
        let mut state = State::default();
        for (name, bytes) in [("big", 100), ("mid", 40), ("small", 30), ("tiny", 5)] {
            state.own_bytes.insert(t(name), bytes);
            state.waiting.insert(t(name), Vec::new());
            state.left_bytes += bytes;
        }
        let job = |name: &str| Job::new(0, &t(name), Lock::Share, true, String::new());
        // Left: big, mid, small, tiny (175).
        assert!(state.serial(&job("big")));
        state.load(&t("big"));
        // Left: mid, small, tiny (75).
        assert!(!state.serial(&job("big")) && state.serial(&job("mid")));
        state.load(&t("mid"));
        // Left: small, tiny (35): `mid`'s 40 would outlast the copy.
        assert!(!state.serial(&job("mid")) && state.serial(&job("small")));
        state.closed = true;
        assert!(!state.serial(&job("tiny")), "the copy is over");
    }

    #[test]
    fn a_partitions_jobs_go_as_early_as_its_whole_tree() {
        let t = |name: &str| table("public", name).unwrap();
        let of = |name: &str, bytes: u64, root: Option<&str>| Table {
            name: t(name),
            bytes,
            root: root.map(t),
        };
        let bytes = job_bytes(&[
            of("big", 100, None),
            of("events_a", 60, Some("events")),
            of("events_b", 50, Some("events")),
            of("small", 5, None),
        ]);
        assert_eq!(bytes[&t("big")], 100);
        assert_eq!(bytes[&t("events_a")], 110);
        assert_eq!(bytes[&t("events_b")], 110);
        assert_eq!(bytes[&t("small")], 5);
    }

    #[test]
    fn index_sessions_get_256_mib_unless_the_server_gives_more() {
        assert_eq!(IndexSettings::sized(64).maintenance_work_mem_mb, 256);
        assert_eq!(IndexSettings::sized(512).maintenance_work_mem_mb, 512);
        assert!(IndexSettings::sized(64).sql().contains("'256MB'"));
        // No parallel workers while the copy keeps the cores busy; the server's after it.
        assert!(
            IndexSettings::sized(64)
                .sql()
                .contains("max_parallel_maintenance_workers = 0")
        );
    }
}
