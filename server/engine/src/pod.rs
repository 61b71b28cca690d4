//! A tolerant view of one pod (metadata and spec) over the positioned tree, for the checks.
//!
//! Nothing here fails: a missing or wrongly typed field reads as absent, so a pod that is still
//! being typed (a container without a name, a half-written value) is checked as far as it goes.

use crate::yaml::{Entry, NodeId, NodeRef, Span};

/// The pod a check looks at: a bare Pod, or the template of a workload.
#[derive(Clone, Debug)]
pub struct Pod<'d> {
    /// The pod's metadata mapping (the template's metadata for workloads).
    pub metadata: Option<NodeRef<'d>>,
    /// The pod spec mapping.
    pub spec: Option<NodeRef<'d>>,
    /// The `spec:` key of the pod spec, where pod-level settings that are missing are reported.
    pub spec_key: Option<NodeRef<'d>>,
    /// Where to report when even the spec key is missing (the template key or the object header).
    pub fallback: Span,
    /// Whether the API server applies Pod defaulting: a bare Pod with `hostNetwork: true` gets each
    /// container port's `hostPort` defaulted to its `containerPort`. Templates are not defaulted so.
    pub host_network_defaults_host_ports: bool,
    /// Its containers in PSA's order, read once for all checks.
    pub containers: Vec<Container<'d>>,
}

/// One container of the pod, in PSA's walk order: init containers, containers, ephemeral containers.
#[derive(Clone, Copy, Debug)]
pub struct Container<'d> {
    /// The container's item in its list.
    pub node: NodeRef<'d>,
    /// Its name, or `""` while it has none (PSA prints `container ""` then too).
    pub name: &'d str,
    /// Whether it is an ephemeral container (the API server defaults none of its ports).
    pub ephemeral: bool,
}

/// Where a check found a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// A field set to a forbidden value: reported on its key and (scalar) value.
    Field {
        /// The key node.
        key: NodeId,
        /// The value node as written.
        value: NodeId,
    },
    /// One item of a list (a capability, a sysctl entry): reported on the item.
    Item {
        /// The item node.
        node: NodeId,
    },
    /// A setting a container lacks: reported on the container's `name` entry (or the item).
    ContainerMissing {
        /// The container item.
        container: NodeId,
        /// The missing field, relative to the container (`securityContext.runAsNonRoot`).
        field: &'static str,
    },
    /// A pod-level setting that is missing: reported on the pod spec's key.
    PodMissing {
        /// The missing field, relative to the pod spec.
        field: &'static str,
    },
}

impl Loc {
    /// The location of an explicitly set field.
    pub fn field(entry: Entry<'_>) -> Self {
        Loc::Field {
            key: entry.key.id(),
            value: entry.written_value.id(),
        }
    }
}

impl<'d> Pod<'d> {
    /// All containers in PSA's order.
    pub fn containers(&self) -> &[Container<'d>] {
        &self.containers
    }

    /// Reads the containers of `spec` in PSA's order: init containers, containers, ephemeral containers.
    /// Items that are not mappings count as empty containers, as the API server decodes a `null` item.
    pub fn read_containers(spec: Option<NodeRef<'d>>) -> Vec<Container<'d>> {
        let Some(spec) = spec else { return Vec::new() };
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .filter_map(|list| Some((list, spec.get(list)?)))
            .flat_map(|(list, items)| items.items().map(move |node| (list, node)))
            .map(|(list, node)| Container {
                node,
                name: node.get("name").and_then(|n| n.as_str()).unwrap_or(""),
                ephemeral: list == "ephemeralContainers",
            })
            .collect()
    }

    /// The same pod with only its container at `index` (none if there is no such container): what PSA's
    /// detail for one container's field is evaluated on. The other containers are not copied, so this
    /// costs the same for a pod of thousands of containers.
    pub fn with_only_container(&self, index: usize) -> Pod<'d> {
        Pod {
            metadata: self.metadata,
            spec: self.spec,
            spec_key: self.spec_key,
            fallback: self.fallback,
            host_network_defaults_host_ports: self.host_network_defaults_host_ports,
            containers: self.containers.get(index).copied().into_iter().collect(),
        }
    }

    /// The index in [`Pod::containers`] of the container a location lies in, if any.
    pub fn container_index_at(&self, document: &crate::yaml::Document<'_>, loc: Loc) -> Option<usize> {
        container_above(document, loc, |id| {
            self.containers.iter().position(|c| c.node.id() == id)
        })
    }

    /// The name of the container a location lies in (walking up from the node it names), if any.
    pub fn container_name_at(&self, document: &crate::yaml::Document<'_>, loc: Loc) -> Option<&'d str> {
        let index = self.container_index_at(document, loc)?;
        self.containers.get(index).map(|c| c.name)
    }

    /// `spec.securityContext`, when it is a mapping.
    pub fn security_context(&self) -> Option<NodeRef<'d>> {
        self.spec?.get("securityContext")?.as_mapping()
    }

    /// `spec.<key>` read as a boolean; null and wrongly typed values read as `false`.
    pub fn spec_flag(&self, key: &str) -> Option<Entry<'d>> {
        self.spec?.entry(key).filter(|e| e.value.as_bool() == Some(true))
    }

    /// A pod in a user namespace (`hostUsers: false`), relaxed by some checks from v1.35.
    pub fn in_user_namespace(&self) -> bool {
        self.spec
            .and_then(|s| s.get("hostUsers"))
            .and_then(|v| v.as_bool())
            == Some(false)
    }

    /// `spec.os.name: windows`, relaxed by some restricted checks from v1.25.
    pub fn is_windows(&self) -> bool {
        self.spec
            .and_then(|s| s.get("os"))
            .and_then(|os| os.get("name"))
            .and_then(|n| n.as_str())
            == Some("windows")
    }

    /// The user `container` runs as, as far as the manifest says: its own `runAsUser`, else the pod's
    /// (`None` when neither is an integer: the image decides).
    pub fn run_as_user(&self, container: &Container<'_>) -> Option<i64> {
        container
            .security_setting("runAsUser")
            .or_else(|| self.security_context()?.entry("runAsUser"))
            .and_then(|e| e.value.as_i64())
    }

    /// `runAsNonRoot` as it applies to `container`: its own, else the pod's.
    pub fn run_as_non_root(&self, container: &Container<'_>) -> Option<bool> {
        container
            .security_setting("runAsNonRoot")
            .or_else(|| self.security_context()?.entry("runAsNonRoot"))
            .and_then(|e| e.value.as_bool())
    }

    /// Whether the manifest alone keeps `container` from running as root: a non-zero `runAsUser`, or
    /// `runAsNonRoot: true`, applies to it. Only then is taking root's powers away (dropping every
    /// capability) sure not to break a process that needs them.
    pub fn cannot_run_as_root(&self, container: &Container<'_>) -> bool {
        self.run_as_user(container).is_some_and(|user| user != 0)
            || self.run_as_non_root(container) == Some(true)
    }

    /// The pod's annotations as `(entry, key, value)`; a null value reads as `""`, as a Go map does.
    pub fn annotations(&self) -> Vec<(Entry<'d>, &'d str, &'d str)> {
        let Some(annotations) = self.metadata.and_then(|m| m.get("annotations")) else {
            return Vec::new();
        };
        annotations
            .entries()
            .filter_map(|e| Some((e, e.key.as_str()?, e.value.as_str().unwrap_or(""))))
            .collect()
    }
}

impl<'d> Container<'d> {
    /// The container's `securityContext`, when it is a mapping.
    pub fn security_context(&self) -> Option<NodeRef<'d>> {
        self.node.get("securityContext")?.as_mapping()
    }

    /// `securityContext.<key>` as an entry, when set (not null).
    pub fn security_setting(&self, key: &str) -> Option<Entry<'d>> {
        self.security_context()?.entry(key)
    }

    /// A location for a setting this container lacks.
    pub fn missing(&self, field: &'static str) -> Loc {
        Loc::ContainerMissing {
            container: self.node.id(),
            field,
        }
    }
}

/// The containers of a pod by node, for finding the container of each of many locations: a search by node
/// instead of a scan of every container per location, which a pod of thousands of containers (or of
/// thousands of aliases of one) would make quadratic.
pub struct ContainerIndex {
    /// Each container's node and its first index in [`Pod::containers`], sorted by node.
    by_node: Vec<(NodeId, usize)>,
}

impl ContainerIndex {
    /// The index of `pod`'s containers.
    pub fn new(pod: &Pod<'_>) -> Self {
        let mut by_node: Vec<(NodeId, usize)> = pod
            .containers
            .iter()
            .enumerate()
            .map(|(index, c)| (c.node.id(), index))
            .collect();
        // Sorted by node, then index: the first of a node's entries is its first container, as a scan finds.
        by_node.sort_unstable();
        by_node.dedup_by_key(|(node, _)| *node);
        Self { by_node }
    }

    /// What [`Pod::container_index_at`] gives, by search.
    pub fn at(&self, document: &crate::yaml::Document<'_>, loc: Loc) -> Option<usize> {
        container_above(document, loc, |id| {
            let found = self.by_node.binary_search_by_key(&id, |(node, _)| *node).ok()?;
            self.by_node.get(found).map(|(_, index)| *index)
        })
    }
}

/// The first container, by `container_of`, on the way up from the node a location names to the root.
fn container_above(
    document: &crate::yaml::Document<'_>,
    loc: Loc,
    container_of: impl Fn(crate::yaml::NodeId) -> Option<usize>,
) -> Option<usize> {
    let mut id = match loc {
        Loc::Field { key, .. } => key,
        Loc::Item { node } => node,
        Loc::ContainerMissing { container, .. } => container,
        Loc::PodMissing { .. } => return None,
    };
    // Bounded by the nesting limit; a container is a few levels up at most.
    for _ in 0..64 {
        if let Some(index) = container_of(id) {
            return Some(index);
        }
        id = document.nodes.get(id as usize)?.parent?;
    }
    None
}
