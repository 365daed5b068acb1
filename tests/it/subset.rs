//! Subsets against real databases: a foreign-key-closed slice, cycles, composite keys,
//! the same slice with one worker or several, and `--plan` counts.

use std::path::PathBuf;

use pullprod::policy::{self, PolicyFile, model::Policy};
use pullprod::pull::{self, PullRequest};

use crate::pull::fingerprint;
use crate::support::TestDb;

const SHOP: &str = include_str!("../data/subset/shop.sql");

/// The shop policy: 5 % of users, their addresses and orders, the orders' items, the first 20
/// products, 10 % of reviews; shipments are restricted by closure, countries copied whole.
const SHOP_POLICY: &str = r#"
[countries]
keep = { reason = "lookup table" }

[users]
percent = 5
id = "keep"
email = "keep"
country = "keep"
referred_by = "keep"

[addresses]
follow = "users"
id = "keep"
user_id = "keep"
line = { keep = true, reason = "test fixture: made-up street lines" }

[orders]
follow = "users"
id = "keep"
user_id = "keep"
address_id = "keep"
placed_at = "keep"

[order_items]
follow = ["orders"]
keep = { reason = "no personal data" }

[products]
limit = 20
where = "products.price > 0"
keep = { reason = "catalogue" }

[reviews]
percent = 10
keep = { reason = "no personal data" }

[shipments]
keep = { reason = "no personal data" }
"#;

fn parse_policy(text: &str) -> Policy {
    let parsed = policy::parse(&[PolicyFile {
        path: PathBuf::from("policy/shop.toml"),
        text: text.to_string(),
    }]);
    assert!(
        parsed.diagnostics.is_empty(),
        "policy diagnostics: {:?}",
        parsed.diagnostics
    );
    parsed.policy
}

fn request(source: &TestDb, target: &TestDb, policy: Policy, jobs: usize) -> PullRequest {
    crate::support::pull_request(source, target, policy, jobs)
}

/// The slice, computed by hand in SQL on the source: table -> rows.
const SHOP_REFERENCE: &str = "
WITH RECURSIVE
  u0 AS (SELECT id FROM users WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 500),
  o0 AS (SELECT * FROM orders WHERE user_id IN (SELECT id FROM u0)),
  i0 AS (SELECT * FROM order_items WHERE order_id IN (SELECT id FROM o0)),
  rv AS (SELECT * FROM reviews WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 1000),
  i AS (SELECT * FROM order_items WHERE order_id IN (SELECT id FROM o0)
          OR (order_id, line_no) IN (SELECT order_id, line_no FROM rv)),
  o AS (SELECT * FROM orders WHERE id IN (SELECT order_id FROM i) OR id IN (SELECT id FROM o0)),
  a AS (SELECT * FROM addresses WHERE user_id IN (SELECT id FROM u0) OR id IN (SELECT address_id FROM o)),
  u(id) AS (SELECT id FROM (SELECT id FROM u0 UNION SELECT user_id FROM o UNION SELECT user_id FROM a) s
            UNION SELECT x.referred_by FROM users x JOIN u ON x.id = u.id WHERE x.referred_by IS NOT NULL),
  p AS (SELECT * FROM products WHERE id <= 20 OR id IN (SELECT product_id FROM i)),
  sh AS (SELECT * FROM shipments WHERE (order_id, line_no) IN (SELECT order_id, line_no FROM i0))
SELECT 'countries', (SELECT count(*) FROM countries)
UNION ALL SELECT 'users', (SELECT count(*) FROM u)
UNION ALL SELECT 'addresses', (SELECT count(*) FROM a)
UNION ALL SELECT 'orders', (SELECT count(*) FROM o)
UNION ALL SELECT 'order_items', (SELECT count(*) FROM i)
UNION ALL SELECT 'products', (SELECT count(*) FROM p)
UNION ALL SELECT 'reviews', (SELECT count(*) FROM rv)
UNION ALL SELECT 'shipments', (SELECT count(*) FROM sh)
ORDER BY 1";

fn counts_by_query(db: &TestDb, sql: &str) -> Vec<(String, i64)> {
    db.client()
        .query(sql, &[])
        .expect(sql)
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

fn table_counts(db: &TestDb, tables: &[&str]) -> Vec<(String, i64)> {
    let mut counts: Vec<(String, i64)> = tables
        .iter()
        .map(|table| {
            (
                table.to_string(),
                db.count(&format!("SELECT count(*) FROM {table}")),
            )
        })
        .collect();
    counts.sort();
    counts
}

const SHOP_TABLES: &[&str] = &[
    "countries",
    "users",
    "addresses",
    "orders",
    "order_items",
    "products",
    "reviews",
    "shipments",
];

/// Foreign keys that exist and are validated.
fn valid_foreign_keys(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated")
}

#[test]
fn five_percent_of_users_is_closed_under_foreign_keys() {
    let source = TestDb::new("subset_shop_src");
    source.exec(SHOP);
    let target = TestDb::new("subset_shop_dst");
    pull::run(&request(&source, &target, parse_policy(SHOP_POLICY), 2)).expect("subset pull");

    // Every foreign key of the source was created on the slice (post-data), so each holds.
    assert_eq!(valid_foreign_keys(&source), 9);
    assert_eq!(valid_foreign_keys(&target), 9);
    let expected = counts_by_query(&source, SHOP_REFERENCE);
    assert_eq!(table_counts(&target, SHOP_TABLES), expected);
    // A slice, not the whole: and one in which the closure did pull rows in.
    let users = target.count("SELECT count(*) FROM users");
    assert!((40..400).contains(&users), "{users} users");
    assert!(
        target.count("SELECT count(*) FROM users WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 >= 500"
        ) > 0,
        "referrers and other users' addresses pull users in"
    );
    assert!(target.count("SELECT count(*) FROM products WHERE id > 20") > 0);
}

#[test]
fn plan_counts_the_rows_each_table_contributes() {
    let source = TestDb::new("subset_plan_src");
    source.exec(SHOP);
    let target = TestDb::new("subset_plan_dst");
    target.exec("CREATE TABLE old_marker (x int)");
    let mut plan_request = request(&source, &target, parse_policy(SHOP_POLICY), 2);
    plan_request.options.plan_only = true;
    let summary = pull::run(&plan_request).expect("plan");
    let planned: Vec<(String, i64)> = summary
        .subset_rows
        .iter()
        .map(|(table, n_rows)| (table.name.clone(), *n_rows))
        .collect();
    let mut expected: Vec<(String, i64)> = counts_by_query(&source, SHOP_REFERENCE)
        .into_iter()
        .filter(|(table, _)| table != "countries")
        .collect();
    expected.sort();
    let mut planned_sorted = planned.clone();
    planned_sorted.sort();
    assert_eq!(planned_sorted, expected);
    assert!(summary.copied.is_empty());
    assert_eq!(
        target.count(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'old_marker'"
        ),
        1,
        "the plan touches nothing"
    );
}

#[test]
fn the_slice_is_the_same_with_one_worker_and_several() {
    let source = TestDb::new("subset_jobs_src");
    source.exec(SHOP);
    let one = TestDb::new("subset_jobs_one");
    let three = TestDb::new("subset_jobs_three");
    pull::run(&request(&source, &one, parse_policy(SHOP_POLICY), 1)).expect("one worker");
    pull::run(&request(&source, &three, parse_policy(SHOP_POLICY), 3)).expect("three workers");
    let fingerprint_one = fingerprint(&one);
    assert_eq!(fingerprint_one.len(), SHOP_TABLES.len());
    assert_eq!(fingerprint_one, fingerprint(&three));
    assert_eq!(
        table_counts(&one, SHOP_TABLES),
        counts_by_query(&source, SHOP_REFERENCE)
    );
}

#[test]
fn nullify_drops_references_instead_of_pulling_rows() {
    let source = TestDb::new("subset_null_src");
    source.exec(SHOP);
    let target = TestDb::new("subset_null_dst");
    let policy_text = SHOP_POLICY
        .replace(
            "[users]\npercent = 5\n",
            "[users]\npercent = 5\nnullify = [\"referred_by\"]\n",
        )
        .replace("[shipments]\n", "[shipments]\nfollow = \"order_items\"\n");
    assert!(policy_text.contains("nullify"));
    pull::run(&request(&source, &target, parse_policy(&policy_text), 2)).expect("subset pull");
    assert_eq!(valid_foreign_keys(&target), 9);

    let reference = "
WITH
  u0 AS (SELECT id FROM users WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 500),
  o0 AS (SELECT * FROM orders WHERE user_id IN (SELECT id FROM u0)),
  rv AS (SELECT * FROM reviews WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 1000),
  i AS (SELECT * FROM order_items WHERE order_id IN (SELECT id FROM o0)
          OR (order_id, line_no) IN (SELECT order_id, line_no FROM rv)),
  o AS (SELECT * FROM orders WHERE id IN (SELECT order_id FROM i) OR id IN (SELECT id FROM o0)),
  a AS (SELECT * FROM addresses WHERE user_id IN (SELECT id FROM u0) OR id IN (SELECT address_id FROM o)),
  u AS (SELECT * FROM users WHERE id IN (SELECT id FROM u0 UNION SELECT user_id FROM o UNION SELECT user_id FROM a))
SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM u WHERE referred_by IN (SELECT id FROM u)),
       (SELECT count(*) FROM u WHERE referred_by IS NOT NULL)";
    let row = source.client().query_one(reference, &[]).unwrap();
    let (users, kept_referrals, referrals): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(target.count("SELECT count(*) FROM users"), users);
    assert_eq!(
        target.count("SELECT count(*) FROM users WHERE referred_by IS NOT NULL"),
        kept_referrals
    );
    assert!(
        kept_referrals < referrals,
        "some references were set to NULL"
    );
    assert_eq!(
        table_counts(&target, &["orders", "order_items", "shipments"]),
        {
            let mut expected: Vec<(String, i64)> = counts_by_query(&source, SHOP_REFERENCE)
                .into_iter()
                .filter(|(table, _)| {
                    ["orders", "order_items", "shipments"].contains(&table.as_str())
                })
                .collect();
            expected.sort();
            expected
        }
    );
}

const TEAMS: &str = "
CREATE TABLE teams (id int PRIMARY KEY, captain_id int, name text NOT NULL);
CREATE TABLE players (id int PRIMARY KEY, team_id int NOT NULL REFERENCES teams,
                      mentor_id int REFERENCES players, name text NOT NULL);
ALTER TABLE teams ADD FOREIGN KEY (captain_id) REFERENCES players;
INSERT INTO teams VALUES (1, NULL, 'one'), (2, NULL, 'two'), (3, NULL, 'three'),
                         (4, NULL, 'four'), (5, NULL, 'five'), (6, NULL, 'six');
INSERT INTO players VALUES (1, 1, NULL, 'a'), (2, 1, NULL, 'b'), (3, 2, NULL, 'c'), (6, 5, NULL, 'f'),
                           (7, 6, NULL, 'g');
INSERT INTO players VALUES (5, 4, 6, 'e');
INSERT INTO players VALUES (4, 3, 5, 'd'), (8, 2, 7, 'h');
UPDATE teams SET captain_id = CASE id WHEN 1 THEN 3 WHEN 2 THEN 4 WHEN 3 THEN 1 WHEN 5 THEN 6 WHEN 6 THEN 7 END;
";

const TEAMS_POLICY: &str = r#"
[teams]
limit = 1
keep = { reason = "test" }

[players]
follow = "teams"
keep = { reason = "test" }
"#;

fn ids(db: &TestDb, table: &str) -> Vec<i32> {
    db.client()
        .query(&format!("SELECT id FROM {table} ORDER BY id"), &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn self_references_and_a_two_table_cycle_terminate() {
    let source = TestDb::new("subset_cycle_src");
    source.exec(TEAMS);
    let target = TestDb::new("subset_cycle_dst");
    pull::run(&request(&source, &target, parse_policy(TEAMS_POLICY), 2)).expect("subset pull");
    // Team 1 and its players 1, 2; captain 3 pulls team 2, whose captain 4 pulls team 3 and
    // mentor 5, who pulls team 4 and mentor 6, who pulls team 5 (captained by 6 again).
    // Player 8 plays for team 2, but team 2 was only pulled in: `follow` does not reach him.
    assert_eq!(ids(&target, "teams"), vec![1, 2, 3, 4, 5]);
    assert_eq!(ids(&target, "players"), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(valid_foreign_keys(&target), 3);
}

#[test]
fn a_follow_cycle_is_refused_before_reading_rows() {
    let source = TestDb::new("subset_fcycle_src");
    source.exec(TEAMS);
    let target = TestDb::new("subset_fcycle_dst");
    target.exec("CREATE TABLE old_marker (x int)");
    let policy = parse_policy(
        r#"
[teams]
follow = "players"
keep = { reason = "test" }

[players]
follow = "teams"
keep = { reason = "test" }
"#,
    );
    let err = pull::run(&request(&source, &target, policy, 1)).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("`follow` goes round in a cycle"),
        "{message}"
    );
    assert!(message.contains("subset-follow-cycle"), "{message}");
    assert_eq!(
        target.count(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'old_marker'"
        ),
        1
    );
}

#[test]
fn where_without_subset_keys_stays_a_plain_filter() {
    let source = TestDb::new("subset_plain_src");
    source.exec(SHOP);
    let target = TestDb::new("subset_plain_dst");
    let mut text = String::new();
    for table in SHOP_TABLES {
        text.push_str(&format!("[{table}]\nkeep = {{ reason = \"test\" }}\n"));
        if *table == "countries" {
            text.push_str("where = \"code <> 'NL'\"\n");
        }
    }
    let summary = pull::run(&request(&source, &target, parse_policy(&text), 1)).expect("pull");
    assert!(summary.plan.iter().all(|plan| plan.subset.is_none()));
    let countries = summary
        .plan
        .iter()
        .find(|plan| plan.table.name == "countries")
        .unwrap();
    assert!(countries.copy_out_sql().contains("WHERE (code <> 'NL')"));
    assert_eq!(target.count("SELECT count(*) FROM countries"), 3);
    assert_eq!(target.count("SELECT count(*) FROM users"), 1000);
}

#[test]
fn percent_and_limit_work_without_a_primary_key() {
    let source = TestDb::new("subset_nopk_src");
    source.exec(
        "CREATE TABLE log (n int, msg text); \
         INSERT INTO log SELECT g, 'message ' || g FROM generate_series(1, 200) g;",
    );
    let target = TestDb::new("subset_nopk_dst");
    let policy = parse_policy(
        r#"
[log]
percent = 50
limit = 30
where = "log.n > 10"
keep = { reason = "test" }
"#,
    );
    pull::run(&request(&source, &target, policy, 2)).expect("subset pull");
    let expected: Vec<i32> = source
        .client()
        .query(
            "SELECT n FROM (SELECT l.* FROM log l WHERE n > 10 \
               AND (hashtextextended(ROW(l.*)::text, 0) & 9223372036854775807) % 10000 < 5000 \
             ORDER BY ROW(l.*)::text LIMIT 30) s ORDER BY n",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(expected.len(), 30);
    let copied: Vec<i32> = target
        .client()
        .query("SELECT n FROM log ORDER BY n", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(copied, expected);
}

#[test]
fn check_policy_validates_subset_rules_against_the_schema() {
    let db = TestDb::new("subset_check");
    db.exec(SHOP);
    let project = tempfile::TempDir::new().expect("temporary folder");
    std::fs::write(
        project.path().join("Cargo.toml"),
        "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.dump]\npolicy = \"policy\"\ntarget = \"env:DATABASE_URL\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(project.path().join("src")).unwrap();
    std::fs::write(project.path().join("src/lib.rs"), "").unwrap();
    std::fs::create_dir_all(project.path().join("policy")).unwrap();
    let policy_text = SHOP_POLICY
        .replace(
            "[addresses]\nfollow = \"users\"",
            "[addresses]\nfollow = [\"user\", \"orders\"]",
        )
        .replace(
            "where = \"products.price > 0\"",
            "where = \"price >> 0 AND no_such_column\"",
        );
    std::fs::write(project.path().join("policy/shop.toml"), &policy_text).unwrap();
    let check = |text: &str| {
        std::fs::write(project.path().join("policy/shop.toml"), text).unwrap();
        let (config, config_diagnostics) =
            pullprod::config::load(Some(&project.path().join("Cargo.toml"))).expect("config");
        let options = pullprod::check::CheckPolicyOptions {
            database_url: Some(db.url().to_string()),
            ..Default::default()
        };
        let report = pullprod::check::check_policy(&config, &config_diagnostics, &options)
            .expect("check-policy runs");
        let mut found: Vec<(String, usize)> = report
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.code.as_str().starts_with("subset-"))
            .map(|diagnostic| {
                let line = text[..diagnostic.span.start].matches('\n').count() + 1;
                (diagnostic.code.as_str().to_string(), line)
            })
            .collect();
        found.sort();
        (found, report)
    };
    let line_of = |text: &str, needle: &str| {
        text[..text.find(needle).expect(needle)]
            .matches('\n')
            .count()
            + 1
    };
    let (found, report) = check(&policy_text);
    let follow_line = line_of(&policy_text, "follow = [\"user\"");
    assert_eq!(
        found,
        vec![
            (
                "subset-bad-condition".to_string(),
                line_of(&policy_text, "where = \"price")
            ),
            ("subset-no-foreign-key".to_string(), follow_line),
            ("subset-unknown-table".to_string(), follow_line),
        ]
    );
    assert!(report.exit_code() == 1);
    let bad_condition = report
        .diagnostics
        .iter()
        .find(|diagnostic| diagnostic.code.as_str() == "subset-bad-condition")
        .unwrap();
    assert!(
        bad_condition.message.contains("`products.where`"),
        "{}",
        bad_condition.message
    );
    let (found, _) = check(SHOP_POLICY);
    assert_eq!(found, vec![]);
}

#[test]
fn partitioned_tables_follow_and_are_followed() {
    let source = TestDb::new("subset_part_src");
    source.exec(TEAMS);
    source.exec(
        "CREATE TABLE events (id int, player_id int NOT NULL REFERENCES players, at date NOT NULL, \
                              PRIMARY KEY (id, at)) PARTITION BY RANGE (at); \
         CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01'); \
         CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); \
         INSERT INTO events SELECT g, 1 + g % 8, date '2023-06-01' + g * 7 FROM generate_series(1, 60) g; \
         CREATE TABLE cheers (id int PRIMARY KEY, event_id int NOT NULL, event_at date NOT NULL, \
                              FOREIGN KEY (event_id, event_at) REFERENCES events); \
         INSERT INTO cheers SELECT id, id, at FROM events WHERE id % 3 = 0;",
    );
    let target = TestDb::new("subset_part_dst");
    let policy = parse_policy(&format!(
        "{TEAMS_POLICY}\n[events]\nfollow = \"players\"\nkeep = {{ reason = \"test\" }}\n\n\
         [cheers]\npercent = 20\nkeep = {{ reason = \"test\" }}\n"
    ));
    pull::run(&request(&source, &target, policy, 2)).expect("subset pull");
    let expected: Vec<i32> = source
        .client()
        .query(
            "SELECT id FROM events WHERE player_id IN (1, 2) \
             UNION SELECT event_id FROM cheers \
             WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 2000 ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids(&target, "events"), expected);
    assert!(target.count("SELECT count(*) FROM ONLY events_2023") > 0);
    assert!(target.count("SELECT count(*) FROM ONLY events_2024") > 0);
    // Cheers pulled in events of players outside the slice (the foreign keys below hold).
    assert!(target.count("SELECT count(*) FROM events WHERE player_id NOT IN (1, 2)") > 0);
    // Every foreign key of the source, validated (partitions' copies of them aside).
    assert_eq!(
        target.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND convalidated"
        ),
        5
    );
}

/// The demo policy (`policy/*.toml`) with subset keys added after the table headers.
fn demo_policy_with(additions: &[(&str, &str)]) -> Policy {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policy");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("policy folder")
        .map(|entry| entry.expect("policy entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let files: Vec<PolicyFile> = paths
        .into_iter()
        .map(|path| {
            let mut text = std::fs::read_to_string(&path).expect("policy file");
            for (table, keys) in additions {
                let header = format!("[{table}]\n");
                text = text.replace(&header, &format!("{header}{keys}\n"));
            }
            PolicyFile { path, text }
        })
        .collect();
    let parsed = policy::parse(&files);
    assert!(
        parsed.diagnostics.is_empty(),
        "policy diagnostics: {:?}",
        parsed.diagnostics
    );
    for (table, _) in additions {
        assert!(
            parsed
                .policy
                .tables
                .iter()
                .any(|rule| rule.table.name == *table
                    && (rule.subset.is_used() || rule.filter.is_some())),
            "subset keys added to `{table}`"
        );
    }
    parsed.policy
}

#[test]
fn five_percent_of_the_demo_shop_is_closed_under_foreign_keys() {
    let source = TestDb::new("subset_demo_src");
    xtask::demo::demo_prod(&xtask::demo::DemoOptions {
        scale: 400,
        database_url: Some(source.url().to_string()),
    })
    .unwrap_or_else(|err| panic!("demo_prod failed: {err:#}"));
    let policy = demo_policy_with(&[
        ("users", "percent = 5"),
        ("addresses", "follow = \"users\""),
        ("orders", "follow = \"users\""),
        ("order_items", "follow = \"orders\""),
    ]);
    let target = TestDb::new("subset_demo_dst");
    pull::run(&request(&source, &target, policy, 2)).expect("subset pull of the demo shop");

    let foreign_keys = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND convalidated";
    assert!(source.count(foreign_keys) >= 8);
    assert_eq!(target.count(foreign_keys), source.count(foreign_keys));
    // events: restricted by closure (rows of chosen users, or of nobody); sessions: skipped.
    let reference = "
WITH RECURSIVE
  u0 AS (SELECT id FROM users WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 500),
  o AS (SELECT * FROM orders WHERE user_id IN (SELECT id FROM u0)),
  i AS (SELECT * FROM order_items WHERE order_id IN (SELECT id FROM o)),
  a AS (SELECT * FROM addresses WHERE user_id IN (SELECT id FROM u0) OR id IN (SELECT shipping_address_id FROM o)),
  e AS (SELECT * FROM events WHERE user_id IS NULL OR user_id IN (SELECT id FROM u0)),
  u(id) AS (SELECT id FROM (SELECT id FROM u0 UNION SELECT user_id FROM a) s
            UNION SELECT x.referred_by FROM users x JOIN u ON x.id = u.id WHERE x.referred_by IS NOT NULL)
SELECT 'addresses', (SELECT count(*) FROM a)
UNION ALL SELECT 'countries', (SELECT count(*) FROM countries)
UNION ALL SELECT 'events', (SELECT count(*) FROM e)
UNION ALL SELECT 'order_items', (SELECT count(*) FROM i)
UNION ALL SELECT 'orders', (SELECT count(*) FROM o)
UNION ALL SELECT 'products', (SELECT count(*) FROM products)
UNION ALL SELECT 'sessions', 0
UNION ALL SELECT 'users', (SELECT count(*) FROM u)
ORDER BY 1";
    let expected = counts_by_query(&source, reference);
    let tables: Vec<&str> = expected.iter().map(|(table, _)| table.as_str()).collect();
    assert_eq!(table_counts(&target, &tables), expected);
    let users = target.count("SELECT count(*) FROM users");
    assert!((10..200).contains(&users), "{users} of 400 users");
}

/// Issue 16 item 6: the closure is computed once per pull, in the snapshot, and each table's
/// copy reads its chosen rows by TID instead of evaluating the closure again; above the
/// cap the selections stay SQL (bounded memory), and both give the same rows.
#[test]
fn the_closure_is_computed_once_and_each_table_reads_its_rows_by_tid() {
    let source = TestDb::new("subset_once_src");
    source.exec(SHOP);
    let policy = parse_policy(SHOP_POLICY);
    let mut client = source.client();
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .unwrap();
    let catalog = pullprod::schema::load(&mut client).unwrap();
    let options = pullprod::pipeline::PlanOptions { binary: false };
    let plan = |client: &mut postgres::Client, cap: u64| {
        let mut plans = pullprod::pipeline::plan_tables(&catalog, &policy, options).unwrap();
        let rows = pullprod::subset::materialise(
            client,
            &catalog,
            plans.iter_mut().filter_map(|plan| {
                let pullprod::pipeline::TablePlan { table, subset, .. } = plan;
                subset.as_mut().map(|selection| (&*table, selection))
            }),
            cap,
        )
        .unwrap();
        (plans, rows)
    };
    let count = |client: &mut postgres::Client, sql: &str| -> i64 {
        let select = sql
            .strip_prefix("COPY (")
            .and_then(|rest| rest.strip_suffix(") TO STDOUT (FORMAT text)"))
            .unwrap_or_else(|| panic!("a COPY of a query: {sql}"));
        client
            .query_one(&format!("SELECT count(*) FROM ({select}) s"), &[])
            .unwrap()
            .get(0)
    };
    let (once, rows) = plan(&mut client, pullprod::subset::MATERIALISE_MAX_ROWS);
    let rows = rows.expect("the slice is small enough to hold");
    let (in_sql, over_cap) = plan(&mut client, 10);
    assert_eq!(over_cap, None, "more than 10 rows: left to the source");
    let mut restricted = 0;
    let mut total = 0;
    for (fast, slow) in once.iter().zip(&in_sql) {
        let Some(selection) = &fast.subset else {
            continue;
        };
        let sql = fast.copy_out_sql();
        assert!(!sql.contains("RECURSIVE"), "{sql}");
        assert!(slow.copy_out_sql().contains("RECURSIVE"));
        let n = count(&mut client, &sql);
        assert_eq!(
            n,
            count(&mut client, &slow.copy_out_sql()),
            "{}",
            fast.table
        );
        if selection.is_restricted() {
            restricted += 1;
            total += n as u64;
            let select = selection.query(&fast.table, &fast.columns);
            let explained: Vec<String> = client
                .query(&format!("EXPLAIN {select}"), &[])
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            // Read by TID (or a scan filtered on the TIDs, where the planner finds the table
            // small): the closure is not evaluated again.
            assert!(
                explained
                    .iter()
                    .all(|line| !line.contains("Recursive Union") && !line.contains("CTE Scan")),
                "{}: {explained:#?}",
                fast.table
            );
            assert!(
                explained.iter().any(|line| line.contains("ctid = ANY")),
                "{}",
                fast.table
            );
        }
    }
    assert!(restricted >= 5, "{restricted} restricted tables");
    assert_eq!(total, rows, "every chosen row is read by exactly one table");
}

/// Tables restricted by closure that the closure also adds rows to: `addresses` (other users'
/// addresses that sampled orders ship to) and `order_items` (items that sampled reviews name).
/// Their own rows and the added ones are merged, each row copied once, every key valid.
#[test]
fn rows_the_closure_adds_to_a_table_restricted_by_closure_are_merged_once() {
    let source = TestDb::new("subset_reach_src");
    source.exec(SHOP);
    let policy_text = SHOP_POLICY
        .replace("[addresses]\nfollow = \"users\"\n", "[addresses]\n")
        .replace("[orders]\nfollow = \"users\"\n", "[orders]\npercent = 10\n")
        .replace("[order_items]\nfollow = [\"orders\"]\n", "[order_items]\n")
        .replace("limit = 20\nwhere = \"products.price > 0\"\n", "");
    assert!(!policy_text.contains("follow") && !policy_text.contains("limit"));
    let policy = parse_policy(&policy_text);
    let target = TestDb::new("subset_reach_dst");
    pull::run(&request(&source, &target, policy.clone(), 2)).expect("subset pull");
    assert_eq!(valid_foreign_keys(&target), 9);
    let reference = "
WITH RECURSIVE
  u0 AS (SELECT id FROM users WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 500),
  o0 AS (SELECT * FROM orders WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 1000),
  rv AS (SELECT * FROM reviews WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 1000),
  i0 AS (SELECT * FROM order_items WHERE order_id IN (SELECT id FROM o0)),
  i AS (SELECT * FROM order_items WHERE order_id IN (SELECT id FROM o0)
          OR (order_id, line_no) IN (SELECT order_id, line_no FROM rv)),
  o AS (SELECT * FROM orders WHERE id IN (SELECT id FROM o0) OR id IN (SELECT order_id FROM i)),
  a AS (SELECT * FROM addresses WHERE user_id IN (SELECT id FROM u0) OR id IN (SELECT address_id FROM o)),
  u(id) AS (SELECT id FROM (SELECT id FROM u0 UNION SELECT user_id FROM o UNION SELECT user_id FROM a) s
            UNION SELECT x.referred_by FROM users x JOIN u ON x.id = u.id WHERE x.referred_by IS NOT NULL),
  sh AS (SELECT * FROM shipments WHERE (order_id, line_no) IN (SELECT order_id, line_no FROM i0))
SELECT 'addresses', (SELECT count(*) FROM a)
UNION ALL SELECT 'order_items', (SELECT count(*) FROM i)
UNION ALL SELECT 'orders', (SELECT count(*) FROM o)
UNION ALL SELECT 'reviews', (SELECT count(*) FROM rv)
UNION ALL SELECT 'shipments', (SELECT count(*) FROM sh)
UNION ALL SELECT 'users', (SELECT count(*) FROM u)
ORDER BY 1";
    let expected = counts_by_query(&source, reference);
    let tables: Vec<&str> = expected.iter().map(|(table, _)| table.as_str()).collect();
    assert_eq!(table_counts(&target, &tables), expected);
    // The closure did add rows to both tables beyond their own downward sets.
    let added = source.count(
        "SELECT count(*) FROM orders o WHERE (hashtextextended(ROW(o.id)::text, 0) & 9223372036854775807) % 10000 < 1000 \
         AND o.address_id IN (SELECT a.id FROM addresses a WHERE (hashtextextended(ROW(a.user_id)::text, 0) & 9223372036854775807) % 10000 >= 500)",
    );
    assert!(
        added > 0,
        "sampled orders ship to addresses of unsampled users"
    );
    assert!(
        expected[1].1 > source.count("SELECT count(*) FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE (hashtextextended(ROW(id)::text, 0) & 9223372036854775807) % 10000 < 1000)"),
        "reviews pull in items of unsampled orders"
    );

    // Computed once: each chosen row is listed once, and read by exactly one table.
    let mut client = source.client();
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .unwrap();
    let catalog = pullprod::schema::load(&mut client).unwrap();
    let mut plans = pullprod::pipeline::plan_tables(
        &catalog,
        &policy,
        pullprod::pipeline::PlanOptions { binary: false },
    )
    .unwrap();
    let rows = pullprod::pipeline::select_subset_rows(&mut client, &catalog, &mut plans)
        .unwrap()
        .expect("small enough to hold");
    let sliced: i64 = expected
        .iter()
        .filter(|(table, _)| table != "countries")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(rows, sliced as u64);
}
