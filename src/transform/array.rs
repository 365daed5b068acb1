//! Arrays in COPY text (`{a,"b c",NULL}`, nested, with `[0:2]=` bounds) and binary format,
//! transformed element by element: dimensions, bounds and NULL elements are preserved.

use super::{TransformError, Written};

enum Token<'a> {
    Open,
    Close,
    Element(Option<&'a [u8]>),
}

fn malformed() -> TransformError {
    TransformError("malformed array value in text format".into())
}

/// Walk a text array literal: `prefix` gets the `[l:u]=` decoration (if any), then tokens.
fn walk_text(
    input: &[u8],
    elem: &mut Vec<u8>,
    mut prefix: impl FnMut(&[u8]),
    mut on_token: impl FnMut(Token<'_>) -> Result<(), TransformError>,
) -> Result<(), TransformError> {
    let mut i = 0;
    if input.first() == Some(&b'[') {
        let eq = input
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(malformed)?;
        prefix(&input[..=eq]);
        i = eq + 1;
    }
    let mut depth = 0usize;
    while i < input.len() {
        match input[i] {
            b'{' => {
                depth += 1;
                on_token(Token::Open)?;
                i += 1;
            }
            b'}' => {
                depth = depth.checked_sub(1).ok_or_else(malformed)?;
                on_token(Token::Close)?;
                i += 1;
            }
            b',' => i += 1,
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => i += 1,
            b'"' => {
                elem.clear();
                i += 1;
                loop {
                    match input.get(i) {
                        None => return Err(malformed()),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            elem.push(*input.get(i + 1).ok_or_else(malformed)?);
                            i += 2;
                        }
                        Some(&b) => {
                            elem.push(b);
                            i += 1;
                        }
                    }
                }
                i += 1;
                if depth == 0 {
                    return Err(malformed());
                }
                on_token(Token::Element(Some(elem)))?;
            }
            _ => {
                elem.clear();
                let mut escaped = false;
                while let Some(&b) = input.get(i) {
                    match b {
                        b',' | b'}' => break,
                        b'\\' => {
                            escaped = true;
                            elem.push(*input.get(i + 1).ok_or_else(malformed)?);
                            i += 2;
                        }
                        _ => {
                            elem.push(b);
                            i += 1;
                        }
                    }
                }
                while elem.last().is_some_and(|b| b.is_ascii_whitespace()) {
                    elem.pop();
                }
                if depth == 0 {
                    return Err(malformed());
                }
                if !escaped && elem.eq_ignore_ascii_case(b"NULL") {
                    on_token(Token::Element(None))?;
                } else {
                    on_token(Token::Element(Some(elem)))?;
                }
            }
        }
    }
    if depth != 0 {
        return Err(malformed());
    }
    Ok(())
}

/// Transform a text-format array, calling `element` for each element (text format).
pub(crate) fn transform_text(
    input: &[u8],
    out: &mut Vec<u8>,
    elem_in: &mut Vec<u8>,
    elem_out: &mut Vec<u8>,
    mut element: impl FnMut(Option<&[u8]>, &mut Vec<u8>) -> Result<Written, TransformError>,
) -> Result<(), TransformError> {
    // `out` is shared by the prefix writer and the token handler: collect via a cell-free split.
    let mut prefix_bytes: &[u8] = &[];
    if input.first() == Some(&b'[') {
        let eq = input
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(malformed)?;
        prefix_bytes = &input[..=eq];
    }
    out.extend_from_slice(prefix_bytes);
    let mut need_comma = false;
    walk_text(
        input,
        elem_in,
        |_| {},
        |token| {
            match token {
                Token::Open => {
                    if need_comma {
                        out.push(b',');
                    }
                    out.push(b'{');
                    need_comma = false;
                }
                Token::Close => {
                    out.push(b'}');
                    need_comma = true;
                }
                Token::Element(value) => {
                    if need_comma {
                        out.push(b',');
                    }
                    need_comma = true;
                    elem_out.clear();
                    match element(value, elem_out)? {
                        Written::Null => out.extend_from_slice(b"NULL"),
                        Written::Value => write_text_element(out, elem_out),
                    }
                }
            }
            Ok(())
        },
    )
}

/// Append one element of a text array, quoted and escaped when PostgreSQL requires it.
pub(crate) fn write_text_element(out: &mut Vec<u8>, value: &[u8]) {
    let needs_quotes = value.is_empty()
        || value.eq_ignore_ascii_case(b"NULL")
        || value.iter().any(|b| {
            matches!(
                b,
                b'{' | b'}'
                    | b','
                    | b'"'
                    | b'\\'
                    | b' '
                    | b'\t'
                    | b'\n'
                    | b'\r'
                    | b'\x0b'
                    | b'\x0c'
            )
        });
    if !needs_quotes {
        out.extend_from_slice(value);
        return;
    }
    out.push(b'"');
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn binary_malformed() -> TransformError {
    TransformError("malformed array value in binary format".into())
}

fn read_i32(input: &[u8], pos: &mut usize) -> Result<i32, TransformError> {
    let bytes = input.get(*pos..*pos + 4).ok_or_else(binary_malformed)?;
    *pos += 4;
    Ok(i32::from_be_bytes(bytes.try_into().expect("four bytes")))
}

/// Transform a binary-format array (`array_send` layout), calling `element` for each
/// element (binary format). Returns the element type oid found in the input.
pub(crate) fn transform_binary(
    input: &[u8],
    out: &mut Vec<u8>,
    mut element: impl FnMut(Option<&[u8]>, &mut Vec<u8>) -> Result<Written, TransformError>,
) -> Result<u32, TransformError> {
    let mut pos = 0;
    let ndim = read_i32(input, &mut pos)?;
    let _flags = read_i32(input, &mut pos)?;
    let oid = read_i32(input, &mut pos)? as u32;
    if !(0..=6).contains(&ndim) {
        return Err(binary_malformed());
    }
    let header_start = out.len();
    out.extend_from_slice(&input[..pos]);
    let mut count: u64 = if ndim == 0 { 0 } else { 1 };
    for _ in 0..ndim {
        let len = read_i32(input, &mut pos)?;
        let _lbound = read_i32(input, &mut pos)?;
        count = count.saturating_mul(u64::try_from(len).map_err(|_| binary_malformed())?);
    }
    out.extend_from_slice(&input[12..pos]);
    let mut has_nulls = false;
    for _ in 0..count {
        let len = read_i32(input, &mut pos)?;
        let value = if len < 0 {
            None
        } else {
            let end = pos.checked_add(len as usize).ok_or_else(binary_malformed)?;
            let bytes = input.get(pos..end).ok_or_else(binary_malformed)?;
            pos = end;
            Some(bytes)
        };
        let len_at = out.len();
        out.extend_from_slice(&[0; 4]);
        match element(value, out)? {
            Written::Null => {
                out.truncate(len_at);
                out.extend_from_slice(&(-1i32).to_be_bytes());
                has_nulls = true;
            }
            Written::Value => {
                let len = i32::try_from(out.len() - len_at - 4)
                    .map_err(|_| TransformError("array element too large".into()))?;
                out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
    }
    if pos != input.len() {
        return Err(binary_malformed());
    }
    out[header_start + 4..header_start + 8].copy_from_slice(&(has_nulls as i32).to_be_bytes());
    Ok(oid)
}

/// Convert a text array literal to `array_recv` bytes (element oid written as 0: the
/// caller patches bytes 8..12), each element converted by `element` (text in, binary out).
pub(crate) fn text_to_binary(
    input: &[u8],
    mut element: impl FnMut(&[u8], &mut Vec<u8>) -> Result<(), TransformError>,
) -> Result<Vec<u8>, TransformError> {
    let mut lbounds: Vec<i32> = Vec::new();
    if input.first() == Some(&b'[') {
        let eq = input
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(malformed)?;
        for part in std::str::from_utf8(&input[..eq])
            .map_err(|_| malformed())?
            .split(']')
        {
            let Some(range) = part.strip_prefix('[') else {
                continue;
            };
            let (lower, _) = range.split_once(':').ok_or_else(malformed)?;
            lbounds.push(lower.trim().parse().map_err(|_| malformed())?);
        }
    }
    let mut dims: Vec<Option<i32>> = Vec::new();
    let mut counts: Vec<i32> = Vec::new();
    let mut body = Vec::new();
    let mut has_nulls = false;
    let mut elem = Vec::new();
    walk_text(
        input,
        &mut elem,
        |_| {},
        |token| {
            match token {
                Token::Open => {
                    if let Some(parent) = counts.last_mut() {
                        *parent += 1;
                    }
                    counts.push(0);
                    if dims.len() < counts.len() {
                        dims.push(None);
                    }
                }
                Token::Close => {
                    let level = counts.len() - 1;
                    let count = counts.pop().expect("open before close");
                    match dims[level] {
                        None => dims[level] = Some(count),
                        Some(known) if known == count => {}
                        Some(_) => return Err(malformed()),
                    }
                }
                Token::Element(value) => {
                    if counts.len() != dims.len()
                        && dims.iter().skip(counts.len()).any(Option::is_some)
                    {
                        return Err(malformed());
                    }
                    *counts.last_mut().ok_or_else(malformed)? += 1;
                    match value {
                        None => {
                            has_nulls = true;
                            body.extend_from_slice(&(-1i32).to_be_bytes());
                        }
                        Some(text) => {
                            let len_at = body.len();
                            body.extend_from_slice(&[0; 4]);
                            element(text, &mut body)?;
                            let len = (body.len() - len_at - 4) as i32;
                            body[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
                        }
                    }
                }
            }
            Ok(())
        },
    )?;
    let dims: Vec<i32> = dims.into_iter().map(|d| d.unwrap_or(0)).collect();
    let empty = dims.is_empty() || dims.contains(&0);
    let mut out = Vec::new();
    let ndim = if empty { 0 } else { dims.len() as i32 };
    out.extend_from_slice(&ndim.to_be_bytes());
    out.extend_from_slice(&(has_nulls as i32).to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    if !empty {
        for (level, len) in dims.iter().enumerate() {
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&lbounds.get(level).copied().unwrap_or(1).to_be_bytes());
        }
        out.extend_from_slice(&body);
    }
    Ok(out)
}
