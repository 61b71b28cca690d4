//! `procMount_restricted`: at the restricted level, /proc stays masked even in a user namespace.

use super::{Check, FixAvailability, Violation};
use crate::fix::Applicability;
use crate::pod::Pod;
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "procMount_restricted",
    level: Level::Restricted,
    versions: &[35],
    overrides: Some("procMount"),
    fields: &["spec.containers[*].securityContext.procMount"],
    reason: "procMount",
    doc: "Containers must keep the default, masked /proc mount, even in a user namespace.

## What it forbids
`securityContext.procMount` set to anything but `Default` on any container, whatever `spec.hostUsers` says.

## Why
The restricted level does not rely on user namespaces to contain an unmasked /proc.

## Since
Restricted, v1.35, where it replaces the baseline `procMount` check (which relaxes for `hostUsers: false`).

## How to comply
Remove `procMount`, or set `procMount: Default`.

## Fix safety
Setting `procMount: Default` can break nested container runtimes: unsafe.
",
    evaluate,
    cel,
    fix: Some(super::proc_mount::fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    super::proc_mount::unmasked_proc_mounts(pod)
}

/// CEL: procMount's v1.0 test, whatever `hostUsers` says.
fn cel(_minor: u32) -> crate::cel::Cel {
    super::proc_mount::unmasked_proc_mounts_cel()
}
