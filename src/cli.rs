//! Command-line flags and dispatch: `cargo xtask <command>`. A project's xtask `main` calls `run`;
//! one that adds its own subcommands flattens `Command` into its parser and calls `execute`.
//!
//! An xtask with a task of its own beside pullprod's commands (this is how pullprod's own
//! repository adds `demo-prod` and `bench`):
//!
//! ```no_run
//! use clap::{Parser, Subcommand};
//!
//! #[derive(Parser)]
//! #[command(name = "cargo xtask", bin_name = "cargo xtask")]
//! struct Xtask {
//!     #[arg(long, global = true)]
//!     manifest_path: Option<std::path::PathBuf>,
//!     #[command(subcommand)]
//!     task: Task,
//! }
//!
//! #[derive(Subcommand)]
//! enum Task {
//!     #[command(flatten)]
//!     Pullprod(pullprod::cli::Command),
//!     /// Regenerate the project's fixtures.
//!     Fixtures,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let xtask = match Xtask::try_parse() {
//!         Ok(xtask) => xtask,
//!         Err(err) => return pullprod::cli::parse_error(&err),
//!     };
//!     match xtask.task {
//!         Task::Pullprod(command) => pullprod::cli::execute(&pullprod::cli::Cli {
//!             manifest_path: xtask.manifest_path,
//!             command,
//!         }),
//!         Task::Fixtures => std::process::ExitCode::SUCCESS,
//!     }
//! }
//! ```
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
    /// `psql` on a configured source, read-only (refused for a role that could write).
    Console(Console),
}

#[derive(Debug, Args)]
pub struct Console {
    /// Which configured source to open (production shows a banner and is audited).
    #[arg(long, default_value = "production", value_name = "SOURCE")]
    pub from: String,
    /// Cancel any statement that runs longer (PostgreSQL units: 30s, 5min, 500ms).
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub statement_timeout: String,
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
    /// Fail (changing nothing) when a table gets no rows, instead of warning.
    #[arg(long)]
    pub strict: bool,
    /// Allow a dev database that is not on this machine.
    #[arg(long)]
    pub allow_remote_target: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Write a first policy for an existing database, every column marked `todo`.
    Init(PolicyInit),
    /// Print the SQL for a least-privilege read-only role that can pull from a source.
    Grants(PolicyGrants),
    /// Write the data-handling section (sources, commands, tables) into the project's doc file.
    Doc {
        /// Change nothing; exit 1 with a diff when the section is out of date.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Args)]
pub struct PolicyGrants {
    /// The configured source the role is for (its catalog is read, read-only).
    #[arg(long, default_value = "production", value_name = "SOURCE")]
    pub from: String,
    /// The role's name (default: `<project>_pullprod`).
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct PolicyInit {
    #[arg(long, value_name = "URL")]
    pub database_url: String,
}

/// Parse `args` (without the program name) and run the command. Errors print as `error: …`;
/// the exit code is 0 clean, 1 violations (check-policy), 2 unusable input or a failure.
///
/// ```no_run
/// // `cargo xtask check-policy --format json`, as the xtask's `main` would pass it:
/// let code = pullprod::cli::run(["check-policy", "--format", "json"].map(Into::into));
/// # let _ = code;
/// ```
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let argv = std::iter::once(OsString::from("cargo xtask")).chain(args);
    match Cli::try_parse_from(argv) {
        Ok(cli) => execute(&cli),
        Err(err) => parse_error(&err),
    }
}

/// Run a parsed command. Errors print as `error: …`; the exit code is the command's
/// (0 clean, 1 violations, 2 unusable input).
pub fn execute(cli: &Cli) -> ExitCode {
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Print a command-line parsing error (or `--help`, `--version`) and return its exit code:
/// 2 for a usage error, 0 for help and version.
pub fn parse_error(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    if err.use_stderr() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// The project's configuration, loaded once per command and handed to it.
struct Loaded {
    config: crate::config::Config,
    /// Problems in the dump table: each command decides whether they stop it.
    diagnostics: Vec<crate::diag::Diagnostic>,
}

fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    let (config, diagnostics) = crate::config::load(cli.manifest_path.as_deref())?;
    let project = Loaded {
        config,
        diagnostics,
    };
    if !matches!(cli.command, Command::PruneDumps) {
        prune_quietly(&project.config);
    }
    match &cli.command {
        Command::PullProd(args) => pull_prod(&project, args),
        Command::CheckPolicy(args) => check_policy(&project, args),
        Command::SeedDev(args) => seed_dev(&project, args),
        Command::Policy(PolicyCommand::Init(args)) => {
            let written = crate::check::policy_init(&project.config, &args.database_url)?;
            for path in &written {
                eprintln!("wrote `{}`", path.display());
            }
            eprintln!("every column is `todo`: classify them, then run `cargo xtask check-policy`");
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy(PolicyCommand::Doc { check }) => policy_doc(&project, *check),
        Command::PruneDumps => prune_dumps(&project),
        Command::Console(args) => {
            let options = crate::console::ConsoleOptions {
                from: args.from.clone(),
                statement_timeout: args.statement_timeout.clone(),
            };
            let code =
                crate::console::console(&project.config, &options, &|line| eprintln!("{line}"))?;
            Ok(ExitCode::from(code))
        }
        Command::Policy(PolicyCommand::Grants(args)) => {
            let options = crate::access::GrantsOptions {
                from: args.from.clone(),
                role: args.role.clone(),
            };
            print!("{}", crate::access::grants(&project.config, &options)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_policy(project: &Loaded, args: &CheckPolicy) -> anyhow::Result<ExitCode> {
    let options = crate::check::CheckPolicyOptions {
        database_url: args.database_url.clone(),
        sample: args.sample,
        fix: args.fix,
    };
    let report = crate::check::check_policy(&project.config, &project.diagnostics, &options)?;
    let format = match args.format {
        Some(OutputFormat::Human) => crate::diag::Format::Human,
        Some(OutputFormat::Github) => crate::diag::Format::Github,
        Some(OutputFormat::Json) => crate::diag::Format::Json,
        None if std::env::var_os("GITHUB_ACTIONS").is_some_and(|value| !value.is_empty()) => {
            crate::diag::Format::Github
        }
        None => crate::diag::Format::Human,
    };
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    crate::diag::print(
        &report.diagnostics,
        &report.sources,
        &report.project_dir,
        format,
    );
    let n_errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    if format != crate::diag::Format::Json {
        match report.exit_code() {
            0 => eprintln!("policy ok"),
            _ => eprintln!("error: check-policy found {n_errors} problem(s)"),
        }
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn pull_prod(project: &Loaded, args: &PullProd) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let options = crate::pull::PullProdOptions {
        from: args.from.clone(),
        to_file: args.to_file.clone(),
        pull: crate::pull::PullOptions {
            jobs: args.jobs.unwrap_or(0),
            force: args.force,
            strict: args.strict,
            allow_remote_target: args.allow_remote_target,
            plan_only: args.plan,
            drop_old_in_background: true,
            ..Default::default()
        },
    };
    let summary = crate::pull::pull_prod(&project.config, &project.diagnostics, &options)?;
    if args.plan {
        return Ok(ExitCode::SUCCESS);
    }
    let phases: Vec<String> = summary
        .phases
        .iter()
        .map(|(name, seconds)| format!("{name} {seconds:.1}s"))
        .collect();
    let peak = crate::pull::peak_rss_bytes();
    eprintln!(
        "done in {:.1}s ({}), peak memory {}",
        started.elapsed().as_secs_f64(),
        phases.join(", "),
        peak.map(|bytes| format!("{} MiB", bytes / (1024 * 1024)))
            .unwrap_or_else(|| "unknown".into())
    );
    if let Some(path) = std::env::var_os("PULLPROD_SUMMARY_JSON") {
        crate::pull::write_summary_json(
            std::path::Path::new(&path),
            &summary,
            started.elapsed().as_secs_f64(),
            peak,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn policy_doc(project: &Loaded, check: bool) -> anyhow::Result<ExitCode> {
    use crate::policydoc::DocOutcome;
    let options = crate::policydoc::PolicyDocOptions { check };
    let report = crate::policydoc::policy_doc(&project.config, &options)?;
    let doc = report.doc_file.display();
    match report.outcome {
        DocOutcome::InvalidPolicy {
            diagnostics,
            sources,
            project_dir,
        } => {
            crate::diag::print(
                &diagnostics,
                &sources,
                &project_dir,
                crate::diag::Format::Human,
            );
            eprintln!("error: the policy has problems: fix them before generating `{doc}`");
            let unusable = diagnostics
                .iter()
                .any(|d| d.code == crate::diag::Code::ParseError);
            return Ok(ExitCode::from(if unusable { 2 } else { 1 }));
        }
        DocOutcome::UpToDate => eprintln!("`{doc}` is up to date with the policy"),
        DocOutcome::Updated => eprintln!("updated the data-handling section of `{doc}`"),
        DocOutcome::Appended => eprintln!(
            "`{doc}` had no `{}` marker: appended the data-handling section at its end",
            crate::policydoc::BEGIN_MARKER
        ),
        DocOutcome::Created => eprintln!("created `{doc}` with the data-handling section"),
        DocOutcome::OutOfDate { message, diff } => {
            print!("{diff}");
            eprintln!("error: {message}");
            eprintln!("  help: run `cargo xtask policy doc`");
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every command prunes the project's expired dumps first (G7).
fn prune_quietly(config: &crate::config::Config) {
    let options = crate::dumpfile::DumpOptions::from_config(config);
    match crate::dumpfile::prune_expired(&options, std::time::SystemTime::now()) {
        Ok(removed) => {
            for path in removed {
                eprintln!("removed the expired dump `{}`", path.display());
            }
        }
        Err(err) => eprintln!("warning: could not prune expired dumps: {err:#}"),
    }
}

fn prune_dumps(project: &Loaded) -> anyhow::Result<ExitCode> {
    let options = crate::dumpfile::DumpOptions::from_config(&project.config);
    let removed = crate::dumpfile::prune_expired(&options, std::time::SystemTime::now())?;
    if removed.is_empty() {
        eprintln!("no expired dumps of `{}`", project.config.project);
    }
    for path in &removed {
        println!("removed `{}`", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn seed_dev(project: &Loaded, args: &SeedDev) -> anyhow::Result<ExitCode> {
    let Loaded {
        config,
        diagnostics,
    } = project;
    let (policy, policy_diagnostics) = crate::config::load_policy(config);
    let Some(policy) = policy else {
        let mut sources = crate::diag::Sources::new();
        for file in crate::config::policy_files(config).unwrap_or_default() {
            sources.insert(file.path.clone(), file.text.clone());
        }
        crate::diag::print(
            &policy_diagnostics,
            &sources,
            &config.project_dir,
            crate::diag::Format::Human,
        );
        anyhow::bail!(
            "the policy has errors: fix them (`cargo xtask check-policy`) before seeding"
        );
    };
    if diagnostics.iter().any(crate::diag::Diagnostic::is_error) {
        anyhow::bail!(
            "the `[package.metadata.dump]` table has errors: run `cargo xtask check-policy`"
        );
    }
    let target_url = config
        .target
        .as_ref()
        .ok_or_else(|| {
            anyhow::anyhow!("no dev database configured: set `target` in `[package.metadata.dump]`")
        })?
        .resolve()?;
    let target = crate::conn::Settings::parse(&target_url)?;
    // Seed data has nothing to protect, but the configured salt keeps it identical to pulls.
    let salt = match &config.salt {
        Some(_) => crate::config::resolve_salt(config)?,
        None => crate::transform::Salt::new(b"pullprod seed-dev".to_vec()),
    };
    // No schema source is needed when a dump is loaded; seed::run says what to add otherwise.
    let schema = match (&args.schema_from, &config.schema) {
        (Some(url), _) => Some(crate::seed::SchemaSource::Database(
            crate::conn::Settings::parse(url)?,
        )),
        (None, crate::config::SchemaSource::Command(command)) => {
            Some(crate::seed::SchemaSource::Command {
                command: command.clone(),
                dir: config.project_dir.clone(),
            })
        }
        (None, crate::config::SchemaSource::PgDump)
            if config.project_dir.join("migrations").is_dir() =>
        {
            Some(crate::seed::SchemaSource::Migrations(
                config.project_dir.join("migrations"),
            ))
        }
        (None, crate::config::SchemaSource::PgDump) => None,
    };
    let request = crate::seed::SeedRequest {
        target,
        policy,
        salt,
        schema,
        protected: crate::guard::configured_sources(config, None),
        dumps: Some(crate::dumpfile::DumpOptions::from_config(config)),
        options: crate::seed::SeedOptions {
            synthetic: args.synthetic,
            rows: args.rows,
            force: false,
            quiet: false,
            strict: args.strict,
            allow_remote_target: args.allow_remote_target,
        },
    };
    let summary = crate::seed::run(&request)?;
    match &summary.from_dump {
        Some(path) => eprintln!(
            "loaded the anonymised dump `{}` into `{}`",
            path.display(),
            target_url_name(&request)
        ),
        None => {
            for (table, inserted, left_out) in &summary.tables {
                let note = if *left_out > 0 {
                    format!(" ({left_out} left out by constraints)")
                } else {
                    String::new()
                };
                eprintln!("  {table:<32} {inserted:>8} rows{note}");
            }
            eprintln!("filled `{}` with synthetic rows", target_url_name(&request));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn target_url_name(request: &crate::seed::SeedRequest) -> String {
    request.target.dbname.clone()
}
