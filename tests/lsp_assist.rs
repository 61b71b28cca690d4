//! The language server's help beyond diagnostics, end to end through the real binary: one preferred
//! action per cursor position, the cursor on an exemption's reason, "why this policy?" (hover on
//! `kind:`, lenses that jump), go-to-definition of a namespace, completion and document symbols.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::lsp::{LspClient, apply_workspace_edit, file_uri, utf16_offset, workspace_dir};
use serde_json::{Value, json};

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({ "start": { "line": start.0, "character": start.1 }, "end": { "line": end.0, "character": end.1 } })
}

fn position(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

fn code_actions(client: &mut LspClient, uri: &str, diagnostics: &[Value]) -> Vec<Value> {
    let range = diagnostics
        .first()
        .map_or(range((0, 0), (0, 0)), |d| d["range"].clone());
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": range,
                "context": { "diagnostics": diagnostics, "only": ["quickfix"] } }),
    );
    response["result"].as_array().unwrap().clone()
}

fn preferred(actions: &[Value]) -> Vec<&Value> {
    actions.iter().filter(|a| a["isPreferred"] == true).collect()
}

/// A container whose pod runs as a non-root user lacks four settings, all reported on its `name` line,
/// all with safe fixes.
const LACKING: &str = "# ünïcödé 🚀
apiVersion: apps/v1
kind: Deployment
metadata: {name: wéb}
spec:
  template:
    spec:
      securityContext: {runAsUser: 1000}
      containers:
      - name: äpp  # 名前
        image: x
";

#[test]
fn one_preferred_action_applies_every_safe_fix_of_a_line() {
    let uri = "file:///work/%C3%BC/deploy.yaml";
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(uri, LACKING, 1);
    let diagnostics = client.diagnostics(uri, 1);
    let on_name: Vec<Value> = diagnostics
        .iter()
        .filter(|d| d["range"]["start"]["line"] == 9)
        .cloned()
        .collect();
    assert!(on_name.len() >= 3, "{diagnostics:#?}");

    // What an editor sends for the cursor on that line: every diagnostic there.
    let actions = code_actions(&mut client, uri, &on_name);
    let chosen = preferred(&actions);
    assert_eq!(chosen.len(), 1, "exactly one preferred action: {actions:#?}");
    let title = chosen[0]["title"].as_str().unwrap();
    assert!(
        title.starts_with(&format!("Apply the {} safe fixes here: ", on_name.len())),
        "{title}"
    );
    assert_eq!(chosen[0]["diagnostics"].as_array().unwrap().len(), on_name.len());
    // Applied, it is what `podsec fix` makes of the file (every safe fix is on that line).
    let fixed = apply_workspace_edit(LACKING, &chosen[0]["edit"]);
    let expected = podsec_engine::fix_all::fix_all(LACKING, &podsec_engine::Options::default(), false).text;
    assert_eq!(fixed, expected);
    assert!(
        fixed.contains("# ünïcödé 🚀\n") && fixed.contains("- name: äpp  # 名前\n"),
        "{fixed}"
    );
    // Each fix is still offered on its own, not preferred.
    for diagnostic in &on_name {
        let single = actions
            .iter()
            .filter(|a| {
                a["diagnostics"]
                    .as_array()
                    .is_some_and(|d| d.len() == 1 && d[0] == *diagnostic)
            })
            .filter(|a| !a["title"].as_str().unwrap().starts_with("Exempt"))
            .count();
        assert_eq!(single, 1, "{diagnostic}: {actions:#?}");
    }

    // The server agrees: after the edit, nothing is left.
    client.change(uri, 2, json!([{ "text": fixed }]));
    assert_eq!(client.diagnostics(uri, 2), Vec::<Value>::new());

    // One finding alone: its own fix is the preferred one, as before.
    client.change(uri, 3, json!([{ "text": LACKING }]));
    let diagnostics = client.diagnostics(uri, 3);
    let one = diagnostics
        .iter()
        .find(|d| d["code"] == "allowPrivilegeEscalation")
        .unwrap()
        .clone();
    let actions = code_actions(&mut client, uri, &[one]);
    let chosen = preferred(&actions);
    assert_eq!(chosen.len(), 1, "{actions:#?}");
    assert_eq!(
        chosen[0]["title"],
        "Set allowPrivilegeEscalation: false on container \"äpp\""
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A Pod with a privileged container after non-ASCII text, in its own line.
const PRIVILEGED: &str = "apiVersion: v1
kind: Pod
metadata: {name: ünï}
spec:
  containers:
  - name: 😀
    image: x
    securityContext: {privileged: true, allowPrivilegeEscalation: true}  # ß
";

/// The exemption actions of the privileged finding, for a client with these capabilities.
fn exemption_actions(capabilities: Value) -> (LspClient, Vec<Value>) {
    let uri = "file:///work/pod.yaml";
    let mut client = LspClient::spawn();
    client.initialize_with(capabilities, Value::Null);
    client.open(uri, PRIVILEGED, 1);
    let diagnostics = client.diagnostics(uri, 1);
    let privileged = diagnostics
        .iter()
        .find(|d| d["code"] == "privileged")
        .unwrap()
        .clone();
    let actions = code_actions(&mut client, uri, &[privileged])
        .into_iter()
        .filter(|a| a["title"].as_str().unwrap().starts_with("Exempt"))
        .collect::<Vec<_>>();
    assert_eq!(actions.len(), 2, "{actions:#?}");
    (client, actions)
}

#[test]
fn exemption_actions_select_the_reason_in_clients_without_snippets() {
    // Neovim 0.11: no snippet edits, but window/showDocument.
    let (mut client, actions) =
        exemption_actions(json!({ "window": { "showDocument": { "support": true } } }));
    for action in &actions {
        let command = &action["command"];
        assert_eq!(command["command"], "podsec.showLocation", "{action:#}");
        let edited = apply_workspace_edit(PRIVILEGED, &action["edit"]);
        let target = &command["arguments"][0];
        assert_eq!(target["uri"], "file:///work/pod.yaml");
        // The selection is the placeholder reason in the edited text (UTF-16 columns after 😀 and ß).
        let start = utf16_offset(&edited, &target["range"]["start"]);
        let end = utf16_offset(&edited, &target["range"]["end"]);
        assert_eq!(&edited[start..end], "TODO: reason", "{edited}");
        // Run as the client runs it after the edit: the server asks the client to show the selection.
        client.change("file:///work/pod.yaml", 2, json!([{ "text": edited }]));
        let id = client.request_async(
            "workspace/executeCommand",
            json!({ "command": command["command"], "arguments": command["arguments"] }),
        );
        let shown = client.wait_for(|m| m["method"] == "window/showDocument");
        assert_eq!(
            shown["params"],
            json!({ "uri": "file:///work/pod.yaml", "takeFocus": true, "selection": target["range"] })
        );
        client.wait_for(|m| m["id"] == id && m.get("method").is_none());
        client.change("file:///work/pod.yaml", 3, json!([{ "text": PRIVILEGED }]));
    }
    let init = LspClient::spawn().initialize(None, Value::Null);
    assert_eq!(
        init["result"]["capabilities"]["executeCommandProvider"]["commands"],
        json!(["podsec.showLocation"])
    );

    // A client that takes snippet edits gets the tab stop and no command; one that cannot show a
    // document gets neither.
    let (_, actions) = exemption_actions(json!({
        "window": { "showDocument": { "support": true } },
        "workspace": { "workspaceEdit": { "snippetEditSupport": true } },
    }));
    for action in &actions {
        assert!(action.get("command").is_none(), "{action:#}");
        let edit = &action["edit"]["documentChanges"][0]["edits"][0];
        assert!(
            edit["snippet"]["value"]
                .as_str()
                .unwrap()
                .contains("${1:TODO: reason}"),
            "{edit}"
        );
    }
    let (_, actions) = exemption_actions(json!({}));
    assert!(actions.iter().all(|a| a.get("command").is_none()), "{actions:#?}");
}

/// The LSP range of the first `needle` in `text` (UTF-16 columns).
fn range_of(text: &str, needle: &str) -> Value {
    let start = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in {text}"));
    let at = |offset: usize| {
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = text[..offset].matches('\n').count();
        json!({ "line": line, "character": text[line_start..offset].encode_utf16().count() })
    };
    json!({ "start": at(start), "end": at(start + needle.len()) })
}

/// A client of a workspace folder, with the capabilities the tests below need.
fn start_in(dir: &std::path::Path) -> LspClient {
    let mut client = LspClient::spawn();
    let folder = file_uri(dir);
    let response = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": folder, "workspaceFolders": [{ "uri": folder, "name": "ws" }],
                "capabilities": { "window": { "showDocument": { "support": true } },
                                  "textDocument": { "hover": { "contentFormat": ["markdown"] } } },
                "initializationOptions": null }),
    );
    assert!(response.get("result").is_some(), "{response}");
    client.notify("initialized", json!({}));
    client
}

fn hover_at(client: &mut LspClient, uri: &str, at: &Value) -> String {
    let response = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": at }),
    );
    response["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const NAMESPACES: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: wéb
  labels: {ünï.example/😀: \"✓\", pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/warn: restricted}
";

const PROJECT: &str = "# ünïcödé
level: baseline
namespaces:
  team: {enforce: restricted}
";

const WORKLOADS: &str = "# 名前
apiVersion: v1
kind: Pod
metadata: {name: ä, namespace: wéb}
spec:
  containers: [{name: a, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: team}
spec:
  containers: [{name: b, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: c}
spec:
  containers: [{name: c, image: x}]
";

#[test]
fn hover_on_kind_explains_the_policy_and_lenses_jump_to_its_source() {
    let dir = workspace_dir(
        "why",
        &[
            ("cluster/namespaces.yaml", NAMESPACES),
            (".podsec.yaml", PROJECT),
            ("apps/pods.yaml", WORKLOADS),
        ],
    );
    let uri = file_uri(&dir.join("apps/pods.yaml"));
    let namespaces_uri = file_uri(&dir.join("cluster/namespaces.yaml"));
    let project_uri = file_uri(&dir.join(".podsec.yaml"));
    let mut client = start_in(&dir);
    client.open(&uri, WORKLOADS, 1);
    client.diagnostics(&uri, 1);

    // The first Pod: both modes from the Namespace's labels, each at its label.
    let kind_line = position(2, 3);
    let first = hover_at(&mut client, &uri, &kind_line);
    let enforce_at = range_of(NAMESPACES, "pod-security.kubernetes.io/enforce: baseline");
    assert!(first.starts_with("**Pod \"ä\"**: why this policy?"), "{first}");
    assert!(
        first.contains(&format!(
            "- **enforce** `baseline:latest` · passes — from Namespace \"wéb\", label pod-security.kubernetes.io/enforce at [cluster/namespaces.yaml:5]({namespaces_uri}#L5,{})",
            enforce_at["start"]["character"].as_u64().unwrap() + 1
        )),
        "{first}"
    );
    assert!(
        first.contains("- **warn** `restricted:latest` · fails "),
        "{first}"
    );
    assert!(first.contains("- **audit**: not set"), "{first}");
    // On the same line past `kind: Pod`, as on the lens, the same answer.
    assert_eq!(hover_at(&mut client, &uri, &position(2, 9)), first);

    // The second from the project file's `namespaces`, the third from its `level`.
    let second = hover_at(&mut client, &uri, &position(8, 0));
    assert!(
        second.contains("from .podsec.yaml, namespaces.team.enforce at [.podsec.yaml:4]"),
        "{second}"
    );
    let third = hover_at(&mut client, &uri, &position(14, 0));
    assert!(
        third.contains("from .podsec.yaml, level/version at [.podsec.yaml:2]"),
        "{third}"
    );
    assert!(
        third.contains("(podsec's own: the cluster does not apply it)"),
        "{third}"
    );

    // The lenses are commands that show those places.
    let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }));
    let lenses = lenses["result"].as_array().unwrap().clone();
    assert_eq!(lenses.len(), 3, "{lenses:#?}");
    let targets: Vec<Value> = lenses
        .iter()
        .map(|l| {
            assert_eq!(l["command"]["command"], "podsec.showLocation", "{l:#}");
            l["command"]["arguments"][0].clone()
        })
        .collect();
    assert_eq!(targets[0], json!({ "uri": namespaces_uri, "range": enforce_at }));
    assert_eq!(
        targets[1],
        json!({ "uri": project_uri, "range": range_of(PROJECT, "enforce: restricted") })
    );
    assert_eq!(
        targets[2],
        json!({ "uri": project_uri, "range": range_of(PROJECT, "level: baseline") })
    );
    // Clicked, the server asks the client to show it.
    let command = &lenses[0]["command"];
    client.request_async(
        "workspace/executeCommand",
        json!({ "command": command["command"], "arguments": command["arguments"] }),
    );
    let shown = client.wait_for(|m| m["method"] == "window/showDocument");
    assert_eq!(shown["params"]["uri"], namespaces_uri);
    assert_eq!(shown["params"]["selection"], enforce_at);
    let _ = std::fs::remove_dir_all(&dir);
}

const ADMISSION: &str = "apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: baseline, warn: restricted}  # ü
";

#[test]
fn a_policy_from_the_admission_configuration_leads_to_its_defaults() {
    let dir = workspace_dir(
        "why-admission",
        &[
            ("cluster/admission.yaml", ADMISSION),
            (
                "apps/pod.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n",
            ),
        ],
    );
    let uri = file_uri(&dir.join("apps/pod.yaml"));
    let mut client = start_in(&dir);
    let text = std::fs::read_to_string(dir.join("apps/pod.yaml")).unwrap();
    client.open(&uri, &text, 1);
    client.diagnostics(&uri, 1);
    let hover = hover_at(&mut client, &uri, &position(1, 0));
    assert!(hover.contains("- **enforce** `baseline:latest` · passes — from admission configuration cluster/admission.yaml, defaults.enforce at [cluster/admission.yaml:8]"), "{hover}");
    assert!(hover.contains("(applied by the cluster)"), "{hover}");
    let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }));
    assert_eq!(
        lenses["result"][0]["command"]["arguments"][0],
        json!({ "uri": file_uri(&dir.join("cluster/admission.yaml")), "range": range_of(ADMISSION, "enforce: baseline") })
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn definition_leads_from_a_namespace_name_to_its_namespace_object() {
    let kustomization = "# ü\nnamespace: wéb\nresources: [pods.yaml]\n";
    let dir = workspace_dir(
        "definition",
        &[
            ("cluster/namespaces.yaml", NAMESPACES),
            ("apps/pods.yaml", WORKLOADS),
            ("apps/kustomization.yaml", kustomization),
        ],
    );
    let uri = file_uri(&dir.join("apps/pods.yaml"));
    let namespaces_uri = file_uri(&dir.join("cluster/namespaces.yaml"));
    let mut client = start_in(&dir);
    client.open(&uri, WORKLOADS, 1);
    client.diagnostics(&uri, 1);
    let definition = |client: &mut LspClient, uri: &str, at: Value| {
        client.request(
            "textDocument/definition",
            json!({ "textDocument": { "uri": uri }, "position": at }),
        )["result"]
            .clone()
    };
    // `metadata: {name: ä, namespace: wéb}`: the cursor inside `wéb`, after `ä` (UTF-16 columns).
    let line = WORKLOADS.lines().nth(3).unwrap();
    let column = line[..line.find("wéb").unwrap()].encode_utf16().count() as u32 + 2;
    let target = json!([{ "uri": namespaces_uri, "range": range_of(NAMESPACES, "wéb") }]);
    assert_eq!(definition(&mut client, &uri, position(3, column)), target);
    // Not on a namespace: nothing; a namespace with no Namespace object: nothing.
    assert_eq!(definition(&mut client, &uri, position(3, 18)), Value::Null);
    assert_eq!(definition(&mut client, &uri, position(9, 34)), Value::Null);
    // From a kustomization's `namespace:`.
    let kustomization_uri = file_uri(&dir.join("apps/kustomization.yaml"));
    client.open(&kustomization_uri, kustomization, 1);
    assert_eq!(
        definition(&mut client, &kustomization_uri, position(1, 12)),
        target
    );
    let init = LspClient::spawn().initialize(None, Value::Null);
    assert_eq!(init["result"]["capabilities"]["definitionProvider"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The completion items at the first `|` of `marked` (removed), in a document `name` of a fresh server,
/// and the line as each would leave it.
fn complete(name: &str, marked: &str) -> Vec<(String, String)> {
    let offset = marked.find('|').unwrap();
    let text = marked.replacen('|', "", 1);
    let uri = format!("file:///work/%C3%BC/{name}");
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    client.open(&uri, &text, 1);
    client.wait_for(|m| m["method"] == "textDocument/publishDiagnostics");
    let line = text[..offset].matches('\n').count();
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let character = text[line_start..offset].encode_utf16().count();
    let response = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position(line as u32, character as u32) }),
    );
    let items = response["result"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    items
        .iter()
        .map(|item| {
            let edit = &item["textEdit"];
            assert_eq!(edit["newText"], item["label"]);
            assert_eq!(edit["range"]["end"], position(line as u32, character as u32), "{item}");
            let applied = apply_workspace_edit(
                &text,
                &json!({ "documentChanges": [{ "edits": [{ "range": edit["range"], "newText": edit["newText"] }] }] }),
            );
            let line_text = applied.lines().nth(line).unwrap().to_string();
            (item["label"].as_str().unwrap().to_string(), line_text)
        })
        .collect()
}

fn labels(items: &[(String, String)]) -> Vec<&str> {
    items.iter().map(|(label, _)| label.as_str()).collect()
}

#[test]
fn completion_offers_labels_levels_versions_check_ids_and_accepted_values() {
    // Label keys on a Namespace, replacing what is typed.
    let keys = complete(
        "ns.yaml",
        "kind: Namespace\nmetadata:\n  name: ü\n  labels:\n    pod-security.kubernetes.io/w|\n",
    );
    assert_eq!(keys.len(), 6, "{keys:?}");
    assert!(keys.contains(&(
        "pod-security.kubernetes.io/warn-version".to_string(),
        "    pod-security.kubernetes.io/warn-version".to_string()
    )));
    // Levels and versions as values.
    let levels = complete(
        "ns.yaml",
        "kind: Namespace\nmetadata:\n  name: ü\n  labels:\n    pod-security.kubernetes.io/enforce: ba|\n",
    );
    assert_eq!(labels(&levels), ["restricted", "baseline", "privileged"]);
    assert_eq!(levels[1].1, "    pod-security.kubernetes.io/enforce: baseline");
    let versions = complete(
        "ns.yaml",
        "kind: Namespace\nmetadata:\n  name: ü\n  labels:\n    pod-security.kubernetes.io/enforce-version: |\n",
    );
    let versions = labels(&versions);
    assert_eq!(versions[0], "latest");
    assert!(
        versions.contains(&"v1.0")
            && versions.contains(&format!("v1.{}", podsec_engine::policy::MAX_MINOR).as_str())
    );
    // Check IDs in a comment exemption, after an emoji (two UTF-16 units) on the same line.
    let comment = complete(
        "pod.yaml",
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: \"😀\", image: x, securityContext: {privileged: true}}  # podsec: exempt priv|\n",
    );
    assert_eq!(comment.len(), podsec_engine::CHECKS.len());
    let privileged = comment.iter().find(|(label, _)| label == "privileged").unwrap();
    assert!(
        privileged.1.ends_with("}}  # podsec: exempt privileged"),
        "{privileged:?}"
    );
    // Exemption annotations.
    let annotations = complete(
        "pod.yaml",
        "kind: Pod\nmetadata:\n  name: p\n  annotations:\n    podsec.dev/ex|\nspec:\n  containers: [{name: a, image: x}]\n",
    );
    assert!(annotations.contains(&(
        "podsec.dev/exempt.hostPorts".to_string(),
        "    podsec.dev/exempt.hostPorts".to_string()
    )));
    // Check IDs in the project file's exemptions.
    let project = complete(
        ".podsec.yaml",
        "# ü\nexemptions:\n- check: host|\n  reason: probes\n",
    );
    assert!(
        project.contains(&("hostPorts".to_string(), "- check: hostPorts".to_string())),
        "{project:?}"
    );
    // What a check accepts.
    let seccomp = complete(
        "pod.yaml",
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: ä\n    image: x\n    securityContext:\n      seccompProfile:\n        type: |\n",
    );
    assert_eq!(labels(&seccomp), ["RuntimeDefault", "Localhost"]);
    let drop = complete(
        "pod.yaml",
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: ä\n    image: x\n    securityContext:\n      capabilities:\n        drop: |\n",
    );
    assert_eq!(drop, [("[ALL]".to_string(), "        drop: [ALL]".to_string())]);
    let escalation = complete(
        "pod.yaml",
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: ä\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: |\n",
    );
    assert_eq!(labels(&escalation), ["false"]);
    // Elsewhere, nothing.
    assert!(complete("pod.yaml", "kind: Pod\nmetadata: {name: p}\nspec:\n  |\n").is_empty());
}

#[test]
fn document_symbols_list_each_object_and_its_containers() {
    let uri = "file:///work/%C3%BC/all.yaml";
    let text = format!("{NAMESPACES}---\n{WORKLOADS}---\n{LACKING}");
    let mut client = LspClient::spawn();
    let init = client.initialize(None, Value::Null);
    assert_eq!(init["result"]["capabilities"]["documentSymbolProvider"], true);
    client.open(uri, &text, 1);
    let response = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let symbols = response["result"].as_array().unwrap();
    let names: Vec<(&str, &Value)> = symbols
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), &s["detail"]))
        .collect();
    assert_eq!(
        names,
        [
            ("Namespace wéb", &Value::Null),
            ("Pod ä", &json!("namespace wéb")),
            ("Pod b", &json!("namespace team")),
            ("Pod c", &Value::Null),
            ("Deployment wéb", &Value::Null),
        ]
    );
    // Ranges in UTF-16: the Deployment's symbol is its mapping, its selection the `kind:` entry, and
    // its container's selection the `name: äpp` entry.
    let deployment = &symbols[4];
    let start = text.find("apiVersion: apps/v1").unwrap();
    assert_eq!(utf16_offset(&text, &deployment["range"]["start"]), start);
    assert_eq!(
        utf16_offset(&text, &deployment["range"]["end"]),
        text.trim_end().len()
    );
    let selection = &deployment["selectionRange"];
    assert_eq!(
        &text[utf16_offset(&text, &selection["start"])..utf16_offset(&text, &selection["end"])],
        "kind: Deployment"
    );
    let container = &deployment["children"][0];
    assert_eq!(container["name"], "äpp");
    assert_eq!(container["detail"], "containers");
    let selection = &container["selectionRange"];
    assert_eq!(
        &text[utf16_offset(&text, &selection["start"])..utf16_offset(&text, &selection["end"])],
        "name: äpp"
    );
    assert!(symbols[0].get("children").is_none_or(Value::is_null));
}

#[test]
fn no_line_of_the_fix_fixtures_has_more_than_one_preferred_action() {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(common::repo_root().join("tests/fixes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.push(common::repo_root().join("tests/data/editor.yaml"));
    files.sort();
    let mut client = LspClient::spawn();
    client.initialize(None, Value::Null);
    let (mut lines_with_fixes, mut combined) = (0, 0);
    for (index, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path).unwrap();
        let uri = format!("file:///work/fixtures/{index}.yaml");
        client.open(&uri, &text, 1);
        let diagnostics = client.diagnostics(&uri, 1);
        let mut lines: Vec<u64> = diagnostics
            .iter()
            .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
            .collect();
        lines.dedup();
        for line in lines {
            // What Neovim sends for the cursor on that line: every diagnostic starting there.
            let on_line: Vec<Value> = diagnostics
                .iter()
                .filter(|d| d["range"]["start"]["line"] == line)
                .cloned()
                .collect();
            let actions = code_actions(&mut client, &uri, &on_line);
            let chosen = preferred(&actions);
            let safe = actions.iter().any(|a| {
                let title = a["title"].as_str().unwrap();
                a["kind"] == "quickfix"
                    && !["Exempt", "Fix all", "Apply the"]
                        .iter()
                        .any(|p| title.starts_with(p))
                    && !title.ends_with("(unsafe)")
            });
            let file = path.display();
            assert!(chosen.len() <= 1, "{file}:{}: {actions:#?}", line + 1);
            assert_eq!(
                chosen.len(),
                usize::from(safe),
                "{file}:{}: a safe fix and none preferred: {actions:#?}",
                line + 1
            );
            if let Some(action) = chosen.first() {
                lines_with_fixes += 1;
                combined += usize::from(action["title"].as_str().unwrap().starts_with("Apply the "));
                // Applied, the preferred action removes what it was offered for.
                let fixed = apply_workspace_edit(&text, &action["edit"]);
                let left = podsec_engine::analyze(&fixed, &podsec_engine::Options::default());
                for diagnostic in action["diagnostics"].as_array().unwrap() {
                    let code = diagnostic["code"].as_str().unwrap();
                    let before = podsec_engine::analyze(&text, &podsec_engine::Options::default());
                    let count = |a: &podsec_engine::Analysis| {
                        a.objects
                            .iter()
                            .flat_map(|o| &o.violations)
                            .filter(|v| v.check.id == code)
                            .map(|v| v.locations.len())
                            .sum::<usize>()
                    };
                    assert!(
                        count(&left) < count(&before),
                        "{file}:{}: {code} left after {action:#}",
                        line + 1
                    );
                }
            }
        }
        client.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } }));
    }
    assert!(
        lines_with_fixes >= 10 && combined >= 3,
        "{lines_with_fixes} lines with a preferred fix, {combined} of them several fixes together"
    );
}

#[test]
fn hover_on_a_namespace_kind_gives_the_policy_of_its_workloads() {
    let dir = workspace_dir(
        "why-namespace",
        &[
            ("cluster/admission.yaml", ADMISSION),
            ("cluster/namespaces.yaml", NAMESPACES),
        ],
    );
    let uri = file_uri(&dir.join("cluster/namespaces.yaml"));
    let mut client = start_in(&dir);
    client.open(&uri, NAMESPACES, 1);
    client.diagnostics(&uri, 1);
    let hover = hover_at(&mut client, &uri, &position(1, 2));
    let enforce_at = range_of(NAMESPACES, "pod-security.kubernetes.io/enforce: baseline");
    assert!(
        hover.starts_with("**Namespace \"wéb\"**: the policy of the workloads in it"),
        "{hover}"
    );
    assert!(
        hover.contains(&format!(
            "- **enforce** `baseline:latest` · checked — from Namespace \"wéb\", label pod-security.kubernetes.io/enforce at [cluster/namespaces.yaml:5]({uri}#L5,{})",
            enforce_at["start"]["character"].as_u64().unwrap() + 1
        )),
        "{hover}"
    );
    // Audit has no label: the admission configuration's defaults give it (privileged where they name no
    // audit level, as PSA's configuration does), at its `defaults`.
    assert!(
        hover.contains("- **audit** `privileged:latest` · checks nothing — from admission configuration cluster/admission.yaml, defaults.audit at [cluster/admission.yaml:8]"),
        "{hover}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the editor shows of one finding: the diagnostics on its field, the hover on that field, the
/// hover on the object's `kind:` line and the object's lens.
struct Story {
    diagnostics: Vec<Value>,
    /// Whether the file has an `exemption-not-enforced` diagnostic (at the annotation, or on the finding).
    refused: bool,
    field: String,
    kind: String,
    lens: String,
}

/// The story of the field at `needle` in the Pod `pod` (its `kind: Pod` line), in a workspace of `files`.
fn story(name: &str, files: &[(&str, &str)], pod: &str, needle: &str) -> Story {
    let dir = workspace_dir(name, files);
    let text = files.iter().find(|(p, _)| *p == pod).unwrap().1;
    let uri = file_uri(&dir.join(pod));
    let mut client = start_in(&dir);
    client.open(&uri, text, 1);
    let field = range_of(text, needle);
    let all = client.diagnostics(&uri, 1);
    let refused = all.iter().any(|d| d["code"] == "exemption-not-enforced");
    let diagnostics: Vec<Value> = all
        .into_iter()
        .filter(|d| d["range"]["start"]["line"] == field["start"]["line"])
        .collect();
    let kind_line = range_of(text, "kind: Pod")["start"].clone();
    let story = Story {
        diagnostics,
        refused,
        field: hover_at(&mut client, &uri, &field["start"]),
        kind: hover_at(&mut client, &uri, &kind_line),
        lens: {
            let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }));
            lenses["result"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["range"]["start"] == kind_line)
                .map(|l| l["command"]["title"].as_str().unwrap().to_string())
                .unwrap_or_default()
        },
    };
    let _ = std::fs::remove_dir_all(&dir);
    story
}

fn namespace(labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shöp\n  labels: {{{labels}}}\n")
}

/// A Pod of namespace `shöp` that passes restricted but for `allowPrivilegeEscalation: true`, with
/// `annotations` on its metadata.
fn escalating(annotations: &str) -> String {
    format!(
        "# ünï\napiVersion: v1\nkind: Pod\nmetadata:\n  name: wéb\n  namespace: shöp\n  annotations: {{{annotations}}}\nspec:\n  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}\n  containers:\n  - name: äpp\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: true  # 😀\n      capabilities: {{drop: [ALL]}}\n"
    )
}

/// One scenario of the matrix below: the workspace, the field, and what each view must say of it.
struct Scenario {
    name: &'static str,
    /// The Namespace `shöp`'s labels (none: no Namespace file).
    labels: Option<&'static str>,
    /// The annotations of the Pod, and a replacement in its text (`from`, `to`).
    annotations: &'static str,
    edit: (&'static str, &'static str),
    /// `.podsec.yaml`, and the admission configuration (empty: none).
    project: &'static str,
    admission: &'static str,
    needle: &'static str,
    /// Whether the exemption gets `exemption-not-enforced`.
    refused: bool,
    /// On the field's line: (severity, code, message).
    diagnostics: &'static [(u64, &'static str, &'static str)],
    /// The field hover's first paragraphs (before `Policy in force`).
    field: &'static str,
    /// Each mode's line of the hover on `kind: Pod`, up to its source, then the lines after them.
    kind: &'static [&'static str],
    lens: &'static str,
}

const ESCALATES: &str = r#"container "äpp" must set securityContext.allowPrivilegeEscalation=false"#;
const NO_AUDIT: &str =
    "- **audit**: not set (no label, and no default of an admission configuration): PSA checks nothing";
/// The `kind:` hover and the lens of an object whose exemption the enforce label refuses, wherever the
/// exemption is written.
const REFUSED_KIND: &[&str] = &[
    "- **enforce** `restricted:latest` · fails allowPrivilegeEscalation",
    "- **warn** `restricted:latest` · fails allowPrivilegeEscalation",
    NO_AUDIT,
    "Exemption that does not hold: `allowPrivilegeEscalation` (the cluster enforces the level, and PSA knows no per-check exemption: `exemption-not-enforced`; hover on each finding).",
];
const REFUSED_LENS: &str = "restricted:latest (Namespace \"shöp\", enforce label) · 1 error · 1 exemption does not hold (hover on the finding)";
const REASON: &str = r#"podsec.dev/exempt.allowPrivilegeEscalation: "the büild needs sudo""#;
const PROJECT_EXEMPTION: &str =
    "exemptions:\n- {check: allowPrivilegeEscalation, namespace: shöp, reason: the büild needs sudo}\n";

fn scenarios() -> Vec<Scenario> {
    let base = Scenario {
        name: "",
        labels: Some(""),
        annotations: "",
        edit: ("", ""),
        project: "",
        admission: "",
        needle: "allowPrivilegeEscalation: true",
        refused: false,
        diagnostics: &[],
        field: "",
        kind: &[],
        lens: "",
    };
    vec![
        Scenario {
            name: "enforce",
            labels: Some("enforce: restricted"),
            diagnostics: &[(1, "allowPrivilegeEscalation", ESCALATES)],
            field: "**✗ allowPrivilegeEscalation** — restricted · container \"äpp\" must set securityContext.allowPrivilegeEscalation=false · fix: Set allowPrivilegeEscalation: false on container \"äpp\", replacing true (setuid programs lose their privileges) (unsafe)",
            kind: &[
                "- **enforce** `restricted:latest` · fails allowPrivilegeEscalation",
                "- **warn** `restricted:latest` · fails allowPrivilegeEscalation",
                NO_AUDIT,
            ],
            lens: "restricted:latest (Namespace \"shöp\", enforce label) · 1 error",
            ..base
        },
        Scenario {
            name: "warn-only",
            labels: Some("enforce: baseline, pod-security.kubernetes.io/warn: restricted"),
            diagnostics: &[(
                2,
                "allowPrivilegeEscalation",
                "container \"äpp\" must set securityContext.allowPrivilegeEscalation=false (fails in warn mode only)",
            )],
            field: "**✗ allowPrivilegeEscalation** — restricted · fails in warn mode only · container \"äpp\" must set securityContext.allowPrivilegeEscalation=false · fix: Set allowPrivilegeEscalation: false on container \"äpp\", replacing true (setuid programs lose their privileges) (unsafe)",
            kind: &[
                "- **enforce** `baseline:latest` · passes",
                "- **warn** `restricted:latest` · fails allowPrivilegeEscalation",
                NO_AUDIT,
            ],
            lens: "baseline:latest (Namespace \"shöp\", enforce label; warn restricted:latest) · 1 warning",
            ..base
        },
        Scenario {
            name: "audit-only",
            labels: Some("enforce: baseline, pod-security.kubernetes.io/audit: restricted"),
            diagnostics: &[(
                3,
                "allowPrivilegeEscalation",
                "container \"äpp\" must set securityContext.allowPrivilegeEscalation=false (fails in audit mode only)",
            )],
            field: "**✗ allowPrivilegeEscalation** — restricted · fails in audit mode only · container \"äpp\" must set securityContext.allowPrivilegeEscalation=false · fix: Set allowPrivilegeEscalation: false on container \"äpp\", replacing true (setuid programs lose their privileges) (unsafe)",
            kind: &[
                "- **enforce** `baseline:latest` · passes",
                "- **warn** `baseline:latest` · passes",
                "- **audit** `restricted:latest` · fails allowPrivilegeEscalation",
            ],
            lens: "baseline:latest (Namespace \"shöp\", enforce label; audit restricted:latest) · 1 note",
            ..base
        },
        Scenario {
            // restricted:v1.21 does not require dropping ALL (v1.22 does); warn at latest does.
            name: "warn-version",
            labels: Some(
                "enforce: restricted, pod-security.kubernetes.io/enforce-version: v1.21, pod-security.kubernetes.io/warn: restricted, pod-security.kubernetes.io/warn-version: latest",
            ),
            edit: ("drop: [ALL]", "drop: [NET_RAW]"),
            needle: "drop:",
            diagnostics: &[(
                2,
                "capabilities_restricted",
                "container \"äpp\" must set securityContext.capabilities.drop=[\"ALL\"] (fails in warn mode only)",
            )],
            field: "**✗ capabilities_restricted** — restricted · fails in warn mode only · container \"äpp\" must set securityContext.capabilities.drop=[\"ALL\"] · fix: Add ALL to capabilities.drop on container \"äpp\" (safe)",
            kind: &[
                "- **enforce** `restricted:v1.21` · fails allowPrivilegeEscalation",
                "- **warn** `restricted:latest` · fails allowPrivilegeEscalation, capabilities_restricted",
                NO_AUDIT,
            ],
            lens: "restricted:v1.21 (Namespace \"shöp\", enforce label; warn restricted:latest) · 1 error, 1 warning",
            ..base
        },
        Scenario {
            name: "annotation-honoured",
            labels: Some("enforce: baseline, pod-security.kubernetes.io/warn: restricted"),
            annotations: REASON,
            field: "**⊘ allowPrivilegeEscalation** — restricted · exempted: the büild needs sudo (annotation on the object) · holds: only warn reports it, and the cluster admits the pods",
            kind: &[
                "- **enforce** `baseline:latest` · passes",
                "- **warn** `restricted:latest` · passes (exempted: allowPrivilegeEscalation)",
                NO_AUDIT,
                "1 exempted finding (hover on each for its exemption).",
            ],
            lens: "baseline:latest (Namespace \"shöp\", enforce label; warn restricted:latest) · passes · 1 exempted (hover for why it holds)",
            ..base
        },
        Scenario {
            name: "comment-honoured",
            labels: Some("enforce: baseline, pod-security.kubernetes.io/audit: restricted"),
            edit: ("# 😀", "# podsec: exempt allowPrivilegeEscalation -- the büild"),
            field: "**⊘ allowPrivilegeEscalation** — restricted · exempted: the büild (comment on its line) · holds: only audit reports it, and the cluster admits the pods",
            kind: &[
                "- **enforce** `baseline:latest` · passes",
                "- **warn** `baseline:latest` · passes",
                "- **audit** `restricted:latest` · passes (exempted: allowPrivilegeEscalation)",
                "1 exempted finding (hover on each for its exemption).",
            ],
            lens: "baseline:latest (Namespace \"shöp\", enforce label; audit restricted:latest) · passes · 1 exempted (hover for why it holds)",
            ..base
        },
        Scenario {
            name: "podsec-own-honoured",
            labels: None,
            project: PROJECT_EXEMPTION,
            field: "**⊘ allowPrivilegeEscalation** — restricted · exempted: the büild needs sudo (.podsec.yaml) · holds: only podsec imposes restricted:latest (from the default (no policy configured)); no cluster label or admission configuration enforces it",
            kind: &[
                "- **enforce** `restricted:latest` · passes (exempted: allowPrivilegeEscalation)",
                "- **warn**: not set (no label, and no default of an admission configuration): PSA checks nothing",
                NO_AUDIT,
                "1 exempted finding (hover on each for its exemption).",
            ],
            lens: "restricted:latest (the default (no policy configured)) · passes · 1 exempted (hover for why it holds)",
            ..base
        },
        Scenario {
            name: "annotation-refused",
            refused: true,
            labels: Some("enforce: restricted"),
            annotations: REASON,
            diagnostics: &[(1, "allowPrivilegeEscalation", ESCALATES)],
            field: "**✗ allowPrivilegeEscalation** — restricted · container \"äpp\" must set securityContext.allowPrivilegeEscalation=false · fix: Set allowPrivilegeEscalation: false on container \"äpp\", replacing true (setuid programs lose their privileges) (unsafe)\n\nExempted: the büild needs sudo (annotation on the object) · does not hold: the cluster enforces `restricted:latest` (from Namespace \"shöp\", label pod-security.kubernetes.io/enforce), and PSA knows no per-check exemption (`exemption-not-enforced`)",
            kind: REFUSED_KIND,
            lens: REFUSED_LENS,
            ..base
        },
        Scenario {
            // Refused where the exemption is written in the project file: its diagnostic is on the finding.
            name: "project-refused",
            refused: true,
            labels: Some("enforce: restricted"),
            project: PROJECT_EXEMPTION,
            diagnostics: &[
                (
                    2,
                    "exemption-not-enforced",
                    "PSA has no per-check exemption: namespace \"shöp\" enforces restricted:latest (Namespace \"shöp\", label pod-security.kubernetes.io/enforce), so the cluster will reject this pod for allowPrivilegeEscalation whatever this exemption says; relax the namespace's level, or enforce podsec's policy in the cluster (`podsec export vap`, then `enforcedByAdmissionPolicy: true` in .podsec.yaml)",
                ),
                (1, "allowPrivilegeEscalation", ESCALATES),
            ],
            field: "**✗ allowPrivilegeEscalation** — restricted · container \"äpp\" must set securityContext.allowPrivilegeEscalation=false · fix: Set allowPrivilegeEscalation: false on container \"äpp\", replacing true (setuid programs lose their privileges) (unsafe)\n\nExempted: the büild needs sudo (.podsec.yaml) · does not hold: the cluster enforces `restricted:latest` (from Namespace \"shöp\", label pod-security.kubernetes.io/enforce), and PSA knows no per-check exemption (`exemption-not-enforced`)",
            kind: REFUSED_KIND,
            lens: REFUSED_LENS,
            ..base
        },
        Scenario {
            name: "passing",
            labels: Some("enforce: restricted"),
            edit: ("Escalation: true", "Escalation: false"),
            needle: "allowPrivilegeEscalation: false",
            field: "**✓ allowPrivilegeEscalation** — restricted · checked, and passes here",
            kind: &[
                "- **enforce** `restricted:latest` · passes",
                "- **warn** `restricted:latest` · passes",
                NO_AUDIT,
            ],
            lens: "restricted:latest (Namespace \"shöp\", enforce label) · passes",
            ..base
        },
        Scenario {
            name: "above-the-level",
            labels: Some("enforce: baseline"),
            field: "**○ allowPrivilegeEscalation** — restricted · not checked: a restricted check, above `baseline:latest`",
            kind: &[
                "- **enforce** `baseline:latest` · passes",
                "- **warn** `baseline:latest` · passes",
                NO_AUDIT,
            ],
            lens: "baseline:latest (Namespace \"shöp\", enforce label) · passes",
            ..base
        },
        Scenario {
            name: "before-its-version",
            labels: Some("enforce: restricted, pod-security.kubernetes.io/enforce-version: v1.21"),
            edit: ("drop: [ALL]", "drop: [NET_RAW]"),
            needle: "drop:",
            diagnostics: &[],
            field: "**○ capabilities_restricted** — restricted · not checked: added at v1.22, after `restricted:v1.21`",
            kind: &[
                "- **enforce** `restricted:v1.21` · fails allowPrivilegeEscalation",
                "- **warn** `restricted:v1.21` · fails allowPrivilegeEscalation",
                NO_AUDIT,
            ],
            lens: "restricted:v1.21 (Namespace \"shöp\", enforce label) · 1 error",
            ..base
        },
        Scenario {
            name: "privileged",
            labels: Some("enforce: privileged"),
            field: "**○ allowPrivilegeEscalation** — restricted · not checked: `privileged:latest` checks nothing",
            kind: &[
                "- **enforce** `privileged:latest` · checks nothing",
                "- **warn**: not set (no label, and no default of an admission configuration): PSA checks nothing",
                NO_AUDIT,
            ],
            lens: "privileged: not checked (Namespace \"shöp\", enforce label)",
            ..base
        },
        Scenario {
            name: "namespace-exempt",
            labels: None,
            admission: "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: restricted}\nexemptions: {namespaces: [shöp]}\n",
            field: "**○ allowPrivilegeEscalation** — restricted · not checked: namespace \"shöp\" is exempt in admission configuration admission.yaml",
            kind: &[
                "Not checked: namespace \"shöp\" is exempt in admission configuration admission.yaml.",
                "- **enforce** `restricted:latest` · not checked",
                "- **warn** `privileged:latest` · checks nothing",
                "- **audit** `privileged:latest` · checks nothing",
            ],
            lens: "not checked: namespace \"shöp\" is exempt in admission configuration admission.yaml",
            ..base
        },
    ]
}

/// Hover on the field, hover on `kind:`, the object's lens and the field's diagnostics tell one story in
/// every mode: failing under enforce, warn or audit only (and at a version other than enforce's), exempted
/// where the cluster honours it and where it does not, passing, and not checked (and why).
#[test]
fn hover_lenses_and_diagnostics_tell_the_same_story_in_every_mode() {
    let mut wrong = Vec::new();
    for scenario in scenarios() {
        let name = scenario.name;
        let mut files: Vec<(&str, String)> = Vec::new();
        if let Some(labels) = scenario.labels {
            files.push((
                "ns.yaml",
                namespace(&format!("pod-security.kubernetes.io/{labels}")),
            ));
        }
        let pod = escalating(scenario.annotations).replace(scenario.edit.0, scenario.edit.1);
        files.push(("pod.yaml", pod));
        if !scenario.project.is_empty() {
            files.push((".podsec.yaml", scenario.project.to_string()));
        }
        if !scenario.admission.is_empty() {
            files.push(("admission.yaml", scenario.admission.to_string()));
        }
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let story = story(&format!("story-{name}"), &files, "pod.yaml", scenario.needle);
        let diagnostics: Vec<(u64, &str, &str)> = story
            .diagnostics
            .iter()
            .map(|d| {
                assert!(d.get("tags").is_none(), "{name}: {d}");
                (
                    d["severity"].as_u64().unwrap(),
                    d["code"].as_str().unwrap(),
                    d["message"].as_str().unwrap(),
                )
            })
            .collect();
        let field = story.field.split("\n\nPolicy in force").next().unwrap();
        let kind: Vec<&str> = story
            .kind
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split(" — from ").next().unwrap())
            .collect();
        // Every scenario is checked, and every view that differs is named.
        for (view, differs) in [
            ("diagnostics", diagnostics != scenario.diagnostics),
            ("exemption-not-enforced", story.refused != scenario.refused),
            ("field hover", field != scenario.field),
            ("kind hover", kind != scenario.kind),
            ("lens", story.lens != scenario.lens),
        ] {
            if differs {
                wrong.push(format!(
                    "{name}: {view}:\n{diagnostics:?}\n{field}\n{kind:#?}\n{}",
                    story.lens
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
