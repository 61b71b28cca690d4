//! `hostPathVolumes`: pods may not mount paths of the node.

use super::{Check, FixAvailability, Violation, join_quote, pluralize};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

pub static CHECK: Check = Check {
    id: "hostPathVolumes",
    level: Level::Baseline,
    versions: &[0],
    overrides: None,
    fields: &[
        "spec.volumes[*].hostPath",
    ],
    reason: "hostPath volumes",
    doc: "Pods must not mount directories or files of the node through hostPath volumes.

## What it forbids
Any `spec.volumes[*].hostPath`.

## Why
A hostPath mount reaches outside the container: the container runtime socket, kubelet credentials or `/etc` of the
node are one mount away from a node takeover.

## Since
Baseline, every version (v1.0). At the restricted level it is replaced by `restrictedVolumes`.

## How to comply
Use an `emptyDir`, a `configMap`/`secret`, or a PersistentVolumeClaim instead:
```yaml
volumes:
- name: cache
  emptyDir: {}
```

## Fix safety
Replacing the volume's source with `emptyDir: {}` changes the data the workload sees: unsafe, offered one quick
fix at a time or by `podsec fix --unsafe`.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, _minor: u32) -> Option<Violation> {
    let mut names = Vec::new();
    let mut locations = Vec::new();
    for volume in pod
        .spec
        .and_then(|s| s.get("volumes"))
        .into_iter()
        .flat_map(|v| v.items())
    {
        if let Some(host_path) = volume.entry("hostPath") {
            names.push(volume.get("name").and_then(|n| n.as_str()).unwrap_or(""));
            locations.push(Loc::field(host_path));
        }
    }
    if names.is_empty() {
        return None;
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
        locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    crate::fix::fix(
        "Replace the hostPath volume with an emptyDir (the data changes)",
        Applicability::Unsafe,
        context.replace_field("emptyDir: {}"),
    )
}

/// CEL: no volume has a `hostPath`.
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let names = "variables.volumes.filter(v, has(v.hostPath)).map(v, v.name)";
    Cel::new(
        "!variables.volumes.exists(v, has(v.hostPath))".to_string(),
        CHECK.reason,
        format!(
            "{} + ' ' + {}",
            plural(names, "volume", "volumes"),
            quote_joined(names)
        ),
    )
}
