//! Reading the command line's inputs: files, pipes and devices named on it, and standard input, all
//! through one size cap (`--max-file-size`), so that `/dev/zero` or a runaway file cannot exhaust memory.

use std::io::Read;
use std::path::Path;

const MB: u64 = 1024 * 1024;

/// Parses `--max-file-size`: a whole number with an optional unit, `B`, `KB`, `MB` or `GB` (powers of
/// 1024, as the editor's `maxDocumentSizeMB`); no unit means megabytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid =
        || format!("invalid --max-file-size {text:?}: expected megabytes (64, 64MB) or bytes (65536B)");
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = match text
        .get(digits.len()..)
        .unwrap_or("")
        .to_ascii_uppercase()
        .as_str()
    {
        "" | "M" | "MB" => MB,
        "B" => 1,
        "K" | "KB" => 1024,
        "G" | "GB" => 1024 * MB,
        _ => return Err(invalid()),
    };
    let number: u64 = digits.parse().map_err(|_| invalid())?;
    match number.checked_mul(unit) {
        Some(0) => Err(format!(
            "invalid --max-file-size {text:?}: must be at least 1 byte"
        )),
        Some(bytes) => Ok(bytes),
        None => Err(invalid()),
    }
}

/// A size as the user would write it: `256 MB`, `4 KB`, `100 bytes`.
fn describe(bytes: u64) -> String {
    if bytes % MB == 0 {
        format!("{} MB", bytes / MB)
    } else if bytes % 1024 == 0 {
        format!("{} KB", bytes / 1024)
    } else if bytes == 1 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

fn too_large(max: u64) -> String {
    format!("larger than --max-file-size ({}); not checked", describe(max))
}

/// Reads all of `reader`, refusing it after `max` bytes: at most one byte more is read. `expected` is the
/// size it probably has (a regular file's), reserved at once rather than grown into.
fn read_capped(reader: impl Read, max: u64, expected: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    read_capped_into(reader, max, expected, &mut bytes)?;
    Ok(bytes)
}

/// [`read_capped`] into `bytes` (cleared first), whose memory a caller may reuse from file to file.
fn read_capped_into(reader: impl Read, max: u64, expected: u64, bytes: &mut Vec<u8>) -> Result<(), String> {
    bytes.clear();
    // One byte more than expected, so that finding the end needs no reallocation.
    let reserve = expected.min(max).saturating_add(1);
    bytes.reserve(usize::try_from(reserve).unwrap_or(0));
    reader
        .take(max.saturating_add(1))
        .read_to_end(bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(too_large(max));
    }
    Ok(())
}

/// Reads a file of any kind (a pipe such as `<(cat x.yaml)` too), at most `max` bytes.
pub fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    read_file_into(path, max, &mut bytes)?;
    Ok(bytes)
}

/// [`read_file`] into `bytes`, whose memory is reused (a pass that drops each text after looking at it
/// then takes no fresh pages per file); whether it was a regular file, which can be read again.
pub fn read_file_into(path: &Path, max: u64, bytes: &mut Vec<u8>) -> Result<bool, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // A regular file's size is known: a large one is refused without reading it.
    let mut expected = 0;
    let mut regular = false;
    if let Ok(metadata) = file.metadata() {
        if metadata.is_file() && metadata.len() > max {
            return Err(too_large(max));
        }
        if metadata.is_file() {
            expected = metadata.len();
            regular = true;
        }
    }
    read_capped_into(file, max, expected, bytes)?;
    Ok(regular)
}

/// Reads standard input, at most `max` bytes.
pub fn read_stdin(max: u64) -> Result<Vec<u8>, String> {
    read_capped(std::io::stdin().lock(), max, 0)
}

/// Text from bytes, or where they stop being UTF-8. A UTF-16 text with its byte order mark is decoded, as
/// kubectl decodes it (`unicode.BOMOverride`): the mark dropped, an unpaired surrogate replaced.
pub fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    if let Some(text) = utf16_with_bom(&bytes) {
        return Ok(text);
    }
    String::from_utf8(bytes).map_err(|e| invalid_utf8(&e.utf8_error()))
}

/// [`utf8`] of borrowed bytes.
pub fn utf8_str(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, String> {
    if let Some(text) = utf16_with_bom(bytes) {
        return Ok(std::borrow::Cow::Owned(text));
    }
    std::str::from_utf8(bytes)
        .map(std::borrow::Cow::Borrowed)
        .map_err(|e| invalid_utf8(&e))
}

/// The text of UTF-16 bytes that start with a byte order mark (FF FE little-endian, FE FF big-endian). A
/// UTF-32 mark is no UTF-16 one to podsec: kubectl would read it as UTF-16 and find NULs, which YAML refuses,
/// and so does podsec as UTF-8.
fn utf16_with_bom(bytes: &[u8]) -> Option<String> {
    let little_endian = match bytes {
        [0xFF, 0xFE, 0, 0, ..] => return None,
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units = bytes.get(2..)?.chunks(2).map(|pair| match pair {
        [a, b] if little_endian => u16::from_le_bytes([*a, *b]),
        [a, b] => u16::from_be_bytes([*a, *b]),
        // An odd last byte: what Go's decoder makes of it.
        _ => 0xFFFD,
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

fn invalid_utf8(error: &std::str::Utf8Error) -> String {
    format!("invalid UTF-8 at byte {}", error.valid_up_to())
}

/// Reads a file as text, at most `max` bytes.
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    read_file(path, max).and_then(utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_megabytes_unless_a_unit_says_otherwise() {
        assert_eq!(parse_size("256"), Ok(256 * MB));
        assert_eq!(parse_size("64MB"), Ok(64 * MB));
        assert_eq!(parse_size("64mb"), Ok(64 * MB));
        assert_eq!(parse_size("1000B"), Ok(1000));
        assert_eq!(parse_size("4KB"), Ok(4096));
        assert_eq!(parse_size("1GB"), Ok(1024 * MB));
        for bad in [
            "",
            "MB",
            "-1",
            "1.5",
            "12 MB",
            "3TB",
            "0",
            "0B",
            "99999999999999999999",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_reader_past_the_limit_is_refused_after_one_byte_more() {
        // Whatever size was expected (a file may grow or shrink after its metadata was read).
        for expected in [0, 3, 5, 9] {
            assert_eq!(read_capped(&b"12345"[..], 5, expected), Ok(b"12345".to_vec()));
        }
        let endless = std::io::repeat(b'x');
        assert_eq!(
            read_capped(endless, 10, 10),
            Err("larger than --max-file-size (10 bytes); not checked".to_string())
        );
        assert_eq!(describe(256 * MB), "256 MB");
        assert_eq!(describe(4096), "4 KB");
        assert_eq!(describe(1), "1 byte");
    }
}
