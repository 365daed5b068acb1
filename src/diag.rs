//! Everything pullprod prints: diagnostics (file + byte span; line:col only here) in human,
//! GitHub Actions and JSON renderings, and status lines.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// Diagnostic codes. Kebab-case, never renamed once shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    ParseError,
    UnknownKey,
    UnknownStrategy,
    InvalidValue,
    UnclassifiedTable,
    UnclassifiedColumn,
    StaleRule,
    SensitiveKept,
    PersonalKept,
    LiteralSecret,
    TypeMismatch,
    FkMismatch,
    Todo,
    DumpDirInRepo,
    RetentionTooLong,
    DuplicateRule,
    DocOutOfDate,
    SubsetUnknownTable,
    SubsetNoForeignKey,
    SubsetBadCondition,
    SubsetFollowCycle,
    SubsetBadNullify,
    UnsafeCondition,
    IneffectiveRule,
    DoesNotFit,
}

impl Code {
    pub const ALL: &[(Code, &str)] = &[
        (Code::ParseError, "parse-error"),
        (Code::UnknownKey, "unknown-key"),
        (Code::UnknownStrategy, "unknown-strategy"),
        (Code::InvalidValue, "invalid-value"),
        (Code::UnclassifiedTable, "unclassified-table"),
        (Code::UnclassifiedColumn, "unclassified-column"),
        (Code::StaleRule, "stale-rule"),
        (Code::SensitiveKept, "sensitive-kept"),
        (Code::PersonalKept, "personal-kept"),
        (Code::LiteralSecret, "literal-secret"),
        (Code::TypeMismatch, "type-mismatch"),
        (Code::FkMismatch, "fk-mismatch"),
        (Code::Todo, "todo"),
        (Code::DumpDirInRepo, "dump-dir-in-repo"),
        (Code::RetentionTooLong, "retention-too-long"),
        (Code::DuplicateRule, "duplicate-rule"),
        (Code::DocOutOfDate, "doc-out-of-date"),
        (Code::SubsetUnknownTable, "subset-unknown-table"),
        (Code::SubsetNoForeignKey, "subset-no-foreign-key"),
        (Code::SubsetBadCondition, "subset-bad-condition"),
        (Code::SubsetFollowCycle, "subset-follow-cycle"),
        (Code::SubsetBadNullify, "subset-bad-nullify"),
        (Code::UnsafeCondition, "unsafe-condition"),
        (Code::IneffectiveRule, "ineffective-rule"),
        (Code::DoesNotFit, "does-not-fit"),
    ];

    pub fn as_str(self) -> &'static str {
        Code::ALL
            .iter()
            .find(|(code, _)| *code == self)
            .map(|(_, name)| *name)
            .expect("every code is listed in ALL")
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding: a file, a byte range in it, a message naming the key, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// The file the span points into (a folder when the finding has no position).
    pub file: PathBuf,
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(
        code: Code,
        file: impl Into<PathBuf>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            file: file.into(),
            span,
            message: message.into(),
            help: None,
        }
    }

    /// A finding that does not fail check-policy (exit 0) but is worth a look.
    pub fn warning(
        code: Code,
        file: impl Into<PathBuf>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The text of every file a diagnostic may point into, for span -> line:col.
pub type Sources = BTreeMap<PathBuf, String>;

/// Read the text of every file the diagnostics point into (for rendering them).
pub fn sources_for(diagnostics: &[Diagnostic]) -> Sources {
    let mut sources = Sources::new();
    for diagnostic in diagnostics {
        if !sources.contains_key(&diagnostic.file)
            && let Ok(text) = std::fs::read_to_string(&diagnostic.file)
        {
            sources.insert(diagnostic.file.clone(), text);
        }
    }
    sources
}

/// Output formats of the same diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Github,
    Json,
}

/// Sort by file, then position, then code; drop exact duplicates.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.start, a.span.end, a.code, &a.message).cmp(&(
            &b.file,
            b.span.start,
            b.span.end,
            b.code,
            &b.message,
        ))
    });
    diagnostics.dedup();
}

/// 1-based line and column (in characters) of byte `offset` in `text`. Unknown text: 1:1.
pub fn line_col(text: Option<&str>, offset: usize) -> (usize, usize) {
    let Some(text) = text else { return (1, 1) };
    let offset = offset.min(text.len());
    let mut offset = offset;
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Render in `format`; paths relative to `base` when inside it.
pub fn render(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    base: &Path,
    format: Format,
) -> String {
    match format {
        Format::Human => render_human(diagnostics, sources, base),
        Format::Github => render_github(diagnostics, sources, base),
        Format::Json => render_json(diagnostics, sources, base),
    }
}

/// `path:line:col: error[code]: message` and `  help: …`, one finding per block.
pub fn render_human(diagnostics: &[Diagnostic], sources: &Sources, base: &Path) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let (line, col) = position(diagnostic, sources);
        out.push_str(&format!(
            "{}:{line}:{col}: {}[{}]: {}\n",
            display_path(&diagnostic.file, base),
            severity_name(diagnostic.severity),
            diagnostic.code,
            diagnostic.message
        ));
        if let Some(help) = &diagnostic.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::…`.
pub fn render_github(diagnostics: &[Diagnostic], sources: &Sources, base: &Path) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let (line, col) = position(diagnostic, sources);
        let mut message = diagnostic.message.clone();
        if let Some(help) = &diagnostic.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{} file={},line={line},col={col},title={}::{}\n",
            severity_name(diagnostic.severity),
            escape_property(&display_path(&diagnostic.file, base)),
            escape_property(diagnostic.code.as_str()),
            escape_data(&message)
        ));
    }
    out
}

/// A JSON array of `{severity, code, file, line, column, span, message, help}`.
pub fn render_json(diagnostics: &[Diagnostic], sources: &Sources, base: &Path) -> String {
    let items: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let (line, col) = position(diagnostic, sources);
            serde_json::json!({
                "severity": severity_name(diagnostic.severity),
                "code": diagnostic.code.as_str(),
                "file": display_path(&diagnostic.file, base),
                "line": line,
                "column": col,
                "span": [diagnostic.span.start, diagnostic.span.end],
                "message": diagnostic.message,
                "help": diagnostic.help,
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&items).expect("diagnostics serialise");
    out.push('\n');
    out
}

/// A status line on stderr (progress, warnings about the run). Never pass row values or secrets.
pub fn status(message: &str) {
    eprintln!("{message}");
}

/// Print to stdout (JSON) or stderr (human, GitHub).
pub fn print(diagnostics: &[Diagnostic], sources: &Sources, base: &Path, format: Format) {
    let text = render(diagnostics, sources, base, format);
    match format {
        Format::Json => print!("{text}"),
        Format::Human | Format::Github => eprint!("{text}"),
    }
}

/// The closest candidate within a small edit distance, for "did you mean".
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance with adjacent transpositions (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

fn position(diagnostic: &Diagnostic, sources: &Sources) -> (usize, usize) {
    line_col(
        sources.get(&diagnostic.file).map(String::as_str),
        diagnostic.span.start,
    )
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn display_path(file: &Path, base: &Path) -> String {
    let relative = file.strip_prefix(base).unwrap_or(file);
    if relative.as_os_str().is_empty() {
        ".".to_string()
    } else {
        relative.display().to_string()
    }
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|(_, name)| *name).collect();
        for name in &names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
        }
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate diagnostic code");
        let mut codes: Vec<Code> = Code::ALL.iter().map(|(code, _)| *code).collect();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(Some(text), 0), (1, 1));
        assert_eq!(line_col(Some(text), 6), (2, 1));
        assert_eq!(line_col(Some(text), 11), (2, 5));
        assert_eq!(line_col(None, 40), (1, 1));
    }

    #[test]
    fn did_you_mean_finds_close_names() {
        assert_eq!(
            did_you_mean("fake.emial", ["fake.email", "fake.name"]),
            Some("fake.email")
        );
        assert_eq!(did_you_mean("zzz", ["fake.email"]), None);
    }

    fn sample() -> (Vec<Diagnostic>, Sources) {
        let file = PathBuf::from("/p/policy/users.toml");
        let mut sources = Sources::new();
        sources.insert(
            file.clone(),
            "[users]\nemail = \"fake.emial\"\n".to_string(),
        );
        let diagnostics = vec![
            Diagnostic::error(
                Code::UnknownStrategy,
                &file,
                16..28,
                "unknown strategy `fake.emial` for `users.email`",
            )
            .with_help("did you mean `fake.email`?"),
        ];
        (diagnostics, sources)
    }

    #[test]
    fn renderings() {
        let (diagnostics, sources) = sample();
        let base = Path::new("/p");
        insta::assert_snapshot!(render_human(&diagnostics, &sources, base), @r"
        policy/users.toml:2:9: error[unknown-strategy]: unknown strategy `fake.emial` for `users.email`
          help: did you mean `fake.email`?
        ");
        insta::assert_snapshot!(render_github(&diagnostics, &sources, base), @"::error file=policy/users.toml,line=2,col=9,title=unknown-strategy::unknown strategy `fake.emial` for `users.email`%0Ahelp: did you mean `fake.email`?");
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&diagnostics, &sources, base)).unwrap();
        assert_eq!(json[0]["line"], 2);
        assert_eq!(json[0]["code"], "unknown-strategy");
    }
}
