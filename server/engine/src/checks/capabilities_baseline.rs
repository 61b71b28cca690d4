//! `capabilities_baseline`: containers may add only the runtime's default capabilities.

use super::{Check, FixAvailability, Violation, containers_phrase, join_quote, sorted_set};
use crate::fix::Applicability;
use crate::pod::{Loc, Pod};
use crate::policy::Level;

/// The capabilities container runtimes grant by default; adding them changes nothing.
pub(crate) const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

pub static CHECK: Check = Check {
    id: "capabilities_baseline",
    level: Level::Baseline,
    versions: &[0],
    overrides: None,
    fields: &[
        "spec.containers[*].securityContext.capabilities.add",
    ],
    reason: "non-default capabilities",
    doc: "Containers must not add Linux capabilities beyond the runtime's default set.

## What it forbids
Any entry of `securityContext.capabilities.add` outside AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT. The match is exact and case-sensitive:
`chown` and `CAP_CHOWN` are forbidden. `drop` is not looked at.

## Why
Capabilities such as `SYS_ADMIN`, `NET_ADMIN` or `NET_RAW` give a container root-like powers over the node's kernel.

## Since
Baseline, every version (v1.0). At the restricted level it is replaced by `capabilities_restricted` from v1.22.

## How to comply
Remove the extra capabilities from `add`:
```yaml
securityContext:
  capabilities:
    add: [NET_BIND_SERVICE]
```

## Fix safety
Removing an added capability can break the workload: unsafe.
",
    evaluate,
    cel,
    fix: Some(crate::fix::remove_capability),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    let mut bad_capabilities = Vec::new();
    let mut locations = Vec::new();
    for container in pod.containers() {
        let Some(capabilities) = container.security_setting("capabilities") else {
            continue;
        };
        let Some(add) = capabilities.value.entry("add") else {
            continue;
        };
        let mut valid = true;
        for (item, capability) in add.value.items().map(|i| (i, i.as_str().unwrap_or(""))) {
            if !DEFAULT_CAPABILITIES.contains(&capability) {
                valid = false;
                bad_capabilities.push(capability.to_string());
                locations.push(Loc::Item { node: item.id() });
            }
        }
        if !valid {
            bad_containers.push(container.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad_containers),
            join_quote(&sorted_set(bad_capabilities))
        ),
        locations,
    )
}

/// CEL: every added capability of every container is one of the defaults.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let adds = "c.securityContext.capabilities.add";
    let bad = format!(
        "({} && {adds}.exists(a, !(a in {})))",
        container_has("capabilities.add"),
        literal_list(DEFAULT_CAPABILITIES)
    );
    let bad_capabilities = flatten(&format!(
        "variables.containers.filter(c, {bad}).map(c, {adds}.filter(a, !(a in {})))",
        literal_list(DEFAULT_CAPABILITIES)
    ));
    Cel::new(
        format!("!variables.containers.exists(c, {bad})"),
        CHECK.reason,
        format!(
            "{} + ' must not include ' + {} + ' in securityContext.capabilities.add'",
            containers_named(&names_where(&bad)),
            quote_joined(&sorted_distinct(&bad_capabilities))
        ),
    )
}
