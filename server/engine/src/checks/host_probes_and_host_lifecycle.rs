//! `hostProbesAndHostLifecycle`: probes and lifecycle handlers may not target another host.

use super::{Check, FixAvailability, Violation, join_quote, pluralize, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    versions: &[34],
    overrides: None,
    fields: &[
        "spec.containers[*].livenessProbe.httpGet.host",
        "spec.containers[*].livenessProbe.tcpSocket.host",
        "spec.containers[*].readinessProbe.httpGet.host",
        "spec.containers[*].readinessProbe.tcpSocket.host",
        "spec.containers[*].startupProbe.httpGet.host",
        "spec.containers[*].startupProbe.tcpSocket.host",
        "spec.containers[*].lifecycle.postStart.httpGet.host",
        "spec.containers[*].lifecycle.postStart.tcpSocket.host",
        "spec.containers[*].lifecycle.preStop.httpGet.host",
        "spec.containers[*].lifecycle.preStop.tcpSocket.host",
    ],
    reason: "probe or lifecycle host",
    doc: "Probes and lifecycle handlers must not send requests to an explicit host.

## What it forbids
A non-empty `host` in `httpGet` or `tcpSocket` of `livenessProbe`, `readinessProbe`, `startupProbe`,
`lifecycle.postStart` or `lifecycle.preStop` on any container. Every value counts, `127.0.0.1` and `localhost`
included. `grpc` and `exec` probes are not looked at.

## Why
The kubelet runs probes from the node. A probe with a `host` makes the kubelet connect anywhere the node can reach,
which turns the pod spec into a tool to scan or reach internal services (server-side request forgery).

## Since
Baseline, v1.34.

## How to comply
Remove `host`: the kubelet then targets the pod's own IP.
```yaml
livenessProbe:
  httpGet:
    path: /healthz
    port: 8080
```

## Fix safety
Removing `host` makes the probe target the pod itself, which is what almost every probe means; still, a probe that
checked another service changes meaning: unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    let mut hosts = Vec::new();
    let mut locations = Vec::new();
    for container in pod.containers() {
        let lifecycle = container.node.get("lifecycle");
        let handlers = ["livenessProbe", "readinessProbe", "startupProbe"]
            .into_iter()
            .filter_map(|probe| container.node.get(probe))
            .chain(
                ["postStart", "preStop"]
                    .into_iter()
                    .filter_map(|h| lifecycle.and_then(|l| l.get(h))),
            );
        for handler in handlers {
            for action in ["httpGet", "tcpSocket"] {
                let Some(host) = handler.get(action).and_then(|a| a.entry("host")) else {
                    continue;
                };
                let value = host.value.as_str().unwrap_or("");
                if !value.is_empty() {
                    bad_containers.push(container.name);
                    hosts.push(value.to_string());
                    locations.push(Loc::field(host));
                }
            }
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    // Unlike every other check, upstream sorts and de-duplicates the container names here.
    let containers = sorted_set(bad_containers);
    let hosts = sorted_set(hosts);
    Violation::new(
        CHECK.reason,
        format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", containers.len()),
            join_quote(&containers),
            pluralize("uses", "use", containers.len()),
            pluralize("probe or lifecycle host", "probe or lifecycle hosts", hosts.len()),
            join_quote(&hosts)
        ),
        locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    let (_, value) = context.field()?;
    let host = value.as_str().unwrap_or("");
    crate::fix::fix(
        format!(
            "Remove host {host:?} so the kubelet targets the pod{}",
            context.on_container()
        ),
        Applicability::Unsafe,
        context.remove_field(),
    )
}

/// CEL: no probe or lifecycle handler of any container names a host.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    // The non-empty hosts of container `c`'s handlers.
    let handlers = [
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle.postStart",
        "lifecycle.preStop",
    ];
    let hosts = handlers
        .iter()
        .flat_map(|handler| ["httpGet", "tcpSocket"].map(|action| format!("{handler}.{action}.host")))
        .map(|path| format!("({} && c.{path} != '' ? [c.{path}] : [])", has("c", &path)))
        .collect::<Vec<_>>()
        .join(" + ");
    let bad = format!("size({hosts}) > 0");
    let hosts = sorted_distinct(&flatten(&format!("variables.containers.map(c, {hosts})")));
    Cel::new(
        format!("!variables.containers.exists(c, {bad})"),
        CHECK.reason,
        bind(
            &sorted_distinct(&names_where(&bad)),
            "names",
            &format!(
                "{} + ' ' + {} + ' ' + {} + ' ' + {} + ' ' + {}",
                plural("names", "container", "containers"),
                quote_joined("names"),
                plural("names", "uses", "use"),
                plural(&hosts, "probe or lifecycle host", "probe or lifecycle hosts"),
                quote_joined(&hosts)
            ),
        ),
    )
}
