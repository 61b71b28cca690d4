//! What the API server's validation refuses among the fields podsec reads and its fixes write.
//!
//! The rules are upstream's (kubernetes/kubernetes, `pkg/apis/core/validation/validation.go`, v1.34); each
//! names the function it follows, and each message is upstream's `field.Error`, printed as the API server
//! prints it (`<path>: <type>: <detail>`), less Go's dump of a whole struct where upstream prints one.
//! The analysis reports these as `invalid-object` errors (the object, or the pods a workload creates, are
//! refused), and refuses any fix whose result breaks one of them that the object did not already break.
//!
//! Paths are the object's own (`spec.template.spec.containers[0].securityContext`), as kubectl shows them.

use crate::pod::{Container, Loc, Pod};
use crate::workload::PodObject;
use crate::yaml::{Document, Entry, NodeRef};

/// One refusal of the API server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The field it is about, for the diagnostic's place.
    pub loc: Loc,
    /// Upstream's error, with the object's path: `spec.containers[0].securityContext: Invalid value: …`.
    pub message: String,
    /// Whether only a Pod's creation checks it (`ValidatePodCreate`): a workload is accepted, and every pod
    /// it then creates is refused.
    pub on_pod_create: bool,
    /// Whether it reads beyond the container it is located in (the pod's annotations, its other containers,
    /// `hostNetwork`): a chart template's action anywhere in the pod may change it.
    pub reads_the_pod: bool,
}

/// `validation.IsValidUserID` / `IsValidGroupID`: `0 <= id <= math.MaxInt32`.
const MAX_ID: i64 = 2_147_483_647;

/// The legacy seccomp annotations (`v1.SeccompPodAnnotationKey`, `v1.SeccompContainerAnnotationKeyPrefix`).
pub const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
/// The prefix of a container's legacy seccomp annotation; the container's name follows.
pub const SECCOMP_CONTAINER_ANNOTATION: &str = "container.seccomp.security.alpha.kubernetes.io/";
/// The prefix of a container's AppArmor annotation (`core.DeprecatedAppArmorAnnotationKeyPrefix`).
pub const APPARMOR_CONTAINER_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The security-context fields `validateWindows` forbids on a pod with `spec.os.name: windows`, pod level.
const WINDOWS_FORBIDDEN_POD: &[&str] = &[
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "sysctls",
    "runAsUser",
    "runAsGroup",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "seLinuxChangePolicy",
];

/// The same, container level.
const WINDOWS_FORBIDDEN_CONTAINER: &[&str] = &[
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "capabilities",
    "readOnlyRootFilesystem",
    "privileged",
    "allowPrivilegeEscalation",
    "procMount",
    "runAsUser",
    "runAsGroup",
];

/// Every refusal of `object`'s pod, pod level first, then each container in PSA's order.
pub fn rejections(document: &Document<'_>, object: &PodObject<'_>) -> Vec<Rejection> {
    let mut found = Rejections {
        document,
        object_path: document.path_of(object.object.id()),
        found: Vec::new(),
    };
    let pod = &object.pod;
    let os = pod
        .spec
        .and_then(|s| s.get("os"))
        .and_then(|os| os.get("name"))
        .and_then(|n| n.as_str());
    if let Some(context) = pod.security_context() {
        found.security_context_ids(context, &["runAsUser", "runAsGroup", "fsGroup"]);
        found.profile(context, Profile::Seccomp);
        found.profile(context, Profile::AppArmor);
        found.os_forbidden(context, os, WINDOWS_FORBIDDEN_POD);
    }
    if let (Some("windows"), Some(spec)) = (os, pod.spec) {
        found.windows_spec(spec);
    }
    let host_users = pod
        .spec
        .and_then(|s| s.get("hostUsers"))
        .and_then(|h| h.as_bool())
        != Some(false);
    let host_network = pod
        .spec
        .and_then(|s| s.get("hostNetwork"))
        .and_then(|h| h.as_bool())
        == Some(true);
    for container in pod.containers() {
        let Some(context) = container.security_context() else {
            continue;
        };
        found.privilege_escalation(context);
        found.security_context_ids(context, &["runAsUser", "runAsGroup"]);
        found.profile(context, Profile::Seccomp);
        found.profile(context, Profile::AppArmor);
        found.proc_mount(context, host_users);
        found.os_forbidden(context, os, WINDOWS_FORBIDDEN_CONTAINER);
    }
    // validatePodHostNetworkDeps reads `containers` only, not init or ephemeral containers.
    let regular = pod.spec.and_then(|s| s.get("containers"));
    for container in pod.containers() {
        let is_regular = regular.is_some_and(|list| list.items().any(|c| c.id() == container.node.id()));
        found.ports(container, host_network && is_regular);
        found.mount_propagation(container);
    }
    found.seccomp_annotations(pod);
    found.app_armor_annotations(pod, os == Some("windows"));
    found.host_process(pod);
    found.found
}

/// Whether `after` breaks a rule that `before` does not (compared by message: a fix's result may keep the
/// refusals the object already had, never add one).
pub fn adds_rejection(before: &[Rejection], after: &[Rejection]) -> bool {
    after
        .iter()
        .any(|new| !before.iter().any(|old| old.message == new.message))
}

/// The two profile fields that share `validateSeccompProfileField`'s and `ValidateAppArmorProfileField`'s shape.
#[derive(Clone, Copy)]
enum Profile {
    Seccomp,
    AppArmor,
}

impl Profile {
    fn field(self) -> &'static str {
        match self {
            Profile::Seccomp => "seccompProfile",
            Profile::AppArmor => "appArmorProfile",
        }
    }

    /// How upstream's messages name it.
    fn name(self) -> &'static str {
        match self {
            Profile::Seccomp => "seccomp",
            Profile::AppArmor => "AppArmor",
        }
    }
}

/// The three profile types both fields accept (`core.SeccompProfileType…`, `core.AppArmorProfileType…`).
const PROFILE_TYPES: &[&str] = &["Localhost", "RuntimeDefault", "Unconfined"];

/// The rules' accumulator: the document and the path prefix of the object.
struct Rejections<'a, 'd> {
    document: &'a Document<'d>,
    object_path: String,
    found: Vec<Rejection>,
}

impl Rejections<'_, '_> {
    /// The object-relative path of a node.
    fn path(&self, node: NodeRef<'_>) -> String {
        let path = self.document.path_of(node.id());
        let rest = path.strip_prefix(self.object_path.as_str()).unwrap_or(&path);
        rest.strip_prefix('.').unwrap_or(rest).to_string()
    }

    fn push(&mut self, entry: Entry<'_>, path: String, kind: &str, detail: &str) {
        self.found.push(Rejection {
            loc: Loc::field(entry),
            message: format!("{path}: {kind}: {detail}"),
            on_pod_create: false,
            reads_the_pod: false,
        });
    }

    /// `ValidateSecurityContext`: `allowPrivilegeEscalation: false` cannot go with `privileged: true`, nor
    /// with `CAP_SYS_ADMIN` in `capabilities.add` (the kernel's no_new_privs would contradict them).
    fn privilege_escalation(&mut self, context: NodeRef<'_>) {
        let Some(escalation) = context.entry("allowPrivilegeEscalation") else {
            return;
        };
        if escalation.value.as_bool() != Some(false) {
            return;
        }
        let path = self.path(context);
        if context.get("privileged").and_then(|p| p.as_bool()) == Some(true) {
            self.push(
                escalation,
                path.clone(),
                "Invalid value",
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            );
        }
        let adds_sys_admin = context
            .get("capabilities")
            .and_then(|c| c.get("add"))
            .is_some_and(|add| add.items().any(|c| c.as_str() == Some("CAP_SYS_ADMIN")));
        if adds_sys_admin {
            self.push(
                escalation,
                path,
                "Invalid value",
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            );
        }
    }

    /// `IsValidUserID` / `IsValidGroupID` on the user and group IDs of a security context.
    fn security_context_ids(&mut self, context: NodeRef<'_>, fields: &[&str]) {
        for field in fields {
            let Some(entry) = context.entry(field) else {
                continue;
            };
            let Some(id) = entry.value.as_i64() else { continue };
            if !(0..=MAX_ID).contains(&id) {
                let path = self.path(entry.value);
                self.push(
                    entry,
                    path,
                    &format!("Invalid value: {id}"),
                    "must be between 0 and 2147483647, inclusive",
                );
            }
        }
    }

    /// `validateSeccompProfileField` and `ValidateAppArmorProfileField`: a known type, and `localhostProfile`
    /// exactly when the type is `Localhost`.
    fn profile(&mut self, context: NodeRef<'_>, profile: Profile) {
        let Some(field) = context.entry(profile.field()) else {
            return;
        };
        let Some(type_entry) = field.value.entry("type") else {
            return;
        };
        let kind = type_entry.value.as_str().unwrap_or("");
        let type_path = self.path(type_entry.value);
        if kind.is_empty() {
            self.push(
                type_entry,
                type_path,
                "Required value",
                &format!("type is required when {} is set", profile.field()),
            );
            return;
        }
        if !PROFILE_TYPES.contains(&kind) {
            self.push(
                type_entry,
                type_path,
                &format!("Unsupported value: {kind:?}"),
                "supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\"",
            );
            return;
        }
        let localhost = field.value.entry("localhostProfile");
        let base = self.path(field.value);
        match (kind, localhost) {
            ("Localhost", None) => self.push(
                type_entry,
                format!("{base}.localhostProfile"),
                "Required value",
                &format!("must be set when {} type is Localhost", profile.name()),
            ),
            ("Localhost", Some(entry)) => {
                let value = entry.value.as_str().unwrap_or("");
                let problem = match profile {
                    // validateLocalDescendingPath
                    Profile::Seccomp if value.starts_with('/') => Some("must be a relative path"),
                    Profile::Seccomp if value.split('/').any(|part| part == "..") => {
                        Some("must not contain '..'")
                    }
                    Profile::AppArmor if value.trim() != value => Some("must not be padded with whitespace"),
                    _ => None,
                };
                if let Some(problem) = problem {
                    self.push(
                        entry,
                        format!("{base}.localhostProfile"),
                        &format!("Invalid value: {value:?}"),
                        problem,
                    );
                } else if matches!(profile, Profile::AppArmor) && value.is_empty() {
                    self.push(
                        entry,
                        format!("{base}.localhostProfile"),
                        "Required value",
                        "must be set when AppArmor type is Localhost",
                    );
                }
            }
            (_, Some(entry)) => {
                let value = entry.value.as_str().unwrap_or("");
                self.push(
                    entry,
                    format!("{base}.localhostProfile"),
                    &format!("Invalid value: {value:?}"),
                    &format!("can only be set when {} type is Localhost", profile.name()),
                );
            }
            _ => {}
        }
    }

    /// `ValidateProcMountType` (`Default` or `Unmasked`), and `ValidateSecurityContext` since v1.30: `Unmasked`
    /// only in a user namespace (`hostUsers: false`).
    fn proc_mount(&mut self, context: NodeRef<'_>, host_users: bool) {
        let Some(entry) = context.entry("procMount") else {
            return;
        };
        let value = entry.value.as_str().unwrap_or("");
        let path = self.path(entry.value);
        match value {
            "Default" => {}
            "Unmasked" if host_users => self.push(
                entry,
                path,
                "Invalid value: \"Unmasked\"",
                "`hostUsers` must be false to use `Unmasked`",
            ),
            "Unmasked" => {}
            _ => self.push(
                entry,
                path,
                &format!("Unsupported value: {value:?}"),
                "supported values: \"Default\", \"Unmasked\"",
            ),
        }
    }

    /// `validateContainerPorts` (a host port, when set, is a port number) and `validatePodHostNetworkDeps`
    /// (with the host's network, a container's host port is its container port; a Pod's unset host port is
    /// defaulted to it, a template's may stay unset). Ephemeral containers have no ports.
    fn ports(&mut self, container: &Container<'_>, host_network: bool) {
        let Some(ports) = container.node.get("ports") else {
            return;
        };
        for port in ports.items() {
            let Some(entry) = port.entry("hostPort") else {
                continue;
            };
            let Some(host_port) = entry.value.as_i64() else {
                continue;
            };
            let path = self.path(entry.value);
            if host_port == 0 {
                continue;
            }
            if !(1..=65_535).contains(&host_port) {
                self.push(
                    entry,
                    path,
                    &format!("Invalid value: {host_port}"),
                    "must be between 1 and 65535, inclusive",
                );
                continue;
            }
            let container_port = port.get("containerPort").and_then(|p| p.as_i64());
            if host_network && container_port != Some(host_port) {
                self.push(
                    entry,
                    path,
                    &format!("Invalid value: {host_port}"),
                    "must match `containerPort` when `hostNetwork` is true",
                );
            }
        }
    }

    /// `ValidateVolumeMounts`: `Bidirectional` mount propagation only in a privileged container (a fix that
    /// takes `privileged: true` away must not leave one).
    fn mount_propagation(&mut self, container: &Container<'_>) {
        let privileged = container
            .security_setting("privileged")
            .and_then(|p| p.value.as_bool())
            == Some(true);
        if privileged {
            return;
        }
        let Some(mounts) = container.node.get("volumeMounts") else {
            return;
        };
        for mount in mounts.items() {
            let Some(entry) = mount.entry("mountPropagation") else {
                continue;
            };
            if entry.value.as_str() == Some("Bidirectional") {
                let path = format!("{}.volumeMounts.mountPropagation", self.path(container.node));
                self.push(
                    entry,
                    path,
                    "Forbidden",
                    "Bidirectional mount propagation is available only to privileged containers",
                );
            }
        }
    }

    /// `validateWindows`' pod-spec fields outside the security context.
    fn windows_spec(&mut self, spec: NodeRef<'_>) {
        for field in ["hostUsers", "shareProcessNamespace", "hostPID", "hostIPC"] {
            let Some(entry) = spec.entry(field) else { continue };
            // hostPID and hostIPC are forbidden when true; the others whenever set.
            let only_true = matches!(field, "hostPID" | "hostIPC");
            if only_true && entry.value.as_bool() != Some(true) {
                continue;
            }
            let path = self.path(entry.value);
            self.push(entry, path, "Forbidden", "cannot be set for a windows pod");
        }
    }

    /// `validateWindows` and `validateLinux` (`validateOS`): with `spec.os.name: windows` the Linux-only
    /// fields are forbidden, with `linux` the Windows options are.
    fn os_forbidden(&mut self, context: NodeRef<'_>, os: Option<&str>, windows_forbidden: &[&str]) {
        match os {
            Some("windows") => {
                for field in windows_forbidden {
                    if let Some(entry) = context.entry(field) {
                        let path = self.path(entry.value);
                        self.push(entry, path, "Forbidden", "cannot be set for a windows pod");
                    }
                }
            }
            Some("linux") => {
                if let Some(entry) = context.entry("windowsOptions") {
                    let path = self.path(entry.value);
                    self.push(
                        entry,
                        path,
                        "Forbidden",
                        "windows options cannot be set for a linux pod",
                    );
                }
            }
            _ => {}
        }
    }

    /// `validateSeccompAnnotationsAndFieldsMatch` (on create): where a seccomp annotation and the field it
    /// stands for are both set, they must agree. A container's annotation is compared with that container's
    /// field only.
    fn seccomp_annotations(&mut self, pod: &Pod<'_>) {
        let annotation = |key: &str| annotation(pod, key);
        if let (Some(value), Some(field)) = (
            annotation(SECCOMP_POD_ANNOTATION),
            pod.security_context().and_then(|c| c.entry("seccompProfile")),
        ) {
            self.profile_agrees(field, value, Profile::Seccomp);
        }
        for container in pod.containers() {
            let Some(field) = container.security_setting("seccompProfile") else {
                continue;
            };
            let key = format!("{SECCOMP_CONTAINER_ANNOTATION}{}", container.name);
            if let Some(value) = annotation(&key) {
                self.profile_agrees(field, value, Profile::Seccomp);
            }
        }
    }

    /// `ValidateAppArmorPodAnnotations`: an AppArmor annotation names a container of the pod and a profile
    /// (`runtime/default`, `unconfined`, `localhost/…` or empty); and on create
    /// `validateAppArmorAnnotationsAndFieldsMatchOnCreate` (not on Windows pods): a container's annotation
    /// agrees with the container's own field. Where the container has no field, `applyAppArmorVersionSkew`
    /// has copied the annotation into one before validation, so the pod's field cannot disagree.
    fn app_armor_annotations(&mut self, pod: &Pod<'_>, windows: bool) {
        let Some(annotations) = pod.metadata.and_then(|m| m.get("annotations")) else {
            return;
        };
        for entry in annotations.entries() {
            let Some(name) = entry
                .key
                .as_str()
                .and_then(|k| k.strip_prefix(APPARMOR_CONTAINER_ANNOTATION))
            else {
                continue;
            };
            let key = entry.key.as_str().unwrap_or("");
            let value = entry.value.as_str().unwrap_or("");
            let path = format!("metadata.annotations[{key}]");
            let Some(container) = pod.containers().iter().find(|c| c.name == name) else {
                self.push(
                    entry,
                    path,
                    &format!("Invalid value: {name:?}"),
                    "container not found",
                );
                if let Some(rejection) = self.found.last_mut() {
                    rejection.reads_the_pod = true;
                }
                continue;
            };
            let known = value.is_empty()
                || value == "runtime/default"
                || value == "unconfined"
                || value.starts_with("localhost/");
            if !known {
                self.push(
                    entry,
                    path,
                    &format!("Invalid value: {value:?}"),
                    &format!("invalid AppArmor profile name: {value:?}"),
                );
                continue;
            }
            if let (false, Some(field)) = (windows, container.security_setting("appArmorProfile")) {
                self.profile_agrees(field, value, Profile::AppArmor);
            }
        }
    }

    /// The shared body of both "annotation and field must match" rules.
    fn profile_agrees(&mut self, field: Entry<'_>, annotation: &str, profile: Profile) {
        let Some(type_entry) = field.value.entry("type") else {
            return;
        };
        let expected = annotation_for(profile, type_entry.value.as_str().unwrap_or(""));
        let localhost = field.value.get("localhostProfile").and_then(|p| p.as_str());
        let base = self.path(field.value);
        let name = profile.name().to_ascii_lowercase();
        let type_matches = match expected {
            AnnotationValue::Exactly(values) => values.contains(&annotation),
            AnnotationValue::Localhost => annotation.starts_with("localhost/"),
            AnnotationValue::Unchecked => true,
        };
        let first = self.found.len();
        if !type_matches {
            self.push(
                type_entry,
                format!("{base}.type"),
                "Forbidden",
                &format!("{name} type in annotation and field must match"),
            );
        } else if matches!(expected, AnnotationValue::Localhost)
            && localhost != annotation.strip_prefix("localhost/")
        {
            self.push(
                type_entry,
                format!("{base}.localhostProfile"),
                "Forbidden",
                &format!("{name} profile in annotation and field must match"),
            );
        }
        for rejection in self.found.iter_mut().skip(first) {
            rejection.on_pod_create = true;
            rejection.reads_the_pod = true;
        }
    }

    /// `validateWindowsHostProcessPod`: a pod's containers are all host-process containers or none is, the
    /// pod's and a container's `hostProcess` agree where both are set, and host-process pods use the host's
    /// network.
    fn host_process(&mut self, pod: &Pod<'_>) {
        let first = self.found.len();
        self.host_process_rules(pod);
        for rejection in self.found.iter_mut().skip(first) {
            rejection.reads_the_pod = true;
        }
    }

    fn host_process_rules(&mut self, pod: &Pod<'_>) {
        let pod_entry = pod
            .security_context()
            .and_then(|c| c.get("windowsOptions"))
            .and_then(|w| w.entry("hostProcess"));
        let pod_value = pod_entry.and_then(|e| e.value.as_bool());
        let mut host_process = 0;
        let mut first_host_process = None;
        for container in pod.containers() {
            let entry = host_process_entry(container);
            let value = entry.and_then(|e| e.value.as_bool());
            match (pod_value, value, entry) {
                (Some(pod_value), Some(value), Some(entry)) if pod_value != value => {
                    let path = self.path(entry.value);
                    self.push(
                        entry,
                        path,
                        &format!("Invalid value: {value}"),
                        &format!(
                            "pod hostProcess value must be identical if both are specified, was {pod_value}"
                        ),
                    );
                }
                _ => {}
            }
            if value.or(pod_value) == Some(true) {
                host_process += 1;
                first_host_process = first_host_process.or(entry).or(pod_entry);
            }
        }
        let Some(at) = first_host_process else { return };
        let spec_path = pod.spec.map(|s| self.path(s)).unwrap_or_default();
        if host_process != pod.containers().len() {
            self.push(
                at,
                spec_path.clone(),
                "Invalid value: \"\"",
                "If pod contains any hostProcess containers then all containers must be HostProcess containers",
            );
        }
        if pod
            .spec
            .and_then(|s| s.get("hostNetwork"))
            .and_then(|h| h.as_bool())
            != Some(true)
        {
            self.push(
                at,
                format!("{spec_path}.hostNetwork"),
                "Invalid value: false",
                "hostNetwork must be true if pod contains any hostProcess containers",
            );
        }
    }
}

fn host_process_entry<'d>(container: &Container<'d>) -> Option<Entry<'d>> {
    container
        .security_setting("windowsOptions")?
        .value
        .entry("hostProcess")
}

/// A pod annotation's value, when set (a null value reads as `""`, as a Go map does).
fn annotation<'d>(pod: &Pod<'d>, key: &str) -> Option<&'d str> {
    let annotations = pod.metadata?.get("annotations")?;
    let entry = annotations.entry(key)?;
    Some(entry.value.as_str().unwrap_or(""))
}

/// Which annotation values agree with a field's profile type.
enum AnnotationValue {
    Exactly(&'static [&'static str]),
    Localhost,
    /// An unknown type: its own rule refuses it.
    Unchecked,
}

fn annotation_for(profile: Profile, kind: &str) -> AnnotationValue {
    match (profile, kind) {
        (_, "Unconfined") => AnnotationValue::Exactly(&["unconfined"]),
        (Profile::Seccomp, "RuntimeDefault") => {
            AnnotationValue::Exactly(&["runtime/default", "docker/default"])
        }
        (Profile::AppArmor, "RuntimeDefault") => AnnotationValue::Exactly(&["runtime/default"]),
        (_, "Localhost") => AnnotationValue::Localhost,
        _ => AnnotationValue::Unchecked,
    }
}

/// The annotation value that agrees with a profile field set to `kind` (for fixes that set one of the two).
pub fn annotation_value_for(kind: &str) -> &'static str {
    match kind {
        "Unconfined" => "unconfined",
        _ => "runtime/default",
    }
}

#[cfg(test)]
mod tests;
