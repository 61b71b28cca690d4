//! `hostNamespaces`: pods may not share the node's network, PID or IPC namespace.

use super::{Check, FixAvailability, Violation};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "hostNamespaces",
    level: Level::Baseline,
    versions: &[0],
    overrides: None,
    fields: &["spec.hostNetwork", "spec.hostPID", "spec.hostIPC"],
    reason: "host namespaces",
    doc: "Pods must not share the node's network, process or IPC namespaces.

## What it forbids
`spec.hostNetwork: true`, `spec.hostPID: true`, `spec.hostIPC: true`. Unset and `false` are allowed.

## Why
A pod in the host's namespaces can see and talk to every process and socket on the node, sniff its traffic and
reach services bound to localhost, which defeats the isolation between workloads.

## Since
Baseline, every version (v1.0).

## How to comply
Remove the fields, or set them to `false`. Expose the pod through a Service instead of the host network.

## Fix safety
Removing host namespaces changes how the pod is reached and what it sees: unsafe. A Windows host-process pod
gets no fix for `hostNetwork`: the API server requires the host's network while any container is a host
process (`validateWindowsHostProcessPod`).
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Sometimes(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let mut parts = Vec::new();
    let mut locations = Vec::new();
    for (field, text) in [
        ("hostNetwork", "hostNetwork=true"),
        ("hostPID", "hostPID=true"),
        ("hostIPC", "hostIPC=true"),
    ] {
        if let Some(entry) = pod.spec_flag(field) {
            parts.push(text);
            locations.push(Loc::field(entry));
        }
    }
    if parts.is_empty() {
        return None;
    }
    Violation::new(CHECK.reason, parts.join(", "), locations)
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    let key = context.field_key()?;
    crate::fix::fix(
        format!("Remove {key}: true"),
        Applicability::Unsafe,
        context.remove_field(),
    )
}

/// CEL: none of the three host namespaces is `true`.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let set = |field: &str| is("variables.spec", field, "true");
    let parts: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .map(|field| format!("({} ? ['{field}=true'] : [])", set(field)))
        .collect();
    Cel::new(
        format!(
            "!{} && !{} && !{}",
            set("hostNetwork"),
            set("hostPID"),
            set("hostIPC")
        ),
        CHECK.reason,
        format!("({}).join(', ')", parts.join(" + ")),
    )
}
