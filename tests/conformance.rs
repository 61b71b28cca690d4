//! Conformance: every upstream PSA fixture, at its folder's level and version, gives exactly the check IDs
//! of `expected.tsv` (column 7) and a message containing upstream's expected substring (column 8);
//! and the same pods wrapped in every workload kind and in a `v1 List` give the same verdicts, located
//! inside the wrapping object.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{fixtures_dir, read_expectations, wrap};
use podsec_engine::text::LineIndex;
use podsec_engine::{Level, Options, Policy, Version, analyze};

fn verdict(text: &str, policy: Policy) -> (Vec<String>, String, usize) {
    let analysis = analyze(
        text,
        &Options {
            policy,
            ..Options::default()
        },
    );
    // PSA's fixtures include pods the API server would refuse (`Unmasked` without a user namespace): PSA
    // judges them all the same, and so does podsec, beside its `invalid-object` error.
    assert!(
        analysis.problems.iter().all(|p| p.code == "invalid-object"),
        "{:?}",
        analysis.problems
    );
    assert_eq!(analysis.objects.len(), 1, "one pod-bearing object expected");
    let object = &analysis.objects[0];
    let ids = object.violations.iter().map(|v| v.check.id.to_string()).collect();
    (
        ids,
        object.warning(),
        object.violations.iter().map(|v| v.locations.len()).sum(),
    )
}

#[test]
fn every_fixture_gives_exactly_the_expected_checks() {
    let dir = fixtures_dir();
    let rows = read_expectations();
    let (mut pass, mut fail, mut mismatches) = (0, 0, Vec::new());
    for row in &rows {
        let text = std::fs::read_to_string(dir.join(&row.path)).unwrap();
        let policy = Policy::new(
            Level::parse(&row.level).unwrap(),
            Version::parse(&row.version).unwrap(),
        );
        let (ids, message, location_count) = verdict(&text, policy);
        let got = ids.join(",");
        let substring_ok = row.outcome == "pass" || message.contains(&row.expect_substring);
        let locations_ok = (row.outcome == "pass") == (location_count == 0);
        if got != row.all_failing || !substring_ok || !locations_ok {
            mismatches.push(format!(
                "{}: expected [{}] got [{}] (substring {:?} in {message:?}: {substring_ok}, locations {location_count})",
                row.path, row.all_failing, got, row.expect_substring
            ));
        } else if row.outcome == "pass" {
            pass += 1;
        } else {
            fail += 1;
        }
    }
    println!(
        "conformance: {} fixtures, {pass} pass and {fail} fail as expected, {} mismatches",
        rows.len(),
        mismatches.len()
    );
    // Every row of expected.tsv is a fixture (new upstream versions add rows: no hard-coded count), and
    // every fixture file has its row.
    let on_disk = walk_yaml(&common::fixtures_dir());
    assert_eq!(rows.len(), on_disk, "expected.tsv and the fixture files disagree");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn wrapped_fixtures_give_the_same_verdicts_inside_the_object() {
    let dir = fixtures_dir();
    let kinds = [
        "PodTemplate",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "List",
    ];
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for row in &read_expectations() {
        let text = std::fs::read_to_string(dir.join(&row.path)).unwrap();
        let policy = Policy::new(
            Level::parse(&row.level).unwrap(),
            Version::parse(&row.version).unwrap(),
        );
        let (expected, _, _) = verdict(&text, policy);
        for kind in kinds {
            let wrapped = wrap(&text, kind);
            let analysis = analyze(
                &wrapped,
                &Options {
                    policy,
                    ..Options::default()
                },
            );
            let objects: Vec<_> = analysis
                .objects
                .iter()
                .filter(|o| o.kind != "ConfigMap")
                .collect();
            assert_eq!(objects.len(), 1, "{kind} {}:\n{wrapped}", row.path);
            let object = objects[0];
            let got: Vec<String> = object.violations.iter().map(|v| v.check.id.to_string()).collect();
            if got != expected {
                mismatches.push(format!(
                    "{} as {kind}: expected {expected:?} got {got:?}",
                    row.path
                ));
            }
            let index = LineIndex::new(&wrapped);
            let object_lines = index.line_column(&wrapped, object.span.start).line
                ..=index.line_column(&wrapped, object.span.end).line;
            for location in object.violations.iter().flat_map(|v| &v.locations) {
                let line = index.line_column(&wrapped, location.span.start).line;
                assert!(
                    object_lines.contains(&line),
                    "{} as {kind}: line {line} outside {object_lines:?}",
                    row.path
                );
                assert!(
                    location.span.start < location.span.end,
                    "{} as {kind}: empty span",
                    row.path
                );
            }
            checked += 1;
        }
    }
    println!(
        "wrapped: {checked} wrapped objects checked, {} mismatches",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// How many `.yaml` files lie below `dir`.
fn walk_yaml(dir: &std::path::Path) -> usize {
    let mut count = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                count += 1;
            }
        }
    }
    count
}
