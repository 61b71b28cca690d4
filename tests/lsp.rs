//! The language server end to end: the real binary, framed JSON-RPC over its stdio, exact positions in
//! every encoding, incremental edits, debouncing, close, hover, settings and malformed input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::lsp::LspClient;
use serde_json::{Value, json};
use std::time::Duration;

const URI: &str = "file:///work/%C3%BCnicode/pods.yaml";

/// Two documents; non-ASCII text (emoji: two UTF-16 units, four UTF-8 bytes; CJK: three bytes) sits
/// before the offending fields on their own lines.
const TEXT: &str = "# ünïcödé 🚀 header comment
apiVersion: v1
kind: Pod
metadata: {name: \"名前\"}
spec:
  containers:
  - {name: \"😀\", image: x, securityContext: {privileged: true}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: 漢字
spec:
  template:
    spec:
      containers:
      - name: app
        ports: [{containerPort: 80, hostPort: 8080}]   # ü
";

fn by_code<'a>(diagnostics: &'a [Value], code: &str) -> Vec<&'a Value> {
    diagnostics.iter().filter(|d| d["code"] == code).collect()
}

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({ "start": { "line": start.0, "character": start.1 }, "end": { "line": end.0, "character": end.1 } })
}

#[test]
fn positions_are_exact_in_every_encoding() {
    // `privileged: true` starts after 44 characters of line 6, one of which is 😀.
    type Case<'a> = (Option<&'a [&'a str]>, &'a str, (u32, u32));
    let cases: [Case; 4] = [
        (None, "utf-16", (45, 61)),
        (Some(&["utf-16"]), "utf-16", (45, 61)),
        (Some(&["utf-32", "utf-16"]), "utf-32", (44, 60)),
        (Some(&["utf-16", "utf-8"]), "utf-8", (47, 63)),
    ];
    for (offered, negotiated, (start, end)) in cases {
        let mut client = LspClient::spawn();
        let init = client.initialize(offered, Value::Null);
        assert_eq!(init["result"]["capabilities"]["positionEncoding"], negotiated);
        assert_eq!(init["result"]["serverInfo"]["name"], "podsec");
        client.open(URI, TEXT, 1);
        let diagnostics = client.diagnostics(URI, 1);
        let privileged = by_code(&diagnostics, "privileged");
        assert_eq!(privileged.len(), 1, "{diagnostics:#?}");
        let d = privileged[0];
        assert_eq!(d["range"], range((6, start), (6, end)), "{negotiated}");
        assert_eq!(d["severity"], 1);
        assert_eq!(d["source"], "podsec");
        assert_eq!(
            d["message"], "container \"😀\" must not set securityContext.privileged=true",
            "what is wrong at the field, the check being the code"
        );
        assert_eq!(
            d["codeDescription"]["href"],
            "https://github.com/podsec/podsec/blob/main/docs/checks.md#privileged"
        );
        assert_eq!(d["relatedInformation"][0]["location"]["uri"], URI);
        assert_eq!(
            d["relatedInformation"][0]["location"]["range"],
            range((2, 0), (2, 9))
        );
        // PSA's whole sentence once per object, on its first diagnostic (privileged runs first here).
        let sentence = d["relatedInformation"][0]["message"].as_str().unwrap();
        assert!(
            sentence.starts_with("Pod \"名前\": would violate PodSecurity \"restricted:latest\": privileged (container \"😀\" must not set securityContext.privileged=true), ")
                && sentence.ends_with(" [enforce from the default (no policy configured)]"),
            "{sentence}"
        );
        // No data for a check that fails at one mode: a code action finds the finding by code and range.
        assert!(d.get("data").is_none_or(Value::is_null), "{d}");
        let others = diagnostics
            .iter()
            .filter(|o| o["relatedInformation"].is_array())
            .count();
        assert_eq!(others, 2, "one sentence per object: {diagnostics:#?}");

        // The hostPort of the second document, after a CJK name two lines above and `ü` after it.
        let host_port = by_code(&diagnostics, "hostPorts");
        assert_eq!(host_port.len(), 1);
        assert_eq!(host_port[0]["range"], range((17, 36), (17, 50)));
        // A missing setting is reported on the container's name entry: `name: "😀"`.
        let escalation = by_code(&diagnostics, "allowPrivilegeEscalation");
        let widths = match negotiated {
            "utf-8" => 12,
            "utf-16" => 10,
            _ => 9,
        };
        assert_eq!(
            escalation[0]["range"],
            range((6, 5), (6, 5 + widths)),
            "{negotiated}"
        );
        assert_eq!(escalation[1]["range"], range((16, 8), (16, 17)));
        assert_eq!(client.shutdown_and_exit().code(), Some(0));
    }
}

#[test]
fn incremental_edits_fix_and_rebreak_a_field() {
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(URI, TEXT, 1);
    assert_eq!(by_code(&client.diagnostics(URI, 1), "privileged").len(), 1);
    // `true` is at UTF-16 columns 57..61 of line 6.
    client.change(
        URI,
        2,
        json!([{ "range": range((6, 57), (6, 61)), "text": "false" }]),
    );
    let fixed = client.diagnostics(URI, 2);
    assert!(by_code(&fixed, "privileged").is_empty(), "{fixed:#?}");
    // Two edits in one notification, applied in order: `false` → `` → `yes` (YAML 1.1 true, as in kubectl).
    client.change(
        URI,
        3,
        json!([
            { "range": range((6, 57), (6, 62)), "text": "" },
            { "range": range((6, 57), (6, 57)), "text": "yes" },
        ]),
    );
    let broken = client.diagnostics(URI, 3);
    let privileged = by_code(&broken, "privileged");
    assert_eq!(privileged.len(), 1);
    assert_eq!(privileged[0]["range"], range((6, 45), (6, 60)));
    // A full-text change replaces everything.
    client.change(URI, 4, json!([{ "text": "apiVersion: v1\nkind: ConfigMap\n" }]));
    assert_eq!(client.diagnostics(URI, 4), Vec::<Value>::new());
}

#[test]
fn a_burst_of_changes_publishes_once_for_the_last_version_and_never_what_the_client_has() {
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(URI, TEXT, 1);
    client.diagnostics(URI, 1);
    // 50 keystrokes typed into the header comment, sent back to back.
    for version in 2..=51 {
        let column = 27 + (version - 2) as u32;
        client.change(
            URI,
            version,
            json!([{ "range": range((0, column), (0, column)), "text": "x" }]),
        );
    }
    let last = client.diagnostics(URI, 51);
    assert_eq!(by_code(&last, "privileged").len(), 1);
    let versions = |client: &LspClient| -> Vec<Value> {
        client
            .publications(URI)
            .iter()
            .map(|p| p["version"].clone())
            .collect()
    };
    // Typing in a comment changes no diagnostic: nothing is published again.
    assert_eq!(versions(&client), [json!(1)]);
    // Ten new lines at the top move every diagnostic: one publication, for the last version.
    for version in 52..=61 {
        client.change(
            URI,
            version,
            json!([{ "range": range((0, 0), (0, 0)), "text": "#\n" }]),
        );
    }
    let moved = client.diagnostics(URI, 61);
    assert_eq!(
        by_code(&moved, "privileged")[0]["range"]["start"]["line"],
        by_code(&last, "privileged")[0]["range"]["start"]["line"]
            .as_u64()
            .unwrap()
            + 10
    );
    assert_eq!(versions(&client), [json!(1), json!(61)]);
}

#[test]
fn close_clears_diagnostics_and_nothing_is_published_after_it() {
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(URI, TEXT, 1);
    client.diagnostics(URI, 1);
    // Change and close at once: the debounced analysis of version 2 must never be published.
    client.change(URI, 2, json!([{ "range": range((0, 0), (0, 0)), "text": "#" }]));
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": URI } }));
    let cleared = client
        .wait_for(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"].is_null());
    assert_eq!(cleared["params"]["diagnostics"], json!([]));
    let late = client.try_wait_for(
        &|m: &Value| m["method"] == "textDocument/publishDiagnostics",
        Duration::from_millis(500),
    );
    assert!(late.is_none(), "published after close: {late:?}");
    // The closed document is gone: requests about it are errors.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 6, "character": 50 } }),
    );
    assert_eq!(hover["error"]["code"], -32602);
}

#[test]
fn hover_explains_the_rule_the_verdict_and_the_policy() {
    let mut client = LspClient::spawn();
    client.initialize(Some(&["utf-32"]), Value::Null);
    client.open(URI, TEXT, 1);
    client.diagnostics(URI, 1);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 6, "character": 50 } }),
    );
    let result = &hover["result"];
    assert_eq!(result["contents"]["kind"], "markdown");
    let markdown = result["contents"]["value"].as_str().unwrap();
    // A summary line first, the policy in force, then the rule's documentation below a rule.
    assert!(
        markdown.starts_with(
            "**✗ privileged** — baseline · container \"😀\" must not set securityContext.privileged=true · fix: Remove privileged: true on container \"😀\" (unsafe)\n\nPolicy in force for Pod \"名前\":\n- enforce: `restricted:latest` from the default (no policy configured)\n\n---\n\n#### privileged"
        ),
        "{markdown}"
    );
    for section in [
        "##### What it forbids",
        "##### Why",
        "##### Since",
        "##### How to comply",
        "##### Fix safety",
    ] {
        assert!(markdown.contains(section), "{section}");
    }
    assert_eq!(result["range"], range((6, 44), (6, 60)));

    // A passing field still explains the rule that reads it.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 17, "character": 10 } }),
    );
    let markdown = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.starts_with("Fields under here are read by:\n\n- `hostPorts` (baseline): "),
        "{markdown}"
    );
    assert!(
        markdown.contains("Policy in force for Deployment \"漢字\":\n- enforce: `restricted:latest`"),
        "{markdown}"
    );
    // Nothing to say on a comment.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 0, "character": 3 } }),
    );
    assert_eq!(hover["result"], Value::Null);
}

#[test]
fn settings_come_from_initialization_and_changes_republish() {
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "level": "baseline" } }));
    client.open(URI, TEXT, 1);
    let baseline = client.diagnostics(URI, 1);
    assert!(by_code(&baseline, "runAsNonRoot").is_empty());
    assert!(
        baseline[0]["relatedInformation"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"baseline:latest\"")
    );

    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "podsec": { "level": "restricted", "version": "v1.24" } } }),
    );
    let republished = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "runAsNonRoot")
    });
    assert_eq!(republished["params"]["version"], 1);
    let message = republished["params"]["diagnostics"][0]["relatedInformation"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("\"restricted:v1.24\""), "{message}");

    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "podsec": { "level": "strict", "colour": 1 } } }),
    );
    let warning = client.wait_for(|m| m["method"] == "window/showMessage");
    assert_eq!(warning["params"]["type"], 2);
    assert_eq!(warning["params"]["message"], "unknown setting podsec.colour");
    let warning = client.wait_for(|m| m["method"] == "window/showMessage");
    assert_eq!(
        warning["params"]["message"],
        "podsec.level: invalid level \"strict\": must be one of privileged, baseline, restricted"
    );
}

#[test]
fn malformed_input_and_bad_requests_get_errors_and_the_server_keeps_serving() {
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.send_raw(b"{this is not json");
    let parse_error = client.wait_for(|m| m.get("error").is_some());
    assert_eq!(parse_error["error"]["code"], -32700);

    client.send_raw(br#"{"id": 7, "hello": "world"}"#);
    let invalid = client.wait_for(|m| m["error"]["code"] == -32600);
    assert_eq!(invalid["id"], 7);
    client.send_raw(b"");
    let empty = client.wait_for(|m| m["error"]["code"] == -32700 && m["id"].is_null());
    assert!(
        empty["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Parse error")
    );

    let unknown = client.request("podsec/frobnicate", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let unopened = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///nope.yaml" }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(unopened["error"]["code"], -32602);
    // A notification with missing fields is dropped without an answer.
    client.notify("textDocument/didOpen", json!({ "textDocument": { "uri": URI } }));

    client.open(URI, TEXT, 1);
    client.diagnostics(URI, 1);
    let outside = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 400, "character": 0 } }),
    );
    assert_eq!(outside["error"]["code"], -32602);
    // An edit far outside the text is clamped to its end, as the protocol asks, not a crash.
    client.change(
        URI,
        2,
        json!([{ "range": range((900, 9), (901, 0)), "text": "# appended\n" }]),
    );
    assert_eq!(by_code(&client.diagnostics(URI, 2), "privileged").len(), 1);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 6, "character": 50 } }),
    );
    assert!(
        hover["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("privileged")
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn syntax_errors_are_located_and_other_documents_still_checked() {
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    let text = TEXT.replace("kind: Deployment\n", "kind: Deployment\nbroken: [1, 2\n");
    client.open(URI, &text, 1);
    let diagnostics = client.diagnostics(URI, 1);
    let syntax = by_code(&diagnostics, "syntax-error");
    assert_eq!(syntax.len(), 1);
    assert_eq!(syntax[0]["range"]["start"]["line"], 11);
    assert_eq!(syntax[0]["severity"], 1);
    assert!(
        syntax[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(podsec did not check this document)")
    );
    assert!(syntax[0]["codeDescription"]["href"].is_string());
    assert_eq!(by_code(&diagnostics, "privileged").len(), 1);
    // Next to yaml-language-server: a hint, or only the word that the document was not checked.
    for (mode, severity, says) in [
        ("hint", 4, "(podsec did not check this document)"),
        (
            "off",
            3,
            "podsec did not check this document: it is not valid YAML",
        ),
    ] {
        let mut client = LspClient::spawn();
        client.initialize(None, json!({ "podsec": { "syntaxErrors": mode } }));
        client.open(URI, &text, 1);
        let diagnostics = client.diagnostics(URI, 1);
        let syntax = by_code(&diagnostics, "syntax-error");
        assert_eq!(syntax.len(), 1, "{mode}");
        assert_eq!(syntax[0]["severity"], severity, "{mode}");
        assert!(
            syntax[0]["message"].as_str().unwrap().ends_with(says),
            "{mode}: {}",
            syntax[0]["message"]
        );
        assert_eq!(by_code(&diagnostics, "privileged").len(), 1, "{mode}");
    }
}

#[test]
fn the_server_exits_when_stdin_closes() {
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    assert!(client.finish().success());
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::repo_root().join("tests/fixes").join(name)).unwrap()
}

#[test]
fn quick_fixes_exemptions_and_fix_all_apply_as_the_engine_does() {
    use common::lsp::apply_workspace_edit;
    use podsec_engine::{Options, analyze};
    let text = fixture("non-ascii.yaml");
    let uri = "file:///work/job.yaml";
    let mut client = LspClient::spawn();
    let init = client.initialize(None, Value::Null);
    assert_eq!(
        init["result"]["capabilities"]["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll.podsec"])
    );
    client.open(uri, &text, 1);
    let diagnostics = client.diagnostics(uri, 1);
    let escalation = by_code(&diagnostics, "allowPrivilegeEscalation")[0].clone();
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": escalation["range"], "context": { "diagnostics": [escalation] } }),
    );
    let actions = response["result"].as_array().unwrap();
    let titles: Vec<&str> = actions.iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Set allowPrivilegeEscalation: false on container \"ünïcödé\"",
            "Exempt Job \"rapport-été\" from allowPrivilegeEscalation (add podsec.dev/exempt.allowPrivilegeEscalation with a reason)",
            "Exempt this finding from allowPrivilegeEscalation with a comment (not deployed)",
            "Fix all podsec problems in this file (2 safe fixes)",
        ]
    );
    let quick = &actions[0];
    assert_eq!(quick["kind"], "quickfix");
    assert_eq!(quick["isPreferred"], true);
    assert_eq!(quick["diagnostics"][0]["code"], "allowPrivilegeEscalation");
    assert_eq!(
        quick["edit"]["documentChanges"][0]["textDocument"],
        json!({ "uri": uri, "version": 1 })
    );

    // The client's result of applying the edit (UTF-16 positions) is the engine's fixed text.
    let engine = analyze(
        &text,
        &Options {
            with_fixes: true,
            ..Options::default()
        },
    );
    let fix = engine.objects[0]
        .violations
        .iter()
        .find(|v| v.check.id == "allowPrivilegeEscalation")
        .unwrap()
        .locations[0]
        .fix
        .clone()
        .unwrap();
    let expected = podsec_engine::patch::apply(&text, &fix.edits);
    assert_eq!(apply_workspace_edit(&text, &quick["edit"]), expected);

    let exempted = apply_workspace_edit(&text, &actions[1]["edit"]);
    assert!(
        exempted.contains("  annotations: {description: \"計測 ✓\"}\n"),
        "the template's annotations are not the object's"
    );
    assert!(exempted.contains("metadata:\n  name: rapport-été\n  annotations:\n    podsec.dev/exempt.allowPrivilegeEscalation: \"TODO: reason\"\n"), "{exempted}");

    // Fix all, asked for as editors do on save.
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": range((0, 0), (0, 0)), "context": { "diagnostics": [], "only": ["source.fixAll"] } }),
    );
    let actions = response["result"].as_array().unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["kind"], "source.fixAll.podsec");
    let fixed = apply_workspace_edit(&text, &actions[0]["edit"]);
    assert_eq!(
        fixed,
        podsec_engine::fix_all::fix_all(&text, &Options::default(), false).text
    );
    client.change(uri, 2, json!([{ "text": fixed }]));
    // What is left has only unsafe fixes: no runAsUser keeps the container from root, so neither
    // runAsNonRoot nor dropping ALL is sure to let it start.
    let left: Vec<String> = client
        .diagnostics(uri, 2)
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, ["capabilities_restricted", "runAsNonRoot"]);
    // Nothing left to fix: no fix-all action.
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": range((0, 0), (0, 0)), "context": { "diagnostics": [], "only": ["source.fixAll.podsec"] } }),
    );
    assert_eq!(response["result"], json!([]));
}

#[test]
fn policy_comes_from_the_workspace_and_follows_file_changes() {
    let dir = std::env::temp_dir().join(format!("podsec-lsp-workspace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cluster")).unwrap();
    let namespaces = dir.join("cluster/namespaces.yaml");
    let team = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/warn: restricted\n";
    std::fs::write(&namespaces, team).unwrap();
    std::fs::write(
        dir.join(".podsec.yaml"),
        "namespaces:\n  audited: {audit: restricted}\ncolour: red\n",
    )
    .unwrap();
    let folder = format!("file://{}", dir.display());
    let mut client = LspClient::spawn();
    let response = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": folder, "workspaceFolders": [{ "uri": folder, "name": "ws" }],
                "capabilities": { "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } },
                                  "textDocument": { "publishDiagnostics": { "relatedInformation": true } } } }),
    );
    assert!(response.get("result").is_some());
    client.notify("initialized", json!({}));
    let registration = client.wait_for(|m| m["method"] == "client/registerCapability");
    assert_eq!(
        registration["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );

    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: team}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: x\n        ports: [{containerPort: 80, hostPort: 80}]\n";
    let uri = format!("{folder}/deploy.yaml");
    client.open(&uri, deploy, 1);
    // The closed namespaces file sets the policy: baseline findings are errors, restricted-only ones warnings.
    let is_team_policy = |m: &Value| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "runAsNonRoot" && d["severity"] == 2)
    };
    let published = client.wait_for(is_team_policy);
    let diagnostics = published["params"]["diagnostics"].as_array().unwrap();
    assert_eq!(by_code(diagnostics, "hostPorts")[0]["severity"], 1);
    let sentences: Vec<&str> = diagnostics
        .iter()
        .flat_map(|d| d["relatedInformation"].as_array().into_iter().flatten())
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        sentences
            .iter()
            .any(|m| m.contains("\"baseline:latest\": hostPort")
                && m.ends_with(
                    "[enforce from Namespace \"team\", label pod-security.kubernetes.io/enforce]"
                ))
            && sentences
                .iter()
                .any(|m| m.contains("\"restricted:latest\": hostPort")),
        "{sentences:?}"
    );

    // The label file changes on disk: enforce becomes restricted, so the warnings become errors.
    std::fs::write(
        &namespaces,
        team.replace("enforce: baseline", "enforce: restricted"),
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": format!("file://{}", namespaces.display()), "type": 2 }] }),
    );
    client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "runAsNonRoot" && d["severity"] == 1)
    });

    // A Namespace in an open document: invalid labels are located, and hover explains them.
    let ns_uri = format!("{folder}/ns.yaml");
    let ns_text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n  labels:\n    pod-security.kubernetes.io/enforce: strict\n";
    client.open(&ns_uri, ns_text, 1);
    let diagnostics = client.diagnostics(&ns_uri, 1);
    let invalid = by_code(&diagnostics, "invalid-label");
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["range"], range((5, 4), (5, 46)));
    assert_eq!(invalid[0]["severity"], 1);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": ns_uri }, "position": { "line": 5, "character": 10 } }),
    );
    let markdown = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.contains("PSA fails closed and enforces `restricted`"),
        "{markdown}"
    );

    // The project file itself gets located diagnostics.
    let project_uri = format!("{folder}/.podsec.yaml");
    client.open(
        &project_uri,
        "namespaces:\n  audited: {audit: restricted}\ncolour: red\n",
        1,
    );
    let diagnostics = client.diagnostics(&project_uri, 1);
    assert_eq!(
        by_code(&diagnostics, "unknown-key")[0]["range"],
        range((2, 0), (2, 6))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn documents_over_the_size_limit_get_one_clear_diagnostic() {
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "maxDocumentSizeMB": 1 } }));
    // A 1.5 MB document (a long comment block) after a small one that still gets checked.
    let big = format!(
        "{TEXT}---\n{}kind: ConfigMap\n",
        "# filler line of a large generated file\n".repeat(40_000)
    );
    client.open(URI, &big, 1);
    let diagnostics = client.diagnostics(URI, 1);
    let limit = by_code(&diagnostics, "limit-exceeded");
    assert_eq!(limit.len(), 1, "{diagnostics:#?}");
    assert!(
        limit[0]["message"]
            .as_str()
            .unwrap()
            .contains("MB, more than the 1.0 MB limit; it is not analysed")
    );
    assert_eq!(
        limit[0]["range"]["start"]["line"], 18,
        "on the `---` that starts it"
    );
    assert_eq!(
        by_code(&diagnostics, "privileged").len(),
        1,
        "the other documents are still analysed"
    );
}

#[test]
fn thousands_of_findings_in_one_file_give_a_bounded_set_and_one_diagnostic_that_says_so() {
    // 700 Pods, each with a privileged container under the default restricted policy: five errors each.
    let pod = |i: usize| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext: {{privileged: true}}\n"
        )
    };
    let text: String = (0..700).map(|i| format!("{}---\n", pod(i))).collect();
    let uri = "file:///bench/many.yaml";
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    client.open(uri, &text, 1);
    let diagnostics = client.diagnostics(uri, 1);
    assert_eq!(diagnostics.len(), 2_000);
    let note = &diagnostics[0];
    assert_eq!(note["code"], "too-many-diagnostics");
    assert_eq!(note["range"]["start"]["line"], 0);
    // The CLI's count of the same text is the total the note gives.
    let dir = std::env::temp_dir().join(format!("podsec-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("many.yaml"), &text).unwrap();
    let output = common::podsec(&[
        "check",
        "--output-format",
        "json",
        dir.join("many.yaml").to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings: usize = report["files"][0]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["violations"].as_array().map_or(0, |v| {
                v.iter()
                    .map(|v| v["locations"].as_array().map_or(1, Vec::len))
                    .sum()
            })
        })
        .sum();
    let message = note["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "podsec shows 1999 of the {findings} problems in this file: the most severe first (errors, then warnings), each in file order; `podsec check` lists them all"
        )
    );
    // Shown: the most severe, in file order.
    let shown = &diagnostics[1..];
    assert!(shown.iter().all(|d| d["severity"] == 1), "errors first");
    let lines: Vec<u64> = shown
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "in file order");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chart_templates_are_read_statically_not_as_syntax_errors() {
    let text =
        std::fs::read_to_string(common::repo_root().join("tests/helm/web/templates/daemonset.yaml")).unwrap();
    let uri = "file:///chart/templates/daemonset.yaml";
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(uri, &text, 1);
    let diagnostics = client.diagnostics(uri, 1);
    // The container's missing settings are errors; what the toYaml'd pod securityContext may set is
    // information; no note for the document as a whole.
    let codes: Vec<(&str, u64)> = diagnostics
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["severity"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            ("helm-value", 3),
            ("helm-value", 3),
            ("allowPrivilegeEscalation", 1),
            ("capabilities_restricted", 1)
        ],
        "{diagnostics:#?}"
    );
}

#[test]
fn a_pod_security_policy_gets_a_migration_diagnostic_and_a_labels_action() {
    use common::lsp::apply_workspace_edit;
    let text = std::fs::read_to_string(common::repo_root().join("tests/psp/policies.yaml")).unwrap();
    let uri = "file:///cluster/psp.yaml";
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(uri, &text, 1);
    let diagnostics = client.diagnostics(uri, 1);
    let psp = by_code(&diagnostics, "psp-removed");
    assert_eq!(psp.len(), 2);
    assert_eq!(psp[1]["severity"], 2);
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": psp[1]["range"], "context": { "diagnostics": [psp[1]] } }),
    );
    let action = &response["result"][0];
    assert_eq!(
        action["title"],
        "Add the pod-security.kubernetes.io labels that match PodSecurityPolicy \"permissive\" as a comment"
    );
    let fixed = apply_workspace_edit(&text, &action["edit"]);
    assert!(fixed.contains("---\n# podsec: PodSecurityPolicy \"permissive\" guarantees the privileged level. On the namespaces that used it:\n#   pod-security.kubernetes.io/enforce: privileged\n"), "{fixed}");
}

/// A Deployment whose one finding (allowPrivilegeEscalation) is on its container's `name:` line, after
/// non-ASCII text and a comment.
const EXEMPTABLE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: café
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: ünï  # 😀
        image: x
        securityContext: {capabilities: {drop: [ALL]}}
";

/// The edits of the code action whose title starts with `title_start`, for the allowPrivilegeEscalation
/// diagnostic among `diagnostics`.
fn exemption_edits(
    client: &mut LspClient,
    uri: &str,
    version: i64,
    diagnostics: &[Value],
    title_start: &str,
) -> Value {
    let escalation = by_code(diagnostics, "allowPrivilegeEscalation")[0].clone();
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": escalation["range"], "context": { "diagnostics": [escalation] } }),
    );
    let action = response["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with(title_start))
        .unwrap_or_else(|| panic!("no {title_start:?} in {response}"))
        .clone();
    assert_eq!(
        action["edit"]["documentChanges"][0]["textDocument"],
        json!({ "uri": uri, "version": version })
    );
    action["edit"]["documentChanges"][0]["edits"].clone()
}

#[test]
fn exemption_actions_put_the_cursor_on_the_reason_where_the_client_takes_snippets() {
    let uri = "file:///work/caf%C3%A9.yaml";
    // A client with LSP 3.18's snippet edits (VS Code's vscode-languageclient 10 and later says so).
    let mut client = LspClient::spawn();
    client.initialize_with(
        json!({ "workspace": { "workspaceEdit": { "documentChanges": true, "snippetEditSupport": true } } }),
        Value::Null,
    );
    client.open(uri, EXEMPTABLE, 1);
    let diagnostics = client.diagnostics(uri, 1);
    assert_eq!(
        exemption_edits(&mut client, uri, 1, &diagnostics, "Exempt Deployment"),
        json!([{
            "range": range((3, 12), (3, 12)),
            "snippet": {
                "kind": "snippet",
                "value": "\n  annotations:\n    podsec.dev/exempt.allowPrivilegeEscalation: \"${1:TODO: reason}\"",
            },
        }])
    );
    // At the end of the container's line, after its comment: `      - name: ünï  # 😀` is 23 UTF-16 units.
    assert_eq!(
        exemption_edits(&mut client, uri, 1, &diagnostics, "Exempt this finding"),
        json!([{
            "range": range((9, 23), (9, 23)),
            "snippet": { "kind": "snippet", "value": "  # podsec: exempt allowPrivilegeEscalation -- ${1:TODO: reason}" },
        }])
    );
    drop(client);

    // A client without them (Neovim 0.11 says nothing of snippet edits): the same text, plain.
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(uri, EXEMPTABLE, 1);
    let diagnostics = client.diagnostics(uri, 1);
    assert_eq!(
        exemption_edits(&mut client, uri, 1, &diagnostics, "Exempt Deployment"),
        json!([{
            "range": range((3, 12), (3, 12)),
            "newText": "\n  annotations:\n    podsec.dev/exempt.allowPrivilegeEscalation: \"TODO: reason\"",
        }])
    );
    let comment = exemption_edits(&mut client, uri, 1, &diagnostics, "Exempt this finding");
    assert_eq!(
        comment,
        json!([{
            "range": range((9, 23), (9, 23)),
            "newText": "  # podsec: exempt allowPrivilegeEscalation -- TODO: reason",
        }])
    );

    // Applied as it is, the finding is exempted and the placeholder reason warned about; with a reason
    // typed in its place, nothing is left.
    let applied =
        common::lsp::apply_workspace_edit(EXEMPTABLE, &json!({ "documentChanges": [{ "edits": comment }] }));
    assert_eq!(
        applied,
        EXEMPTABLE.replace(
            "      - name: ünï  # 😀\n",
            "      - name: ünï  # 😀  # podsec: exempt allowPrivilegeEscalation -- TODO: reason\n"
        )
    );
    client.change(uri, 2, json!([{ "text": applied }]));
    let diagnostics = client.diagnostics(uri, 2);
    let codes: Vec<(&str, &str)> = diagnostics
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [(
            "invalid-exemption",
            "the exemption from allowPrivilegeEscalation still has a placeholder reason: say why the workload needs it"
        )]
    );
    // At the reason: 23 + `  # podsec: exempt allowPrivilegeEscalation -- ` (47) UTF-16 units in.
    assert_eq!(diagnostics[0]["range"], range((9, 70), (9, 82)));
    let reasoned = applied.replace("TODO: reason", "the job's init step needs setuid");
    client.change(uri, 3, json!([{ "text": reasoned }]));
    assert_eq!(client.diagnostics(uri, 3), Vec::<Value>::new());
}

#[test]
fn exemption_comments_get_their_problems_at_the_comment_and_exempt_their_findings() {
    let uri = "file:///work/comments.yaml";
    let text = "apiVersion: v1
kind: Pod
metadata: # podsec: exempt hostPorts -- nothing to exempt
  name: p
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app # podsec: exempt allowPrivilegeEscalation, privilegd -- the job needs it
    image: x
    securityContext:
      capabilities: {drop: [ALL]}
      privileged: true # podsec: exempt privileged
";
    let mut client = LspClient::spawn();
    client.initialize(Some(&["utf-8"]), Value::Null);
    client.open(uri, text, 1);
    let mut found: Vec<(String, String, i64, Value)> = client
        .diagnostics(uri, 1)
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
                d["severity"].as_i64().unwrap(),
                d["range"].clone(),
            )
        })
        .collect();
    found.sort_by_key(|d| (d.3["start"]["line"].as_u64(), d.3["start"]["character"].as_u64()));
    assert_eq!(
        found,
        [
            (
                "unused-exemption".to_string(),
                "Pod \"p\" does not fail hostPorts at restricted:latest: this exemption is not needed".to_string(),
                3,
                range((2, 27), (2, 36)),
            ),
            (
                "invalid-exemption".to_string(),
                "unknown check \"privilegd\" in a podsec comment; `podsec explain` lists the checks".to_string(),
                2,
                range((7, 57), (7, 66)),
            ),
            // The privileged finding stays: an exemption without a reason does not apply.
            (
                "privileged".to_string(),
                "container \"app\" must not set securityContext.privileged=true".to_string(),
                1,
                range((11, 6), (11, 22)),
            ),
            (
                "invalid-exemption".to_string(),
                "the exemption needs a reason, after ` -- `: `# podsec: exempt <check-id> -- <reason>`; it does not apply without one".to_string(),
                1,
                range((11, 23), (11, 50)),
            ),
        ]
    );
}

/// The optional fields of a diagnostic go only to a client that declares them: Neovim 0.11 declares
/// related information and data but no links; a client that declares nothing gets none.
#[test]
fn diagnostics_carry_only_the_optional_fields_the_client_supports() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext:\n      privileged: true\n";
    let neovim = json!({ "relatedInformation": true, "dataSupport": true });
    for (declared, related, links) in [(Some(neovim), true, false), (None, false, false)] {
        let mut client = LspClient::spawn();
        let mut capabilities = json!({});
        if let Some(declared) = &declared {
            capabilities = json!({ "textDocument": { "publishDiagnostics": declared } });
        }
        client.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": capabilities }),
        );
        client.notify("initialized", json!({}));
        client.open(URI, text, 1);
        let diagnostics = client.diagnostics(URI, 1);
        assert!(by_code(&diagnostics, "privileged").len() == 1, "{diagnostics:#?}");
        assert_eq!(
            diagnostics.iter().any(|d| d.get("relatedInformation").is_some()),
            related,
            "{declared:?}: {diagnostics:#?}"
        );
        assert_eq!(
            diagnostics.iter().any(|d| d.get("codeDescription").is_some()),
            links,
            "{declared:?}: {diagnostics:#?}"
        );
        assert!(client.shutdown_and_exit().success());
    }
}

/// The diagnostics of version 2 of the document, typed at `typed` by a keystroke that changed no verdict:
/// not sent on the keystroke, the first publication for it is the catch-up a second later.
fn published_once_the_typing_stops(client: &mut LspClient, typed: std::time::Instant) -> Vec<Value> {
    let publication =
        client.wait_for(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2);
    assert!(
        typed.elapsed() >= Duration::from_millis(1000),
        "published {:?} after a keystroke that changed no verdict",
        typed.elapsed()
    );
    publication["params"]["diagnostics"].as_array().unwrap().clone()
}

/// A keystroke that rewords findings without changing a verdict (typing into a container's name, which
/// its findings' messages quote) is not published while the user types either: the client shows the same
/// findings in the same places. A second after the typing stops, the new wording is published; meanwhile a
/// finding named with its old wording still gets its fix.
#[test]
fn a_keystroke_that_only_rewords_findings_is_published_once_the_typing_stops() {
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    client.open(URI, TEXT, 1);
    let before = client.diagnostics(URI, 1);
    let host_port = by_code(&before, "hostPorts")[0].clone();
    assert!(
        host_port["message"].as_str().unwrap().contains("\"app\""),
        "{host_port}"
    );

    let line = TEXT.lines().position(|l| l.ends_with("- name: app")).unwrap() as u64;
    let end_of_name = TEXT.lines().nth(line as usize).unwrap().len() as u64;
    let typed = std::time::Instant::now();
    client.change(
        URI,
        2,
        json!([{ "range": { "start": { "line": line, "character": end_of_name }, "end": { "line": line, "character": end_of_name } }, "text": "x" }]),
    );
    // The container's other findings underline its name: the client still shows them without the "x"
    // (its marks do not stretch over text typed at an end), and names them so.
    let run_as_non_root = by_code(&before, "runAsNonRoot")
        .into_iter()
        .find(|d| d["range"]["end"] == json!({ "line": line, "character": end_of_name }))
        .unwrap()
        .clone();
    for (named, fix) in [(&host_port, "hostPort"), (&run_as_non_root, "runAsNonRoot")] {
        let response = client.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": URI }, "range": named["range"], "context": { "diagnostics": [named], "only": ["quickfix"] } }),
        );
        let offered: Vec<&str> = response["result"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["title"].as_str())
            .collect();
        assert!(
            offered
                .iter()
                .any(|t| t.contains(fix) && !t.starts_with("Fix all") && !t.contains("xempt")),
            "no {fix} fix for a finding named as the client shows it: {response}"
        );
    }

    let reworded = &published_once_the_typing_stops(&mut client, typed);
    assert_eq!(reworded.len(), before.len());
    let now = by_code(reworded, "hostPorts")[0];
    assert_eq!(now["range"], host_port["range"]);
    assert!(now["message"].as_str().unwrap().contains("\"appx\""), "{now}");
    let grown = by_code(reworded, "runAsNonRoot")
        .into_iter()
        .find(|d| d["range"]["start"] == run_as_non_root["range"]["start"])
        .unwrap();
    assert_eq!(grown["range"]["end"]["character"], end_of_name + 1, "{grown}");
}

/// A keystroke that only moves diagnostics (a new line above them) is not published while the user
/// types: the client's marks have moved them already. Once the document is quiet for a second, they are
/// published where they now are, for what the client keeps besides its marks (Neovim 0.11's jumps).
#[test]
fn diagnostics_that_only_moved_are_published_once_the_typing_stops() {
    let mut client = LspClient::spawn();
    client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
    client.open(URI, TEXT, 1);
    let before = client.diagnostics(URI, 1);
    assert!(!by_code(&before, "privileged").is_empty());

    let typed = std::time::Instant::now();
    client.change(
        URI,
        2,
        json!([{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }, "text": "# a new line\n" }]),
    );
    // Meanwhile the client names a finding where it was published (Neovim 0.11 reads those positions), on
    // the line the cursor is now on: its fix is still offered, at the line it has moved to.
    let privileged = by_code(&before, "privileged")[0].clone();
    let mut cursor = privileged["range"].clone();
    for end in ["start", "end"] {
        cursor[end]["line"] = json!(cursor[end]["line"].as_u64().unwrap() + 1);
    }
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": cursor, "context": { "diagnostics": [privileged], "only": ["quickfix"] } }),
    );
    let fix = response["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("Remove privileged: true")
        })
        .unwrap_or_else(|| panic!("no fix for a finding named where it was published: {response}"));
    let edit = &fix["edit"]["documentChanges"][0]["edits"][0];
    assert_eq!(edit["range"]["start"]["line"], cursor["start"]["line"], "{fix}");

    let moved = &published_once_the_typing_stops(&mut client, typed);
    assert_eq!(moved.len(), before.len());
    for (old, new) in before.iter().zip(moved) {
        assert_eq!(new["message"], old["message"]);
        for end in ["start", "end"] {
            assert_eq!(
                new["range"][end]["line"],
                old["range"][end]["line"].as_u64().unwrap() + 1
            );
            assert_eq!(new["range"][end]["character"], old["range"][end]["character"]);
        }
        let (old_related, new_related) = (&old["relatedInformation"][0], &new["relatedInformation"][0]);
        if let Some(line) = old_related["location"]["range"]["start"]["line"].as_u64() {
            assert_eq!(new_related["location"]["range"]["start"]["line"], line + 1);
        }
    }

    // A keystroke that changes a verdict is published as soon as it is analysed.
    let line = TEXT.lines().position(|l| l.contains("privileged: true")).unwrap() + 1;
    let text = TEXT.lines().nth(line - 1).unwrap();
    let column = text.encode_utf16().count() - "true}}".encode_utf16().count();
    client.change(
        URI,
        3,
        json!([{ "range": { "start": { "line": line, "character": column }, "end": { "line": line, "character": column + 4 } }, "text": "false" }]),
    );
    let after = client.diagnostics(URI, 3);
    assert!(by_code(&after, "privileged").is_empty(), "{after:#?}");
    assert!(after.len() < moved.len());
}

/// A tiny deterministic generator (xorshift64*), so that each seed's edits are the same on every run.
struct Edits(u64);

impl Edits {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % bound.max(1)
    }
}

/// The LSP position (UTF-16 columns) of byte `offset` in `text`.
fn position_of(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character = before[line_start..].encode_utf16().count();
    json!({ "line": line, "character": character })
}

/// Whatever a user types — in names, values, comments, new lines, deletions, non-ASCII text — the
/// diagnostics a pushed client holds once the typing has stopped are exactly those of its text: what a
/// fresh server publishes for that text. Nothing a keystroke left unsent (moved, reworded) stays behind.
#[test]
fn once_the_typing_stops_a_client_holds_the_diagnostics_of_its_text() {
    const START: &str = "# équipe 😀 web\napiVersion: v1\nkind: Pod\nmetadata: {name: \"名前\"}\nspec:\n  hostNetwork: true\n  containers:\n  - name: app\n    image: nginx\n    securityContext: {privileged: true, runAsUser: 0}\n    ports: [{containerPort: 80, hostPort: 8080}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: 漢字\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: x\n        securityContext:\n          capabilities: {add: [NET_ADMIN]}\n          allowPrivilegeEscalation: true\n";
    const TYPED: [&str; 9] = ["x", "é", "😀", "\n", " ", "#", "0", "true", ": "];
    // (The catch-up comes a second after the last analysis: this leaves room for a slow machine.)
    let quiet = Duration::from_millis(2500);
    for seed in [0x9e37_79b9_7f4a_7c15_u64, 0xdead_beef_cafe_f00d, 42] {
        let mut edits = Edits(seed);
        let mut client = LspClient::spawn();
        client.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
        client.open(URI, START, 1);
        client.diagnostics(URI, 1);
        let mut text = START.to_string();
        for version in 2..=31 {
            let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let start = boundaries[edits.below(boundaries.len())];
            // Mostly typing; now and then a deletion of up to three characters.
            let (end, typed) = if edits.below(5) == 0 {
                let after: Vec<usize> = boundaries
                    .iter()
                    .copied()
                    .filter(|&b| b > start)
                    .take(3)
                    .collect();
                (after.last().copied().unwrap_or(start), "")
            } else {
                (start, TYPED[edits.below(TYPED.len())])
            };
            let range = json!({ "start": position_of(&text, start), "end": position_of(&text, end) });
            client.change(URI, version, json!([{ "range": range, "text": typed }]));
            text.replace_range(start..end, typed);
            std::thread::sleep(Duration::from_millis(edits.below(30) as u64));
        }
        let held = client
            .published_once_quiet(URI, quiet)
            .unwrap_or_else(|| panic!("seed {seed:#x}: nothing published"));

        let mut fresh = LspClient::spawn();
        fresh.initialize(None, json!({ "podsec": { "debounceMs": 0 } }));
        fresh.open(URI, &text, 1);
        let expected = fresh.diagnostics(URI, 1);
        assert_eq!(
            held.as_array().unwrap(),
            &expected,
            "seed {seed:#x}: the client holds other diagnostics than those of its text:\n{text}"
        );
        assert!(client.shutdown_and_exit().success());
        assert!(fresh.shutdown_and_exit().success());
    }
}
