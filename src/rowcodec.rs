//! PostgreSQL's COPY row formats: finding rows and fields in a byte stream, escaping and
//! unescaping text fields, framing binary fields. Pure and allocation-free per row.

use std::ops::Range;

/// A malformed COPY stream. Never carries row data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed COPY {format} stream: {problem}")]
pub struct CodecError {
    pub format: &'static str,
    pub problem: &'static str,
}

/// What `parse_row` found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A whole row of `consumed` bytes; its fields were written to the caller's vector.
    Row { consumed: usize },
    /// The buffer ends inside a row: read more and try again from the same position.
    NeedMore,
    /// The end-of-data marker (binary format only), `consumed` bytes long.
    End { consumed: usize },
}

/// COPY binary format: header, then per row an i16 field count and per field an i32
/// length (-1 for NULL) followed by the value's send() bytes, then an i16 -1 trailer.
pub mod binary {
    use super::{CodecError, Parsed};

    pub const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

    /// The header pullprod writes: signature, no flags, empty extension area.
    pub const HEADER: [u8; 19] = *b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

    pub const TRAILER: [u8; 2] = [0xff, 0xff];

    /// A field of a binary row: where its value starts in the row, and its length (`None` for NULL).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Field {
        pub start: usize,
        pub len: Option<u32>,
    }

    impl Field {
        /// The field's value bytes within the buffer the row was parsed from.
        pub fn value<'a>(&self, row: &'a [u8]) -> Option<&'a [u8]> {
            self.len
                .map(|len| &row[self.start..self.start + len as usize])
        }

        /// The field with its length prefix, as it appears in the stream.
        pub fn framed<'a>(&self, row: &'a [u8]) -> &'a [u8] {
            &row[self.start - 4..self.start + self.len.unwrap_or(0) as usize]
        }
    }

    const ERR_SIGNATURE: CodecError = CodecError {
        format: "binary",
        problem: "bad file signature",
    };
    const ERR_FLAGS: CodecError = CodecError {
        format: "binary",
        problem: "unsupported header flags (OIDs)",
    };
    const ERR_LENGTH: CodecError = CodecError {
        format: "binary",
        problem: "negative field length",
    };
    const ERR_COUNT: CodecError = CodecError {
        format: "binary",
        problem: "negative field count",
    };

    /// Length of the stream header at the start of `buf`, or `None` when more bytes are needed.
    pub fn header_len(buf: &[u8]) -> Result<Option<usize>, CodecError> {
        if buf.len() < 19 {
            if !SIGNATURE.starts_with(&buf[..buf.len().min(11)]) {
                return Err(ERR_SIGNATURE);
            }
            return Ok(None);
        }
        if &buf[..11] != SIGNATURE {
            return Err(ERR_SIGNATURE);
        }
        let flags = u32::from_be_bytes(buf[11..15].try_into().expect("4 bytes"));
        if flags & (1 << 16) != 0 {
            return Err(ERR_FLAGS);
        }
        let extension = u32::from_be_bytes(buf[15..19].try_into().expect("4 bytes")) as usize;
        if buf.len() < 19 + extension {
            return Ok(None);
        }
        Ok(Some(19 + extension))
    }

    /// Parse the row at the start of `buf` into `fields` (cleared first).
    pub fn parse_row(buf: &[u8], fields: &mut Vec<Field>) -> Result<Parsed, CodecError> {
        fields.clear();
        if buf.len() < 2 {
            return Ok(Parsed::NeedMore);
        }
        let count = i16::from_be_bytes([buf[0], buf[1]]);
        if count == -1 {
            return Ok(Parsed::End { consumed: 2 });
        }
        if count < 0 {
            return Err(ERR_COUNT);
        }
        let mut pos = 2;
        for _ in 0..count {
            if buf.len() < pos + 4 {
                return Ok(Parsed::NeedMore);
            }
            let len = i32::from_be_bytes(buf[pos..pos + 4].try_into().expect("4 bytes"));
            pos += 4;
            if len == -1 {
                fields.push(Field {
                    start: pos,
                    len: None,
                });
                continue;
            }
            if len < 0 {
                return Err(ERR_LENGTH);
            }
            let len = len as usize;
            if buf.len() < pos + len {
                return Ok(Parsed::NeedMore);
            }
            fields.push(Field {
                start: pos,
                len: Some(len as u32),
            });
            pos += len;
        }
        Ok(Parsed::Row { consumed: pos })
    }

    /// Append a row's field count.
    pub fn write_count(out: &mut Vec<u8>, count: usize) {
        out.extend_from_slice(&(count as i16).to_be_bytes());
    }

    /// Append a field: its length prefix and value, or -1 for NULL.
    pub fn write_field(out: &mut Vec<u8>, value: Option<&[u8]>) {
        match value {
            Some(value) => {
                out.extend_from_slice(&(value.len() as i32).to_be_bytes());
                out.extend_from_slice(value);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    /// Reserve a length prefix; write the value after it, then call `finish_field`.
    pub fn begin_field(out: &mut Vec<u8>) -> usize {
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.len()
    }

    /// Fill in the length prefix reserved by `begin_field` (or mark the field NULL).
    pub fn finish_field(out: &mut Vec<u8>, start: usize, null: bool) {
        if null {
            out.truncate(start);
            out[start - 4..start].copy_from_slice(&(-1i32).to_be_bytes());
        } else {
            let len = (out.len() - start) as i32;
            out[start - 4..start].copy_from_slice(&len.to_be_bytes());
        }
    }
}

/// COPY text format: rows end with `\n`, fields are separated by tabs, `\N` is NULL, and
/// backslash escapes carry tabs, newlines and backslashes inside values.
pub mod text {
    use super::{Parsed, Range};

    /// Parse the row at the start of `buf` into field ranges (cleared first); the newline is
    /// included in `consumed` but in no field.
    pub fn parse_row(buf: &[u8], fields: &mut Vec<Range<usize>>) -> Parsed {
        fields.clear();
        let Some(end) = memchr::memchr(b'\n', buf) else {
            return Parsed::NeedMore;
        };
        let line = &buf[..end];
        let mut start = 0;
        for tab in memchr::memchr_iter(b'\t', line) {
            fields.push(start..tab);
            start = tab + 1;
        }
        fields.push(start..end);
        Parsed::Row { consumed: end + 1 }
    }

    pub fn is_null(field: &[u8]) -> bool {
        field == b"\\N"
    }

    /// True when the field needs no unescaping.
    pub fn is_plain(field: &[u8]) -> bool {
        memchr::memchr(b'\\', field).is_none()
    }

    /// Append the value a (non-NULL) field stands for.
    pub fn unescape(field: &[u8], out: &mut Vec<u8>) {
        let mut idx = 0;
        while idx < field.len() {
            let Some(offset) = memchr::memchr(b'\\', &field[idx..]) else {
                out.extend_from_slice(&field[idx..]);
                return;
            };
            out.extend_from_slice(&field[idx..idx + offset]);
            idx += offset + 1;
            let Some(&code) = field.get(idx) else {
                return;
            };
            idx += 1;
            match code {
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(11),
                b'0'..=b'7' => {
                    let mut value = u32::from(code - b'0');
                    for _ in 0..2 {
                        match field.get(idx) {
                            Some(&digit @ b'0'..=b'7') => {
                                value = value * 8 + u32::from(digit - b'0');
                                idx += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(value as u8);
                }
                b'x' => {
                    let mut value = 0u32;
                    let mut digits = 0;
                    while digits < 2 {
                        match field.get(idx).and_then(|c| (*c as char).to_digit(16)) {
                            Some(digit) => {
                                value = value * 16 + digit;
                                idx += 1;
                                digits += 1;
                            }
                            None => break,
                        }
                    }
                    if digits == 0 {
                        out.push(b'x');
                    } else {
                        out.push(value as u8);
                    }
                }
                other => out.push(other),
            }
        }
    }

    /// Append a value escaped as a text-format field.
    pub fn escape(value: &[u8], out: &mut Vec<u8>) {
        let mut start = 0;
        for (idx, &byte) in value.iter().enumerate() {
            let code = match byte {
                b'\\' => b'\\',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                8 => b'b',
                11 => b'v',
                12 => b'f',
                _ => continue,
            };
            out.extend_from_slice(&value[start..idx]);
            out.push(b'\\');
            out.push(code);
            start = idx + 1;
        }
        out.extend_from_slice(&value[start..]);
    }

    /// Append `\N`.
    pub fn write_null(out: &mut Vec<u8>) {
        out.extend_from_slice(b"\\N");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_of_awkward_values() {
        let values: [&[u8]; 6] = [
            b"",
            b"plain",
            b"tab\there",
            b"line\nbreak\r",
            b"back\\slash",
            "caf\u{e9} \u{65e5}".as_bytes(),
        ];
        for value in values {
            let mut escaped = Vec::new();
            text::escape(value, &mut escaped);
            assert!(!escaped.contains(&b'\t') && !escaped.contains(&b'\n'));
            let mut back = Vec::new();
            text::unescape(&escaped, &mut back);
            assert_eq!(back, value);
        }
    }

    #[test]
    fn text_unescapes_octal_and_hex() {
        let mut out = Vec::new();
        text::unescape(b"a\\101\\x42\\q", &mut out);
        assert_eq!(out, b"aABq");
    }

    #[test]
    fn text_rows_and_fields() {
        let mut fields = Vec::new();
        let buf = b"1\t\\N\tx\\ty\n2\tpartial";
        assert_eq!(
            text::parse_row(buf, &mut fields),
            Parsed::Row { consumed: 10 }
        );
        assert_eq!(fields, vec![0..1, 2..4, 5..9]);
        assert!(text::is_null(&buf[fields[1].clone()]));
        assert_eq!(text::parse_row(&buf[10..], &mut fields), Parsed::NeedMore);
    }

    #[test]
    fn binary_rows_fields_and_trailer() {
        let mut stream = binary::HEADER.to_vec();
        binary::write_count(&mut stream, 3);
        binary::write_field(&mut stream, Some(b"abc"));
        binary::write_field(&mut stream, None);
        let start = binary::begin_field(&mut stream);
        stream.extend_from_slice(b"xy");
        binary::finish_field(&mut stream, start, false);
        stream.extend_from_slice(&binary::TRAILER);

        let header = binary::header_len(&stream).unwrap().unwrap();
        assert_eq!(header, 19);
        let mut fields = Vec::new();
        let row = &stream[header..];
        let Parsed::Row { consumed } = binary::parse_row(row, &mut fields).unwrap() else {
            panic!("expected a row");
        };
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].value(row), Some(&b"abc"[..]));
        assert_eq!(fields[1].value(row), None);
        assert_eq!(fields[2].value(row), Some(&b"xy"[..]));
        assert_eq!(fields[0].framed(row), b"\0\0\0\x03abc");
        for cut in 0..consumed {
            assert_eq!(
                binary::parse_row(&row[..cut], &mut fields).unwrap(),
                Parsed::NeedMore
            );
        }
        assert_eq!(
            binary::parse_row(&row[consumed..], &mut fields).unwrap(),
            Parsed::End { consumed: 2 }
        );
    }

    #[test]
    fn binary_rejects_garbage() {
        assert!(binary::header_len(b"NOTCOPY").is_err());
        assert_eq!(binary::header_len(b"PGCO").unwrap(), None);
        let mut fields = Vec::new();
        assert!(binary::parse_row(&[0, 1, 0xff, 0xff, 0xff, 0xf0], &mut fields).is_err());
    }

    #[test]
    fn begin_finish_null() {
        let mut out = Vec::new();
        let start = binary::begin_field(&mut out);
        out.extend_from_slice(b"junk");
        binary::finish_field(&mut out, start, true);
        assert_eq!(out, (-1i32).to_be_bytes());
    }
}
