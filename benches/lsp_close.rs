//! What the server keeps of a large file once it is closed (`cargo bench --bench lsp_close`): the real
//! `podsec lsp` over stdio opens one file, publishes its diagnostics, closes it and clears them; its
//! resident memory (VmRSS) is read idle, while the file is open, and a second after it was closed. Each
//! file is opened and closed three times, so that memory kept for good (grows every round) can be told
//! from memory the allocator keeps for reuse (the same every round). Files: `benches/data/real-10k.yaml`,
//! and a generated single-line flow-style (JSON) List of insecure Deployments, about 5.3 MB with some
//! 13,000 findings, the size of issue 29's report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails by panicking"
)]

#[allow(dead_code)]
#[path = "../tests/common/lsp.rs"]
mod lsp;

use lsp::LspClient;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// `count` copies of `examples/insecure-deployment.yaml` (11 findings each) as one `List` on one line,
/// each with an annotation of `padding` bytes (the bulk of a real object that no check reads).
fn flow_list(count: usize, padding: usize) -> String {
    let items: Vec<Value> = (0..count)
        .map(|i| {
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": format!("web-{i}"),
                    "namespace": format!("payments-{i}"),
                    "annotations": { "example.com/notes": "é".repeat(padding / 2) },
                },
                "spec": {
                    "replicas": 2,
                    "selector": { "matchLabels": { "app": "web" } },
                    "template": {
                        "metadata": { "labels": { "app": "web" } },
                        "spec": {
                            "containers": [
                                { "name": "app", "image": "nginx:1.27",
                                  "securityContext": { "privileged": true },
                                  "ports": [{ "containerPort": 80, "hostPort": 8080 }] },
                                { "name": "sidecar", "image": "busybox",
                                  "securityContext": { "allowPrivilegeEscalation": false,
                                                       "capabilities": { "add": ["NET_ADMIN"] } } },
                            ],
                            "volumes": [{ "name": "host", "hostPath": { "path": "/var/run" } }],
                        },
                    },
                },
            })
        })
        .collect();
    let list = json!({ "apiVersion": "v1", "kind": "List", "items": items });
    let mut text = serde_json::to_string(&list).unwrap();
    text.push('\n');
    text
}

/// Waits for the publication of `uri` at `version` (`None`: the empty one of its closing).
fn published(client: &mut LspClient, uri: &str, version: Option<i64>) -> u64 {
    let message = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && match version {
                Some(v) => m["params"]["version"] == v,
                None => m["params"]["diagnosticCount"] == 0,
            }
    });
    message["params"]["diagnosticCount"].as_u64().unwrap()
}

fn measure(name: &str, text: &str, rounds: usize) {
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    client.light_publications();
    let resident_mb = |client: &LspClient| client.resident_kib() as f64 * 1024.0 / 1e6;
    std::thread::sleep(Duration::from_millis(500));
    let idle = resident_mb(&client);
    let uri = format!("file:///close/{name}");
    println!(
        "{name} ({:.2} MB, {} lines): idle {idle:.1} MB",
        text.len() as f64 / 1e6,
        text.lines().count()
    );
    for round in 1..=rounds {
        let version = round as i64;
        let started = Instant::now();
        client.open(&uri, text, version);
        let count = published(&mut client, &uri, Some(version));
        let took = started.elapsed();
        let open = resident_mb(&client);
        client.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } }));
        published(&mut client, &uri, None);
        std::thread::sleep(Duration::from_secs(1));
        let closed = resident_mb(&client);
        client.forget();
        println!(
            "  round {round}: {count} diagnostics in {:.2} s; open {open:.1} MB, closed {closed:.1} MB \
             ({:+.1} MB over idle)",
            took.as_secs_f64(),
            closed - idle
        );
    }
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 1 } else { 3 };
    let real = include_str!("data/real-10k.yaml");
    measure("real-10k.yaml", real, rounds);
    let (count, padding) = if quick { (20, 3_000) } else { (1_185, 3_900) };
    measure("flow-list.yaml", &flow_list(count, padding), rounds);
}
