//! Scores the sensitive-data detector on the labelled corpus (`corpus/<app>/`): loads each schema
//! into a throwaway database, fills it with generated values that match each column's label,
//! samples and classifies every column as pull-prod does, and prints recall per class and precision.
//!
//! `cargo run --release --example detector-score [-- --verbose]`; the server is libpq's default
//! (local socket, `PG*` variables) or `PULLPROD_TEST_PG_URL`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use postgres::Client;
use pullprod::detect::{self, NameClass};
use pullprod::policy::model::{Policy, TableName};
use pullprod::schema::{Catalog, Column, Table};
use pullprod::sqltype::BaseType;

/// Rows generated per table.
const ROWS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    Security,
    Personal,
    Safe,
    Ambiguous,
}

#[derive(Default)]
struct Score {
    security: (usize, usize),
    personal: (usize, usize),
    flagged: usize,
    flagged_right: usize,
    misses: Vec<String>,
    false_alarms: Vec<String>,
}

fn main() -> Result<()> {
    let verbose = std::env::args().any(|arg| arg == "--verbose");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut apps: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .context("failed to list `corpus/`")?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.join("labels.toml").is_file())
        .collect();
    apps.sort();
    let mut total = Score::default();
    let mut lines = Vec::new();
    for app in &apps {
        let name = app
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let score = score_app(app, &name)?;
        lines.push(format!("{name:<16} {}", render(&score)));
        merge(&mut total, score);
    }
    let mut out = String::new();
    out.push_str("detector score on the labelled corpus (ambiguous columns left out)\n");
    out.push_str(&format!(
        "{:<16} {:>17} {:>17} {:>17}\n",
        "app", "security recall", "personal recall", "precision"
    ));
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!("{:<16} {}\n", "all", render(&total)));
    if verbose {
        for miss in &total.misses {
            out.push_str(&format!("miss: {miss}\n"));
        }
        for alarm in &total.false_alarms {
            out.push_str(&format!("false alarm: {alarm}\n"));
        }
    }
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    Ok(())
}

fn render(score: &Score) -> String {
    let ratio = |(hit, all): (usize, usize)| {
        if all == 0 {
            format!("{:>17}", "-")
        } else {
            format!("{:>9.3} ({hit:>3}/{all:>3})", hit as f64 / all as f64)
        }
    };
    format!(
        "{} {} {}",
        ratio(score.security),
        ratio(score.personal),
        ratio((score.flagged_right, score.flagged))
    )
}

fn merge(total: &mut Score, score: Score) {
    total.security.0 += score.security.0;
    total.security.1 += score.security.1;
    total.personal.0 += score.personal.0;
    total.personal.1 += score.personal.1;
    total.flagged += score.flagged;
    total.flagged_right += score.flagged_right;
    total.misses.extend(score.misses);
    total.false_alarms.extend(score.false_alarms);
}

fn admin_url() -> String {
    std::env::var("PULLPROD_TEST_PG_URL").unwrap_or_else(|_| "dbname=postgres".to_string())
}

fn with_dbname(url: &str, dbname: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let base = match base.rfind('/') {
            Some(idx) if idx > base.find("://").map_or(0, |i| i + 2) => &base[..idx],
            _ => base,
        };
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("{base}/{dbname}{query}")
    } else {
        format!("{url} dbname={dbname}")
    }
}

fn score_app(app: &Path, name: &str) -> Result<Score> {
    let labels = read_labels(&app.join("labels.toml"))?;
    let schema = std::fs::read_to_string(app.join("schema.sql"))
        .with_context(|| format!("failed to read `{}`", app.join("schema.sql").display()))?;
    let dbname = format!("pp_score_{name}_{}", std::process::id());
    let mut admin = pullprod::conn::connect(&admin_url(), "the scoring server")?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {dbname}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {dbname}"))?;
    let result = (|| -> Result<Score> {
        let mut client =
            pullprod::conn::connect(&with_dbname(&admin_url(), &dbname), "the scoring database")?;
        client
            .batch_execute(&schema)
            .with_context(|| format!("failed to load `{name}/schema.sql`"))?;
        let catalog = pullprod::schema::load(&mut client)?;
        fill(&mut client, &catalog, &labels)?;
        client.batch_execute("ANALYZE")?;
        client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let samples = pullprod::sample::sample(
            &mut client,
            &Policy::default(),
            &catalog,
            pullprod::sample::Scope::KeptOrUnclassified,
        )?;
        client.batch_execute("COMMIT")?;
        Ok(score(name, &catalog, &labels, &samples))
    })();
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))?;
    result
}

/// What pull-prod would say of a column: security, personal, or nothing.
fn predict(
    catalog: &Catalog,
    table: &Table,
    column: &Column,
    samples: &detect::Samples,
) -> Option<NameClass> {
    let by_name = detect::classify_column(catalog, table, column);
    let found = samples.get(&table.name, &column.name).unwrap_or_default();
    if by_name == Some(NameClass::Sensitive) || found.iter().any(|finding| finding.is_sensitive()) {
        Some(NameClass::Sensitive)
    } else if by_name == Some(NameClass::Personal) || !found.is_empty() {
        Some(NameClass::Personal)
    } else {
        None
    }
}

fn score(
    app: &str,
    catalog: &Catalog,
    labels: &BTreeMap<(String, String), Label>,
    samples: &detect::Samples,
) -> Score {
    let mut score = Score::default();
    for table in &catalog.tables {
        for column in &table.columns {
            let key = (table.name.name.clone(), column.name.clone());
            let Some(label) = labels.get(&key) else {
                score.misses.push(format!(
                    "{app}: {}.{} has no label",
                    table.name.name, column.name
                ));
                continue;
            };
            let predicted = predict(catalog, table, column, samples);
            let what = format!(
                "{app}: {}.{} ({}) labelled {label:?}, predicted {predicted:?}",
                table.name.name, column.name, column.sql_type.display
            );
            match label {
                Label::Ambiguous => continue,
                Label::Security => {
                    score.security.1 += 1;
                    if predicted == Some(NameClass::Sensitive) {
                        score.security.0 += 1;
                    } else {
                        score.misses.push(what.clone());
                    }
                }
                Label::Personal => {
                    score.personal.1 += 1;
                    if predicted.is_some() {
                        score.personal.0 += 1;
                    } else {
                        score.misses.push(what.clone());
                    }
                }
                Label::Safe => {}
            }
            if predicted.is_some() {
                score.flagged += 1;
                if *label == Label::Safe {
                    score.false_alarms.push(what);
                } else {
                    score.flagged_right += 1;
                }
            }
        }
    }
    score
}

fn read_labels(path: &Path) -> Result<BTreeMap<(String, String), Label>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let document: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("`{}` is not TOML", path.display()))?;
    let mut labels = BTreeMap::new();
    for (table, item) in document.iter() {
        let Some(columns) = item.as_table() else {
            bail!(
                "`{}`: `{table}` must be a table of column labels",
                path.display()
            );
        };
        for (column, value) in columns.iter() {
            let label = match value.as_str() {
                Some("security") => Label::Security,
                Some("personal") => Label::Personal,
                Some("safe") => Label::Safe,
                Some("ambiguous") => Label::Ambiguous,
                _ => bail!(
                    "`{}`: `{table}.{column}` must be \"security\", \"personal\", \"safe\" or \"ambiguous\"",
                    path.display()
                ),
            };
            labels.insert((table.to_string(), column.to_string()), label);
        }
    }
    Ok(labels)
}

/// Insert `ROWS` generated rows into every table; rows a constraint refuses are skipped.
fn fill(
    client: &mut Client,
    catalog: &Catalog,
    labels: &BTreeMap<(String, String), Label>,
) -> Result<()> {
    client.batch_execute("SET session_replication_role = replica")?;
    for table in &catalog.tables {
        if table.kind == pullprod::schema::TableKind::Partitioned {
            continue;
        }
        let columns: Vec<&Column> = table
            .columns
            .iter()
            .filter(|column| !column.generated)
            .collect();
        if columns.is_empty() {
            continue;
        }
        let names: Vec<String> = columns
            .iter()
            .map(|c| pullprod::sql::quote_ident(&c.name))
            .collect();
        for row in 0..ROWS {
            let values: Vec<String> = columns
                .iter()
                .map(|column| {
                    let label = labels
                        .get(&(table.name.name.clone(), column.name.clone()))
                        .copied()
                        .unwrap_or(Label::Safe);
                    sql_value(&table.name, column, label, row)
                })
                .collect();
            let sql = format!(
                "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
                table.name.quoted(),
                names.join(", "),
                values.join(", ")
            );
            // A CHECK or unique constraint may refuse a generated row: the others still go in.
            let _ = client.batch_execute(&sql);
        }
    }
    Ok(())
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A deterministic pseudo-random number for (table, column, row, salt).
fn pick(table: &TableName, column: &str, row: usize, salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for byte in table
        .name
        .bytes()
        .chain(column.bytes())
        .chain(row.to_le_bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ (hash >> 29)
}

fn sql_value(table: &TableName, column: &Column, label: Label, row: usize) -> String {
    let ty = &column.sql_type;
    let r = pick(table, &column.name, row, 1);
    let text = || {
        let mut value = text_value(
            &column.name,
            label,
            row,
            r,
            ty.base == BaseType::Jsonb || ty.base == BaseType::Json,
        );
        if let Some(max) = ty.max_chars {
            value = value.chars().take(max as usize).collect();
        }
        value
    };
    let scalar = match &ty.base {
        BaseType::Int2 => format!("{}", row % 100 + 1),
        b if b.is_integer() => format!("{}", row + 1),
        BaseType::Numeric | BaseType::Float4 | BaseType::Float8 => {
            if label == Label::Personal {
                format!("{:.5}", 40.0 + (r % 10_000) as f64 / 1000.0)
            } else {
                format!("{}.5", row + 1)
            }
        }
        BaseType::Bool => row.is_multiple_of(2).to_string(),
        BaseType::Date => format!("DATE '1970-01-01' + {}", 7000 + r % 12_000),
        BaseType::Timestamp | BaseType::Timestamptz => format!(
            "TIMESTAMP '2024-01-01' + interval '{} minutes'",
            r % 500_000
        ),
        BaseType::Uuid => {
            let hex = format!("{:016x}{:016x}", r, pick(table, &column.name, row, 2));
            literal(&format!(
                "{}-{}-4{}-a{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[13..16],
                &hex[17..20],
                &hex[20..32]
            ))
        }
        BaseType::Inet | BaseType::Cidr => literal(&format!("203.0.{}.{}", r % 250, row % 250 + 1)),
        BaseType::Json | BaseType::Jsonb => literal(&json_value(&column.name, label, row, r)),
        BaseType::Bytea => {
            if label == Label::Personal {
                format!("'\\x89504e470d0a1a0a{:016x}'::bytea", r)
            } else {
                format!("'\\x0001{:08x}'::bytea", r % 0xffff_ffff)
            }
        }
        BaseType::Enum => ty
            .enum_labels
            .first()
            .map(|label| literal(label))
            .unwrap_or_else(|| "NULL".into()),
        BaseType::Other(name) if name == "interval" => literal("1 hour"),
        BaseType::Other(name) if name == "xml" => literal(&format!("<doc><p>{}</p></doc>", text())),
        BaseType::Other(_) => "NULL".into(),
        _ => literal(&text()),
    };
    if ty.array {
        let element = match &ty.base {
            b if b.is_integer() => format!("{}", row + 1),
            _ => literal(&text()),
        };
        return format!("ARRAY[{element}]::{}", ty.display);
    }
    scalar
}

const FIRST: &[&str] = &[
    "Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Fatima", "John", "Emily", "David",
    "Sofia", "Daniel",
];
const LAST: &[&str] = &[
    "Garcia", "Smith", "Khan", "Chen", "Ivanova", "Lopez", "Johnson", "Brown", "Miller", "Wilson",
    "Taylor", "Moore",
];
const STREETS: &[&str] = &[
    "1970 Napa Ct.",
    "12 High Street",
    "48 Elm Avenue",
    "7 Station Road",
    "221 Baker Street",
    "3051 Oak Lane",
];
const WORDS: &[&str] = &[
    "weekly", "digest", "garden", "release", "notes", "summary", "archive", "market", "river",
    "harvest", "report", "update",
];

fn has(name: &str, parts: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    parts.iter().any(|part| lower.contains(part))
}

fn person(r: u64) -> (String, String) {
    (
        FIRST[(r % 12) as usize].to_string(),
        LAST[((r / 12) % 12) as usize].to_string(),
    )
}

fn phone(r: u64, row: usize) -> String {
    match r % 4 {
        0 => format!("697-555-{:04}", row),
        1 => format!("+1 (403) 555-{:04}", row),
        2 => format!("+44 20 7946 {:04}", row),
        _ => format!("07700 900{:03}", row % 1000),
    }
}

fn token(r: u64, row: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = r ^ (row as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..32)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state % 62) as usize] as char
        })
        .collect()
}

fn hex(r: u64, len: usize) -> String {
    let mut out = String::new();
    let mut state = r | 1;
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(&format!("{state:016x}"));
    }
    out.truncate(len);
    out
}

/// A realistic text value for a column with this label (the kind of data from its name, as
/// the application would store it).
fn text_value(name: &str, label: Label, row: usize, r: u64, _json: bool) -> String {
    let (first, last) = person(r);
    match label {
        Label::Security => {
            if has(name, &["pass", "crypt", "encrypted"]) && !has(name, &["salt"]) {
                format!(
                    "$2a$12${}",
                    &format!("{}{}", token(r, row), token(r >> 3, row))[..53]
                )
            } else if has(name, &["digest", "hashed", "salt"]) {
                hex(r, 64)
            } else if has(name, &["code", "otp"]) {
                format!("{:06}", r % 1_000_000)
            } else {
                token(r, row)
            }
        }
        Label::Personal => {
            if has(name, &["mail", "login", "identity", "sent_address"]) && !has(name, &["blocked"])
                || has(name, &["blocked_email"])
            {
                format!(
                    "{}.{}{row}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                )
            } else if has(name, &["phone", "fax", "mobile"]) {
                phone(r, row)
            } else if has(name, &["_ip", "ip_", "address"]) && has(name, &["ip"]) || name == "ip" {
                format!("81.{}.{}.{}", r % 200 + 20, row % 250, r % 199 + 1)
            } else if has(name, &["zip", "postal", "postcode"]) {
                if r.is_multiple_of(2) {
                    format!("{:05}", 10_000 + r % 89_999)
                } else {
                    "SW1A 1AA".to_string()
                }
            } else if has(name, &["address", "line", "street", "content"]) {
                STREETS[(r % 6) as usize].to_string()
            } else if has(name, &["username", "handle", "login", "nickname"]) {
                format!("{}{}{row}", first.to_lowercase(), &last[..1].to_lowercase())
            } else if has(name, &["first"]) {
                first
            } else if has(name, &["last"]) {
                last
            } else if has(name, &["avatar", "url"]) {
                format!("https://avatars.example.com/u/{row}?v=4")
            } else if has(name, &["number", "case"]) {
                format!("CINA-{:02}-{:04}", r % 30, row)
            } else if has(name, &["name", "payee", "requested_by", "title", "subject"]) {
                format!("{first} {last}")
            } else {
                format!(
                    "Spoke with {first} {last} on {} about the visit",
                    phone(r, row)
                )
            }
        }
        Label::Safe | Label::Ambiguous => {
            if has(name, &["url", "uri", "link", "website"]) {
                format!("https://example.org/{}/{row}", WORDS[(r % 12) as usize])
            } else if has(name, &["sha", "checksum", "digest"]) {
                hex(r, 64)
            } else if has(name, &["currency"]) {
                "USD".into()
            } else if has(name, &["country"]) {
                "GB".into()
            } else if has(name, &["version", "number"]) {
                format!("{}.{}.{}", r % 5, row % 10, r % 20)
            } else if has(
                name,
                &["type", "kind", "status", "state", "role", "mode", "scope"],
            ) {
                ["active", "pending", "archived"][(r % 3) as usize].into()
            } else {
                format!(
                    "{} {} {row}",
                    WORDS[(r % 12) as usize],
                    WORDS[((r / 12) % 12) as usize]
                )
            }
        }
    }
}

fn json_value(name: &str, label: Label, row: usize, r: u64) -> String {
    let (first, last) = person(r);
    match label {
        Label::Security => format!(
            "{{\"access_token\": \"{}\", \"expires_in\": 3600}}",
            token(r, row)
        ),
        Label::Personal => format!(
            "{{\"name\": \"{first} {last}\", \"contact\": {{\"email\": \"{}{row}@example.net\", \"phone\": \"{}\"}}}}",
            first.to_lowercase(),
            phone(r, row)
        ),
        Label::Safe | Label::Ambiguous => {
            let _ = name;
            format!(
                "{{\"enabled\": true, \"count\": {row}, \"mode\": \"{}\"}}",
                WORDS[(r % 12) as usize]
            )
        }
    }
}
