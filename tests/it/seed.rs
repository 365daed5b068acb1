//! `seed-dev`: synthetic rows that satisfy every constraint (FK order, cycles, unique, CHECK,
//! enums, domains, identity, generated, partition bounds), loading the newest unexpired
//! anonymised dump first, and never writing a source.

use std::path::{Path, PathBuf};

use pullprod::conn::Settings;
use pullprod::dumpfile::{DumpOptions, ToFile};
use pullprod::policy::model::{
    ColumnRule, Origin, Policy, Rule, Strategy, TableAction, TableName, TableRule,
};
use pullprod::pull::{self, PullOptions, PullRequest};
use pullprod::seed::{self, SchemaSource, SeedOptions, SeedRequest};
use pullprod::transform::Salt;

use crate::support::{Project, TestDb};

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
        schema: Some(schema),
        protected: Vec::new(),
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

const SMALL_SHOP: &str = include_str!("../data/small_shop.sql");

/// The pull-prod fixture project with the small shop's schema as its migrations, its dumps in
/// a private folder of its own; `PROD_DATABASE_URL` names `source`.
struct CliSetup {
    project: Project,
    source: TestDb,
    dumps: tempfile::TempDir,
    state: tempfile::TempDir,
}

impl CliSetup {
    fn new(test: &str, migrations: bool) -> CliSetup {
        let source = TestDb::new(&format!("{test}_src"));
        source.exec(SMALL_SHOP);
        let project = Project::from_fixture("pull_project");
        let dumps = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dumps.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let manifest = project.read("Cargo.toml");
        project.write(
            "Cargo.toml",
            &format!(
                "{manifest}project = \"seedshop\"\ndump-dir = \"{}\"\nretention-days = 2\n",
                dumps.path().display()
            ),
        );
        if migrations {
            project.write("migrations/001_shop.sql", SMALL_SHOP);
        }
        project.git_commit_all("the fixture");
        CliSetup {
            project,
            source,
            dumps,
            state: tempfile::tempdir().unwrap(),
        }
    }

    /// Run the CLI with production and staging at `source` (as `production_url`) and the dev
    /// database at `target_url`: (exit code, all output).
    fn run(&self, args: &[&str], production_url: &str, target_url: &str) -> (i32, String) {
        let state = self.state.path().display().to_string();
        let env = [
            ("PROD_DATABASE_URL", production_url),
            ("STAGING_DATABASE_URL", self.source.url()),
            ("DATABASE_URL", target_url),
            ("PULLPROD_SALT", "a test salt that is long enough"),
            ("XDG_STATE_HOME", state.as_str()),
        ];
        let (code, stdout, stderr) = self.project.run_with_env(args, &env);
        (code, format!("{stdout}{stderr}"))
    }

    fn source_rows(&self) -> (i64, i64, i64) {
        (
            self.source.count("SELECT count(*) FROM people"),
            self.source.count("SELECT count(*) FROM orders"),
            self.source.count("SELECT count(*) FROM events"),
        )
    }
}

/// The databases whose name starts with `prefix` (a half-built `__pp_new_` one would show).
fn databases_like(db: &TestDb, prefix: &str) -> i64 {
    db.count(&format!(
        "SELECT count(*) FROM pg_database WHERE starts_with(datname, '{prefix}')"
    ))
}

#[test]
fn seed_refuses_the_production_source_spelled_three_other_ways() {
    let setup = CliSetup::new("seed_guard", true);
    let name = setup.source.name().to_string();
    let before = setup.source_rows();
    assert_eq!(before, (50, 200, 300));
    // Production as the plain database name; the dev database as the same one written as a
    // socket directory, a loopback address, and a URL.
    let production = format!("dbname={name}");
    let socket_dir: String = setup
        .source
        .client()
        .query_one(
            "SELECT split_part(current_setting('unix_socket_directories'), ',', 1)",
            &[],
        )
        .unwrap()
        .get(0);
    let port = setup.source.count("SELECT current_setting('port')::bigint");
    let spellings = [
        format!("host={socket_dir} port={port} dbname={name}"),
        format!("dbname={name} host=127.0.0.1 port={port}"),
        format!("postgresql://localhost:{port}/{name}?sslmode=disable"),
    ];
    for target in &spellings {
        let (code, output) = setup.run(
            &["seed-dev", "--synthetic", "--rows", "7"],
            &production,
            target,
        );
        assert_eq!(code, 2, "{target}: {output}");
        assert!(
            output.contains("is the source database itself (`production`"),
            "{target}: {output}"
        );
        assert!(!output.contains("filled"), "{output}");
        assert_eq!(
            setup.source_rows(),
            before,
            "production keeps every row: {target}"
        );
        assert_eq!(
            databases_like(&setup.source, &format!("{name}__pp")),
            0,
            "nothing was created before the check: {target}"
        );
    }
    // The same spellings of a database that is not a source are fine.
    let dev = TestDb::new("seed_guard_dev");
    let dev_url = format!("host=127.0.0.1 port={port} dbname={}", dev.name());
    let (code, output) = setup.run(
        &["seed-dev", "--synthetic", "--rows", "7"],
        &production,
        &dev_url,
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("with synthetic rows"), "{output}");
    assert_eq!(
        dev.count("SELECT count(*) FROM people"),
        50,
        "the migrations' own rows"
    );
    assert_eq!(setup.source_rows(), before);
}

#[test]
fn seed_refuses_a_remote_dev_database_without_the_flag() {
    let setup = CliSetup::new("seed_remote", true);
    let (code, output) = setup.run(
        &["seed-dev", "--synthetic"],
        setup.source.url(),
        "host=db.invalid port=5432 dbname=dev connect_timeout=2",
    );
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("--allow-remote-target"), "{output}");
}

#[test]
fn plain_seed_dev_with_only_a_dump_loads_the_dump() {
    // No migrations folder and no schema command: only the dump can fill the dev database.
    let setup = CliSetup::new("seed_only_dump", false);
    let target = TestDb::new("seed_only_dump_dst");
    let (code, output) = setup.run(&["seed-dev"], setup.source.url(), target.url());
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("no unexpired anonymised dump"), "{output}");
    assert!(output.contains("--schema-from"), "{output}");

    let (code, output) = setup.run(
        &["pull-prod", "--from", "staging", "--to-file"],
        setup.source.url(),
        target.url(),
    );
    assert_eq!(code, 0, "{output}");
    let dump = setup.dumps.path().join("seedshop.sql");
    assert!(dump.is_file(), "{output}");

    let (code, output) = setup.run(&["seed-dev"], setup.source.url(), target.url());
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("loaded the anonymised dump"), "{output}");
    assert_eq!(target.count("SELECT count(*) FROM people"), 50);
    assert_eq!(target.count("SELECT count(*) FROM orders"), 200);
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE secret IS NOT NULL"),
        0,
        "the anonymised rows, not production's"
    );
}

/// Every CHECK family seed-dev reads, domains, enums and partition bounds of every kind.
const CONSTRAINED: &str = r"
CREATE TYPE state AS ENUM ('draft', 'live');
CREATE DOMAIN short_name AS text CHECK (length(VALUE) <= 6 AND VALUE <> '');
CREATE DOMAIN percent AS int CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE checked (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status varchar(10) NOT NULL CHECK (status IN ('new', 'paid', 'sent')),
    kind text CHECK (upper(kind) = ANY (ARRAY['X', 'Y'])),
    tier text CHECK (lower(tier) IN ('gold', 'silver')),
    score int NOT NULL CHECK (score BETWEEN 1 AND 5),
    price numeric(6,2) CHECK (price > 0 AND price < 1000),
    ratio float8 CHECK (ratio >= 0.5 AND ratio <= 2),
    born date CHECK (born <= CURRENT_DATE),
    created_at timestamptz NOT NULL CHECK (created_at <= now()),
    expires_at timestamptz CHECK (expires_at > now()),
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    opened_at timestamp,
    closed_at timestamp,
    low int, mid int, high int,
    title text NOT NULL CHECK (char_length(title) >= 12),
    code varchar(20) CHECK (length(code) BETWEEN 3 AND 4),
    nick short_name NOT NULL,
    pct percent NOT NULL,
    st state NOT NULL,
    a int, b int,
    c int, d int,
    e text, f text,
    CHECK (starts_on < ends_on),
    CHECK (opened_at <= closed_at),
    CHECK (low < mid AND mid < high),
    CHECK (a IS NOT NULL OR b IS NOT NULL),
    CHECK (num_nonnulls(c, d) = 1),
    CHECK ((e IS NULL AND f IS NOT NULL) OR (e IS NOT NULL AND f IS NULL)),
    UNIQUE (title)
);
CREATE TABLE monthly (id int NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE monthly_2024_01 PARTITION OF monthly FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE monthly_2024_02 PARTITION OF monthly FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE TABLE stamped (at timestamptz NOT NULL, n int NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE stamped_2024_06 PARTITION OF stamped FOR VALUES FROM ('2024-06-01 00:00:00+00') TO ('2024-06-02 00:00:00+00');
CREATE TABLE regional (id int, region text NOT NULL, at date NOT NULL) PARTITION BY LIST (region);
CREATE TABLE regional_eu PARTITION OF regional FOR VALUES IN ('eu', 'uk');
CREATE TABLE regional_us PARTITION OF regional FOR VALUES IN ('us') PARTITION BY RANGE (at);
CREATE TABLE regional_us_2023 PARTITION OF regional_us FOR VALUES FROM (MINVALUE) TO ('2024-01-01');
CREATE TABLE regional_us_2024 PARTITION OF regional_us FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY HASH (id);
CREATE TABLE regional_us_2024_h0 PARTITION OF regional_us_2024 FOR VALUES WITH (modulus 2, remainder 0);
CREATE TABLE regional_us_2024_h1 PARTITION OF regional_us_2024 FOR VALUES WITH (modulus 2, remainder 1);
CREATE TABLE defaulted (id int, k int NOT NULL) PARTITION BY LIST (k);
CREATE TABLE defaulted_1 PARTITION OF defaulted FOR VALUES IN (1);
CREATE TABLE defaulted_other PARTITION OF defaulted DEFAULT;
CREATE TABLE hashed (id int NOT NULL, k text) PARTITION BY HASH (id);
CREATE TABLE hashed_0 PARTITION OF hashed FOR VALUES WITH (modulus 3, remainder 0);
CREATE TABLE hashed_1 PARTITION OF hashed FOR VALUES WITH (modulus 3, remainder 1);
CREATE TABLE hashed_2 PARTITION OF hashed FOR VALUES WITH (modulus 3, remainder 2);
";

fn migrations_of(sql: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("001_schema.sql"), sql).unwrap();
    dir
}

#[test]
fn seed_fills_partitions_and_every_check_family() {
    let target = TestDb::new("seed_checks");
    let migrations = migrations_of(CONSTRAINED);
    let summary = seed::run(&seed_request(
        &target,
        Policy::default(),
        SchemaSource::Migrations(migrations.path().to_path_buf()),
        Some(200),
    ))
    .expect("seed-dev --synthetic");
    assert_eq!(summary.rejected, Vec::new(), "nothing rejected");
    assert_eq!(summary.empty, Vec::<TableName>::new());
    for (table, inserted, left_out) in &summary.tables {
        assert_eq!((*inserted, *left_out), (200, 0), "{table}");
    }
    assert_eq!(
        summary.tables.len(),
        6,
        "partitions are filled through their root"
    );
    // Rows went round the partitions, every level of them.
    for (partition, rows) in [
        ("monthly_2024_01", 100),
        ("monthly_2024_02", 100),
        ("stamped_2024_06", 200),
        // Four leaves: eu, us before 2024, and the two hash partitions of us in 2024.
        ("regional_eu", 50),
        ("regional_us_2023", 50),
        ("regional_us_2024", 100),
    ] {
        assert_eq!(
            target.count(&format!("SELECT count(*) FROM {partition}")),
            rows,
            "{partition}"
        );
    }
    assert!(target.count("SELECT count(*) FROM regional_us_2024_h0") > 0);
    assert!(target.count("SELECT count(*) FROM defaulted_1") > 0);
    assert!(target.count("SELECT count(*) FROM defaulted_other") > 0);
    assert_eq!(target.count("SELECT count(DISTINCT at) FROM stamped"), 200);
    // The values use the room the constraints leave.
    assert_eq!(
        target.count("SELECT count(DISTINCT status) FROM checked"),
        3
    );
    assert_eq!(target.count("SELECT count(DISTINCT score) FROM checked"), 5);
    assert_eq!(
        target.count("SELECT count(*) FROM checked WHERE a IS NULL AND b IS NULL"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM checked WHERE num_nonnulls(c, d) <> 1"),
        0
    );
    revalidate_all_constraints(&target);
}

#[test]
fn seed_reports_what_no_variant_satisfies_and_strict_refuses() {
    let target = TestDb::new("seed_rejected");
    target.exec("CREATE TABLE old_marker (x int)");
    let migrations = migrations_of(
        "CREATE TABLE fine (id int PRIMARY KEY);
         CREATE TABLE odd (id int PRIMARY KEY, sku text NOT NULL CONSTRAINT sku_pattern CHECK (sku ~ '^[A-Z]{3}-[0-9]{4}$'));",
    );
    let mut request = seed_request(
        &target,
        Policy::default(),
        SchemaSource::Migrations(migrations.path().to_path_buf()),
        Some(20),
    );
    let summary = seed::run(&request).expect("a warning, not an error");
    assert_eq!(
        summary.rejected,
        vec![seed::Rejected {
            table: TableName::new("public", "odd"),
            constraint: "sku_pattern".into(),
            rows: 20,
        }]
    );
    assert_eq!(summary.empty, vec![TableName::new("public", "odd")]);
    assert_eq!(target.count("SELECT count(*) FROM fine"), 20);

    target.exec("CREATE TABLE old_marker (x int)");
    request.options.strict = true;
    let err = seed::run(&request).expect_err("--strict");
    let message = format!("{err:#}");
    assert!(message.contains("`public.odd`"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(
        target.count(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'old_marker'"
        ),
        1,
        "the dev database is as it was"
    );
}

/// Indexes of every kind, foreign keys that hold, one the schema left `NOT VALID`, and a
/// self-reference whose generated parents do not exist (`id` is shaped by its CHECK).
const INDEXED: &str = "
CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL, bio text, tags text[], born date);
CREATE INDEX authors_name ON authors (name);
CREATE INDEX authors_lower_name ON authors (lower(name)) WHERE bio IS NOT NULL;
CREATE INDEX authors_tags ON authors USING gin (tags);
CREATE INDEX authors_born ON authors USING brin (born);
CREATE UNIQUE INDEX authors_bio ON authors (bio);
CREATE INDEX authors_commented ON authors (born);
COMMENT ON INDEX authors_commented IS 'kept through the load';
CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors, editor_id int, title text);
CREATE INDEX books_author ON books (author_id);
ALTER TABLE books ADD CONSTRAINT books_editor FOREIGN KEY (editor_id) REFERENCES authors NOT VALID;
CREATE TABLE notes (id int PRIMARY KEY CHECK (id > 100), parent_id int NOT NULL REFERENCES notes, book_id int REFERENCES books);
CREATE TABLE events (id int NOT NULL, at date NOT NULL, book_id int REFERENCES books) PARTITION BY RANGE (at);
CREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE events_later PARTITION OF events FOR VALUES FROM ('2021-01-01') TO (MAXVALUE);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_2020_book ON events_2020 (book_id);
";

/// `(name, definition)` of every index and `(table, name, definition, validated)` of every
/// constraint of the `public` schema, sorted.
type Indexes = Vec<(String, String)>;
type Constraints = Vec<(String, String, String, bool)>;

fn schema_objects(db: &TestDb) -> (Indexes, Constraints) {
    let mut client = db.client();
    let indexes = client
        .query(
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let constraints = client
        .query(
            "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid), convalidated \
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
        .collect();
    (indexes, constraints)
}

#[test]
fn seed_builds_indexes_keys_and_statistics_after_the_load_as_the_schema_has_them() {
    let migrations = migrations_of(INDEXED);
    let reference = TestDb::new("seed_indexed_ref");
    seed::apply_migrations(
        migrations.path(),
        &Settings::parse(reference.url()).unwrap(),
    )
    .expect("the schema alone");
    let target = TestDb::new("seed_indexed");
    let summary = seed::run(&seed_request(
        &target,
        Policy::default(),
        SchemaSource::Migrations(migrations.path().to_path_buf()),
        Some(300),
    ))
    .expect("seed-dev --synthetic");
    let (indexes, constraints) = schema_objects(&target);
    assert_eq!(
        (indexes.clone(), constraints.clone()),
        schema_objects(&reference),
        "every index and constraint as the schema made it (`NOT VALID` included)"
    );
    assert!(indexes.len() >= 12, "{indexes:?}");
    assert_eq!(
        target.count(
            "SELECT count(*) FROM pg_description WHERE objoid = 'authors_commented'::regclass"
        ),
        1
    );
    assert_eq!(
        target.count("SELECT count(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready"),
        0
    );
    // The self-reference points at parents that do not exist: those rows are left out and said.
    assert_eq!(
        summary.rejected,
        vec![seed::Rejected {
            table: TableName::new("public", "notes"),
            constraint: "notes_parent_id_fkey".into(),
            rows: 300,
        }]
    );
    assert_eq!(summary.empty, vec![TableName::new("public", "notes")]);
    for (table, rows) in [("authors", 300), ("books", 300), ("events", 300)] {
        assert_eq!(
            target.count(&format!("SELECT count(*) FROM {table}")),
            rows,
            "{table}"
        );
    }
    revalidate_all_constraints(&target);
    // Statistics are there for every table that holds rows, partitions included.
    assert_eq!(
        target.count(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN \
             ('authors', 'books', 'events_2020', 'events_later') AND last_analyze IS NOT NULL"
        ),
        4
    );
    assert!(target.count("SELECT count(*) FROM pg_stats WHERE tablename = 'books'") >= 4);
}

#[test]
fn parallel_seeding_gives_the_same_rows_every_time() {
    // Many tables in a wide foreign-key graph, filled by several sessions at once.
    let schema = data("../../corpus/lobsters/schema.sql");
    let migrations = tempfile::tempdir().unwrap();
    std::fs::copy(&schema, migrations.path().join("schema.sql")).unwrap();
    let mut digests = Vec::new();
    for run in 0..2 {
        let target = TestDb::new(&format!("seed_same_{run}"));
        let summary = seed::run(&seed_request(
            &target,
            Policy::default(),
            SchemaSource::Migrations(migrations.path().to_path_buf()),
            Some(150),
        ))
        .expect("seed-dev --synthetic");
        assert_eq!(summary.empty, Vec::<TableName>::new());
        assert!(summary.tables.len() >= 30, "{}", summary.tables.len());
        let filled = crate::support::table_digests(&target);
        assert!(
            filled.iter().all(|(_, digest)| !digest.starts_with("0:")),
            "{filled:?}"
        );
        digests.push(filled);
    }
    assert_eq!(digests[0], digests[1]);
}
