//! Policy TOML (parsed with spans by `toml_edit`) -> `model::Policy` plus every diagnostic.
//! Pure: takes file texts, never reads them. Keeps going after a problem.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Item, Key, TableLike, Value};

use super::model::{
    ColumnRule, FakeKind, FakeSpec, Generalise, JsonPath, JsonRule, JsonStep, Locale, Origin,
    Policy, Rule, Strategy, Subset, TableAction, TableName, TableRule, XmlPath, XmlRule,
};
use crate::diag::{Code, Diagnostic, did_you_mean};

/// A policy file's path and text.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub path: PathBuf,
    pub text: String,
}

/// The outcome of parsing: the rules that are valid, every diagnostic, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub policy: Policy,
    pub diagnostics: Vec<Diagnostic>,
    /// Tables (column `None`) and columns whose rule was written but invalid: coverage
    /// must not report them as unclassified too.
    pub broken: BTreeSet<(TableName, Option<String>)>,
    /// A file was not valid TOML: the input is unusable (exit 2).
    pub syntax_error: bool,
}

/// Keys a table entry may hold that are not columns.
/// `percent` and `limit` are subset keys only with a number as value: with a rule as value
/// they are columns of that name.
pub const TABLE_KEYS: &[&str] = &[
    "where", "rows", "skip", "keep", "percent", "limit", "follow", "nullify", "columns",
];

/// How a column is written in its table: `name = …`, or `columns.name = …` when the name is
/// also a table-level key (`columns.where = "keep"` classifies a column named `where`).
pub fn column_key(column: &str) -> String {
    let key = toml_edit::Key::new(column).display_repr().into_owned();
    if TABLE_KEYS.contains(&column) {
        format!("columns.{key}")
    } else {
        key
    }
}
/// Strategy keys of the long (inline table) form.
pub const STRATEGY_KEYS: &[&str] = &[
    "keep",
    "null",
    "redact",
    "const",
    "hash",
    "fake",
    "generalise",
    "shift",
    "mask",
    "json",
    "xml",
    "todo",
];
/// Modifier keys of the long form.
pub const MODIFIER_KEYS: &[&str] = &["unique", "reason", "not-sensitive", "locale", "min", "max"];
const SHORT_FORMS: &[&str] = &[
    "keep",
    "null",
    "redact",
    "hash",
    "todo",
    "generalise.month",
    "generalise.year",
];
/// Largest `shift.days`: ten years.
pub const MAX_SHIFT_DAYS: i64 = 3650;

/// Parse and validate every file (in the given order) into one policy.
pub fn parse(files: &[PolicyFile]) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen = HashMap::new();
    for file in files {
        parse_file(file, &mut parsed, &mut seen);
    }
    parsed.policy.sort();
    crate::diag::sort(&mut parsed.diagnostics);
    parsed
}

/// `users` -> `public.users`, `billing.invoices` -> `billing.invoices`.
pub fn table_name(text: &str) -> TableName {
    match text.split_once('.') {
        Some((schema, name)) => TableName {
            schema: schema.to_string(),
            name: name.to_string(),
        },
        None => TableName {
            schema: "public".to_string(),
            name: text.to_string(),
        },
    }
}

/// The short name written in policy files: `users` for `public.users`, else `schema.table`.
pub fn policy_table_name(table: &TableName) -> String {
    if table.schema == "public" {
        table.name.clone()
    } else {
        table.to_string()
    }
}

/// Every valid short form, for "did you mean" and help texts.
pub fn short_forms() -> Vec<String> {
    let mut forms: Vec<String> = SHORT_FORMS.iter().map(|s| s.to_string()).collect();
    forms.extend(FakeKind::ALL.iter().map(|(_, name)| format!("fake.{name}")));
    forms
}

struct Ctx<'a> {
    file: &'a Path,
    parsed: &'a mut Parsed,
    /// Every table classified so far, in any file, and the file that classified it.
    seen: &'a mut HashMap<TableName, PathBuf>,
}

impl Ctx<'_> {
    fn error(&mut self, code: Code, span: Range<usize>, message: String, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(code, self.file, span, message);
        diagnostic.help = help;
        self.parsed.diagnostics.push(diagnostic);
    }
}

fn parse_file(file: &PolicyFile, parsed: &mut Parsed, seen: &mut HashMap<TableName, PathBuf>) {
    let document = match toml_edit::Document::parse(file.text.as_str()) {
        Ok(document) => document,
        Err(err) => {
            let message = err
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .trim()
                .to_string();
            let span = err.span().unwrap_or(0..0);
            parsed.diagnostics.push(Diagnostic::error(
                Code::ParseError,
                &file.path,
                span,
                format!("invalid TOML: {}", message.trim_end_matches('.')),
            ));
            parsed.syntax_error = true;
            return;
        }
    };
    let mut ctx = Ctx {
        file: &file.path,
        parsed,
        seen,
    };
    let root = document.as_table();
    for (key_text, item) in root.iter() {
        let (key, _) = root.get_key_value(key_text).expect("key from iter");
        let key_span = span_of_key(key, item);
        match item {
            Item::Table(table) if table.is_implicit() && !key_text.contains('.') => {
                // `[billing.invoices]`: an implicit `billing` table holding schema tables.
                for (inner_text, inner_item) in table.iter() {
                    let (inner_key, _) = table.get_key_value(inner_text).expect("key from iter");
                    let name = TableName {
                        schema: key_text.to_string(),
                        name: inner_text.to_string(),
                    };
                    let span = span_of_key(inner_key, inner_item);
                    parse_table(&mut ctx, name, span, inner_item);
                }
            }
            _ => parse_table(&mut ctx, table_name(key_text), key_span, item),
        }
    }
}

fn span_of_key(key: &Key, item: &Item) -> Range<usize> {
    key.span().or_else(|| item.span()).unwrap_or(0..0)
}

fn value_span(item: &Item, fallback: &Range<usize>) -> Range<usize> {
    item.span().unwrap_or_else(|| fallback.clone())
}

fn parse_table(ctx: &mut Ctx, name: TableName, span: Range<usize>, item: &Item) {
    let Some(table) = item.as_table_like() else {
        ctx.error(
            Code::InvalidValue,
            span,
            format!(
                "`{}` must be a table of column rules",
                policy_table_name(&name)
            ),
            Some(format!(
                "write `[{}]` followed by one `column = \"rule\"` line per column",
                policy_table_name(&name)
            )),
        );
        ctx.parsed.broken.insert((name, None));
        return;
    };
    if let Some(existing) = ctx.seen.get(&name) {
        let other = existing.display().to_string();
        ctx.error(
            Code::DuplicateRule,
            span,
            format!(
                "table `{}` is already classified in `{other}`",
                policy_table_name(&name)
            ),
            Some("keep one entry per table".to_string()),
        );
        return;
    }
    let label = policy_table_name(&name);
    let mut rule = TableRule {
        table: name.clone(),
        origin: Origin {
            file: ctx.file.to_path_buf(),
            span: span.clone(),
        },
        action: TableAction::Copy,
        filter: None,
        seed_rows: None,
        subset: Subset::default(),
        columns: Vec::new(),
    };
    let mut table_ok = true;
    let mut skip = false;
    let mut keep_all: Option<String> = None;
    for (key_text, value) in table.iter() {
        let (key, _) = table.get_key_value(key_text).expect("key from iter");
        let key_span = span_of_key(key, value);
        let vspan = value_span(value, &key_span);
        match key_text {
            "where" => match value.as_str() {
                // A strategy where a condition goes: meant for a column named `where`.
                Some(text) if looks_like_strategy(text) => {
                    table_ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!(
                            "`{label}.where` is the table's row condition, not a column: `{text}` \
                             is a strategy"
                        ),
                        Some(format!(
                            "classify a column named `where` as `columns.where = \"{text}\"`"
                        )),
                    );
                }
                Some(filter) if !filter.trim().is_empty() => {
                    rule.filter = Some(filter.to_string());
                    rule.subset.filter_origin = Some(Origin {
                        file: ctx.file.to_path_buf(),
                        span: vspan,
                    });
                }
                _ => {
                    table_ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{label}.where` must be a non-empty SQL condition string"),
                        Some(
                            "for example `where = \"created_at > now() - interval '1 year'\"`"
                                .to_string(),
                        ),
                    );
                }
            },
            "rows" => match value.as_integer() {
                Some(n) if n > 0 => rule.seed_rows = Some(n as u64),
                _ => {
                    table_ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{label}.rows` must be a positive integer"),
                        Some("a column named `rows` is written `columns.rows = …`".to_string()),
                    );
                }
            },
            "skip" => match value.as_bool() {
                Some(flag) => skip = flag,
                None => {
                    table_ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{label}.skip` must be `true` or `false`"),
                        Some("a column named `skip` is written `columns.skip = …`".to_string()),
                    );
                }
            },
            "percent" if is_number(value) => {
                match value.as_float().or(value.as_integer().map(|n| n as f64)) {
                    Some(percent) if percent > 0.0 && percent <= 100.0 => {
                        rule.subset.percent = Some(percent)
                    }
                    _ => {
                        table_ok = false;
                        ctx.error(
                            Code::InvalidValue,
                            vspan,
                            format!("`{label}.percent` must be a number above 0 and at most 100"),
                            Some(
                                "for example `percent = 5` copies about one row in twenty"
                                    .to_string(),
                            ),
                        );
                    }
                }
            }
            "limit" if is_number(value) => match value.as_integer() {
                Some(n) if n > 0 => rule.subset.limit = Some(n as u64),
                _ => {
                    table_ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{label}.limit` must be a positive integer"),
                        Some("for example `limit = 10000` copies the first 10000 rows by primary key".to_string()),
                    );
                }
            },
            "follow" | "nullify" => match string_list(ctx, value, &vspan) {
                Some(entries) if !entries.is_empty() => {
                    for (text, origin) in entries {
                        if key_text == "follow" {
                            rule.subset.follow.push((table_name(&text), origin));
                        } else {
                            rule.subset.nullify.push((text, origin));
                        }
                    }
                }
                _ => {
                    table_ok = false;
                    let example = if key_text == "follow" {
                        "for example `follow = \"users\"` or `follow = [\"orders\", \"products\"]`"
                    } else {
                        "for example `nullify = [\"referred_by\"]`"
                    };
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{label}.{key_text}` must be a name or a non-empty list of names"),
                        Some(example.to_string()),
                    );
                }
            },
            "keep" => match parse_table_keep(ctx, &label, value, &vspan) {
                Some(reason) => keep_all = Some(reason),
                None => table_ok = false,
            },
            // `columns.where = "keep"`: columns whose names are table-level keys (any column
            // may be written there).
            "columns" if value.is_table_like() => {
                let columns = value.as_table_like().expect("checked table-like");
                for (column, column_value) in columns.iter() {
                    let (column_key, _) = columns.get_key_value(column).expect("key from iter");
                    let column_span = span_of_key(column_key, column_value);
                    parse_column(ctx, &mut rule, column, column_value, column_span);
                }
            }
            // `precent = 10`: no column rule is a number, a boolean or a list.
            typo if !value.is_str()
                && value.as_table_like().is_none()
                && did_you_mean(typo, TABLE_KEYS.iter().copied()).is_some() =>
            {
                unknown_key(ctx, key_span, &format!("[{label}]"), typo, TABLE_KEYS);
                ctx.parsed
                    .broken
                    .insert((name.clone(), Some(typo.to_string())));
            }
            column => parse_column(ctx, &mut rule, column, value, key_span),
        }
    }
    if skip && keep_all.is_some() {
        table_ok = false;
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!("`{label}` has both `skip` and `keep`"),
            Some("choose one: `skip = true` copies no rows, `keep = { reason = \"…\" }` copies every column".to_string()),
        );
    }
    let has_columns = !rule.columns.is_empty()
        || ctx
            .parsed
            .broken
            .iter()
            .any(|(table, column)| table == &name && column.is_some());
    if (skip || keep_all.is_some()) && has_columns {
        table_ok = false;
        let which = if skip { "skip = true" } else { "keep" };
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!("`{label}` uses table-level `{which}` but also lists columns"),
            Some("remove the column rules, or remove the table-level setting".to_string()),
        );
    }
    if skip {
        rule.action = TableAction::Skip;
    } else if let Some(reason) = keep_all {
        rule.action = TableAction::KeepAll { reason };
    }
    if !table_ok {
        ctx.parsed.broken.insert((name, None));
        return;
    }
    ctx.seen.insert(rule.table.clone(), ctx.file.to_path_buf());
    ctx.parsed.policy.tables.push(rule);
}

/// One `column = rule` entry of a table (or of its `columns` sub-table).
fn parse_column(
    ctx: &mut Ctx,
    rule: &mut TableRule,
    column: &str,
    value: &Item,
    key_span: Range<usize>,
) {
    let label = policy_table_name(&rule.table);
    if rule.column(column).is_some() {
        ctx.error(
            Code::DuplicateRule,
            key_span,
            format!("column `{label}.{column}` is classified twice"),
            Some("keep one rule per column".to_string()),
        );
        ctx.parsed
            .broken
            .insert((rule.table.clone(), Some(column.to_string())));
        return;
    }
    match parse_rule(ctx, &format!("{label}.{column}"), value, &key_span) {
        Some(column_rule) => rule.columns.push(ColumnRule {
            column: column.to_string(),
            rule: column_rule,
            origin: Origin {
                file: ctx.file.to_path_buf(),
                span: key_span,
            },
        }),
        None => {
            ctx.parsed
                .broken
                .insert((rule.table.clone(), Some(column.to_string())));
        }
    }
}

/// `keep`, `todo`, `fake.email`, …: a strategy's short form, never a sensible SQL condition.
fn looks_like_strategy(text: &str) -> bool {
    let text = text.trim();
    SHORT_FORMS.contains(&text) || text.starts_with("fake.") || text.starts_with("generalise.")
}

fn is_number(item: &Item) -> bool {
    item.as_integer().is_some() || item.as_float().is_some()
}

/// A string or an array of non-empty strings, each with its origin. `None` for anything else.
fn string_list(ctx: &Ctx, item: &Item, span: &Range<usize>) -> Option<Vec<(String, Origin)>> {
    let origin = |span: Range<usize>| Origin {
        file: ctx.file.to_path_buf(),
        span,
    };
    if let Some(text) = item.as_str() {
        return (!text.trim().is_empty()).then(|| vec![(text.to_string(), origin(span.clone()))]);
    }
    let array = item.as_array()?;
    let mut entries = Vec::new();
    for value in array.iter() {
        let text = value.as_str().filter(|text| !text.trim().is_empty())?;
        let value_span = value.span().unwrap_or_else(|| span.clone());
        entries.push((text.to_string(), origin(value_span)));
    }
    Some(entries)
}

fn parse_table_keep(
    ctx: &mut Ctx,
    label: &str,
    item: &Item,
    span: &Range<usize>,
) -> Option<String> {
    let help = Some(
        "a whole table is kept with `keep = { reason = \"…\" }`; a column named `keep` is written `columns.keep = …`"
            .to_string(),
    );
    let Some(table) = item.as_table_like() else {
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!("`{label}.keep` must be a table with a `reason`"),
            help,
        );
        return None;
    };
    let mut reason = None;
    let mut ok = true;
    for (key_text, value) in table.iter() {
        let (key, _) = table.get_key_value(key_text).expect("key from iter");
        let key_span = span_of_key(key, value);
        if key_text == "reason" {
            match value.as_str() {
                Some(text) if !text.trim().is_empty() => reason = Some(text.to_string()),
                _ => {
                    ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        value_span(value, &key_span),
                        format!("`{label}.keep.reason` must be a non-empty string"),
                        None,
                    );
                }
            }
        } else {
            ok = false;
            unknown_key(
                ctx,
                key_span,
                &format!("{label}.keep"),
                key_text,
                &["reason"],
            );
        }
    }
    if reason.is_none() && ok {
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!("`{label}.keep` needs a `reason`"),
            Some(
                "write `keep = { reason = \"why nothing here identifies a person\" }`".to_string(),
            ),
        );
        return None;
    }
    if ok { reason } else { None }
}

fn unknown_key(ctx: &mut Ctx, span: Range<usize>, path: &str, key: &str, known: &[&str]) {
    let help = match did_you_mean(key, known.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("expected one of {}", list(known)),
    };
    ctx.error(
        Code::UnknownKey,
        span,
        format!("unknown key `{key}` in `{path}`"),
        Some(help),
    );
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column (or JSON path) rule, short or long form. `None` after reporting a problem.
fn parse_rule(ctx: &mut Ctx, what: &str, item: &Item, key_span: &Range<usize>) -> Option<Rule> {
    let span = value_span(item, key_span);
    if let Some(text) = item.as_str() {
        return parse_short(ctx, what, text, span).map(Rule::new);
    }
    if let Some(table) = item.as_table_like() {
        return parse_long(ctx, what, table, span);
    }
    ctx.error(
        Code::InvalidValue,
        span,
        format!("the rule for `{what}` must be a string or an inline table"),
        Some(
            "for example `\"keep\"`, `\"fake.email\"` or `{ fake = \"email\", unique = true }`"
                .to_string(),
        ),
    );
    None
}

/// The strategy a short form names (`"hash"`, `"fake.email"`, …), if it names one.
pub fn short_strategy(text: &str) -> Option<Strategy> {
    match text {
        "keep" => Some(Strategy::Keep),
        "null" => Some(Strategy::Null),
        "redact" => Some(Strategy::Redact),
        "hash" => Some(Strategy::Hash),
        "todo" => Some(Strategy::Todo { suggestion: None }),
        "generalise.month" => Some(Strategy::Generalise(Generalise::Month)),
        "generalise.year" => Some(Strategy::Generalise(Generalise::Year)),
        _ => text
            .strip_prefix("fake.")
            .and_then(FakeKind::from_name)
            .map(|kind| {
                Strategy::Fake(FakeSpec {
                    kind,
                    locale: Locale::default(),
                    min: None,
                    max: None,
                })
            }),
    }
}

fn parse_short(ctx: &mut Ctx, what: &str, text: &str, span: Range<usize>) -> Option<Strategy> {
    let strategy = short_strategy(text);
    if let Some(Strategy::Todo { .. }) = strategy {
        todo_diagnostic(ctx, what, None, span.clone());
    }
    if strategy.is_none() {
        let forms = short_forms();
        let help = match did_you_mean(text, forms.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None if text.starts_with("fake.") => format!(
                "known fake kinds: {}",
                FakeKind::ALL
                    .iter()
                    .map(|(_, name)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("expected one of {}, or `fake.<kind>`", list(SHORT_FORMS)),
        };
        ctx.error(
            Code::UnknownStrategy,
            span,
            format!("unknown strategy `{text}` for `{what}`"),
            Some(help),
        );
    }
    strategy
}

fn todo_diagnostic(ctx: &mut Ctx, what: &str, suggestion: Option<&str>, span: Range<usize>) {
    let help = match suggestion {
        Some(suggestion) => {
            format!("classify it (suggested: `{suggestion}`), then remove the `todo`")
        }
        None => {
            "replace `todo` with a strategy such as `\"keep\"`, `\"hash\"` or `\"fake.<kind>\"`"
                .to_string()
        }
    };
    ctx.error(
        Code::Todo,
        span,
        format!("`{what}` is not classified yet (`todo`)"),
        Some(help),
    );
}

fn parse_long(
    ctx: &mut Ctx,
    what: &str,
    table: &dyn TableLike,
    span: Range<usize>,
) -> Option<Rule> {
    let mut ok = true;
    let mut strategies: Vec<(&str, Range<usize>, &Item)> = Vec::new();
    let mut unique = false;
    let mut reason = None;
    let mut not_sensitive = None;
    let mut locale = None;
    let mut bounds: [Option<(String, Range<usize>)>; 2] = [None, None];
    for (key_text, value) in table.iter() {
        let (key, _) = table.get_key_value(key_text).expect("key from iter");
        let key_span = span_of_key(key, value);
        let vspan = value_span(value, &key_span);
        match key_text {
            k if STRATEGY_KEYS.contains(&k) => strategies.push((k, key_span, value)),
            "unique" => match value.as_bool() {
                Some(flag) => unique = flag,
                None => {
                    ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{what}.unique` must be `true` or `false`"),
                        None,
                    );
                }
            },
            "reason" => match value.as_str() {
                Some(text) if !text.trim().is_empty() => reason = Some(text.to_string()),
                _ => {
                    ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{what}.reason` must be a non-empty string"),
                        None,
                    );
                }
            },
            "not-sensitive" => match value.as_str() {
                Some(text) if !text.trim().is_empty() => {
                    not_sensitive = Some((text.to_string(), key_span.clone()));
                }
                _ => {
                    ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{what}.not-sensitive` must be a non-empty string: why the column holds no secret"),
                        None,
                    );
                }
            },
            "locale" => {
                let found = value
                    .as_str()
                    .and_then(|name| Locale::ALL.iter().find(|(_, known)| *known == name));
                match found {
                    Some((known, _)) => locale = Some((*known, key_span)),
                    None => {
                        ok = false;
                        let names: Vec<&str> = Locale::ALL.iter().map(|(_, name)| *name).collect();
                        let help = value
                            .as_str()
                            .and_then(|name| did_you_mean(name, names.iter().copied()))
                            .map(|close| format!("did you mean `{close}`?"))
                            .unwrap_or_else(|| format!("expected one of {}", list(&names)));
                        ctx.error(
                            Code::InvalidValue,
                            vspan,
                            format!("unknown locale for `{what}`"),
                            Some(help),
                        );
                    }
                }
            }
            "min" | "max" => match value.as_value().and_then(date_text) {
                Some(text) => bounds[usize::from(key_text == "max")] = Some((text, key_span)),
                None => {
                    ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        vspan,
                        format!("`{what}.{key_text}` must be a date such as `\"1950-01-01\"`"),
                        None,
                    );
                }
            },
            other => {
                ok = false;
                let known: Vec<&str> = STRATEGY_KEYS.iter().chain(MODIFIER_KEYS).copied().collect();
                unknown_key(ctx, key_span, what, other, &known);
            }
        }
    }
    if strategies.len() > 1 {
        let names: Vec<&str> = strategies.iter().map(|(name, _, _)| *name).collect();
        ctx.error(
            Code::InvalidValue,
            strategies[1].1.clone(),
            format!("`{what}` has several strategies: {}", list(&names)),
            Some("a rule has exactly one strategy".to_string()),
        );
        return None;
    }
    let Some((name, key_span, value)) = strategies.pop() else {
        if ok {
            ctx.error(
                Code::InvalidValue,
                span,
                format!("`{what}` has no strategy"),
                Some(format!("add one of {}", list(STRATEGY_KEYS))),
            );
        }
        return None;
    };
    let strategy = parse_strategy(ctx, what, name, value, &key_span)?;
    let is_fake = matches!(strategy, Strategy::Fake(_));
    if !is_fake {
        for (key, key_span) in [("locale", locale.as_ref().map(|(_, s)| s.clone()))]
            .into_iter()
            .chain([
                ("min", bounds[0].as_ref().map(|(_, s)| s.clone())),
                ("max", bounds[1].as_ref().map(|(_, s)| s.clone())),
            ])
        {
            if let Some(key_span) = key_span {
                ok = false;
                ctx.error(
                    Code::InvalidValue,
                    key_span,
                    format!("`{what}.{key}` only applies to `fake`"),
                    None,
                );
            }
        }
    }
    if unique
        && matches!(
            strategy,
            Strategy::Null | Strategy::Redact | Strategy::Const(_) | Strategy::Generalise(_)
        )
    {
        ok = false;
        ctx.error(
            Code::InvalidValue,
            key_span.clone(),
            format!("`{what}` cannot be `unique` with `{name}`: it maps many values to one"),
            Some("use `hash` or `fake` for unique columns".to_string()),
        );
    }
    if let Some((_, key_span)) = &not_sensitive
        && !matches!(strategy, Strategy::Keep)
    {
        ok = false;
        ctx.error(
            Code::InvalidValue,
            key_span.clone(),
            format!("`{what}.not-sensitive` only applies to `keep`"),
            Some("a transformed column needs no override: remove `not-sensitive`".to_string()),
        );
    }
    if !ok {
        return None;
    }
    let strategy = match strategy {
        Strategy::Fake(mut spec) => {
            if let Some((known, _)) = locale {
                spec.locale = known;
            }
            spec.min = bounds[0].take().map(|(text, _)| text);
            spec.max = bounds[1].take().map(|(text, _)| text);
            Strategy::Fake(spec)
        }
        other => other,
    };
    Some(Rule {
        strategy,
        unique,
        reason,
        not_sensitive: not_sensitive.map(|(text, _)| text),
    })
}

fn date_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.value().clone()),
        Value::Datetime(datetime) => Some(datetime.value().to_string()),
        _ => None,
    }
}

fn parse_strategy(
    ctx: &mut Ctx,
    what: &str,
    name: &str,
    item: &Item,
    key_span: &Range<usize>,
) -> Option<Strategy> {
    let span = value_span(item, key_span);
    let flag = |ctx: &mut Ctx, strategy: Strategy| -> Option<Strategy> {
        match item.as_bool() {
            Some(true) => Some(strategy),
            _ => {
                ctx.error(
                    Code::InvalidValue,
                    span.clone(),
                    format!("`{what}.{name}` must be `true`"),
                    Some(format!(
                        "write `{name} = true`, or the short form `\"{name}\"`"
                    )),
                );
                None
            }
        }
    };
    match name {
        "keep" => flag(ctx, Strategy::Keep),
        "null" => flag(ctx, Strategy::Null),
        "redact" => flag(ctx, Strategy::Redact),
        "hash" => flag(ctx, Strategy::Hash),
        "const" => {
            let text = match item.as_value() {
                Some(Value::String(text)) => Some(text.value().clone()),
                Some(Value::Integer(n)) => Some(n.value().to_string()),
                Some(Value::Float(x)) => Some(x.value().to_string()),
                Some(Value::Boolean(b)) => Some(b.value().to_string()),
                Some(Value::Datetime(d)) => Some(d.value().to_string()),
                _ => None,
            };
            if text.is_none() {
                ctx.error(
                    Code::InvalidValue,
                    span,
                    format!("`{what}.const` must be a string, number or boolean"),
                    None,
                );
            }
            text.map(Strategy::Const)
        }
        "fake" => {
            let Some(text) = item.as_str() else {
                ctx.error(
                    Code::InvalidValue,
                    span,
                    format!("`{what}.fake` must be a kind such as `\"email\"`"),
                    None,
                );
                return None;
            };
            let kind_name = text.strip_prefix("fake.").unwrap_or(text);
            match FakeKind::from_name(kind_name) {
                Some(kind) => Some(Strategy::Fake(FakeSpec {
                    kind,
                    locale: Locale::default(),
                    min: None,
                    max: None,
                })),
                None => {
                    let names: Vec<&str> = FakeKind::ALL.iter().map(|(_, name)| *name).collect();
                    let help = did_you_mean(kind_name, names.iter().copied())
                        .map(|close| format!("did you mean `{close}`?"))
                        .unwrap_or_else(|| format!("known fake kinds: {}", names.join(", ")));
                    ctx.error(
                        Code::UnknownStrategy,
                        span,
                        format!("unknown fake kind `{kind_name}` for `{what}`"),
                        Some(help),
                    );
                    None
                }
            }
        }
        "generalise" => {
            if let Some(text) = item.as_str() {
                return match text {
                    "month" => Some(Strategy::Generalise(Generalise::Month)),
                    "year" => Some(Strategy::Generalise(Generalise::Year)),
                    other => {
                        let help = did_you_mean(other, ["month", "year"])
                            .map(|close| format!("did you mean `{close}`?"))
                            .unwrap_or_else(|| {
                                "expected `\"month\"`, `\"year\"` or `{ bucket = N }`".to_string()
                            });
                        ctx.error(
                            Code::InvalidValue,
                            span,
                            format!("unknown generalisation `{other}` for `{what}`"),
                            Some(help),
                        );
                        None
                    }
                };
            }
            let width = single_number(ctx, what, "generalise", "bucket", item, &span)?;
            if width <= 0.0 {
                ctx.error(
                    Code::InvalidValue,
                    span,
                    format!("`{what}.generalise.bucket` must be positive"),
                    None,
                );
                return None;
            }
            Some(Strategy::Generalise(Generalise::Bucket(width)))
        }
        "shift" => {
            let days = single_number(ctx, what, "shift", "days", item, &span)?;
            if days.fract() != 0.0 || days < 1.0 || days > MAX_SHIFT_DAYS as f64 {
                ctx.error(
                    Code::InvalidValue,
                    span,
                    format!(
                        "`{what}.shift.days` must be a whole number from 1 to {MAX_SHIFT_DAYS}"
                    ),
                    None,
                );
                return None;
            }
            Some(Strategy::Shift {
                max_days: days as u32,
            })
        }
        "mask" => {
            let keep_last = single_number(ctx, what, "mask", "keep_last", item, &span)?;
            if keep_last.fract() != 0.0 || !(0.0..=1000.0).contains(&keep_last) {
                ctx.error(
                    Code::InvalidValue,
                    span,
                    format!("`{what}.mask.keep_last` must be a whole number of characters"),
                    None,
                );
                return None;
            }
            Some(Strategy::Mask {
                keep_last: keep_last as u32,
            })
        }
        "json" => parse_json(ctx, what, item, &span),
        "xml" => parse_xml(ctx, what, item, &span),
        "todo" => {
            let suggestion = match item.as_value() {
                Some(Value::Boolean(b)) if *b.value() => None,
                Some(Value::String(text)) => Some(text.value().clone()),
                _ => {
                    ctx.error(
                        Code::InvalidValue,
                        span,
                        format!("`{what}.todo` must be `true` or a suggestion string"),
                        None,
                    );
                    return None;
                }
            };
            todo_diagnostic(ctx, what, suggestion.as_deref(), key_span.clone());
            Some(Strategy::Todo { suggestion })
        }
        _ => unreachable!("only strategy keys reach parse_strategy"),
    }
}

/// `{ <key> = <number> }` with nothing else.
fn single_number(
    ctx: &mut Ctx,
    what: &str,
    strategy: &str,
    key: &str,
    item: &Item,
    span: &Range<usize>,
) -> Option<f64> {
    let example = format!("write `{strategy} = {{ {key} = N }}`");
    let Some(table) = item.as_table_like() else {
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!("`{what}.{strategy}` must be a table"),
            Some(example),
        );
        return None;
    };
    let mut number = None;
    let mut ok = true;
    for (key_text, value) in table.iter() {
        let (k, _) = table.get_key_value(key_text).expect("key from iter");
        let key_span = span_of_key(k, value);
        if key_text == key {
            number = match value.as_value() {
                Some(Value::Integer(n)) => Some(*n.value() as f64),
                Some(Value::Float(x)) => Some(*x.value()),
                _ => {
                    ok = false;
                    ctx.error(
                        Code::InvalidValue,
                        value_span(value, &key_span),
                        format!("`{what}.{strategy}.{key}` must be a number"),
                        None,
                    );
                    None
                }
            };
        } else {
            ok = false;
            unknown_key(
                ctx,
                key_span,
                &format!("{what}.{strategy}"),
                key_text,
                &[key],
            );
        }
    }
    if number.is_none() && ok {
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!("`{what}.{strategy}` needs `{key}`"),
            Some(example),
        );
    }
    if ok { number } else { None }
}

/// What differs between `json = { path = rule }` and `xml = { path = rule }`.
struct PathRules<P> {
    kind: &'static str,
    example: &'static str,
    path_hint: &'static str,
    parse_path: fn(&str) -> Option<P>,
    /// `json` and `xml` rules may not appear inside these paths' rules.
    no_nesting: bool,
}

fn parse_json(ctx: &mut Ctx, what: &str, item: &Item, span: &Range<usize>) -> Option<Strategy> {
    let rules = PathRules {
        kind: "json",
        example: "for example `json = { \"$.contact.email\" = \"fake.email\" }`",
        path_hint: "paths look like `$.contact.email` or `$.items[*].ip`",
        parse_path: parse_json_path,
        no_nesting: false,
    };
    let rules = parse_path_rules(ctx, what, item, span, &rules)?;
    Some(Strategy::Json(
        rules
            .into_iter()
            .map(|(path, rule)| JsonRule { path, rule })
            .collect(),
    ))
}

fn parse_xml(ctx: &mut Ctx, what: &str, item: &Item, span: &Range<usize>) -> Option<Strategy> {
    let rules = PathRules {
        kind: "xml",
        example: "for example `xml = { \"//EMail\" = \"fake.email\", \"//@phone\" = \"fake.phone\" }`",
        path_hint: "paths look like `//EMail`, `//@phone`, `//Contact/@phone` or `/Person/Name`",
        parse_path: parse_xml_path,
        no_nesting: true,
    };
    let rules = parse_path_rules(ctx, what, item, span, &rules)?;
    Some(Strategy::Xml(
        rules
            .into_iter()
            .map(|(path, rule)| XmlRule { path, rule })
            .collect(),
    ))
}

/// A table of paths to rules; every problem is reported, and `None` when there was any.
fn parse_path_rules<P>(
    ctx: &mut Ctx,
    what: &str,
    item: &Item,
    span: &Range<usize>,
    kind: &PathRules<P>,
) -> Option<Vec<(P, Rule)>> {
    let name = kind.kind;
    let Some(table) = item.as_table_like() else {
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!(
                "`{what}.{name}` must be a table of {} paths to rules",
                name.to_uppercase()
            ),
            Some(kind.example.to_string()),
        );
        return None;
    };
    let mut rules = Vec::new();
    let mut ok = true;
    for (path_text, value) in table.iter() {
        let (key, _) = table.get_key_value(path_text).expect("key from iter");
        let key_span = span_of_key(key, value);
        let Some(path) = (kind.parse_path)(path_text) else {
            ok = false;
            ctx.error(
                Code::InvalidValue,
                key_span,
                format!(
                    "invalid {} path `{path_text}` in `{what}`",
                    name.to_uppercase()
                ),
                Some(kind.path_hint.to_string()),
            );
            continue;
        };
        match parse_rule(ctx, &format!("{what} {path_text}"), value, &key_span) {
            Some(rule)
                if kind.no_nesting
                    && matches!(rule.strategy, Strategy::Json(_) | Strategy::Xml(_)) =>
            {
                ok = false;
                ctx.error(
                    Code::InvalidValue,
                    key_span,
                    format!("`{what} {path_text}`: `json` and `xml` rules cannot nest in `{name}`"),
                    None,
                );
            }
            Some(rule) => rules.push((path, rule)),
            None => ok = false,
        }
    }
    if rules.is_empty() && ok {
        ctx.error(
            Code::InvalidValue,
            span.clone(),
            format!("`{what}.{name}` lists no paths"),
            None,
        );
        return None;
    }
    ok.then_some(rules)
}

/// `//name`, `//@attr`, `//a/b/@attr`, `/root/a`: element steps (`prefix:name`, `name` or
/// `*`) and an optional last `@attribute`.
pub fn parse_xml_path(text: &str) -> Option<XmlPath> {
    let (anywhere, rest) = match text.strip_prefix("//") {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('/')?),
    };
    let valid_name = |name: &str| {
        !name.is_empty()
            && name.matches(':').count() <= 1
            && !name.starts_with(':')
            && !name.ends_with(':')
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
    };
    let mut elements = Vec::new();
    let mut attribute = None;
    let steps: Vec<&str> = rest.split('/').collect();
    for (idx, step) in steps.iter().enumerate() {
        if let Some(name) = step.strip_prefix('@') {
            if idx + 1 != steps.len() || !valid_name(name) {
                return None;
            }
            attribute = Some(name.to_string());
        } else if *step == "*" || valid_name(step) {
            elements.push(step.to_string());
        } else {
            return None;
        }
    }
    if elements.is_empty() && (attribute.is_none() || !anywhere) {
        return None;
    }
    Some(XmlPath {
        text: text.to_string(),
        anywhere,
        elements,
        attribute,
    })
}

/// `$.a.b`, `$.a[*].b`, `$[*]`.
pub fn parse_json_path(text: &str) -> Option<JsonPath> {
    let mut rest = text.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[*]") {
            steps.push(JsonStep::EveryElement);
            rest = after;
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            steps.push(JsonStep::Key(after[..end].to_string()));
            rest = &after[end..];
        } else {
            return None;
        }
    }
    if steps.is_empty() {
        return None;
    }
    Some(JsonPath {
        text: text.to_string(),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parse `input` as `policy/users.toml`; the rendered policy and diagnostics must match
    /// the snapshot `expected` (a file under `snapshots/`, written with `INSTA_UPDATE=always`).
    fn check(input: &str, expected: &str) {
        let file = PolicyFile {
            path: PathBuf::from("/p/policy/users.toml"),
            text: input.to_string(),
        };
        let parsed = parse(std::slice::from_ref(&file));
        let mut out = String::new();
        for table in &parsed.policy.tables {
            out.push_str(&format!(
                "{} {:?} where={:?} rows={:?}\n",
                table.table, table.action, table.filter, table.seed_rows
            ));
            if table.subset.is_used() {
                let subset = &table.subset;
                let follow: Vec<String> =
                    subset.follow.iter().map(|(t, _)| t.to_string()).collect();
                let nullify: Vec<&str> = subset.nullify.iter().map(|(c, _)| c.as_str()).collect();
                out.push_str(&format!(
                    "  subset: percent={:?} limit={:?} follow={follow:?} nullify={nullify:?}\n",
                    subset.percent, subset.limit
                ));
            }
            for column in &table.columns {
                out.push_str(&format!("  {} = {:?}\n", column.column, column.rule));
            }
        }
        for (table, column) in &parsed.broken {
            out.push_str(&format!("broken: {table} {column:?}\n"));
        }
        let mut sources = crate::diag::Sources::new();
        sources.insert(file.path.clone(), file.text.clone());
        out.push_str(&crate::diag::render_human(
            &parsed.diagnostics,
            &sources,
            Path::new("/p"),
        ));
        insta::with_settings!({ description => input, omit_expression => true }, {
            insta::assert_snapshot!(expected, out);
        });
    }

    macro_rules! case {
        ($name:ident, $input:expr) => {
            #[test]
            fn $name() {
                check($input, stringify!($name));
            }
        };
    }

    case!(
        short_forms_all,
        r#"
[users]
id = "keep"
a = "null"
b = "redact"
c = "hash"
d = "fake.email"
e = "generalise.month"
f = "generalise.year"
"#
    );
    case!(
        long_forms_all,
        r#"
[users]
a = { keep = true, reason = "coarse" }
b = { null = true }
c = { redact = true }
d = { const = "$2a$12$abc" }
e = { const = 7 }
f = { const = 1.5 }
g = { const = false }
h = { hash = true, unique = true }
i = { fake = "name", locale = "fr_FR" }
j = { fake = "date_of_birth", min = "1950-01-01", max = 2005-12-31 }
k = { generalise = "year" }
l = { generalise = { bucket = 10 } }
m = { shift = { days = 30 } }
n = { mask = { keep_last = 4 } }
o = { json = { "$.contact.email" = "fake.email", "$.items[*].ip" = { fake = "ipv4" }, "$.theme" = "keep" } }
"#
    );
    case!(
        not_sensitive_override,
        r#"
[users]
a = { keep = true, not-sensitive = "a display label, not a token" }
b = { keep = true, not-sensitive = "" }
c = { hash = true, not-sensitive = "only keep takes an override" }
d = { keep = true, not_sensitive = "misspelt" }
"#
    );
    case!(
        table_keys,
        r#"
[users]
where = "created_at > now() - interval '2 years'"
rows = 500
id = "keep"

[sessions]
skip = true

[audit_events]
keep = { reason = "system events, no personal data" }

["billing.invoices"]
id = "keep"

[crm.contacts]
id = "keep"
"#
    );
    case!(
        todo_forms,
        r#"
[users]
a = "todo"
b = { todo = "looks like: email" }
c = { todo = true }
"#
    );
    case!(
        misspelt_strategy,
        r#"
[users]
email = "fake.emial"
b = "hsah"
c = "frobnicate"
"#
    );
    case!(
        unknown_fake_kind,
        r#"
[users]
email = { fake = "emial", unique = true }
"#
    );
    case!(
        unknown_keys,
        r#"
[users]
email = { fake = "email", uniqe = true }
name = { fake = "name", locale = "en_UK" }
"#
    );
    case!(
        bad_values,
        r#"
[users]
a = 3
b = { keep = false }
c = { const = [1] }
d = { generalise = "decade" }
e = { generalise = { bucket = -1 } }
f = { shift = { days = 0 } }
g = { shift = 30 }
h = { mask = { keep_first = 4 } }
i = { json = { "contact.email" = "keep" } }
j = { json = { "$.x" = "fake.nope" } }
k = { reason = "no strategy" }
l = { hash = true, redact = true }
m = { const = "x", unique = true }
n = { hash = true, locale = "fr_FR" }
o = { todo = 3 }
"#
    );
    case!(
        bad_table_keys,
        r#"
[users]
where = 1
rows = -3
skip = "yes"

[sessions]
skip = true
id = "keep"

[audit]
keep = true

[audit2]
keep = { reason = "x", because = "y" }

[audit3]
keep = { reason = "x" }
skip = true
"#
    );
    case!(
        subset_keys,
        r#"
[users]
percent = 5
where = "created_at > now() - interval '2 years'"
nullify = ["referred_by"]
id = "keep"

[orders]
follow = "users"
limit = 1000
id = "keep"

[order_items]
follow = ["orders", "billing.invoices"]
id = "keep"

[quotas]
percent = "keep"
limit = { null = true }
"#
    );
    case!(
        bad_subset_keys,
        r#"
[users]
percent = 0

[orders]
percent = 101.5
limit = 2.5

[order_items]
follow = []
nullify = [1]

[items]
follow = ""
"#
    );
    case!(
        columns_named_like_table_keys,
        r#"
[users]
where = "id > 0"
columns.where = "keep"
columns.rows = { hash = true }

[items]
columns = { skip = "null" }

[tags]
columns = "keep"

[orders]
where = "todo"
id = "keep"
columns.id = "hash"
"#
    );
    case!(
        not_a_table,
        r#"
users = "keep"
"#
    );
    case!(
        syntax_error,
        r#"
[users]
email = "fake.email
"#
    );

    #[test]
    fn duplicate_tables_across_files() {
        let files = [
            PolicyFile {
                path: "/p/policy/a.toml".into(),
                text: "[users]\nid = \"keep\"\n".into(),
            },
            PolicyFile {
                path: "/p/policy/b.toml".into(),
                text: "[users]\nid = \"keep\"\n".into(),
            },
        ];
        let parsed = parse(&files);
        assert_eq!(parsed.policy.tables.len(), 1);
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].code, Code::DuplicateRule);
        assert_eq!(
            parsed.diagnostics[0].file,
            PathBuf::from("/p/policy/b.toml")
        );
    }

    #[test]
    fn json_paths() {
        let path = parse_json_path("$.items[*].ip").unwrap();
        assert_eq!(
            path.steps,
            vec![
                JsonStep::Key("items".into()),
                JsonStep::EveryElement,
                JsonStep::Key("ip".into())
            ]
        );
        assert!(parse_json_path("$").is_none());
        assert!(parse_json_path("$..a").is_none());
        assert!(parse_json_path("a.b").is_none());
    }
}
