//! JSON streams as kubectl reads them: a file whose first non-space character (in its first 4,096 bytes) is
//! `{` goes to Go's JSON decoder, one value after another. If the first value is not JSON the whole file is read
//! as YAML; if the second is not, the file is read as YAML from there; a later one is an error that stops the
//! file. Each value is then parsed by the YAML parser in JSON mode (JSON is YAML flow, but for `\/` and
//! surrogate pairs), so it gets the same positioned tree.

use super::Span;

/// How many bytes kubectl peeks at to tell JSON from YAML (apimachinery's `GuessJSONStream` buffer).
const PEEK_BYTES: usize = 4096;

/// Go's JSON decoder's deepest nesting.
const MAX_DEPTH: usize = 10_000;

/// Whether kubectl reads `text` as a JSON stream: after Go's white space (`unicode.IsSpace`, which is
/// `char::is_whitespace`) within the bytes it peeks at, the text starts with `{`.
pub fn is_json_stream(text: &str) -> bool {
    let mut peeked = 0;
    for c in text.chars() {
        peeked += c.len_utf8();
        if peeked > PEEK_BYTES {
            return false;
        }
        if !c.is_whitespace() {
            return c == '{';
        }
    }
    false
}

/// JSON's white space, which Go's decoder skips between values.
fn is_json_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// The first byte from `at` on that is not JSON white space.
pub fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).copied().is_some_and(is_json_space) {
        at += 1;
    }
    at
}

/// What one value of a JSON stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A JSON value ending at this byte.
    Ends(usize),
    /// Not JSON: why, and where.
    Invalid(&'static str, usize),
}

/// Reads the JSON value that starts at `start` (no white space before it), iteratively (no recursion, whatever
/// the nesting): its end, or why it is not one.
pub fn value_end(bytes: &[u8], start: usize) -> Value {
    // Open containers: `true` for an object, `false` for an array.
    let mut open: Vec<bool> = Vec::new();
    let mut at = start;
    loop {
        // A value.
        at = skip_space(bytes, at);
        match bytes.get(at) {
            Some(b'{') | Some(b'[') => {
                let object = bytes.get(at) == Some(&b'{');
                if open.len() >= MAX_DEPTH {
                    return Value::Invalid("exceeded max depth", at);
                }
                open.push(object);
                at = skip_space(bytes, at + 1);
                let close = if object { b'}' } else { b']' };
                if bytes.get(at) == Some(&close) {
                    open.pop();
                    at += 1;
                } else if object {
                    match key_then_colon(bytes, at) {
                        Ok(after) => {
                            at = after;
                            continue;
                        }
                        Err(invalid) => return invalid,
                    }
                } else {
                    continue;
                }
            }
            Some(b'"') => match string_end(bytes, at) {
                Ok(end) => at = end,
                Err(invalid) => return invalid,
            },
            Some(b't') => {
                at = match literal(bytes, at, b"true") {
                    Ok(end) => end,
                    Err(invalid) => return invalid,
                }
            }
            Some(b'f') => {
                at = match literal(bytes, at, b"false") {
                    Ok(end) => end,
                    Err(invalid) => return invalid,
                }
            }
            Some(b'n') => {
                at = match literal(bytes, at, b"null") {
                    Ok(end) => end,
                    Err(invalid) => return invalid,
                }
            }
            Some(b'-' | b'0'..=b'9') => match number_end(bytes, at) {
                Ok(end) => at = end,
                Err(invalid) => return invalid,
            },
            _ => return Value::Invalid("looking for beginning of value", at),
        }
        // After a value: close containers, or go on to the next entry.
        loop {
            let Some(&object) = open.last() else {
                return Value::Ends(at);
            };
            at = skip_space(bytes, at);
            let close = if object { b'}' } else { b']' };
            match bytes.get(at) {
                Some(b',') => {
                    at += 1;
                    if object {
                        match key_then_colon(bytes, skip_space(bytes, at)) {
                            Ok(after) => at = after,
                            Err(invalid) => return invalid,
                        }
                    }
                    break;
                }
                Some(byte) if *byte == close => {
                    open.pop();
                    at += 1;
                }
                _ => return Value::Invalid("after a value in an object or array", at),
            }
        }
    }
}

/// An object's key and its colon, from `at`: where its value may start.
fn key_then_colon(bytes: &[u8], at: usize) -> Result<usize, Value> {
    if bytes.get(at) != Some(&b'"') {
        return Err(Value::Invalid("looking for beginning of object key string", at));
    }
    let after_key = skip_space(bytes, string_end(bytes, at)?);
    if bytes.get(after_key) != Some(&b':') {
        return Err(Value::Invalid("after object key", after_key));
    }
    Ok(after_key + 1)
}

/// The end of the string that starts at `at` (its quote).
fn string_end(bytes: &[u8], at: usize) -> Result<usize, Value> {
    let mut i = at + 1;
    loop {
        match bytes.get(i) {
            None => return Err(Value::Invalid("unexpected end of JSON input", i)),
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => match bytes.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u')
                    if bytes
                        .get(i + 2..i + 6)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    i += 6;
                }
                _ => return Err(Value::Invalid("in string escape code", i)),
            },
            Some(byte) if *byte < 0x20 => return Err(Value::Invalid("in string literal", i)),
            Some(_) => i += 1,
        }
    }
}

fn literal(bytes: &[u8], at: usize, word: &[u8]) -> Result<usize, Value> {
    if bytes.get(at..at + word.len()) == Some(word) {
        Ok(at + word.len())
    } else {
        Err(Value::Invalid("in literal", at))
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn number_end(bytes: &[u8], at: usize) -> Result<usize, Value> {
    let mut i = at;
    let digits = |i: &mut usize| {
        let from = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    if bytes.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return Err(Value::Invalid("in numeric literal", i));
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return Err(Value::Invalid("after decimal point in numeric literal", i));
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return Err(Value::Invalid("in exponent of numeric literal", i));
        }
    }
    Ok(i)
}

/// How kubectl cuts a JSON stream: the ranges of its values (each from its first byte, the first from the
/// start of the text, to where the next starts), and where it goes on as YAML, if it does. A value that is not
/// JSON after two that are is a range of its own to the end of the text, read as an error (kubectl stops).
pub struct Cut {
    /// The JSON values' ranges.
    pub values: Vec<Span>,
    /// Where the YAML part starts (kubectl's fallback when the second value is not JSON).
    pub yaml_from: Option<usize>,
}

/// Cuts a JSON stream (see [`is_json_stream`]); `None` when its first value is not JSON (the file is YAML).
pub fn cut(text: &str) -> Option<Cut> {
    let bytes = text.as_bytes();
    let mut values = Vec::new();
    let mut start = 0;
    let mut at = skip_space(bytes, 0);
    while at < bytes.len() {
        match value_end(bytes, at) {
            Value::Ends(end) => {
                let next = skip_space(bytes, end);
                values.push(Span::new(start, next.max(end)));
                start = next;
                at = next;
            }
            Value::Invalid(..) => match values.len() {
                0 => return None,
                1 => {
                    return Some(Cut {
                        values,
                        yaml_from: Some(at),
                    });
                }
                _ => {
                    values.push(Span::new(at, text.len()));
                    break;
                }
            },
        }
    }
    // The last value's range runs to the end of the text.
    if let Some(last) = values.last_mut() {
        last.end = text.len();
    }
    Some(Cut {
        values,
        yaml_from: None,
    })
}

/// Why the JSON value at `range` (white space around it allowed) is not one, with where, if it is not.
pub fn invalid_value(text: &str, range: Span) -> Option<(String, usize)> {
    let bytes = text.get(..range.end)?.as_bytes();
    let at = skip_space(bytes, range.start);
    match value_end(bytes, at) {
        Value::Ends(end) if skip_space(bytes, end) == bytes.len() => None,
        Value::Ends(end) => Some(("invalid character after top-level value".to_string(), end)),
        Value::Invalid(why, at) => {
            let shown = text.get(at..).and_then(|rest| rest.chars().next());
            let message = match shown {
                Some(c) => format!("json: offset {at}: invalid character {c:?} {why}"),
                None => "json: unexpected end of JSON input".to_string(),
            };
            Some((message, at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(text: &str) -> Value {
        value_end(text.as_bytes(), 0)
    }

    #[test]
    fn values_are_read_as_go_reads_them() {
        for valid in [
            "{}",
            "[]",
            "{\"a\": [1, -0.5e+3, true, false, null, \"\\/\\ud83d\\ude00\"]}",
            "{ \"a\" : { \"b\" : [ ] } }",
            "\"x\"",
            "0",
        ] {
            assert_eq!(ends(valid), Value::Ends(valid.len()), "{valid}");
        }
        for invalid in [
            "{a: 1}",
            "{\"a\" 1}",
            "[1,]",
            "{\"a\": 01}",
            "\"\\x\"",
            "[1",
            "{\"a\": tru}",
            "-",
            "1.",
        ] {
            assert!(matches!(ends(invalid), Value::Invalid(..)), "{invalid}");
        }
        // Nesting to Go's limit, without recursion.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(ends(&deep), Value::Ends(deep.len()));
        let deeper = format!("{}{}", "[".repeat(10_001), "]".repeat(10_001));
        assert!(matches!(
            ends(&deeper),
            Value::Invalid("exceeded max depth", 10_000)
        ));
    }

    #[test]
    fn a_stream_is_cut_as_kubectl_cuts_it() {
        assert!(is_json_stream(" \n{\"a\": 1}"));
        assert!(!is_json_stream("\u{feff}{\"a\": 1}"));
        assert!(!is_json_stream("a: {}"));
        assert!(!is_json_stream(&format!("{}{{}}", " ".repeat(4096))));
        let text = "{\"a\": 1}\n{\"b\": 2} {\"c\": 3}\n";
        let cut = cut(text).unwrap();
        assert_eq!(
            cut.values,
            [Span::new(0, 9), Span::new(9, 18), Span::new(18, text.len())]
        );
        assert_eq!(cut.yaml_from, None);
        // The first value is not JSON: the whole file is YAML.
        assert!(super::cut("{a: 1}\n").is_none());
        // The second is not: YAML from there.
        let cut = super::cut("{\"a\": 1}\nb: 2\n").unwrap();
        assert_eq!((cut.values.len(), cut.yaml_from), (1, Some(9)));
        // A third that is not: an error to the end.
        let text = "{}\n{}\nb: 2\n";
        let cut = super::cut(text).unwrap();
        assert_eq!(
            cut.values,
            [Span::new(0, 3), Span::new(3, 6), Span::new(6, text.len())]
        );
        assert!(invalid_value(text, Span::new(6, text.len())).is_some());
        assert!(invalid_value(text, Span::new(3, 6)).is_none());
    }
}

/// How kubectl reads the document at `range` of `text`.
#[derive(Debug, PartialEq, Eq)]
pub enum Reading {
    /// As YAML: the text is no JSON stream, or this is its YAML part.
    Yaml,
    /// As one JSON value.
    Json,
    /// As an error: a value after two JSON ones that is not JSON (why, and where).
    Refused(String, usize),
}

/// How kubectl reads the document at `range` (one of [`cut`]'s, or of the YAML part): from the stream's
/// first two values, which decide between JSON and YAML, and this one's own.
pub fn reading(text: &str, range: Span) -> Reading {
    if !is_json_stream(text) {
        return Reading::Yaml;
    }
    let bytes = text.as_bytes();
    let Value::Ends(first_end) = value_end(bytes, skip_space(bytes, 0)) else {
        return Reading::Yaml;
    };
    let second = skip_space(bytes, first_end);
    if range.start < second {
        return Reading::Json;
    }
    if matches!(value_end(bytes, second), Value::Invalid(..)) {
        return Reading::Yaml;
    }
    match invalid_value(text, range) {
        None => Reading::Json,
        Some((why, at)) => Reading::Refused(why, at),
    }
}
