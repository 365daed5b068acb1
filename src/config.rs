//! Project configuration: find the manifest (via `cargo_metadata`), read the
//! `[package.metadata.dump]` table with spans, resolve `env:`/`generated:` settings, and read
//! the policy files it names; where this machine keeps pullprod's state.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use toml_edit::{Item, TableLike};

use crate::diag::{Code, Diagnostic, Sources, did_you_mean};
use crate::policy::model::Policy;
use crate::policy::{Parsed, PolicyFile};
use crate::transform::Salt;

/// Default and largest `retention-days`.
pub const DEFAULT_RETENTION_DAYS: u32 = 3;
pub const MAX_RETENTION_DAYS: u32 = 30;

/// Every key of the dump table.
pub const KEYS: &[&str] = &[
    "policy",
    "project",
    "source",
    "target",
    "salt",
    "dump-dir",
    "retention-days",
    "review-ref",
    "require-staging-run",
    "schema",
    "doc",
];

/// The project's `[package.metadata.dump]` (or `[workspace.metadata.dump]`) settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub manifest_path: PathBuf,
    /// The manifest's text, for diagnostics pointing into it.
    pub manifest_text: String,
    /// The folder holding the manifest; relative paths start here.
    pub project_dir: PathBuf,
    /// A folder of `*.toml` files, or a single file.
    pub policy_path: PathBuf,
    pub project: String,
    /// `source.<name>`: production, staging, or any other name.
    pub sources: BTreeMap<String, Setting>,
    /// Sources written `{ url = "…", production = false }`. Every other source is production;
    /// for pulls only the reviewed manifest's marking counts (`gate`).
    pub non_production: BTreeSet<String>,
    /// Which table holds the settings: `package.metadata.dump` or `workspace.metadata.dump`
    /// (for a manifest without one: the table it would be, by whether it has a `[package]`).
    pub table_name: &'static str,
    pub target: Option<Setting>,
    pub salt: Option<Setting>,
    pub dump_dir: PathBuf,
    pub retention_days: u32,
    pub review_ref: String,
    pub require_staging_run: bool,
    pub schema: SchemaSource,
    /// Where `policy doc` writes the data-handling section.
    pub doc_file: PathBuf,
    /// Byte spans in the manifest by key path (`salt`, `source.staging`, …); `""` is the table.
    pub spans: BTreeMap<String, Range<usize>>,
}

/// A configured value: read from the environment, generated locally, or written literally.
#[derive(Clone, PartialEq, Eq)]
pub enum Setting {
    /// `"env:VAR"`: read when needed.
    Env(String),
    /// `"generated:<name>"` (salt only): a random salt kept in the user's config folder.
    Generated(String),
    Literal(String),
}

/// How the target's schema is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaSource {
    /// `pg_dump --schema-only` of the source.
    PgDump,
    /// The project's migrations command, run with `DATABASE_URL` set to the new database.
    Command(String),
}

/// Find the manifest (or use `manifest_path`), read its dump table and check it statically.
/// Errors only when the manifest cannot be found or read; problems in the table are diagnostics.
pub fn load(manifest_path: Option<&Path>) -> Result<(Config, Vec<Diagnostic>)> {
    let mut command = cargo_metadata::MetadataCommand::new();
    command.no_deps();
    if let Some(path) = manifest_path {
        command.manifest_path(path);
    }
    let metadata = command
        .exec()
        .map_err(|err| anyhow::anyhow!("{}", err.to_string().trim()))
        .context("failed to find the project's Cargo.toml with `cargo metadata`")?;
    let workspace_manifest = metadata
        .workspace_root
        .join("Cargo.toml")
        .into_std_path_buf();
    let first = match manifest_path {
        Some(path) => Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())),
        None => metadata
            .root_package()
            .map(|package| package.manifest_path.clone().into_std_path_buf()),
    };
    let mut candidates: Vec<PathBuf> = first.into_iter().collect();
    if !candidates.contains(&workspace_manifest) {
        candidates.push(workspace_manifest);
    }
    let mut chosen = None;
    for path in &candidates {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let has_table = toml_edit::Document::parse(text.as_str())
            .map(|doc| dump_table(doc.as_table()).is_some())
            .unwrap_or(false);
        if has_table || chosen.is_none() {
            let package = metadata
                .packages
                .iter()
                .find(|package| package.manifest_path.as_std_path() == path)
                .map(|package| package.name.to_string());
            chosen = Some((path.clone(), text, package));
            if has_table {
                break;
            }
        }
    }
    let (path, text, package) = chosen.expect("at least the workspace manifest is a candidate");
    let (config, mut diagnostics) = parse(&path, &text, package.as_deref())?;
    diagnostics.extend(check_dump_dir(&config));
    Ok((config, diagnostics))
}

/// Parse a manifest's text into a `Config` (pure). Unknown keys and bad values are diagnostics;
/// the defaults stand in for them. Errors only on TOML syntax errors.
pub fn parse(
    manifest_path: &Path,
    text: &str,
    package_name: Option<&str>,
) -> Result<(Config, Vec<Diagnostic>)> {
    let document = toml_edit::Document::parse(text)
        .map_err(|err| {
            anyhow::anyhow!(
                "invalid TOML at byte {}: {}",
                err.span().map(|span| span.start).unwrap_or(0),
                err.message().lines().next().unwrap_or("").trim()
            )
        })
        .with_context(|| format!("failed to parse `{}`", manifest_path.display()))?;
    let project_dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let default_project = package_name.map(str::to_string).unwrap_or_else(|| {
        project_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".into())
    });
    let mut config = Config {
        manifest_path: manifest_path.to_path_buf(),
        manifest_text: text.to_string(),
        project_dir: project_dir.clone(),
        policy_path: project_dir.join("policy"),
        project: default_project,
        sources: BTreeMap::new(),
        non_production: BTreeSet::new(),
        table_name: if document.get("package").is_none() && document.get("workspace").is_some() {
            "workspace.metadata.dump"
        } else {
            "package.metadata.dump"
        },
        target: None,
        salt: None,
        dump_dir: std::env::temp_dir().join("dumps"),
        retention_days: DEFAULT_RETENTION_DAYS,
        review_ref: "origin/main".to_string(),
        require_staging_run: false,
        schema: SchemaSource::PgDump,
        doc_file: project_dir.join("README.md"),
        spans: BTreeMap::new(),
    };
    let mut diagnostics = Vec::new();
    let Some((prefix, table, table_span)) = dump_table(document.as_table()) else {
        return Ok((config, diagnostics));
    };
    config.spans.insert(String::new(), table_span);
    config.table_name = prefix;
    let mut reader = Reader {
        file: manifest_path,
        prefix,
        diagnostics: &mut diagnostics,
    };
    for (key_text, item) in table.iter() {
        let (key, _) = table.get_key_value(key_text).expect("key from iter");
        let key_span = key.span().or_else(|| item.span()).unwrap_or(0..0);
        let span = item.span().unwrap_or_else(|| key_span.clone());
        config.spans.insert(key_text.to_string(), key_span.clone());
        match key_text {
            "policy" => {
                if let Some(text) = reader.string(key_text, item, &span) {
                    config.policy_path = project_dir.join(text);
                }
            }
            "project" => {
                if let Some(text) = reader.string(key_text, item, &span) {
                    if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                        reader.error(
                            Code::InvalidValue,
                            span,
                            "`project` must be letters, digits, `_` or `-`".to_string(),
                            None,
                        );
                    } else {
                        config.project = text;
                    }
                }
            }
            "source" => {
                let Some(sources) = item.as_table_like() else {
                    reader.error(
                        Code::InvalidValue,
                        span,
                        format!("`{prefix}.source` must be a table of named connection settings"),
                        Some("write `source.production = \"env:PROD_DATABASE_URL\"`".to_string()),
                    );
                    continue;
                };
                for (name, value) in sources.iter() {
                    let (source_key, _) = sources.get_key_value(name).expect("key from iter");
                    let source_span = source_key.span().or_else(|| value.span()).unwrap_or(0..0);
                    let value_span = value.span().unwrap_or_else(|| source_span.clone());
                    let path = format!("source.{name}");
                    config.spans.insert(path.clone(), source_span);
                    let Some((setting, production)) = reader.source(&path, value, &value_span)
                    else {
                        continue;
                    };
                    config.sources.insert(name.to_string(), setting);
                    if !production {
                        config.non_production.insert(name.to_string());
                    }
                }
            }
            "target" => config.target = reader.connection("target", item, &span),
            "salt" => config.salt = reader.salt(item, &span),
            "dump-dir" => {
                if let Some(text) = reader.string(key_text, item, &span) {
                    config.dump_dir = project_dir.join(expand_home(&text));
                }
            }
            "retention-days" => match item.as_integer() {
                Some(days) if (1..=i64::from(MAX_RETENTION_DAYS)).contains(&days) => config.retention_days = days as u32,
                Some(days) if days > i64::from(MAX_RETENTION_DAYS) => {
                    config.retention_days = MAX_RETENTION_DAYS;
                    reader.error(
                        Code::RetentionTooLong,
                        span,
                        format!("`retention-days` is {days}, more than the {MAX_RETENTION_DAYS} days allowed"),
                        Some(format!("dump files must be deleted within {MAX_RETENTION_DAYS} days; use a smaller number")),
                    );
                }
                _ => reader.error(
                    Code::InvalidValue,
                    span,
                    format!("`retention-days` must be a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
                    None,
                ),
            },
            "review-ref" => {
                if let Some(text) = reader.string(key_text, item, &span) {
                    config.review_ref = text;
                }
            }
            "require-staging-run" => match item.as_bool() {
                Some(flag) => config.require_staging_run = flag,
                None => reader.error(
                    Code::InvalidValue,
                    span,
                    "`require-staging-run` must be `true` or `false`".to_string(),
                    None,
                ),
            },
            "schema" => {
                if let Some(schema) = reader.schema(item, &span) {
                    config.schema = schema;
                }
            }
            "doc" => {
                if let Some(text) = reader.string(key_text, item, &span) {
                    config.doc_file = project_dir.join(text);
                }
            }
            other => {
                let help = match did_you_mean(other, KEYS.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "known keys: {}",
                        KEYS.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", ")
                    ),
                };
                reader.error(Code::UnknownKey, key_span, format!("unknown key `{other}` in `[{prefix}]`"), Some(help));
            }
        }
    }
    Ok((config, diagnostics))
}

impl Setting {
    /// The value: the environment variable's, the generated salt's, or the literal.
    /// Errors name the variable or file, never the value.
    pub fn resolve(&self) -> Result<String> {
        match self {
            Setting::Env(var) => match std::env::var(var) {
                Ok(value) if !value.is_empty() => Ok(value),
                Ok(_) => bail!("environment variable `{var}` is empty"),
                Err(std::env::VarError::NotPresent) => {
                    bail!("environment variable `{var}` is not set")
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("environment variable `{var}` is not valid UTF-8")
                }
            },
            Setting::Generated(name) => generated_salt(name),
            Setting::Literal(value) => Ok(value.clone()),
        }
    }

    /// How the setting is written, safe to print: `env:VAR`, `generated:name`, or `<literal>`.
    pub fn describe(&self) -> String {
        match self {
            Setting::Env(var) => format!("env:{var}"),
            Setting::Generated(name) => format!("generated:{name}"),
            Setting::Literal(_) => "<literal>".to_string(),
        }
    }
}

impl std::fmt::Debug for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Setting({})", self.describe())
    }
}

impl Config {
    /// The span of a key in the manifest (`salt`, `source.staging`), or the dump table's.
    pub fn span(&self, key: &str) -> Range<usize> {
        self.spans
            .get(key)
            .or_else(|| self.spans.get(""))
            .cloned()
            .unwrap_or(0..0)
    }

    /// The named source, resolved: `source.<name>`.
    pub fn source(&self, name: &str) -> Result<String> {
        let setting = self.sources.get(name).with_context(|| {
            format!(
                "no `source.{name}` in `[{}]` of `{}`",
                self.table_name,
                self.manifest_path.display()
            )
        })?;
        setting
            .resolve()
            .with_context(|| format!("failed to read `source.{name}` ({})", setting.describe()))
    }
}

/// The project's salt: `salt` resolved (an environment variable or a generated file).
pub fn resolve_salt(config: &Config) -> Result<Salt> {
    let setting = config.salt.as_ref().with_context(|| {
        format!(
            "no `salt` in `[{}]` of `{}`: set `salt = \"env:PULLPROD_SALT\"` (or `\"generated:{}\"` for a demo)",
            config.table_name,
            config.manifest_path.display(),
            config.project
        )
    })?;
    let value = setting
        .resolve()
        .with_context(|| format!("failed to read `salt` ({})", setting.describe()))?;
    if value.len() < 16 {
        bail!(
            "the salt from `{}` is too short: use at least 16 characters",
            setting.describe()
        );
    }
    Ok(Salt::new(value.into_bytes()))
}

/// `dump-dir` must not be inside a Git work tree (the dump would be one `git add` away).
pub fn check_dump_dir(config: &Config) -> Vec<Diagnostic> {
    match git_work_tree_of(&config.dump_dir) {
        Some(repo) => vec![
            Diagnostic::error(
                Code::DumpDirInRepo,
                &config.manifest_path,
                config.span("dump-dir"),
                format!(
                    "`dump-dir` `{}` is inside the Git work tree `{}`",
                    config.dump_dir.display(),
                    repo.display()
                ),
            )
            .with_help(
                "dump files must live outside every repository: use a folder such as `/tmp/dumps`",
            ),
        ],
        None => Vec::new(),
    }
}

/// The Git work tree containing `path` (or the nearest existing ancestor of it), if any.
pub fn git_work_tree_of(path: &Path) -> Option<PathBuf> {
    let mut existing = path.to_path_buf();
    while !existing.exists() {
        existing = existing.parent()?.to_path_buf();
    }
    let canonical = existing.canonicalize().ok()?;
    canonical
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `$XDG_STATE_HOME/pullprod` (default `~/.local/state/pullprod`): this machine's audit log,
/// staging-run record and dump index, outside every repository.
pub fn state_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".local/state")
        }
    };
    Ok(base.join("pullprod"))
}

/// The policy files: every `*.toml` of the folder (sorted), or the single file.
pub fn policy_files(config: &Config) -> Result<Vec<PolicyFile>> {
    let path = &config.policy_path;
    let mut paths = Vec::new();
    if path.is_dir() {
        let entries = std::fs::read_dir(path)
            .with_context(|| format!("failed to list `{}`", path.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("failed to list `{}`", path.display()))?;
            let file = entry.path();
            if file.extension().is_some_and(|ext| ext == "toml") && file.is_file() {
                paths.push(file);
            }
        }
        paths.sort();
    } else if path.is_file() {
        paths.push(path.clone());
    } else {
        bail!(
            "the policy `{}` does not exist: create it, or write a first one with `cargo xtask policy init --database-url …`",
            path.display()
        );
    }
    paths
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read `{}`", file.display()))?;
            Ok(PolicyFile { path: file, text })
        })
        .collect()
}

/// The policy files read and parsed, with their texts for rendering diagnostics.
pub fn read_policy(config: &Config) -> Result<(Parsed, Sources)> {
    let files = policy_files(config)?;
    let parsed = crate::policy::parse(&files);
    let sources = files
        .into_iter()
        .map(|file| (file.path, file.text))
        .collect();
    Ok((parsed, sources))
}

/// The policy files parsed and validated, statically. `None` when there is any error.
pub fn load_policy(config: &Config) -> (Option<Policy>, Vec<Diagnostic>) {
    match read_policy(config) {
        Ok((parsed, _)) => {
            let ok = !parsed.diagnostics.iter().any(Diagnostic::is_error);
            (ok.then_some(parsed.policy), parsed.diagnostics)
        }
        Err(err) => (
            None,
            vec![Diagnostic::error(
                Code::ParseError,
                &config.policy_path,
                0..0,
                format!("{err:#}"),
            )],
        ),
    }
}

/// Where `generated:<name>` keeps its salt: `$XDG_CONFIG_HOME/pullprod/<name>.salt`
/// or `~/.config/pullprod/<name>.salt`.
pub fn generated_salt_path(name: &str) -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|value| !value.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home =
                std::env::var_os("HOME").context("neither `XDG_CONFIG_HOME` nor `HOME` is set")?;
            PathBuf::from(home).join(".config")
        }
    };
    Ok(base.join("pullprod").join(format!("{name}.salt")))
}

fn generated_salt(name: &str) -> Result<String> {
    generated_salt_at(&generated_salt_path(name)?)
}

/// Read the salt kept at `path`, creating it (32 random bytes, hex; mode 0600 in a 0700 folder)
/// on first use. Refuses a file other users can read.
fn generated_salt_at(path: &Path) -> Result<String> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    let path = path.to_path_buf();
    let dir = path.parent().expect("salt path has a folder");
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|err| {
                anyhow::anyhow!(
                    "failed to generate a salt: the system's random source failed: {err}"
                )
            })?;
            let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            file.write_all(hex.as_bytes())
                .with_context(|| format!("failed to write `{}`", path.display()))?;
            Ok(hex)
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                bail!(
                    "`{}` is readable by other users: run `chmod 600` on it",
                    path.display()
                );
            }
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            Ok(text.trim().to_string())
        }
        Err(err) => Err(err).with_context(|| format!("failed to create `{}`", path.display())),
    }
}

/// `[package.metadata.dump]`, else `[workspace.metadata.dump]`, with its name and span.
pub(crate) fn dump_table(
    root: &toml_edit::Table,
) -> Option<(&'static str, &dyn TableLike, Range<usize>)> {
    for (section, prefix) in [
        ("package", "package.metadata.dump"),
        ("workspace", "workspace.metadata.dump"),
    ] {
        let found = root
            .get(section)
            .and_then(|item| item.get("metadata"))
            .and_then(|item| item.as_table_like())
            .and_then(|metadata| metadata.get_key_value("dump"));
        if let Some((key, item)) = found
            && let Some(table) = item.as_table_like()
        {
            let span = key.span().or_else(|| item.span()).unwrap_or(0..0);
            return Some((prefix, table, span));
        }
    }
    None
}

fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(text),
    }
}

/// True when a connection string carries a password: `postgres://user:pw@host`, a `:pw` where the
/// port goes (`postgres://user:pw/db`), or any `*password*` option (`password=`, `sslpassword=`).
pub fn has_literal_password(conninfo: &str) -> bool {
    let lower = conninfo.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("postgres://")
        .or_else(|| lower.strip_prefix("postgresql://"))
    {
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        match authority.rsplit_once('@') {
            Some((userinfo, _)) => {
                if let Some((_, password)) = userinfo.split_once(':')
                    && !password.is_empty()
                {
                    return true;
                }
            }
            None => {
                let port = authority.rsplit_once(':').map_or("", |(_, port)| port);
                if !authority.starts_with('[') && !port.bytes().all(|b| b.is_ascii_digit()) {
                    return true;
                }
            }
        }
    }
    // Any key containing `password` followed by `=`, whatever the spacing or the form.
    lower
        .match_indices("password")
        .any(|(at, word)| lower[at + word.len()..].trim_start().starts_with('='))
}

struct Reader<'a> {
    file: &'a Path,
    prefix: &'static str,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&mut self, code: Code, span: Range<usize>, message: String, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(code, self.file, span, message);
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
    }

    fn string(&mut self, key: &str, item: &Item, span: &Range<usize>) -> Option<String> {
        match item.as_str() {
            Some(text) => Some(text.to_string()),
            None => {
                self.error(
                    Code::InvalidValue,
                    span.clone(),
                    format!("`{key}` must be a string"),
                    None,
                );
                None
            }
        }
    }

    fn setting(&mut self, key: &str, item: &Item, span: &Range<usize>) -> Option<Setting> {
        let text = self.string(key, item, span)?;
        if let Some(var) = text.strip_prefix("env:") {
            if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.error(
                    Code::InvalidValue,
                    span.clone(),
                    format!("`{key}` names an invalid environment variable"),
                    Some("write `\"env:NAME\"` with letters, digits and `_`".to_string()),
                );
                return None;
            }
            return Some(Setting::Env(var.to_string()));
        }
        if let Some(name) = text.strip_prefix("generated:") {
            return Some(Setting::Generated(name.to_string()));
        }
        Some(Setting::Literal(text))
    }

    fn connection(&mut self, key: &str, item: &Item, span: &Range<usize>) -> Option<Setting> {
        match self.setting(key, item, span)? {
            Setting::Generated(_) => {
                self.error(
                    Code::InvalidValue,
                    span.clone(),
                    format!("`{key}` cannot be `generated:`; only `salt` can"),
                    Some("use `\"env:VAR\"` for connection settings".to_string()),
                );
                None
            }
            Setting::Literal(text) if has_literal_password(&text) => {
                self.error(
                    Code::LiteralSecret,
                    span.clone(),
                    format!("`{key}` holds a literal password in `[{}]`", self.prefix),
                    Some(format!(
                        "remove it from the file (and rotate it); write `{key} = \"env:VAR\"` or use `~/.pgpass`"
                    )),
                );
                None
            }
            setting => Some(setting),
        }
    }

    /// `source.<name>`: a connection setting, or `{ url = "…", production = false }`.
    /// Returns the setting and whether the source is production (the default).
    fn source(&mut self, key: &str, item: &Item, span: &Range<usize>) -> Option<(Setting, bool)> {
        let Some(table) = item.as_table_like() else {
            return self
                .connection(key, item, span)
                .map(|setting| (setting, true));
        };
        let mut production = true;
        let mut url = None;
        for (name, value) in table.iter() {
            let value_span = value.span().unwrap_or_else(|| span.clone());
            match name {
                "url" => url = self.connection(key, value, &value_span),
                "production" => match value.as_bool() {
                    Some(flag) => production = flag,
                    None => self.error(
                        Code::InvalidValue,
                        value_span,
                        format!("`{key}.production` must be `true` or `false`"),
                        None,
                    ),
                },
                other => {
                    let help = match did_you_mean(other, ["url", "production"]) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => "a source table has `url` and `production` only".to_string(),
                    };
                    let key_span = table
                        .get_key_value(other)
                        .and_then(|(key, _)| key.span())
                        .unwrap_or(value_span);
                    self.error(
                        Code::UnknownKey,
                        key_span,
                        format!("unknown key `{other}` in `{key}`"),
                        Some(help),
                    );
                }
            }
        }
        if url.is_none() && table.get("url").is_none() {
            self.error(
                Code::InvalidValue,
                span.clone(),
                format!("`{key}` has no `url`"),
                Some(format!(
                    "write `{key} = {{ url = \"env:VAR\", production = false }}`"
                )),
            );
        }
        url.map(|setting| (setting, production))
    }

    fn salt(&mut self, item: &Item, span: &Range<usize>) -> Option<Setting> {
        match self.setting("salt", item, span)? {
            Setting::Literal(_) => {
                self.error(
                    Code::LiteralSecret,
                    span.clone(),
                    format!("`salt` is written literally in `[{}]`", self.prefix),
                    Some("anyone with the salt can link pseudonyms to people: write `salt = \"env:PULLPROD_SALT\"`".to_string()),
                );
                None
            }
            Setting::Generated(name)
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                self.error(
                    Code::InvalidValue,
                    span.clone(),
                    "`generated:` needs a name of letters, digits, `_` or `-`".to_string(),
                    None,
                );
                None
            }
            setting => Some(setting),
        }
    }

    fn schema(&mut self, item: &Item, span: &Range<usize>) -> Option<SchemaSource> {
        if let Some(text) = item.as_str() {
            if text == "pg_dump" {
                return Some(SchemaSource::PgDump);
            }
            self.error(
                Code::InvalidValue,
                span.clone(),
                format!("unknown `schema` source `{text}`"),
                Some("write `schema = \"pg_dump\"` or `schema = { command = \"…\" }`".to_string()),
            );
            return None;
        }
        let command = item
            .as_table_like()
            .filter(|table| table.len() == 1)
            .and_then(|table| table.get("command"))
            .and_then(Item::as_str);
        match command {
            Some(command) if !command.trim().is_empty() => {
                Some(SchemaSource::Command(command.to_string()))
            }
            _ => {
                self.error(
                    Code::InvalidValue,
                    span.clone(),
                    "`schema` must be `\"pg_dump\"` or `{ command = \"…\" }`".to_string(),
                    None,
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parse `input` as `/p/Cargo.toml` and snapshot the config and diagnostics as `expected`.
    fn check(input: &str, expected: &str) {
        let path = Path::new("/p/Cargo.toml");
        let mut out = String::new();
        match parse(path, input, Some("demo")) {
            Ok((config, diagnostics)) => {
                out.push_str(&format!(
                    "policy={} project={} sources={:?} target={:?} salt={:?} retention={} review={} staging_run={} schema={:?} doc={}\n",
                    config.policy_path.display(),
                    config.project,
                    config.sources,
                    config.target,
                    config.salt,
                    config.retention_days,
                    config.review_ref,
                    config.require_staging_run,
                    config.schema,
                    config.doc_file.display(),
                ));
                let mut sources = crate::diag::Sources::new();
                sources.insert(path.to_path_buf(), input.to_string());
                out.push_str(&crate::diag::render_human(
                    &diagnostics,
                    &sources,
                    Path::new("/p"),
                ));
            }
            Err(err) => out.push_str(&format!("Err: {err:#}\n")),
        }
        insta::with_settings!({ description => input, omit_expression => true }, {
            insta::assert_snapshot!(expected, out);
        });
    }

    #[test]
    fn full_table() {
        check(
            r#"
[package]
name = "demo"

[package.metadata.dump]
policy = "policy"
project = "shop"
source.production = "env:PROD_DATABASE_URL"
source.staging = "env:STAGING_DATABASE_URL"
target = "env:DATABASE_URL"
salt = "env:PULLPROD_SALT"
dump-dir = "/tmp/dumps"
retention-days = 3
review-ref = "origin/main"
require-staging-run = true
schema = { command = "sqlx migrate run" }
doc = "DATA.md"
"#,
            "config_full_table",
        );
    }

    #[test]
    fn defaults_and_workspace_table() {
        check(
            "[workspace]\nmembers = []\n[workspace.metadata.dump]\nsalt = \"generated:demo\"\n",
            "config_workspace",
        );
    }

    #[test]
    fn problems() {
        check(
            r#"
[package]
name = "demo"

[package.metadata.dump]
polcy = "policy"
source.production = "postgres://app:hunter2@db.example.com/shop"
source.staging = "host=staging user=app password=hunter2"
source.local = "postgres://app@localhost/shop"
target = "generated:x"
salt = "not-so-secret-salt"
retention-days = 90
schema = "migrations"
frobnicate = 1
"#,
            "config_problems",
        );
    }

    #[test]
    fn sources_are_production_unless_marked() {
        let text = "[package]\nname = \"demo\"\n[package.metadata.dump]\n\
            source.production = \"env:PROD\"\n\
            source.staging = { url = \"env:STAGING\", production = false }\n\
            source.qa = { url = \"env:QA\" }\n\
            source.odd = { url = \"env:ODD\", production = \"no\", prod = false }\n\
            source.nourl = { production = false }\n";
        let (config, diagnostics) = parse(Path::new("/p/Cargo.toml"), text, Some("demo")).unwrap();
        assert_eq!(
            config.sources.keys().collect::<Vec<_>>(),
            ["odd", "production", "qa", "staging"]
        );
        assert_eq!(config.sources["staging"], Setting::Env("STAGING".into()));
        // Only an explicit, valid `production = false` makes a source non-production.
        assert_eq!(
            config.non_production.iter().collect::<Vec<_>>(),
            ["staging"]
        );
        let messages: Vec<String> = diagnostics.iter().map(|d| d.message.clone()).collect();
        assert_eq!(
            messages,
            [
                "`source.odd.production` must be `true` or `false`",
                "unknown key `prod` in `source.odd`",
                "`source.nourl` has no `url`",
            ]
        );
        assert_eq!(config.table_name, "package.metadata.dump");
        let (config, _) = parse(
            Path::new("/p/Cargo.toml"),
            "[workspace]\nmembers = []\n",
            None,
        )
        .unwrap();
        assert_eq!(config.table_name, "workspace.metadata.dump");
    }

    #[test]
    fn generated_salt_is_private_and_stable() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::TempDir::new().unwrap();
        let path = home.path().join("pullprod").join("demo.salt");
        let first = generated_salt_at(&path).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(generated_salt_at(&path).unwrap(), first);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = generated_salt_at(&path).unwrap_err();
        assert!(
            format!("{err:#}").contains("readable by other users"),
            "{err:#}"
        );
    }

    #[test]
    fn dump_dir_inside_a_work_tree_is_an_error() {
        let repo = tempfile::TempDir::new().unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        let manifest = repo.path().join("Cargo.toml");
        let text =
            "[package]\nname = \"demo\"\n[package.metadata.dump]\ndump-dir = \"dumps/not-yet\"\n";
        let (config, diagnostics) = parse(&manifest, text, Some("demo")).unwrap();
        assert!(diagnostics.is_empty());
        let found = check_dump_dir(&config);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::DumpDirInRepo);
        assert_eq!(found[0].span, config.span("dump-dir"));
        let outside = tempfile::TempDir::new().unwrap();
        let text = format!(
            "[package]\nname = \"demo\"\n[package.metadata.dump]\ndump-dir = \"{}\"\n",
            outside.path().display()
        );
        let (config, _) = parse(&manifest, &text, Some("demo")).unwrap();
        assert!(check_dump_dir(&config).is_empty());
    }

    #[test]
    fn literal_passwords() {
        assert!(has_literal_password("postgres://u:pw@h/db"));
        assert!(has_literal_password(
            "postgresql://u:pw@h:5432/db?sslmode=require"
        ));
        assert!(has_literal_password("postgres://h/db?password=x"));
        assert!(has_literal_password("host=h password=x"));
        assert!(!has_literal_password("postgres://u@h/db"));
        assert!(!has_literal_password("host=h user=u dbname=d"));
        assert!(has_literal_password("host=h sslpassword=x"));
        assert!(has_literal_password("postgres://h/db?sslpassword=x"));
        assert!(has_literal_password("host=h SSLPassword = x"));
        assert!(has_literal_password("postgres://admin:secret/db"));
        assert!(!has_literal_password("postgres://h:5432/db"));
        assert!(!has_literal_password("postgres://[::1]:5432/db"));
    }

    #[test]
    fn env_settings_name_the_variable_not_the_value() {
        let err = Setting::Env("PULLPROD_TEST_SURELY_UNSET_VAR".into())
            .resolve()
            .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "environment variable `PULLPROD_TEST_SURELY_UNSET_VAR` is not set"
        );
        assert_eq!(
            format!("{:?}", Setting::Literal("secret".into())),
            "Setting(<literal>)"
        );
    }
}
