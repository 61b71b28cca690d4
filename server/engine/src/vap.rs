//! The admission-policy export (`podsec export vap`): a `ValidatingAdmissionPolicy` per level and version
//! that enforces PSA's checks in CEL, one validation per check (its `cel`), and the bindings that apply
//! it to namespaces. Text only: the shells decide what to bind where and print it.
//!
//! The policy matches Pods and every pod-bearing kind PSA reads, on CREATE and UPDATE (a Pod's update
//! only when PSA would evaluate it: a significant one). Its variables select the pod's metadata and spec
//! per kind; `variables.exempted` lists the checks an object is exempted from, by its annotations
//! `podsec.dev/exempt.<check-id>` (on the object or its pod template, with a non-empty reason) and by the
//! project file's exemptions, compiled in.

use crate::cel::{SORTED_POSITIONS, literal};
use crate::checks::checks_for;
use crate::policy::{Exemption, Level, Mode, Policy};

/// The object's pod template: a Pod is its own, a PodTemplate's is `template`, a CronJob's is in its job
/// template, the other kinds' is `spec.template`.
const TEMPLATE: &str = "object.kind == 'Pod' ? object : \
     object.kind == 'PodTemplate' ? (has(object.template) ? object.template : {}) : \
     object.kind == 'CronJob' ? (has(object.spec) && has(object.spec.jobTemplate) && has(object.spec.jobTemplate.spec) && has(object.spec.jobTemplate.spec.template) ? object.spec.jobTemplate.spec.template : {}) : \
     (has(object.spec) && has(object.spec.template) ? object.spec.template : {})";

/// The object's pod template, its pod spec and what the checks read of them.
const VARIABLES: &[(&str, &str)] = &[
    ("template", TEMPLATE),
    (
        "spec",
        "has(variables.template.spec) ? variables.template.spec : {}",
    ),
    (
        "annotations",
        "has(variables.template.metadata) && has(variables.template.metadata.annotations) ? variables.template.metadata.annotations : {}",
    ),
    (
        "containers",
        "(has(variables.spec.initContainers) ? variables.spec.initContainers : []) + \
         (has(variables.spec.containers) ? variables.spec.containers : []) + \
         (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
    ),
    (
        "volumes",
        "has(variables.spec.volumes) ? variables.spec.volumes : []",
    ),
];

/// The annotation that exempts an object from a check, less the check ID.
const EXEMPTION_PREFIX: &str = "podsec.dev/exempt.";

/// A Pod's update is evaluated by PSA only when significant: containers or init containers added or
/// removed, an image changed, an ephemeral container added or changed.
fn significant_pod_update() -> String {
    let differs = |list: &str, item: &str| {
        let of =
            |object: &str| format!("(has({object}.spec.{list}) ? {object}.spec.{list}.map(c, {item}) : [])");
        format!("{} != {}", of("object"), of("oldObject"))
    };
    [
        "request.operation != 'UPDATE' || object.kind != 'Pod' || oldObject == null".to_string(),
        differs("containers", "c.image"),
        differs("initContainers", "c.image"),
        differs("ephemeralContainers", "c.name + '=' + c.image"),
    ]
    .join(" || ")
}

/// The kinds the policy matches: Pods (and their ephemeral containers) and every pod-bearing workload.
const RESOURCE_RULES: &[&str] = &[
    "- apiGroups: [\"\"]",
    "  apiVersions: [v1]",
    "  operations: [CREATE, UPDATE]",
    "  resources: [pods, pods/ephemeralcontainers, replicationcontrollers, podtemplates]",
    "- apiGroups: [apps]",
    "  apiVersions: [v1]",
    "  operations: [CREATE, UPDATE]",
    "  resources: [deployments, replicasets, statefulsets, daemonsets]",
    "- apiGroups: [batch]",
    "  apiVersions: [v1]",
    "  operations: [CREATE, UPDATE]",
    "  resources: [jobs, cronjobs]",
];

/// The name of the policy for `policy`: `podsec-restricted-latest`, `podsec-baseline-v1.30`.
pub fn policy_name(policy: Policy) -> String {
    format!("podsec-{}-{}", policy.level, policy.version)
}

/// The `ValidatingAdmissionPolicy` that enforces `policy` (not privileged, which checks nothing), with the
/// project file's `exemptions` compiled in (those that name a container are not: a check judges the pod),
/// and the admission configuration's exempt runtime classes, whose pods PSA does not check.
pub fn validating_admission_policy(
    policy: Policy,
    exemptions: &[Exemption],
    exempt_runtime_classes: &[String],
) -> String {
    let minor = policy.version.evaluated_minor();
    let mut out = String::new();
    out.push_str("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n");
    out.push_str(&format!("  name: {}\n", policy_name(policy)));
    out.push_str(&format!(
        "  annotations:\n    podsec.dev/policy: \"{policy}\"\nspec:\n  failurePolicy: Fail\n"
    ));
    out.push_str("  matchConstraints:\n    resourceRules:\n");
    for line in RESOURCE_RULES {
        out.push_str(&format!("    {line}\n"));
    }
    out.push_str("  matchConditions:\n  - name: significant-pod-update\n");
    block(&mut out, "    expression", &significant_pod_update());
    if !exempt_runtime_classes.is_empty() {
        let classes: Vec<String> = exempt_runtime_classes.iter().map(|c| literal(c)).collect();
        out.push_str("  - name: runtime-class-not-exempt\n");
        block(
            &mut out,
            "    expression",
            &format!(
                "[{TEMPLATE}].map(t, !(has(t.spec) && has(t.spec.runtimeClassName) && t.spec.runtimeClassName in [{}]))[0]",
                classes.join(", ")
            ),
        );
    }
    out.push_str("  variables:\n");
    for (name, expression) in VARIABLES {
        out.push_str(&format!("  - name: {name}\n"));
        block(&mut out, "    expression", expression);
    }
    out.push_str("  - name: positions\n");
    let positions: Vec<String> = (0..SORTED_POSITIONS).map(|i| i.to_string()).collect();
    block(&mut out, "    expression", &format!("[{}]", positions.join(", ")));
    out.push_str("  - name: exempted\n");
    block(&mut out, "    expression", &exempted(exemptions));
    out.push_str("  validations:\n");
    for check in checks_for(policy) {
        let cel = (check.cel)(minor);
        let id = literal(check.id);
        out.push_str(&format!(
            "  - expression: >-\n      {id} in variables.exempted || ({})\n",
            cel.expression
        ));
        out.push_str(&format!("    message: \"{}: {}\"\n", check.id, check.reason));
        block(
            &mut out,
            "    messageExpression",
            &format!(
                "{} + ({}) + ' (' + ({}) + ')'",
                literal(&format!("{}: ", check.id)),
                cel.reason,
                cel.detail
            ),
        );
        out.push_str("    reason: Forbidden\n");
    }
    out
}

/// `key: >-` and the expression on one indented line (a folded scalar keeps a single line as written,
/// with no escaping of CEL's quotes and backslashes).
fn block(out: &mut String, key: &str, expression: &str) {
    let indent = key.len() - key.trim_start().len() + 2;
    out.push_str(&format!("{key}: >-\n{}{expression}\n", " ".repeat(indent)));
}

/// `variables.exempted`: the check IDs of the object's exemption annotations with a non-empty reason (on
/// the object and on its pod template), and of the project file's exemptions that match it.
fn exempted(exemptions: &[Exemption]) -> String {
    let prefix = literal(EXEMPTION_PREFIX);
    let annotated = |annotations: &str| {
        format!(
            "{annotations}.filter(k, k.startsWith({prefix}) && {annotations}[k].trim() != '').map(k, k.substring({}))",
            EXEMPTION_PREFIX.len()
        )
    };
    let mut parts = vec![
        annotated("(has(object.metadata.annotations) ? object.metadata.annotations : {})"),
        annotated("variables.annotations"),
    ];
    for exemption in exemptions.iter().filter(|e| e.container.is_none()) {
        let mut condition = workload_is(exemption.kind.as_deref(), exemption.name.as_deref());
        if let Some(namespace) = &exemption.namespace {
            condition = format!("request.namespace == {} && ({condition})", literal(namespace));
        }
        parts.push(format!("({condition} ? [{}] : [])", literal(&exemption.check)));
    }
    parts.join(" + ")
}

/// Whether the object is the workload of `kind` named like the glob `name` (each unset matches any), or
/// was created by it: a controller's ReplicaSet, Job or Pod names it (or the ReplicaSet or Job it made) as
/// its owner, so what a Deployment or CronJob creates is exempted with it, as `podsec check` exempts its pod.
fn workload_is(kind: Option<&str>, name: Option<&str>) -> String {
    let kind_is =
        |expression: &str| kind.map_or("true".to_string(), |k| format!("{expression} == {}", literal(k)));
    let name_matches = |expression: &str| {
        name.map_or("true".to_string(), |glob| {
            format!(
                "{expression}.matches({})",
                literal(&format!("^{}$", glob_regex(glob)))
            )
        })
    };
    let owners = "(has(object.metadata.ownerReferences) ? object.metadata.ownerReferences : [])";
    let mut alternatives = vec![
        format!(
            "({} && {})",
            kind_is("object.kind"),
            name_matches("(has(object.metadata.name) ? object.metadata.name : '')")
        ),
        format!(
            "{owners}.exists(o, {} && {})",
            kind_is("o.kind"),
            name_matches("o.name")
        ),
    ];
    if kind.is_none_or(|k| k == "Deployment") {
        // A Deployment's pod is owned by its ReplicaSet, `<deployment>-<pod-template-hash>`.
        let hash = "object.metadata.labels['pod-template-hash']";
        alternatives.push(format!(
            "(object.kind == 'Pod' && has(object.metadata.labels) && 'pod-template-hash' in object.metadata.labels && \
             {owners}.exists(o, o.kind == 'ReplicaSet' && o.name.endsWith('-' + {hash}) && {}))",
            name_matches(&format!("o.name.substring(0, size(o.name) - size({hash}) - 1)"))
        ));
    }
    if kind.is_none_or(|k| k == "CronJob") {
        // A CronJob's pod is owned by its Job, `<cronjob>-<scheduled minute>`.
        let job = format!("^{}-[0-9]+$", name.map_or(".*".to_string(), glob_regex));
        alternatives.push(format!(
            "(object.kind == 'Pod' && {owners}.exists(o, o.kind == 'Job' && o.name.matches({})))",
            literal(&job)
        ));
    }
    alternatives.join(" || ")
}

/// The project file's glob (`*` anything but `/`, `**` anything, `?` one character) as RE2, unanchored.
fn glob_regex(glob: &str) -> String {
    let mut regex = String::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                regex.push_str(".*");
            }
            '*' => regex.push_str("[^/]*"),
            '?' => regex.push('.'),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/' => regex.push(c),
            c => {
                regex.push('\\');
                regex.push(c);
            }
        }
    }
    regex
}

/// Which namespaces a binding applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    /// One namespace, by its name label.
    One(String),
    /// Every namespace but these.
    AllBut(Vec<String>),
}

/// A `ValidatingAdmissionPolicyBinding` of the policy for `policy`, with the validation actions of the
/// modes it stands for.
pub fn binding(name: &str, policy: Policy, modes: &[Mode], namespaces: &Namespaces) -> String {
    let mut out = String::new();
    out.push_str(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n",
    );
    out.push_str(&format!(
        "  name: {name}\nspec:\n  policyName: {}\n",
        policy_name(policy)
    ));
    out.push_str(&format!("  validationActions: [{}]\n", actions(modes).join(", ")));
    out.push_str("  matchResources:\n    namespaceSelector:\n");
    match namespaces {
        Namespaces::One(namespace) => out.push_str(&format!(
            "      matchLabels:\n        kubernetes.io/metadata.name: {}\n",
            yaml_string(namespace)
        )),
        Namespaces::AllBut(excluded) if excluded.is_empty() => out.push_str("      {}\n"),
        Namespaces::AllBut(excluded) => {
            let names: Vec<String> = excluded.iter().map(|n| yaml_string(n)).collect();
            out.push_str(&format!(
                "      matchExpressions:\n      - key: kubernetes.io/metadata.name\n        operator: NotIn\n        values: [{}]\n",
                names.join(", ")
            ));
        }
    }
    out
}

/// The validation actions of PSA's modes: enforce denies, warn warns (only where nothing denies: the API
/// forbids Deny with Warn, and PSA sends no warnings on a denied request), audit annotates the audit event.
pub fn actions(modes: &[Mode]) -> Vec<&'static str> {
    let mut actions = Vec::new();
    if modes.contains(&Mode::Enforce) {
        actions.push("Deny");
    } else if modes.contains(&Mode::Warn) {
        actions.push("Warn");
    }
    if modes.contains(&Mode::Audit) {
        actions.push("Audit");
    }
    actions
}

/// Whether a policy checks anything (privileged does not, so it needs no policy).
pub fn checks_anything(policy: Policy) -> bool {
    policy.level != Level::Privileged
}

/// A YAML double-quoted string.
fn yaml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_become_regular_expressions() {
        assert_eq!(glob_regex("web-*"), "web-[^/]*");
        assert_eq!(glob_regex("a.b?**"), "a\\.b..*");
    }

    #[test]
    fn enforce_denies_and_warn_only_warns_where_nothing_denies() {
        assert_eq!(
            actions(&[Mode::Enforce, Mode::Warn, Mode::Audit]),
            ["Deny", "Audit"]
        );
        assert_eq!(actions(&[Mode::Warn]), ["Warn"]);
    }
}
