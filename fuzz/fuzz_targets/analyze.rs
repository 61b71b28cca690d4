//! Parse and analyse any bytes: no panic, every span lies on character boundaries inside the text, and an
//! analysis that reuses the documents of an earlier version of the text (one character removed) equals a
//! fresh one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podsec_engine::{Level, Options, Policy, Version, analyze};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let level = [Level::Privileged, Level::Baseline, Level::Restricted][data.len() % 3];
    let version = if data.len() % 5 == 0 { Version::Minor((data.len() % 40) as u64) } else { Version::Latest };
    let options = Options { policy: Policy::new(level, version), with_fixes: true, ..Options::default() };
    let analysis = analyze(text, &options);
    let valid = |start: usize, end: usize| start <= end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end);
    for problem in &analysis.problems {
        assert!(valid(problem.span.start, problem.span.end), "{problem:?}");
    }
    for object in &analysis.objects {
        for violation in &object.violations {
            for location in &violation.locations {
                assert!(valid(location.span.start, location.span.end), "{location:?}");
                for edit in location.fix.iter().flat_map(|f| &f.edits) {
                    assert!(valid(edit.span.start, edit.span.end), "{edit:?}");
                }
            }
        }
        let _ = object.warning();
    }
    if let Some(offset) = data.first().map(|b| *b as usize * text.len() / 256) {
        let _ = podsec_engine::explain::hover(text, &options, offset);
        // The previous keystroke's text: this one without the character at `offset`.
        let mut cut = offset.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut earlier = text.to_string();
        if cut < text.len() {
            earlier.remove(cut);
        }
        let diagnostics = Options { with_fixes: false, ..options };
        let mut reuse = podsec_engine::analysis::Reuse::default();
        let _ = podsec_engine::analysis::analyze_reusing(&earlier, &diagnostics, &mut reuse);
        let reused = podsec_engine::analysis::analyze_reusing(text, &diagnostics, &mut reuse);
        assert_eq!(reused, analyze(text, &diagnostics));
    }
});
