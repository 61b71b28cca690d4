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

use common::{podsec, podsec_command, podsec_with_stdin, repo_root, run_within, stderr, stdout};
use serde_json::Value;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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
        "error: invalid value 'Restricted' for '--level <LEVEL>'\n  [possible values: privileged, baseline, restricted]\n\n  tip: a similar value exists: 'restricted'\n\nFor more information, try '--help'.\n"
    );
    let output = podsec(&["check", "--policy-version", "v1.25.0", "examples"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: invalid value 'v1.25.0' for '--policy-version <VERSION>': invalid version \"v1.25.0\": must be \"latest\" or \"v1.x\"\n\nFor more information, try '--help'.\n"
    );
    let output = podsec(&["check", "--format", "xml", "examples"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("[possible values: text, json, sarif, github, gitlab, junit]"),
        "{}",
        stderr(&output)
    );
    let output = podsec(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("error: unrecognized subcommand 'frobnicate'"));
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
    assert_eq!(multi["problems"][0]["line"], 40);
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
        .nth(36)
        .unwrap()
        .to_string();
    let column = line[..line.find("runAsUser").unwrap()].chars().count() + 1;
    assert!(
        column < line.find("runAsUser").unwrap() + 1,
        "the line has multi-byte characters before the field"
    );
    assert_eq!(
        location["start"],
        serde_json::json!({"line": 37, "column": column})
    );
    assert_eq!(
        location["end"],
        serde_json::json!({"line": 37, "column": column + "runAsUser: 0".len()})
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
    // One rule per check, in CHECKS order, then one per podsec problem code, each with help.
    let checks = podsec_engine::CHECKS.len();
    assert!(rules.len() > checks + 10, "{}", rules.len());
    for rule in &rules[checks..] {
        let id = rule["id"].as_str().unwrap();
        assert!(podsec_engine::check_by_id(id).is_none(), "{id}");
        assert!(
            !rule["help"]["text"].as_str().unwrap_or("").is_empty(),
            "{id} has help"
        );
    }
    for rule in &rules[..checks] {
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
fn integral_floats_are_the_integers_the_api_server_reads() {
    // sigs.k8s.io/yaml sends `0.0` as `0` and `80.0` as `80`: restricted and baseline deny them.
    let restricted = std::fs::read_to_string(repo_root().join("examples/restricted-pod.yaml")).unwrap();
    for value in ["0.0", "0e0", "-0.0", "!!float 0", ".0"] {
        let pod = restricted.replacen(
            "  securityContext:\n",
            &format!("  securityContext:\n    runAsUser: {value}\n"),
            1,
        );
        let output = podsec_with_stdin(&["check", "-"], Some(pod.as_bytes()));
        assert_eq!(output.status.code(), Some(1), "{value}: {}", stdout(&output));
        assert!(
            stdout(&output).contains("<stdin>:8:5: runAsUser:"),
            "{value}: {}",
            stdout(&output)
        );
    }
    for port in ["80.0", "8e1", "080"] {
        let pod = restricted.replace(
            "    image: registry.k8s.io/pause\n",
            &format!(
                "    image: registry.k8s.io/pause\n    ports: [{{containerPort: 80, hostPort: {port}}}]\n"
            ),
        );
        let output = podsec_with_stdin(&["check", "--level", "baseline", "-"], Some(pod.as_bytes()));
        assert_eq!(output.status.code(), Some(1), "{port}: {}", stdout(&output));
        assert!(
            stdout(&output).contains("hostPorts"),
            "{port}: {}",
            stdout(&output)
        );
    }
    // A fraction is no integer: the API server refuses the object, podsec has no verdict to add.
    let pod = restricted.replacen(
        "  securityContext:\n",
        "  securityContext:\n    runAsUser: 0.5\n",
        1,
    );
    let output = podsec_with_stdin(&["check", "-"], Some(pod.as_bytes()));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn json_manifests_and_utf16_files_are_read_as_kubectl_reads_them() {
    let dir = TempDir::new("json");
    // A JSON stream (two objects, `\/` and a surrogate pair in strings); `0.0` is the integer 0 to the API.
    let pod = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j\/\ud83d\ude00"},
 "spec": {"securityContext": {"runAsUser": 0.0},
  "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": true}}]}}
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}
"#;
    dir.write("app/pod.json", pod.as_bytes());
    dir.write(
        "app/package.json",
        br#"{"name": "not-a-manifest", "version": "1.0.0"}"#,
    );
    dir.write(
        "app/tsconfig.json",
        b"{\n  // comments: no JSON, and no manifest\n  \"compilerOptions\": {}\n}\n",
    );
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: u}\nspec:\n  containers:\n  - {name: c, image: x, securityContext: {privileged: true}}\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(yaml.encode_utf16().flat_map(u16::to_le_bytes));
    dir.write("app/utf16.yaml", &utf16);
    let output = podsec(&[
        "check",
        "--level",
        "baseline",
        "--format",
        "json",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let files: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(files, ["pod.json", "utf16.yaml"]);
    let pod = &json["files"][0]["objects"][0];
    assert_eq!(pod["name"], "j/😀");
    assert_eq!(pod["violations"][0]["check"], "privileged", "{pod}");
    assert_eq!(
        json["files"][1]["objects"][0]["violations"][0]["check"],
        "privileged"
    );
    // Restricted reads `runAsUser: 0.0` as 0.
    let output = podsec(&["check", dir.path().join("app/pod.json").to_str().unwrap()]);
    assert!(stdout(&output).contains("runAsUser=0"), "{}", stdout(&output));
}

#[test]
fn kubectl_stops_at_a_file_s_first_error_even_past_the_first_piece() {
    // A file larger than the pieces the CLI analyses it in: the error in the first names every object after
    // it, in the later pieces too, as kubectl never sends them.
    let dir = TempDir::new("stop");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: x, securityContext: {privileged: true}}\n";
    let mut text = String::from("a: !!int abc\n");
    while text.len() < 600 * 1024 {
        text.push_str("---\n");
        text.push_str(pod);
    }
    let pods = text.matches("kind: Pod").count();
    let path = dir.write("big.yaml", text.as_bytes());
    let output = podsec(&["check", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let file = &json["files"][0];
    assert_eq!(file["objects"], serde_json::json!([]));
    let problems = file["problems"].as_array().unwrap();
    assert_eq!(problems[0]["code"], "syntax-error");
    assert_eq!(problems[0]["message"], "cannot decode !!str `abc` as a !!int");
    assert_eq!(problems.iter().filter(|p| p["code"] == "not-sent").count(), pods);
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
    // go-yaml's own guards, where kubectl stops too: errors of the file, as kubectl gives them.
    assert_eq!(by_name("laughs.yaml")["problems"][0]["code"], "syntax-error");
    assert_eq!(
        by_name("laughs.yaml")["problems"][0]["message"],
        "document contains excessive aliasing"
    );
    assert_eq!(by_name("deep.yaml")["problems"][0]["code"], "syntax-error");
    assert_eq!(
        by_name("deep.yaml")["problems"][0]["message"],
        "exceeded max depth of 10000"
    );
    assert_eq!(by_name("empty.yaml")["problems"], serde_json::json!([]));
    assert_eq!(by_name("comments.yaml")["objects"], serde_json::json!([]));
    assert_eq!(by_name("junk.yaml")["problems"][0]["code"], "syntax-error");
}

#[test]
fn explain_lists_and_documents_every_check() {
    let list = podsec(&["explain"]);
    assert_eq!(list.status.code(), Some(0));
    let text = stdout(&list);
    let (checks, codes) = text.split_once("\n\n").unwrap();
    assert_eq!(
        checks.lines().count(),
        podsec_engine::CHECKS.len() + 1,
        "a header and a line per check: {text}"
    );
    for check in podsec_engine::CHECKS {
        assert!(checks.contains(check.id), "{}", check.id);
    }
    // Then podsec's own codes, each documented, and each ignorable one taken by --ignore.
    let codes: Vec<(&str, &str)> = codes
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields[0], fields[2])
        })
        .collect();
    for code in [
        "syntax-error",
        "limit-exceeded",
        "not-sent",
        "invalid-object",
        "helm-template",
        "helm-value",
        "helm-render",
        "kustomize-build",
        "kustomize-patch",
    ] {
        assert!(codes.contains(&(code, "yes")), "{code} in {codes:?}");
    }
    for (code, ignorable) in &codes {
        let explained = podsec(&["explain", code]);
        assert_eq!(explained.status.code(), Some(0), "{code}");
        let markdown = stdout(&explained);
        assert!(
            markdown.starts_with(&format!("# {code}\n\n"))
                && markdown.contains("\n## Why\n")
                && markdown.contains("\n## What to do\n"),
            "{markdown}"
        );
        let ignored = podsec(&["check", "--ignore", code, "examples"]);
        let expected = if *ignorable == "yes" { 1 } else { 2 };
        assert_eq!(ignored.status.code(), Some(expected), "--ignore {code}");
    }
    let one = podsec(&["explain", "runAsNonRoot"]);
    assert_eq!(one.status.code(), Some(0));
    insta::assert_snapshot!("explain_runAsNonRoot", stdout(&one));
    let unknown = podsec(&["explain", "runAsRoot"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("error: invalid value 'runAsRoot' for '[CHECK-ID]'"),
        "{}",
        stderr(&unknown)
    );
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
    // git's a/ and b/ prefixes; an absolute path outside the working directory loses its leading /.
    let relative = path.to_str().unwrap().trim_start_matches('/');
    assert!(
        diff.starts_with(&format!("--- a/{relative}\n+++ b/{relative}\n@@")),
        "{diff}"
    );
    assert!(diff.contains("-      privileged: true\n"), "{diff}");
    // A diff to apply fails a CI gate, as `check` would.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

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
fn fix_ignore_leaves_a_checks_findings_alone() {
    // A non-root user, so that every restricted fix is safe (and `fix` applies it).
    let pod = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    runAsUser: 1000\n  containers:\n  - name: app\n    image: nginx\n";
    let all = podsec_with_stdin(&["fix", "-"], Some(pod));
    let ignoring = podsec_with_stdin(
        &["fix", "--ignore", "runAsNonRoot,seccompProfile_restricted", "-"],
        Some(pod),
    );
    let (all, fixed) = (stdout(&all), stdout(&ignoring));
    assert!(
        all.contains("runAsNonRoot: true") && all.contains("RuntimeDefault"),
        "{all}"
    );
    assert!(
        !fixed.contains("runAsNonRoot") && !fixed.contains("seccompProfile"),
        "{fixed}"
    );
    assert!(
        fixed.contains("allowPrivilegeEscalation: false") && fixed.contains("drop:"),
        "{fixed}"
    );
    // Nothing is reported as left to fix, and nothing fails: the run said to leave those alone.
    let report = stderr(&ignoring);
    assert!(
        !report.contains("runAsNonRoot:") && !report.contains("seccompProfile"),
        "{report}"
    );
    assert_eq!(ignoring.status.code(), Some(0), "{report}");
    // An unknown check is refused, with the nearest ID.
    let typo = podsec_with_stdin(&["fix", "--ignore", "runAsNonroot", "-"], Some(pod));
    assert_eq!(typo.status.code(), Some(2));
    assert!(stderr(&typo).contains("runAsNonRoot"), "{}", stderr(&typo));
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
    let output = podsec(&["check", "--no-render", "--format", "json", "tests/helm/web"]);
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
    // toYaml inserts the pod's securityContext: what it could set (runAsNonRoot, seccompProfile for
    // every container) depends on values, information; the container's own missing settings, which no
    // action writes, are findings. No note per document, no syntax error.
    let daemonset = file("daemonset.yaml");
    let problems: Vec<(&str, &str)> = daemonset["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["code"].as_str().unwrap(), p["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        [("helm-value", "information"), ("helm-value", "information")]
    );
    assert!(daemonset["problems"][0]["message"].as_str().unwrap().starts_with(
        "Helm template: runAsNonRoot depends on `{{- toYaml .Values.podSecurityContext | nindent 8 }}`"
    ));
    let checks: Vec<&str> = daemonset["objects"][0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["allowPrivilegeEscalation", "capabilities_restricted"]);
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
    // The place is in the file checked; the chart template it came from is named after it.
    assert!(
        text.lines()
            .any(|l| l
                .starts_with("<stdin>:27:11 (from web/templates/deployment.yaml): privileged: privileged")),
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
    // (The rendered container sets `allowPrivilegeEscalation: false` beside `privileged: true`: the API
    // server's refusal is a result of its own, before the check's.)
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let privileged = results.iter().find(|r| r["ruleId"] == "privileged").unwrap();
    let location = &privileged["locations"][0];
    assert_eq!(location["physicalLocation"]["artifactLocation"]["uri"], "stdin");
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 27);
    assert_eq!(
        location["properties"]["chartTemplate"],
        "web/templates/deployment.yaml"
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

/// Long enough for a slow machine, short enough that a hang fails the test run soon.
const HANG: Duration = Duration::from_secs(60);

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn one_pod(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("examples/restricted-pod.yaml"))
        .unwrap()
        .replace("name: hardened", &format!("name: {name}"))
}

#[test]
fn a_directory_walk_skips_fifos_and_sockets_instead_of_hanging() {
    let dir = TempDir::new("fifo-walk");
    dir.write("ok.yaml", one_pod("ok").as_bytes());
    mkfifo(&dir.path().join("stray.yaml"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("socket.yaml")).unwrap();
    let output = run_within(podsec_command(&["check", dir.path().to_str().unwrap()]), HANG);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "✓ 1 pod-bearing object passes restricted:latest (1 file checked).\n"
    );
}

#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let dir = TempDir::new("fifo-named");
    let fifo = dir.path().join("piped.yaml");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        // Opening for writing blocks until podsec opens the other end.
        std::thread::spawn(move || std::fs::write(fifo, one_pod("piped")).unwrap())
    };
    let output = run_within(podsec_command(&["check", fifo.to_str().unwrap()]), HANG);
    writer.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "✓ 1 pod-bearing object passes restricted:latest (1 file checked).\n"
    );
}

#[test]
fn inputs_larger_than_max_file_size_are_refused_after_reading_that_much() {
    let output = run_within(
        podsec_command(&["check", "--max-file-size", "64KB", "/dev/zero"]),
        HANG,
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stdout(&output),
        "/dev/zero: error: larger than --max-file-size (64 KB); not checked\n\
         No pod-bearing objects found (0 files checked); 1 file could not be read.\n"
    );

    let dir = TempDir::new("max-size");
    let big = dir.write("big.yaml", one_pod("big").repeat(10).as_bytes());
    let small = dir.write("small.yaml", one_pod("small").as_bytes());
    let output = podsec(&[
        "check",
        "--max-file-size",
        "1000B",
        big.to_str().unwrap(),
        small.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(
        text.contains("big.yaml: error: larger than --max-file-size (1000 bytes); not checked\n"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "1 pod-bearing object passes restricted:latest (1 file checked); 1 file could not be read.\n"
        ),
        "{text}"
    );

    // Run where no project file is found (standard input's is the working directory's, and the
    // repository's own is larger than 100 bytes).
    let mut child = podsec_command(&["fix", "--max-file-size", "100B", "-"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let _ = std::io::Write::write_all(&mut pipe, one_pod("stdin").as_bytes());
    drop(pipe);
    let stdin = child.wait_with_output().unwrap();
    assert_eq!(stdin.status.code(), Some(2));
    assert_eq!(
        stderr(&stdin),
        "<stdin>: error: larger than --max-file-size (100 bytes); not checked\n"
    );
    assert_eq!(stdout(&stdin), "", "nothing is fixed from a refused input");

    let invalid = podsec(&["check", "--max-file-size", "1.5MB", "examples"]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        stderr(&invalid)
            .contains("invalid --max-file-size \"1.5MB\": expected megabytes (64, 64MB) or bytes (65536B)"),
        "{}",
        stderr(&invalid)
    );
}

/// Whether the tests run as root (CI does): only root can give files to another user.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// `nobody`'s user and group IDs.
const NOBODY: u32 = 65534;

/// `podsec` as an unprivileged user: `nobody` when the tests run as root, else the user running them.
fn podsec_unprivileged(args: &[&str]) -> std::process::Output {
    let mut command = if running_as_root() {
        let mut setpriv = Command::new("setpriv");
        setpriv
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_podsec"));
        setpriv
    } else {
        Command::new(env!("CARGO_BIN_EXE_podsec"))
    };
    command.args(args).current_dir(repo_root()).env("NO_COLOR", "1");
    run_within(command, HANG)
}

/// Gives `path` to the user of [`podsec_unprivileged`] (nothing to do when that is the current user).
fn give_to_unprivileged(path: &Path) {
    if running_as_root() {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixes").join(name)).unwrap()
}

/// What `podsec fix` makes of `original`, through standard input.
fn fixed(original: &[u8]) -> Vec<u8> {
    podsec_with_stdin(&["fix", "-"], Some(original)).stdout
}

/// Names in `dir`, to see that no temporary file is left behind.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn fix_through_a_symbolic_link_rewrites_its_target_and_keeps_the_link() {
    let dir = TempDir::new("fix-symlink");
    let original = fixture("block-comments.yaml");
    let target = dir.write("real/deploy.yaml", &original);
    let link = dir.path().join("links/deploy.yaml");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("../real/deploy.yaml", &link).unwrap();
    let output = podsec(&["fix", link.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../real/deploy.yaml")
    );
    assert_eq!(std::fs::read(&target).unwrap(), fixed(&original));
    assert_ne!(std::fs::read(&target).unwrap(), original);
    assert_eq!(names(&dir.path().join("real")), ["deploy.yaml"]);
    assert_eq!(names(&dir.path().join("links")), ["deploy.yaml"]);
}

#[test]
fn fix_of_a_hard_linked_file_is_seen_through_every_name() {
    let dir = TempDir::new("fix-hardlink");
    let original = fixture("block-comments.yaml");
    let first = dir.write("first.yaml", &original);
    let second = dir.path().join("second.yaml");
    std::fs::hard_link(&first, &second).unwrap();
    let output = podsec(&["fix", first.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (a, b) = (
        std::fs::metadata(&first).unwrap(),
        std::fs::metadata(&second).unwrap(),
    );
    assert_eq!(
        (a.ino(), a.nlink()),
        (b.ino(), 2),
        "still one file with two names"
    );
    assert_eq!(std::fs::read(&second).unwrap(), fixed(&original));
    assert_eq!(names(dir.path()), ["first.yaml", "second.yaml"]);
}

#[test]
fn fix_refuses_a_read_only_file_and_leaves_it_unchanged() {
    let dir = TempDir::new("fix-readonly");
    let original = fixture("block-comments.yaml");
    let path = dir.write("deploy.yaml", &original);
    // The directory is writable: a rename would replace the file despite its mode.
    give_to_unprivileged(dir.path());
    give_to_unprivileged(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let output = podsec_unprivileged(&["fix", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "{}: error: cannot write the fixed file: the file is not writable: Permission denied (os error 13); the file is unchanged\n",
            path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), original);
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o444);
    assert_eq!(names(dir.path()), ["deploy.yaml"]);
}

#[test]
fn fix_in_a_read_only_directory_names_the_file_and_the_reason() {
    let dir = TempDir::new("fix-readonly-dir");
    let original = fixture("block-comments.yaml");
    let path = dir.write("locked/deploy.yaml", &original);
    give_to_unprivileged(&path);
    let locked = dir.path().join("locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let output = podsec_unprivileged(&["fix", path.to_str().unwrap()]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "{}: error: cannot write the fixed file: the directory {} is not writable (atomic replacement needs a temporary file beside it); the file is unchanged\n",
            path.display(),
            locked.canonicalize().unwrap().display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), original);
}

#[test]
fn fix_keeps_the_owner_and_mode_of_the_file() {
    if !running_as_root() {
        println!("skipped: giving files to another user needs root");
        return;
    }
    let dir = TempDir::new("fix-owner");
    let original = fixture("block-comments.yaml");
    // Root fixes a file of nobody's: the replacement is given nobody's owner and group.
    let theirs = dir.write("theirs.yaml", &original);
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o640)).unwrap();
    let output = podsec(&["fix", theirs.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let metadata = std::fs::metadata(&theirs).unwrap();
    assert_eq!(
        (metadata.uid(), metadata.gid(), metadata.mode() & 0o7777),
        (NOBODY, NOBODY, 0o640)
    );
    assert_eq!(std::fs::read(&theirs).unwrap(), fixed(&original));

    // Nobody fixes root's world-writable file: a replacement could not be root's, so it is rewritten in place.
    let shared = dir.write("shared/root.yaml", &original);
    std::fs::set_permissions(shared.parent().unwrap(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o666)).unwrap();
    let output = podsec_unprivileged(&["fix", shared.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let metadata = std::fs::metadata(&shared).unwrap();
    assert_eq!(
        (metadata.uid(), metadata.gid(), metadata.mode() & 0o7777),
        (0, 0, 0o666)
    );
    assert_eq!(std::fs::read(&shared).unwrap(), fixed(&original));
    assert_eq!(names(shared.parent().unwrap()), ["root.yaml"]);
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    // `( podsec …; echo "exit $?" >&2 ) | head -1`: podsec's standard error and exit status, while head
    // closes the pipe after one line (or `true`, before reading anything).
    let cases: &[(&str, &str, usize)] = &[
        ("psp tests/psp", "exit 0", 50),
        ("explain", "exit 0", 50),
        ("explain runAsNonRoot", "exit 0", 10),
        ("check examples tests/data", "exit 1", 10),
        ("check --format json examples tests/data", "exit 1", 10),
        ("fix --diff --unsafe examples", "exit 1", 10),
        ("check --help", "exit 0", 10),
        ("completions bash", "exit 0", 10),
        ("--help", "exit 0", 10),
    ];
    for (arguments, exit, runs) in cases {
        for reader in ["head -1", "true"] {
            let script = format!("(\"$0\" {arguments}; echo \"exit $?\" >&2) | {reader} >/dev/null");
            for _ in 0..*runs {
                let mut shell = Command::new("sh");
                shell
                    .args(["-c", &script, env!("CARGO_BIN_EXE_podsec")])
                    .current_dir(repo_root())
                    .env("NO_COLOR", "1");
                let output = run_within(shell, HANG);
                let report = stderr(&output);
                // fix reports what it would change on standard error: only the last line is ours.
                let last = report.lines().last().unwrap_or("");
                assert_eq!(last, *exit, "podsec {arguments} | {reader}: {report}");
                if !arguments.starts_with("fix") {
                    assert_eq!(report, format!("{exit}\n"), "podsec {arguments} | {reader}");
                }
                assert!(
                    !report.contains("panicked"),
                    "podsec {arguments} | {reader}: {report}"
                );
            }
        }
    }
}

#[test]
fn a_file_reached_twice_is_checked_once() {
    let dir = TempDir::new("twice");
    let pod = dir.write("pod.yaml", one_pod("once").as_bytes());
    std::os::unix::fs::symlink("pod.yaml", dir.path().join("alias.yaml")).unwrap();
    let pod = pod.to_str().unwrap();
    let output = podsec(&["check", pod, pod, dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "✓ 1 pod-bearing object passes restricted:latest (1 file checked).\n"
    );
    let json = podsec(&["check", "--format", "json", pod, dir.path().to_str().unwrap()]);
    let json: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(json["summary"]["files"], 1);
    assert_eq!(json["files"][0]["path"], pod, "the path as first given");
    // One directory alone: its walk finds the file and the link to it.
    let walked = podsec(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(
        stdout(&walked),
        "✓ 1 pod-bearing object passes restricted:latest (1 file checked).\n"
    );
}

#[test]
fn summaries_count_in_proper_english() {
    let dir = TempDir::new("plurals");
    let two = dir.write(
        "two.yaml",
        format!("{}---\n{}", one_pod("first"), one_pod("second")).as_bytes(),
    );
    let none = dir.write("none.yaml", b"# nothing here\n");
    let summary = |args: &[&str]| {
        let output = podsec(args);
        stdout(&output).lines().last().unwrap_or("").to_string()
    };
    assert_eq!(
        summary(&["check", two.to_str().unwrap()]),
        "✓ 2 pod-bearing objects pass restricted:latest (1 file checked)."
    );
    assert_eq!(
        summary(&["check", two.to_str().unwrap(), "examples/restricted-pod.yaml"]),
        "✓ 3 pod-bearing objects pass restricted:latest (2 files checked)."
    );
    assert_eq!(
        summary(&["check", none.to_str().unwrap()]),
        "✓ No pod-bearing objects found (1 file checked)."
    );
    assert_eq!(
        summary(&["check", "missing.yaml", "examples/restricted-pod.yaml"]),
        "1 pod-bearing object passes restricted:latest (1 file checked); 1 file could not be read."
    );
    assert_eq!(
        summary(&[
            "check",
            "missing.yaml",
            "also-missing.yaml",
            "examples/insecure-deployment.yaml"
        ]),
        "Found 11 errors in 1 object (1 file checked against restricted:latest); 2 files could not be read."
    );
    assert_eq!(
        summary(&["check", "tests/psp"]),
        "Found 0 errors, 2 warnings (1 file checked).",
        "problems outside objects are not counted \"in 0 objects\""
    );

    // One fix is one fix.
    let one_fix = dir.write(
        "one-fix.yaml",
        one_pod("fixable")
            .replace("      allowPrivilegeEscalation: false\n", "")
            .as_bytes(),
    );
    let output = podsec(&["fix", one_fix.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "{}: applied 1 fix:\n  - Set allowPrivilegeEscalation: false on container \"app\"\nApplied 1 fix in 1 file.\n",
            one_fix.display()
        )
    );
}

#[test]
fn a_run_that_finds_no_yaml_file_warns_naming_the_paths() {
    let dir = TempDir::new("no-yaml");
    dir.write("notes.txt", b"not yaml\n");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (a, b) = (dir.path().to_str().unwrap(), empty.to_str().unwrap());
    let output = podsec(&["check", a, b]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "nothing failed: {}",
        stdout(&output)
    );
    assert_eq!(stdout(&output), "No YAML file checked.\n");
    assert_eq!(
        stderr(&output),
        format!("podsec: warning: no YAML file (*.yaml, *.yml) found in {a}, {b}\n")
    );
    let fix = podsec(&["fix", b]);
    assert_eq!(fix.status.code(), Some(0));
    assert_eq!(
        stderr(&fix),
        format!("podsec: warning: no YAML file (*.yaml, *.yml) found in {b}\n")
    );
}

fn sarif_of(args: &[&str], stdin: Option<&[u8]>) -> Value {
    let output = podsec_with_stdin(args, stdin);
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn sarif_results_are_lean_fingerprinted_and_name_their_artifacts_as_uris() {
    let dir = TempDir::new("sarif-lean");
    let deployment = std::fs::read_to_string(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let path = dir.write("sp ace/dé p#1%.yaml", deployment.as_bytes());
    let sarif = sarif_of(&["check", "--format", "sarif", path.to_str().unwrap()], None);
    let run = &sarif["runs"][0];
    assert_eq!(run["originalUriBaseIds"]["ROOT"]["uri"], "file:///");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 11);
    let artifact = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    let encoded = path.to_str().unwrap()[1..]
        .replace(' ', "%20")
        .replace('é', "%C3%A9")
        .replace('#', "%23")
        .replace("%.", "%25.");
    assert_eq!(artifact["uri"], encoded.as_str());
    assert_eq!(artifact["uriBaseId"], "ROOT");
    // PSA's sentence once per object, on its first result; no location is repeated.
    let sentences: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("relatedLocations").is_some())
        .collect();
    assert_eq!(sentences.len(), 1);
    assert!(
        sentences[0]["relatedLocations"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("would violate PodSecurity \"restricted:latest\": ")
    );
    assert!(
        results
            .iter()
            .all(|r| r["locations"][0].get("properties").is_none())
    );
    // Fingerprints name the finding, not its line: an unrelated edit above moves every region and no
    // fingerprint.
    let fingerprints = |sarif: &Value| -> Vec<String> {
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["podsec/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let before = fingerprints(&sarif);
    std::fs::write(&path, format!("# a comment\n# and another\n{deployment}")).unwrap();
    let moved = sarif_of(&["check", "--format", "sarif", path.to_str().unwrap()], None);
    assert_eq!(fingerprints(&moved), before);
    assert_eq!(
        moved["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            + 2
    );
    let unique: std::collections::HashSet<&String> = before.iter().collect();
    assert_eq!(unique.len(), before.len(), "one fingerprint per finding");
    // Relative paths sit under %SRCROOT%; baseline checks are more severe than restricted-only ones.
    let relative = sarif_of(
        &["check", "--format", "sarif", "examples/insecure-deployment.yaml"],
        None,
    );
    let run = &relative["runs"][0];
    let artifact = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(artifact["uri"], "examples/insecure-deployment.yaml");
    assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
    let rule = |id: &str| {
        run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(rule("privileged")["properties"]["security-severity"], "8.0");
    assert_eq!(rule("runAsNonRoot")["properties"]["security-severity"], "5.0");
    assert!(
        rule("helm-template")["help"]["text"]
            .as_str()
            .unwrap()
            .contains("helm template")
    );
}

#[test]
fn exempted_findings_are_suppressed_sarif_results_with_their_reason() {
    let dir = TempDir::new("sarif-suppressed");
    let deployment = std::fs::read_to_string(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let annotated = deployment.replace(
        "      labels: {app: web}\n",
        "      labels: {app: web}\n      annotations:\n        podsec.dev/exempt.privileged: \"the CNI needs it\"\n",
    );
    let path = dir.write("annotated.yaml", annotated.as_bytes());
    dir.write(
        ".podsec.yaml",
        b"exemptions:\n- check: hostPorts\n  reason: the probe listens on the node\n",
    );
    let path = path.to_str().unwrap();
    let hidden = sarif_of(&["check", "--format", "sarif", path], None);
    let shown = sarif_of(&["check", "--format", "sarif", "--show-exempted", path], None);
    let results = |sarif: &Value| sarif["runs"][0]["results"].as_array().unwrap().clone();
    assert!(results(&hidden).iter().all(|r| r.get("suppressions").is_none()));
    let suppressed: Vec<Value> = results(&shown)
        .into_iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 2, "{suppressed:#?}");
    let by_rule =
        |id: &str| suppressed.iter().find(|r| r["ruleId"] == id).unwrap()["suppressions"][0].clone();
    assert_eq!(
        by_rule("privileged"),
        serde_json::json!({ "kind": "inSource", "status": "accepted", "justification": "the CNI needs it" })
    );
    assert_eq!(
        by_rule("hostPorts"),
        serde_json::json!({ "kind": "external", "status": "accepted", "justification": "the probe listens on the node" })
    );
    assert_eq!(results(&shown).len(), results(&hidden).len() + 2);
}

/// `examples/insecure-deployment.yaml` with exemption comments: the whole object from restrictedVolumes
/// (on `metadata:`), the `privileged: true` line, and the `add: [NET_ADMIN]` line (one of the three
/// capabilities_restricted findings).
fn commented_deployment() -> String {
    std::fs::read_to_string(repo_root().join("examples/insecure-deployment.yaml"))
        .unwrap()
        .replacen(
            "metadata:\n",
            "metadata: # podsec: exempt restrictedVolumes -- the log shipper reads /var/run\n",
            1,
        )
        .replace(
            "          privileged: true\n",
            "          privileged: true  # podsec: exempt privileged -- the CNI needs it\n",
        )
        .replace(
            "            add: [NET_ADMIN]\n",
            "            add: [NET_ADMIN] # podsec: exempt capabilities_restricted -- the VPN sidecar, ünïcode\n",
        )
}

#[test]
fn exemption_comments_are_listed_by_show_exempted_and_suppressed_in_source_in_sarif() {
    let dir = TempDir::new("comment-exemptions");
    let path = dir.write("commented.yaml", commented_deployment().as_bytes());
    let path = path.to_str().unwrap();
    let output = podsec(&["check", "--show-exempted", path]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    for line in [
        format!(
            "{path}:20:11: privileged: exempted (the CNI needs it (comment on its line)): privileged (container \"app\" must not set securityContext.privileged=true)"
        ),
        format!(
            "{path}:29:19: capabilities_restricted: exempted (the VPN sidecar, ünïcode (comment on its line)): unrestricted capabilities"
        ),
        format!(
            "{path}:32:9: restrictedVolumes: exempted (the log shipper reads /var/run (comment on the object's metadata line)): restricted volume types (volume \"host\" uses restricted volume type \"hostPath\")"
        ),
        // The other capabilities_restricted findings stay, and PSA's line keeps the check.
        format!("{path}:17:9: capabilities_restricted: unrestricted capabilities"),
        format!("{path}:24:9: capabilities_restricted: unrestricted capabilities"),
        "Found 8 errors in 1 object (1 file checked against restricted:latest, 3 findings exempted)."
            .to_string(),
    ] {
        assert!(text.contains(&line), "{line}\nnot in\n{text}");
    }
    assert!(
        !text
            .contains("restricted volume types (volume \"host\" uses restricted volume type \"hostPath\") ["),
        "{text}"
    );
    let hidden = stdout(&podsec(&["check", path]));
    assert!(!hidden.contains("exempted ("), "{hidden}");

    let json: Value = serde_json::from_str(&stdout(&podsec(&[
        "check",
        "--format",
        "json",
        "--show-exempted",
        path,
    ])))
    .unwrap();
    let exempted: Vec<(String, String, String)> = json["files"][0]["objects"][0]["exempted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["check"].as_str().unwrap().to_string(),
                e["reason_exempted"].as_str().unwrap().to_string(),
                e["locations"][0]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        exempted,
        [
            (
                "privileged".to_string(),
                "the CNI needs it (comment on its line)".to_string(),
                "spec.template.spec.containers[0].securityContext.privileged".to_string()
            ),
            (
                "capabilities_restricted".to_string(),
                "the VPN sidecar, ünïcode (comment on its line)".to_string(),
                "spec.template.spec.containers[1].securityContext.capabilities.add[0]".to_string()
            ),
            (
                "restrictedVolumes".to_string(),
                "the log shipper reads /var/run (comment on the object's metadata line)".to_string(),
                "spec.template.spec.volumes[0].hostPath".to_string()
            ),
        ]
    );
    assert_eq!(json["files"][0]["config_problems"], serde_json::json!([]));

    let sarif = sarif_of(&["check", "--format", "sarif", "--show-exempted", path], None);
    let suppressions: Vec<(String, Value)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["suppressions"].clone(),
            )
        })
        .collect();
    let in_source = |justification: &str| serde_json::json!([{ "kind": "inSource", "status": "accepted", "justification": justification }]);
    assert_eq!(
        suppressions,
        [
            ("privileged".to_string(), in_source("the CNI needs it")),
            (
                "capabilities_restricted".to_string(),
                in_source("the VPN sidecar, ünïcode")
            ),
            (
                "restrictedVolumes".to_string(),
                in_source("the log shipper reads /var/run")
            ),
        ]
    );
}

#[test]
fn fix_never_touches_an_exemption_comment() {
    let commented = commented_deployment();
    let comments: Vec<&str> = commented.lines().filter(|l| l.contains("# podsec:")).collect();
    assert_eq!(comments.len(), 3);
    for args in [&["fix", "-"][..], &["fix", "--unsafe", "-"]] {
        let output = podsec_with_stdin(args, Some(commented.as_bytes()));
        let fixed = stdout(&output);
        assert!(
            fixed.len() > commented.len(),
            "{args:?} fixed something:\n{fixed}"
        );
        for comment in &comments {
            assert!(
                fixed.lines().any(|l| l == *comment),
                "{args:?}: {comment:?} is gone or moved:\n{fixed}"
            );
        }
        // Every exemption still covers its finding: none went unused.
        let check = podsec_with_stdin(&["check", "--format", "json", "-"], Some(fixed.as_bytes()));
        let json: Value = serde_json::from_str(&stdout(&check)).unwrap();
        assert_eq!(
            json["files"][0]["config_problems"],
            serde_json::json!([]),
            "{args:?}:\n{fixed}"
        );
        assert_eq!(
            json["files"][0]["objects"][0]["exempted"]
                .as_array()
                .unwrap()
                .len(),
            3,
            "{args:?}"
        );
    }
}

#[test]
fn stdin_filename_names_standard_input_in_every_format() {
    let yaml = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let name = "charts/web é.yaml";
    let text = podsec_with_stdin(&["check", "--stdin-filename", name, "-"], Some(&yaml));
    assert!(
        stdout(&text).starts_with("charts/web é.yaml:17:9: allowPrivilegeEscalation:"),
        "{}",
        stdout(&text)
    );
    let json: Value = serde_json::from_str(&stdout(&podsec_with_stdin(
        &["check", "--format", "json", "--stdin-filename", name, "-"],
        Some(&yaml),
    )))
    .unwrap();
    assert_eq!(json["files"][0]["path"], name);
    let artifact = |sarif: &Value| {
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"].clone()
    };
    let named = sarif_of(
        &["check", "--format", "sarif", "--stdin-filename", name, "-"],
        Some(&yaml),
    );
    assert_eq!(
        artifact(&named),
        serde_json::json!({ "uri": "charts/web%20%C3%A9.yaml", "uriBaseId": "%SRCROOT%" })
    );
    let unnamed = sarif_of(&["check", "--format", "sarif", "-"], Some(&yaml));
    assert_eq!(artifact(&unnamed), serde_json::json!({ "uri": "stdin" }));
    let fix = podsec_with_stdin(&["fix", "--diff", "--stdin-filename", name, "-"], Some(&yaml));
    assert!(
        stdout(&fix).starts_with("--- a/charts/web é.yaml\n+++ b/charts/web é.yaml\n"),
        "{}",
        stdout(&fix)
    );
}

/// A file far larger than one analysis piece, after a Namespace whose enforce label its workloads break:
/// the output comes piece by piece, and the label's impact, written before them, counts them all.
#[test]
fn a_large_stream_is_reported_whole_and_in_order() {
    let dir = TempDir::new("large-stream");
    dir.write(
        "a-namespace.yaml",
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n",
    );
    let deployment = std::fs::read_to_string(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let copies = 1500;
    let stream: Vec<String> = (0..copies)
        .map(|i| deployment.replace("name: web", &format!("name: web-{i}")))
        .collect();
    let stream = stream.join("---\n");
    assert!(stream.len() > 1_000_000);
    dir.write("b-workloads.yaml", stream.as_bytes());
    let output = podsec(&["check", dir.path().to_str().unwrap()]);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with(
        "a-namespace.yaml:6:5: namespace-impact: warning: existing pods in namespace \"payments\" violate the new PodSecurity enforce level \"baseline:latest\""
    ));
    assert_eq!(
        lines[1],
        format!(
            "    Deployment \"web-0\" (and {} other pods): non-default capabilities, hostPath volumes, hostPort, privileged",
            copies - 1
        )
    );
    let headers: Vec<usize> = lines
        .iter()
        .filter_map(|l| l.split("= Deployment \"web-").nth(1))
        .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        headers,
        (0..copies).collect::<Vec<_>>(),
        "every object once, in order"
    );
    assert_eq!(
        lines.last().unwrap(),
        &format!(
            "Found {} errors, 1 warning in {copies} objects (2 files checked against baseline:latest).",
            copies * 4
        )
    );
}

/// `podsec` with `args` in `dir` (not the repository), as [`podsec`] runs it otherwise.
fn podsec_in(dir: &Path, args: &[&str]) -> std::process::Output {
    podsec_command(args).current_dir(dir).output().unwrap()
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn every_subcommand_has_help_on_standard_output_and_exits_zero() {
    for command in ["check", "fix", "explain", "psp", "lsp", "completions"] {
        for flag in ["--help", "-h"] {
            let output = podsec(&[command, flag]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{command} {flag}: {}",
                stderr(&output)
            );
            assert_eq!(stderr(&output), "", "{command} {flag}");
            assert!(
                stdout(&output).contains(&format!("Usage: podsec {command}")),
                "{command} {flag}: {}",
                stdout(&output)
            );
        }
    }
    let help = stdout(&podsec(&["check", "--help"]));
    for option in [
        "--config <PATH>",
        "--show-exempted",
        "--suggest-level",
        "--policy-version <VERSION>",
        "--output-format <FORMAT>",
        "--ignore <CHECK>",
        "--statistics",
        "--exit-zero",
        "--show-settings",
        "--show-files",
        "--quiet",
        "--verbose",
        "--color <WHEN>",
        "--no-ignore",
        "--stdin-filename <PATH>",
        "--max-file-size <SIZE>",
    ] {
        assert!(help.contains(option), "check --help lacks {option}");
    }
    // The policy version's old name is accepted but not advertised.
    assert!(!help.contains("--version"), "{help}");
    let fix = stdout(&podsec(&["fix", "--help"]));
    assert!(fix.contains("--unsafe") && fix.contains("--diff"), "{fix}");
    let top = podsec(&[]);
    assert_eq!(top.status.code(), Some(2));
    assert!(
        stderr(&top).contains("Usage: podsec <COMMAND>"),
        "{}",
        stderr(&top)
    );
}

#[test]
fn version_means_the_program_and_policy_version_is_its_own_flag() {
    let output = podsec(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), format!("podsec {}\n", env!("CARGO_PKG_VERSION")));
    let new = podsec(&[
        "check",
        "--format",
        "json",
        "--policy-version",
        "v1.7",
        "examples",
    ]);
    let old = podsec(&["check", "--format", "json", "--version", "v1.7", "examples"]);
    assert_eq!(new.status.code(), Some(1));
    assert_eq!(
        stdout(&new),
        stdout(&old),
        "--version is an alias of --policy-version"
    );
    assert!(stdout(&new).contains("restricted:v1.7"));
    // Without a value it is the policy version's option still, not the program's version.
    let bare = podsec(&["check", "--version"]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        stderr(&bare).contains("a value is required for '--policy-version <VERSION>'"),
        "{}",
        stderr(&bare)
    );
    // psp knows only its formats.
    let psp = podsec(&["psp", "--format", "sarif", "tests/psp"]);
    assert_eq!(psp.status.code(), Some(2));
    assert!(
        stderr(&psp).contains("[possible values: text, json]"),
        "{}",
        stderr(&psp)
    );
}

#[test]
fn github_output_is_workflow_commands_with_escaped_properties() {
    let output = podsec(&["check", "--output-format", "github", "examples/"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 11, "{text}");
    assert_eq!(
        lines[4],
        "::error file=examples/insecure-deployment.yaml,line=20,col=11,endLine=20,endColumn=27,title=podsec (privileged)::privileged (container \"app\" must not set securityContext.privileged=true) (Deployment \"web\": enforce restricted:latest)"
    );
    assert!(lines.iter().all(|l| l.starts_with("::error file=")), "{text}");
    // A name with the separators: `:` and `,` are escaped in properties.
    let yaml = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let named = podsec_with_stdin(
        &[
            "check",
            "--format",
            "github",
            "--stdin-filename",
            "a:b,c%.yaml",
            "-",
        ],
        Some(&yaml),
    );
    assert!(
        stdout(&named).starts_with("::error file=a%3Ab%2Cc%25.yaml,line=17,col=9,"),
        "{}",
        stdout(&named)
    );
    // Warnings by severity: the cluster scenario has warn findings.
    let cluster = stdout(&podsec(&[
        "check",
        "--format",
        "github",
        "tests/scenarios/cluster",
    ]));
    assert!(
        cluster.lines().any(|l| l.starts_with("::warning file=")),
        "{cluster}"
    );
    // Information (the admission configuration's ignored setting) is no annotation; the text shows it.
    assert!(
        !cluster.lines().any(|l| l.starts_with("::notice file=")),
        "{cluster}"
    );
    let text = stdout(&podsec(&["check", "tests/scenarios/cluster"]));
    assert!(text.contains(": ignored-setting: info: "), "{text}");
}

#[test]
fn gitlab_output_is_a_code_quality_report_with_stable_fingerprints() {
    let dir = TempDir::new("gitlab");
    let deployment = std::fs::read_to_string(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let path = dir.write("deploy.yaml", deployment.as_bytes());
    let report = |path: &Path| -> Value {
        let output = podsec(&["check", "--output-format", "gitlab", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1));
        serde_json::from_str(&stdout(&output)).unwrap()
    };
    let issues = report(&path);
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 11);
    let privileged = issues.iter().find(|i| i["check_name"] == "privileged").unwrap();
    assert_eq!(privileged["severity"], "critical", "a baseline check");
    assert_eq!(privileged["location"]["lines"]["begin"], 20);
    assert_eq!(privileged["location"]["path"], path.to_str().unwrap());
    let runs_as_root = issues.iter().find(|i| i["check_name"] == "runAsNonRoot").unwrap();
    assert_eq!(runs_as_root["severity"], "major", "a restricted check");
    let fingerprints: std::collections::BTreeSet<String> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fingerprints.len(), issues.len(), "one fingerprint per issue");
    // Lines moved by an unrelated edit: every fingerprint stays.
    std::fs::write(&path, format!("# moved\n# down\n{deployment}")).unwrap();
    let moved: std::collections::BTreeSet<String> = report(&path)
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(moved, fingerprints);
    let empty = podsec(&["check", "--format", "gitlab", "examples/restricted-pod.yaml"]);
    assert_eq!(stdout(&empty), "[]\n");
}

#[test]
fn junit_output_has_a_suite_per_file_and_a_case_per_object() {
    let output = podsec(&[
        "check",
        "--output-format",
        "junit",
        "examples/",
        "tests/data/multi.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout(&output);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"podsec\">\n"));
    assert!(xml.ends_with("</testsuites>\n"), "{xml}");
    assert_eq!(xml.matches("<testsuite ").count(), 3, "{xml}");
    assert!(xml.contains(
        "<testsuite name=\"examples/insecure-deployment.yaml\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\" file=\"examples/insecure-deployment.yaml\">"
    ));
    assert!(xml.contains(
        "<testcase name=\"Pod &quot;hardened&quot;\" classname=\"examples/restricted-pod.yaml\" file=\"examples/restricted-pod.yaml\"/>"
    ), "{xml}");
    // As Jenkins' JUnit plugin (junit-10.xsd) and GitLab read it: every case names its file, and fails with
    // exactly one `<failure>` that lists every finding of the object.
    let cases: Vec<&str> = xml.split("<testcase ").skip(1).collect();
    assert_eq!(cases.len(), 5, "{xml}");
    for case in &cases {
        let case = case.split("</testcase>").next().unwrap();
        assert!(case.contains(" file=\""), "{case}");
        assert!(case.matches("<failure ").count() <= 1, "{case}");
    }
    let web = cases
        .iter()
        .find(|c| c.starts_with("name=\"Deployment &quot;web&quot;"))
        .unwrap();
    assert_eq!(
        web.matches("\nexamples/insecure-deployment.yaml:").count() + 1,
        11,
        "{web}"
    );
    assert!(
        xml.contains("type=\"syntax-error\""),
        "a document that does not parse fails its own case"
    );
}

/// The test cases' names of a JUnit report.
fn junit_case_names(xml: &str) -> Vec<String> {
    xml.split("<testcase name=\"")
        .skip(1)
        .map(|case| case.split('"').next().unwrap().to_string())
        .collect()
}

#[test]
fn junit_case_names_stay_when_lines_move() {
    let dir = TempDir::new("junit-moves");
    let original = std::fs::read_to_string(repo_root().join("tests/data/multi.yaml")).unwrap();
    let file = dir.write("multi.yaml", original.as_bytes());
    let before = stdout(&podsec(&["check", "--format", "junit", file.to_str().unwrap()]));
    dir.write("multi.yaml", format!("# moved\n\n\n{original}").as_bytes());
    let after = stdout(&podsec(&["check", "--format", "junit", file.to_str().unwrap()]));
    assert_ne!(before, after, "the failures' text gives the new lines");
    assert_eq!(junit_case_names(&before), junit_case_names(&after));
    assert!(
        junit_case_names(&before).iter().all(|n| !n.contains(" at ")),
        "{before}"
    );
}

#[test]
fn statistics_count_findings_per_check_most_frequent_first() {
    let output = podsec(&["check", "--statistics", "examples/", "tests/data/multi.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let rows: Vec<(usize, &str)> = text
        .lines()
        .map(|l| {
            let mut fields = l.split_whitespace();
            (fields.next().unwrap().parse().unwrap(), fields.next().unwrap())
        })
        .collect();
    let mut sorted = rows.clone();
    sorted.sort_by(|(a, x), (b, y)| b.cmp(a).then(x.cmp(y)));
    assert_eq!(rows, sorted, "{text}");
    assert!(rows.contains(&(1, "syntax-error")), "{text}");
    assert!(
        text.starts_with(
            "    3  capabilities_restricted    Containers must drop ALL capabilities and may add back only NET_BIND_SERVICE.\n    2  runAsNonRoot  "
        ),
        "{text}"
    );
    let json: Value = serde_json::from_str(&stdout(&podsec(&[
        "check",
        "--statistics",
        "--format",
        "json",
        "examples/",
    ])))
    .unwrap();
    assert_eq!(json[0]["code"], "capabilities_restricted");
    assert_eq!(json[0]["count"], 3);
    let sarif = podsec(&["check", "--statistics", "--format", "sarif", "examples/"]);
    assert_eq!(sarif.status.code(), Some(2));
    assert!(stderr(&sarif).contains("--statistics prints text or json, not sarif"));
}

#[test]
fn exit_zero_quiet_and_color() {
    let output = podsec(&["check", "--exit-zero", "examples/"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("Found 11 errors"));
    let missing = podsec(&["check", "--exit-zero", "examples/", "no-such-file.yaml"]);
    assert_eq!(missing.status.code(), Some(2), "I/O errors still fail");

    let quiet = podsec(&["check", "-q", "examples/"]);
    assert_eq!(quiet.status.code(), Some(1));
    assert!(!stdout(&quiet).contains("Found"), "{}", stdout(&quiet));
    assert!(stdout(&quiet).starts_with("examples/insecure-deployment.yaml:17:9:"));
    assert_eq!(
        stdout(&podsec(&["check", "-q", "examples/restricted-pod.yaml"])),
        ""
    );
    assert_eq!(podsec(&["check", "-q", "-v", "examples"]).status.code(), Some(2));

    // NO_COLOR is set by the test helper: auto is plain, always colours anyway.
    assert!(!stdout(&podsec(&["check", "examples/"])).contains('\u{1b}'));
    assert!(stdout(&podsec(&["check", "--color", "always", "examples/"])).contains("\u{1b}[31m"));
    assert!(!stdout(&podsec(&["check", "--color", "never", "examples/"])).contains('\u{1b}'));
}

#[test]
fn ignore_exempts_checks_for_the_run_and_rejects_unknown_ones() {
    let output = podsec(&[
        "check",
        "--ignore",
        "privileged,hostPorts",
        "--show-exempted",
        "examples/insecure-deployment.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("examples/insecure-deployment.yaml:20:11: privileged: exempted (ignored on the command line): privileged (container \"app\" must not set securityContext.privileged=true)"), "{text}");
    assert!(
        text.contains(
            "Found 9 errors in 1 object (1 file checked against restricted:latest, 2 findings exempted)."
        ),
        "{text}"
    );
    // PSA's line no longer names what was ignored.
    let psa = text.lines().find(|l| l.starts_with("  = ")).unwrap();
    assert!(
        !psa.contains("privileged (") && !psa.contains("hostPort"),
        "{psa}"
    );
    // Every check ignored: nothing fails.
    let all: Vec<&str> = podsec_engine::CHECKS.iter().map(|c| c.id).collect();
    let clean = podsec(&[
        "check",
        "--ignore",
        &all.join(","),
        "examples/insecure-deployment.yaml",
    ]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    let sarif = sarif_of(
        &[
            "check",
            "--format",
            "sarif",
            "--show-exempted",
            "--ignore",
            "privileged",
            "examples/insecure-deployment.yaml",
        ],
        None,
    );
    let suppressed: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(
        suppressed[0]["suppressions"][0],
        serde_json::json!({ "kind": "external", "status": "accepted", "justification": "ignored on the command line" })
    );
    let unknown = podsec(&["check", "--ignore", "privilegd", "examples"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("tip: a similar value exists: 'privileged'"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn directory_walks_respect_gitignore_in_a_git_repository_and_ignore_files_everywhere() {
    let dir = TempDir::new("gitignore");
    let bad = example("insecure-deployment.yaml");
    dir.write("gen/generated.yaml", &bad);
    dir.write("app/deploy.yaml", one_pod("app").as_bytes());
    dir.write(".hidden/secret.yaml", &bad);
    dir.write(".gitignore", b"gen/\n");
    let files = |args: &[&str]| stdout(&podsec_in(dir.path(), args));
    // Outside a git repository, .gitignore is not read (as git and ruff do).
    assert_eq!(
        files(&["check", "--show-files"]),
        "app/deploy.yaml\ngen/generated.yaml\n"
    );
    git(dir.path(), &["init", "-q", "."]);
    assert_eq!(files(&["check", "--show-files"]), "app/deploy.yaml\n");
    let check = podsec_in(dir.path(), &["check", "."]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "the ignored gen/ is not checked: {}",
        stdout(&check)
    );
    assert_eq!(
        files(&["check", "--show-files", "--no-ignore"]),
        "app/deploy.yaml\ngen/generated.yaml\n"
    );
    // A path named on the command line is checked whatever an ignore file says.
    assert_eq!(
        files(&["check", "--show-files", "gen/generated.yaml"]),
        "gen/generated.yaml\n"
    );
    assert_eq!(
        podsec_in(dir.path(), &["check", "gen/generated.yaml"])
            .status
            .code(),
        Some(1)
    );
    // .ignore applies without git too.
    std::fs::remove_dir_all(dir.path().join(".git")).unwrap();
    dir.write("app/.ignore", b"deploy.yaml\n");
    assert_eq!(files(&["check", "--show-files"]), "gen/generated.yaml\n");
}

#[test]
fn verbose_names_what_a_walk_skipped() {
    let dir = TempDir::new("verbose");
    dir.write("ok.yaml", one_pod("ok").as_bytes());
    mkfifo(&dir.path().join("pipe.yaml"));
    std::os::unix::fs::symlink("..", dir.path().join("up")).unwrap();
    let output = podsec_in(dir.path(), &["check", "-v", "."]);
    assert_eq!(output.status.code(), Some(0));
    let notes = stderr(&output);
    assert!(
        notes.contains("podsec: note: ./pipe.yaml: not a regular file (a FIFO, socket or device): skipped"),
        "{notes}"
    );
    assert!(
        notes.contains("podsec: note: ./up: a symbolic link to a directory: not followed"),
        "{notes}"
    );
    assert_eq!(
        stderr(&podsec_in(dir.path(), &["check", "."])),
        "",
        "no notes without -v"
    );
}

#[test]
fn fix_diff_applies_with_git_apply() {
    let dir = TempDir::new("gitapply");
    let original = example("insecure-deployment.yaml");
    dir.write("deploy/web.yaml", &original);
    git(dir.path(), &["init", "-q", "."]);
    let output = podsec_in(dir.path(), &["fix", "--diff", "deploy/web.yaml"]);
    assert_eq!(output.status.code(), Some(1), "a fix to apply fails the gate");
    let diff = stdout(&output);
    assert!(
        diff.starts_with("--- a/deploy/web.yaml\n+++ b/deploy/web.yaml\n@@"),
        "{diff}"
    );
    let patch = dir.write("fix.patch", diff.as_bytes());
    git(dir.path(), &["apply", "--check", patch.to_str().unwrap()]);
    git(dir.path(), &["apply", patch.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(dir.path().join("deploy/web.yaml")).unwrap(),
        fixed(&original)
    );
    // No safe fix left: no diff (the exit status is still 1: violations remain).
    let again = podsec_in(dir.path(), &["fix", "--diff", "deploy/web.yaml"]);
    assert_eq!(stdout(&again), "");
    // A clean file: nothing to apply, exit 0.
    dir.write("ok.yaml", one_pod("ok").as_bytes());
    let clean = podsec_in(dir.path(), &["fix", "--diff", "ok.yaml"]);
    assert_eq!((clean.status.code(), stdout(&clean)), (Some(0), String::new()));
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("examples").join(name)).unwrap()
}

#[test]
fn stdin_filename_finds_the_project_file_and_kustomization_of_that_name() {
    let dir = TempDir::new("stdinproject");
    dir.write(".podsec.yaml", b"level: baseline\n");
    dir.write(
        "app/kustomization.yaml",
        b"namespace: shop\nresources:\n  - web.yaml\n",
    );
    let yaml = example("insecure-deployment.yaml");
    let name = dir.path().join("app/web.yaml");
    let output = podsec_with_stdin(
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            name.to_str().unwrap(),
            "-",
        ],
        Some(&yaml),
    );
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let object = &json["files"][0]["objects"][0];
    assert_eq!(object["policy"], "baseline:latest", "{object}");
    assert_eq!(object["namespace"], "shop", "{object}");
}

#[test]
fn show_settings_names_every_policy_source() {
    let output = podsec(&["check", "--show-settings", "tests/scenarios/cluster"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("project file tests/scenarios/cluster/.podsec.yaml (3 files):\n  admission configuration: tests/scenarios/cluster/cluster/admission.yaml (named by the project file)\n"), "{text}");
    assert!(text.contains("  namespace \"legacy\" (Namespace in tests/scenarios/cluster/manifests/namespaces.yaml): enforce restricted:latest from Namespace \"legacy\", label pod-security.kubernetes.io/enforce; warn baseline:latest from Namespace \"legacy\", label pod-security.kubernetes.io/warn\n"), "{text}");
    assert!(
        text.contains("  namespace \"ingress\" (namespaces: in tests/scenarios/cluster/.podsec.yaml):"),
        "{text}"
    );
    let overridden = stdout(&podsec(&[
        "check",
        "--show-settings",
        "--level",
        "baseline",
        "--ignore",
        "hostPorts",
        "examples",
    ]));
    assert!(overridden.starts_with("command line: baseline:latest enforced everywhere (--level)\nignored on the command line: hostPorts\nproject file .podsec.yaml (2 files):\n"), "{overridden}");
}

#[test]
fn suggest_level_prints_json_when_asked() {
    let output = podsec(&[
        "check",
        "--suggest-level",
        "--format",
        "json",
        "tests/scenarios/cluster",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["version"], 1);
    let first = &json["namespaces"][0];
    assert_eq!(first["namespace"], "payments");
    assert_eq!(
        first["workloads"][0]["file"],
        "tests/scenarios/cluster/manifests/workloads.yaml"
    );
    assert_eq!(
        podsec(&["check", "--suggest-level", "--format", "junit", "examples"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn completions_are_generated_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = podsec(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = stdout(&output);
        assert!(
            script.contains("podsec") && script.contains("policy-version"),
            "{shell}: {script}"
        );
    }
}

/// The issue's example: a Namespace enforcing restricted by its label, and a Deployment that exempts itself from
/// one check. PSA knows no per-check exemption: the finding stays an error and the exemption says why, unless
/// the project file says the cluster enforces podsec's exported admission policy; a podsec-only level keeps
/// honouring it.
#[test]
fn an_exemption_never_hides_what_a_namespace_label_enforces() {
    let manifest = "apiVersion: v1
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
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: nginx
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
";
    let dir = TempDir::new("exemption-label");
    let path = dir.write("app.yaml", manifest.as_bytes());
    let output = podsec(&["check", path.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("app.yaml:18:9: runAsNonRoot: runAsNonRoot != true"),
        "{text}"
    );
    assert!(
        text.contains("app.yaml:10:17: exemption-not-enforced: warning: PSA has no per-check exemption: namespace \"web\" enforces restricted:latest (Namespace \"web\", label pod-security.kubernetes.io/enforce), so the cluster will reject its pods for runAsNonRoot whatever this exemption says"),
        "{text}"
    );
    // JSON: the finding is a violation, not an exempted one.
    let json: Value = serde_json::from_str(&stdout(&podsec(&[
        "check",
        "--format",
        "json",
        path.to_str().unwrap(),
    ])))
    .unwrap();
    let object = &json["files"][0]["objects"][0];
    assert_eq!(object["violations"][0]["check"], "runAsNonRoot", "{object:#}");
    // With the exported admission policy declared, the exemption holds again.
    dir.write(".podsec.yaml", b"enforcedByAdmissionPolicy: true\n");
    let exported = podsec(&["check", path.to_str().unwrap()]);
    assert_eq!(exported.status.code(), Some(0), "{}", stdout(&exported));
    assert!(
        stdout(&exported).contains("1 finding exempted"),
        "{}",
        stdout(&exported)
    );
    // A level only podsec imposes (no label, the project file's level) honours it too.
    let unlabelled = manifest.replace(
        "labels: {pod-security.kubernetes.io/enforce: restricted}",
        "labels: {}",
    );
    dir.write(".podsec.yaml", b"level: restricted\n");
    dir.write("app.yaml", unlabelled.as_bytes());
    let podsec_only = podsec(&["check", path.to_str().unwrap()]);
    assert_eq!(podsec_only.status.code(), Some(0), "{}", stdout(&podsec_only));
}

/// `--policy-version` alone changes the version of each namespace's level, never the level.
#[test]
fn policy_version_alone_keeps_each_namespaces_level() {
    let manifest = b"apiVersion: v1
kind: Namespace
metadata: {name: cni, labels: {pod-security.kubernetes.io/enforce: privileged}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: cni}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers:
      - name: agent
        image: agent
        securityContext: {privileged: true}
";
    for version in ["latest", "v1.25"] {
        let output = podsec_with_stdin(&["check", "--policy-version", version, "-"], Some(manifest));
        assert_eq!(output.status.code(), Some(0), "{version}: {}", stdout(&output));
    }
    // --level still overrides every source.
    let output = podsec_with_stdin(&["check", "--level", "baseline", "-"], Some(manifest));
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
}

/// What the API server refuses is an error at the field, and `podsec fix` (safe or not) never writes an object
/// it refuses: the example's privileged container gets `allowPrivilegeEscalation: false` only together with
/// the removal of `privileged: true`, as one unsafe fix.
#[test]
fn api_server_refusals_are_errors_and_fixes_never_make_one() {
    let refused = b"apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: nginx
    securityContext:
      allowPrivilegeEscalation: false
      privileged: true
";
    let output = podsec_with_stdin(&["check", "--level", "privileged", "-"], Some(refused));
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("<stdin>:9:7: invalid-object: the API server refuses this Pod \"p\": spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"),
        "{text}"
    );
    let example = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    for args in [&["fix", "-"][..], &["fix", "--unsafe", "-"][..]] {
        let output = podsec_with_stdin(args, Some(&example));
        let fixed = stdout(&output);
        let after = podsec_with_stdin(&["check", "--format", "json", "-"], Some(fixed.as_bytes()));
        let json: Value = serde_json::from_str(&stdout(&after)).unwrap();
        let problems = json["files"][0]["problems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            problems.iter().all(|p| p["code"] != "invalid-object"),
            "{args:?} made an object the API server refuses:\n{fixed}\n{problems:#?}"
        );
        if args.len() == 2 {
            // Safe fixes leave the privileged container alone, and tell what is left.
            assert!(fixed.contains("privileged: true"), "{fixed}");
            assert!(
                stderr(&output).contains("unsafe fix available with --unsafe: Set allowPrivilegeEscalation: false and privileged: false on container \"app\""),
                "{}",
                stderr(&output)
            );
        } else {
            assert!(!fixed.contains("privileged: true"), "{fixed}");
        }
    }
}

/// One Pod with `containers` containers that set nothing: four restricted findings per container.
fn wide_pod(containers: usize) -> String {
    let mut text = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: wide\nspec:\n  containers:\n");
    for i in 0..containers {
        text.push_str(&format!(
            "  - name: container-{i}\n    image: nginx:1.{}\n",
            i % 30
        ));
    }
    text
}

/// Runs `podsec` as a child of Python, whose `getrusage(RUSAGE_CHILDREN)` gives its peak RSS in KiB on
/// standard error (python3 is what tests/run.sh needs already; GNU time may not be installed): the
/// output's size in bytes and the peak RSS.
fn output_size_and_peak_rss(args: &[&str]) -> (usize, u64) {
    let measure = "import resource, subprocess, sys\n\
                   status = subprocess.run(sys.argv[1:]).returncode\n\
                   print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n\
                   sys.exit(status)";
    let output = Command::new("python3")
        .args(["-c", measure])
        .arg(env!("CARGO_BIN_EXE_podsec"))
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .expect("python3");
    assert_eq!(output.status.code(), Some(1), "{args:?}: {}", stderr(&output));
    let peak = stderr(&output).lines().last().unwrap().trim().parse().unwrap();
    (output.stdout.len(), peak)
}

#[test]
fn output_is_linear_in_a_pods_containers_in_every_format() {
    const CONTAINERS: usize = 3_000;
    let dir = TempDir::new("wide-pod");
    let file = dir.write("wide.yaml", wide_pod(CONTAINERS).as_bytes());
    let file = file.to_str().unwrap();
    let json: Value = serde_json::from_str(&stdout(&podsec(&["check", "--format", "json", file]))).unwrap();
    let findings = json["summary"]["violations"].as_u64().unwrap();
    assert_eq!(findings, 4 * CONTAINERS as u64);
    for format in ["text", "json", "sarif", "github", "gitlab", "junit"] {
        let (bytes, peak_kib) = output_size_and_peak_rss(&["check", "--format", format, file]);
        let per_finding = bytes as u64 / findings;
        assert!(
            per_finding <= 1_536,
            "{format}: {per_finding} bytes per finding ({bytes} bytes)"
        );
        assert!(peak_kib <= 64 * 1024, "{format}: {peak_kib} KiB peak RSS");
    }
    // A finding names its own container, and PSA's sentence naming them all is written once per object.
    let text = stdout(&podsec(&["check", file]));
    let line = text
        .lines()
        .find(|l| l.contains("allowPrivilegeEscalation") && l.contains("container-7\""))
        .unwrap();
    assert!(line.contains("(container \"container-7\" must set"), "{line}");
    let naming_the_last = text.lines().filter(|l| l.contains("\"container-2999\"")).count();
    assert_eq!(
        naming_the_last,
        4 + 1,
        "its four findings and the object's sentence"
    );
}

#[test]
fn a_pod_of_thousands_of_aliases_of_one_container_is_checked_in_linear_time() {
    // 250 KB of `- *app`: once 261 s, when each finding scanned and copied every expanded container.
    let mut text = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: aliased\nspec:\n  containers:\n  - &app\n    name: app\n    image: nginx\n",
    );
    while text.len() < 250_000 {
        text.push_str("  - *app\n");
    }
    let dir = TempDir::new("aliases");
    let file = dir.write("aliases.yaml", text.as_bytes());
    for format in ["text", "json", "sarif", "github", "gitlab", "junit"] {
        let started = std::time::Instant::now();
        let output = podsec(&["check", "--format", format, file.to_str().unwrap()]);
        let elapsed = started.elapsed();
        assert_eq!(output.status.code(), Some(1), "{format}: {}", stderr(&output));
        // A debug build; the release build takes about 0.1 s.
        assert!(elapsed < Duration::from_secs(5), "{format}: {elapsed:?}");
        if format == "json" {
            // Every alias is the same field of the text: one finding per check, not one per alias.
            let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
            assert_eq!(json["summary"]["violations"], 4, "{}", json["summary"]);
        }
    }
}

#[test]
fn paths_found_by_walking_dot_are_shown_without_a_leading_dot_slash_in_every_format() {
    let dir = TempDir::new("dot-walk");
    dir.write(
        "deploy/web.yaml",
        &std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap(),
    );
    dir.write("bad.yaml", b"a: [\n");
    for args in [
        &["check", "."][..],
        &["check", "./"][..],
        &["check", "./deploy", "./bad.yaml"][..],
        &["check"][..],
    ] {
        for format in ["text", "json", "sarif", "github", "gitlab", "junit"] {
            let mut args = args.to_vec();
            args.extend(["--output-format", format]);
            let output = podsec_in(dir.path(), &args);
            let printed = stdout(&output);
            assert_eq!(output.status.code(), Some(1), "{args:?}: {}", stderr(&output));
            assert!(printed.contains("deploy/web.yaml"), "{args:?}: {printed}");
            assert!(!printed.contains("./"), "{args:?}: {printed}");
        }
    }
}

#[test]
fn fix_diff_exits_one_exactly_when_it_shows_a_diff() {
    let dir = TempDir::new("fix-diff-status");
    // No safe fix applies: findings are left, but there is no diff to show.
    let unfixable = dir.write(
        "unfixable.yaml",
        &std::fs::read(repo_root().join("tests/fixes/baseline-unsafe.yaml")).unwrap(),
    );
    let output = podsec(&["fix", "--diff", unfixable.to_str().unwrap()]);
    assert_eq!(stdout(&output), "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = podsec(&["fix", "--diff", "--unsafe", unfixable.to_str().unwrap()]);
    assert!(!stdout(&output).is_empty());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn fix_reports_a_summary_quietly_or_as_json_and_exit_zero_keeps_going() {
    let dir = TempDir::new("fix-report");
    let original = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let path = dir.write("web.yaml", &original);
    let name = path.to_str().unwrap();

    let output = podsec(&["fix", name]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "privileged is left without --unsafe"
    );
    let report = stderr(&output);
    let last = report.lines().last().unwrap();
    assert!(
        last.starts_with("Applied 1 fix in 1 file; ") && last.ends_with(" findings left in 1 file."),
        "{report}"
    );

    std::fs::write(&path, &original).unwrap();
    let output = podsec(&["fix", "-q", "--exit-zero", name]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output), "", "quiet prints no report");
    assert_ne!(std::fs::read(&path).unwrap(), original, "quiet still fixes");

    std::fs::write(&path, &original).unwrap();
    let output = podsec(&["fix", "--output-format", "json", name]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "");
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["version"], 1);
    let file = &json["files"][0];
    assert_eq!(file["path"], name);
    let applied = file["applied"].as_array().unwrap();
    assert!(!applied.is_empty(), "{json:#}");
    assert_eq!(json["summary"]["applied"], applied.len());
    let privileged = file["left"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "privileged")
        .unwrap();
    assert!(
        privileged["why"]
            .as_str()
            .unwrap()
            .starts_with("unsafe fix available with --unsafe: Remove privileged: true on container \"app\""),
        "{privileged}"
    );
    assert_eq!(json["summary"]["left"], file["left"].as_array().unwrap().len());

    let refused = podsec(&["fix", "--output-format", "json", "--diff", name]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn stdin_filename_without_a_dash_reads_standard_input_as_ruffs_does() {
    let yaml = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    let alone = podsec_with_stdin(&["check", "--stdin-filename", "web.yaml"], Some(&yaml));
    assert_eq!(alone.status.code(), Some(1), "{}", stderr(&alone));
    assert!(
        stdout(&alone).starts_with("web.yaml:17:9: allowPrivilegeEscalation:"),
        "{}",
        stdout(&alone)
    );
    // Other paths are ignored in favour of standard input, with a warning.
    let with_path = podsec_with_stdin(
        &[
            "check",
            "--stdin-filename",
            "web.yaml",
            "examples/restricted-pod.yaml",
        ],
        Some(&yaml),
    );
    assert_eq!(stdout(&with_path), stdout(&alone));
    assert!(
        stderr(&with_path).contains("ignoring examples/restricted-pod.yaml in favour of standard input"),
        "{}",
        stderr(&with_path)
    );
}

#[test]
fn json_summary_counts_agree_with_the_exit_status() {
    // Only a syntax error: exit 1, and the summary counts it as an error.
    let output = podsec_with_stdin(&["check", "--format", "json", "-"], Some(b"a: [\n"));
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["summary"]["errors"], 1, "{}", json["summary"]);
    assert_eq!(json["summary"]["violations"], 0);
    let clean = podsec(&["check", "--format", "json", "examples/restricted-pod.yaml"]);
    assert_eq!(clean.status.code(), Some(0));
    let json: Value = serde_json::from_str(&stdout(&clean)).unwrap();
    assert_eq!(json["summary"]["errors"], 0);
}

#[test]
fn output_file_takes_the_format_while_the_terminal_keeps_the_summary() {
    let dir = TempDir::new("output-file");
    let report = dir.path().join("report.sarif");
    let output = podsec(&[
        "check",
        "--output-format",
        "sarif",
        "--output-file",
        report.to_str().unwrap(),
        "examples/",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Found 11 errors in 1 object (2 files checked against restricted:latest).\n"
    );
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 11);
    let quiet = podsec(&[
        "check",
        "-q",
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
        "examples/",
    ]);
    assert_eq!(stdout(&quiet), "");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["errors"], 11);
    let unwritable = podsec(&["check", "--output-file", "/nonexistent/dir/report", "examples/"]);
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(
        stderr(&unwritable).contains("/nonexistent/dir/report"),
        "{}",
        stderr(&unwritable)
    );
}

#[test]
fn hidden_walks_hidden_directories() {
    let dir = TempDir::new("hidden");
    dir.write(".deploy/web.yaml", one_pod("web").as_bytes());
    dir.write("app/app.yaml", one_pod("app").as_bytes());
    let files = |args: &[&str]| stdout(&podsec_in(dir.path(), args));
    assert_eq!(files(&["check", "--show-files"]), "app/app.yaml\n");
    assert_eq!(
        files(&["check", "--show-files", "--hidden"]),
        ".deploy/web.yaml\napp/app.yaml\n"
    );
}

#[test]
fn a_baseline_hides_known_findings_across_line_moves_and_fails_on_new_ones() {
    let dir = TempDir::new("baseline");
    let original = std::fs::read_to_string(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    dir.write("web.yaml", original.as_bytes());
    dir.write("bad.yaml", b"a: [\n");
    let written = podsec_in(dir.path(), &["check", "--write-baseline", "baseline.json", "."]);
    assert_eq!(written.status.code(), Some(1), "writing a baseline still reports");
    assert!(
        stderr(&written).contains("wrote baseline.json (12 findings)"),
        "{}",
        stderr(&written)
    );
    let baseline: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("baseline.json")).unwrap()).unwrap();
    assert_eq!(baseline["version"], 1);
    assert!(
        !baseline.to_string().contains("\"line\""),
        "no line numbers: {baseline}"
    );

    // Lines move and an unrelated edit: every finding is still known, in every format.
    let moved = format!(
        "# moved down\n\n{}",
        original.replace("name: web", "name: web\n  labels: {app: web}")
    );
    dir.write("web.yaml", moved.as_bytes());
    for format in ["text", "json", "sarif", "github", "gitlab", "junit"] {
        let output = podsec_in(
            dir.path(),
            &["check", "--baseline", "baseline.json", "--format", format, "."],
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        assert!(
            stderr(&output)
                .contains("baseline.json: 12 findings known, not reported; 0 entries no longer match"),
            "{format}: {}",
            stderr(&output)
        );
        if format == "sarif" {
            let sarif: Value = serde_json::from_str(&stdout(&output)).unwrap();
            assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
        } else {
            assert!(
                !stdout(&output).contains("allowPrivilegeEscalation"),
                "{format}: {}",
                stdout(&output)
            );
        }
    }

    // A new finding fails the run; a fixed one is named as no longer matching.
    let changed = moved.replace("hostPort: 8080", "containerPort: 8081");
    let changed = changed.replacen("    spec:\n", "    spec:\n      hostNetwork: true\n", 1);
    dir.write("web.yaml", changed.as_bytes());
    let output = podsec_in(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json", "."],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let checks: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["objects"].as_array().unwrap())
        .flat_map(|o| o["violations"].as_array().unwrap())
        .map(|v| v["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["hostNamespaces"], "{json:#}");
    assert_eq!(json["summary"]["errors"], 1);
    let report = stderr(&output);
    assert!(report.contains("1 entry no longer matches"), "{report}");
    assert!(report.contains("fixed or moved: web.yaml: hostPorts: Deployment \"web\" in namespace \"payments\" spec.template.spec.containers[0].ports[0].hostPort"), "{report}");
}

/// `fix --diff` writes nothing, so what it leaves is reported at the file's own lines (those `check` gives),
/// even where a fix inserts lines above; `fix` reports at the lines of the file it wrote.
#[test]
fn fix_diff_reports_what_is_left_at_the_files_own_lines() {
    let dir = TempDir::new("fix-diff-lines");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: first\n    image: nginx\n  - name: second\n    image: nginx\n    ports:\n    - containerPort: 80\n      hostPort: 8080\n    securityContext:\n      privileged: true\n";
    let path = dir.write("pod.yaml", yaml.as_bytes());
    let name = path.to_str().unwrap();
    // The finding without the fix's advice: `path:line:column: check: message`.
    let located = |line: &str| line.split(" [").next().unwrap().to_string();
    let is_finding = |line: &str| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    };
    let check = podsec(&["check", name]);
    let checked: Vec<String> = stdout(&check)
        .lines()
        .filter(|l| is_finding(l))
        .map(located)
        .collect();

    let diff = podsec(&["fix", "--diff", name]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert!(
        stdout(&diff).contains("+      allowPrivilegeEscalation: false"),
        "the first container's fix inserts lines above what is left: {}",
        stdout(&diff)
    );
    let left: Vec<String> = stderr(&diff)
        .lines()
        .filter(|l| is_finding(l))
        .map(located)
        .collect();
    assert_eq!(left.len(), 7, "{}", stderr(&diff));
    for finding in &left {
        assert!(
            checked.contains(finding),
            "{finding} is not where check puts it: {checked:#?}"
        );
    }
    assert!(left.contains(&format!(
        "{name}:13:7: hostPorts: hostPort (container \"second\" uses hostPort 8080)"
    )));

    // Written, the file's lines are the fixed text's.
    let fix = podsec(&["fix", name]);
    let rechecked: Vec<String> = stdout(&podsec(&["check", name]))
        .lines()
        .filter(|l| is_finding(l))
        .map(located)
        .collect();
    let left: Vec<String> = stderr(&fix)
        .lines()
        .filter(|l| is_finding(l))
        .map(located)
        .collect();
    assert_eq!(left, rechecked);
    assert!(left.contains(&format!(
        "{name}:15:7: hostPorts: hostPort (container \"second\" uses hostPort 8080)"
    )));
}

/// `skip` in a project file: a file glob skips the files it matches however they are named (pre-commit
/// names them); a directory glob (`fixtures/`, or `dir/**`) is a directory a walk does not enter, so a
/// deliberately broken project file below it is never read, while naming the directory still checks it.
/// A project file in the working directory (`.podsec.yaml`, no directory in its path) skips too.
#[test]
fn skip_keeps_a_walk_out_of_a_directory_with_a_broken_project_file() {
    let dir = TempDir::new("skip-directories");
    let pod = std::fs::read(repo_root().join("examples/insecure-deployment.yaml")).unwrap();
    dir.write(".podsec.yaml", b"skip:\n  - fixtures/\n  - generated/*.yaml\n");
    dir.write("deploy/web.yaml", &pod);
    dir.write("generated/web.yaml", &pod);
    dir.write("fixtures/bad/.podsec.yaml", b"level: strict\n");
    dir.write("fixtures/bad/pod.yaml", &pod);
    dir.write("fixtures/insecure.yaml", &pod);

    let files = podsec_in(dir.path(), &["check", "--show-files", "."]);
    assert_eq!(stdout(&files), "deploy/web.yaml\n", "{}", stderr(&files));
    let output = podsec_in(dir.path(), &["check", "-v", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("podsec: note: fixtures/: skipped by `skip` in .podsec.yaml"),
        "{}",
        stderr(&output)
    );
    // Named on the command line, the directory is checked (and its broken project file is an error);
    // a file glob skips a file however it is named.
    assert_eq!(
        podsec_in(dir.path(), &["check", "fixtures/bad"]).status.code(),
        Some(2)
    );
    let named = podsec_in(dir.path(), &["check", "fixtures/insecure.yaml"]);
    assert!(
        stdout(&named).contains("fixtures/insecure.yaml:"),
        "{}",
        stdout(&named)
    );
    let generated = podsec_in(dir.path(), &["check", "generated/web.yaml"]);
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    assert!(
        stderr(&generated).contains("every YAML file is skipped"),
        "{}",
        stderr(&generated)
    );
}

/// podsec's own repository: `podsec check .` at the root walks past the test fixtures, benchmark
/// manifests and fuzz seeds its `.podsec.yaml` skips (one of them a broken project file, which made the run
/// a usage error), and checks what is left.
#[test]
fn checking_the_repository_root_passes_over_its_fixtures() {
    let files = podsec_in(&repo_root(), &["check", "--show-files", "."]);
    assert_eq!(files.status.code(), Some(0), "{}", stderr(&files));
    let listed = stdout(&files);
    assert!(listed.contains("examples/insecure-deployment.yaml\n"), "{listed}");
    for skipped in ["tests/", "benches/", "fuzz/"] {
        assert!(!listed.lines().any(|l| l.starts_with(skipped)), "{listed}");
    }
    // The examples show findings on purpose: findings, not a usage error.
    let output = podsec_in(&repo_root(), &["check", "-q", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

/// Auditing a live cluster: `kubectl get namespaces,pods,deployments,… -A -o yaml | podsec check -` is one
/// `v1 List` whose Namespaces' labels set the policy, with `status`, `managedFields` and controller-owned
/// Pods. A Pod's finding that its ReplicaSet and Deployment report too is reported once, on the
/// Deployment (and says so with --show-exempted); what only the Pod has (an injected sidecar) stays on it.
/// Without the ReplicaSets in the listing, the Pod's `pod-template-hash` still leads to its Deployment.
#[test]
fn a_live_cluster_listing_reports_each_finding_once_through_its_owner() {
    let list = std::fs::read_to_string(repo_root().join("tests/data/cluster-list.yaml")).unwrap();
    let check = |list: &str, extra: &[&str]| {
        let mut args = vec!["check", "--stdin-filename", "cluster.yaml"];
        args.extend_from_slice(extra);
        args.push("-");
        podsec_with_stdin(&args, Some(list.as_bytes()))
    };
    let findings_of = |output: &std::process::Output, object: &str| -> Vec<String> {
        stdout(output)
            .lines()
            .filter(|l| l.starts_with("  = ") && l.contains(object))
            .map(str::to_string)
            .collect()
    };
    for (listing, list) in [
        ("with ReplicaSets", list.clone()),
        ("without ReplicaSets", without_replica_sets(&list)),
    ] {
        let output = check(&list, &[]);
        assert_eq!(output.status.code(), Some(1), "{listing}: {}", stderr(&output));
        let text = stdout(&output);
        // The Deployment carries the template's findings, at the level its Namespace enforces.
        assert!(
            text.contains("= Deployment \"web\" (cluster.yaml:225:3): would violate PodSecurity \"baseline:v1.30\": privileged (container \"app\" must not set securityContext.privileged=true) [enforce from Namespace \"payments\""),
            "{listing}: {text}"
        );
        // The Pod that is its template, nothing more, is reported through it.
        assert!(
            findings_of(&output, "web-6d8f9c7b5-7xk2p").is_empty(),
            "{listing}: {text}"
        );
        assert!(findings_of(&output, "ReplicaSet").is_empty(), "{listing}: {text}");
        // The Pod with an injected sidecar keeps what its owners do not have.
        let sidecar = findings_of(&output, "web-6d8f9c7b5-q9w4m");
        assert!(
            sidecar.iter().any(|l| l.contains("baseline:v1.30\": non-default capabilities (container \"istio-proxy\" must not include \"NET_ADMIN\", \"NET_RAW\" in securityContext.capabilities.add), privileged")),
            "{listing}: {text}"
        );
        assert!(
            !text.contains("cluster.yaml:165:9: privileged:"),
            "its privileged app container is the Deployment's finding: {text}"
        );
        // The Pods' 6 (the ReplicaSet's 5 too, when it is listed).
        let on_owners = if listing == "with ReplicaSets" { 11 } else { 6 };
        assert!(
            text.ends_with(&format!("(1 file checked against their policies, {on_owners} findings of owned objects reported on their owners).\n")),
            "{listing}: {text}"
        );
        // A bare Pod has no owner; the privileged namespace's DaemonSet and its Pod pass.
        assert!(!findings_of(&output, "Pod \"debug\"").is_empty(), "{text}");
        assert!(findings_of(&output, "node-exporter").is_empty(), "{text}");

        let shown = check(&list, &["--show-exempted"]);
        assert!(
            stdout(&shown).contains("cluster.yaml:103:9: privileged: exempted (reported once, on its owner Deployment \"web\"): privileged (container \"app\" must not set securityContext.privileged=true)"),
            "{listing}: {}",
            stdout(&shown)
        );
    }
    // Which label each namespace could enforce today.
    let suggested = check(&list, &["--suggest-level"]);
    assert_eq!(suggested.status.code(), Some(0), "{}", stderr(&suggested));
    let text = stdout(&suggested);
    assert!(text.contains("namespace payments: privileged:latest"), "{text}");
    assert!(text.contains("namespace monitoring: privileged:latest"), "{text}");
}

/// The listing without its ReplicaSet item, as `kubectl get` prints it when `replicasets` is not asked for.
fn without_replica_sets(list: &str) -> String {
    let start = list.find("- apiVersion: apps/v1\n  kind: ReplicaSet\n").unwrap();
    let end = start
        + list[start..]
            .find("- apiVersion: apps/v1\n  kind: DaemonSet\n")
            .unwrap();
    format!("{}{}", &list[..start], &list[end..])
}

#[test]
fn a_charts_information_is_shown_by_the_text_only_and_ignore_takes_its_code() {
    let chart = "tests/helm/web";
    // The static reading, whatever Helm the machine has.
    let podsec = |args: &[&str]| podsec(&[args, &["--no-render"]].concat());
    let text = stdout(&podsec(&["check", chart]));
    assert_eq!(text.matches(": helm-value: info: ").count(), 2, "{text}");
    // No CI format makes a result, an issue, a test case or an annotation of it; errors stay.
    let sarif = sarif_of(&["check", "--format", "sarif", chart], None);
    let levels: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(
        levels.contains(&"error") && !levels.contains(&"note"),
        "{levels:?}"
    );
    let gitlab: Value =
        serde_json::from_str(&stdout(&podsec(&["check", "--format", "gitlab", chart]))).unwrap();
    let issues = gitlab.as_array().unwrap();
    assert!(!issues.is_empty() && issues.iter().all(|i| i["check_name"] != "helm-value"));
    let junit = stdout(&podsec(&["check", "--format", "junit", chart]));
    assert!(!junit.contains("helm-value"), "{junit}");
    assert_eq!(
        junit.matches("<testcase ").count(),
        2,
        "a case per object: {junit}"
    );
    let github = stdout(&podsec(&["check", "--format", "github", chart]));
    assert!(
        github.contains("::error ") && !github.contains("helm-value"),
        "{github}"
    );
    // `--ignore helm-value` sets them aside; the errors still fail the run.
    let ignored = podsec(&["check", "--ignore", "helm-value", "--format", "json", chart]);
    assert_eq!(ignored.status.code(), Some(1));
    let json: Value = serde_json::from_str(&stdout(&ignored)).unwrap();
    let codes: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["problems"].as_array().unwrap())
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"helm-value"), "{codes:?}");
    assert!(json["summary"]["errors"].as_u64().unwrap() > 0);
}
