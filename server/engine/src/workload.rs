//! Finding the pods in Kubernetes objects: bare Pods, templates of workloads, and `List` items.

use crate::pod::Pod;
use crate::yaml::{Document, NodeRef, Span};

/// A pod-bearing object found in a document.
#[derive(Clone, Debug)]
pub struct PodObject<'d> {
    /// The object's `kind`.
    pub kind: &'d str,
    /// `metadata.name`, if set.
    pub name: Option<&'d str>,
    /// `metadata.namespace`, if set.
    pub namespace: Option<&'d str>,
    /// The object's `kind: …` entry, the object's header for messages.
    pub header: Span,
    /// The object's mapping.
    pub object: NodeRef<'d>,
    /// The pod template mapping (the object itself for a bare Pod): pod-relative paths start here.
    pub template: NodeRef<'d>,
    /// The pod it creates.
    pub pod: Pod<'d>,
}

/// How a kind holds its pod template, as a path of keys from the object to the template
/// (an empty path means the object is the pod itself).
fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &[],
        "PodTemplate" => &["template"],
        "ReplicationController" | "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => {
            &["spec", "template"]
        }
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        _ => return None,
    })
}

/// Whether [`pod_objects`] reads a document whose top-level kind is `kind`: a pod-bearing kind, or a list
/// (`List`, or any `…List` with `items`), whose items may be pods.
pub fn reads_kind(kind: &str) -> bool {
    template_path(kind).is_some() || kind.ends_with("List")
}

/// Every pod-bearing object in the document, in source order, descending into `List` items.
/// Objects of other kinds, and workloads without a template, yield nothing (PSA skips them too).
pub fn pod_objects<'d>(document: &'d Document<'d>) -> Vec<PodObject<'d>> {
    let mut found = Vec::new();
    let mut pending: Vec<NodeRef<'d>> = document.root().into_iter().collect();
    while let Some(object) = pending.pop() {
        let Some(kind_entry) = object.entry("kind") else {
            continue;
        };
        let Some(kind) = kind_entry.value.as_str() else {
            continue;
        };
        if kind == "List" || (kind.ends_with("List") && object.get("items").is_some()) {
            let mut items: Vec<NodeRef<'d>> =
                object.get("items").into_iter().flat_map(|i| i.items()).collect();
            items.reverse();
            pending.extend(items);
            continue;
        }
        let Some(path) = template_path(kind) else { continue };
        let metadata = object.get("metadata");
        let header = crate::yaml::Span::new(kind_entry.key.span().start, kind_entry.value.span().end);
        let mut template = object;
        let mut template_key = None;
        let mut complete = true;
        for key in path {
            match template.entry(key) {
                Some(entry) if entry.value.is_mapping() => {
                    template_key = Some(entry.key);
                    template = entry.value;
                }
                _ => {
                    complete = false;
                    break;
                }
            }
        }
        if !complete {
            continue;
        }
        let spec_entry = template.entry("spec").filter(|e| e.value.is_mapping());
        let pod = Pod {
            metadata: template.get("metadata"),
            spec: spec_entry.map(|e| e.value),
            spec_key: spec_entry.map(|e| e.key),
            fallback: template_key.map_or(header, |k| k.span()),
            host_network_defaults_host_ports: path.is_empty(),
            containers: Pod::read_containers(spec_entry.map(|e| e.value)),
        };
        found.push(PodObject {
            kind,
            name: metadata.and_then(|m| m.get("name")).and_then(|n| n.as_str()),
            namespace: metadata.and_then(|m| m.get("namespace")).and_then(|n| n.as_str()),
            header,
            object,
            template,
            pod,
        });
    }
    found
}

/// The namespaces of the pod-bearing objects of `text` (`None` for an object that names none), each
/// once, in source order. Cheap for texts that hold no pod-bearing kind: they are not parsed.
pub fn pod_namespaces(text: &str, limits: &crate::yaml::Limits) -> Vec<Option<String>> {
    const KINDS: [&str; 5] = ["Pod", "ReplicationController", "Set", "Deployment", "Job"];
    let mut found: Vec<Option<String>> = Vec::new();
    if !KINDS.iter().any(|kind| text.contains(kind)) {
        return found;
    }
    for document in crate::yaml::documents_if(text, limits, &reads_kind).filter(|d| d.error.is_none()) {
        for object in pod_objects(&document) {
            let namespace = object.namespace.map(str::to_string);
            if !found.contains(&namespace) {
                found.push(namespace);
            }
        }
    }
    found
}
