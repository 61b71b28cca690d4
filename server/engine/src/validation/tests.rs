//! The API server's rules on small pods, with upstream's messages (cases after upstream's
//! `validation_test.go`: the same fields, the same verdicts).

use super::rejections;
use crate::workload::pod_objects;
use crate::yaml::{Limits, documents};

fn messages(text: &str) -> Vec<String> {
    let document = documents(text, &Limits::default()).next().expect("a document");
    pod_objects(&document)
        .iter()
        .flat_map(|object| rejections(&document, object))
        .map(|r| r.message)
        .collect()
}

fn pod(security: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext:\n{security}"
    )
}

#[test]
fn allow_privilege_escalation_false_is_refused_beside_privileged_or_cap_sys_admin() {
    assert_eq!(
        messages(&pod(
            "      allowPrivilegeEscalation: false\n      privileged: true\n"
        )),
        [
            "spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        ]
    );
    assert_eq!(
        messages(&pod(
            "      allowPrivilegeEscalation: false\n      capabilities:\n        add: [CAP_SYS_ADMIN]\n"
        )),
        [
            "spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"
        ]
    );
    // Upstream compares the literal string: SYS_ADMIN is not CAP_SYS_ADMIN; and only an explicit false counts.
    assert!(
        messages(&pod(
            "      allowPrivilegeEscalation: false\n      capabilities:\n        add: [SYS_ADMIN]\n"
        ))
        .is_empty()
    );
    assert!(
        messages(&pod(
            "      allowPrivilegeEscalation: true\n      privileged: true\n"
        ))
        .is_empty()
    );
    assert!(messages(&pod("      privileged: true\n")).is_empty());
}

#[test]
fn profile_types_and_localhost_profiles() {
    assert_eq!(
        messages(&pod("      seccompProfile:\n        type: Localhost\n")),
        [
            "spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost"
        ]
    );
    assert_eq!(
        messages(&pod(
            "      seccompProfile:\n        type: RuntimeDefault\n        localhostProfile: x.json\n"
        )),
        [
            "spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: \"x.json\": can only be set when seccomp type is Localhost"
        ]
    );
    assert_eq!(
        messages(&pod("      appArmorProfile:\n        type: runtimedefault\n")),
        [
            "spec.containers[0].securityContext.appArmorProfile.type: Unsupported value: \"runtimedefault\": supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\""
        ]
    );
    assert_eq!(
        messages(&pod(
            "      seccompProfile:\n        type: Localhost\n        localhostProfile: ../x.json\n"
        )),
        [
            "spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: \"../x.json\": must not contain '..'"
        ]
    );
    assert!(
        messages(&pod(
            "      seccompProfile:\n        type: Localhost\n        localhostProfile: x.json\n"
        ))
        .is_empty()
    );
}

#[test]
fn legacy_annotations_must_agree_with_fields_when_a_pod_is_created() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    metadata:\n      annotations:\n        seccomp.security.alpha.kubernetes.io/pod: unconfined\n        container.apparmor.security.beta.kubernetes.io/app: unconfined\n    spec:\n      securityContext:\n        seccompProfile:\n          type: RuntimeDefault\n      containers:\n      - name: app\n        securityContext:\n          appArmorProfile:\n            type: RuntimeDefault\n";
    let document = documents(text, &Limits::default()).next().expect("a document");
    let objects = pod_objects(&document);
    let found = rejections(&document, &objects[0]);
    let found: Vec<(&str, bool)> = found
        .iter()
        .map(|r| (r.message.as_str(), r.on_pod_create))
        .collect();
    assert_eq!(
        found,
        [
            (
                "spec.template.spec.securityContext.seccompProfile.type: Forbidden: seccomp type in annotation and field must match",
                true
            ),
            (
                "spec.template.spec.containers[0].securityContext.appArmorProfile.type: Forbidden: apparmor type in annotation and field must match",
                true
            ),
        ]
    );
    // docker/default agrees with RuntimeDefault for seccomp; a container annotation is compared with the
    // container's own field only.
    assert!(messages(&pod("      seccompProfile:\n        type: RuntimeDefault\n").replace("  name: p\n", "  name: p\n  annotations:\n    container.seccomp.security.alpha.kubernetes.io/app: docker/default\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\n")).is_empty());
    // An AppArmor annotation must name a container.
    assert_eq!(
        messages(&pod("      runAsUser: 1\n").replace("  name: p\n", "  name: p\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/other: runtime/default\n")),
        ["metadata.annotations[container.apparmor.security.beta.kubernetes.io/other]: Invalid value: \"other\": container not found"]
    );
}

#[test]
fn windows_pods_refuse_linux_fields_and_linux_pods_windows_options() {
    let windows = pod("      allowPrivilegeEscalation: false\n      runAsNonRoot: true\n")
        .replace("spec:\n", "spec:\n  os:\n    name: windows\n");
    assert_eq!(
        messages(&windows),
        [
            "spec.containers[0].securityContext.allowPrivilegeEscalation: Forbidden: cannot be set for a windows pod"
        ]
    );
    let linux = pod("      windowsOptions:\n        runAsUserName: x\n")
        .replace("spec:\n", "spec:\n  os:\n    name: linux\n");
    assert_eq!(
        messages(&linux),
        [
            "spec.containers[0].securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod"
        ]
    );
    // Without spec.os neither rule applies.
    assert!(
        messages(&pod(
            "      windowsOptions:\n        runAsUserName: x\n      allowPrivilegeEscalation: false\n"
        ))
        .is_empty()
    );
}

#[test]
fn host_process_containers_are_all_or_none_and_need_the_hosts_network() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    securityContext:\n      windowsOptions:\n        hostProcess: true\n  - name: b\n";
    assert_eq!(
        messages(text),
        [
            "spec: Invalid value: \"\": If pod contains any hostProcess containers then all containers must be HostProcess containers",
            "spec.hostNetwork: Invalid value: false: hostNetwork must be true if pod contains any hostProcess containers",
        ]
    );
    let pod_level = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n  securityContext:\n    windowsOptions:\n      hostProcess: true\n  containers:\n  - name: a\n  - name: b\n    securityContext:\n      windowsOptions:\n        hostProcess: false\n";
    assert_eq!(
        messages(pod_level),
        [
            "spec.containers[1].securityContext.windowsOptions.hostProcess: Invalid value: false: pod hostProcess value must be identical if both are specified, was true",
            "spec: Invalid value: \"\": If pod contains any hostProcess containers then all containers must be HostProcess containers",
        ]
    );
}

#[test]
fn ids_ports_proc_mount_and_mount_propagation() {
    assert_eq!(
        messages(&pod("      runAsUser: -1\n      procMount: Unmasked\n")),
        [
            "spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
            "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`",
        ]
    );
    assert!(
        messages(&pod("      procMount: Unmasked\n").replace("spec:\n", "spec:\n  hostUsers: false\n"))
            .is_empty()
    );
    let ports = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n  containers:\n  - name: a\n    ports:\n    - containerPort: 80\n      hostPort: 8080\n    - containerPort: 81\n    volumeMounts:\n    - name: v\n      mountPath: /v\n      mountPropagation: Bidirectional\n";
    assert_eq!(
        messages(ports),
        [
            "spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true",
            "spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers",
        ]
    );
}

#[test]
fn a_chart_templates_action_makes_a_refusal_unknown_where_it_could_change_it() {
    use crate::analysis::{Options, analyze};
    let refusals = |text: &str| -> Vec<String> {
        analyze(text, &Options::default())
            .problems
            .into_iter()
            .filter(|p| p.code == "invalid-object")
            .map(|p| p.message)
            .collect()
    };
    // A templated type is no unsupported value; a literal contradiction beside an action in another container
    // is still refused.
    let templated = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    securityContext:\n      seccompProfile:\n        type: {{ .Values.type }}\n  - name: b\n    image: {{ .Values.image }}\n  - name: c\n    securityContext:\n      allowPrivilegeEscalation: false\n      privileged: true\n";
    assert_eq!(
        refusals(templated),
        [
            "the API server refuses this Pod \"p\": spec.containers[2].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        ]
    );
    // hostProcess reads the whole pod: a templated hostNetwork makes it unknown.
    let host_process = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: {{ .Values.hostNetwork }}\n  securityContext:\n    windowsOptions:\n      hostProcess: true\n  containers:\n  - name: a\n";
    assert_eq!(refusals(host_process), Vec::<String>::new());
}
