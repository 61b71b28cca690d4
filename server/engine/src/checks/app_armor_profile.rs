//! `appArmorProfile`: AppArmor may not be unconfined, by field or by the beta annotation.

use super::{Check, FixAvailability, Violation, go_quote, join_quote, pluralize, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

pub static CHECK: Check = Check {
    id: "appArmorProfile",
    level: Level::Baseline,
    versions: &[0],
    overrides: None,
    fields: &[
        "spec.securityContext.appArmorProfile",
        "spec.containers[*].securityContext.appArmorProfile",
        r#"metadata.annotations["container.apparmor.security.beta.kubernetes.io/"#,
    ],
    reason: "forbidden AppArmor profile",
    doc: "AppArmor must not be disabled or overridden with an unknown profile type.

## What it forbids
- `securityContext.appArmorProfile.type` on the pod or any container set to anything but `RuntimeDefault` or
  `Localhost` (`Unconfined`, and an empty type, are forbidden when `appArmorProfile` is present).
- Annotations `container.apparmor.security.beta.kubernetes.io/<container>` with a value other than empty,
  `runtime/default` or `localhost/<profile>` (for example `unconfined`).

## Why
The runtime's default AppArmor profile blocks writes to `/proc` and `/sys` and other kernel interfaces.
Running unconfined removes that layer for every process in the container.

## Since
Baseline, every version (v1.0). The field form was added to the v1.0 implementation, so it applies to every version.

## How to comply
Remove the override, or use the runtime default or a profile loaded on the node:
```yaml
securityContext:
  appArmorProfile:
    type: RuntimeDefault
```

## Fix safety
Replacing `Unconfined` with `RuntimeDefault` can stop a workload that relies on being unconfined: unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn allowed_type(value: &str) -> bool {
    matches!(value, "RuntimeDefault" | "Localhost")
}

fn allowed_annotation(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let mut locations = Vec::new();
    let mut bad_values = Vec::new();
    let mut bad_pod = false;
    let profile_type = |profile: crate::yaml::NodeRef<'_>| -> (String, Option<Loc>) {
        match profile.entry("type") {
            Some(entry) => (
                entry.value.as_str().unwrap_or("").to_string(),
                Some(Loc::field(entry)),
            ),
            None => (String::new(), None),
        }
    };
    if let Some(profile) = pod.security_context().and_then(|sc| sc.entry("appArmorProfile")) {
        let (value, at) = profile_type(profile.value);
        if !allowed_type(&value) {
            bad_pod = true;
            bad_values.push(value);
            locations.push(at.unwrap_or(Loc::field(profile)));
        }
    }
    let mut bad_containers = Vec::new();
    for container in pod.containers() {
        if let Some(profile) = container.security_setting("appArmorProfile") {
            let (value, at) = profile_type(profile.value);
            if !allowed_type(&value) {
                bad_containers.push(container.name);
                bad_values.push(value);
                locations.push(at.unwrap_or(Loc::field(profile)));
            }
        }
    }
    let mut bad_annotations = Vec::new();
    for (entry, key, value) in pod.annotations() {
        if key.starts_with(ANNOTATION_PREFIX) && !allowed_annotation(value) {
            bad_annotations.push(format!("{key}={}", go_quote(value)));
            locations.push(Loc::field(entry));
        }
    }
    let mut setters = Vec::new();
    if bad_pod {
        setters.push("pod".to_string());
    }
    if !bad_containers.is_empty() {
        setters.push(super::containers_phrase(&bad_containers));
    }
    let mut values = sorted_set(bad_values);
    if !bad_annotations.is_empty() {
        bad_annotations.sort();
        setters.push(pluralize("annotation", "annotations", bad_annotations.len()).to_string());
        values.extend(bad_annotations);
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        // Upstream pluralises this one reason.
        pluralize(CHECK.reason, "forbidden AppArmor profiles", values.len()),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
        locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    crate::fix::runtime_default_profile(context, ANNOTATION_PREFIX, "appArmorProfile")
}

/// CEL: a present profile's type must be allowed (an absent type is `""`); annotations as above.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let allowed = literal_list(&["RuntimeDefault", "Localhost"]);
    let profile_type = |base: &str| or_default(base, "securityContext.appArmorProfile.type", "''");
    let bad = |base: &str, has_profile: String| {
        format!("({has_profile} && !({} in {allowed}))", profile_type(base))
    };
    let bad_pod = bad("variables.spec", pod_has("appArmorProfile"));
    let bad_container = bad("c", container_has("appArmorProfile"));
    let bad_annotations = format!(
        "variables.annotations.filter(k, k.startsWith({}) && !(variables.annotations[k] == '' || \
         variables.annotations[k] == 'runtime/default' || variables.annotations[k].startsWith('localhost/')))",
        literal(ANNOTATION_PREFIX)
    );
    let values = format!(
        "{} + {}",
        sorted_distinct(&format!(
            "({bad_pod} ? [{}] : []) + variables.containers.filter(c, {bad_container}).map(c, {})",
            profile_type("variables.spec"),
            profile_type("c")
        )),
        sorted_distinct(&format!(
            "{bad_annotations}.map(k, k + '=' + strings.quote(variables.annotations[k]))"
        ))
    );
    let setters = bind(
        &names_where(&bad_container),
        "n",
        &format!(
            "(({bad_pod} ? ['pod'] : []) + (size(n) > 0 ? [{}] : []) + \
             (size({bad_annotations}) > 0 ? [{}] : [])).join(' and ')",
            containers_named("n"),
            plural(&bad_annotations, "annotation", "annotations")
        ),
    );
    Cel {
        expression: format!(
            "!{bad_pod} && !variables.containers.exists(c, {bad_container}) && size({bad_annotations}) == 0"
        ),
        reason: plural(&values, CHECK.reason, "forbidden AppArmor profiles"),
        detail: format!(
            "{setters} + ' must not set AppArmor profile type to ' + {}",
            quote_joined(&values)
        ),
    }
}
