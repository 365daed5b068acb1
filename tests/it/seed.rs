//! `seed-dev`: synthetic rows that satisfy every constraint (FK order, cycles, unique, CHECK,
//! enums, domains, identity, generated), and loading the newest unexpired anonymised dump.

use std::path::{Path, PathBuf};

use pullprod::conn::Settings;
use pullprod::dumpfile::{DumpOptions, ToFile};
use pullprod::policy::model::{
    ColumnRule, Origin, Policy, Rule, Strategy, TableAction, TableName, TableRule,
};
use pullprod::pull::{self, PullOptions, PullRequest};
use pullprod::seed::{self, SchemaSource, SeedOptions, SeedRequest};
use pullprod::transform::Salt;

use crate::support::TestDb;

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn column_rule(column: &str, strategy: Strategy) -> ColumnRule {
    ColumnRule {
        column: column.into(),
        rule: Rule {
            strategy,
            unique: false,
            reason: None,
            not_sensitive: None,
        },
        origin: Origin::default(),
    }
}

fn table_rule(name: &str, seed_rows: Option<u64>, columns: Vec<ColumnRule>) -> TableRule {
    TableRule {
        table: TableName::new("public", name),
        origin: Origin::default(),
        action: TableAction::Copy,
        filter: None,
        seed_rows,
        subset: Default::default(),
        columns,
    }
}

fn seed_request(
    target: &TestDb,
    policy: Policy,
    schema: SchemaSource,
    rows: Option<u64>,
) -> SeedRequest {
    SeedRequest {
        target: Settings::parse(target.url()).expect("target settings"),
        policy,
        salt: Salt::new(b"seed salt".to_vec()),
        schema,
        dumps: None,
        options: SeedOptions {
            synthetic: true,
            rows,
            quiet: true,
            ..SeedOptions::default()
        },
    }
}

/// Every constraint of the database re-checked from scratch: drop and re-add it as it was.
fn revalidate_all_constraints(db: &TestDb) -> usize {
    let mut client = db.client();
    let constraints: Vec<(String, String, String)> = client
        .query(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c \
             JOIN pg_namespace n ON n.oid = c.connamespace \
             WHERE c.contype IN ('f', 'c', 'u') AND c.conrelid <> 0 AND n.nspname = 'public' \
               AND c.conparentid = 0 AND c.conislocal \
             ORDER BY c.contype = 'f', 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    for (table, name, definition) in &constraints {
        let sql = format!(
            "BEGIN; ALTER TABLE {table} DROP CONSTRAINT \"{name}\" CASCADE; \
             ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {definition}; ROLLBACK"
        );
        client.batch_execute(&sql).unwrap_or_else(|err| {
            let detail = err.as_db_error().map(|db| db.message().to_string());
            panic!("constraint `{name}` on {table} does not hold: {err} {detail:?}")
        });
    }
    constraints.len()
}

#[test]
fn seed_synthetic_honours_every_constraint() {
    let target = TestDb::new("seed_constraints");
    target.exec("CREATE TABLE old_marker (x int)");
    let policy = Policy {
        tables: vec![
            table_rule(
                "customers",
                Some(40),
                vec![
                    column_rule("id", Strategy::Keep),
                    column_rule("email", Strategy::Keep),
                    // `null` on a NOT NULL column still gives a value; on a nullable one, NULL.
                    column_rule("full_name", Strategy::Null),
                    column_rule("secret", Strategy::Null),
                    column_rule("code", Strategy::Keep),
                    column_rule("score", Strategy::Keep),
                    column_rule("born", Strategy::Keep),
                    column_rule("referrer_id", Strategy::Keep),
                    column_rule("doubled", Strategy::Keep),
                ],
            ),
            table_rule("products", None, Vec::new()),
        ],
    };
    let summary = seed::run(&seed_request(
        &target,
        policy,
        SchemaSource::Migrations(data("seed_migrations")),
        Some(25),
    ))
    .expect("seed-dev --synthetic");
    assert_eq!(summary.from_dump, None);
    let rows = |name: &str| {
        summary
            .tables
            .iter()
            .find(|(table, _, _)| table.name == name)
            .map(|(_, inserted, left_out)| (*inserted, *left_out))
            .unwrap_or_else(|| panic!("{name} seeded"))
    };
    assert_eq!(
        rows("customers"),
        (40, 0),
        "the policy's `rows` wins, CHECKs retried with small values"
    );
    assert_eq!(rows("products"), (25, 0), "`--rows`");
    assert_eq!(rows("orders"), (25, 0));

    assert_eq!(target.count("SELECT count(*) FROM customers"), 40);
    assert_eq!(
        target.count(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'old_marker'"
        ),
        0,
        "swapped in"
    );
    assert_eq!(
        target.count("SELECT count(*) FROM customers WHERE secret IS NOT NULL"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM customers WHERE full_name IS NULL"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM customers WHERE doubled <> id * 2"),
        0,
        "generated column computed"
    );
    assert_eq!(
        target.count("SELECT count(DISTINCT score) FROM customers"),
        9
    );
    assert_eq!(
        target.count("SELECT count(*) FROM customers WHERE referrer_id IS NULL"),
        0,
        "self-reference filled"
    );
    assert_eq!(
        target.count("SELECT count(DISTINCT status) FROM orders"),
        4,
        "every enum label used"
    );
    assert_eq!(
        target.count("SELECT count(*) FROM products WHERE price <= 0"),
        0
    );
    assert!(target.count("SELECT count(*) FROM customers WHERE email LIKE '%@example.com'") > 0);
    let revalidated = revalidate_all_constraints(&target);
    assert_eq!(
        revalidated, 11,
        "every unique, CHECK and foreign key re-checked"
    );
    // Domain checks and NOT NULL hold too (the server enforced them on COPY; say it again).
    assert_eq!(
        target.count(
            r"SELECT count(*) FROM customers WHERE code = '' OR code ~ '\s' OR length(code) > 6"
        ),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM orders WHERE quantity NOT BETWEEN 1 AND 4"),
        0
    );
    // Identity and serial sequences continue after the generated keys.
    assert_eq!(
        target.count("INSERT INTO customers (email, full_name, code, score, born) VALUES ('n@x', 'n', 'n1', 1, '2024-01-01') RETURNING id::bigint"
        ),
        41
    );
    assert_eq!(
        target.count("INSERT INTO products (sku, price) VALUES ('new', 1) RETURNING id::bigint"),
        26
    );
    assert_eq!(
        target.count("SELECT sum(n)::bigint FROM order_counts"),
        25,
        "materialized view refreshed"
    );
}

#[test]
fn seed_synthetic_breaks_foreign_key_cycles() {
    let target = TestDb::new("seed_cycle");
    let summary = seed::run(&seed_request(
        &target,
        Policy::default(),
        SchemaSource::Migrations(data("seed_cycle_migrations")),
        Some(12),
    ))
    .expect("seed-dev --synthetic on a cycle");
    for (table, inserted, left_out) in &summary.tables {
        assert_eq!((*inserted, *left_out), (12, 0), "{table}");
    }
    assert_eq!(summary.tables.len(), 3);
    assert_eq!(
        target.count("SELECT count(*) FROM teams WHERE captain_id IS NULL"),
        0,
        "cycle closed"
    );
    assert_eq!(target.count("SELECT count(*) FROM players"), 12);
    assert_eq!(
        target.count("SELECT count(*) FROM employees WHERE mentor_id IS NULL"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM employees WHERE manager_id = id"),
        1,
        "the root manages itself"
    );
    assert!(revalidate_all_constraints(&target) >= 5);
}

#[test]
fn seed_schema_from_the_migrations_command() {
    let target = TestDb::new("seed_command");
    let fixture = data("seed_cycle_migrations/001_cycle.sql");
    let schema = SchemaSource::Command {
        command: format!(
            "psql -X -q -v ON_ERROR_STOP=1 -d \"$DATABASE_URL\" -f '{}'",
            fixture.display()
        ),
        dir: std::env::temp_dir(),
    };
    let summary = seed::run(&seed_request(&target, Policy::default(), schema, Some(3)))
        .expect("seed-dev with a migrations command");
    assert_eq!(summary.tables.len(), 3);
    assert_eq!(target.count("SELECT count(*) FROM players"), 3);

    let failing = SchemaSource::Command {
        command: "echo 'no such migration' >&2; exit 3".into(),
        dir: std::env::temp_dir(),
    };
    let err = seed::run(&seed_request(&target, Policy::default(), failing, Some(3)))
        .expect_err("a failing migrations command");
    let message = format!("{err:#}");
    assert!(message.contains("no such migration"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(
        target.count("SELECT count(*) FROM players"),
        3,
        "the dev database is as it was"
    );
}

#[test]
fn seed_schema_from_a_database() {
    let source = TestDb::new("seed_schema_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let target = TestDb::new("seed_schema_dst");
    let summary = seed::run(&seed_request(
        &target,
        Policy::default(),
        SchemaSource::Database(Settings::parse(source.url()).unwrap()),
        Some(30),
    ))
    .expect("seed-dev --schema-from");
    assert!(
        summary
            .tables
            .iter()
            .all(|(_, inserted, _)| *inserted == 30),
        "{:?}",
        summary.tables
    );
    assert_eq!(target.count("SELECT count(*) FROM people"), 30);
    assert_eq!(
        target.count("SELECT count(*) FROM events"),
        30,
        "partitioned table filled through its parent"
    );
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE secret LIKE 'secret-%'"),
        0,
        "no source rows read"
    );
    assert_eq!(target.count("SELECT n FROM people_count"), 30);
    revalidate_all_constraints(&target);
}

#[test]
fn seed_loads_the_newest_unexpired_dump() {
    let source = TestDb::new("seed_dump_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let target = TestDb::new("seed_dump_dst");
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A dump folder we did not create must be private already (it is never chmod'ed).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let dumps = DumpOptions {
        dir: Some(dir.path().to_path_buf()),
        project: "shop".into(),
        retention_days: Some(2),
        state_dir: Some(state.path().to_path_buf()),
    };
    let mut policy = Policy {
        tables: vec![
            table_rule(
                "people",
                None,
                ["id", "email", "code", "moods", "boss", "doubled"]
                    .iter()
                    .map(|c| column_rule(c, Strategy::Keep))
                    .chain([column_rule("secret", Strategy::Null)])
                    .collect(),
            ),
            table_rule(
                "orders",
                None,
                ["id", "person_id", "note", "total"]
                    .iter()
                    .map(|c| column_rule(c, Strategy::Keep))
                    .collect(),
            ),
            table_rule(
                "events",
                None,
                ["at", "person_id", "payload"]
                    .iter()
                    .map(|c| column_rule(c, Strategy::Keep))
                    .collect(),
            ),
            TableRule {
                action: TableAction::Skip,
                ..table_rule("sessions", None, Vec::new())
            },
        ],
    };
    policy.sort();
    let pull_request = PullRequest {
        source_name: "staging".into(),
        source: Settings::parse(source.url()).unwrap(),
        destination: pullprod::pull::Destination::File(ToFile {
            path: None,
            dump: dumps.clone(),
        }),
        policy: policy.clone(),
        policy_sha256: "0".repeat(64),
        commit: None,
        salt: Salt::new(b"s".to_vec()),
        schema: Default::default(),
        options: PullOptions {
            quiet: true,
            audit_log: Some(state.path().join("audit.log")),
            ..PullOptions::default()
        },
    };
    pull::run(&pull_request).expect("pull to file");
    let dump_path = dir.path().join("shop.sql");
    assert!(
        dump_path.is_file(),
        "default name `<project>.sql` in the dump dir"
    );

    let mut request = seed_request(
        &target,
        policy,
        SchemaSource::Migrations(data("seed_cycle_migrations")),
        Some(5),
    );
    request.dumps = Some(dumps);
    request.options.synthetic = false;
    let summary = seed::run(&request).expect("seed-dev from the dump");
    assert_eq!(summary.from_dump, Some(dump_path));
    assert_eq!(target.count("SELECT count(*) FROM people"), 50);
    assert_eq!(target.count("SELECT count(*) FROM orders"), 200);
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE secret IS NOT NULL"),
        0
    );
    assert_eq!(target.count("SELECT nextval('orders_id_seq')"), 201);

    // `--synthetic` ignores the dump.
    request.options.synthetic = true;
    let summary = seed::run(&request).expect("seed-dev --synthetic");
    assert_eq!(summary.from_dump, None);
    assert_eq!(target.count("SELECT count(*) FROM teams"), 5);
    assert_eq!(
        target.count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'people'"),
        0
    );
}

/// The demo project: its migrations and its own policy, whose strategies generate the values.
#[test]
fn seed_demo_shop_from_its_migrations_and_policy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (config, _) = pullprod::config::load(Some(&root.join("Cargo.toml"))).expect("demo config");
    let policy = demo_policy(&config);
    let target = TestDb::new("seed_demo");
    let summary = seed::run(&seed_request(
        &target,
        policy,
        SchemaSource::Migrations(root.join("migrations")),
        Some(40),
    ))
    .expect("seed-dev --synthetic on the demo");
    let mut client = target.client();
    for (table, inserted, left_out) in &summary.tables {
        if policy_skips(&config, table) {
            assert_eq!(*inserted, 0, "`{table}` is `skip`: schema only");
            continue;
        }
        let rows: i64 = client
            .query_one(&format!("SELECT count(*) FROM {}", table.quoted()), &[])
            .unwrap()
            .get(0);
        assert!(
            rows > 0,
            "`{table}` has rows ({inserted} inserted, {left_out} left out)"
        );
    }
    assert_eq!(
        target.count("SELECT count(*) FROM countries"),
        16,
        "reference data kept as migrated"
    );
    assert_eq!(target.count("SELECT count(*) FROM users"), 40);
    // The policy's strategies made the values: fake emails, the constant password digest.
    assert_eq!(
        target.count("SELECT count(*) FROM users WHERE email::text LIKE 'user%@example.com'"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM users WHERE email::text LIKE '%@%'"),
        40
    );
    assert_eq!(
        target.count("SELECT count(DISTINCT password_digest) FROM users"),
        1
    );
    revalidate_all_constraints(&target);
}

fn demo_policy(config: &pullprod::config::Config) -> Policy {
    let (policy, diagnostics) = pullprod::config::load_policy(config);
    policy.unwrap_or_else(|| panic!("demo policy is valid: {diagnostics:?}"))
}

fn policy_skips(config: &pullprod::config::Config, table: &TableName) -> bool {
    demo_policy(config)
        .table(table)
        .is_some_and(|rule| rule.action == TableAction::Skip)
}
