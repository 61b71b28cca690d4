//! The editor's keystroke path, measured through the real server over stdio: a one-character edit in,
//! diagnostics for that version out (incremental rope update, analysis, position conversion, JSON-RPC).
//! Also hover and code-action latency on a 10,000-line file, the workspace scan of 4,000 files, and the
//! resident memory of a server holding 100 open 1,000-line documents.
//!
//! `cargo bench --bench lsp_keystroke`. Debounce is set to 0 ms so the figure is the work itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails by panicking"
)]

mod corpus;
#[path = "../tests/common/lsp.rs"]
#[allow(dead_code)]
mod lsp;

use lsp::LspClient;
use serde_json::json;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn keystrokes(label: &str, documents: usize, edits: usize) {
    let text = corpus::manifest(documents);
    let lines = text.lines().count();
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    let uri = format!("file:///bench/{label}.yaml");
    client.open(&uri, &text, 1);
    client.diagnostics(&uri, 1);
    // Type into the value of the first image, one character at a time (it stays valid YAML).
    let line = text.lines().position(|l| l.contains("image:")).unwrap() as u32;
    let mut samples = Vec::with_capacity(edits);
    for i in 0..edits {
        let version = i as i64 + 2;
        let column = 50 + i as u32;
        let started = Instant::now();
        client.change(&uri, version, json!([{ "range": { "start": { "line": line, "character": column }, "end": { "line": line, "character": column } }, "text": "x" }]));
        client.diagnostics(&uri, version);
        samples.push(started.elapsed());
        client.forget();
    }
    samples.sort();
    println!(
        "keystroke → diagnostics, {label} ({lines} lines, {documents} documents, {edits} edits): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
    );
}

/// The editor at real scale: a 10,000-line file of real install manifests with about 1,000 findings
/// (benches/data/real-10k.yaml). Keystroke → publication, and the weight of a publication per diagnostic.
/// `client` names the diagnostic capabilities declared: VS Code's (related information, links, data) or
/// Neovim 0.11's (no links).
fn real_manifests(client_name: &str, edits: usize) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/data/real-10k.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = text.lines().count();
    let mut client = LspClient::spawn();
    if client_name == "neovim" {
        let capabilities = json!({ "textDocument": { "publishDiagnostics": { "relatedInformation": true, "dataSupport": true } } });
        client.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": capabilities,
                    "initializationOptions": { "podsec": { "debounceMs": 0 } } }),
        );
        client.notify("initialized", json!({}));
    } else {
        client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    }
    let uri = "file:///bench/real-10k.yaml";
    client.open(uri, &text, 1);
    let diagnostics = client.diagnostics(uri, 1);
    let publication = client
        .publications(uri)
        .last()
        .map(|p| serde_json::to_string(p).unwrap().len())
        .unwrap_or(0);
    // Type into a comment at the top (every document stays valid YAML). The client only counts the
    // diagnostics of each publication: building a tree of 500 KB of JSON per keystroke would take the cores
    // from the server it measures (an editor parses in its own process).
    let line = text.lines().position(|l| l.starts_with('#')).unwrap() as u32;
    client.light_publications();
    client.forget();
    let mut samples = Vec::with_capacity(edits);
    let mut republished = 0;
    for i in 0..edits {
        let version = i as i64 + 2;
        let column = 2 + i as u32;
        let started = Instant::now();
        client.change(uri, version, json!([{ "range": { "start": { "line": line, "character": column }, "end": { "line": line, "character": column } }, "text": "x" }]));
        // The server publishes nothing that repeats its last publication: a pull is the barrier that
        // answers once this version is analysed. A publishing client's reports carry no result ID, so
        // naming none ("") gets "unchanged" without the items.
        let pulled = client.request(
            "textDocument/diagnostic",
            json!({ "textDocument": { "uri": uri }, "previousResultId": "" }),
        );
        samples.push(started.elapsed());
        assert_eq!(pulled["result"]["kind"], "unchanged", "{pulled}");
        republished += client.publications(uri).len();
        client.forget();
    }
    samples.sort();
    println!(
        "real manifests ({lines} lines, {} diagnostics), {client_name}'s capabilities: keystroke → diagnostics current p50 {:.2} ms, p99 {:.2} ms; {republished} publications for {edits} keystrokes in a comment (a full one is {:.0} KB, {} bytes per diagnostic)",
        diagnostics.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        publication as f64 / 1024.0,
        publication / diagnostics.len().max(1),
    );
}

/// Hover and code actions on a 10,000-line file: each request analyses the document's snapshot as the
/// diagnostics do (code actions with fixes).
fn requests(documents: usize, count: usize) {
    let text = corpus::manifest(documents);
    let lines = text.lines().count();
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    let uri = "file:///bench/requests.yaml";
    client.open(uri, &text, 1);
    let diagnostics = client.diagnostics(uri, 1);
    let mut hovers = Vec::with_capacity(count);
    let mut actions = Vec::with_capacity(count);
    for i in 0..count {
        let diagnostic = &diagnostics[i * 7 % diagnostics.len()];
        let started = Instant::now();
        let hover = client.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": diagnostic["range"]["start"] }),
        );
        hovers.push(started.elapsed());
        assert!(hover["result"]["contents"]["value"].is_string(), "{hover}");
        let started = Instant::now();
        let response = client.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": diagnostic["range"],
                    "context": { "diagnostics": [diagnostic] } }),
        );
        actions.push(started.elapsed());
        assert!(!response["result"].as_array().unwrap().is_empty(), "{response}");
        client.forget();
    }
    hovers.sort();
    actions.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "requests on {lines} lines ({} findings, {count} each): hover p50 {:.2} ms, p99 {:.2} ms; code actions (with fix-all) p50 {:.2} ms, p99 {:.2} ms",
        diagnostics.len(),
        ms(percentile(&hovers, 0.5)),
        ms(percentile(&hovers, 0.99)),
        ms(percentile(&actions, 0.5)),
        ms(percentile(&actions, 0.99)),
    );
}

/// The first workspace scan, from `initialized` to the end of its progress, over `files` files of
/// one Deployment each and a Namespace per ten.
fn workspace_scan(files: usize) {
    let dir = std::env::temp_dir().join(format!("podsec-scan-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for i in 0..files {
        let folder = dir.join(format!("team-{}", i % 50));
        std::fs::create_dir_all(&folder).unwrap();
        let mut text = corpus::deployment(i);
        if i % 10 == 0 {
            text.push_str(&format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-{i}\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n"
            ));
        }
        std::fs::write(folder.join(format!("app-{i}.yaml")), text).unwrap();
    }
    let bytes: u64 = (0..files).map(|i| corpus::deployment(i).len() as u64).sum();
    let mut client = LspClient::spawn();
    let folder = format!("file://{}", dir.display());
    // A client that pulls diagnostics (VS Code): the scan, then the workspace's reports.
    let capabilities = json!({
        "window": { "workDoneProgress": true },
        "textDocument": { "diagnostic": {} },
        "workspace": { "diagnostics": { "refreshSupport": true } },
    });
    client.request(
        "initialize",
        json!({ "processId": null, "rootUri": folder, "capabilities": capabilities }),
    );
    let started = Instant::now();
    client.notify("initialized", json!({}));
    client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    let elapsed = started.elapsed();
    let started = Instant::now();
    let first = client.request("workspace/diagnostic", json!({ "previousResultIds": [] }));
    let first_pull = started.elapsed();
    let items = first["result"]["items"].as_array().unwrap();
    let diagnostics: usize = items.iter().map(|i| i["items"].as_array().unwrap().len()).sum();
    // Again with the result IDs, after a file changed on disk: one file is analysed again.
    let previous: Vec<_> = items
        .iter()
        .map(|i| json!({ "uri": i["uri"], "value": i["resultId"] }))
        .collect();
    let changed = dir.join("team-1/app-1.yaml");
    // A finding more (a privileged Pod): its report changes, so the pull answers at once.
    let privileged = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: extra}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext: {privileged: true}\n";
    std::fs::write(&changed, format!("{}{privileged}", corpus::deployment(1))).unwrap();
    let started = Instant::now();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": format!("file://{}", changed.display()), "type": 2 }] }),
    );
    client.request("workspace/diagnostic", json!({ "previousResultIds": previous }));
    let next_pull = started.elapsed();
    println!(
        "workspace scan: {files} files ({:.1} MB) in {:.0} ms; first workspace pull {:.0} ms ({} files, {diagnostics} diagnostics); after one file changed {:.0} ms",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64() * 1e3,
        first_pull.as_secs_f64() * 1e3,
        items.len(),
        next_pull.as_secs_f64() * 1e3,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn memory_with_open_documents(count: usize, documents_each: usize) {
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    let idle = client.resident_kib();
    let text = corpus::manifest(documents_each);
    for i in 0..count {
        client.open(&format!("file:///bench/open-{i}.yaml"), &text, 1);
    }
    for i in 0..count {
        client.diagnostics(&format!("file:///bench/open-{i}.yaml"), 1);
    }
    let loaded = client.resident_kib();
    println!(
        "server memory: {:.1} MB idle, {:.1} MB with {count} open documents of {} lines ({:.1} MB of text)",
        idle as f64 / 1024.0,
        loaded as f64 / 1024.0,
        text.lines().count(),
        (text.len() * count) as f64 / 1e6
    );
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench` absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    // `cargo bench --bench lsp_keystroke -- NAME…` runs only the parts whose names contain one of them.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    let edits = if quick { 5 } else { 300 };
    if wanted("keystrokes") {
        keystrokes("300-lines", 3, edits);
        keystrokes("10000-lines", 100, if quick { 3 } else { 200 });
    }
    if wanted("real_manifests") {
        real_manifests("vscode", if quick { 3 } else { 200 });
        real_manifests("neovim", if quick { 3 } else { 200 });
    }
    if wanted("requests") {
        requests(100, if quick { 3 } else { 100 });
    }
    if wanted("workspace_scan") {
        workspace_scan(if quick { 100 } else { 4_000 });
    }
    if wanted("memory") {
        memory_with_open_documents(if quick { 3 } else { 100 }, 10);
    }
}
