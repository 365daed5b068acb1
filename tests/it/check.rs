//! `check-policy` and `policy init` as users run them: the built binary on a fixture
//! project copied into a temporary folder, against throwaway databases.

use crate::support::{Project, TestDb};

const SHOP_SQL: &str = include_str!("../data/check/shop.sql");

/// `check-policy --database-url <db>` plus `extra` flags, in the project folder.
fn check(project: &Project, db: &TestDb, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check-policy", "--database-url", db.url()];
    args.extend_from_slice(extra);
    project.run(&args)
}

fn shop_db(test: &str) -> TestDb {
    let db = TestDb::new(test);
    db.exec(SHOP_SQL);
    db
}

fn outcome(code: i32, stderr: &str) -> String {
    format!("exit: {code}\n{stderr}")
}

#[test]
fn clean_policy_passes() {
    let project = Project::from_fixture("check/shop");
    let db = shop_db("check_clean");
    let (code, stdout, stderr) = check(&project, &db, &[]);
    assert_eq!(stdout, "");
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 0
    policy ok
    ");
}

#[test]
fn static_only_without_database() {
    let project = Project::from_fixture("check/shop");
    let (code, _, stderr) = project.run(&["check-policy"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
        exit: 0
        note: static checks only: `source.staging` is not usable (environment variable `PULLPROD_TEST_UNSET_STAGING_URL` is not set); pass --database-url to check coverage
        policy ok
        ");
}

#[test]
fn misspelt_strategy_literal_password_and_missing_column() {
    let project = Project::from_fixture("check/shop");
    let db = shop_db("check_bad");
    db.exec("ALTER TABLE users ADD COLUMN nickname text");
    let manifest = project.read("Cargo.toml").replace(
        "source.production = \"env:PROD_DATABASE_URL\"",
        "source.production = \"postgres://shop:hunter2@db.example.com/shop\"",
    );
    project.write("Cargo.toml", &manifest);
    let users = project
        .read("policy/users.toml")
        .replace("\"fake.name\"", "\"fake.nmae\"");
    project.write("policy/users.toml", &users);
    let (code, _, stderr) = check(&project, &db, &[]);
    assert!(
        !stderr.contains("hunter2"),
        "a password was printed: {stderr}"
    );
    insta::assert_snapshot!(outcome(code, &stderr), @r#"
        exit: 1
        Cargo.toml:10:21: error[literal-secret]: `source.production` holds a literal password in `[package.metadata.dump]`
          help: remove it from the file (and rotate it); write `source.production = "env:VAR"` or use `~/.pgpass`
        policy/users.toml:2:2: error[unclassified-column]: column `users.nickname` (text) is not classified
          help: add `nickname = "…"` under `[users]`, or run `cargo xtask check-policy --fix`
        policy/users.toml:5:13: error[unknown-strategy]: unknown strategy `fake.nmae` for `users.full_name`
          help: did you mean `fake.name`?
        error: check-policy found 3 problem(s)
        "#);
}

#[test]
fn new_column_fails_and_fix_adds_it_as_todo() {
    let project = Project::from_fixture("check/shop");
    let db = shop_db("check_fix");
    assert_eq!(check(&project, &db, &[]).0, 0);
    db.exec("ALTER TABLE users ADD COLUMN nickname text; ALTER TABLE orders ADD COLUMN customer_email text");
    let (code, _, stderr) = check(&project, &db, &[]);
    insta::assert_snapshot!(outcome(code, &stderr), @r#"
        exit: 1
        policy/orders.toml:1:2: error[unclassified-column]: column `orders.customer_email` (text) is not classified
          help: add `customer_email = "…"` under `[orders]`, or run `cargo xtask check-policy --fix`
        policy/users.toml:2:2: error[unclassified-column]: column `users.nickname` (text) is not classified
          help: add `nickname = "…"` under `[users]`, or run `cargo xtask check-policy --fix`
        error: check-policy found 2 problem(s)
        "#);

    let users_before = project.read("policy/users.toml");
    let orders_before = project.read("policy/orders.toml");
    let (code, _, stderr) = check(&project, &db, &["--fix"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r#"
        exit: 1
        note: added 1 column(s) as `todo` to `policy/orders.toml`
        note: added 1 column(s) as `todo` to `policy/users.toml`
        policy/orders.toml:6:18: error[todo]: `orders.customer_email` is not classified yet (`todo`)
          help: replace `todo` with a strategy such as `"keep"`, `"hash"` or `"fake.<kind>"`
        policy/users.toml:9:12: error[todo]: `users.nickname` is not classified yet (`todo`)
          help: replace `todo` with a strategy such as `"keep"`, `"hash"` or `"fake.<kind>"`
        error: check-policy found 2 problem(s)
        "#);
    let users_after = project.read("policy/users.toml");
    let orders_after = project.read("policy/orders.toml");
    insta::assert_snapshot!(users_after, @r#"
        # People who signed up.
        [users]
        id = "keep"
        email = { fake = "email", unique = true }    # login
        full_name = "fake.name"
        password_digest = { const = "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW" }
        date_of_birth = { generalise = "year" }
        country = { keep = true, reason = "coarse, not identifying" }
        nickname = "todo"  # suggested: fake.username

        # Sessions are recreated on login.
        [sessions]
        skip = true
        "#);
    let added_users = "nickname = \"todo\"  # suggested: fake.username\n";
    let added_orders = "customer_email = \"todo\"  # suggested: fake.email\n";
    assert_eq!(
        users_after.replacen(added_users, "", 1),
        users_before,
        "users.toml changed beyond the new line"
    );
    assert_eq!(
        orders_after.replacen(added_orders, "", 1),
        orders_before,
        "orders.toml changed beyond the new line"
    );

    // Classifying the todo makes the policy pass again.
    project.write(
        "policy/users.toml",
        &users_after.replace(added_users, "nickname = \"fake.username\"\n"),
    );
    project.write(
        "policy/orders.toml",
        &orders_after.replace(added_orders, "customer_email = \"fake.email\"\n"),
    );
    assert_eq!(check(&project, &db, &[]).0, 0);
}

#[test]
fn fix_writes_a_file_for_a_new_table() {
    let project = Project::from_fixture("check/shop");
    let db = shop_db("check_fix_table");
    db.exec("CREATE TABLE support_tickets (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id), body text)");
    let (code, _, stderr) = check(&project, &db, &["--fix"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r#"
        exit: 1
        note: added 3 column(s) as `todo` to `policy/support_tickets.toml`
        policy/support_tickets.toml:2:6: error[todo]: `support_tickets.id` is not classified yet (`todo`)
          help: replace `todo` with a strategy such as `"keep"`, `"hash"` or `"fake.<kind>"`
        policy/support_tickets.toml:3:11: error[todo]: `support_tickets.user_id` is not classified yet (`todo`)
          help: replace `todo` with a strategy such as `"keep"`, `"hash"` or `"fake.<kind>"`
        policy/support_tickets.toml:4:8: error[todo]: `support_tickets.body` is not classified yet (`todo`)
          help: replace `todo` with a strategy such as `"keep"`, `"hash"` or `"fake.<kind>"`
        error: check-policy found 3 problem(s)
        "#);
    insta::assert_snapshot!(project.read("policy/support_tickets.toml"), @r#"
        [support_tickets]
        id = "todo"  # suggested: keep
        user_id = "todo"  # suggested: keep
        body = "todo"  # suggested: redact
        "#);
}

#[test]
fn sampler_flags_planted_values_behind_innocent_names() {
    let project = Project::from_fixture("check/shop");
    let db = shop_db("check_sample");
    db.exec(
        "CREATE TABLE tickets (id bigint PRIMARY KEY, notes text, misc text, status text, ref text);
         INSERT INTO tickets SELECT n, 'all good', 'n/a', 'open', 'T-' || n FROM generate_series(1, 50) n;
         INSERT INTO tickets VALUES
           (51, 'customer wrote from jane.doe@example.org', 'card 4111 1111 1111 1111', 'open', 'T-51'),
           (52, 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', NULL, 'closed', 'T-52'),
           (53, 'fine', 'fine', 'open', 'reply to bob@example.net');",
    );
    let orders = project.read("policy/orders.toml");
    project.write(
        "policy/orders.toml",
        &format!("{orders}\n[tickets]\nid = \"keep\"\nnotes = {{ keep = true, reason = \"agents write it\" }}\nmisc = \"keep\"\nstatus = \"keep\"\nref = \"keep\"\n"),
    );
    let (code, _, _) = check(&project, &db, &[]);
    assert_eq!(code, 0, "names alone look innocent");
    let (code, _, stderr) = check(&project, &db, &["--sample"]);
    for planted in ["jane.doe", "4111", "eyJhbGci", "bob@"] {
        assert!(
            !stderr.contains(planted),
            "a sampled value was printed: {stderr}"
        );
    }
    insta::assert_snapshot!(outcome(code, &stderr), @r#"
        exit: 1
        policy/orders.toml:12:1: error[sensitive-kept]: `tickets.notes` is kept in clear but its sampled values look like JSON web tokens
          help: security-sensitive data must be anonymised whatever the reason: use `hash`, `redact`, `null` or `const`
        policy/orders.toml:13:1: error[sensitive-kept]: `tickets.misc` is kept in clear but its sampled values look like card numbers
          help: security-sensitive data must be anonymised whatever the reason: use `hash`, `redact`, `null` or `const`
        policy/orders.toml:15:1: error[personal-kept]: `tickets.ref` is kept in clear but its sampled values look like email addresses
          help: anonymise it (e.g. `"fake.email"`), or justify it: `ref = { keep = true, reason = "…" }`
        error: check-policy found 3 problem(s)
        "#);
}

#[test]
fn sensitive_column_kept_in_clear_never_passes() {
    let db = shop_db("check_sensitive");
    let variants = [
        (
            "policy/users.toml",
            "password_digest = { const",
            "password_digest = \"keep\"\nx_unused = { const",
        ),
        (
            "policy/users.toml",
            "password_digest = { const",
            "password_digest = { keep = true, reason = \"it is only a hash\" }\nx_unused = { const",
        ),
        (
            "policy/users.toml",
            "[sessions]\nskip = true",
            "[sessions]\nkeep = { reason = \"short-lived\" }",
        ),
    ];
    for (file, from, to) in variants {
        let project = Project::from_fixture("check/shop");
        let text = project.read(file);
        assert!(text.contains(from), "fixture changed: {from}");
        project.write(file, &text.replacen(from, to, 1));
        let (code, _, stderr) = check(&project, &db, &[]);
        assert_eq!(code, 1, "{to}: {stderr}");
        assert!(stderr.contains("error[sensitive-kept]"), "{to}: {stderr}");
    }
}

#[test]
fn json_and_github_formats() {
    let project = Project::from_fixture("check/shop");
    let db = shop_db("check_formats");
    db.exec("ALTER TABLE users ADD COLUMN nickname text");
    let (code, stdout, _) = check(&project, &db, &["--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(json[0]["code"], "unclassified-column");
    assert_eq!(json[0]["file"], "policy/users.toml");
    assert_eq!(json[0]["line"], 2);
    let (_, _, stderr) = project.run_with_env(
        &["check-policy", "--database-url", db.url()],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert!(
        stderr.contains("::error file=policy/users.toml,line=2,col=2,title=unclassified-column::"),
        "{stderr}"
    );
}

#[test]
fn syntax_error_and_unreachable_database_are_unusable_input() {
    let project = Project::from_fixture("check/shop");
    project.write("policy/orders.toml", "[orders\nid = \"keep\"\n");
    let (code, _, stderr) = project.run(&["check-policy"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
        exit: 2
        note: static checks only: `source.staging` is not usable (environment variable `PULLPROD_TEST_UNSET_STAGING_URL` is not set); pass --database-url to check coverage
        policy/orders.toml:1:8: error[parse-error]: invalid TOML: unclosed table, expected `]`
        error: check-policy found 1 problem(s)
        ");
    let project = Project::from_fixture("check/shop");
    let (code, _, stderr) = project.run(&[
        "check-policy",
        "--database-url",
        "postgres://nobody:sekrit@127.0.0.1:1/none",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("sekrit"), "{stderr}");
}

#[test]
fn policy_init_writes_todo_files_and_never_overwrites() {
    let project = Project::from_fixture("check/shop");
    std::fs::remove_dir_all(project.path("policy")).expect("remove the fixture policy");
    let db = shop_db("check_init");
    let (code, _, stderr) = project.run(&["policy", "init", "--database-url", db.url()]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(project.read("policy/users.toml"), @r#"
        [users]
        id = { todo = "keep" }
        email = { todo = "fake.email" }
        full_name = { todo = "fake.name" }
        password_digest = { todo = "redact" }
        date_of_birth = { todo = "generalise.year" }
        country = { todo = "keep" }
        "#);
    let (code, _, _) = check(&project, &db, &[]);
    assert_eq!(code, 1, "a fresh policy is all todo");
    let before = project.read("policy/users.toml");
    let (code, _, stderr) = project.run(&["policy", "init", "--database-url", db.url()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("refusing to overwrite"), "{stderr}");
    assert_eq!(project.read("policy/users.toml"), before);
}
