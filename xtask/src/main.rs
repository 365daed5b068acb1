//! This repository's `cargo xtask`: pullprod's commands plus `demo-prod` and `bench`.
//! A project that only needs pullprod's commands calls `pullprod::cli::run` (see the README).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Pull production PostgreSQL data into a developer's database, safely.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
struct Cli {
    /// The Cargo.toml holding `[package.metadata.dump]` (default: found from the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    #[command(flatten)]
    Pullprod(pullprod::cli::Command),
    /// Create the demo "production" shop database with deterministic synthetic rows.
    DemoProd(DemoProd),
    /// Time pull-prod against PostgreSQL's own COPY pipes, pg_dump | psql and pg_restore -j on
    /// the demo data, with where the servers' CPU goes and pull-prod's critical path.
    Bench(Bench),
}

#[derive(Debug, Args)]
struct DemoProd {
    /// Number of users; every other table grows in proportion.
    #[arg(long, default_value_t = 1000)]
    scale: u64,
    /// Database to (re)create (default: `shop_prod` on the local server).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct Bench {
    /// Demo scale (users); 200000 is about 1.2 GB.
    #[arg(long, default_value_t = 20000)]
    scale: u64,
    /// Repetitions of each measurement (the median is reported); runs alternate.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Also measure a skewed database (one table holds 90 % of the rows): pull-prod's data
    /// phase with `--jobs 1` against `--jobs 2`.
    #[arg(long)]
    skewed: bool,
    /// Rows in all of the skewed database (about 80 bytes each).
    #[arg(long, default_value_t = 4_000_000, value_name = "N")]
    skew_rows: u64,
    /// Only the skewed database (implies `--skewed`): skip the demo's contenders.
    #[arg(long)]
    skewed_only: bool,
    /// Also time another build's `cargo xtask` binary (e.g. saved before a change) as
    /// "baseline pull-prod", alternating with this one.
    #[arg(long, value_name = "PATH")]
    baseline_exe: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return pullprod::cli::parse_error(&err),
    };
    let result = match cli.task {
        Task::Pullprod(command) => {
            return pullprod::cli::execute(&pullprod::cli::Cli {
                manifest_path: cli.manifest_path,
                command,
            });
        }
        Task::DemoProd(args) => demo_prod(&args),
        Task::Bench(args) => bench(cli.manifest_path.as_deref(), &args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn demo_prod(args: &DemoProd) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let opts = xtask::demo::DemoOptions {
        scale: args.scale,
        database_url: args.database_url.clone(),
    };
    let summary = xtask::demo::demo_prod(&opts)?;
    println!("created `{}` at scale {}:", summary.database, args.scale);
    for (table, n_rows) in &summary.rows {
        println!("  {table:<12} {n_rows:>12} rows");
    }
    println!(
        "  {:.1} MB in {:.1} s",
        summary.bytes as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn bench(manifest_path: Option<&std::path::Path>, args: &Bench) -> anyhow::Result<ExitCode> {
    let (config, _) = pullprod::config::load(manifest_path)?;
    let options = xtask::bench::BenchOptions {
        scale: args.scale,
        reps: args.reps.max(1),
        project_dir: config.project_dir.clone(),
        pullprod_exe: std::env::current_exe()?,
        baseline_exe: args.baseline_exe.clone(),
        demo: !args.skewed_only,
        skewed_rows: (args.skewed || args.skewed_only).then_some(args.skew_rows),
    };
    let report = xtask::bench::run(&options, &|line| eprintln!("{line}"))?;
    println!("{}", report.render());
    if !report.rows_complete() {
        anyhow::bail!("pull-prod did not load every row the policy copies (see above)");
    }
    Ok(ExitCode::SUCCESS)
}
