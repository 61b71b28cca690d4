//! Per-check location tests, after biome's: `tests/checks/<checkId>/{invalid,valid}*.yaml`. Each invalid file's
//! findings of that check are a snapshot that shows the YAML with every finding underlined, so a wrong
//! location fails a snapshot named after its check; a valid file must say "should not generate
//! diagnostics" and get none. A first line `# policy: <level>:<version>` picks the policy (else
//! `restricted:latest`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::repo_root;
use podsec_engine::{CHECKS, Level, Options, Policy, Version, analyze, check_by_id};
use std::fmt::Write as _;

/// The policy a file asks for in a `# policy: <level>:<version>` line.
fn policy_of(text: &str) -> Policy {
    text.lines()
        .find_map(|line| line.strip_prefix("# policy: "))
        .map_or(Policy::default(), |policy| {
            let (level, version) = policy.trim().split_once(':').unwrap();
            Policy::new(Level::parse(level).unwrap(), Version::parse(version).unwrap())
        })
}

/// The text with each finding's first line underlined and its message beside the carets.
fn underlined(text: &str, findings: &[(usize, usize, String)]) -> String {
    let mut out = String::new();
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        writeln!(out, "{:>3} │ {content}", number + 1).unwrap();
        let end_of_line = offset + content.len();
        for (start, end, message) in findings
            .iter()
            .filter(|(s, _, _)| *s >= offset && *s <= end_of_line)
        {
            let column = text[offset..*start].chars().count();
            let width = text[*start..(*end).min(end_of_line)].chars().count().max(1);
            writeln!(out, "    │ {}{} {message}", " ".repeat(column), "^".repeat(width)).unwrap();
        }
        offset += line.len();
    }
    out
}

#[test]
fn every_check_reports_its_findings_where_they_are() {
    let root = repo_root().join("tests/checks");
    for check in CHECKS {
        let dir = root.join(check.id);
        for kind in ["invalid.yaml", "valid.yaml"] {
            assert!(
                dir.join(kind).is_file(),
                "{} needs tests/checks/{}/{kind}",
                check.id,
                check.id
            );
        }
    }
    let mut folders: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    for folder in folders {
        let id = folder.file_name().unwrap().to_string_lossy().into_owned();
        let check = check_by_id(&id).unwrap_or_else(|| panic!("tests/checks/{id}: no such check"));
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&file).unwrap();
            let options = Options {
                policy: policy_of(&text),
                ..Options::default()
            };
            let analysis = analyze(&text, &options);
            // Every document reads; an object the API server would refuse (`Unmasked` without a user
            // namespace) is still located like any other.
            assert!(
                analysis.problems.iter().all(|p| p.code == "invalid-object"),
                "{id}/{stem}: {:?}",
                analysis.problems
            );
            let findings: Vec<(usize, usize, String)> = analysis
                .objects
                .iter()
                .flat_map(|o| &o.violations)
                .filter(|v| v.check.id == check.id)
                .flat_map(|v| {
                    v.locations.iter().map(move |l| {
                        (
                            l.span.start,
                            l.span.end,
                            format!("{}: {}", v.check.id, v.message()),
                        )
                    })
                })
                .collect();
            if stem.starts_with("valid") {
                assert!(
                    text.contains("should not generate diagnostics"),
                    "tests/checks/{id}/{stem}.yaml must say \"should not generate diagnostics\""
                );
                assert!(findings.is_empty(), "{id}/{stem}: {findings:?}");
            } else {
                assert!(!findings.is_empty(), "{id}/{stem}: no finding of {id}");
                insta::assert_snapshot!(format!("{id}__{stem}"), underlined(&text, &findings));
            }
        }
    }
}
