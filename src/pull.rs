//! `pull-prod`: the refusals, then source snapshot -> new database -> swap, with audit.
//! The steps are in `target` (database side) and `pipeline` (rows); this file orders them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use postgres::Client;

use crate::check;
use crate::config;
use crate::conn::{self, Settings};
use crate::diag::{self, Diagnostic, Sources};
use crate::fault;
use crate::gate;
use crate::pgerror::PgContext;
use crate::pipeline::{self, LoadMode, PlanOptions, TableCopied, TablePlan};
use crate::policy::model::{Policy, TableAction, TableName};
use crate::progress::TableProgress;
use crate::schema::{self, Catalog};
use crate::target::{self, Section, SwapOptions};
use crate::transform::Salt;

/// Everything a pull needs, resolved: no configuration lookups happen after this.
#[derive(Debug, Clone)]
pub struct PullRequest {
    /// The source's name in the configuration (`production`, `staging`…), for messages and audit.
    pub source_name: String,
    pub source: Settings,
    pub target: Settings,
    pub policy: Policy,
    /// sha256 of the policy files and the dump table that run (`gate::PolicyBytes`), recorded
    /// in the audit.
    pub policy_sha256: String,
    /// Recorded in the audit: for a production source the `review-ref` commit whose bytes run;
    /// for other sources the `HEAD` commit, if any (informational: the working copy runs).
    pub commit: Option<String>,
    pub salt: Salt,
    /// Where the new database's schema comes from.
    pub schema: SchemaMode,
    pub options: PullOptions,
}

/// Where the new database's schema comes from.
#[derive(Debug, Clone, Default)]
pub enum SchemaMode {
    /// `pg_dump --schema-only` of the source, in the snapshot: pre-data before the rows,
    /// indexes and constraints after them.
    #[default]
    PgDump,
    /// The project's migrations command (`schema = { command = "…" }`), run in `dir` with
    /// `DATABASE_URL` naming the new database; it builds indexes and constraints itself.
    Migrations { command: String, dir: PathBuf },
}

#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Parallel copy workers (0: the number of cores).
    pub jobs: usize,
    /// Close other sessions on the dev database when swapping.
    pub force: bool,
    /// Refuse instead of warning when the source role could write.
    pub strict: bool,
    /// Allow a target that is not on this machine.
    pub allow_remote_target: bool,
    /// Print the plan and touch nothing.
    pub plan_only: bool,
    /// No progress output (tests).
    pub quiet: bool,
    /// Use COPY text format even where binary is possible.
    pub force_text: bool,
    /// Where the local audit log lives (default: `$XDG_STATE_HOME/pullprod/audit.log`).
    pub audit_log: Option<PathBuf>,
    /// `--to-file [PATH]`: write an anonymised SQL dump instead of loading the dev database.
    pub to_file: Option<crate::dumpfile::ToFile>,
    /// With `plan_only` from a production source: why the policy planned is not the reviewed one.
    pub unreviewed: Option<String>,
}

/// Seconds spent in each named phase, in order.
pub type Phases = Vec<(&'static str, f64)>;

/// What a pull did.
#[derive(Debug, Clone)]
pub struct PullSummary {
    pub plan: Vec<TablePlan>,
    pub copied: Vec<TableCopied>,
    /// Seconds spent in each phase: schema, data, post-data, swap.
    pub phases: Phases,
    /// The source role could write (a warning was printed).
    pub source_could_write: bool,
    /// With `plan_only`: the rows each table of a subset will contribute, counted in the snapshot.
    pub subset_rows: Vec<(TableName, i64)>,
}

/// Run a pull: refuse early when something is wrong, else build the new database under a
/// temporary name and swap it in only when everything succeeded (G5).
pub fn run(request: &PullRequest) -> Result<PullSummary> {
    let mut request = request.clone();
    conn::enforce_min_tls(&mut request.source, &request.source_name)?;
    let request = &request;
    let progress = TableProgress::new(request.options.quiet);
    if request.options.to_file.is_none()
        && !request.target.is_local()
        && !request.options.allow_remote_target
    {
        bail!(
            "refusing to load `{}`: the dev database is not on this machine; pass `--allow-remote-target` \
             if that is really what you want",
            request.target
        );
    }

    // The source: read-only session, one exported snapshot for schema, data and sequences (G4).
    let mut coordinator = open_source(&request.source, &request.source_name)?;
    if let Some(note) = request.source.dbname_fallback_note() {
        progress.line(&format!(
            "note: the `{}` source: {note}",
            request.source_name
        ));
    }
    let writes = crate::access::write_privileges(&mut coordinator)?;
    let source_could_write = !writes.is_empty();
    if source_could_write {
        let message = format!(
            "the role `{}` could write to the `{}` source ({}): pullprod only reads (read-only transactions), \
             but connect with a read-only role to be safe: `{}` prints the SQL for one",
            request.source.user,
            request.source_name,
            writes.join("; "),
            crate::access::GRANTS_COMMAND
        );
        if request.options.strict {
            bail!("refusing to pull with `--strict`: {message}");
        }
        progress.line(&format!("warning: {message}"));
    }
    coordinator
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .pg_context("failed to start the source snapshot")?;
    // Hot standbys export snapshots too (PostgreSQL 10+): replicas need no special path.
    let snapshot: String = coordinator
        .query_one("SELECT pg_export_snapshot()", &[])
        .pg_context("failed to export the source snapshot")?
        .get(0);
    let catalog = schema::load(&mut coordinator)?;
    crate::condition::refuse_unsafe(
        &mut coordinator,
        &request.policy,
        &catalog,
        &request.source_name,
    )?;
    let source_major = target::server_major(&mut coordinator)?;
    if let (Some(to_file), false) = (&request.options.to_file, request.options.plan_only) {
        let (meta, plan, copied) = crate::dumpfile::write_pull(
            request,
            to_file,
            &mut coordinator,
            &snapshot,
            &catalog,
            source_major,
        )?;
        write_local_audit(request, &copied)?;
        progress.line(&format!(
            "wrote an anonymised dump of `{}` to `{}` ({} rows in {} tables); it expires {}",
            request.source_name,
            meta.file.display(),
            copied.iter().map(|table| table.rows).sum::<u64>(),
            copied.len(),
            crate::dumpfile::format_utc(meta.expires)
        ));
        return Ok(PullSummary {
            plan,
            copied,
            phases: Vec::new(),
            source_could_write,
            subset_rows: Vec::new(),
        });
    }

    let mut admin = target::connect_admin(&request.target)?;
    refuse_same_database(&mut coordinator, &mut admin, &request.target)?;
    let target_major = target::server_major(&mut admin)?;

    let plan = pipeline::plan_tables(
        &catalog,
        &request.policy,
        PlanOptions {
            binary: source_major == target_major && !request.options.force_text,
        },
    )?;
    if request.options.plan_only {
        // An unreviewed policy's conditions are not run on production, not even to count.
        let subset_rows = match request.options.unreviewed {
            Some(_) => Vec::new(),
            None => count_subset_rows(&mut coordinator, &plan)?,
        };
        print_plan(&progress, request, &catalog, &plan, &subset_rows);
        return Ok(PullSummary {
            plan,
            copied: Vec::new(),
            phases: Vec::new(),
            source_could_write,
            subset_rows,
        });
    }

    let pg_dump = target::find_tool("pg_dump", source_major)?;
    let psql = target::find_tool("psql", 0)?;
    for name in target::drop_leftovers(&mut admin, &request.target.dbname)? {
        progress.line(&format!(
            "dropped `{name}`, left over by an interrupted run"
        ));
    }
    let new_name = target::temp_name(&request.target.dbname, "new", std::process::id());
    let new_settings = request.target.with_dbname(&new_name);
    let locale = target::source_locale(&mut coordinator)?;
    target::create_database(&mut admin, &new_name, &locale)?;
    fault::point("after-create");

    // Everything from here builds only the new database; on failure it is dropped and the old
    // dev database was never touched.
    let built = build(
        request,
        &progress,
        &mut coordinator,
        &snapshot,
        &catalog,
        &plan,
        &new_settings,
        &pg_dump,
        &psql,
    );
    let (copied, mut phases) = match built {
        Ok(done) => done,
        Err(err) => {
            target::drop_quietly(&mut admin, &new_name);
            return Err(err.context("nothing was changed: the dev database is as it was"));
        }
    };
    drop(coordinator);

    fault::point("before-swap");
    let started = Instant::now();
    target::swap_in_or_drop(
        &mut admin,
        &new_name,
        &request.target.dbname,
        SwapOptions {
            force: request.options.force,
        },
    )?;
    phases.push(("swap", started.elapsed().as_secs_f64()));
    write_local_audit(request, &copied)?;
    progress.line(&format!(
        "`{}` now holds an anonymised copy of `{}` ({} rows in {} tables)",
        request.target.dbname,
        request.source_name,
        copied.iter().map(|table| table.rows).sum::<u64>(),
        copied.len()
    ));
    Ok(PullSummary {
        plan,
        copied,
        phases,
        source_could_write,
        subset_rows: Vec::new(),
    })
}

#[allow(clippy::too_many_arguments)]
fn build(
    request: &PullRequest,
    progress: &TableProgress,
    coordinator: &mut Client,
    snapshot: &str,
    catalog: &Catalog,
    plan: &[TablePlan],
    new_settings: &Settings,
    pg_dump: &Path,
    psql: &Path,
) -> Result<(Vec<TableCopied>, Phases)> {
    let mut phases = Vec::new();
    let started = Instant::now();
    let load = match &request.schema {
        SchemaMode::PgDump => {
            target::pipe_schema(
                pg_dump,
                psql,
                &request.source,
                Some(snapshot),
                Section::PreData,
                new_settings,
            )?;
            LoadMode::Fresh
        }
        SchemaMode::Migrations { command, dir } => {
            crate::seed::run_migrations_command(command, dir, new_settings)?;
            // Migrations may insert reference rows; the source's rows replace them.
            let tables: Vec<String> = plan.iter().map(|table| table.table.quoted()).collect();
            if !tables.is_empty() {
                conn::connect_settings(new_settings, "the new dev database")?
                    .batch_execute(&format!("TRUNCATE {} CASCADE", tables.join(", ")))
                    .pg_context("the migrated schema does not have the source's tables")?;
            }
            LoadMode::Migrated
        }
    };
    fault::point("after-pre-data");
    phases.push(("schema", started.elapsed().as_secs_f64()));

    let started = Instant::now();
    let jobs = if request.options.jobs == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        request.options.jobs
    };
    let job = pipeline::CopyJob {
        source: &request.source,
        snapshot,
        target: new_settings,
        salt: &request.salt,
        jobs,
        load,
    };
    let copied = pipeline::copy_into_database(&job, plan, progress)?;
    fault::point("after-data");
    phases.push(("data", started.elapsed().as_secs_f64()));

    let started = Instant::now();
    let mut privileges = target::Privileges::default();
    if load == LoadMode::Fresh {
        target::build_post_data(
            pg_dump,
            &request.source,
            Some(snapshot),
            new_settings,
            jobs,
            &mut privileges,
        )?;
    }
    fault::point("after-post-data");
    let sequences = target::read_sequences(coordinator, &catalog.sequences)?;
    let sequence_uses = target::sequence_uses(coordinator)?;
    let mut new_client = conn::connect_settings(new_settings, "the new dev database")?;
    target::set_sequences(&mut new_client, &sequences)?;
    target::advance_sequences(
        &mut new_client,
        &target::transformed_uses(&sequence_uses, catalog, plan),
    )?;
    if load == LoadMode::Fresh {
        target::apply_privileges(
            pg_dump,
            &request.source,
            Some(snapshot),
            &mut new_client,
            &mut privileges,
        )?;
        if let Some(line) = privileges.skipped_line() {
            progress.line(&format!("note: {line}"));
        }
    }
    target::refresh_matviews(&mut new_client, &catalog.matviews)?;
    write_target_audit(&mut new_client, request, &copied)?;
    phases.push(("post-data", started.elapsed().as_secs_f64()));
    Ok((copied, phases))
}

/// Open the coordinating source session: read-only for good (G4).
pub fn open_source(source: &Settings, source_name: &str) -> Result<Client> {
    let mut client = conn::connect_settings(source, &format!("the `{source_name}` source"))?;
    conn::make_read_only(&mut client)?;
    Ok(client)
}

/// The target is the source when both sessions reach the same cluster and database, as the
/// servers themselves say (not the connection strings).
fn refuse_same_database(
    source: &mut Client,
    target_admin: &mut Client,
    target: &Settings,
) -> Result<()> {
    let identity = |client: &mut Client| -> Result<String> {
        let row = client
            .query_one(
                "SELECT coalesce((SELECT system_identifier::text FROM pg_control_system()), '') || '/' || \
                        pg_postmaster_start_time()::text || '/' || current_setting('port')",
                &[],
            )
            .or_else(|_| {
                client.query_one(
                    "SELECT pg_postmaster_start_time()::text || '/' || current_setting('port')",
                    &[],
                )
            })
            .pg_context("failed to identify the server")?;
        Ok(row.get(0))
    };
    let source_server = identity(source)?;
    let target_server = identity(target_admin)?;
    let source_db: String = source
        .query_one("SELECT current_database()", &[])
        .pg_context("failed to identify the source database")?
        .get(0);
    if source_server == target_server && source_db == target.dbname {
        bail!(
            "refusing to pull: the dev database `{}` is the source database itself (same server, same database); \
             point `target` at your own development database",
            target.dbname
        );
    }
    Ok(())
}

/// Count the rows of every subset table, read-only, in the coordinator's snapshot.
fn count_subset_rows(
    coordinator: &mut Client,
    plan: &[TablePlan],
) -> Result<Vec<(TableName, i64)>> {
    let mut counts = Vec::new();
    for table in plan {
        let Some(selection) = &table.subset else {
            continue;
        };
        let n_rows: i64 = coordinator
            .query_one(selection.count_query(&table.table).as_str(), &[])
            .data_context(&table.table, &[], "failed to count the subset")?
            .get(0);
        counts.push((table.table.clone(), n_rows));
    }
    counts.sort();
    Ok(counts)
}

fn print_plan(
    progress: &TableProgress,
    request: &PullRequest,
    catalog: &Catalog,
    plan: &[TablePlan],
    subset_rows: &[(TableName, i64)],
) {
    progress.line(&format!(
        "plan: `{}` -> `{}` (nothing will be copied or written)",
        request.source_name, request.target.dbname
    ));
    if let Some(why) = &request.options.unreviewed {
        progress.line(&format!(
            "note: this plan uses the working copy's policy, which is not reviewed, so a pull from `{}` \
             would refuse it ({why}); slices show whole-table estimates (unreviewed conditions are not run)",
            request.source_name
        ));
    }
    for table in plan {
        let strategies: Vec<String> = table
            .columns
            .iter()
            .zip(&table.rules)
            .filter(|(_, rule)| !rule.is_keep())
            .map(|(column, rule)| {
                format!(
                    "{column}: {}",
                    crate::coverage::strategy_name(&rule.strategy)
                )
            })
            .collect();
        let rows = match subset_rows.iter().find(|(name, _)| name == &table.table) {
            Some((_, n_rows)) => format!("{n_rows:>11} rows (subset)"),
            None => format!("~{:>10} rows", table.estimated_rows),
        };
        progress.line(&format!(
            "  {:<36} {rows}  {:?}  {}",
            table.table.to_string(),
            table.format,
            if strategies.is_empty() {
                "all kept".to_string()
            } else {
                strategies.join(", ")
            }
        ));
    }
    for rule in request
        .policy
        .tables
        .iter()
        .filter(|rule| rule.action == TableAction::Skip)
    {
        progress.line(&format!(
            "  {:<36} schema only (skip)",
            rule.table.to_string()
        ));
    }
    progress.line(&format!(
        "  then: indexes and constraints, {} sequences, {} materialized views, swap",
        catalog.sequences.len(),
        catalog.matviews.len()
    ));
}

fn audit_rows(copied: &[TableCopied]) -> serde_json::Value {
    serde_json::Value::Object(
        copied
            .iter()
            .map(|table| (table.table.to_string(), serde_json::Value::from(table.rows)))
            .collect(),
    )
}

pub(crate) fn who() -> String {
    who_with(&|var| std::env::var(var).ok())
}

/// `user@host` for the audit: `$USER`, `$LOGNAME`, then the OS account of this process.
fn who_with(env: &dyn Fn(&str) -> Option<String>) -> String {
    let user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|var| env(var).filter(|name| !name.trim().is_empty()))
        .or_else(conn::os_user_name)
        .unwrap_or_else(|| format!("uid {}", conn::os_uid().unwrap_or(u32::MAX)));
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        user
    } else {
        format!("{user}@{host}")
    }
}

fn write_target_audit(
    client: &mut Client,
    request: &PullRequest,
    copied: &[TableCopied],
) -> Result<()> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS pullprod; \
             CREATE TABLE IF NOT EXISTS pullprod.audit (pulled_at timestamptz NOT NULL DEFAULT now(), \
               who text NOT NULL, source text NOT NULL, policy_sha256 text NOT NULL, git_commit text, rows jsonb NOT NULL); \
             COMMENT ON SCHEMA pullprod IS 'written by pullprod: where this database came from'",
        )
        .context("failed to create the audit table in the new database")?;
    client
        .execute(
            "INSERT INTO pullprod.audit (who, source, policy_sha256, git_commit, rows) VALUES ($1, $2, $3, $4, $5::text::jsonb)",
            &[
                &who(),
                &request.source_name,
                &request.policy_sha256,
                &request.commit,
                &audit_rows(copied).to_string(),
            ],
        )
        .pg_context("failed to record the audit entry in the new database")?;
    Ok(())
}

/// `$XDG_STATE_HOME/pullprod` (default `~/.local/state/pullprod`): outside every repository.
pub fn state_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").ok_or_else(|| anyhow!("HOME is not set"))?)
            .join(".local/state"),
    };
    Ok(base.join("pullprod"))
}

fn write_local_audit(request: &PullRequest, copied: &[TableCopied]) -> Result<()> {
    let path = match &request.options.audit_log {
        Some(path) => path.clone(),
        None => state_dir()?.join("audit.log"),
    };
    let entry = serde_json::json!({
        "pulled_at_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "who": who(),
        "source": request.source_name,
        "target": request.target.dbname,
        "policy_sha256": request.policy_sha256,
        "commit": request.commit,
        "rows": audit_rows(copied),
    });
    append_audit(&path, &entry)
}

/// Append one JSON line to the local audit log (0600, never through a symlink).
pub(crate) fn append_audit(path: &Path, entry: &serde_json::Value) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("failed to open the audit log `{}`", path.display()))?;
    writeln!(file, "{entry}")
        .with_context(|| format!("failed to write the audit log `{}`", path.display()))
}

/// `cargo xtask pull-prod` as the CLI runs it: configuration, refusals, then `run`.
#[derive(Debug, Clone, Default)]
pub struct PullProdOptions {
    pub manifest_path: Option<PathBuf>,
    /// The configured source to read (`production` by default).
    pub from: String,
    /// `--to-file [PATH]`: write an anonymised SQL file instead of loading the dev database.
    pub to_file: Option<Option<PathBuf>>,
    pub pull: PullOptions,
}

/// Load the project's configuration and policy, refuse what must be refused (before a single
/// row is read), then pull.
pub fn pull_prod(options: &PullProdOptions) -> Result<PullSummary> {
    let (config, config_diagnostics) = config::load(options.manifest_path.as_deref())?;
    if config_diagnostics.iter().any(Diagnostic::is_error) {
        let mut sources = Sources::new();
        sources.insert(config.manifest_path.clone(), config.manifest_text.clone());
        bail!(
            "refusing to pull: the `[{}]` table has errors:\n{}",
            config.table_name,
            diag::render(
                &config_diagnostics,
                &sources,
                &config.project_dir,
                diag::Format::Human
            )
            .trim_end()
        );
    }
    let source_name = options.from.as_str();
    // G8: which sources are production, and the policy bytes a production pull runs, come
    // from the `review-ref` commit; the working tree is only compared with them.
    let reviewed = gate::read_reviewed(&config);
    let is_production = reviewed
        .as_ref()
        .map_or(true, |reviewed| reviewed.is_production(source_name));
    let mut unreviewed = None;
    let (config, bytes, commit) = match reviewed {
        Ok(reviewed) if is_production => {
            let differences = gate::differences(&config, &reviewed);
            if differences.is_empty() {
                fault::swap("after-gate");
                if reviewed.config_diagnostics.iter().any(Diagnostic::is_error) {
                    bail!(
                        "refusing to pull from `{source_name}`: the `[{}]` table in `{}` has errors; fix them there",
                        reviewed.config.table_name,
                        reviewed.review_ref
                    );
                }
                let commit = Some(reviewed.commit.clone());
                (reviewed.config, reviewed.bytes, commit)
            } else if options.pull.plan_only {
                unreviewed = Some(format!(
                    "differs from `{}`: {}",
                    reviewed.review_ref,
                    differences.join(", ")
                ));
                let bytes = gate::PolicyBytes::working_copy(&config)?;
                (config, bytes, None)
            } else {
                bail!(
                    "refusing to pull from `{source_name}`, a production source: the working copy differs from \
                     what `{}` holds (commit {}):\n  {}\ncommit these changes and get them reviewed into `{}`, or \
                     try them with a source marked `production = false` in the reviewed `[{}]` (for example \
                     `--from staging`)",
                    reviewed.review_ref,
                    &reviewed.commit[..reviewed.commit.len().min(12)],
                    differences.join("\n  "),
                    reviewed.review_ref,
                    config.table_name
                );
            }
        }
        Ok(_) => {
            let bytes = gate::PolicyBytes::working_copy(&config)?;
            let commit = gate::head_commit(&config.project_dir);
            (config, bytes, commit)
        }
        Err(err) if options.pull.plan_only => {
            unreviewed = Some(format!("{err:#}"));
            let bytes = gate::PolicyBytes::working_copy(&config)?;
            (config, bytes, None)
        }
        Err(err) => bail!(
            "refusing to pull from `{source_name}`, a production source (only sources the reviewed manifest \
             marks `production = false` are not): {err:#}"
        ),
    };
    let config = &config;
    let policy_sha256 = bytes.sha256().to_string();
    // Parsed from `bytes`, the buffers just hashed: nothing is read from the working tree now.
    let files = bytes.files();
    if is_production
        && unreviewed.is_none()
        && !options.pull.plan_only
        && config.require_staging_run
        && !staging_run_recorded(&config.project, &policy_sha256)?
    {
        bail!(
            "refusing to pull from production: this policy (sha256 {}) has not completed a pull from staging on \
             this machine, and the project sets `require-staging-run = true`; run \
             `cargo xtask pull-prod --from staging` first",
            &policy_sha256[..12]
        );
    }

    let source_url = config.source(source_name)?;
    let target_url = if options.to_file.is_some() {
        // A dump file needs no dev database.
        String::new()
    } else {
        config
            .target
            .as_ref()
            .ok_or_else(|| {
                anyhow!(
                    "no dev database configured: set `target = \"env:DATABASE_URL\"` in `[{}]`",
                    config.table_name
                )
            })?
            .resolve()
            .context("cannot find the dev database's connection settings")?
    };
    let salt = match &config.salt {
        Some(_) => config::resolve_salt(config)?,
        None => bail!(
            "refusing to pull: no salt is configured, so pseudonyms could not be keyed; \
             set `salt = \"env:PULLPROD_SALT\"` in `[{}]` and export a long random value",
            config.table_name
        ),
    };
    let source = Settings::parse(&source_url)
        .with_context(|| format!("invalid connection settings for the `{source_name}` source"))?;
    let target =
        Settings::parse(&target_url).context("invalid connection settings for the dev database")?;

    // The policy must pass check-policy against the live source schema.
    let catalog = {
        let mut client = open_source(&source, source_name)?;
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .pg_context("failed to start a read-only transaction on the source")?;
        schema::load(&mut client)?
    };
    let policy = match check::policy_from_files(config, files, &catalog) {
        Ok(policy) => policy,
        Err((diagnostics, sources)) => bail!(
            "refusing to pull from `{source_name}`: the policy does not pass check-policy against its schema:\n{}",
            diag::render(
                &diagnostics,
                &sources,
                &config.project_dir,
                diag::Format::Human
            )
            .trim_end()
        ),
    };
    let request = PullRequest {
        source_name: source_name.to_string(),
        source,
        target,
        policy,
        policy_sha256: policy_sha256.clone(),
        commit,
        salt,
        schema: match &config.schema {
            config::SchemaSource::PgDump => SchemaMode::PgDump,
            config::SchemaSource::Command(command) => SchemaMode::Migrations {
                command: command.clone(),
                dir: config.project_dir.clone(),
            },
        },
        options: PullOptions {
            to_file: options
                .to_file
                .as_ref()
                .map(|path| crate::dumpfile::ToFile {
                    path: path.clone(),
                    dump: crate::dumpfile::DumpOptions::from_config(config),
                }),
            unreviewed: if is_production { unreviewed } else { None },
            ..options.pull.clone()
        },
    };
    let summary = run(&request)?;
    if source_name == "staging" && !request.options.plan_only {
        record_staging_run(&config.project, &policy_sha256)?;
    }
    Ok(summary)
}

fn staging_runs_file(project: &str) -> Result<PathBuf> {
    Ok(state_dir()?.join(format!("{project}.staging-runs")))
}

fn staging_run_recorded(project: &str, policy_sha256: &str) -> Result<bool> {
    let path = staging_runs_file(project)?;
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.lines().any(|line| line.trim() == policy_sha256)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err).with_context(|| format!("failed to read `{}`", path.display())),
    }
}

fn record_staging_run(project: &str, policy_sha256: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if staging_run_recorded(project, policy_sha256)? {
        return Ok(());
    }
    let path = staging_runs_file(project)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    writeln!(file, "{policy_sha256}")
        .with_context(|| format!("failed to write `{}`", path.display()))
}

/// The process's peak resident memory (`VmHWM`), on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A machine-readable summary of a finished pull, for the benchmark.
pub fn write_summary_json(
    path: &Path,
    summary: &PullSummary,
    seconds: f64,
    peak_rss: Option<u64>,
) -> Result<()> {
    let json = serde_json::json!({
        "seconds": seconds,
        "phases": summary.phases.iter().map(|(name, secs)| serde_json::json!({"name": name, "seconds": secs})).collect::<Vec<_>>(),
        "rows": summary.copied.iter().map(|t| t.rows).sum::<u64>(),
        "bytes": summary.copied.iter().map(|t| t.bytes).sum::<u64>(),
        "tables": summary.copied.iter().map(|t| serde_json::json!({"table": t.table.to_string(), "rows": t.rows})).collect::<Vec<_>>(),
        "peak_rss_bytes": peak_rss,
    });
    std::fs::write(path, json.to_string())
        .with_context(|| format!("failed to write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_falls_back_to_the_os_account_name() {
        let os_name = conn::os_user_name().expect("this process has an account name");
        let who = who_with(&|_| None);
        assert!(
            who == os_name || who.starts_with(&format!("{os_name}@")),
            "{who}"
        );
        assert!(who_with(&|var| (var == "LOGNAME").then(|| "ada".into())).starts_with("ada"));
    }
}
