//! Apply every offered fix, and fix-all, then analyse again: a document that parsed before still parses,
//! and fix-all reaches its fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podsec_engine::fix_all::fix_all;
use podsec_engine::patch::apply;
use podsec_engine::{Options, analyze};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let options = Options { with_fixes: true, ..Options::default() };
    let before = analyze(text, &options);
    for location in before.objects.iter().flat_map(|o| &o.violations).flat_map(|v| &v.locations) {
        let Some(fix) = &location.fix else { continue };
        let fixed = apply(text, &fix.edits);
        let after = analyze(&fixed, &options);
        assert!(after.problems.len() <= before.problems.len(), "{} broke the YAML:\n{fixed}", fix.title);
    }
    let once = fix_all(text, &options, true);
    let after = analyze(&once.text, &options);
    assert!(after.problems.len() <= before.problems.len(), "fix-all broke the YAML:\n{}", once.text);
    let twice = fix_all(&once.text, &options, true);
    assert!(twice.applied.is_empty(), "fix-all did not converge: {:?}", twice.applied);
});
