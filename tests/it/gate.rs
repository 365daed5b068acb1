//! G8, the review gate: a production pull runs only the bytes `review-ref` holds. One test per
//! bypass an attack review found (ignored files, index flags, symlinks, inherited `GIT_*`,
//! a swap between check and read, a production source under another name), each with canary
//! values planted in the source that must never reach the dev database or the output.

use crate::support::{Project, PullSetup, git};

const SMALL_SHOP: &str = include_str!("../data/small_shop.sql");

/// Planted in `orders.note` and `vault.memo`; the reviewed policy never copies either.
const CANARY: &str = "GATECANARY";

/// The reviewed rule for `orders.note`, and the unreviewed one an attacker wants to run.
const REVIEWED_NOTE: &str = "note = \"null\"";
const EVIL_NOTE: &str = "note = { keep = true, reason = \"unreviewed\" }";

struct Setup(PullSetup);

impl std::ops::Deref for Setup {
    type Target = PullSetup;
    fn deref(&self) -> &PullSetup {
        &self.0
    }
}

impl Setup {
    /// The pull fixture over a small shop with canaries, committed on `main` (the review ref).
    fn new(test: &str) -> Setup {
        let project = Project::from_fixture("pull_project");
        project.write(
            "policy/vault.toml",
            "[vault]\nid = \"keep\"\nmemo = \"null\"\n",
        );
        project.git_commit_all("reviewed policy");
        let setup = PullSetup::new(test, SMALL_SHOP, project);
        setup.source.exec(&format!(
            "UPDATE orders SET note = '{CANARY}-' || id; \
             CREATE TABLE vault (id int PRIMARY KEY, memo text); \
             INSERT INTO vault VALUES (1, '{CANARY}-vault')"
        ));
        Setup(setup)
    }

    fn pull(&self) -> (i32, String) {
        self.pull_with(&[], &[])
    }

    fn git(&self, args: &[&str]) {
        git(self.project.root(), args);
    }

    /// Replace the reviewed `orders.note` rule with the unreviewed one in `path`.
    fn make_evil(&self, path: &std::path::Path) {
        let text = std::fs::read_to_string(path).expect("read policy");
        assert!(text.contains(REVIEWED_NOTE), "{text}");
        std::fs::write(path, text.replace(REVIEWED_NOTE, EVIL_NOTE)).expect("write policy");
    }

    /// No canary anywhere: not in the output, not in the dev database (whatever it holds).
    fn assert_no_canary(&self, output: &str, context: &str) {
        assert!(
            !output.contains(CANARY),
            "{context}: a canary reached the output:\n{output}"
        );
        let mut client = self.target.client();
        for (table, column) in [("orders", "note"), ("vault", "memo")] {
            let exists: bool = client
                .query_one(
                    "SELECT to_regclass($1) IS NOT NULL",
                    &[&format!("public.{table}")],
                )
                .unwrap()
                .get(0);
            if exists {
                let n: i64 = client
                    .query_one(
                        format!("SELECT count(*) FROM {table} WHERE {column} LIKE '%{CANARY}%'")
                            .as_str(),
                        &[],
                    )
                    .unwrap()
                    .get(0);
                assert_eq!(n, 0, "{context}: canaries in the dev database's `{table}`");
            }
        }
    }

    fn assert_refused(&self, (code, output): &(i32, String), expected: &str, context: &str) {
        assert_eq!(*code, 2, "{context}: {output}");
        assert!(
            output.contains(expected),
            "{context}: expected `{expected}` in:\n{output}"
        );
        self.assert_no_canary(output, context);
        self.assert_old_target_intact(context);
    }

    /// The audit entry the last pull wrote into the dev database: (policy sha256, commit).
    fn audit(&self) -> (String, Option<String>) {
        let row = self
            .target
            .client()
            .query_one(
                "SELECT policy_sha256, git_commit FROM pullprod.audit ORDER BY pulled_at DESC LIMIT 1",
                &[],
            )
            .expect("audit entry");
        (row.get(0), row.get(1))
    }

    fn head(&self) -> String {
        let output = std::process::Command::new("git")
            .args(["rev-parse", "main"])
            .current_dir(self.project.root())
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .output()
            .expect("git rev-parse");
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }
}

/// A policy file listed in `.git/info/exclude` (or `.gitignore`, or merely untracked) is not
/// reviewed: the production pull refuses and names it.
#[test]
fn ignored_or_untracked_policy_files_are_refused() {
    let setup = Setup::new("gate_excluded");
    // The reviewed policy nulls `vault.memo`; the attacker's file classifies it again, in clear,
    // after taking the reviewed file out of the way.
    std::fs::remove_file(setup.project.path("policy/vault.toml")).unwrap();
    setup.git(&["rm", "-q", "--cached", "policy/vault.toml"]);
    setup.git(&["commit", "-q", "-m", "vault moves out"]);
    std::fs::write(
        setup.project.path(".git/info/exclude"),
        "policy/vault.toml\n",
    )
    .unwrap();
    setup.project.write(
        "policy/vault.toml",
        "[vault]\nid = \"keep\"\nmemo = { keep = true, reason = \"unreviewed\" }\n",
    );
    let result = setup.pull();
    setup.assert_refused(&result, "policy/vault.toml", "a file in .git/info/exclude");

    // The same file merely untracked, then ignored through `.gitignore`.
    std::fs::write(setup.project.path(".git/info/exclude"), "").unwrap();
    let result = setup.pull();
    setup.assert_refused(&result, "policy/vault.toml", "an untracked file");
    setup.project.write(".gitignore", "policy/vault.toml\n");
    setup.git(&["add", ".gitignore"]);
    setup.git(&["commit", "-q", "-m", "ignore"]);
    let result = setup.pull();
    setup.assert_refused(&result, "policy/vault.toml", "a file in .gitignore");
}

/// `--skip-worktree` and `--assume-unchanged` hide an edit from `git status`; the gate compares
/// contents, not index flags.
#[test]
fn index_flags_do_not_hide_an_edited_policy() {
    let setup = Setup::new("gate_index_flags");
    for flag in ["--skip-worktree", "--assume-unchanged"] {
        setup.git(&["update-index", flag, "policy/shop.toml"]);
        setup.make_evil(&setup.project.path("policy/shop.toml"));
        let result = setup.pull();
        setup.assert_refused(&result, "policy/shop.toml", flag);
        let undo = flag.replace("--", "--no-");
        setup.git(&["update-index", &undo, "policy/shop.toml"]);
        setup.git(&["checkout", "-q", "--", "policy/shop.toml"]);
    }
    let (code, output) = setup.pull();
    assert_eq!(code, 0, "the reviewed policy runs: {output}");
    setup.assert_no_canary(&output, "reviewed pull");
}

/// A committed symlink (a policy file, or the whole folder) whose target outside the
/// repository changed after review is refused.
#[test]
fn committed_symlinks_to_outside_the_repository_are_refused() {
    for whole_folder in [false, true] {
        let setup = Setup::new(if whole_folder {
            "gate_symlink_dir"
        } else {
            "gate_symlink_file"
        });
        let outside = tempfile::TempDir::new().unwrap();
        let (link, target) = if whole_folder {
            ("policy", outside.path().join("policy"))
        } else {
            ("policy/shop.toml", outside.path().join("shop.toml"))
        };
        let link_path = setup.project.path(link);
        std::fs::rename(&link_path, &target).unwrap();
        std::os::unix::fs::symlink(&target, &link_path).unwrap();
        setup.project.git_commit_all("policy behind a symlink");
        let edited = if whole_folder {
            target.join("shop.toml")
        } else {
            target.clone()
        };
        setup.make_evil(&edited);
        let result = setup.pull();
        setup.assert_refused(&result, "symlink", link);
    }
}

/// Inherited `GIT_DIR`/`GIT_WORK_TREE` pointing at another repository neither pass an edited
/// policy nor put that repository's commit in the audit.
#[test]
fn inherited_git_variables_are_ignored() {
    let setup = Setup::new("gate_git_env");
    let reviewed_commit = setup.head();
    setup.make_evil(&setup.project.path("policy/shop.toml"));
    // Another repository whose `main` holds exactly the edited working copy.
    let fake = tempfile::TempDir::new().unwrap();
    let fake_git = fake.path().join("fake.git");
    let fake_git_text = fake_git.display().to_string();
    let root_text = setup.project.root().display().to_string();
    let env = [
        ("GIT_DIR", fake_git_text.as_str()),
        ("GIT_WORK_TREE", root_text.as_str()),
    ];
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "fake"],
    ] {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=x", "-c", "user.email=x@example.com"])
            .args(["-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(setup.project.root())
            .envs(env)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let result = setup.pull_with(&[], &env);
    setup.assert_refused(&result, "policy/shop.toml", "GIT_DIR at another repository");

    // With the reviewed working copy the pull runs, and records the real review-ref commit.
    setup.git(&["checkout", "-q", "--", "policy/shop.toml"]);
    let (code, output) = setup.pull_with(&[], &env);
    assert_eq!(code, 0, "{output}");
    setup.assert_no_canary(&output, "reviewed pull under GIT_DIR");
    let (_, commit) = setup.audit();
    assert_eq!(commit.as_deref(), Some(reviewed_commit.as_str()));
    let log = std::fs::read_to_string(setup.state.path().join("pullprod/audit.log")).unwrap();
    assert!(log.contains(&reviewed_commit), "{log}");
}

/// The policy file swapped for an edited one right after the gate looked at the working copy:
/// the pull still runs the reviewed bytes, and the audit's hash is theirs.
#[test]
fn a_swap_after_the_gate_runs_nothing_unreviewed() {
    let setup = Setup::new("gate_swap");
    let policy = setup.project.path("policy/shop.toml");
    let evil = setup.project.root().join("evil.toml.swap");
    std::fs::copy(&policy, &evil).unwrap();
    setup.make_evil(&evil);
    let evil_text = evil.display().to_string();
    let policy_text = policy.display().to_string();
    let (code, output) = setup.pull_with(
        &[],
        &[
            ("PULLPROD_TEST_SWAP_AT", "after-gate"),
            ("PULLPROD_TEST_SWAP_FROM", &evil_text),
            ("PULLPROD_TEST_SWAP_TO", &policy_text),
        ],
    );
    assert!(!evil.exists(), "the swap happened");
    assert!(
        std::fs::read_to_string(&policy)
            .unwrap()
            .contains(EVIL_NOTE)
    );
    assert_eq!(code, 0, "{output}");
    setup.assert_no_canary(&output, "swapped after the gate");
    let (swapped_sha, _) = setup.audit();

    setup.git(&["checkout", "-q", "--", "policy/shop.toml"]);
    let (code, output) = setup.pull();
    assert_eq!(code, 0, "{output}");
    let (reviewed_sha, _) = setup.audit();
    assert_eq!(
        swapped_sha, reviewed_sha,
        "the audit records the hash of the reviewed bytes, which are what ran"
    );
}

/// A new source name pointing at the production database gets the gate, committed or not.
#[test]
fn a_production_database_under_another_name_gets_the_gate() {
    let setup = Setup::new("gate_prod_alias");
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &format!("{manifest}source.prod = \"env:PROD_DATABASE_URL\"\n"),
    );
    setup.make_evil(&setup.project.path("policy/shop.toml"));
    let result = setup.pull_with(&["--from", "prod"], &[]);
    setup.assert_refused(&result, "policy/shop.toml", "uncommitted `prod` source");

    // Committed and reviewed, the name is still a production source: the edit is refused.
    setup.git(&["add", "Cargo.toml"]);
    setup.git(&["commit", "-q", "-m", "prod"]);
    let result = setup.pull_with(&["--from", "prod"], &[]);
    setup.assert_refused(&result, "policy/shop.toml", "committed `prod` source");
}

/// Only the dump table and the policy files count: a comment elsewhere in Cargo.toml (or any
/// other edit outside the dump table) does not block a production pull.
#[test]
fn edits_outside_the_dump_table_do_not_block() {
    let setup = Setup::new("gate_precision");
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &format!(
            "# a comment nobody reviewed\n{}",
            manifest.replace("version = \"0.1.0\"", "version = \"0.2.0\"")
        ),
    );
    setup.project.write("src/lib.rs", "//! edited\n");
    let (code, output) = setup.pull();
    assert_eq!(code, 0, "{output}");
    setup.assert_no_canary(&output, "edits outside the dump table");
    setup
        .target
        .exec("CREATE TABLE old_marker (x int); INSERT INTO old_marker VALUES (42)");

    // An edit inside the dump table does block, and names the table.
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &manifest.replace("review-ref = \"main\"", "review-ref = \"main\" # edited"),
    );
    let result = setup.pull();
    setup.assert_refused(
        &result,
        "Cargo.toml (`[package.metadata.dump]` edited)",
        "dump table edited",
    );
}

/// `--plan` reads only the catalog and estimates: it runs on an unreviewed working copy, says
/// so, and runs none of its conditions; the pull itself still refuses.
#[test]
fn plan_runs_on_the_working_copy_and_says_it_is_not_reviewed() {
    let setup = Setup::new("gate_plan");
    setup.make_evil(&setup.project.path("policy/shop.toml"));
    let (code, output) = setup.pull_with(&["--plan"], &[]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("is not reviewed") && output.contains("policy/shop.toml (edited)"),
        "{output}"
    );
    assert!(output.contains("public.orders"), "{output}");
    setup.assert_no_canary(&output, "plan");
    let result = setup.pull();
    setup.assert_refused(&result, "policy/shop.toml (edited)", "pull after plan");
}

/// A fresh repository without a remote: the default `review-ref = "origin/main"` does not
/// exist. `--plan` still runs; the pull refuses naming the table the project really uses.
#[test]
fn a_fresh_repository_without_a_remote() {
    let setup = Setup::new("gate_fresh");
    setup.project.write(
        "Cargo.toml",
        "[workspace]\nmembers = []\n\n[workspace.metadata.dump]\npolicy = \"policy\"\n\
         source.production = \"env:PROD_DATABASE_URL\"\ntarget = \"env:DATABASE_URL\"\n\
         salt = \"env:PULLPROD_SALT\"\n",
    );
    setup.git(&["add", "-A"]);
    setup.git(&["commit", "-q", "-m", "a virtual workspace"]);
    let (code, output) = setup.pull_with(&["--plan"], &[]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("is not reviewed") && output.contains("origin/main"),
        "{output}"
    );
    let result = setup.pull();
    setup.assert_refused(
        &result,
        "set `review-ref` in `[workspace.metadata.dump]`",
        "no origin/main",
    );
    assert!(
        !result.1.contains("[package.metadata.dump]"),
        "{}",
        result.1
    );
}

/// `production = false` counts only when the reviewed manifest says it: written only in the
/// working copy, the source is still production.
#[test]
fn a_non_production_marking_counts_only_when_reviewed() {
    let setup = Setup::new("gate_marking");
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &format!(
            "{manifest}source.scratch = {{ url = \"env:PROD_DATABASE_URL\", production = false }}\n"
        ),
    );
    setup.make_evil(&setup.project.path("policy/shop.toml"));
    let result = setup.pull_with(&["--from", "scratch"], &[]);
    setup.assert_refused(
        &result,
        "`scratch`, a production source",
        "marking not reviewed",
    );
    assert!(
        result.1.contains("policy/shop.toml (edited)"),
        "{}",
        result.1
    );
}

/// A policy path that leaves the repository is refused for production.
#[test]
fn a_policy_outside_the_repository_is_refused() {
    let setup = Setup::new("gate_outside");
    let manifest = setup.project.read("Cargo.toml");
    setup.project.write(
        "Cargo.toml",
        &manifest.replace("policy = \"policy\"", "policy = \"../elsewhere/policy\""),
    );
    setup.git(&["commit", "-q", "-am", "policy elsewhere"]);
    let result = setup.pull();
    setup.assert_refused(&result, "outside the repository", "policy outside");
}
