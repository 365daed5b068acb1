//! G10: pull-prod samples every kept column in its snapshot and refuses sensitive values
//! behind innocent names, before the dev database is created; the overrides reviewers see.

use crate::support::{Project, PullSetup};

/// `accounts.extra` holds bcrypt hashes, `settings` e-mails inside JSON, `profile` phone numbers
/// in XML, `auth_token` nothing sensitive behind a security-looking name.
const SOURCE: &str = r#"
CREATE TABLE accounts (
    id int PRIMARY KEY,
    extra text,
    settings jsonb,
    profile xml,
    auth_token text,
    label text
);
INSERT INTO accounts
SELECT i,
       '$2a$12$' || rpad(md5(i::text), 53, 'abcdefghijklmnopqrstuvwxyz'),
       jsonb_build_object('theme', 'dark', 'contact', jsonb_build_object('primary', 'member' || i || '@example.org')),
       xmlparse(content '<card><tel kind="home">697-555-' || lpad(i::text, 4, '0') || '</tel></card>'),
       'shown as tip ' || i,
       'plain label ' || i
FROM generate_series(1, 40) i;
ANALYZE;
"#;

struct Setup(PullSetup);

impl std::ops::Deref for Setup {
    type Target = PullSetup;
    fn deref(&self) -> &PullSetup {
        &self.0
    }
}

impl Setup {
    fn new(test: &str) -> Setup {
        let project = Project::empty();
        project.write(
            "Cargo.toml",
            "[package]\nname = \"detector-test\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
             [package.metadata.dump]\npolicy = \"policy\"\n\
             source.staging = { url = \"env:STAGING_DATABASE_URL\", production = false }\n\
             target = \"env:DATABASE_URL\"\nsalt = \"env:PULLPROD_SALT\"\nreview-ref = \"main\"\n",
        );
        project.write("src/lib.rs", "//! detector test project\n");
        Setup(PullSetup::new(test, SOURCE, project))
    }

    /// Commit `policy` as the project's policy, then pull from staging.
    fn pull_with_policy(&self, policy: &str) -> (i32, String) {
        self.project.write("policy/accounts.toml", policy);
        self.project.git_commit_all("policy");
        self.pull_with(&["--from", "staging"], &[])
    }

    /// The old dev database is untouched and no new one was ever created next to it.
    fn assert_nothing_created(&self, output: &str) {
        self.assert_old_target_intact(output);
        let pattern = format!("{}__pp_%", self.target.name());
        let temporary = self.target.count(&format!(
            "SELECT count(*) FROM pg_database WHERE datname LIKE '{pattern}'"
        ));
        assert_eq!(temporary, 0, "a new database was created: {output}");
    }
}

const KEEP_ALL_BARE: &str = r#"[accounts]
id = "keep"
extra = "keep"
settings = "keep"
profile = "keep"
auth_token = { keep = true, not-sensitive = "a hint shown on the settings page, never a token" }
label = "keep"
"#;

#[test]
fn bare_keep_of_hashes_json_emails_and_xml_phones_is_refused_before_the_dev_database_exists() {
    let setup = Setup::new("detector_refuse");
    let (code, output) = setup.pull_with_policy(KEEP_ALL_BARE);
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains("sampled values of columns the policy keeps"),
        "{output}"
    );
    for expected in [
        "policy/accounts.toml:3:1: error[sensitive-kept]: `accounts.extra` is kept in clear but its sampled values look like password hashes",
        "policy/accounts.toml:4:1: error[personal-kept]: `accounts.settings` is kept in clear but its sampled values look like email addresses",
        "policy/accounts.toml:5:1: error[personal-kept]: `accounts.profile` is kept in clear but its sampled values look like phone numbers",
    ] {
        assert!(
            output.contains(expected),
            "missing `{expected}` in:\n{output}"
        );
    }
    assert!(
        !output.contains("auth_token"),
        "the override is honoured: {output}"
    );
    assert!(!output.contains("`accounts.label`"), "{output}");
    for value in ["$2a$12$", "example.org", "697-555", "member1"] {
        assert!(
            !output.contains(value),
            "a sampled value was printed: {output}"
        );
    }
    setup.assert_nothing_created(&output);
}

#[test]
fn a_reason_silences_personal_values_but_never_secrets() {
    let setup = Setup::new("detector_reason");
    let with_reasons = KEEP_ALL_BARE
        .replace(
            "settings = \"keep\"",
            "settings = { keep = true, reason = \"test accounts on example.org\" }",
        )
        .replace(
            "profile = \"keep\"",
            "profile = { keep = true, reason = \"reserved 555 numbers\" }",
        )
        .replace(
            "extra = \"keep\"",
            "extra = { keep = true, reason = \"we need them\" }",
        );
    let (code, output) = setup.pull_with_policy(&with_reasons);
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains(
            "`accounts.extra` is kept in clear but its sampled values look like password hashes"
        ),
        "{output}"
    );
    assert!(!output.contains("accounts.settings"), "{output}");
    assert!(!output.contains("accounts.profile"), "{output}");
    setup.assert_nothing_created(&output);

    let anonymised = with_reasons.replace(
        "extra = { keep = true, reason = \"we need them\" }",
        "extra = \"redact\"",
    );
    let (code, output) = setup.pull_with_policy(&anonymised);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("(sample "),
        "the sample phase is in the summary: {output}"
    );
    let hashes = setup
        .target
        .count("SELECT count(*) FROM accounts WHERE extra LIKE '$2a$%'");
    assert_eq!(hashes, 0);
}

#[test]
fn a_security_name_without_override_is_refused() {
    let setup = Setup::new("detector_name");
    let policy = KEEP_ALL_BARE
        .replace(
            "auth_token = { keep = true, not-sensitive = \"a hint shown on the settings page, never a token\" }",
            "auth_token = \"keep\"",
        )
        .replace("extra = \"keep\"", "extra = \"redact\"")
        .replace("settings = \"keep\"", "settings = \"null\"")
        .replace("profile = \"keep\"", "profile = \"null\"");
    let (code, output) = setup.pull_with_policy(&policy);
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains(
            "`accounts.auth_token` is kept in clear but its name marks it as security-sensitive"
        ),
        "{output}"
    );
    assert!(output.contains("not-sensitive = \"…\""), "{output}");
    setup.assert_nothing_created(&output);
}
