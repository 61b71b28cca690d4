//! `windowsHostProcess`: Windows pods may not run as HostProcess containers.

use super::{Check, FixAvailability, Violation, setters};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "windowsHostProcess",
    level: Level::Baseline,
    versions: &[0],
    overrides: None,
    fields: &[
        "spec.securityContext.windowsOptions.hostProcess",
        "spec.containers[*].securityContext.windowsOptions.hostProcess",
    ],
    reason: "hostProcess",
    doc: "Windows pods must not run HostProcess containers.

## What it forbids
`securityContext.windowsOptions.hostProcess: true` on the pod or any container.

## Why
A HostProcess container runs directly on the Windows node, with the node's network and file system and as a node
account: it is the Windows equivalent of a privileged container.

## Since
Baseline, every version (v1.0). API validation requires `hostNetwork: true` for HostProcess pods, so such pods
also fail `hostNamespaces`.

## How to comply
Remove `hostProcess` (and `hostNetwork`) and run the workload as a normal Windows container.

## Fix safety
Removing HostProcess changes what the workload can do on the node: unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let mut locations = Vec::new();
    let mut containers = Vec::new();
    for container in pod.containers() {
        if let Some(entry) = host_process(container.security_context()) {
            containers.push(container.name);
            locations.push(Loc::field(entry));
        }
    }
    let pod_entry = host_process(pod.security_context());
    if let Some(entry) = pod_entry {
        locations.insert(0, Loc::field(entry));
    }
    if pod_entry.is_none() && containers.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters(pod_entry.is_some(), &containers)
        ),
        locations,
    )
}

fn host_process(security_context: Option<crate::yaml::NodeRef<'_>>) -> Option<crate::yaml::Entry<'_>> {
    security_context
        .and_then(|sc| sc.get("windowsOptions"))
        .and_then(|w| w.entry("hostProcess"))
        .filter(|e| e.value.as_bool() == Some(true))
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    // validateWindowsHostProcessPod: a pod's containers are all host-process containers or none is, so
    // one `hostProcess: true` cannot go alone: the fix removes every one of the pod's.
    let pod = context.pod;
    let entries: Vec<_> = host_process(pod.security_context())
        .into_iter()
        .chain(
            pod.containers()
                .iter()
                .filter_map(|c| host_process(c.security_context())),
        )
        .collect();
    let edits = entries
        .iter()
        .map(|entry| context.remove_entry(*entry))
        .collect::<Option<Vec<_>>>()?;
    let title = if entries.len() > 1 {
        "Remove windowsOptions.hostProcess: true from the pod and all its containers".to_string()
    } else {
        format!(
            "Remove windowsOptions.hostProcess: true{}",
            context.on_container_or_pod()
        )
    };
    crate::fix::fix_of_edits(title, Applicability::Unsafe, edits)
}

/// CEL: neither the pod nor any container sets `windowsOptions.hostProcess: true`.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let pod = pod_is("windowsOptions.hostProcess", "true");
    let container = container_is("windowsOptions.hostProcess", "true");
    Cel::new(
        format!("!{pod} && !variables.containers.exists(c, {container})"),
        CHECK.reason,
        format!(
            "{} + ' must not set securityContext.windowsOptions.hostProcess=true'",
            setters_of(&pod, &names_where(&container))
        ),
    )
}
