//! PodSecurityPolicy migration: which Pod Security Standards level a PodSecurityPolicy already guarantees,
//! and which of its fields stand in the way of a stricter one.
//!
//! The mapping follows the Kubernetes documentation "Mapping PodSecurityPolicies to Pod Security
//! Standards": for each PSP field, the value that keeps a pod within baseline and within restricted.
//! Fields that only mutate pods or have no Pod Security counterpart are listed as such.

use crate::policy::Level;
use crate::policy::{ConfigProblem, Severity};
use crate::yaml::{Limits, NodeRef, Span, documents};

/// What a PodSecurityPolicy guarantees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PspAssessment {
    /// `metadata.name`.
    pub name: String,
    /// The strictest level every pod admitted by this PSP meets.
    pub level: Level,
    /// The fields that keep it from the next stricter level: `(field, why, the level it blocks)`.
    pub blockers: Vec<(String, String, Level)>,
    /// Fields set in the PSP that have no Pod Security Standards counterpart.
    pub no_counterpart: Vec<String>,
    /// The object's `kind:` entry.
    pub header: Span,
}

const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
/// Fields that mutate pods or have no Pod Security Standards check.
const NO_COUNTERPART: &[&str] = &[
    "readOnlyRootFilesystem",
    "fsGroup",
    "supplementalGroups",
    "runAsGroup",
    "allowedHostPaths",
    "allowedFlexVolumes",
    "allowedCSIDrivers",
    "defaultAllowPrivilegeEscalation",
    "defaultAddCapabilities",
    "runtimeClass",
    "allowedUnsafeSysctls",
];

fn strings(node: Option<NodeRef<'_>>) -> Vec<String> {
    node.into_iter()
        .flat_map(|n| n.items())
        .filter_map(|i| i.as_str().map(str::to_string))
        .collect()
}

/// Assesses every PodSecurityPolicy of `text`.
pub fn assess(text: &str, limits: &Limits) -> Vec<PspAssessment> {
    let mut found = Vec::new();
    for document in documents(text, limits).filter(|d| d.error.is_none()) {
        let Some(root) = document.root() else { continue };
        if root.get("kind").and_then(|k| k.as_str()) != Some("PodSecurityPolicy") {
            continue;
        }
        found.push(assess_one(root));
    }
    found
}

/// Assesses one PodSecurityPolicy object.
pub fn assess_one(root: NodeRef<'_>) -> PspAssessment {
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string();
    let header = root
        .entry("kind")
        .map_or(root.span(), |e| Span::new(e.key.span().start, e.value.span().end));
    let spec = root.get("spec");
    let flag = |key: &str| {
        spec.and_then(|s| s.get(key))
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let mut blockers: Vec<(String, String, Level)> = Vec::new();
    let mut block =
        |field: &str, why: String, level: Level| blockers.push((format!("spec.{field}"), why, level));

    // Baseline requirements.
    if flag("privileged") {
        block(
            "privileged",
            "allows privileged containers".into(),
            Level::Baseline,
        );
    }
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if flag(key) {
            block(key, format!("allows {key}"), Level::Baseline);
        }
    }
    if spec
        .and_then(|s| s.get("hostPorts"))
        .is_some_and(|p| p.items().next().is_some())
    {
        block("hostPorts", "allows host ports".into(), Level::Baseline);
    }
    let capabilities = strings(spec.and_then(|s| s.get("allowedCapabilities")));
    let extra: Vec<&String> = capabilities
        .iter()
        .filter(|c| !crate::checks::DEFAULT_CAPABILITIES.contains(&c.as_str()))
        .collect();
    if !extra.is_empty() {
        block(
            "allowedCapabilities",
            format!(
                "allows adding {}",
                extra.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            ),
            Level::Baseline,
        );
    }
    let volumes = strings(spec.and_then(|s| s.get("volumes")));
    if volumes.iter().any(|v| v == "*" || v == "hostPath") {
        block("volumes", "allows hostPath volumes".into(), Level::Baseline);
    }
    let proc_mounts = strings(spec.and_then(|s| s.get("allowedProcMountTypes")));
    if proc_mounts.iter().any(|p| p != "Default") {
        block(
            "allowedProcMountTypes",
            "allows an unmasked /proc".into(),
            Level::Baseline,
        );
    }
    let selinux_rule = spec
        .and_then(|s| s.get("seLinux"))
        .and_then(|s| s.get("rule"))
        .and_then(|r| r.as_str())
        .unwrap_or("RunAsAny");
    if selinux_rule == "RunAsAny" {
        block(
            "seLinux.rule",
            "RunAsAny allows any SELinux user, role and type".into(),
            Level::Baseline,
        );
    }
    let unsafe_sysctls = strings(spec.and_then(|s| s.get("allowedUnsafeSysctls")));
    if unsafe_sysctls
        .iter()
        .any(|s| !crate::checks::ALLOWED_SYSCTLS.iter().any(|(name, _)| name == s))
    {
        block(
            "allowedUnsafeSysctls",
            "allows sysctls outside the safe set".into(),
            Level::Baseline,
        );
    }
    let annotations = root.get("metadata").and_then(|m| m.get("annotations"));
    let annotation = |key: &str| {
        annotations
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or("")
    };
    let seccomp = annotation("seccomp.security.alpha.kubernetes.io/allowedProfileNames");
    if seccomp.split(',').any(|p| matches!(p.trim(), "*" | "unconfined")) {
        block(
            "metadata.annotations[seccomp…/allowedProfileNames]",
            "allows an unconfined seccomp profile".into(),
            Level::Baseline,
        );
    }
    let apparmor = annotation("apparmor.security.beta.kubernetes.io/allowedProfileNames");
    if apparmor
        .split(',')
        .any(|p| matches!(p.trim(), "*" | "unconfined"))
    {
        block(
            "metadata.annotations[apparmor…/allowedProfileNames]",
            "allows AppArmor unconfined".into(),
            Level::Baseline,
        );
    }

    // Restricted requirements.
    if volumes.is_empty() || volumes.iter().any(|v| !RESTRICTED_VOLUMES.contains(&v.as_str())) {
        block("volumes", "allows volume types outside configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret".into(), Level::Restricted);
    }
    if spec
        .and_then(|s| s.get("allowPrivilegeEscalation"))
        .and_then(|v| v.as_bool())
        != Some(false)
    {
        block(
            "allowPrivilegeEscalation",
            "must be false".into(),
            Level::Restricted,
        );
    }
    let run_as_user = spec
        .and_then(|s| s.get("runAsUser"))
        .and_then(|r| r.get("rule"))
        .and_then(|r| r.as_str())
        .unwrap_or("RunAsAny");
    let non_root_range = spec
        .and_then(|s| s.get("runAsUser"))
        .and_then(|r| r.get("ranges"))
        .is_some_and(|ranges| {
            ranges.items().next().is_some()
                && ranges
                    .items()
                    .all(|r| r.get("min").and_then(|m| m.as_i64()).unwrap_or(0) > 0)
        });
    if !(run_as_user == "MustRunAsNonRoot" || (run_as_user == "MustRunAs" && non_root_range)) {
        block(
            "runAsUser.rule",
            format!("{run_as_user} allows root; use MustRunAsNonRoot"),
            Level::Restricted,
        );
    }
    let drops = strings(spec.and_then(|s| s.get("requiredDropCapabilities")));
    if !drops.iter().any(|d| d == "ALL") {
        block(
            "requiredDropCapabilities",
            "must include ALL".into(),
            Level::Restricted,
        );
    }
    if capabilities.iter().any(|c| c != "NET_BIND_SERVICE") {
        block(
            "allowedCapabilities",
            "restricted allows adding NET_BIND_SERVICE only".into(),
            Level::Restricted,
        );
    }
    let seccomp_restricted = !seccomp.is_empty()
        && seccomp.split(',').all(|p| {
            p.trim() == "runtime/default"
                || p.trim() == "docker/default"
                || p.trim().starts_with("localhost/")
        });
    if !seccomp_restricted {
        block(
            "metadata.annotations[seccomp…/allowedProfileNames]",
            "must allow only runtime/default or localhost/ profiles".into(),
            Level::Restricted,
        );
    }

    let level = if blockers.iter().any(|(_, _, l)| *l == Level::Baseline) {
        Level::Privileged
    } else if blockers.iter().any(|(_, _, l)| *l == Level::Restricted) {
        Level::Baseline
    } else {
        Level::Restricted
    };
    // Only what stands between this PSP and the next level is a blocker worth naming.
    let next = match level {
        Level::Privileged => Level::Baseline,
        _ => Level::Restricted,
    };
    blockers.retain(|(_, _, l)| *l == next);
    let no_counterpart = NO_COUNTERPART
        .iter()
        .filter(|field| spec.and_then(|s| s.get(field)).is_some())
        .map(|field| format!("spec.{field}"))
        .collect();
    PspAssessment {
        name,
        level,
        blockers,
        no_counterpart,
        header,
    }
}

impl PspAssessment {
    /// The diagnostic on the PSP: it is gone from current clusters, and what to use instead.
    pub fn problem(&self) -> ConfigProblem {
        let blockers = if self.blockers.is_empty() {
            String::new()
        } else {
            format!(
                "; {} would need: {}",
                if self.level == Level::Privileged {
                    "baseline"
                } else {
                    "restricted"
                },
                self.blockers
                    .iter()
                    .map(|(field, why, _)| format!("{field} ({why})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        ConfigProblem {
            code: "psp-removed",
            severity: Severity::Warning,
            message: format!(
                "PodSecurityPolicy {:?} was removed in Kubernetes v1.25 and is ignored by current clusters; it guarantees \
                 the {} level: label its namespaces pod-security.kubernetes.io/enforce: {}{blockers}",
                self.name, self.level, self.level
            ),
            span: self.header,
        }
    }

    /// The labels to put on the namespaces that used this PSP, as a YAML comment block.
    pub fn labels_comment(&self, eol: &str) -> String {
        let mut lines = vec![format!(
            "# podsec: PodSecurityPolicy {:?} guarantees the {} level. On the namespaces that used it:",
            self.name, self.level
        )];
        lines.push(format!("#   pod-security.kubernetes.io/enforce: {}", self.level));
        lines.push("#   pod-security.kubernetes.io/enforce-version: latest".to_string());
        if self.level != Level::Restricted {
            lines.push("#   pod-security.kubernetes.io/warn: restricted".to_string());
        }
        format!("{}{eol}", lines.join(eol))
    }
}

/// A fix for the PodSecurityPolicy at byte `offset`: the matching namespace labels as a comment block above
/// it, for the user to place on the namespaces that used it.
pub fn labels_fix(text: &str, offset: usize, limits: &Limits) -> Option<crate::fix::Fix> {
    let document = documents(text, limits).find(|d| d.span.contains(offset) && d.error.is_none())?;
    labels_fix_of(text, &document)
}

/// [`labels_fix`] for the PodSecurityPolicy that is `document` of `text`, already read.
pub fn labels_fix_of(text: &str, document: &crate::yaml::Document<'_>) -> Option<crate::fix::Fix> {
    let root = document.root()?;
    if root.get("kind").and_then(|k| k.as_str()) != Some("PodSecurityPolicy") {
        return None;
    }
    let assessment = assess_one(root);
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let start = root.span().start;
    let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    Some(crate::fix::Fix {
        title: format!(
            "Add the pod-security.kubernetes.io labels that match PodSecurityPolicy {:?} as a comment",
            assessment.name
        ),
        applicability: crate::fix::Applicability::Safe,
        edits: vec![crate::patch::TextEdit {
            span: Span::point(line_start),
            replacement: assessment.labels_comment(eol),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level_of(spec: &str, annotations: &str) -> PspAssessment {
        let text = format!(
            "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: p\n  annotations: {{{annotations}}}\nspec:\n{spec}"
        );
        assess(&text, &Limits::default()).remove(0)
    }

    const RESTRICTED: &str = "  privileged: false\n  allowPrivilegeEscalation: false\n  requiredDropCapabilities: [ALL]\n  volumes: [configMap, emptyDir, projected, secret, downwardAPI, csi, persistentVolumeClaim, ephemeral]\n  hostNetwork: false\n  runAsUser: {rule: MustRunAsNonRoot}\n  seLinux: {rule: MustRunAs}\n  supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}\n  fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}\n  readOnlyRootFilesystem: false\n";
    const SECCOMP: &str = "seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default";

    #[test]
    fn the_upstream_restricted_psp_maps_to_restricted() {
        let psp = level_of(RESTRICTED, SECCOMP);
        assert_eq!(psp.level, Level::Restricted, "{:?}", psp.blockers);
        assert_eq!(
            psp.no_counterpart,
            [
                "spec.readOnlyRootFilesystem",
                "spec.fsGroup",
                "spec.supplementalGroups"
            ]
        );
    }

    #[test]
    fn each_field_family_lowers_the_level_it_breaks() {
        for (change, level, field) in [
            ("  privileged: true\n", Level::Privileged, "spec.privileged"),
            ("  hostPID: true\n", Level::Privileged, "spec.hostPID"),
            (
                "  hostPorts: [{min: 80, max: 80}]\n",
                Level::Privileged,
                "spec.hostPorts",
            ),
            (
                "  allowedCapabilities: [SYS_ADMIN]\n",
                Level::Privileged,
                "spec.allowedCapabilities",
            ),
            (
                "  allowedProcMountTypes: [Unmasked]\n",
                Level::Privileged,
                "spec.allowedProcMountTypes",
            ),
            (
                "  allowedUnsafeSysctls: [kernel.msg*]\n",
                Level::Privileged,
                "spec.allowedUnsafeSysctls",
            ),
            (
                "  allowedCapabilities: [CHOWN]\n",
                Level::Baseline,
                "spec.allowedCapabilities",
            ),
            (
                "  allowPrivilegeEscalation: true\n",
                Level::Baseline,
                "spec.allowPrivilegeEscalation",
            ),
            (
                "  runAsUser: {rule: RunAsAny}\n",
                Level::Baseline,
                "spec.runAsUser.rule",
            ),
            (
                "  requiredDropCapabilities: [NET_RAW]\n",
                Level::Baseline,
                "spec.requiredDropCapabilities",
            ),
            ("  volumes: [configMap, nfs]\n", Level::Baseline, "spec.volumes"),
            ("  volumes: ['*']\n", Level::Privileged, "spec.volumes"),
            (
                "  seLinux: {rule: RunAsAny}\n",
                Level::Privileged,
                "spec.seLinux.rule",
            ),
        ] {
            // A later key wins, so appending overrides the restricted value.
            let psp = level_of(&format!("{RESTRICTED}{change}"), SECCOMP);
            assert_eq!(psp.level, level, "{change}");
            assert!(
                psp.blockers.iter().any(|(f, _, _)| f == field),
                "{change}: {:?}",
                psp.blockers
            );
        }
        assert_eq!(
            level_of(
                RESTRICTED,
                "seccomp.security.alpha.kubernetes.io/allowedProfileNames: '*'"
            )
            .level,
            Level::Privileged
        );
        assert_eq!(
            level_of(RESTRICTED, "").level,
            Level::Baseline,
            "no seccomp annotation: not restricted"
        );
    }

    #[test]
    fn the_diagnostic_says_what_to_do() {
        let psp = level_of(
            &format!("{RESTRICTED}  allowPrivilegeEscalation: true\n"),
            SECCOMP,
        );
        let problem = psp.problem();
        assert!(
            problem
                .message
                .starts_with("PodSecurityPolicy \"p\" was removed in Kubernetes v1.25")
        );
        assert!(problem.message.contains("label its namespaces pod-security.kubernetes.io/enforce: baseline; restricted would need: spec.allowPrivilegeEscalation (must be false)"), "{}", problem.message);
        assert_eq!(
            psp.labels_comment("\n").lines().nth(1),
            Some("#   pod-security.kubernetes.io/enforce: baseline")
        );
    }
}
