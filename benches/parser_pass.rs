//! The bare libyaml event pass over a text, no tree built: the yardstick the engine's stages are measured
//! against (`benches/engine.rs` and the `stages` example).

/// How many events libyaml reads from `text` before its end or its first error.
pub fn parser_pass(text: &str) -> usize {
    let mut input = text.as_bytes();
    let mut parser = podsec_libyaml::Parser::new();
    parser.set_input_string(&mut input);
    let mut events = 0;
    while let Some(Ok(_)) = parser.next() {
        events += 1;
    }
    events
}
