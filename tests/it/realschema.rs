//! What pulls of real schemas need (issue 16): empty strings, the real error of a parallel
//! run, bytea literals, sequences behind transformed keys, policy typos, connection fallbacks.
//! Each test builds a small fixture schema with the feature.

use pullprod::pull;

use crate::support::{TestDb, policy_from_toml, pull_request};

/// The auth-service shape: mostly-empty tokens under a unique partial index, `email_change`
/// mostly `''`, a `(user_id, token_type)` unique key, arrays and JSON with empty strings.
const EMPTY_STRINGS_SQL: &str = r#"
CREATE TABLE users (
    id int PRIMARY KEY,
    email text NOT NULL,
    email_change text NOT NULL DEFAULT '',
    confirmation_token varchar(255) NOT NULL DEFAULT '',
    code char(4) NOT NULL DEFAULT '',
    aliases text[],
    meta jsonb
);
CREATE UNIQUE INDEX confirmation_token_idx ON users (confirmation_token)
    WHERE confirmation_token !~ '^[0-9 ]*$';
CREATE TABLE one_time_tokens (
    id int PRIMARY KEY,
    user_id int NOT NULL REFERENCES users,
    token_type text NOT NULL,
    token_hash text NOT NULL,
    UNIQUE (user_id, token_type)
);
INSERT INTO users
SELECT i, 'user' || i || '@example.com',
       CASE WHEN i % 20 = 0 THEN 'new' || i || '@example.com' ELSE '' END,
       CASE WHEN i % 10 = 0 THEN 'tok' || i ELSE '' END,
       CASE WHEN i % 3 = 0 THEN 'ab' || (i % 10) ELSE '' END,
       ARRAY['', 'alias' || i, ''],
       jsonb_build_object('backup', CASE WHEN i % 2 = 0 THEN '' ELSE 'b' || i || '@example.com' END)
FROM generate_series(1, 200) i;
INSERT INTO one_time_tokens
SELECT i, i, '', CASE WHEN i % 4 = 0 THEN 'h' || i ELSE '' END FROM generate_series(1, 200) i
UNION ALL
SELECT 1000 + i, i, 'recovery', 'r' || i FROM generate_series(1, 200) i;
"#;

const EMPTY_STRINGS_POLICY: &str = r#"
[users]
id = "keep"
email = { fake = "email", unique = true }
email_change = "fake.email"
confirmation_token = "hash"
code = "redact"
aliases = "fake.username"
meta = { json = { "$.backup" = "fake.email" } }

[one_time_tokens]
id = "keep"
user_id = "keep"
token_type = "hash"
token_hash = { mask = { keep_last = 2 } }
"#;

#[test]
fn empty_strings_stay_empty_in_text_and_binary() {
    let source = TestDb::new("rs_empty_src");
    source.exec(EMPTY_STRINGS_SQL);
    for force_text in [false, true] {
        let target = TestDb::new("rs_empty_dst");
        let mut request = pull_request(&source, &target, policy_from_toml(EMPTY_STRINGS_POLICY), 2);
        request.options.force_text = force_text;
        pull::run(&request).unwrap_or_else(|err| panic!("pull (text: {force_text}): {err:#}"));
        for (table, column, empty) in [
            ("users", "email_change", "email_change = ''"),
            ("users", "confirmation_token", "confirmation_token = ''"),
            ("users", "code", "code = ''"),
            ("users", "aliases", "aliases[1] = '' AND aliases[3] = ''"),
            ("users", "meta", "meta->>'backup' = ''"),
            ("one_time_tokens", "token_type", "token_type = ''"),
            ("one_time_tokens", "token_hash", "token_hash = ''"),
        ] {
            let sql = format!("SELECT count(*) FROM {table} WHERE {empty}");
            let expected = source.count(&sql);
            assert!(expected > 0, "the fixture has empty `{column}` values");
            assert_eq!(
                target.count(&sql),
                expected,
                "empty `{table}.{column}` stay empty (text: {force_text})"
            );
        }
        // Non-empty values are still transformed.
        assert_eq!(
            target.count(
                "SELECT count(*) FROM users WHERE email_change ~ '^new[0-9]+@example.com$' \
                 OR confirmation_token ~ '^tok[0-9]+$' OR aliases[2] ~ '^alias[0-9]+$' \
                 OR meta->>'backup' ~ '^b[0-9]+@example.com$'"
            ),
            0
        );
        assert_eq!(
            target.count("SELECT count(DISTINCT email_change) FROM users WHERE email_change <> ''"),
            10
        );
        // The unique partial index and the composite unique key were built on the data.
        assert_eq!(
            target.count(
                "SELECT count(*) FROM pg_indexes WHERE indexname IN \
                 ('confirmation_token_idx', 'one_time_tokens_user_id_token_type_key')"
            ),
            2
        );
    }
}

#[test]
fn const_still_replaces_empty_strings() {
    let source = TestDb::new("rs_empty_const_src");
    source.exec("CREATE TABLE t (id int PRIMARY KEY, note text); INSERT INTO t VALUES (1, ''), (2, 'x'), (3, NULL)");
    let target = TestDb::new("rs_empty_const_dst");
    let policy = policy_from_toml("[t]\nid = \"keep\"\nnote = { const = \"n/a\" }\n");
    pull::run(&pull_request(&source, &target, policy, 1)).expect("pull");
    assert_eq!(target.count("SELECT count(*) FROM t WHERE note = 'n/a'"), 3);
}

/// Several large tables and one small table whose rows break a CHECK constraint: every run
/// reports the CHECK violation, never only the cancellation of another table.
#[test]
fn parallel_runs_report_the_real_error() {
    let source = TestDb::new("rs_first_error_src");
    source.exec(
        "CREATE TABLE big_a (id int PRIMARY KEY, v text); \
         CREATE TABLE big_b (id int PRIMARY KEY, v text); \
         CREATE TABLE big_c (id int PRIMARY KEY, v text); \
         INSERT INTO big_a SELECT i, 'value number ' || i FROM generate_series(1, 150000) i; \
         INSERT INTO big_b SELECT i, 'value number ' || i FROM generate_series(1, 150000) i; \
         INSERT INTO big_c SELECT i, 'value number ' || i FROM generate_series(1, 150000) i; \
         CREATE TABLE zz_bad (id int PRIMARY KEY, note text CHECK (char_length(note) < 5)); \
         INSERT INTO zz_bad VALUES (1, 'ab'); ANALYZE;",
    );
    let policy = policy_from_toml(
        "[big_a]\nid = \"keep\"\nv = \"hash\"\n[big_b]\nid = \"keep\"\nv = \"hash\"\n\
         [big_c]\nid = \"keep\"\nv = \"hash\"\n[zz_bad]\nid = \"keep\"\nnote = \"fake.sentence\"\n",
    );
    for run in 0..4 {
        let target = TestDb::new("rs_first_error_dst");
        let err = pull::run(&pull_request(&source, &target, policy.clone(), 4))
            .expect_err("the CHECK constraint fails the pull");
        let text = format!("{err:#}");
        assert!(
            text.contains("zz_bad") && text.contains("check constraint"),
            "run {run} reported: {text}"
        );
        assert!(!text.contains("cancelled"), "run {run} reported: {text}");
    }
}

#[test]
fn bytea_const_takes_hex_or_base64_and_redact_is_a_placeholder() {
    let source = TestDb::new("rs_bytea_src");
    source.exec(
        "CREATE TABLE files (id int PRIMARY KEY, a bytea NOT NULL, b bytea, c bytea, d bytea); \
         INSERT INTO files VALUES (1, '\\xdeadbeef', 'secret', 'photo bytes', ''), \
                                  (2, '\\x00', NULL, 'x', 'y');",
    );
    let policy = policy_from_toml(
        r#"
[files]
id = "keep"
a = { const = "\\x0102ff" }
b = { const = "AQID" }
c = "redact"
d = "hash"
"#,
    );
    for force_text in [false, true] {
        let target = TestDb::new("rs_bytea_dst");
        let mut request = pull_request(&source, &target, policy.clone(), 1);
        request.options.force_text = force_text;
        pull::run(&request).unwrap_or_else(|err| panic!("pull: {err:#}"));
        assert_eq!(
            target.count("SELECT count(*) FROM files WHERE a = '\\x0102ff'"),
            2
        );
        assert_eq!(
            target.count("SELECT count(*) FROM files WHERE b = '\\x010203'"),
            2
        );
        assert_eq!(
            target.count("SELECT count(*) FROM files WHERE c = convert_to('[redacted]', 'UTF8')"),
            2
        );
        assert_eq!(target.count("SELECT count(*) FROM files WHERE d = ''"), 1);
        assert_eq!(target.count("SELECT count(*) FROM files WHERE d = 'y'"), 0);
    }
}

#[test]
fn a_bytea_literal_that_is_neither_hex_nor_base64_is_refused() {
    let source = TestDb::new("rs_bytea_bad_src");
    source.exec(
        "CREATE TABLE files (id int PRIMARY KEY, a bytea); INSERT INTO files VALUES (1, 'x')",
    );
    let target = TestDb::new("rs_bytea_bad_dst");
    let policy = policy_from_toml("[files]\nid = \"keep\"\na = { const = \"not base64!\" }\n");
    let err = pull::run(&pull_request(&source, &target, policy, 1)).expect_err("bad literal");
    let text = format!("{err:#}");
    assert!(text.contains("base64"), "{text}");
}

/// A serial key and an identity key under `{ hash = true, unique = true }`: their sequences
/// move past the new largest key, so the next insert works.
#[test]
fn sequences_behind_hashed_keys_move_past_the_new_maximum() {
    let source = TestDb::new("rs_seq_src");
    source.exec(
        "CREATE TABLE accounts (id serial PRIMARY KEY, name text); \
         INSERT INTO accounts (name) SELECT 'n' || i FROM generate_series(1, 300) i; \
         CREATE TABLE devices (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
                               account_id int REFERENCES accounts); \
         INSERT INTO devices (account_id) SELECT i FROM generate_series(1, 300) i; \
         CREATE SEQUENCE ticket_seq; \
         CREATE TABLE tickets (no int PRIMARY KEY DEFAULT nextval('ticket_seq'), kept serial); \
         INSERT INTO tickets DEFAULT VALUES; INSERT INTO tickets DEFAULT VALUES;",
    );
    let policy = policy_from_toml(
        r#"
[accounts]
id = { hash = true, unique = true }
name = "keep"

[devices]
id = { hash = true, unique = true }
account_id = "keep"

[tickets]
no = { hash = true, unique = true }
kept = "keep"
"#,
    );
    for to_file in [false, true] {
        let target = TestDb::new("rs_seq_dst");
        let mut request = pull_request(&source, &target, policy.clone(), 2);
        let dump = tempfile::tempdir().expect("temporary folder");
        if to_file {
            request.options.to_file = Some(pullprod::dumpfile::ToFile {
                path: Some(dump.path().join("seq.sql")),
                dump: pullprod::dumpfile::DumpOptions {
                    dir: Some(dump.path().to_path_buf()),
                    project: "seq".into(),
                    retention_days: Some(1),
                    state_dir: Some(dump.path().join("state")),
                },
            });
            pull::run(&request).unwrap_or_else(|err| panic!("dump: {err:#}"));
            psql_file(&target, &dump.path().join("seq.sql"));
        } else {
            pull::run(&request).unwrap_or_else(|err| panic!("pull: {err:#}"));
        }
        assert!(target.count("SELECT max(id)::bigint FROM accounts") > 300);
        for (table, sequence, key) in [
            ("accounts", "accounts_id_seq", "id"),
            ("devices", "devices_id_seq", "id"),
            ("tickets", "ticket_seq", "no"),
        ] {
            let next = target.count(&format!("SELECT nextval('{sequence}')"));
            let max = target.count(&format!("SELECT max({key})::bigint FROM {table}"));
            assert!(
                next > max,
                "`{sequence}` gives {next}, the largest key is {max}"
            );
        }
        // The kept serial keeps its own sequence position.
        assert_eq!(target.count("SELECT nextval('tickets_kept_seq')"), 3);
        target.exec("INSERT INTO accounts (name) VALUES ('new'); INSERT INTO devices (account_id) VALUES (NULL)");
    }
}

#[test]
fn a_table_key_typo_gets_a_did_you_mean() {
    let parsed = pullprod::policy::parse(&[pullprod::policy::PolicyFile {
        path: "policy/test.toml".into(),
        text: "[orders]\nprecent = 10\nid = \"keep\"\n".into(),
    }]);
    let typo = parsed
        .diagnostics
        .iter()
        .find(|diagnostic| diagnostic.message.contains("precent"))
        .expect("the typo is reported");
    assert_eq!(typo.code.as_str(), "unknown-key");
    assert_eq!(typo.help.as_deref(), Some("did you mean `percent`?"));
}

#[test]
fn a_source_without_dbname_names_the_database_it_fell_back_to() {
    let settings = pullprod::conn::Settings::parse_with_env(
        "host=127.0.0.1 user=pp_no_such_role_for_dbname",
        &|_| None,
    )
    .expect("settings");
    assert_eq!(settings.dbname, "pp_no_such_role_for_dbname");
    let err = match pullprod::conn::connect_settings(&settings, "the `production` source") {
        Ok(_) => panic!("the role does not exist"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("names no database, so it fell back to `pp_no_such_role_for_dbname`"),
        "{err}"
    );
    let named =
        pullprod::conn::Settings::parse_with_env("host=127.0.0.1 dbname=x user=y", &|_| None)
            .expect("settings");
    assert!(named.dbname_fallback_note().is_none());
}

fn psql_file(db: &TestDb, path: &std::path::Path) {
    let output = std::process::Command::new("psql")
        .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-d", db.url(), "-f"])
        .arg(path)
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "psql failed to load the dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
