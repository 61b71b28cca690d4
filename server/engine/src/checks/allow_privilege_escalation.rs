//! `allowPrivilegeEscalation`: every container must forbid privilege escalation.

use super::{Check, FixAvailability, Violation, containers_phrase};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "allowPrivilegeEscalation",
    level: Level::Restricted,
    versions: &[8, 25],
    overrides: None,
    fields: &[
        "spec.containers[*].securityContext.allowPrivilegeEscalation",
    ],
    reason: "allowPrivilegeEscalation != false",
    doc: "Containers must explicitly forbid privilege escalation.

## What it forbids
A container whose `securityContext.allowPrivilegeEscalation` is not explicitly `false`: unset, a missing
`securityContext` and `true` all fail.

## Why
With escalation allowed, a process can gain more privileges than its parent through setuid binaries or file
capabilities (`no_new_privs` is not set).

## Since
Restricted, v1.8. From v1.25 pods with `spec.os.name: windows` pass.

## How to comply
```yaml
containers:
- name: app
  securityContext:
    allowPrivilegeEscalation: false
```

## Fix safety
Setting `allowPrivilegeEscalation: false` only breaks programs that rely on setuid binaries; it is what the
restricted level requires and `podsec fix` applies it. (API validation rejects it together with `privileged: true`.)
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Safe),
};

fn evaluate(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if minor >= 25 && pod.is_windows() {
        return None;
    }
    let mut names = Vec::new();
    let mut locations = Vec::new();
    for container in pod.containers() {
        let setting = container.security_setting("allowPrivilegeEscalation");
        match setting.map(|e| (e, e.value.as_bool())) {
            Some((_, Some(false))) => {}
            Some((entry, Some(true))) => {
                names.push(container.name);
                locations.push(Loc::field(entry));
            }
            _ => {
                names.push(container.name);
                locations.push(container.missing("securityContext.allowPrivilegeEscalation"));
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&names)
        ),
        locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    let title = format!("Set allowPrivilegeEscalation: false{}", context.on_container());
    let edit = match context.field() {
        Some(_) => context.set_value("false"),
        None => context.ensure_in_container(&["securityContext", "allowPrivilegeEscalation"], "false"),
    };
    crate::fix::fix(title, Applicability::Safe, edit)
}

/// CEL: every container sets `allowPrivilegeEscalation: false`; Windows pods pass from v1.25.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let bad = format!("!{}", container_is("allowPrivilegeEscalation", "false"));
    let passes = format!("!variables.containers.exists(c, {bad})");
    Cel::new(
        if minor >= 25 {
            unless(WINDOWS, &passes)
        } else {
            passes
        },
        CHECK.reason,
        format!(
            "{} + ' must set securityContext.allowPrivilegeEscalation=false'",
            containers_named(&names_where(&bad))
        ),
    )
}
