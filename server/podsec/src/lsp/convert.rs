//! Every conversion between the engine's byte offsets and LSP positions, in the negotiated encoding.
//!
//! LSP counts lines at `\n`, `\r\n` and `\r` (ropey is built with exactly those line breaks) and
//! columns in UTF-16 code units unless the client negotiated UTF-8 or UTF-32.

use ropey::Rope;
use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

/// The column unit agreed at `initialize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units: the protocol's default.
    #[default]
    Utf16,
    /// Unicode scalar values.
    Utf32,
}

impl Encoding {
    /// Picks from what the client offers: UTF-8 (our native unit), then UTF-32, else UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Self {
        let offered = offered.unwrap_or_default();
        if offered.contains(&PositionEncodingKind::UTF8) {
            Encoding::Utf8
        } else if offered.contains(&PositionEncodingKind::UTF32) {
            Encoding::Utf32
        } else {
            Encoding::Utf16
        }
    }

    /// The kind announced back to the client.
    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf32 => PositionEncodingKind::UTF32,
        }
    }
}

/// A position that lies outside the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The LSP position of byte `offset` (clamped to the text, rounded down to a character boundary).
pub fn position(rope: &Rope, offset: usize, encoding: Encoding) -> Position {
    let offset = offset.min(rope.len_bytes());
    let char_index = rope.byte_to_char(offset);
    let line = rope.char_to_line(char_index);
    let line_char = rope.line_to_char(line);
    let character = match encoding {
        Encoding::Utf8 => rope.char_to_byte(char_index) - rope.line_to_byte(line),
        Encoding::Utf16 => rope.char_to_utf16_cu(char_index) - rope.char_to_utf16_cu(line_char),
        Encoding::Utf32 => char_index - line_char,
    };
    Position::new(saturating_u32(line), saturating_u32(character))
}

/// The LSP range of a byte span.
pub fn range(rope: &Rope, span: podsec_engine::Span, encoding: Encoding) -> Range {
    Range::new(
        position(rope, span.start, encoding),
        position(rope, span.end, encoding),
    )
}

/// Characters of `line` before its line break (`\n`, `\r\n` or `\r`).
fn line_content_chars(rope: &Rope, line: usize) -> usize {
    let slice = rope.line(line);
    let mut len = slice.len_chars();
    if len > 0 && slice.char(len - 1) == '\n' {
        len -= 1;
    }
    if len > 0 && slice.char(len - 1) == '\r' {
        len -= 1;
    }
    len
}

/// The char index of an LSP position. A column past the end of its line means the end of the line,
/// as the protocol says; a column inside a UTF-16 surrogate pair or a UTF-8 sequence rounds down. A line
/// past the end of the text is `OutOfRange` when `strict`, else the end of the text.
pub fn char_index(
    rope: &Rope,
    position: Position,
    encoding: Encoding,
    strict: bool,
) -> Result<usize, OutOfRange> {
    let line = position.line as usize;
    if line >= rope.len_lines() {
        return if strict {
            Err(OutOfRange)
        } else {
            Ok(rope.len_chars())
        };
    }
    let line_char = rope.line_to_char(line);
    let content = line_content_chars(rope, line);
    let character = position.character as usize;
    let column = match encoding {
        Encoding::Utf32 => character.min(content),
        Encoding::Utf16 => {
            let start = rope.char_to_utf16_cu(line_char);
            let end = rope.char_to_utf16_cu(line_char + content);
            rope.utf16_cu_to_char((start + character).min(end)) - line_char
        }
        Encoding::Utf8 => {
            let start = rope.line_to_byte(line);
            let end = rope.char_to_byte(line_char + content);
            rope.byte_to_char((start + character).min(end)) - line_char
        }
    };
    Ok(line_char + column)
}

/// The byte offset of an LSP position (see [`char_index`]).
pub fn byte_offset(
    rope: &Rope,
    position: Position,
    encoding: Encoding,
    strict: bool,
) -> Result<usize, OutOfRange> {
    char_index(rope, position, encoding, strict).map(|c| rope.char_to_byte(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "a: 1\r\nkey: \"😀 漢字\" # é\nlast";

    fn round_trip(encoding: Encoding) {
        let rope = Rope::from_str(TEXT);
        for (offset, _) in TEXT.char_indices().chain([(TEXT.len(), ' ')]) {
            if TEXT[..offset].ends_with('\r') {
                continue; // between the two characters of a CRLF: not a position LSP can name
            }
            let pos = position(&rope, offset, encoding);
            assert_eq!(
                byte_offset(&rope, pos, encoding, true),
                Ok(offset),
                "{encoding:?} {offset} {pos:?}"
            );
        }
    }

    #[test]
    fn every_character_round_trips_in_every_encoding() {
        round_trip(Encoding::Utf8);
        round_trip(Encoding::Utf16);
        round_trip(Encoding::Utf32);
    }

    #[test]
    fn columns_are_counted_in_the_negotiated_unit() {
        let rope = Rope::from_str(TEXT);
        let hash = TEXT.find('#').unwrap();
        assert_eq!(position(&rope, hash, Encoding::Utf16), Position::new(1, 13));
        assert_eq!(position(&rope, hash, Encoding::Utf32), Position::new(1, 12));
        assert_eq!(position(&rope, hash, Encoding::Utf8), Position::new(1, 19));
        assert_eq!(
            position(&rope, TEXT.find("last").unwrap(), Encoding::Utf16),
            Position::new(2, 0)
        );
    }

    #[test]
    fn positions_past_the_line_clamp_and_inside_a_surrogate_round_down() {
        let rope = Rope::from_str(TEXT);
        assert_eq!(
            char_index(&rope, Position::new(0, 99), Encoding::Utf16, true),
            Ok(4)
        );
        let emoji = TEXT[..TEXT.find('😀').unwrap()].chars().count();
        assert_eq!(
            char_index(&rope, Position::new(1, 7), Encoding::Utf16, true),
            Ok(emoji)
        );
        assert_eq!(
            char_index(&rope, Position::new(9, 0), Encoding::Utf16, true),
            Err(OutOfRange)
        );
        assert_eq!(
            char_index(&rope, Position::new(9, 0), Encoding::Utf16, false),
            Ok(rope.len_chars())
        );
    }

    #[test]
    fn negotiation_prefers_utf8_then_utf32() {
        use PositionEncodingKind as K;
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(Some(&[K::UTF16, K::UTF32])), Encoding::Utf32);
        assert_eq!(Encoding::negotiate(Some(&[K::UTF32, K::UTF8])), Encoding::Utf8);
    }
}
