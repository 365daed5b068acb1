//! Read-only access to a source: `policy grants` makes a role that can pull and cannot write,
//! and `console` is `psql` in which no statement writes, with a banner and audit for production.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{Project, Role, TestDb};

const SMALL_SHOP: &str = include_str!("../data/small_shop.sql");

/// A source with the small shop, a project whose `production` and `staging` both point at it
/// as `role` (a read-only role made by `policy grants` when `read_only`), and a state folder.
struct Setup {
    // Dropped after the databases it has privileges in.
    role: Role,
    source: TestDb,
    target: TestDb,
    project: Project,
    state: tempfile::TempDir,
}

impl Setup {
    fn new(test: &str) -> Setup {
        let role = Role::reserve(test);
        let source = TestDb::new(&format!("{test}_src"));
        source.exec(SMALL_SHOP);
        let target = TestDb::new(&format!("{test}_dst"));
        let project = Project::from_fixture("pull_project");
        project.git_commit_all("the fixture");
        Setup {
            role,
            source,
            target,
            project,
            state: tempfile::TempDir::new().expect("state folder"),
        }
    }

    /// Run `policy grants` (as the admin, who may read the catalog) and apply its SQL.
    fn grant(&self) -> String {
        let (code, sql, stderr) = self.run(
            &[
                "policy",
                "grants",
                "--from",
                "staging",
                "--role",
                &self.role.0,
            ],
            self.source.url(),
        );
        assert_eq!(code, 0, "{stderr}");
        self.source.exec(&sql);
        sql
    }

    fn env(&self, source_url: &str) -> Vec<(&'static str, String)> {
        vec![
            ("PROD_DATABASE_URL", source_url.to_string()),
            ("STAGING_DATABASE_URL", source_url.to_string()),
            ("DATABASE_URL", self.target.url().to_string()),
            ("PULLPROD_SALT", "a test salt that is long enough".into()),
            ("XDG_STATE_HOME", self.state.path().display().to_string()),
        ]
    }

    fn run(&self, args: &[&str], source_url: &str) -> (i32, String, String) {
        let env = self.env(source_url);
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.project.run_with_env(args, &pairs)
    }

    /// `console --from <source>` as the role, `sql` typed on its standard input.
    fn console(&self, source: &str, sql: &str) -> (i32, String, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pullprod"))
            .args(["console", "--from", source])
            .current_dir(self.project.root())
            .envs(self.env(&self.role.conninfo(self.source.url())))
            .env_remove("PGOPTIONS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the console");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(sql.as_bytes())
            .expect("type into the console");
        let output = child.wait_with_output().expect("console output");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn audit_log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("pullprod/audit.log")).unwrap_or_default()
    }
}

#[test]
fn policy_grants_makes_a_role_that_pulls_and_cannot_write() {
    let setup = Setup::new("grants_role");
    // Row-level security on a copied table: the role must read past it, or the pull refuses.
    setup.source.exec(
        "ALTER TABLE orders ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY nobody ON orders USING (false);",
    );
    let sql = setup.grant();
    for expected in [
        "CREATE ROLE",
        "BYPASSRLS",
        "\"public\".\"orders\"",
        "SEQUENCE \"public\".\"invoice_seq\"",
    ] {
        assert!(sql.contains(expected), "{expected} missing from:\n{sql}");
    }
    for never in ["INSERT", "UPDATE", "DELETE", "TRUNCATE", "ALL PRIVILEGES"] {
        assert!(!sql.contains(never), "{never} in:\n{sql}");
    }

    // It pulls: every row, and no warning that the role could write.
    let as_role = setup.role.conninfo(setup.source.url());
    let (code, _, stderr) = setup.run(&["pull-prod", "--from", "staging", "--strict"], &as_role);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("could write"), "{stderr}");
    for table in ["people", "orders", "events"] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(
            setup.target.count(&sql),
            setup.source.count(&sql),
            "{table}"
        );
    }

    // It cannot write, even with read-only transactions switched off.
    let mut client = crate::support::connect(&as_role);
    // Its own statement: a batch is one transaction, read-only from its start.
    client
        .batch_execute("SET default_transaction_read_only = off")
        .expect("the role may change its own session defaults");
    for statement in [
        "INSERT INTO orders (person_id, note, total) VALUES (1, 'planted', 1)",
        "UPDATE people SET secret = 'planted'",
        "DELETE FROM sessions",
        "TRUNCATE events",
        "CREATE TABLE planted (x int)",
        "DROP TABLE sessions",
        "ALTER TABLE people ADD COLUMN planted int",
        "SELECT nextval('invoice_seq')",
    ] {
        let err = client.batch_execute(statement).expect_err(statement);
        let message = pullprod::pgerror::message(&err);
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{statement}: {message}"
        );
    }
    assert_eq!(setup.source.count("SELECT count(*) FROM orders"), 200);
    assert_eq!(setup.source.count("SELECT count(*) FROM sessions"), 10);
}

#[test]
fn console_writes_nothing_and_audits_production() {
    let setup = Setup::new("console_ro");
    setup.grant();

    // The session works and carries its limits.
    let (code, stdout, stderr) = setup.console(
        "production",
        "SELECT count(*) AS n_orders FROM orders;\nSHOW statement_timeout;\nSHOW default_transaction_read_only;\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("200"), "{stdout}");
    assert!(stdout.contains("30s"), "{stdout}");
    assert!(stdout.contains(" on"), "{stdout}");
    assert!(stderr.contains("PRODUCTION"), "{stderr}");

    let writes = [
        (
            "INSERT INTO orders (person_id, note, total) VALUES (1, 'planted', 1);",
            "read-only transaction",
        ),
        (
            "UPDATE people SET secret = 'planted';",
            "read-only transaction",
        ),
        ("DELETE FROM orders;", "read-only transaction"),
        ("CREATE TABLE planted (x int);", "read-only transaction"),
        ("DROP TABLE sessions;", "read-only transaction"),
        (
            "SET default_transaction_read_only = off;\nINSERT INTO orders (person_id, note, total) VALUES (1, 'planted', 1);",
            "permission denied",
        ),
        (
            "SET default_transaction_read_only = off;\nDELETE FROM orders;",
            "permission denied",
        ),
        (
            "SET default_transaction_read_only = off;\nCREATE TABLE planted (x int);",
            "permission denied",
        ),
        (
            "BEGIN READ WRITE;\nUPDATE people SET secret = 'planted';\nCOMMIT;",
            "permission denied",
        ),
    ];
    for (sql, reason) in writes {
        let (code, _, stderr) = setup.console("production", &format!("{sql}\n"));
        assert_eq!(code, 0, "psql runs the input: {stderr}");
        assert!(
            stderr.contains("ERROR:") && stderr.contains(reason),
            "{sql}\n{stderr}"
        );
    }
    assert_eq!(setup.source.count("SELECT count(*) FROM orders"), 200);
    assert_eq!(
        setup
            .source
            .count("SELECT count(*) FROM people WHERE secret = 'planted'"),
        0
    );
    assert_eq!(
        setup
            .source
            .count("SELECT count(*) FROM pg_class WHERE relname IN ('planted', 'sessions')"),
        1,
        "`planted` was not created and `sessions` not dropped"
    );

    // One audit line per production console: who, when, which source; never a result.
    let audit = setup.audit_log();
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 1 + writes.len(), "{audit}");
    let entry: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(entry["event"], "console");
    assert_eq!(entry["source"], "production");
    assert!(entry["who"].as_str().is_some_and(|who| !who.is_empty()));
    assert!(entry["opened_at_unix"].as_u64().is_some_and(|t| t > 0));
    assert!(
        !audit.contains("200") && !audit.contains("planted"),
        "{audit}"
    );

    // Staging (marked `production = false` in the reviewed manifest): no banner, no audit line.
    let (code, _, stderr) = setup.console("staging", "SELECT 1;\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("PRODUCTION"), "{stderr}");
    assert_eq!(setup.audit_log().lines().count(), lines.len());
}

#[test]
fn console_refuses_a_role_that_could_write() {
    let setup = Setup::new("console_rw");
    // The test's own role: a superuser, or at least the owner of every table.
    let (code, stdout, stderr) = setup.run(&["console", "--from", "staging"], setup.source.url());
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("refusing to open a console")
            && stderr.contains("could write")
            && stderr.contains("cargo xtask policy grants"),
        "{stderr}"
    );
    assert!(setup.audit_log().is_empty(), "nothing was opened");
}

#[test]
fn console_without_psql_says_how_to_get_it() {
    let setup = Setup::new("console_nopsql");
    let empty = tempfile::TempDir::new().expect("an empty folder");
    let (code, _, stderr) = setup.project.run_with_env(
        &["console"],
        &[
            ("PATH", &empty.path().display().to_string()),
            // Configuration is read with `cargo metadata`; only psql is missing.
            ("CARGO", env!("CARGO")),
            ("PROD_DATABASE_URL", setup.source.url()),
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`psql` was not found on PATH")
            && stderr.contains("apt install postgresql-client"),
        "{stderr}"
    );
}
