//! Post-data overlapped with the copy: a table's indexes and keys are built while other tables
//! still copy, the finished database has every index, key, sequence and materialized view of
//! the source, a failing index build keeps the old dev database, and the replaced database is
//! dropped off the critical path (a crash there leaves a leftover the next run removes), and
//! every corpus schema gets its indexes and keys from the pool as the source has them.

use std::time::{Duration, Instant};

use pullprod::pull;

use crate::support::{self, Project, TestDb};

/// `big` (whose copy sleeps 4 s on its first row, through its `where` condition), `small`,
/// `kinds` and the partitioned `notes`, whose rows are in long before: `small`'s indexes, its
/// key to `kinds` and `notes`' key to `kinds` should not wait for `big`.
const OVERLAP_SQL: &str = r#"
CREATE FUNCTION slow_gate(id int) RETURNS boolean IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
    IF id = 1 THEN PERFORM pg_sleep(4); END IF;
    RETURN true;
END $$;
CREATE TABLE big (id int PRIMARY KEY, payload text NOT NULL);
CREATE INDEX big_payload_idx ON big (payload);
CREATE TABLE kinds (id int PRIMARY KEY, label text NOT NULL);
CREATE TABLE small (id int PRIMARY KEY, big_id int NOT NULL REFERENCES big (id), code text NOT NULL,
    kind_id int NOT NULL REFERENCES kinds (id));
CREATE UNIQUE INDEX small_code_idx ON small (code);
INSERT INTO big SELECT i, 'lorem ipsum dolor sit amet ' || i FROM generate_series(1, 40000) i;
INSERT INTO kinds SELECT i, 'kind ' || i FROM generate_series(1, 5) i;
INSERT INTO small SELECT i, 1 + i % 40000, 'c' || i, 1 + i % 5 FROM generate_series(1, 500) i;
CREATE TABLE notes (id int NOT NULL, kind_id int NOT NULL REFERENCES kinds (id), at date NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE notes_old PARTITION OF notes FOR VALUES FROM ('2000-01-01') TO ('2020-01-01');
CREATE TABLE notes_new PARTITION OF notes FOR VALUES FROM ('2020-01-01') TO ('2040-01-01');
INSERT INTO notes SELECT i, 1 + i % 5, DATE '2010-01-01' + i * 7 FROM generate_series(1, 1000) i;
ANALYZE;
"#;

const OVERLAP_POLICY: &str = r#"
[big]
where = "slow_gate(id)"
id = "keep"
payload = "keep"

[small]
id = "keep"
big_id = "keep"
code = "keep"
kind_id = "keep"

[kinds]
keep = { reason = "test fixture" }

[notes]
keep = { reason = "test fixture" }
"#;

/// The name of the database the pull is building for `target`, once it exists.
fn new_database(target: &TestDb) -> Option<String> {
    support::connect(&support::admin_url())
        .query_opt(
            "SELECT datname FROM pg_database WHERE datname LIKE $1 LIMIT 1",
            &[&format!("{}\\_\\_pp\\_new\\_%", target.name())],
        )
        .expect("list databases")
        .map(|row| row.get(0))
}

/// Poll the database being built until `small_code_idx` exists and `small`'s and `notes`' keys to
/// `kinds` are validated while `big` is still being copied into it (pg_stat_progress_copy), and
/// `small`'s key to `big` is not there yet. True when that was seen.
fn saw_index_during_copy(target: &TestDb, pull: &std::thread::JoinHandle<impl Send>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pull.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        let Some(name) = new_database(target) else {
            continue;
        };
        let Ok(mut client) = postgres::Client::connect(
            &support::with_dbname(&support::admin_url(), &name),
            postgres::NoTls,
        ) else {
            continue;
        };
        // Disconnect as soon as `big`'s copy is over: the swap renames this database.
        let mut seen_copying = false;
        while !pull.is_finished() && Instant::now() < deadline {
            let seen = client.query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_copy \
                   WHERE relid = to_regclass('public.big') AND command = 'COPY FROM'), \
                 EXISTS (SELECT 1 FROM pg_index WHERE indisvalid \
                   AND indexrelid = to_regclass('public.small_code_idx')) \
                 AND EXISTS (SELECT 1 FROM pg_constraint WHERE convalidated \
                   AND conname = 'small_kind_id_fkey') \
                 AND EXISTS (SELECT 1 FROM pg_constraint WHERE convalidated \
                   AND conname = 'notes_kind_id_fkey' AND conrelid = to_regclass('public.notes')) \
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'small_big_id_fkey')",
                &[],
            );
            let Ok(row) = seen else {
                return false;
            };
            let (copying, indexed): (bool, bool) = (row.get(0), row.get(1));
            if copying && indexed {
                return true;
            }
            if seen_copying && !copying {
                return false;
            }
            seen_copying |= copying;
            std::thread::sleep(Duration::from_millis(20));
        }
        return false;
    }
    false
}

/// Every index (with its validity), constraint (with its validation), trigger, sequence
/// position and materialized view of the user schemas, as text, for comparing two databases.
fn schema_objects(db: &TestDb) -> Vec<String> {
    let mut client = db.client();
    let mut objects = Vec::new();
    for sql in [
        "SELECT format('index %s on %s: %s valid=%s', i.indexrelid::regclass, i.indrelid::regclass, \
           pg_get_indexdef(i.indexrelid), i.indisvalid) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relnamespace = 'public'::regnamespace",
        "SELECT format('constraint %s on %s: %s validated=%s parent=%s', c.conname, c.conrelid::regclass, \
           pg_get_constraintdef(c.oid), c.convalidated, p.conname) \
         FROM pg_constraint c LEFT JOIN pg_constraint p ON p.oid = c.conparentid \
         WHERE c.connamespace = 'public'::regnamespace",
        "SELECT format('trigger %s on %s enabled=%s', tgname, tgrelid::regclass, tgenabled) \
         FROM pg_trigger WHERE NOT tgisinternal",
        "SELECT format('partition %s of %s', inhrelid::regclass, inhparent::regclass) FROM pg_inherits",
        "SELECT format('sequence %s.%s at %s', schemaname, sequencename, last_value) FROM pg_sequences \
         WHERE schemaname = 'public'",
        "SELECT format('matview %s populated=%s', matviewname, ispopulated) FROM pg_matviews \
         WHERE schemaname = 'public'",
    ] {
        for row in client
            .query(sql, &[])
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
        {
            objects.push(row.get::<_, String>(0));
        }
    }
    objects.sort();
    objects
}

#[test]
fn a_loaded_tables_indexes_and_keys_are_built_while_a_larger_table_still_copies() {
    let source = TestDb::new("ov_overlap_src");
    source.exec(OVERLAP_SQL);
    let target = TestDb::new("ov_overlap_dst");
    target.exec("CREATE TABLE old_marker (x int)");
    let request = support::pull_request(
        &source,
        &target,
        support::policy_from_toml(OVERLAP_POLICY),
        2,
    );
    let pull = std::thread::spawn(move || pull::run(&request));
    let overlapped = saw_index_during_copy(&target, &pull);
    let summary = pull
        .join()
        .expect("pull thread")
        .expect("the pull succeeds");
    assert!(
        overlapped,
        "`small_code_idx` and the keys `small` -> `kinds`, `notes` -> `kinds` existed while `big` \
         was still being copied"
    );
    assert_eq!(summary.copied.len(), 5);
    assert_eq!(schema_objects(&target), schema_objects(&source));
    assert_eq!(
        crate::pull::fingerprint(&target),
        crate::pull::fingerprint(&source)
    );
}

/// Partitions, keys on partitions and to partitioned tables, an exclusion constraint, a
/// NOT VALID check, a trigger, a skipped table's index, a materialized view's unique index,
/// sequences: all as the source has them.
const SHAPES_SQL: &str = r#"
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE customers (id bigserial PRIMARY KEY, code text NOT NULL UNIQUE, region text);
CREATE INDEX customers_region_idx ON customers (region) WHERE region IS NOT NULL;
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    placed date NOT NULL,
    total numeric(10, 2) NOT NULL CHECK (total >= 0),
    PRIMARY KEY (id, placed)
) PARTITION BY RANGE (placed);
CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE TABLE order_notes (
    id serial PRIMARY KEY,
    order_id bigint NOT NULL,
    placed date NOT NULL,
    note text,
    FOREIGN KEY (order_id, placed) REFERENCES orders (id, placed)
);
CREATE TABLE refunds (order_id bigint NOT NULL, customer_id bigint NOT NULL, amount numeric(10, 2));
ALTER TABLE orders_2025 ADD CONSTRAINT orders_2025_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE refunds ADD CONSTRAINT refunds_amount_small CHECK (amount < 100000) NOT VALID;
-- Left unvalidated by the source, with a row that breaks it: it must stay NOT VALID.
CREATE TABLE legacy_notes (id int PRIMARY KEY, customer_id bigint NOT NULL);
INSERT INTO legacy_notes VALUES (1, 999999);
ALTER TABLE legacy_notes ADD CONSTRAINT legacy_notes_customer_fk FOREIGN KEY (customer_id)
    REFERENCES customers (id) NOT VALID;
CREATE TABLE bookings (id int PRIMARY KEY, room int NOT NULL, during tsrange NOT NULL,
    EXCLUDE USING gist (room WITH =, during WITH &&));
CREATE TABLE audit_trail (id int PRIMARY KEY, what text);
CREATE INDEX audit_trail_what_idx ON audit_trail (what);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SEQUENCE invoice_seq START 100;
SELECT nextval('invoice_seq') FROM generate_series(1, 7);
INSERT INTO customers (code, region) SELECT 'c' || i, CASE WHEN i % 3 = 0 THEN 'r' || i % 5 END
    FROM generate_series(1, 300) i;
INSERT INTO orders (customer_id, placed, total)
    SELECT 1 + i % 300, DATE '2024-06-01' + (i % 400), i FROM generate_series(1, 2000) i;
INSERT INTO order_notes (order_id, placed, note) SELECT id, placed, 'n' || id FROM orders WHERE id % 4 = 0;
INSERT INTO refunds SELECT id, customer_id, total FROM orders WHERE id % 10 = 0;
INSERT INTO bookings SELECT i, i % 7, tsrange(TIMESTAMP '2024-01-01' + i * INTERVAL '1 day',
    TIMESTAMP '2024-01-01' + (i + 1) * INTERVAL '1 day') FROM generate_series(1, 100) i;
INSERT INTO audit_trail VALUES (1, 'kept out');
CREATE MATERIALIZED VIEW customer_totals AS
    SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;
CREATE UNIQUE INDEX customer_totals_customer_idx ON customer_totals (customer_id);
ANALYZE;
"#;

const SHAPES_POLICY: &str = r#"
[customers]
keep = { reason = "test fixture: made-up codes" }

[orders]
keep = { reason = "test fixture" }

[order_notes]
keep = { reason = "test fixture: made-up notes" }

[refunds]
keep = { reason = "test fixture" }

[legacy_notes]
keep = { reason = "test fixture" }

[bookings]
keep = { reason = "test fixture" }

[audit_trail]
skip = true
"#;

#[test]
fn every_index_key_sequence_and_matview_is_the_sources() {
    let source = TestDb::new("ov_shapes_src");
    source.exec(SHAPES_SQL);
    let target = TestDb::new("ov_shapes_dst");
    let summary = pull::run(&support::pull_request(
        &source,
        &target,
        support::policy_from_toml(SHAPES_POLICY),
        2,
    ))
    .expect("the pull succeeds");
    // The library (no CLI) drops the replaced database itself, timed on its own.
    assert!(
        summary.phases.iter().any(|(name, _)| *name == "drop-old"),
        "{:?}",
        summary.phases
    );
    assert_eq!(leftovers(&target), Vec::<String>::new());
    let expected = schema_objects(&source);
    assert!(expected.len() > 25, "{expected:#?}");
    assert_eq!(schema_objects(&target), expected);
    assert_eq!(
        target.count("SELECT count(*) FROM audit_trail"),
        0,
        "skipped table"
    );
    assert_eq!(
        target.count("SELECT count(*) FROM customer_totals"),
        source.count("SELECT count(*) FROM customer_totals")
    );
}

/// The temporary databases pullprod made for `target` that still exist.
fn leftovers(target: &TestDb) -> Vec<String> {
    support::connect(&support::admin_url())
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1",
            &[&format!("{}\\_\\_pp\\_%", target.name())],
        )
        .expect("list databases")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn an_index_failing_during_the_copy_keeps_the_old_database_and_is_the_error() {
    let source = TestDb::new("ov_fail_src");
    source.exec(OVERLAP_SQL);
    // Unique in the source; every key is the same in a database pullprod is building.
    source.exec(
        r#"CREATE FUNCTION picky(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
           BEGIN
               IF current_database() LIKE '%\_\_pp\_new\_%' THEN RETURN 0; END IF;
               RETURN x;
           END $$;
           CREATE UNIQUE INDEX small_picky_idx ON small (picky(id));"#,
    );
    let target = TestDb::new("ov_fail_dst");
    target.exec("CREATE TABLE old_marker (x int); INSERT INTO old_marker VALUES (42)");
    let err = pull::run(&support::pull_request(
        &source,
        &target,
        support::policy_from_toml(OVERLAP_POLICY),
        2,
    ))
    .expect_err("the unique index cannot be built");
    let text = format!("{err:#}");
    assert!(
        text.contains("the new database rejected the source indexes and constraints")
            && text.contains("SQLSTATE 23505")
            && text.contains("small_picky_idx")
            && text.contains("nothing was changed: the dev database is as it was"),
        "{text}"
    );
    assert!(!text.contains("stopped because building"), "{text}");
    assert_eq!(target.count("SELECT x::bigint FROM old_marker"), 42);
    assert_eq!(leftovers(&target), Vec::<String>::new());
}

/// The CLI drops the replaced database in the background; killed after the swap (before the
/// drop), the new data is live and the old copy is a leftover the next run removes.
#[test]
fn the_old_database_goes_after_the_swap_and_a_crash_there_leaves_a_leftover() {
    let source = TestDb::new("ov_drop_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let target = TestDb::new("ov_drop_dst");
    target.exec("CREATE TABLE old_marker (x int)");
    let project = Project::from_fixture("pull_project");
    project.git_commit_all("the fixture");
    let state = tempfile::TempDir::new().expect("state folder");
    let pull = |extra: &[(&str, &str)]| {
        let mut env = vec![
            ("STAGING_DATABASE_URL", source.url()),
            ("PROD_DATABASE_URL", source.url()),
            ("DATABASE_URL", target.url()),
            ("PULLPROD_SALT", "a test salt that is long enough"),
            ("XDG_STATE_HOME", state.path().to_str().expect("utf-8 path")),
        ];
        env.extend_from_slice(extra);
        let (code, stdout, stderr) =
            project.run_with_env(&["pull-prod", "--from", "staging"], &env);
        (code, format!("{stdout}{stderr}"))
    };

    let (code, output) = pull(&[("PULLPROD_TEST_KILL_AT", "after-swap-commit")]);
    assert_ne!(code, 0, "killed: {output}");
    assert_eq!(
        target.count("SELECT count(*) FROM people"),
        50,
        "the new data is live"
    );
    let left = leftovers(&target);
    assert!(
        left.len() == 1 && left[0].contains("__pp_old_"),
        "the old copy is left over: {left:?}"
    );

    let (code, output) = pull(&[]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains(&format!(
            "dropped `{}`, left over by an interrupted run",
            left[0]
        )),
        "{output}"
    );
    assert!(
        output.contains("is being dropped in the background"),
        "{output}"
    );
    // The success line came before the drop was done; the drop still finishes on its own.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !leftovers(&target).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(leftovers(&target), Vec::<String>::new());
    assert_eq!(target.count("SELECT count(*) FROM people"), 50);
}

/// Every schema of the corpus (real applications' schemas: partitions with their own keys,
/// run-together names, xml, grants…), with synthetic rows, gets its post-data from the index
/// pool exactly as the source has it: keys built as unique indexes then added, foreign keys
/// validated as soon as both tables are built, the rest after the last table.
#[test]
fn every_corpus_schema_gets_the_sources_indexes_and_keys_from_the_pool() {
    use pullprod::postdata::{IndexSettings, Pool, Table};
    use pullprod::seed::{self, SchemaSource, SeedOptions, SeedRequest};
    use pullprod::target::{self, Section};

    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut apps: Vec<String> = std::fs::read_dir(&corpus)
        .expect("corpus/")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("schema.sql").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    apps.sort();
    assert!(apps.len() >= 8, "{apps:?}");
    let pg_dump = target::find_tool("pg_dump", 15).expect("pg_dump");
    let psql = target::find_tool("psql", 0).expect("psql");
    for app in &apps {
        let source = TestDb::new(&format!("ov_corpus_{app}_src"));
        let migrations = tempfile::TempDir::new().expect("temporary folder");
        std::fs::copy(
            corpus.join(app).join("schema.sql"),
            migrations.path().join("schema.sql"),
        )
        .expect("copy the schema");
        let source_settings = pullprod::conn::Settings::parse(source.url()).expect("settings");
        seed::run(&SeedRequest {
            target: source_settings.clone(),
            policy: Default::default(),
            salt: pullprod::transform::Salt::new(b"corpus".to_vec()),
            schema: Some(SchemaSource::Migrations(migrations.path().to_path_buf())),
            protected: Vec::new(),
            dumps: None,
            options: SeedOptions {
                synthetic: true,
                rows: Some(200),
                quiet: true,
                force: true,
                ..SeedOptions::default()
            },
        })
        .unwrap_or_else(|err| panic!("seeding `{app}`: {err:#}"));

        let target_db = TestDb::new(&format!("ov_corpus_{app}_dst"));
        let target_settings = pullprod::conn::Settings::parse(target_db.url()).expect("settings");
        target::pipe_schema(
            &pg_dump,
            &psql,
            &source_settings,
            None,
            Section::PreData,
            &target_settings,
        )
        .unwrap_or_else(|err| panic!("`{app}` pre-data: {err:#}"));
        let data = std::process::Command::new(&pg_dump)
            .args([
                "--data-only",
                "--no-owner",
                "--no-privileges",
                "--dbname",
                source.url(),
            ])
            .output()
            .expect("pg_dump --data-only");
        assert!(
            data.status.success(),
            "{}",
            String::from_utf8_lossy(&data.stderr)
        );
        let mut load = std::process::Command::new(&psql)
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-o",
                "/dev/null",
                "--dbname",
                target_db.url(),
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("psql");
        std::io::Write::write_all(&mut load.stdin.take().expect("stdin"), &data.stdout)
            .expect("rows into psql");
        assert!(load.wait().expect("psql").success(), "`{app}` rows");

        let catalog = pullprod::schema::load(&mut source.client()).expect("catalog");
        let tables: Vec<Table> = catalog
            .tables
            .iter()
            .filter(|table| table.kind != pullprod::schema::TableKind::Partitioned)
            .map(|table| Table {
                name: table.name.clone(),
                bytes: table.total_bytes.max(0) as u64,
                root: table.parent.clone(),
            })
            .collect();
        let (preamble, entries) =
            target::read_post_data(&pg_dump, &source_settings, None).expect("post-data");
        let pool = Pool::start(
            &preamble,
            entries,
            &tables,
            &target_settings,
            2,
            &IndexSettings::sized(64),
        )
        .expect("index sessions");
        for table in &tables {
            pool.loaded(&table.name, true).expect("loaded");
        }
        pool.finish(&mut Default::default())
            .unwrap_or_else(|err| panic!("`{app}` post-data: {err:#}"));
        // As the pull does after the post-data.
        target::refresh_matviews(&mut target_db.client(), &catalog.matviews).expect("refresh");
        assert_eq!(
            schema_objects(&target_db),
            schema_objects(&source),
            "`{app}`"
        );
    }
}

/// The pool runs two jobs at once only when their locks do not conflict, so its sessions never
/// wait for each other. Its model must be the server's: each lock mode conflicts (a second
/// session's `LOCK … NOWAIT` fails) exactly when `Lock::conflicts` says, and each step takes on
/// each table the mode the pool schedules it under (`pg_locks`, read inside the step's
/// transaction).
#[test]
fn the_pools_lock_model_is_the_servers() {
    use pullprod::policy::model::TableName;
    use pullprod::postdata::{Lock, pool_steps};
    use pullprod::target::DumpEntry;

    let db = TestDb::new("pool_locks");
    db.exec(
        "CREATE EXTENSION IF NOT EXISTS btree_gist;
         CREATE TABLE people (id int NOT NULL, name text);
         CREATE TABLE orders (id int NOT NULL, person_id int, during tstzrange);
         CREATE TABLE visits (id int NOT NULL, person_id int, at date NOT NULL) PARTITION BY RANGE (at);
         CREATE TABLE visits_old PARTITION OF visits FOR VALUES FROM ('2000-01-01') TO ('2020-01-01');
         CREATE TABLE visits_new PARTITION OF visits FOR VALUES FROM ('2020-01-01') TO ('2040-01-01');
         INSERT INTO visits VALUES (1, 1, '2010-01-01'), (2, 1, '2030-01-01');
         CREATE UNIQUE INDEX people_pkey_idx ON people (id);
         ALTER TABLE people ADD CONSTRAINT people_pkey PRIMARY KEY USING INDEX people_pkey_idx;
         INSERT INTO people VALUES (1, 'a'); INSERT INTO orders VALUES (1, 1, NULL);",
    );
    let mut first = db.client();
    let mut second = db.client();
    for held in Lock::ALL {
        for asked in Lock::ALL {
            first.batch_execute("BEGIN").unwrap();
            first
                .batch_execute(&format!("LOCK TABLE people IN {} MODE", held.sql()))
                .unwrap();
            second.batch_execute("BEGIN").unwrap();
            let waited = second
                .batch_execute(&format!("LOCK TABLE people IN {} MODE NOWAIT", asked.sql()))
                .is_err();
            second.batch_execute("ROLLBACK").unwrap();
            first.batch_execute("ROLLBACK").unwrap();
            assert_eq!(
                held.conflicts(asked),
                waited,
                "{held:?} held, {asked:?} asked"
            );
        }
    }

    let entry = |kind: &str, sql: &str| DumpEntry {
        kind: kind.into(),
        sql: sql.into(),
    };
    let partitions = ["visits_old", "visits_new"].map(|name| TableName {
        schema: "public".into(),
        name: name.into(),
    });
    for (entry, partitions, steps) in [
        (
            entry(
                "FK CONSTRAINT",
                "ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_person_id_fkey FOREIGN KEY (person_id) REFERENCES public.people(id);\n",
            ),
            &[][..],
            2,
        ),
        // A partitioned table's key: added as written, every partition validated.
        (
            entry(
                "FK CONSTRAINT",
                "ALTER TABLE public.visits\n    ADD CONSTRAINT visits_person_id_fkey FOREIGN KEY (person_id) REFERENCES public.people(id);\n",
            ),
            &partitions[..],
            1,
        ),
        (
            entry(
                "CONSTRAINT",
                "ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n",
            ),
            &[],
            2,
        ),
        (
            entry(
                "INDEX",
                "CREATE INDEX orders_person_id_idx ON public.orders USING btree (person_id);\n",
            ),
            &[],
            1,
        ),
        (
            entry(
                "CONSTRAINT",
                "ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_during_excl EXCLUDE USING gist (during WITH &&);\n",
            ),
            &[],
            1,
        ),
    ] {
        let planned = pool_steps(&entry, partitions);
        assert_eq!(planned.len(), steps, "{}", entry.sql);
        // Steps run in order, each committed (the validation needs the key added).
        for (statement, locks) in planned {
            first.batch_execute("BEGIN").unwrap();
            first.batch_execute(&statement).unwrap();
            let taken: Vec<(String, Vec<String>)> = first
                .query(
                    "SELECT relation::regclass::text, array_agg(mode::text) FROM pg_locks \
                     WHERE pid = pg_backend_pid() AND locktype = 'relation' \
                       AND relation IN (SELECT oid FROM pg_class WHERE relkind IN ('r', 'p') \
                                        AND relnamespace = 'public'::regnamespace) \
                     GROUP BY 1 ORDER BY 1",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            first.batch_execute("COMMIT").unwrap();
            let mut modelled: Vec<(String, Vec<String>)> = locks
                .iter()
                .map(|(table, lock)| (table.name.clone(), vec![lock.pg_locks_mode().to_string()]))
                .collect();
            modelled.sort();
            // The strongest mode the server took on each table (a plain read, ACCESS SHARE,
            // aside: only ACCESS EXCLUSIVE conflicts with it) is the one the pool scheduled.
            let level = |mode: &String| {
                [
                    "AccessShareLock",
                    "RowShareLock",
                    "RowExclusiveLock",
                    "ShareUpdateExclusiveLock",
                    "ShareLock",
                    "ShareRowExclusiveLock",
                    "ExclusiveLock",
                    "AccessExclusiveLock",
                ]
                .iter()
                .position(|known| known == mode)
                .unwrap_or_else(|| panic!("unknown lock mode {mode}"))
            };
            let taken: Vec<(String, Vec<String>)> = taken
                .into_iter()
                .filter_map(|(table, modes)| {
                    let strongest = modes.into_iter().max_by_key(level)?;
                    (strongest != "AccessShareLock").then(|| (table, vec![strongest]))
                })
                .collect();
            assert_eq!(taken, modelled, "{statement}");
        }
    }
}

/// A foreign key is validated with hash joins off (so the check is a merge join of two index
/// scans) exactly when every relation it checks (the table, or each leaf partition) has a plain
/// btree index leading with the key's columns, in any order; otherwise the planner's own choice
/// stands. The key is still checked: a row without its referenced key fails the validation.
#[test]
fn a_key_is_validated_in_key_order_only_when_its_columns_lead_an_index() {
    use pullprod::policy::model::TableName;
    use pullprod::postdata::pool_steps;
    use pullprod::target::DumpEntry;

    let db = TestDb::new("key_order");
    db.exec(
        "CREATE TABLE people (id int PRIMARY KEY, team int NOT NULL, UNIQUE (id, team));
         INSERT INTO people SELECT i, i % 3 FROM generate_series(1, 100) i;
         CREATE TABLE indexed (person_id int, team int);
         CREATE INDEX indexed_person_idx ON indexed (person_id, team);
         CREATE TABLE unindexed (person_id int, team int);
         CREATE INDEX unindexed_team_idx ON unindexed (team, person_id) WHERE team > 0;
         CREATE TABLE pair (person_id int, team int);
         CREATE INDEX pair_idx ON pair (team, person_id);
         CREATE TABLE wrong_pair (person_id int, team int, other int);
         CREATE INDEX wrong_pair_idx ON wrong_pair (person_id, other, team);
         CREATE TABLE visits (person_id int, at date NOT NULL) PARTITION BY RANGE (at);
         CREATE TABLE visits_old PARTITION OF visits FOR VALUES FROM ('2000-01-01') TO ('2020-01-01');
         CREATE TABLE visits_new PARTITION OF visits FOR VALUES FROM ('2020-01-01') TO ('2040-01-01');
         CREATE INDEX visits_old_idx ON visits_old (person_id);
         CREATE INDEX visits_new_idx ON visits_new (person_id, at);
         CREATE TABLE codes (code text PRIMARY KEY);
         INSERT INTO codes SELECT 'c' || i FROM generate_series(1, 100) i;
         CREATE TABLE coded (code text);
         CREATE INDEX coded_code_idx ON coded (code text_pattern_ops);
         INSERT INTO coded SELECT 'c' || i FROM generate_series(1, 100) i;
         CREATE TABLE calls (person_id int, at date NOT NULL) PARTITION BY RANGE (at);
         CREATE TABLE calls_old PARTITION OF calls FOR VALUES FROM ('2000-01-01') TO ('2020-01-01');
         CREATE TABLE calls_new PARTITION OF calls FOR VALUES FROM ('2020-01-01') TO ('2040-01-01');
         CREATE INDEX calls_old_idx ON calls_old (person_id);
         INSERT INTO indexed SELECT i, i % 3 FROM generate_series(1, 100) i;
         INSERT INTO unindexed SELECT i, i % 3 FROM generate_series(1, 100) i;
         INSERT INTO pair SELECT i, i % 3 FROM generate_series(1, 100) i;
         INSERT INTO wrong_pair SELECT i, i % 3, 0 FROM generate_series(1, 100) i;
         INSERT INTO visits SELECT 1 + i % 100, DATE '2010-01-01' + i * 30 FROM generate_series(1, 300) i;
         INSERT INTO calls SELECT 1 + i % 100, DATE '2010-01-01' + i * 30 FROM generate_series(1, 300) i;",
    );
    let leaves = |names: &[&str]| -> Vec<TableName> {
        names
            .iter()
            .map(|name| TableName {
                schema: "public".into(),
                name: (*name).into(),
            })
            .collect()
    };
    let mut client = db.client();
    for (table, columns, partitions, in_key_order) in [
        ("indexed", "person_id", leaves(&[]), true),
        ("unindexed", "person_id", leaves(&[]), false),
        ("pair", "person_id, team", leaves(&[]), true),
        ("wrong_pair", "person_id, team", leaves(&[]), false),
        // Not in the type's default ordering: a merge join would have to sort.
        ("coded", "code", leaves(&[]), false),
        (
            "visits",
            "person_id",
            leaves(&["visits_old", "visits_new"]),
            true,
        ),
        (
            "calls",
            "person_id",
            leaves(&["calls_old", "calls_new"]),
            false,
        ),
    ] {
        let referenced = match (table, columns.contains(',')) {
            ("coded", _) => "codes(code)",
            (_, true) => "people(id, team)",
            (_, false) => "people(id)",
        };
        let only = if partitions.is_empty() { "ONLY " } else { "" };
        let entry = DumpEntry {
            kind: "FK CONSTRAINT".into(),
            sql: format!(
                "ALTER TABLE {only}public.{table}\n    ADD CONSTRAINT {table}_fkey FOREIGN KEY ({columns}) REFERENCES public.{referenced};\n"
            ),
        };
        let steps = pool_steps(&entry, &partitions);
        let (validate, _) = steps.last().expect("a step that validates");
        for (statement, _) in &steps[..steps.len() - 1] {
            client.batch_execute(statement).unwrap();
        }
        client.batch_execute("BEGIN").unwrap();
        client
            .batch_execute(validate)
            .unwrap_or_else(|err| panic!("{table}: {err:?}"));
        let hash_joins: String = client
            .query_one("SELECT current_setting('enable_hashjoin')", &[])
            .unwrap()
            .get(0);
        client.batch_execute("COMMIT").unwrap();
        assert_eq!(
            hash_joins,
            if in_key_order { "off" } else { "on" },
            "{table}"
        );
        // Only for that transaction.
        let after: String = client
            .query_one("SELECT current_setting('enable_hashjoin')", &[])
            .unwrap()
            .get(0);
        assert_eq!(after, "on", "{table}");
    }
    let validated = db.count(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND conparentid = 0",
    );
    assert_eq!(validated, 7);

    // Still a check: a row whose key is missing fails the validation, in key order too.
    db.exec(
        "ALTER TABLE indexed DROP CONSTRAINT indexed_fkey;
         INSERT INTO indexed VALUES (1000, 1);",
    );
    let entry = DumpEntry {
        kind: "FK CONSTRAINT".into(),
        sql: "ALTER TABLE ONLY public.indexed\n    ADD CONSTRAINT indexed_fkey FOREIGN KEY (person_id) REFERENCES public.people(id);\n".into(),
    };
    let steps = pool_steps(&entry, &[]);
    client.batch_execute(&steps[0].0).unwrap();
    let err = client
        .batch_execute(&steps[1].0)
        .expect_err("the missing key is found");
    assert!(
        err.to_string().contains("violates foreign key constraint")
            || format!("{err:?}").contains("23503"),
        "{err:?}"
    );
}
