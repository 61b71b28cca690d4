//! `runAsUser`: neither the pod nor a container may run as UID 0.

use super::{Check, FixAvailability, Violation, setters};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "runAsUser",
    level: Level::Restricted,
    versions: &[23, 35],
    overrides: None,
    fields: &[
        "spec.securityContext.runAsUser",
        "spec.containers[*].securityContext.runAsUser",
    ],
    reason: "runAsUser=0",
    doc: "Containers must not be set to run as the root user (UID 0).

## What it forbids
`securityContext.runAsUser: 0` on the pod or on any container. A non-zero container value does not excuse a
pod-level 0. Unset is allowed (`runAsNonRoot` covers it).

## Why
UID 0 inside the container is root on the node unless user namespaces are in use; a container escape then starts
with full privileges.

## Since
Restricted, v1.23. From v1.35 a pod with `spec.hostUsers: false` passes.

## How to comply
Run as a dedicated non-zero UID:
```yaml
securityContext:
  runAsUser: 10001
```

## Fix safety
Which UID a workload can run as depends on its image; the fix only removes the explicit 0, which may still run as
root if the image says so: unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if minor >= 35 && pod.in_user_namespace() {
        return None;
    }
    let mut locations = Vec::new();
    let pod_root = zero(pod.security_context().and_then(|sc| sc.entry("runAsUser")));
    locations.extend(pod_root.map(Loc::field));
    let mut containers = Vec::new();
    for container in pod.containers() {
        if let Some(entry) = zero(container.security_setting("runAsUser")) {
            containers.push(container.name);
            locations.push(Loc::field(entry));
        }
    }
    if pod_root.is_none() && containers.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} must not set runAsUser=0",
            setters(pod_root.is_some(), &containers)
        ),
        locations,
    )
}

fn zero(entry: Option<crate::yaml::Entry<'_>>) -> Option<crate::yaml::Entry<'_>> {
    entry.filter(|e| e.value.as_i64() == Some(0))
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    let place = context.on_container_or_pod();
    crate::fix::fix(
        format!("Remove runAsUser: 0{place}"),
        Applicability::Unsafe,
        context.remove_field(),
    )
}

/// CEL: neither the pod nor any container sets `runAsUser: 0`; from v1.35 a pod in a user namespace passes.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let pod_root = pod_is("runAsUser", "0");
    let container_root = container_is("runAsUser", "0");
    let passes = format!("!{pod_root} && !variables.containers.exists(c, {container_root})");
    Cel::new(
        if minor >= 35 {
            unless(USER_NAMESPACE, &passes)
        } else {
            passes
        },
        CHECK.reason,
        format!(
            "{} + ' must not set runAsUser=0'",
            setters_of(&pod_root, &names_where(&container_root))
        ),
    )
}
