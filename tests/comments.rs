//! Exemption comments over real text: the engine finds comments exactly where the reader's scanner skips
//! them (on hostile shapes, every YAML file of the repository and the conformance fixtures), and the
//! comment exemption, added to the line of any finding of any test file, exempts that line's findings
//! and changes nothing else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::repo_root;
use podsec_engine::comments::{comments, line_start};
use podsec_engine::fix_all::comment_exemption_fix;
use podsec_engine::yaml::{Document, Limits, parse_stream};
use podsec_engine::{CheckViolation, ObjectReport, Options, analyze, patch};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Every YAML file below `dirs`, with its text.
fn yaml_files(dirs: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut pending = dirs.to_vec();
    let mut found = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    found.push((path, text));
                }
            }
        }
    }
    found.sort();
    found
}

/// Whether `c` ends a line for YAML 1.1 (and go-yaml).
fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Where the reader's scanner (`yaml::scan`) skips comments in a document: the text between its tokens holds only blanks,
/// line breaks and comments, and a block scalar's token its header line's comment. `None` when the scanner
/// stops at an error.
fn scanner_comments(text: &str, document: &Document<'_>) -> Option<Vec<Range<usize>>> {
    use podsec_engine::yaml::scan::{ScalarStyle, Scanner, TokenKind};
    let base = document.span.start;
    let part = &text[base..document.span.end];
    let mut scanner = Scanner::new(part);
    let mut found = Vec::new();
    let mut previous_end = 0;
    loop {
        let token = scanner.next_token().ok()??;
        let (start, end) = (token.start, token.end);
        let mut offset = previous_end.min(start);
        for line in part[offset..start].split_inclusive(is_break) {
            if let Some(hash) = line.find('#') {
                let comment = line[hash..].trim_end_matches(is_break);
                found.push(base + offset + hash..base + offset + hash + comment.len());
            }
            offset += line.len();
        }
        if let TokenKind::Scalar {
            style: ScalarStyle::Literal | ScalarStyle::Folded,
            ..
        } = token.kind
        {
            let header = part[start..].split(is_break).next().unwrap();
            if let Some(hash) = header.find('#') {
                found.push(base + start + hash..base + start + header.len());
            }
        }
        previous_end = previous_end.max(end);
        if matches!(token.kind, TokenKind::StreamEnd) {
            return Some(found);
        }
    }
}

/// The documents of `text` compared (those the scanner reads without an error).
fn compare(text: &str, name: &str) -> usize {
    let mut compared = 0;
    for document in parse_stream(text, &Limits::default()).documents {
        let Some(expected) = scanner_comments(text, &document).filter(|_| document.error.is_none()) else {
            continue;
        };
        let found: Vec<Range<usize>> = comments(&document).iter().map(|s| s.start..s.end).collect();
        assert_eq!(found, expected, "{name}");
        compared += 1;
    }
    compared
}

#[test]
fn comments_are_where_the_scanner_skips_them() {
    for text in [
        "a: \"x # y\" # one\nb: 'p # q'#two\nc: plain#text # three\nd: [x#y, \"#\"] # four\n",
        "a: \"first # line\n  second # line\" # five\n",
        "a: one\n  two # six\n",
        "script: |  # header\n  echo # not a comment\n  # nor this\n# after\nnext: 1 # last\n",
        "folded: >-\n  a # b\n\n  c\nkey: v  # end\n",
        "a: 1 # crlf\r\nb: 2\t# tab\r\nc: 3 # cr\rd: 4 # nel\u{85}e: 5 # ls\u{2028}f: 6 # ps\u{2029}",
        "名前: \"é # ü\" # コメント 🚀\nclé: [ü, \"#ß\"] #ß\n",
        "--- # marker\nsc: {\n  privileged: true, # in flow\n  b: [1, # item\n    2]}\n... # end\n",
        "a: !!str x # tagged\nb: &anchor y #anchored\nc: *anchor # alias\n",
        "- # empty item\n- ? k # explicit key\n  : v # value\n",
        "a: \"quoted\"#glued\nb: [x,#in flow\n  y]\n",
    ] {
        assert_eq!(compare(text, text), 1, "{text:?}");
    }
    let root = repo_root();
    let files = yaml_files(&[
        root.join("tests"),
        root.join("examples"),
        root.join("benches"),
        common::fixtures_dir(),
    ]);
    let compared: usize = files
        .iter()
        .map(|(path, text)| compare(text, &path.display().to_string()))
        .sum();
    assert!(compared > 4_500, "{compared} documents compared");
}

/// The comment exemption, added to the line of any finding of any test file, exempts that line's findings
/// of the check and changes nothing else: the same objects, no finding of another check gone, and no
/// problem but the placeholder's warning.
#[test]
fn the_comment_exemption_covers_the_findings_of_its_line() {
    let options = Options::default();
    let mut tried = 0;
    let root = repo_root();
    for (path, text) in yaml_files(&[root.join("tests"), root.join("examples")]) {
        let before = analyze(&text, &options);
        for (index, object) in before.objects.iter().enumerate() {
            for violation in &object.violations {
                for location in &violation.locations {
                    tried += exempts_its_line(
                        &path,
                        &text,
                        &before,
                        index,
                        violation.check.id,
                        location.span.start,
                    );
                }
            }
        }
    }
    assert!(tried > 200, "{tried} comment exemptions tried");
}

/// 1 when the comment exemption of `check` for the finding at `at` of object `index` exempts it and
/// nothing else changes, 0 when none is offered there.
fn exempts_its_line(
    path: &Path,
    text: &str,
    before: &podsec_engine::Analysis,
    index: usize,
    check: &str,
    at: usize,
) -> usize {
    let options = Options::default();
    let Some(fix) = comment_exemption_fix(text, &options, at, check) else {
        return 0;
    };
    let fixed = patch::apply(text, &fix.edits);
    let after = analyze(&fixed, &options);
    let context = format!("{}: {check} at {at}:\n{fixed}", path.display());
    assert_eq!(after.objects.len(), before.objects.len(), "{context}");
    let line = line_start(text, at);
    let on_line = |v: &CheckViolation| {
        v.check.id == check
            && v.locations
                .iter()
                .any(|l| line_start(&fixed, l.span.start) == line)
    };
    let object = &after.objects[index];
    assert!(!object.violations.iter().any(on_line), "{context}");
    assert!(object.exempted.iter().any(|(v, _)| on_line(v)), "{context}");
    let others = |o: &ObjectReport| -> Vec<&str> {
        o.violations
            .iter()
            .map(|v| v.check.id)
            .filter(|id| *id != check)
            .collect()
    };
    assert_eq!(others(object), others(&before.objects[index]), "{context}");
    let new_problems: Vec<_> = after
        .config_problems
        .iter()
        .filter(|p| !before.config_problems.iter().any(|b| b.message == p.message))
        .collect();
    assert!(
        new_problems
            .iter()
            .all(|p| p.message.contains("placeholder reason")),
        "{context}: {new_problems:?}"
    );
    1
}
