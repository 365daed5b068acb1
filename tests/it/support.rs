//! Test helpers: throwaway PostgreSQL databases (`TestDb`) and paths to the built binary.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, NoTls};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database created for one test and dropped (`WITH (FORCE)`) when the guard goes.
/// `PULLPROD_TEST_KEEP=1` keeps it and prints its name.
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDb {
    /// Create `pp_t_<test>_<pid>_<n>`, after dropping stale ones of the same test from killed runs.
    pub fn new(test: &str) -> TestDb {
        let admin_url = admin_url();
        let mut admin = connect(&admin_url);
        let prefix: String = format!("pp_t_{}", sanitize(test))
            .chars()
            .take(40)
            .collect();
        let stale: Vec<String> = admin
            .query(
                "SELECT datname FROM pg_database WHERE datname LIKE $1 || '\\_%'",
                &[&prefix],
            )
            .expect("list stale test databases")
            .iter()
            .map(|row| row.get(0))
            .filter(|name: &String| !pid_alive(name, &prefix))
            .collect();
        for name in stale {
            let _ =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        assert!(name.len() <= 63, "test database name too long: {name}");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|err| panic!("create test database `{name}`: {err}"));
        let url = with_dbname(&admin_url, &name);
        TestDb {
            name,
            url,
            admin_url,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A libpq connection string for this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> Client {
        connect(&self.url)
    }

    /// The single integer a query returns (`SELECT count(*) …`).
    pub fn count(&self, sql: &str) -> i64 {
        self.client()
            .query_one(sql, &[])
            .unwrap_or_else(|err| panic!("{sql}: {}", pullprod::pgerror::message(&err)))
            .get(0)
    }

    /// Run SQL (several statements allowed).
    pub fn exec(&self, sql: &str) {
        self.client().batch_execute(sql).unwrap_or_else(|err| {
            panic!(
                "SQL failed in `{}`: {}",
                self.name,
                pullprod::pgerror::message(&err)
            )
        });
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var_os("PULLPROD_TEST_KEEP").is_some() {
            eprintln!("keeping test database `{}`", self.name);
            return;
        }
        if let Ok(mut admin) = Client::connect(&self.admin_url, NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The server the tests use: `PULLPROD_TEST_PG_URL`, or libpq defaults (local socket, `PG*`).
pub fn admin_url() -> String {
    if let Ok(url) = std::env::var("PULLPROD_TEST_PG_URL") {
        return url;
    }
    let host = std::env::var("PGHOST").unwrap_or_else(|_| "/var/run/postgresql".into());
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "postgres".into());
    format!("host={host} port={port} user={user} dbname=postgres")
}

/// Connect, or fail the test with one line saying how to get a server.
pub fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|err| {
        panic!(
            "no PostgreSQL server answers ({err}): start one \
             (`pg_ctlcluster 15 main start`) or set PULLPROD_TEST_PG_URL to a role with CREATEDB"
        )
    })
}

/// Replace (or add) `dbname` in a key=value connection string or a URL.
pub fn with_dbname(conninfo: &str, dbname: &str) -> String {
    if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
        let (base, query) = match conninfo.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (conninfo, None),
        };
        let authority_end = base
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| base[start..].find('/').map(|i| start + i))
            .unwrap_or(base.len());
        let mut url = format!("{}/{dbname}", &base[..authority_end]);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        return url;
    }
    let kept: Vec<&str> = conninfo
        .split_whitespace()
        .filter(|part| !part.starts_with("dbname="))
        .collect();
    format!("{} dbname={dbname}", kept.join(" "))
}

fn sanitize(test: &str) -> String {
    test.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A stale database's name is `<prefix>_<pid>_<n>`; those of runs still alive (or of
/// other tests sharing the prefix) are left alone.
fn pid_alive(name: &str, prefix: &str) -> bool {
    let rest = name.strip_prefix(prefix).unwrap_or("");
    let parts: Vec<&str> = rest.split('_').collect();
    let [empty, pid, n] = parts.as_slice() else {
        return true;
    };
    if !empty.is_empty() || n.parse::<u32>().is_err() {
        return true;
    }
    match pid.parse::<u32>() {
        Ok(pid) => std::path::Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => true,
    }
}

/// A project folder in a temporary directory (a fixture copied, or empty), where the built
/// binary runs as `cargo xtask` would.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A copy of `tests/data/<fixture>`.
    pub fn from_fixture(fixture: &str) -> Project {
        let project = Project::empty();
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(fixture);
        copy_dir(&source, project.dir.path());
        project
    }

    pub fn empty() -> Project {
        Project {
            dir: tempfile::TempDir::new().expect("create a temporary folder"),
        }
    }

    pub fn root(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn path(&self, relative: &str) -> std::path::PathBuf {
        self.dir.path().join(relative)
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).expect("read a project file")
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create folder");
        }
        std::fs::write(path, text).expect("write a project file");
    }

    /// Run the binary in the project folder; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_with_env(args, &[])
    }

    /// `run` with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pullprod"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("GITHUB_ACTIONS")
            .env_remove("PULLPROD_TEST_UNSET_STAGING_URL")
            .envs(env.iter().copied())
            .output()
            .expect("run pullprod");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `git init` (if needed) and commit everything, on branch `main`.
    pub fn git_commit_all(&self, message: &str) {
        if !self.path(".git").exists() {
            git(self.root(), &["init", "-q"]);
        }
        git(self.root(), &["add", "-A"]);
        git(
            self.root(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
    }
}

/// Run git in `dir` as a test user (branch `main`, local submodules allowed); it must succeed.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let output = std::process::Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The policy of `tests/data/small_shop.sql`, with the given rules for `people.email` and
/// `orders.note` (the columns tests plant values in); `secret` is always nulled.
pub fn small_shop_policy(email: &str, note: &str) -> pullprod::policy::model::Policy {
    policy_from_toml(&format!(
        r#"
[people]
id = "keep"
email = {email}
secret = "null"
code = "keep"
moods = "keep"
boss = "keep"
doubled = "keep"

[orders]
id = "keep"
person_id = "keep"
note = {note}
total = "keep"

[events]
at = "keep"
person_id = "keep"
payload = "keep"

[sessions]
skip = true
"#
    ))
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("list fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// A pull from `source` to `target` as tests run it: quiet, a fixed salt, an audit log in
/// the temporary folder.
pub fn pull_request(
    source: &TestDb,
    target: &TestDb,
    policy: pullprod::policy::model::Policy,
    jobs: usize,
) -> pullprod::pull::PullRequest {
    pullprod::pull::PullRequest {
        source_name: "staging".into(),
        source: pullprod::conn::Settings::parse(source.url()).expect("source settings"),
        destination: pullprod::pull::Destination::Database(
            pullprod::conn::Settings::parse(target.url()).expect("target settings"),
        ),
        policy,
        policy_sha256: "0".repeat(64),
        commit: None,
        salt: pullprod::transform::Salt::new(b"test salt".to_vec()),
        schema: Default::default(),
        options: pullprod::pull::PullOptions {
            jobs,
            quiet: true,
            audit_log: Some(
                std::env::temp_dir()
                    .join(format!("pullprod-test-audit-{}.log", std::process::id())),
            ),
            ..Default::default()
        },
    }
}

/// A project with the demo's own policy, reading `STAGING_DATABASE_URL` (a source marked
/// `production = false`) into `DATABASE_URL` with `PULLPROD_SALT`; `extra` is appended to its
/// dump table. Committed on `main`, its review ref, so the marking counts.
pub fn demo_project(extra: &str) -> Project {
    let project = Project::empty();
    project.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"demo-copy\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
             [package.metadata.dump]\npolicy = \"policy\"\nproject = \"demo-copy\"\n\
             source.staging = {{ url = \"env:STAGING_DATABASE_URL\", production = false }}\n\
             target = \"env:DATABASE_URL\"\nsalt = \"env:PULLPROD_SALT\"\nretention-days = 1\n\
             review-ref = \"main\"\n{extra}"
        ),
    );
    project.write("src/lib.rs", "//! a copy of the demo project\n");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for folder in ["policy", "migrations"] {
        for entry in std::fs::read_dir(root.join(folder)).expect("demo folder") {
            let entry = entry.expect("entry");
            let name = entry.file_name().into_string().expect("utf-8 name");
            let text = std::fs::read_to_string(entry.path()).expect("read");
            project.write(&format!("{folder}/{name}"), &text);
        }
    }
    project.git_commit_all("the demo project");
    project
}

/// A throwaway demo "production" database at a small scale.
pub fn demo_source(test: &str) -> TestDb {
    let source = TestDb::new(test);
    xtask::demo::demo_prod(&xtask::demo::DemoOptions {
        scale: 60,
        database_url: Some(source.url().to_string()),
    })
    .expect("demo database");
    source
}

/// A policy written in the policy language, for tests; it must parse without errors.
pub fn policy_from_toml(text: &str) -> pullprod::policy::model::Policy {
    let file = pullprod::policy::PolicyFile {
        path: "policy/test.toml".into(),
        text: text.to_string(),
    };
    let parsed = pullprod::policy::parse(&[file]);
    let errors: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.is_error())
        .map(|diagnostic| diagnostic.message.clone())
        .collect();
    assert!(errors.is_empty(), "the test policy has errors: {errors:?}");
    parsed.policy
}

/// A login role on the main server, dropped (with the databases it owns) when the guard goes.
/// Create it before the databases it gets privileges in, so they are dropped first.
pub struct Role(pub String);

impl Role {
    /// `pp_h_<name>_<pid>`, created `LOGIN <options>`.
    pub fn new(name: &str, options: &str) -> Role {
        let role = Role::reserve(name);
        connect(&admin_url())
            .batch_execute(&format!("CREATE ROLE {} LOGIN {options}", role.0))
            .expect("create role");
        role
    }

    /// The name `pp_h_<name>_<pid>`, free (a stale role of that name is dropped) for the test
    /// to create; dropped at the end like `new`'s.
    pub fn reserve(name: &str) -> Role {
        let name = format!("pp_h_{name}_{}", std::process::id());
        connect(&admin_url())
            .batch_execute(&format!("DROP ROLE IF EXISTS {name}"))
            .expect("drop a stale role");
        Role(name)
    }

    /// `conninfo` (key=value) connecting as this role.
    pub fn conninfo(&self, conninfo: &str) -> String {
        let mut parts: Vec<String> = conninfo
            .split_whitespace()
            .filter(|part| !part.starts_with("user="))
            .map(str::to_string)
            .collect();
        parts.push(format!("user={}", self.0));
        parts.join(" ")
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let mut admin = connect(&admin_url());
        let owned: Vec<String> = admin
            .query(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1",
                &[&self.0],
            )
            .map(|rows| rows.iter().map(|row| row.get(0)).collect())
            .unwrap_or_default();
        for db in owned {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
        }
        let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.0));
    }
}

/// What every command-line pull test starts from: a source database, a dev database holding
/// `old_marker` (42) that a refused or failed run must leave as it was, a project folder and a
/// private state folder (audit log, salt, dumps). Test modules wrap it (`Deref`) to add their own.
pub struct PullSetup {
    pub project: Project,
    pub source: TestDb,
    pub target: TestDb,
    pub state: tempfile::TempDir,
}

impl PullSetup {
    /// `{test}_src` filled by `source_sql`, `{test}_dst` with the marker, and `project`.
    pub fn new(test: &str, source_sql: &str, project: Project) -> PullSetup {
        let source = TestDb::new(&format!("{test}_src"));
        source.exec(source_sql);
        let target = TestDb::new(&format!("{test}_dst"));
        target.exec("CREATE TABLE old_marker (x int); INSERT INTO old_marker VALUES (42)");
        PullSetup {
            project,
            source,
            target,
            state: tempfile::TempDir::new().expect("state folder"),
        }
    }

    /// The environment the fixture projects read: both sources are the source database.
    pub fn env(&self) -> Vec<(&'static str, String)> {
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

    /// Run the binary with `args`, `extra` added to the environment: (exit code, stdout + stderr).
    pub fn run(&self, args: &[&str], extra: &[(&str, &str)]) -> (i32, String) {
        let env = self.env();
        let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.extend_from_slice(extra);
        let (code, stdout, stderr) = self.project.run_with_env(args, &pairs);
        (code, format!("{stdout}{stderr}"))
    }

    /// `pull-prod ARGS` with `extra` in the environment.
    pub fn pull_with(&self, args: &[&str], extra: &[(&str, &str)]) -> (i32, String) {
        let mut all = vec!["pull-prod"];
        all.extend_from_slice(args);
        self.run(&all, extra)
    }

    /// The old dev database is still there, untouched.
    pub fn assert_old_target_intact(&self, context: &str) {
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
}

/// `count:md5` of every user table's (and materialized view's) rows in a stable order, outside
/// the system schemas and pullprod's audit: a database's whole content, row for row.
pub fn table_digests(db: &TestDb) -> Vec<(String, String)> {
    let mut client = db.client();
    let tables: Vec<String> = client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pullprod') \
               AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    tables
        .into_iter()
        .map(|table| {
            let sql = format!(
                "SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} t"
            );
            let digest: String = client.query_one(&sql, &[]).unwrap().get(0);
            (table, digest)
        })
        .collect()
}
