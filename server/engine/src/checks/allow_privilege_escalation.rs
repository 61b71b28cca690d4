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
Adding a missing `allowPrivilegeEscalation: false` is safe: it only stops setuid binaries from gaining privileges,
and `podsec fix` applies it. Replacing a `true` you wrote is unsafe. The API server refuses `false` beside
`privileged: true` or `CAP_SYS_ADMIN` in `capabilities.add`, so there the fix also sets `privileged: false` or
removes `CAP_SYS_ADMIN`, and is unsafe.
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
    let on = context.on_container();
    if context.field().is_some() {
        // The author wrote `true`: replacing it is their call.
        return crate::fix::fix(
            format!(
                "Set allowPrivilegeEscalation: false{on}, replacing true (setuid programs lose their privileges)"
            ),
            Applicability::Unsafe,
            context.set_value("false"),
        );
    }
    let add = context.ensure_in_container(&["securityContext", "allowPrivilegeEscalation"], "false")?;
    let container = context.container()?;
    // ValidateSecurityContext refuses `allowPrivilegeEscalation: false` beside `privileged: true` or
    // `CAP_SYS_ADMIN` in `capabilities.add`: the fix takes those away in the same edit, and is unsafe then.
    if let Some(privileged) = container
        .security_setting("privileged")
        .filter(|e| e.value.as_bool() == Some(true))
    {
        // `privileged: false` rather than removing the line: the new key goes after it.
        let unprivileged = context.replace(privileged, "false");
        return crate::fix::fix_of_edits(
            format!(
                "Set allowPrivilegeEscalation: false and privileged: false{on} (the container loses the host's devices and capabilities)"
            ),
            Applicability::Unsafe,
            vec![add, unprivileged],
        );
    }
    let sys_admin = container
        .security_setting("capabilities")
        .and_then(|c| c.value.get("add"))
        .and_then(|add| {
            add.items()
                .position(|c| c.as_str() == Some("CAP_SYS_ADMIN"))
                .map(|i| (add, i))
        });
    if let Some((list, index)) = sys_admin {
        let remove = context.remove_item(list, index)?;
        return crate::fix::fix_of_edits(
            format!(
                "Set allowPrivilegeEscalation: false and remove CAP_SYS_ADMIN from capabilities.add{on} (the container loses it)"
            ),
            Applicability::Unsafe,
            vec![add, remove],
        );
    }
    crate::fix::fix(
        format!("Set allowPrivilegeEscalation: false{on}"),
        Applicability::Safe,
        Some(add),
    )
}

/// CEL: every container sets `allowPrivilegeEscalation: false`; Windows pods pass from v1.25.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let bad = format!("!{}", container_is("allowPrivilegeEscalation", "false"));
    let passes = format!("!variables.containers.exists(c, {bad})");
    Cel::new(
        windows_passes_from_v1_25(minor, passes),
        CHECK.reason,
        format!(
            "{} + ' must set securityContext.allowPrivilegeEscalation=false'",
            containers_named(&names_where(&bad))
        ),
    )
}
