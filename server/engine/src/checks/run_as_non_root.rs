//! `runAsNonRoot`: the pod or every container must declare it runs as non-root.

use super::{Check, FixAvailability, Violation, containers_phrase, setters};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "runAsNonRoot",
    level: Level::Restricted,
    versions: &[0, 35],
    overrides: None,
    fields: &[
        "spec.securityContext.runAsNonRoot",
        "spec.containers[*].securityContext.runAsNonRoot",
    ],
    reason: "runAsNonRoot != true",
    doc: "Containers must be required to run as a non-root user.

## What it forbids
- `securityContext.runAsNonRoot: false` on the pod or on any container (a pod-level `false` fails even when every
  container sets `true`).
- A container that leaves `runAsNonRoot` unset while the pod does not set it to `true`.

## Why
With `runAsNonRoot: true` the kubelet refuses to start a container whose image would run as UID 0, so a root
process never runs, whatever the image says.

## Since
Restricted, every version (v1.0). From v1.35 a pod with `spec.hostUsers: false` passes: in a user namespace UID 0
is not root on the node. Windows pods are not exempt.

## How to comply
Set it once for the whole pod, and make sure the image runs as a non-zero UID:
```yaml
spec:
  securityContext:
    runAsNonRoot: true
```

## Fix safety
Adding `runAsNonRoot: true` is safe only where a non-zero `runAsUser` applies to every container it covers, and
`podsec fix` applies it there: the kubelet refuses to start a container under `runAsNonRoot: true` whose image runs as root or names its user
without a number. Elsewhere the fix is unsafe (the image must not need root), and replacing a `false` you wrote is
always unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Mixed,
};

fn evaluate(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if minor >= 35 && pod.in_user_namespace() {
        return None;
    }
    let mut explicit_locations = Vec::new();
    let mut pod_false = false;
    let mut pod_true = false;
    if let Some(entry) = pod.security_context().and_then(|sc| sc.entry("runAsNonRoot")) {
        match entry.value.as_bool() {
            Some(false) => {
                pod_false = true;
                explicit_locations.push(Loc::field(entry));
            }
            Some(true) => pod_true = true,
            None => {}
        }
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    let mut implicit_locations = Vec::new();
    for container in pod.containers() {
        let setting = container.security_setting("runAsNonRoot");
        match setting.and_then(|e| e.value.as_bool()) {
            Some(false) => {
                explicitly_bad.push(container.name);
                explicit_locations.extend(setting.map(Loc::field));
            }
            Some(true) => {}
            None if !pod_true => {
                implicitly_bad.push(container.name);
                implicit_locations.push(container.missing("securityContext.runAsNonRoot"));
            }
            None => {}
        }
    }
    if pod_false || !explicitly_bad.is_empty() {
        return Violation::new(
            CHECK.reason,
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters(pod_false, &explicitly_bad)
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
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&implicitly_bad)
        ),
        implicit_locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    if context.field().is_some() {
        // The author wrote `false`: replacing it is their call.
        return crate::fix::fix(
            format!(
                "Set runAsNonRoot: true{}, replacing false (the container will not start if its image runs as root)",
                context.on_container()
            ),
            Applicability::Unsafe,
            context.set_value("true"),
        );
    }
    // The kubelet refuses to start a container under `runAsNonRoot: true` unless it knows the user is not
    // root: a non-zero `runAsUser`, or an image with a numeric non-zero user, which the manifest cannot tell.
    let pod = context.pod;
    let covered_by_user = pod
        .containers()
        .iter()
        .filter(|c| c.security_setting("runAsNonRoot").is_none())
        .all(|c| pod.run_as_user(c).is_some_and(|user| user != 0));
    let (title, applicability) = if covered_by_user {
        (
            "Set runAsNonRoot: true in the pod's securityContext",
            Applicability::Safe,
        )
    } else {
        (
            "Set runAsNonRoot: true in the pod's securityContext (the image must not need root: a container \
             without a non-zero runAsUser will not start if its image runs as root or names its user)",
            Applicability::Unsafe,
        )
    };
    crate::fix::fix(
        title,
        applicability,
        context.ensure_in_pod_spec(&["securityContext", "runAsNonRoot"], "true"),
    )
}

/// CEL: nothing sets `false`, and every container sets `true` unless the pod does; from v1.35 a pod in a
/// user namespace passes.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let pod_false = pod_is("runAsNonRoot", "false");
    let pod_true = pod_is("runAsNonRoot", "true");
    let container_false = container_is("runAsNonRoot", "false");
    let container_unset = format!("!{}", container_has("runAsNonRoot"));
    let explicit = format!("{pod_false} || variables.containers.exists(c, {container_false})");
    let implicit = names_where(&format!("{container_unset} && !{pod_true}"));
    let passes = format!("!({explicit}) && size({implicit}) == 0");
    Cel::new(
        if minor >= 35 {
            unless(USER_NAMESPACE, &passes)
        } else {
            passes
        },
        CHECK.reason,
        format!(
            "({explicit}) ? {} + ' must not set securityContext.runAsNonRoot=false' : \
             'pod or ' + {} + ' must set securityContext.runAsNonRoot=true'",
            setters_of(&pod_false, &names_where(&container_false)),
            containers_named(&implicit)
        ),
    )
}
