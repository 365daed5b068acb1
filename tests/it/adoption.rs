//! A new user's project, set up as the README says: a path dependency on this checkout, the
//! three-line xtask, the alias and profile; `check-policy` and `pull-prod` run there, and its
//! `cargo xtask --help` shows pullprod's commands only (no demo, no bench).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Project, TestDb};

/// The project's files, as the README's "Adding pullprod to a project" writes them.
fn new_project(pullprod_dir: &Path) -> Project {
    let project = Project::empty();
    project.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"xtask\"]\nresolver = \"3\"\n\n\
         [workspace.metadata.dump]\npolicy = \"policy\"\nproject = \"adopted\"\n\
         source.production = \"env:PROD_DATABASE_URL\"\ntarget = \"env:DATABASE_URL\"\n\
         salt = \"env:PULLPROD_SALT\"\nreview-ref = \"HEAD\"\n\n\
         [profile.xtask]\ninherits = \"release\"\nincremental = true\ncodegen-units = 16\nlto = \"off\"\n",
    );
    project.write(
        "xtask/Cargo.toml",
        &format!(
            "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\npullprod = {{ path = {:?} }}\n",
            pullprod_dir.display().to_string()
        ),
    );
    project.write(
        "xtask/src/main.rs",
        "fn main() -> std::process::ExitCode {\n    pullprod::cli::run(std::env::args_os().skip(1))\n}\n",
    );
    project.write(
        ".cargo/config.toml",
        "[alias]\nxtask = \"run --package xtask --profile xtask --\"\n",
    );
    project.write(
        "policy/shop.toml",
        &std::fs::read_to_string(pullprod_dir.join("tests/data/pull_project/policy/shop.toml"))
            .expect("the fixture policy"),
    );
    // The same versions as this checkout's lock: the build reuses what it already compiled.
    std::fs::copy(pullprod_dir.join("Cargo.lock"), project.path("Cargo.lock"))
        .expect("copy Cargo.lock");
    project.write(".gitignore", "/target\n");
    project.git_commit_all("pullprod, as the README says");
    project
}

/// This workspace's target folder: the project's build shares it, so only the first run compiles.
fn shared_target_dir(pullprod_dir: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| pullprod_dir.join("target"))
}

fn cargo_xtask(project: &Project, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let pullprod_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO"))
        .arg("xtask")
        .args(args)
        .current_dir(project.root())
        .env("CARGO_TARGET_DIR", shared_target_dir(pullprod_dir))
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("GITHUB_ACTIONS")
        .envs(env.iter().copied())
        .output()
        .expect("run cargo xtask");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_new_project_depends_on_pullprod_as_the_readme_says() {
    let pullprod_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(pullprod_dir.join("README.md")).expect("README.md");
    assert!(
        readme.contains("pullprod = { path = ")
            && readme.contains("pullprod = { git = ")
            && readme.contains("xtask = \"run --package xtask --profile xtask --\""),
        "the README shows the dependency lines and the alias this test uses"
    );
    let project = new_project(pullprod_dir);

    let (code, stdout, stderr) = cargo_xtask(&project, &["--help"], &[]);
    assert_eq!(code, 0, "{stderr}");
    for command in [
        "pull-prod",
        "check-policy",
        "seed-dev",
        "policy",
        "prune-dumps",
        "console",
    ] {
        assert!(
            stdout.contains(&format!("  {command} ")),
            "{command}: {stdout}"
        );
    }
    for private in ["demo-prod", "bench"] {
        assert!(!stdout.contains(private), "{private}: {stdout}");
    }

    let source = TestDb::new("adoption_src");
    source.exec(include_str!("../data/small_shop.sql"));
    let target = TestDb::new("adoption_dst");
    let state = tempfile::TempDir::new().expect("state folder");
    let state_dir = state.path().display().to_string();
    let env = [
        ("PROD_DATABASE_URL", source.url()),
        ("DATABASE_URL", target.url()),
        ("PULLPROD_SALT", "a test salt that is long enough"),
        ("XDG_STATE_HOME", state_dir.as_str()),
    ];
    let (code, _, stderr) = cargo_xtask(
        &project,
        &["check-policy", "--database-url", source.url()],
        &env,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("policy ok"), "{stderr}");

    let (code, _, stderr) = cargo_xtask(&project, &["pull-prod"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        target.count("SELECT count(*) FROM orders"),
        source.count("SELECT count(*) FROM orders")
    );
    assert_eq!(
        target.count("SELECT count(*) FROM people WHERE secret IS NOT NULL"),
        0,
        "the policy's `secret = \"null\"` ran"
    );
}
