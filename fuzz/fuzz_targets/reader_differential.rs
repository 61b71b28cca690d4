//! podsec's YAML reader (`yaml::scan`, `yaml::events`) against the libyaml port it replaces, on any bytes:
//! the same tokens and events with the same byte spans, and the same first error at the same byte (but the
//! differences `reader_compare.rs` lists as decided). Also read as a JSON value (Go's string escapes).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../server/engine/examples/reader_compare/mod.rs"]
mod reader_compare;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The engine hands the reader a text without its byte order mark (the port did not count it).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Err(difference) = reader_compare::compare_tokens(text) {
        panic!("{difference}");
    }
    for json in [false, true] {
        if let Err(difference) = reader_compare::compare(text, json) {
            panic!("json={json}: {difference}");
        }
    }
});
