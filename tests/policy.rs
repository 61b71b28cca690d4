//! Policy from where users keep it: scenario directories with Namespace labels, a project file, an
//! admission configuration and exemptions, checked through the real binary with a fixed clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{podsec, stdout as text};
use serde_json::Value;

const CLUSTER: &str = "tests/scenarios/cluster";

#[test]
fn the_cluster_scenario_reads_every_source() {
    let output = podsec(&["check", CLUSTER]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("cluster_text", text(&output));
}

/// `(object, check) → (severity, policy, source)` from the JSON output.
fn findings(json: &Value) -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    for file in json["files"].as_array().unwrap() {
        for object in file["objects"].as_array().unwrap() {
            let name = object["name"].as_str().unwrap_or("").to_string();
            for v in object["violations"].as_array().unwrap() {
                let mode = v["mode"].as_str().unwrap();
                let source = object["modes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["mode"] == mode)
                    .unwrap()["source"]
                    .as_str()
                    .unwrap()
                    .to_string();
                out.push((
                    name.clone(),
                    v["check"].as_str().unwrap().to_string(),
                    v["severity"].as_str().unwrap().to_string(),
                    v["policy"].as_str().unwrap().to_string(),
                    source,
                ));
            }
        }
    }
    out
}

fn find<'a>(
    all: &'a [(String, String, String, String, String)],
    object: &str,
    check: &str,
) -> &'a (String, String, String, String, String) {
    all.iter()
        .find(|f| f.0 == object && f.1 == check)
        .unwrap_or_else(|| panic!("{object} {check} not in {all:#?}"))
}

#[test]
fn severities_follow_the_mode_that_reports_each_finding() {
    let output = podsec(&["check", "--format", "json", CLUSTER]);
    let json: Value = serde_json::from_str(&text(&output)).unwrap();
    let all = findings(&json);
    // Namespace label, enforce restricted:v1.33: an error, with its source.
    assert_eq!(find(&all, "api", "sysctls").2, "error");
    assert_eq!(find(&all, "api", "sysctls").3, "restricted:v1.33");
    assert_eq!(
        find(&all, "api", "sysctls").4,
        "Namespace \"payments\", label pod-security.kubernetes.io/enforce"
    );
    // enforce=baseline, warn=restricted from the project file: restricted-only findings are warnings.
    assert_eq!(find(&all, "ingress-nginx", "runAsNonRoot").2, "warning");
    assert_eq!(
        find(&all, "ingress-nginx", "runAsNonRoot").4,
        ".podsec.yaml, namespaces.ingress.warn"
    );
    assert!(
        !all.iter().any(|f| f.0 == "ingress-nginx" && f.1 == "hostPorts"),
        "exempted by the project file"
    );
    // An invalid enforce label fails closed: restricted, errors.
    assert_eq!(find(&all, "old", "runAsNonRoot").2, "error");
    assert_eq!(find(&all, "old", "runAsNonRoot").3, "restricted:latest");
    // No labels: the admission configuration's defaults, baseline errors and restricted warnings.
    assert_eq!(find(&all, "web", "hostPorts").2, "error");
    assert_eq!(
        find(&all, "web", "hostPorts").4,
        "admission configuration tests/scenarios/cluster/cluster/admission.yaml, defaults.enforce"
    );
    assert_eq!(find(&all, "web", "allowPrivilegeEscalation").2, "warning");
    assert!(
        !all.iter().any(|f| f.0 == "web" && f.1 == "privileged"),
        "exempted by annotation"
    );
    assert!(
        !all.iter().any(|f| f.0 == "dns" || f.0 == "sandboxed"),
        "exempt namespace and runtime class"
    );
    assert!(
        !all.iter().any(|f| f.0 == "skipped"),
        "vendor/ is skipped by the project file"
    );

    let problems: Vec<(String, String)> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["config_problems"].as_array().unwrap().iter().map(|p| {
                (
                    p["code"].as_str().unwrap().to_string(),
                    p["severity"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    for expected in [
        ("invalid-label", "error"),
        ("namespace-impact", "warning"),
        ("invalid-exemption", "error"),
        ("invalid-exemption", "warning"),
        ("expired-exemption", "warning"),
        ("unused-exemption", "warning"),
        ("ignored-setting", "information"),
    ] {
        assert!(
            problems.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} not in {problems:?}"
        );
    }

    let sarif: Value =
        serde_json::from_str(&text(&podsec(&["check", "--format", "sarif", CLUSTER]))).unwrap();
    let levels: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    for level in ["error", "warning"] {
        assert!(levels.contains(&level), "{level}");
    }
    // The ignored setting is information: shown by the text and JSON formats, no SARIF result.
    assert!(!levels.contains(&"note"), "{levels:?}");
}

#[test]
fn command_line_flags_override_every_source() {
    let output = podsec(&["check", "--level", "baseline", "--format", "json", CLUSTER]);
    let json: Value = serde_json::from_str(&text(&output)).unwrap();
    let all = findings(&json);
    assert!(
        all.iter()
            .all(|f| f.2 == "error" && f.3 == "baseline:latest" && f.4 == "the command line (--level)"),
        "{all:#?}"
    );
    assert!(all.iter().any(|f| f.0 == "web" && f.1 == "hostPorts"));
}

#[test]
fn exempted_findings_are_listed_on_request() {
    let output = podsec(&["check", "--show-exempted", CLUSTER]);
    let out = text(&output);
    assert!(out.contains("workloads.yaml:35:37: hostPorts: exempted (the ingress controller receives traffic on the node's ports (.podsec.yaml)): hostPort (container \"controller\" uses hostPort 80)"), "{out}");
    assert!(
        out.contains(
            "privileged: exempted (the GPU driver needs device access (annotation on the object)): privileged"
        ),
        "{out}"
    );
}

#[test]
fn suggest_level_names_the_strictest_passing_policy() {
    let output = podsec(&[
        "check",
        "--suggest-level",
        "tests/scenarios/cluster/manifests/workloads.yaml",
        "examples/restricted-pod.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!("suggest_level", text(&output));
}

#[test]
fn a_broken_project_file_is_a_clear_usage_error() {
    let output = podsec(&["check", "tests/scenarios/bad-project"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        "podsec: the project file has errors:\n\
         tests/scenarios/bad-project/.podsec.yaml:1:1: invalid-config: level: invalid level \"strict\": must be one of privileged, baseline, restricted\n\
         tests/scenarios/bad-project/.podsec.yaml:2:1: unknown-key: unknown key \"colour\"; the keys are level, version, admissionConfiguration, namespaces, skip, exemptions, enforcedByAdmissionPolicy, helm, charts\n\
         tests/scenarios/bad-project/.podsec.yaml:4:5: invalid-exemption: the exemption from hostPorts needs a `reason`: say why the workload needs it\n"
    );
    // --config picks another project file instead.
    let output = podsec(&[
        "check",
        "--config",
        "tests/scenarios/cluster/.podsec.yaml",
        "tests/scenarios/bad-project/pod.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn warnings_alone_do_not_fail_the_run() {
    let dir = std::env::temp_dir().join(format!("podsec-policy-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("all.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels: {pod-security.kubernetes.io/warn: restricted}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec: {containers: [{name: c, image: x}]}\n",
    )
    .unwrap();
    let output = podsec(&["check", dir.to_str().unwrap()]);
    let out = text(&output);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains("runAsNonRoot: warning: runAsNonRoot != true"),
        "{out}"
    );
    assert!(
        out.ends_with("Found 0 errors, 4 warnings in 1 object (1 file checked against restricted:latest).\n"),
        "{out}"
    );
}

#[test]
fn a_kustomization_namespace_sets_the_policy_of_its_resources() {
    let output = podsec(&["check", "--format", "json", "tests/scenarios/kustomize"]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_str(&text(&output)).unwrap();
    let object = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["objects"].as_array().unwrap().clone())
        .next()
        .unwrap();
    assert_eq!(object["namespace"], "payments");
    assert_eq!(
        object["modes"][0]["source"],
        "Namespace \"payments\", label pod-security.kubernetes.io/enforce"
    );
    assert_eq!(object["policy"], "baseline:latest");
    // Checked on its own, the file still gets its namespace from the kustomization (the Namespace object,
    // not being among the checked files, does not set the policy then).
    let alone = podsec(&[
        "check",
        "--format",
        "json",
        "tests/scenarios/kustomize/base/deployment.yaml",
    ]);
    let json: Value = serde_json::from_str(&text(&alone)).unwrap();
    assert_eq!(json["files"][0]["objects"][0]["namespace"], "payments");
}
