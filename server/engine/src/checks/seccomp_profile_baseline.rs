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
    cel,
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

/// CEL: up to v1.18 the annotations, from v1.19 the fields (a present profile's type must be allowed).
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    if minor < 19 {
        let value = "variables.annotations[k]";
        let keys = format!(
            "([{}] + variables.containers.map(c, {} + c.name))",
            literal(POD_ANNOTATION),
            literal(CONTAINER_ANNOTATION_PREFIX)
        );
        let forbidden = format!(
            "{keys}.filter(k, k in variables.annotations && !({value} == 'runtime/default' || \
             {value} == 'docker/default' || {value}.startsWith('localhost/')))"
        );
        let entries = sorted_distinct(&format!("{forbidden}.map(k, k + '=' + strings.quote({value}))"));
        return Cel::new(
            format!("size({forbidden}) == 0"),
            CHECK.reason,
            format!(
                "'forbidden ' + {} + ' ' + {entries}.join(', ')",
                plural(&entries, "annotation", "annotations")
            ),
        );
    }
    let bad = |base: &str, has_profile: String| {
        format!(
            "({has_profile} && !({} in ['RuntimeDefault', 'Localhost']))",
            profile_type(base)
        )
    };
    let bad_pod = bad("variables.spec", pod_has("seccompProfile"));
    let bad_container = bad("c", container_has("seccompProfile"));
    let types = sorted_distinct(&format!(
        "({bad_pod} ? [{}] : []) + variables.containers.filter(c, {bad_container}).map(c, {})",
        profile_type("variables.spec"),
        profile_type("c")
    ));
    Cel::new(
        format!("!{bad_pod} && !variables.containers.exists(c, {bad_container})"),
        CHECK.reason,
        format!(
            "{} + ' must not set securityContext.seccompProfile.type to ' + {}",
            setters_of(&bad_pod, &names_where(&bad_container)),
            quote_joined(&types)
        ),
    )
}

/// CEL: the seccomp profile type under `base` (`variables.spec` or a container `c`), `""` when unset.
pub(crate) fn profile_type(base: &str) -> String {
    use crate::cel::*;
    or_default(base, "securityContext.seccompProfile.type", "''")
}
