//! `restrictedVolumes`: only volume types that cannot reach outside the pod are allowed.

use super::{Check, FixAvailability, Violation, join_quote, pluralize, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

/// The volume sources the restricted level allows, at every version (`image` was added to v1.0).
pub(crate) const ALLOWED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The other volume sources, in the order upstream names the first one present.
const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

pub static CHECK: Check = Check {
    id: "restrictedVolumes",
    level: Level::Restricted,
    versions: &[0],
    overrides: Some("hostPathVolumes"),
    fields: &["spec.volumes[*]"],
    reason: "restricted volume types",
    doc: "Pods may only use volume types that stay inside the pod's own data.

## What it forbids
Any volume whose source is not one of `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`, `image`,
`persistentVolumeClaim`, `projected`, `secret`: `hostPath`, `nfs`, `iscsi`, `gitRepo` and the in-tree cloud
disks among them. A volume with no source at all is defaulted to `emptyDir` by the API server and passes.

## Why
The other types reach node paths or network storage directly, with credentials and semantics the cluster
administrator cannot control through PersistentVolumes.

## Since
Restricted, every version (v1.0), replacing `hostPathVolumes`. `image` is allowed at every version.

## How to comply
Use a PersistentVolumeClaim for shared storage and `emptyDir` for scratch space:
```yaml
volumes:
- name: data
  persistentVolumeClaim:
    claimName: data
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
    let mut types = Vec::new();
    let mut locations = Vec::new();
    for volume in pod
        .spec
        .and_then(|s| s.get("volumes"))
        .into_iter()
        .flat_map(|v| v.items())
    {
        if ALLOWED_VOLUME_TYPES.iter().any(|t| volume.get(t).is_some()) {
            continue;
        }
        // A volume with no source at all is defaulted to emptyDir before PSA sees it.
        let Some((kind, entry)) = RESTRICTED_VOLUME_TYPES
            .iter()
            .find_map(|t| Some((*t, volume.entry(t)?)))
        else {
            continue;
        };
        names.push(volume.get("name").and_then(|n| n.as_str()).unwrap_or(""));
        types.push(kind);
        locations.push(Loc::field(entry));
    }
    if names.is_empty() {
        return None;
    }
    let types = sorted_set(types);
    Violation::new(
        CHECK.reason,
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize("restricted volume type", "restricted volume types", types.len()),
            join_quote(&types)
        ),
        locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    let kind = context.field_key()?;
    crate::fix::fix(
        format!("Replace the {kind} volume with an emptyDir (the data changes)"),
        Applicability::Unsafe,
        context.replace_field("emptyDir: {}"),
    )
}

/// CEL: every volume has an allowed source, or none at all (the API server defaults it to `emptyDir`).
fn cel(_minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let allowed = ALLOWED_VOLUME_TYPES
        .iter()
        .map(|t| format!("has(v.{t})"))
        .collect::<Vec<_>>()
        .join(" || ");
    let restricted = RESTRICTED_VOLUME_TYPES
        .iter()
        .map(|t| format!("has(v.{t})"))
        .collect::<Vec<_>>()
        .join(" || ");
    let bad = format!("!({allowed}) && ({restricted})");
    // The first restricted source present names the volume's type.
    let type_of = RESTRICTED_VOLUME_TYPES
        .iter()
        .rev()
        .fold("'unknown'".to_string(), |rest, t| {
            format!("has(v.{t}) ? '{t}' : ({rest})")
        });
    let mut sorted_types = RESTRICTED_VOLUME_TYPES.to_vec();
    sorted_types.sort_unstable();
    let types = format!(
        "{}.filter(t, variables.volumes.exists(v, {bad} && ({type_of}) == t))",
        literal_list(&sorted_types)
    );
    let names = format!("variables.volumes.filter(v, {bad}).map(v, v.name)");
    Cel::new(
        format!("!variables.volumes.exists(v, {bad})"),
        CHECK.reason,
        bind(
            &names,
            "names",
            &bind(
                &types,
                "types",
                &format!(
                    "{} + ' ' + {} + ' ' + {} + ' ' + {} + ' ' + {}",
                    plural("names", "volume", "volumes"),
                    quote_joined("names"),
                    plural("names", "uses", "use"),
                    plural("types", "restricted volume type", "restricted volume types"),
                    quote_joined("types")
                ),
            ),
        ),
    )
}
