//! `where` conditions are reviewed code run on production (12.4) and errors never echo a
//! value (12.5): every bypass of the attack review, through the built binary.

use crate::support::{Project, PullSetup, TestDb};

/// Planted in the source; no output of any command may ever show one.
const CANARIES: &[&str] = &["CANARYBIO7f3a", "CANARYTOKEN9d2c", "CANARYTAG51e0"];

const SOURCE_SQL: &str = "
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, bio text, tags text);
INSERT INTO users VALUES
  (1, 'alice', 'CANARYBIO7f3a', 'CANARYTAG51e0'),
  (2, 'bob', 'plain words', '7');
CREATE TABLE sessions (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, token text NOT NULL);
INSERT INTO sessions VALUES (1, 1, 'CANARYTOKEN9d2c'), (2, 2, 'CANARYTOKEN9d2c-2');
";

struct Setup(PullSetup);

impl std::ops::Deref for Setup {
    type Target = PullSetup;
    fn deref(&self) -> &PullSetup {
        &self.0
    }
}

impl Setup {
    /// A committed project whose `users` table has `where = <condition>` (and `extra` keys).
    fn new(test: &str, condition: &str, extra: &str) -> Setup {
        let project = Project::empty();
        project.write(
            "Cargo.toml",
            "[package]\nname = \"conditions\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
             [package.metadata.dump]\npolicy = \"policy\"\nproject = \"conditions\"\n\
             source.production = \"env:PROD_DATABASE_URL\"\ntarget = \"env:DATABASE_URL\"\n\
             salt = \"env:PULLPROD_SALT\"\nreview-ref = \"main\"\n",
        );
        project.write("src/lib.rs", "//! conditions test project\n");
        let setup = Setup(PullSetup::new(test, SOURCE_SQL, project));
        setup.set_policy(condition, extra);
        setup
    }

    /// Rewrite and commit the policy.
    fn set_policy(&self, condition: &str, extra: &str) {
        self.project.write(
            "policy/users.toml",
            &format!(
                "[users]\nwhere = {}\n{extra}id = \"keep\"\nname = \"fake.name\"\nbio = \"redact\"\ntags = \"keep\"\n",
                toml_string(condition)
            ),
        );
        self.project
            .write("policy/sessions.toml", "[sessions]\nskip = true\n");
        self.project.git_commit_all("policy");
    }

    /// Every command a user could run on this policy, with what each printed.
    fn every_command(&self) -> Vec<(String, i32, String)> {
        let dumps = self.state.path().join("dumps");
        std::fs::create_dir_all(&dumps).expect("dump folder");
        std::fs::set_permissions(&dumps, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("private dump folder");
        let dump = dumps.join("dump.sql");
        let dump = dump.to_str().expect("utf-8 path");
        let source = self.source.url();
        let commands: Vec<Vec<&str>> = vec![
            vec!["check-policy", "--database-url", source],
            vec!["check-policy", "--database-url", source, "--sample"],
            vec!["pull-prod", "--plan"],
            vec!["pull-prod", "--to-file", dump],
            vec!["pull-prod"],
        ];
        commands
            .into_iter()
            .map(|args| {
                let (code, output) = self.run(&args, &[]);
                (args.join(" "), code, output)
            })
            .collect()
    }

    /// No canary in any output, dump file or the audit log.
    fn assert_no_canary(&self, runs: &[(String, i32, String)]) {
        for (command, _, output) in runs {
            for canary in CANARIES {
                assert!(
                    !output.contains(canary),
                    "`{command}` printed the canary `{canary}`:\n{output}"
                );
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.state.path().join("dumps")) {
            for entry in entries {
                let path = entry.expect("dump entry").path();
                let dump =
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
                for canary in CANARIES {
                    assert!(
                        !dump.contains(canary),
                        "the dump `{}` holds `{canary}`",
                        path.display()
                    );
                }
            }
        }
        let audit = self.state.path().join("pullprod/audit.log");
        let audit = std::fs::read_to_string(audit).unwrap_or_default();
        for canary in CANARIES {
            assert!(!audit.contains(canary), "the audit log holds `{canary}`");
        }
    }

    fn target_tables(&self) -> i64 {
        self.target
            .count("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'old_marker'")
    }
}

fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every command refuses the condition with the same diagnostic, and nothing is read or written.
fn assert_refused_everywhere(setup: &Setup, reason: &str) {
    let runs = setup.every_command();
    assert_eq!(setup.target_tables(), 0, "the dev database was written");
    setup.assert_no_canary(&runs);
    assert_refused(&runs, reason);
}

fn assert_refused(runs: &[(String, i32, String)], reason: &str) {
    for (command, code, output) in runs {
        assert_ne!(*code, 0, "`{command}` accepted the condition:\n{output}");
        assert!(
            output.contains("policy/users.toml:2:9: error[unsafe-condition]")
                && output.contains(reason),
            "`{command}` did not refuse with the diagnostic ({reason}):\n{output}"
        );
    }
}

/// 12.4: `where` pasted into SQL let a policy copy session tokens into `users.tags`.
#[test]
fn union_all_injection_is_refused() {
    let setup = Setup::new(
        "cond_union",
        "true) UNION ALL (SELECT s.id + 100, s.token, s.token, s.token FROM sessions s",
        "",
    );
    assert_refused_everywhere(&setup, "closes a `)` it did not open");
    // check-policy without a database screens conditions too.
    let (code, output) = setup.run(&["check-policy"], &[]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("policy/users.toml:2:9: error[unsafe-condition]"),
        "{output}"
    );
    // Balanced, the set operation and the sub-select are refused too.
    setup.set_policy(
        "true UNION ALL SELECT s.id + 100, s.token, s.token, s.token FROM sessions s",
        "",
    );
    assert_refused_everywhere(&setup, "set operation (`UNION`)");
    setup.set_policy(
        "id IN (SELECT user_id FROM sessions WHERE token LIKE 'CANARY%')",
        "",
    );
    assert_refused_everywhere(&setup, "sub-select (`SELECT`)");
}

/// 12.4: `pg_terminate_backend` in a condition killed another backend from the read-only session.
#[test]
fn pg_terminate_backend_is_refused_and_the_other_backend_survives() {
    let setup = Setup::new("cond_terminate", "true", "");
    let mut victim = setup.source.client();
    let pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    setup.set_policy(&format!("pg_terminate_backend({pid})"), "");
    let runs = setup.every_command();
    victim
        .query_one("SELECT 1", &[])
        .expect("the other backend is still alive");
    assert_refused(&runs, "`pg_terminate_backend`");
}

/// 12.4: `lo_export` in a condition wrote a file on the server.
#[test]
fn lo_export_is_refused_and_writes_nothing() {
    let setup = Setup::new("cond_lo_export", "true", "");
    let oid: u32 = setup
        .source
        .client()
        .query_one("SELECT lo_from_bytea(0, 'CANARYBIO7f3a')", &[])
        .expect("large object")
        .get(0);
    let file = std::env::temp_dir().join(format!("pullprod-lo-export-{}", std::process::id()));
    let _ = std::fs::remove_file(&file);
    setup.set_policy(&format!("lo_export({oid}, '{}') = 1", file.display()), "");
    let runs = setup.every_command();
    assert!(!file.exists(), "lo_export wrote `{}`", file.display());
    assert_refused(&runs, "`lo_export`");
}

/// 12.4: `pg_read_file` in a condition read a server file.
#[test]
fn pg_read_file_is_refused() {
    let setup = Setup::new(
        "cond_read_file",
        "length(pg_read_file('/etc/hostname')) > 0",
        "",
    );
    assert_refused_everywhere(&setup, "`pg_read_file`");
}

/// Volatile functions and operators, as PostgreSQL declares them (`pg_proc.provolatile`),
/// including the database's own.
#[test]
fn volatile_functions_and_operators_are_refused() {
    let setup = Setup::new("cond_volatile", "random() < 2", "");
    assert_refused_everywhere(&setup, "`random`, which is volatile");
    setup.source.exec(
        "CREATE FUNCTION public.always(int) RETURNS boolean LANGUAGE sql VOLATILE AS 'SELECT true'; \
         CREATE FUNCTION public.same(int, int) RETURNS boolean LANGUAGE sql VOLATILE AS 'SELECT $1 = $2'; \
         CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = public.same)",
    );
    setup.set_policy("public.always(id)", "");
    assert_refused_everywhere(&setup, "`always`, which is volatile");
    setup.set_policy("id === 1", "");
    assert_refused_everywhere(&setup, "the operator `===` runs `same`, which is volatile");
}

/// A valid condition still works everywhere (the check refuses only what it must).
#[test]
fn a_plain_condition_passes_every_command() {
    let setup = Setup::new(
        "cond_plain",
        "lower(name) LIKE 'a%' AND id BETWEEN 1 AND 10 AND tags IS NOT NULL AND now() > '2000-01-01'",
        "",
    );
    let (code, output) = setup.run(&["check-policy", "--database-url", setup.source.url()], &[]);
    assert_eq!(code, 0, "{output}");
    let (code, output) = setup.run(&["pull-prod"], &[]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(setup.target.count("SELECT count(*) FROM users"), 1);
}

/// 12.5: a condition that fails on a row printed the row's value, through pull-prod, `--plan`
/// (subsets count their rows) and `--to-file`.
#[test]
fn errors_from_reading_rows_never_show_a_value() {
    let condition = "(CASE WHEN id = 1 THEN bio::int ELSE 1 END) > 0";
    let setup = Setup::new("cond_echo", condition, "");
    let runs = setup.every_command();
    setup.assert_no_canary(&runs);
    for (command, code, output) in &runs {
        if command.starts_with("check-policy") || command == "pull-prod --plan" {
            // The condition is valid SQL: PostgreSQL plans it without reading a row.
            assert_eq!(*code, 0, "`{command}`:\n{output}");
        } else {
            assert_ne!(*code, 0, "`{command}`:\n{output}");
            assert!(
                output.contains("SQLSTATE 22P02 (invalid_text_representation) in `public.users`"),
                "`{command}` does not name the SQLSTATE and table:\n{output}"
            );
        }
    }
    // A subset evaluates the condition in its closure, and `--plan` counts it.
    setup.set_policy(condition, "limit = 10\n");
    let runs = setup.every_command();
    setup.assert_no_canary(&runs);
    for (command, code, output) in &runs {
        if command.starts_with("pull-prod") {
            assert_ne!(*code, 0, "`{command}`:\n{output}");
            assert!(output.contains("SQLSTATE 22P02"), "`{command}`:\n{output}");
        }
    }
    assert_eq!(setup.target_tables(), 0);
}

/// 12.5: the dev database rejecting a kept value (here the migrations make `tags` an integer)
/// names the SQLSTATE, table and column, never the value the server quotes.
#[test]
fn a_target_rejecting_a_kept_value_never_shows_it() {
    let setup = Setup::new("cond_target", "true", "");
    // An array of an enum travels in COPY's text format, where the server quotes the value.
    setup
        .source
        .exec("CREATE TYPE mood AS ENUM ('ok'); ALTER TABLE users ADD COLUMN moods mood[]");
    let policy = setup.project.read("policy/users.toml");
    setup
        .project
        .write("policy/users.toml", &format!("{policy}moods = \"keep\"\n"));
    let migration = "CREATE TYPE mood AS ENUM ('ok'); \
                     CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, bio text, tags int, moods mood[]); \
                     CREATE TABLE sessions (id int PRIMARY KEY, user_id int NOT NULL, token text NOT NULL);";
    setup.project.write("migrations/1.sql", migration);
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &format!(
            "{manifest}schema = {{ command = 'psql -X -q -v ON_ERROR_STOP=1 -f migrations/1.sql' }}\n"
        ),
    );
    setup.project.git_commit_all("migrations");
    let (code, output) = setup.run(&["pull-prod"], &[]);
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains("SQLSTATE 22P02 (invalid_text_representation) in `public.users.tags`"),
        "{output}"
    );
    setup.assert_no_canary(&[("pull-prod".to_string(), code, output)]);
}

/// The wrapper: DETAIL (where PostgreSQL puts row values) never reaches a message.
#[test]
fn pg_errors_keep_message_and_hint_but_never_detail() {
    use pullprod::pgerror::PgContext;
    let db = TestDb::new("cond_wrapper");
    db.exec("CREATE TABLE t (email text UNIQUE); INSERT INTO t VALUES ('CANARYBIO7f3a')");
    let err = db
        .client()
        .batch_execute("INSERT INTO t VALUES ('CANARYBIO7f3a')")
        .pg_context("failed to insert")
        .expect_err("duplicate");
    let text = format!("{err:#}");
    assert!(
        text.contains("duplicate key value violates unique constraint"),
        "{text}"
    );
    assert!(!text.contains("CANARY"), "{text}");
    let table = pullprod::policy::model::TableName::new("public", "t");
    let err = db
        .client()
        .batch_execute("SELECT email::int FROM t")
        .data_context(&table, &["email".to_string()], "failed to read")
        .expect_err("bad cast");
    let text = format!("{err:#}");
    assert!(
        text.contains("SQLSTATE 22P02 (invalid_text_representation) in `public.t`"),
        "{text}"
    );
    assert!(!text.contains("CANARY"), "{text}");
}
