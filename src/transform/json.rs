//! `json`: rules per JSON path applied while streaming over the document's text. Values
//! at other paths are copied byte for byte (key order, spacing and number spelling kept).

use super::{ColumnTransform, Format, Salt, TransformError, Written};
use crate::policy::model::{JsonRule, JsonStep, Strategy};
use crate::sqltype::{BaseType, SqlType};

/// How deep a rule may walk into a document. Parts no rule reaches are copied by a loop at
/// any depth (PostgreSQL accepts documents nested thousands deep); walking deeper than this
/// under a rule is an error, never a stack overflow.
pub(crate) const MAX_RULE_DEPTH: usize = 1000;

pub(crate) struct JsonTransform {
    rules: Vec<PathRule>,
    /// The longest rule path: below it, with no rule in force, values are copied as they are.
    max_steps: usize,
    path: Vec<Seg>,
    keys: Vec<u8>,
    leaf_in: Vec<u8>,
    leaf_out: Vec<u8>,
}

struct PathRule {
    steps: Vec<JsonStep>,
    action: Action,
}

enum Action {
    Keep,
    /// Replace the whole value (containers included) by this JSON text.
    Replace(Vec<u8>),
    Leaves(Box<Leaves>),
}

/// One transform per kind of leaf the rule can meet (built where the strategy applies).
struct Leaves {
    redact: bool,
    string: Option<ColumnTransform>,
    date: Option<ColumnTransform>,
    timestamp: Option<ColumnTransform>,
    number: Option<ColumnTransform>,
    boolean: Option<ColumnTransform>,
}

enum Seg {
    Key(usize, usize),
    Index,
}

fn malformed() -> TransformError {
    TransformError("malformed json value".into())
}

impl JsonTransform {
    pub fn new(rules: &[JsonRule], salt: &Salt) -> Result<JsonTransform, TransformError> {
        let mut built = Vec::new();
        for json_rule in rules {
            let path = &json_rule.path.text;
            let action = match &json_rule.rule.strategy {
                Strategy::Keep => Action::Keep,
                Strategy::Null => Action::Replace(b"null".to_vec()),
                Strategy::Const(text) => {
                    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                        Action::Replace(text.as_bytes().to_vec())
                    } else {
                        let mut quoted = Vec::new();
                        write_json_string(&mut quoted, text.as_bytes());
                        Action::Replace(quoted)
                    }
                }
                Strategy::Json(_) | Strategy::Todo { .. } => {
                    return Err(TransformError(format!(
                        "the rule for json path `{path}` is not allowed inside `json`"
                    )));
                }
                _ => {
                    let build = |base: BaseType, name: &str| {
                        ColumnTransform::new(
                            &json_rule.rule,
                            &SqlType::simple(base, name),
                            Format::Text,
                            salt,
                        )
                        .ok()
                    };
                    let temporal = matches!(
                        json_rule.rule.strategy,
                        Strategy::Shift { .. }
                            | Strategy::Generalise(
                                crate::policy::model::Generalise::Month
                                    | crate::policy::model::Generalise::Year
                            )
                    );
                    let leaves = Leaves {
                        redact: json_rule.rule.strategy == Strategy::Redact,
                        string: if temporal {
                            None
                        } else {
                            build(BaseType::Text, "text")
                        },
                        date: build(BaseType::Date, "date"),
                        timestamp: build(BaseType::Timestamptz, "timestamptz"),
                        number: build(BaseType::Numeric, "numeric"),
                        boolean: build(BaseType::Bool, "boolean"),
                    };
                    if leaves.string.is_none() && leaves.number.is_none() && leaves.date.is_none() {
                        return Err(TransformError(format!(
                            "the rule for json path `{path}` cannot apply to json strings or numbers"
                        )));
                    }
                    Action::Leaves(Box::new(leaves))
                }
            };
            built.push(PathRule {
                steps: json_rule.path.steps.clone(),
                action,
            });
        }
        Ok(JsonTransform {
            max_steps: built.iter().map(|rule| rule.steps.len()).max().unwrap_or(0),
            rules: built,
            path: Vec::new(),
            keys: Vec::new(),
            leaf_in: Vec::new(),
            leaf_out: Vec::new(),
        })
    }

    /// Append the transformed document.
    pub fn transform(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), TransformError> {
        self.path.clear();
        self.keys.clear();
        let mut pos = 0;
        self.value(bytes, &mut pos, out, None)?;
        copy_ws(bytes, &mut pos, out);
        if pos != bytes.len() {
            return Err(malformed());
        }
        Ok(())
    }

    fn matching_rule(&self) -> Option<usize> {
        self.rules.iter().position(|rule| {
            rule.steps.len() == self.path.len()
                && rule
                    .steps
                    .iter()
                    .zip(&self.path)
                    .all(|(step, seg)| match (step, seg) {
                        (JsonStep::EveryElement, Seg::Index) => true,
                        (JsonStep::Key(key), Seg::Key(start, end)) => {
                            key.as_bytes() == &self.keys[*start..*end]
                        }
                        _ => false,
                    })
        })
    }

    fn value(
        &mut self,
        s: &[u8],
        pos: &mut usize,
        out: &mut Vec<u8>,
        forced: Option<usize>,
    ) -> Result<(), TransformError> {
        copy_ws(s, pos, out);
        let rule = forced.or_else(|| self.matching_rule());
        let first = *s.get(*pos).ok_or_else(malformed)?;
        let container = first == b'{' || first == b'[';
        if rule.is_none() && self.path.len() >= self.max_steps {
            // No rule applies here or below: copy the value as it is, iteratively.
            let start = *pos;
            skip_value(s, pos)?;
            out.extend_from_slice(&s[start..*pos]);
            return Ok(());
        }
        if container && self.path.len() >= MAX_RULE_DEPTH {
            return Err(TransformError(format!(
                "a json value is nested deeper than {MAX_RULE_DEPTH} levels where a rule applies: \
                 keep or replace the enclosing path as a whole"
            )));
        }
        if let Some(index) = rule {
            match &self.rules[index].action {
                Action::Keep => {
                    let start = *pos;
                    skip_value(s, pos)?;
                    out.extend_from_slice(&s[start..*pos]);
                    return Ok(());
                }
                Action::Replace(literal) => {
                    skip_value(s, pos)?;
                    out.extend_from_slice(literal);
                    return Ok(());
                }
                Action::Leaves(leaves) => {
                    if container && leaves.redact {
                        skip_value(s, pos)?;
                        out.extend_from_slice(if first == b'{' { b"{}" } else { b"[]" });
                        return Ok(());
                    }
                    if !container {
                        return self.leaf(index, s, pos, out);
                    }
                }
            }
        }
        match first {
            b'{' => {
                out.push(b'{');
                *pos += 1;
                copy_ws(s, pos, out);
                if s.get(*pos) == Some(&b'}') {
                    out.push(b'}');
                    *pos += 1;
                    return Ok(());
                }
                loop {
                    copy_ws(s, pos, out);
                    let key_start = *pos;
                    let arena = self.keys.len();
                    let mut key = std::mem::take(&mut self.keys);
                    scan_string(s, pos, Some(&mut key))?;
                    self.keys = key;
                    out.extend_from_slice(&s[key_start..*pos]);
                    copy_ws(s, pos, out);
                    if s.get(*pos) != Some(&b':') {
                        return Err(malformed());
                    }
                    out.push(b':');
                    *pos += 1;
                    self.path.push(Seg::Key(arena, self.keys.len()));
                    self.value(s, pos, out, rule)?;
                    self.path.pop();
                    self.keys.truncate(arena);
                    copy_ws(s, pos, out);
                    match s.get(*pos) {
                        Some(b',') => out.push(b','),
                        Some(b'}') => {
                            out.push(b'}');
                            *pos += 1;
                            return Ok(());
                        }
                        _ => return Err(malformed()),
                    }
                    *pos += 1;
                }
            }
            b'[' => {
                out.push(b'[');
                *pos += 1;
                copy_ws(s, pos, out);
                if s.get(*pos) == Some(&b']') {
                    out.push(b']');
                    *pos += 1;
                    return Ok(());
                }
                loop {
                    self.path.push(Seg::Index);
                    self.value(s, pos, out, rule)?;
                    self.path.pop();
                    copy_ws(s, pos, out);
                    match s.get(*pos) {
                        Some(b',') => out.push(b','),
                        Some(b']') => {
                            out.push(b']');
                            *pos += 1;
                            return Ok(());
                        }
                        _ => return Err(malformed()),
                    }
                    *pos += 1;
                }
            }
            _ => {
                let start = *pos;
                skip_value(s, pos)?;
                out.extend_from_slice(&s[start..*pos]);
                Ok(())
            }
        }
    }

    /// Apply rule `index` to the leaf (string, number, bool or null) at `pos`.
    fn leaf(
        &mut self,
        index: usize,
        s: &[u8],
        pos: &mut usize,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        let Action::Leaves(leaves) = &mut self.rules[index].action else {
            unreachable!("leaf called for a leaf rule");
        };
        let start = *pos;
        self.leaf_in.clear();
        self.leaf_out.clear();
        let no_rule = || {
            TransformError(format!(
                "a json value at a `{}` rule has a type the rule cannot handle",
                "json"
            ))
        };
        match s[start] {
            b'"' => {
                scan_string(s, pos, Some(&mut self.leaf_in))?;
                let (transform, as_string) =
                    match (&mut leaves.string, &mut leaves.date, &mut leaves.timestamp) {
                        (Some(text), _, _) => (text, true),
                        (None, Some(date), _) if self.leaf_in.len() == 10 => (date, true),
                        (None, _, Some(timestamp)) => (timestamp, true),
                        _ => return Err(no_rule()),
                    };
                let written = transform.apply(Some(&self.leaf_in), &mut self.leaf_out)?;
                write_leaf(out, written, &self.leaf_out, as_string);
            }
            b'n' => {
                skip_value(s, pos)?;
                out.extend_from_slice(b"null");
            }
            b't' | b'f' => {
                skip_value(s, pos)?;
                let literal = &s[start..*pos];
                if let Some(boolean) = &mut leaves.boolean {
                    let input: &[u8] = if literal == b"true" { b"t" } else { b"f" };
                    match boolean.apply(Some(input), &mut self.leaf_out)? {
                        Written::Null => out.extend_from_slice(b"null"),
                        Written::Value => out.extend_from_slice(if self.leaf_out == b"t" {
                            b"true"
                        } else {
                            b"false"
                        }),
                    }
                } else if let Some(text) = &mut leaves.string {
                    let written = text.apply(Some(literal), &mut self.leaf_out)?;
                    write_leaf(out, written, &self.leaf_out, true);
                } else {
                    return Err(no_rule());
                }
            }
            _ => {
                skip_value(s, pos)?;
                let literal = &s[start..*pos];
                let plain = !literal.iter().any(|b| matches!(b, b'e' | b'E'));
                let mut normalised = Vec::new();
                let literal = if plain {
                    literal
                } else {
                    let number: f64 = std::str::from_utf8(literal)
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .ok_or_else(malformed)?;
                    normalised.extend_from_slice(format!("{number}").as_bytes());
                    &normalised
                };
                if let Some(number) = &mut leaves.number {
                    let written = number.apply(Some(literal), &mut self.leaf_out)?;
                    write_leaf(out, written, &self.leaf_out, false);
                } else if let Some(text) = &mut leaves.string {
                    let written = text.apply(Some(literal), &mut self.leaf_out)?;
                    write_leaf(out, written, &self.leaf_out, true);
                } else {
                    return Err(no_rule());
                }
            }
        }
        Ok(())
    }
}

fn write_leaf(out: &mut Vec<u8>, written: Written, value: &[u8], as_string: bool) {
    match (written, as_string) {
        (Written::Null, _) => out.extend_from_slice(b"null"),
        (Written::Value, true) => write_json_string(out, value),
        (Written::Value, false) => out.extend_from_slice(value),
    }
}

fn copy_ws(s: &[u8], pos: &mut usize, out: &mut Vec<u8>) {
    while let Some(&b) = s.get(*pos) {
        if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        out.push(b);
        *pos += 1;
    }
}

fn skip_ws(s: &[u8], pos: &mut usize) {
    while matches!(s.get(*pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *pos += 1;
    }
}

/// Move past one JSON value, at any depth: a loop with a stack of open containers.
fn skip_value(s: &[u8], pos: &mut usize) -> Result<(), TransformError> {
    // `true` for an object, `false` for an array; allocated only for containers.
    let mut open: Vec<bool> = Vec::new();
    loop {
        // At the start of a value.
        skip_ws(s, pos);
        match *s.get(*pos).ok_or_else(malformed)? {
            b'"' => scan_string(s, pos, None)?,
            bracket @ (b'{' | b'[') => {
                let object = bracket == b'{';
                *pos += 1;
                skip_ws(s, pos);
                if s.get(*pos) == Some(if object { &b'}' } else { &b']' }) {
                    *pos += 1;
                } else {
                    open.push(object);
                    if object {
                        skip_key(s, pos)?;
                    }
                    continue;
                }
            }
            _ => {
                let start = *pos;
                while let Some(&b) = s.get(*pos) {
                    if !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')) {
                        break;
                    }
                    *pos += 1;
                }
                if *pos == start {
                    return Err(malformed());
                }
            }
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(&object) = open.last() else {
                return Ok(());
            };
            skip_ws(s, pos);
            match s.get(*pos) {
                Some(b',') => {
                    *pos += 1;
                    if object {
                        skip_key(s, pos)?;
                    }
                    break;
                }
                Some(b'}') if object => {
                    *pos += 1;
                    open.pop();
                }
                Some(b']') if !object => {
                    *pos += 1;
                    open.pop();
                }
                _ => return Err(malformed()),
            }
        }
    }
}

/// Move past `"key" :` inside an object.
fn skip_key(s: &[u8], pos: &mut usize) -> Result<(), TransformError> {
    skip_ws(s, pos);
    scan_string(s, pos, None)?;
    skip_ws(s, pos);
    if s.get(*pos) != Some(&b':') {
        return Err(malformed());
    }
    *pos += 1;
    Ok(())
}

/// Move past a JSON string at `pos`, unescaping its content into `into` when given.
/// Runs without escapes are found with `memchr` and copied as slices.
fn scan_string(
    s: &[u8],
    pos: &mut usize,
    mut into: Option<&mut Vec<u8>>,
) -> Result<(), TransformError> {
    if s.get(*pos) != Some(&b'"') {
        return Err(malformed());
    }
    *pos += 1;
    loop {
        let rest = s.get(*pos..).ok_or_else(malformed)?;
        let at = memchr::memchr2(b'"', b'\\', rest).ok_or_else(malformed)?;
        if let Some(into) = into.as_deref_mut() {
            into.extend_from_slice(&rest[..at]);
        }
        *pos += at + 1;
        if rest[at] == b'"' {
            return Ok(());
        }
        unescape(s, pos, into.as_deref_mut())?;
    }
}

/// Decode the escape after a backslash at `pos` into `into` (or only move past it).
fn unescape(s: &[u8], pos: &mut usize, into: Option<&mut Vec<u8>>) -> Result<(), TransformError> {
    let escape = *s.get(*pos).ok_or_else(malformed)?;
    *pos += 1;
    let Some(into) = into else {
        if escape == b'u' {
            *pos += 4;
        }
        return Ok(());
    };
    let simple = match escape {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 8,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let mut code = read_hex4(s, pos)?;
            if (0xD800..0xDC00).contains(&code) && s.get(*pos..*pos + 2) == Some(b"\\u") {
                *pos += 2;
                let low = read_hex4(s, pos)?;
                code = 0x10000 + ((code - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
            }
            let c = char::from_u32(code).unwrap_or('\u{FFFD}');
            let mut utf8 = [0u8; 4];
            into.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            return Ok(());
        }
        _ => return Err(malformed()),
    };
    into.push(simple);
    Ok(())
}

fn read_hex4(s: &[u8], pos: &mut usize) -> Result<u32, TransformError> {
    let digits = s.get(*pos..*pos + 4).ok_or_else(malformed)?;
    let mut code = 0u32;
    for &d in digits {
        code = code * 16 + super::value::hex_val(d).ok_or_else(malformed)? as u32;
    }
    *pos += 4;
    Ok(code)
}

/// Append `text` as a JSON string literal; runs that need no escape are copied as slices.
pub(crate) fn write_json_string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    let mut rest = text;
    while let Some(at) = rest
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
    {
        out.extend_from_slice(&rest[..at]);
        match rest[at] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            control => {
                out.extend_from_slice(b"\\u00");
                super::value::write_hex(out, &[control]);
            }
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time versions these functions replaced: the reference for their output.
    mod reference {
        use super::super::{TransformError, malformed, unescape};

        pub fn scan_string(
            s: &[u8],
            pos: &mut usize,
            mut into: Option<&mut Vec<u8>>,
        ) -> Result<(), TransformError> {
            if s.get(*pos) != Some(&b'"') {
                return Err(malformed());
            }
            *pos += 1;
            loop {
                let b = *s.get(*pos).ok_or_else(malformed)?;
                *pos += 1;
                match b {
                    b'"' => return Ok(()),
                    b'\\' => unescape(s, pos, into.as_deref_mut())?,
                    _ => {
                        if let Some(into) = into.as_deref_mut() {
                            into.push(b);
                        }
                    }
                }
            }
        }

        pub fn write_json_string(out: &mut Vec<u8>, text: &[u8]) {
            out.push(b'"');
            for &b in text {
                match b {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    0..0x20 => {
                        out.extend_from_slice(b"\\u00");
                        super::super::super::value::write_hex(out, &[b]);
                    }
                    _ => out.push(b),
                }
            }
            out.push(b'"');
        }
    }

    /// Byte strings built from JSON's special characters and ordinary text: every mix of
    /// escapes, quotes, control bytes, UTF-8 and truncations.
    fn samples() -> Vec<Vec<u8>> {
        let pieces: [&[u8]; 16] = [
            b"a",
            b"plain text ",
            b"\"",
            b"\\",
            b"\\\"",
            b"\\n",
            b"\\u00e9",
            b"\\ud83d\\ude00",
            b"\\ud83d",
            b"\\uzzzz",
            b"\\x",
            b"\n\t\x01\x1f",
            "é€😀".as_bytes(),
            b"/",
            b"\\/\\b\\f\\r\\t",
            b"\xff\xfe",
        ];
        let mut samples = Vec::new();
        for i in 0..pieces.len() {
            for j in 0..pieces.len() {
                for k in [0, 1, 6, 11] {
                    samples.push([pieces[i], pieces[j], pieces[k]].concat());
                }
            }
        }
        samples
    }

    #[test]
    fn scan_string_matches_the_byte_loop() {
        for content in samples() {
            for tail in [&b"\""[..], b"\" : 1}", b"", b"\\"] {
                let doc = [&b"\""[..], &content, tail].concat();
                for unescape in [false, true] {
                    let (mut pos, mut expected_pos) = (0, 0);
                    let (mut into, mut expected_into) = (b"kept".to_vec(), b"kept".to_vec());
                    let result = scan_string(&doc, &mut pos, unescape.then_some(&mut into));
                    let expected = reference::scan_string(
                        &doc,
                        &mut expected_pos,
                        unescape.then_some(&mut expected_into),
                    );
                    assert_eq!(result, expected, "{doc:?}");
                    if result.is_ok() {
                        assert_eq!((pos, &into), (expected_pos, &expected_into), "{doc:?}");
                    }
                }
            }
        }
    }

    /// Rules that overlap, repeat a path (the first wins), walk arrays of arrays and reach
    /// containers, over documents with escaped and repeated keys and unusual spacing.
    fn walk_cases() -> (Vec<JsonRule>, Vec<&'static str>) {
        use crate::policy::model::{FakeKind, Generalise, JsonPath, Rule};
        let rule = |steps: &[&str], strategy: Strategy| JsonRule {
            path: JsonPath {
                text: format!("$.{}", steps.join(".")),
                steps: steps
                    .iter()
                    .map(|step| match *step {
                        "*" => JsonStep::EveryElement,
                        key => JsonStep::Key(key.into()),
                    })
                    .collect(),
            },
            rule: Rule::new(strategy),
        };
        let rules = vec![
            rule(&["actor", "email"], Strategy::fake(FakeKind::Email)),
            rule(&["actor", "email"], Strategy::Redact),
            rule(&["actor", "ip"], Strategy::fake(FakeKind::Ipv4)),
            rule(&["actor", "user_agent"], Strategy::Redact),
            rule(&["items", "*", "email"], Strategy::fake(FakeKind::Email)),
            rule(&["items", "*"], Strategy::Hash),
            rule(
                &["grid", "*", "*"],
                Strategy::Generalise(Generalise::Bucket(10.0)),
            ),
            rule(&["keep"], Strategy::Keep),
            rule(&["keep", "inner"], Strategy::Hash),
            rule(&["gone"], Strategy::Null),
            rule(&["secret"], Strategy::Redact),
            rule(&["é\"k"], Strategy::Hash),
            rule(&["*"], Strategy::Hash),
            rule(&["deep", "a", "b", "c"], Strategy::Hash),
        ];
        let documents = vec![
            r#"{"kind": "order.placed", "actor": {"ip": "10.1.2.3", "email": "Bob@Example.com"}, "items": [{"qty": 2, "sku": "SKU-1", "email": "gift@example.org"}, {"qty": 1, "email": null}, 7, "x"], "request_id": "r1"}"#,
            r#"{"actor":{"user_agent":"Mozilla \"5.0\"\n","email":"a\u0040b.c","ip":"::1"},"actor":{"email":"second@x.y"}}"#,
            r#"{ "act\u006fr" : { "email" : "escaped-key@x.y" } , "grid" : [ [ 1 , 25.5 , -3e2 ] , [ ] , [ [ 4 ] ] ] }"#,
            r#"{"keep": {"inner": "stays", "n": [1, 2]}, "gone": {"x": 1}, "secret": [1, {"a": 2}], "secret2": "kept"}"#,
            r#"{"\u00e9\"k": "hashed", "é\"k": "also", "items": {"email": "not an array"}}"#,
            r#"[{"actor": {"email": "top-level array"}}, "el", 3]"#,
            r#""just a string""#,
            "\t{\r\n\"deep\": {\"a\": {\"b\": {\"c\": [\"x\", {\"d\": 1}], \"z\": true}}}, \"items\": [[1], {\"email\": \"E@X.Y\"}]}\n",
            r#"{"items": [true, false, null, 1.5, -0, 12345678901234567890]}"#,
            r#"{}"#,
            r#"[]"#,
        ];
        (rules, documents)
    }

    #[test]
    fn walks_documents_to_the_same_bytes() {
        let (rules, documents) = walk_cases();
        let mut json = JsonTransform::new(&rules, &Salt::new("walk-salt")).unwrap();
        let mut outputs = String::new();
        for document in documents {
            let mut out = Vec::new();
            json.transform(document.as_bytes(), &mut out).unwrap();
            outputs.push_str(std::str::from_utf8(&out).unwrap());
            outputs.push('\n');
        }
        insta::assert_snapshot!(outputs);
    }

    #[test]
    fn write_json_string_matches_the_byte_loop() {
        let mut all_bytes: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b, b'x', b]).collect();
        all_bytes.extend(samples());
        for text in all_bytes {
            let (mut out, mut expected) = (b"[".to_vec(), b"[".to_vec());
            write_json_string(&mut out, &text);
            reference::write_json_string(&mut expected, &text);
            assert_eq!(out, expected, "{text:?}");
        }
    }
}
