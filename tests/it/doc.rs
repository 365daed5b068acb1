//! `policy doc [--check]` and check-policy's `doc-out-of-date` as users run them: the built
//! binary on a fixture project copied into a temporary folder.

use std::path::Path;
use std::process::Command;

use crate::support::{Project, TestDb};

const BEGIN: &str = "<!-- pullprod:policy-doc:begin -->";
const END: &str = "<!-- pullprod:policy-doc:end -->";

fn outcome(code: i32, stderr: &str) -> String {
    format!("exit: {code}\n{stderr}")
}

/// The text before the begin marker line and from the end marker line on.
fn outside_markers(text: &str) -> (String, String) {
    let begin = text.find(BEGIN).expect("begin marker");
    let end = text.find(END).expect("end marker");
    (text[..begin].to_string(), text[end..].to_string())
}

#[test]
fn doc_check_fails_then_doc_writes_only_between_markers() {
    let project = Project::from_fixture("doc/shop");
    let before = project.read("README.md");

    let (code, stdout, stderr) = project.run(&["policy", "doc", "--check"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 1
    error: the data-handling section of `README.md` is out of date with the policy
      help: run `cargo xtask policy doc`
    ");
    assert!(
        stdout.starts_with(
            "--- README.md (current)\n+++ README.md (generated from the policy)\n@@ -10 +10,"
        ),
        "diff: {stdout}"
    );
    assert!(stdout.contains("\n-stale text\n"), "diff: {stdout}");
    assert!(
        stdout.contains("\n+## Production data handling\n"),
        "diff: {stdout}"
    );
    assert_eq!(
        project.read("README.md"),
        before,
        "--check changed the file"
    );

    let (code, stdout, stderr) = project.run(&["policy", "doc"]);
    assert_eq!(stdout, "");
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 0
    updated the data-handling section of `README.md`
    ");
    let after = project.read("README.md");
    assert_eq!(
        outside_markers(&after),
        outside_markers(&before),
        "bytes outside the markers changed"
    );
    assert!(after.contains("A demo shop.   Trailing spaces stay.   \n"));
    assert!(after.contains(
        "| `password_digest` | security | const |  |\n| `api_token` | security | hash |  |\n"
    ));

    let (code, stdout, stderr) = project.run(&["policy", "doc", "--check"]);
    assert_eq!(stdout, "");
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 0
    `README.md` is up to date with the policy
    ");
    let (code, _, stderr) = project.run(&["policy", "doc"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        project.read("README.md"),
        after,
        "a second run changed the file"
    );
}

#[test]
fn changing_a_rule_fails_check_policy_until_doc_runs() {
    let project = Project::from_fixture("check/shop");
    let db = TestDb::new("doc_rule_change");
    db.exec(include_str!("../data/check/shop.sql"));
    let check = |project: &Project| project.run(&["check-policy", "--database-url", db.url()]);
    project.write(
        "README.md",
        &format!("# Shop\n\nIntro.\n\n{BEGIN}\n{END}\n\nMore.\n"),
    );
    let (code, _, stderr) = project.run(&["policy", "doc"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = check(&project);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 0
    policy ok
    ");

    let users = project
        .read("policy/users.toml")
        .replace("full_name = \"fake.name\"", "full_name = \"redact\"");
    project.write("policy/users.toml", &users);
    let (code, _, stderr) = check(&project);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 1
    README.md:5:1: error[doc-out-of-date]: the data-handling section of `README.md` is out of date with the policy
      help: run `cargo xtask policy doc`
    error: check-policy found 1 problem(s)
    ");
    // The static check (no database) catches it too.
    let (code, _, stderr) = project.run(&["check-policy"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error[doc-out-of-date]"), "{stderr}");

    let (code, _, stderr) = project.run(&["policy", "doc"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        project
            .read("README.md")
            .contains("| `full_name` | personal | redact |  |")
    );
    let (code, _, stderr) = check(&project);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 0
    policy ok
    ");
}

#[test]
fn check_policy_ignores_a_readme_without_markers() {
    let project = Project::from_fixture("check/shop");
    project.write("README.md", "# Shop\n\nNo generated section here.\n");
    let (code, _, stderr) = project.run(&["check-policy"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("doc-out-of-date"), "{stderr}");
}

#[test]
fn missing_markers_are_appended_and_missing_file_created() {
    let project = Project::from_fixture("check/shop");
    let original = "# Shop\n\nNo newline at the end";
    project.write("README.md", original);
    let (code, stdout, stderr) = project.run(&["policy", "doc", "--check"]);
    assert_eq!(stdout, "");
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 1
    error: `README.md` has no data-handling section (no `<!-- pullprod:policy-doc:begin -->` marker)
      help: run `cargo xtask policy doc`
    ");
    let (code, _, stderr) = project.run(&["policy", "doc"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 0
    `README.md` had no `<!-- pullprod:policy-doc:begin -->` marker: appended the data-handling section at its end
    ");
    let after = project.read("README.md");
    assert!(after.starts_with(&format!(
        "{original}\n\n{BEGIN}\n## Production data handling\n"
    )));
    assert!(after.ends_with(&format!("{END}\n")));
    assert_eq!(project.run(&["policy", "doc", "--check"]).0, 0);

    // `doc` names another file, which does not exist yet.
    let manifest = project.read("Cargo.toml").replace(
        "retention-days = 3",
        "retention-days = 3\ndoc = \"DATA.md\"",
    );
    project.write("Cargo.toml", &manifest);
    let (code, _, stderr) = project.run(&["policy", "doc", "--check"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            1,
            "error: `DATA.md` does not exist\n  help: run `cargo xtask policy doc`\n"
        )
    );
    let (code, _, stderr) = project.run(&["policy", "doc"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 0
    created `DATA.md` with the data-handling section
    ");
    assert!(
        project
            .read("DATA.md")
            .starts_with(&format!("{BEGIN}\n## Production data handling\n"))
    );
    assert_eq!(project.read("README.md"), after, "README.md changed");
}

#[test]
fn invalid_policy_or_markers_write_nothing() {
    let project = Project::from_fixture("doc/shop");
    let before = project.read("README.md");
    let users = project
        .read("policy/users.toml")
        .replace("\"fake.name\"", "\"fake.nmae\"");
    project.write("policy/users.toml", &users);
    let (code, _, stderr) = project.run(&["policy", "doc"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 1
    policy/users.toml:7:13: error[unknown-strategy]: unknown strategy `fake.nmae` for `users.full_name`
      help: did you mean `fake.name`?
    error: the policy has problems: fix them before generating `README.md`
    ");
    assert_eq!(project.read("README.md"), before);

    let project = Project::from_fixture("doc/shop");
    let broken = before.replace(&format!("{END}\n"), "");
    project.write("README.md", &broken);
    let (code, _, stderr) = project.run(&["policy", "doc"]);
    insta::assert_snapshot!(outcome(code, &stderr), @r"
    exit: 2
    error: cannot find the generated section in `README.md`: `<!-- pullprod:policy-doc:begin -->` has no `<!-- pullprod:policy-doc:end -->` after it; put `<!-- pullprod:policy-doc:begin -->` and `<!-- pullprod:policy-doc:end -->` on lines of their own
    ");
    assert_eq!(project.read("README.md"), broken);
    let (code, _, stderr) = project.run(&["check-policy"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("README.md:9:1: error[doc-out-of-date]: cannot find the data-handling section of `README.md`"), "{stderr}");
}

#[test]
fn the_document_never_holds_a_secret() {
    let project = Project::from_fixture("doc/shop");
    let manifest = project.read("Cargo.toml").replace(
        "source.staging = \"env:PULLPROD_TEST_UNSET_STAGING_URL\"",
        "source.staging = \"dbname=shop_staging host=staging.internal user=shop_ro\"",
    );
    project.write("Cargo.toml", &manifest);
    let secrets = [
        ("PROD_DATABASE_URL", "postgres://u:hunter2@h/db"),
        ("PULLPROD_SALT", "pepper-0123456789-abcdefghij"),
        ("DATABASE_URL", "postgres://dev:devpass@localhost/shop_dev"),
        ("PGPASSWORD", "pgpass-secret"),
    ];
    let (code, stdout, stderr) = project.run_with_env(&["policy", "doc"], &secrets);
    assert_eq!(code, 0, "{stderr}");
    let readme = project.read("README.md");
    assert!(readme.contains("| `production` | the environment variable `PROD_DATABASE_URL` |"));
    assert!(readme.contains("| `staging` | a literal in `Cargo.toml` (not shown here) |"));
    for needle in [
        "hunter2",
        "postgres://",
        "pepper-0123456789",
        "devpass",
        "pgpass-secret",
        "dbname",
        "staging.internal",
        "shop_ro",
        "$2a$12$",
    ] {
        for (what, text) in [
            ("README.md", &readme),
            ("stdout", &stdout),
            ("stderr", &stderr),
        ] {
            assert!(
                !text.contains(needle),
                "`{needle}` appears in {what}:\n{text}"
            );
        }
    }
}

/// The repository dogfoods the layout: its README must carry the generated section, up to date
/// (`cargo xtask policy doc` writes it).
#[test]
fn demo_readme_carries_an_up_to_date_section() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read the repository's Cargo.toml");
    let (config, _) =
        pullprod::config::parse(&manifest, &text, Some("pullprod")).expect("parse Cargo.toml");
    assert!(
        config.spans.contains_key(""),
        "the repository's Cargo.toml has no `[package.metadata.dump]`"
    );
    if !config.doc_file.exists() {
        // FIXME: the demo README is being written. Once it exists it must carry the generated
        // section (`cargo xtask policy doc` appends it); the check below switches on with it.
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_pullprod"))
        .args(["policy", "doc", "--check", "--manifest-path"])
        .arg(&manifest)
        .current_dir(root)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run pullprod");
    assert_eq!(
        output.status.code(),
        Some(0),
        "the demo README's data-handling section is missing or out of date: run `cargo xtask policy doc`\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
