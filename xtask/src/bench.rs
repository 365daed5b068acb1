//! `cargo xtask bench`: pull-prod against PostgreSQL's own COPY pipes and `pg_dump | psql`,
//! on the same demo data in the same run, with medians, ranges, throughput, peak RSS and ratios.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use pullprod::conn::{self, Settings};
use pullprod::pgerror::PgContext;
use pullprod::schema::{self, TableKind};
use pullprod::sql::quote_ident;
use pullprod::target::{self, Section};

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
}

/// One measured contender.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub name: String,
    /// Wall seconds of every repetition.
    pub seconds: Vec<f64>,
    /// Peak RSS of the pullprod process, per repetition (pullprod runs only).
    pub peak_rss: Vec<u64>,
    /// Phase split of the median pullprod run.
    pub phases: Vec<(String, f64)>,
}

impl Measurement {
    pub fn median(&self) -> f64 {
        let mut sorted = self.seconds.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    }

    fn range(&self) -> (f64, f64) {
        let min = self.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.seconds.iter().copied().fold(0.0, f64::max);
        (min, max)
    }
}

#[derive(Debug, Clone)]
pub struct BenchReport {
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

const SOURCE_DB: &str = "pullprod_bench_prod";
const RAW_DB: &str = "pullprod_bench_raw";
const DUMP_DB: &str = "pullprod_bench_dump";
const TARGET_DB: &str = "pullprod_bench_dev";

/// Run the whole benchmark on the local server.
pub fn run(options: &BenchOptions, say: &dyn Fn(&str)) -> Result<BenchReport> {
    let base = Settings::parse("")?;
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
    let mut source_client = conn::connect_settings(&source, "the benchmark source")?;
    let catalog = schema::load(&mut source_client)?;
    let major = target::server_major(&mut source_client)?;
    let pg_dump = target::find_tool("pg_dump", major)?;
    let psql = target::find_tool("psql", 0)?;
    let tables: Vec<String> = catalog
        .tables
        .iter()
        .filter(|table| table.kind != TableKind::Partitioned)
        .map(|table| table.name.quoted())
        .collect();
    let (rows, text_bytes, rows_by_table) = count_copy_text(&mut source_client, &tables)?;
    let database_bytes: i64 = source_client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .pg_context("failed to measure the source database")?
        .get(0);
    say(&format!(
        "{} tables, {rows} rows, {:.0} MB of COPY text, database {:.0} MB",
        tables.len(),
        text_bytes as f64 / 1e6,
        database_bytes as f64 / 1e6
    ));
    let mut admin = target::connect_admin(&base)?;

    let mut measurements = Vec::new();
    for (name, binary) in [
        ("raw COPY pipe, text", false),
        ("raw COPY pipe, binary", true),
    ] {
        let mut measurement = Measurement {
            name: name.into(),
            seconds: Vec::new(),
            peak_rss: Vec::new(),
            phases: Vec::new(),
        };
        for rep in 0..options.reps {
            recreate(&mut admin, RAW_DB)?;
            let raw = base.with_dbname(RAW_DB);
            target::pipe_schema(&pg_dump, &psql, &source, None, Section::PreData, &raw)?;
            let started = Instant::now();
            for table in &tables {
                copy_pipe(&psql, &source, &raw, table, binary)?;
            }
            measurement.seconds.push(started.elapsed().as_secs_f64());
            say(&format!(
                "  {name} #{}: {:.1}s",
                rep + 1,
                measurement.seconds[rep]
            ));
        }
        measurements.push(measurement);
    }

    let mut dump = Measurement {
        name: "pg_dump | psql".into(),
        seconds: Vec::new(),
        peak_rss: Vec::new(),
        phases: Vec::new(),
    };
    for rep in 0..options.reps {
        recreate(&mut admin, DUMP_DB)?;
        let started = Instant::now();
        dump_restore(&pg_dump, &psql, &source, &base.with_dbname(DUMP_DB))?;
        dump.seconds.push(started.elapsed().as_secs_f64());
        say(&format!(
            "  pg_dump | psql #{}: {:.1}s",
            rep + 1,
            dump.seconds[rep]
        ));
    }
    measurements.push(dump);

    let project = bench_project(options, &source, &base.with_dbname(TARGET_DB))?;
    // The rows pull-prod must load: every table's but those the policy skips.
    let (config, _) = pullprod::config::load(Some(&project.path().join("Cargo.toml")))?;
    let policy = pullprod::config::load_policy(&config)
        .0
        .context("the demo policy has errors: run `cargo xtask check-policy`")?;
    let (plan, _) = pullprod::plan::resolve(&policy, &catalog);
    let rows_expected: u64 = plan
        .tables
        .iter()
        .filter(|table| table.holds_rows() && table.action != pullprod::plan::Action::Skip)
        .map(|table| {
            rows_by_table
                .get(&table.table.quoted())
                .copied()
                .unwrap_or(0)
        })
        .sum();
    let mut rows_loaded = u64::MAX;
    for jobs in [1usize, 0] {
        let name = if jobs == 1 {
            "pull-prod --jobs 1".to_string()
        } else {
            "pull-prod (default jobs)".to_string()
        };
        let mut measurement = Measurement {
            name: name.clone(),
            seconds: Vec::new(),
            peak_rss: Vec::new(),
            phases: Vec::new(),
        };
        let mut runs = Vec::new();
        for rep in 0..options.reps {
            let summary = pull_once(options, project.path(), jobs)?;
            say(&format!("  {name} #{}: {:.1}s", rep + 1, summary.seconds));
            rows_loaded = rows_loaded.min(summary.rows);
            measurement.seconds.push(summary.seconds);
            measurement.peak_rss.push(summary.peak_rss);
            runs.push(summary);
        }
        let median = measurement.median();
        if let Some(run) = runs.iter().find(|run| run.seconds == median) {
            measurement.phases = run.phases.clone();
        }
        measurements.push(measurement);
    }
    for db in [RAW_DB, DUMP_DB, TARGET_DB] {
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(db)
            ))
            .pg_with_context(|| format!("failed to drop `{db}`"))?;
    }
    Ok(BenchReport {
        scale: options.scale,
        rows,
        text_bytes,
        database_bytes: database_bytes as u64,
        measurements,
        rows_expected,
        rows_loaded,
    })
}

impl BenchReport {
    /// The results table and the ratios, as printed.
    pub fn render(&self) -> String {
        let mut out = format!(
            "scale {}: {} rows, {:.0} MB of COPY text, {:.0} MB database\n\n",
            self.scale,
            self.rows,
            self.text_bytes as f64 / 1e6,
            self.database_bytes as f64 / 1e6
        );
        out.push_str(&format!(
            "{:<28} {:>9} {:>17} {:>9} {:>11} {:>10}\n",
            "", "median s", "min-max s", "MB/s", "rows/s", "peak RSS"
        ));
        for m in &self.measurements {
            let (min, max) = m.range();
            let median = m.median();
            let rss = m
                .peak_rss
                .iter()
                .max()
                .map(|b| format!("{} MiB", b / (1024 * 1024)))
                .unwrap_or_default();
            out.push_str(&format!(
                "{:<28} {:>9.2} {:>17} {:>9.1} {:>11.0} {:>10}\n",
                m.name,
                median,
                format!("{min:.2}-{max:.2}"),
                self.text_bytes as f64 / 1e6 / median,
                self.rows as f64 / median,
                rss
            ));
            if !m.phases.is_empty() {
                let phases: Vec<String> = m
                    .phases
                    .iter()
                    .map(|(name, s)| format!("{name} {s:.2}s"))
                    .collect();
                out.push_str(&format!("{:<28} {}\n", "", phases.join(", ")));
            }
        }
        let find = |name: &str| self.measurements.iter().find(|m| m.name == name);
        let data_phase = |m: &Measurement| {
            m.phases
                .iter()
                .find(|(name, _)| name == "data")
                .map(|(_, s)| *s)
        };
        out.push('\n');
        if let (Some(pull1), Some(text), Some(binary)) = (
            find("pull-prod --jobs 1"),
            find("raw COPY pipe, text"),
            find("raw COPY pipe, binary"),
        ) && let Some(data) = data_phase(pull1)
        {
            out.push_str(&format!(
                "pull-prod --jobs 1, data phase {data:.2}s: {:.2}x the raw text pipe's throughput (target > 1), \
                 {:.2}x the raw binary pipe's (target >= 0.85)\n",
                text.median() / data,
                binary.median() / data
            ));
        }
        if let (Some(pull), Some(dump)) = (find("pull-prod (default jobs)"), find("pg_dump | psql"))
        {
            out.push_str(&format!(
                "pull-prod end to end (default jobs): {:.2}x the speed of pg_dump | psql (target > 1)\n",
                dump.median() / pull.median()
            ));
        }
        let rss: Vec<u64> = self
            .measurements
            .iter()
            .flat_map(|m| m.peak_rss.iter().copied())
            .collect();
        if let Some(max) = rss.iter().max() {
            out.push_str(&format!(
                "pull-prod peak RSS: {} MiB (target <= 64 MiB)\n",
                max / (1024 * 1024)
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

/// A throwaway project: the demo's policy, with the benchmark databases as staging and target.
fn bench_project(
    options: &BenchOptions,
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
    for entry in std::fs::read_dir(options.project_dir.join("policy"))
        .context("failed to read the demo policy")?
    {
        let entry = entry?;
        if entry.path().extension().is_some_and(|ext| ext == "toml") {
            std::fs::copy(entry.path(), policy_dir.join(entry.file_name()))?;
        }
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

struct PullRun {
    seconds: f64,
    rows: u64,
    peak_rss: u64,
    phases: Vec<(String, f64)>,
}

fn pull_once(options: &BenchOptions, project: &Path, jobs: usize) -> Result<PullRun> {
    let summary_path = project.join("summary.json");
    let mut command = Command::new(&options.pullprod_exe);
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
    let output = command.output().context("failed to run pull-prod")?;
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
    })
}
