//! `procMount` (baseline): containers must use the default, masked /proc.

use super::{Check, FixAvailability, Violation, containers_phrase, join_quote, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "procMount",
    level: Level::Baseline,
    versions: &[0, 35],
    overrides: None,
    fields: &[
        "spec.containers[*].securityContext.procMount",
    ],
    reason: "procMount",
    doc: "Containers must keep the default, masked /proc mount.

## What it forbids
`securityContext.procMount` set to anything but `Default` (for example `Unmasked`) on any container.

## Why
The default proc mount masks and makes read-only the parts of `/proc` that expose the node's kernel. `Unmasked`
removes that protection.

## Since
Baseline, every version (v1.0). From v1.35 a pod with `spec.hostUsers: false` (in a user namespace) passes, since
an unmasked /proc inside a user namespace cannot reach the host; at the restricted level `procMount_restricted`
then takes over without that relaxation.

## How to comply
Remove `procMount`, or set `procMount: Default`.

## Fix safety
Setting `procMount: Default` can break nested container runtimes that need an unmasked /proc: unsafe.
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
    unmasked_proc_mounts(pod)
}

/// The v1.0 logic, shared with `procMount_restricted`.
pub(crate) fn unmasked_proc_mounts(pod: &Pod<'_>) -> Option<Violation> {
    let mut names = Vec::new();
    let mut values = Vec::new();
    let mut locations = Vec::new();
    for container in pod.containers() {
        let Some(entry) = container.security_setting("procMount") else {
            continue;
        };
        let value = entry.value.as_str().unwrap_or("");
        if value != "Default" {
            names.push(container.name);
            values.push(value.to_string());
            locations.push(Loc::field(entry));
        }
    }
    if names.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&names),
            join_quote(&sorted_set(values))
        ),
        locations,
    )
}

pub(crate) fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    crate::fix::fix(
        format!("Remove procMount (use the default){}", context.on_container()),
        Applicability::Unsafe,
        context.remove_field(),
    )
}

/// CEL: the v1.0 test (shared with `procMount_restricted`); from v1.35 a pod in a user namespace passes.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let unmasked = unmasked_proc_mounts_cel();
    if minor >= 35 {
        Cel {
            expression: unless(USER_NAMESPACE, &unmasked.expression),
            ..unmasked
        }
    } else {
        unmasked
    }
}

/// CEL: every container's `procMount` is unset or `Default`.
pub(crate) fn unmasked_proc_mounts_cel() -> crate::cel::Cel {
    use crate::cel::*;
    let bad = format!(
        "({} && c.securityContext.procMount != 'Default')",
        container_has("procMount")
    );
    Cel::new(
        format!("!variables.containers.exists(c, {bad})"),
        CHECK.reason,
        format!(
            "{} + ' must not set securityContext.procMount to ' + {}",
            containers_named(&names_where(&bad)),
            quote_joined(&sorted_distinct(&format!(
                "variables.containers.filter(c, {bad}).map(c, c.securityContext.procMount)"
            )))
        ),
    )
}
