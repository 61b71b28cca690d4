//! Developer tool, not part of the CLI: prints podsec's reading of YAML files as JSON, one line per
//! document, for the differential test against kubectl's reading (`tests/yaml/differential.sh`).
//!
//! `cargo run -p podsec-engine --example yaml_dump -- FILE...` prints, for every document podsec reads,
//! `{"file": …, "document": N, "start": BYTE, "value": …}` or `{"file": …, "document": N, "start": BYTE,
//! "error": …, "line": N}`. Values are what Kubernetes sees through go-yaml v2, as podsec resolves them:
//! `null`/`~`/empty are null, YAML 1.1 booleans are booleans, integers (`0x1F`, `010`) are numbers, every
//! other scalar (floats and timestamps included) is its text (`!!binary` decoded); aliases are expanded. A mapping is a JSON
//! object whose keys are the keys' written text (a duplicate key is written again: the last one wins when the
//! JSON is read, as in go-yaml v2); a collection used as a key is the key `"<collection>"`.
use podsec_engine::yaml::{Limits, NodeKind, NodeRef, Resolved, parse_stream};
use std::fmt::Write as _;
use std::io::Write as _;

fn main() {
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
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
            if writeln!(stdout, "{line}").is_err() {
                return; // a reader that stopped early
            }
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
                    out.push('{');
                    let entries: Vec<_> = node.entries().collect();
                    stack.push(Step::Text("}"));
                    for (i, entry) in entries.iter().enumerate().rev() {
                        stack.push(Step::Node(entry.value));
                        stack.push(Step::Text(": "));
                        stack.push(Step::Key(entry.key));
                        if i > 0 {
                            stack.push(Step::Text(", "));
                        }
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

/// Typed as go-yaml v2 types it: null, booleans and int64 integers; every other scalar (floats, integers
/// beyond int64, strings) is its text, as the goyaml oracle's `-mode podsec` writes them.
fn scalar_json(node: NodeRef<'_>) -> String {
    match node.resolve() {
        Some(Resolved::Null) => "null".to_string(),
        Some(Resolved::Bool(value)) => value.to_string(),
        Some(Resolved::Int(value)) => value.to_string(),
        _ => json_string(node.as_str().unwrap_or("")),
    }
}

/// A key is its written text, whatever it resolves to (`~`, `true`, `1`), as podsec's lookups see it; a
/// collection used as a key is the marker `"<collection>"`.
fn key_json(key: NodeRef<'_>) -> String {
    match key.resolved().kind() {
        Some(NodeKind::Scalar { value, .. }) => json_string(value),
        _ => json_string("<collection>"),
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
