//! Apply every offered fix, every comment exemption, and fix-all, then analyse again: a document that
//! parsed before still parses, and fix-all reaches its fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podsec_engine::fix_all::{comment_exemption_fix, fix_all};
use podsec_engine::patch::apply;
use podsec_engine::{Options, analyze};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let options = Options { with_fixes: true, ..Options::default() };
    let before = analyze(text, &options);
    for violation in before.objects.iter().flat_map(|o| &o.violations) {
        for location in &violation.locations {
            let exemption = comment_exemption_fix(text, &options, location.span.start, violation.check.id);
            for fix in location.fix.iter().chain(exemption.as_ref()) {
                let fixed = apply(text, &fix.edits);
                let after = analyze(&fixed, &options);
                assert!(after.problems.len() <= before.problems.len(), "{} broke the YAML:\n{fixed}", fix.title);
            }
        }
    }
    let once = fix_all(text, &options, true);
    let after = analyze(&once.text, &options);
    assert!(after.problems.len() <= before.problems.len(), "fix-all broke the YAML:\n{}", once.text);
    let twice = fix_all(&once.text, &options, true);
    assert!(twice.applied.is_empty(), "fix-all did not converge: {:?}", twice.applied);
});
