//! The YAML reader's errors as `podsec check` prints them, through the real binary: go-yaml's words (what
//! kubectl says), at the real cause. One snapshot holds every case: the message, and the line it points at
//! with a caret under the column.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

use std::io::Write;
use std::process::{Command, Stdio};

/// What `podsec check -` prints for `text`, each finding followed by its source line and a caret.
fn check(text: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_podsec"))
        .args(["check", "--color", "never", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut shown = String::new();
    for line in stdout.lines().filter(|line| line.starts_with("<stdin>:")) {
        shown.push_str(line);
        shown.push('\n');
        let mut parts = line.split(':').skip(1);
        let row: usize = parts.next().unwrap().parse().unwrap();
        let column: usize = parts.next().unwrap().parse().unwrap();
        // The line, at most 30 characters before the column, a control character shown as U+FFFD.
        let source: Vec<char> = text
            .lines()
            .nth(row - 1)
            .unwrap_or("")
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        let from = (column - 1).saturating_sub(30);
        let (elided, caret) = if from > 0 {
            ("…", 30 + 1)
        } else {
            ("", column - 1)
        };
        let window: String = source.iter().skip(from).take(60).collect();
        shown.push_str(&format!("    | {elided}{window}\n    | {}^\n", " ".repeat(caret)));
    }
    shown
}

#[test]
fn yaml_errors_name_the_cause_in_go_yaml_s_words() {
    let cases = [
        (
            "a key without its colon",
            "apiVersion: v1\nkind: Pod\nspec\n  containers: []\n",
        ),
        (
            "an unclosed double quote",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"web\n  labels: {}\n",
        ),
        ("an unclosed single quote", "kind: Pod\nmetadata: {name: 'web}\n"),
        ("a tab for indentation", "kind: Pod\nspec:\n\tcontainers: []\n"),
        ("a value after a value", "kind: Pod\nmetadata: name: web\n"),
        (
            "a key less indented than its siblings",
            "kind: Pod\nmetadata:\n  name: web\n namespace: default\n",
        ),
        (
            "an unclosed flow sequence",
            "kind: Pod\nspec:\n  containers: [a, b\n",
        ),
        ("an unknown escape", "kind: Pod\nmetadata:\n  name: \"we\\qb\"\n"),
        ("an undefined alias", "kind: Pod\nmetadata: *meta\n"),
        (
            "YAML 1.2, which go-yaml v2 does not read",
            "%YAML 1.2\n---\nkind: Pod\n",
        ),
        (
            "a sequence entry after a key on its line",
            "kind: Pod\nargs: - a\n",
        ),
        ("a control character", "kind: Pod\nmetadata:\n  name: w\u{1}b\n"),
        (
            "non-ASCII text before the cause",
            "kind: Pod\nmetadata:\n  名前: \"値\n",
        ),
        (
            "a block scalar indented with a tab",
            "kind: Pod\ndata: |\n  a\n\tb\n",
        ),
        (
            "a key longer than 1,024 characters",
            &format!("kind: Pod\n{}: 1\n", "k".repeat(1100)),
        ),
        (
            "nesting deeper than kubectl reads",
            &format!("kind: Pod\na: {}\n", "[".repeat(10_001)),
        ),
    ];
    let mut report = String::new();
    for (name, text) in cases {
        report.push_str(&format!("# {name}\n{}\n", check(text)));
    }
    insta::assert_snapshot!("yaml_errors", report);
}
