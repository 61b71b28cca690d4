//! Fixes: before/after text of every fix on hand-written fixtures (insta snapshots of unified diffs), and
//! one harness that every fix on every fixture must pass: the result reparses, the targeted finding is
//! gone, no new check fails, the edits are small and clean, and fix-all reaches its fixed point in one
//! call. The same harness runs over all 4,537 upstream fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{fixtures_dir, read_expectations, repo_root};
use podsec_engine::checks::FixAvailability;
use podsec_engine::fix::{Applicability, Fix};
use podsec_engine::fix_all::fix_all;
use podsec_engine::patch::apply;
use podsec_engine::{Analysis, CHECKS, Level, Options, Policy, Version, analyze};
use std::collections::{BTreeMap, BTreeSet};

fn options(policy: Policy) -> Options<'static> {
    Options {
        policy,
        with_fixes: true,
        ..Options::default()
    }
}

fn diff(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(2)
        .to_string()
}

fn count(analysis: &Analysis, check: &str) -> usize {
    analysis
        .objects
        .iter()
        .flat_map(|o| &o.violations)
        .filter(|v| v.check.id == check)
        .map(|v| v.locations.len())
        .sum()
}

fn failing_checks(analysis: &Analysis) -> BTreeSet<&'static str> {
    analysis
        .objects
        .iter()
        .flat_map(|o| &o.violations)
        .map(|v| v.check.id)
        .collect()
}

/// The harness every fix passes. Returns the fixed text.
fn assert_sound(text: &str, policy: Policy, check: &str, fix: &Fix, before: &Analysis, name: &str) -> String {
    for edit in &fix.edits {
        assert!(
            edit.span.end <= text.len(),
            "{name}: {}: edit past the end",
            fix.title
        );
        assert!(
            text.is_char_boundary(edit.span.start) && text.is_char_boundary(edit.span.end),
            "{name}: {}",
            fix.title
        );
        assert!(
            edit.replacement.len() < 400 && edit.span.end - edit.span.start < 400,
            "{name}: {}: edit too large",
            fix.title
        );
    }
    let fixed = apply(text, &fix.edits);
    assert_ne!(fixed, text, "{name}: {} changes nothing", fix.title);
    let after = analyze(&fixed, &options(policy));
    assert!(
        unreadable(&after).is_empty(),
        "{name}: {} breaks the YAML: {:?}\n{fixed}",
        fix.title,
        after.problems
    );
    assert_api_valid(before, &after, &format!("{name}: {}", fix.title), &fixed);
    if fix.applicability == Applicability::Safe {
        assert_safe(text, &fixed, &fix.edits, &format!("{name}: {}", fix.title));
    }
    assert_eq!(
        after.objects.len(),
        before.objects.len(),
        "{name}: {} loses an object\n{fixed}",
        fix.title
    );
    assert!(
        count(&after, check) < count(before, check),
        "{name}: {} leaves the finding\n{fixed}",
        fix.title
    );
    let new: Vec<_> = failing_checks(&after)
        .difference(&failing_checks(before))
        .copied()
        .collect();
    assert!(
        new.is_empty(),
        "{name}: {} makes {new:?} fail\n{fixed}",
        fix.title
    );
    // Outside the edits, the text is byte for byte the same.
    let mut edits = fix.edits.clone();
    edits.sort();
    let (first, last) = (edits.first().unwrap(), edits.last().unwrap());
    assert_eq!(&fixed[..first.span.start], &text[..first.span.start]);
    assert_eq!(
        &fixed[fixed.len() - (text.len() - last.span.end)..],
        &text[last.span.end..]
    );
    fixed
}

/// Problems that say a document could not be read.
fn unreadable(analysis: &Analysis) -> Vec<&podsec_engine::Problem> {
    analysis
        .problems
        .iter()
        .filter(|p| p.code != "invalid-object")
        .collect()
}

/// The API server's refusals of a text, by message.
fn refusals(analysis: &Analysis) -> BTreeSet<&str> {
    analysis
        .problems
        .iter()
        .filter(|p| p.code == "invalid-object")
        .map(|p| p.message.as_str())
        .collect()
}

/// A fix never makes the API server refuse what it accepted: every refusal after it was there before.
fn assert_api_valid(before: &Analysis, after: &Analysis, name: &str, fixed: &str) {
    let before = refusals(before);
    let new: Vec<_> = refusals(after).difference(&before).copied().collect();
    assert!(
        new.is_empty(),
        "{name}: the API server would refuse the result: {new:?}\n{fixed}"
    );
}

/// What "safe" promises (README, "What a safe fix is"), checked on the text itself: no value the author wrote
/// is changed or removed (an edit replaces nothing, or only an empty value); `runAsNonRoot: true` newly applies
/// only to containers a non-zero `runAsUser` covers; `ALL` is newly dropped only by containers the manifest
/// keeps from root.
fn assert_safe(text: &str, fixed: &str, edits: &[podsec_engine::patch::TextEdit], name: &str) {
    for edit in edits {
        let replaced = text[edit.span.start..edit.span.end].trim();
        assert!(
            matches!(replaced, "" | "null" | "~" | "{}" | "[]"),
            "{name}: a safe fix replaces {replaced:?}, which the author wrote"
        );
    }
    let before = containers(text);
    let after = containers(fixed);
    assert_eq!(before.len(), after.len(), "{name}: containers changed");
    for ((old_non_root, old_user, old_drops_all), (non_root, user, drops_all)) in before.iter().zip(&after) {
        if *non_root == Some(true) && *old_non_root != Some(true) {
            assert!(
                user.is_some_and(|u| u != 0),
                "{name}: runAsNonRoot: true now covers a container without a non-zero runAsUser"
            );
        }
        if *drops_all && !old_drops_all {
            assert!(
                old_user.is_some_and(|u| u != 0) || *old_non_root == Some(true),
                "{name}: ALL dropped by a container that may run as root"
            );
        }
    }
}

/// Every container of every pod-bearing object of `text`, in order: the `runAsNonRoot` and `runAsUser` that
/// apply to it (its own, else the pod's), and whether it drops ALL. Read with the tree alone.
fn containers(text: &str) -> Vec<(Option<bool>, Option<i64>, bool)> {
    let mut found = Vec::new();
    for document in podsec_engine::yaml::documents(text, &podsec_engine::Limits::default()) {
        for object in podsec_engine::workload::pod_objects(&document) {
            let pod_context = object.pod.spec.and_then(|s| s.get("securityContext"));
            let pod_setting = |key: &str| pod_context.and_then(|c| c.get(key));
            for container in object.pod.containers() {
                let own = container.node.get("securityContext");
                let setting = |key: &str| own.and_then(|c| c.get(key)).or_else(|| pod_setting(key));
                let drops_all = own
                    .and_then(|c| c.get("capabilities"))
                    .and_then(|c| c.get("drop"))
                    .is_some_and(|d| d.items().any(|c| c.as_str() == Some("ALL")));
                found.push((
                    setting("runAsNonRoot").and_then(|v| v.as_bool()),
                    setting("runAsUser").and_then(|v| v.as_i64()),
                    drops_all,
                ));
            }
        }
    }
    found
}

/// Fix-all reaches its fixed point in one call and leaves only findings without a fix of that kind.
fn assert_fix_all_converges(text: &str, policy: Policy, include_unsafe: bool, name: &str) -> String {
    let once = fix_all(text, &options(policy), include_unsafe);
    let twice = fix_all(&once.text, &options(policy), include_unsafe);
    assert!(
        twice.applied.is_empty(),
        "{name}: fix-all is not at its fixed point: {:?}\n{}",
        twice.applied,
        once.text
    );
    let after = analyze(&once.text, &options(policy));
    assert!(
        unreadable(&after).is_empty(),
        "{name}: fix-all breaks the YAML\n{}",
        once.text
    );
    assert_api_valid(
        &analyze(text, &options(policy)),
        &after,
        &format!("{name}: fix-all"),
        &once.text,
    );
    if !include_unsafe {
        assert_safe_all(text, &once.text, name);
    }
    for location in after
        .objects
        .iter()
        .flat_map(|o| &o.violations)
        .flat_map(|v| &v.locations)
    {
        if let Some(fix) = &location.fix {
            assert!(
                fix.applicability == Applicability::Unsafe && !include_unsafe,
                "{name}: fix-all left {}",
                fix.title
            );
        }
    }
    once.text
}

/// `assert_safe`'s container rules for a whole fix-all (its edits are many, applied in rounds).
fn assert_safe_all(text: &str, fixed: &str, name: &str) {
    let before = containers(text);
    let after = containers(fixed);
    for ((old_non_root, old_user, old_drops_all), (non_root, user, drops_all)) in before.iter().zip(&after) {
        if *non_root == Some(true) && *old_non_root != Some(true) {
            assert!(
                user.is_some_and(|u| u != 0),
                "{name}: safe fix-all sets runAsNonRoot over a possible root user"
            );
        }
        if *drops_all && !old_drops_all {
            assert!(
                old_user.is_some_and(|u| u != 0) || *old_non_root == Some(true),
                "{name}: safe fix-all drops ALL from a container that may run as root"
            );
        }
    }
}

#[test]
fn every_fix_on_the_hand_written_fixtures() {
    let dir = repo_root().join("tests/fixes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 7);
    let policy = Policy::default();
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let expect_line = text.lines().next().unwrap();
        let expected: Vec<&str> = expect_line
            .strip_prefix("# expect: ")
            .expect("an `# expect:` header")
            .split_whitespace()
            .collect();
        let before = analyze(&text, &options(policy));
        let mut snapshot = String::new();
        let mut fixed_checks = BTreeSet::new();
        for violation in before.objects.iter().flat_map(|o| &o.violations) {
            for location in &violation.locations {
                let Some(fix) = &location.fix else { continue };
                fixed_checks.insert(violation.check.id);
                let fixed = assert_sound(&text, policy, violation.check.id, fix, &before, &name);
                let safety = if fix.applicability == Applicability::Safe {
                    "safe"
                } else {
                    "unsafe"
                };
                snapshot.push_str(&format!(
                    "### {}: {} ({safety})\n{}\n",
                    violation.check.id,
                    fix.title,
                    diff(&text, &fixed)
                ));
            }
        }
        let expected: BTreeSet<&str> = expected.into_iter().collect();
        assert_eq!(
            fixed_checks, expected,
            "{name}: the checks with a fix, exactly as its `# expect:` says"
        );
        let safe = assert_fix_all_converges(&text, policy, false, &name);
        snapshot.push_str(&format!("### fix all (safe)\n{}\n", diff(&text, &safe)));
        let all = assert_fix_all_converges(&text, policy, true, &name);
        snapshot.push_str(&format!("### fix all (--unsafe)\n{}\n", diff(&text, &all)));
        if name == "crlf" {
            assert!(
                !safe.replace("\r\n", "").contains('\n'),
                "CRLF kept everywhere:\n{safe:?}"
            );
        }
        insta::assert_snapshot!(format!("fix_{name}"), snapshot);
    }
}

#[test]
fn every_fix_on_every_conformance_fixture_is_sound_and_fix_all_leaves_only_unfixable() {
    let dir = fixtures_dir();
    let mut fixes = 0;
    let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
    let mut clean_after_fix = 0;
    // Per check: findings without a fix, with a safe fix, with an unsafe one.
    let mut emitted: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    let rows = read_expectations();
    for row in rows.iter().filter(|r| r.outcome == "fail") {
        let text = std::fs::read_to_string(dir.join(&row.path)).unwrap();
        let policy = Policy::new(
            Level::parse(&row.level).unwrap(),
            Version::parse(&row.version).unwrap(),
        );
        let before = analyze(&text, &options(policy));
        for violation in before.objects.iter().flat_map(|o| &o.violations) {
            for location in &violation.locations {
                let seen = emitted.entry(violation.check.id).or_default();
                match &location.fix {
                    None => seen[0] += 1,
                    Some(fix) => {
                        seen[if fix.applicability == Applicability::Safe {
                            1
                        } else {
                            2
                        }] += 1;
                        assert_sound(&text, policy, violation.check.id, fix, &before, &row.path);
                        fixes += 1;
                    }
                }
            }
        }
        // `podsec fix` then `podsec check --level restricted`, for the newest restricted folder.
        if row.level == "restricted" && row.version == "v1.37" {
            let fixed = assert_fix_all_converges(&text, policy, false, &row.path);
            let after = analyze(&fixed, &options(policy));
            if after.objects.iter().all(|o| o.violations.is_empty()) {
                clean_after_fix += 1;
            }
            for violation in after.objects.iter().flat_map(|o| &o.violations) {
                *remaining.entry(violation.check.id.to_string()).or_default() += 1;
            }
            assert_fix_all_converges(&text, policy, true, &row.path);
        }
    }
    println!("fixes: {fixes} fixes on the failing fixtures, each sound");
    println!(
        "restricted v1.37 after `podsec fix`: {clean_after_fix} fail fixtures pass; still failing (no safe fix): {remaining:?}"
    );
    assert!(fixes > 3000, "{fixes}");
    // What the safe fixes cannot do, by design (each of these changes what the workload can do): a
    // snapshot, so that a check that starts or stops being fixable shows up in review.
    insta::assert_snapshot!("remaining_after_safe_fixes", format!("{remaining:#?}"));
    // Every check's fixes are what it declares, on the fixtures and the hand-written ones (upstream's pods
    // never set a non-zero runAsUser everywhere, where runAsNonRoot's fix is safe).
    let mut hand_written: Vec<_> = std::fs::read_dir(repo_root().join("tests/fixes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    hand_written.sort();
    for path in hand_written {
        let text = std::fs::read_to_string(&path).unwrap();
        let before = analyze(&text, &options(Policy::default()));
        for violation in before.objects.iter().flat_map(|o| &o.violations) {
            for location in &violation.locations {
                let seen = emitted.entry(violation.check.id).or_default();
                seen[match &location.fix {
                    None => 0,
                    Some(fix) if fix.applicability == Applicability::Safe => 1,
                    Some(_) => 2,
                }] += 1;
            }
        }
    }
    for check in CHECKS {
        let [none, safe, unsafe_] = emitted.get(check.id).copied().unwrap_or_default();
        let declared = check.fix_availability;
        let consistent = match declared {
            FixAvailability::None => safe + unsafe_ == 0,
            FixAvailability::Always(Applicability::Safe) => none + unsafe_ == 0 && safe > 0,
            FixAvailability::Always(Applicability::Unsafe) => none + safe == 0 && unsafe_ > 0,
            FixAvailability::Sometimes(Applicability::Safe) => unsafe_ == 0 && safe > 0,
            FixAvailability::Sometimes(Applicability::Unsafe) => safe == 0 && unsafe_ > 0,
            FixAvailability::Mixed => safe > 0 && unsafe_ > 0,
        };
        assert!(
            consistent,
            "{} declares {declared:?} but emits {none} findings without a fix, {safe} safe and {unsafe_} unsafe fixes",
            check.id
        );
    }
}

/// Inputs the fuzzers found, kept as regression tests: every fix stays sound and fix-all converges.
#[test]
fn fuzzer_findings_stay_fixed() {
    let dir = repo_root().join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let policy = Policy::default();
        let before = analyze(&text, &options(policy));
        // What the `analyze` fuzz target asserts: every span lies on character boundaries in the text.
        let on_boundaries = |span: podsec_engine::yaml::Span| {
            span.start <= span.end && text.is_char_boundary(span.start) && text.is_char_boundary(span.end)
        };
        for problem in &before.problems {
            assert!(on_boundaries(problem.span), "{name}: {problem:?}");
        }
        for location in before
            .objects
            .iter()
            .flat_map(|o| &o.violations)
            .flat_map(|v| &v.locations)
        {
            assert!(on_boundaries(location.span), "{name}: {location:?}");
        }
        for violation in before.objects.iter().flat_map(|o| &o.violations) {
            for location in &violation.locations {
                if let Some(fix) = &location.fix {
                    let fixed = apply(&text, &fix.edits);
                    let after = analyze(&fixed, &options(policy));
                    assert!(
                        after.problems.len() <= before.problems.len(),
                        "{name}: {} breaks the YAML",
                        fix.title
                    );
                    assert!(
                        count(&after, violation.check.id) < count(&before, violation.check.id),
                        "{name}: {}",
                        fix.title
                    );
                }
            }
        }
        for include_unsafe in [false, true] {
            let once = fix_all(&text, &options(policy), include_unsafe);
            let after = analyze(&once.text, &options(policy));
            assert!(
                after.problems.len() <= before.problems.len(),
                "{name}: fix-all breaks the YAML"
            );
            let twice = fix_all(&once.text, &options(policy), include_unsafe);
            assert!(
                twice.applied.is_empty(),
                "{name}: fix-all did not converge: {:?}",
                twice.applied
            );
        }
    }
}

/// Every fix podsec offers (each one, fix-all safe and unsafe, each check's fix-all) on every manifest of the
/// repository — the examples, the test data and the real manifests of `benches/data/` — keeps each document
/// readable, its objects, and the API server's acceptance; safe fixes keep the author's values and their pods
/// startable.
#[test]
fn every_fix_on_the_repositorys_manifests_keeps_objects_valid_and_safe_fixes_safe() {
    let mut files = Vec::new();
    for dir in [
        "examples",
        "tests/data",
        "tests/fixes",
        "tests/checks",
        "tests/scenarios",
        "benches/data",
    ] {
        let mut pending = vec![repo_root().join(dir)];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    let policy = Policy::default();
    let (mut fixes, mut safe, mut files_fixed) = (0, 0, 0);
    for path in &files {
        let name = path.display().to_string();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let before = analyze(&text, &options(policy));
        if !unreadable(&before).is_empty() || before.objects.is_empty() {
            continue;
        }
        // Each fix is judged on its own document (the 10,000-line real file has a thousand fixes).
        let ranges = podsec_engine::yaml::document_ranges(&text, &podsec_engine::Limits::default());
        let plain = Options {
            policy,
            ..Options::default()
        };
        for violation in before.objects.iter().flat_map(|o| &o.violations) {
            for fix in violation.locations.iter().filter_map(|l| l.fix.as_ref()) {
                let start = fix.edits.iter().map(|e| e.span.start).min().unwrap();
                let range = ranges
                    .iter()
                    .find(|r| r.start <= start && start <= r.end)
                    .unwrap();
                let document = &text[range.start..range.end];
                let edits: Vec<_> = fix
                    .edits
                    .iter()
                    .map(|e| podsec_engine::patch::TextEdit {
                        span: podsec_engine::Span::new(e.span.start - range.start, e.span.end - range.start),
                        replacement: e.replacement.clone(),
                    })
                    .collect();
                let fixed = apply(document, &edits);
                let (old, new) = (analyze(document, &plain), analyze(&fixed, &plain));
                assert!(
                    unreadable(&new).is_empty(),
                    "{name}: {} breaks the YAML",
                    fix.title
                );
                assert_eq!(new.objects.len(), old.objects.len(), "{name}: {}", fix.title);
                assert_api_valid(&old, &new, &format!("{name}: {}", fix.title), &fixed);
                if fix.applicability == Applicability::Safe {
                    assert_safe(document, &fixed, &edits, &format!("{name}: {}", fix.title));
                    safe += 1;
                }
                fixes += 1;
            }
        }
        let fixed_safe = assert_fix_all_converges(&text, policy, false, &name);
        assert_fix_all_converges(&text, policy, true, &name);
        // Each check's fix-all on the smaller files (the 10,000-line real file takes minutes in a debug build;
        // fix-all of every check above covers it).
        for check in CHECKS.iter().filter(|_| text.len() < 64 << 10) {
            let only = podsec_engine::fix_all::fix_all_of(&text, &options(policy), true, Some(check.id));
            let after = analyze(&only.text, &options(policy));
            assert!(unreadable(&after).is_empty(), "{name}: fix-all of {}", check.id);
            assert_api_valid(
                &before,
                &after,
                &format!("{name}: fix-all of {}", check.id),
                &only.text,
            );
        }
        // Comments survive: every comment line of the text is still there after fix-all.
        for comment in text.lines().filter(|l| l.trim_start().starts_with('#')) {
            assert!(fixed_safe.contains(comment), "{name}: fix-all lost {comment:?}");
        }
        files_fixed += usize::from(fixed_safe != text);
    }
    println!(
        "repository manifests: {} files, {files_fixed} changed by safe fix-all, {fixes} fixes ({safe} safe), each valid",
        files.len()
    );
    assert!(fixes > 500 && safe > 50, "{fixes} fixes, {safe} safe");
}
