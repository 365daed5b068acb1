//! `xml`: rules per XML path applied while scanning the document's text. Text nodes of the
//! matched elements and the matched attribute values are rewritten; everything else (the
//! declaration, namespaces, comments, CDATA elsewhere, spacing, quoting) is copied byte for
//! byte. A small, bounded-depth scanner: no DTD processing, no entity expansion beyond XML's
//! five and character references. Pure.

use super::{ColumnTransform, Format, Salt, TransformError, Written};
use crate::policy::model::{Strategy, XmlPath, XmlRule};
use crate::sqltype::{BaseType, SqlType};

/// Elements nested deeper than this are refused rather than followed.
pub(crate) const MAX_DEPTH: usize = 256;

pub(crate) struct XmlTransform {
    rules: Vec<(XmlPath, ColumnTransform)>,
    /// Qualified names of the open elements, as byte ranges of the current document.
    stack: Vec<(usize, usize)>,
    text_in: Vec<u8>,
    text_out: Vec<u8>,
}

fn malformed(what: &str) -> TransformError {
    TransformError(format!("malformed xml value ({what})"))
}

impl XmlTransform {
    pub fn new(rules: &[XmlRule], salt: &Salt) -> Result<XmlTransform, TransformError> {
        let mut built = Vec::new();
        for xml_rule in rules {
            let path = &xml_rule.path.text;
            if matches!(
                xml_rule.rule.strategy,
                Strategy::Json(_) | Strategy::Xml(_) | Strategy::Todo { .. }
            ) {
                return Err(TransformError(format!(
                    "the rule for xml path `{path}` is not allowed inside `xml`"
                )));
            }
            if xml_rule.rule.is_keep() {
                continue;
            }
            let transform = ColumnTransform::new(
                &xml_rule.rule,
                &SqlType::simple(BaseType::Text, "text"),
                Format::Text,
                salt,
            )
            .map_err(|err| TransformError(format!("the rule for xml path `{path}`: {}", err.0)))?;
            built.push((xml_rule.path.clone(), transform));
        }
        Ok(XmlTransform {
            rules: built,
            stack: Vec::new(),
            text_in: Vec::new(),
            text_out: Vec::new(),
        })
    }

    /// Append the transformed document (or content fragment) to `out`.
    pub fn transform(&mut self, doc: &[u8], out: &mut Vec<u8>) -> Result<(), TransformError> {
        let start = out.len();
        self.stack.clear();
        let result = self.scan(doc, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn scan(&mut self, s: &[u8], out: &mut Vec<u8>) -> Result<(), TransformError> {
        let mut pos = 0;
        while pos < s.len() {
            if s[pos] != b'<' {
                let end = find(s, pos, b"<").unwrap_or(s.len());
                self.text(s, pos, end, out)?;
                pos = end;
                continue;
            }
            let rest = &s[pos..];
            if rest.starts_with(b"<?") {
                pos = copy_until(s, pos, b"?>", out)?;
            } else if rest.starts_with(b"<!--") {
                pos = copy_until(s, pos, b"-->", out)?;
            } else if rest.starts_with(b"<![CDATA[") {
                let body = pos + b"<![CDATA[".len();
                let end = find(s, body, b"]]>").ok_or_else(|| malformed("unclosed CDATA"))?;
                match self.element_rule(s) {
                    Some(index) => {
                        self.text_in.clear();
                        self.text_in.extend_from_slice(&s[body..end]);
                        self.rewrite(index, out)?;
                    }
                    None => out.extend_from_slice(&s[pos..end + 3]),
                }
                pos = end + 3;
            } else if rest.starts_with(b"<!") {
                pos = copy_declaration(s, pos, out)?;
            } else if rest.starts_with(b"</") {
                let name_start = pos + 2;
                let end_name = name_end(s, name_start);
                let close = find(s, end_name, b">").ok_or_else(|| malformed("unclosed end tag"))?;
                let (open_start, open_end) = self
                    .stack
                    .pop()
                    .ok_or_else(|| malformed("unexpected end tag"))?;
                if s[open_start..open_end] != s[name_start..end_name] {
                    return Err(malformed("mismatched end tag"));
                }
                out.extend_from_slice(&s[pos..=close]);
                pos = close + 1;
            } else {
                pos = self.start_tag(s, pos, out)?;
            }
        }
        if !self.stack.is_empty() {
            return Err(malformed("unclosed element"));
        }
        Ok(())
    }

    /// A start tag at `pos`: its attributes, rewritten where a rule matches. Returns the
    /// position after it.
    fn start_tag(
        &mut self,
        s: &[u8],
        pos: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, TransformError> {
        let name_start = pos + 1;
        let tag_name_end = name_end(s, name_start);
        if tag_name_end == name_start {
            return Err(malformed("a `<` that starts no tag"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(TransformError(format!(
                "xml value nested deeper than {MAX_DEPTH} elements"
            )));
        }
        self.stack.push((name_start, tag_name_end));
        out.extend_from_slice(&s[pos..tag_name_end]);
        let mut at = tag_name_end;
        loop {
            let ws_end = skip_ws(s, at);
            out.extend_from_slice(&s[at..ws_end]);
            at = ws_end;
            match s.get(at) {
                None => return Err(malformed("unclosed start tag")),
                Some(b'>') => {
                    out.push(b'>');
                    return Ok(at + 1);
                }
                Some(b'/') if s.get(at + 1) == Some(&b'>') => {
                    out.extend_from_slice(b"/>");
                    self.stack.pop();
                    return Ok(at + 2);
                }
                Some(_) => {}
            }
            // An attribute: name, `=`, a quoted value.
            let attr_start = at;
            let attr_end = name_end(s, at);
            if attr_end == attr_start {
                return Err(malformed("bad attribute"));
            }
            let eq = skip_ws(s, attr_end);
            if s.get(eq) != Some(&b'=') {
                return Err(malformed("attribute without a value"));
            }
            let open = skip_ws(s, eq + 1);
            let quote = *s.get(open).ok_or_else(|| malformed("unclosed start tag"))?;
            if quote != b'"' && quote != b'\'' {
                return Err(malformed("unquoted attribute value"));
            }
            let close = s[open + 1..]
                .iter()
                .position(|&b| b == quote)
                .map(|offset| open + 1 + offset)
                .ok_or_else(|| malformed("unclosed attribute value"))?;
            out.extend_from_slice(&s[attr_start..=open]);
            let attribute = &s[attr_start..attr_end];
            match self.attribute_rule(s, attribute) {
                Some(index) => {
                    unescape(&s[open + 1..close], &mut self.text_in)?;
                    self.text_out.clear();
                    let written = self.rules[index]
                        .1
                        .apply(Some(&self.text_in), &mut self.text_out)?;
                    if written == Written::Value {
                        escape(&self.text_out, Some(quote), out);
                    }
                }
                None => out.extend_from_slice(&s[open + 1..close]),
            }
            out.push(quote);
            at = close + 1;
        }
    }

    /// Character data between tags: rewritten when its element matches a rule (surrounding
    /// white space kept), copied otherwise.
    fn text(
        &mut self,
        s: &[u8],
        start: usize,
        end: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), TransformError> {
        let raw = &s[start..end];
        let core_start = raw
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(raw.len());
        let core_end = raw
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(core_start, |last| last + 1);
        let index = match self.element_rule(s) {
            Some(index) if core_start < core_end => index,
            _ => {
                out.extend_from_slice(raw);
                return Ok(());
            }
        };
        out.extend_from_slice(&raw[..core_start]);
        unescape(&raw[core_start..core_end], &mut self.text_in)?;
        self.rewrite(index, out)?;
        out.extend_from_slice(&raw[core_end..]);
        Ok(())
    }

    /// Apply rule `index` to `text_in` and append the result as escaped character data.
    fn rewrite(&mut self, index: usize, out: &mut Vec<u8>) -> Result<(), TransformError> {
        self.text_out.clear();
        let written = self.rules[index]
            .1
            .apply(Some(&self.text_in), &mut self.text_out)?;
        if written == Written::Value {
            escape(&self.text_out, None, out);
        }
        Ok(())
    }

    /// The rule for the text of the innermost open element, if any.
    fn element_rule(&self, s: &[u8]) -> Option<usize> {
        self.stack.last()?;
        self.rules
            .iter()
            .position(|(path, _)| path.attribute.is_none() && self.stack_matches(s, path))
    }

    /// The rule for attribute `name` of the innermost open element, if any.
    fn attribute_rule(&self, s: &[u8], name: &[u8]) -> Option<usize> {
        if name == b"xmlns" || name.starts_with(b"xmlns:") {
            return None;
        }
        self.rules.iter().position(|(path, _)| {
            path.attribute
                .as_deref()
                .is_some_and(|wanted| name_matches(wanted, name))
                && self.stack_matches(s, path)
        })
    }

    fn stack_matches(&self, s: &[u8], path: &XmlPath) -> bool {
        let steps = &path.elements;
        if steps.len() > self.stack.len() || (!path.anywhere && steps.len() != self.stack.len()) {
            return false;
        }
        let open = &self.stack[self.stack.len() - steps.len()..];
        steps
            .iter()
            .zip(open)
            .all(|(step, &(start, end))| step == "*" || name_matches(step, &s[start..end]))
    }
}

/// `step` matches a qualified name: exactly when it has a prefix, by local name otherwise.
fn name_matches(step: &str, qualified: &[u8]) -> bool {
    if step.contains(':') {
        return step.as_bytes() == qualified;
    }
    let local = match qualified.iter().position(|&b| b == b':') {
        Some(colon) => &qualified[colon + 1..],
        None => qualified,
    };
    step.as_bytes() == local
}

fn find(s: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    s.get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| from + offset)
}

fn copy_until(
    s: &[u8],
    pos: usize,
    end: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, TransformError> {
    let at = find(s, pos + 2, end).ok_or_else(|| malformed("unclosed markup"))?;
    let after = at + end.len();
    out.extend_from_slice(&s[pos..after]);
    Ok(after)
}

/// `<!DOCTYPE …>` with an optional internal subset `[…]`, quoted strings skipped.
fn copy_declaration(s: &[u8], pos: usize, out: &mut Vec<u8>) -> Result<usize, TransformError> {
    let mut at = pos + 2;
    let mut depth = 0usize;
    while at < s.len() {
        match s[at] {
            b'"' | b'\'' => {
                let quote = s[at];
                at = s[at + 1..]
                    .iter()
                    .position(|&b| b == quote)
                    .map(|offset| at + 1 + offset)
                    .ok_or_else(|| malformed("unclosed declaration"))?;
            }
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'>' if depth == 0 => {
                out.extend_from_slice(&s[pos..=at]);
                return Ok(at + 1);
            }
            _ => {}
        }
        at += 1;
    }
    Err(malformed("unclosed declaration"))
}

fn name_end(s: &[u8], from: usize) -> usize {
    s[from..]
        .iter()
        .position(|&b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/' | b'=' | b'<'))
        .map_or(s.len(), |offset| from + offset)
}

fn skip_ws(s: &[u8], from: usize) -> usize {
    s[from..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(s.len(), |offset| from + offset)
}

/// Character data or an attribute value with XML's five entities and character references
/// resolved into `into`.
fn unescape(raw: &[u8], into: &mut Vec<u8>) -> Result<(), TransformError> {
    into.clear();
    let mut at = 0;
    while at < raw.len() {
        if raw[at] != b'&' {
            into.push(raw[at]);
            at += 1;
            continue;
        }
        let end = raw[at..]
            .iter()
            .position(|&b| b == b';')
            .map(|offset| at + offset)
            .ok_or_else(|| malformed("unterminated entity"))?;
        let entity = &raw[at + 1..end];
        match entity {
            b"lt" => into.push(b'<'),
            b"gt" => into.push(b'>'),
            b"amp" => into.push(b'&'),
            b"quot" => into.push(b'"'),
            b"apos" => into.push(b'\''),
            _ => {
                let number = std::str::from_utf8(entity)
                    .ok()
                    .and_then(|text| match text.strip_prefix("#x") {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => text.strip_prefix('#')?.parse().ok(),
                    })
                    .and_then(char::from_u32)
                    .ok_or_else(|| {
                        TransformError(
                            "an xml value at an `xml` rule uses an entity other than XML's own"
                                .into(),
                        )
                    })?;
                let mut buf = [0u8; 4];
                into.extend_from_slice(number.encode_utf8(&mut buf).as_bytes());
            }
        }
        at = end + 1;
    }
    Ok(())
}

/// Escape character data (`quote` None) or an attribute value delimited by `quote`.
fn escape(text: &[u8], quote: Option<u8>, out: &mut Vec<u8>) {
    for &b in text {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' if quote == Some(b'"') => out.extend_from_slice(b"&quot;"),
            b'\'' if quote == Some(b'\'') => out.extend_from_slice(b"&apos;"),
            b'\t' | b'\n' | b'\r' if quote.is_some() => {
                out.extend_from_slice(format!("&#{b};").as_bytes());
            }
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::{FakeKind, Rule};
    use crate::policy::validate::parse_xml_path;

    fn transform(rules: &[(&str, Strategy)], doc: &str) -> Result<String, TransformError> {
        let rules: Vec<XmlRule> = rules
            .iter()
            .map(|(path, strategy)| XmlRule {
                path: parse_xml_path(path).expect("valid path"),
                rule: Rule::new(strategy.clone()),
            })
            .collect();
        let mut xml = XmlTransform::new(&rules, &Salt::new("test-salt"))?;
        let mut out = Vec::new();
        xml.transform(doc.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    const CONTACT: &str = r#"<?xml version="1.0"?>
<!-- contact card -->
<act:Contact xmlns:act="http://schemas.example.com/Contact" kind='home' phone="+44 20 7946 0000">
  <act:EMail>  joe.bloggs@example.org </act:EMail>
  <act:Note><![CDATA[call <after> 6]]></act:Note>
  <Name first="Joe">Joe &amp; Jo Bloggs</Name>
  <empty/><EMail></EMail>
</act:Contact>"#;

    #[test]
    fn rewrites_text_and_attributes_and_keeps_the_rest() {
        let out = transform(
            &[
                ("//EMail", Strategy::fake(FakeKind::Email)),
                ("//@phone", Strategy::fake(FakeKind::Phone)),
                ("//Name", Strategy::Redact),
                ("//Name/@first", Strategy::Hash),
            ],
            CONTACT,
        )
        .expect("transforms");
        assert!(!out.contains("joe.bloggs"), "{out}");
        assert!(!out.contains("7946 0000"), "{out}");
        assert!(!out.contains("Bloggs"), "{out}");
        assert!(!out.contains("\"Joe\""), "{out}");
        // Everything else byte for byte: declaration, comment, namespaces, quotes, spacing.
        for kept in [
            "<?xml version=\"1.0\"?>\n<!-- contact card -->\n<act:Contact xmlns:act=\"http://schemas.example.com/Contact\" kind='home' phone=\"",
            "<act:EMail>  ",
            " </act:EMail>",
            "<act:Note><![CDATA[call <after> 6]]></act:Note>",
            "<Name first=\"",
            ">[redacted]</Name>",
            "<empty/><EMail></EMail>\n</act:Contact>",
        ] {
            assert!(out.contains(kept), "`{kept}` missing from {out}");
        }
        // Deterministic.
        assert_eq!(
            out,
            transform(
                &[
                    ("//EMail", Strategy::fake(FakeKind::Email)),
                    ("//@phone", Strategy::fake(FakeKind::Phone)),
                    ("//Name", Strategy::Redact),
                    ("//Name/@first", Strategy::Hash),
                ],
                CONTACT,
            )
            .unwrap()
        );
    }

    #[test]
    fn paths_by_prefix_absolute_and_cdata() {
        let doc =
            "<a:r xmlns:a='u'><a:x>one</a:x><b:x xmlns:b='v'>two</b:x><y><x>three</x></y></a:r>";
        let out = transform(&[("//a:x", Strategy::Redact)], doc).unwrap();
        assert_eq!(
            out,
            "<a:r xmlns:a='u'><a:x>[redacted]</a:x><b:x xmlns:b='v'>two</b:x><y><x>three</x></y></a:r>"
        );
        let out = transform(&[("/r/x", Strategy::Redact)], doc).unwrap();
        assert_eq!(
            out,
            "<a:r xmlns:a='u'><a:x>[redacted]</a:x><b:x xmlns:b='v'>[redacted]</b:x><y><x>three</x></y></a:r>"
        );
        let out = transform(
            &[("//Note", Strategy::Redact)],
            "<Note><![CDATA[a<b]]></Note>",
        )
        .unwrap();
        assert_eq!(out, "<Note>[redacted]</Note>");
        let out = transform(
            &[("//@v", Strategy::Const("a\"b<&".into()))],
            "<e v=\"x\"/>",
        )
        .unwrap();
        assert_eq!(out, "<e v=\"a&quot;b&lt;&amp;\"/>");
    }

    #[test]
    fn refuses_malformed_and_too_deep_documents() {
        let rules = [("//x", Strategy::Redact)];
        for bad in [
            "<a><b></a>",
            "<a",
            "<a x=1/>",
            "<x>&nbsp;</x>",
            "<a></a></a>",
        ] {
            let err = transform(&rules, bad).expect_err(bad);
            assert!(err.0.contains("xml"), "{bad}: {}", err.0);
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(transform(&rules, &deep).unwrap_err().0.contains("deeper"));
        let fine = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert_eq!(transform(&rules, &fine).unwrap(), fine);
    }
}
