//! `pull-prod` as users run it: the built binary in a fixture project, every refusal, the
//! plan, and the kill test (G5).

use crate::support::{Project, TestDb};

const SMALL_SHOP: &str = include_str!("../data/small_shop.sql");

struct Setup {
    project: Project,
    source: TestDb,
    target: TestDb,
    state: tempfile::TempDir,
}

impl Setup {
    fn new(test: &str) -> Setup {
        let source = TestDb::new(&format!("{test}_src"));
        source.exec(SMALL_SHOP);
        let target = TestDb::new(&format!("{test}_dst"));
        target.exec("CREATE TABLE old_marker (x int); INSERT INTO old_marker VALUES (42)");
        Setup {
            project: Project::from_fixture("pull_project"),
            source,
            target,
            state: tempfile::TempDir::new().expect("state folder"),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PROD_DATABASE_URL", self.source.url().to_string()),
            ("STAGING_DATABASE_URL", self.source.url().to_string()),
            ("DATABASE_URL", self.target.url().to_string()),
            (
                "PULLPROD_SALT",
                "a test salt that is long enough".to_string(),
            ),
            ("XDG_STATE_HOME", self.state.path().display().to_string()),
        ]
    }

    fn pull(&self, args: &[&str]) -> (i32, String) {
        self.pull_with(args, &[])
    }

    fn pull_with(&self, args: &[&str], extra: &[(&str, &str)]) -> (i32, String) {
        let env = self.env();
        let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.extend_from_slice(extra);
        let mut all = vec!["pull-prod"];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = self.project.run_with_env(&all, &pairs);
        (code, format!("{stdout}{stderr}"))
    }

    /// The old dev database is still there, untouched.
    fn assert_old_target_intact(&self, context: &str) {
        let marker: i32 = self
            .target
            .client()
            .query_one("SELECT x FROM old_marker", &[])
            .unwrap_or_else(|err| {
                panic!("{context}: the old dev database is gone or changed: {err}")
            })
            .get(0);
        assert_eq!(marker, 42, "{context}");
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
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("is not in a Git repository"), "{output}");

    setup.project.git_commit_all("policy");
    let policy = setup.project.read("policy/shop.toml");
    setup.project.write(
        "policy/shop.toml",
        &policy.replace("note = \"null\"", "note = \"null\" # edited"),
    );
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("the policy has uncommitted changes (policy/shop.toml)"),
        "{output}"
    );

    // Committed on a branch that main does not contain yet.
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(setup.project.root())
            .status()
            .unwrap();
        assert!(ok.success());
    };
    git(&["checkout", "-q", "-b", "feature"]);
    setup.project.git_commit_all("edit the policy");
    let (code, output) = setup.pull(&[]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("the policy differs from `main`"),
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
    let leftovers: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
            &[&format!("{}\\_\\_pp\\_%", setup.target.name())],
        )
        .unwrap()
        .get(0);
    assert!(
        leftovers > 0,
        "kills leave temporary databases behind for the next run to clean"
    );
    let (code, output) = setup.pull(&["--from", "staging"]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("left over by an interrupted run"),
        "{output}"
    );
    let leftovers: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
            &[&format!("{}\\_\\_pp\\_%", setup.target.name())],
        )
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0, "the next run cleaned up");
    assert_eq!(setup.people_in_target(), 50);
}
