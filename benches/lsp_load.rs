//! The server under load (`cargo bench --bench lsp_load`): 1,000 open documents, 10,000 rapid incremental
//! changes spread over them, hover requests during the burst. Checks that the last diagnostics of every
//! document equal a fresh analysis of its final text (no lost or reordered edit), and reports the hover
//! latency during the burst and the resident memory before and after.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails by panicking"
)]

mod corpus;
#[allow(dead_code)]
#[path = "../tests/common/lsp.rs"]
mod lsp;

use lsp::{LspClient, utf16_offset};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a fresh analysis of `text` reports, as `(code, line, character)` in UTF-16, sorted.
fn expected(text: &str) -> Vec<(String, u64, u64)> {
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    client.open("file:///fresh.yaml", text, 1);
    summary(&client.diagnostics("file:///fresh.yaml", 1))
}

fn summary(diagnostics: &[Value]) -> Vec<(String, u64, u64)> {
    let mut out: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["range"]["start"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (documents, changes) = if quick { (20, 200) } else { (1000, 10_000) };
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 20 } }));
    let resident_mib = |client: &LspClient| client.resident_kib() as f64 / 1024.0;
    let idle = resident_mib(&client);
    let mut texts: HashMap<String, String> = HashMap::new();
    for i in 0..documents {
        let uri = format!("file:///load/doc-{i}.yaml");
        let text = corpus::deployment(i);
        client.open(&uri, &text, 1);
        texts.insert(uri, text);
    }
    let mut versions: HashMap<String, i64> = texts.keys().map(|k| (k.clone(), 1)).collect();
    let started = Instant::now();
    let mut hover_latencies = Vec::new();
    for change in 0..changes {
        let uri = format!("file:///load/doc-{}.yaml", (change * 7919) % documents);
        let text = texts.get_mut(&uri).unwrap();
        let version = versions.get_mut(&uri).unwrap();
        *version += 1;
        // Alternate between breaking and fixing `allowPrivilegeEscalation` of the first container, and
        // typing into a comment: the final state depends on every edit, in order.
        let (needle, replacement) = match change % 3 {
            0 => (
                "allowPrivilegeEscalation: false",
                "allowPrivilegeEscalation: true",
            ),
            1 => (
                "allowPrivilegeEscalation: true",
                "allowPrivilegeEscalation: false",
            ),
            _ => ("# Deployment", "# Deployment x"),
        };
        if let Some(at) = text.find(needle) {
            let line = text[..at].matches('\n').count() as u64;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let column = text[line_start..at].encode_utf16().count() as u64;
            let end_column = column + needle.encode_utf16().count() as u64;
            let range = json!({ "start": { "line": line, "character": column }, "end": { "line": line, "character": end_column } });
            assert_eq!(utf16_offset(text, &range["start"]), at);
            text.replace_range(at..at + needle.len(), replacement);
            client.change(&uri, *version, json!([{ "range": range, "text": replacement }]));
        }
        if change % 500 == 250 {
            let asked = Instant::now();
            let hover = client.request(
                "textDocument/hover",
                json!({ "textDocument": { "uri": uri }, "position": { "line": 30, "character": 12 } }),
            );
            hover_latencies.push(asked.elapsed());
            assert!(hover.get("error").is_none(), "{hover}");
        }
    }
    let burst = started.elapsed();
    // Wait until every document's final version is published, then compare with fresh analyses.
    let mut last: HashMap<String, Vec<Value>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while last.len() < documents {
        assert!(Instant::now() < deadline, "not every final version was published");
        let publish = |m: &Value| m["method"] == "textDocument/publishDiagnostics";
        let Some(message) = client.try_wait_for(&publish, Duration::from_secs(10)) else {
            break;
        };
        let uri = message["params"]["uri"].as_str().unwrap().to_string();
        if message["params"]["version"].as_i64() == versions.get(&uri).copied() {
            last.insert(uri, message["params"]["diagnostics"].as_array().unwrap().clone());
        }
    }
    assert_eq!(
        last.len(),
        documents,
        "documents whose final version was published"
    );
    let loaded = resident_mib(&client);
    let mut checked = 0;
    for (uri, diagnostics) in &last {
        if checked < 25 || quick {
            assert_eq!(summary(diagnostics), expected(&texts[uri]), "{uri}");
            checked += 1;
        }
    }
    hover_latencies.sort();
    let max = hover_latencies.last().copied().unwrap_or_default();
    println!(
        "load: {documents} open documents, {changes} changes in {:.2} s; final diagnostics of all {documents} documents published for their last version, {checked} compared with a fresh analysis: equal",
        burst.as_secs_f64()
    );
    println!(
        "hover during the burst: {} requests, median {:.1} ms, max {:.1} ms; resident memory {idle:.1} MB idle, {loaded:.1} MB after",
        hover_latencies.len(),
        hover_latencies
            .get(hover_latencies.len() / 2)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3),
        max.as_secs_f64() * 1e3
    );
}
