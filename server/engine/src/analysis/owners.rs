//! Controller-owned objects, as `kubectl get … -o yaml` lists them from a live cluster: a Pod created by a
//! ReplicaSet of a Deployment carries the same pod template as its owners, and would repeat their every
//! finding. Each finding is reported once, on the highest owner in the input that has it; the owned
//! object keeps what its owners do not have (a sidecar injected at admission, a template edited since).

use super::report::{CheckViolation, ObjectReport};
use crate::yaml::NodeRef;
use std::collections::HashMap;

/// The label the Deployment controller puts on its ReplicaSets and their Pods: a ReplicaSet is named
/// `<deployment>-<hash>`.
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Who controls an object, read from its metadata: the `ownerReferences` entry with `controller: true`,
/// as `(kind, name)`; for a ReplicaSet's Pod, also the Deployment its ReplicaSet's name and the Pod's
/// `pod-template-hash` label name (a listing without ReplicaSets still reaches the Deployment).
pub(super) fn controllers(object: NodeRef<'_>) -> Vec<(String, String)> {
    let Some(metadata) = object.get("metadata") else {
        return Vec::new();
    };
    let controller = metadata
        .get("ownerReferences")
        .into_iter()
        .flat_map(|references| references.items())
        .find(|reference| reference.get("controller").and_then(|c| c.as_bool()) == Some(true));
    let Some(reference) = controller else {
        return Vec::new();
    };
    let (Some(kind), Some(name)) = (
        reference.get("kind").and_then(|k| k.as_str()),
        reference.get("name").and_then(|n| n.as_str()),
    ) else {
        return Vec::new();
    };
    let mut found = vec![(kind.to_string(), name.to_string())];
    let hash = metadata
        .get("labels")
        .and_then(|labels| labels.get(POD_TEMPLATE_HASH))
        .and_then(|hash| hash.as_str());
    if let Some(deployment) = hash
        .filter(|_| kind == "ReplicaSet")
        .and_then(|hash| name.strip_suffix(hash)?.strip_suffix('-'))
        .filter(|deployment| !deployment.is_empty())
    {
        found.push(("Deployment".to_string(), deployment.to_string()));
    }
    found
}

/// Sets aside each finding of a controller-owned object that an owner in `objects` reports too, with
/// the owner's name as the reason (what `--show-exempted` shows).
pub(super) fn report_through_owners(objects: &mut [ObjectReport]) {
    if objects.iter().all(|object| object.controllers.is_empty()) {
        return;
    }
    let by_name: HashMap<Key<'_>, usize> = objects
        .iter()
        .enumerate()
        .filter_map(|(index, object)| {
            let name = object.name.as_deref()?;
            Some((
                (
                    object.document,
                    object.namespace.as_deref(),
                    object.kind.as_str(),
                    name,
                ),
                index,
            ))
        })
        .collect();
    // The owners of each object, nearest first, as indices into `objects`.
    let chains: Vec<Vec<usize>> = (0..objects.len())
        .map(|i| owner_chain(objects, &by_name, i))
        .collect();
    drop(by_name);
    // Decided on the objects as analysed, before any finding moves: for each object, each finding's owner
    // (the highest in its chain that reports the same finding), if any.
    let reasons: Vec<Vec<Option<String>>> = objects
        .iter()
        .zip(&chains)
        .map(|(object, chain)| {
            let owners: Vec<&ObjectReport> = chain.iter().filter_map(|owner| objects.get(*owner)).collect();
            object
                .violations
                .iter()
                .map(|violation| {
                    owners
                        .iter()
                        .rev()
                        .find(|owner| owner.violations.iter().any(|v| same(v, violation)))
                        .map(|owner| through(owner))
                })
                .collect()
        })
        .collect();
    for (object, reasons) in objects.iter_mut().zip(reasons) {
        if reasons.iter().all(Option::is_none) {
            continue;
        }
        let violations = std::mem::take(&mut object.violations);
        for (violation, reason) in violations.into_iter().zip(reasons) {
            match reason {
                Some(reason) => object.exempted.push((violation, reason)),
                None => object.violations.push(violation),
            }
        }
    }
}

/// The reason an owned object's finding is set aside.
fn through(owner: &ObjectReport) -> String {
    format!(
        "{REPORTED_THROUGH_ITS_OWNER} {} {:?}",
        owner.kind,
        owner.name.as_deref().unwrap_or("")
    )
}

/// How the reason of a finding set aside for its owner starts.
pub const REPORTED_THROUGH_ITS_OWNER: &str = "reported once, on its owner";

/// The same finding: the same check failing the same way (PSA's reason and detail name the containers
/// and values), at the same mode and policy.
fn same(a: &CheckViolation, b: &CheckViolation) -> bool {
    a.check.id == b.check.id
        && a.mode == b.mode
        && a.policy == b.policy
        && a.reason == b.reason
        && a.detail == b.detail
}

/// The owners of `objects[index]` found in `objects`, nearest first (at most a few: a loop of owner
/// references stops where it comes back).
fn owner_chain(objects: &[ObjectReport], by_name: &HashMap<Key<'_>, usize>, index: usize) -> Vec<usize> {
    let mut chain = Vec::new();
    let mut current = index;
    while let Some(owner) = owner_of(objects, by_name, current) {
        if owner == index || chain.contains(&owner) || chain.len() > 8 {
            break;
        }
        chain.push(owner);
        current = owner;
    }
    chain
}

/// An object as an owner reference finds it: its document, namespace, kind and name.
type Key<'o> = (usize, Option<&'o str>, &'o str, &'o str);

/// The first of an object's controllers that is in `objects`, in its document and namespace.
fn owner_of(objects: &[ObjectReport], by_name: &HashMap<Key<'_>, usize>, index: usize) -> Option<usize> {
    let object = objects.get(index)?;
    object.controllers.iter().find_map(|(kind, name)| {
        by_name
            .get(&(
                object.document,
                object.namespace.as_deref(),
                kind.as_str(),
                name.as_str(),
            ))
            .copied()
    })
}
