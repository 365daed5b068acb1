//! The seed-dev measurement: every corpus schema (`corpus/<app>/schema.sql`) and the demo are
//! seeded with synthetic rows; prints the share of tables that got rows, rows per second (end
//! to end: from the call to the dev database swapped in, analysed and ready) and where the time
//! went, phase by phase. Databases are `pp_seed_score_<app>`, dropped afterwards.
//! `cargo run --release --example seed-score -- [--rows N] [--only APP] [--keep]` (local server or `PG*`).
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use pullprod::conn::Settings;
use pullprod::policy::model::{Policy, TableAction};
use pullprod::seed::{self, SchemaSource, SeedOptions, SeedRequest};
use pullprod::transform::Salt;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            println!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

struct Score {
    app: String,
    tables: usize,
    filled: usize,
    rows: u64,
    seconds: f64,
    /// Seconds of the `rows` phase: generating and loading rows (COPY), with each table's
    /// secondary indexes and ANALYZE; without schema, foreign keys and swap.
    load_seconds: f64,
    empty: Vec<String>,
    /// `table: constraint (rows)` for rows no variant could fit.
    rejected: Vec<String>,
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: u64 = match args.iter().position(|arg| arg == "--rows") {
        Some(idx) => args
            .get(idx + 1)
            .context("`--rows` needs a number")?
            .parse()
            .context("`--rows` needs a whole number")?,
        None => 10_000,
    };
    let keep = args.iter().any(|arg| arg == "--keep");
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|idx| args.get(idx + 1));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut schemas: Vec<(String, PathBuf, Policy)> = Vec::new();
    for entry in std::fs::read_dir(root.join("corpus")).context("read `corpus/`")? {
        let dir = entry?.path();
        if dir.join("schema.sql").is_file() {
            let app = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let migrations =
                std::env::temp_dir().join(format!("pp_score_{app}_{}", std::process::id()));
            std::fs::create_dir_all(&migrations)?;
            std::fs::copy(dir.join("schema.sql"), migrations.join("schema.sql"))?;
            schemas.push((app, migrations, Policy::default()));
        }
    }
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    let (config, _) = pullprod::config::load(Some(&root.join("Cargo.toml")))?;
    let (policy, _) = pullprod::config::load_policy(&config);
    schemas.push((
        "demo".into(),
        root.join("migrations"),
        policy.context("the demo policy has errors")?,
    ));

    schemas.retain(|(app, _, _)| only.is_none_or(|only| only == app));
    let server = Settings::parse("dbname=postgres")?;
    let load_before = load_average();
    let mut phases: Vec<(&'static str, f64)> = Vec::new();
    let mut scores = Vec::new();
    for (app, migrations, policy) in &schemas {
        let target = server.with_dbname(&format!("pp_seed_score_{app}"));
        let request = SeedRequest {
            target: target.clone(),
            policy: policy.clone(),
            salt: Salt::new(b"seed-score".to_vec()),
            schema: Some(SchemaSource::Migrations(migrations.clone())),
            protected: Vec::new(),
            dumps: None,
            options: SeedOptions {
                synthetic: true,
                rows: Some(rows),
                quiet: true,
                force: true,
                ..SeedOptions::default()
            },
        };
        let started = Instant::now();
        let summary = seed::run(&request).with_context(|| format!("seeding `{app}`"))?;
        let seconds = started.elapsed().as_secs_f64();
        for &(phase, spent) in &summary.phases {
            match phases.iter_mut().find(|(name, _)| *name == phase) {
                Some(entry) => entry.1 += spent,
                None => phases.push((phase, spent)),
            }
        }
        let mut client = pullprod::conn::connect_settings(&target, "the seeded database")?;
        let mut score = Score {
            app: app.clone(),
            tables: 0,
            filled: 0,
            rows: summary.tables.iter().map(|(_, inserted, _)| inserted).sum(),
            seconds,
            load_seconds: summary
                .phases
                .iter()
                .filter(|(phase, _)| *phase == "rows")
                .map(|(_, seconds)| seconds)
                .sum(),
            empty: Vec::new(),
            rejected: summary
                .rejected
                .iter()
                .map(|r| format!("{}: {} ({})", r.table, r.constraint, r.rows))
                .collect(),
        };
        for (table, _, _) in &summary.tables {
            if policy
                .table(table)
                .is_some_and(|rule| rule.action == TableAction::Skip && rule.seed_rows.is_none())
            {
                continue; // schema only, by the policy
            }
            score.tables += 1;
            let has_rows: bool = client
                .query_one(
                    &format!("SELECT EXISTS (SELECT 1 FROM {})", table.quoted()),
                    &[],
                )?
                .get(0);
            if has_rows {
                score.filled += 1;
            } else {
                score.empty.push(table.to_string());
            }
        }
        drop(client);
        if !keep {
            let mut admin = pullprod::conn::connect_settings(&server, "the server")?;
            admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS pp_seed_score_{app} WITH (FORCE)"
            ))?;
        }
        if migrations.starts_with(std::env::temp_dir()) {
            let _ = std::fs::remove_dir_all(migrations);
        }
        print_score(&score);
        scores.push(score);
    }
    let tables: usize = scores.iter().map(|s| s.tables).sum();
    let filled: usize = scores.iter().map(|s| s.filled).sum();
    let total_rows: u64 = scores.iter().map(|s| s.rows).sum();
    let seconds: f64 = scores.iter().map(|s| s.seconds).sum();
    let load_seconds: f64 = scores.iter().map(|s| s.load_seconds).sum();
    println!(
        "total: {filled}/{tables} tables got rows ({:.1}%), {total_rows} rows at --rows {rows}: \
         {:.0} rows/s loading ({load_seconds:.1} s generating and copying rows, their indexes and ANALYZE), \
         {:.0} rows/s end to end ({seconds:.1} s from the call to the database swapped in and ready)",
        100.0 * filled as f64 / tables.max(1) as f64,
        total_rows as f64 / load_seconds.max(1e-9),
        total_rows as f64 / seconds.max(1e-9)
    );
    println!(
        "phases: {}",
        phases
            .iter()
            .map(|(phase, spent)| format!("{phase} {spent:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "load average (1 min) before {load_before}, after {}",
        load_average()
    );
    Ok(())
}

/// The 1-minute load average, as `/proc/loadavg` says (`?` elsewhere).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn print_score(score: &Score) {
    if !score.rejected.is_empty() {
        println!("  left out: {}", score.rejected.join(", "));
    }
    println!(
        "{:<16} {:>3}/{:<3} tables got rows  {:>9} rows  loading {:>5.1} s {:>7.0} rows/s  end to end {:>5.1} s {:>7.0} rows/s{}",
        score.app,
        score.filled,
        score.tables,
        score.rows,
        score.load_seconds,
        score.rows as f64 / score.load_seconds.max(1e-9),
        score.seconds,
        score.rows as f64 / score.seconds.max(1e-9),
        if score.empty.is_empty() {
            String::new()
        } else {
            format!("  empty: {}", score.empty.join(", "))
        }
    );
}
