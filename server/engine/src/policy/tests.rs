//! The policy sources and their resolution.

use super::*;
use crate::policy::glob::{Date, glob_match};
use crate::yaml::Limits;

fn labels(pairs: &[(&str, &str)]) -> NamespaceLabels {
    let mut yaml = String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n");
    for (key, value) in pairs {
        yaml.push_str(&format!("    pod-security.kubernetes.io/{key}: {value:?}\n"));
    }
    namespace_labels(&yaml, &Limits::default()).remove(0)
}

fn policies(labels: &NamespaceLabels) -> Vec<String> {
    labels
        .modes
        .iter()
        .map(|(m, p)| format!("{}={}", m.as_str(), p.policy))
        .collect()
}

#[test]
fn labels_follow_psa_rules() {
    let l = labels(&[("enforce", "baseline"), ("warn", "restricted")]);
    assert_eq!(
        policies(&l),
        ["enforce=baseline:latest", "warn=restricted:latest"]
    );
    // Warn inherits enforce, with its version when warn has no version label.
    let l = labels(&[("enforce", "baseline"), ("enforce-version", "v1.25")]);
    assert_eq!(policies(&l), ["enforce=baseline:v1.25", "warn=baseline:v1.25"]);
    let l = labels(&[
        ("enforce", "restricted"),
        ("enforce-version", "v1.25"),
        ("warn-version", "v1.30"),
    ]);
    assert_eq!(
        policies(&l),
        ["enforce=restricted:v1.25", "warn=restricted:v1.30"]
    );
    // Invalid values fall back as PSA does, and say so.
    let l = labels(&[
        ("enforce", "strict"),
        ("warn", "loud"),
        ("audit-version", "1.25"),
        ("audit", "baseline"),
    ]);
    assert_eq!(
        policies(&l),
        [
            "enforce=restricted:latest",
            "warn=privileged:latest",
            "audit=baseline:latest"
        ]
    );
    let messages: Vec<&str> = l.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 3);
    assert!(
        messages[0].starts_with(
            "pod-security.kubernetes.io/enforce: must be one of privileged, baseline, restricted"
        )
    );
    assert!(messages.iter().any(|m| {
        m.starts_with("pod-security.kubernetes.io/audit-version: must be \"latest\" or \"v1.x\"")
    }));
    // An invalid enforce level is not inherited by warn.
    assert!(
        !policies(&labels(&[("enforce", "nope")]))
            .iter()
            .any(|p| p.starts_with("warn"))
    );
}

#[test]
fn resolution_precedence() {
    let admission = admission_config(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n    apiVersion: pod-security.admission.config.k8s.io/v1\n    kind: PodSecurityConfiguration\n    defaults: {enforce: baseline, warn: restricted}\n    exemptions: {namespaces: [kube-system], runtimeClasses: [kata], usernames: [admin]}\n",
        "cluster/psa.yaml",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(admission.1.len(), 1, "usernames reported as ignored");
    let mut context = PolicyContext {
        admission: Some(admission.0),
        ..PolicyContext::default()
    };
    context
        .namespaces
        .push(labels(&[("enforce", "restricted"), ("enforce-version", "v1.33")]));
    let payments = context.resolve(Some("payments"), None);
    assert_eq!(
        payments.modes[0].1.source,
        "Namespace \"payments\", label pod-security.kubernetes.io/enforce"
    );
    assert_eq!(payments.primary().to_string(), "restricted:v1.33");
    let other = context.resolve(Some("web"), None);
    assert_eq!(
        other
            .modes
            .iter()
            .map(|(m, p)| format!("{}={}", m.as_str(), p.policy))
            .collect::<Vec<_>>(),
        ["enforce=baseline:latest", "warn=restricted:latest"]
    );
    assert_eq!(other.modes[0].1.source, "cluster/psa.yaml, defaults.enforce");
    assert!(context.resolve(Some("kube-system"), None).exempt.is_some());
    assert!(context.resolve(Some("web"), Some("kata")).exempt.is_some());
    context.override_policy = Some(Policy::new(Level::Baseline, Version::Minor(20)));
    assert_eq!(
        context.resolve(Some("payments"), None).primary().to_string(),
        "baseline:v1.20"
    );
    let bare = PolicyContext {
        editor_default: Some(Policy::new(Level::Baseline, Version::Latest)),
        ..PolicyContext::default()
    };
    assert_eq!(bare.resolve(None, None).primary().to_string(), "baseline:latest");
}

#[test]
fn an_unlabelled_namespace_gets_the_default_only_when_no_admission_configuration_is_known() {
    let unlabelled = namespace_labels(
        "kind: Namespace\nmetadata:\n  name: ingress-nginx\n",
        &Limits::default(),
    );
    let only_warn = labels(&[("warn", "baseline")]);
    let mut context = PolicyContext {
        namespaces: unlabelled.into_iter().chain([only_warn]).collect(),
        ..PolicyContext::default()
    };
    let resolved = context.resolve(Some("ingress-nginx"), None);
    assert_eq!(resolved.primary().to_string(), "restricted:latest");
    assert_eq!(
        resolved.modes[0].1.source,
        "the default: Namespace \"ingress-nginx\" has no pod-security labels and no admission configuration is known"
    );
    // Any pod-security label: read exactly as PSA reads it (enforce falls back to privileged).
    let payments = context.resolve(Some("payments"), None);
    assert_eq!(
        payments
            .modes
            .iter()
            .map(|(m, p)| format!("{}={}", m.as_str(), p.policy))
            .collect::<Vec<_>>(),
        ["warn=baseline:latest"]
    );
    // The editor's setting is the default when there is no project file.
    context.editor_default = Some(Policy::new(Level::Baseline, Version::Minor(30)));
    let resolved = context.resolve(Some("ingress-nginx"), None);
    assert_eq!(resolved.primary().to_string(), "baseline:v1.30");
    assert!(resolved.modes[0].1.source.starts_with("the editor settings"));
    // A known admission configuration gives the cluster's defaults: here privileged, so nothing.
    context.admission = admission_config(
        "kind: PodSecurityConfiguration\ndefaults: {enforce: privileged}\n",
        "psa.yaml",
        &Limits::default(),
    )
    .map(|(a, _)| a);
    assert!(context.admission.is_some());
    assert!(context.resolve(Some("ingress-nginx"), None).modes.is_empty());
}

#[test]
fn project_file_problems_are_located() {
    let text = "level: strict\nnamespaces:\n  ingress: {enforce: baseline, colour: red}\nexemptions:\n- check: hostPorts\n  name: \"ingress-*\"\n  reason: needs host ports\n  expires: 2026-01-31\n- check: noSuchCheck\n  reason: x\n- check: privileged\nbogus: 1\n";
    let (config, problems) = crate::sources::project_file(text, &Limits::default());
    let found: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.code, &text[p.span.start..p.span.end]))
        .collect();
    assert_eq!(
        found,
        [
            ("invalid-config", "level: strict"),
            ("unknown-key", "colour"),
            ("invalid-exemption", "check: noSuchCheck"),
            ("invalid-exemption", "check: privileged"),
            ("unknown-key", "bogus"),
        ]
    );
    assert_eq!(config.exemptions.len(), 1);
    assert_eq!(
        config.namespaces[0].modes[0].1.policy.to_string(),
        "baseline:latest"
    );
    let context = PolicyContext {
        project: Some(config),
        today: Date::parse("2026-11-24"),
        ..PolicyContext::default()
    };
    let expired = context.exemption_problems(&[]);
    assert_eq!(expired[0].code, "expired-exemption");
    assert_eq!(
        expired[0].message,
        "the exemption from hostPorts expired on 2026-01-31: it no longer applies"
    );
}

#[test]
fn globs_and_dates() {
    assert!(glob_match("ingress-*", "ingress-nginx"));
    assert!(!glob_match("charts/*", "charts/a/b.yaml"));
    assert!(glob_match("charts/**", "charts/a/b.yaml"));
    assert!(glob_match("**/*.yaml", "a/b/c.yaml"));
    assert!(glob_match("?.yml", "a.yml"));
    assert_eq!(Date::from_unix_days(20_781).to_string(), "2026-11-24");
    assert!(Date::parse("2026-13-01").is_none());
}
