//! Incremental edits in every encoding against a reference model: applying LSP range edits to the rope
//! gives the same text as applying the same edits, converted independently, to a plain String.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podsec::lsp::apply_change;
use podsec::lsp::convert::{Encoding, position};
use ropey::Rope;
use tower_lsp_server::ls_types::{Range, TextDocumentContentChangeEvent};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (initial, script) = text.split_once('\u{0}').unwrap_or((text, ""));
    let encoding = [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32][initial.len() % 3];
    let mut rope = Rope::from_str(initial);
    let mut model = initial.to_string();
    // Each edit: two offsets (taken from the bytes) and the inserted text.
    for (i, chunk) in script.split('\u{1}').enumerate().take(64) {
        let bytes = chunk.as_bytes();
        let pick = |k: usize| -> usize {
            let raw = bytes.get(k).copied().unwrap_or(0) as usize * 257 + i;
            let mut offset = raw % (model.len() + 1);
            while !model.is_char_boundary(offset) {
                offset -= 1;
            }
            // A position between the two characters of a CRLF is not one LSP can name.
            if offset > 0 && model.as_bytes().get(offset - 1) == Some(&b'\r') && model.as_bytes().get(offset) == Some(&b'\n') {
                offset -= 1;
            }
            offset
        };
        let (a, b) = (pick(0), pick(1));
        let (start, end) = (a.min(b), a.max(b));
        let insert: String = chunk.chars().skip(2).collect();
        let range = Range::new(position(&rope, start, encoding), position(&rope, end, encoding));
        apply_change(&mut rope, TextDocumentContentChangeEvent { range: Some(range), range_length: None, text: insert.clone() }, encoding);
        model.replace_range(start..end, &insert);
        assert_eq!(rope.to_string(), model, "edit {i}: {start}..{end} {insert:?} in {encoding:?}");
    }
});
