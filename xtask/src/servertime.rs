//! Where the servers' time goes during one benchmark run. The server is local: a sampler thread
//! polls `pg_stat_activity` about every 50 ms, reads each backend's CPU from `/proc/<pid>/stat`
//! and attributes the CPU used since the previous poll to the statement that was running
//! (`classify`), together with the WAL inserted (`pg_current_wal_insert_lsn`), shared out per
//! poll among the statements that write it, in proportion to their CPU.
//!
//! Only backends of the benchmark's own databases (a name prefix) count, so other sessions on a
//! shared server are left out; the checkpointer, WAL writer and background writer serve every
//! database and are counted whole.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pullprod::conn::{self, Settings};
use pullprod::pgerror::PgContext;

/// What a server process was doing, as the benchmark reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// `COPY … TO STDOUT`: the source reading rows out.
    SourceCopyOut,
    /// `COPY … FROM STDIN`: the target parsing and storing rows.
    TargetCopyIn,
    /// `CREATE [UNIQUE] INDEX`, `ADD CONSTRAINT … PRIMARY KEY / UNIQUE / EXCLUDE`.
    IndexBuilds,
    /// `ADD CONSTRAINT … FOREIGN KEY` and `VALIDATE CONSTRAINT`.
    FkValidation,
    /// `CREATE DATABASE`, `DROP DATABASE`, `ALTER DATABASE … RENAME`.
    CreateDropDatabase,
    Checkpointer,
    WalWriter,
    BgWriter,
    Autovacuum,
    /// Every other statement of the benchmark's sessions: schema DDL, catalog reads, TRUNCATE,
    /// sequences, materialized views, and the time between statements.
    OtherStatements,
    /// Other server processes (replication launchers, WAL senders, …).
    OtherProcesses,
}

impl Phase {
    pub const ALL: [Phase; 11] = [
        Phase::SourceCopyOut,
        Phase::TargetCopyIn,
        Phase::IndexBuilds,
        Phase::FkValidation,
        Phase::CreateDropDatabase,
        Phase::Checkpointer,
        Phase::WalWriter,
        Phase::BgWriter,
        Phase::Autovacuum,
        Phase::OtherStatements,
        Phase::OtherProcesses,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Phase::SourceCopyOut => "source COPY OUT",
            Phase::TargetCopyIn => "target COPY IN",
            Phase::IndexBuilds => "index builds (incl. PK/UNIQUE)",
            Phase::FkValidation => "FK validation",
            Phase::CreateDropDatabase => "create/drop database",
            Phase::Checkpointer => "checkpointer",
            Phase::WalWriter => "walwriter",
            Phase::BgWriter => "bgwriter",
            Phase::Autovacuum => "autovacuum",
            Phase::OtherStatements => "other statements",
            Phase::OtherProcesses => "other server processes",
        }
    }

    /// Statements that write WAL; WAL is shared out among these only.
    fn writes_wal(self) -> bool {
        matches!(
            self,
            Phase::TargetCopyIn
                | Phase::IndexBuilds
                | Phase::FkValidation
                | Phase::CreateDropDatabase
                | Phase::OtherStatements
        )
    }
}

/// The phase of a server process from its `pg_stat_activity` row. `source_db` is the database
/// rows are read from: a `COPY` whose text was cut off before `TO STDOUT`/`FROM STDIN`
/// (`track_activity_query_size`) is judged by the database it runs in.
pub fn classify(backend_type: &str, query: &str, datname: &str, source_db: &str) -> Phase {
    match backend_type {
        "client backend" | "parallel worker" => {}
        "checkpointer" => return Phase::Checkpointer,
        "walwriter" => return Phase::WalWriter,
        "background writer" => return Phase::BgWriter,
        "autovacuum worker" | "autovacuum launcher" => return Phase::Autovacuum,
        _ => return Phase::OtherProcesses,
    }
    // Several statements sent as one (a key validated after a `set_config`): the last decides.
    let all = statement_words(query);
    let words = all
        .split(|word| word == ";")
        .rfind(|statement| !statement.is_empty())
        .unwrap_or_default();
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let has = |w: &str| words.iter().any(|x| x == w);
    let has_pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    match word(0) {
        "COPY" => {
            if has_pair("FROM", "STDIN") {
                Phase::TargetCopyIn
            } else if has_pair("TO", "STDOUT") || word(1) == "(" || datname == source_db {
                Phase::SourceCopyOut
            } else {
                Phase::TargetCopyIn
            }
        }
        "CREATE" if word(1) == "INDEX" || (word(1) == "UNIQUE" && word(2) == "INDEX") => {
            Phase::IndexBuilds
        }
        "CREATE" | "DROP" | "ALTER" if word(1) == "DATABASE" => Phase::CreateDropDatabase,
        "ALTER" if word(1) == "TABLE" => {
            if has("VALIDATE") || has_pair("FOREIGN", "KEY") {
                Phase::FkValidation
            } else if has("ADD") && (has_pair("PRIMARY", "KEY") || has("UNIQUE") || has("EXCLUDE"))
            {
                Phase::IndexBuilds
            } else {
                Phase::OtherStatements
            }
        }
        _ => Phase::OtherStatements,
    }
}

/// The statement's words, upper-cased, without leading comments; quoted names and literals
/// are one word each (so a constraint named `"unique"` is not the keyword), `(` and `)` are words.
fn statement_words(query: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = query.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word).to_ascii_uppercase());
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut word, &mut words);
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                flush(&mut word, &mut words);
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' | '\'' => {
                flush(&mut word, &mut words);
                let quote = c;
                for c in chars.by_ref() {
                    if c == quote {
                        break;
                    }
                }
                words.push(format!("{quote}{quote}"));
            }
            '(' | ')' | ',' | ';' => {
                flush(&mut word, &mut words);
                words.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut word, &mut words),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut words);
    words
}

/// Which sessions count: those in databases whose name starts with `prefix`, or whose statement
/// names such a database (`CREATE DATABASE` runs in `postgres`).
#[derive(Debug, Clone)]
pub struct Scope {
    pub prefix: String,
    pub source_db: String,
}

impl Scope {
    fn counts(&self, backend_type: &str, datname: &str, query: &str) -> bool {
        if !matches!(backend_type, "client backend" | "parallel worker") {
            return true;
        }
        datname.starts_with(&self.prefix) || query.contains(&self.prefix)
    }
}

/// What the servers did during one run.
#[derive(Debug, Clone, Default)]
pub struct ServerTime {
    /// CPU seconds per phase.
    pub cpu: BTreeMap<Phase, f64>,
    /// WAL bytes inserted during the run (the whole cluster's).
    pub wal_bytes: f64,
    /// WAL bytes shared out to the phases that write it.
    pub wal: BTreeMap<Phase, f64>,
    /// Checkpoints that started during the run (timed and requested).
    pub checkpoints: i64,
    /// CPU seconds of the watched client process (pullprod itself), if one was watched.
    pub watched_cpu: Option<f64>,
    /// CPU seconds of the sampler's own server session (not counted above).
    pub sampler_cpu: f64,
    pub polls: usize,
}

impl ServerTime {
    pub fn total_cpu(&self) -> f64 {
        self.cpu.values().sum()
    }
}

/// A running sampler; `finish` stops it and returns what it saw.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    watch: Arc<AtomicU32>,
    handle: std::thread::JoinHandle<Result<ServerTime>>,
}

const POLL: Duration = Duration::from_millis(50);

impl Sampler {
    /// Connect (database `postgres` of `server`) and take the baseline before returning.
    pub fn start(server: &Settings, scope: Scope) -> Result<Sampler> {
        let mut client = conn::connect_settings(
            &server.with_dbname("postgres"),
            "the benchmark's server sampler",
        )?;
        let ticks_per_second = ticks_per_second();
        let own_pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .pg_context("failed to start the sampler")?
            .get(0);
        let checkpoints_before = checkpoints(&mut client)?;
        let mut state = State::default();
        state.poll(&mut client, &scope, own_pid, true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let watch = Arc::new(AtomicU32::new(0));
        let (stop2, watch2) = (stop.clone(), watch.clone());
        let handle = std::thread::spawn(move || -> Result<ServerTime> {
            let mut watched_ticks: Option<u64> = None;
            loop {
                let next = Instant::now() + POLL;
                let stopping = stop2.load(Ordering::SeqCst);
                state.poll(&mut client, &scope, own_pid, false)?;
                let pid = watch2.load(Ordering::SeqCst);
                if pid != 0
                    && let Some(ticks) = process_ticks(pid)
                {
                    watched_ticks = Some(watched_ticks.unwrap_or(0).max(ticks));
                }
                if stopping {
                    break;
                }
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            let seconds = |ticks: u64| ticks as f64 / ticks_per_second;
            Ok(ServerTime {
                cpu: state
                    .ticks
                    .iter()
                    .map(|(phase, ticks)| (*phase, seconds(*ticks)))
                    .collect(),
                wal_bytes: state.wal_total,
                wal: state.wal,
                checkpoints: checkpoints(&mut client)? - checkpoints_before,
                watched_cpu: watched_ticks.map(seconds),
                sampler_cpu: seconds(process_ticks(own_pid as u32).unwrap_or(0)),
                polls: state.polls,
            })
        });
        Ok(Sampler {
            stop,
            watch,
            handle,
        })
    }

    /// Also read this client process's own CPU (the last value seen before it exits).
    pub fn watch(&self, pid: u32) {
        self.watch.store(pid, Ordering::SeqCst);
    }

    pub fn finish(self) -> Result<ServerTime> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .join()
            .map_err(|_| anyhow::anyhow!("the sampler thread panicked"))?
    }
}

/// Checkpoints started so far (PostgreSQL 17 moved the counters to `pg_stat_checkpointer`).
fn checkpoints(client: &mut postgres::Client) -> Result<i64> {
    let row = client
        .query_one(
            "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter",
            &[],
        )
        .or_else(|_| {
            client.query_one(
                "SELECT num_timed + num_requested FROM pg_stat_checkpointer",
                &[],
            )
        })
        .pg_context("failed to read the checkpoint counters")?;
    Ok(row.get(0))
}

#[derive(Default)]
struct State {
    /// pid → (CPU ticks at the last poll, phase at the last poll, active then).
    seen: HashMap<u32, (u64, Phase, bool)>,
    ticks: BTreeMap<Phase, u64>,
    wal: BTreeMap<Phase, f64>,
    wal_total: f64,
    last_lsn: Option<f64>,
    polls: usize,
}

impl State {
    fn poll(
        &mut self,
        client: &mut postgres::Client,
        scope: &Scope,
        own_pid: i32,
        baseline: bool,
    ) -> Result<()> {
        let rows = client
            .query(
                "SELECT pid, coalesce(backend_type, ''), coalesce(datname, ''), \
                 coalesce(query, ''), coalesce(state, ''), leader_pid, \
                 pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 \
                 FROM pg_stat_activity WHERE pid <> $1",
                &[&own_pid],
            )
            .pg_context("the sampler failed to read pg_stat_activity")?;
        let mut lsn = None;
        let mut current: Vec<Sample> = Vec::with_capacity(rows.len());
        for row in &rows {
            let backend_type: String = row.get(1);
            let datname: String = row.get(2);
            let query: String = row.get(3);
            let state: String = row.get(4);
            let leader: Option<i32> = row.get(5);
            lsn = Some(row.get::<_, f64>(6));
            let pid = row.get::<_, i32>(0) as u32;
            current.push(Sample {
                pid,
                phase: classify(&backend_type, &query, &datname, &scope.source_db),
                active: backend_type != "client backend" || state == "active",
                counts: scope.counts(&backend_type, &datname, &query),
                leader: leader.map(|pid| pid as u32),
                ticks: process_ticks(pid),
            });
        }
        self.charge(current, lsn, baseline);
        Ok(())
    }

    /// Charge the CPU each counted process used since the last poll to the phase it was in:
    /// the statement running at the last poll if it was running then (it ran until at least
    /// then), else the one running now. A process not seen before started during the run, so
    /// all its CPU counts (at the baseline poll nothing is charged). The WAL inserted since the
    /// last poll is shared among the WAL-writing phases by the CPU charged to them.
    fn charge(&mut self, mut current: Vec<Sample>, lsn: Option<f64>, baseline: bool) {
        // A parallel worker works for its leader: its phase and scope are the leader's.
        let leaders: HashMap<u32, (Phase, bool)> = current
            .iter()
            .map(|row| (row.pid, (row.phase, row.counts)))
            .collect();
        for row in &mut current {
            if let Some(leader) = row.leader
                && leader != row.pid
                && let Some((phase, counts)) = leaders.get(&leader)
            {
                row.phase = *phase;
                row.counts = *counts;
            }
        }
        let mut writers: BTreeMap<Phase, u64> = BTreeMap::new();
        let mut next_seen = HashMap::with_capacity(current.len());
        for row in current.iter().filter(|row| row.counts) {
            let Some(ticks) = row.ticks else {
                continue;
            };
            let (before, phase) = match self.seen.get(&row.pid) {
                Some((before, phase, true)) => (*before, *phase),
                Some((before, _, false)) => (*before, row.phase),
                None if baseline => (ticks, row.phase),
                None => (0, row.phase),
            };
            let delta = ticks.saturating_sub(before);
            if delta > 0 {
                *self.ticks.entry(phase).or_default() += delta;
                if phase.writes_wal() {
                    *writers.entry(phase).or_default() += delta;
                }
            }
            next_seen.insert(row.pid, (ticks, row.phase, row.active));
        }
        self.seen = next_seen;
        if let Some(lsn) = lsn {
            if let Some(last) = self.last_lsn {
                let wal = (lsn - last).max(0.0);
                self.wal_total += wal;
                let cpu: u64 = writers.values().sum();
                if cpu > 0 {
                    for (phase, ticks) in writers {
                        *self.wal.entry(phase).or_default() += wal * ticks as f64 / cpu as f64;
                    }
                } else {
                    *self.wal.entry(Phase::OtherProcesses).or_default() += wal;
                }
            }
            self.last_lsn = Some(lsn);
        }
        if !baseline {
            self.polls += 1;
        }
    }
}

/// One server process at one poll.
struct Sample {
    pid: u32,
    phase: Phase,
    /// Running a statement (background processes always count as running).
    active: bool,
    /// One of the benchmark's sessions, or a background process.
    counts: bool,
    leader: Option<u32>,
    /// utime + stime from `/proc`, `None` when the process is gone.
    ticks: Option<u64>,
}

/// utime + stime of a process, in clock ticks.
pub fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_ticks(&stat, 13)
}

/// cutime + cstime of this process: the CPU of every child it has waited for.
pub fn children_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| stat_ticks(&stat, 15))
        .unwrap_or(0) as f64
        / ticks_per_second()
}

/// Fields `first` and `first + 1` (0-based after the pid) of `/proc/<pid>/stat`, summed.
fn stat_ticks(stat: &str, first: usize) -> Option<u64> {
    // The command name is in parentheses and may hold spaces: count fields after its `)`.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    let a: u64 = fields.get(first - 2)?.parse().ok()?;
    let b: u64 = fields.get(first - 1)?.parse().ok()?;
    Some(a + b)
}

fn ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Databases of this benchmark still being dropped or left over by a replaced dev database
/// (`__pp_old_<pid>`/`__pp_new_<pid>`): wait (up to `limit`) until none is left, so no run pays
/// for another's deferred work. A leftover whose process is gone and that nobody has been
/// dropping for `grace` is dropped here, before the clock starts (as the next pull would).
pub fn wait_for_leftovers(
    admin: &mut postgres::Client,
    prefix: &str,
    limit: Duration,
) -> Result<()> {
    let grace = Duration::from_secs(5);
    let started = Instant::now();
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let mut idle_since: HashMap<String, Instant> = HashMap::new();
    loop {
        let leftovers: Vec<(String, bool)> = admin
            .query(
                "SELECT datname, EXISTS (SELECT 1 FROM pg_stat_activity a \
                   WHERE a.pid <> pg_backend_pid() AND a.state = 'active' \
                   AND a.query ILIKE 'DROP DATABASE%' AND strpos(a.query, d.datname) > 0) \
                 FROM pg_database d WHERE datname LIKE $1 AND datname LIKE '%\\_\\_pp\\_%'",
                &[&pattern],
            )
            .pg_context("failed to look for leftover databases")?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        if leftovers.is_empty() {
            return Ok(());
        }
        for (name, dropping) in &leftovers {
            let owner_alive = name
                .rsplit('_')
                .next()
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
            if *dropping || owner_alive {
                idle_since.remove(name);
                continue;
            }
            let since = *idle_since.entry(name.clone()).or_insert_with(Instant::now);
            if since.elapsed() >= grace {
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        pullprod::sql::quote_ident(name)
                    ))
                    .pg_with_context(|| format!("failed to drop the leftover `{name}`"))?;
            }
        }
        if started.elapsed() > limit {
            anyhow::bail!(
                "databases named `{prefix}…__pp_…` are still there after {}s; \
                 drop them and run the benchmark again",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `CHECKPOINT`, so every run starts with no dirty buffers of another run's.
pub fn checkpoint(admin: &mut postgres::Client) -> Result<()> {
    admin
        .batch_execute("CHECKPOINT")
        .context("failed to run CHECKPOINT before a measured run")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(query: &str) -> Phase {
        classify("client backend", query, "dev", "prod")
    }

    #[test]
    fn copy_direction_decides_source_or_target() {
        assert_eq!(
            phase("COPY public.users (id, email) TO stdout;"),
            Phase::SourceCopyOut
        );
        assert_eq!(
            phase("COPY (SELECT id FROM t WHERE x) TO STDOUT (FORMAT binary)"),
            Phase::SourceCopyOut
        );
        assert_eq!(
            phase("copy \"public\".\"users\" (\"id\") from stdin with (format binary, freeze)"),
            Phase::TargetCopyIn
        );
        // The direction written in the statement wins over the database it runs in.
        assert_eq!(
            classify("client backend", "COPY t FROM STDIN", "prod", "prod"),
            Phase::TargetCopyIn
        );
        assert_eq!(
            classify("client backend", "COPY t TO STDOUT", "dev", "prod"),
            Phase::SourceCopyOut
        );
        // Cut off by track_activity_query_size before the direction: the database decides.
        assert_eq!(
            classify("client backend", "COPY public.t (a, b, c", "prod", "prod"),
            Phase::SourceCopyOut
        );
        assert_eq!(
            classify("client backend", "COPY public.t (a, b, c", "dev", "prod"),
            Phase::TargetCopyIn
        );
        // A column named like the keywords is not the direction.
        assert_eq!(
            phase("COPY t (\"stdout\", \"to\") FROM STDIN"),
            Phase::TargetCopyIn
        );
    }

    #[test]
    fn index_builds_constraints_and_databases() {
        assert_eq!(
            phase("CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email);"),
            Phase::IndexBuilds
        );
        assert_eq!(
            phase("-- a comment\nCREATE INDEX orders_user_id_idx ON public.orders (user_id)"),
            Phase::IndexBuilds
        );
        assert_eq!(
            phase("ALTER TABLE ONLY public.users\n    ADD CONSTRAINT users_pkey PRIMARY KEY (id);"),
            Phase::IndexBuilds
        );
        assert_eq!(
            phase("ALTER TABLE ONLY public.products ADD CONSTRAINT products_sku_key UNIQUE (sku)"),
            Phase::IndexBuilds
        );
        assert_eq!(
            phase(
                "ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) NOT VALID"
            ),
            Phase::FkValidation
        );
        assert_eq!(
            phase("ALTER TABLE public.orders VALIDATE CONSTRAINT orders_user_id_fkey"),
            Phase::FkValidation
        );
        // The pool's validation in key order: a `set_config`, then the key.
        assert_eq!(
            phase(
                "SELECT set_config('enable_hashjoin', 'off', true) WHERE NOT EXISTS (SELECT 1);\nALTER TABLE ONLY \"public\".\"orders\" VALIDATE CONSTRAINT \"orders_user_id_fkey\";"
            ),
            Phase::FkValidation
        );
        // A quoted constraint name is not a keyword.
        assert_eq!(
            phase("ALTER TABLE t ADD CONSTRAINT \"unique\" CHECK (x > 0)"),
            Phase::OtherStatements
        );
        assert_eq!(
            phase("CREATE DATABASE \"dev__pp_new_12\" TEMPLATE template0"),
            Phase::CreateDropDatabase
        );
        assert_eq!(
            phase("DROP DATABASE IF EXISTS dev__pp_old_12 WITH (FORCE)"),
            Phase::CreateDropDatabase
        );
        assert_eq!(
            phase("ALTER DATABASE dev RENAME TO dev__pp_old_12"),
            Phase::CreateDropDatabase
        );
        assert_eq!(
            phase("CREATE TABLE public.users (id bigint)"),
            Phase::OtherStatements
        );
        assert_eq!(phase("TRUNCATE ONLY public.users"), Phase::OtherStatements);
        assert_eq!(phase(""), Phase::OtherStatements);
    }

    #[test]
    fn background_processes_by_type() {
        assert_eq!(classify("checkpointer", "", "", "p"), Phase::Checkpointer);
        assert_eq!(classify("walwriter", "", "", "p"), Phase::WalWriter);
        assert_eq!(classify("background writer", "", "", "p"), Phase::BgWriter);
        assert_eq!(
            classify("autovacuum worker", "", "", "p"),
            Phase::Autovacuum
        );
        assert_eq!(
            classify("logical replication launcher", "", "", "p"),
            Phase::OtherProcesses
        );
        assert_eq!(
            classify("parallel worker", "CREATE INDEX i ON t (a)", "dev", "p"),
            Phase::IndexBuilds
        );
    }

    #[test]
    fn scope_counts_the_benchmark_sessions_only() {
        let scope = Scope {
            prefix: "pullprod_bench".into(),
            source_db: "pullprod_bench_prod".into(),
        };
        assert!(scope.counts("client backend", "pullprod_bench_dev__pp_new_1", "COPY"));
        assert!(scope.counts(
            "client backend",
            "postgres",
            "CREATE DATABASE \"pullprod_bench_dev__pp_new_1\""
        ));
        assert!(!scope.counts("client backend", "shop_dev", "COPY t FROM STDIN"));
        assert!(scope.counts("checkpointer", "", ""));
    }

    fn sample(pid: u32, phase: Phase, active: bool, ticks: u64) -> Sample {
        Sample {
            pid,
            phase,
            active,
            counts: true,
            leader: None,
            ticks: Some(ticks),
        }
    }

    #[test]
    fn cpu_goes_to_the_statement_that_was_running_and_wal_to_the_writers() {
        let mut state = State::default();
        // Baseline: pid 1 already used 500 ticks before the run, nothing is charged.
        state.charge(
            vec![sample(1, Phase::OtherStatements, false, 500)],
            Some(1000.0),
            true,
        );
        assert!(state.ticks.is_empty());
        // pid 1 starts a COPY IN (was idle: the new statement gets the CPU); pid 2 is new
        // (all its CPU counts); pid 3 is not one of ours.
        let mut foreign = sample(3, Phase::IndexBuilds, true, 900);
        foreign.counts = false;
        state.charge(
            vec![
                sample(1, Phase::TargetCopyIn, true, 530),
                sample(2, Phase::SourceCopyOut, true, 10),
                foreign,
            ],
            Some(1300.0),
            false,
        );
        assert_eq!(state.ticks.get(&Phase::TargetCopyIn), Some(&30));
        assert_eq!(state.ticks.get(&Phase::SourceCopyOut), Some(&10));
        assert_eq!(state.ticks.get(&Phase::IndexBuilds), None);
        // Only the writer gets the WAL, the reader none.
        assert_eq!(state.wal.get(&Phase::TargetCopyIn), Some(&300.0));
        // pid 1 was running the COPY at the last poll: CPU up to now is the COPY's even though
        // it now shows the index build. A parallel worker is charged to its leader's phase.
        let mut worker = sample(4, Phase::OtherStatements, true, 20);
        worker.leader = Some(1);
        state.charge(
            vec![sample(1, Phase::IndexBuilds, true, 550), worker],
            Some(1400.0),
            false,
        );
        assert_eq!(state.ticks.get(&Phase::TargetCopyIn), Some(&50));
        assert_eq!(state.ticks.get(&Phase::IndexBuilds), Some(&20));
        assert_eq!(state.wal.get(&Phase::TargetCopyIn), Some(&(300.0 + 50.0)));
        assert_eq!(state.wal.get(&Phase::IndexBuilds), Some(&50.0));
        assert_eq!(state.wal_total, 400.0);
        assert_eq!(state.polls, 2);
    }

    #[test]
    fn stat_fields_after_a_command_with_spaces() {
        let stat = "1234 (postgres: root db [local] COPY) R 1 2 3 4 5 6 7 8 9 10 250 40 7 3 20 0";
        assert_eq!(stat_ticks(stat, 13), Some(290));
        assert_eq!(stat_ticks(stat, 15), Some(10));
    }
}
