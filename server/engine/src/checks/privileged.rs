//! `privileged`: containers may not run privileged.

use super::{Check, FixAvailability, Violation, containers_phrase};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "privileged",
    level: Level::Baseline,
    versions: &[0],
    overrides: None,
    fields: &[
        "spec.containers[*].securityContext.privileged",
    ],
    reason: "privileged",
    doc: "Containers must not run in privileged mode.

## What it forbids
`securityContext.privileged: true` on any container (init and ephemeral containers included).

## Why
A privileged container has every capability and every device of the node, and no seccomp or AppArmor confinement:
it is root on the node.

## Since
Baseline, every version (v1.0).

## How to comply
Remove `privileged` (or set it to `false`) and grant only the specific capability the workload needs.

## Fix safety
Removing privileged mode can break workloads that manage the node (CNI, storage drivers): unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let mut names = Vec::new();
    let mut locations = Vec::new();
    for container in pod.containers() {
        if let Some(entry) = container
            .security_setting("privileged")
            .filter(|e| e.value.as_bool() == Some(true))
        {
            names.push(container.name);
            locations.push(Loc::field(entry));
        }
    }
    if names.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&names)
        ),
        locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    crate::fix::fix(
        format!("Remove privileged: true{}", context.on_container()),
        Applicability::Unsafe,
        context.remove_field(),
    )
}

/// CEL: no container sets `privileged: true`.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let bad = container_is("privileged", "true");
    Cel::new(
        format!("!variables.containers.exists(c, {bad})"),
        CHECK.reason,
        format!(
            "{} + ' must not set securityContext.privileged=true'",
            containers_named(&names_where(&bad))
        ),
    )
}
