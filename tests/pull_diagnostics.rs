//! Pull diagnostics end to end, over the real server's stdio: a client that pulls (and re-pulls on
//! `workspace/diagnostic/refresh`) gets `textDocument/diagnostic` reports with result IDs, and
//! `workspace/diagnostic` reports for the workspace's files that are not open, kept current when files
//! change on disk and when a policy source changes; a client that cannot be asked to re-pull gets
//! published diagnostics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::lsp::{LspClient, file_uri, workspace_dir};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n";
const APP: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n  namespace: web\nspec:\n  hostNetwork: true\n  containers:\n  - name: app\n    image: nginx\n";
const OTHER: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: other\nspec:\n  containers:\n  - name: other\n    image: nginx\n    securityContext:\n      privileged: true\n";
const NOTES: &str = "title: not Kubernetes\nitems: [1, 2]\n";

fn start(dir: &Path, capabilities: Value) -> (LspClient, Value) {
    start_as(dir, capabilities, Value::Null)
}

/// `start`, the client naming itself with `client_info` (`clientInfo`, e.g. Neovim's name and version).
fn start_as(dir: &Path, capabilities: Value, client_info: Value) -> (LspClient, Value) {
    let mut client = LspClient::spawn();
    let folder = file_uri(dir);
    let response = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": folder, "workspaceFolders": [{ "uri": folder, "name": "ws" }],
                "clientInfo": client_info,
                "capabilities": capabilities, "initializationOptions": { "podsec": { "debounceMs": 0 } } }),
    );
    client.notify("initialized", json!({}));
    (client, response)
}

fn codes(items: &Value) -> Vec<String> {
    let mut codes: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

fn pull(client: &mut LspClient, uri: &str, previous: Option<&str>) -> Value {
    let response = client.request(
        "textDocument/diagnostic",
        json!({ "textDocument": { "uri": uri }, "previousResultId": previous }),
    );
    response["result"].clone()
}

/// What a client that pulls again on each `workspace/diagnostic/refresh` holds of `uri` once a refresh
/// brings it a full report (earlier refreshes, from the opening of a document or its first analysis,
/// may bring "unchanged" first). Panics when no refresh comes.
fn full_after_refreshes(client: &mut LspClient, uri: &str, previous: &str) -> Value {
    let mut report = Value::Null;
    for _ in 0..4 {
        client.wait_for(|m| m["method"] == "workspace/diagnostic/refresh");
        report = pull(client, uri, Some(previous));
        if report["kind"] == "full" {
            break;
        }
    }
    report
}

/// Types `text` at `at` (line, character) as version 2 of `uri`, whose report `result_id` the client
/// holds: the pull that follows is answered "unchanged", and once the document is quiet (a second) the
/// client is asked to pull again and gets the report in full, which this returns. (Opening the document
/// may have asked once already.)
fn answered_unchanged_until_quiet(
    client: &mut LspClient,
    uri: &str,
    at: (u64, u64),
    text: &str,
    result_id: &str,
) -> Value {
    let position = json!({ "line": at.0, "character": at.1 });
    client.change(
        uri,
        2,
        json!([{ "range": { "start": position, "end": position }, "text": text }]),
    );
    let typed = std::time::Instant::now();
    let answer = pull(client, uri, Some(result_id));
    assert_eq!(answer, json!({ "kind": "unchanged", "resultId": result_id }));
    let caught_up = full_after_refreshes(client, uri, result_id);
    assert_eq!(caught_up["kind"], "full", "{caught_up}");
    assert!(typed.elapsed() >= Duration::from_millis(900), "full while typing");
    caught_up
}

/// The workspace report's items by file name.
fn by_file(result: &Value) -> std::collections::BTreeMap<String, Value> {
    result["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let uri = item["uri"].as_str().unwrap();
            (uri.rsplit('/').next().unwrap().to_string(), item.clone())
        })
        .collect()
}

#[test]
fn a_pulling_client_gets_document_and_workspace_reports_with_result_ids() {
    let dir = workspace_dir(
        "both",
        &[
            ("ns.yaml", NAMESPACE),
            ("app.yaml", APP),
            ("other.yaml", OTHER),
            ("notes.yaml", NOTES),
        ],
    );
    let capabilities = json!({
        "textDocument": { "diagnostic": { "dynamicRegistration": false } },
        "workspace": { "diagnostics": { "refreshSupport": true } },
        "window": { "workDoneProgress": true },
    });
    let (mut client, init) = start(&dir, capabilities);
    let provider = &init["result"]["capabilities"]["diagnosticProvider"];
    assert_eq!(provider["identifier"], "podsec", "{init}");
    assert_eq!(provider["interFileDependencies"], true);
    assert_eq!(provider["workspaceDiagnostics"], true);

    // A document: a full report, then "unchanged" for the same result ID, nothing published.
    let app = file_uri(&dir.join("app.yaml"));
    client.open(&app, APP, 1);
    let first = pull(&mut client, &app, None);
    assert_eq!(first["kind"], "full", "{first}");
    assert_eq!(
        codes(&first["items"]),
        ["hostNamespaces"],
        "baseline, from the Namespace's label"
    );
    let first_id = first["resultId"].as_str().unwrap().to_string();
    let again = pull(&mut client, &app, Some(&first_id));
    assert_eq!(again, json!({ "kind": "unchanged", "resultId": first_id }));

    // The workspace: every file that is not open, with progress the first time.
    let response = client.request("workspace/diagnostic", json!({ "previousResultIds": [] }));
    let files = by_file(&response["result"]);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["notes.yaml", "ns.yaml", "other.yaml"],
        "{response}"
    );
    assert_eq!(
        codes(&files["other.yaml"]["items"]),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "privileged",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ],
        "restricted:latest by default"
    );
    assert!(codes(&files["notes.yaml"]["items"]).is_empty());
    assert!(
        files
            .values()
            .all(|f| f["kind"] == "full" && f["version"].is_null())
    );
    let progress: Vec<&Value> = client
        .received
        .iter()
        .filter(|m| m["method"] == "$/progress")
        .filter(|m| {
            m["params"]["token"]
                .as_str()
                .unwrap_or("")
                .starts_with("podsec-workspace-diagnostics")
        })
        .collect();
    assert_eq!(
        progress.first().map(|m| &m["params"]["value"]["kind"]),
        Some(&json!("begin"))
    );
    assert_eq!(
        progress.last().map(|m| &m["params"]["value"]["kind"]),
        Some(&json!("end"))
    );
    assert!(
        !client
            .received
            .iter()
            .any(|m| m["method"] == "textDocument/publishDiagnostics"),
        "a pulling client gets no publications"
    );

    // An edit: a new report and a new ID.
    client.change(
        &app,
        2,
        json!([{ "text": APP.replace("  hostNetwork: true\n", "") }]),
    );
    let edited = pull(&mut client, &app, Some(&first_id));
    assert_eq!(edited["kind"], "full");
    assert!(codes(&edited["items"]).is_empty(), "{edited}");
    assert_ne!(edited["resultId"], json!(first_id));

    // A policy source changes in an open document: the client is asked to pull again, and the other
    // document's report follows the new label.
    let ns = file_uri(&dir.join("ns.yaml"));
    client.open(&ns, NAMESPACE, 1);
    client.change(
        &ns,
        2,
        json!([{ "text": NAMESPACE.replace("enforce: baseline", "enforce: restricted") }]),
    );
    let _ = pull(&mut client, &ns, None);
    client.wait_for(|m| m["method"] == "workspace/diagnostic/refresh");
    let restricted = pull(&mut client, &app, edited["resultId"].as_str());
    assert_eq!(
        codes(&restricted["items"]),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ],
        "{restricted}"
    );

    // A workspace pull that would change nothing waits; a file changed on disk answers it.
    let previous: Vec<Value> = files
        .values()
        .map(|f| json!({ "uri": f["uri"], "value": f["resultId"] }))
        .collect();
    let id = client.request_async("workspace/diagnostic", json!({ "previousResultIds": previous }));
    let answered = |m: &Value| m["id"] == id && m.get("method").is_none();
    assert!(
        client
            .try_wait_for(&answered, Duration::from_millis(700))
            .is_none(),
        "nothing changed: the pull is held"
    );
    std::fs::write(
        dir.join("other.yaml"),
        OTHER.replace("      privileged: true\n", "      runAsNonRoot: true\n"),
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&dir.join("other.yaml")), "type": 2 }] }),
    );
    let response = client.wait_for(answered);
    let files = by_file(&response["result"]);
    assert_eq!(files["other.yaml"]["kind"], "full", "{response}");
    assert!(!codes(&files["other.yaml"]["items"]).contains(&"privileged".to_string()));
    assert_eq!(files["notes.yaml"]["kind"], "unchanged");
    assert!(
        !files.contains_key("ns.yaml"),
        "open now: its document reports for it"
    );

    // Closed without saving: VS Code pulls it once more, and gets its file's report (hostNetwork is
    // still on disk), as workspace pulls give it from now on.
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": app } }));
    let closed = pull(&mut client, &app, None);
    assert_eq!(closed["kind"], "full");
    assert!(
        codes(&closed["items"]).contains(&"hostNamespaces".to_string()),
        "{closed}"
    );
    let response = client.request("workspace/diagnostic", json!({ "previousResultIds": [] }));
    let files = by_file(&response["result"]);
    assert_eq!(files["app.yaml"]["items"], closed["items"]);
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn a_client_that_cannot_be_asked_to_pull_again_gets_publications() {
    let dir = workspace_dir("push", &[("app.yaml", APP)]);
    // Neovim 0.11: it pulls, but has no `workspace/diagnostic/refresh`.
    let capabilities = json!({ "textDocument": { "diagnostic": { "dynamicRegistration": false } } });
    let (mut client, init) = start(&dir, capabilities);
    assert!(
        init["result"]["capabilities"].get("diagnosticProvider").is_none(),
        "{init}"
    );
    let app = file_uri(&dir.join("app.yaml"));
    client.open(&app, APP, 1);
    let published = client.diagnostics(&app, 1);
    assert!(
        published
            .iter()
            .any(|d| d["code"] == "privileged" || d["code"] == "hostNamespaces")
    );
    assert!(client.shutdown_and_exit().success());
}

/// What Neovim 0.12 declares for diagnostics (runtime/lua/vim/lsp/protocol.lua): pulls with related
/// documents and data, pulls again on `workspace/diagnostic/refresh`, and still reads publications.
fn neovim_0_12_capabilities() -> Value {
    json!({
        "textDocument": {
            "diagnostic": { "dynamicRegistration": false, "relatedDocumentSupport": true, "dataSupport": true,
                            "tagSupport": { "valueSet": [1, 2] } },
            "publishDiagnostics": { "relatedInformation": true, "tagSupport": { "valueSet": [1, 2] },
                                    "dataSupport": true },
            "codeLens": { "dynamicRegistration": false },
        },
        "workspace": {
            "diagnostics": { "refreshSupport": true },
            "didChangeWatchedFiles": { "dynamicRegistration": true, "relativePatternSupport": true },
            "codeLens": { "refreshSupport": true },
            "workspaceFolders": true,
            "configuration": true,
        },
        "general": { "positionEncodings": ["utf-8", "utf-16", "utf-32"] },
    })
}

/// Neovim 0.12's `clientInfo` (`tostring(vim.version())`).
fn neovim(version: &str) -> Value {
    json!({ "name": "Neovim", "version": version })
}

/// Neovim before 0.13 answers `workspace/diagnostic/refresh` with a workspace pull alone when the server
/// offers one, leaving its open documents' diagnostics as they were (neovim/neovim#40623): it is offered
/// document pulls only, so that a refresh re-pulls each open document. Later Neovims and other clients
/// get workspace reports.
#[test]
fn neovim_before_0_13_is_not_offered_workspace_reports() {
    let dir = workspace_dir("nvim-versions", &[("app.yaml", APP)]);
    for (client_info, workspace) in [
        (neovim("0.12.4"), false),
        (neovim("0.11.4+v0.11.4"), false),
        (neovim("0.13.0-dev-1234+gabcdef"), true),
        (neovim("1.0.0"), true),
        (
            json!({ "name": "Visual Studio Code", "version": "1.100.0" }),
            true,
        ),
        (Value::Null, true),
    ] {
        let (mut client, init) = start_as(&dir, neovim_0_12_capabilities(), client_info.clone());
        let provider = &init["result"]["capabilities"]["diagnosticProvider"];
        assert_eq!(provider["interFileDependencies"], true, "{client_info}: {init}");
        assert_eq!(
            provider["workspaceDiagnostics"], workspace,
            "{client_info}: {init}"
        );
        // Either way, the open document is pulled.
        let app = file_uri(&dir.join("app.yaml"));
        client.open(&app, APP, 1);
        assert!(codes(&pull(&mut client, &app, None)["items"]).contains(&"hostNamespaces".to_string()));
        assert!(client.shutdown_and_exit().success());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn neovim_0_12_pulls_and_an_unchanged_report_sends_nothing() {
    let dir = workspace_dir("nvim-0.12", &[("ns.yaml", NAMESPACE), ("app.yaml", APP)]);
    let (mut client, init) = start_as(&dir, neovim_0_12_capabilities(), neovim("0.12.4"));
    assert_eq!(
        init["result"]["capabilities"]["diagnosticProvider"]["interFileDependencies"], true,
        "{init}"
    );
    let app = file_uri(&dir.join("app.yaml"));
    client.open(&app, APP, 1);
    let first = pull(&mut client, &app, None);
    assert_eq!(first["kind"], "full");
    assert_eq!(codes(&first["items"]), ["hostNamespaces"]);
    assert_eq!(
        init["result"]["capabilities"]["positionEncoding"], "utf-8",
        "Neovim lists UTF-8 first"
    );
    let result_id = first["resultId"].as_str().unwrap().to_string();

    // A comment with non-ASCII text above, then typing at its end (byte 13 in UTF-8): the report is
    // unchanged, so its ID is too, and nothing is sent.
    let commented = format!("# équipe web\n{APP}");
    client.change(&app, 2, json!([{ "text": commented }]));
    let moved = pull(&mut client, &app, Some(&result_id));
    assert_eq!(moved["kind"], "full", "the finding moved down a line");
    assert_eq!(
        moved["items"][0]["range"]["start"]["line"].as_u64(),
        first["items"][0]["range"]["start"]["line"]
            .as_u64()
            .map(|l| l + 1)
    );
    let moved_id = moved["resultId"].as_str().unwrap().to_string();
    client.change(
        &app,
        3,
        json!([{ "range": { "start": { "line": 0, "character": 13 }, "end": { "line": 0, "character": 13 } },
                 "text": "x" }]),
    );
    let unchanged = pull(&mut client, &app, Some(&moved_id));
    assert_eq!(unchanged, json!({ "kind": "unchanged", "resultId": moved_id }));

    // A policy change in another document: the client is asked to pull again, and the new report differs.
    let ns = file_uri(&dir.join("ns.yaml"));
    client.open(&ns, NAMESPACE, 1);
    client.change(
        &ns,
        2,
        json!([{ "text": NAMESPACE.replace("baseline", "privileged") }]),
    );
    // (Opening the Namespace asks too, and so may its first analysis if it runs before the edit arrives.)
    let relaxed = full_after_refreshes(&mut client, &app, &moved_id);
    assert_eq!(relaxed["kind"], "full", "{relaxed}");
    let severities: Vec<&Value> = relaxed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["severity"])
        .collect();
    assert!(
        severities.iter().all(|s| **s != 1),
        "enforce: privileged refuses nothing: {relaxed}"
    );

    // Nothing was published: a pulling client gets reports only.
    client.forget();
    std::thread::sleep(Duration::from_millis(300));
    let _ = pull(&mut client, &app, None);
    assert!(client.publications(&app).is_empty());
    assert!(client.shutdown_and_exit().success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new line typed above the findings only moves them, which the client's marks have done (Neovim 0.12
/// keeps pulled diagnostics on extmarks): its pull is answered "unchanged", and once the document is
/// quiet the client is asked to pull again and gets them where they now are.
#[test]
fn a_keystroke_that_only_moves_findings_is_answered_unchanged_until_the_typing_stops() {
    let dir = workspace_dir("nvim-0.12-moved", &[("app.yaml", APP)]);
    let (mut client, _) = start_as(&dir, neovim_0_12_capabilities(), neovim("0.12.4"));
    let app = file_uri(&dir.join("app.yaml"));
    client.open(&app, APP, 1);
    let first = pull(&mut client, &app, None);
    assert_eq!(first["kind"], "full");
    let result_id = first["resultId"].as_str().unwrap().to_string();
    let line = |report: &Value| report["items"][0]["range"]["start"]["line"].as_u64().unwrap();

    // UTF-8 positions (Neovim offers them first); a new line with non-ASCII text at the top.
    let caught_up = answered_unchanged_until_quiet(&mut client, &app, (0, 0), "# équipe web\n", &result_id);
    assert_eq!(line(&caught_up), line(&first) + 1);
    assert_eq!(codes(&caught_up["items"]), codes(&first["items"]));

    // A keystroke that changes a verdict is answered in full at once.
    let caught_up_id = caught_up["resultId"].as_str().unwrap().to_string();
    let host_network = APP.lines().position(|l| l.contains("hostNetwork: true")).unwrap() as u64 + 1;
    client.change(
        &app,
        3,
        json!([{ "range": { "start": { "line": host_network, "character": 15 }, "end": { "line": host_network, "character": 19 } },
                 "text": "false" }]),
    );
    let fixed = pull(&mut client, &app, Some(&caught_up_id));
    assert_eq!(fixed["kind"], "full");
    assert!(codes(&caught_up["items"]).contains(&"hostNamespaces".to_string()));
    assert!(
        !codes(&fixed["items"]).contains(&"hostNamespaces".to_string()),
        "{fixed}"
    );
    assert!(client.shutdown_and_exit().success());
}

/// Typing into a container's name rewords its findings without changing a verdict: the pull is answered
/// "unchanged", and once the document is quiet the client is asked to pull again and gets the new wording.
#[test]
fn a_keystroke_that_only_rewords_findings_is_answered_unchanged_until_the_typing_stops() {
    let dir = workspace_dir("nvim-0.12-reworded", &[("other.yaml", OTHER)]);
    let (mut client, _) = start_as(&dir, neovim_0_12_capabilities(), neovim("0.12.4"));
    let other = file_uri(&dir.join("other.yaml"));
    client.open(&other, OTHER, 1);
    let privileged = |report: &Value| -> Value {
        report["items"]
            .as_array()
            .and_then(|items| items.iter().find(|d| d["code"] == "privileged"))
            .cloned()
            .unwrap_or_else(|| panic!("no privileged finding: {report}"))
    };
    let first = pull(&mut client, &other, None);
    let message = |report: &Value| privileged(report)["message"].as_str().unwrap().to_string();
    assert!(message(&first).contains("\"other\""), "{first}");
    let result_id = first["resultId"].as_str().unwrap().to_string();

    // UTF-8 positions (Neovim offers them first): "é" typed at the end of the name.
    let line = OTHER.lines().position(|l| l == "  - name: other").unwrap() as u64;
    let caught_up = answered_unchanged_until_quiet(&mut client, &other, (line, 15), "é", &result_id);
    assert_eq!(codes(&caught_up["items"]), codes(&first["items"]));
    assert_eq!(privileged(&caught_up)["range"], privileged(&first)["range"]);
    assert!(message(&caught_up).contains("\"otheré\""), "{caught_up}");
    assert!(client.shutdown_and_exit().success());
}

/// A client that asks for the workspace again before its last workspace pull is answered (Neovim 0.12
/// sends one at each refresh) releases the held one: held pulls would take the server's request slots one
/// by one, and the document pulls of the file being typed would wait behind them.
#[test]
fn a_newer_workspace_pull_releases_the_one_held_and_document_pulls_never_wait_behind_them() {
    let dir = workspace_dir("held", &[("app.yaml", APP), ("other.yaml", OTHER)]);
    let capabilities = json!({
        "textDocument": { "diagnostic": { "dynamicRegistration": false } },
        "workspace": { "diagnostics": { "refreshSupport": true } },
    });
    let (mut client, _) = start(&dir, capabilities);
    let response = client.request("workspace/diagnostic", json!({ "previousResultIds": [] }));
    let previous: Vec<Value> = response["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!({ "uri": f["uri"], "value": f["resultId"] }))
        .collect();
    assert_eq!(previous.len(), 2, "{response}");

    // Six pulls in a row, each answered "unchanged" once the next comes (the last one stays held).
    let ids: Vec<i64> = (0..6)
        .map(|_| client.request_async("workspace/diagnostic", json!({ "previousResultIds": previous })))
        .collect();
    for id in &ids[..5] {
        let answer = client.wait_for(|m| m["id"] == *id && m.get("method").is_none());
        let kinds: Vec<&Value> = answer["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["kind"])
            .collect();
        assert_eq!(kinds, [&json!("unchanged"), &json!("unchanged")], "{answer}");
    }
    // The document being typed is answered at once.
    let app = file_uri(&dir.join("app.yaml"));
    client.open(&app, APP, 1);
    let report = pull(&mut client, &app, None);
    assert_eq!(report["kind"], "full", "{report}");
}

/// Text typed above a Namespace moves it without changing its policy: the other documents are not analysed
/// again, and a client that pulls is not asked to pull every document again at each keystroke. A label
/// change still asks.
#[test]
fn typing_above_a_namespace_does_not_ask_the_client_to_pull_every_document_again() {
    let dir = workspace_dir("moved-namespace", &[("ns.yaml", NAMESPACE), ("app.yaml", APP)]);
    let (mut client, _) = start_as(&dir, neovim_0_12_capabilities(), neovim("0.12.4"));
    let (ns, app) = (file_uri(&dir.join("ns.yaml")), file_uri(&dir.join("app.yaml")));
    client.open(&app, APP, 1);
    client.open(&ns, NAMESPACE, 1);
    pull(&mut client, &app, None);
    pull(&mut client, &ns, None);
    let refresh = |m: &Value| m["method"] == "workspace/diagnostic/refresh";
    let quiet = Duration::from_millis(1500);
    // Settled: the opening's own requests are over.
    while client.try_wait_for(&refresh, quiet).is_some() {}

    let mut text = NAMESPACE.to_string();
    for (version, typed) in [(2, "# the web team\n"), (3, "#")] {
        client.change(
            &ns,
            version,
            json!([{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                     "text": typed }]),
        );
        text.insert_str(0, typed);
        // (The lens is made from the analysis of this version: it has run when the lens comes.)
        let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": ns } }));
        assert!(
            lenses["result"][0]["command"]["title"]
                .as_str()
                .unwrap()
                .contains("baseline"),
            "{lenses}"
        );
    }
    assert!(
        client.try_wait_for(&refresh, quiet).is_none(),
        "asked to pull every document again after text typed above a Namespace"
    );

    client.change(
        &ns,
        4,
        json!([{ "text": text.replace("baseline", "privileged") }]),
    );
    client.request("textDocument/codeLens", json!({ "textDocument": { "uri": ns } }));
    assert!(
        client.try_wait_for(&refresh, Duration::from_secs(10)).is_some(),
        "a label change asks"
    );
    assert!(client.shutdown_and_exit().success());
}
