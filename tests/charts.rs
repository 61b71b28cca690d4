//! Helm charts rendered by the real Helm (Helm v4's library, through `../shared/helm/helm-template.py`;
//! `tests/helm/install.sh` installs it and `tests/run.sh` passes its path in `PODSEC_TEST_HELM`): findings
//! on what Helm renders, put back in the template or values line that writes them, and the same verdicts
//! as podsec gives Helm's output itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{podsec_command, podsec_with_stdin, repo_root, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Helm the tests run.
fn helm() -> PathBuf {
    common::test_helm()
}

fn run(args: &[&str], cache: &Path) -> Output {
    podsec_command(args)
        .env("PODSEC_CACHE_DIR", cache)
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

fn fresh_cache(name: &str) -> PathBuf {
    // (Per process: two runs of these tests at once must not share a cache.)
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    cache
}

/// Every finding of a JSON report as `file:line:column check`, sorted.
fn findings(report: &Value) -> Vec<String> {
    let mut all = Vec::new();
    for file in report["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap();
        for object in file["objects"].as_array().unwrap() {
            for violation in object["violations"].as_array().unwrap() {
                for location in violation["locations"].as_array().unwrap() {
                    all.push(format!(
                        "{path}:{}:{} {}",
                        location["start"]["line"], location["start"]["column"], violation["check"]
                    ));
                }
            }
        }
    }
    all.sort();
    all
}

/// The report's file at `path`.
fn file<'r>(report: &'r Value, path: &str) -> &'r Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no {path} in {report}"))
}

/// Every policy-source problem and note of a JSON report, with its file's path.
fn notes(report: &Value) -> Vec<(String, Value)> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            f["config_problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (path.clone(), p.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A shell script at `path` that the tests run as Helm.
fn executable(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn findings_go_to_the_template_or_values_line_that_writes_them() {
    let helm = helm();
    let cache = fresh_cache("charts-lines");
    let output = run(
        &[
            "check",
            "--format",
            "json",
            "--config",
            "tests/helm/releases.podsec.yaml",
            "--helm",
            helm.to_str().unwrap(),
            "tests/helm/shop",
        ],
        &cache,
    );
    let report = json(&output);
    // The `shop` release passes restricted; `shop-debug`, with values-debug.yaml, breaks baseline three
    // times: hostPID and the added capability come from values-debug.yaml, the privileged container is
    // the template's own (behind `if .Values.debug.enabled`).
    assert_eq!(
        findings(&report),
        [
            "tests/helm/shop/templates/deployment.yaml:40:13 \"privileged\"",
            "tests/helm/shop/values-debug.yaml:2:1 \"hostNamespaces\"",
            "tests/helm/shop/values-debug.yaml:7:11 \"capabilities_baseline\"",
        ]
    );
    let deployment = file(&report, "tests/helm/shop/templates/deployment.yaml");
    let names: Vec<&str> = deployment["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop-shop", "shop-debug-shop"]);
    let debug = &deployment["objects"][1];
    assert_eq!(debug["namespace"], "debug");
    assert_eq!(debug["policy"], "baseline:latest");
    assert_eq!(
        debug["rendered"],
        "helm template shop-debug tests/helm/shop --namespace debug --values tests/helm/shop/values-debug.yaml"
    );
    assert_eq!(deployment["objects"][0]["policy"], "restricted:latest");
    assert_eq!(deployment["objects"][0]["allowed"], true);
    assert_eq!(output.status.code(), Some(1));

    // The text names the object a values line breaks, and how it was rendered.
    let text = stdout(&run(
        &[
            "check",
            "--config",
            "tests/helm/releases.podsec.yaml",
            "--helm",
            helm.to_str().unwrap(),
            "tests/helm/shop",
        ],
        &cache,
    ));
    assert!(
        text.contains(
            "tests/helm/shop/values-debug.yaml:2:1: hostNamespaces: host namespaces (hostPID=true) \
             [Deployment \"shop-debug-shop\" rendered by helm template shop-debug"
        ),
        "{text}"
    );
    assert!(text.contains("Found 3 errors in 1 object"), "{text}");
}

#[test]
fn rendered_verdicts_are_those_of_helms_output_checked_directly() {
    let helm = helm();
    let cache = fresh_cache("charts-verdicts");
    let chart = repo_root().join("tests/helm/shop");
    for (values, level) in [
        (None, "restricted"),
        (Some("values-debug.yaml"), "baseline"),
        (Some("values-debug.yaml"), "restricted"),
    ] {
        let mut command = Command::new(&helm);
        command.args(["template", "release-name", chart.to_str().unwrap()]);
        if let Some(values) = values {
            command.args(["--values", chart.join(values).to_str().unwrap()]);
        }
        let rendered = command.output().unwrap();
        assert!(rendered.status.success(), "{rendered:?}");
        let direct = json(&podsec_with_stdin(
            &["check", "--format", "json", "--level", level, "-"],
            Some(&rendered.stdout),
        ));
        // The chart checked in place, with the same values: a project file naming them.
        let project = cache.join(format!("{level}-{}.podsec.yaml", values.is_some()));
        std::fs::create_dir_all(&cache).unwrap();
        let values_line = values.map(|v| format!("\n    values: [{v}]")).unwrap_or_default();
        std::fs::write(
            &project,
            format!("charts:\n  - path: {}{values_line}\n", chart.display()),
        )
        .unwrap();
        let in_place = json(&run(
            &[
                "check",
                "--format",
                "json",
                "--level",
                level,
                "--config",
                project.to_str().unwrap(),
                "--helm",
                helm.to_str().unwrap(),
                "tests/helm/shop",
            ],
            &cache,
        ));
        // Each object's verdict (PSA's message) is the same, wherever its findings are put.
        let verdicts = |report: &Value| -> Vec<(String, String)> {
            let mut all: Vec<(String, String)> = report["files"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|f| f["objects"].as_array().unwrap().clone())
                .filter(|o| o["verdictElsewhere"] != true)
                .map(|o| {
                    (
                        o["name"].as_str().unwrap().to_string(),
                        o["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            all.sort();
            all
        };
        assert_eq!(verdicts(&in_place), verdicts(&direct), "{values:?} at {level}");
        assert_eq!(verdicts(&direct).len(), 1, "one Deployment");
        let failing = verdicts(&direct).iter().filter(|(_, m)| !m.is_empty()).count();
        assert_eq!(failing, usize::from(values.is_some()), "{values:?} at {level}");
        let count = |report: &Value| report["summary"]["errors"].as_u64().unwrap();
        assert_eq!(count(&in_place), count(&direct), "{values:?} at {level}");
    }
}

#[test]
fn renderings_are_cached_by_the_charts_content() {
    let helm = helm();
    let cache = fresh_cache("charts-cache");
    // A chart of our own to change, and a Helm that counts its runs.
    let work = cache.join("work");
    let chart = work.join("shop");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    for file in [
        "Chart.yaml",
        "values.yaml",
        "templates/_helpers.tpl",
        "templates/deployment.yaml",
    ] {
        std::fs::copy(repo_root().join("tests/helm/shop").join(file), chart.join(file)).unwrap();
    }
    let runs = work.join("runs");
    let counting = work.join("helm");
    executable(
        &counting,
        &format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
            runs.display(),
            helm.display()
        ),
    );
    let check = || {
        run(
            &[
                "check",
                "--helm",
                counting.to_str().unwrap(),
                chart.to_str().unwrap(),
            ],
            &cache,
        )
    };
    let count = || std::fs::read_to_string(&runs).unwrap_or_default().lines().count();
    assert_eq!(check().status.code(), Some(0));
    assert_eq!(count(), 1);
    assert_eq!(check().status.code(), Some(0));
    assert_eq!(count(), 1, "the second run reads the cache");
    // A changed value renders again, and its finding is found.
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        values.replace("hostPID: false", "hostPID: true"),
    )
    .unwrap();
    let output = check();
    assert_eq!(count(), 2);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("values.yaml:8:1: hostNamespaces"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_chart_helm_cannot_render_gets_helms_message_at_the_line_it_names() {
    let helm = helm();
    let cache = fresh_cache("charts-failure");
    // tests/helm/web calls a helper it does not define.
    let output = run(
        &[
            "check",
            "--format",
            "json",
            "--helm",
            helm.to_str().unwrap(),
            "tests/helm/web",
        ],
        &cache,
    );
    let report = json(&output);
    let deployment = file(&report, "tests/helm/web/templates/deployment.yaml");
    let note = deployment["config_problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "helm-render")
        .unwrap_or_else(|| panic!("{deployment}"));
    assert_eq!(note["severity"], "warning");
    assert_eq!(note["line"], 4);
    let message = note["message"].as_str().unwrap();
    assert!(message.contains("no template \"web.fullname\""), "{message}");
    // The templates keep their static reading: the literal `privileged: true` is still found.
    assert!(findings(&report).iter().any(|f| f.ends_with("\"privileged\"")));
}

#[test]
fn without_helm_a_chart_gets_one_note_at_its_chart_yaml() {
    let cache = fresh_cache("charts-no-helm");
    let output = podsec_command(&["check", "--format", "json", "tests/helm/shop"])
        .env("PODSEC_CACHE_DIR", &cache)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let report = json(&output);
    let notes: Vec<(String, Value)> = notes(&report)
        .into_iter()
        .filter(|(_, p)| p["code"] == "helm-template")
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, "tests/helm/shop/Chart.yaml");
    assert_eq!(notes[0].1["severity"], "information");
    assert!(notes[0].1["message"].as_str().unwrap().contains("no Helm"));
    // Read statically, the templates' literal fields are still judged: the debug container's
    // `privileged: true` fails; what the values write is information.
    let deployment = file(&report, "tests/helm/shop/templates/deployment.yaml");
    let privileged = deployment["objects"][0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["check"] == "privileged")
        .unwrap();
    assert_eq!(privileged["locations"][0]["start"]["line"], 40);
    assert!(
        deployment["problems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["code"] == "helm-value" && p["severity"] == "information")
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_dependency_beside_the_chart_is_put_in_for_helm() {
    let helm = helm();
    let cache = fresh_cache("charts-dependency");
    let temporary = cache.join("tmp");
    std::fs::create_dir_all(&temporary).unwrap();
    // tests/helm/store needs `basics` from an OCI registry; it sits beside it, as bitnami/common does in
    // bitnami/charts. Its hardened securityContext passes; the values' hostNetwork does not.
    let output = podsec_command(&[
        "check",
        "--format",
        "json",
        "--helm",
        helm.to_str().unwrap(),
        "tests/helm/store",
    ])
    .env("PODSEC_CACHE_DIR", &cache)
    .env("TMPDIR", &temporary)
    .output()
    .unwrap();
    let report = json(&output);
    assert_eq!(
        findings(&report),
        ["tests/helm/store/values.yaml:2:1 \"hostNamespaces\""]
    );
    let notes = notes(&report);
    assert!(notes.is_empty(), "{notes:?}");
    let rendered: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["objects"].as_array().unwrap())
        .filter_map(|o| o["rendered"].as_str())
        .collect();
    assert!(!rendered.is_empty());
    assert!(
        rendered
            .iter()
            .all(|r| r.ends_with("(with basics from beside the chart)")),
        "{rendered:?}"
    );
    // The copy Helm rendered is gone.
    assert_eq!(std::fs::read_dir(&temporary).unwrap().count(), 0);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_vendored_subchart_reads_its_values_under_its_name_in_the_parents() {
    let helm = helm();
    let cache = fresh_cache("charts-subchart");
    // tests/helm/portal sets `cache.hostIPC` for its subchart; the subchart's own values.yaml adds a
    // capability. The parent's top-level `securityContext` is its own, not the subchart's.
    let output = run(
        &[
            "check",
            "--format",
            "json",
            "--level",
            "baseline",
            "--helm",
            helm.to_str().unwrap(),
            "tests/helm/portal",
        ],
        &cache,
    );
    assert_eq!(
        findings(&json(&output)),
        [
            "tests/helm/portal/charts/cache/values.yaml:4:11 \"capabilities_baseline\"",
            "tests/helm/portal/values.yaml:6:3 \"hostNamespaces\"",
        ]
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_rendering_larger_than_max_file_size_is_refused_not_held() {
    let cache = fresh_cache("charts-huge");
    std::fs::create_dir_all(&cache).unwrap();
    // A Helm that prints without end.
    let endless = cache.join("helm");
    executable(&endless, "#!/bin/sh\nexec yes 'kind: Pod'\n");
    let output = run(
        &[
            "check",
            "--format",
            "json",
            "--max-file-size",
            "1MB",
            "--helm",
            endless.to_str().unwrap(),
            "tests/helm/shop",
        ],
        &cache,
    );
    let report = json(&output);
    let (_, note) = notes(&report)
        .into_iter()
        .find(|(_, p)| p["code"] == "helm-render")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("printed more than 1048576 bytes"),
        "{note}"
    );
}
