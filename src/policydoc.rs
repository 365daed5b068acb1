//! The data-handling document generated from the policy: `render` (pure), the marker-delimited
//! section of the doc file (pure `splice`/`diff`), and the thin IO behind `policy doc` and
//! check-policy's `doc-out-of-date` check.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::config::{Config, Setting};
use crate::detect::{NameClass, classify_name};
use crate::diag::{Code, Diagnostic, Sources};
use crate::plan::strategy_name;
use crate::policy::model::{
    FakeSpec, Generalise, Locale, Policy, Rule, Strategy, TableAction, TableRule,
};
use crate::policy::validate::policy_table_name;

/// The line opening the generated section in the doc file.
pub const BEGIN_MARKER: &str = "<!-- pullprod:policy-doc:begin -->";
/// The line closing it.
pub const END_MARKER: &str = "<!-- pullprod:policy-doc:end -->";

/// The Markdown section describing how the project handles production data: sources (by name),
/// commands, who may run them, files and retention, and every table and column of the policy.
/// Deterministic: sorted, no timestamps, nothing read from the environment.
pub fn render(config: &Config, policy: &Policy) -> String {
    let mut out = String::new();
    let policy_path = relative(&config.policy_path, &config.project_dir);
    out.push_str("## Production data handling\n\n");
    out.push_str(
        "_Generated from the policy by `cargo xtask policy doc`: do not edit this section by hand. \
         `cargo xtask check-policy` fails when it is out of date._\n\n",
    );
    let _ = writeln!(
        out,
        "Production data reaches a developer's machine only through `cargo xtask pull-prod`, which \
         applies the reviewed policy in {} to every row in memory, before anything is written. \
         To look at production without copying it, `cargo xtask console` opens a read-only, \
         audited `psql` session. No other way of copying production data (a console session \
         that is not read-only, an ad-hoc `pg_dump`) is allowed.\n",
        code(&policy_path)
    );
    render_sources(&mut out, config);
    render_commands(&mut out, config);
    render_rules_of_access(&mut out, config);
    render_files(&mut out, config);
    render_tables(&mut out, policy, &config.project_dir);
    out
}

/// Where the generated section sits in a doc file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Markers {
    /// Both marker lines, in order. `inner` is the section's bytes (from the line after the begin
    /// marker to the start of the end marker's line); `begin` is the begin marker line's offset.
    Found { begin: usize, inner: Range<usize> },
    /// No marker at all.
    Missing,
    /// A marker without its partner, or in the wrong order.
    Malformed(String),
}

/// Find the marker lines (each alone on its line, surrounding whitespace ignored).
pub fn find_markers(text: &str) -> Markers {
    let mut begin: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed == BEGIN_MARKER && begin.is_none() {
            begin = Some((start, offset));
        } else if trimmed == END_MARKER {
            return match begin {
                Some((begin, inner_start)) => Markers::Found {
                    begin,
                    inner: inner_start..start,
                },
                None => {
                    Markers::Malformed(format!("`{END_MARKER}` comes before any `{BEGIN_MARKER}`"))
                }
            };
        }
    }
    match begin {
        Some(_) => Markers::Malformed(format!("`{BEGIN_MARKER}` has no `{END_MARKER}` after it")),
        None if text.contains(END_MARKER) || text.contains(BEGIN_MARKER) => {
            Markers::Malformed("the markers must each stand alone on their own line".to_string())
        }
        None => Markers::Missing,
    }
}

/// The doc file's text with the generated section in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spliced {
    pub text: String,
    /// The markers were missing: they were appended, with the section, at the end.
    pub appended: bool,
}

/// Put `section` between the markers of `text`, leaving every other byte as it was; with no
/// markers, append them and the section at the end. Errors (as a message) on malformed markers.
pub fn splice(text: &str, section: &str) -> Result<Spliced, String> {
    match find_markers(text) {
        Markers::Found { inner, .. } => {
            let mut new_text = String::with_capacity(text.len() + section.len());
            new_text.push_str(&text[..inner.start]);
            new_text.push_str(section);
            new_text.push_str(&text[inner.end..]);
            Ok(Spliced {
                text: new_text,
                appended: false,
            })
        }
        Markers::Missing => {
            let mut new_text = text.to_string();
            if !new_text.is_empty() {
                if !new_text.ends_with('\n') {
                    new_text.push('\n');
                }
                new_text.push('\n');
            }
            new_text.push_str(BEGIN_MARKER);
            new_text.push('\n');
            new_text.push_str(section);
            new_text.push_str(END_MARKER);
            new_text.push('\n');
            Ok(Spliced {
                text: new_text,
                appended: true,
            })
        }
        Markers::Malformed(message) => Err(message),
    }
}

/// A unified-style line diff of `old` -> `new` with three lines of context, `""` when equal.
/// `first_line` is the 1-based line number of the first line of `old` and `new` in their file.
pub fn diff(old: &str, new: &str, old_label: &str, new_label: &str, first_line: usize) -> String {
    if old == new {
        return String::new();
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = line_ops(&old_lines, &new_lines);
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    const CONTEXT: usize = 3;
    // Group the ops into hunks: changes closer than 2 * CONTEXT equal lines share a hunk.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Equal(..)))
        .map(|(idx, _)| idx)
        .collect();
    let mut hunk_start_idx = 0;
    while hunk_start_idx < changed.len() {
        let mut hunk_end_idx = hunk_start_idx;
        while hunk_end_idx + 1 < changed.len()
            && changed[hunk_end_idx + 1] - changed[hunk_end_idx] <= 2 * CONTEXT + 1
        {
            hunk_end_idx += 1;
        }
        let from = changed[hunk_start_idx].saturating_sub(CONTEXT);
        let to = (changed[hunk_end_idx] + CONTEXT + 1).min(ops.len());
        let (old_start, new_start) = positions(&ops[..from]);
        let (old_len, new_len) = positions(&ops[from..to]);
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            range_text(first_line + old_start, old_len),
            range_text(first_line + new_start, new_len)
        );
        for op in &ops[from..to] {
            let (sign, line) = match op {
                Op::Equal(idx, _) => (' ', old_lines[*idx]),
                Op::Delete(idx) => ('-', old_lines[*idx]),
                Op::Insert(idx) => ('+', new_lines[*idx]),
            };
            out.push(sign);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
        hunk_start_idx = hunk_end_idx + 1;
    }
    out
}

/// How a doc file compares with the section the policy renders to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocState {
    UpToDate,
    /// Markers present, section differs: the diff (file line numbers).
    OutOfDate {
        diff: String,
        begin: usize,
    },
    /// The file exists without markers.
    NoMarkers,
    /// The file does not exist.
    NoFile,
    Malformed(String),
}

/// Compare a doc file's text (`None`: no file) with the rendered `section`. Pure.
pub fn compare(text: Option<&str>, section: &str, label: &str) -> DocState {
    let Some(text) = text else {
        return DocState::NoFile;
    };
    match find_markers(text) {
        Markers::Found { begin, inner } => {
            let current = &text[inner.clone()];
            if current == section {
                return DocState::UpToDate;
            }
            let first_line = text[..inner.start].matches('\n').count() + 1;
            DocState::OutOfDate {
                diff: diff(
                    current,
                    section,
                    &format!("{label} (current)"),
                    &format!("{label} (generated from the policy)"),
                    first_line,
                ),
                begin,
            }
        }
        Markers::Missing => DocState::NoMarkers,
        Markers::Malformed(message) => DocState::Malformed(message),
    }
}

/// Options of `policy doc`.
#[derive(Debug, Clone, Default)]
pub struct PolicyDocOptions {
    /// Change nothing; report whether the section is up to date.
    pub check: bool,
}

/// What `policy doc` did or found.
#[derive(Debug, Clone)]
pub struct PolicyDocReport {
    /// The doc file, relative to the project folder when inside it.
    pub doc_file: PathBuf,
    pub outcome: DocOutcome,
}

#[derive(Debug, Clone)]
pub enum DocOutcome {
    /// The policy has errors: nothing rendered. Exit 2 when any is a parse error, else 1.
    InvalidPolicy {
        diagnostics: Vec<Diagnostic>,
        sources: Sources,
        project_dir: PathBuf,
    },
    UpToDate,
    /// The section between the markers was rewritten.
    Updated,
    /// The file had no markers: they were appended with the section.
    Appended,
    /// The file did not exist: it was created holding only the section.
    Created,
    /// `--check`: the section differs (or is missing); the message and the diff, if any.
    OutOfDate {
        message: String,
        diff: String,
    },
}

/// `policy doc [--check]`: render the section and write it into (or compare it with) the doc file.
/// `Err` for unusable input: no manifest, unreadable or unwritable files, malformed markers.
pub fn policy_doc(config: &Config, options: &PolicyDocOptions) -> Result<PolicyDocReport> {
    let doc_file = relative_path(&config.doc_file, &config.project_dir);
    let label = doc_file.display().to_string();
    let (policy, diagnostics) = crate::config::load_policy(config);
    let Some(policy) = policy else {
        let sources = crate::diag::sources_for(&diagnostics);
        return Ok(PolicyDocReport {
            doc_file,
            outcome: DocOutcome::InvalidPolicy {
                diagnostics,
                sources,
                project_dir: config.project_dir.clone(),
            },
        });
    };
    let section = render(config, &policy);
    let text = read_if_exists(&config.doc_file)?;
    let state = compare(text.as_deref(), &section, &label);
    if let DocState::Malformed(message) = &state {
        anyhow::bail!(
            "cannot find the generated section in `{label}`: {message}; put `{BEGIN_MARKER}` and `{END_MARKER}` on lines of their own"
        );
    }
    let outcome = match (state, options.check) {
        (DocState::UpToDate, _) => DocOutcome::UpToDate,
        (DocState::OutOfDate { diff, .. }, true) => DocOutcome::OutOfDate {
            message: format!(
                "the data-handling section of `{label}` is out of date with the policy"
            ),
            diff,
        },
        (DocState::NoMarkers, true) => DocOutcome::OutOfDate {
            message: format!("`{label}` has no data-handling section (no `{BEGIN_MARKER}` marker)"),
            diff: String::new(),
        },
        (DocState::NoFile, true) => DocOutcome::OutOfDate {
            message: format!("`{label}` does not exist"),
            diff: String::new(),
        },
        (DocState::NoFile, false) => {
            let spliced = splice("", &section).expect("an empty text has no malformed markers");
            write(&config.doc_file, &spliced.text)?;
            DocOutcome::Created
        }
        (state, false) => {
            let text = text.expect("the file exists in every remaining state");
            let spliced = splice(&text, &section).map_err(|message| {
                anyhow::anyhow!("cannot find the generated section in `{label}`: {message}")
            })?;
            write(&config.doc_file, &spliced.text)?;
            match state {
                DocState::NoMarkers => DocOutcome::Appended,
                _ => DocOutcome::Updated,
            }
        }
        (DocState::Malformed(_), true) => unreachable!("malformed markers returned early"),
    };
    Ok(PolicyDocReport { doc_file, outcome })
}

/// check-policy's doc check: when the doc file exists and has the markers, a `doc-out-of-date`
/// error at the begin marker if the section differs from `render(config, policy)`. Also returns
/// the file's text (for line numbers). Nothing when the file is absent or has no markers.
pub fn check_doc_file(config: &Config, policy: &Policy) -> Option<(Diagnostic, String)> {
    let text = std::fs::read_to_string(&config.doc_file).ok()?;
    let label = relative_path(&config.doc_file, &config.project_dir)
        .display()
        .to_string();
    let section = render(config, policy);
    let diagnostic = match compare(Some(&text), &section, &label) {
        DocState::OutOfDate { begin, .. } => Diagnostic::error(
            Code::DocOutOfDate,
            &config.doc_file,
            begin..begin + BEGIN_MARKER.len(),
            format!("the data-handling section of `{label}` is out of date with the policy"),
        )
        .with_help("run `cargo xtask policy doc`"),
        DocState::Malformed(message) => {
            let offset = text
                .find(BEGIN_MARKER)
                .or_else(|| text.find(END_MARKER))
                .unwrap_or(0);
            Diagnostic::error(
                Code::DocOutOfDate,
                &config.doc_file,
                offset..offset,
                format!("cannot find the data-handling section of `{label}`: {message}"),
            )
            .with_help(format!(
                "put `{BEGIN_MARKER}` and `{END_MARKER}` on lines of their own, then run `cargo xtask policy doc`"
            ))
        }
        DocState::UpToDate | DocState::NoMarkers | DocState::NoFile => return None,
    };
    Some((diagnostic, text))
}

fn read_if_exists(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("failed to read `{}`", path.display())),
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("failed to write `{}`", path.display()))
}

fn render_sources(out: &mut String, config: &Config) {
    out.push_str("### Sources\n\n");
    if config.sources.is_empty() {
        let _ = writeln!(
            out,
            "No source is configured (`source.<name>` in `[{}]`): nothing is pulled.\n",
            config.table_name
        );
    } else {
        out.push_str("| Source | Connection settings from |\n|---|---|\n");
        for (name, setting) in &config.sources {
            let _ = writeln!(
                out,
                "| {}{} | {} |",
                cell(&code(name)),
                if config.non_production.contains(name) {
                    " (not production)"
                } else {
                    ""
                },
                cell(&describe_setting(
                    setting,
                    &config.manifest_path,
                    &config.project_dir
                ))
            );
        }
        out.push('\n');
        out.push_str("This section never shows a connection string or a credential, only where each comes from.\n\n");
    }
    let target = match &config.target {
        Some(setting) => describe_setting(setting, &config.manifest_path, &config.project_dir),
        None => "the libpq defaults (`PGHOST`, `PGDATABASE`, …)".to_string(),
    };
    let _ = writeln!(
        out,
        "The developer's database (`target`): connection settings from {target}.\n"
    );
    let salt = match &config.salt {
        Some(Setting::Env(var)) => {
            format!("a secret salt from the environment variable {}", code(var))
        }
        Some(Setting::Generated(name)) => format!(
            "a random salt generated on each developer's machine ({})",
            code(&format!("generated:{name}"))
        ),
        Some(Setting::Literal(_)) => {
            "a salt written literally in the manifest (a check-policy error: use `env:`)"
                .to_string()
        }
        None => "a salt that is not configured yet (`salt`): pulls refuse to run without one"
            .to_string(),
    };
    let _ = writeln!(
        out,
        "Pseudonyms are keyed by {salt}: the same value gives the same pseudonym in every table and run, \
         and nobody without the salt can reverse or link them.\n"
    );
}

fn render_commands(out: &mut String, config: &Config) {
    out.push_str("### Commands\n\n```sh\n");
    let mut lines: Vec<(String, String)> = Vec::new();
    let default_source = "production";
    if config.sources.contains_key(default_source) {
        lines.push((
            "cargo xtask pull-prod".into(),
            "production -> your dev database, anonymised in memory; no file written".into(),
        ));
    }
    for name in config.sources.keys().filter(|name| *name != default_source) {
        lines.push((
            format!("cargo xtask pull-prod --from {name}"),
            format!("the same from `{name}`"),
        ));
    }
    if !config.sources.is_empty() {
        lines.push((
            "cargo xtask pull-prod --plan".into(),
            "what would be copied, with row estimates; touches nothing".into(),
        ));
        lines.push((
            "cargo xtask pull-prod --to-file".into(),
            "an anonymised SQL dump instead (see below)".into(),
        ));
        lines.push((
            "cargo xtask console".into(),
            "read-only psql on a source (audited on production); nothing is copied".into(),
        ));
    }
    lines.push((
        "cargo xtask seed-dev".into(),
        "fill the dev database without production access".into(),
    ));
    lines.push((
        "cargo xtask check-policy".into(),
        "validate the policy (CI runs this)".into(),
    ));
    lines.push((
        "cargo xtask policy doc".into(),
        "regenerate this section after changing the policy".into(),
    ));
    let width = lines
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    for (command, comment) in lines {
        let _ = writeln!(out, "{command:width$}  # {comment}");
    }
    out.push_str("```\n\n");
}

fn render_rules_of_access(out: &mut String, config: &Config) {
    out.push_str("### Who may run what\n\n");
    out.push_str(
        "- Every session on a source is read-only: production is only ever read, never written.\n",
    );
    let (production, others): (Vec<&String>, Vec<&String>) = config
        .sources
        .keys()
        .partition(|name| !config.non_production.contains(*name));
    let names = |list: &[&String]| {
        list.iter()
            .map(|name| code(name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "- Every source is production unless the reviewed {} marks it `production = false`. A pull from a \
         production source{} runs only the policy files and dump settings exactly as {} (`review-ref`) holds \
         them, read from that commit, never from the working copy, which must not differ from them: every \
         change to the policy is reviewed before it can touch production.",
        code(&relative(&config.manifest_path, &config.project_dir)),
        if production.is_empty() {
            String::new()
        } else {
            format!(" ({})", names(&production))
        },
        code(&config.review_ref)
    );
    if !others.is_empty() {
        let _ = writeln!(
            out,
            "- Pulls from {} (marked `production = false`) run the working copy of the policy: policies are \
             developed there.",
            names(&others)
        );
    }
    if config.require_staging_run {
        out.push_str(
            "- A policy must have completed a pull from `staging` on the same machine before it may run \
             against `production` (`require-staging-run = true`).\n",
        );
    } else {
        out.push_str(
            "- `require-staging-run` is off: a reviewed policy may run against `production` \
             without a staging run first.\n",
        );
    }
    out.push_str(
        "- A pull refuses to start if the policy fails `check-policy` against the source's live schema, \
         or if the target is the source.\n\n",
    );
}

fn render_files(out: &mut String, config: &Config) {
    out.push_str("### Files and retention\n\n");
    let dump_dir = match dump_dir_text(config) {
        Some(text) => format!("{} (`dump-dir`)", code(&text)),
        None => "`dumps` in the system's temporary folder (the default `dump-dir`; `/tmp/dumps` on most systems)"
            .to_string(),
    };
    out.push_str(
        "- `pull-prod` writes no file: rows stream from the source into a new dev database, which \
         replaces the old one only when everything succeeded.\n",
    );
    let _ = writeln!(
        out,
        "- `pull-prod --to-file` writes an anonymised SQL file ({} by default) into {dump_dir}: \
         never inside a Git work tree, readable only by its owner (mode 0600).",
        code(&format!("{}.sql", config.project))
    );
    let days = config.retention_days;
    let _ = writeln!(
        out,
        "- Dump files are deleted after {days} day{} (`retention-days`, at most {}); every run prunes expired dumps.\n",
        if days == 1 { "" } else { "s" },
        crate::config::MAX_RETENTION_DAYS
    );
}

fn render_tables(out: &mut String, policy: &Policy, project_dir: &Path) {
    out.push_str("### Tables\n\n");
    let mut tables: Vec<&TableRule> = policy.tables.iter().collect();
    tables.sort_by(|a, b| a.table.cmp(&b.table));
    let count =
        |action: fn(&TableAction) -> bool| tables.iter().filter(|t| action(&t.action)).count();
    let n_copied = count(|action| *action == TableAction::Copy);
    let n_kept = count(|action| matches!(action, TableAction::KeepAll { .. }));
    let n_skipped = count(|action| *action == TableAction::Skip);
    let _ = writeln!(
        out,
        "{} table{} in the policy: {n_copied} copied column by column, {n_kept} kept whole with a reason, \
         {n_skipped} skipped (schema only). Tables not listed here are never copied.\n",
        tables.len(),
        if tables.len() == 1 { "" } else { "s" }
    );
    out.push_str(
        "Classes: **security** (passwords and their hashes, tokens, keys, secrets, card and national ID \
         numbers: always anonymised), **personal** (names, contact details, dates of birth, IP addresses, \
         free text about people: anonymised unless a reason is written), **personal (by rule)** (not \
         flagged by its name, but the policy anonymises it, so it is treated as personal), **safe** \
         (nothing personal by its name, copied as is). Classes come from column names; before every pull \
         the kept columns' values are sampled too, and a column whose values look like secrets is refused \
         whatever its name. **security by name, overridden** marks a column kept with \
         `not-sensitive = \"…\"`: its name looked security-sensitive and a reviewer accepted why it is not.\n\n",
    );
    let mut used: Vec<&'static str> = Vec::new();
    for table in &tables {
        for column in &table.columns {
            collect_strategies(&column.rule, &mut used);
        }
    }
    used.sort_unstable();
    used.dedup();
    if !used.is_empty() {
        out.push_str("Strategies used:\n\n");
        for name in used {
            let _ = writeln!(out, "- {}: {}", code(name), strategy_meaning(name));
        }
        out.push_str(
            "\nEvery pseudonym is derived from an HMAC-SHA256 of the salt and the original value, so \
             joins and foreign keys stay consistent. `(unique)`: distinct values stay distinct. NULL \
             stays NULL and an empty string stays empty under every strategy but `null` and `const`: \
             emptiness is not personal data.\n\n",
        );
    }
    for table in tables {
        render_table(out, table, project_dir);
    }
}

fn render_table(out: &mut String, table: &TableRule, project_dir: &Path) {
    let name = policy_table_name(&table.table);
    let _ = writeln!(out, "#### {}\n", code(&name));
    let file = relative(&table.origin.file, project_dir);
    let _ = write!(out, "From {}.", code(&file));
    match &table.action {
        TableAction::Skip => {
            out.push_str(" Skipped: the table is created empty, no row is copied.\n\n");
            return;
        }
        TableAction::KeepAll { reason } => {
            let _ = writeln!(
                out,
                " Kept whole: every column is copied in clear, because: {}\n",
                one_line(reason)
            );
            return;
        }
        TableAction::Copy => {}
    }
    match &table.filter {
        Some(filter) => {
            let _ = write!(
                out,
                " Only rows where {} are copied.",
                code(&one_line(filter))
            );
        }
        None => out.push_str(" Every row is copied."),
    }
    if let Some(n_rows) = table.seed_rows {
        let _ = write!(out, " `seed-dev` generates {n_rows} synthetic rows.");
    }
    out.push_str("\n\n");
    if table.columns.is_empty() {
        out.push_str("No column is classified.\n\n");
        return;
    }
    out.push_str("| Column | Class | Strategy | Why kept in clear |\n|---|---|---|---|\n");
    for column in &table.columns {
        let class = classify(&table.table.name, &column.column, &column.rule);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&code(&column.column)),
            class,
            cell(&describe_rule(&column.rule)),
            cell(&reasons(&column.rule)),
        );
    }
    out.push('\n');
}

/// `security`, `personal`, `personal (by rule)` or `safe`.
fn classify(table: &str, column: &str, rule: &Rule) -> &'static str {
    match classify_name(table, column) {
        Some(NameClass::Sensitive) if rule.not_sensitive.is_some() => {
            "security by name, overridden: not sensitive"
        }
        Some(NameClass::Sensitive) => "security",
        Some(NameClass::Personal) => "personal",
        None if !rule.is_keep() => "personal (by rule)",
        None => "safe",
    }
}

/// `fake.email (unique)`, `generalise to year`, `json: …`.
fn describe_rule(rule: &Rule) -> String {
    let mut modifiers: Vec<String> = Vec::new();
    let base = match &rule.strategy {
        Strategy::Fake(spec) => {
            modifiers.extend(fake_modifiers(spec));
            format!("fake.{}", spec.kind.name())
        }
        Strategy::Generalise(Generalise::Month) => "generalise to month".into(),
        Strategy::Generalise(Generalise::Year) => "generalise to year".into(),
        Strategy::Generalise(Generalise::Bucket(width)) => {
            format!("generalise to buckets of {width}")
        }
        Strategy::Shift { max_days } => format!("shift by up to {max_days} days"),
        Strategy::Mask { keep_last } => format!("mask all but the last {keep_last} characters"),
        Strategy::Json(paths) => {
            let parts: Vec<String> = paths
                .iter()
                .map(|path| format!("{} {}", code(&path.path.text), describe_rule(&path.rule)))
                .collect();
            format!("json: {}; other paths kept", parts.join("; "))
        }
        Strategy::Xml(paths) => {
            let parts: Vec<String> = paths
                .iter()
                .map(|path| format!("{} {}", code(&path.path.text), describe_rule(&path.rule)))
                .collect();
            format!("xml: {}; everything else kept", parts.join("; "))
        }
        Strategy::Todo { .. } => "todo (not classified yet)".into(),
        other => strategy_name(other),
    };
    if rule.unique {
        modifiers.push("unique".into());
    }
    if modifiers.is_empty() {
        base
    } else {
        format!("{base} ({})", modifiers.join(", "))
    }
}

fn fake_modifiers(spec: &FakeSpec) -> Vec<String> {
    let mut modifiers = Vec::new();
    if spec.locale != Locale::default() {
        let name = Locale::ALL
            .iter()
            .find(|(locale, _)| *locale == spec.locale)
            .map(|(_, name)| *name)
            .unwrap_or("?");
        modifiers.push(name.to_string());
    }
    match (&spec.min, &spec.max) {
        (Some(min), Some(max)) => modifiers.push(format!("{min} to {max}")),
        (Some(min), None) => modifiers.push(format!("from {min}")),
        (None, Some(max)) => modifiers.push(format!("until {max}")),
        (None, None) => {}
    }
    modifiers
}

/// The written reasons of a rule (and of its JSON paths).
fn reasons(rule: &Rule) -> String {
    let mut parts = Vec::new();
    if let Some(reason) = &rule.reason {
        parts.push(one_line(reason));
    }
    if let Some(why) = &rule.not_sensitive {
        parts.push(format!("not sensitive: {}", one_line(why)));
    }
    if let Strategy::Json(paths) = &rule.strategy {
        for path in paths {
            if let Some(reason) = &path.rule.reason {
                parts.push(format!("{}: {}", code(&path.path.text), one_line(reason)));
            }
        }
    }
    parts.join("; ")
}

fn collect_strategies(rule: &Rule, used: &mut Vec<&'static str>) {
    used.push(strategy_key(&rule.strategy));
    if let Strategy::Xml(paths) = &rule.strategy {
        for path in paths {
            collect_strategies(&path.rule, used);
        }
    }
    if let Strategy::Json(paths) = &rule.strategy {
        for path in paths {
            collect_strategies(&path.rule, used);
        }
    }
}

/// The legend entry a strategy belongs to.
fn strategy_key(strategy: &Strategy) -> &'static str {
    match strategy {
        Strategy::Keep => "keep",
        Strategy::Null => "null",
        Strategy::Redact => "redact",
        Strategy::Const(_) => "const",
        Strategy::Hash => "hash",
        Strategy::Fake(_) => "fake.*",
        Strategy::Generalise(_) => "generalise",
        Strategy::Shift { .. } => "shift",
        Strategy::Mask { .. } => "mask",
        Strategy::Json(_) => "json",
        Strategy::Xml(_) => "xml",
        Strategy::Todo { .. } => "todo",
    }
}

fn strategy_meaning(key: &str) -> &'static str {
    match key {
        "keep" => "copied in clear",
        "null" => "replaced by NULL",
        "redact" => "replaced by a fixed placeholder that fits the column's type",
        "const" => "replaced by one fixed value written in the policy",
        "hash" => "replaced by a keyed hash of the value (same type where the type allows)",
        "fake.*" => {
            "replaced by a realistic fake of that kind, the same for the same original value"
        }
        "generalise" => {
            "coarsened: dates to the first day of their month or year, numbers down to a bucket"
        }
        "shift" => "dates moved by a per-value offset of at most the given days",
        "mask" => "every character but the last few replaced",
        "json" => "the listed paths inside the JSON handled by their own rule",
        "xml" => {
            "the listed elements' text and attributes inside the XML handled by their own rule"
        }
        "todo" => "not classified yet: check-policy fails until it is",
        _ => "",
    }
}

/// How a connection setting is given, never its value.
fn describe_setting(setting: &Setting, manifest_path: &Path, project_dir: &Path) -> String {
    match setting {
        Setting::Env(var) => format!("the environment variable {}", code(var)),
        Setting::Generated(name) => format!(
            "a value generated locally ({})",
            code(&format!("generated:{name}"))
        ),
        Setting::Literal(_) => format!(
            "a literal in {} (not shown here)",
            code(&relative(manifest_path, project_dir))
        ),
    }
}

/// `dump-dir` exactly as the manifest writes it (so the document is the same on every machine).
fn dump_dir_text(config: &Config) -> Option<String> {
    let document = toml_edit::Document::parse(config.manifest_text.as_str()).ok()?;
    let (_, table, _) = crate::config::dump_table(document.as_table())?;
    table.get("dump-dir")?.as_str().map(str::to_string)
}

fn relative(path: &Path, base: &Path) -> String {
    relative_path(path, base).display().to_string()
}

fn relative_path(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base).unwrap_or(path).to_path_buf()
}

/// Inline code, with enough backticks for text that holds some.
fn code(text: &str) -> String {
    if !text.contains('`') {
        return format!("`{text}`");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Old line index, new line index.
    Equal(usize, usize),
    Delete(usize),
    Insert(usize),
}

/// Lines kept, deleted and inserted: common prefix and suffix, then a longest common
/// subsequence of the middle (a plain replacement when the middle is very large).
fn line_ops(old: &[&str], new: &[&str]) -> Vec<Op> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    let mut ops: Vec<Op> = (0..prefix).map(|idx| Op::Equal(idx, idx)).collect();
    const MAX_CELLS: usize = 4_000_000;
    if old_mid.len().saturating_mul(new_mid.len()) > MAX_CELLS {
        ops.extend((0..old_mid.len()).map(|idx| Op::Delete(prefix + idx)));
        ops.extend((0..new_mid.len()).map(|idx| Op::Insert(prefix + idx)));
    } else {
        // lcs[i][j]: length of the LCS of old_mid[i..] and new_mid[j..].
        let (n, m) = (old_mid.len(), new_mid.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if old_mid[i] == new_mid[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && old_mid[i] == new_mid[j] {
                ops.push(Op::Equal(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                ops.push(Op::Delete(prefix + i));
                i += 1;
            } else {
                ops.push(Op::Insert(prefix + j));
                j += 1;
            }
        }
    }
    let old_tail = old.len() - suffix;
    let new_tail = new.len() - suffix;
    ops.extend((0..suffix).map(|idx| Op::Equal(old_tail + idx, new_tail + idx)));
    ops
}

/// How many old and new lines `ops` cover.
fn positions(ops: &[Op]) -> (usize, usize) {
    ops.iter().fold((0, 0), |(old, new), op| match op {
        Op::Equal(..) => (old + 1, new + 1),
        Op::Delete(_) => (old + 1, new),
        Op::Insert(_) => (old, new + 1),
    })
}

/// `start,len` of a hunk side; an empty side names the line before it.
fn range_text(start: usize, len: usize) -> String {
    match len {
        0 => format!("{},0", start.saturating_sub(1)),
        1 => start.to_string(),
        _ => format!("{start},{len}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyFile;

    const FIXTURE_MANIFEST: &str = include_str!("../tests/data/doc/shop/Cargo.toml");
    const FIXTURE_USERS: &str = include_str!("../tests/data/doc/shop/policy/users.toml");
    const FIXTURE_ORDERS: &str = include_str!("../tests/data/doc/shop/policy/orders.toml");

    fn fixture(manifest: &str) -> (Config, Policy) {
        let (config, _) =
            crate::config::parse(Path::new("/project/Cargo.toml"), manifest, Some("shop")).unwrap();
        let files = [
            PolicyFile {
                path: PathBuf::from("/project/policy/orders.toml"),
                text: FIXTURE_ORDERS.to_string(),
            },
            PolicyFile {
                path: PathBuf::from("/project/policy/users.toml"),
                text: FIXTURE_USERS.to_string(),
            },
        ];
        let parsed = crate::policy::parse(&files);
        assert_eq!(
            parsed.diagnostics,
            Vec::new(),
            "the fixture policy is valid"
        );
        (config, parsed.policy)
    }

    #[test]
    fn every_strategy_subset_skip_and_keep() {
        let (config, policy) = fixture(FIXTURE_MANIFEST);
        insta::assert_snapshot!(render(&config, &policy));
    }

    #[test]
    fn render_is_deterministic_and_independent_of_file_order() {
        let (config, policy) = fixture(FIXTURE_MANIFEST);
        let mut reversed = policy.clone();
        reversed.tables.reverse();
        assert_eq!(render(&config, &policy), render(&config, &reversed));
    }

    #[test]
    fn literal_settings_are_never_shown() {
        let manifest = FIXTURE_MANIFEST
            .replace(
                "\"env:PULLPROD_TEST_UNSET_STAGING_URL\"",
                "\"dbname=shop_staging host=db.internal user=s3cr3t-role\"",
            )
            .replace("\"env:PROD_DATABASE_URL\"", "\"postgres://u:hunter2@h/db\"")
            .replace("\"env:PULLPROD_SALT\"", "\"salty-salt-0123456789\"");
        let (config, policy) = fixture(&manifest);
        let text = render(&config, &policy);
        for secret in [
            "dbname",
            "s3cr3t",
            "db.internal",
            "hunter2",
            "postgres://",
            "salty",
        ] {
            assert!(!text.contains(secret), "`{secret}` leaked into:\n{text}");
        }
        assert!(text.contains("| `staging` | a literal in `Cargo.toml` (not shown here) |"));
    }

    #[test]
    fn not_sensitive_overrides_are_listed_for_reviewers() {
        let parsed = crate::policy::parse(&[PolicyFile {
            path: PathBuf::from("/project/policy/oauth.toml"),
            text: "[oauth_clients]\nid = \"keep\"\napi_token = { keep = true, not-sensitive = \"a label shown on the settings page\" }\n".into(),
        }]);
        assert_eq!(parsed.diagnostics, Vec::new());
        let mut out = String::new();
        render_table(&mut out, &parsed.policy.tables[0], Path::new("/project"));
        assert!(
            out.contains(
                "| `api_token` | security by name, overridden: not sensitive | keep | not sensitive: a label shown on the settings page |"
            ),
            "{out}"
        );
    }

    #[test]
    fn classes() {
        let keep = Rule::keep();
        let hash = Rule {
            strategy: Strategy::Hash,
            unique: false,
            reason: None,
            not_sensitive: None,
        };
        assert_eq!(classify("users", "api_token", &hash), "security");
        assert_eq!(classify("users", "email", &hash), "personal");
        assert_eq!(classify("users", "country", &keep), "safe");
        assert_eq!(classify("orders", "placed_at", &hash), "personal (by rule)");
    }

    #[test]
    fn markers() {
        let text =
            "a\n<!-- pullprod:policy-doc:begin -->\nold\n<!-- pullprod:policy-doc:end -->\nb";
        assert_eq!(
            find_markers(text),
            Markers::Found {
                begin: 2,
                inner: 37..41
            }
        );
        assert_eq!(&text[37..41], "old\n");
        let spliced = splice(text, "new\nlines\n").unwrap();
        assert_eq!(
            spliced.text,
            "a\n<!-- pullprod:policy-doc:begin -->\nnew\nlines\n<!-- pullprod:policy-doc:end -->\nb"
        );
        assert!(!spliced.appended);
        assert_eq!(find_markers("no markers\n"), Markers::Missing);
        assert!(matches!(
            find_markers("<!-- pullprod:policy-doc:end -->\n<!-- pullprod:policy-doc:begin -->\n"),
            Markers::Malformed(_)
        ));
        assert!(matches!(
            find_markers("<!-- pullprod:policy-doc:begin -->\n"),
            Markers::Malformed(_)
        ));
        assert!(matches!(
            find_markers("see <!-- pullprod:policy-doc:begin --> inline\n"),
            Markers::Malformed(_)
        ));
        assert!(splice("x <!-- pullprod:policy-doc:end -->", "s\n").is_err());
    }

    #[test]
    fn append_when_missing() {
        let spliced = splice("# Title\nno newline", "s\n").unwrap();
        assert!(spliced.appended);
        assert_eq!(
            spliced.text,
            "# Title\nno newline\n\n<!-- pullprod:policy-doc:begin -->\ns\n<!-- pullprod:policy-doc:end -->\n"
        );
        assert_eq!(
            splice("", "s\n").unwrap().text,
            "<!-- pullprod:policy-doc:begin -->\ns\n<!-- pullprod:policy-doc:end -->\n"
        );
    }

    #[test]
    fn splice_then_compare_is_up_to_date() {
        let (config, policy) = fixture(FIXTURE_MANIFEST);
        let section = render(&config, &policy);
        let readme = include_str!("../tests/data/doc/shop/README.md");
        assert!(matches!(
            compare(Some(readme), &section, "README.md"),
            DocState::OutOfDate { begin, .. } if begin == readme.find(BEGIN_MARKER).unwrap()
        ));
        let spliced = splice(readme, &section).unwrap();
        assert_eq!(
            compare(Some(&spliced.text), &section, "README.md"),
            DocState::UpToDate
        );
        assert_eq!(splice(&spliced.text, &section).unwrap().text, spliced.text);
        assert_eq!(compare(None, &section, "README.md"), DocState::NoFile);
        assert_eq!(
            compare(Some("# x\n"), &section, "README.md"),
            DocState::NoMarkers
        );
    }

    #[test]
    fn line_diff() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\n";
        insta::assert_snapshot!(diff(old, new, "old", "new", 10), @r"
        --- old
        +++ new
        @@ -10,7 +10,7 @@
         a
         b
         c
        -d
        +D
         e
         f
         g
        @@ -18,3 +18,4 @@
         i
         j
         k
        +l
        ");
        assert_eq!(diff(old, old, "old", "new", 1), "");
        insta::assert_snapshot!(diff("x\n", "", "old", "new", 1), @r"
        --- old
        +++ new
        @@ -1 +0,0 @@
        -x
        ");
        insta::assert_snapshot!(diff("p\nq", "p\nr", "old", "new", 1), @r"
        --- old
        +++ new
        @@ -1,2 +1,2 @@
         p
        -q
        \ No newline at end of file
        +r
        \ No newline at end of file
        ");
    }
}
