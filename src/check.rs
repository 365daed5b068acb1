//! `check-policy` (static checks, coverage against a live schema, `--sample`, `--fix`) and
//! `policy init`. The IO around the pure `config`, `policy`, `coverage` and `detect`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use crate::config::Config;
use crate::coverage;
use crate::detect::{self, Samples};
use crate::diag::{Code, Diagnostic, Sources};
use crate::pgerror::PgContext;
use crate::policy::model::{Policy, TableAction, TableName};
use crate::policy::validate::policy_table_name;
use crate::policy::{Parsed, PolicyFile};
use crate::schema::{self, Catalog, Table};

#[derive(Debug, Clone, Default)]
pub struct CheckPolicyOptions {
    /// The database whose schema the policy must cover (default: `source.staging`, if set).
    pub database_url: Option<String>,
    /// Sample column values to find sensitive data behind innocent names.
    pub sample: bool,
    /// Add unclassified columns to the policy files as `todo`.
    pub fix: bool,
}

/// What check-policy found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The text of every file the diagnostics point into.
    pub sources: Sources,
    /// Paths print relative to this folder.
    pub project_dir: PathBuf,
    /// The input could not be read as a whole (TOML syntax errors): exit 2.
    pub unusable: bool,
    /// One-line notes for stderr ("static checks only: …", "added 2 columns to …").
    pub notes: Vec<String>,
}

impl Report {
    /// 0 clean, 1 violations, 2 unusable input.
    pub fn exit_code(&self) -> u8 {
        if self.unusable {
            2
        } else if self.diagnostics.iter().any(Diagnostic::is_error) {
            1
        } else {
            0
        }
    }
}

/// Run check-policy on the project's configuration (`config::load`, with its diagnostics).
/// `Err` means unusable input: unreadable files, database unreachable.
pub fn check_policy(
    config: &Config,
    config_diagnostics: &[Diagnostic],
    options: &CheckPolicyOptions,
) -> Result<Report> {
    let mut notes = Vec::new();
    let database_url = match &options.database_url {
        Some(url) => Some(url.clone()),
        None => match config.sources.get("staging") {
            Some(setting) => match setting.resolve() {
                Ok(url) => Some(url),
                Err(err) => {
                    notes.push(format!(
                        "static checks only: `source.staging` is not usable ({err:#}); pass --database-url to check coverage"
                    ));
                    None
                }
            },
            None => {
                notes.push(
                    "static checks only: no --database-url and no `source.staging` configured"
                        .to_string(),
                );
                None
            }
        },
    };
    if database_url.is_none() && (options.fix || options.sample) {
        bail!(
            "--fix and --sample need a database: pass --database-url or configure `source.staging`"
        );
    }
    let catalog_and_samples = match &database_url {
        Some(url) => Some(read_database(url, config, options.sample)?),
        None => None,
    };
    let mut report = run_checks(config, config_diagnostics, catalog_and_samples.as_ref())?;
    if options.fix
        && let Some((catalog, samples)) = &catalog_and_samples
    {
        let parsed = crate::config::read_policy(config)?.0;
        if parsed.syntax_error {
            bail!("cannot --fix a policy with TOML syntax errors: fix those first");
        }
        let fixed = fix(config, &parsed, catalog, samples.as_ref())?;
        if !fixed.is_empty() {
            report = run_checks(config, config_diagnostics, catalog_and_samples.as_ref())?;
            for (path, n_columns) in fixed {
                notes.push(format!(
                    "added {n_columns} column(s) as `todo` to `{}`",
                    path.strip_prefix(&config.project_dir)
                        .unwrap_or(&path)
                        .display()
                ));
            }
        }
    }
    if let Some((catalog, _)) = &catalog_and_samples
        && let Some(url) = &database_url
        && !report.unusable
    {
        let policy = crate::config::read_policy(config)?.0.policy;
        report
            .diagnostics
            .extend(check_conditions(url, &policy, catalog)?);
        let found = check_fit(url, &policy, catalog)?;
        crate::fit::merge(&mut report.diagnostics, found);
    }
    if catalog_and_samples.is_none() && !report.unusable {
        // Without a database, the conditions still get their lexical screen.
        let policy = crate::config::read_policy(config)?.0.policy;
        report.diagnostics.extend(crate::condition::screen(&policy));
        crate::diag::sort(&mut report.diagnostics);
    }
    report.notes.splice(0..0, notes);
    Ok(report)
}

/// Every `where` condition must be one safe boolean expression over its table
/// (`condition::check`), judged in a read-only transaction.
fn check_conditions(url: &str, policy: &Policy, catalog: &Catalog) -> Result<Vec<Diagnostic>> {
    if crate::subset::conditions(policy).is_empty() {
        return Ok(Vec::new());
    }
    let mut client = crate::conn::connect(url, "the schema database")?;
    crate::conn::make_read_only(&mut client)?;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .pg_context("failed to start a read-only transaction")?;
    crate::condition::check(&mut client, policy, catalog)
}

/// Every transformed column's rule applied to sampled values and judged by the database
/// (`fit::check`), in a read-only transaction.
fn check_fit(url: &str, policy: &Policy, catalog: &Catalog) -> Result<Vec<Diagnostic>> {
    let mut client = crate::conn::connect(url, "the schema database")?;
    crate::conn::make_read_only(&mut client)?;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .pg_context("failed to start a read-only transaction")?;
    crate::fit::check(&mut client, policy, catalog, None)
}

/// For pull-prod: the policy, valid statically and covering `catalog`, or every error
/// (config, policy and coverage diagnostics, sorted) with the file texts to render them.
pub fn policy_for_catalog(
    config: &Config,
    catalog: &Catalog,
) -> Result<Policy, (Vec<Diagnostic>, Sources)> {
    match crate::config::policy_files(config) {
        Ok(files) => policy_from_files(config, &files, catalog),
        Err(err) => {
            let mut diagnostics = crate::config::check_dump_dir(config);
            diagnostics.push(Diagnostic::error(
                Code::ParseError,
                &config.policy_path,
                0..0,
                format!("{err:#}"),
            ));
            Err((diagnostics, Sources::new()))
        }
    }
}

/// `policy_for_catalog` over given policy files (for pull-prod: the bytes the gate hashed;
/// nothing is read from disk here).
pub fn policy_from_files(
    config: &Config,
    files: &[PolicyFile],
    catalog: &Catalog,
) -> Result<Policy, (Vec<Diagnostic>, Sources)> {
    let (policy, diagnostics, sources) = check_files(config, files, catalog);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err((diagnostics, sources));
    }
    Ok(policy)
}

/// The static and coverage checks of given policy files against `catalog`: the policy (its
/// valid rules), every finding (sorted) and the texts to render them with.
pub fn check_files(
    config: &Config,
    files: &[PolicyFile],
    catalog: &Catalog,
) -> (Policy, Vec<Diagnostic>, Sources) {
    let mut diagnostics = crate::config::check_dump_dir(config);
    let parsed = crate::policy::parse(files);
    let mut sources: Sources = files
        .iter()
        .map(|file| (file.path.clone(), file.text.clone()))
        .collect();
    sources.insert(config.manifest_path.clone(), config.manifest_text.clone());
    diagnostics.extend(parsed.diagnostics.iter().cloned());
    let context = coverage::Context {
        policy_path: config.policy_path.clone(),
        broken: parsed.broken.clone(),
    };
    diagnostics.extend(coverage::check(&parsed.policy, catalog, None, &context));
    crate::diag::sort(&mut diagnostics);
    (parsed.policy, diagnostics, sources)
}

/// `policy init`: one `policy/<table>.toml` per table, every column `{ todo = "<suggestion>" }`.
/// Refuses to overwrite any existing file. Returns the files written.
pub fn policy_init(config: &Config, database_url: &str) -> Result<Vec<PathBuf>> {
    let (catalog, samples) = read_database(database_url, config, true)?;
    let folder = if config
        .policy_path
        .extension()
        .is_some_and(|ext| ext == "toml")
    {
        bail!(
            "`policy` points at the file `{}`: `policy init` writes one file per table into a folder",
            config.policy_path.display()
        );
    } else {
        config.policy_path.clone()
    };
    let tables: Vec<&Table> = catalog
        .tables
        .iter()
        .filter(|table| !reported_through_parent(&catalog, table))
        .collect();
    let files: Vec<(PathBuf, String)> = tables
        .iter()
        .map(|table| {
            let path = folder.join(file_name_for(&table.name));
            (
                path,
                new_table_text(table, samples.as_ref(), TodoStyle::Inline),
            )
        })
        .collect();
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| path.exists())
        .map(|(path, _)| format!("`{}`", path.display()))
        .collect();
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite existing policy files: {}",
            existing.join(", ")
        );
    }
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("failed to create `{}`", folder.display()))?;
    for (path, text) in &files {
        std::fs::write(path, text)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

fn run_checks(
    config: &Config,
    config_diagnostics: &[Diagnostic],
    database: Option<&(Catalog, Option<Samples>)>,
) -> Result<Report> {
    let (parsed, mut sources) = crate::config::read_policy(config)?;
    sources.insert(config.manifest_path.clone(), config.manifest_text.clone());
    let mut diagnostics: Vec<Diagnostic> = config_diagnostics.to_vec();
    diagnostics.extend(parsed.diagnostics.iter().cloned());
    if let Some((catalog, samples)) = database
        && !parsed.syntax_error
    {
        let context = coverage::Context {
            policy_path: config.policy_path.clone(),
            broken: parsed.broken.clone(),
        };
        diagnostics.extend(coverage::check(
            &parsed.policy,
            catalog,
            samples.as_ref(),
            &context,
        ));
    }
    if !parsed.diagnostics.iter().any(Diagnostic::is_error)
        && let Some((doc_diagnostic, doc_text)) =
            crate::policydoc::check_doc_file(config, &parsed.policy)
    {
        sources.insert(doc_diagnostic.file.clone(), doc_text);
        diagnostics.push(doc_diagnostic);
    }
    crate::diag::sort(&mut diagnostics);
    Ok(Report {
        diagnostics,
        sources,
        project_dir: config.project_dir.clone(),
        unusable: parsed.syntax_error,
        notes: Vec::new(),
    })
}

/// Connect (read-only), load the catalog and, with `sample`, classify sampled values.
fn read_database(url: &str, config: &Config, sample: bool) -> Result<(Catalog, Option<Samples>)> {
    let mut client = crate::conn::connect(url, "the schema database")?;
    crate::conn::make_read_only(&mut client)?;
    let catalog = schema::load(&mut client).context("failed to read the database schema")?;
    if !sample {
        return Ok((catalog, None));
    }
    let policy = crate::config::read_policy(config)
        .map(|(parsed, _)| parsed.policy)
        .unwrap_or_default();
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .pg_context("failed to start a read-only transaction")?;
    let samples = crate::sample::sample(
        &mut client,
        &policy,
        &catalog,
        crate::sample::Scope::KeptOrUnclassified,
    )?;
    Ok((catalog, Some(samples)))
}

/// A partition whose parent is in the catalog: classified (and fixed) through the parent.
fn reported_through_parent(catalog: &Catalog, table: &Table) -> bool {
    table
        .parent
        .as_ref()
        .is_some_and(|parent| catalog.table(parent).is_some())
}

/// `users.toml` for `public.users`, `billing.invoices.toml` otherwise.
fn file_name_for(table: &TableName) -> String {
    format!("{}.toml", policy_table_name(table))
}

/// A table and its unclassified columns, each with a suggested rule.
type MissingColumns = (TableName, Vec<(String, String)>);

#[derive(Clone, Copy)]
enum TodoStyle {
    /// `col = "todo"  # suggested: …` (`--fix`).
    Comment,
    /// `col = { todo = "…" }` (`policy init`).
    Inline,
}

fn todo_line(column: &str, suggestion: &str, style: TodoStyle) -> String {
    // `columns.where` for a column whose name is a table-level key.
    let key = crate::policy::validate::column_key(column);
    match style {
        TodoStyle::Comment => format!("{key} = \"todo\"  # suggested: {suggestion}\n"),
        TodoStyle::Inline => format!(
            "{key} = {{ todo = {} }}\n",
            toml_edit::Value::from(suggestion)
        ),
    }
}

fn table_header(table: &TableName) -> String {
    let name = policy_table_name(table);
    format!("[{}]\n", toml_edit::Key::new(name).display_repr())
}

fn new_table_text(table: &Table, samples: Option<&Samples>, style: TodoStyle) -> String {
    let mut text = table_header(&table.name);
    for column in &table.columns {
        let findings = samples.and_then(|samples| samples.get(&table.name, &column.name));
        text.push_str(&todo_line(
            &column.name,
            &detect::suggest(&table.name, column, findings.as_ref()),
            style,
        ));
    }
    text
}

/// Append every unclassified column (and table) as `todo`. Returns the files changed and how many
/// columns each got. Every other byte of an existing file is left as it was.
fn fix(
    config: &Config,
    parsed: &Parsed,
    catalog: &Catalog,
    samples: Option<&Samples>,
) -> Result<Vec<(PathBuf, usize)>> {
    let mut changed = Vec::new();
    let mut by_file: std::collections::BTreeMap<PathBuf, Vec<MissingColumns>> = Default::default();
    let mut new_tables: Vec<&Table> = Vec::new();
    for table in &catalog.tables {
        if parsed.broken.contains(&(table.name.clone(), None))
            || reported_through_parent(catalog, table)
        {
            continue;
        }
        let Some(rule) = parsed.policy.table(&table.name) else {
            new_tables.push(table);
            continue;
        };
        if rule.action != TableAction::Copy {
            continue;
        }
        let missing: Vec<(String, String)> = table
            .columns
            .iter()
            .filter(|column| rule.column(&column.name).is_none())
            .filter(|column| {
                !parsed
                    .broken
                    .contains(&(table.name.clone(), Some(column.name.clone())))
            })
            .map(|column| {
                let findings = samples.and_then(|samples| samples.get(&table.name, &column.name));
                (
                    column.name.clone(),
                    detect::suggest(&table.name, column, findings.as_ref()),
                )
            })
            .collect();
        if !missing.is_empty() {
            by_file
                .entry(rule.origin.file.clone())
                .or_default()
                .push((table.name.clone(), missing));
        }
    }
    for (path, tables) in by_file {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let (new_text, n_columns) = append_columns(&text, &tables)
            .with_context(|| format!("failed to add columns to `{}`", path.display()))?;
        std::fs::write(&path, new_text)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
        changed.push((path, n_columns));
    }
    let single_file = config
        .policy_path
        .is_file()
        .then(|| config.policy_path.clone());
    for table in new_tables {
        let text = new_table_text(table, samples, TodoStyle::Comment);
        let path = match &single_file {
            Some(path) => {
                let mut existing = std::fs::read_to_string(path)
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
                if !existing.is_empty() && !existing.ends_with('\n') {
                    existing.push('\n');
                }
                existing.push('\n');
                existing.push_str(&text);
                std::fs::write(path, existing)
                    .with_context(|| format!("failed to write `{}`", path.display()))?;
                path.clone()
            }
            None => {
                let path = config.policy_path.join(file_name_for(&table.name));
                if path.exists() {
                    bail!(
                        "`{}` exists but does not classify `{}`: add the table to it by hand",
                        path.display(),
                        table.name
                    );
                }
                std::fs::write(&path, text)
                    .with_context(|| format!("failed to write `{}`", path.display()))?;
                path
            }
        };
        changed.push((path, table.columns.len()));
    }
    Ok(changed)
}

/// Add `column = "todo"  # suggested: …` lines to the given tables of a policy file's text.
/// Pure (on text): the document is edited with `toml_edit`, so everything else is unchanged.
fn append_columns(text: &str, tables: &[MissingColumns]) -> Result<(String, usize)> {
    let mut document: toml_edit::DocumentMut = text.parse().context("invalid TOML")?;
    let mut n_columns = 0;
    let mut done: BTreeSet<TableName> = BTreeSet::new();
    for (table, columns) in tables {
        let short = policy_table_name(table);
        let root = document.as_table_mut();
        let item = if root.contains_key(&short) {
            root.get_mut(&short)
        } else {
            root.get_mut(&table.schema)
                .and_then(|item| item.get_mut(&table.name))
        };
        let Some(target) = item.and_then(toml_edit::Item::as_table_like_mut) else {
            bail!("table `{short}` not found");
        };
        for (column, suggestion) in columns {
            let mut value = toml_edit::Value::from("todo");
            value
                .decor_mut()
                .set_suffix(format!("  # suggested: {suggestion}"));
            if crate::policy::validate::TABLE_KEYS.contains(&column.as_str()) {
                // A column named `where` (or `rows`, `skip`, …) goes under `columns.`, never
                // where it would be read as the table-level key.
                let sub = target.entry("columns").or_insert_with(|| {
                    let mut dotted = toml_edit::Table::new();
                    dotted.set_dotted(true);
                    toml_edit::Item::Table(dotted)
                });
                let Some(sub) = sub.as_table_like_mut() else {
                    bail!("`{short}.columns` is not a table: classify `{column}` by hand");
                };
                sub.insert(column, toml_edit::Item::Value(value));
            } else {
                target.insert(column, toml_edit::Item::Value(value));
            }
            n_columns += 1;
        }
        done.insert(table.clone());
    }
    Ok((document.to_string(), n_columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_keeps_every_other_byte() {
        let text = "# users: people who signed up\n[users]\nid = \"keep\"   # primary key\nemail = { fake = \"email\", unique = true }\n\n# sessions\n[sessions]\nskip = true\n";
        let users = TableName {
            schema: "public".into(),
            name: "users".into(),
        };
        let (new_text, n) = append_columns(
            text,
            &[(users, vec![("nickname".into(), "fake.username".into())])],
        )
        .unwrap();
        assert_eq!(n, 1);
        insta::assert_snapshot!(new_text, @r#"
        # users: people who signed up
        [users]
        id = "keep"   # primary key
        email = { fake = "email", unique = true }
        nickname = "todo"  # suggested: fake.username

        # sessions
        [sessions]
        skip = true
        "#);
        assert_eq!(
            new_text.replace("nickname = \"todo\"  # suggested: fake.username\n", ""),
            text
        );
    }

    #[test]
    fn columns_named_like_table_keys_are_written_and_read_unambiguously() {
        let text = "[users]\nwhere = \"id > 0\"\nid = \"keep\"\n";
        let users = TableName {
            schema: "public".into(),
            name: "users".into(),
        };
        let names = [
            "where", "rows", "skip", "keep", "percent", "limit", "follow", "nullify", "columns",
            "nick",
        ];
        let missing: Vec<(String, String)> = names
            .iter()
            .map(|name| (name.to_string(), "keep".to_string()))
            .collect();
        let (new_text, n) = append_columns(text, &[(users.clone(), missing)]).unwrap();
        assert_eq!(n, names.len());
        assert!(new_text.contains("columns.where = \"todo\""), "{new_text}");
        assert!(new_text.contains("\nnick = \"todo\""), "{new_text}");
        // Read back: the condition is still the condition, every column is a `todo` column.
        let parsed = crate::policy::parse(&[crate::policy::PolicyFile {
            path: "policy/users.toml".into(),
            text: new_text.clone(),
        }]);
        let rule = parsed.policy.table(&users).expect("users");
        assert_eq!(rule.filter.as_deref(), Some("id > 0"), "{new_text}");
        assert_eq!(rule.subset.percent, None);
        assert!(rule.subset.follow.is_empty() && rule.subset.nullify.is_empty());
        assert_eq!(rule.action, TableAction::Copy);
        for name in names {
            assert!(
                matches!(
                    rule.column(name).map(|column| &column.rule.strategy),
                    Some(crate::policy::model::Strategy::Todo { .. })
                ),
                "{name}: {new_text}"
            );
        }
        // A new table, written whole, reads back the same way.
        let table = Table {
            name: users.clone(),
            kind: crate::schema::TableKind::Ordinary,
            parent: None,
            columns: ["where", "email"]
                .iter()
                .map(|name| crate::schema::Column {
                    name: name.to_string(),
                    sql_type: crate::sqltype::SqlType::simple(
                        crate::sqltype::BaseType::Text,
                        "text",
                    ),
                    not_null: false,
                    generated: false,
                    identity: false,
                    unique: false,
                    binary_safe: true,
                })
                .collect(),
            primary_key: Vec::new(),
            foreign_keys: Vec::new(),
            estimated_rows: 0,
            total_bytes: 0,
            row_security: false,
        };
        let text = new_table_text(&table, None, TodoStyle::Comment);
        assert!(text.contains("columns.where = \"todo\""), "{text}");
        let parsed = crate::policy::parse(&[crate::policy::PolicyFile {
            path: "policy/users.toml".into(),
            text,
        }]);
        let rule = parsed.policy.table(&users).expect("users");
        assert_eq!(rule.filter, None);
        assert!(rule.column("where").is_some());
    }
}
