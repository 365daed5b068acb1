//! COPY OUT -> decode -> transform -> encode -> COPY IN. One table at a time per worker,
//! tables in parallel across workers that share one exported snapshot of the source.

use std::io::Write;

use futures_util::StreamExt;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

    /// The `COPY … TO STDOUT` statement run on the source.
    pub fn copy_out_sql(&self) -> String {
        let columns = self.column_list();
        let options = self.copy_options();
        if let Some(selection) = &self.subset {
            return format!(
                "COPY ({}) TO STDOUT {options}",
                selection.query(&self.table, &self.columns)
            );
        }
        match &self.filter {
            None => format!(
                "COPY {} ({columns}) TO STDOUT {options}",
                self.table.quoted()
            ),
            Some(filter) => format!(
                "COPY (SELECT {columns} FROM ONLY {} WHERE ({filter})) TO STDOUT {options}",
                self.table.quoted()
            ),
        }
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

/// Rows and bytes one table produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TableCopied {
    pub table: TableName,
    pub rows: u64,
    /// Bytes of COPY data read from the source.
    pub bytes: u64,
    /// The worker (0-based) that copied it.
    pub worker: usize,
    /// Seconds from the start of the data phase to when this table's copy began and ended
    /// (the bench's critical path: which table the pull waited on last).
    pub started_at: f64,
    pub finished_at: f64,
}

/// Reports progress; implemented by the terminal progress display.
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
/// `SinkWorker` (a database session, or nothing for a file) and hands it one table at a time.
pub trait Sink: Sync {
    /// Named in errors: ``failed to write the rows to {name}``.
    fn name(&self) -> &str;
    /// What one worker writes through.
    fn open(&self) -> Result<Box<dyn SinkWorker + '_>>;
    /// Every row of `table` is in (committed, for a database): its indexes and constraints
    /// may start while other tables still copy. Called once per table, from any worker.
    fn loaded(&self, _table: &TableName) -> Result<()> {
        Ok(())
    }
}

/// One worker's end of a `Sink`.
pub trait SinkWorker {
    /// Load plan number `idx`: `rows` streams the table's transformed COPY data into the writer
    /// it is given and says what it copied.
    fn table(
        &mut self,
        idx: usize,
        plan: &TablePlan,
        rows: &mut dyn FnMut(&mut dyn Write) -> Result<TableCopied>,
    ) -> Result<TableCopied>;
}

/// What `copy_tables` reads, and with how many workers.
#[derive(Debug, Clone, Copy)]
pub struct CopyJob<'a> {
    pub source: &'a Settings,
    /// The exported snapshot every worker joins.
    pub snapshot: &'a str,
    pub salt: &'a Salt,
    /// Parallel workers (at most one per table).
    pub jobs: usize,
}

/// Copy every planned table into `sink` with `job.jobs` workers in parallel, each with its own
/// source session in the shared snapshot. Worker `n` starts with plan `n` (so every worker has
/// a table when there are enough), then takes the next one not yet taken.
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
    } = *job;
    let jobs = jobs.clamp(1, plans.len().max(1));
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
                scope.spawn(move || -> Result<()> {
                    let outcome = (|| -> Result<()> {
                        let mut source_client = open_source_worker(source, snapshot)?;
                        let mut sink_worker = sink.open()?;
                        let mut idx = worker;
                        loop {
                            if cancel.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            let Some(plan) = plans.get(idx) else {
                                return Ok(());
                            };
                            progress.started(plan);
                            let started_at = phase_started.elapsed().as_secs_f64();
                            let mut copied = sink_worker
                                .table(idx, plan, &mut |writer| {
                                    copy_table(
                                        &mut source_client,
                                        plan,
                                        salt,
                                        (writer, sink.name()),
                                        cancel,
                                        progress,
                                    )
                                })
                                .with_context(|| format!("failed to copy `{}`", plan.table))?;
                            copied.worker = worker;
                            copied.started_at = started_at;
                            copied.finished_at = phase_started.elapsed().as_secs_f64();
                            sink.loaded(&plan.table)?;
                            progress.finished(&copied);
                            crate::fault::point("data-table-done");
                            results
                                .lock()
                                .expect("no worker panics holding the lock")
                                .push(copied);
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

/// Told that a table's rows are committed (`postdata::Pool::loaded` starts its indexes).
pub type OnLoaded<'a> = &'a (dyn Fn(&TableName) -> Result<()> + Sync);

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

    fn loaded(&self, table: &TableName) -> Result<()> {
        match self.on_loaded {
            Some(on_loaded) => on_loaded(table),
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
}

struct DatabaseWorker {
    client: Client,
    load: LoadMode,
}

impl SinkWorker for DatabaseWorker {
    /// TRUNCATE + COPY FREEZE in one transaction (plain COPY into a migrated schema).
    fn table(
        &mut self,
        _idx: usize,
        plan: &TablePlan,
        rows: &mut dyn FnMut(&mut dyn Write) -> Result<TableCopied>,
    ) -> Result<TableCopied> {
        let mut transaction = self
            .client
            .transaction()
            .pg_context("failed to begin a transaction on the new database")?;
        let freeze = self.load == LoadMode::Fresh;
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

/// Stream one table from `source` (in its current transaction) through the transforms into
/// `sink` (a writer, and its name for errors: `the new database`), in `plan.format`. Reading runs on its own thread, overlapped with transforming and
/// writing; memory stays at a few blocks whatever the table's size.
pub fn copy_table(
    source: &mut AsyncSession,
    plan: &TablePlan,
    salt: &Salt,
    sink: (&mut dyn Write, &str),
    cancel: &AtomicBool,
    progress: &dyn Progress,
) -> Result<TableCopied> {
    let (sink, name) = sink;
    let mut rows = RowTransformer::new(plan, salt)?;
    let sql = plan.copy_out_sql();
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(4);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
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
                    "failed to read the source",
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
                    sink.write_all(&out)
                        .map_err(|err| pgerror::io_data_error(err, &plan.table, &plan.columns))
                        .with_context(|| format!("failed to write the rows to {name}"))?;
                    out.clear();
                }
            }
            Ok(())
        })();
        drop(full_rx);
        let read = reader
            .join()
            .map_err(|_| anyhow!("the source reader panicked"))?;
        read?;
        consumed
    })?;
    rows.finish(&pending, &mut out)?;
    sink.write_all(&out)
        .map_err(|err| pgerror::io_data_error(err, &plan.table, &plan.columns))
        .with_context(|| format!("failed to write the rows to {name}"))?;
    crate::fault::point("data-first-block");
    Ok(TableCopied {
        table: plan.table.clone(),
        rows: rows.rows,
        bytes,
        worker: 0,
        started_at: 0.0,
        finished_at: 0.0,
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
