//! Hardening against real PostgreSQL: TLS modes, faults mid-pull, hostile schemas and values,
//! odd encodings, hot-standby sources, fuzzed parsers, and secrets kept out of every error.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pullprod::conn::{self, Settings, SslMode};
use pullprod::policy::model::{
    ColumnRule, Origin, Policy, Rule, Strategy, TableAction, TableName, TableRule,
};
use pullprod::pull::{self, Destination, PullOptions, PullRequest};
use pullprod::transform::Salt;

use crate::support::{self, Role, TestDb};

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

// ---------------------------------------------------------------------------------------------
// Helpers

/// A policy covering every table of `source`: everything kept except the `(table, column)`
/// pairs given, which are nulled.
fn policy_for(source_url: &str, nulls: &[(&str, &str)]) -> Policy {
    let mut client = support::connect(source_url);
    let catalog = pullprod::schema::load(&mut client).expect("load the source catalog");
    for (table, column) in nulls {
        assert!(
            catalog.tables.iter().any(
                |t| t.name.to_string() == *table && t.columns.iter().any(|c| c.name == *column)
            ),
            "no column `{column}` in `{table}`"
        );
    }
    Policy {
        tables: catalog
            .tables
            .iter()
            .map(|table| TableRule {
                table: table.name.clone(),
                origin: Origin::default(),
                action: TableAction::Copy,
                filter: None,
                seed_rows: None,
                subset: Default::default(),
                columns: table
                    .columns
                    .iter()
                    .map(|column| {
                        let nulled = nulls
                            .iter()
                            .any(|(t, c)| *t == table.name.to_string() && *c == column.name);
                        ColumnRule {
                            column: column.name.clone(),
                            rule: Rule {
                                strategy: if nulled {
                                    Strategy::Null
                                } else {
                                    Strategy::Keep
                                },
                                unique: false,
                                reason: None,
                                not_sensitive: None,
                            },
                            origin: Origin::default(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn request(
    source_name: &str,
    source: &str,
    target: &str,
    policy: Policy,
    jobs: usize,
) -> PullRequest {
    PullRequest {
        source_name: source_name.into(),
        source: Settings::parse(source).expect("source settings"),
        destination: Destination::Database(Settings::parse(target).expect("target settings")),
        policy,
        policy_sha256: "0".repeat(64),
        commit: None,
        salt: Salt::new(b"hardening salt".to_vec()),
        schema: Default::default(),
        options: PullOptions {
            jobs,
            quiet: true,
            audit_log: Some(std::env::temp_dir().join(format!(
                "pullprod-hardening-audit-{}.log",
                std::process::id()
            ))),
            ..PullOptions::default()
        },
    }
}

fn query_i64(url: &str, sql: &str) -> i64 {
    support::connect(url)
        .query_one(sql, &[])
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
        .get(0)
}

fn has_marker(target: &TestDb) -> bool {
    query_i64(
        target.url(),
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'dev_marker'",
    ) == 1
}

/// Temporary databases of pullprod for this target still on the server.
fn leftovers(target: &TestDb) -> Vec<String> {
    support::connect(&support::admin_url())
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE $1 || '\\_\\_pp\\_%'",
            &[&target.name()],
        )
        .expect("list databases")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// `(table, rows, checksum)` for every table of the database, over all columns except the
/// `skip`ped ones; rows of `ONLY` the table (inheritance children are tables of their own).
fn fingerprint(url: &str, skip: &[(&str, &str)]) -> Vec<(String, i64, String)> {
    let mut client = support::connect(url);
    let catalog = pullprod::schema::load(&mut client).expect("load catalog");
    let mut out = Vec::new();
    for table in &catalog.tables {
        if table.name.schema == "pullprod" {
            continue;
        }
        let columns: Vec<String> = table
            .columns
            .iter()
            .filter(|column| {
                !skip
                    .iter()
                    .any(|(t, c)| *t == table.name.to_string() && *c == column.name)
            })
            .map(|column| pullprod::sql::quote_ident(&column.name))
            .collect();
        let row = if columns.is_empty() {
            "''".to_string()
        } else {
            format!("md5(ROW({}, 0)::text)", columns.join(", "))
        };
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(h, ',' ORDER BY h)), '') \
             FROM (SELECT {row} AS h FROM ONLY {} t) rows",
            table.name.quoted()
        );
        let result = client
            .query_one(&sql, &[])
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
        out.push((table.name.to_string(), result.get(0), result.get(1)));
    }
    out.sort();
    out
}

/// Run `pull` on another thread while `during` watches the server; returns the pull's result.
fn pull_while(
    request: PullRequest,
    during: impl FnOnce(&std::thread::JoinHandle<anyhow::Result<pull::PullSummary>>) -> bool,
) -> (anyhow::Result<pull::PullSummary>, bool) {
    let handle = std::thread::spawn(move || pull::run(&request));
    let acted = during(&handle);
    (handle.join().expect("pull thread"), acted)
}

/// Terminate the first session matching `condition` (SQL over `pg_stat_activity`), polling
/// until one shows up or the pull ends. True when one was terminated.
fn terminate_when(
    condition: &str,
    handle: &std::thread::JoinHandle<anyhow::Result<pull::PullSummary>>,
) -> bool {
    let mut admin = support::connect(&support::admin_url());
    let sql = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'pullprod' AND state = 'active' AND ({condition}) LIMIT 1"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !handle.is_finished() && Instant::now() < deadline {
        if !admin.query(&sql, &[]).expect("terminate").is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// The failed pull left the dev database as it was and cleaned up after itself; the next
/// run (without the fault) succeeds and leaves no temporary database either.
fn assert_intact_then_recovers(source: &TestDb, target: &TestDb, policy: &Policy) {
    assert!(has_marker(target), "the old dev database is intact");
    assert_eq!(leftovers(target), Vec::<String>::new());
    let summary = pull::run(&request(
        "staging",
        source.url(),
        target.url(),
        policy.clone(),
        2,
    ))
    .expect("the next run succeeds");
    assert!(summary.copied.iter().any(|t| t.rows == 300_000));
    assert!(!has_marker(target), "the next run replaced the database");
    assert_eq!(leftovers(target), Vec::<String>::new());
    assert_eq!(query_i64(target.url(), "SELECT count(*) FROM big"), 300_000);
}

fn big_source(test: &str) -> (TestDb, TestDb, Policy) {
    let source = TestDb::new(&format!("{test}_src"));
    source.exec(include_str!("../data/hardening/big.sql"));
    let target = TestDb::new(&format!("{test}_dst"));
    target.exec("CREATE TABLE dev_marker (x int); INSERT INTO dev_marker VALUES (1)");
    let policy = policy_for(source.url(), &[("public.big", "secret")]);
    (source, target, policy)
}

fn chain(err: &anyhow::Error) -> String {
    format!("{err:#}")
}

// ---------------------------------------------------------------------------------------------
// TLS

fn ssl_in_use(conninfo: &str) -> anyhow::Result<bool> {
    let mut client = conn::connect(conninfo, "the test server")?;
    Ok(client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )?
        .get(0))
}

fn self_signed_cert(dir: &Path) -> PathBuf {
    let cert = dir.join("wrong-root.pem");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(dir.join("wrong-root.key"))
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl made a certificate");
    cert
}

#[test]
fn tls_modes_behave_as_libpq() {
    // Debian's server: ssl = on with the snakeoil certificate, CN and SAN `localhost`.
    let db = TestDb::new("h_tls_modes");
    let name = db.name();
    let base = format!("port=5432 user=root dbname={name}");

    assert!(ssl_in_use(&format!("host=127.0.0.1 {base} sslmode=require")).expect("require"));
    assert!(!ssl_in_use(&format!("host=127.0.0.1 {base} sslmode=disable")).expect("disable"));
    assert!(ssl_in_use(&format!("host=127.0.0.1 {base} sslmode=prefer")).expect("prefer"));
    // Unix sockets never use TLS, whatever the mode (as libpq).
    assert!(
        !ssl_in_use(&format!("host=/var/run/postgresql {base} sslmode=require")).expect("socket")
    );

    // verify-full: the certificate names `localhost`, not `127.0.0.1`.
    assert!(
        ssl_in_use(&format!(
            "host=localhost {base} sslmode=verify-full sslrootcert={SNAKEOIL}"
        ))
        .expect("verify-full with the right name")
    );
    let err = ssl_in_use(&format!(
        "host=127.0.0.1 {base} sslmode=verify-full sslrootcert={SNAKEOIL}"
    ))
    .unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("does not name the host `127.0.0.1`") && text.contains("verify-ca"),
        "{text}"
    );
    // verify-ca checks the chain only.
    assert!(
        ssl_in_use(&format!(
            "host=127.0.0.1 {base} sslmode=verify-ca sslrootcert={SNAKEOIL}"
        ))
        .expect("verify-ca")
    );

    // A wrong root certificate fails, clearly, in verify-ca, verify-full and in require (libpq
    // treats `require` with a root certificate as `verify-ca`).
    let dir = tempfile::tempdir().expect("temp dir");
    let wrong = self_signed_cert(dir.path());
    for mode in ["verify-ca", "verify-full", "require"] {
        let err = ssl_in_use(&format!(
            "host=localhost {base} sslmode={mode} sslrootcert={}",
            wrong.display()
        ))
        .unwrap_err();
        let text = chain(&err);
        assert!(
            text.starts_with("failed to connect to the test server `root@localhost:5432/")
                && text.contains("certificate verify failed")
                && text.contains("not signed by the root certificate")
                && text.contains("wrong-root.pem"),
            "{mode}: {text}"
        );
    }
    // No root certificate at all.
    let err = ssl_in_use(&format!(
        "host=localhost {base} sslmode=verify-full sslrootcert={}",
        dir.path().join("missing.pem").display()
    ))
    .unwrap_err();
    assert!(
        chain(&err).contains("sslmode=verify-full needs a root certificate"),
        "{err:#}"
    );
}

#[test]
fn channel_binding_require_is_never_downgraded() {
    // The local server trusts: no SCRAM, so no channel binding. libpq refuses such a session
    // with channel_binding=require; so must we (it used to be ignored and connected).
    let db = TestDb::new("h_channel_binding");
    let base = format!("host=127.0.0.1 port=5432 user=root dbname={}", db.name());
    assert!(ssl_in_use(&format!("{base} sslmode=require channel_binding=prefer")).expect("prefer"));
    for mode in ["require", "disable"] {
        let err = ssl_in_use(&format!("{base} sslmode={mode} channel_binding=require"))
            .expect_err("channel_binding=require without SCRAM must fail");
        assert!(chain(&err).contains("channel binding"), "{}", chain(&err));
    }
    let err = ssl_in_use(&format!("{base} require_auth=scram-sha-256")).unwrap_err();
    assert!(
        chain(&err).contains("connection option `require_auth` is not supported"),
        "{}",
        chain(&err)
    );

    // A client certificate is loaded (its key must be private, as libpq insists).
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = self_signed_cert(dir.path());
    let key = dir.path().join("wrong-root.key");
    let with_cert = format!(
        "{base} sslmode=require sslcert={} sslkey={}",
        cert.display(),
        key.display()
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = ssl_in_use(&with_cert).unwrap_err();
    assert!(
        chain(&err).contains("readable by group or others"),
        "{}",
        chain(&err)
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(ssl_in_use(&with_cert).expect("client certificate loaded"));
}

#[test]
fn pull_over_verify_full_tls() {
    let source = TestDb::new("h_tls_pull_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let target = TestDb::new("h_tls_pull_dst");
    // The source (and so pg_dump and every worker) over verified TLS; named `production`, on
    // loopback, which enforce_min_tls leaves alone.
    let source_url = format!(
        "host=localhost port=5432 user=root dbname={} sslmode=verify-full sslrootcert={SNAKEOIL}",
        source.name()
    );
    let policy = policy_for(source.url(), &[("public.people", "secret")]);
    pull::run(&request(
        "production",
        &source_url,
        target.url(),
        policy.clone(),
        2,
    ))
    .expect("pull over TLS");
    assert_eq!(
        fingerprint(source.url(), &[("public.people", "secret")]),
        fingerprint(target.url(), &[("public.people", "secret")])
    );
    // A wrong root certificate stops the pull before anything is created.
    let dir = tempfile::tempdir().expect("temp dir");
    let wrong = self_signed_cert(dir.path());
    target.exec("CREATE TABLE dev_marker (x int)");
    let bad_url = format!(
        "host=localhost port=5432 user=root dbname={} sslmode=verify-ca sslrootcert={}",
        source.name(),
        wrong.display()
    );
    let err = pull::run(&request("production", &bad_url, target.url(), policy, 2)).unwrap_err();
    assert!(
        chain(&err).contains("failed to connect to the `production` source"),
        "{err:#}"
    );
    assert!(has_marker(&target));
}

#[test]
fn production_sources_need_tls_unless_local() {
    let source = TestDb::new("h_tls_prod_src");
    let target = TestDb::new("h_tls_prod_dst");
    // A remote production host with sslmode=disable is refused before any connection.
    let remote = format!(
        "host=db.invalid port=5432 user=root dbname={} sslmode=disable",
        source.name()
    );
    let err = pull::run(&request(
        "production",
        &remote,
        target.url(),
        Policy { tables: vec![] },
        1,
    ))
    .unwrap_err();
    assert!(
        chain(&err).starts_with("refusing to connect to the `production` source")
            && chain(&err).contains("sslmode=disable"),
        "{err:#}"
    );
    // Without an explicit mode it is raised to `require`.
    let mut settings = Settings::parse("host=db.invalid dbname=x").expect("parse");
    if std::env::var_os("PGSSLMODE").is_none() {
        conn::enforce_min_tls(&mut settings, "production").expect("raised");
        assert_eq!(settings.sslmode, SslMode::Require);
    }
}

// ---------------------------------------------------------------------------------------------
// Faults

#[test]
fn fault_source_connection_killed_mid_copy() {
    let (source, target, policy) = big_source("h_fault_src_kill");
    let condition = format!(
        // Only `big`'s COPY: killing `small`'s would make another table the one that failed.
        "datname = '{}' AND query LIKE 'COPY%\"public\".\"big\"%TO STDOUT%'",
        source.name()
    );
    let (result, killed) = pull_while(
        request("staging", source.url(), target.url(), policy.clone(), 2),
        |handle| terminate_when(&condition, handle),
    );
    assert!(killed, "a source COPY was caught and terminated");
    let err = result.unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("failed to copy `public.big`")
            && text.contains("nothing was changed: the dev database is as it was")
            && (text.contains("failed to read from the source")
                || text.contains("failed to open COPY TO STDOUT on the source"))
            && (text.contains("terminating connection due to administrator command")
                || text.contains("error communicating with the server")
                || text.contains("connection closed")),
        "{text}"
    );
    assert_intact_then_recovers(&source, &target, &policy);
}

#[test]
fn fault_target_connection_killed_mid_copy() {
    let (source, target, policy) = big_source("h_fault_dst_kill");
    let condition = format!(
        // Only `big`'s COPY: killing `small`'s would make another table the one that failed.
        "datname LIKE '{}\\_\\_pp\\_new\\_%' AND query LIKE 'COPY \"public\".\"big\"%FROM STDIN%'",
        target.name()
    );
    let (result, killed) = pull_while(
        request("staging", source.url(), target.url(), policy.clone(), 2),
        |handle| terminate_when(&condition, handle),
    );
    assert!(killed, "a target COPY was caught and terminated");
    let text = chain(&result.unwrap_err());
    assert!(
        text.contains("failed to copy `public.big`")
            && text.contains("nothing was changed: the dev database is as it was"),
        "{text}"
    );
    assert_intact_then_recovers(&source, &target, &policy);
}

#[test]
fn fault_target_refuses_writes() {
    let (source, target, policy) = big_source("h_fault_dst_refuse");
    let as_role = |role: &Role| {
        format!(
            "host=/var/run/postgresql port=5432 user={} dbname={}",
            role.0,
            target.name()
        )
    };

    // A role that may not create databases: refused before anything is read.
    let no_createdb = Role::new("nocreatedb", "");
    let err = pull::run(&request(
        "staging",
        source.url(),
        &as_role(&no_createdb),
        policy.clone(),
        2,
    ))
    .unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("failed to create the new database")
            && text.contains("permission denied to create database"),
        "{text}"
    );
    assert!(has_marker(&target));
    assert_eq!(leftovers(&target), Vec::<String>::new());

    // A role whose statements in new databases time out: the COPY into the target is cancelled.
    let slow = Role::new("slowtarget", "CREATEDB");
    support::connect(&support::admin_url())
        .batch_execute(&format!(
            "ALTER ROLE {0} SET statement_timeout = '150ms'; \
             ALTER ROLE {0} IN DATABASE postgres SET statement_timeout = 0",
            slow.0
        ))
        .expect("set timeouts");
    let err = pull::run(&request(
        "staging",
        source.url(),
        &as_role(&slow),
        policy.clone(),
        2,
    ))
    .unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("canceling statement due to statement timeout")
            && text.contains("nothing was changed: the dev database is as it was"),
        "{text}"
    );
    assert_intact_then_recovers(&source, &target, &policy);
}

#[test]
fn fault_statement_timeout_on_the_source() {
    let (source, target, policy) = big_source("h_fault_src_timeout");
    source.exec(&format!(
        "ALTER DATABASE \"{}\" SET statement_timeout = '150ms'",
        source.name()
    ));
    // One worker: `big` is one COPY (about twice the timeout here); two workers copy it as two
    // ranges, each of which can finish within it.
    let err = pull::run(&request(
        "staging",
        source.url(),
        target.url(),
        policy.clone(),
        1,
    ))
    .unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("failed to copy `public.big`")
            && text.contains("canceling statement due to statement timeout")
            && text.contains("nothing was changed"),
        "{text}"
    );
    source.exec(&format!(
        "ALTER DATABASE \"{}\" RESET statement_timeout",
        source.name()
    ));
    assert_intact_then_recovers(&source, &target, &policy);
}

// ---------------------------------------------------------------------------------------------
// Hostile schemas and values

const HOSTILE_NULLS: &[(&str, &str)] = &[
    ("Weird \"Schema\" ü.Tab\"le 🐘", "Secret \"Col\""),
    ("public.huge", "secret"),
    ("public.wide", "c1000 secret"),
    ("public.parent", "secret"),
    ("public.child", "secret"),
    ("public.bytes", "secret"),
];

#[test]
fn hostile_schema_copies_exactly_in_binary_and_text() {
    let source = TestDb::new("h_hostile_src");
    source.exec(include_str!("../data/hardening/hostile.sql"));
    // The names as `TableName`'s Display spells them must match the policy's.
    let names: Vec<String> = fingerprint(source.url(), &[])
        .into_iter()
        .map(|(name, _, _)| name)
        .collect();
    for (table, _) in HOSTILE_NULLS {
        assert!(names.contains(&table.to_string()), "{table} in {names:?}");
    }
    let policy = policy_for(source.url(), HOSTILE_NULLS);
    let expected = fingerprint(source.url(), HOSTILE_NULLS);
    assert_eq!(expected.len(), 9, "{expected:?}");
    for force_text in [false, true] {
        let target = TestDb::new("h_hostile_dst");
        let mut request = request("staging", source.url(), target.url(), policy.clone(), 2);
        request.options.force_text = force_text;
        let summary = pull::run(&request).expect("hostile pull");
        // Forced text is text everywhere; otherwise binary where the catalog says it is safe
        // (arrays and composites of user types carry type OIDs in binary, so they go as text).
        let text_tables = summary
            .plan
            .iter()
            .filter(|plan| plan.format == pullprod::transform::Format::Text)
            .count();
        if force_text {
            assert_eq!(text_tables, summary.plan.len());
        } else {
            assert!(text_tables < summary.plan.len(), "some tables go in binary");
        }
        assert_eq!(
            fingerprint(target.url(), HOSTILE_NULLS),
            expected,
            "force_text={force_text}"
        );
        for (table, column) in HOSTILE_NULLS {
            let sql = format!(
                "SELECT count(*) FROM ONLY {} WHERE {} IS NOT NULL",
                quoted_table(table),
                pullprod::sql::quote_ident(column)
            );
            assert!(query_i64(source.url(), &sql) > 0, "canary in {table}");
            assert_eq!(query_i64(target.url(), &sql), 0, "{table}.{column} nulled");
        }
        assert_eq!(
            query_i64(
                target.url(),
                "SELECT count(*) FROM public.bytes WHERE id BETWEEN 2 AND 257 \
                 AND b = decode(lpad(to_hex(id - 2), 2, '0'), 'hex')"
            ),
            256
        );
        assert_eq!(
            query_i64(
                target.url(),
                "SELECT count(*) FROM \"Weird \"\"Schema\"\" ü\".\"Tab\"\"le 🐘\" WHERE \"gen col\" = \"Id\" * 2"
            ),
            6
        );
    }
}

/// The SQL spelling of a table named as `TableName` displays it (`schema.name`, unquoted).
fn quoted_table(display: &str) -> String {
    let (schema, name) = if let Some(name) = display.strip_prefix("Weird \"Schema\" ü.") {
        ("Weird \"Schema\" ü", name)
    } else {
        display.split_once('.').expect("schema.name")
    };
    TableName::new(schema, name).quoted()
}

/// A database with its own encoding, dropped when the guard goes.
struct EncodedDb {
    name: String,
}

impl EncodedDb {
    fn new(test: &str, encoding: &str) -> EncodedDb {
        let name = format!("pp_t_{test}_{}", std::process::id());
        let mut admin = support::connect(&support::admin_url());
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop a stale database");
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C'"
            ))
            .expect("create database");
        EncodedDb { name }
    }

    fn url(&self) -> String {
        support::with_dbname(&support::admin_url(), &self.name)
    }
}

impl Drop for EncodedDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&support::admin_url(), postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[test]
fn latin1_and_sql_ascii_sources() {
    for (encoding, test) in [("LATIN1", "h_enc_latin1"), ("SQL_ASCII", "h_enc_sqlascii")] {
        let source = EncodedDb::new(test, encoding);
        let mut client = support::connect(&source.url());
        client
            .batch_execute(
                "CREATE TABLE \"naïve\" (id int PRIMARY KEY, \"café\" text, secret text); \
                 INSERT INTO \"naïve\" VALUES (1, 'déjà vu ÿ ß', 'é'), (2, E'tab\\there\\\\', 'x'), (3, NULL, NULL)",
            )
            .expect("seed");
        if encoding == "SQL_ASCII" {
            // Bytes that are no valid UTF-8 at all: SQL_ASCII stores whatever it is given.
            client
                .batch_execute("SET client_encoding = 'SQL_ASCII'")
                .expect("client encoding");
            client
                .batch_execute(
                    "INSERT INTO \"naïve\" VALUES (4, E'raw \\xff\\xfe\\x80 bytes', 'y')",
                )
                .expect("raw bytes");
        }
        drop(client);
        let nulls = [("public.naïve", "secret")];
        let policy = policy_for(&source.url(), &nulls);
        let expected = fingerprint(&source.url(), &nulls);
        for force_text in [false, true] {
            let target = TestDb::new(&format!("{test}_dst"));
            let mut request = request("staging", &source.url(), target.url(), policy.clone(), 1);
            request.options.force_text = force_text;
            pull::run(&request).unwrap_or_else(|err| panic!("{encoding}: {err:#}"));
            let target_encoding: String = target
                .client()
                .query_one(
                    "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()",
                    &[],
                )
                .expect("encoding")
                .get(0);
            assert_eq!(target_encoding, encoding);
            assert_eq!(
                fingerprint(target.url(), &nulls),
                expected,
                "{encoding} force_text={force_text}"
            );
            assert_eq!(
                query_i64(
                    target.url(),
                    "SELECT count(*) FROM \"naïve\" WHERE secret IS NOT NULL"
                ),
                0
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Private clusters (for a hot standby and for password authentication)

fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("run id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("numeric id")
    };
    (id("-u"), id("-g"))
}

fn as_postgres(program: &str, args: &[&str]) -> std::process::Output {
    let output = Command::new("runuser")
        .args(["-u", "postgres", "--", &format!("{PG_BIN}/{program}")])
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("run {program}: {err}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A PostgreSQL server of our own, in a temporary directory owned by the `postgres` user,
/// listening on a free loopback port and a private socket; stopped when the guard goes.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    started: bool,
    /// A size-limited tmpfs is mounted on `dir` (unmounted after the server stops).
    mounted: bool,
    /// Extra `postgres` options given at start.
    options: String,
}

impl Cluster {
    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn socket_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn empty() -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let (uid, gid) = postgres_ids();
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
        Cluster {
            dir,
            port: free_port(),
            started: false,
            mounted: false,
            options: String::new(),
        }
    }

    /// `initdb`: local connections trusted, TCP ones need a SCRAM password.
    fn init() -> Cluster {
        let cluster = Cluster::empty();
        cluster.initdb(&[]);
        cluster
    }

    /// A cluster on a tmpfs of `megabytes`, with 1 MB WAL segments and `wal_level=minimal`, so
    /// that a COPY into a table created in its transaction writes data files only.
    fn init_on_tmpfs(megabytes: u32) -> Cluster {
        let mut cluster = Cluster::empty();
        let (uid, gid) = postgres_ids();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={megabytes}m,uid={uid},gid={gid},mode=0700"))
            .arg("tmpfs")
            .arg(cluster.dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs (needs root)");
        cluster.mounted = true;
        cluster.initdb(&["--wal-segsize=1"]);
        cluster.options = "-c wal_level=minimal -c max_wal_senders=0 -c min_wal_size=2MB \
                           -c max_wal_size=4MB"
            .to_string();
        cluster
    }

    fn initdb(&self, extra: &[&str]) {
        let data = self.data();
        let mut args = vec![
            "-D",
            &data,
            "-U",
            "root",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        ];
        args.extend_from_slice(extra);
        as_postgres("initdb", &args);
    }

    /// A hot standby of `primary`, made with `pg_basebackup -R -X stream`.
    fn standby_of(primary: &Cluster) -> Cluster {
        let cluster = Cluster::empty();
        as_postgres(
            "pg_basebackup",
            &[
                "-h",
                &primary.socket_dir(),
                "-p",
                &primary.port.to_string(),
                "-U",
                "root",
                "-D",
                &cluster.data(),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
        );
        cluster
    }

    fn start(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB {}",
            self.port,
            self.socket_dir(),
            self.options
        );
        let log = self.dir.path().join("log").display().to_string();
        as_postgres(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
        self.started = true;
    }

    fn url(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=root dbname={dbname}",
            self.socket_dir(),
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.started {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--", &format!("{PG_BIN}/pg_ctl")])
                .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
                .output();
        }
        if self.mounted {
            let _ = Command::new("umount").arg(self.dir.path()).status();
        }
    }
}

#[test]
fn pull_from_a_hot_standby() {
    let mut primary = Cluster::init();
    primary.start();
    let mut admin = support::connect(&primary.url("postgres"));
    admin.batch_execute("CREATE DATABASE shop").expect("create");
    support::connect(&primary.url("shop"))
        .batch_execute(include_str!("../data/small_shop.sql"))
        .expect("seed the primary");
    let mut standby = Cluster::standby_of(&primary);
    standby.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut replica = loop {
        if let Ok(client) = postgres::Client::connect(&standby.url("shop"), postgres::NoTls) {
            break client;
        }
        assert!(Instant::now() < deadline, "the standby came up");
        std::thread::sleep(Duration::from_millis(100));
    };
    let in_recovery: bool = replica
        .query_one("SELECT pg_is_in_recovery()", &[])
        .expect("recovery")
        .get(0);
    assert!(in_recovery, "the source is a standby");
    // Changes made after the base backup arrive by streaming.
    admin.batch_execute("SELECT 1").expect("alive");
    support::connect(&primary.url("shop"))
        .batch_execute("CREATE TABLE late (id int PRIMARY KEY); INSERT INTO late VALUES (1), (2)")
        .expect("late change");
    while replica
        .query_one("SELECT count(*) FROM pg_class WHERE relname = 'late'", &[])
        .expect("poll")
        .get::<_, i64>(0)
        == 0
    {
        assert!(Instant::now() < deadline, "the standby replays");
        std::thread::sleep(Duration::from_millis(50));
    }
    // pg_export_snapshot works during recovery since PostgreSQL 10, so workers still share
    // one snapshot; this is the path the pull takes.
    let snapshot =
        pullprod::conn::export_snapshot(&mut replica).expect("export a snapshot on a standby");
    assert!(!snapshot.is_empty());
    replica.batch_execute("COMMIT").expect("commit");

    let target = TestDb::new("h_standby_dst");
    let nulls = [("public.people", "secret")];
    let policy = policy_for(&standby.url("shop"), &nulls);
    for jobs in [1, 3] {
        let summary = pull::run(&request(
            "production",
            &standby.url("shop"),
            target.url(),
            policy.clone(),
            jobs,
        ))
        .unwrap_or_else(|err| panic!("pull from the standby: {err:#}"));
        assert!(
            summary
                .copied
                .iter()
                .any(|t| t.table.name == "late" && t.rows == 2)
        );
        assert_eq!(
            fingerprint(target.url(), &nulls),
            fingerprint(&primary.url("shop"), &nulls),
            "jobs={jobs}"
        );
        assert_eq!(
            query_i64(target.url(), "SELECT nextval('invoice_seq')"),
            query_i64(
                &primary.url("shop"),
                "SELECT last_value + 1 FROM invoice_seq"
            )
        );
    }
}

/// Bytes free on the filesystem holding `path`.
fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .expect("run df");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("df prints the free bytes")
}

#[test]
fn fault_target_disk_full() {
    let source = TestDb::new("h_fault_disk_src");
    source.exec(include_str!("../data/hardening/big.sql"));
    let policy = policy_for(source.url(), &[("public.big", "secret")]);
    // The dev server is a private one on a 160 MB tmpfs; ballast leaves room for the new
    // database's creation but not for the 300,000 rows.
    let mut cluster = Cluster::init_on_tmpfs(160);
    cluster.start();
    support::connect(&cluster.url("postgres"))
        .batch_execute("CREATE DATABASE dev")
        .expect("create dev");
    let dev_url = cluster.url("dev");
    support::connect(&dev_url)
        .batch_execute("CREATE TABLE dev_marker (x int); INSERT INTO dev_marker VALUES (1)")
        .expect("marker");
    let ballast = cluster.dir.path().join("ballast");
    let free = free_bytes(cluster.dir.path());
    let keep_free: u64 = 20 * 1024 * 1024;
    assert!(free > keep_free, "{free} bytes free");
    std::fs::write(&ballast, vec![0u8; (free - keep_free) as usize]).expect("ballast");

    let err = pull::run(&request(
        "staging",
        source.url(),
        &dev_url,
        policy.clone(),
        2,
    ))
    .expect_err("the disk is full");
    let text = chain(&err);
    assert!(
        (text.contains("No space left on device") || text.contains("Check free disk space"))
            && text.contains("nothing was changed: the dev database is as it was"),
        "{text}"
    );
    let marker = |url: &str| -> i64 {
        support::connect(url)
            .query_one("SELECT count(*) FROM dev_marker", &[])
            .expect("the old dev database is intact")
            .get(0)
    };
    assert_eq!(marker(&dev_url), 1);
    let temp_dbs = |url: &str| -> i64 {
        support::connect(url)
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_\\_pp\\_%'",
                &[],
            )
            .expect("list")
            .get(0)
    };
    assert_eq!(temp_dbs(&cluster.url("postgres")), 0);

    // With room again, the next run succeeds and leaves nothing behind.
    std::fs::remove_file(&ballast).expect("remove ballast");
    pull::run(&request("staging", source.url(), &dev_url, policy, 2)).expect("next run");
    assert_eq!(query_i64(&dev_url, "SELECT count(*) FROM big"), 300_000);
    assert_eq!(temp_dbs(&cluster.url("postgres")), 0);
}

/// A tablespace on the main server, dropped when the guard goes (after the databases using it).
struct Tablespace {
    name: String,
    _dir: tempfile::TempDir,
}

impl Drop for Tablespace {
    fn drop(&mut self) {
        let mut admin = support::connect(&support::admin_url());
        let _ = admin.batch_execute(&format!("DROP TABLESPACE IF EXISTS {}", self.name));
    }
}

#[test]
fn source_tablespaces_are_not_needed_on_the_dev_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (uid, gid) = postgres_ids();
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
    let tablespace = Tablespace {
        name: format!("pp_h_ts_{}", std::process::id()),
        _dir: dir,
    };
    let mut admin = support::connect(&support::admin_url());
    admin
        .batch_execute(&format!("DROP TABLESPACE IF EXISTS {}", tablespace.name))
        .expect("drop stale");
    admin
        .batch_execute(&format!(
            "CREATE TABLESPACE {} LOCATION '{}'",
            tablespace.name,
            tablespace._dir.path().display()
        ))
        .expect("create tablespace");
    let source = TestDb::new("h_tablespace_src");
    source.exec(&format!(
        "CREATE TABLE placed (id int PRIMARY KEY USING INDEX TABLESPACE {0}, v text) TABLESPACE {0}; \
         CREATE INDEX placed_v ON placed (v) TABLESPACE {0}; \
         INSERT INTO placed SELECT g, 'v' || g FROM generate_series(1, 100) g",
        tablespace.name
    ));
    let target = TestDb::new("h_tablespace_dst");
    let policy = policy_for(source.url(), &[]);
    pull::run(&request("staging", source.url(), target.url(), policy, 1)).expect("pull");
    // A dev server lacks production's tablespaces: the copy uses the default one.
    assert_eq!(
        query_i64(
            target.url(),
            "SELECT count(*) FROM pg_class WHERE reltablespace <> 0 AND relname LIKE 'placed%'"
        ),
        0
    );
    assert_eq!(
        fingerprint(source.url(), &[]),
        fingerprint(target.url(), &[])
    );
    drop(target);
    drop(source);
}

// ---------------------------------------------------------------------------------------------
// Secrets

const SECRET: &str = "Zq7/s3cr3t@pw Zq";
const SECRET_URL: &str = "Zq7%2Fs3cr3t%40pw%20Zq";

fn assert_no_secret(err: &anyhow::Error, what: &str) {
    for text in [format!("{err:#}"), format!("{err:?}"), err.to_string()] {
        for piece in [SECRET, SECRET_URL, "s3cr3t", "Zq7"] {
            assert!(!text.contains(piece), "{what}: the password leaked: {text}");
        }
    }
}

#[test]
fn connection_errors_never_show_the_password() {
    let mut cluster = Cluster::init();
    cluster.start();
    support::connect(&cluster.url("postgres"))
        .batch_execute("CREATE ROLE app LOGIN PASSWORD 'right-one'")
        .expect("create role");
    let target = TestDb::new("h_secrets_dst");
    let main_db = target.name().to_string();
    let closed_port = free_port();
    let missing_db = format!("pp_t_h_missing_{}", std::process::id());
    let dir = tempfile::tempdir().expect("temp dir");
    let wrong_root = self_signed_cert(dir.path());

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong password",
            format!(
                "postgres://app:{SECRET_URL}@127.0.0.1:{}/postgres",
                cluster.port
            ),
            "password authentication failed for user \"app\"",
        ),
        (
            "wrong password, key=value",
            format!(
                "host=127.0.0.1 port={} user=app dbname=postgres password='{}'",
                cluster.port,
                SECRET.replace('\'', "\\'")
            ),
            "password authentication failed",
        ),
        (
            "unknown host",
            format!("postgres://app:{SECRET_URL}@no-such-host.invalid:5432/postgres"),
            "failed to connect",
        ),
        (
            "refused port",
            format!("postgres://app:{SECRET_URL}@127.0.0.1:{closed_port}/postgres"),
            "failed to connect",
        ),
        (
            "server without TLS",
            format!(
                "postgres://app:{SECRET_URL}@127.0.0.1:{}/postgres?sslmode=require",
                cluster.port
            ),
            "sslmode=require needs a server with ssl = on",
        ),
        (
            "untrusted certificate",
            format!(
                "postgres://root:{SECRET_URL}@localhost:5432/{main_db}?sslmode=verify-ca&sslrootcert={}",
                wrong_root.display()
            ),
            "certificate verify failed",
        ),
        (
            "unknown database",
            format!("postgres://root:{SECRET_URL}@127.0.0.1:5432/{missing_db}"),
            "does not exist",
        ),
        (
            "password with an unencoded slash",
            "postgres://app:Zq7/s3cr3t@127.0.0.1/postgres".to_string(),
            "percent-encode",
        ),
    ];
    // The right password works, so the wrong one is what fails.
    conn::connect(
        &format!(
            "postgres://app:right-one@127.0.0.1:{}/postgres",
            cluster.port
        ),
        "the test cluster",
    )
    .expect("the right password connects");

    for (what, url, expected) in &cases {
        let err = conn::connect(url, "the `production` source")
            .err()
            .expect(what);
        assert!(chain(&err).contains(expected), "{what}: {err:#}");
        assert_no_secret(&err, what);
        // The same through a pull, as source and as target.
        let Ok(settings) = Settings::parse(url) else {
            continue;
        };
        let mut as_source = request(
            "staging",
            target.url(),
            target.url(),
            Policy { tables: vec![] },
            1,
        );
        as_source.source = settings.clone();
        let err = pull::run(&as_source).expect_err(what);
        assert!(
            chain(&err).contains(expected),
            "{what} (pull source): {err:#}"
        );
        assert_no_secret(&err, what);
        let source = TestDb::new("h_secrets_src");
        let mut as_target = request(
            "staging",
            source.url(),
            target.url(),
            Policy { tables: vec![] },
            1,
        );
        as_target.destination = Destination::Database(settings);
        as_target.options.allow_remote_target = true;
        // Debug output of the request itself hides the password too.
        assert!(!format!("{as_target:?}").contains("s3cr3t"));
        if *what == "unknown database" {
            // A dev database that does not exist yet is created: not an error.
            pull::run(&as_target).expect("a missing dev database is created");
            support::connect(&support::admin_url())
                .batch_execute(&format!("DROP DATABASE {missing_db} WITH (FORCE)"))
                .expect("drop the created database");
            continue;
        }
        let err = pull::run(&as_target).expect_err(what);
        assert_no_secret(&err, what);
    }
}

// ---------------------------------------------------------------------------------------------
// Parsers under random input (a small seeded fuzzer: no panics, round trips hold)

mod fuzz {
    use pullprod::conn::{self, Settings};
    use pullprod::rowcodec::{Parsed, binary, text};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const PIECES: &[&str] = &[
        "postgres://",
        "postgresql://",
        "host=",
        "port=",
        "user=",
        "password=",
        "dbname=",
        "sslmode=",
        "sslrootcert=",
        "=",
        "'",
        "\\",
        "@",
        ":",
        "/",
        "?",
        "&",
        "%",
        "%2",
        "%41",
        "[",
        "]",
        "[::1]",
        " ",
        "  ",
        "\t",
        "\n",
        "a",
        "Zq",
        "é",
        "🐘",
        "5432",
        "99999",
        "-1",
        "require",
        "verify-full",
        "",
        "\0",
        "#",
    ];

    fn random_string(rng: &mut StdRng) -> String {
        let n = rng.random_range(0..12);
        (0..n)
            .map(|_| PIECES[rng.random_range(0..PIECES.len())])
            .collect()
    }

    #[test]
    fn settings_parse_never_panics_and_never_echoes_marked_passwords() {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        for _ in 0..20_000 {
            let input = random_string(&mut rng);
            let _ = Settings::parse_with_env(&input, &|_| None);
            let _ = conn::redact(&input);
            let _ = conn::has_literal_password(&input);
        }
        // A password made of hostile characters between two `Zq` markers.
        let specials = [
            " ", "'", "\\", "@", ":", "/", "?", "&", "%", "=", "#", "é", "x",
        ];
        for _ in 0..5_000 {
            let middle: String = (0..rng.random_range(0..6))
                .map(|_| specials[rng.random_range(0..specials.len())])
                .collect();
            let password = format!("Zq{middle}Zq");
            // Quoted properly: parses back exactly, and redacts.
            let quoted = format!(
                "host=h dbname=d password='{}'",
                password.replace('\\', "\\\\").replace('\'', "\\'")
            );
            let settings = Settings::parse_with_env(&quoted, &|_| None).expect("quoted parses");
            assert_eq!(settings.password.as_deref(), Some(password.as_str()));
            assert!(!conn::redact(&quoted).contains("Zq"), "{quoted}");
            // Percent-encoded in a URL: parses back exactly.
            let encoded: String = password
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            let url = format!("postgres://u:{encoded}@h:5/d");
            let settings = Settings::parse_with_env(&url, &|_| None).expect("url parses");
            assert_eq!(settings.password.as_deref(), Some(password.as_str()));
            assert!(!conn::redact(&url).contains("Zq"), "{url}");
            // Unquoted or unencoded: whatever happens, no marker shows in errors or redaction.
            for raw in [
                format!("host=h password={password} dbname=d"),
                format!("postgres://u:{password}@h:5/d"),
                format!("postgres://h/d?password={password}&sslmode=disable"),
            ] {
                if let Err(err) = Settings::parse_with_env(&raw, &|_| None) {
                    assert!(!format!("{err:#} {err:?}").contains("Zq"), "{raw}: {err:#}");
                }
                let shown = conn::redact(&raw);
                assert!(!shown.contains("Zq"), "{raw} -> {shown}");
            }
        }
    }

    #[test]
    fn text_escape_round_trips_and_unescape_never_panics() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut fields = Vec::new();
        for round in 0..20_000 {
            let len = rng.random_range(0..64);
            let value: Vec<u8> = (0..len)
                .map(|_| {
                    if round % 2 == 0 {
                        rng.random::<u8>()
                    } else {
                        b"\\\t\n\rNab.\x08\x0b\x0c"[rng.random_range(0..11)]
                    }
                })
                .collect();
            let mut escaped = Vec::new();
            text::escape(&value, &mut escaped);
            assert!(!escaped.contains(&b'\t') && !escaped.contains(&b'\n'));
            let mut line = escaped.clone();
            line.push(b'\n');
            let Parsed::Row { consumed } = text::parse_row(&line, &mut fields) else {
                panic!("one escaped field is one row");
            };
            assert_eq!((consumed, fields.len()), (line.len(), 1));
            assert!(!text::is_null(&escaped), "a value never escapes to NULL");
            let mut back = Vec::new();
            text::unescape(&escaped, &mut back);
            assert_eq!(back, value);
            // Arbitrary bytes: unescape must not panic.
            let mut out = Vec::new();
            text::unescape(&value, &mut out);
            let _ = text::parse_row(&value, &mut fields);
        }
    }

    #[test]
    fn binary_parse_row_never_panics_and_round_trips() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut fields = Vec::new();
        for _ in 0..20_000 {
            // Random garbage.
            let len = rng.random_range(0..40);
            let garbage: Vec<u8> = (0..len).map(|_| rng.random::<u8>()).collect();
            if let Ok(Parsed::Row { consumed }) = binary::parse_row(&garbage, &mut fields) {
                assert!(consumed <= garbage.len());
                for field in &fields {
                    let _ = field.value(&garbage);
                    let _ = field.framed(&garbage);
                }
            }
            let _ = binary::header_len(&garbage);
            // A well-formed row, then cut anywhere: the whole parses back, a prefix needs more.
            let values: Vec<Option<Vec<u8>>> = (0..rng.random_range(0..6))
                .map(|_| {
                    rng.random_bool(0.8).then(|| {
                        (0..rng.random_range(0..10))
                            .map(|_| rng.random::<u8>())
                            .collect()
                    })
                })
                .collect();
            let mut row = Vec::new();
            binary::write_count(&mut row, values.len());
            for value in &values {
                binary::write_field(&mut row, value.as_deref());
            }
            match binary::parse_row(&row, &mut fields).expect("well-formed row") {
                Parsed::Row { consumed } => assert_eq!(consumed, row.len()),
                other => panic!("expected a row, got {other:?}"),
            }
            let parsed: Vec<Option<Vec<u8>>> = fields
                .iter()
                .map(|field| field.value(&row).map(<[u8]>::to_vec))
                .collect();
            assert_eq!(parsed, values);
            let cut = rng.random_range(0..row.len());
            assert!(matches!(
                binary::parse_row(&row[..cut], &mut fields),
                Ok(Parsed::NeedMore)
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile values

#[test]
fn jsonb_nested_twelve_thousand_deep_is_copied_or_a_clear_error() {
    // PostgreSQL accepts a document this deep; the transformer used to overflow its stack and
    // abort the whole pull (rc 134).
    let source = TestDb::new("h_deep_json_src");
    let target = TestDb::new("h_deep_json_dst");
    let deep = format!("{}1{}", "[".repeat(12_000), "]".repeat(12_000));
    source.exec(&format!(
        "CREATE TABLE docs (id int PRIMARY KEY, doc jsonb);
         INSERT INTO docs VALUES (1, '{{\"a\": \"canary-deep-1\", \"deep\": {deep}}}')"
    ));
    let policy = support::policy_from_toml(
        r#"
[docs]
id = "keep"
doc = { json = { "$.a" = "hash" } }
"#,
    );
    let request = support::pull_request(&source, &target, policy.clone(), 2);
    pull::run(&request).expect("a deep value no rule reaches is copied");
    assert_eq!(
        target.count("SELECT count(*) FROM docs WHERE jsonb_array_length(doc -> 'deep') = 1"),
        1
    );
    assert_eq!(
        target.count("SELECT count(*) FROM docs WHERE doc::text LIKE '%canary-deep%'"),
        0
    );

    // A rule that must walk every leaf of it stops at a bound: an error naming the column.
    source.exec(&format!("INSERT INTO docs VALUES (2, '{{\"a\": {deep}}}')"));
    let err = pull::run(&request).expect_err("too deep under a rule");
    let text = chain(&err);
    assert!(
        text.contains("`public.docs.doc`") || text.contains("`docs.doc`"),
        "{text}"
    );
    assert!(text.contains("nested deeper than"), "{text}");
    assert!(!text.contains("canary") && !text.contains("[[["), "{text}");
}

#[test]
fn numerics_at_the_edges_of_postgres_range_go_in_buckets() {
    // `generalise` with a bucket used to fail the pull on these (values past 36 digits).
    let source = TestDb::new("h_numeric_edges_src");
    let target = TestDb::new("h_numeric_edges_dst");
    source.exec(
        "CREATE TABLE amounts (id int PRIMARY KEY, amount numeric);
         INSERT INTO amounts VALUES (1, 1e-16383), (2, -1e-16383), (3, 1e131071),
           (4, -1e131071 + 0.5), (5, 12.345), (6, 'NaN'), (7, NULL)",
    );
    let policy = support::policy_from_toml(
        r#"
[amounts]
id = "keep"
amount = { generalise = { bucket = 10 } }
"#,
    );
    pull::run(&support::pull_request(&source, &target, policy, 2)).expect("pull succeeds");
    let expected = [
        (1, "0"),
        (2, "-10"),
        (3, "1e131071"),
        (4, "-1e131071"),
        (5, "10"),
        (6, "NaN"),
    ];
    for (id, value) in expected {
        assert_eq!(
            target.count(&format!(
                "SELECT count(*) FROM amounts WHERE id = {id} AND amount = '{value}'::numeric"
            )),
            1,
            "row {id}"
        );
    }
    assert_eq!(
        target.count("SELECT count(*) FROM amounts WHERE amount IS NULL"),
        1
    );
}
