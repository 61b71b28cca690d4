//! Position conversion round trips: every character boundary maps to a position and back, in every encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podsec::lsp::convert::{Encoding, byte_offset, position};
use ropey::Rope;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rope = Rope::from_str(text);
    for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            if offset > 0 && text.as_bytes().get(offset - 1) == Some(&b'\r') && text.as_bytes().get(offset) == Some(&b'\n') {
                continue;
            }
            let pos = position(&rope, offset, encoding);
            assert_eq!(byte_offset(&rope, pos, encoding, true), Ok(offset), "{encoding:?} {offset} {pos:?}");
        }
    }
});
