//! `cargo xtask bench`: pull-prod against PostgreSQL's own tools on the same data in the same
//! run: the raw COPY pipes (text, binary), `pg_dump | psql`, `pg_dump -Fd -Z0` + `pg_restore`
//! (both `-j` the cores), with medians of alternating runs, ranges, throughput, peak RSS, where
//! the servers' CPU went (`servertime`), pull-prod's critical path and the ratios with their
//! targets. `--skewed` adds a database where one table holds 90 % of the rows: pull-prod's data
//! phase with `--jobs 1` against `--jobs 2`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use pullprod::conn::{self, Settings};
use pullprod::pgerror::PgContext;
use pullprod::schema::{self, TableKind};
use pullprod::sql::quote_ident;
use pullprod::target::{self, Section};

use crate::servertime::{self, Phase, Sampler, Scope, ServerTime};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Demo scale (users); 200000 is about 1.2 GB.
    pub scale: u64,
    /// Repetitions of each measurement; the median is reported.
    pub reps: usize,
    /// Where the `policy/` folder of the demo lives (the repository root).
    pub project_dir: PathBuf,
    /// The pullprod executable to time (normally the running `cargo xtask` binary itself).
    pub pullprod_exe: PathBuf,
    /// Another build of pullprod (e.g. before a change) timed beside it, alternating.
    pub baseline_exe: Option<PathBuf>,
    /// Measure the demo contenders (off: only the skewed database).
    pub demo: bool,
    /// Also measure the skewed database with this many rows in all.
    pub skewed_rows: Option<u64>,
}

/// Every benchmark database starts with this (the sampler counts only their sessions).
const PREFIX: &str = "pullprod_bench";
const SOURCE_DB: &str = "pullprod_bench_prod";
const RAW_DB: &str = "pullprod_bench_raw";
const DUMP_DB: &str = "pullprod_bench_dump";
const RESTORE_DB: &str = "pullprod_bench_restore";
const TARGET_DB: &str = "pullprod_bench_dev";
const SKEW_SOURCE_DB: &str = "pullprod_bench_skew_prod";
const SKEW_TARGET_DB: &str = "pullprod_bench_skew_dev";

/// The contenders, in the order each repetition runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    RawText,
    RawBinary,
    DumpPsql,
    DirRestore,
    /// `jobs == 0`: pull-prod's default.
    Pull {
        jobs: usize,
    },
    /// `--baseline-exe`: another build's pull-prod, default jobs.
    Baseline,
}

impl Contender {
    fn name(self, cores: usize) -> String {
        match self {
            Contender::RawText => "raw COPY pipe, text".into(),
            Contender::RawBinary => "raw COPY pipe, binary".into(),
            Contender::DumpPsql => "pg_dump | psql".into(),
            Contender::DirRestore => {
                format!("pg_dump -Fd -j{cores} -Z0 + pg_restore -j{cores}")
            }
            Contender::Pull { jobs: 0 } => format!("pull-prod (default: {cores} jobs)"),
            Contender::Pull { jobs } => format!("pull-prod --jobs {jobs}"),
            Contender::Baseline => format!("baseline pull-prod (default: {cores} jobs)"),
        }
    }

    fn short(self) -> String {
        match self {
            Contender::RawText => "raw text".into(),
            Contender::RawBinary => "raw binary".into(),
            Contender::DumpPsql => "dump|psql".into(),
            Contender::DirRestore => "-Fd+restore".into(),
            Contender::Pull { jobs: 0 } => "pull-prod".into(),
            Contender::Pull { jobs } => format!("pull -j{jobs}"),
            Contender::Baseline => "baseline".into(),
        }
    }
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct Run {
    pub seconds: f64,
    pub server: ServerTime,
    /// CPU of the client processes the run started (pullprod and its pg_dump/psql, or the
    /// stock tools), from this process's waited-for children.
    pub client_cpu: f64,
    /// Timed parts (`pg_dump` then `pg_restore`).
    pub parts: Vec<(String, f64)>,
    /// pull-prod's summary, for pull-prod runs.
    pub pull: Option<PullRun>,
}

impl Run {
    /// Cores kept busy on average: the servers' and the client processes' CPU over the wall
    /// time. On a machine with `n` cores, a run at `n` can only get faster by doing less work.
    pub fn cores_busy(&self) -> f64 {
        if self.seconds > 0.0 {
            (self.server.total_cpu() + self.client_cpu) / self.seconds
        } else {
            0.0
        }
    }
}

/// One contender's runs.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub contender: Contender,
    pub name: String,
    pub short: String,
    pub runs: Vec<Run>,
}

impl Measurement {
    fn new(contender: Contender, cores: usize) -> Measurement {
        Measurement {
            contender,
            name: contender.name(cores),
            short: contender.short(),
            runs: Vec::new(),
        }
    }

    pub fn median(&self) -> f64 {
        median(self.runs.iter().map(|run| run.seconds))
    }

    /// The run whose time is the median.
    pub fn median_run(&self) -> Option<&Run> {
        let median = self.median();
        self.runs.iter().find(|run| run.seconds == median)
    }

    fn range(&self) -> (f64, f64) {
        let min = self
            .runs
            .iter()
            .map(|run| run.seconds)
            .fold(f64::INFINITY, f64::min);
        let max = self.runs.iter().map(|run| run.seconds).fold(0.0, f64::max);
        (min, max)
    }

    fn peak_rss(&self) -> Option<u64> {
        self.runs
            .iter()
            .filter_map(|run| run.pull.as_ref().map(|pull| pull.peak_rss))
            .max()
    }

    /// The median of pull-prod's data phase over the runs.
    pub fn data_phase(&self) -> Option<f64> {
        self.phase("data")
    }

    /// The median of one of pull-prod's phases over the runs.
    pub fn phase(&self, name: &str) -> Option<f64> {
        let phases: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|run| run.pull.as_ref()?.phase(name))
            .collect();
        (!phases.is_empty()).then(|| median(phases.into_iter()))
    }

    fn median_of(&self, value: impl Fn(&Run) -> f64) -> f64 {
        median(self.runs.iter().map(value))
    }
}

fn seconds_or_dash(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "-".to_string(), |seconds| format!("{seconds:.2}s"))
}

/// The median (the upper one of an even count); 0 for none.
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut sorted: Vec<f64> = values.collect();
    if sorted.is_empty() {
        return 0.0;
    }
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// The demo part of the report.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub scale: u64,
    pub rows: u64,
    /// Bytes of the data in COPY text format (what MB/s is measured against).
    pub text_bytes: u64,
    pub database_bytes: u64,
    pub measurements: Vec<Measurement>,
    /// Rows of the tables the policy copies (all but skipped ones).
    pub rows_expected: u64,
    /// Rows the pull-prod runs loaded (the fewest of all runs): must equal `rows_expected`.
    pub rows_loaded: u64,
}

/// The skewed-database part of the report.
#[derive(Debug, Clone)]
pub struct SkewReport {
    pub rows: u64,
    pub big_table: String,
    pub big_rows: u64,
    pub text_bytes: u64,
    pub measurements: Vec<Measurement>,
    pub rows_expected: u64,
    pub rows_loaded: u64,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub reps: usize,
    pub cores: usize,
    pub demo: Option<DemoReport>,
    pub skew: Option<SkewReport>,
}

impl BenchReport {
    /// Every pull-prod run loaded every row its policy copies.
    pub fn rows_complete(&self) -> bool {
        self.demo
            .as_ref()
            .is_none_or(|d| d.rows_loaded == d.rows_expected)
            && self
                .skew
                .as_ref()
                .is_none_or(|s| s.rows_loaded == s.rows_expected)
    }
}

/// Run the whole benchmark on the local server.
pub fn run(options: &BenchOptions, say: &dyn Fn(&str)) -> Result<BenchReport> {
    let base = Settings::parse("")?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let demo = if options.demo {
        Some(run_demo(options, &base, cores, say)?)
    } else {
        None
    };
    let skew = match options.skewed_rows {
        Some(rows) => Some(run_skew(options, &base, cores, rows, say)?),
        None => None,
    };
    Ok(BenchReport {
        reps: options.reps,
        cores,
        demo,
        skew,
    })
}

/// What a source holds, read once through COPY itself.
struct SourceFacts {
    catalog: schema::Catalog,
    pg_dump: PathBuf,
    pg_restore: PathBuf,
    psql: PathBuf,
    tables: Vec<String>,
    rows: u64,
    text_bytes: u64,
    rows_by_table: RowsByTable,
    database_bytes: u64,
}

fn source_facts(source: &Settings, say: &dyn Fn(&str)) -> Result<SourceFacts> {
    let mut client = conn::connect_settings(source, "the benchmark source")?;
    let catalog = schema::load(&mut client)?;
    let major = target::server_major(&mut client)?;
    let tables: Vec<String> = catalog
        .tables
        .iter()
        .filter(|table| table.kind != TableKind::Partitioned)
        .map(|table| table.name.quoted())
        .collect();
    let (rows, text_bytes, rows_by_table) = count_copy_text(&mut client, &tables)?;
    let database_bytes: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .pg_context("failed to measure the source database")?
        .get(0);
    say(&format!(
        "`{}`: {} tables, {rows} rows, {:.0} MB of COPY text, database {:.0} MB",
        source.dbname,
        tables.len(),
        text_bytes as f64 / 1e6,
        database_bytes as f64 / 1e6
    ));
    Ok(SourceFacts {
        catalog,
        pg_dump: target::find_tool("pg_dump", major)?,
        pg_restore: target::find_tool("pg_restore", major)?,
        psql: target::find_tool("psql", 0)?,
        tables,
        rows,
        text_bytes,
        rows_by_table,
        database_bytes: database_bytes as u64,
    })
}

/// The rows pull-prod must load from `project`: every table's but those the policy skips.
fn rows_expected(project: &Path, facts: &SourceFacts) -> Result<u64> {
    let (config, _) = pullprod::config::load(Some(&project.join("Cargo.toml")))?;
    let policy = pullprod::config::load_policy(&config)
        .0
        .context("the benchmark policy has errors: run `cargo xtask check-policy`")?;
    let (plan, _) = pullprod::plan::resolve(&policy, &facts.catalog);
    Ok(plan
        .tables
        .iter()
        .filter(|table| table.holds_rows() && table.action != pullprod::plan::Action::Skip)
        .map(|table| {
            facts
                .rows_by_table
                .get(&table.table.quoted())
                .copied()
                .unwrap_or(0)
        })
        .sum())
}

/// Where one set of contenders runs.
struct Arena<'a> {
    options: &'a BenchOptions,
    base: &'a Settings,
    source: Settings,
    facts: &'a SourceFacts,
    project: &'a Path,
    /// pull-prod's dev database.
    target_db: &'static str,
    admin: postgres::Client,
    cores: usize,
}

fn run_demo(
    options: &BenchOptions,
    base: &Settings,
    cores: usize,
    say: &dyn Fn(&str),
) -> Result<DemoReport> {
    let source = base.with_dbname(SOURCE_DB);
    match crate::demo::demo_scale(&conninfo(&source)) {
        Ok(Some(scale)) if scale == options.scale => {
            say(&format!("reusing `{SOURCE_DB}` at scale {scale}"))
        }
        _ => {
            say(&format!(
                "building `{SOURCE_DB}` at scale {}",
                options.scale
            ));
            crate::demo::demo_prod(&crate::demo::DemoOptions {
                scale: options.scale,
                database_url: Some(conninfo(&source)),
            })?;
        }
    }
    let facts = source_facts(&source, say)?;
    let policy = demo_policy_files(&options.project_dir)?;
    let project = bench_project(&policy, &source, &base.with_dbname(TARGET_DB))?;
    let rows_expected = rows_expected(project.path(), &facts)?;
    let mut contenders = vec![
        Contender::RawText,
        Contender::RawBinary,
        Contender::DumpPsql,
        Contender::DirRestore,
        Contender::Pull { jobs: 1 },
        Contender::Pull { jobs: 0 },
    ];
    if options.baseline_exe.is_some() {
        contenders.push(Contender::Baseline);
    }
    let mut arena = Arena {
        options,
        base,
        source,
        facts: &facts,
        project: project.path(),
        target_db: TARGET_DB,
        admin: target::connect_admin(base)?,
        cores,
    };
    let measurements = arena.alternate(&contenders, say)?;
    drop_databases(&mut arena.admin, &[RAW_DB, DUMP_DB, RESTORE_DB, TARGET_DB])?;
    Ok(DemoReport {
        scale: options.scale,
        rows: facts.rows,
        text_bytes: facts.text_bytes,
        database_bytes: facts.database_bytes,
        rows_loaded: rows_loaded(&measurements),
        measurements,
        rows_expected,
    })
}

fn run_skew(
    options: &BenchOptions,
    base: &Settings,
    cores: usize,
    rows: u64,
    say: &dyn Fn(&str),
) -> Result<SkewReport> {
    let source = base.with_dbname(SKEW_SOURCE_DB);
    match crate::demo::skew_rows(&conninfo(&source)) {
        Ok(Some(existing)) if existing == rows => {
            say(&format!("reusing `{SKEW_SOURCE_DB}` with {rows} rows"))
        }
        _ => {
            say(&format!("building `{SKEW_SOURCE_DB}` with {rows} rows"));
            crate::demo::skew_prod(&conninfo(&source), rows)?;
        }
    }
    let facts = source_facts(&source, say)?;
    let project = bench_project(
        &crate::demo::SKEW_POLICY
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect::<Vec<_>>(),
        &source,
        &base.with_dbname(SKEW_TARGET_DB),
    )?;
    let rows_expected = rows_expected(project.path(), &facts)?;
    let big_table = format!("public.{}", crate::demo::SKEW_BIG_TABLE);
    let big_rows = facts
        .rows_by_table
        .get(&pullprod::sql::qualified(
            "public",
            crate::demo::SKEW_BIG_TABLE,
        ))
        .copied()
        .unwrap_or(0);
    let mut arena = Arena {
        options,
        base,
        source,
        facts: &facts,
        project: project.path(),
        target_db: SKEW_TARGET_DB,
        admin: target::connect_admin(base)?,
        cores,
    };
    let measurements = arena.alternate(
        &[Contender::Pull { jobs: 1 }, Contender::Pull { jobs: 2 }],
        say,
    )?;
    drop_databases(&mut arena.admin, &[SKEW_TARGET_DB])?;
    Ok(SkewReport {
        rows: facts.rows,
        big_table,
        big_rows,
        text_bytes: facts.text_bytes,
        rows_loaded: rows_loaded(&measurements),
        measurements,
        rows_expected,
    })
}

fn rows_loaded(measurements: &[Measurement]) -> u64 {
    measurements
        .iter()
        .flat_map(|m| &m.runs)
        .filter_map(|run| run.pull.as_ref().map(|pull| pull.rows))
        .min()
        .unwrap_or(0)
}

fn drop_databases(admin: &mut postgres::Client, names: &[&str]) -> Result<()> {
    for db in names {
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(db)
            ))
            .pg_with_context(|| format!("failed to drop `{db}`"))?;
    }
    Ok(())
}

impl Arena<'_> {
    /// Repetition 1 of every contender, then repetition 2, …: slow drifts of the machine hit
    /// every contender alike.
    fn alternate(
        &mut self,
        contenders: &[Contender],
        say: &dyn Fn(&str),
    ) -> Result<Vec<Measurement>> {
        let mut measurements: Vec<Measurement> = contenders
            .iter()
            .map(|c| Measurement::new(*c, self.cores))
            .collect();
        // Every measured pull replaces a loaded dev database (and pays for dropping it): the
        // first one too, after an untimed pull when there is none yet.
        let exists = self
            .admin
            .query_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&self.target_db],
            )
            .pg_context("failed to look up the benchmark's dev database")?
            .is_some();
        if !exists
            && contenders
                .iter()
                .any(|c| matches!(c, Contender::Pull { .. }))
        {
            say("  an untimed pull-prod first, so every measured one replaces a loaded database");
            pull_once(&self.options.pullprod_exe, self.project, 0, None)?;
        }
        for rep in 0..self.options.reps {
            for measurement in &mut measurements {
                let run = self.measure(measurement.contender)?;
                say(&format!(
                    "  {} #{}: {:.2}s",
                    measurement.name,
                    rep + 1,
                    run.seconds
                ));
                measurement.runs.push(run);
            }
        }
        Ok(measurements)
    }

    /// One run: untimed set-up, leftovers gone, CHECKPOINT, then the timed run under the sampler.
    fn measure(&mut self, contender: Contender) -> Result<Run> {
        let facts = self.facts;
        let target_db = match contender {
            Contender::RawText | Contender::RawBinary => Some(RAW_DB),
            Contender::DumpPsql => Some(DUMP_DB),
            Contender::DirRestore => Some(RESTORE_DB),
            Contender::Pull { .. } | Contender::Baseline => None,
        };
        if let Some(db) = target_db {
            recreate(&mut self.admin, db)?;
        }
        if matches!(contender, Contender::RawText | Contender::RawBinary) {
            target::pipe_schema(
                &facts.pg_dump,
                &facts.psql,
                &self.source,
                None,
                Section::PreData,
                &self.base.with_dbname(RAW_DB),
            )?;
        }
        // A directory dump needs a folder that does not exist yet.
        let dump_dir = tempfile::TempDir::new().context("failed to create a temporary folder")?;
        servertime::wait_for_leftovers(&mut self.admin, PREFIX, Duration::from_secs(300))?;
        servertime::checkpoint(&mut self.admin)?;

        let client_before = servertime::children_cpu_seconds();
        let sampler = Sampler::start(
            self.base,
            Scope {
                prefix: PREFIX.into(),
                source_db: self.source.dbname.clone(),
            },
        )?;
        let started = Instant::now();
        let mut parts = Vec::new();
        let mut pull = None;
        let outcome = match contender {
            Contender::RawText | Contender::RawBinary => {
                let raw = self.base.with_dbname(RAW_DB);
                facts.tables.iter().try_for_each(|table| {
                    copy_pipe(
                        &facts.psql,
                        &self.source,
                        &raw,
                        table,
                        contender == Contender::RawBinary,
                    )
                })
            }
            Contender::DumpPsql => dump_restore(
                &facts.pg_dump,
                &facts.psql,
                &self.source,
                &self.base.with_dbname(DUMP_DB),
            ),
            Contender::DirRestore => dir_dump_restore(
                facts,
                &self.source,
                &self.base.with_dbname(RESTORE_DB),
                &dump_dir.path().join("dump"),
                self.cores,
            )
            .map(|timed| parts = timed),
            Contender::Pull { jobs } => pull_once(
                &self.options.pullprod_exe,
                self.project,
                jobs,
                Some(&sampler),
            )
            .map(|run| pull = Some(run)),
            Contender::Baseline => pull_once(
                self.options
                    .baseline_exe
                    .as_deref()
                    .expect("a baseline contender has its executable"),
                self.project,
                0,
                Some(&sampler),
            )
            .map(|run| pull = Some(run)),
        };
        let seconds = started.elapsed().as_secs_f64();
        let server = sampler.finish();
        outcome?;
        Ok(Run {
            seconds: pull.as_ref().map_or(seconds, |run: &PullRun| run.seconds),
            server: server?,
            client_cpu: servertime::children_cpu_seconds() - client_before,
            parts,
            pull,
        })
    }
}

/// `(name, seconds)` of a pull's phases, and what the data phase waited on.
#[derive(Debug, Clone)]
pub struct PullRun {
    pub seconds: f64,
    pub rows: u64,
    pub peak_rss: u64,
    pub phases: Vec<(String, f64)>,
    pub critical: Option<CriticalPath>,
}

impl PullRun {
    fn phase(&self, name: &str) -> Option<f64> {
        self.phases.iter().find(|(n, _)| n == name).map(|(_, s)| *s)
    }
}

/// The table the data phase waited on last.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalPath {
    /// The data phase's length, seconds.
    pub data_seconds: f64,
    pub workers: usize,
    /// The table that finished last, its worker and span (seconds from the data phase's start).
    pub last_table: String,
    pub last_worker: u64,
    pub started_at: f64,
    pub finished_at: f64,
    /// How long it ran with no other table copying: from when every other table was done (or
    /// from its own start, if later) to its end.
    pub alone: f64,
    /// The longest tables: (table, seconds from start to end), longest first, at most three.
    pub longest: Vec<(String, f64)>,
}

/// The critical path from a pull's summary (`PULLPROD_SUMMARY_JSON`): each table's
/// `started_at`/`finished_at` and `worker`. A table listed more than once (copied in ranges)
/// counts from its first start to its last end. `None` without tables.
pub fn critical_path(summary: &serde_json::Value) -> Option<CriticalPath> {
    // table → (first start, last end, worker of the last end)
    let mut spans: BTreeMap<String, (f64, f64, u64)> = BTreeMap::new();
    for table in summary["tables"].as_array()? {
        let name = table["table"].as_str()?.to_string();
        let start = table["started_at"].as_f64()?;
        let end = table["finished_at"].as_f64()?;
        let worker = table["worker"].as_u64().unwrap_or(0);
        let span = spans.entry(name).or_insert((start, end, worker));
        span.0 = span.0.min(start);
        if end >= span.1 {
            span.1 = end;
            span.2 = worker;
        }
    }
    let (last_table, &(started_at, finished_at, last_worker)) = spans
        .iter()
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1).then_with(|| b.0.cmp(a.0)))?;
    let others_done = spans
        .iter()
        .filter(|(name, _)| *name != last_table)
        .map(|(_, span)| span.1)
        .fold(0.0, f64::max);
    let mut longest: Vec<(String, f64)> = spans
        .iter()
        .map(|(name, span)| (name.clone(), span.1 - span.0))
        .collect();
    longest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    longest.truncate(3);
    let data_seconds = summary["phases"]
        .as_array()
        .and_then(|phases| {
            phases
                .iter()
                .find(|phase| phase["name"] == "data")
                .and_then(|phase| phase["seconds"].as_f64())
        })
        .unwrap_or(finished_at);
    Some(CriticalPath {
        data_seconds,
        workers: summary["workers"].as_array().map_or(0, Vec::len),
        last_table: last_table.clone(),
        last_worker,
        started_at,
        finished_at,
        alone: (finished_at - started_at.max(others_done)).max(0.0),
        longest,
    })
}

impl CriticalPath {
    fn render(&self) -> String {
        let share = if self.data_seconds > 0.0 {
            format!(" ({:.0} % of it)", 100.0 * self.alone / self.data_seconds)
        } else {
            String::new()
        };
        let longest: Vec<String> = self
            .longest
            .iter()
            .map(|(name, s)| format!("{name} {s:.2}s"))
            .collect();
        format!(
            "data phase {:.2}s on {} worker(s): waited last on {} (worker {}, {:.2}-{:.2}s), \
             which copied alone for {:.2}s{share}; longest tables: {}",
            self.data_seconds,
            self.workers,
            self.last_table,
            self.last_worker,
            self.started_at,
            self.finished_at,
            self.alone,
            longest.join(", ")
        )
    }
}

/// A phase split line: the time outside the summary's phases (start-up, refusals, checks, plan)
/// and each phase, with the end-to-end time.
fn phase_split(run: &PullRun) -> String {
    let phased: f64 = run.phases.iter().map(|(_, s)| s).sum();
    let mut parts = vec![format!(
        "start-up, checks and plan {:.2}s",
        (run.seconds - phased).max(0.0)
    )];
    parts.extend(run.phases.iter().map(|(name, s)| format!("{name} {s:.2}s")));
    format!("{}; end to end {:.2}s", parts.join(", "), run.seconds)
}

/// The target that applies at `scale` (the one of the largest scale not above it) and whether
/// `ratio` meets it; `targets` are (scale, ratio), largest scale first.
fn target_note(ratio: f64, targets: &[(u64, f64)], scale: u64) -> String {
    match targets.iter().find(|(at, _)| *at <= scale) {
        Some((at, target)) => format!(
            "target >= {target:.1}x at scale {at}: {}",
            ratio_verdict(ratio, *target)
        ),
        None => {
            let all: Vec<String> = targets
                .iter()
                .map(|(at, target)| format!(">= {target:.1}x at scale {at}"))
                .collect();
            format!("target {}; not judged at scale {scale}", all.join(", "))
        }
    }
}

fn ratio_verdict(ratio: f64, target: f64) -> &'static str {
    if ratio >= target { "met" } else { "NOT met" }
}

impl BenchReport {
    /// The results tables and the ratios with their targets, as printed.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(demo) = &self.demo {
            out.push_str(&demo.render(self.reps, self.cores));
        }
        if let Some(skew) = &self.skew {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&skew.render(self.reps));
        }
        let rss: Vec<u64> = self
            .demo
            .iter()
            .flat_map(|d| &d.measurements)
            .chain(self.skew.iter().flat_map(|s| &s.measurements))
            .filter_map(Measurement::peak_rss)
            .collect();
        if let Some(max) = rss.iter().max() {
            let mib = max / (1024 * 1024);
            out.push_str(&format!(
                "\npull-prod peak RSS, highest of every configuration above: {mib} MiB \
                 (target <= 64 MiB: {})\n",
                if mib <= 64 { "met" } else { "NOT met" }
            ));
        }
        out
    }
}

fn results_table(measurements: &[Measurement], text_bytes: u64, rows: u64) -> String {
    let mut out = format!(
        "{:<40} {:>9} {:>13} {:>8} {:>10} {:>9}\n",
        "", "median s", "min-max s", "MB/s", "rows/s", "peak RSS"
    );
    for m in measurements {
        let (min, max) = m.range();
        let median = m.median();
        let rss = m
            .peak_rss()
            .map(|b| format!("{} MiB", b / (1024 * 1024)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<40} {:>9.2} {:>13} {:>8.1} {:>10.0} {:>9}\n",
            m.name,
            median,
            format!("{min:.2}-{max:.2}"),
            text_bytes as f64 / 1e6 / median,
            rows as f64 / median,
            rss
        ));
        if let Some(run) = m.median_run() {
            if !run.parts.is_empty() {
                let parts: Vec<String> = run
                    .parts
                    .iter()
                    .map(|(name, s)| format!("{name} {s:.2}s"))
                    .collect();
                out.push_str(&format!("    median run: {}\n", parts.join(", ")));
            }
            if let Some(pull) = &run.pull {
                out.push_str(&format!("    median run: {}\n", phase_split(pull)));
                if let Some(critical) = &pull.critical {
                    out.push_str(&format!("    critical path: {}\n", critical.render()));
                }
            }
        }
    }
    out
}

/// Server CPU per phase, medians over the runs, one column per contender.
fn server_table(measurements: &[Measurement]) -> String {
    let width = 12;
    let mut out = format!("{:<40}", "server CPU s, median of the runs");
    for m in measurements {
        out.push_str(&format!(" {:>width$}", m.short));
    }
    out.push('\n');
    let row = |out: &mut String, label: &str, value: &dyn Fn(&Measurement) -> String| {
        out.push_str(&format!("{label:<40}"));
        for m in measurements {
            out.push_str(&format!(" {:>width$}", value(m)));
        }
        out.push('\n');
    };
    for phase in Phase::ALL {
        let seen = measurements
            .iter()
            .flat_map(|m| &m.runs)
            .any(|run| run.server.cpu.get(&phase).copied().unwrap_or(0.0) > 0.0);
        if !seen {
            continue;
        }
        row(&mut out, phase.label(), &|m| {
            format!(
                "{:.2}",
                m.median_of(|run| run.server.cpu.get(&phase).copied().unwrap_or(0.0))
            )
        });
    }
    row(&mut out, "= server total", &|m| {
        format!("{:.2}", m.median_of(|run| run.server.total_cpu()))
    });
    row(&mut out, "client processes (all)", &|m| {
        format!("{:.2}", m.median_of(|run| run.client_cpu))
    });
    row(&mut out, "  of which the pullprod process", &|m| {
        if m.runs.iter().any(|run| run.server.watched_cpu.is_some()) {
            format!(
                "{:.2}",
                m.median_of(|run| run.server.watched_cpu.unwrap_or(0.0))
            )
        } else {
            String::new()
        }
    });
    row(&mut out, "wall s", &|m| format!("{:.2}", m.median()));
    row(&mut out, "cores busy on average (CPU / wall)", &|m| {
        format!("{:.2}", m.median_of(Run::cores_busy))
    });
    row(&mut out, "WAL written, MB", &|m| {
        format!("{:.1}", m.median_of(|run| run.server.wal_bytes) / 1e6)
    });
    for phase in [
        Phase::TargetCopyIn,
        Phase::IndexBuilds,
        Phase::FkValidation,
        Phase::CreateDropDatabase,
        Phase::OtherStatements,
        Phase::OtherProcesses,
    ] {
        let label = match phase {
            Phase::OtherProcesses => "  no statement of ours running".to_string(),
            _ => format!("  during {}", phase.label()),
        };
        row(&mut out, &label, &|m| {
            format!(
                "{:.1}",
                m.median_of(|run| run.server.wal.get(&phase).copied().unwrap_or(0.0)) / 1e6
            )
        });
    }
    row(&mut out, "checkpoints", &|m| {
        format!("{:.0}", m.median_of(|run| run.server.checkpoints as f64))
    });
    let sampler = measurements
        .iter()
        .flat_map(|m| &m.runs)
        .map(|run| run.server.sampler_cpu)
        .fold(0.0, f64::max);
    out.push_str(&format!(
        "(CPU from /proc per backend, polled every 50 ms and charged to the statement running; \
         only this benchmark's sessions count (a session shorter than a poll is missed), the \
         checkpointer, walwriter and bgwriter serve the whole server. WAL and checkpoints are \
         the whole server's; WAL is shared out per poll among our statements by their CPU. \
         The sampler's own session used at most {sampler:.2}s.)\n"
    ));
    out
}

impl DemoReport {
    pub fn render(&self, reps: usize, cores: usize) -> String {
        let mut out = format!(
            "demo at scale {}: {} rows, {:.0} MB of COPY text, {:.0} MB database; \
             medians of {reps} alternating runs, CHECKPOINT before each; \
             target databases are created before the clock starts\n\n",
            self.scale,
            self.rows,
            self.text_bytes as f64 / 1e6,
            self.database_bytes as f64 / 1e6
        );
        out.push_str(&results_table(
            &self.measurements,
            self.text_bytes,
            self.rows,
        ));
        out.push('\n');
        out.push_str(&server_table(&self.measurements));
        out.push('\n');
        let find =
            |contender: Contender| self.measurements.iter().find(|m| m.contender == contender);
        let scale = self.scale;
        if let Some(pull) = find(Contender::Pull { jobs: 0 }) {
            if let Some(dump) = find(Contender::DumpPsql) {
                let ratio = dump.median() / pull.median();
                out.push_str(&format!(
                    "pull-prod end to end {:.2}s: {ratio:.2}x the speed of pg_dump | psql {:.2}s ({})\n",
                    pull.median(),
                    dump.median(),
                    target_note(ratio, &[(200_000, 1.5), (20_000, 1.0)], scale)
                ));
            }
            if let Some(dir) = find(Contender::DirRestore) {
                let ratio = dir.median() / pull.median();
                out.push_str(&format!(
                    "pull-prod end to end {:.2}s: {ratio:.2}x the speed of {} {:.2}s ({})\n",
                    pull.median(),
                    dir.name,
                    dir.median(),
                    target_note(ratio, &[(200_000, 1.2)], scale)
                ));
            }
            if let Some(baseline) = find(Contender::Baseline) {
                out.push_str(&format!(
                    "pull-prod end to end {:.2}s: {:.2}x the speed of the baseline build {:.2}s \
                     (data {} vs {}, post-data {} vs {})\n",
                    pull.median(),
                    baseline.median() / pull.median(),
                    baseline.median(),
                    seconds_or_dash(pull.phase("data")),
                    seconds_or_dash(baseline.phase("data")),
                    seconds_or_dash(pull.phase("post-data")),
                    seconds_or_dash(baseline.phase("post-data")),
                ));
            }
            if let (Some(data), Some(binary)) = (pull.data_phase(), find(Contender::RawBinary)) {
                let ratio = binary.median() / data;
                out.push_str(&format!(
                    "pull-prod data phase {data:.2}s: {ratio:.2}x the speed of the raw binary COPY pipe \
                     {:.2}s, which anonymises nothing ({})\n",
                    binary.median(),
                    target_note(ratio, &[(200_000, 1.0)], scale)
                ));
            }
        }
        if let (Some(pull1), Some(binary)) = (
            find(Contender::Pull { jobs: 1 }),
            find(Contender::RawBinary),
        ) && let Some(data) = pull1.data_phase()
        {
            out.push_str(&format!(
                "pull-prod --jobs 1 data phase {data:.2}s: {:.2}x the raw binary pipe (no target)\n",
                binary.median() / data
            ));
        }
        if cores != 2 {
            out.push_str(&format!(
                "(this machine has {cores} cores; the targets are for 2)\n"
            ));
        }
        out.push_str(&format!(
            "rows loaded by pull-prod: {} of the {} the policy copies ({}); the raw pipes and \
             pg_dump also copy the tables the policy skips\n",
            self.rows_loaded,
            self.rows_expected,
            if self.rows_loaded == self.rows_expected {
                "all"
            } else {
                "MISMATCH"
            }
        ));
        out
    }
}

impl SkewReport {
    pub fn render(&self, reps: usize) -> String {
        let mut out = format!(
            "skewed database `{SKEW_SOURCE_DB}`: {} rows, {} of them ({:.0} %) in {}; {:.0} MB of \
             COPY text; medians of {reps} alternating runs\n\n",
            self.rows,
            self.big_rows,
            100.0 * self.big_rows as f64 / self.rows.max(1) as f64,
            self.big_table,
            self.text_bytes as f64 / 1e6
        );
        out.push_str(&results_table(
            &self.measurements,
            self.text_bytes,
            self.rows,
        ));
        out.push('\n');
        out.push_str(&server_table(&self.measurements));
        out.push('\n');
        let find = |jobs: usize| {
            self.measurements
                .iter()
                .find(|m| m.contender == Contender::Pull { jobs })
                .and_then(Measurement::data_phase)
        };
        if let (Some(one), Some(two)) = (find(1), find(2)) {
            let ratio = one / two;
            out.push_str(&format!(
                "skewed database, data phase: --jobs 1 {one:.2}s, --jobs 2 {two:.2}s: speed-up \
                 {ratio:.2}x with 2 jobs (target >= 1.6x: {})\n",
                ratio_verdict(ratio, 1.6)
            ));
        }
        out.push_str(&format!(
            "rows loaded by pull-prod: {} of the {} the policy copies ({})\n",
            self.rows_loaded,
            self.rows_expected,
            if self.rows_loaded == self.rows_expected {
                "all"
            } else {
                "MISMATCH"
            }
        ));
        out
    }
}

fn conninfo(settings: &Settings) -> String {
    format!(
        "host='{}' port={} user='{}' dbname='{}'",
        settings.host, settings.port, settings.user, settings.dbname
    )
}

fn recreate(admin: &mut postgres::Client, name: &str) -> Result<()> {
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        ))
        .and_then(|()| {
            admin.batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_ident(name)
            ))
        })
        .pg_with_context(|| format!("failed to recreate `{name}`"))
}

/// Rows and COPY-text bytes of every table, read once through COPY itself.
type RowsByTable = std::collections::HashMap<String, u64>;

fn count_copy_text(
    client: &mut postgres::Client,
    tables: &[String],
) -> Result<(u64, u64, RowsByTable)> {
    use std::io::Read;
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let mut by_table = RowsByTable::new();
    let mut buf = vec![0u8; 1 << 20];
    for table in tables {
        let mut reader = client
            .copy_out(&format!("COPY {table} TO STDOUT"))
            .pg_with_context(|| format!("failed to read `{table}`"))?;
        let mut table_rows = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(|err| {
                match err
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<postgres::Error>())
                {
                    Some(pg) => {
                        anyhow::anyhow!("{}", pullprod::pgerror::data_message(pg, None, &[]))
                    }
                    None => anyhow::Error::new(err),
                }
                .context(format!("failed to read `{table}`"))
            })?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            table_rows += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        }
        rows += table_rows;
        by_table.insert(table.clone(), table_rows);
    }
    Ok((rows, bytes, by_table))
}

/// `psql -c "COPY t TO STDOUT" | psql -c "COPY t FROM STDIN"`, as a user would type it.
fn copy_pipe(
    psql: &Path,
    source: &Settings,
    target: &Settings,
    table: &str,
    binary: bool,
) -> Result<()> {
    let format = if binary { " (FORMAT binary)" } else { "" };
    let mut out = Command::new(psql)
        .args(["-X", "-q", "-c", &format!("COPY {table} TO STDOUT{format}")])
        .envs(source.libpq_env())
        .stdout(Stdio::piped())
        .spawn()
        .context("failed to start psql")?;
    let stdout = out.stdout.take().expect("piped");
    let status_in = Command::new(psql)
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("COPY {table} FROM STDIN{format}"),
        ])
        .envs(target.libpq_env())
        .stdin(Stdio::from(stdout))
        .stdout(Stdio::null())
        .status()
        .context("failed to run psql")?;
    let status_out = out.wait()?;
    if !status_in.success() || !status_out.success() {
        bail!("the raw COPY pipe failed for {table}");
    }
    Ok(())
}

fn dump_restore(pg_dump: &Path, psql: &Path, source: &Settings, target: &Settings) -> Result<()> {
    let mut dump = Command::new(pg_dump)
        .args(["--no-owner", "--no-privileges"])
        .envs(source.libpq_env())
        .stdout(Stdio::piped())
        .spawn()
        .context("failed to start pg_dump")?;
    let stdout = dump.stdout.take().expect("piped");
    let status = Command::new(psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .envs(target.libpq_env())
        .stdin(Stdio::from(stdout))
        .stdout(Stdio::null())
        .status()
        .context("failed to run psql")?;
    if !dump.wait()?.success() || !status.success() {
        bail!("pg_dump | psql failed");
    }
    Ok(())
}

/// `pg_dump -Fd -j N -Z0` into `dir`, then `pg_restore -j N` into `target`: the best stock path.
/// Returns the two parts' seconds.
fn dir_dump_restore(
    facts: &SourceFacts,
    source: &Settings,
    target: &Settings,
    dir: &Path,
    jobs: usize,
) -> Result<Vec<(String, f64)>> {
    let jobs = jobs.to_string();
    let started = Instant::now();
    let status = Command::new(&facts.pg_dump)
        .args([
            "-Fd",
            "-j",
            &jobs,
            "-Z0",
            "--no-owner",
            "--no-privileges",
            "-f",
        ])
        .arg(dir)
        .envs(source.libpq_env())
        .stdout(Stdio::null())
        .status()
        .context("failed to run pg_dump -Fd")?;
    if !status.success() {
        bail!("pg_dump -Fd failed");
    }
    let dumped = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let status = Command::new(&facts.pg_restore)
        .args([
            "-j",
            &jobs,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            &target.dbname,
        ])
        .arg(dir)
        .envs(target.libpq_env())
        .stdout(Stdio::null())
        .status()
        .context("failed to run pg_restore")?;
    if !status.success() {
        bail!("pg_restore -j {jobs} failed");
    }
    Ok(vec![
        ("pg_dump -Fd".into(), dumped),
        ("pg_restore".into(), started.elapsed().as_secs_f64()),
    ])
}

/// The demo's policy files (`policy/*.toml`): name and text.
fn demo_policy_files(project_dir: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(project_dir.join("policy")).context("failed to read the demo policy")?
    {
        let entry = entry?;
        if entry.path().extension().is_some_and(|ext| ext == "toml") {
            files.push((
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(entry.path())?,
            ));
        }
    }
    Ok(files)
}

/// A throwaway project: `policy` files, with the benchmark databases as staging and target.
fn bench_project(
    policy: &[(String, String)],
    source: &Settings,
    target: &Settings,
) -> Result<tempfile::TempDir> {
    let dir = tempfile::TempDir::new().context("failed to create a temporary project")?;
    let manifest = format!(
        "[package]\nname = \"pullprod-bench\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.dump]\npolicy = \"policy\"\nproject = \"bench\"\n\
         source.staging = {{ url = \"{}\", production = false }}\ntarget = \"{}\"\n\
         salt = \"generated:shop-demo\"\nreview-ref = \"HEAD\"\n",
        conninfo(source).replace('"', "\\\""),
        conninfo(target).replace('"', "\\\"")
    );
    std::fs::write(dir.path().join("Cargo.toml"), manifest)?;
    std::fs::create_dir_all(dir.path().join("src"))?;
    std::fs::write(dir.path().join("src/lib.rs"), "//! benchmark project\n")?;
    let policy_dir = dir.path().join("policy");
    std::fs::create_dir_all(&policy_dir)?;
    for (name, text) in policy {
        std::fs::write(policy_dir.join(name), text)?;
    }
    // The `production = false` marking counts only when committed (G8): commit the project.
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"][..],
        &[
            "-c",
            "user.name=pullprod bench",
            "-c",
            "user.email=bench@localhost",
            "commit",
            "-q",
            "-m",
            "benchmark project",
        ][..],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdout(Stdio::null())
            .status()
            .context("failed to run git for the benchmark project")?;
        if !status.success() {
            bail!("`git {}` failed in the benchmark project", args.join(" "));
        }
    }
    Ok(dir)
}

fn pull_once(
    exe: &Path,
    project: &Path,
    jobs: usize,
    sampler: Option<&Sampler>,
) -> Result<PullRun> {
    let summary_path = project.join("summary.json");
    let _ = std::fs::remove_file(&summary_path);
    let mut command = Command::new(exe);
    command
        .arg("--manifest-path")
        .arg(project.join("Cargo.toml"))
        .args(["pull-prod", "--from", "staging", "--force"])
        .env("PULLPROD_SUMMARY_JSON", &summary_path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if jobs > 0 {
        command.args(["--jobs", &jobs.to_string()]);
    }
    let started = Instant::now();
    let child = command.spawn().context("failed to run pull-prod")?;
    if let Some(sampler) = sampler {
        sampler.watch(child.id());
    }
    let output = child
        .wait_with_output()
        .context("failed to run pull-prod")?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "pull-prod failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path)?)?;
    let phases = summary["phases"]
        .as_array()
        .map(|phases| {
            phases
                .iter()
                .map(|phase| {
                    (
                        phase["name"].as_str().unwrap_or("").to_string(),
                        phase["seconds"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PullRun {
        seconds,
        rows: summary["rows"].as_u64().unwrap_or(0),
        peak_rss: summary["peak_rss_bytes"].as_u64().unwrap_or(0),
        phases,
        critical: critical_path(&summary),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(tables: &[(&str, u64, f64, f64)], data: f64, workers: usize) -> serde_json::Value {
        serde_json::json!({
            "phases": [{"name": "schema", "seconds": 0.1}, {"name": "data", "seconds": data}],
            "workers": (0..workers).map(|w| serde_json::json!({"worker": w})).collect::<Vec<_>>(),
            "tables": tables.iter().map(|(table, worker, start, end)| serde_json::json!({
                "table": table, "worker": worker, "started_at": start, "finished_at": end,
                "rows": 1, "bytes": 1,
            })).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn cores_busy_is_all_cpu_over_the_wall_time() {
        let mut server = ServerTime::default();
        server.cpu.insert(Phase::TargetCopyIn, 20.0);
        server.cpu.insert(Phase::IndexBuilds, 10.0);
        let run = |seconds| Run {
            seconds,
            server: server.clone(),
            client_cpu: 6.0,
            parts: Vec::new(),
            pull: None,
        };
        assert!((run(20.0).cores_busy() - 1.8).abs() < 1e-9);
        assert_eq!(run(0.0).cores_busy(), 0.0);
    }

    #[test]
    fn critical_path_names_the_last_table_and_how_long_it_ran_alone() {
        let json = summary(
            &[
                ("public.big", 0, 0.0, 9.0),
                ("public.a", 1, 0.0, 2.0),
                ("public.b", 1, 2.0, 5.5),
                ("public.c", 1, 5.5, 6.0),
            ],
            9.2,
            2,
        );
        let path = critical_path(&json).unwrap();
        assert_eq!(path.last_table, "public.big");
        assert_eq!(path.last_worker, 0);
        assert_eq!(path.workers, 2);
        assert_eq!(path.data_seconds, 9.2);
        assert!((path.alone - 3.0).abs() < 1e-9, "{path:?}");
        assert_eq!(
            path.longest,
            vec![
                ("public.big".to_string(), 9.0),
                ("public.b".to_string(), 3.5),
                ("public.a".to_string(), 2.0)
            ]
        );
    }

    #[test]
    fn a_table_started_after_the_others_ended_ran_alone_for_its_whole_span() {
        let json = summary(
            &[("public.a", 0, 0.0, 1.0), ("public.z", 0, 1.5, 4.0)],
            4.0,
            1,
        );
        let path = critical_path(&json).unwrap();
        assert_eq!(path.last_table, "public.z");
        assert!((path.alone - 2.5).abs() < 1e-9, "{path:?}");
    }

    #[test]
    fn a_table_copied_in_ranges_counts_from_its_first_start_to_its_last_end() {
        // Ranges of `big` on both workers: nothing else runs at the end, but `big` ran on two.
        let json = summary(
            &[
                ("public.big", 0, 0.0, 4.0),
                ("public.big", 1, 1.0, 4.5),
                ("public.small", 1, 0.0, 1.0),
            ],
            4.6,
            2,
        );
        let path = critical_path(&json).unwrap();
        assert_eq!(path.last_table, "public.big");
        assert_eq!(path.last_worker, 1);
        assert_eq!((path.started_at, path.finished_at), (0.0, 4.5));
        assert!((path.alone - 3.5).abs() < 1e-9, "{path:?}");
        assert_eq!(path.longest[0], ("public.big".to_string(), 4.5));
    }

    #[test]
    fn no_tables_no_critical_path() {
        assert_eq!(critical_path(&summary(&[], 0.0, 0)), None);
        assert_eq!(critical_path(&serde_json::json!({})), None);
    }

    #[test]
    fn the_target_of_the_largest_scale_reached_applies() {
        let targets = [(200_000, 1.5), (20_000, 1.0)];
        assert_eq!(
            target_note(1.6, &targets, 200_000),
            "target >= 1.5x at scale 200000: met"
        );
        assert_eq!(
            target_note(1.2, &targets, 200_000),
            "target >= 1.5x at scale 200000: NOT met"
        );
        assert_eq!(
            target_note(1.2, &targets, 20_000),
            "target >= 1.0x at scale 20000: met"
        );
        assert_eq!(
            target_note(0.3, &targets, 2000),
            "target >= 1.5x at scale 200000, >= 1.0x at scale 20000; not judged at scale 2000"
        );
    }

    #[test]
    fn medians_take_the_upper_middle() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0].into_iter()), 4.0);
        assert_eq!(median(std::iter::empty()), 0.0);
    }
}
