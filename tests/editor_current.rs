//! The policy the editor shows stays current whatever changes it, without file watching: a
//! kustomization's `namespace:` typed and not saved, a workload fixed (saved or not) under a Namespace
//! whose label impact counts it, and the project file's own problems (expired and unused exemptions,
//! unknown check IDs) at their lines, as `podsec check` reports them. A monorepo: the workspace is the
//! repository, and a Namespace in another folder than the team's `.podsec.yaml` sets the team's policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::lsp::{LspClient, file_uri, workspace_dir};
use common::{podsec, stdout};
use serde_json::{Value, json};
use std::path::Path;

/// A client without file watching (Neovim 0.11 on Linux without inotify tools), on `dir`.
fn start(dir: &Path) -> LspClient {
    let mut client = LspClient::spawn();
    let folder = file_uri(dir);
    let response = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": folder, "workspaceFolders": [{ "uri": folder, "name": "ws" }],
                "capabilities": { "textDocument": { "publishDiagnostics": { "relatedInformation": true } } } }),
    );
    assert!(response.get("result").is_some(), "{response}");
    client.notify("initialized", json!({}));
    client
}

fn whole_text(text: &str) -> Value {
    json!([{ "text": text }])
}

/// Waits for the next publication of `uri` whose diagnostics satisfy `predicate`, and returns them.
fn published(client: &mut LspClient, uri: &str, predicate: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let message = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && predicate(m["params"]["diagnostics"].as_array().unwrap())
    });
    message["params"]["diagnostics"].as_array().unwrap().clone()
}

/// The severity of the Deployment's runAsNonRoot finding (0: none), which tells the policy in force.
fn run_as_non_root(diagnostics: &[Value]) -> u64 {
    diagnostics
        .iter()
        .find(|d| d["code"] == "runAsNonRoot")
        .map_or(0, |d| d["severity"].as_u64().unwrap())
}

fn has_impact(diagnostics: &[Value]) -> bool {
    diagnostics.iter().any(|d| d["code"] == "namespace-impact")
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: x\n";
const NAMESPACES: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n";
const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nresources:\n  - deploy.yaml\n";

#[test]
fn a_kustomization_namespace_typed_and_not_saved_sets_the_policy_of_its_resources() {
    let dir = workspace_dir(
        "kustomize-live",
        &[
            ("namespaces.yaml", NAMESPACES),
            ("app/kustomization.yaml", KUSTOMIZATION),
            ("app/deploy.yaml", DEPLOYMENT),
        ],
    );
    let deploy = file_uri(&dir.join("app/deploy.yaml"));
    let kustomization = file_uri(&dir.join("app/kustomization.yaml"));
    let mut client = start(&dir);
    client.open(&deploy, DEPLOYMENT, 1);
    assert_eq!(
        run_as_non_root(&client.diagnostics(&deploy, 1)),
        1,
        "prod enforces restricted"
    );
    // `podsec check` agrees on the saved files.
    assert!(stdout(&podsec(&["check", dir.to_str().unwrap()])).contains("runAsNonRoot"));

    // Typed, not saved: the resources of the kustomization move to dev (baseline) at once.
    client.open(&kustomization, KUSTOMIZATION, 1);
    client.change(
        &kustomization,
        2,
        whole_text(&KUSTOMIZATION.replace("prod", "dev")),
    );
    published(&mut client, &deploy, |d| run_as_non_root(d) == 0);
    std::fs::write(
        dir.join("app/kustomization.yaml"),
        KUSTOMIZATION.replace("prod", "dev"),
    )
    .unwrap();
    assert!(!stdout(&podsec(&["check", dir.to_str().unwrap()])).contains("runAsNonRoot"));
    std::fs::write(dir.join("app/kustomization.yaml"), KUSTOMIZATION).unwrap();

    // Closed without saving: the file on disk (prod) holds again.
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": kustomization } }),
    );
    published(&mut client, &deploy, |d| run_as_non_root(d) == 1);
    let _ = std::fs::remove_dir_all(&dir);
}

const WEB_NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n";
const PRIVILEGED_WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: x\n        securityContext: {privileged: true}\n";

#[test]
fn the_namespace_impact_follows_its_workloads_saved_or_not() {
    let dir = workspace_dir(
        "impact-follows",
        &[("ns.yaml", WEB_NAMESPACE), ("deploy.yaml", PRIVILEGED_WEB)],
    );
    let ns = file_uri(&dir.join("ns.yaml"));
    let deploy = file_uri(&dir.join("deploy.yaml"));
    let mut client = start(&dir);
    client.open(&ns, WEB_NAMESPACE, 1);
    assert!(
        has_impact(&client.diagnostics(&ns, 1)),
        "the privileged Deployment violates baseline"
    );
    client.open(&deploy, PRIVILEGED_WEB, 1);
    client.diagnostics(&deploy, 1);

    // Fixed in the editor, not saved: the Namespace's warning goes, as its lens counts.
    let fixed = PRIVILEGED_WEB.replace("privileged: true", "privileged: false");
    client.forget();
    client.change(&deploy, 2, whole_text(&fixed));
    published(&mut client, &ns, |d| !has_impact(d));
    let lens = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": ns } }));
    let titles = lens["result"].to_string();
    assert!(titles.contains("1/1"), "{titles}");

    // Saved and closed: still gone; `podsec check` agrees.
    std::fs::write(dir.join("deploy.yaml"), &fixed).unwrap();
    client.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": deploy } }),
    );
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": deploy } }),
    );
    client.forget();
    client.change(&ns, 2, whole_text(&format!("{WEB_NAMESPACE}# edited\n")));
    assert!(!has_impact(&client.diagnostics(&ns, 2)));
    assert!(!stdout(&podsec(&["check", dir.to_str().unwrap()])).contains("existing pods"));

    // Broken again in an unsaved buffer: the warning comes back; closed without saving: gone again.
    client.open(&deploy, &fixed, 1);
    client.change(&deploy, 2, whole_text(PRIVILEGED_WEB));
    published(&mut client, &ns, has_impact);
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": deploy } }),
    );
    published(&mut client, &ns, |d| !has_impact(d));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `(code, 0-based line)` of the diagnostics.
fn codes_and_lines(diagnostics: &[Value]) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

/// `(code, 1-based line)` of the CLI's lines about `.podsec.yaml` (`.podsec.yaml:5:5: code: …`).
fn cli_project_problems(output: &str) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(".podsec.yaml:")?;
            let mut parts = rest.splitn(4, ':');
            let line = parts.next()?.parse().ok()?;
            let _column = parts.next()?;
            Some((parts.next()?.trim().to_string(), line))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_problem_of_the_project_file_that_the_cli_reports_is_a_diagnostic_at_its_line() {
    // Line 3: used; line 5: expired; line 8: matches nothing; line 10: no such check.
    let valid = "level: restricted\nexemptions:\n  - check: privileged\n    reason: the CNI needs it\n  - check: hostNamespaces\n    expires: 2020-01-01\n    reason: migrating\n  - check: runAsUser\n    reason: nothing runs as root here\n";
    let project = format!("{valid}  - check: notACheck\n    reason: typo\n");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: cni}\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: x\n    securityContext: {privileged: true}\n";
    let dir = workspace_dir(
        "project-problems",
        &[(".podsec.yaml", valid), ("team/pod.yaml", pod)],
    );
    // The CLI, run where the project file is: expired and unused exemptions after the run…
    let cli = |dir: &Path| {
        let output = common::podsec_command(&["check", "."])
            .current_dir(dir)
            .output()
            .unwrap();
        let mut found = cli_project_problems(&stdout(&output));
        found.extend(cli_project_problems(&common::stderr(&output)));
        found.sort();
        found
    };
    let expired_and_unused = vec![
        ("expired-exemption".to_string(), 5),
        ("unused-exemption".to_string(), 8),
    ];
    assert_eq!(cli(&dir), expired_and_unused);
    // …and an unknown check, which stops the run.
    std::fs::write(dir.join(".podsec.yaml"), &project).unwrap();
    assert_eq!(cli(&dir), vec![("invalid-exemption".to_string(), 10)]);

    // The editor shows all of them on the open project file, at the same lines (0-based in LSP).
    let project_uri = file_uri(&dir.join(".podsec.yaml"));
    let pod_uri = file_uri(&dir.join("team/pod.yaml"));
    let mut client = start(&dir);
    client.open(&project_uri, &project, 1);
    let found = codes_and_lines(&client.diagnostics(&project_uri, 1));
    assert_eq!(
        found,
        vec![
            ("expired-exemption".to_string(), 4),
            ("invalid-exemption".to_string(), 9),
            ("unused-exemption".to_string(), 7),
        ],
    );

    // The pod now runs as root in the editor, unsaved: the runAsUser exemption is used, and no longer
    // diagnosed.
    let as_root = pod.replace("privileged: true", "privileged: true, runAsUser: 0");
    client.open(&pod_uri, pod, 1);
    client.change(&pod_uri, 2, whole_text(&as_root));
    let found = published(&mut client, &project_uri, |d| {
        d.iter().all(|d| d["code"] != "unused-exemption")
    });
    assert_eq!(codes_and_lines(&found).len(), 2, "{found:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn in_a_monorepo_a_namespace_elsewhere_in_the_repository_sets_a_teams_policy() {
    // The repository is the workspace (Neovim's config roots at `.git`): the team's .podsec.yaml is in
    // teams/payments, its Namespace in platform/.
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n";
    let dir = workspace_dir(
        "monorepo",
        &[
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("platform/namespaces.yaml", ns),
            ("teams/payments/.podsec.yaml", "level: restricted\n"),
            (
                "teams/payments/deploy.yaml",
                &PRIVILEGED_WEB.replace("namespace: web", "namespace: payments"),
            ),
        ],
    );
    let deploy_path = dir.join("teams/payments/deploy.yaml");
    let deploy = file_uri(&deploy_path);
    let text = std::fs::read_to_string(&deploy_path).unwrap();
    let mut client = start(&dir);
    client.open(&deploy, &text, 1);
    let diagnostics = client.diagnostics(&deploy, 1);
    // The Namespace's label wins over the project file's level, as on the command line.
    assert!(
        diagnostics.iter().all(|d| d["severity"] != 1),
        "privileged from platform/namespaces.yaml: {diagnostics:?}"
    );
    let output = podsec(&["check", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stdout(&output));

    // Rooted at the team's folder instead (what the old root markers gave), the Namespace is not seen.
    let mut narrow = start(&dir.join("teams/payments"));
    narrow.open(&deploy, &text, 1);
    let diagnostics = narrow.diagnostics(&deploy, 1);
    assert!(diagnostics.iter().any(|d| d["severity"] == 1), "{diagnostics:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
