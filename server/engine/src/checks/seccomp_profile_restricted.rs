//! `seccompProfile_restricted`: every container must run under RuntimeDefault or a Localhost profile.

use super::seccomp_profile_baseline::bad_profile_type;
use super::{Check, FixAvailability, Violation, containers_phrase, join_quote, setters, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::Pod;
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "seccompProfile_restricted",
    level: Level::Restricted,
    versions: &[19, 25],
    overrides: Some("seccompProfile_baseline"),
    fields: &[
        "spec.securityContext.seccompProfile",
        "spec.containers[*].securityContext.seccompProfile",
    ],
    reason: "seccompProfile",
    doc: "Seccomp must be explicitly set to RuntimeDefault or Localhost for every container.

## What it forbids
- `securityContext.seccompProfile.type` on the pod or any container set to anything but `RuntimeDefault` or
  `Localhost`.
- A container without a seccomp profile while the pod has no valid one either.

## Why
Without an explicit profile most runtimes run containers unconfined. `RuntimeDefault` blocks the system calls
that are used in container escapes while keeping ordinary programs working.

## Since
Restricted, v1.19, replacing `seccompProfile_baseline` there. From v1.25 pods with `spec.os.name: windows` pass.
Before v1.19 the restricted level only checks the seccomp annotations (through `seccompProfile_baseline`).

## How to comply
Set it once for the pod:
```yaml
spec:
  securityContext:
    seccompProfile:
      type: RuntimeDefault
```

## Fix safety
Adding the pod's profile `RuntimeDefault` where none is set is what the restricted level requires and rarely breaks
a workload; `podsec fix` applies it. Replacing an explicit `Unconfined` is unsafe, and so is the addition when the
pod's legacy seccomp annotation says otherwise (the fix then sets the annotation to `runtime/default` too, since
the API server refuses a pod whose annotation and field disagree).
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Mixed,
};

fn evaluate(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if minor >= 25 && pod.is_windows() {
        return None;
    }
    let mut values = Vec::new();
    let mut explicit_locations = Vec::new();
    let mut bad_pod = false;
    let mut pod_set = false;
    if let Some(profile) = pod.security_context().and_then(|sc| sc.entry("seccompProfile")) {
        match bad_profile_type(profile) {
            Some((value, at)) => {
                bad_pod = true;
                values.push(value);
                explicit_locations.push(at);
            }
            None => pod_set = true,
        }
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    let mut implicit_locations = Vec::new();
    for container in pod.containers() {
        match container.security_setting("seccompProfile") {
            Some(profile) => {
                if let Some((value, at)) = bad_profile_type(profile) {
                    explicitly_bad.push(container.name);
                    values.push(value);
                    explicit_locations.push(at);
                }
            }
            None if !pod_set => {
                implicitly_bad.push(container.name);
                implicit_locations.push(container.missing("securityContext.seccompProfile.type"));
            }
            None => {}
        }
    }
    if bad_pod || !explicitly_bad.is_empty() {
        return Violation::new(
            CHECK.reason,
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters(bad_pod, &explicitly_bad),
                join_quote(&sorted_set(values))
            ),
            explicit_locations,
        );
    }
    if implicitly_bad.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_phrase(&implicitly_bad)
        ),
        implicit_locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    if context.field().is_some() {
        return crate::fix::runtime_default_profile(
            context,
            "seccomp.security.alpha.kubernetes.io",
            "seccompProfile",
        );
    }
    let add = context.ensure_in_pod_spec(&["securityContext", "seccompProfile", "type"], "RuntimeDefault")?;
    // The pod's legacy annotation must agree with the field on create: one that says otherwise is the
    // author's, and changing it is unsafe.
    match crate::fix::agreeing_annotation(context, "seccompProfile", None) {
        None => crate::fix::fix(
            "Set seccompProfile.type: RuntimeDefault in the pod's securityContext",
            Applicability::Safe,
            Some(add),
        ),
        Some(annotation) => crate::fix::fix_of_edits(
            "Set seccompProfile.type: RuntimeDefault in the pod's securityContext, and its seccomp annotation to \
             runtime/default (the API server refuses a pod whose annotation and field disagree)",
            Applicability::Unsafe,
            vec![add, annotation],
        ),
    }
}

/// CEL: a bad type fails anywhere; a container without a profile needs a valid pod-level one. Windows
/// pods pass from v1.25.
fn cel(minor: u32) -> crate::cel::Cel {
    use super::seccomp_profile_baseline::profile_type;
    use crate::cel::*;
    let valid = |base: &str| format!("({} in ['RuntimeDefault', 'Localhost'])", profile_type(base));
    let bad_pod = format!("({} && !{})", pod_has("seccompProfile"), valid("variables.spec"));
    let pod_set = format!("({} && {})", pod_has("seccompProfile"), valid("variables.spec"));
    let bad_container = format!("({} && !{})", container_has("seccompProfile"), valid("c"));
    let explicit = format!("{bad_pod} || variables.containers.exists(c, {bad_container})");
    let implicit = names_where(&format!("!{} && !{pod_set}", container_has("seccompProfile")));
    let passes = format!("!({explicit}) && size({implicit}) == 0");
    let types = sorted_distinct(&format!(
        "({bad_pod} ? [{}] : []) + variables.containers.filter(c, {bad_container}).map(c, {})",
        profile_type("variables.spec"),
        profile_type("c")
    ));
    Cel::new(
        windows_passes_from_v1_25(minor, passes),
        CHECK.reason,
        format!(
            "({explicit}) ? {} + ' must not set securityContext.seccompProfile.type to ' + {} : \
             'pod or ' + {} + ' must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"'",
            setters_of(&bad_pod, &names_where(&bad_container)),
            quote_joined(&types),
            containers_named(&implicit)
        ),
    )
}
