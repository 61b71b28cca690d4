//! `capabilities_restricted`: containers must drop ALL and may add only NET_BIND_SERVICE.

use super::{Check, FixAvailability, Violation, containers_phrase, join_quote, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "capabilities_restricted",
    level: Level::Restricted,
    versions: &[22, 25],
    overrides: Some("capabilities_baseline"),
    fields: &[
        "spec.containers[*].securityContext.capabilities.drop",
        "spec.containers[*].securityContext.capabilities.add",
    ],
    reason: "unrestricted capabilities",
    doc: "Containers must drop ALL capabilities and may add back only NET_BIND_SERVICE.

## What it forbids
- A container whose `securityContext.capabilities.drop` does not contain the literal `ALL` (case-sensitive),
  including a container with no `securityContext` or no `capabilities`.
- Any entry of `securityContext.capabilities.add` other than `NET_BIND_SERVICE`.

## Why
Even the runtime's default capabilities (`CHOWN`, `SETUID`, `NET_RAW` on some runtimes…) widen what a compromised
process can do. Dropping all of them is the least-privilege starting point.

## Since
Restricted, v1.22 (replacing `capabilities_baseline` there). From v1.25 pods with `spec.os.name: windows` pass.

## How to comply
```yaml
securityContext:
  capabilities:
    drop: [ALL]
    add: [NET_BIND_SERVICE]   # only if the container binds a port below 1024
```

## Fix safety
Adding `ALL` to `drop` is safe for a container that the manifest keeps from running as root (a non-zero
`runAsUser`, or `runAsNonRoot: true`), and `podsec fix` applies it there. For a container that may run as root it
is unsafe: a process that needs CHOWN, SETUID or NET_BIND_SERVICE stops working. Removing entries from `add` can
break the workload: unsafe.
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
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden = Vec::new();
    let mut drop_locations = Vec::new();
    let mut add_locations = Vec::new();
    for container in pod.containers() {
        let Some(capabilities) = container.security_setting("capabilities") else {
            missing_drop_all.push(container.name);
            drop_locations.push(container.missing("securityContext.capabilities.drop"));
            continue;
        };
        let drop = capabilities.value.entry("drop");
        if !drop.is_some_and(|d| d.value.items().any(|c| c.as_str() == Some("ALL"))) {
            missing_drop_all.push(container.name);
            drop_locations.push(match drop {
                Some(entry) => Loc::field(entry),
                None => container.missing("securityContext.capabilities.drop"),
            });
        }
        let mut added_forbidden = false;
        for item in capabilities.value.get("add").into_iter().flat_map(|a| a.items()) {
            let capability = item.as_str().unwrap_or("");
            if capability != "NET_BIND_SERVICE" {
                added_forbidden = true;
                forbidden.push(capability.to_string());
                add_locations.push(Loc::Item { node: item.id() });
            }
        }
        if added_forbidden {
            adding_forbidden.push(container.name);
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&sorted_set(forbidden))
        ));
    }
    if details.is_empty() {
        return None;
    }
    drop_locations.extend(add_locations);
    Violation::new(CHECK.reason, details.join("; "), drop_locations)
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    if let Loc::Item { .. } = context.loc {
        return crate::fix::remove_capability(context);
    }
    let on = context.on_container();
    // Dropping every capability takes root's powers (CHOWN, SETUID, NET_BIND_SERVICE…) from a process
    // running as root: sure to break nothing only where the manifest keeps the container from root.
    let cannot_be_root = context
        .container()
        .is_some_and(|container| context.pod.cannot_run_as_root(container));
    let (applicability, note) = if cannot_be_root {
        (Applicability::Safe, "")
    } else {
        (
            Applicability::Unsafe,
            " (a process running as root loses CHOWN, SETUID, NET_BIND_SERVICE and the rest)",
        )
    };
    match context.field() {
        // An existing list gains ALL; any other value the author wrote is theirs to replace.
        Some((_, value)) if value.resolved().is_sequence() => crate::fix::fix(
            format!("Add ALL to capabilities.drop{on}{note}"),
            applicability,
            context.append_to_field("ALL"),
        ),
        Some(_) => crate::fix::fix(
            format!("Set capabilities.drop: [ALL]{on}, replacing its value{note}"),
            Applicability::Unsafe,
            context.append_to_field("ALL"),
        ),
        None => crate::fix::fix(
            format!("Drop ALL capabilities{on}{note}"),
            applicability,
            context.ensure_in_container(&["securityContext", "capabilities", "drop"], "[ALL]"),
        ),
    }
}

/// CEL: every container drops `ALL` and adds nothing but `NET_BIND_SERVICE`; Windows pods pass from v1.25.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let adds = "c.securityContext.capabilities.add";
    let missing_drop_all = format!(
        "!({} && 'ALL' in c.securityContext.capabilities.drop)",
        container_has("capabilities.drop")
    );
    let bad_add = format!(
        "({} && {adds}.exists(a, a != 'NET_BIND_SERVICE'))",
        container_has("capabilities.add")
    );
    let passes = format!("!variables.containers.exists(c, {missing_drop_all} || {bad_add})");
    let drop_part = format!(
        "{} + ' must set securityContext.capabilities.drop=[\"ALL\"]'",
        containers_named(&names_where(&missing_drop_all))
    );
    let add_part = format!(
        "{} + ' must not include ' + {} + ' in securityContext.capabilities.add'",
        containers_named(&names_where(&bad_add)),
        quote_joined(&sorted_distinct(&flatten(&format!(
            "variables.containers.filter(c, {bad_add}).map(c, {adds}.filter(a, a != 'NET_BIND_SERVICE'))"
        ))))
    );
    Cel::new(
        windows_passes_from_v1_25(minor, passes),
        CHECK.reason,
        format!(
            "((variables.containers.exists(c, {missing_drop_all}) ? [{drop_part}] : []) + \
             (variables.containers.exists(c, {bad_add}) ? [{add_part}] : [])).join('; ')"
        ),
    )
}
