//! `seed-dev`: fill the dev database without production access, from the newest unexpired
//! anonymised dump or with synthetic rows generated from the schema and the policy's strategies.
//! Built under a temporary name and swapped in like a pull (G5).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use postgres::{Client, Statement};

use crate::checkexpr::{self, Fact, Ordinal, Shape};
use crate::conn::{self, Settings};
use crate::dumpfile::{self, DumpOptions};
use crate::pgerror::PgContext;
use crate::policy::model::{Policy, Rule, Strategy, TableAction, TableName};
use crate::progress::Phases;
use crate::progress::TableProgress;
use crate::rowcodec::text;
use crate::schema::{self, Catalog, Column, Table, TableKind};
use crate::sql::quote_ident;
use crate::sqltype::{BaseType, SqlType};
use crate::target::{self, DatabaseLocale, Section, SwapOptions};
use crate::transform::{ColumnTransform, Format, Salt, Written};

/// Rows per table when neither `--rows` nor the policy's `rows` says.
pub const DEFAULT_ROWS: u64 = 100;

/// Where the schema of a synthetic seed comes from.
// Built once per command: the size of `Settings` does not matter here.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum SchemaSource {
    /// A folder of `.sql` migration files, applied in file-name order.
    Migrations(PathBuf),
    /// `--schema-from URL`: `pg_dump --schema-only` of this database (only the schema is read).
    Database(Settings),
    /// The project's migrations command (`schema = "…"` in the configuration), run by `sh -c`
    /// in `dir` with `DATABASE_URL` (and the `PG*` variables) naming the new database.
    Command { command: String, dir: PathBuf },
}

/// Everything `seed-dev` needs, resolved by the caller.
#[derive(Debug, Clone)]
pub struct SeedRequest {
    pub target: Settings,
    pub policy: Policy,
    /// Key for the policy's pseudonymising strategies used as generators.
    pub salt: Salt,
    /// Where the schema comes from for synthetic rows; `None`: only a dump can be loaded.
    pub schema: Option<SchemaSource>,
    /// Databases never written: the configured sources (and `--schema-from`), see `guard`.
    pub protected: Vec<crate::guard::Protected>,
    /// Where the project's anonymised dumps are; `None`: never load a dump.
    pub dumps: Option<DumpOptions>,
    pub options: SeedOptions,
}

#[derive(Debug, Clone, Default)]
pub struct SeedOptions {
    /// Generate synthetic rows even when an unexpired dump exists.
    pub synthetic: bool,
    /// `--rows N`: rows per table, unless the policy gives the table its own `rows`.
    pub rows: Option<u64>,
    /// Close other sessions on the dev database when swapping.
    pub force: bool,
    /// No progress output (tests).
    pub quiet: bool,
    /// A table left without rows is an error instead of a warning.
    pub strict: bool,
    /// Allow a dev database that is not on this machine.
    pub allow_remote_target: bool,
}

/// Generated rows of a table that a constraint rejected (every variant tried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub table: TableName,
    /// The constraint's name, or `not-null \`column\``, or the SQLSTATE.
    pub constraint: String,
    pub rows: u64,
}

/// What `seed-dev` did.
#[derive(Debug, Clone, Default)]
pub struct SeedSummary {
    /// The dump that was loaded, if one was.
    pub from_dump: Option<PathBuf>,
    /// Synthetic rows per table: (table, inserted, generated rows that no variant could fit
    /// into the table's constraints and were left out). A table the schema step already
    /// filled (reference data inserted by migrations) is kept as it is and shows (0, 0).
    pub tables: Vec<(TableName, u64, u64)>,
    /// Dumps pruned because they had expired.
    pub pruned: Vec<PathBuf>,
    /// Rows left out, by table and constraint.
    pub rejected: Vec<Rejected>,
    /// Tables that were to get rows and got none (warnings; errors with `--strict`).
    pub empty: Vec<TableName>,
    /// Seconds per phase: checks and new database, then schema, rows, cycles and foreign keys,
    /// indexes and statistics (synthetic) or dump, then swap.
    pub phases: Phases,
}

/// Seed the dev database: build a new one under a temporary name and swap it in.
pub fn run(request: &SeedRequest) -> Result<SeedSummary> {
    // Nothing is written anywhere before the target is known not to be a source.
    let mut started = Instant::now();
    crate::guard::refuse_remote_target(&request.target, request.options.allow_remote_target)?;
    let mut protected = request.protected.clone();
    if let Some(SchemaSource::Database(settings)) = &request.schema {
        protected.push(crate::guard::Protected {
            name: "--schema-from".into(),
            settings: settings.clone(),
        });
    }
    crate::guard::refuse_protected(&protected, &request.target, "seed the dev database")?;
    let progress = TableProgress::new(request.options.quiet);
    let mut summary = SeedSummary::default();
    let now = SystemTime::now();
    let dump = match &request.dumps {
        Some(dumps) => {
            summary.pruned = dumpfile::prune_expired(dumps, now)?;
            if request.options.synthetic {
                None
            } else {
                dumpfile::newest_unexpired(dumps, now)?
            }
        }
        None => None,
    };
    if dump.is_none() && request.schema.is_none() {
        bail!(
            "seed-dev found no unexpired anonymised dump of the project and needs the schema to generate rows: \
             pass `--schema-from URL`, add a `migrations/` folder, or set `schema = {{ command = \"…\" }}` \
             in `[package.metadata.dump]`"
        );
    }

    let mut admin = target::connect_admin(&request.target)?;
    for name in target::drop_leftovers(&mut admin, &request.target.dbname)? {
        progress.line(&format!(
            "dropped `{name}`, left over by an interrupted run"
        ));
    }
    let new_name = target::temp_name(&request.target.dbname, "new", std::process::id());
    let new_settings = request.target.with_dbname(&new_name);
    let locale = target_locale(&mut admin, &request.target.dbname)?;
    target::create_database(&mut admin, &new_name, &locale)?;
    let created = lap(&mut started);

    let built = match &dump {
        Some(meta) => {
            progress.line(&format!(
                "loading the anonymised dump `{}` (expires {})",
                meta.file.display(),
                dumpfile::format_utc(meta.expires)
            ));
            dumpfile::load_into(&meta.file, &new_settings).map(|()| Seeded::default())
        }
        None => synthetic(request, &new_settings, &progress),
    };
    let built = built.and_then(|seeded| {
        if request.options.strict && !seeded.empty.is_empty() {
            bail!(
                "refusing with `--strict`: {} table(s) got no rows: {}",
                seeded.empty.len(),
                names(&seeded.empty)
            );
        }
        Ok(seeded)
    });
    let seeded = match built {
        Ok(seeded) => seeded,
        Err(err) => {
            target::drop_quietly(&mut admin, &new_name);
            return Err(err.context("nothing was changed: the dev database is as it was"));
        }
    };
    let built_seconds = lap(&mut started);
    target::swap_in_or_drop(
        &mut admin,
        &new_name,
        &request.target.dbname,
        SwapOptions {
            force: request.options.force,
        },
    )?;
    summary.from_dump = dump.map(|meta| meta.file);
    summary.tables = seeded.tables;
    summary.rejected = seeded.rejected;
    summary.empty = seeded.empty;
    summary.phases = vec![("checks and new database", created)];
    if seeded.phases.is_empty() {
        summary.phases.push(("dump", built_seconds));
    }
    summary.phases.extend(seeded.phases);
    summary.phases.push(("swap", lap(&mut started)));
    let rows: u64 = summary.tables.iter().map(|(_, rows, _)| rows).sum();
    progress.line(&match &summary.from_dump {
        Some(file) => format!(
            "`{}` now holds the anonymised dump `{}`",
            request.target.dbname,
            file.display()
        ),
        None => format!(
            "`{}` now holds {rows} synthetic rows in {} tables",
            request.target.dbname,
            summary.tables.len()
        ),
    });
    Ok(summary)
}

/// Rows for a table: the policy's `rows`, else `--rows`, else `DEFAULT_ROWS`; a `skip` table
/// gets none unless the policy gives it `rows`. A partition follows its parent's entry.
pub fn rows_for(policy: &Policy, catalog: &Catalog, table: &TableName, rows: Option<u64>) -> u64 {
    match crate::plan::table_rule(policy, catalog, table) {
        Some(rule) if rule.seed_rows.is_some() => rule.seed_rows.unwrap_or(0),
        Some(rule) if rule.action == TableAction::Skip => 0,
        _ => rows.unwrap_or(DEFAULT_ROWS),
    }
}

/// The schema (foreign keys and secondary indexes set aside), then every table's rows in
/// foreign-key order by parallel sessions, then cycle-closing updates, the foreign keys back,
/// sequences, materialized views, the secondary indexes and statistics.
fn synthetic(
    request: &SeedRequest,
    new_settings: &Settings,
    progress: &TableProgress,
) -> Result<Seeded> {
    let Some(schema) = &request.schema else {
        bail!("no schema source for synthetic rows");
    };
    let mut seeded = Seeded::default();
    let mut started = Instant::now();
    match schema {
        SchemaSource::Migrations(dir) => apply_migrations(dir, new_settings)?,
        SchemaSource::Command { command, dir } => {
            run_migrations_command(command, dir, new_settings)?
        }
        SchemaSource::Database(source) => {
            let source_major = {
                let mut client = conn::connect_settings(source, "the `--schema-from` database")?;
                conn::make_read_only(&mut client)?;
                target::server_major(&mut client)?
            };
            let pg_dump = target::find_tool("pg_dump", source_major)?;
            let psql = target::find_tool("psql", 0)?;
            for section in [Section::PreData, Section::PostData] {
                target::pipe_schema(&pg_dump, &psql, source, None, section, new_settings)?;
            }
        }
    }
    let mut client = conn::connect_settings(new_settings, "the new dev database")?;
    // The new database is swapped in only when complete: no commit needs to wait for disk.
    client
        .batch_execute("SET synchronous_commit = off")
        .pg_context("failed to set up the session on the new database")?;
    let catalog = schema::load(&mut client)?;
    let order = insertion_order(&catalog);
    // Foreign keys are checked once per constraint after the load, not once per row: generated
    // values come from the referenced rows, and what does not hold is reported then.
    let foreign_keys = drop_foreign_keys(&mut client)?;

    let constraints = load_constraints(&mut client)?;
    // Secondary indexes are built once after the load, not maintained row by row.
    let indexes = drop_secondary_indexes(&mut client)?;
    seeded.phases.push(("schema", lap(&mut started)));

    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
        - SECONDS_1970_TO_2000;
    let load = Load {
        request,
        catalog: &catalog,
        order: &order,
        constraints: &constraints,
        now,
        indexes: &indexes,
    };
    let (loads, mut sessions) = load.run(new_settings, load_jobs())?;
    for (name, outcome) in order.tables.iter().zip(loads) {
        for (constraint, rows) in outcome.rejected {
            progress.line(&format!(
                "warning: `{name}`: {rows} generated rows broke `{constraint}` and were left out"
            ));
            seeded.rejected.push(Rejected {
                table: name.clone(),
                constraint,
                rows,
            });
        }
        if outcome.wanted > 0 && outcome.inserted == 0 {
            progress.line(&format!("warning: `{name}` got no rows"));
            seeded.empty.push(name.clone());
        }
        seeded
            .tables
            .push((name.clone(), outcome.inserted, outcome.left_out));
    }
    seeded.phases.push(("rows", lap(&mut started)));
    for deferred in &order.deferred {
        close_cycle(&mut client, deferred)?;
    }
    for (table, constraint, rows) in
        restore_foreign_keys(&mut client, &mut sessions, foreign_keys, &order)?
    {
        progress.line(&format!(
            "warning: `{table}`: {rows} generated rows broke `{constraint}` and were left out"
        ));
        if let Some(entry) = seeded.tables.iter_mut().find(|entry| entry.0 == table) {
            entry.1 = entry.1.saturating_sub(rows);
            entry.2 += rows;
            if entry.1 == 0 && !seeded.empty.contains(&table) {
                seeded.empty.push(table.clone());
            }
        }
        seeded.rejected.push(Rejected {
            table,
            constraint,
            rows,
        });
    }
    seeded
        .phases
        .push(("cycles and foreign keys", lap(&mut started)));
    set_sequences(&mut client, &catalog)?;
    target::refresh_matviews(&mut client, &catalog.matviews)?;
    // Statistics of what changed since its table was analysed: tables whose deferred keys were
    // just filled or whose rows broke a key, and the materialized views.
    sessions.push(client);
    let analyze: Vec<String> = order
        .tables
        .iter()
        .filter(|name| {
            !analysed_while_loading(&order, name)
                || seeded.rejected.iter().any(|r| &r.table == *name)
        })
        .chain(&catalog.matviews)
        .map(|name| format!("ANALYZE {}", name.quoted()))
        .collect();
    run_parallel(&mut sessions, &analyze).context("failed to analyse the new database")?;
    seeded
        .phases
        .push(("sequences and statistics", lap(&mut started)));
    seeded.tables.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(seeded)
}

/// Whether a table is analysed as soon as its rows are in: not when a deferred key of it is
/// filled afterwards (its statistics would say those columns are all NULL).
fn analysed_while_loading(order: &InsertionOrder, table: &TableName) -> bool {
    !order.deferred.iter().any(|key| &key.table == table)
}

/// Sessions filling tables at once: each generates a table's rows and loads them while the
/// others do the same with theirs.
/// One more than the cores: the server does most of the work, and a session generating its
/// next batch or waiting for a round trip leaves a core to another.
fn load_jobs() -> usize {
    (std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get) + 1).clamp(2, 8)
}

/// What one table got.
#[derive(Debug, Default)]
struct TableLoad {
    /// Rows the table was to get (0: prefilled by the schema step, or none asked for).
    wanted: u64,
    inserted: u64,
    left_out: u64,
    rejected: BTreeMap<String, u64>,
}

/// The tables' rows, loaded by several sessions: a table starts once every table its
/// (not deferred) foreign keys reference is in and its keys are read back. A table's rows
/// depend only on its own definition and those keys, so the result is the same whatever the
/// number of sessions and whichever finishes first.
struct Load<'a> {
    request: &'a SeedRequest,
    catalog: &'a Catalog,
    order: &'a InsertionOrder,
    constraints: &'a Constraints,
    now: i64,
    /// Secondary indexes to build once a table is loaded, by the table rows go into.
    indexes: &'a HashMap<TableName, Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Running,
    Done,
}

#[derive(Default)]
struct LoadState {
    status: Vec<Status>,
    keys: GeneratedKeys,
    outcomes: Vec<Option<TableLoad>>,
    error: Option<anyhow::Error>,
}

impl Load<'_> {
    /// Per table (in `order`) what it got, and the sessions, open for the steps after.
    fn run(&self, settings: &Settings, jobs: usize) -> Result<(Vec<TableLoad>, Vec<Client>)> {
        let tables = &self.order.tables;
        let position: HashMap<&TableName, usize> =
            tables.iter().enumerate().map(|(idx, t)| (t, idx)).collect();
        let deps: Vec<Vec<usize>> = tables
            .iter()
            .enumerate()
            .map(|(idx, name)| {
                let table = self
                    .catalog
                    .table(name)
                    .expect("ordered tables are in the catalog");
                let mut deps: Vec<usize> = table
                    .foreign_keys
                    .iter()
                    .filter(|fk| {
                        !self
                            .order
                            .deferred
                            .iter()
                            .any(|d| d.table == *name && d.columns == fk.columns)
                    })
                    .filter_map(|fk| position.get(&fk.referenced_table).copied())
                    .filter(|&dep| dep < idx)
                    .collect();
                deps.sort_unstable();
                deps.dedup();
                deps
            })
            .collect();
        let state = Mutex::new(LoadState {
            status: vec![Status::Waiting; tables.len()],
            outcomes: (0..tables.len()).map(|_| None).collect(),
            ..LoadState::default()
        });
        let changed = Condvar::new();
        let referenced = referenced_keys(self.catalog);
        let sessions: Vec<Result<Client>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..jobs.max(1))
                .map(|_| {
                    scope.spawn(|| {
                        match self.worker(settings, &deps, &referenced, &state, &changed) {
                            Ok(client) => Ok(client),
                            Err(err) => {
                                // The first failure is the one reported; the others stop.
                                let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                                state.error.get_or_insert(err);
                                changed.notify_all();
                                Err(anyhow!("stopped"))
                            }
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| {
                    worker.join().unwrap_or_else(|_| {
                        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                        state
                            .error
                            .get_or_insert_with(|| anyhow!("a seeding worker panicked"));
                        changed.notify_all();
                        Err(anyhow!("a seeding worker panicked"))
                    })
                })
                .collect()
        });
        let state = state.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(err) = state.error {
            return Err(err);
        }
        let sessions = sessions.into_iter().collect::<Result<Vec<Client>>>()?;
        let outcomes = state
            .outcomes
            .into_iter()
            .map(|outcome| outcome.expect("every table was loaded"))
            .collect();
        Ok((outcomes, sessions))
    }

    fn worker(
        &self,
        settings: &Settings,
        deps: &[Vec<usize>],
        referenced: &HashMap<TableName, Vec<Vec<String>>>,
        state: &Mutex<LoadState>,
        changed: &Condvar,
    ) -> Result<Client> {
        let mut client = conn::connect_settings(settings, "the new dev database")?;
        client
            .batch_execute("SET synchronous_commit = off")
            .pg_context("failed to set up the session on the new database")?;
        let tables = &self.order.tables;
        loop {
            let (idx, keys) = {
                let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if state.error.is_some() {
                        return Ok(client);
                    }
                    let ready = (0..tables.len()).find(|&idx| {
                        state.status[idx] == Status::Waiting
                            && deps[idx]
                                .iter()
                                .all(|&dep| state.status[dep] == Status::Done)
                    });
                    if let Some(idx) = ready {
                        state.status[idx] = Status::Running;
                        let keys: GeneratedKeys = state
                            .keys
                            .iter()
                            .filter(|((table, _), _)| {
                                deps[idx].iter().any(|&dep| &tables[dep] == table)
                            })
                            .map(|(key, rows)| (key.clone(), Arc::clone(rows)))
                            .collect();
                        break (idx, keys);
                    }
                    if !state.status.contains(&Status::Waiting) {
                        return Ok(client);
                    }
                    state = changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
            };
            let (outcome, read) = self.load_table(&mut client, &tables[idx], &keys, referenced)?;
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            state.keys.extend(read);
            state.outcomes[idx] = Some(outcome);
            state.status[idx] = Status::Done;
            changed.notify_all();
        }
    }

    /// Generate and load one table's rows, then read back the keys other tables reference.
    fn load_table(
        &self,
        client: &mut Client,
        name: &TableName,
        keys: &GeneratedKeys,
        referenced: &HashMap<TableName, Vec<Vec<String>>>,
    ) -> Result<(TableLoad, GeneratedKeys)> {
        let table = self
            .catalog
            .table(name)
            .expect("ordered tables are in the catalog");
        // Reference data the migrations inserted (countries, currencies…) is used as it is.
        let wanted = if has_rows(client, name)? {
            0
        } else {
            rows_for(
                &self.request.policy,
                self.catalog,
                name,
                self.request.options.rows,
            )
        };
        let shapes = table_shapes(table, self.constraints, self.now);
        let generator = TableGenerator::new(
            self.request,
            self.catalog,
            table,
            &self.order.deferred,
            keys,
            shapes,
        )?;
        let (inserted, left_out, rejected) = generator.load(client, wanted)?;
        let mut read = GeneratedKeys::new();
        for columns in referenced.get(name).into_iter().flatten() {
            read.insert(
                (name.clone(), columns.clone()),
                Arc::new(read_keys(client, name, columns)?),
            );
        }
        // Its secondary indexes and statistics now, while other sessions load other tables;
        // a table whose deferred keys are filled later is analysed after that.
        let mut after = String::new();
        for definition in self.indexes.get(name).into_iter().flatten() {
            after.push_str(definition);
            after.push_str(";\n");
        }
        if analysed_while_loading(self.order, name) {
            after.push_str(&format!("ANALYZE {}", name.quoted()));
        }
        if !after.is_empty() {
            client.batch_execute(&after).pg_with_context(|| {
                format!("failed to build the indexes and statistics of `{name}`")
            })?;
        }
        Ok((
            TableLoad {
                wanted,
                inserted,
                left_out,
                rejected,
            },
            read,
        ))
    }
}

/// Run the statements (each may hold several), spread over the sessions; fails with the
/// first statement that failed.
fn run_parallel(sessions: &mut [Client], statements: &[String]) -> Result<()> {
    match run_each(sessions, statements)
        .into_iter()
        .find_map(Result::err)
    {
        Some(message) => Err(anyhow!(message)),
        None => Ok(()),
    }
}

/// Run every statement, spread over the sessions: each one's outcome (the server's message).
fn run_each(sessions: &mut [Client], statements: &[String]) -> Vec<Result<(), String>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Result<(), String>>> =
        Mutex::new(vec![Err("not run".to_string()); statements.len()]);
    std::thread::scope(|scope| {
        for client in sessions.iter_mut() {
            let (next, outcomes) = (&next, &outcomes);
            scope.spawn(move || {
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(statement) = statements.get(idx) else {
                        break;
                    };
                    let outcome = client
                        .batch_execute(statement)
                        .map_err(|err| crate::pgerror::message(&err));
                    outcomes.lock().unwrap_or_else(|e| e.into_inner())[idx] = outcome;
                }
            });
        }
    });
    outcomes.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Drop the indexes nothing during the load needs: not unique (unique ones reject duplicate
/// generated values, which are then retried), backing no constraint, on ordinary tables or
/// leaf partitions but not attached to a partitioned index, with no comment, tablespace,
/// clustering or extension of their own (what `pg_get_indexdef` would not bring back).
/// Returns their definitions by the table rows go into (a partition's root).
fn drop_secondary_indexes(client: &mut Client) -> Result<HashMap<TableName, Vec<String>>> {
    let rows = client
        .query(
            "SELECT format('DROP INDEX %I.%I', n.nspname, ic.relname), pg_get_indexdef(i.indexrelid), \
                    rn.nspname::text, r.relname::text \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_class r ON r.oid = coalesce(pg_partition_root(c.oid), c.oid) \
             JOIN pg_namespace rn ON rn.oid = r.relnamespace \
             WHERE c.relkind = 'r' AND ic.relkind = 'i' AND NOT i.indisunique AND NOT i.indisclustered \
               AND NOT i.indisreplident AND ic.reltablespace = 0 \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
               AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) \
               AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid = i.indexrelid) \
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = i.indexrelid AND d.deptype = 'e') \
             ORDER BY i.indexrelid",
            &[],
        )
        .pg_context("failed to read the indexes of the new database")?;
    let mut drops = String::new();
    let mut indexes: HashMap<TableName, Vec<String>> = HashMap::new();
    for row in &rows {
        drops.push_str(row.get::<_, &str>(0));
        drops.push_str(";\n");
        indexes
            .entry(TableName::new(row.get::<_, &str>(2), row.get::<_, &str>(3)))
            .or_default()
            .push(row.get(1));
    }
    if !drops.is_empty() {
        client
            .batch_execute(&drops)
            .pg_context("failed to set the secondary indexes aside for the load")?;
    }
    Ok(indexes)
}

/// What the synthetic step (or a dump) put into the new database.
#[derive(Debug, Default)]
struct Seeded {
    phases: Phases,
    tables: Vec<(TableName, u64, u64)>,
    rejected: Vec<Rejected>,
    empty: Vec<TableName>,
}

/// Seconds since `started`, which moves to now.
fn lap(started: &mut Instant) -> f64 {
    let seconds = started.elapsed().as_secs_f64();
    *started = Instant::now();
    seconds
}

fn names(tables: &[TableName]) -> String {
    tables
        .iter()
        .map(|table| format!("`{table}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

const SECONDS_1970_TO_2000: i64 = 946_684_800;

/// CHECK constraints of tables and of their columns' domains, and the partition constraint of
/// every leaf partition, as facts.
#[derive(Debug, Default)]
struct Constraints {
    checks: HashMap<TableName, Vec<Fact>>,
    /// For a partitioned table: the facts of each leaf partition (all levels).
    leaves: HashMap<TableName, Vec<Vec<Fact>>>,
}

fn load_constraints(client: &mut Client) -> Result<Constraints> {
    let mut constraints = Constraints::default();
    let table_name =
        |row: &postgres::Row| TableName::new(row.get::<_, &str>(0), row.get::<_, &str>(1));
    let checks = client
        .query(
            "SELECT n.nspname::text, c.relname::text, pg_get_constraintdef(k.oid) FROM pg_constraint k \
             JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE k.contype = 'c' AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
            &[],
        )
        .pg_context("failed to read the CHECK constraints of the new database")?;
    for row in &checks {
        let facts = checkexpr::read(row.get(2));
        constraints
            .checks
            .entry(table_name(row))
            .or_default()
            .extend(facts);
    }
    let domains = client
        .query(
            "WITH RECURSIVE d(typ, dom) AS ( \
                 SELECT oid, oid FROM pg_type WHERE typtype = 'd' \
                 UNION ALL SELECT d.typ, t.typbasetype FROM d JOIN pg_type t ON t.oid = d.dom \
                 JOIN pg_type b ON b.oid = t.typbasetype WHERE b.typtype = 'd') \
             SELECT n.nspname::text, c.relname::text, a.attname::text, pg_get_constraintdef(k.oid) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN d ON d.typ = a.atttypid \
             JOIN pg_constraint k ON k.contypid = d.dom AND k.contype = 'c' \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
            &[],
        )
        .pg_context("failed to read the domain constraints of the new database")?;
    for row in &domains {
        let facts = checkexpr::for_column(&checkexpr::read(row.get(3)), row.get(2));
        constraints
            .checks
            .entry(table_name(row))
            .or_default()
            .extend(facts);
    }
    let leaves = client
        .query(
            "SELECT rn.nspname::text, r.relname::text, pg_get_partition_constraintdef(c.oid) \
             FROM pg_class c JOIN pg_class r ON r.oid = pg_partition_root(c.oid) \
             JOIN pg_namespace rn ON rn.oid = r.relnamespace \
             WHERE c.relispartition AND c.relkind = 'r' ORDER BY c.oid",
            &[],
        )
        .pg_context("failed to read the partitions of the new database")?;
    for row in &leaves {
        let definition: Option<String> = row.get(2);
        let facts = definition
            .as_deref()
            .map(checkexpr::read)
            .unwrap_or_default();
        constraints
            .leaves
            .entry(table_name(row))
            .or_default()
            .push(facts);
    }
    Ok(constraints)
}

/// A foreign key dropped for the load, to be added back after it.
struct DroppedKey {
    table: TableName,
    name: String,
    definition: String,
    columns: Vec<String>,
    /// `regclass` text of the referenced table.
    referenced: String,
    referenced_columns: Vec<String>,
    /// Every referencing column is nullable: violations become NULL instead of leaving out rows.
    nullable: bool,
    /// On or referencing a partitioned table: added back the plain way (no `NOT VALID`).
    partitioned: bool,
}

fn drop_foreign_keys(client: &mut Client) -> Result<Vec<DroppedKey>> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, k.conname::text, pg_get_constraintdef(k.oid), \
                    array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o) \
                          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o), \
                    k.confrelid::regclass::text, \
                    array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o) \
                          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o), \
                    NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = k.conrelid \
                                AND a.attnum = ANY (k.conkey) AND a.attnotnull), \
                    c.relkind = 'p' OR EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = k.confrelid AND r.relkind = 'p') \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE k.contype = 'f' AND k.conparentid = 0 ORDER BY k.oid",
            &[],
        )
        .pg_context("failed to read the foreign keys of the new database")?;
    let mut dropped = Vec::new();
    let mut drops = String::new();
    for row in &rows {
        let key = DroppedKey {
            table: TableName::new(row.get::<_, &str>(0), row.get::<_, &str>(1)),
            name: row.get(2),
            definition: row.get(3),
            columns: row.get(4),
            referenced: row.get(5),
            referenced_columns: row.get(6),
            nullable: row.get(7),
            partitioned: row.get(8),
        };
        drops.push_str(&format!(
            "ALTER TABLE {} DROP CONSTRAINT {};\n",
            key.table.quoted(),
            quote_ident(&key.name)
        ));
        dropped.push(key);
    }
    // One round trip for all of them.
    if !drops.is_empty() {
        client
            .batch_execute(&drops)
            .pg_context("failed to set the foreign keys aside for the load")?;
    }
    Ok(dropped)
}

/// Add the foreign keys back. Generated keys come from the referenced rows, so they usually
/// hold: every key is added `NOT VALID` and validated, in parallel sessions. When one does not
/// hold, those keys are dropped again and all are added one by one in insertion order, rows
/// whose key has no referenced row getting NULL (nullable keys) or deleted before the tables
/// referencing them get their keys: (table, constraint, rows deleted).
fn restore_foreign_keys(
    client: &mut Client,
    sessions: &mut [Client],
    mut keys: Vec<DroppedKey>,
    order: &InsertionOrder,
) -> Result<Vec<(TableName, String, u64)>> {
    let rank = |table: &TableName| {
        order
            .tables
            .iter()
            .position(|t| t == table)
            .unwrap_or(usize::MAX)
    };
    keys.sort_by_key(|key| rank(&key.table));
    let (fast, plain): (Vec<&DroppedKey>, Vec<&DroppedKey>) =
        keys.iter().partition(|key| !key.partitioned);
    // A key the schema itself left `NOT VALID` is added back as it was, and not validated.
    let unvalidated = |key: &DroppedKey| key.definition.ends_with(" NOT VALID");
    let add_not_valid: String = fast
        .iter()
        .map(|key| {
            format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {}{};\n",
                key.table.quoted(),
                quote_ident(&key.name),
                key.definition,
                if unvalidated(key) { "" } else { " NOT VALID" }
            )
        })
        .collect();
    client
        .batch_execute(&add_not_valid)
        .pg_context("failed to add the foreign keys back")?;
    let validate: Vec<String> = fast
        .iter()
        .filter(|key| !unvalidated(key))
        .map(|key| {
            format!(
                "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                key.table.quoted(),
                quote_ident(&key.name)
            )
        })
        .collect();
    let all_hold = run_each(sessions, &validate).iter().all(Result::is_ok);
    let one_by_one: Vec<&DroppedKey> = if all_hold {
        plain
    } else {
        let drop_again: String = fast
            .iter()
            .map(|key| {
                format!(
                    "ALTER TABLE {} DROP CONSTRAINT {};\n",
                    key.table.quoted(),
                    quote_ident(&key.name)
                )
            })
            .collect();
        client
            .batch_execute(&drop_again)
            .pg_context("failed to set the foreign keys aside again")?;
        keys.iter().collect()
    };
    let mut removed = Vec::new();
    for key in one_by_one {
        let add = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            key.table.quoted(),
            quote_ident(&key.name),
            key.definition
        );
        if client.batch_execute(&add).is_ok() {
            continue;
        }
        let missing = format!(
            "{} AND NOT EXISTS (SELECT 1 FROM {} r WHERE {})",
            key.columns
                .iter()
                .map(|c| format!("t.{} IS NOT NULL", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(" AND "),
            key.referenced,
            key.columns
                .iter()
                .zip(&key.referenced_columns)
                .map(|(c, r)| format!("r.{} = t.{}", quote_ident(r), quote_ident(c)))
                .collect::<Vec<_>>()
                .join(" AND ")
        );
        let set_null = format!(
            "UPDATE {} t SET {} WHERE {missing}",
            key.table.quoted(),
            key.columns
                .iter()
                .map(|c| format!("{} = NULL", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !(key.nullable && client.batch_execute(&set_null).is_ok()) {
            // Again until none is left: a self-reference's rows may point at rows just removed.
            let mut deleted = 0;
            loop {
                let now_deleted = client
                    .execute(
                        &format!("DELETE FROM {} t WHERE {missing}", key.table.quoted()),
                        &[],
                    )
                    .pg_with_context(|| {
                        format!(
                            "failed to remove rows of `{}` that break `{}`",
                            key.table, key.name
                        )
                    })?;
                if now_deleted == 0 {
                    break;
                }
                deleted += now_deleted;
            }
            if deleted > 0 {
                removed.push((key.table.clone(), key.name.clone(), deleted));
            }
        }
        client
            .batch_execute(&add)
            .pg_with_context(|| format!("failed to add `{}` back to `{}`", key.name, key.table))?;
    }
    Ok(removed)
}

/// The value shapes of a table's columns, one set per leaf partition (rows go round them).
fn table_shapes(table: &Table, constraints: &Constraints, now: i64) -> Vec<Vec<Shape>> {
    let columns: Vec<(&str, &SqlType)> = table
        .columns
        .iter()
        .filter(|column| !column.generated)
        .map(|column| (column.name.as_str(), &column.sql_type))
        .collect();
    let checks = constraints
        .checks
        .get(&table.name)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match constraints.leaves.get(&table.name) {
        Some(leaves) if !leaves.is_empty() => leaves
            .iter()
            .map(|leaf| {
                let facts: Vec<Fact> = checks.iter().chain(leaf).cloned().collect();
                checkexpr::shapes(&columns, &facts, now)
            })
            .collect(),
        _ => vec![checkexpr::shapes(&columns, checks, now)],
    }
}

fn has_rows(client: &mut Client, table: &TableName) -> Result<bool> {
    client
        .query_one(
            &format!("SELECT EXISTS (SELECT 1 FROM {})", table.quoted()),
            &[],
        )
        .map(|row| row.get(0))
        .pg_with_context(|| format!("failed to read `{table}` in the new database"))
}

/// Apply every `.sql` file of the folder (not recursively), in file-name order, each in one
/// transaction with `psql -v ON_ERROR_STOP=1`.
pub fn apply_migrations(dir: &Path, database: &Settings) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read the migrations folder `{}`", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql") && path.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "the migrations folder `{}` has no `.sql` files",
            dir.display()
        );
    }
    let psql = target::find_tool("psql", 0)?;
    for file in files {
        let output = target::psql_into(&psql, database)
            .args(["--single-transaction", "-f"])
            .arg(&file)
            .output()
            .context("failed to start `psql`")?;
        if !output.status.success() {
            let errors = String::from_utf8_lossy(&output.stderr);
            bail!(
                "the migration `{}` failed: {}",
                file.display(),
                crate::target::first_lines(&errors)
            );
        }
    }
    Ok(())
}

/// Run the project's migrations command against `database` (`DATABASE_URL` and `PG*` set).
pub fn run_migrations_command(command: &str, dir: &Path, database: &Settings) -> Result<()> {
    let output = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .envs(database.libpq_env())
        .env("DATABASE_URL", database_url(database))
        .env_remove("PGOPTIONS")
        .output()
        .with_context(|| format!("failed to start the migrations command `{command}`"))?;
    if !output.status.success() {
        let errors = String::from_utf8_lossy(&output.stderr);
        bail!(
            "the migrations command `{command}` failed ({}): {}",
            output.status,
            crate::target::first_lines(&errors)
        );
    }
    Ok(())
}

/// `postgres://user:password@host:port/dbname?sslmode=…`, parts percent-encoded (a socket
/// directory as the host too), for migration tools that read `DATABASE_URL`.
pub fn database_url(settings: &Settings) -> String {
    fn encode(text: &str) -> String {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (byte as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect()
    }
    let password = settings
        .password
        .as_deref()
        .map(|password| format!(":{}", encode(password)))
        .unwrap_or_default();
    format!(
        "postgres://{}{password}@{}:{}/{}?sslmode={}",
        encode(&settings.user),
        encode(&settings.host),
        settings.port,
        encode(&settings.dbname),
        settings.sslmode.name()
    )
}

/// A foreign key left NULL at insert time and set afterwards, to break a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredKey {
    pub table: TableName,
    pub columns: Vec<String>,
    pub referenced_table: TableName,
    pub referenced_columns: Vec<String>,
}

/// Tables in an order where every referenced table comes first, and the foreign keys that had
/// to be deferred to get there (self-references and cycles through nullable columns).
#[derive(Debug, Clone, Default)]
pub struct InsertionOrder {
    pub tables: Vec<TableName>,
    pub deferred: Vec<DeferredKey>,
}

/// Topological order of the tables rows go into (partitions, sub-partitioned ones too, are
/// filled through their root).
pub fn insertion_order(catalog: &Catalog) -> InsertionOrder {
    let tables: Vec<&Table> = catalog
        .tables
        .iter()
        .filter(|table| table.kind != TableKind::Partition && table.parent.is_none())
        .collect();
    let mut order = InsertionOrder::default();
    let mut done: BTreeSet<&TableName> = BTreeSet::new();
    let mut remaining: Vec<&Table> = tables.clone();
    let nullable = |table: &Table, columns: &[String]| {
        columns
            .iter()
            .all(|name| table.column(name).is_some_and(|column| !column.not_null))
    };
    // Self-references through nullable columns are always deferred.
    for table in &tables {
        for fk in &table.foreign_keys {
            if fk.referenced_table == table.name && nullable(table, &fk.columns) {
                order.deferred.push(deferred_key(table, fk));
            }
        }
    }
    while !remaining.is_empty() {
        let is_deferred = |order: &InsertionOrder, table: &Table, fk: &schema::ForeignKey| {
            order
                .deferred
                .iter()
                .any(|d| d.table == table.name && d.columns == fk.columns)
        };
        let ready = remaining.iter().position(|table| {
            table.foreign_keys.iter().all(|fk| {
                fk.referenced_table == table.name
                    || done.contains(&fk.referenced_table)
                    || !remaining.iter().any(|t| t.name == fk.referenced_table)
                    || is_deferred(&order, table, fk)
            })
        });
        let idx = match ready {
            Some(idx) => idx,
            None => {
                // A cycle: defer the nullable foreign keys of the first table that deferring
                // them makes ready, else of the first table that has some pointing at tables
                // still waiting; failing that, defer whatever blocks it.
                let waits_on = |table: &Table, fk: &schema::ForeignKey| {
                    !done.contains(&fk.referenced_table)
                        && fk.referenced_table != table.name
                        && remaining.iter().any(|t| t.name == fk.referenced_table)
                        && !is_deferred(&order, table, fk)
                };
                let idx = remaining
                    .iter()
                    .position(|table| {
                        let waiting: Vec<&schema::ForeignKey> = table
                            .foreign_keys
                            .iter()
                            .filter(|fk| waits_on(table, fk))
                            .collect();
                        !waiting.is_empty() && waiting.iter().all(|fk| nullable(table, &fk.columns))
                    })
                    .or_else(|| {
                        remaining.iter().position(|table| {
                            table.foreign_keys.iter().any(|fk| {
                                !done.contains(&fk.referenced_table)
                                    && fk.referenced_table != table.name
                                    && nullable(table, &fk.columns)
                            })
                        })
                    })
                    .unwrap_or(0);
                let table = remaining[idx];
                for fk in &table.foreign_keys {
                    if !done.contains(&fk.referenced_table)
                        && fk.referenced_table != table.name
                        && !is_deferred(&order, table, fk)
                        && nullable(table, &fk.columns)
                    {
                        order.deferred.push(deferred_key(table, fk));
                    }
                }
                let still_blocked = table.foreign_keys.iter().any(|fk| {
                    !done.contains(&fk.referenced_table)
                        && fk.referenced_table != table.name
                        && remaining.iter().any(|t| t.name == fk.referenced_table)
                        && !is_deferred(&order, table, fk)
                });
                if still_blocked {
                    // A cycle through NOT NULL columns only: insert anyway; rows that break
                    // the key are left out and reported.
                    remaining
                        .iter()
                        .position(|t| t.name == table.name)
                        .expect("the table is remaining")
                } else {
                    idx
                }
            }
        };
        let table = remaining.remove(idx);
        done.insert(&table.name);
        order.tables.push(table.name.clone());
    }
    order
}

fn deferred_key(table: &Table, fk: &schema::ForeignKey) -> DeferredKey {
    DeferredKey {
        table: table.name.clone(),
        columns: fk.columns.clone(),
        referenced_table: fk.referenced_table.clone(),
        referenced_columns: fk.referenced_columns.clone(),
    }
}

/// For each table, the column lists other tables reference (their generated values are read back).
fn referenced_keys(catalog: &Catalog) -> HashMap<TableName, Vec<Vec<String>>> {
    let mut referenced: HashMap<TableName, Vec<Vec<String>>> = HashMap::new();
    for table in &catalog.tables {
        for fk in &table.foreign_keys {
            let lists = referenced.entry(fk.referenced_table.clone()).or_default();
            if !lists.contains(&fk.referenced_columns) {
                lists.push(fk.referenced_columns.clone());
            }
        }
    }
    referenced
}

/// The referenced columns' values as text, in the values' order (at most 100 000 rows): the
/// same every run, wherever the rows physically are.
fn read_keys(
    client: &mut Client,
    table: &TableName,
    columns: &[String],
) -> Result<Vec<Vec<Option<String>>>> {
    let list: Vec<String> = columns
        .iter()
        .map(|column| format!("{}::text", quote_ident(column)))
        .collect();
    let order: Vec<String> = columns.iter().map(|column| quote_ident(column)).collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {} LIMIT 100000",
        list.join(", "),
        table.quoted(),
        order.join(", ")
    );
    let rows = client
        .query(&sql, &[])
        .pg_with_context(|| format!("failed to read the generated keys of `{table}`"))?;
    Ok(rows
        .iter()
        .map(|row| (0..columns.len()).map(|idx| row.get(idx)).collect())
        .collect())
}

/// Values read back from inserted rows, per (table, referenced columns): key tuples as text.
type GeneratedKeys = HashMap<(TableName, Vec<String>), Arc<Vec<Vec<Option<String>>>>>;

/// How one column gets its values.
enum Source {
    /// The type-based synthetic value, passed through the policy's transform if it has one.
    Generated(Option<Box<ColumnTransform>>),
    /// Part `part` of the foreign key `fk` (an index into `TableGenerator::foreign_keys`).
    Foreign { fk: usize, part: usize },
    /// NULL now, set by `close_cycle` later.
    Deferred,
}

struct TableGenerator<'a> {
    table: &'a Table,
    columns: Vec<&'a Column>,
    sources: Vec<Source>,
    /// Value shapes per column, one set per leaf partition: row `r` uses set `r % len`.
    shapes: Vec<Vec<Shape>>,
    /// Rows to generate (timestamps spread over their range accordingly).
    n_rows: u64,
    /// Rows left out, by the constraint that rejected them.
    rejected: BTreeMap<String, u64>,
    /// Failed COPY attempts left before failing batches are left out whole.
    retries_left: u32,
    /// The variant each column starts from: raised once several rows needed a higher one
    /// (a partial unique index over a boolean, a narrow CHECK), so later rows fit first time.
    learned: Vec<u32>,
    /// Rows that needed a higher variant of each column than `learned`.
    fixes: Vec<u32>,
    /// Referenced key tuples of each foreign key; `None` for a self-reference through NOT NULL
    /// columns (filled from this table's own generated values).
    foreign_keys: Vec<ForeignValues<'a>>,
    /// Reused buffers for one value, before and after the policy's transform.
    value: String,
    transformed: Vec<u8>,
}

enum ForeignValues<'a> {
    Rows(&'a [Vec<Option<String>>]),
    /// Self-reference: the referenced columns' indexes in `columns`.
    OwnRows(Vec<usize>),
}

impl<'a> TableGenerator<'a> {
    fn new(
        request: &SeedRequest,
        catalog: &Catalog,
        table: &'a Table,
        deferred: &[DeferredKey],
        keys: &'a GeneratedKeys,
        shapes: Vec<Vec<Shape>>,
    ) -> Result<TableGenerator<'a>> {
        let columns: Vec<&Column> = table.columns.iter().filter(|c| !c.generated).collect();
        let table_rule = crate::plan::table_rule(&request.policy, catalog, &table.name);
        let mut foreign_keys = Vec::new();
        let mut fk_of_column: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut deferred_columns: BTreeSet<&str> = BTreeSet::new();
        for fk in &table.foreign_keys {
            if deferred
                .iter()
                .any(|d| d.table == table.name && d.columns == fk.columns)
            {
                deferred_columns.extend(fk.columns.iter().map(String::as_str));
                continue;
            }
            let values = if fk.referenced_table == table.name {
                let idxs: Option<Vec<usize>> = fk
                    .referenced_columns
                    .iter()
                    .map(|name| columns.iter().position(|c| &c.name == name))
                    .collect();
                match idxs {
                    Some(idxs) => ForeignValues::OwnRows(idxs),
                    None => continue,
                }
            } else {
                match keys.get(&(fk.referenced_table.clone(), fk.referenced_columns.clone())) {
                    Some(rows) => ForeignValues::Rows(rows.as_slice()),
                    // Referenced table not filled yet (a NOT NULL cycle): no rows to pick.
                    None => ForeignValues::Rows(&[]),
                }
            };
            let fk_idx = foreign_keys.len();
            foreign_keys.push(values);
            for (part, column) in fk.columns.iter().enumerate() {
                fk_of_column
                    .entry(column.as_str())
                    .or_insert((fk_idx, part));
            }
        }
        let n_columns = columns.len();
        let mut sources = Vec::with_capacity(columns.len());
        for column in &columns {
            let source = if deferred_columns.contains(column.name.as_str()) {
                Source::Deferred
            } else if let Some(&(fk, part)) = fk_of_column.get(column.name.as_str()) {
                Source::Foreign { fk, part }
            } else {
                let rule: Option<&Rule> = match table_rule {
                    Some(rule) if rule.action == TableAction::Copy => rule
                        .column(&column.name)
                        .map(|column_rule| &column_rule.rule),
                    _ => None,
                };
                let transform = rule
                    .filter(|rule| !matches!(rule.strategy, Strategy::Keep | Strategy::Todo { .. }))
                    .and_then(|rule| {
                        // A strategy the engine cannot apply to this type falls back to the
                        // type-based value: seed data needs no anonymising.
                        ColumnTransform::new(rule, &column.sql_type, Format::Text, &request.salt)
                            .ok()
                            .map(Box::new)
                    });
                Source::Generated(transform)
            };
            sources.push(source);
        }
        Ok(TableGenerator {
            table,
            columns,
            sources,
            shapes,
            n_rows: 0,
            rejected: BTreeMap::new(),
            retries_left: RETRY_BUDGET,
            learned: vec![0; n_columns],
            fixes: vec![0; n_columns],
            foreign_keys,
            value: String::new(),
            transformed: Vec::new(),
        })
    }

    /// Generate and insert `n_rows`; batches that break a constraint are split until the
    /// offending rows are found, which are retried with other values, then left out.
    fn load(
        mut self,
        client: &mut Client,
        n_rows: u64,
    ) -> Result<(u64, u64, BTreeMap<String, u64>)> {
        if n_rows == 0 || self.columns.is_empty() {
            return Ok((0, 0, BTreeMap::new()));
        }
        self.n_rows = n_rows;
        let copy_sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT text)",
            self.table.name.quoted(),
            self.columns
                .iter()
                .map(|c| quote_ident(&c.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        // Prepared once: each batch is then one round trip.
        let copy_sql = client
            .prepare(&copy_sql)
            .pg_with_context(|| format!("failed to prepare COPY into `{}`", self.table.name))?;
        let mut inserted = 0;
        let mut left_out = 0;
        // Batches double while every row fits (fewer round trips and commits); once one
        // needed retries they stay small, so finding the rows that do not fit stays cheap.
        let mut batch = FIRST_BATCH;
        let mut start = 0;
        while start < n_rows {
            let end = (start + batch).min(n_rows);
            let rows: Vec<u64> = (start..end).collect();
            let (ok, failed) = self.insert(client, &copy_sql, &rows)?;
            inserted += ok;
            left_out += failed;
            start = end;
            batch = if self.retries_left == RETRY_BUDGET {
                (batch * 2).min(LARGEST_BATCH)
            } else {
                FIRST_BATCH
            };
        }
        Ok((inserted, left_out, self.rejected))
    }

    fn insert(
        &mut self,
        client: &mut Client,
        copy_sql: &Statement,
        rows: &[u64],
    ) -> Result<(u64, u64)> {
        let mut data = Vec::new();
        let plain = self.learned.clone();
        for &row in rows {
            self.write_row(row, &plain, &mut data);
        }
        let Some(violation) = try_copy(client, copy_sql, &data)? else {
            return Ok((rows.len() as u64, 0));
        };
        if self.retries_left == 0 {
            // Too many rejections to find them one by one: the batch is left out whole.
            *self.rejected.entry(violation.label()).or_default() += rows.len() as u64;
            return Ok((0, rows.len() as u64));
        }
        self.retries_left -= 1;
        if let [row] = rows {
            return Ok(match self.insert_one(client, copy_sql, *row)? {
                None => (1, 0),
                Some(label) => {
                    *self.rejected.entry(label).or_default() += 1;
                    (0, 1)
                }
            });
        }
        let (left, right) = rows.split_at(rows.len() / 2);
        let (a, b) = self.insert(client, copy_sql, left)?;
        let (c, d) = self.insert(client, copy_sql, right)?;
        Ok((a + c, b + d))
    }

    /// Retry one rejected row, changing only the columns the violated constraint covers:
    /// first small values, then NULL where allowed.
    /// `None` when the row went in, else what rejected its last variant.
    fn insert_one(
        &mut self,
        client: &mut Client,
        copy_sql: &Statement,
        row: u64,
    ) -> Result<Option<String>> {
        let mut attempts = self.learned.clone();
        let mut data = Vec::new();
        loop {
            data.clear();
            self.write_row(row, &attempts, &mut data);
            let Some(violation) = try_copy(client, copy_sql, &data)? else {
                for (idx, &attempt) in attempts.iter().enumerate() {
                    if attempt > self.learned[idx] {
                        self.fixes[idx] += 1;
                        if self.fixes[idx] >= LEARN_AFTER {
                            self.learned[idx] = attempt;
                        }
                    }
                }
                return Ok(None);
            };
            let culprits = self.constraint_columns(client, &violation)?;
            let mut changed = false;
            for idx in culprits {
                if attempts[idx] < MAX_ATTEMPT {
                    attempts[idx] += 1;
                    changed = true;
                }
            }
            if !changed {
                return Ok(Some(violation.label()));
            }
        }
    }

    /// The columns a violated constraint covers (all columns when that cannot be told).
    fn constraint_columns(&self, client: &mut Client, violation: &Violation) -> Result<Vec<usize>> {
        let position = |name: &str| self.columns.iter().position(|c| c.name == name);
        if let Some(idx) = violation.column.as_deref().and_then(position) {
            return Ok(vec![idx]);
        }
        if let Some(constraint) = &violation.constraint {
            // A constraint of the table or a domain, or a unique index (not a constraint).
            let rows = client
                .query(
                    "SELECT array(SELECT a.attname::text FROM pg_attribute a \
                                  WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), \
                            coalesce((SELECT t.typname::text FROM pg_type t WHERE t.oid = c.contypid), '') \
                     FROM pg_constraint c WHERE c.conname = $1 \
                       AND (c.conrelid = $2::text::regclass OR c.contypid <> 0) \
                     UNION ALL \
                     SELECT array(SELECT a.attname::text FROM pg_attribute a \
                                  WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)), '' \
                     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                     WHERE ic.relname = $1 AND i.indrelid = $2::text::regclass",
                    &[constraint, &self.table.name.quoted()],
                )
                .pg_context("failed to look up a violated constraint")?;
            let mut found = Vec::new();
            for row in rows {
                let columns: Vec<String> = row.get(0);
                let domain: String = row.get(1);
                found.extend(columns.iter().filter_map(|name| position(name)));
                if !domain.is_empty() {
                    found.extend(self.columns.iter().enumerate().filter_map(|(idx, c)| {
                        let display = c.sql_type.display.rsplit('.').next().unwrap_or("");
                        (display.trim_matches('"') == domain).then_some(idx)
                    }));
                }
            }
            if !found.is_empty() {
                found.sort_unstable();
                found.dedup();
                return Ok(found);
            }
        }
        Ok((0..self.columns.len()).collect())
    }

    /// One COPY text line; `attempts[idx]` picks the variant of column `idx`'s value. Values
    /// are written into reused buffers and escaped straight into `out` (no allocation per field).
    fn write_row(&mut self, row: u64, attempts: &[u32], out: &mut Vec<u8>) {
        let shapes = &self.shapes[(row % self.shapes.len() as u64) as usize];
        let value = &mut self.value;
        let transformed = &mut self.transformed;
        for (idx, &attempt) in attempts.iter().enumerate() {
            if idx > 0 {
                out.push(b'\t');
            }
            let column = self.columns[idx];
            let shape = &shapes[idx];
            value.clear();
            match &mut self.sources[idx] {
                _ if shape.null == Some(true) && !column.not_null => text::write_null(out),
                Source::Deferred => text::write_null(out),
                Source::Foreign { .. } if attempt >= 3 && !column.not_null => text::write_null(out),
                Source::Foreign { fk, part } => match &self.foreign_keys[*fk] {
                    ForeignValues::Rows(rows) => {
                        let field = if rows.is_empty() {
                            None
                        } else {
                            rows[pick(row, attempt, rows.len())][*part].as_deref()
                        };
                        match field {
                            Some(text) => text::escape(text.as_bytes(), out),
                            None => text::write_null(out),
                        }
                    }
                    ForeignValues::OwnRows(idxs) => {
                        // Row r references row r / 2 (the first references itself): a tree.
                        let referenced = self.columns[idxs[*part]];
                        if synthetic_value(referenced, row / 2, 0, value) {
                            text::escape(value.as_bytes(), out)
                        } else {
                            text::write_null(out)
                        }
                    }
                },
                // A constrained column gets a value of its shape, as it is.
                Source::Generated(_) if !shape.is_free() => {
                    if shaped_value(column, shape, row, attempt, self.n_rows, value) {
                        text::escape(value.as_bytes(), out)
                    } else {
                        text::write_null(out)
                    }
                }
                Source::Generated(transform) => {
                    if !synthetic_value(column, row, attempt, value) {
                        text::write_null(out);
                        continue;
                    }
                    let Some(transform) = transform else {
                        text::escape(value.as_bytes(), out);
                        continue;
                    };
                    transformed.clear();
                    match transform.apply(Some(value.as_bytes()), transformed) {
                        Ok(Written::Value) => text::escape(transformed, out),
                        // `null` on a NOT NULL column: keep the synthetic value.
                        Ok(Written::Null) if column.not_null => text::escape(value.as_bytes(), out),
                        Ok(Written::Null) => text::write_null(out),
                        Err(_) => text::escape(value.as_bytes(), out),
                    }
                }
            }
        }
        out.push(b'\n');
    }
}

/// Variants of a value: 0 plain, 1 small (1..=9), 2 minimal (1, `x`), 3 NULL where allowed.
const MAX_ATTEMPT: u32 = 3;

fn pick(row: u64, attempt: u32, n: usize) -> usize {
    ((row + u64::from(attempt) * 7) % n as u64) as usize
}

/// What the server said a rejected row broke (names only, never values).
struct Violation {
    constraint: Option<String>,
    column: Option<String>,
    sqlstate: String,
}

impl Violation {
    fn from(err: &postgres::Error) -> Option<Violation> {
        let db = err.as_db_error()?;
        Some(Violation {
            constraint: db.constraint().map(str::to_string),
            column: db.column().map(str::to_string),
            sqlstate: db.code().code().to_string(),
        })
    }

    /// The constraint's name, else `not-null \`column\``, else the SQLSTATE.
    fn label(&self) -> String {
        match (&self.constraint, &self.column) {
            (Some(constraint), _) => constraint.clone(),
            (None, Some(column)) => format!("not-null `{column}`"),
            (None, None) => format!("SQLSTATE {}", self.sqlstate),
        }
    }
}

/// Rows in a table's first COPY batch, and in every batch once rows needed retries.
const FIRST_BATCH: u64 = 1000;

/// The most rows in one COPY batch.
const LARGEST_BATCH: u64 = 16_000;

/// Failed COPY attempts per table before failing batches are left out whole.
const RETRY_BUDGET: u32 = 1000;

/// Rows fixed by a higher variant of a column before every later row starts from it.
const LEARN_AFTER: u32 = 8;

/// One COPY in its own transaction: `None` if it loaded, else what the server rejected.
fn try_copy(client: &mut Client, copy_sql: &Statement, data: &[u8]) -> Result<Option<Violation>> {
    use std::io::Write;
    let mut writer = match client.copy_in(copy_sql) {
        Ok(writer) => writer,
        Err(err) => {
            return match Violation::from(&err) {
                Some(violation) => Ok(Some(violation)),
                None => Err(anyhow!("{}", crate::pgerror::message(&err)))
                    .context("failed to open COPY on the new database"),
            };
        }
    };
    let written = writer.write_all(data);
    match writer.finish() {
        Ok(_) if written.is_ok() => Ok(None),
        Ok(_) => Err(anyhow!("failed to send generated rows to the new database")),
        Err(err) => match Violation::from(&err) {
            Some(violation) => Ok(Some(violation)),
            None => Err(anyhow!("{}", crate::pgerror::message(&err)))
                .context("failed to load generated rows into the new database"),
        },
    }
}

const WORDS: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "labore",
    "magna",
    "aliqua",
];

/// A synthetic value for `column` in row `row` (0-based), in PostgreSQL's text form (not yet
/// COPY-escaped). `attempt` 1 and 2 give small values (for CHECK constraints), 3 NULL where allowed.
/// Returns false for NULL.
pub fn synthetic_value(column: &Column, row: u64, attempt: u32, out: &mut String) -> bool {
    use std::fmt::Write;
    if attempt >= 3 && !column.not_null {
        return false;
    }
    let n = match attempt {
        0 => row + 1,
        1 => row % 9 + 1,
        _ => 1,
    };
    let sql_type = &column.sql_type;
    if sql_type.array {
        out.push_str("{}");
        return true;
    }
    match &sql_type.base {
        BaseType::Int2 => write!(out, "{}", n % 32_767),
        BaseType::Int4 | BaseType::Int8 => write!(out, "{n}"),
        BaseType::Numeric => match sql_type.numeric {
            Some((precision, scale)) => {
                let digits = u32::from(precision.saturating_sub(scale)).min(18);
                let whole = if digits == 0 {
                    0
                } else {
                    n % 10u64.pow(digits)
                };
                if scale > 0 {
                    write!(out, "{whole}.5")
                } else {
                    write!(out, "{whole}")
                }
            }
            None => write!(out, "{n}.5"),
        },
        BaseType::Float4 | BaseType::Float8 => write!(out, "{n}.25"),
        BaseType::Bool => write!(out, "{}", if n % 2 == 0 { "t" } else { "f" }),
        BaseType::Uuid => write!(out, "00000000-0000-4000-8000-{n:012x}"),
        BaseType::Inet => write!(out, "10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255),
        BaseType::Cidr => write!(
            out,
            "10.{}.{}.{}/32",
            (n >> 16) & 255,
            (n >> 8) & 255,
            n & 255
        ),
        BaseType::Date => write_date(out, n),
        BaseType::Timestamp => write_date(out, n)
            .and_then(|()| out.write_char(' '))
            .and_then(|()| write_time(out, n)),
        BaseType::Timestamptz => write_date(out, n)
            .and_then(|()| out.write_char(' '))
            .and_then(|()| write_time(out, n))
            .and_then(|()| out.write_str("+00")),
        // An even number of hex digits, whatever `n`.
        BaseType::Bytea => write!(out, "\\x{n:016x}"),
        BaseType::Json | BaseType::Jsonb => write!(out, "{{}}"),
        BaseType::Enum => match sql_type.enum_labels.len() {
            0 => return false,
            len => write!(out, "{}", sql_type.enum_labels[(n as usize - 1) % len]),
        },
        base if base.is_textual() => {
            let name = column.name.to_ascii_lowercase();
            textual_value(&name, sql_type, n, attempt, None, out);
            Ok(())
        }
        BaseType::Other(other) => match other.as_str() {
            "interval" => write!(out, "{n} minutes"),
            "time" | "timetz" => write_time(out, n),
            "money" => write!(out, "{n}.00"),
            "oid" => write!(out, "{n}"),
            "tsvector" => write!(out, "{}", WORDS[n as usize % WORDS.len()]),
            "xml" => write!(out, "<seed n=\"{n}\"/>"),
            "bit" | "varbit" => write!(out, "1"),
            "point" => write!(out, "({n},{n})"),
            "macaddr" => write!(out, "08:00:2b:00:{:02x}:{:02x}", (n >> 8) & 255, n & 255),
            "int4range" | "int8range" | "numrange" => write!(out, "[{n},{})", n + 10),
            "daterange" => out
                .write_char('[')
                .and_then(|()| write_date(out, n))
                .and_then(|()| out.write_char(','))
                .and_then(|()| write_date(out, n + 30))
                .and_then(|()| out.write_char(')')),
            _ => return false,
        },
        _ => return false,
    }
    .expect("writing to a String cannot fail");
    true
}

/// `limit`: a shorter maximum length than the type's (a length CHECK).
fn textual_value(
    name: &str,
    sql_type: &SqlType,
    n: u64,
    attempt: u32,
    limit: Option<usize>,
    out: &mut String,
) {
    let max = sql_type.max_chars.map(|m| m as usize).unwrap_or(usize::MAX);
    let max = max.min(limit.unwrap_or(usize::MAX));
    let max = if matches!(sql_type.base, BaseType::Name) {
        max.min(63)
    } else {
        max
    };
    use std::fmt::Write;
    // Written in place (every candidate is ASCII: bytes are characters), shortened if too long.
    let start = out.len();
    let _ = if attempt >= 2 {
        out.write_char('x')
    } else if name.contains("email") {
        write!(out, "user{n}@example.com")
    } else if name.contains("url") || name.contains("website") {
        write!(out, "https://example.com/{n}")
    } else if name.contains("phone") {
        write!(out, "+44 7700 {:06}", n % 1_000_000)
    } else {
        let word = WORDS[(n as usize - 1) % WORDS.len()];
        let next = WORDS[(n as usize * 7) % WORDS.len()];
        write!(out, "{word} {next} {n}")
    };
    if out.len() - start <= max {
        return;
    }
    out.truncate(start);
    // Too long for `varchar(n)`: a short word and the number, the number's end if need be.
    let number = n.to_string();
    if number.len() >= max {
        out.push_str(&number[number.len() - max..]);
    } else {
        out.extend(WORDS[0].chars().take(max - number.len()));
        out.push_str(&number);
    }
}

/// A value for a column whose constraints give it a shape (choices, a range, lengths), in
/// PostgreSQL's text form. Row `row` (0-based) of `n_rows`; `attempt` as in `synthetic_value`.
/// Returns false for NULL.
fn shaped_value(
    column: &Column,
    shape: &Shape,
    row: u64,
    attempt: u32,
    n_rows: u64,
    out: &mut String,
) -> bool {
    if attempt >= 3 && !column.not_null && shape.null != Some(false) {
        return false;
    }
    let n = match attempt {
        0 => row,
        1 => row % 9,
        _ => 0,
    };
    if let Some(choices) = shape.choices.as_deref().filter(|c| !c.is_empty()) {
        let pick = (n + shape.shift as u64) % choices.len() as u64;
        out.push_str(&choices[pick as usize]);
        return true;
    }
    if let Some(kind) = Ordinal::of(&column.sql_type) {
        let low = shape.low.unwrap_or_else(|| kind.default_low());
        let high = shape
            .high
            .unwrap_or(i64::MAX)
            .min(type_high(&column.sql_type));
        let step: i64 = match (kind, shape.high) {
            // Spread over the range, at most one value every 25 hours.
            (Ordinal::Timestamp, Some(high)) => {
                (high.saturating_sub(low) / n_rows.max(1) as i64).clamp(1, 90_007)
            }
            (Ordinal::Timestamp, None) => 90_007,
            _ => 1,
        };
        let room = (high.saturating_sub(low) / step)
            .saturating_add(1)
            .saturating_sub(shape.shift_room);
        let k = if room > 0 { n as i64 % room } else { 0 } + shape.shift;
        let value = low
            .saturating_add(k.saturating_mul(step))
            .min(high.max(low));
        let mut bytes = Vec::new();
        match kind {
            Ordinal::Integer | Ordinal::Decimal => {
                use std::fmt::Write;
                let _ = write!(out, "{value}");
                return true;
            }
            Ordinal::Date => {
                crate::transform::write_date(&mut bytes, value.clamp(-2_451_545, 2_000_000) as i32)
            }
            Ordinal::Timestamp => crate::transform::write_timestamp(
                &mut bytes,
                value.clamp(-210_866_803_200, 100_000_000_000) * 1_000_000,
                matches!(column.sql_type.base, BaseType::Timestamptz),
            ),
        }
        out.push_str(&String::from_utf8_lossy(&bytes));
        return true;
    }
    if column.sql_type.base.is_textual() && !column.sql_type.array {
        let name = column.name.to_ascii_lowercase();
        textual_value(&name, &column.sql_type, n + 1, attempt, shape.max_len, out);
        let min = shape.min_len.unwrap_or(0);
        let len = out.chars().count();
        if len < min {
            out.extend(std::iter::repeat_n('x', min - len));
        }
        return true;
    }
    synthetic_value(column, row, attempt, out)
}

/// The largest value of an ordered type in its `Ordinal` units.
fn type_high(sql_type: &SqlType) -> i64 {
    match (&sql_type.base, sql_type.numeric) {
        (BaseType::Int2, _) => i64::from(i16::MAX),
        (BaseType::Int4, _) => i64::from(i32::MAX),
        (BaseType::Numeric, Some((precision, scale))) => {
            let digits = u32::from(precision.saturating_sub(scale)).min(18);
            10i64.pow(digits) - 1
        }
        (BaseType::Date, _) => 2_000_000,
        _ => i64::MAX / 4,
    }
}

/// 2020-01-01 plus `n - 1` days.
fn write_date(out: &mut String, n: u64) -> std::fmt::Result {
    use std::fmt::Write;
    // Days from 1970-01-01 to 2020-01-01.
    let (year, month, day) = dumpfile::civil_from_days(18_262 + (n as i64 - 1));
    write!(out, "{year:04}-{month:02}-{day:02}")
}

fn write_time(out: &mut String, n: u64) -> std::fmt::Result {
    use std::fmt::Write;
    let secs = (n * 3_607) % 86_400;
    write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Fill a deferred foreign key: each row gets a referenced key (row i the i-th key, modulo);
/// a row whose update breaks a constraint keeps NULL.
fn close_cycle(client: &mut Client, key: &DeferredKey) -> Result<()> {
    let columns: Vec<String> = key.columns.iter().map(|c| quote_ident(c)).collect();
    let referenced: Vec<String> = key
        .referenced_columns
        .iter()
        .map(|c| format!("r.{}", quote_ident(c)))
        .collect();
    let values: Vec<String> = key
        .referenced_columns
        .iter()
        .enumerate()
        .map(|(idx, c)| format!("{} AS v{idx}", quote_ident(c)))
        .collect();
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(idx, c)| format!("{c} = m.v{idx}"))
        .collect();
    // Rows pair by content and key, never by ctid: where an earlier update (or a page pruned
    // while other sessions' transactions were open, or not) put a row is timing, and the seeded
    // rows must be the same every run.
    let key_order: Vec<String> = key
        .referenced_columns
        .iter()
        .map(|c| quote_ident(c))
        .collect();
    // One join (row i gets key i + 1, modulo), not a sub-select per row.
    let all_at_once = format!(
        "WITH src AS (SELECT ctid AS c, row_number() OVER (ORDER BY s::text, ctid) - 1 AS rn FROM {table} s), \
              ref AS (SELECT {values}, row_number() OVER (ORDER BY {key_order}, ctid) - 1 AS rn FROM {referenced_table}), \
              total AS (SELECT count(*) AS n FROM ref) \
         UPDATE {table} t SET {set} \
         FROM (SELECT src.c, ref.* FROM src CROSS JOIN total JOIN ref ON ref.rn = (src.rn + 1) % total.n) m \
         WHERE t.ctid = m.c",
        table = key.table.quoted(),
        referenced_table = key.referenced_table.quoted(),
        values = values.join(", "),
        key_order = key_order.join(", "),
        set = set.join(", "),
    );
    if client.batch_execute(&all_at_once).is_ok() {
        return Ok(());
    }
    // Row by row, leaving NULL where no key fits (a unique or check constraint); each update
    // reads the referenced table, so only the first rows are tried.
    let ctids: Vec<String> = client
        .query(
            &format!(
                "SELECT ctid::text FROM {} s ORDER BY s::text, ctid LIMIT 1000",
                key.table.quoted()
            ),
            &[],
        )
        .pg_with_context(|| format!("failed to read the rows of `{}`", key.table))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for (idx, ctid) in ctids.iter().enumerate() {
        let sql = format!(
            "UPDATE {table} SET ({columns}) = (SELECT {referenced} FROM {referenced_table} r \
             ORDER BY {referenced}, r.ctid OFFSET $1 LIMIT 1) WHERE ctid = $2::text::tid",
            table = key.table.quoted(),
            referenced_table = key.referenced_table.quoted(),
            columns = columns.join(", "),
            referenced = referenced.join(", "),
        );
        let _ = client.execute(&sql, &[&(idx as i64 + 1), ctid]);
    }
    Ok(())
}

/// Serial and identity sequences continue after the generated values (two round trips).
fn set_sequences(client: &mut Client, catalog: &Catalog) -> Result<()> {
    let mut tables: Vec<String> = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for table in catalog
        .tables
        .iter()
        .filter(|t| t.kind != TableKind::Partition)
    {
        for column in table
            .columns
            .iter()
            .filter(|c| c.sql_type.base.is_integer() && !c.sql_type.array)
        {
            tables.push(table.name.quoted());
            columns.push(column.name.clone());
        }
    }
    let rows = client
        .query(
            "SELECT u.t, u.c, pg_get_serial_sequence(u.t, u.c) FROM unnest($1::text[], $2::text[]) AS u(t, c)",
            &[&tables, &columns],
        )
        .pg_context("failed to look up the sequences of the new database")?;
    let mut sql = String::new();
    for row in &rows {
        let Some(sequence): Option<&str> = row.get(2) else {
            continue;
        };
        sql.push_str(&format!(
            "SELECT pg_catalog.setval({}::regclass, coalesce(max({})::bigint, 0) + 1, false) FROM {};\n",
            crate::sql::quote_literal(sequence),
            quote_ident(row.get(1)),
            row.get::<_, &str>(0),
        ));
    }
    client
        .batch_execute(&sql)
        .pg_context("failed to set the sequences of the new database")
}

/// Encoding and locale for the new database: the dev database's own, else `template1`'s.
fn target_locale(admin: &mut Client, target_db: &str) -> Result<DatabaseLocale> {
    let row = admin
        .query_one(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database \
             WHERE datname IN ($1, 'template1') ORDER BY datname = $1 DESC LIMIT 1",
            &[&target_db],
        )
        .pg_context("failed to read the dev database's encoding")?;
    Ok(DatabaseLocale {
        encoding: row.get(0),
        collate: row.get(1),
        ctype: row.get(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ForeignKey;

    fn column(name: &str, sql_type: SqlType, not_null: bool) -> Column {
        Column {
            not_null,
            ..Column::new(name, sql_type)
        }
    }

    fn value(column: &Column, row: u64, attempt: u32) -> Option<String> {
        let mut out = String::new();
        synthetic_value(column, row, attempt, &mut out).then_some(out)
    }

    #[test]
    fn values_fit_their_types() {
        let int = column("id", SqlType::simple(BaseType::Int4, "integer"), true);
        assert_eq!(value(&int, 0, 0).as_deref(), Some("1"));
        assert_eq!(value(&int, 41, 0).as_deref(), Some("42"));
        assert_eq!(
            value(&int, 41, 1).as_deref(),
            Some("6"),
            "small values for CHECKs"
        );
        assert_eq!(value(&int, 41, 2).as_deref(), Some("1"));
        assert_eq!(
            value(&int, 41, 3).as_deref(),
            Some("1"),
            "NOT NULL is never NULL"
        );
        let nullable = column("n", SqlType::simple(BaseType::Int4, "integer"), false);
        assert_eq!(value(&nullable, 41, 3), None);
        let mut varchar = SqlType::simple(BaseType::Varchar, "character varying(4)");
        varchar.max_chars = Some(4);
        let short = column("code", varchar, true);
        assert_eq!(value(&short, 122, 0).as_deref(), Some("l123"));
        assert_eq!(value(&short, 12_344, 0).as_deref(), Some("2345"));
        let email = column("email", SqlType::simple(BaseType::Citext, "citext"), true);
        assert_eq!(value(&email, 6, 0).as_deref(), Some("user7@example.com"));
        let mut numeric = SqlType::simple(BaseType::Numeric, "numeric(4,2)");
        numeric.numeric = Some((4, 2));
        assert_eq!(
            value(&column("p", numeric, true), 199, 0).as_deref(),
            Some("0.5")
        );
        let mut mood = SqlType::simple(BaseType::Enum, "mood");
        mood.enum_labels = vec!["sad".into(), "happy".into()];
        let mood = column("m", mood, true);
        assert_eq!(value(&mood, 0, 0).as_deref(), Some("sad"));
        assert_eq!(value(&mood, 1, 0).as_deref(), Some("happy"));
        let date = column("d", SqlType::simple(BaseType::Date, "date"), true);
        assert_eq!(value(&date, 0, 0).as_deref(), Some("2020-01-01"));
        assert_eq!(value(&date, 366, 0).as_deref(), Some("2021-01-01"));
        let uuid = column("u", SqlType::simple(BaseType::Uuid, "uuid"), true);
        assert_eq!(
            value(&uuid, 254, 0).as_deref(),
            Some("00000000-0000-4000-8000-0000000000ff")
        );
        let mut array = SqlType::simple(BaseType::Text, "text[]");
        array.array = true;
        assert_eq!(
            value(&column("a", array, true), 3, 0).as_deref(),
            Some("{}")
        );
    }

    fn table(name: &str, fks: &[(&str, &str, bool)]) -> Table {
        let mut columns = vec![column(
            "id",
            SqlType::simple(BaseType::Int4, "integer"),
            true,
        )];
        let mut foreign_keys = Vec::new();
        for (column_name, referenced, nullable) in fks {
            columns.push(column(
                column_name,
                SqlType::simple(BaseType::Int4, "integer"),
                !nullable,
            ));
            foreign_keys.push(ForeignKey {
                constraint: format!("{name}_{column_name}_fkey"),
                columns: vec![column_name.to_string()],
                referenced_table: TableName::new("public", referenced),
                referenced_columns: vec!["id".into()],
            });
        }
        Table {
            name: TableName::new("public", name),
            kind: TableKind::Ordinary,
            parent: None,
            columns,
            primary_key: vec!["id".into()],
            foreign_keys,
            estimated_rows: 0,
            total_bytes: 0,
            row_security: false,
        }
    }

    fn names(order: &InsertionOrder) -> Vec<&str> {
        order.tables.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn tables_come_after_what_they_reference() {
        let catalog = Catalog {
            tables: vec![
                table(
                    "a_orders",
                    &[
                        ("customer_id", "c_customers", false),
                        ("product_id", "b_products", false),
                    ],
                ),
                table("b_products", &[]),
                table("c_customers", &[("referrer_id", "c_customers", true)]),
            ],
            ..Catalog::default()
        };
        let order = insertion_order(&catalog);
        assert_eq!(names(&order), ["b_products", "c_customers", "a_orders"]);
        assert_eq!(
            order.deferred.len(),
            1,
            "the nullable self-reference is deferred"
        );
        assert_eq!(order.deferred[0].columns, ["referrer_id"]);
    }

    #[test]
    fn cycles_break_at_a_nullable_key() {
        let catalog = Catalog {
            tables: vec![
                table("players", &[("team_id", "teams", false)]),
                table("teams", &[("captain_id", "players", true)]),
            ],
            ..Catalog::default()
        };
        let order = insertion_order(&catalog);
        assert_eq!(names(&order), ["teams", "players"]);
        assert_eq!(order.deferred.len(), 1);
        assert_eq!(order.deferred[0].table.name, "teams");
        assert_eq!(order.deferred[0].columns, ["captain_id"]);
    }

    #[test]
    fn a_cycle_breaks_where_deferring_makes_a_table_ready() {
        // `sessions` has a nullable key into the cycle too, but its NOT NULL `user_id` must
        // wait for `users`, which deferring `last_chat_id` makes ready.
        let catalog = Catalog {
            tables: vec![
                table("chats", &[("user_id", "users", false)]),
                table("impersonations", &[("user_id", "users", false)]),
                table(
                    "sessions",
                    &[
                        ("user_id", "users", false),
                        ("impersonation_id", "impersonations", true),
                    ],
                ),
                table("users", &[("last_chat_id", "chats", true)]),
            ],
            ..Catalog::default()
        };
        let order = insertion_order(&catalog);
        assert_eq!(
            names(&order),
            ["users", "chats", "impersonations", "sessions"]
        );
        assert_eq!(order.deferred.len(), 1);
        assert_eq!(order.deferred[0].columns, ["last_chat_id"]);
    }

    #[test]
    fn policy_rows_win_over_the_flag() {
        let mut policy = Policy::default();
        let rule =
            |name: &str, action: TableAction, rows: Option<u64>| crate::policy::model::TableRule {
                table: TableName::new("public", name),
                origin: Default::default(),
                action,
                filter: None,
                seed_rows: rows,
                subset: Default::default(),
                columns: Vec::new(),
            };
        policy.tables.push(rule("a", TableAction::Copy, Some(5)));
        policy.tables.push(rule("b", TableAction::Skip, Some(5)));
        policy.tables.push(rule("c", TableAction::Copy, None));
        let name = |n: &str| TableName::new("public", n);
        assert_eq!(
            rows_for(&policy, &Catalog::default(), &name("a"), Some(50)),
            5
        );
        assert_eq!(
            rows_for(&policy, &Catalog::default(), &name("b"), Some(50)),
            5,
            "`rows` on a skipped table"
        );
        policy.tables[1].seed_rows = None;
        assert_eq!(
            rows_for(&policy, &Catalog::default(), &name("b"), Some(50)),
            0
        );
        assert_eq!(
            rows_for(&policy, &Catalog::default(), &name("c"), Some(50)),
            50
        );
        assert_eq!(
            rows_for(&policy, &Catalog::default(), &name("c"), None),
            DEFAULT_ROWS
        );
        assert_eq!(
            rows_for(&policy, &Catalog::default(), &name("unlisted"), None),
            DEFAULT_ROWS
        );
    }
}
