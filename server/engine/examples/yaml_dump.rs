//! Developer tool, not part of the CLI: prints podsec's reading of YAML files as JSON, one line per
//! document, for the differential test against libyaml (`tests/yaml/differential.sh`).
//!
//! `cargo run -p podsec-engine --example yaml_dump -- FILE...` prints, for every document podsec reads,
//! `{"file": …, "document": N, "start": BYTE, "value": …}` or `{"file": …, "document": N, "start": BYTE,
//! "error": …, "line": N}`. Values are what Kubernetes sees through go-yaml v2, as podsec resolves them:
//! `null`/`~`/empty are null, YAML 1.1 booleans are booleans, integers (`0x1F`, `010`) are numbers, every
//! other scalar (floats and timestamps included) is a string; mapping keys are their text; aliases are
//! expanded. Mappings are written as `[[key, value], …]` in source order, so duplicates stay visible.
#![allow(clippy::print_stdout, reason = "a developer tool that prints")]

use podsec_engine::yaml::{Limits, NodeRef, parse_stream};
use std::fmt::Write as _;

fn main() {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("yaml_dump: cannot read {path} as UTF-8");
            failed = true;
            continue;
        };
        let stream = parse_stream(&text, &Limits::default());
        for document in &stream.documents {
            let mut line = String::new();
            let _ = write!(
                line,
                "{{\"file\": {}, \"document\": {}, \"start\": {}, ",
                json_string(&path),
                document.index,
                document.span.start
            );
            match (&document.error, document.root()) {
                (Some(error), _) => {
                    let line_number = text
                        .get(..error.span.start)
                        .map_or(0, |t| t.matches('\n').count())
                        + 1;
                    let _ = write!(
                        line,
                        "\"error\": {}, \"line\": {line_number}}}",
                        json_string(&error.message)
                    );
                }
                (None, Some(root)) => {
                    let _ = write!(line, "\"value\": {}}}", to_json(root));
                }
                (None, None) => line.push_str("\"value\": null}"),
            }
            println!("{line}");
        }
    }
    if failed {
        std::process::exit(2);
    }
}

/// What to write next: a node, or a piece of punctuation between nodes.
enum Step<'d> {
    Node(NodeRef<'d>),
    Text(&'static str),
    Key(NodeRef<'d>),
}

/// The node as JSON, with an explicit stack (no recursion, whatever the nesting).
fn to_json(root: NodeRef<'_>) -> String {
    let mut out = String::new();
    let mut stack = vec![Step::Node(root)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Text(text) => out.push_str(text),
            Step::Key(key) => out.push_str(&key_json(key)),
            Step::Node(node) => {
                let node = node.resolved();
                if node.is_mapping() {
                    out.push('[');
                    let entries: Vec<_> = node.entries().collect();
                    stack.push(Step::Text("]"));
                    for (i, entry) in entries.iter().enumerate().rev() {
                        stack.push(Step::Text("]"));
                        stack.push(Step::Node(entry.value));
                        stack.push(Step::Text(", "));
                        stack.push(Step::Key(entry.key));
                        stack.push(Step::Text(if i == 0 { "[" } else { ", [" }));
                    }
                } else if node.is_sequence() {
                    out.push('[');
                    let items: Vec<_> = node.items().collect();
                    stack.push(Step::Text("]"));
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push(Step::Node(*item));
                        if i > 0 {
                            stack.push(Step::Text(", "));
                        }
                    }
                } else {
                    out.push_str(&scalar_json(node));
                }
            }
        }
    }
    out
}

fn scalar_json(node: NodeRef<'_>) -> String {
    if node.is_null() {
        return "null".to_string();
    }
    if let Some(value) = node.as_bool() {
        return value.to_string();
    }
    if let Some(value) = node.as_i64() {
        return value.to_string();
    }
    json_string(node.as_str().unwrap_or(""))
}

/// A key is its text (`null` for an empty or `~` key, as podsec's lookups see it); a collection used as a
/// key is written as the marker `"<collection>"`.
fn key_json(key: NodeRef<'_>) -> String {
    let key = key.resolved();
    if key.is_mapping() || key.is_sequence() {
        return json_string("<collection>");
    }
    match key.as_str() {
        Some(text) => json_string(text),
        None => "null".to_string(),
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
