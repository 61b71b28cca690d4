//! Helm charts in the editor, through the real server and the real Helm (`PODSEC_TEST_HELM`, as
//! `tests/charts.rs`): opening a chart's files renders it in the background with `$/progress`; the
//! rendered findings arrive at the values-file and template lines that write them (UTF-16 columns); an
//! unsaved edit returns the file to its static reading, and its save renders again; a save stops a
//! slow Helm while typing elsewhere is answered; a pulling client is asked to pull again and a closed
//! template reports the rendering; a chart Helm cannot render gets Helm's message at the template line it
//! names; without Helm, `Chart.yaml` gets the command line's note.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::lsp::{LspClient, file_uri, workspace_dir};
use common::{repo_root, test_helm};
use serde_json::{Value, json};
use std::path::Path;

/// A workspace with the shop chart (tests/helm/shop, its debugging values replaced by
/// tests/helm/editor/values-debug.yaml: a non-ASCII comment, and a capability added after non-ASCII text on
/// its own line, at UTF-16 column 49, byte 51) and tests/helm/editor/podsec.yaml as its project file: the
/// chart rendered as the `shop-debug` release in `debug`, enforced at baseline.
fn workspace(name: &str) -> std::path::PathBuf {
    let read = |file: &str| std::fs::read_to_string(repo_root().join("tests/helm").join(file)).unwrap();
    workspace_dir(
        name,
        &[
            (".podsec.yaml", read("editor/podsec.yaml")),
            ("shop/Chart.yaml", read("shop/Chart.yaml")),
            ("shop/values.yaml", read("shop/values.yaml")),
            ("shop/values-debug.yaml", read("editor/values-debug.yaml")),
            ("shop/templates/_helpers.tpl", read("shop/templates/_helpers.tpl")),
            (
                "shop/templates/deployment.yaml",
                read("shop/templates/deployment.yaml"),
            ),
            ("shop/templates/service.yaml", read("shop/templates/service.yaml")),
        ],
    )
}

/// A client with progress support on the workspace `dir`, with these settings and environment.
fn start(dir: &Path, settings: Value, env: &[(&str, &std::ffi::OsStr)]) -> LspClient {
    start_with(
        dir,
        json!({ "window": { "workDoneProgress": true } }),
        settings,
        env,
    )
}

fn start_with(
    dir: &Path,
    capabilities: Value,
    settings: Value,
    env: &[(&str, &std::ffi::OsStr)],
) -> LspClient {
    let mut client = LspClient::spawn_with_env(env);
    let folder = file_uri(dir);
    let response = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": folder, "workspaceFolders": [{ "uri": folder, "name": "ws" }],
                "capabilities": capabilities, "initializationOptions": settings }),
    );
    assert!(response.get("result").is_some(), "{response}");
    client.notify("initialized", json!({}));
    client
}

fn open(client: &mut LspClient, path: &Path, version: i64) -> String {
    let uri = file_uri(path);
    client.open(&uri, &std::fs::read_to_string(path).unwrap(), version);
    uri
}

/// The first publication for `uri` (from now on, or received and not yet matched) that `wanted` accepts.
fn published(client: &mut LspClient, uri: &str, wanted: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let message = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && wanted(m["params"]["diagnostics"].as_array().unwrap())
    });
    message["params"]["diagnostics"].as_array().unwrap().clone()
}

/// `(code, [start line, start character, end line, end character])` of each diagnostic, sorted.
fn placed(diagnostics: &[Value]) -> Vec<(String, [u64; 4])> {
    let mut all: Vec<(String, [u64; 4])> = diagnostics
        .iter()
        .map(|d| {
            let range = &d["range"];
            (
                d["code"].as_str().unwrap().to_string(),
                [
                    range["start"]["line"].as_u64().unwrap(),
                    range["start"]["character"].as_u64().unwrap(),
                    range["end"]["line"].as_u64().unwrap(),
                    range["end"]["character"].as_u64().unwrap(),
                ],
            )
        })
        .collect();
    all.sort();
    all
}

fn is_rendered(diagnostic: &Value) -> bool {
    diagnostic["message"]
        .as_str()
        .is_some_and(|m| m.contains("[Deployment \"shop-debug-shop\" rendered by helm template shop-debug"))
}

/// The `$/progress` tokens of the renderings begun so far.
fn rendering_tokens(client: &LspClient) -> Vec<Value> {
    client
        .received
        .iter()
        .filter(|m| {
            m["method"] == "$/progress"
                && m["params"]["value"]["kind"] == "begin"
                && m["params"]["value"]["message"] == "Rendering Helm chart shop"
        })
        .map(|m| m["params"]["token"].clone())
        .collect()
}

/// Waits for the end of the progress `token`, and returns its message.
fn progress_end(client: &mut LspClient, token: &Value) -> Value {
    let ended = client.wait_for(|m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end" && m["params"]["token"] == *token
    });
    ended["params"]["value"]["message"].clone()
}

#[test]
fn chart_files_get_the_findings_of_what_helm_renders_until_they_are_edited() {
    let helm = test_helm();
    let dir = workspace("lsp-charts");
    let cache = dir.join(".cache");
    let mut client = start(
        &dir,
        json!({ "helm": helm.to_str().unwrap() }),
        &[("PODSEC_CACHE_DIR", cache.as_os_str())],
    );
    let values_path = dir.join("shop/values-debug.yaml");
    let template_path = dir.join("shop/templates/deployment.yaml");
    let values = open(&mut client, &values_path, 1);
    let template = open(&mut client, &template_path, 1);
    // Until a rendering exists, the static reading (the debounced rendering starts after it).
    let static_reading = published(&mut client, &template, |_| true);
    assert!(!static_reading.iter().any(is_rendered), "{static_reading:#?}");

    // Helm's rendering with values-debug.yaml: hostPID and the capability at the values lines that set
    // them, in UTF-16 columns after `ü` and `é`.
    let found = published(&mut client, &values, |d| !d.is_empty());
    assert_eq!(
        placed(&found),
        [
            ("capabilities_baseline".to_string(), [4, 49, 4, 60]),
            ("hostNamespaces".to_string(), [1, 0, 1, 13]),
        ],
        "{found:#?}"
    );
    assert!(found.iter().all(is_rendered), "{found:#?}");
    // The privileged container (behind `if .Values.debug.enabled`) at its template line.
    let found = published(&mut client, &template, |d| d.iter().any(is_rendered));
    assert_eq!(
        placed(&found),
        [("privileged".to_string(), [39, 12, 39, 28])],
        "{found:#?}"
    );
    // The server asked to create the progress and reported its beginning and end.
    assert!(
        client
            .received
            .iter()
            .any(|m| m["method"] == "window/workDoneProgress/create"),
        "{:#?}",
        client.received
    );
    let tokens = rendering_tokens(&client);
    let last = tokens
        .last()
        .unwrap_or_else(|| panic!("no rendering progress: {:#?}", client.received));
    assert_eq!(progress_end(&mut client, last), "Rendered: 3 findings, 0 notes");
    let renderings = tokens.len();

    // Typing in the values file: Helm's findings were about the saved text, so it has its static
    // reading (a values file holds no object) until it is saved.
    let edited = format!("# edited\n{}", std::fs::read_to_string(&values_path).unwrap());
    client.change(&values, 2, json!([{ "text": edited }]));
    let found = client.diagnostics(&values, 2);
    assert_eq!(found, Vec::<Value>::new());
    // The template, unchanged, keeps the rendered findings; edited (a line added at its end), it has
    // its static reading again.
    let found = client.diagnostics(&template, 1);
    assert_eq!(placed(&found), [("privileged".to_string(), [39, 12, 39, 28])]);
    let template_text = std::fs::read_to_string(&template_path).unwrap();
    client.change(&template, 2, json!([{ "text": format!("{template_text}\n") }]));
    let found = client.diagnostics(&template, 2);
    assert_eq!(found, static_reading);

    // Saved, the values file is rendered again: its findings one line lower.
    std::fs::write(&values_path, &edited).unwrap();
    client.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": values } }),
    );
    let found = published(&mut client, &values, |d| !d.is_empty());
    assert_eq!(
        placed(&found),
        [
            ("capabilities_baseline".to_string(), [5, 49, 5, 60]),
            ("hostNamespaces".to_string(), [2, 0, 2, 13]),
        ],
        "{found:#?}"
    );
    let tokens = rendering_tokens(&client);
    assert_eq!(tokens.len(), renderings + 1, "{:#?}", client.received);
    assert_eq!(
        progress_end(&mut client, &tokens[renderings]),
        "Rendered: 3 findings, 0 notes"
    );
    assert!(client.shutdown_and_exit().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_helm_chart_yaml_gets_the_note_and_templates_their_static_reading() {
    let dir = workspace("lsp-charts-no-helm");
    let cache = dir.join(".cache");
    let nowhere = std::ffi::OsStr::new("/nonexistent");
    let mut client = start(
        &dir,
        json!({}),
        &[("PODSEC_CACHE_DIR", cache.as_os_str()), ("PATH", nowhere)],
    );
    let chart_yaml = open(&mut client, &dir.join("shop/Chart.yaml"), 1);
    let template = open(&mut client, &dir.join("shop/templates/deployment.yaml"), 1);
    let found = published(&mut client, &chart_yaml, |d| !d.is_empty());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["code"], "helm-template");
    assert_eq!(found[0]["severity"], 3, "information");
    assert_eq!(
        found[0]["message"],
        "Helm chart shop read without rendering: podsec found no Helm to render it (`helm` on PATH, \
         `--helm PATH`, or `helm:` in .podsec.yaml). Literal fields in its templates are checked; what its \
         values write is not (helm template … | podsec check -)"
    );
    assert_eq!(placed(&found), [("helm-template".to_string(), [0, 0, 0, 14])]);
    // The template has its static reading: what its values write is information, its literal
    // `privileged: true` an error.
    let found = client.diagnostics(&template, 1);
    assert!(found.iter().any(|d| d["code"] == "helm-value"), "{found:#?}");
    assert!(
        found
            .iter()
            .any(|d| d["code"] == "privileged" && d["severity"] == 1),
        "{found:#?}"
    );
    assert!(!found.iter().any(is_rendered), "{found:#?}");
    assert!(client.shutdown_and_exit().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_save_during_a_rendering_stops_helm_and_renders_again() {
    let helm = test_helm();
    let dir = workspace("lsp-charts-stop");
    let cache = dir.join(".cache");
    // A slow Helm that says when it starts and when it gets past its wait: one stopped during its wait
    // never gets past it.
    let runs = dir.join("runs");
    let slow = dir.join("slow-helm");
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\necho start >> '{runs}'\nsleep 2\necho past >> '{runs}'\nexec '{}' \"$@\"\n",
            helm.display(),
            runs = runs.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut client = start(
        &dir,
        json!({ "helm": slow.to_str().unwrap() }),
        &[("PODSEC_CACHE_DIR", cache.as_os_str())],
    );
    let values = open(&mut client, &dir.join("shop/values-debug.yaml"), 1);
    client.wait_for(|m| {
        m["method"] == "$/progress" && m["params"]["value"]["message"] == "Rendering Helm chart shop"
    });
    // Helm has started; a save asks for a newer rendering.
    let deadline = std::time::Instant::now() + common::lsp::TIMEOUT;
    while !std::fs::read_to_string(&runs).is_ok_and(|r| r.contains("start")) {
        assert!(std::time::Instant::now() < deadline, "Helm never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    client.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": values } }),
    );
    let tokens = rendering_tokens(&client);
    assert_eq!(
        progress_end(&mut client, &tokens[0]),
        "Stopped: a newer rendering is wanted"
    );
    // While Helm runs (it waits 2 s), typing in another document is answered at once.
    let other = dir.join("pod.yaml");
    let uri = file_uri(&other);
    client.open(
        &uri,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n",
        1,
    );
    client.change(&uri, 2, json!([{ "text": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: true\n  containers: []\n" }]));
    let found = client.diagnostics(&uri, 2);
    assert!(found.iter().any(|d| d["code"] == "hostNamespaces"), "{found:#?}");
    let ended = |client: &LspClient| {
        client.received.iter().any(|m| {
            m["method"] == "$/progress"
                && m["params"]["value"]["kind"] == "end"
                && m["params"]["value"]["message"] != "Stopped: a newer rendering is wanted"
                && m["params"]["value"]["message"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Rendered"))
        })
    };
    assert!(!ended(&client), "the keystroke waited for the rendering");
    let found = published(&mut client, &values, |d| !d.is_empty());
    assert_eq!(placed(&found).len(), 2, "{found:#?}");
    let tokens = rendering_tokens(&client);
    assert_eq!(tokens.len(), 2, "{:#?}", client.received);
    assert_eq!(
        progress_end(&mut client, &tokens[1]),
        "Rendered: 3 findings, 0 notes"
    );
    // Two Helms started; the first was stopped before it got past its wait.
    let log = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["start", "start", "past"],
        "{log}"
    );
    // A rendering under way when the server shuts down is stopped: its Helm never gets past its wait.
    // (The chart changes, else the rendering would come from the cache.)
    let values_path = dir.join("shop/values-debug.yaml");
    let changed = format!("{}# changed\n", std::fs::read_to_string(&values_path).unwrap());
    std::fs::write(&values_path, changed).unwrap();
    client.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": values } }),
    );
    let deadline = std::time::Instant::now() + common::lsp::TIMEOUT;
    while std::fs::read_to_string(&runs).unwrap().lines().count() < 4 {
        assert!(std::time::Instant::now() < deadline, "Helm never started again");
        // Reading the server's messages answers its request to create the progress.
        client.try_wait_for(&|_| false, std::time::Duration::from_millis(10));
    }
    assert!(client.shutdown_and_exit().success());
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let log = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["start", "start", "past", "start"],
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pulling_client_is_asked_to_pull_again_and_closed_chart_files_report_the_rendering() {
    let helm = test_helm();
    let dir = workspace("lsp-charts-pull");
    let cache = dir.join(".cache");
    let capabilities = json!({
        "textDocument": { "diagnostic": { "dynamicRegistration": false } },
        "workspace": { "diagnostics": { "refreshSupport": true } },
    });
    let mut client = start_with(
        &dir,
        capabilities,
        json!({ "helm": helm.to_str().unwrap() }),
        &[("PODSEC_CACHE_DIR", cache.as_os_str())],
    );
    let values = open(&mut client, &dir.join("shop/values-debug.yaml"), 1);
    // Asked to pull again after the scan, then after the rendering: its findings come with a pull.
    let response = loop {
        client.wait_for(|m| m["method"] == "workspace/diagnostic/refresh");
        let response = client.request(
            "textDocument/diagnostic",
            json!({ "textDocument": { "uri": values } }),
        );
        if response["result"]["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
        {
            break response;
        }
    };
    let items = response["result"]["items"].as_array().unwrap();
    assert_eq!(
        placed(items),
        [
            ("capabilities_baseline".to_string(), [4, 49, 4, 60]),
            ("hostNamespaces".to_string(), [1, 0, 1, 13]),
        ],
        "{response}"
    );
    // The template is not open: the workspace pull reports its file with the rendering's findings.
    let response = client.request("workspace/diagnostic", json!({ "previousResultIds": [] }));
    let template = file_uri(&dir.join("shop/templates/deployment.yaml"));
    let report = response["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["uri"] == template)
        .unwrap_or_else(|| panic!("{response}"))
        .clone();
    let items = report["items"].as_array().unwrap();
    assert_eq!(
        placed(items),
        [("privileged".to_string(), [39, 12, 39, 28])],
        "{report}"
    );
    assert!(items.iter().all(is_rendered), "{report}");
    assert!(client.shutdown_and_exit().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_chart_helm_cannot_render_gets_helms_message_at_the_template_line_it_names() {
    let helm = test_helm();
    // tests/helm/web calls a helper it does not define.
    let read = |file: &str| std::fs::read_to_string(repo_root().join("tests/helm/web").join(file)).unwrap();
    let dir = workspace_dir(
        "lsp-charts-failure",
        &[
            ("web/Chart.yaml", read("Chart.yaml")),
            ("web/templates/deployment.yaml", read("templates/deployment.yaml")),
            ("web/templates/daemonset.yaml", read("templates/daemonset.yaml")),
        ],
    );
    let cache = dir.join(".cache");
    let mut client = start(
        &dir,
        json!({ "helm": helm.to_str().unwrap() }),
        &[("PODSEC_CACHE_DIR", cache.as_os_str())],
    );
    let template = open(&mut client, &dir.join("web/templates/deployment.yaml"), 1);
    let found = published(&mut client, &template, |d| {
        d.iter().any(|d| d["code"] == "helm-render")
    });
    let note = found.iter().find(|d| d["code"] == "helm-render").unwrap();
    assert_eq!(note["severity"], 2, "a warning");
    assert_eq!(note["range"]["start"]["line"], 3, "{note}");
    let message = note["message"].as_str().unwrap();
    assert!(message.contains("no template \"web.fullname\""), "{message}");
    // The template keeps its static reading beside Helm's message.
    assert!(found.iter().any(|d| d["code"] != "helm-render"), "{found:#?}");
    assert!(client.shutdown_and_exit().success());
    let _ = std::fs::remove_dir_all(&dir);
}
