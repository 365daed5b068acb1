//! Large tables copied as block ranges by several workers in one snapshot: the same rows as an
//! unsplit copy (with `where` filters, partitions, into a migrated schema and into a dump
//! file, a source that is one table), subsets never split, and `Sink::loaded` once per table
//! after its last range.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use postgres::Client;
use pullprod::conn::Settings;
use pullprod::dumpfile::{DumpOptions, ToFile};
use pullprod::pipeline::{self, Sink, SinkWorker, TableCopied, TablePlan, Unit};
use pullprod::policy::model::{Policy, TableName};
use pullprod::pull::{self, Destination, PullRequest, PullSummary, SchemaMode};

use crate::support::{TestDb, policy_from_toml};

/// The tables; `big` and the partition `readings_2024` each hold more than a quarter of the
/// data, so both split with two workers and the tests' small ranges.
const SCHEMA: &str = "
CREATE TABLE big (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, note text, n int NOT NULL);
CREATE TABLE small (id int PRIMARY KEY, big_id bigint REFERENCES big (id), label text);
CREATE TABLE readings (id int NOT NULL, at date NOT NULL, value numeric) PARTITION BY RANGE (at);
CREATE TABLE readings_2024 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE readings_other PARTITION OF readings DEFAULT;
";

/// Rows, with holes: deleted rows, and updated rows moved to the end of the table.
const DATA: &str = "
INSERT INTO big SELECT g, 'user' || g || '@example.com', repeat(chr(97 + g % 26), g % 60), g % 97
  FROM generate_series(1, 30000) g;
DELETE FROM big WHERE id % 7 = 0 OR id BETWEEN 12000 AND 14000;
UPDATE big SET note = 'moved ' || id WHERE id % 11 = 0;
INSERT INTO small SELECT row_number() OVER (ORDER BY id), id, 'label ' || id
  FROM big WHERE n <> 3 AND id % 5 <> 1 AND id % 3 = 0 ORDER BY id LIMIT 300;
INSERT INTO readings SELECT g, date '2024-01-01' + g % 366, g * 1.5 FROM generate_series(1, 40000) g;
INSERT INTO readings SELECT g, date '2023-06-01' + g % 100, g FROM generate_series(1, 500) g;
";

/// Transforms on `big` (a unique fake email, a hash), a `where` filter on the split table.
const POLICY: &str = r#"
[big]
where = "n <> 3 AND id % 5 <> 1"
id = "keep"
email = { fake = "email", unique = true }
note = "hash"
n = "keep"

[small]
keep = { reason = "test data" }

[readings]
keep = { reason = "test data" }
"#;

/// Small enough that the test tables split (tables above a quarter of the data, in ranges of
/// about an eighth, with two workers: see `pipeline::split_units`).
const SMALL_RANGES: u64 = 64 * 1024;

fn source(test: &str) -> TestDb {
    let source = TestDb::new(test);
    source.exec(SCHEMA);
    source.exec(DATA);
    source.exec("VACUUM ANALYZE");
    source
}

fn request(source: &TestDb, target: &TestDb, policy: Policy, jobs: usize) -> PullRequest {
    let mut request = crate::support::pull_request(source, target, policy, jobs);
    if jobs > 1 {
        request.options.min_range_bytes = Some(SMALL_RANGES);
    }
    request
}

/// Rows per table (`count:md5` of the rows in order): the whole content, row for row.
fn fingerprint(db: &TestDb) -> Vec<(String, String)> {
    crate::support::table_digests(db)
}

fn copied<'a>(summary: &'a PullSummary, table: &str) -> &'a TableCopied {
    summary
        .copied
        .iter()
        .find(|copied| copied.table.name == table)
        .unwrap_or_else(|| panic!("`{table}` was copied: {:?}", summary.copied))
}

#[test]
fn split_tables_copy_the_same_rows_as_unsplit_ones() {
    let source = source("split_same_src");
    let whole = TestDb::new("split_same_whole");
    let split = TestDb::new("split_same_split");
    let policy = policy_from_toml(POLICY);
    let one = pull::run(&request(&source, &whole, policy.clone(), 1)).expect("one worker");
    let two = pull::run(&request(&source, &split, policy, 2)).expect("two workers, split");

    assert!(
        one.copied.iter().all(|table| table.units == 1),
        "{:?}",
        one.copied
    );
    for (table, at_least) in [("big", 3), ("readings_2024", 2)] {
        let units = copied(&two, table).units;
        assert!(units >= at_least, "`{table}` is split: {units} ranges");
    }
    assert_eq!(copied(&two, "small").units, 1, "small tables stay whole");
    // One result per table, its ranges summed.
    assert_eq!(two.copied.len(), one.copied.len());
    for (a, b) in one.copied.iter().zip(&two.copied) {
        assert_eq!((&a.table, a.rows), (&b.table, b.rows));
        assert!(b.started_at <= b.finished_at && b.bytes >= a.bytes, "{b:?}");
    }
    let expected_big = source.count("SELECT count(*) FROM big WHERE n <> 3 AND id % 5 <> 1");
    assert_eq!(copied(&two, "big").rows, expected_big as u64);
    assert_eq!(
        split.count("SELECT count(*) FROM big"),
        expected_big,
        "the filter holds"
    );
    assert_eq!(
        copied(&two, "readings_2024").rows,
        source.count("SELECT count(*) FROM readings_2024") as u64
    );
    // Row for row: the transformed and kept columns alike.
    let digest = fingerprint(&split);
    assert_eq!(digest.len(), 4, "{digest:?}");
    assert_eq!(digest, fingerprint(&whole));
    // Constraints built after the split load hold.
    assert_eq!(
        split.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"),
        1
    );
}

/// A range is read with a TID Range Scan (PostgreSQL 14+), the `where` filter applied to it.
#[test]
fn a_source_that_is_one_table_is_split_across_the_workers() {
    // The pull once capped its workers at the number of tables: a database that is one large
    // table was copied by one worker, however many `--jobs` asked for.
    let source = TestDb::new("split_one_table_src");
    source.exec(
        "CREATE TABLE big (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, note text, n int NOT NULL);",
    );
    source.exec(DATA.split(';').next().expect("big's rows come first"));
    source.exec("VACUUM ANALYZE");
    let policy = policy_from_toml(POLICY.split("[small]").next().expect("big's rules"));
    let whole = TestDb::new("split_one_table_whole");
    let split = TestDb::new("split_one_table_split");
    let one = pull::run(&request(&source, &whole, policy.clone(), 1)).expect("one worker");
    let two = pull::run(&request(&source, &split, policy, 2)).expect("two workers");
    assert_eq!((one.workers, copied(&one, "big").units), (1, 1));
    assert_eq!(two.workers, 2, "both workers ran");
    let units = copied(&two, "big").units;
    assert!(units >= 2, "the one table is split: {units} ranges");
    assert_eq!(fingerprint(&split), fingerprint(&whole));
}

#[test]
fn a_range_is_a_tid_range_scan_with_the_filter() {
    let source = source("split_explain_src");
    let target = TestDb::new("split_explain_dst");
    let mut request = request(&source, &target, policy_from_toml(POLICY), 2);
    request.options.plan_only = true;
    let summary = pull::run(&request).expect("plan");
    let plan = summary
        .plan
        .iter()
        .find(|plan| plan.table.name == "big")
        .expect("big is planned");
    let sql = plan.copy_out_sql_for(Some(pipeline::BlockRange {
        start: 10,
        end: Some(20),
    }));
    let select = sql
        .strip_prefix("COPY (")
        .and_then(|rest| rest.split_once(") TO STDOUT"))
        .map(|(select, _)| select)
        .unwrap_or_else(|| panic!("a COPY of a query: {sql}"));
    let explained: Vec<String> = source
        .client()
        .query(&format!("EXPLAIN {select}"), &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let explained = explained.join("\n");
    assert!(explained.contains("Tid Range Scan on big"), "{explained}");
    assert!(explained.contains("Filter: ((n <> 3) AND"), "{explained}");
    let rows = source.count(&format!("SELECT count(*) FROM ({select}) s"));
    assert!(
        rows > 0 && rows < source.count("SELECT count(*) FROM big") / 5,
        "ten blocks' rows: {rows}"
    );
}

/// Subsets (rows chosen by TID list) are never split; the rows are those of one worker.
#[test]
fn subsets_are_not_split() {
    let source = source("split_subset_src");
    let whole = TestDb::new("split_subset_whole");
    let split = TestDb::new("split_subset_split");
    let policy = policy_from_toml(
        &POLICY
            .replace("where = \"n <> 3 AND id % 5 <> 1\"", "percent = 50")
            .replace("[small]\n", "[small]\nfollow = \"big\"\n"),
    );
    let one = pull::run(&request(&source, &whole, policy.clone(), 1)).expect("one worker");
    let two = pull::run(&request(&source, &split, policy, 2)).expect("two workers");
    assert!(
        two.plan.iter().any(|plan| plan.subset.is_some()),
        "the policy makes a subset"
    );
    for plan in two.plan.iter().filter(|plan| plan.subset.is_some()) {
        assert_eq!(copied(&two, &plan.table.name).units, 1, "`{}`", plan.table);
    }
    assert!(
        copied(&two, "readings_2024").units > 1,
        "other tables still split"
    );
    assert!(copied(&one, "big").rows > 0);
    assert_eq!(fingerprint(&split), fingerprint(&whole));
}

/// Into a schema built by migrations (indexes, keys and triggers in place): plain COPY per
/// range, the same rows.
#[test]
fn split_tables_load_into_a_migrated_schema() {
    let source = source("split_migrated_src");
    let whole = TestDb::new("split_migrated_whole");
    let split = TestDb::new("split_migrated_split");
    let migrations = tempfile::tempdir().unwrap();
    std::fs::write(migrations.path().join("schema.sql"), SCHEMA).unwrap();
    let policy = policy_from_toml(POLICY);
    pull::run(&request(&source, &whole, policy.clone(), 1)).expect("pg_dump schema");
    let mut migrated = request(&source, &split, policy, 2);
    migrated.schema = SchemaMode::Migrations {
        command: "psql -X -q -v ON_ERROR_STOP=1 -f schema.sql".into(),
        dir: migrations.path().to_path_buf(),
    };
    let summary = pull::run(&migrated).expect("migrated schema, split");
    assert!(copied(&summary, "big").units > 1);
    assert_eq!(fingerprint(&split), fingerprint(&whole));
}

fn to_file(path: &Path, state: &Path) -> ToFile {
    ToFile {
        path: Some(path.to_path_buf()),
        dump: DumpOptions {
            dir: Some(path.parent().unwrap().to_path_buf()),
            project: "split".into(),
            retention_days: Some(1),
            state_dir: Some(state.to_path_buf()),
        },
    }
}

/// The COPY blocks of a dump, in order.
fn copy_blocks(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut blocks = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("COPY ") {
            assert!(block.is_none(), "a COPY inside a COPY block");
            block = Some(String::new());
        }
        if let Some(current) = &mut block {
            current.push_str(line);
            current.push('\n');
            if line == "\\." {
                blocks.extend(block.take());
            }
        }
    }
    assert!(block.is_none(), "every COPY block ends");
    blocks
}

/// A dump splits too: a table's ranges are one COPY block, byte for byte the unsplit one, and
/// the file loads with psql into the rows of a direct pull.
#[test]
fn a_split_dump_is_the_unsplit_dump_and_loads_with_psql() {
    let source = source("split_dump_src");
    let unused = TestDb::new("split_dump_unused");
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut dumps = Vec::new();
    for jobs in [1, 2] {
        let path = dir.path().join(format!("jobs{jobs}.sql"));
        let mut request = request(&source, &unused, policy_from_toml(POLICY), jobs);
        request.destination = Destination::File(to_file(&path, state.path()));
        let summary = pull::run(&request).expect("pull to file");
        let units = copied(&summary, "big").units;
        assert_eq!(units > 1, jobs > 1, "split with two workers only: {units}");
        dumps.push(path);
    }
    let whole = copy_blocks(&dumps[0]);
    assert_eq!(whole.len(), 4, "one COPY block per table");
    assert_eq!(copy_blocks(&dumps[1]), whole);

    let loaded = TestDb::new("split_dump_loaded");
    crate::dump::psql_load(&dumps[1], &loaded);
    let direct = TestDb::new("split_dump_direct");
    pull::run(&request(&source, &direct, policy_from_toml(POLICY), 2)).expect("direct pull");
    assert_eq!(fingerprint(&loaded), fingerprint(&direct));
}

/// A sink that loads each unit with plain COPY in its own transaction and records, when
/// `loaded` is called, how many rows of the table were committed by then and whether it was
/// said to be whole.
struct RecordingSink {
    target: String,
    observer: Mutex<Client>,
    loaded: Mutex<Vec<(TableName, i64, bool)>>,
}

struct RecordingWorker {
    client: Client,
}

impl Sink for RecordingSink {
    fn name(&self) -> &str {
        "the recording sink"
    }

    fn open(&self) -> anyhow::Result<Box<dyn SinkWorker + '_>> {
        Ok(Box::new(RecordingWorker {
            client: crate::support::connect(&self.target),
        }))
    }

    fn loaded(&self, table: &TableName, whole: bool) -> anyhow::Result<()> {
        let committed: i64 = self
            .observer
            .lock()
            .unwrap()
            .query_one(
                &format!("SELECT count(*) FROM ONLY {}", table.quoted()),
                &[],
            )?
            .get(0);
        self.loaded
            .lock()
            .unwrap()
            .push((table.clone(), committed, whole));
        Ok(())
    }
}

impl SinkWorker for RecordingWorker {
    fn table(
        &mut self,
        _unit: &Unit,
        plan: &TablePlan,
        rows: &mut dyn FnMut(&mut (dyn Write + Send)) -> anyhow::Result<TableCopied>,
    ) -> anyhow::Result<TableCopied> {
        let mut transaction = self.client.transaction()?;
        let mut writer = transaction.copy_in(&plan.copy_in_sql(false))?;
        let copied = rows(&mut writer)?;
        writer.finish()?;
        transaction.commit()?;
        Ok(copied)
    }
}

/// What a progress display was told: per table, `started` and `finished` calls and the last
/// rows `advanced` reported.
#[derive(Default)]
struct RecordingProgress {
    seen: Mutex<BTreeMap<TableName, (usize, usize, u64)>>,
}

impl pipeline::Progress for RecordingProgress {
    fn started(&self, plan: &TablePlan) {
        self.seen
            .lock()
            .unwrap()
            .entry(plan.table.clone())
            .or_default()
            .0 += 1;
    }

    fn advanced(&self, table: &TableName, _bytes: u64, rows: u64) {
        let mut seen = self.seen.lock().unwrap();
        let entry = seen.entry(table.clone()).or_default();
        assert!(rows >= entry.2, "a table's rows never go back");
        entry.2 = rows;
    }

    fn finished(&self, copied: &TableCopied) {
        self.seen
            .lock()
            .unwrap()
            .entry(copied.table.clone())
            .or_default()
            .1 += 1;
    }
}

#[test]
fn loaded_is_called_once_per_table_after_its_last_range() {
    let source = source("split_loaded_src");
    let target = TestDb::new("split_loaded_dst");
    // No foreign key: the ranges of `big` may commit after `small`.
    target.exec(&SCHEMA.replace(" REFERENCES big (id)", ""));
    let settings = Settings::parse(source.url()).unwrap();
    let mut coordinator = pullprod::conn::open_source(&settings, "the source").unwrap();
    let snapshot = pullprod::conn::export_snapshot(&mut coordinator).unwrap();
    let catalog = pullprod::schema::load(&mut coordinator).unwrap();
    let plans = pipeline::plan_tables(
        &catalog,
        &policy_from_toml(POLICY),
        pipeline::PlanOptions { binary: true },
    )
    .unwrap();
    let sink = RecordingSink {
        target: target.url().to_string(),
        observer: Mutex::new(target.client()),
        loaded: Mutex::new(Vec::new()),
    };
    let salt = pullprod::transform::Salt::new(b"test salt".to_vec());
    let job = pipeline::CopyJob {
        source: &settings,
        snapshot: &snapshot,
        salt: &salt,
        jobs: 2,
        min_range_bytes: SMALL_RANGES,
    };
    let progress = RecordingProgress::default();
    let copied = pipeline::copy_tables(&job, &plans, &sink, &progress).unwrap();
    assert!(
        copied.iter().any(|table| table.units >= 3),
        "a table was split: {copied:?}"
    );
    let mut loaded = sink.loaded.into_inner().unwrap();
    loaded.sort();
    assert_eq!(
        loaded.iter().map(|(table, _, _)| table).collect::<Vec<_>>(),
        copied.iter().map(|table| &table.table).collect::<Vec<_>>(),
        "once per table"
    );
    for ((table, committed, whole), copied) in loaded.iter().zip(&copied) {
        assert_eq!(
            *committed as u64, copied.rows,
            "every range of `{table}` was committed when `loaded` came"
        );
        // Whole: loaded by one `COPY … FREEZE` into a fresh database (the pool's key order).
        assert_eq!(*whole, copied.units == 1, "`{table}` whole");
        assert_eq!(
            target.count(&format!("SELECT count(*) FROM ONLY {}", table.quoted())) as u64,
            copied.rows
        );
    }
    // The progress shows each table once, its ranges' rows summed.
    let seen = progress.seen.into_inner().unwrap();
    for table in &copied {
        assert_eq!(
            seen.get(&table.table),
            Some(&(1, 1, table.rows)),
            "`{}` started and finished once, all its rows shown",
            table.table
        );
    }
}
