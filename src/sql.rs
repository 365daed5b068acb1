//! SQL text: quoted identifiers and literals, qualified names, and the screen a policy
//! condition (`where`) passes before PostgreSQL ever sees it (a small lexer). Pure.

use std::collections::BTreeSet;

/// An identifier quoted for SQL: `a "b"` becomes `"a ""b"""`.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A string literal for SQL, whatever `standard_conforming_strings` says (as PostgreSQL's own
/// `quote_literal`): `it's` becomes `'it''s'`, and a backslash makes it `E'…'` with `\\`.
pub fn quote_literal(value: &str) -> String {
    if value.contains('\\') {
        format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// `"schema"."name"`, each part quoted.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// What a condition calls, by name, for the database to judge (volatility).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    /// `(schema, name)` of every `name(` in the text; `schema` when written `schema.name(`.
    pub functions: BTreeSet<(Option<String>, String)>,
    /// Every operator written in the text (`||`, `@>`, `OPERATOR(s.+)`'s `+`).
    pub operators: BTreeSet<String>,
}

/// Why a condition is refused before PostgreSQL sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

/// Functions a condition may not call even though PostgreSQL marks some of them stable: they
/// read server files, other sessions or other tables. Matched on the lowercased name.
const DENIED_PREFIXES: &[&str] = &[
    "pg_read_",
    "pg_ls_",
    "pg_stat_",
    "pg_file",
    "lo_",
    "dblink",
    "pg_show_",
    "pg_hba_",
    "pg_ident_",
    "pg_terminate_",
    "pg_cancel_",
    "pg_advisory",
    "pg_try_advisory",
    "pg_logical_",
    "pg_replication_",
    "pg_get_backend",
    "pg_get_shmem",
    "pg_current_logfile",
    "pg_notify",
];
const DENIED_SUFFIXES: &[&str] = &["_to_xml", "_to_xmlschema", "_to_xml_and_xmlschema"];
const DENIED: &[&str] = &[
    "ts_stat",
    "pg_config",
    "pg_cursor",
    "pg_prepared_statement",
    "pg_lock_status",
    "pg_blocking_pids",
    "pg_safe_snapshot_blocking_pids",
    "pg_get_replication_slots",
    "pg_tablespace_location",
    "pg_relation_filepath",
    "set_config",
    "pg_sleep",
    "loread",
    "lowrite",
];

/// True for a function a condition may never call, whatever its volatility says.
pub fn is_denied_function(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    DENIED.contains(&name.as_str())
        || DENIED_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
        || DENIED_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// Screen a `where` condition before it is pasted into SQL: it must stay one expression inside
/// the parentheses it is put in. Refused: empty text, unterminated strings or quoted names,
/// comments, `;`, unbalanced parentheses or brackets, set operations (`UNION`, `INTERSECT`,
/// `EXCEPT`), sub-selects (`SELECT`, `TABLE`, `VALUES`, `WITH`), parameters, and functions that
/// read files, other sessions or other tables. Returns what it calls, for the database to judge.
pub fn screen_condition(text: &str) -> Result<Calls, Refusal> {
    let tokens = lex(text)?;
    if tokens.is_empty() {
        return Err(refusal(
            "the condition is empty",
            "write a SQL boolean expression over the table's columns, or remove `where`",
        ));
    }
    let mut calls = Calls::default();
    let mut parens: Vec<u8> = Vec::new();
    for (idx, token) in tokens.iter().enumerate() {
        let previous = idx.checked_sub(1).map(|idx| &tokens[idx]);
        let next = tokens.get(idx + 1);
        match token {
            Token::Punct(open @ (b'(' | b'[')) => parens.push(*open),
            Token::Punct(close @ (b')' | b']')) => {
                let open = if *close == b')' { b'(' } else { b'[' };
                if parens.pop() != Some(open) {
                    return Err(refusal(
                        &format!(
                            "the condition closes a `{}` it did not open",
                            char::from(*close)
                        ),
                        "a condition is one expression: balance its parentheses and brackets",
                    ));
                }
            }
            Token::Punct(b';') => {
                return Err(refusal(
                    "the condition contains `;`",
                    "a condition is one expression, not statements: remove the `;`",
                ));
            }
            Token::Param => {
                return Err(refusal(
                    "the condition contains a parameter (`$1`)",
                    "write the value itself",
                ));
            }
            Token::Word(word) => {
                let starts_query = matches!(previous, None | Some(Token::Punct(b'(')));
                match word.as_str() {
                    "union" | "intersect" | "except" => {
                        return Err(refusal(
                            &format!(
                                "the condition contains a set operation (`{}`)",
                                word.to_uppercase()
                            ),
                            "a condition filters its own table's rows: remove the set operation",
                        ));
                    }
                    "select" | "table" => return Err(sub_select(word)),
                    "values" | "with" if starts_query => return Err(sub_select(word)),
                    _ => {}
                }
            }
            Token::Op(operator) => {
                calls.operators.insert(operator.clone());
            }
            _ => {}
        }
        let name = match token {
            Token::Word(name) | Token::Quoted(name) => name,
            _ => continue,
        };
        if next != Some(&Token::Punct(b'(')) {
            continue;
        }
        let schema = match (previous, idx.checked_sub(2).map(|idx| &tokens[idx])) {
            (Some(Token::Punct(b'.')), Some(Token::Word(schema) | Token::Quoted(schema))) => {
                Some(schema.clone())
            }
            _ => None,
        };
        if is_denied_function(name) {
            return Err(refusal(
                &format!(
                    "the condition calls `{name}`, which reaches outside its row (server files, other sessions or other tables)"
                ),
                "a condition may only look at its own table's row",
            ));
        }
        calls.functions.insert((schema, name.clone()));
    }
    if let Some(open) = parens.last() {
        return Err(refusal(
            &format!("the condition leaves a `{}` unclosed", char::from(*open)),
            "a condition is one expression: balance its parentheses and brackets",
        ));
    }
    Ok(calls)
}

fn sub_select(word: &str) -> Refusal {
    refusal(
        &format!(
            "the condition contains a sub-select (`{}`)",
            word.to_uppercase()
        ),
        "a condition may only look at its own table's row: sub-selects are not allowed",
    )
}

fn refusal(message: &str, help: &str) -> Refusal {
    Refusal {
        message: message.to_string(),
        help: help.to_string(),
    }
}

/// A token of PostgreSQL's SQL, as far as the screen needs: strings and numbers are opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An unquoted word, lowercased (keywords and names alike).
    Word(String),
    /// A `"quoted"` identifier, as written inside the quotes (`""` undone).
    Quoted(String),
    /// A string constant of any kind ('', E'', $$…$$, B'', X'', N'', U&'').
    Str,
    Number,
    /// `$1`.
    Param,
    /// `::`.
    Cast,
    Op(String),
    /// `( ) [ ] , ; . :` and any other single byte.
    Punct(u8),
}

const OP_CHARS: &[u8] = b"+-*/<>=~!@#%^&|`?";

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

fn is_ident_char(byte: u8) -> bool {
    is_ident_start(byte) || byte.is_ascii_digit() || byte == b'$'
}

fn lex(text: &str) -> Result<Vec<Token>, Refusal> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    let unterminated = |what: &str| {
        refusal(
            &format!("the condition has an unterminated {what}"),
            "close it: a condition is one complete expression",
        )
    };
    while pos < bytes.len() {
        let byte = bytes[pos];
        let rest = &bytes[pos..];
        if byte.is_ascii_whitespace() {
            pos += 1;
        } else if rest.starts_with(b"--") || rest.starts_with(b"/*") {
            return Err(refusal(
                "the condition contains a comment",
                "remove the comment: a reviewer must see all of what runs on production",
            ));
        } else if byte == b'\'' {
            pos = skip_string(bytes, pos + 1, false).ok_or_else(|| unterminated("string"))?;
            tokens.push(Token::Str);
        } else if byte == b'"' {
            let (name, end) =
                quoted_ident(bytes, pos + 1).ok_or_else(|| unterminated("quoted name"))?;
            tokens.push(Token::Quoted(name));
            pos = end;
        } else if is_ident_start(byte) {
            let start = pos;
            while pos < bytes.len() && is_ident_char(bytes[pos]) {
                pos += 1;
            }
            let word = text[start..pos].to_ascii_lowercase();
            let next = bytes.get(pos).copied();
            match (word.as_str(), next) {
                ("e", Some(b'\'')) => {
                    pos =
                        skip_string(bytes, pos + 1, true).ok_or_else(|| unterminated("string"))?;
                    tokens.push(Token::Str);
                }
                ("b" | "x" | "n", Some(b'\'')) => {
                    pos =
                        skip_string(bytes, pos + 1, false).ok_or_else(|| unterminated("string"))?;
                    tokens.push(Token::Str);
                }
                ("u", Some(b'&')) if bytes.get(pos + 1) == Some(&b'\'') => {
                    pos =
                        skip_string(bytes, pos + 2, false).ok_or_else(|| unterminated("string"))?;
                    tokens.push(Token::Str);
                }
                ("u", Some(b'&')) if bytes.get(pos + 1) == Some(&b'"') => {
                    // Unicode escapes could spell any name: refuse rather than decode them.
                    return Err(refusal(
                        "the condition contains a `U&\"…\"` name",
                        "write the name plainly (`\"name\"`)",
                    ));
                }
                _ => tokens.push(Token::Word(word)),
            }
        } else if byte == b'$' {
            if bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
                pos += 1;
                while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                    pos += 1;
                }
                tokens.push(Token::Param);
                continue;
            }
            let mut end = pos + 1;
            if bytes.get(end).is_some_and(|&b| is_ident_start(b)) {
                while end < bytes.len() && is_ident_char(bytes[end]) && bytes[end] != b'$' {
                    end += 1;
                }
            }
            if bytes.get(end) != Some(&b'$') {
                return Err(refusal(
                    "the condition contains a stray `$`",
                    "quote names that contain `$` (`\"name$\"`)",
                ));
            }
            let tag = &bytes[pos..=end];
            let body = end + 1;
            let close =
                find(&bytes[body..], tag).ok_or_else(|| unterminated("dollar-quoted string"))?;
            pos = body + close + tag.len();
            tokens.push(Token::Str);
        } else if byte.is_ascii_digit()
            || (byte == b'.' && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit))
        {
            while pos < bytes.len()
                && (bytes[pos].is_ascii_alphanumeric() || bytes[pos] == b'.' || bytes[pos] == b'_')
            {
                pos += 1;
            }
            tokens.push(Token::Number);
        } else if rest.starts_with(b"::") {
            pos += 2;
            tokens.push(Token::Cast);
        } else if OP_CHARS.contains(&byte) {
            let start = pos;
            while pos < bytes.len()
                && OP_CHARS.contains(&bytes[pos])
                && !bytes[pos..].starts_with(b"--")
                && !bytes[pos..].starts_with(b"/*")
            {
                pos += 1;
            }
            // PostgreSQL's rule: a multi-character operator ends in `+` or `-` only if it
            // contains one of `~!@#%^&|`?`; otherwise the trailing signs are separate tokens.
            let mut end = pos;
            let special = bytes[start..end].iter().any(|b| b"~!@#%^&|`?".contains(b));
            while !special && end - start > 1 && matches!(bytes[end - 1], b'+' | b'-') {
                end -= 1;
            }
            pos = end;
            tokens.push(Token::Op(text[start..end].to_string()));
        } else {
            // `( ) [ ] , ; . :` and bytes PostgreSQL itself will refuse.
            tokens.push(Token::Punct(byte));
            pos += 1;
        }
    }
    Ok(tokens)
}

/// Past the closing quote of a string whose body starts at `pos`; `None` when unterminated.
fn skip_string(bytes: &[u8], mut pos: usize, backslash_escapes: bool) -> Option<usize> {
    while pos < bytes.len() {
        match bytes[pos] {
            b'\\' if backslash_escapes => pos += 2,
            b'\'' if bytes.get(pos + 1) == Some(&b'\'') => pos += 2,
            b'\'' => return Some(pos + 1),
            _ => pos += 1,
        }
    }
    None
}

/// The name inside `"…"` whose body starts at `pos`, and the position past the closing quote.
fn quoted_ident(bytes: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut name = Vec::new();
    while pos < bytes.len() {
        match bytes[pos] {
            b'"' if bytes.get(pos + 1) == Some(&b'"') => {
                name.push(b'"');
                pos += 2;
            }
            b'"' => return Some((String::from_utf8_lossy(&name).into_owned(), pos + 1)),
            byte => {
                name.push(byte);
                pos += 1;
            }
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(condition: &str, expected: &str) {
        let actual = match screen_condition(condition) {
            Ok(calls) => {
                let functions: Vec<String> = calls
                    .functions
                    .iter()
                    .map(|(schema, name)| match schema {
                        Some(schema) => format!("{schema}.{name}"),
                        None => name.clone(),
                    })
                    .collect();
                let operators: Vec<&str> = calls.operators.iter().map(String::as_str).collect();
                format!(
                    "ok functions=[{}] operators=[{}]",
                    functions.join(" "),
                    operators.join(" ")
                )
            }
            Err(refusal) => format!("refused: {}", refusal.message),
        };
        assert_eq!(actual, expected, "condition: {condition}");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident(r#"a "b""#), r#""a ""b""""#);
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\'b"), r"E'a\\''b'");
        assert_eq!(qualified("public", "Users"), r#""public"."Users""#);
    }

    #[test]
    fn plain_conditions_pass_and_name_what_they_call() {
        check(
            "created_at > now() - interval '2 years'",
            "ok functions=[now] operators=[- >]",
        );
        check("id < 10", "ok functions=[] operators=[<]");
        check(
            "lower(email) LIKE '%@example.com' AND pg_catalog.length(name) > 3",
            "ok functions=[lower pg_catalog.length] operators=[>]",
        );
        check(
            r#"tags @> ARRAY['a'] AND "Weird Name"::int = -1"#,
            "ok functions=[] operators=[- = @>]",
        );
        check("a =-1", "ok functions=[] operators=[- =]");
        check("a @- 1", "ok functions=[] operators=[@-]");
        check(
            "x OPERATOR(pg_catalog.+) 1 = 2",
            "ok functions=[operator] operators=[+ =]",
        );
        check("\"f\"(x)", "ok functions=[f] operators=[]");
    }

    #[test]
    fn strings_hide_nothing() {
        check(
            "note = 'a ; -- /* UNION SELECT )'",
            "ok functions=[] operators=[=]",
        );
        check(r"note = E'it\'s ; )'", "ok functions=[] operators=[=]");
        check("note = 'it''s ; )'", "ok functions=[] operators=[=]");
        check("note = $x$ ) ; $y$ $x$", "ok functions=[] operators=[=]");
        check("note = $$ ) ; $$", "ok functions=[] operators=[=]");
        check("a$b = 1", "ok functions=[] operators=[=]");
        check(r#""a "" ; )" = 1"#, "ok functions=[] operators=[=]");
        check(
            "note = 'open",
            "refused: the condition has an unterminated string",
        );
        check(
            r"note = E'open\'",
            "refused: the condition has an unterminated string",
        );
        check(
            "note = $x$ open $y$",
            "refused: the condition has an unterminated dollar-quoted string",
        );
        check(
            "\"open = 1",
            "refused: the condition has an unterminated quoted name",
        );
    }

    #[test]
    fn escapes_from_the_parentheses_are_refused() {
        check(
            "true) UNION ALL (SELECT token FROM sessions s",
            "refused: the condition closes a `)` it did not open",
        );
        check(
            "true UNION ALL SELECT 1",
            "refused: the condition contains a set operation (`UNION`)",
        );
        check("(true", "refused: the condition leaves a `(` unclosed");
        check(
            "id = 1; DROP TABLE users",
            "refused: the condition contains `;`",
        );
        check("id = 1 -- )", "refused: the condition contains a comment");
        check(
            "id = 1 /* ) */",
            "refused: the condition contains a comment",
        );
        check("id =/* x */1", "refused: the condition contains a comment");
        check(
            "id IN (SELECT user_id FROM sessions)",
            "refused: the condition contains a sub-select (`SELECT`)",
        );
        check(
            "id IN (VALUES (1))",
            "refused: the condition contains a sub-select (`VALUES`)",
        );
        check(
            "EXISTS (TABLE sessions)",
            "refused: the condition contains a sub-select (`TABLE`)",
        );
        check(
            "id = $1",
            "refused: the condition contains a parameter (`$1`)",
        );
        check("   ", "refused: the condition is empty");
        check(
            "U&\"d\\0061ta\" = 1",
            "refused: the condition contains a `U&\"…\"` name",
        );
        check("id = 1 $", "refused: the condition contains a stray `$`");
    }

    #[test]
    fn functions_that_read_outside_the_row_are_refused() {
        check(
            "length(pg_read_file('/etc/passwd')) > 0",
            "refused: the condition calls `pg_read_file`, which reaches outside its row (server files, other sessions or other tables)",
        );
        check(
            "pg_catalog.\"pg_ls_dir\"('.') IS NOT NULL",
            "refused: the condition calls `pg_ls_dir`, which reaches outside its row (server files, other sessions or other tables)",
        );
        check(
            "length(table_to_xml('sessions', true, false, '')::text) > 0",
            "refused: the condition calls `table_to_xml`, which reaches outside its row (server files, other sessions or other tables)",
        );
        check(
            "pg_terminate_backend(42)",
            "refused: the condition calls `pg_terminate_backend`, which reaches outside its row (server files, other sessions or other tables)",
        );
        check(
            "LO_EXPORT(1, '/tmp/x') = 1",
            "refused: the condition calls `lo_export`, which reaches outside its row (server files, other sessions or other tables)",
        );
        // Volatile functions are the database's to judge (`pg_proc.provolatile`).
        check("random() < 0.5", "ok functions=[random] operators=[<]");
    }
}
