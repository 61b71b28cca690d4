//! `hostPorts`: containers may not bind ports of the node.

use super::{Check, Violation, containers_phrase, pluralize, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "hostPorts",
    level: Level::Baseline,
    versions: &[0],
    overrides: None,
    fields: &[
        "spec.containers[*].ports[*].hostPort",
    ],
    reason: "hostPort",
    doc: "Containers must not bind ports of the node with hostPort.

## What it forbids
Any `ports[*].hostPort` other than 0 on any container. For a bare Pod with `hostNetwork: true` the API server
defaults each port's `hostPort` to its `containerPort`, so those ports count too.

## Why
Host ports bypass network policy, collide between pods on a node and expose the workload on the node's address.

## Since
Baseline, every version (v1.0).

## How to comply
Remove `hostPort` and expose the container through a Service:
```yaml
ports:
- containerPort: 8080
```

## Fix safety
Removing a host port changes how the workload is reached: unsafe.
",
    evaluate,
    fix: Some(fix),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let host_network = pod.host_network_defaults_host_ports && pod.spec_flag("hostNetwork").is_some();
    let mut bad_containers = Vec::new();
    let mut ports = Vec::new();
    let mut locations = Vec::new();
    for container in pod.containers() {
        let mut valid = true;
        for port in container.node.get("ports").into_iter().flat_map(|p| p.items()) {
            let explicit = port.entry("hostPort");
            let (value, location) = match explicit {
                Some(entry) => (entry.value.as_i64().unwrap_or(0), Loc::field(entry)),
                None if host_network => match port.entry("containerPort") {
                    Some(entry) => (entry.value.as_i64().unwrap_or(0), Loc::field(entry)),
                    None => continue,
                },
                None => continue,
            };
            if value != 0 {
                valid = false;
                ports.push(value.to_string());
                locations.push(location);
            }
        }
        if !valid {
            bad_containers.push(container.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    // Upstream sorts the ports as strings: "10000" comes before "8080".
    let ports = sorted_set(ports);
    Violation::new(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    // A port defaulted from `hostNetwork: true` is fixed by the hostNamespaces fix, not here.
    if context.field_key()? != "hostPort" {
        return None;
    }
    // In a bare Pod on the host network, the API server would default the port back: no fix here.
    if context.pod.host_network_defaults_host_ports && context.pod.spec_flag("hostNetwork").is_some() {
        return None;
    }
    crate::fix::fix(
        format!("Remove hostPort{}", context.on_container()),
        Applicability::Unsafe,
        context.remove_field(),
    )
}
