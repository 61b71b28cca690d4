//! Kustomize overlays built by the machine's real Kustomize (`kubectl kustomize`, Kustomize v5.5), through
//! the real binary: findings at the base or patch line that writes the field, patch files never judged
//! alone, the namespace Kustomize gives an object selecting its Namespace's policy, and a failed build
//! reported at its kustomization with Kustomize's message. The overlays are under `tests/kustomize/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{podsec, podsec_command, repo_root, stdout as text};
use serde_json::Value;

/// Whether Kustomize can run here. CI has it (the machine's `kubectl`): there, and whenever
/// `PODSEC_REQUIRE_KUSTOMIZE` is set, its absence fails the test rather than skipping it.
fn kustomize_available(test: &str) -> bool {
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths)
            .any(|dir| dir.join("kubectl").is_file() || dir.join("kustomize").is_file())
    });
    if !found {
        let required =
            std::env::var_os("CI").is_some() || std::env::var_os("PODSEC_REQUIRE_KUSTOMIZE").is_some();
        assert!(!required, "{test}: neither kubectl nor kustomize is on PATH");
        eprintln!("{test}: skipped: neither kubectl nor kustomize is on PATH");
    }
    found
}

fn check_json(paths: &[&str]) -> Value {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(paths);
    let output = podsec(&args);
    serde_json::from_str(&text(&output)).unwrap_or_else(|e| panic!("{e}: {}", text(&output)))
}

fn file<'j>(json: &'j Value, path: &str) -> &'j Value {
    json["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} is not in the output: {json:#}"))
}

/// `(object name, check, line, text at the location)` of every finding in a file, in order.
fn findings(json: &Value, path: &str) -> Vec<(String, String, u64, String)> {
    let source = std::fs::read_to_string(repo_root().join(path)).unwrap();
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    for object in file(json, path)["objects"].as_array().unwrap() {
        for violation in object["violations"].as_array().unwrap() {
            for location in violation["locations"].as_array().unwrap() {
                let line = location["start"]["line"].as_u64().unwrap();
                let start = location["start"]["column"].as_u64().unwrap() as usize;
                let written = lines[line as usize - 1]
                    .get(start - 1..)
                    .unwrap_or("")
                    .trim()
                    .to_string();
                found.push((
                    object["name"].as_str().unwrap().to_string(),
                    violation["check"].as_str().unwrap().to_string(),
                    line,
                    written,
                ));
            }
        }
    }
    found
}

fn codes(json: &Value, path: &str) -> Vec<String> {
    file(json, path)["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_patch_that_only_sets_resources_gets_no_finding_and_its_note_says_why() {
    if !kustomize_available("patch note") {
        return;
    }
    let json = check_json(&["tests/kustomize"]);
    let patch = "tests/kustomize/overlays/dev/resources.yaml";
    assert_eq!(findings(&json, patch), []);
    assert_eq!(codes(&json, patch), ["kustomize-patch"]);
    let note = &file(&json, patch)["problems"][0];
    assert_eq!(note["severity"], "information");
    assert_eq!(
        note["message"],
        "not checked as a whole object: a patch of tests/kustomize/overlays/dev/kustomization.yaml; its overlay's \
         result is checked"
    );
    // The dev build's restricted findings on container "app" are the base's: its `securityContext:`.
    let base = findings(&json, "tests/kustomize/base/deployment.yaml");
    let app: Vec<_> = base
        .iter()
        .filter(|(name, check, _, _)| name == "web" && check == "capabilities_restricted")
        .map(|(_, _, line, written)| (*line, written.as_str()))
        .collect();
    assert!(app.contains(&(20, "securityContext:")), "{base:?}");
}

#[test]
fn a_components_patch_is_applied_and_noted_and_never_judged() {
    if !kustomize_available("component") {
        return;
    }
    let json = check_json(&["tests/kustomize"]);
    let patch = "tests/kustomize/components/seccomp/runtime-default.yaml";
    assert_eq!(findings(&json, patch), []);
    assert_eq!(codes(&json, patch), ["kustomize-patch"]);
    // The component's pod-level seccompProfile reaches the dev build: no container of "web" lacks one
    // (the dev overlay alone, with its base: the JSON overlay's "web" has no component).
    let dev = check_json(&["tests/kustomize/overlays/dev", "tests/kustomize/base"]);
    let base = findings(&dev, "tests/kustomize/base/deployment.yaml");
    assert!(
        !base
            .iter()
            .any(|(name, check, _, _)| name == "web" && check == "seccompProfile_restricted"),
        "{base:?}"
    );
    assert!(
        base.iter()
            .any(|(name, check, _, _)| name == "web" && check == "runAsNonRoot"),
        "{base:?}"
    );
    // A component is never built alone: no build error at it.
    assert_eq!(
        codes(&json, "tests/kustomize/components/seccomp/kustomization.yaml"),
        Vec::<String>::new()
    );
}

#[test]
fn a_field_a_patch_sets_is_reported_at_the_patch_and_a_base_field_at_the_base() {
    if !kustomize_available("placement") {
        return;
    }
    let json = check_json(&["tests/kustomize"]);
    assert_eq!(
        findings(&json, "tests/kustomize/overlays/prod/privileged.yaml"),
        [(
            "prod-web".to_string(),
            "privileged".to_string(),
            11,
            "privileged: true".to_string()
        )]
    );
    let base = findings(&json, "tests/kustomize/base/deployment.yaml");
    assert!(
        base.contains(&(
            "prod-web".to_string(),
            "hostNamespaces".to_string(),
            14,
            "hostNetwork: true".to_string()
        )),
        "{base:?}"
    );
    // Nothing of the prod build is put on the base's container for `privileged`.
    assert!(
        !base.iter().any(|(_, check, _, _)| check == "privileged"),
        "{base:?}"
    );
    // A JSON 6902 operation: at its `path:`.
    assert_eq!(
        findings(&json, "tests/kustomize/overlays/json/host-pid.yaml"),
        [(
            "web".to_string(),
            "hostNamespaces".to_string(),
            2,
            "path: /spec/template/spec/hostPID".to_string()
        )]
    );
}

#[test]
fn the_namespace_kustomize_gives_an_object_selects_its_namespaces_policy() {
    if !kustomize_available("namespace") {
        return;
    }
    let json = check_json(&["tests/kustomize"]);
    let objects: Vec<&Value> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["objects"].as_array().unwrap())
        .collect();
    let prod = objects.iter().find(|o| o["name"] == "prod-web").unwrap();
    assert_eq!(prod["namespace"], "prod-apps");
    assert_eq!(prod["policy"], "baseline:latest");
    assert_eq!(
        prod["modes"][0]["source"],
        "Namespace \"prod-apps\", label pod-security.kubernetes.io/enforce"
    );
    let dev = objects.iter().find(|o| o["name"] == "web").unwrap();
    assert_eq!(dev["policy"], "restricted:latest");
}

#[test]
fn a_failed_build_is_one_error_at_its_kustomization_with_kustomizes_message() {
    if !kustomize_available("build error") {
        return;
    }
    let json = check_json(&["tests/kustomize/broken"]);
    let problems = file(&json, "tests/kustomize/broken/kustomization.yaml")["problems"]
        .as_array()
        .unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["code"], "kustomize-build");
    assert_eq!(problems[0]["severity"], "error");
    let message = problems[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("kubectl kustomize tests/kustomize/broken failed: ")
            || message.starts_with("kustomize build"),
        "{message}"
    );
    assert!(message.contains("missing.yaml"), "{message}");
    assert!(!message.contains("run.go"), "{message}");
}

#[test]
fn a_patch_is_noted_even_when_kustomize_cannot_run() {
    // No Kustomize at all: the overlay is not built, but its patch is still never judged alone.
    let output = podsec_command(&["check", "--format", "json", "tests/kustomize/overlays/dev"])
        .env(
            "PODSEC_KUSTOMIZE",
            repo_root().join("tests/kustomize/no-such-kustomize"),
        )
        .output()
        .unwrap();
    let json: Value = serde_json::from_str(&text(&output)).unwrap();
    let patch = "tests/kustomize/overlays/dev/resources.yaml";
    assert_eq!(findings(&json, patch), []);
    assert_eq!(codes(&json, patch), ["kustomize-patch"]);
    assert_eq!(
        codes(&json, "tests/kustomize/overlays/dev/kustomization.yaml"),
        ["kustomize-build"]
    );
}

#[test]
fn fix_never_edits_a_patch() {
    let directory = std::env::temp_dir().join(format!("podsec-kustomize-fix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    for relative in [
        "base/kustomization.yaml",
        "base/deployment.yaml",
        "overlays/dev/kustomization.yaml",
        "overlays/dev/resources.yaml",
    ] {
        let to = directory.join(relative);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join("tests/kustomize").join(relative), &to).unwrap();
    }
    let patch = directory.join("overlays/dev/resources.yaml");
    let before = std::fs::read_to_string(&patch).unwrap();
    let output = podsec_command(&["fix", directory.join("overlays/dev").to_str().unwrap()])
        .output()
        .unwrap();
    let after = std::fs::read_to_string(&patch).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let _ = std::fs::remove_dir_all(&directory);
    assert_eq!(before, after, "{stderr}");
    assert!(
        stderr.contains("not checked as a whole object: a patch of"),
        "{stderr}"
    );
}

#[test]
fn in_the_editor_a_patch_gets_the_note_alone_and_no_fix() {
    use common::lsp::{LspClient, file_uri};
    let patch = repo_root().join("tests/kustomize/overlays/prod/privileged.yaml");
    let text = std::fs::read_to_string(&patch).unwrap();
    let mut client = LspClient::spawn();
    client.initialize(None, serde_json::json!({}));
    let uri = file_uri(&patch);
    client.open(&uri, &text, 1);
    let found = client.diagnostics(&uri, 1);
    let codes: Vec<&str> = found.iter().filter_map(|d| d["code"].as_str()).collect();
    // Its `privileged: true` is judged in the overlay's result, not here as a Deployment of its own.
    assert_eq!(codes, ["kustomize-patch"], "{found:#?}");
    assert_eq!(found[0]["severity"], 3);
    assert!(
        found[0]["message"].as_str().unwrap().contains("a patch of"),
        "{found:#?}"
    );
    let actions = client.request(
        "textDocument/codeAction",
        serde_json::json!({
            "textDocument": { "uri": uri },
            "range": { "start": { "line": 10, "character": 0 }, "end": { "line": 10, "character": 30 } },
            "context": { "diagnostics": [] }
        }),
    );
    let titles: Vec<&str> = actions["result"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["title"].as_str()).collect())
        .unwrap_or_default();
    assert!(titles.is_empty(), "{titles:?}");
    assert!(client.shutdown_and_exit().success());
}
