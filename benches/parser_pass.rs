//! The bare event pass of podsec's YAML reader over a text, no tree built: the yardstick the engine's stages
//! are measured against (`benches/engine.rs` and the `stages` example).

/// How many events the reader reads from `text` before its end or its first error.
pub fn parser_pass(text: &str) -> usize {
    let mut reader = podsec_engine::yaml::events::Reader::new(text);
    let mut events = 0;
    while let Ok(Some(_)) = reader.next_event() {
        events += 1;
    }
    events
}
