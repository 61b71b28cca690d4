//! The editor acts on the policy it shows: for a matrix of policy sources, the real server's
//! diagnostics, quick fixes and fix-all agree with `podsec check` and `podsec fix` on the same
//! workspace; the policy follows open, change, save and close without file watching; labels typed
//! character by character do not flip other objects' severities; and unlabelled Namespaces get the
//! default policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::lsp::{LspClient, apply_workspace_edit, file_uri, workspace_dir};
use common::{podsec, stderr, stdout};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// A client without file watching (Neovim on Linux), with progress support, on `dir`.
fn start(dir: &Path, settings: Value) -> LspClient {
    let mut client = LspClient::spawn();
    let folder = file_uri(dir);
    let response = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": folder, "workspaceFolders": [{ "uri": folder, "name": "ws" }],
                "capabilities": { "window": { "workDoneProgress": true },
                                  "textDocument": { "publishDiagnostics": { "relatedInformation": true } } },
                "initializationOptions": settings }),
    );
    assert!(response.get("result").is_some(), "{response}");
    client.notify("initialized", json!({}));
    client
}

fn save(client: &mut LspClient, uri: &str) {
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": uri } }));
}

fn close(client: &mut LspClient, uri: &str) {
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } }));
}

fn whole_text_change(text: &str) -> Value {
    json!([{ "text": text }])
}

/// `(check, 0-based line, LSP severity)` of every check diagnostic.
fn verdicts(diagnostics: &[Value]) -> BTreeSet<(String, u64, u64)> {
    diagnostics
        .iter()
        .filter(|d| {
            d["code"]
                .as_str()
                .is_some_and(|c| podsec_engine::check_by_id(c).is_some())
        })
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["severity"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The same from `podsec check --format json` for the file `name` of a run over the whole workspace.
fn cli_verdicts(dir: &Path, name: &str) -> BTreeSet<(String, u64, u64)> {
    let output = podsec(&["check", "--format", "json", dir.to_str().unwrap()]);
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let mut found = BTreeSet::new();
    for file in report["files"].as_array().unwrap() {
        if !file["path"].as_str().is_some_and(|p| p.ends_with(name)) {
            continue;
        }
        for object in file["objects"].as_array().unwrap() {
            for violation in object["violations"].as_array().unwrap() {
                let severity = match violation["severity"].as_str().unwrap() {
                    "error" => 1,
                    "warning" => 2,
                    _ => 3,
                };
                for location in violation["locations"].as_array().unwrap() {
                    found.insert((
                        violation["check"].as_str().unwrap().to_string(),
                        location["start"]["line"].as_u64().unwrap() - 1,
                        severity,
                    ));
                }
            }
        }
    }
    found
}

/// The titles of the fixes `podsec fix --diff` would apply to `name` and of the unsafe fixes it says
/// exist for what remains, over the whole workspace.
fn cli_fix_titles(dir: &Path, name: &str) -> BTreeSet<String> {
    let output = podsec(&["fix", "--diff", dir.to_str().unwrap()]);
    let mut titles = BTreeSet::new();
    let mut in_list = false;
    for line in stderr(&output).lines() {
        if let Some(title) = line.strip_prefix("  - ") {
            if in_list {
                titles.insert(title.to_string());
            }
            continue;
        }
        in_list = line.contains(name) && line.contains("would apply");
        if line.contains(name) {
            if let Some((_, rest)) = line.split_once("[unsafe fix available with --unsafe: ") {
                titles.insert(rest.trim_end_matches(']').to_string());
            }
        }
    }
    titles
}

/// What `podsec fix` (safe fixes) makes of `name` in a copy of the workspace.
fn cli_fixed(dir: &Path, name: &str) -> String {
    let copy = dir.with_extension("fixed");
    let _ = std::fs::remove_dir_all(&copy);
    let status = std::process::Command::new("cp")
        .args(["-r", dir.to_str().unwrap(), copy.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    podsec(&["fix", copy.to_str().unwrap()]);
    let fixed = std::fs::read_to_string(copy.join(name)).unwrap();
    let _ = std::fs::remove_dir_all(&copy);
    fixed
}

fn code_actions(client: &mut LspClient, uri: &str, diagnostics: &[Value], only: Option<&str>) -> Vec<Value> {
    let mut context = json!({ "diagnostics": diagnostics });
    if let Some(only) = only {
        context["only"] = json!([only]);
    }
    let response = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 10_000, "character": 0 } },
                "context": context }),
    );
    response["result"].as_array().cloned().unwrap_or_default()
}

struct Scenario {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    settings: Value,
    /// The file opened in the editor.
    open: &'static str,
    /// How many check diagnostics it gets, as errors and as warnings.
    errors: usize,
    warnings: usize,
}

const CNI: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-flannel\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: flannel, namespace: kube-flannel}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers:\n      - name: flannel\n        image: flannel\n        securityContext:\n          privileged: true\n          capabilities: {add: [NET_ADMIN, NET_RAW]}\n";
const HOST_PATH_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: logs, namespace: web}\nspec:\n  containers:\n  - name: app\n    image: x\n    securityContext: {allowPrivilegeEscalation: true}\n  volumes:\n  - name: var\n    hostPath: {path: /var/log}\n";
const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: x\n        ports: [{containerPort: 80}]\n";
const RESTRICTED_NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n";
const UNLABELLED: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\n";
const ADMISSION_BASELINE: &str = "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: baseline, warn: restricted}\n";
const ADMISSION_PRIVILEGED: &str = "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: privileged}\n";

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "privileged-namespace-same-file",
            files: vec![("cni.yaml", CNI.to_string())],
            settings: json!({ "podsec": { "level": "restricted" } }),
            open: "cni.yaml",
            errors: 0,
            warnings: 0,
        },
        Scenario {
            name: "project-level-baseline",
            files: vec![(".podsec.yaml", "level: baseline\n".to_string()), ("pod.yaml", HOST_PATH_POD.to_string())],
            settings: json!({}),
            open: "pod.yaml",
            errors: 1,
            warnings: 0,
        },
        Scenario {
            name: "editor-baseline-namespace-restricted-elsewhere",
            files: vec![("ns/web.yaml", RESTRICTED_NS.to_string()), ("deploy.yaml", WEB.to_string())],
            settings: json!({ "podsec": { "level": "baseline" } }),
            open: "deploy.yaml",
            errors: 4,
            warnings: 0,
        },
        Scenario {
            name: "project-exemption",
            files: vec![(".podsec.yaml", "exemptions:\n- {check: runAsNonRoot, name: web, reason: \"the image needs root until #12 lands\"}\n".to_string()), ("deploy.yaml", WEB.to_string())],
            settings: json!({}),
            open: "deploy.yaml",
            errors: 3,
            warnings: 0,
        },
        Scenario {
            name: "admission-configuration",
            files: vec![("cluster/psa.yaml", ADMISSION_BASELINE.to_string()), ("pod.yaml", HOST_PATH_POD.to_string())],
            settings: json!({}),
            open: "pod.yaml",
            errors: 1,
            warnings: 5,
        },
        Scenario {
            name: "unlabelled-namespace",
            files: vec![("all.yaml", const_concat_unlabelled())],
            settings: json!({}),
            open: "all.yaml",
            errors: 4,
            warnings: 0,
        },
        Scenario {
            name: "unlabelled-namespace-privileged-defaults",
            files: vec![("cluster/psa.yaml", ADMISSION_PRIVILEGED.to_string()), ("all.yaml", const_concat_unlabelled())],
            settings: json!({}),
            open: "all.yaml",
            errors: 0,
            warnings: 0,
        },
    ]
}

fn const_concat_unlabelled() -> String {
    format!("{UNLABELLED}{WEB}")
}

#[test]
fn code_actions_and_fix_all_act_on_the_policy_the_diagnostics_show() {
    for scenario in scenarios() {
        let name = scenario.name;
        let dir = workspace_dir(name, &scenario.files);
        let path = dir.join(scenario.open);
        let text = std::fs::read_to_string(&path).unwrap();
        let uri = file_uri(&path);
        let mut client = start(&dir, scenario.settings.clone());
        client.open(&uri, &text, 1);
        let diagnostics = client.diagnostics(&uri, 1);
        let seen = verdicts(&diagnostics);
        let count = |severity| seen.iter().filter(|(_, _, s)| *s == severity).count();
        assert_eq!(
            (count(1), count(2)),
            (scenario.errors, scenario.warnings),
            "{name}: {seen:?}"
        );
        // The same verdicts as the command line on the same workspace (editor settings aside, which
        // only a scenario where a label decides uses).
        assert_eq!(seen, cli_verdicts(&dir, scenario.open), "{name}");

        // Quick fixes: exactly the fixes `podsec fix` applies or offers with --unsafe.
        let actions = code_actions(&mut client, &uri, &diagnostics, Some("quickfix"));
        let offered: BTreeSet<String> = actions
            .iter()
            .map(|a| a["title"].as_str().unwrap())
            // Exemptions, fix-all and the one preferred action that applies several safe fixes together
            // are not fixes of their own.
            .filter(|t| {
                !t.starts_with("Exempt ") && !t.starts_with("Fix all ") && !t.starts_with("Apply the ")
            })
            .map(|t| t.trim_end_matches(" (unsafe)").to_string())
            .collect();
        assert_eq!(offered, cli_fix_titles(&dir, scenario.open), "{name}");
        for diagnostic in diagnostics.iter().filter(|d| {
            d["code"]
                .as_str()
                .is_some_and(|c| podsec_engine::check_by_id(c).is_some())
        }) {
            let for_it = code_actions(
                &mut client,
                &uri,
                std::slice::from_ref(diagnostic),
                Some("quickfix"),
            );
            assert!(
                for_it
                    .iter()
                    .any(|a| a["title"].as_str().unwrap().starts_with("Exempt ")),
                "{name}: every finding can be exempted: {diagnostic}"
            );
        }

        // Fix-all: byte for byte what `podsec fix` writes.
        let fix_all = code_actions(&mut client, &uri, &[], Some("source.fixAll.podsec"));
        let fixed = match fix_all.first() {
            Some(action) => apply_workspace_edit(&text, &action["edit"]),
            None => text.clone(),
        };
        assert_eq!(fixed, cli_fixed(&dir, scenario.open), "{name}");
        if name == "privileged-namespace-same-file" {
            // Silence is explained: the hover names the privileged policy and its source.
            let hover = client.request(
                "textDocument/hover",
                json!({ "textDocument": { "uri": uri }, "position": { "line": 13, "character": 8 } }),
            );
            let markdown = hover["result"]["contents"]["value"].as_str().unwrap();
            assert!(
                markdown.contains(
                    "Policy in force for DaemonSet \"flannel\": none, nothing is checked\n- enforce: `privileged:latest` from Namespace \"kube-flannel\", label pod-security.kubernetes.io/enforce (allows everything)\n"
                ),
                "{markdown}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The severities of a publication of the Deployment `web`: runAsNonRoot's tells which policy holds.
fn run_as_non_root_severity(client: &mut LspClient, uri: &str, version: i64) -> u64 {
    let diagnostics = client.diagnostics(uri, version);
    let found: Vec<u64> = diagnostics
        .iter()
        .filter(|d| d["code"] == "runAsNonRoot")
        .map(|d| d["severity"].as_u64().unwrap())
        .collect();
    *found.first().unwrap_or(&0)
}

#[test]
fn the_policy_follows_open_change_save_and_close_without_file_watching() {
    let baseline = RESTRICTED_NS.replace(
        "enforce: restricted",
        "enforce: baseline\n    pod-security.kubernetes.io/warn: restricted",
    );
    let dir = workspace_dir(
        "no-watching",
        &[("namespace.yaml", baseline.as_str()), ("deploy.yaml", WEB)],
    );
    let ns_path = dir.join("namespace.yaml");
    let ns_uri = file_uri(&ns_path);
    let deploy_uri = file_uri(&dir.join("deploy.yaml"));
    let mut client = start(&dir, json!({}));
    // The scan reports progress, and nothing is published before it ends.
    client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    client.open(&deploy_uri, WEB, 1);
    assert_eq!(
        run_as_non_root_severity(&mut client, &deploy_uri, 1),
        2,
        "warn: restricted"
    );

    // The Namespace is opened and edited: its open text is the policy at once.
    client.open(&ns_uri, &baseline, 1);
    let restricted = baseline.replace("enforce: baseline", "enforce: restricted");
    client.change(&ns_uri, 2, whole_text_change(&restricted));
    client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == deploy_uri
            && m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "runAsNonRoot" && d["severity"] == 1)
    });
    // Saved, then closed: the file on disk (now restricted) stays the policy.
    std::fs::write(&ns_path, &restricted).unwrap();
    save(&mut client, &ns_uri);
    close(&mut client, &ns_uri);
    client.forget();
    client.change(&deploy_uri, 2, whole_text_change(&format!("{WEB}# edited\n")));
    assert_eq!(
        run_as_non_root_severity(&mut client, &deploy_uri, 2),
        1,
        "enforce: restricted after close"
    );

    // An edit that is closed without saving leaves the file on disk in force.
    client.open(&ns_uri, &restricted, 1);
    client.change(&ns_uri, 2, whole_text_change(&baseline));
    client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == deploy_uri
            && m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "runAsNonRoot" && d["severity"] == 2)
    });
    close(&mut client, &ns_uri);
    client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == deploy_uri
            && m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "runAsNonRoot" && d["severity"] == 1)
    });

    // Renaming the Namespace in an open buffer: the scanned copy of its old name is gone.
    client.open(&ns_uri, &restricted, 1);
    client.change(
        &ns_uri,
        2,
        whole_text_change(&restricted.replace("name: web", "name: web2")),
    );
    client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == deploy_uri
            && m["params"]["diagnostics"].as_array().unwrap().iter().any(|d| {
                // PSA's sentence and its source, once per object (on its first diagnostic).
                d["relatedInformation"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("[enforce from the default"))
            })
    });

    // An edited and saved project file takes effect.
    let project = dir.join(".podsec.yaml");
    let project_uri = file_uri(&project);
    std::fs::write(&project, "level: baseline\n").unwrap();
    client.open(&project_uri, "level: baseline\n", 1);
    save(&mut client, &project_uri);
    close(&mut client, &project_uri);
    client.forget();
    client.change(&deploy_uri, 3, whole_text_change(WEB));
    assert_eq!(
        run_as_non_root_severity(&mut client, &deploy_uri, 3),
        0,
        "baseline from .podsec.yaml"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn typing_a_label_changes_other_objects_only_when_the_label_parses() {
    let dir = workspace_dir("typing", &[] as &[(&str, &str)]);
    std::fs::create_dir_all(&dir).unwrap();
    let uri = file_uri(&dir.join("all.yaml"));
    let head = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels:\n    pod-security.kubernetes.io/warn: restricted\n";
    let label = "    pod-security.kubernetes.io/enforce: baseline\n";
    let tail = format!("---\n{WEB}");
    let mut client = start(&dir, json!({}));
    client.open(&uri, &format!("{head}{tail}"), 1);
    // warn: restricted only: restricted findings are warnings.
    // Lines move as the label is typed: compare checks and severities.
    let severities = |diagnostics: Vec<Value>| -> BTreeSet<(String, u64)> {
        verdicts(&diagnostics)
            .into_iter()
            .map(|(check, _, severity)| (check, severity))
            .collect()
    };
    let before = severities(client.diagnostics(&uri, 1));
    assert!(before.iter().all(|(_, s)| *s == 2), "{before:?}");
    let mut version = 1;
    for end in 1..=label.len() {
        version += 1;
        let typed = &label[..end];
        let text = format!(
            "{head}{typed}{}{tail}",
            if typed.ends_with('\n') { "" } else { "\n" }
        );
        client.change(&uri, version, whole_text_change(&text));
        let now = severities(client.diagnostics(&uri, version));
        let complete = typed.trim_end() == label.trim_end();
        if complete {
            // enforce: baseline parses: the restricted findings stay warnings (no baseline one).
            assert_eq!(now, before, "after the whole label");
        } else {
            assert_eq!(now, before, "while typing {typed:?}");
        }
    }
    // A label that parses to another valid level does change them: enforce restricted → errors.
    version += 1;
    let text = format!("{head}{}{tail}", label.replace("baseline", "restricted"));
    client.change(&uri, version, whole_text_change(&text));
    let after = severities(client.diagnostics(&uri, version));
    assert!(
        after.iter().all(|(_, s)| *s == 1) && !after.is_empty(),
        "{after:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unlabelled_namespace_is_checked_at_the_default_policy_in_the_cli_too() {
    let dir = workspace_dir("unlabelled-cli", &[("all.yaml", const_concat_unlabelled())]);
    let output = podsec(&["check", dir.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[enforce from the default: Namespace \"web\" has no pod-security labels and no admission configuration is known]"),
        "{text}"
    );
    std::fs::write(dir.join("psa.yaml"), ADMISSION_PRIVILEGED).unwrap();
    let output = podsec(&["check", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_label_impact_sees_the_workloads_of_the_whole_workspace_and_never_warns_for_privileged() {
    let dir = workspace_dir(
        "impact",
        &[
            ("ns.yaml", RESTRICTED_NS),
            ("apps/deploy.yaml", WEB),
            ("apps/other.yaml", CNI),
        ],
    );
    let uri = file_uri(&dir.join("ns.yaml"));
    let mut client = start(&dir, json!({}));
    client.open(&uri, RESTRICTED_NS, 1);
    let diagnostics = client.diagnostics(&uri, 1);
    let impact: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["code"] == "namespace-impact")
        .collect();
    assert_eq!(impact.len(), 1, "{diagnostics:?}");
    let message = impact[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "existing pods in namespace \"web\" violate the new PodSecurity enforce level \"restricted:latest\"\nDeployment \"web\": allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"
        ),
        "{message}"
    );
    // The CLI says the same of the same files.
    let output = podsec(&["check", dir.to_str().unwrap()]);
    assert!(
        stdout(&output).contains(message.lines().nth(1).unwrap()),
        "{}",
        stdout(&output)
    );

    // enforce: privileged allows every pod: no impact warning, in the editor or the CLI.
    let privileged = RESTRICTED_NS.replace("enforce: restricted", "enforce: privileged");
    client.change(&uri, 2, whole_text_change(&privileged));
    let diagnostics = client.diagnostics(&uri, 2);
    assert!(
        diagnostics.iter().all(|d| d["code"] != "namespace-impact"),
        "{diagnostics:?}"
    );
    std::fs::write(dir.join("ns.yaml"), &privileged).unwrap();
    let output = podsec(&["check", dir.to_str().unwrap()]);
    assert!(!stdout(&output).contains("existing pods"), "{}", stdout(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn code_lenses_show_each_objects_policy_and_each_namespaces_workloads() {
    let root = common::repo_root().join("tests/scenarios/cluster");
    let mut client = start(&root, json!({}));
    let lenses_of = |client: &mut LspClient, name: &str| -> Vec<(u64, String)> {
        let path = root.join(name);
        let uri = file_uri(&path);
        client.open(&uri, &std::fs::read_to_string(&path).unwrap(), 1);
        let response = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }));
        response["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["range"]["start"]["line"].as_u64().unwrap() + 1,
                    l["command"]["title"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let workloads = lenses_of(&mut client, "manifests/workloads.yaml");
    let expected: Vec<(u64, &str)> = vec![
        (
            3,
            "restricted:v1.33 (Namespace \"payments\", enforce label) · 1 error",
        ),
        (
            25,
            "baseline:latest (.podsec.yaml, namespaces.ingress.enforce; warn restricted:latest) · 4 warnings · 1 exempted (hover for why it holds)",
        ),
        (
            39,
            "restricted:latest (Namespace \"legacy\", enforce label; warn baseline:latest) · 4 errors",
        ),
        (
            50,
            "baseline:latest (admission configuration cluster/admission.yaml, defaults.enforce; warn restricted:latest; audit restricted:latest) · 4 warnings",
        ),
        (
            63,
            "baseline:latest (admission configuration cluster/admission.yaml, defaults.enforce; warn restricted:latest) · 1 error, 4 warnings · 1 exempted (hover for why it holds)",
        ),
        (
            84,
            "not checked: namespace \"kube-system\" is exempt in admission configuration cluster/admission.yaml",
        ),
        (
            93,
            "not checked: runtime class \"kata\" is exempt in admission configuration cluster/admission.yaml",
        ),
    ];
    let got: Vec<(u64, &str)> = workloads.iter().map(|(l, t)| (*l, t.as_str())).collect();
    assert_eq!(got, expected);
    let namespaces = lenses_of(&mut client, "manifests/namespaces.yaml");
    let got: Vec<(u64, &str)> = namespaces.iter().map(|(l, t)| (*l, t.as_str())).collect();
    assert_eq!(
        got,
        [
            (
                2,
                "enforce restricted:v1.33 · 0/1 workloads pass | warn restricted:v1.33 · 0/1 workloads pass"
            ),
            (
                10,
                "enforce restricted:latest · 0/1 workloads pass | warn baseline:latest · 1/1 workloads pass"
            ),
            (19, "audit restricted:latest · 0/1 workloads pass"),
        ]
    );
}

#[test]
fn one_action_fixes_every_problem_of_a_check_in_the_file() {
    let path = common::repo_root().join("examples/insecure-deployment.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = "file:///work/examples/insecure-deployment.yaml";
    let mut client = LspClient::spawn();
    client.initialize(None, json!({}));
    client.open(uri, &text, 1);
    let diagnostics = client.diagnostics(uri, 1);
    let count = |text: &str| {
        podsec_engine::analyze(text, &podsec_engine::Options::default())
            .objects
            .iter()
            .flat_map(|o| &o.violations)
            .filter(|v| v.check.id == "capabilities_restricted")
            .map(|v| v.locations.len())
            .sum::<usize>()
    };
    assert_eq!(
        count(&text),
        3,
        "two containers lack drop ALL, one adds NET_ADMIN"
    );
    let actions = code_actions(&mut client, uri, &diagnostics, Some("quickfix"));
    let all = actions
        .iter()
        .find(|a| a["title"] == "Fix all capabilities_restricted problems in this file (3 fixes) (unsafe)")
        .unwrap_or_else(|| panic!("{actions:#?}"));
    let fixed = apply_workspace_edit(&text, &all["edit"]);
    // Unsafe, since neither container is kept from root (dropping ALL may take what a root process needs):
    // both drop ALL, and NET_ADMIN goes.
    assert_eq!(count(&fixed), 0, "{fixed}");
    assert!(fixed.ends_with('\n') && !fixed.ends_with("\n\n"));
}

/// The exemption example of the issue in the editor: the Namespace label enforces restricted, so the
/// Deployment's exemption cannot hold — its finding stays an error, the exemption gets its own warning and
/// hover says why; once the project file declares the exported admission policy, the exemption holds and hover
/// says why.
#[test]
fn the_editor_shows_when_the_cluster_will_not_honour_an_exemption() {
    const APP: &str = "apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: web
  annotations: {podsec.dev/exempt.runAsNonRoot: \"the image runs as root until ticket 12\"}
spec:
  template:
    spec:
      securityContext: {seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: nginx
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
";
    for exported in [false, true] {
        let project = if exported {
            "enforcedByAdmissionPolicy: true\n"
        } else {
            "level: restricted\n"
        };
        let dir = workspace_dir(
            if exported {
                "exemption-exported"
            } else {
                "exemption-refused"
            },
            &[("app.yaml", APP), (".podsec.yaml", project)],
        );
        let uri = file_uri(&dir.join("app.yaml"));
        let mut client = start(&dir, json!({}));
        client.open(&uri, APP, 1);
        let diagnostics = client.diagnostics(&uri, 1);
        let seen: Vec<(String, u64)> = diagnostics
            .iter()
            .filter(|d| d["code"] != "namespace-impact")
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["severity"].as_u64().unwrap(),
                )
            })
            .collect();
        let hover = client.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 15, "character": 10 } }),
        );
        let markdown = hover["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if exported {
            assert_eq!(seen, Vec::<(String, u64)>::new(), "{diagnostics:#?}");
            assert!(
                markdown.contains("**⊘ runAsNonRoot** — restricted · exempted: the image runs as root until ticket 12 (annotation on the object) · holds: the cluster enforces podsec's exported admission policy"),
                "{markdown}"
            );
        } else {
            assert_eq!(
                seen,
                [
                    ("exemption-not-enforced".to_string(), 2),
                    ("runAsNonRoot".to_string(), 1)
                ],
                "{diagnostics:#?}"
            );
            assert!(
                markdown.contains("Exempted: the image runs as root until ticket 12 (annotation on the object) · does not hold: the cluster enforces `restricted:latest` (from Namespace \"web\", label pod-security.kubernetes.io/enforce)"),
                "{markdown}"
            );
        }
    }
}

/// While a Namespace's label value is retyped, its lens shows the policy its workloads were judged under
/// (the last valid labels, which the analysis keeps so that severities do not flip with each keystroke),
/// not PSA's reading of the half-typed value next to counts made under another policy.
#[test]
fn a_namespace_lens_keeps_the_policy_its_counts_come_from_while_a_label_is_retyped() {
    const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n";
    const PODS: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: plain, namespace: web}\nspec:\n  containers: [{name: app, image: nginx}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: host, namespace: web}\nspec:\n  hostNetwork: true\n  containers: [{name: app, image: nginx}]\n";
    let dir = workspace_dir("lens-retyped", &[("ns.yaml", NAMESPACE), ("pods.yaml", PODS)]);
    let mut client = start(&dir, json!({ "podsec": { "debounceMs": 0 } }));
    let (ns, pods) = (file_uri(&dir.join("ns.yaml")), file_uri(&dir.join("pods.yaml")));
    client.open(&pods, PODS, 1);
    client.open(&ns, NAMESPACE, 1);
    let column = NAMESPACE.lines().nth(5).unwrap().find("restricted").unwrap() as u64;
    let mut value = "restricted".to_string();
    let mut version = 1;
    let mut lens_after_typing = |client: &mut LspClient, typed: &str| -> String {
        version += 1;
        let end = column + value.len() as u64;
        client.change(
            &ns,
            version,
            json!([{ "range": { "start": { "line": 5, "character": column }, "end": { "line": 5, "character": end } }, "text": typed }]),
        );
        value = typed.to_string();
        let response = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": ns } }));
        response["result"][0]["command"]["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        lens_after_typing(&mut client, "privileged"),
        "enforce privileged:latest · 2/2 workloads pass"
    );
    // "b" on the way to "baseline": PSA would read it as restricted, which neither pod passes.
    assert_eq!(
        lens_after_typing(&mut client, "b"),
        "enforce privileged:latest · 2/2 workloads pass (its last valid labels, while a label is invalid)"
    );
    assert_eq!(
        lens_after_typing(&mut client, "baseline"),
        "enforce baseline:latest · 1/2 workloads pass | warn baseline:latest · 1/2 workloads pass"
    );
}
