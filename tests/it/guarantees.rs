//! The guarantees of DESIGN.md that need the whole demo: canaries planted in production never
//! reach the developer (G2, G3), and pseudonyms are deterministic and keep joins (G6).

use crate::pull::fingerprint;
use crate::support::{TestDb, demo_project, demo_source};

/// Every value planted in a sensitive column; none may appear anywhere downstream.
const CANARIES: &[&str] = &[
    "zqcanary-email@zqcanary.test",
    "Zqcanary Fullname",
    "+44 7700 zqcanary",
    "$2a$12$zqcanaryzqcanaryzqcanaryzqcanaryzqcanaryzqcanaryzqcan",
    "zqcanary-api-token",
    "zqcanary bio with a phone",
    "QZ9 9QZ",
    "198.51.100.213",
    "1911-11-11",
    "Zqcanary Street",
    "zqcanary flat",
    "Zqcanaryton",
    "QZ8 8QZ",
    "zqcanary delivery note",
    "zqcanary-json@zqcanary.test",
    "198.51.100.214",
    "zqcanary-item@zqcanary.test",
    "zqcanary-session-token",
];

fn plant_canaries(db: &TestDb) {
    db.exec(
        "UPDATE users SET email = 'zqcanary-email@zqcanary.test', full_name = 'Zqcanary Fullname',
             phone = '+44 7700 zqcanary',
             password_digest = '$2a$12$zqcanaryzqcanaryzqcanaryzqcanaryzqcanaryzqcanaryzqcan',
             api_token = 'zqcanary-api-token', bio = 'zqcanary bio with a phone', postcode = 'QZ9 9QZ',
             last_sign_in_ip = '198.51.100.213', date_of_birth = '1911-11-11',
             avatar = convert_to('zqcanary-avatar', 'UTF8')
         WHERE id = 7;
         UPDATE addresses SET line1 = 'Zqcanary Street', line2 = 'zqcanary flat', city = 'Zqcanaryton',
             postcode = 'QZ8 8QZ' WHERE id = 3;
         UPDATE orders SET delivery_notes = 'zqcanary delivery note' WHERE id = 5;
         UPDATE events SET payload = jsonb_set(jsonb_set(jsonb_set(payload,
                 '{actor,email}', '\"zqcanary-json@zqcanary.test\"'),
                 '{actor,ip}', '\"198.51.100.214\"'),
                 '{items,0,email}', '\"zqcanary-item@zqcanary.test\"')
         WHERE id IN (SELECT id FROM events WHERE jsonb_array_length(payload->'items') > 0 LIMIT 3);
         UPDATE sessions SET token = 'zqcanary-session-token' WHERE ctid = (SELECT min(ctid) FROM sessions);",
    );
    // The canaries really are in the source.
    for canary in [
        "zqcanary-email",
        "zqcanary-json",
        "zqcanary-item",
        "zqcanary-session-token",
        "QZ8 8QZ",
    ] {
        assert!(
            occurrences(db, canary) > 0,
            "canary `{canary}` was not planted"
        );
    }
}

/// Rows of any table (every schema, the audit included) whose text form contains `needle`.
fn occurrences(db: &TestDb, needle: &str) -> i64 {
    let mut client = db.client();
    let tables: Vec<String> = client
        .query(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut total = 0;
    for table in tables {
        let sql =
            format!("SELECT count(*) FROM {table} t WHERE strpos(lower(t::text), lower($1)) > 0");
        let n: i64 = client.query_one(&sql, &[&needle]).unwrap().get(0);
        total += n;
    }
    let views: i64 = client
        .query_one(
            "SELECT count(*) FROM daily_sales t WHERE strpos(lower(t::text), lower($1)) > 0",
            &[&needle],
        )
        .unwrap()
        .get(0);
    total + views
}

/// G2 + G3: canaries planted in every sensitive column (and inside jsonb) appear nowhere in
/// the dev database, in anything the command printed, or in any file it wrote.
#[test]
fn canaries_never_leave_production() {
    let source = demo_source("g3_canary_src");
    plant_canaries(&source);
    let target = TestDb::new("g3_canary_dst");
    let project = demo_project("");
    let state = tempfile::TempDir::new().unwrap();
    let dumps = tempfile::TempDir::new().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dumps.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let dump_file = dumps.path().join("canary.sql");
    let env = [
        ("STAGING_DATABASE_URL", source.url()),
        ("DATABASE_URL", target.url()),
        ("PULLPROD_SALT", "canary test salt, long enough"),
        ("XDG_STATE_HOME", state.path().to_str().unwrap()),
    ];
    let (code, stdout, stderr) = project.run_with_env(&["pull-prod", "--from", "staging"], &env);
    assert_eq!(code, 0, "{stderr}");
    let dump_arg = dump_file.to_str().unwrap();
    let (code, dump_stdout, dump_stderr) = project.run_with_env(
        &["pull-prod", "--from", "staging", "--to-file", dump_arg],
        &env,
    );
    assert_eq!(code, 0, "{dump_stderr}");

    let mut written = vec![std::fs::read(&dump_file).expect("the dump file")];
    for dir in [state.path(), dumps.path()] {
        for file in walk(dir) {
            written.push(std::fs::read(file).unwrap());
        }
    }
    let printed = format!("{stdout}{stderr}{dump_stdout}{dump_stderr}");
    for canary in CANARIES {
        assert_eq!(
            occurrences(&target, canary),
            0,
            "canary `{canary}` reached the dev database"
        );
        assert!(
            !printed.to_lowercase().contains(&canary.to_lowercase()),
            "canary `{canary}` was printed"
        );
        for bytes in &written {
            let text = String::from_utf8_lossy(bytes).to_lowercase();
            assert!(
                !text.contains(&canary.to_lowercase()),
                "canary `{canary}` was written to a file"
            );
        }
    }
    // The pull really copied the rows the canaries were in.
    let users: i64 = target
        .client()
        .query_one("SELECT count(*) FROM users WHERE id = 7", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// G6: same input and salt give the same output in every run; another salt gives other output;
/// a transformed key and the columns referencing it (and the same email in jsonb) still match.
#[test]
fn pseudonyms_are_deterministic_and_keep_joins() {
    let source = demo_source("g6_determinism_src");
    let first = TestDb::new("g6_determinism_a");
    let second = TestDb::new("g6_determinism_b");
    let other_salt = TestDb::new("g6_determinism_c");
    let project = demo_project("");
    let state = tempfile::TempDir::new().unwrap();
    let pull = |target: &TestDb, salt: &str| {
        let env = [
            ("STAGING_DATABASE_URL", source.url()),
            ("DATABASE_URL", target.url()),
            ("PULLPROD_SALT", salt),
            ("XDG_STATE_HOME", state.path().to_str().unwrap()),
        ];
        let (code, _, stderr) =
            project.run_with_env(&["pull-prod", "--from", "staging", "--jobs", "2"], &env);
        assert_eq!(code, 0, "{stderr}");
    };
    pull(&first, "salt number one, long enough");
    pull(&second, "salt number one, long enough");
    pull(&other_salt, "salt number two, long enough");
    assert_eq!(
        fingerprint(&first),
        fingerprint(&second),
        "same input, same salt: same output"
    );
    let email = |db: &TestDb| -> String {
        db.client()
            .query_one("SELECT email::text FROM users WHERE id = 1", &[])
            .unwrap()
            .get(0)
    };
    assert_ne!(
        email(&first),
        email(&other_salt),
        "another salt gives unrelated pseudonyms"
    );
    // The email an event's actor carries is the same pseudonym as the user's own.
    let actor_is_user = "SELECT count(*) FROM events e JOIN users u ON u.id = e.user_id \
                         WHERE e.payload->'actor'->>'email' = u.email::text";
    let joined = first.count(actor_is_user);
    let with_actor = source.count(actor_is_user);
    assert!(with_actor > 0);
    assert_eq!(
        joined, with_actor,
        "pseudonymised emails still join across tables"
    );
}
