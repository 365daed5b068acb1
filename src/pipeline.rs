//! COPY OUT -> decode -> transform -> encode -> COPY IN. One unit at a time per worker (a
//! table, or a block range of a large one), in parallel across workers that share one exported
//! snapshot of the source.

use std::io::Write;

use futures_util::StreamExt;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{Context, Result, anyhow, bail};
use postgres::Client;

use crate::conn::{self, AsyncSession, Settings};
use crate::pgerror::{self, PgContext};
use crate::plan::{self, Action};
use crate::policy::model::{Policy, Rule, TableName};
use crate::rowcodec::{Parsed, binary, text};
use crate::schema::Catalog;
use crate::sql::quote_ident;
use crate::sqltype::SqlType;
use crate::subset::{self, Selection};
use crate::transform::{self, ColumnTransform, Format, Salt, Written};

/// What to copy from one table: the columns, their effective rules and the COPY format.
#[derive(Debug, Clone)]
pub struct TablePlan {
    /// The table rows are read from and written to (a partition, never a partitioned parent).
    pub table: TableName,
    /// The copied columns in order (generated columns left out: the target computes them).
    pub columns: Vec<String>,
    /// The rule applied to each copied column (foreign keys follow the key they reference).
    pub rules: Vec<Rule>,
    pub column_types: Vec<SqlType>,
    /// The policy's `where` condition, if any (a plain filter when the policy has no subset).
    pub filter: Option<String>,
    /// The rows of a subset (closed under foreign keys); replaces `filter` when set.
    pub subset: Option<Selection>,
    pub format: Format,
    pub estimated_rows: i64,
    pub estimated_bytes: i64,
}

impl TablePlan {
    /// Every column is kept: rows pass through without being decoded.
    pub fn is_passthrough(&self) -> bool {
        self.rules.iter().all(Rule::is_keep)
    }

    /// The `COPY … TO STDOUT` statement run on the source for the whole table.
    pub fn copy_out_sql(&self) -> String {
        self.copy_out_sql_for(None)
    }

    /// The `COPY … TO STDOUT` statement for the rows of `blocks` (the whole table: `None`).
    /// A range is ANDed to the `where` filter; a subset's rows are never read by range.
    pub fn copy_out_sql_for(&self, blocks: Option<BlockRange>) -> String {
        let columns = self.column_list();
        let options = self.copy_options();
        if let Some(selection) = &self.subset {
            assert!(blocks.is_none(), "the rows of a subset are never split");
            return format!(
                "COPY ({}) TO STDOUT {options}",
                selection.query(&self.table, &self.columns)
            );
        }
        let range = blocks.map(|blocks| blocks.condition());
        let condition = match (&self.filter, range) {
            (None, None) => {
                return format!(
                    "COPY {} ({columns}) TO STDOUT {options}",
                    self.table.quoted()
                );
            }
            (Some(filter), None) => format!("({filter})"),
            (None, Some(range)) => range,
            (Some(filter), Some(range)) => format!("({filter}) AND {range}"),
        };
        format!(
            "COPY (SELECT {columns} FROM ONLY {} WHERE {condition}) TO STDOUT {options}",
            self.table.quoted()
        )
    }

    /// The `COPY … FROM STDIN` statement run on the target. `freeze` needs the table to have
    /// been created or truncated in the same transaction.
    pub fn copy_in_sql(&self, freeze: bool) -> String {
        let format = match self.format {
            Format::Binary => "binary",
            Format::Text => "text",
        };
        let freeze = if freeze { ", FREEZE" } else { "" };
        format!(
            "COPY {} ({}) FROM STDIN (FORMAT {format}{freeze})",
            self.table.quoted(),
            self.column_list()
        )
    }

    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|column| quote_ident(column))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn copy_options(&self) -> &'static str {
        match self.format {
            Format::Binary => "(FORMAT binary)",
            Format::Text => "(FORMAT text)",
        }
    }
}

/// Options for `plan_tables`.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// Binary COPY is allowed (same major version on both sides, not a dump file).
    pub binary: bool,
}

/// Turn the policy into per-table copy plans, largest tables first, from `plan::resolve`.
/// Refuses (G1, G11) any table or column the policy does not classify, any `todo`, and any
/// rule the resolver finds cannot run: the same diagnostics check-policy prints.
pub fn plan_tables(
    catalog: &Catalog,
    policy: &Policy,
    options: PlanOptions,
) -> Result<Vec<TablePlan>> {
    let (resolved, mut diagnostics) = plan::resolve(policy, catalog);
    diagnostics.retain(crate::diag::Diagnostic::is_error);
    let mut problems = Vec::new();
    let selections = match subset::select(catalog, policy) {
        Ok(selections) => selections,
        Err(found) => {
            problems = found;
            Default::default()
        }
    };
    let mut plans = Vec::new();
    for table in resolved.tables.iter().filter(|table| table.holds_rows()) {
        let label = table.rules_from.as_ref().unwrap_or(&table.table);
        match table.action {
            Action::Skip => continue,
            Action::Unclassified => {
                problems.push(format!("table `{label}` is not classified in the policy"));
                continue;
            }
            Action::Copy | Action::KeepAll { .. } => {}
        }
        let mut columns = Vec::new();
        let mut rules = Vec::new();
        let mut column_types = Vec::new();
        let mut binary_ok = options.binary;
        for planned in table
            .columns
            .iter()
            .filter(|planned| !planned.column.generated)
        {
            let column = &planned.column;
            let Some(rule) = &planned.rule else {
                problems.push(format!(
                    "column `{label}.{}` is not classified in the policy (or still `todo`)",
                    column.name
                ));
                continue;
            };
            binary_ok &= column.binary_safe
                && (rule.is_keep() || transform::supports_binary(&column.sql_type));
            columns.push(column.name.clone());
            rules.push(rule.clone());
            column_types.push(column.sql_type.clone());
        }
        plans.push(TablePlan {
            table: table.table.clone(),
            columns,
            rules,
            column_types,
            filter: table.filter.clone(),
            subset: selections.get(&table.table).cloned(),
            format: if binary_ok {
                Format::Binary
            } else {
                Format::Text
            },
            estimated_rows: table.estimated_rows.max(0),
            estimated_bytes: table.total_bytes,
        });
    }
    if !problems.is_empty() || !diagnostics.is_empty() {
        let rendered =
            crate::diag::render_human(&diagnostics, &Default::default(), std::path::Path::new(""));
        problems.extend(rendered.lines().map(str::to_string));
        bail!(
            "the policy does not cover the source schema:\n  {}\n  run `cargo xtask check-policy` for details",
            problems.join("\n  ")
        );
    }
    plans.sort_by(|a, b| {
        b.estimated_bytes
            .cmp(&a.estimated_bytes)
            .then(a.table.cmp(&b.table))
    });
    Ok(plans)
}

/// Compute a subset's rows once, in the snapshot `coordinator` reads, so that each table's copy
/// reads its chosen rows by TID instead of evaluating the whole closure again. Returns how many
/// rows the slice holds (`None`: too many to hold, each copy evaluates the closure itself).
pub fn select_subset_rows(
    coordinator: &mut Client,
    catalog: &Catalog,
    plans: &mut [TablePlan],
) -> Result<Option<u64>> {
    subset::materialise(
        coordinator,
        catalog,
        plans.iter_mut().filter_map(|plan| {
            let TablePlan { table, subset, .. } = plan;
            subset.as_mut().map(|selection| (&*table, selection))
        }),
        subset::MATERIALISE_MAX_ROWS,
    )
}

/// Heap blocks `[start, end)` of a table, read with a TID Range Scan (PostgreSQL 14+);
/// `end: None` reads to the table's end, so rows in blocks added after the sizes were read
/// are never missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRange {
    pub start: u64,
    pub end: Option<u64>,
}

impl BlockRange {
    /// The range as a condition on `ctid`: `ctid >= '(a,0)' AND ctid < '(b,0)'`.
    pub fn condition(&self) -> String {
        let mut bounds = Vec::new();
        if self.start > 0 {
            bounds.push(format!("ctid >= '({},0)'::tid", self.start));
        }
        if let Some(end) = self.end {
            bounds.push(format!("ctid < '({end},0)'::tid"));
        }
        if bounds.is_empty() {
            return "true".to_string();
        }
        bounds.join(" AND ")
    }
}

/// One piece of the data phase: a whole table, or one block range of a large table.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The table's plan (an index into the plans).
    pub plan: usize,
    /// The unit's place in plan order (a table's ranges in block order): a dump appends its
    /// units in this order, so a split table is one COPY block, as an unsplit one.
    pub seq: usize,
    /// This unit is range `part` of `parts` (`0` of `1`: the whole table).
    pub part: usize,
    pub parts: usize,
    /// `None`: the whole table.
    pub blocks: Option<BlockRange>,
    /// What the unit is expected to read, for scheduling.
    pub estimated_bytes: u64,
}

impl Unit {
    pub fn is_first(&self) -> bool {
        self.part == 0
    }

    pub fn is_last(&self) -> bool {
        self.part + 1 == self.parts
    }

    /// The unit is the whole table (not one of several ranges).
    pub fn is_whole(&self) -> bool {
        self.parts == 1
    }
}

/// A table's size on the source: heap blocks, and bytes of heap and TOAST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSize {
    pub blocks: u64,
    pub bytes: u64,
}

/// Below this a table is never split: each range costs a COPY, a transaction, and the
/// `FREEZE` an unsplit table loads with (see `split_units`).
pub const MIN_RANGE_BYTES: u64 = 32 * 1024 * 1024;

/// The data phase's units: tables under 1 % of the data first, then largest first. `sizes[i]` is
/// plan `i`'s size read on the source
/// (`None`: unknown, or a source older than PostgreSQL 14, which has no TID Range Scan: never
/// split).
///
/// Workers take units largest first (longest processing time first): the last worker to finish
/// ends at most one unit after the others, so the phase takes about `total / jobs + largest
/// unit`. Only a table larger than half a worker's fair share (`total / (jobs * 2)`) can hold
/// the phase up that way, so only such a table is split, into ranges of about a quarter of
/// the fair share (`total / (jobs * 4)`): about `4 * jobs` ranges for a database that is one
/// table, the phase within ~25 % of `total / jobs`. Smaller tables stay whole: each range
/// costs a COPY and a transaction, and loses the `COPY FREEZE` a whole table loads with
/// (several sessions cannot share the creating transaction), so its rows need their hint bits
/// set by the first scan (the index builds) and a later vacuum; measured at demo scale 200000,
/// where the largest table is a fifth of the data, splitting it cost more than it balanced.
/// Ranges are never smaller than `min_range_bytes` (`MIN_RANGE_BYTES`). With one worker
/// nothing is split. Subsets (rows chosen as TID lists) are never split.
pub fn split_units(
    plans: &[TablePlan],
    sizes: &[Option<TableSize>],
    jobs: usize,
    min_range_bytes: u64,
) -> Vec<Unit> {
    let bytes_of = |idx: usize| -> u64 {
        match sizes.get(idx).copied().flatten() {
            Some(size) => size.bytes,
            None => plans[idx].estimated_bytes.max(0) as u64,
        }
    };
    let total: u64 = (0..plans.len()).map(bytes_of).sum();
    let jobs_u64 = jobs.max(1) as u64;
    let range_bytes = (total / (jobs_u64 * 4)).max(min_range_bytes).max(1);
    let split_above = (total / (jobs_u64 * 2)).max(range_bytes);
    let mut units = Vec::new();
    for (idx, plan) in plans.iter().enumerate() {
        let bytes = bytes_of(idx);
        let size = sizes.get(idx).copied().flatten();
        let parts = match size {
            Some(size) if jobs > 1 && plan.subset.is_none() && bytes > split_above => {
                bytes.div_ceil(range_bytes).min(size.blocks)
            }
            _ => 1,
        }
        .max(1);
        for part in 0..parts {
            let blocks = size.filter(|_| parts > 1).map(|size| BlockRange {
                start: size.blocks * part / parts,
                end: (part + 1 < parts).then(|| size.blocks * (part + 1) / parts),
            });
            units.push(Unit {
                plan: idx,
                seq: units.len(),
                part: part as usize,
                parts: parts as usize,
                blocks,
                estimated_bytes: bytes / parts,
            });
        }
    }
    // Tiny tables (under 1 % of the data) first: they cost the balance nothing, and the keys
    // that reference them (lookup tables, mostly) can then be validated while the copy goes on.
    // Then largest first. Stable: equal units keep plan and block order.
    let tiny = total / 100;
    units.sort_by_key(|unit| {
        (
            unit.estimated_bytes >= tiny,
            std::cmp::Reverse(unit.estimated_bytes),
        )
    });
    units
}

/// Each plan's size on the source (heap blocks, heap and TOAST bytes), read in `session`;
/// `None` for subsets and for every table of a source older than PostgreSQL 14.
fn table_sizes(session: &mut AsyncSession, plans: &[TablePlan]) -> Result<Vec<Option<TableSize>>> {
    let names: Vec<String> = plans.iter().map(|plan| plan.table.quoted()).collect();
    let AsyncSession { runtime, client } = session;
    let rows = runtime
        .block_on(client.query(
            "SELECT current_setting('server_version_num')::int >= 140000, \
                    pg_relation_size(c.oid) / current_setting('block_size')::int8, \
                    pg_relation_size(c.oid) + COALESCE(pg_relation_size(NULLIF(c.reltoastrelid, 0)), 0) \
             FROM unnest($1::text[]) WITH ORDINALITY AS u(relation, n) \
             JOIN pg_class c ON c.oid = u.relation::regclass ORDER BY u.n",
            &[&names],
        ))
        .pg_context("failed to read the sizes of the source's tables")?;
    if rows.len() != plans.len() {
        bail!("the source's tables changed while they were being copied");
    }
    Ok(plans
        .iter()
        .zip(&rows)
        .map(|(plan, row)| {
            let tid_range_scan: bool = row.get(0);
            (tid_range_scan && plan.subset.is_none()).then(|| TableSize {
                blocks: row.get::<_, i64>(1).max(0) as u64,
                bytes: row.get::<_, i64>(2).max(0) as u64,
            })
        })
        .collect())
}

/// Rows and bytes one table produced (a split table's ranges summed: one per table).
#[derive(Debug, Clone, PartialEq)]
pub struct TableCopied {
    pub table: TableName,
    pub rows: u64,
    /// Bytes of COPY data read from the source.
    pub bytes: u64,
    /// The worker (0-based) that copied it (of a split table: the one that finished it).
    pub worker: usize,
    /// Seconds from the start of the data phase to when this table's copy began (its first
    /// range) and ended (its last range committed): the bench's critical path, which table
    /// the pull waited on last.
    pub started_at: f64,
    pub finished_at: f64,
    /// The ranges it was copied as, by as many units (1: not split).
    pub units: usize,
}

impl TableCopied {
    /// Add one more range of the same table.
    fn merge(&mut self, unit: TableCopied) {
        self.rows += unit.rows;
        self.bytes += unit.bytes;
        self.started_at = self.started_at.min(unit.started_at);
        if unit.finished_at >= self.finished_at {
            self.finished_at = unit.finished_at;
            self.worker = unit.worker;
        }
        self.units += unit.units;
    }
}

/// Reports progress; implemented by the terminal progress display. Each table is shown once,
/// split or not: `started` when its first unit starts, `advanced` with its units' totals,
/// `finished` once its last unit is in.
pub trait Progress: Sync {
    fn started(&self, plan: &TablePlan);
    /// `bytes` read and `rows` copied so far for `table`.
    fn advanced(&self, table: &TableName, bytes: u64, rows: u64);
    fn finished(&self, copied: &TableCopied);
}

/// A progress display that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn started(&self, _plan: &TablePlan) {}
    fn advanced(&self, _table: &TableName, _bytes: u64, _rows: u64) {}
    fn finished(&self, _copied: &TableCopied) {}
}

/// How tables are loaded into the new database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// The schema came from `pg_dump`'s pre-data section: no indexes, constraints or triggers
    /// yet, so each table is truncated and loaded with `COPY … FREEZE` in one transaction.
    Fresh,
    /// The schema came from the project's migrations (indexes, constraints, triggers exist, and
    /// the tables were emptied beforehand): plain COPY with triggers and foreign-key checks off.
    Migrated,
}

/// Open a source session for a worker: read-only, REPEATABLE READ, in the shared snapshot (G4).
pub fn open_source_worker(source: &Settings, snapshot: &str) -> Result<AsyncSession> {
    let mut session = conn::connect_read_only_async(source, "the source")?;
    session
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}",
            crate::sql::quote_literal(snapshot)
        ))
        .pg_context("failed to join the source snapshot")?;
    Ok(session)
}

/// Where the table data goes: the new database, or a dump file. Each worker opens its own
/// `SinkWorker` (a database session, or nothing for a file) and hands it one unit at a time.
pub trait Sink: Sync {
    /// Named in errors: ``failed to write the rows to {name}``.
    fn name(&self) -> &str;
    /// What one worker writes through.
    fn open(&self) -> Result<Box<dyn SinkWorker + '_>>;
    /// Every row of `table` is in (committed, for a database): its indexes and constraints
    /// may start while other tables still copy. Called once per table, from any worker, after
    /// its last unit (of a split table: the last range to commit, whichever it is); `whole`:
    /// it was one unit (not split).
    fn loaded(&self, _table: &TableName, _whole: bool) -> Result<()> {
        Ok(())
    }
    /// Large tables may be split into ranges loaded by several workers (`split_units`); a
    /// sink where that costs more than it gains says no.
    fn splits(&self) -> Result<bool> {
        Ok(true)
    }
}

/// One worker's end of a `Sink`.
pub trait SinkWorker {
    /// Load `unit` (a whole table, or one range of plan `unit.plan`; the ranges of a table
    /// may load at the same time on other workers): `rows` streams the unit's transformed
    /// COPY data into the writer it is given and says what it copied.
    fn table(
        &mut self,
        unit: &Unit,
        plan: &TablePlan,
        rows: &mut dyn FnMut(&mut (dyn Write + Send)) -> Result<TableCopied>,
    ) -> Result<TableCopied>;
}

/// What `copy_tables` reads, and with how many workers.
#[derive(Debug, Clone, Copy)]
pub struct CopyJob<'a> {
    pub source: &'a Settings,
    /// The exported snapshot every worker joins.
    pub snapshot: &'a str,
    pub salt: &'a Salt,
    /// Parallel workers (at most one per unit).
    pub jobs: usize,
    /// Large tables are split into ranges of at least this many bytes (`MIN_RANGE_BYTES`;
    /// tests lower it to split small tables).
    pub min_range_bytes: u64,
}

/// Copy every planned table into `sink` with `job.jobs` workers in parallel, each with its own
/// source session in the shared snapshot. Large tables are split into block ranges
/// (`split_units`, sizes read in the snapshot); worker `n` starts with unit `n` (so every
/// worker has one when there are enough), then takes the next one not yet taken, largest
/// first. Whatever the split, each table is one `TableCopied`, shown once by `progress`, and
/// `sink.loaded` is called once for it, after its last unit.
pub fn copy_tables(
    job: &CopyJob,
    plans: &[TablePlan],
    sink: &dyn Sink,
    progress: &dyn Progress,
) -> Result<Vec<TableCopied>> {
    let CopyJob {
        source,
        snapshot,
        salt,
        jobs,
        min_range_bytes,
    } = *job;
    let jobs = jobs.max(1);
    // The sizes come from the first worker's session, which then copies as the others do.
    let mut first_session = None;
    let units = if jobs > 1 && plans.iter().any(|plan| plan.subset.is_none()) && sink.splits()? {
        let mut session = open_source_worker(source, snapshot)?;
        let sizes = table_sizes(&mut session, plans)?;
        first_session = Some(session);
        split_units(plans, &sizes, jobs, min_range_bytes)
    } else {
        split_units(plans, &[], 1, min_range_bytes)
    };
    let first_session = std::sync::Mutex::new(first_session);
    let tables: Vec<TableState> = plans
        .iter()
        .enumerate()
        .map(|(idx, _)| TableState {
            parts: std::sync::Mutex::new((
                units.iter().filter(|unit| unit.plan == idx).count(),
                None,
            )),
            started: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
            rows: AtomicU64::new(0),
        })
        .collect();
    let jobs = jobs.clamp(1, units.len().max(1));
    let next = AtomicUsize::new(jobs);
    let cancel = AtomicBool::new(false);
    let first_failure = std::sync::Mutex::new(None::<anyhow::Error>);
    let results = std::sync::Mutex::new(Vec::new());
    let phase_started = std::time::Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..jobs)
            .map(|worker| {
                let (next, cancel, first_failure, results) =
                    (&next, &cancel, &first_failure, &results);
                let (units, tables, first_session) = (&units, &tables, &first_session);
                scope.spawn(move || -> Result<()> {
                    let outcome = (|| -> Result<()> {
                        let session = first_session
                            .lock()
                            .expect("no worker panics holding the lock")
                            .take();
                        let mut source_client = match session {
                            Some(session) => session,
                            None => open_source_worker(source, snapshot)?,
                        };
                        let mut sink_worker = sink.open()?;
                        let mut idx = worker;
                        loop {
                            if cancel.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            let Some(unit) = units.get(idx) else {
                                return Ok(());
                            };
                            let plan = &plans[unit.plan];
                            let table = &tables[unit.plan];
                            if !table.started.swap(true, Ordering::Relaxed) {
                                progress.started(plan);
                            }
                            let unit_progress = UnitProgress {
                                inner: progress,
                                table,
                                bytes: AtomicU64::new(0),
                                rows: AtomicU64::new(0),
                            };
                            let started_at = phase_started.elapsed().as_secs_f64();
                            let mut copied = sink_worker
                                .table(unit, plan, &mut |writer| {
                                    copy_table(
                                        &mut source_client,
                                        plan,
                                        unit.blocks,
                                        salt,
                                        (writer, sink.name()),
                                        cancel,
                                        &unit_progress,
                                    )
                                })
                                .with_context(|| format!("failed to copy `{}`", plan.table))?;
                            copied.worker = worker;
                            copied.started_at = started_at;
                            copied.finished_at = phase_started.elapsed().as_secs_f64();
                            // The last unit of the table to be in (whichever range it is)
                            // reports the whole table.
                            let done = {
                                let mut parts = table
                                    .parts
                                    .lock()
                                    .expect("no worker panics holding the lock");
                                let (remaining, merged) = &mut *parts;
                                match merged {
                                    Some(merged) => merged.merge(copied),
                                    None => *merged = Some(copied),
                                }
                                *remaining -= 1;
                                if *remaining == 0 { merged.take() } else { None }
                            };
                            if let Some(copied) = done {
                                sink.loaded(&plan.table, copied.units == 1)?;
                                progress.finished(&copied);
                                crate::fault::point("data-table-done");
                                results
                                    .lock()
                                    .expect("no worker panics holding the lock")
                                    .push(copied);
                            }
                            idx = next.fetch_add(1, Ordering::Relaxed);
                        }
                    })();
                    match outcome {
                        // The first real failure, in time, is the one reported.
                        Err(err) if !is_cancellation(&err) => {
                            first_failure
                                .lock()
                                .expect("no worker panics holding the lock")
                                .get_or_insert(err);
                            cancel.store(true, Ordering::Relaxed);
                            Ok(())
                        }
                        other => other,
                    }
                })
            })
            .collect();
        let mut cancelled = None;
        let mut panicked = false;
        for worker in workers {
            match worker.join() {
                Ok(Err(err)) => {
                    cancelled.get_or_insert(err);
                }
                Ok(Ok(())) => {}
                Err(_) => panicked = true,
            }
        }
        // A cancellation is never reported alone: it only ever follows a real failure.
        let failure = first_failure.lock().expect("workers are done").take();
        match (failure, panicked, cancelled) {
            (Some(err), _, _) => Err(err),
            (None, true, _) => Err(anyhow!("a copy worker panicked")),
            (None, false, Some(err)) => Err(err),
            (None, false, None) => Ok(()),
        }
    })?;
    let mut results = results.into_inner().expect("workers are done");
    results.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(results)
}

/// Told that a table's rows are committed (`postdata::Pool::loaded` starts its indexes), and
/// whether they were loaded frozen (`COPY … FREEZE`, which also sets the visibility map).
pub type OnLoaded<'a> = &'a (dyn Fn(&TableName, bool) -> Result<()> + Sync);

/// One table's units as they come in.
struct TableState {
    /// Units not yet in, and what those in copied (merged).
    parts: std::sync::Mutex<(usize, Option<TableCopied>)>,
    /// `Progress::started` was called.
    started: AtomicBool,
    /// Read and copied so far by all its units, for `Progress::advanced`.
    bytes: AtomicU64,
    rows: AtomicU64,
}

/// One unit's progress, reported as its table's (the sum of the table's units).
struct UnitProgress<'a> {
    inner: &'a dyn Progress,
    table: &'a TableState,
    /// This unit's last report.
    bytes: AtomicU64,
    rows: AtomicU64,
}

impl Progress for UnitProgress<'_> {
    fn started(&self, plan: &TablePlan) {
        self.inner.started(plan);
    }

    fn advanced(&self, table: &TableName, bytes: u64, rows: u64) {
        let new_bytes = bytes.saturating_sub(self.bytes.swap(bytes, Ordering::Relaxed));
        let new_rows = rows.saturating_sub(self.rows.swap(rows, Ordering::Relaxed));
        let bytes = self.table.bytes.fetch_add(new_bytes, Ordering::Relaxed) + new_bytes;
        let rows = self.table.rows.fetch_add(new_rows, Ordering::Relaxed) + new_rows;
        self.inner.advanced(table, bytes, rows);
    }

    fn finished(&self, copied: &TableCopied) {
        self.inner.finished(copied);
    }
}

/// The new database as a `Sink`: one session per worker, each table loaded in one transaction.
#[derive(Clone, Copy)]
pub struct DatabaseSink<'a> {
    /// The new database.
    pub target: &'a Settings,
    pub load: LoadMode,
    /// Called once per table after its rows are committed.
    pub on_loaded: Option<OnLoaded<'a>>,
}

impl std::fmt::Debug for DatabaseSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSink")
            .field("target", &self.target)
            .field("load", &self.load)
            .field("on_loaded", &self.on_loaded.is_some())
            .finish()
    }
}

impl Sink for DatabaseSink<'_> {
    fn name(&self) -> &str {
        "the new database"
    }

    fn loaded(&self, table: &TableName, whole: bool) -> Result<()> {
        match self.on_loaded {
            // As `DatabaseWorker::table` loads it: a whole table into a fresh database frozen.
            Some(on_loaded) => on_loaded(table, whole && self.load == LoadMode::Fresh),
            None => Ok(()),
        }
    }

    fn open(&self) -> Result<Box<dyn SinkWorker + '_>> {
        let mut client = conn::connect_settings(self.target, "the new dev database")?;
        client
            .batch_execute(match self.load {
                LoadMode::Fresh => "SET synchronous_commit = off",
                // Migrations made triggers and foreign keys: the load fires none.
                LoadMode::Migrated => {
                    "SET synchronous_commit = off; SET session_replication_role = replica"
                }
            })
            .context("failed to set up the new dev database session")?;
        Ok(Box::new(DatabaseWorker {
            client,
            load: self.load,
        }))
    }

    /// Not into a fresh database on a `wal_level = minimal` server: there a whole table's
    /// COPY FREEZE in the transaction that truncated it writes no WAL at all, which ranges
    /// (plain COPYs from several sessions) would all write.
    fn splits(&self) -> Result<bool> {
        if self.load == LoadMode::Migrated {
            return Ok(true);
        }
        let level: String = conn::connect_settings(self.target, "the new dev database")?
            .query_one("SHOW wal_level", &[])
            .pg_context("failed to read the new database's `wal_level`")?
            .get(0);
        Ok(level != "minimal")
    }
}

struct DatabaseWorker {
    client: Client,
    load: LoadMode,
}

impl SinkWorker for DatabaseWorker {
    /// A whole table: TRUNCATE + COPY FREEZE in one transaction (plain COPY into a migrated
    /// schema). A range of a split table: plain COPY in a transaction of its own, in either
    /// mode; several sessions cannot share the transaction FREEZE needs, and a TRUNCATE
    /// would wait for the other ranges, then empty them. A fresh table is empty already
    /// (created by the pre-data), a migrated one was emptied before the data phase.
    fn table(
        &mut self,
        unit: &Unit,
        plan: &TablePlan,
        rows: &mut dyn FnMut(&mut (dyn Write + Send)) -> Result<TableCopied>,
    ) -> Result<TableCopied> {
        let mut transaction = self
            .client
            .transaction()
            .pg_context("failed to begin a transaction on the new database")?;
        let freeze = self.load == LoadMode::Fresh && unit.is_whole();
        if freeze {
            transaction
                // ONLY: a plain TRUNCATE of an inheritance parent would empty its (loaded) children.
                .batch_execute(&format!("TRUNCATE ONLY {}", plan.table.quoted()))
                .pg_context("failed to prepare the table in the new database")?;
        }
        let mut writer = transaction
            .copy_in(&plan.copy_in_sql(freeze))
            .pg_context("failed to open COPY FROM STDIN on the new database")?;
        let copied = rows(&mut writer)?;
        let loaded = writer.finish().data_context(
            &plan.table,
            &plan.columns,
            "the new database rejected the data",
        )?;
        if loaded != copied.rows {
            bail!(
                "the new database loaded {loaded} rows but {} were sent",
                copied.rows
            );
        }
        transaction.commit().data_context(
            &plan.table,
            &plan.columns,
            "failed to commit the table in the new database",
        )?;
        Ok(copied)
    }
}

/// A worker stopped because another table failed: never the error to report.
#[derive(Debug, thiserror::Error)]
#[error("cancelled because another table failed")]
pub struct Cancelled;

/// The error is (caused by) a cancellation.
pub fn is_cancellation(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<Cancelled>())
}

/// Size of the blocks the reader thread hands to the transformer.
const BLOCK: usize = 256 * 1024;
/// Output is flushed to the sink in writes of about this size.
const FLUSH_AT: usize = 1024 * 1024;

/// Stream one table, or its heap `blocks`, from `source` (in its current transaction) through
/// the transforms into `sink` (a writer, and its name for errors: `the new database`), in
/// `plan.format`. Reading runs on its own thread, overlapped with transforming and writing;
/// memory stays at a few blocks whatever the table's size.
pub fn copy_table(
    source: &mut AsyncSession,
    plan: &TablePlan,
    blocks: Option<BlockRange>,
    salt: &Salt,
    sink: (&mut (dyn Write + Send), &str),
    cancel: &AtomicBool,
    progress: &dyn Progress,
) -> Result<TableCopied> {
    let (sink, name) = sink;
    let mut rows = RowTransformer::new(plan, salt)?;
    let sql = plan.copy_out_sql_for(blocks);
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(4);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
    // Transformed output goes to a writer thread, so the target parses one buffer while the
    // next is transformed (a write blocks while the target is busy).
    let (out_tx, out_rx) = mpsc::sync_channel::<Vec<u8>>(1);
    let (spent_tx, spent_rx) = mpsc::channel::<Vec<u8>>();
    let mut bytes = 0u64;
    let mut out = Vec::with_capacity(FLUSH_AT + BLOCK);
    let mut pending: Vec<u8> = Vec::with_capacity(2 * BLOCK);

    std::thread::scope(|scope| -> Result<()> {
        let reader = scope.spawn(move || -> Result<()> {
            let AsyncSession { runtime, client } = source;
            // One runtime entry for the whole table: the stream yields one message per row.
            runtime.block_on(async {
                let stream = client.copy_out(sql.as_str()).await.data_context(
                    &plan.table,
                    &plan.columns,
                    "failed to open COPY TO STDOUT on the source",
                )?;
                let mut stream = std::pin::pin!(stream);
                let mut block = Vec::with_capacity(BLOCK);
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.data_context(
                        &plan.table,
                        &plan.columns,
                        "failed to read from the source",
                    )?;
                    block.extend_from_slice(&chunk);
                    if block.len() >= BLOCK {
                        let next = empty_rx
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
                        // The consumer stopped: its error is the one to report.
                        if full_tx.send(std::mem::replace(&mut block, next)).is_err() {
                            return Ok(());
                        }
                        block.clear();
                    }
                }
                if !block.is_empty() {
                    let _ = full_tx.send(block);
                }
                Ok(())
            })
        });
        let writer = scope.spawn(move || -> Result<()> {
            for buffer in out_rx {
                sink.write_all(&buffer)
                    .map_err(|err| pgerror::io_data_error(err, &plan.table, &plan.columns))
                    .with_context(|| format!("failed to write the rows to {name}"))?;
                let _ = spent_tx.send(buffer);
            }
            Ok(())
        });
        let consumed = (|| -> Result<()> {
            for block in &full_rx {
                if cancel.load(Ordering::Relaxed) {
                    return Err(Cancelled.into());
                }
                bytes += block.len() as u64;
                let input: &[u8] = if pending.is_empty() {
                    &block
                } else {
                    pending.extend_from_slice(&block);
                    &pending
                };
                let used = rows.feed(input, &mut out)?;
                progress.advanced(&plan.table, bytes, rows.rows);
                let rest = input.len() - used;
                if pending.is_empty() {
                    pending.extend_from_slice(&block[used..]);
                } else {
                    pending.drain(..used);
                }
                debug_assert_eq!(pending.len(), rest);
                let _ = empty_tx.send(block);
                if out.len() >= FLUSH_AT {
                    let next = spent_rx
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(FLUSH_AT + BLOCK));
                    // The writer stopped: its error is the one to report.
                    if out_tx.send(std::mem::replace(&mut out, next)).is_err() {
                        return Ok(());
                    }
                    out.clear();
                }
            }
            rows.finish(&pending, &mut out)?;
            let _ = out_tx.send(std::mem::take(&mut out));
            Ok(())
        })();
        drop(full_rx);
        drop(out_tx);
        let written = writer
            .join()
            .map_err(|_| anyhow!("the target writer panicked"))?;
        let read = reader
            .join()
            .map_err(|_| anyhow!("the source reader panicked"))?;
        written?;
        read?;
        consumed
    })?;
    crate::fault::point("data-first-block");
    Ok(TableCopied {
        table: plan.table.clone(),
        rows: rows.rows,
        bytes,
        worker: 0,
        started_at: 0.0,
        finished_at: 0.0,
        units: 1,
    })
}

/// Decodes rows, applies the column transforms and re-encodes them. Kept columns are copied
/// as the bytes they arrived as; only transformed columns are decoded.
struct RowTransformer {
    format: Format,
    table: TableName,
    columns: Vec<String>,
    /// One per copied column; `None` for kept columns.
    transforms: Vec<Option<ColumnTransform>>,
    passthrough: bool,
    header_done: bool,
    ended: bool,
    rows: u64,
    binary_fields: Vec<binary::Field>,
    text_fields: Vec<Range<usize>>,
    scratch_in: Vec<u8>,
    scratch_out: Vec<u8>,
}

impl RowTransformer {
    fn new(plan: &TablePlan, salt: &Salt) -> Result<RowTransformer> {
        let mut transforms = Vec::with_capacity(plan.rules.len());
        for ((rule, column_type), column) in
            plan.rules.iter().zip(&plan.column_types).zip(&plan.columns)
        {
            transforms.push(if rule.is_keep() {
                None
            } else {
                Some(
                    ColumnTransform::new(rule, column_type, plan.format, salt)
                        .map_err(|err| anyhow!("{err}"))
                        .with_context(|| {
                            format!("cannot apply the policy to `{}.{column}`", plan.table)
                        })?,
                )
            });
        }
        Ok(RowTransformer {
            format: plan.format,
            table: plan.table.clone(),
            columns: plan.columns.clone(),
            passthrough: transforms.iter().all(Option::is_none),
            transforms,
            header_done: false,
            ended: false,
            rows: 0,
            binary_fields: Vec::new(),
            text_fields: Vec::new(),
            scratch_in: Vec::new(),
            scratch_out: Vec::new(),
        })
    }

    /// Process the complete rows at the start of `input`; returns how many bytes were used.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        match self.format {
            Format::Binary => self.feed_binary(input, out),
            Format::Text => self.feed_text(input, out),
        }
    }

    /// The stream ended: no partial row may be left, and binary streams need their trailer.
    fn finish(&mut self, rest: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if !rest.is_empty() {
            bail!(
                "the source's COPY stream for `{}` ended inside a row",
                self.table
            );
        }
        if self.format == Format::Binary {
            if !self.header_done {
                // An empty COPY never happens in binary (the header always comes), but be exact.
                out.extend_from_slice(&binary::HEADER);
            }
            if !self.ended {
                out.extend_from_slice(&binary::TRAILER);
            }
        }
        Ok(())
    }

    fn feed_binary(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = 0;
        if !self.header_done {
            match binary::header_len(input)? {
                Some(len) => {
                    out.extend_from_slice(&binary::HEADER);
                    pos = len;
                    self.header_done = true;
                }
                None => return Ok(0),
            }
        }
        while !self.ended {
            let row = &input[pos..];
            match binary::parse_row(row, &mut self.binary_fields)? {
                Parsed::NeedMore => break,
                Parsed::End { consumed } => {
                    out.extend_from_slice(&binary::TRAILER);
                    self.ended = true;
                    pos += consumed;
                }
                Parsed::Row { consumed } => {
                    if self.binary_fields.len() != self.transforms.len() {
                        bail!(
                            "the source sent {} fields for `{}`, expected {}",
                            self.binary_fields.len(),
                            self.table,
                            self.transforms.len()
                        );
                    }
                    if self.passthrough {
                        out.extend_from_slice(&row[..consumed]);
                    } else {
                        binary::write_count(out, self.binary_fields.len());
                        for (idx, field) in self.binary_fields.iter().enumerate() {
                            match &mut self.transforms[idx] {
                                None => out.extend_from_slice(field.framed(row)),
                                Some(transform) => {
                                    let start = binary::begin_field(out);
                                    let written =
                                        transform.apply(field.value(row), out).map_err(|err| {
                                            column_error(&self.table, &self.columns[idx], &err)
                                        })?;
                                    binary::finish_field(out, start, written == Written::Null);
                                }
                            }
                        }
                    }
                    self.rows += 1;
                    pos += consumed;
                }
            }
        }
        Ok(pos)
    }

    fn feed_text(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = 0;
        loop {
            let row = &input[pos..];
            let Parsed::Row { consumed } = text::parse_row(row, &mut self.text_fields) else {
                break;
            };
            if self.text_fields.len() != self.transforms.len() {
                bail!(
                    "the source sent {} fields for `{}`, expected {}",
                    self.text_fields.len(),
                    self.table,
                    self.transforms.len()
                );
            }
            if self.passthrough {
                out.extend_from_slice(&row[..consumed]);
            } else {
                for (idx, range) in self.text_fields.iter().enumerate() {
                    if idx > 0 {
                        out.push(b'\t');
                    }
                    let field = &row[range.clone()];
                    match &mut self.transforms[idx] {
                        None => out.extend_from_slice(field),
                        Some(transform) => {
                            let value = if text::is_null(field) {
                                None
                            } else if text::is_plain(field) {
                                Some(field)
                            } else {
                                self.scratch_in.clear();
                                text::unescape(field, &mut self.scratch_in);
                                Some(&self.scratch_in[..])
                            };
                            self.scratch_out.clear();
                            let written =
                                transform
                                    .apply(value, &mut self.scratch_out)
                                    .map_err(|err| {
                                        column_error(&self.table, &self.columns[idx], &err)
                                    })?;
                            match written {
                                Written::Null => text::write_null(out),
                                Written::Value => text::escape(&self.scratch_out, out),
                            }
                        }
                    }
                }
                out.push(b'\n');
            }
            self.rows += 1;
            pos += consumed;
        }
        Ok(pos)
    }
}

fn column_error(table: &TableName, column: &str, err: &transform::TransformError) -> anyhow::Error {
    anyhow!("failed to transform a value of `{table}.{column}`: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, bytes: i64) -> TablePlan {
        TablePlan {
            table: TableName {
                schema: "public".into(),
                name: name.into(),
            },
            columns: vec!["id".into()],
            rules: Vec::new(),
            column_types: Vec::new(),
            filter: None,
            subset: None,
            format: Format::Text,
            estimated_rows: 0,
            estimated_bytes: bytes,
        }
    }

    const MB: u64 = 1 << 20;

    fn size(bytes: u64) -> Option<TableSize> {
        Some(TableSize {
            blocks: bytes / 8192,
            bytes,
        })
    }

    #[test]
    fn a_skewed_database_is_split_into_about_four_units_per_worker() {
        let plans = [plan("big", 0), plan("small", 0), plan("tiny", 0)];
        let sizes = [size(300 * MB), size(20 * MB), size(MB)];
        let units = split_units(&plans, &sizes, 2, MIN_RANGE_BYTES);
        // 321 MB / 8 = 40 MB ranges: the big table in 8 (ceil(300 / 40.1)), the others whole.
        let big: Vec<&Unit> = units.iter().filter(|unit| unit.plan == 0).collect();
        assert_eq!(big.len(), 8, "{units:?}");
        assert!(
            units
                .iter()
                .filter(|unit| unit.plan != 0)
                .all(Unit::is_whole)
        );
        // `tiny` (under 1 % of the data) first, then largest first: the ranges, then `small`.
        assert_eq!(units[0].plan, 2);
        assert!(
            units[1..]
                .windows(2)
                .all(|pair| pair[0].estimated_bytes >= pair[1].estimated_bytes)
        );
        assert_eq!(units.last().map(|unit| unit.plan), Some(1));
        // The ranges tile the table: from block 0, each where the last ended, the last open.
        let blocks = 300 * MB / 8192;
        assert_eq!(
            big[0].blocks,
            Some(BlockRange {
                start: 0,
                end: Some(blocks / 8)
            })
        );
        for pair in big.windows(2) {
            assert_eq!(
                pair[0].blocks.unwrap().end,
                Some(pair[1].blocks.unwrap().start)
            );
            assert_eq!(pair[0].part + 1, pair[1].part);
            assert_eq!(pair[0].seq + 1, pair[1].seq);
        }
        assert_eq!(big[7].blocks.unwrap().end, None);
        assert!(big[7].is_last() && big[0].is_first());
        // Plan order for a dump: the big table's ranges, then the others.
        let mut seqs: Vec<(usize, usize)> =
            units.iter().map(|unit| (unit.seq, unit.plan)).collect();
        seqs.sort();
        assert_eq!(
            seqs.iter().map(|(_, plan)| *plan).collect::<Vec<_>>(),
            [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
        );
    }

    #[test]
    fn tables_under_half_a_workers_share_stay_whole() {
        // The demo at scale 200000: the largest table is a fifth of the data, under
        // total / (2 * 2), so no table loses its COPY FREEZE.
        let mbs = [220, 220, 176, 150, 119, 56, 44];
        let plans: Vec<TablePlan> = mbs.iter().map(|_| plan("t", 0)).collect();
        let sizes: Vec<Option<TableSize>> = mbs.iter().map(|mb| size(mb * MB)).collect();
        let units = split_units(&plans, &sizes, 2, MIN_RANGE_BYTES);
        assert_eq!(units.len(), mbs.len());
        assert!(units.iter().all(Unit::is_whole));
        // One more large table makes the largest more than half a worker's share: split.
        let mbs = [600, 220, 176];
        let plans: Vec<TablePlan> = mbs.iter().map(|_| plan("t", 0)).collect();
        let sizes: Vec<Option<TableSize>> = mbs.iter().map(|mb| size(mb * MB)).collect();
        let units = split_units(&plans, &sizes, 2, MIN_RANGE_BYTES);
        // 996 MB: split above 249 MB, in ranges of 124.5 MB: 600 MB in 5, the others whole.
        assert_eq!(units.iter().filter(|unit| unit.plan == 0).count(), 5);
        assert!(
            units
                .iter()
                .filter(|unit| unit.plan != 0)
                .all(Unit::is_whole)
        );
    }

    #[test]
    fn nothing_is_split_for_one_worker_small_tables_unknown_sizes_or_subsets() {
        let plans = [plan("big", 0), plan("small", 0)];
        let sizes = [size(300 * MB), size(MB)];
        assert!(
            split_units(&plans, &sizes, 1, MIN_RANGE_BYTES)
                .iter()
                .all(Unit::is_whole)
        );
        // The floor: with 8 workers ranges would be 3 MB; tables under 32 MB stay whole.
        let sizes = [size(30 * MB), size(20 * MB)];
        assert!(
            split_units(&plans, &sizes, 8, MIN_RANGE_BYTES)
                .iter()
                .all(Unit::is_whole)
        );
        // No size (a source without TID Range Scans): whole, whatever the estimate.
        let plans = [plan("big", 300 * MB as i64), plan("small", MB as i64)];
        let units = split_units(&plans, &[None, None], 2, MIN_RANGE_BYTES);
        assert_eq!(units.len(), 2);
        assert!(
            units
                .iter()
                .all(|unit| unit.is_whole() && unit.blocks.is_none())
        );
        // Never more ranges than blocks.
        let sizes = [
            Some(TableSize {
                blocks: 3,
                bytes: 300 * MB,
            }),
            size(MB),
        ];
        assert_eq!(split_units(&plans, &sizes, 2, MIN_RANGE_BYTES).len(), 4);
    }

    #[test]
    fn a_range_is_anded_to_the_where_filter() {
        let mut table = plan("t", 0);
        let middle = BlockRange {
            start: 10,
            end: Some(20),
        };
        assert_eq!(
            table.copy_out_sql_for(Some(middle)),
            "COPY (SELECT \"id\" FROM ONLY \"public\".\"t\" WHERE ctid >= '(10,0)'::tid AND ctid < '(20,0)'::tid) TO STDOUT (FORMAT text)"
        );
        assert_eq!(
            BlockRange {
                start: 0,
                end: Some(5)
            }
            .condition(),
            "ctid < '(5,0)'::tid"
        );
        assert_eq!(
            BlockRange {
                start: 5,
                end: None
            }
            .condition(),
            "ctid >= '(5,0)'::tid"
        );
        table.filter = Some("id > 1 OR id < 0".into());
        assert_eq!(
            table.copy_out_sql_for(Some(middle)),
            "COPY (SELECT \"id\" FROM ONLY \"public\".\"t\" WHERE (id > 1 OR id < 0) AND ctid >= '(10,0)'::tid AND ctid < '(20,0)'::tid) TO STDOUT (FORMAT text)"
        );
        assert_eq!(
            table.copy_out_sql(),
            "COPY (SELECT \"id\" FROM ONLY \"public\".\"t\" WHERE (id > 1 OR id < 0)) TO STDOUT (FORMAT text)"
        );
    }

    #[test]
    fn ranges_of_one_table_merge_into_one_result() {
        let unit = |rows, worker, started_at, finished_at| TableCopied {
            table: plan("t", 0).table,
            rows,
            bytes: rows * 10,
            worker,
            started_at,
            finished_at,
            units: 1,
        };
        let mut merged = unit(5, 0, 1.0, 3.0);
        merged.merge(unit(7, 1, 0.5, 4.0));
        merged.merge(unit(1, 0, 2.0, 3.5));
        assert_eq!(
            merged,
            TableCopied {
                worker: 1,
                units: 3,
                ..unit(13, 1, 0.5, 4.0)
            }
        );
    }
}
