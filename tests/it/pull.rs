//! pull-prod end to end against real databases: a source and a target per test.

use pullprod::conn::Settings;
use pullprod::policy::model::Policy;
use pullprod::pull::{self, Destination, PullRequest};

use crate::support::TestDb;

/// The policy of `tests/data/small_shop.sql`: `secret` nulled, the rest kept.
fn small_shop_policy() -> Policy {
    crate::support::small_shop_policy(r#"{ keep = true, reason = "test data" }"#, r#""keep""#)
}

fn request(source: &TestDb, target: &TestDb, policy: Policy, jobs: usize) -> PullRequest {
    crate::support::pull_request(source, target, policy, jobs)
}

#[test]
fn pull_small_shop_end_to_end() {
    let source = TestDb::new("pull_e2e_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let target = TestDb::new("pull_e2e_dst");
    target.exec("CREATE TABLE old_marker (x int)");

    let summary =
        pull::run(&request(&source, &target, small_shop_policy(), 2)).expect("pull succeeds");
    assert!(
        summary
            .copied
            .iter()
            .any(|t| t.table.name == "events_2024" && t.rows > 0)
    );

    for table in ["people", "orders", "events", "events_2024", "events_other"] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(
            source.count(&sql),
            target.count(&sql),
            "row count of {table}"
        );
    }
    assert_eq!(
        target.count("SELECT count(*) FROM sessions"),
        0,
        "skipped table has schema only"
    );
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE secret IS NOT NULL"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE doubled <> id * 2"),
        0
    );
    assert_eq!(
        target.count(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'old_marker'"
        ),
        0,
        "old db replaced"
    );
    // Sequences continue past the maximum id; identity too.
    assert_eq!(target.count("SELECT nextval('orders_id_seq')"), 201);
    assert_eq!(target.count("SELECT nextval('invoice_seq')"), 105);
    target.exec("INSERT INTO people (email) VALUES ('new@example.com')");
    assert_eq!(target.count("SELECT max(id)::bigint FROM people"), 51);
    // Constraints were built after the data, and they hold.
    assert_eq!(
        target.count(
            "SELECT count(*)::bigint FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"
        ),
        0
    );
    assert!(target.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f'") >= 2);
    assert_eq!(target.count("SELECT n FROM people_count"), 51 - 1);
    assert_eq!(target.count("SELECT count(*) FROM pullprod.audit"), 1);
    let text: String = target
        .client()
        .query_one("SELECT note FROM orders WHERE id = 7", &[])
        .unwrap()
        .get(0);
    assert_eq!(text, "tab\there\nnewline \\ backslash 7");
}

/// md5 of every user table's rows, in a stable order, for comparing two databases.
pub fn fingerprint(db: &TestDb) -> Vec<(String, String)> {
    crate::support::table_digests(db)
}

#[test]
fn one_worker_and_two_workers_give_identical_targets() {
    let source = TestDb::new("pull_jobs_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let one = TestDb::new("pull_jobs_one");
    let two = TestDb::new("pull_jobs_two");
    pull::run(&request(&source, &one, small_shop_policy(), 1)).expect("pull with one worker");
    pull::run(&request(&source, &two, small_shop_policy(), 2)).expect("pull with two workers");
    let fingerprint_one = fingerprint(&one);
    assert!(fingerprint_one.len() >= 5);
    assert_eq!(fingerprint_one, fingerprint(&two));
}

#[test]
fn text_and_binary_formats_give_identical_targets() {
    let source = TestDb::new("pull_fmt_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let binary = TestDb::new("pull_fmt_bin");
    let text = TestDb::new("pull_fmt_txt");
    pull::run(&request(&source, &binary, small_shop_policy(), 2)).expect("binary pull");
    let mut text_request = request(&source, &text, small_shop_policy(), 2);
    text_request.options.force_text = true;
    pull::run(&text_request).expect("text pull");
    assert_eq!(fingerprint(&binary), fingerprint(&text));
}

#[test]
fn source_sessions_cannot_write() {
    let source = TestDb::new("pull_readonly_src");
    source.exec("CREATE TABLE t (x int)");
    let settings = Settings::parse(source.url()).unwrap();
    let mut coordinator = pullprod::conn::open_source(&settings, "production").expect("opens");
    let err = coordinator
        .batch_execute("INSERT INTO t VALUES (1)")
        .unwrap_err();
    let err = pullprod::pgerror::message(&err);
    assert!(err.contains("read-only transaction"), "{err}");
    let snapshot = pullprod::conn::export_snapshot(&mut coordinator).unwrap();
    let mut worker =
        pullprod::pipeline::open_source_worker(&settings, &snapshot).expect("worker joins");
    let err = worker.batch_execute("CREATE TABLE u (x int)").unwrap_err();
    let err = pullprod::pgerror::message(&err);
    assert!(err.contains("read-only transaction"), "{err}");
    assert_eq!(source.count("SELECT count(*) FROM t"), 0);
}

#[test]
fn refuses_when_the_target_is_the_source() {
    let source = TestDb::new("pull_same_src");
    source.exec(include_str!("../data/small_shop.sql"));
    // Same database, spelt differently: a TCP URL instead of the socket.
    let mut same = request(&source, &source, small_shop_policy(), 1);
    same.destination = Destination::Database(
        Settings::parse(&format!("host=127.0.0.1 dbname={}", source.name())).unwrap(),
    );
    let err = pull::run(&same).unwrap_err();
    assert!(
        format!("{err:#}").contains("is the source database itself"),
        "{err:#}"
    );
    assert_eq!(source.count("SELECT count(*) FROM people"), 50);
}

#[test]
fn refuses_a_remote_target_unless_allowed() {
    let source = TestDb::new("pull_remote_src");
    let target = TestDb::new("pull_remote_dst");
    let mut remote = request(&source, &target, small_shop_policy(), 1);
    remote.destination =
        Destination::Database(Settings::parse("host=db.example.invalid dbname=shop_dev").unwrap());
    let err = pull::run(&remote).unwrap_err();
    assert!(
        format!("{err:#}").contains("--allow-remote-target"),
        "{err:#}"
    );
}

#[test]
fn refuses_unclassified_columns_before_reading_rows() {
    let source = TestDb::new("pull_uncls_src");
    source.exec(include_str!("../data/small_shop.sql"));
    source.exec("ALTER TABLE people ADD COLUMN national_insurance text");
    let target = TestDb::new("pull_uncls_dst");
    target.exec("CREATE TABLE old_marker (x int); INSERT INTO old_marker VALUES (42)");
    let err = pull::run(&request(&source, &target, small_shop_policy(), 1)).unwrap_err();
    assert!(
        format!("{err:#}").contains("`public.people.national_insurance` is not classified"),
        "{err:#}"
    );
    assert_eq!(target.count("SELECT count(*) FROM old_marker"), 1);
}

/// A table that row-level security would hide from the source role is an error, never a
/// silently smaller copy.
#[test]
fn row_level_security_is_an_error_not_missing_rows() {
    let source = TestDb::new("pull_rls_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let role = format!("pp_rls_reader_{}", std::process::id());
    source.exec(&format!(
        "CREATE ROLE {role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};
         GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
         ALTER TABLE people ENABLE ROW LEVEL SECURITY;
         CREATE POLICY only_some ON people TO {role} USING (id < 10);"
    ));
    let target = TestDb::new("pull_rls_dst");
    target.exec("CREATE TABLE old_marker (x int)");
    let mut as_reader = request(&source, &target, small_shop_policy(), 1);
    as_reader.source.user = role.clone();
    let outcome = pull::run(&as_reader);
    source.exec(&format!("DROP OWNED BY {role}"));
    crate::support::connect(&crate::support::admin_url())
        .batch_execute(&format!("DROP ROLE {role}"))
        .unwrap();
    let err = outcome.expect_err("a pull hidden by row-level security must fail");
    assert!(format!("{err:#}").contains("row-level security"), "{err:#}");
    assert_eq!(
        target.count("SELECT count(*) FROM old_marker"),
        0,
        "the old dev database is untouched"
    );
}

/// A `pg_dump` older than the source server is a clear error that names the fix.
#[test]
fn an_old_pg_dump_is_refused_with_the_fix() {
    let err = pullprod::target::find_tool("pg_dump", 99).expect_err("no pg_dump 99 here");
    let message = format!("{err:#}");
    assert!(
        message.contains("the source server is PostgreSQL 99"),
        "{message}"
    );
    assert!(message.contains("postgresql-client-99"), "{message}");
    let found = pullprod::target::find_tool("pg_dump", 15).expect("this machine's pg_dump");
    assert!(found.to_string_lossy().contains("pg_dump"));
}

/// Debian's `pg_wrapper` (what `pg_dump` and `psql` on PATH are on this machine, a Perl script
/// costing tens of milliseconds per call) is bypassed for the versioned binary it would run.
#[test]
fn debians_pg_wrapper_is_bypassed() {
    let on_path = std::fs::canonicalize("/usr/bin/pg_dump").expect("this machine's pg_dump");
    assert!(
        on_path.ends_with("pg_wrapper"),
        "the test machine has Debian's wrapper: {on_path:?}"
    );
    for tool in ["pg_dump", "psql"] {
        let found = pullprod::target::find_tool(tool, 15).expect("this machine's tool");
        assert!(
            found.starts_with("/usr/lib/postgresql/") && found.ends_with(tool),
            "{tool}: {found:?}"
        );
        assert_eq!(pullprod::target::find_tool(tool, 15).unwrap(), found);
    }
}
