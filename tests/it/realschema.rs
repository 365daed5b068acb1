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
            text.contains("zz_bad") && text.contains("check_violation"),
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
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dump.path(), std::fs::Permissions::from_mode(0o700))
                .expect("private folder");
        }
        if to_file {
            request.destination = pullprod::pull::Destination::File(pullprod::dumpfile::ToFile {
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

/// A range-partitioned `payment` whose foreign keys are declared on its partitions only (as
/// pagila's are): they count in the slice's closure and in `follow`.
const PARTITION_FK_SQL: &str = r#"
CREATE TABLE customer (customer_id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE payment (
    payment_id int NOT NULL,
    customer_id int NOT NULL,
    amount numeric(5,2) NOT NULL,
    payment_date date NOT NULL
) PARTITION BY RANGE (payment_date);
CREATE TABLE payment_p2022_01 PARTITION OF payment
    FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
CREATE TABLE payment_p2022_02 PARTITION OF payment
    FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
ALTER TABLE payment_p2022_01 ADD PRIMARY KEY (payment_id),
    ADD CONSTRAINT payment_p2022_01_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer;
ALTER TABLE payment_p2022_02 ADD PRIMARY KEY (payment_id),
    ADD CONSTRAINT payment_p2022_02_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer;
INSERT INTO customer SELECT i, 'c' || i || '@example.com' FROM generate_series(1, 400) i;
INSERT INTO payment
SELECT i, 1 + (i * 7) % 400, i % 100, DATE '2022-01-01' + (i % 59) FROM generate_series(1, 4000) i;
"#;

#[test]
fn foreign_keys_declared_on_partitions_count_in_slices() {
    let source = TestDb::new("rs_part_fk_src");
    source.exec(PARTITION_FK_SQL);
    let customer = "[customer]\npercent = 10\ncustomer_id = \"keep\"\nemail = \"fake.email\"\n";
    for payment in [
        "[payment]\nfollow = \"customer\"\n",
        "[payment]\npercent = 10\n",
    ] {
        let policy = policy_from_toml(&format!(
            "{customer}{payment}payment_id = \"keep\"\ncustomer_id = \"keep\"\n\
             amount = \"keep\"\npayment_date = \"keep\"\n"
        ));
        let check = pullprod::subset::check(&policy, &pullprod_catalog(&source));
        assert!(check.is_empty(), "{payment}: {check:?}");
        let target = TestDb::new("rs_part_fk_dst");
        pull::run(&pull_request(&source, &target, policy, 2))
            .unwrap_or_else(|err| panic!("{payment}: {err:#}"));
        let payments = target.count("SELECT count(*) FROM payment");
        assert!(
            payments > 0 && payments < 4000,
            "{payment}: {payments} payments"
        );
        assert!(target.count("SELECT count(*) FROM customer") < 400);
        assert_eq!(
            target.count(
                "SELECT count(*) FROM payment p LEFT JOIN customer c USING (customer_id) \
                 WHERE c.customer_id IS NULL"
            ),
            0,
            "{payment}: every payment's customer is in the slice"
        );
        assert_eq!(
            target.count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"),
            2
        );
    }
}

fn pullprod_catalog(db: &TestDb) -> pullprod::schema::Catalog {
    pullprod::schema::load(&mut db.client()).expect("catalog")
}

/// The outside audit's miss: keys transformed by `hash` and the foreign keys that reference
/// them (single and composite keys, from a plain table and from a partitioned table). Every
/// join still matches in the target.
const HASHED_KEYS_SQL: &str = r#"
CREATE TABLE accounts (id int PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, account_id int REFERENCES accounts);
CREATE TABLE shelves (site text, code text, label text, PRIMARY KEY (site, code));
CREATE TABLE items (id int PRIMARY KEY, site text, code text,
                    FOREIGN KEY (site, code) REFERENCES shelves);
CREATE TABLE visits (id int, account_id int REFERENCES accounts, at date NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE visits_2024 PARTITION OF visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO accounts SELECT i, 'a' || i FROM generate_series(1, 100) i;
INSERT INTO orders SELECT i, 1 + i % 100 FROM generate_series(1, 300) i;
INSERT INTO shelves SELECT 's' || (i % 3), 'c' || i, 'l' || i FROM generate_series(1, 50) i;
INSERT INTO items SELECT i, 's' || ((i % 50 + 1) % 3), 'c' || (i % 50 + 1) FROM generate_series(1, 200) i;
INSERT INTO visits SELECT i, 1 + i % 100, DATE '2024-01-01' + i % 300 FROM generate_series(1, 300) i;
"#;

const HASHED_KEYS_POLICY: &str = r#"
[accounts]
id = { hash = true, unique = true }
name = "keep"

[orders]
id = "keep"
account_id = "keep"

[shelves]
site = "hash"
code = "hash"
label = "keep"

[items]
id = "keep"
site = "keep"
code = "keep"

[visits]
id = "keep"
account_id = "keep"
at = "keep"
"#;

#[test]
fn hashed_keys_keep_every_join() {
    let source = TestDb::new("rs_hashed_keys_src");
    source.exec(HASHED_KEYS_SQL);
    let target = TestDb::new("rs_hashed_keys_dst");
    pull::run(&pull_request(
        &source,
        &target,
        policy_from_toml(HASHED_KEYS_POLICY),
        2,
    ))
    .unwrap_or_else(|err| panic!("pull: {err:#}"));
    // The keys really changed.
    assert_eq!(
        target.count("SELECT count(*) FROM accounts WHERE id BETWEEN 1 AND 100"),
        0
    );
    assert_eq!(
        target.count("SELECT count(*) FROM shelves WHERE code ~ '^c[0-9]+$'"),
        0
    );
    for (what, sql, expected) in [
        (
            "orders",
            "SELECT count(*) FROM orders o JOIN accounts a ON a.id = o.account_id",
            300,
        ),
        (
            "items (composite key)",
            "SELECT count(*) FROM items i JOIN shelves s USING (site, code)",
            200,
        ),
        (
            "visits (key on the partitioned table)",
            "SELECT count(*) FROM visits v JOIN accounts a ON a.id = v.account_id",
            300,
        ),
    ] {
        assert_eq!(target.count(sql), expected, "{what}: every row still joins");
    }
    // The same names join the same rows as in the source.
    let pairs = "SELECT count(*) FROM orders o JOIN accounts a ON a.id = o.account_id \
                 WHERE a.name = 'a' || (1 + o.id % 100)";
    assert_eq!(target.count(pairs), 300);
}

/// GRANTs, an owner and a row-level security policy for a role the dev server has arrive in
/// the new database (the test server is the source's too, so a missing role is covered by
/// `target::tests::roles_named_by_grants_owners_and_policies`).
#[test]
fn grants_owners_and_policies_for_existing_roles_are_kept() {
    let source = TestDb::new("rs_grants_src");
    source.exec(
        "DO $$ BEGIN CREATE ROLE pp_rs_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
         CREATE SCHEMA auth; \
         CREATE TABLE auth.users (id int PRIMARY KEY, email text, owner name DEFAULT current_user); \
         INSERT INTO auth.users VALUES (1, 'a@example.com'); \
         GRANT USAGE ON SCHEMA auth TO pp_rs_reader; \
         GRANT SELECT ON TABLE auth.users TO pp_rs_reader; \
         GRANT UPDATE (email) ON TABLE auth.users TO pp_rs_reader; \
         CREATE TABLE notes (id int PRIMARY KEY); \
         ALTER TABLE notes OWNER TO pp_rs_reader; \
         ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY reader_rows ON auth.users FOR SELECT TO pp_rs_reader USING (true);",
    );
    let target = TestDb::new("rs_grants_dst");
    let policy = policy_from_toml(
        "[\"auth.users\"]\nid = \"keep\"\nemail = \"fake.email\"\nowner = \"keep\"\n[notes]\nid = \"keep\"\n",
    );
    pull::run(&pull_request(&source, &target, policy, 1)).unwrap_or_else(|err| panic!("{err:#}"));
    assert_eq!(
        target.count(
            "SELECT count(*) FROM information_schema.role_table_grants \
             WHERE grantee = 'pp_rs_reader' AND table_name = 'users' AND privilege_type = 'SELECT'"
        ),
        1
    );
    assert_eq!(
        target.count(
            "SELECT count(*) FROM information_schema.column_privileges \
             WHERE grantee = 'pp_rs_reader' AND column_name = 'email' AND privilege_type = 'UPDATE'"
        ),
        1
    );
    assert_eq!(
        target.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'auth' AND has_schema_privilege('pp_rs_reader', oid, 'USAGE')::int = 1"),
        1
    );
    assert_eq!(
        target.count("SELECT count(*) FROM pg_tables WHERE tablename = 'notes' AND tableowner = 'pp_rs_reader'"),
        1
    );
    assert_eq!(
        target.count("SELECT count(*) FROM pg_policies WHERE policyname = 'reader_rows'"),
        1
    );
}

/// An xml column of contact data (AdventureWorks' `AdditionalContactInfo` shape, namespaces
/// included): path rules rewrite the e-mail text and the phone attribute and keep every other
/// byte; `redact` and `hash` give valid documents.
#[test]
fn xml_contact_data_is_rewritten_by_path() {
    let source = TestDb::new("rs_xml_src");
    source.exec(
        r#"CREATE TABLE person (id int PRIMARY KEY, contact xml, resume xml, card xml);
INSERT INTO person SELECT i,
  ('<act:AdditionalContactInfo xmlns:act="http://schemas.example.com/Contact">'
   || '<act:EMail>person' || i || '@adventure-works.com</act:EMail>'
   || '<act:telephoneNumber act:phone="+1 555 010' || i % 10 || '" kind=''home''/>'
   || '<!-- keep me --><act:Note><![CDATA[no <markup> here]]></act:Note>'
   || '</act:AdditionalContactInfo>')::xml,
  ('<Resume><Name>Person ' || i || '</Name></Resume>')::xml,
  ('<card id="' || i || '">secret ' || i || '</card>')::xml
FROM generate_series(1, 20) i;
INSERT INTO person VALUES (21, NULL, NULL, NULL);"#,
    );
    let policy = policy_from_toml(
        r#"
[person]
id = "keep"
contact = { xml = { "//EMail" = "fake.email", "//@phone" = "fake.phone" } }
resume = "redact"
card = { hash = true, unique = true }
"#,
    );
    let target = TestDb::new("rs_xml_dst");
    pull::run(&pull_request(&source, &target, policy, 1)).unwrap_or_else(|err| panic!("{err:#}"));
    let mut client = target.client();
    let rows = client
        .query(
            "SELECT contact::text, resume::text, card::text FROM person WHERE id <= 20 ORDER BY id",
            &[],
        )
        .expect("rows");
    assert_eq!(rows.len(), 20);
    let mut cards = std::collections::BTreeSet::new();
    for row in &rows {
        let contact: String = row.get(0);
        assert!(!contact.contains("adventure-works.com"), "{contact}");
        assert!(!contact.contains("+1 555 010"), "{contact}");
        for kept in [
            "<act:AdditionalContactInfo xmlns:act=\"http://schemas.example.com/Contact\"><act:EMail>",
            "</act:EMail><act:telephoneNumber act:phone=\"",
            "\" kind='home'/><!-- keep me --><act:Note><![CDATA[no <markup> here]]></act:Note></act:AdditionalContactInfo>",
        ] {
            assert!(contact.contains(kept), "`{kept}` missing from {contact}");
        }
        let resume: String = row.get(1);
        assert_eq!(resume, "<redacted/>");
        let card: String = row.get(2);
        assert!(
            card.starts_with("<hash>") && !card.contains("secret"),
            "{card}"
        );
        cards.insert(card);
    }
    assert_eq!(cards.len(), 20, "unique hashes stay distinct");
    // The server parses every value as xml: the documents are valid.
    assert_eq!(
        target.count(
            "SELECT count(*) FROM person WHERE xpath_exists('/*[local-name()=''AdditionalContactInfo'']', contact)"
        ),
        20
    );
    assert_eq!(
        target.count("SELECT count(*) FROM person WHERE contact IS NULL"),
        1
    );
}

/// Item 10: a rule on a generated column is reported as ineffective (a warning at its line,
/// exit 0), not ignored; a kept generated column is never judged by its name (it is computed by
/// the dev database from the anonymised columns); and the pull recomputes it from them.
#[test]
fn a_rule_on_a_generated_column_is_reported_as_ineffective() {
    let source = TestDb::new("rs_generated_src");
    source.exec(
        "CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL, \
                              email_lower text GENERATED ALWAYS AS (lower(email)) STORED); \
         INSERT INTO people (id, email) SELECT i, 'Person' || i || '@Example.com' \
         FROM generate_series(1, 50) i",
    );
    let catalog = pullprod_catalog(&source);
    let check = |text: &str| {
        let parsed = pullprod::policy::parse(&[pullprod::policy::PolicyFile {
            path: "policy/people.toml".into(),
            text: text.to_string(),
        }]);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let context = pullprod::coverage::Context {
            policy_path: "policy".into(),
            broken: parsed.broken.clone(),
        };
        let diagnostics = pullprod::coverage::check(&parsed.policy, &catalog, None, &context);
        (parsed.policy, diagnostics)
    };
    let hashed = "[people]\nid = \"keep\"\nemail = { fake = \"email\", unique = true }\nemail_lower = \"hash\"\n";
    let (_, diagnostics) = check(hashed);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let warning = &diagnostics[0];
    assert_eq!(warning.code.as_str(), "ineffective-rule");
    assert!(!warning.is_error(), "a warning: check-policy still passes");
    assert_eq!(&hashed[warning.span.clone()], "email_lower");
    assert!(warning.message.contains("generated"), "{}", warning.message);

    let kept = hashed.replace("email_lower = \"hash\"", "email_lower = \"keep\"");
    let (policy, diagnostics) = check(&kept);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let target = TestDb::new("rs_generated_dst");
    pull::run(&pull_request(&source, &target, policy, 2)).expect("pull");
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE email_lower = lower(email)"),
        50
    );
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE email LIKE 'Person%'"),
        0,
        "the emails were replaced, and the generated column follows them"
    );
}
