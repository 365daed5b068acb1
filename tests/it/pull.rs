//! pull-prod end to end against real databases: a source and a target per test.

use pullprod::conn::Settings;
use pullprod::policy::model::{
    ColumnRule, Origin, Policy, Rule, Strategy, TableAction, TableName, TableRule,
};
use pullprod::pull::{self, PullOptions, PullRequest};
use pullprod::transform::Salt;

use crate::support::TestDb;

fn rule(strategy: Strategy) -> Rule {
    Rule {
        strategy,
        unique: false,
        reason: None,
    }
}

fn table(name: &str, action: TableAction, columns: &[(&str, Strategy)]) -> TableRule {
    TableRule {
        table: TableName::new("public", name),
        origin: Origin::default(),
        action,
        filter: None,
        seed_rows: None,
        columns: columns
            .iter()
            .map(|(column, strategy)| ColumnRule {
                column: column.to_string(),
                rule: rule(strategy.clone()),
                origin: Origin::default(),
            })
            .collect(),
    }
}

fn small_shop_policy() -> Policy {
    use Strategy::*;
    Policy {
        tables: vec![
            table(
                "people",
                TableAction::Copy,
                &[
                    ("id", Keep),
                    ("email", Keep),
                    ("secret", Null),
                    ("code", Keep),
                    ("moods", Keep),
                    ("boss", Keep),
                    ("doubled", Keep),
                ],
            ),
            table(
                "orders",
                TableAction::Copy,
                &[
                    ("id", Keep),
                    ("person_id", Keep),
                    ("note", Keep),
                    ("total", Keep),
                ],
            ),
            table(
                "events",
                TableAction::Copy,
                &[("at", Keep), ("person_id", Keep), ("payload", Keep)],
            ),
            table("sessions", TableAction::Skip, &[]),
        ],
    }
}

fn request(source: &TestDb, target: &TestDb, policy: Policy, jobs: usize) -> PullRequest {
    PullRequest {
        source_name: "staging".into(),
        source: Settings::parse(source.url()).expect("source settings"),
        target: Settings::parse(target.url()).expect("target settings"),
        policy,
        policy_sha256: "0".repeat(64),
        commit: None,
        salt: Salt::new(b"test salt".to_vec()),
        options: PullOptions {
            jobs,
            quiet: true,
            audit_log: Some(
                std::env::temp_dir()
                    .join(format!("pullprod-test-audit-{}.log", std::process::id())),
            ),
            ..PullOptions::default()
        },
    }
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().query_one(sql, &[]).expect(sql).get(0)
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
            count(&source, &sql),
            count(&target, &sql),
            "row count of {table}"
        );
    }
    assert_eq!(
        count(&target, "SELECT count(*) FROM sessions"),
        0,
        "skipped table has schema only"
    );
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM people WHERE secret IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM people WHERE doubled <> id * 2"
        ),
        0
    );
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'old_marker'"
        ),
        0,
        "old db replaced"
    );
    // Sequences continue past the maximum id; identity too.
    assert_eq!(count(&target, "SELECT nextval('orders_id_seq')"), 201);
    assert_eq!(count(&target, "SELECT nextval('invoice_seq')"), 105);
    target.exec("INSERT INTO people (email) VALUES ('new@example.com')");
    assert_eq!(count(&target, "SELECT max(id)::bigint FROM people"), 51);
    // Constraints were built after the data, and they hold.
    assert_eq!(
        count(
            &target,
            "SELECT count(*)::bigint FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"
        ),
        0
    );
    assert!(
        count(
            &target,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
        ) >= 2
    );
    assert_eq!(count(&target, "SELECT n FROM people_count"), 51 - 1);
    assert_eq!(count(&target, "SELECT count(*) FROM pullprod.audit"), 1);
    let text: String = target
        .client()
        .query_one("SELECT note FROM orders WHERE id = 7", &[])
        .unwrap()
        .get(0);
    assert_eq!(text, "tab\there\nnewline \\ backslash 7");
}
