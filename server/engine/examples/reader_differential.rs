//! Developer tool, not part of the CLI: podsec's YAML reader (`yaml::events`) against the libyaml port it
//! replaces (`server/libyaml`), event by event with byte spans, on every file named (and each of its
//! documents as the engine cuts them). `cargo run -p podsec-engine --example reader_differential -- FILE…`
//! prints each difference and a count; it exits 1 on any. The fuzz target `reader_differential` compares the
//! same way (`reader_compare.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a developer tool fails by panicking"
)]

mod reader_compare;

fn main() {
    let limits = podsec_engine::yaml::Limits::default();
    let (mut texts, mut differences) = (0, 0);
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut pieces = vec![(0, text)];
        for range in podsec_engine::yaml::document_ranges(text, &limits) {
            pieces.push((range.start, text.get(range.start..range.end).unwrap()));
        }
        for (at, piece) in pieces {
            for json in [false, true] {
                texts += 1;
                let compared = reader_compare::compare(piece, json).and_then(|()| {
                    if json { Ok(()) } else { reader_compare::compare_tokens(piece) }
                });
                if let Err(difference) = compared {
                    differences += 1;
                    println!("{path} @{at} json={json}: {difference}");
                }
            }
        }
    }
    println!("reader differential: {texts} texts, {differences} differences");
    if differences > 0 {
        std::process::exit(1);
    }
}
