//! Command-line flags and dispatch: `cargo xtask <command>`. The xtask `main` calls only `run`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Pull production PostgreSQL data into a developer's database, safely.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
pub struct Cli {
    /// The Cargo.toml holding `[package.metadata.dump]` (default: found from the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Production (or staging) -> the dev database, anonymised in memory, swapped in atomically.
    PullProd(PullProd),
    /// Validate the policy: statically, and against a live schema with --database-url.
    CheckPolicy(CheckPolicy),
    /// Fill the dev database without production access.
    SeedDev(SeedDev),
    /// Policy helpers: `init` from a database, `doc` for the data-handling section.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Delete the project's expired dump files.
    PruneDumps,
    /// Create the demo "production" shop database with deterministic synthetic rows.
    DemoProd(DemoProd),
}

#[derive(Debug, Args)]
pub struct PullProd {
    /// Which configured source to read.
    #[arg(long, default_value = "production", value_name = "SOURCE")]
    pub from: String,
    /// Write an anonymised SQL file instead of loading the dev database.
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub to_file: Option<Option<PathBuf>>,
    /// Print what would happen, with row estimates, and touch nothing.
    #[arg(long)]
    pub plan: bool,
    /// Parallel workers (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Close other connections to the dev database before swapping it.
    #[arg(long)]
    pub force: bool,
    /// Refuse (instead of warning) when the source role could write.
    #[arg(long)]
    pub strict: bool,
    /// Allow a target database that is not on this machine.
    #[arg(long)]
    pub allow_remote_target: bool,
}

#[derive(Debug, Args)]
pub struct CheckPolicy {
    /// Also check coverage against this database's schema (staging, or a CI database).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Sample column values to find sensitive data behind innocent names.
    #[arg(long)]
    pub sample: bool,
    /// Add unclassified columns to the policy files as `todo`.
    #[arg(long)]
    pub fix: bool,
    /// Output format (default: human, or github when GITHUB_ACTIONS is set).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Github,
    Json,
}

#[derive(Debug, Args)]
pub struct SeedDev {
    /// Generate synthetic rows even when an anonymised dump exists.
    #[arg(long)]
    pub synthetic: bool,
    /// Rows per table for synthetic data.
    #[arg(long, value_name = "N")]
    pub rows: Option<u64>,
    /// Read the schema from this database instead of the project's migrations.
    #[arg(long, value_name = "URL")]
    pub schema_from: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Write a first policy for an existing database, every column marked `todo`.
    Init(PolicyInit),
}

#[derive(Debug, Args)]
pub struct PolicyInit {
    #[arg(long, value_name = "URL")]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct DemoProd {
    /// Number of users; every other table grows in proportion.
    #[arg(long, default_value_t = 1000)]
    pub scale: u64,
    /// Database to (re)create (default: `shop_prod` on the local server).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Parse `args` (without the program name) and run the command. Errors print as `error: …`.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let argv = std::iter::once(OsString::from("cargo xtask")).chain(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match dispatch(&cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::PullProd(_) => anyhow::bail!("`pull-prod` is not available in this build yet"),
        Command::CheckPolicy(_) => {
            anyhow::bail!("`check-policy` is not available in this build yet")
        }
        Command::SeedDev(_) => anyhow::bail!("`seed-dev` is not available in this build yet"),
        Command::Policy(_) => anyhow::bail!("`policy` is not available in this build yet"),
        Command::PruneDumps => anyhow::bail!("`prune-dumps` is not available in this build yet"),
        Command::DemoProd(_) => anyhow::bail!("`demo-prod` is not available in this build yet"),
    }
}
