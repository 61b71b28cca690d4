//! `podsec check` and `podsec explain` as a user runs them: the real binary, real files, exit codes,
//! and the exact text, JSON and SARIF they print.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{podsec, podsec_with_stdin, repo_root, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("podsec-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, relative: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn text_output_groups_findings_per_object_with_psa_message() {
    let output = podsec(&[
        "check",
        "examples/insecure-deployment.yaml",
        "tests/data/multi.yaml",
        "tests/data/crlf-flow.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("text_output", stdout(&output));
}

#[test]
fn a_clean_file_exits_zero_and_says_so() {
    let output = podsec(&["check", "examples/restricted-pod.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "✓ 1 pod-bearing object passes restricted:latest (1 file checked).\n"
    );
}

#[test]
fn level_and_version_flags_select_the_checks() {
    let baseline = podsec(&[
        "check",
        "--level",
        "baseline",
        "examples/insecure-deployment.yaml",
    ]);
    let text = stdout(&baseline);
    assert!(
        text.contains("hostPorts:") && text.contains("privileged:") && text.contains("hostPathVolumes:"),
        "{text}"
    );
    assert!(!text.contains("runAsNonRoot"), "{text}");
    assert!(text.contains("\"baseline:latest\""), "{text}");

    let old = podsec(&[
        "check",
        "--version",
        "v1.7",
        "--format",
        "json",
        "examples/insecure-deployment.yaml",
    ]);
    let json: Value = serde_json::from_str(&stdout(&old)).unwrap();
    let ids: Vec<&str> = json["files"][0]["objects"][0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "capabilities_baseline",
            "hostPorts",
            "privileged",
            "restrictedVolumes",
            "runAsNonRoot"
        ]
    );
    assert_eq!(json["files"][0]["objects"][0]["policy"], "restricted:v1.7");

    let privileged = podsec(&[
        "check",
        "--level",
        "privileged",
        "examples/insecure-deployment.yaml",
    ]);
    assert_eq!(privileged.status.code(), Some(0));
}

#[test]
fn invalid_level_or_version_is_a_usage_error_naming_the_valid_forms() {
    let output = podsec(&["check", "--level", "Restricted", "examples"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "podsec: invalid level \"Restricted\": must be one of privileged, baseline, restricted\n"
    );
    let output = podsec(&["check", "--version", "v1.25.0", "examples"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "podsec: invalid version \"v1.25.0\": must be \"latest\" or \"v1.x\"\n"
    );
    let output = podsec(&["check", "--format", "xml", "examples"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("must be one of text, json, sarif"));
    assert_eq!(podsec(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn json_positions_count_characters_after_non_ascii_and_crlf() {
    let output = podsec(&[
        "check",
        "--format",
        "json",
        "tests/data/multi.yaml",
        "tests/data/crlf-flow.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let multi = &json["files"][0];
    assert_eq!(multi["problems"][0]["code"], "syntax-error");
    assert_eq!(multi["problems"][0]["line"], 15);
    let cronjob = &multi["objects"][1];
    assert_eq!(cronjob["kind"], "CronJob");
    assert_eq!(cronjob["name"], "nightly");
    let location = &cronjob["violations"][0]["locations"][0];
    assert_eq!(
        location["path"],
        "spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsUser"
    );
    // `runAsUser: 0` after `{"名前": 1, …`: columns count characters, not bytes.
    let line = std::fs::read_to_string(repo_root().join("tests/data/multi.yaml"))
        .unwrap()
        .lines()
        .nth(37)
        .unwrap()
        .to_string();
    let column = line[..line.find("runAsUser").unwrap()].chars().count() + 1;
    assert!(
        column < line.find("runAsUser").unwrap() + 1,
        "the line has multi-byte characters before the field"
    );
    assert_eq!(
        location["start"],
        serde_json::json!({"line": 38, "column": column})
    );
    assert_eq!(
        location["end"],
        serde_json::json!({"line": 38, "column": column + "runAsUser: 0".len()})
    );

    let crlf = &json["files"][1]["objects"][0];
    let location = &crlf["violations"][0]["locations"][0];
    assert_eq!(
        location["path"],
        "spec.containers[0].securityContext.allowPrivilegeEscalation"
    );
    assert_eq!(location["start"], serde_json::json!({"line": 8, "column": 43}));
    assert_eq!(location["end"], serde_json::json!({"line": 8, "column": 73}));
    assert_eq!(json["summary"]["violations"], 2);
}

#[test]
fn sarif_has_the_shape_code_scanning_expects() {
    let output = podsec(&[
        "check",
        "--format",
        "sarif",
        "examples/insecure-deployment.yaml",
        "tests/data/multi.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let sarif: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 29);
    for rule in &rules[..19] {
        let id = rule["id"].as_str().unwrap();
        assert!(podsec_engine::check_by_id(id).is_some(), "{id}");
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## How to comply")
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 13);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert_eq!(result["level"], "error");
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri == "examples/insecure-deployment.yaml" || uri == "tests/data/multi.yaml",
            "{uri}"
        );
        let region = &location["region"];
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[key].as_u64().unwrap() >= 1, "{key}");
        }
    }
    assert!(results.iter().any(|r| r["ruleId"] == "syntax-error"));
}

#[test]
fn stdin_is_read_with_a_dash() {
    let yaml = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let output = podsec_with_stdin(&["check", "-"], Some(&yaml));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("<stdin>:17:9: allowPrivilegeEscalation:"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn directories_are_walked_for_yaml_files_only() {
    let dir = TempDir::new("walk");
    let pod = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    dir.write("b/deep/app.yml", &pod);
    dir.write("a.yaml", &pod);
    dir.write("notes.txt", &pod);
    dir.write(".hidden/skip.yaml", &pod);
    let output = podsec(&["check", "--format", "json", dir.path().to_str().unwrap()]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let paths: Vec<String> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .strip_prefix(dir.path().to_str().unwrap())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(paths, ["/a.yaml", "/b/deep/app.yml"]);
}

#[test]
fn unreadable_inputs_exit_two_and_the_rest_is_still_checked() {
    let dir = TempDir::new("io");
    let invalid = dir.write("latin1.yaml", b"kind: Pod\nmetadata: {name: caf\xe9}\n");
    let output = podsec(&[
        "check",
        "missing.yaml",
        invalid.to_str().unwrap(),
        "examples/insecure-deployment.yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(
        text.contains("latin1.yaml: error: invalid UTF-8 at byte 30"),
        "{text}"
    );
    assert!(
        text.contains("missing.yaml: error: No such file or directory"),
        "{text}"
    );
    assert!(
        text.contains("examples/insecure-deployment.yaml:20:11: privileged:"),
        "{text}"
    );
}

#[test]
fn hostile_and_empty_inputs_give_clear_errors_not_crashes() {
    let dir = TempDir::new("hostile");
    let mut laughs = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: lol}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        laughs.push_str(&format!(
            "x{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(", ")
        ));
    }
    dir.write("laughs.yaml", laughs.as_bytes());
    dir.write("deep.yaml", "[".repeat(200_000).as_bytes());
    dir.write("empty.yaml", b"");
    dir.write("comments.yaml", b"# nothing here\n---\n---\n");
    dir.write("junk.yaml", &(0u8..=127).cycle().take(4096).collect::<Vec<u8>>());
    let output = podsec(&["check", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let by_name = |name: &str| {
        json["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("laughs.yaml")["problems"][0]["code"], "limit-exceeded");
    assert!(
        by_name("laughs.yaml")["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases expand")
    );
    assert_eq!(by_name("deep.yaml")["problems"][0]["code"], "limit-exceeded");
    assert_eq!(by_name("empty.yaml")["problems"], serde_json::json!([]));
    assert_eq!(by_name("comments.yaml")["objects"], serde_json::json!([]));
    assert_eq!(by_name("junk.yaml")["problems"][0]["code"], "syntax-error");
}

#[test]
fn explain_lists_and_documents_every_check() {
    let list = podsec(&["explain"]);
    assert_eq!(list.status.code(), Some(0));
    let text = stdout(&list);
    assert_eq!(text.lines().count(), 20, "{text}");
    for check in podsec_engine::CHECKS {
        assert!(text.contains(check.id), "{}", check.id);
    }
    let one = podsec(&["explain", "runAsNonRoot"]);
    assert_eq!(one.status.code(), Some(0));
    insta::assert_snapshot!("explain_runAsNonRoot", stdout(&one));
    let unknown = podsec(&["explain", "runAsRoot"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown check \"runAsRoot\""));
}

#[test]
fn fix_rewrites_files_atomically_keeping_permissions_and_reports_what_is_left() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("fix");
    let original = std::fs::read(repo_root().join("tests/fixes/block-comments.yaml")).unwrap();
    let path = dir.write("deploy.yaml", &original);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let output = podsec(&["fix", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let fixed = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!("fix_block_comments_file", fixed);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );
    assert!(
        stderr(&output)
            .contains("applied 6 fixes:\n  - Set allowPrivilegeEscalation: false on container \"app\""),
        "{}",
        stderr(&output)
    );
    // A second run finds nothing to do.
    let again = podsec(&["check", path.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn fix_diff_and_stdin_leave_files_alone() {
    let dir = TempDir::new("fixdiff");
    let original = std::fs::read(repo_root().join("tests/fixes/baseline-unsafe.yaml")).unwrap();
    let path = dir.write("pod.yaml", &original);
    let output = podsec(&["fix", "--diff", "--unsafe", path.to_str().unwrap()]);
    assert_eq!(std::fs::read(&path).unwrap(), original, "--diff must not write");
    let diff = stdout(&output);
    assert!(
        diff.starts_with(&format!("--- {0}\n+++ {0}\n@@", path.display())),
        "{diff}"
    );
    assert!(diff.contains("-      privileged: true\n"), "{diff}");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // Without --unsafe, what is left is reported with the reason, and the exit status says so.
    let output = podsec_with_stdin(&["fix", "-"], Some(&original));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output).as_bytes(),
        &original[..],
        "no safe fix applies to this pod"
    );
    let report = stderr(&output);
    assert!(report.contains("<stdin>:35:7: privileged: privileged (container \"app\" must not set securityContext.privileged=true) [unsafe fix available with --unsafe: Remove privileged: true on container \"app\"]"), "{report}");
}

#[test]
fn directory_walks_stay_inside_the_given_paths() {
    let outside = TempDir::new("outside");
    outside.write(
        "secret.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: outside}\nspec: {containers: [{name: c, image: x}]}\n",
    );
    let dir = TempDir::new("inside");
    dir.write(
        "ok.yaml",
        &std::fs::read(repo_root().join("examples/restricted-pod.yaml")).unwrap(),
    );
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    let output = podsec(&["check", "--format", "json", dir.path().to_str().unwrap()]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let paths: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].ends_with("/ok.yaml"));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn helm_templates_give_no_syntax_noise_and_are_analysed_where_possible() {
    let output = podsec(&["check", "--format", "json", "tests/helm/web"]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let file = |name: &str| {
        json["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    // toYaml inserts the pod's securityContext: skipped with one information message, no syntax error.
    let daemonset = file("daemonset.yaml");
    assert_eq!(daemonset["problems"].as_array().unwrap().len(), 1);
    assert_eq!(daemonset["problems"][0]["code"], "helm-template");
    assert_eq!(daemonset["problems"][0]["severity"], "information");
    assert_eq!(daemonset["objects"], serde_json::json!([]));
    // Inline actions are neutralised: analysed, located in the template, messages name the actions.
    let deployment = file("deployment.yaml");
    assert_eq!(deployment["problems"], serde_json::json!([]));
    let privileged = deployment["objects"][0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["check"] == "privileged")
        .unwrap()
        .clone();
    assert_eq!(
        privileged["detail"],
        "container \"{{ .Chart.Name }}\" must not set securityContext.privileged=true"
    );
    assert_eq!(
        privileged["locations"][0]["start"],
        serde_json::json!({"line": 18, "column": 11})
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn rendered_helm_output_is_attributed_to_its_templates() {
    let rendered = std::fs::read(repo_root().join("tests/helm/rendered.yaml")).unwrap();
    let text = stdout(&podsec_with_stdin(&["check", "-"], Some(&rendered)));
    assert!(
        text.starts_with("web/templates/deployment.yaml (rendered <stdin>:27:11): privileged: privileged"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&stdout(&podsec_with_stdin(
        &["check", "--format", "json", "-"],
        Some(&rendered),
    )))
    .unwrap();
    assert_eq!(
        json["files"][0]["objects"][0]["source"],
        "web/templates/deployment.yaml"
    );
    let sarif: Value = serde_json::from_str(&stdout(&podsec_with_stdin(
        &["check", "--format", "sarif", "-"],
        Some(&rendered),
    )))
    .unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0];
    assert_eq!(
        location["physicalLocation"]["artifactLocation"]["uri"],
        "web/templates/deployment.yaml"
    );
    assert_eq!(
        location["properties"]["renderedLocation"]["artifactLocation"]["uri"],
        "stdin"
    );
    assert_eq!(
        location["properties"]["renderedLocation"]["region"]["startLine"],
        27
    );
}

#[test]
fn psp_reports_the_level_each_policy_guarantees() {
    let output = podsec(&["psp", "--format", "json", "tests/psp"]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json[0]["name"], "restricted");
    assert_eq!(json[0]["level"], "restricted");
    assert_eq!(
        json[0]["no_counterpart"],
        serde_json::json!([
            "spec.readOnlyRootFilesystem",
            "spec.fsGroup",
            "spec.supplementalGroups"
        ])
    );
    assert_eq!(json[1]["name"], "permissive");
    assert_eq!(json[1]["level"], "privileged");
    let fields: Vec<&str> = json[1]["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "spec.privileged",
            "spec.hostNetwork",
            "spec.volumes",
            "spec.seLinux.rule"
        ]
    );
    // `check` warns on the removed API.
    let check = podsec(&["check", "tests/psp"]);
    assert!(stdout(&check).contains("tests/psp/policies.yaml:24:1: psp-removed: warning: PodSecurityPolicy \"permissive\" was removed in Kubernetes v1.25"));
    assert_eq!(check.status.code(), Some(0));
}
