//! `pull-prod` as users run it: the built binary in a fixture project, every refusal, the
//! plan, and the kill test (G5).

use crate::support::{Project, PullSetup, TestDb};

const SMALL_SHOP: &str = include_str!("../data/small_shop.sql");

struct Setup(PullSetup);

impl std::ops::Deref for Setup {
    type Target = PullSetup;
    fn deref(&self) -> &PullSetup {
        &self.0
    }
}

impl Setup {
    fn new(test: &str) -> Setup {
        // Committed on `main`, the review ref: `staging` is marked `production = false` there.
        let project = Project::from_fixture("pull_project");
        project.git_commit_all("the fixture");
        Setup(PullSetup::new(test, SMALL_SHOP, project))
    }

    fn pull(&self, args: &[&str]) -> (i32, String) {
        self.pull_with(args, &[])
    }

    fn people_in_target(&self) -> i64 {
        self.target
            .client()
            .query_one("SELECT count(*) FROM people", &[])
            .expect("people")
            .get(0)
    }
}

#[test]
fn staging_pull_through_the_cli() {
    let setup = Setup::new("cli_staging");
    let (code, output) = setup.pull(&["--from", "staging", "--jobs", "2"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("done in"), "{output}");
    assert!(
        output.contains("warning: the role"),
        "a superuser source role is warned about: {output}"
    );
    assert_eq!(setup.people_in_target(), 50);
    let audit: String = setup
        .target
        .client()
        .query_one(
            "SELECT source || ' ' || policy_sha256 FROM pullprod.audit",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(audit.starts_with("staging "), "{audit}");
    let log = std::fs::read_to_string(setup.state.path().join("pullprod/audit.log"))
        .expect("local audit log");
    assert!(log.contains("\"source\":\"staging\""), "{log}");
}

#[test]
fn production_refuses_uncommitted_then_unreviewed_policy() {
    let setup = Setup::new("cli_review");
    std::fs::remove_dir_all(setup.project.path(".git")).unwrap();
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("is not in a Git repository"), "{output}");
    // Without a reviewed manifest, nothing says `staging` is not production either.
    let (code, output) = setup.pull(&["--from", "staging"]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("`staging`, a production source"),
        "{output}"
    );

    setup.project.git_commit_all("policy");
    let policy = setup.project.read("policy/shop.toml");
    setup.project.write(
        "policy/shop.toml",
        &policy.replace("note = \"null\"", "note = \"null\" # edited"),
    );
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("the working copy differs from what `main` holds")
            && output.contains("policy/shop.toml (edited)"),
        "{output}"
    );

    // Committed on a branch that main does not contain yet.
    let git = |args: &[&str]| crate::support::git(setup.project.root(), args);
    git(&["checkout", "-q", "-b", "feature"]);
    setup.project.git_commit_all("edit the policy");
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("the working copy differs from what `main` holds")
            && output.contains("policy/shop.toml (edited)"),
        "{output}"
    );
    setup.assert_old_target_intact("after the refusals");

    git(&["checkout", "-q", "main"]);
    git(&["merge", "-q", "feature"]);
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(setup.people_in_target(), 50);
}

#[test]
fn production_requires_a_staging_run_when_asked() {
    let setup = Setup::new("cli_staging_first");
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &format!("{manifest}require-staging-run = true\n"),
    );
    setup.project.git_commit_all("policy");
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("has not completed a pull from staging on this machine"),
        "{output}"
    );
    setup.assert_old_target_intact("refused production pull");
    assert_eq!(setup.pull(&["--from", "staging"]).0, 0);
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 0, "{output}");
}

#[test]
fn refuses_without_a_salt() {
    let setup = Setup::new("cli_no_salt");
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &manifest.replace("salt = \"env:PULLPROD_SALT\"\n", ""),
    );
    let (code, output) = setup.pull(&["--from", "staging"]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("no salt is configured"), "{output}");
    setup.assert_old_target_intact("no salt");
}

#[test]
fn refuses_a_policy_that_fails_against_the_live_schema() {
    let setup = Setup::new("cli_live_schema");
    setup
        .source
        .exec("ALTER TABLE people ADD COLUMN api_token text");
    let (code, output) = setup.pull(&["--from", "staging"]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("does not pass check-policy"), "{output}");
    assert!(output.contains("error[unclassified-column]"), "{output}");
    assert!(output.contains("api_token"), "{output}");
    setup.assert_old_target_intact("unclassified column");
}

#[test]
fn strict_refuses_a_source_role_that_could_write() {
    let setup = Setup::new("cli_strict");
    let (code, output) = setup.pull(&["--from", "staging", "--strict"]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("refusing to pull with `--strict`"),
        "{output}"
    );
    setup.assert_old_target_intact("strict");
}

#[test]
fn plan_prints_tables_and_touches_nothing() {
    let setup = Setup::new("cli_plan");
    let (code, output) = setup.pull(&["--from", "staging", "--plan"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("public.people"), "{output}");
    assert!(output.contains("secret: null"), "{output}");
    assert!(
        output.contains("public.sessions") && output.contains("schema only (skip)"),
        "{output}"
    );
    setup.assert_old_target_intact("plan");
}

/// G5: killed at every named point of a pull (schema, data, post-data, swap) and at timed
/// moments, the old dev database survives intact or the new one is complete; the next run
/// cleans up and succeeds.
#[test]
fn killed_at_any_moment_leaves_the_old_database_intact() {
    let setup = Setup::new("cli_kill");
    let kill_points = pullprod::fault::POINTS;
    assert!(kill_points.len() >= 10);
    for point in kill_points {
        let (code, output) = setup.pull_with(
            &["--from", "staging", "--jobs", "2"],
            &[("PULLPROD_TEST_KILL_AT", point)],
        );
        assert_ne!(code, 0, "killed at {point}: {output}");
        // Before the swap commits, the old database must be there; after it, the new one, complete.
        if *point == "after-swap-commit" {
            assert_eq!(setup.people_in_target(), 50, "killed at {point}");
            // Put an old database back in place for the following rounds.
            setup
                .target
                .exec("CREATE TABLE old_marker (x int); INSERT INTO old_marker VALUES (42)");
        } else {
            setup.assert_old_target_intact(&format!("killed at {point}"));
        }
    }
    let mut admin = crate::support::connect(&crate::support::admin_url());
    let mut leftovers = || -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
                &[&format!("{}\\_\\_pp\\_%", setup.target.name())],
            )
            .unwrap()
            .get(0)
    };
    assert!(
        leftovers() > 0,
        "kills leave temporary databases behind for the next run to clean"
    );
    let (code, output) = setup.pull(&["--from", "staging"]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("left over by an interrupted run"),
        "{output}"
    );
    // The replaced copy is dropped in the background, after the success line.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let left = loop {
        let left = leftovers();
        if left == 0 || std::time::Instant::now() > deadline {
            break left;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(left, 0, "the next run cleaned up");
    assert_eq!(setup.people_in_target(), 50);
}

/// Runs `pull-prod --from staging` of the demo copy; returns (exit code, output).
fn pull_demo(
    project: &Project,
    source: &TestDb,
    target: &TestDb,
    state: &std::path::Path,
) -> (i32, String) {
    let env = [
        ("STAGING_DATABASE_URL", source.url()),
        ("DATABASE_URL", target.url()),
        ("PULLPROD_SALT", "demo end to end salt, long enough"),
        ("XDG_STATE_HOME", state.to_str().expect("utf-8 path")),
    ];
    let (code, stdout, stderr) = project.run_with_env(&["pull-prod", "--from", "staging"], &env);
    (code, format!("{stdout}{stderr}"))
}

/// The demo's tables (partitions included) and their row counts.
fn table_counts(db: &TestDb) -> Vec<(String, i64)> {
    let tables: Vec<String> = db
        .client()
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .expect("tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    tables
        .into_iter()
        .map(|table| {
            let n = db.count(&format!("SELECT count(*) FROM ONLY public.{table}"));
            (table, n)
        })
        .collect()
}

fn assert_demo_copied(source: &TestDb, target: &TestDb) {
    let expected: Vec<(String, i64)> = table_counts(source)
        .into_iter()
        .map(|(table, n)| {
            if table == "sessions" {
                (table, 0)
            } else {
                (table, n)
            }
        })
        .collect();
    assert_eq!(
        table_counts(target),
        expected,
        "row counts per table (sessions is skipped)"
    );
    assert!(
        expected
            .iter()
            .filter(|(table, n)| table.starts_with("events_") && *n > 0)
            .count()
            >= 2
    );
    let foreign_keys =
        target.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0");
    assert_eq!(
        foreign_keys,
        source.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0")
    );
    assert_eq!(target.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated AND conparentid = 0"), 0);
    // Sequences continue past the keys, identity columns too; generated columns are computed.
    assert!(
        target.count("SELECT nextval('orders_id_seq')")
            > target.count("SELECT max(id) FROM orders")
    );
    target.exec("INSERT INTO users (email, full_name, password_digest) VALUES ('new@example.com', 'New', 'x')");
    assert_eq!(
        target.count("SELECT count(*) FROM users WHERE email = 'new@example.com' AND id > 60"),
        1
    );
    assert_eq!(
        target.count("SELECT count(*) FROM products WHERE price_with_vat <> round(price * 1.2, 2)"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM daily_sales"),
        source.count("SELECT count(*) FROM daily_sales")
    );
}

/// Demo production to dev end to end: counts, keys, sequences, identity, generated columns,
/// partitions and materialized views.
#[test]
fn demo_pull_end_to_end() {
    let source = crate::support::demo_source("cli_demo_e2e_src");
    let target = TestDb::new("cli_demo_e2e_dst");
    let state = tempfile::TempDir::new().unwrap();
    let project = crate::support::demo_project("");
    let (code, output) = pull_demo(&project, &source, &target, state.path());
    assert_eq!(code, 0, "{output}");
    assert_demo_copied(&source, &target);
}

/// `schema = { command = "…" }`: the project's migrations build the schema (their reference
/// rows replaced by the source's), the load fires no triggers, and the result is the same.
#[test]
fn migrations_build_the_schema_when_the_project_says_so() {
    let source = crate::support::demo_source("cli_migrations_src");
    let target = TestDb::new("cli_migrations_dst");
    let state = tempfile::TempDir::new().unwrap();
    let command =
        "for f in migrations/*.sql; do psql -X -q -v ON_ERROR_STOP=1 -f \"$f\" || exit 1; done";
    let project = crate::support::demo_project(&format!("schema = {{ command = '{command}' }}\n"));
    let (code, output) = pull_demo(&project, &source, &target, state.path());
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        target.count("SELECT count(*) FROM countries"),
        16,
        "the migration's rows are replaced, not doubled"
    );
    assert_demo_copied(&source, &target);
}

/// Other sessions on the dev database are named and nothing changes; `--force` closes them.
#[test]
fn open_sessions_on_the_dev_database_are_reported_or_closed_with_force() {
    let setup = Setup::new("cli_sessions");
    let mut held = setup.target.client();
    held.batch_execute("SET application_name = 'my-app-server'")
        .unwrap();
    let (code, output) = setup.pull(&["--from", "staging"]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("other session(s) are connected") && output.contains("my-app-server"),
        "{output}"
    );
    assert!(output.contains("--force"), "{output}");
    setup.assert_old_target_intact("open session");
    let (code, output) = setup.pull(&["--from", "staging", "--force"]);
    assert_eq!(code, 0, "{output}");
    assert!(
        held.batch_execute("SELECT 1").is_err(),
        "the other session was closed"
    );
    assert_eq!(setup.people_in_target(), 50);
}

/// `--to-file` is the pull's own pipeline with a file at its end: `--jobs 2` copies with two
/// workers (each one copies tables, says the summary), the audit line names the file and no
/// database (not even libpq's default one), the dev database is untouched, and the file loads
/// with psql into exactly what a direct pull gives.
#[test]
fn to_file_uses_every_worker_and_audits_the_file() {
    let setup = Setup::new("cli_to_file");
    let dumps = tempfile::TempDir::new().expect("dump folder");
    // A folder pullprod creates, private.
    let path = dumps.path().join("dumps/shop.sql");
    let summary_path = setup.state.path().join("summary.json");
    let (code, output) = setup.pull_with(
        &[
            "--from",
            "staging",
            "--jobs",
            "2",
            "--to-file",
            path.to_str().expect("utf-8 path"),
        ],
        &[
            ("PULLPROD_SUMMARY_JSON", summary_path.to_str().unwrap()),
            ("PGDATABASE", "pgdatabase_is_no_destination"),
        ],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("wrote an anonymised dump"), "{output}");
    setup.assert_old_target_intact("--to-file");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path).expect("summary"))
            .expect("summary JSON");
    let workers = summary["workers"].as_array().expect("workers");
    assert_eq!(workers.len(), 2, "{summary}");
    for worker in workers {
        assert!(
            worker["tables"].as_u64().unwrap() >= 1,
            "every worker copied tables: {summary}"
        );
    }
    assert_eq!(
        summary["written"]["file"].as_str(),
        path.to_str(),
        "{summary}"
    );

    let log = std::fs::read_to_string(setup.state.path().join("pullprod/audit.log"))
        .expect("local audit log");
    let line: serde_json::Value =
        serde_json::from_str(log.lines().last().expect("an audit line")).expect("JSON line");
    assert_eq!(line["file"].as_str(), path.to_str(), "{line}");
    assert!(line.get("target").is_none(), "no database is named: {line}");
    assert!(!log.contains("pgdatabase_is_no_destination"), "{log}");
    assert!(!log.contains(setup.target.name()), "{log}");
    assert_eq!(line["rows"]["public.people"], 50, "{line}");

    let loaded = TestDb::new("cli_to_file_load");
    crate::dump::psql_load(&path, &loaded);
    let (code, output) = setup.pull(&["--from", "staging", "--jobs", "2"]);
    assert_eq!(code, 0, "{output}");
    let direct = crate::dump::fingerprint(&setup.target);
    assert!(
        direct
            .iter()
            .any(|(table, rows)| table == "public.people" && rows.starts_with("50:")),
        "{direct:?}"
    );
    assert_eq!(crate::dump::fingerprint(&loaded), direct);
}

/// The configuration is read once per command: `cargo metadata` (behind `CARGO`, here a
/// script counting its runs) runs exactly once for each command.
#[test]
fn every_command_reads_the_configuration_once() {
    use std::os::unix::fs::PermissionsExt;
    let setup = Setup::new("cli_config_once");
    let bin = tempfile::TempDir::new().expect("folder for the fake cargo");
    let counter = bin.path().join("runs");
    let fake = bin.path().join("cargo");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho run >> \"$PULLPROD_TEST_CARGO_RUNS\"\nexec \"$PULLPROD_TEST_REAL_CARGO\" \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let real_cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let dumps = tempfile::TempDir::new().expect("dump folder");
    let dump = dumps.path().join("dumps/once.sql");
    let env = [
        ("CARGO", fake.to_str().unwrap()),
        ("PULLPROD_TEST_REAL_CARGO", real_cargo.as_str()),
        ("PULLPROD_TEST_CARGO_RUNS", counter.to_str().unwrap()),
    ];
    let commands: [&[&str]; 4] = [
        &["pull-prod", "--from", "staging"],
        &[
            "pull-prod",
            "--from",
            "staging",
            "--to-file",
            dump.to_str().unwrap(),
        ],
        &["check-policy"],
        &["prune-dumps"],
    ];
    for args in commands {
        let _ = std::fs::remove_file(&counter);
        let setup_env = setup.env();
        let mut pairs: Vec<(&str, &str)> =
            setup_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.extend_from_slice(&env);
        let (code, stdout, stderr) = setup.project.run_with_env(args, &pairs);
        assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
        let runs = std::fs::read_to_string(&counter).unwrap_or_default();
        assert_eq!(
            runs.lines().count(),
            1,
            "{args:?} ran `cargo metadata` {runs:?}"
        );
    }
}

/// A dump's memory does not grow with the table: peak RSS (from the summary) when dumping a
/// table ten times larger stays within a few MiB of the small one.
#[test]
fn to_file_memory_stays_flat_whatever_the_table_size() {
    let setup = Setup::new("cli_to_file_rss");
    let policy = setup.project.read("policy/shop.toml");
    setup.project.write(
        "policy/shop.toml",
        &format!("{policy}\n[blobs]\nid = {{ hash = true, unique = true }}\nbody = \"keep\"\n"),
    );
    let dumps = tempfile::TempDir::new().expect("dump folder");
    let mut peaks = Vec::new();
    for n_rows in [3_000, 30_000] {
        setup.source.exec(&format!(
            "DROP TABLE IF EXISTS blobs; CREATE TABLE blobs (id bigint PRIMARY KEY, body text); \
             INSERT INTO blobs SELECT i, repeat(md5(i::text), 64) FROM generate_series(1, {n_rows}) i"
        ));
        let path = dumps.path().join(format!("dumps/rss_{n_rows}.sql"));
        let summary_path = setup.state.path().join(format!("rss_{n_rows}.json"));
        let (code, output) = setup.pull_with(
            &[
                "--from",
                "staging",
                "--jobs",
                "2",
                "--to-file",
                path.to_str().unwrap(),
            ],
            &[("PULLPROD_SUMMARY_JSON", summary_path.to_str().unwrap())],
        );
        assert_eq!(code, 0, "{output}");
        let size = std::fs::metadata(&path).expect("the dump").len();
        assert!(size > n_rows * 2048, "{size} bytes for {n_rows} rows");
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&summary_path).unwrap()).unwrap();
        peaks.push((size, summary["peak_rss_bytes"].as_u64().expect("peak RSS")));
    }
    let (small, large) = (peaks[0], peaks[1]);
    assert!(
        large.1 < small.1 + 16 * 1024 * 1024,
        "peak RSS grew from {} MiB ({} MiB dump) to {} MiB ({} MiB dump)",
        small.1 >> 20,
        small.0 >> 20,
        large.1 >> 20,
        large.0 >> 20
    );
}
