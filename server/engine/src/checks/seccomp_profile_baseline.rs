//! `seccompProfile_baseline`: seccomp may not be explicitly unconfined.

use super::{Check, FixAvailability, Violation, go_quote, join_quote, pluralize, setters, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

pub static CHECK: Check = Check {
    id: "seccompProfile_baseline",
    level: Level::Baseline,
    versions: &[0, 19],
    overrides: None,
    fields: &[
        "spec.securityContext.seccompProfile",
        "spec.containers[*].securityContext.seccompProfile",
        r#"metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]"#,
        r#"metadata.annotations["container.seccomp.security.alpha.kubernetes.io/"#,
    ],
    reason: "seccompProfile",
    doc: "Seccomp must not be explicitly set to Unconfined.

## What it forbids
- From v1.19: `securityContext.seccompProfile.type` on the pod or any container set to anything but
  `RuntimeDefault` or `Localhost` (`Unconfined` is the usual offender). Unset is allowed.
- Up to v1.18: the annotations `seccomp.security.alpha.kubernetes.io/pod` and
  `container.seccomp.security.alpha.kubernetes.io/<container>` with a value other than `runtime/default`,
  `docker/default` or `localhost/<profile>` (an empty value is forbidden too). The fields are ignored then, and
  the annotations are ignored from v1.19.

## Why
Seccomp filters the system calls a container may make; unconfined exposes the whole kernel surface.

## Since
Baseline, every version (v1.0); fields instead of annotations from v1.19. At the restricted level it is replaced
by `seccompProfile_restricted` from v1.19.

## How to comply
```yaml
securityContext:
  seccompProfile:
    type: RuntimeDefault
```

## Fix safety
Replacing `Unconfined` with `RuntimeDefault` can block system calls the workload makes: unsafe.
",
    evaluate,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if minor < 19 { annotations(pod) } else { fields(pod) }
}

fn allowed_annotation(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

fn annotations(pod: &Pod<'_>) -> Option<Violation> {
    let annotations = pod.annotations();
    let mut forbidden = Vec::new();
    let mut locations = Vec::new();
    let mut inspect = |wanted: &str| {
        // The last entry wins when a key is repeated, as in a decoded map.
        if let Some((entry, key, value)) = annotations.iter().rev().find(|(_, key, _)| *key == wanted) {
            if !allowed_annotation(value) {
                forbidden.push(format!("{key}={}", go_quote(value)));
                locations.push(Loc::field(*entry));
            }
        }
    };
    inspect(POD_ANNOTATION);
    for container in pod.containers() {
        inspect(&format!("{CONTAINER_ANNOTATION_PREFIX}{}", container.name));
    }
    if forbidden.is_empty() {
        return None;
    }
    let forbidden = sorted_set(forbidden);
    locations.dedup();
    Violation::new(
        CHECK.reason,
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", forbidden.len()),
            forbidden.join(", ")
        ),
        locations,
    )
}

/// The v1.19 field logic: explicit bad types only.
fn fields(pod: &Pod<'_>) -> Option<Violation> {
    let mut values = Vec::new();
    let mut locations = Vec::new();
    let mut bad_pod = false;
    if let Some(profile) = pod.security_context().and_then(|sc| sc.entry("seccompProfile")) {
        if let Some((value, at)) = bad_profile_type(profile) {
            bad_pod = true;
            values.push(value);
            locations.push(at);
        }
    }
    let mut containers = Vec::new();
    for container in pod.containers() {
        if let Some((value, at)) = container
            .security_setting("seccompProfile")
            .and_then(bad_profile_type)
        {
            containers.push(container.name);
            values.push(value);
            locations.push(at);
        }
    }
    if !bad_pod && containers.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters(bad_pod, &containers),
            join_quote(&sorted_set(values))
        ),
        locations,
    )
}

/// When a present `seccompProfile` has a type other than `RuntimeDefault` or `Localhost`: the type as
/// written (empty when unset) and where to report it.
pub(crate) fn bad_profile_type(profile: crate::yaml::Entry<'_>) -> Option<(String, Loc)> {
    let type_entry = profile.value.entry("type");
    let value = type_entry.and_then(|e| e.value.as_str()).unwrap_or("");
    if matches!(value, "RuntimeDefault" | "Localhost") {
        return None;
    }
    Some((value.to_string(), Loc::field(type_entry.unwrap_or(profile))))
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    crate::fix::runtime_default_profile(context, "seccomp.security.alpha.kubernetes.io/", "seccompProfile")
}
