//! `hostPorts`: containers may not bind ports of the node.

use super::{Check, FixAvailability, Violation, containers_phrase, pluralize, sorted_set};
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
defaults each port's `hostPort` that is unset or 0 to its `containerPort` (in containers and init containers, not
ephemeral containers), so those ports count too.

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
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Sometimes(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let host_network = pod.host_network_defaults_host_ports && pod.spec_flag("hostNetwork").is_some();
    let mut bad_containers = Vec::new();
    let mut ports = Vec::new();
    let mut locations = Vec::new();
    for container in pod.containers() {
        let mut valid = true;
        // `defaultHostNetworkPorts` upstream: a host port that is unset or 0 becomes the container port.
        let defaulting = host_network && !container.ephemeral;
        for port in container.node.get("ports").into_iter().flat_map(|p| p.items()) {
            let explicit = port.entry("hostPort");
            let explicit_value = explicit.map(|entry| entry.value.as_i64().unwrap_or(0));
            let (value, location) = match (explicit, port.entry("containerPort")) {
                (Some(entry), _) if !defaulting || explicit_value != Some(0) => {
                    (explicit_value.unwrap_or(0), Loc::field(entry))
                }
                // Reported on the field that gets the value: an explicit `hostPort: 0`, else the container port.
                (explicit, Some(container_port)) if defaulting => (
                    container_port.value.as_i64().unwrap_or(0),
                    Loc::field(explicit.unwrap_or(container_port)),
                ),
                _ => continue,
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
        CHECK.reason,
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

/// CEL: no port of any container has a host port other than 0. A bare Pod on the host network has each
/// unset or 0 host port of its containers and init containers defaulted to the container port before
/// admission; the policy does the same, so it judges an object as PSA does whether or not it is defaulted.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let defaulting = format!(
        "(object.kind == 'Pod' && {})",
        is("variables.spec", "hostNetwork", "true")
    );
    // The host ports of container `c`, as strings (upstream sorts them as strings).
    let ports = |defaulted: &str| {
        format!(
            "(has(c.ports) ? c.ports.map(p, (has(p.hostPort) && p.hostPort != 0) ? p.hostPort : \
             (({defaulted}) && has(p.containerPort) ? p.containerPort : 0)).filter(x, x != 0).map(x, string(x)) : [])"
        )
    };
    let lists = [
        ("initContainers", ports(&defaulting)),
        ("containers", ports(&defaulting)),
        ("ephemeralContainers", ports("false")),
    ];
    let of_list = |list: &str| format!("(has(variables.spec.{list}) ? variables.spec.{list} : [])");
    let names = lists
        .iter()
        .map(|(list, ports)| format!("{}.filter(c, size({ports}) > 0).map(c, c.name)", of_list(list)))
        .collect::<Vec<_>>()
        .join(" + ");
    let port_lists = lists
        .iter()
        .map(|(list, ports)| format!("{}.map(c, {ports})", of_list(list)))
        .collect::<Vec<_>>()
        .join(" + ");
    let ports = sorted_distinct(&flatten(&format!("({port_lists})")));
    Cel::new(
        format!("size({names}) == 0"),
        CHECK.reason,
        bind(
            &format!("({names})"),
            "names",
            &format!(
                "{} + ' ' + {} + ' ' + {} + ' ' + {ports}.join(', ')",
                containers_named("names"),
                plural("names", "uses", "use"),
                plural(&ports, "hostPort", "hostPorts")
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::analysis::{Options, analyze};

    /// The hostPorts detail and the (line, column) of each location, for one object.
    fn host_ports(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
        let analysis = analyze(text, &Options::default());
        let index = crate::text::LineIndex::new(text);
        analysis
            .objects
            .iter()
            .flat_map(|o| &o.violations)
            .find(|v| v.check.id == "hostPorts")
            .map(|v| {
                let at = v
                    .locations
                    .iter()
                    .map(|l| {
                        let p = index.line_column(text, l.span.start);
                        (p.line, p.column)
                    })
                    .collect();
                (v.detail.clone(), at)
            })
    }

    #[test]
    fn a_host_network_pod_defaults_unset_and_zero_host_ports_but_not_ephemeral_ones() {
        let pod = "kind: Pod\nspec:\n  hostNetwork: true\n  initContainers:\n  - name: init\n    ports: [{containerPort: 9090}]\n  containers:\n  - name: app\n    ports:\n    - {containerPort: 8080, hostPort: 0}\n    - {containerPort: 7070, hostPort: 7071}\n  ephemeralContainers:\n  - name: debug\n    ports: [{containerPort: 6060}]\n";
        let (detail, at) = host_ports(pod).unwrap();
        // Upstream sorts the ports as strings.
        assert_eq!(
            detail,
            "containers \"init\", \"app\" use hostPorts 7071, 8080, 9090"
        );
        assert_eq!(at, [(6, 14), (10, 29), (11, 29)]);
        // A template is not defaulted (its pods are, once created: the hostNetwork check reports them).
        let template = pod
            .replace("kind: Pod\nspec:", "kind: PodTemplate\ntemplate:\n spec:")
            .replace("\n  ", "\n   ");
        let (detail, _) = host_ports(&template).unwrap();
        assert_eq!(detail, "container \"app\" uses hostPort 7071");
        // Without hostNetwork an explicit 0 is no host port.
        assert!(
            host_ports(
                &pod.replace("hostNetwork: true", "hostNetwork: false")
                    .replace("7071", "0")
            )
            .is_none()
        );
    }
}
