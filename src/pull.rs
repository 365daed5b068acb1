//! `pull-prod`: the refusals, then source snapshot -> new database -> swap, with audit.
//! The steps are in `target` (database side) and `pipeline` (rows); this file orders them.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use postgres::Client;

use crate::check;
use crate::config::{self, Config};
use crate::conn::{self, Settings};
use crate::diag::{self, Diagnostic, Sources};
use crate::dumpfile::{self, DumpSink, ToFile};
use crate::fault;
use crate::gate;
use crate::pgerror::PgContext;
use crate::pipeline::{self, LoadMode, PlanOptions, TableCopied, TablePlan};
use crate::policy::model::{Policy, TableAction, TableName};
use crate::postdata;
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
    /// Where the anonymised copy goes.
    pub destination: Destination,
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

/// Where a pull's anonymised copy goes. Both go through the same steps and workers; only a
/// database destination has a dev database to connect to.
#[derive(Debug, Clone)]
pub enum Destination {
    /// The developer's database, replaced atomically by a complete new one.
    Database(Settings),
    /// `--to-file [PATH]`: an anonymised SQL dump; no dev database is touched.
    File(ToFile),
}

/// Where a pull's anonymised copy went, as the audit records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The dev database's name.
    Database(String),
    /// The dump file's path.
    File(PathBuf),
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
    /// Drop the replaced dev database in a detached process instead of waiting for it (the CLI).
    pub drop_old_in_background: bool,
    /// Where the local audit log lives (default: `$XDG_STATE_HOME/pullprod/audit.log`).
    pub audit_log: Option<PathBuf>,
    /// With `plan_only` from a production source: why the policy planned is not the reviewed one.
    pub unreviewed: Option<String>,
    /// The policy files' text, so that a refusal points at file:line (pull-prod fills it in).
    pub policy_sources: Sources,
    /// Paths in refusals print relative to this folder.
    pub project_dir: Option<PathBuf>,
    /// The smallest range a large table is split into (`None`: `pipeline::MIN_RANGE_BYTES`;
    /// tests lower it to split small tables).
    pub min_range_bytes: Option<u64>,
}

pub use crate::progress::Phases;

/// What a pull did.
#[derive(Debug, Clone)]
pub struct PullSummary {
    pub plan: Vec<TablePlan>,
    pub copied: Vec<TableCopied>,
    /// Seconds spent in each phase: sample, schema, data, post-data, swap.
    pub phases: Phases,
    /// The source role could write (a warning was printed).
    pub source_could_write: bool,
    /// With `plan_only`: the rows each table of a subset will contribute, counted in the snapshot.
    pub subset_rows: Vec<(TableName, i64)>,
    /// Where the copy went (`None` with `plan_only`).
    pub written: Option<Written>,
    /// The copy workers that ran.
    pub workers: usize,
}

/// Run a pull: refuse early when something is wrong, else build the new database under a
/// temporary name and swap it in only when everything succeeded (G5), or write the dump file
/// under a temporary name and rename it when complete.
pub fn run(request: &PullRequest) -> Result<PullSummary> {
    let mut request = request.clone();
    conn::enforce_min_tls(&mut request.source, &request.source_name)?;
    let request = &request;
    let progress = TableProgress::new(request.options.quiet);
    if let Destination::Database(target) = &request.destination {
        crate::guard::refuse_remote_target(target, request.options.allow_remote_target)?;
    }

    // The source: read-only session, one exported snapshot for schema, data and sequences (G4).
    let mut coordinator = conn::open_source(&request.source, &request.source_name)?;
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
    let snapshot = conn::export_snapshot(&mut coordinator)?;
    let source_major = target::server_major(&mut coordinator)?;
    if !request.options.plan_only {
        target::find_tools_early(source_major);
    }
    let catalog = schema::load(&mut coordinator)?;
    crate::condition::refuse_unsafe(
        &mut coordinator,
        &request.policy,
        &catalog,
        &request.source_name,
    )?;
    // G10: the kept columns' values, sampled in this snapshot, before anything is written.
    let mut early_phases = Vec::new();
    if !request.options.plan_only {
        let started = Instant::now();
        refuse_sensitive_values(&mut coordinator, request, &catalog)?;
        early_phases.push(("sample", started.elapsed().as_secs_f64()));
    }

    let (admin, binary) = match &request.destination {
        Destination::Database(target) => {
            let mut admin = target::connect_admin(target)?;
            crate::guard::refuse_source_session(
                &mut coordinator,
                &request.source_name,
                &mut admin,
                target,
                "pull",
            )?;
            let target_major = target::server_major(&mut admin)?;
            let binary = source_major == target_major && !request.options.force_text;
            (Some(admin), binary)
        }
        // Dump files are always text.
        Destination::File(_) => (None, false),
    };
    let plan = pipeline::plan_tables(&catalog, &request.policy, PlanOptions { binary })?;
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
            written: None,
            workers: 0,
        });
    }

    // A slice's rows are chosen once, in the snapshot, for either destination.
    let mut plan = plan;
    let started = Instant::now();
    if let Some(rows) = pipeline::select_subset_rows(&mut coordinator, &catalog, &mut plan)?
        && rows > 0
    {
        progress.line(&format!(
            "selected the {rows} rows of the slice in {:.1}s",
            started.elapsed().as_secs_f64()
        ));
    }
    if plan.iter().any(|table| table.subset.is_some()) {
        early_phases.push(("select", started.elapsed().as_secs_f64()));
    }

    let steps = Steps {
        request,
        progress: &progress,
        snapshot: &snapshot,
        catalog: &catalog,
        plan: &plan,
        pg_dump: target::find_tool("pg_dump", source_major)?,
        jobs: match request.options.jobs {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            jobs => jobs,
        }
        // Not capped at the number of tables: a large table is copied as ranges by several
        // workers (`pipeline::copy_tables` starts no more workers than there are units).
        .max(1),
    };
    let (copied, phases, written) = match (&request.destination, admin) {
        (Destination::Database(target), Some(admin)) => {
            into_database(&steps, coordinator, admin, target)?
        }
        (Destination::File(to_file), _) => into_file(&steps, coordinator, to_file)?,
        (Destination::Database(_), None) => {
            unreachable!("a database destination has an admin session")
        }
    };
    write_local_audit(request, &written, &copied)?;
    let units: usize = copied.iter().map(|table| table.units).sum();
    let workers = steps.jobs.min(units.max(1));
    Ok(PullSummary {
        plan,
        copied,
        phases: early_phases.into_iter().chain(phases).collect(),
        source_could_write,
        subset_rows: Vec::new(),
        written: Some(written),
        workers,
    })
}

/// What every destination's steps share.
struct Steps<'a> {
    request: &'a PullRequest,
    progress: &'a TableProgress,
    snapshot: &'a str,
    catalog: &'a Catalog,
    plan: &'a [TablePlan],
    pg_dump: PathBuf,
    /// Copy workers, for the data and the post-data.
    jobs: usize,
}

/// The two destinations, each going through `build`'s steps.
enum Output<'a> {
    /// The new database, under its temporary name.
    Database(&'a Settings),
    File(&'a DumpSink),
}

/// Build the new database under a temporary name, then swap it in; on failure it is dropped
/// and the dev database is as it was.
fn into_database(
    steps: &Steps,
    mut coordinator: Client,
    mut admin: Client,
    target: &Settings,
) -> Result<(Vec<TableCopied>, Phases, Written)> {
    let (request, progress) = (steps.request, steps.progress);
    for name in target::drop_leftovers(&mut admin, &target.dbname)? {
        progress.line(&format!(
            "dropped `{name}`, left over by an interrupted run"
        ));
    }
    let new_name = target::temp_name(&target.dbname, "new", std::process::id());
    let new_settings = target.with_dbname(&new_name);
    let locale = target::source_locale(&mut coordinator)?;
    // pg_dump's reads of the source start first: they read its catalog while the database is
    // created.
    let reads = match request.schema {
        SchemaMode::PgDump => Some(SchemaReads::start(steps)?),
        SchemaMode::Migrations { .. } => None,
    };
    target::create_database(&mut admin, &new_name, &locale)?;
    fault::point("after-create");

    // Everything from here builds only the new database; on failure it is dropped and the old
    // dev database was never touched.
    let (copied, mut phases) = match build(
        steps,
        &mut coordinator,
        &Output::Database(&new_settings),
        reads,
    ) {
        Ok(done) => done,
        Err(err) => {
            target::drop_quietly(&mut admin, &new_name);
            return Err(err.context("nothing was changed: the dev database is as it was"));
        }
    };
    drop(coordinator);

    fault::point("before-swap");
    let started = Instant::now();
    let replaced = target::swap_in_keeping_old_or_drop(
        &mut admin,
        &new_name,
        &target.dbname,
        SwapOptions {
            force: request.options.force,
        },
    )?;
    phases.push(("swap", started.elapsed().as_secs_f64()));
    progress.line(&format!(
        "`{}` now holds an anonymised copy of `{}` ({} rows in {} tables)",
        target.dbname,
        request.source_name,
        copied.iter().map(|table| table.rows).sum::<u64>(),
        copied.len()
    ));
    // The replaced copy is dropped after the new one is live (DROP DATABASE forces a
    // checkpoint): in the background for the CLI, else here, timed on its own. A crash before
    // it is gone leaves `<target>__pp_old_<pid>`, which the next run's `drop_leftovers` removes.
    if let Some(old) = replaced {
        let started = Instant::now();
        let detached = request.options.drop_old_in_background
            && target::find_tool("psql", 0)
                .and_then(|psql| target::drop_in_background(&psql, target, &old))
                .is_ok();
        if detached {
            progress.line(&format!(
                "the replaced copy `{old}` is being dropped in the background"
            ));
        } else {
            target::drop_database(&mut admin, &old).with_context(|| {
                format!("the new data is in place, but dropping the old copy `{old}` failed")
            })?;
            phases.push(("drop-old", started.elapsed().as_secs_f64()));
        }
    }
    Ok((copied, phases, Written::Database(target.dbname.clone())))
}

/// Write the dump under a temporary name beside its place, renamed into place when complete.
fn into_file(
    steps: &Steps,
    mut coordinator: Client,
    to_file: &ToFile,
) -> Result<(Vec<TableCopied>, Phases, Written)> {
    let request = steps.request;
    let path = dumpfile::resolve_path(to_file.path.as_deref(), &to_file.dump)?;
    dumpfile::prune_expired(&to_file.dump, std::time::SystemTime::now())?;
    let writer = dumpfile::DumpWriter::create(&path, &request.source_name, &to_file.dump)?;
    let dump = DumpSink::new(writer, &request.policy_sha256, request.commit.as_deref())?;
    let (copied, mut phases) = build(steps, &mut coordinator, &Output::File(&dump), None)?;
    let started = Instant::now();
    let meta = dump.commit()?;
    phases.push(("rename", started.elapsed().as_secs_f64()));
    steps.progress.line(&format!(
        "wrote an anonymised dump of `{}` to `{}` ({} rows in {} tables); it expires {}",
        request.source_name,
        meta.file.display(),
        copied.iter().map(|table| table.rows).sum::<u64>(),
        copied.len(),
        dumpfile::format_utc(meta.expires)
    ));
    Ok((copied, phases, Written::File(meta.file)))
}

/// The three `pg_dump` reads of a database built from pg_dump's schema, in the snapshot: the
/// pre-data (piped into the new database), the post-data and the privileges (read into memory).
struct SchemaReads {
    pre_data: target::RunningDump,
    post_data: target::Pending<(String, Vec<target::DumpEntry>)>,
    privileges: target::Pending<String>,
}

impl SchemaReads {
    fn start(steps: &Steps) -> Result<SchemaReads> {
        let source = &steps.request.source;
        let (post_data, privileges) =
            target::start_schema_reads(&steps.pg_dump, source, steps.snapshot);
        Ok(SchemaReads {
            pre_data: target::RunningDump::start(
                &steps.pg_dump,
                source,
                Some(steps.snapshot),
                Section::PreData,
            )?,
            post_data,
            privileges,
        })
    }
}

/// The steps of every pull, in order, into either destination: schema, data (`jobs` workers in
/// the snapshot), post-data, sequences, materialized views.
fn build(
    steps: &Steps,
    coordinator: &mut Client,
    output: &Output,
    reads: Option<SchemaReads>,
) -> Result<(Vec<TableCopied>, Phases)> {
    let Steps {
        request,
        progress,
        snapshot,
        catalog,
        plan,
        ref pg_dump,
        jobs,
    } = *steps;
    let mut phases = Vec::new();
    let started = Instant::now();
    // A database built from pg_dump's schema also needs the post-data and the privileges: read
    // while the pre-data loads (all three started before the database was created,
    // `into_database`).
    let (pre_data, post_data, privileges_sql) = match reads {
        Some(reads) => (
            Some(reads.pre_data),
            Some(reads.post_data),
            Some(reads.privileges),
        ),
        None => (None, None, None),
    };
    let load = match (output, &request.schema, pre_data) {
        (Output::Database(new_settings), SchemaMode::PgDump, Some(pre_data)) => {
            pre_data.load(&target::find_tool("psql", 0)?, new_settings)?;
            LoadMode::Fresh
        }
        (Output::Database(_), SchemaMode::PgDump, None) => {
            bail!("the schema's pg_dump reads were not started before the new database")
        }
        (Output::Database(new_settings), SchemaMode::Migrations { command, dir }, _) => {
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
        // A dump file is pg_dump-compatible: its schema always comes from pg_dump.
        (Output::File(dump), _, _) => {
            dump.schema(pg_dump, &request.source, snapshot, Section::PreData)?;
            LoadMode::Fresh
        }
    };
    fault::point("after-pre-data");
    phases.push(("schema", started.elapsed().as_secs_f64()));

    let started = Instant::now();
    // A database built from pg_dump's schema gets each table's indexes and keys as soon as the
    // table is loaded, from a pool of index sessions, while the other tables still copy.
    let pool = match (output, post_data) {
        (Output::Database(new_settings), Some(post_data)) => {
            let (preamble, entries) = post_data.wait()?;
            let mut client = conn::connect_settings(new_settings, "the new dev database")?;
            let settings = postdata::IndexSettings::for_server(&mut client)?;
            drop(client);
            let tables: Vec<postdata::Table> = plan
                .iter()
                .map(|table| postdata::Table {
                    name: table.table.clone(),
                    bytes: table.estimated_bytes.max(0) as u64,
                    root: catalog.table(&table.table).and_then(|t| t.parent.clone()),
                })
                .collect();
            Some(postdata::Pool::start(
                &preamble,
                entries,
                &tables,
                new_settings,
                // No more index sessions than tables.
                jobs.min(plan.len().max(1)),
                &settings,
            )?)
        }
        _ => None,
    };
    let job = pipeline::CopyJob {
        source: &request.source,
        snapshot,
        salt: &request.salt,
        jobs,
        min_range_bytes: request
            .options
            .min_range_bytes
            .unwrap_or(pipeline::MIN_RANGE_BYTES),
    };
    let copied = match output {
        Output::Database(new_settings) => {
            let on_loaded = |table: &TableName, frozen: bool| match &pool {
                Some(pool) => pool.loaded(table, frozen),
                None => Ok(()),
            };
            let sink = pipeline::DatabaseSink {
                target: new_settings,
                load,
                on_loaded: Some(&on_loaded),
            };
            match pipeline::copy_tables(&job, plan, &sink, progress) {
                Ok(copied) => copied,
                // An index that failed while the copy ran is the real error (the copy only
                // stopped because of it, or failed on its own later).
                Err(err) => return Err(pool.and_then(postdata::Pool::abort).unwrap_or(err)),
            }
        }
        Output::File(dump) => pipeline::copy_tables(&job, plan, *dump, progress)?,
    };
    fault::point("after-data");
    phases.push(("data", started.elapsed().as_secs_f64()));

    let started = Instant::now();
    let mut privileges = target::Privileges::default();
    match (output, pool) {
        (Output::Database(_), Some(pool)) => pool.finish(&mut privileges)?,
        (Output::Database(_), None) => {}
        (Output::File(dump), _) => {
            dump.schema(pg_dump, &request.source, snapshot, Section::PostData)?
        }
    }
    fault::point("after-post-data");
    let sequences = target::read_sequences(coordinator, &catalog.sequences)?;
    let advanced = target::transformed_uses(&target::sequence_uses(coordinator)?, catalog, plan);
    match output {
        Output::Database(new_settings) => {
            let mut new_client = conn::connect_settings(new_settings, "the new dev database")?;
            target::set_sequences(&mut new_client, &sequences)?;
            target::advance_sequences(&mut new_client, &advanced)?;
            if let Some(sql) = privileges_sql {
                target::apply_privileges(&sql.wait()?, &mut new_client, &mut privileges)?;
                if let Some(line) = privileges.skipped_line() {
                    progress.line(&format!("note: {line}"));
                }
            }
            target::refresh_matviews(&mut new_client, &catalog.matviews)?;
            write_target_audit(&mut new_client, request, &copied)?;
        }
        Output::File(dump) => {
            let mut sql = String::from("\n--\n-- Sequences and materialized views\n--\n");
            for (sequence, last_value, is_called) in &sequences {
                sql.push_str(&target::setval_sql(sequence, *last_value, *is_called));
                sql.push('\n');
            }
            for use_ in &advanced {
                sql.push_str(&target::advance_sequence_sql(use_));
                sql.push('\n');
            }
            for matview in &catalog.matviews {
                sql.push_str(&target::refresh_sql(matview));
                sql.push('\n');
            }
            dump.sql(&sql)?;
        }
    }
    phases.push(("post-data", started.elapsed().as_secs_f64()));
    Ok((copied, phases))
}

/// G10: sample every column the policy keeps, in the snapshot `client` holds, and refuse when
/// the values look sensitive where the names did not say so. The refusal is check-policy's
/// diagnostic (file:line, code, column), never a value.
fn refuse_sensitive_values(
    client: &mut Client,
    request: &PullRequest,
    catalog: &Catalog,
) -> Result<()> {
    let policy = &request.policy;
    let samples = crate::sample::sample(client, policy, catalog, crate::sample::Scope::Kept)?;
    let context = crate::coverage::Context::default();
    let by_names = crate::coverage::check(policy, catalog, None, &context);
    let mut by_values: Vec<Diagnostic> =
        crate::coverage::check(policy, catalog, Some(&samples), &context)
            .into_iter()
            .filter(|diagnostic| diagnostic.is_error() && !by_names.contains(diagnostic))
            .collect();
    if by_values.is_empty() {
        return Ok(());
    }
    diag::sort(&mut by_values);
    let project_dir = request.options.project_dir.clone().unwrap_or_default();
    bail!(
        "refusing to pull from `{}`: sampled values of columns the policy keeps in clear look sensitive \
         (nothing was written):\n{}",
        request.source_name,
        diag::render(
            &by_values,
            &request.options.policy_sources,
            &project_dir,
            diag::Format::Human
        )
        .trim_end()
    )
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
        "plan: `{}` -> {} (nothing will be copied or written)",
        request.source_name,
        match &request.destination {
            Destination::Database(target) => format!("`{}`", target.dbname),
            Destination::File(to_file) => {
                match dumpfile::resolve_path(to_file.path.as_deref(), &to_file.dump) {
                    Ok(path) => format!("the file `{}`", path.display()),
                    Err(_) => "a dump file".to_string(),
                }
            }
        }
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
                format!("{column}: {}", crate::plan::strategy_name(&rule.strategy))
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
    // Durability: the load and the index sessions run with `synchronous_commit = off`; this
    // last transaction of the build commits synchronously, which flushes the WAL up to it, so
    // every row, index and key before it is on disk before the swap (itself a synchronous
    // commit on the admin session) and before the success line.
    client
        .batch_execute("SET synchronous_commit = on")
        .context("failed to set up the audit session")?;
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

fn write_local_audit(
    request: &PullRequest,
    written: &Written,
    copied: &[TableCopied],
) -> Result<()> {
    let path = match &request.options.audit_log {
        Some(path) => path.clone(),
        None => config::state_dir()?.join("audit.log"),
    };
    let mut entry = serde_json::json!({
        "pulled_at_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "who": who(),
        "source": request.source_name,
        "policy_sha256": request.policy_sha256,
        "commit": request.commit,
        "rows": audit_rows(copied),
    });
    // A database pull names its database; a dump names its file and no database at all.
    let (key, value) = match written {
        Written::Database(name) => ("target", name.clone()),
        Written::File(path) => ("file", path.display().to_string()),
    };
    entry[key] = serde_json::Value::from(value);
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
    /// The configured source to read (`production` by default).
    pub from: String,
    /// `--to-file [PATH]`: write an anonymised SQL file instead of loading the dev database.
    pub to_file: Option<Option<PathBuf>>,
    pub pull: PullOptions,
}

/// With the project's configuration (loaded once by the command, with its diagnostics), read
/// the policy, refuse what must be refused (before a single row is read), then pull.
pub fn pull_prod(
    config: &Config,
    config_diagnostics: &[Diagnostic],
    options: &PullProdOptions,
) -> Result<PullSummary> {
    if config_diagnostics.iter().any(Diagnostic::is_error) {
        let mut sources = Sources::new();
        sources.insert(config.manifest_path.clone(), config.manifest_text.clone());
        bail!(
            "refusing to pull: the `[{}]` table has errors:\n{}",
            config.table_name,
            diag::render(
                config_diagnostics,
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
    let reviewed = gate::read_reviewed(config);
    let is_production = reviewed
        .as_ref()
        .map_or(true, |reviewed| reviewed.is_production(source_name));
    let mut unreviewed = None;
    let (config, bytes, commit) = match reviewed {
        Ok(reviewed) if is_production => {
            let differences = gate::differences(config, &reviewed);
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
                (Cow::Owned(reviewed.config), reviewed.bytes, commit)
            } else if options.pull.plan_only {
                unreviewed = Some(format!(
                    "differs from `{}`: {}",
                    reviewed.review_ref,
                    differences.join(", ")
                ));
                let bytes = gate::PolicyBytes::working_copy(config)?;
                (Cow::Borrowed(config), bytes, None)
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
            let bytes = gate::PolicyBytes::working_copy(config)?;
            let commit = gate::head_commit(&config.project_dir);
            (Cow::Borrowed(config), bytes, commit)
        }
        Err(err) if options.pull.plan_only => {
            unreviewed = Some(format!("{err:#}"));
            let bytes = gate::PolicyBytes::working_copy(config)?;
            (Cow::Borrowed(config), bytes, None)
        }
        Err(err) => bail!(
            "refusing to pull from `{source_name}`, a production source (only sources the reviewed manifest \
             marks `production = false` are not): {err:#}"
        ),
    };
    let config: &Config = &config;
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
    let destination = match &options.to_file {
        // A dump file needs no dev database.
        Some(path) => Destination::File(ToFile {
            path: path.clone(),
            dump: dumpfile::DumpOptions::from_config(config),
        }),
        None => {
            let target_url = config
                .target
                .as_ref()
                .ok_or_else(|| {
                    anyhow!(
                        "no dev database configured: set `target = \"env:DATABASE_URL\"` in `[{}]`",
                        config.table_name
                    )
                })?
                .resolve()
                .context("cannot find the dev database's connection settings")?;
            Destination::Database(
                Settings::parse(&target_url)
                    .context("invalid connection settings for the dev database")?,
            )
        }
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

    let mut client = conn::open_source(&source, source_name)?;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .pg_context("failed to start a read-only transaction on the source")?;
    let catalog = schema::load(&mut client)?;
    // The policy must pass check-policy against the live source schema, the sampled fit
    // checks included (G11), with this salt too: the same findings at the same lines.
    let (policy, mut diagnostics, sources) = check::check_files(config, files, &catalog);
    let found = crate::fit::check(&mut client, &policy, &catalog, Some(&salt))?;
    crate::fit::merge(&mut diagnostics, found);
    if diagnostics.iter().any(Diagnostic::is_error) {
        bail!(
            "refusing to pull from `{source_name}`: the policy does not pass check-policy against its schema:\n{}",
            diag::render(
                &diagnostics,
                &sources,
                &config.project_dir,
                diag::Format::Human
            )
            .trim_end()
        );
    }
    drop(client);
    let request = PullRequest {
        source_name: source_name.to_string(),
        source,
        destination,
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
            unreviewed: if is_production { unreviewed } else { None },
            policy_sources: files
                .iter()
                .map(|file| (file.path.clone(), file.text.clone()))
                .collect(),
            project_dir: Some(config.project_dir.clone()),
            ..options.pull.clone()
        },
    };
    if let Destination::Database(target) = &request.destination {
        // Every other configured source is protected too (a staging pull into production).
        crate::guard::refuse_protected(
            &crate::guard::configured_sources(config, Some(source_name)),
            target,
            "pull",
        )?;
    }
    let summary = run(&request)?;
    if source_name == "staging" && !request.options.plan_only {
        record_staging_run(&config.project, &policy_sha256)?;
    }
    Ok(summary)
}

fn staging_runs_file(project: &str) -> Result<PathBuf> {
    Ok(config::state_dir()?.join(format!("{project}.staging-runs")))
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

/// A machine-readable summary of a finished pull (`PULLPROD_SUMMARY_JSON`), for the benchmark
/// and tests: phases, rows, and what each copy worker did.
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
        "tables": summary.copied.iter().map(|t| serde_json::json!({"table": t.table.to_string(), "rows": t.rows, "bytes": t.bytes, "worker": t.worker, "started_at": t.started_at, "finished_at": t.finished_at, "units": t.units})).collect::<Vec<_>>(),
        "workers": (0..summary.workers).map(|worker| {
            let tables = summary.copied.iter().filter(|t| t.worker == worker);
            serde_json::json!({
                "worker": worker,
                "tables": tables.clone().count(),
                "rows": tables.map(|t| t.rows).sum::<u64>(),
            })
        }).collect::<Vec<_>>(),
        "written": match &summary.written {
            Some(Written::Database(name)) => serde_json::json!({"database": name}),
            Some(Written::File(path)) => serde_json::json!({"file": path.display().to_string()}),
            None => serde_json::Value::Null,
        },
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
