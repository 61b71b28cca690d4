//! Fixes: what a check's own file declares to repair a finding, as minimal text edits.
//!
//! A fix is data (a title, an applicability, edits), computed from the same parse as the finding. The
//! edits come from [`crate::patch`], so everything outside them stays byte for byte as written. This
//! module sits below the checks; applying fixes to a whole text is [`crate::fix_all`], above the
//! analysis.

use crate::patch::{self, Layout, TextEdit};
use crate::pod::{Container, Loc, Pod};
use crate::yaml::{Document, NodeKind, NodeRef};

/// What a fix promises (after ruff's `Applicability`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Brings the object into line with the policy without changing what a well-behaved workload does;
    /// applied by `podsec fix` and by "fix all".
    Safe,
    /// Removes or changes a capability the workload asked for; it may stop working. Applied only on
    /// request (`podsec fix --unsafe`, or one quick fix at a time in the editor).
    Unsafe,
}

/// A repair for one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What it does, in the imperative: `Set allowPrivilegeEscalation: false on container "app"`.
    pub title: String,
    /// Safe or unsafe.
    pub applicability: Applicability,
    /// The edits, on the analysed text.
    pub edits: Vec<TextEdit>,
}

/// Everything a check's fix function can look at.
pub struct FixContext<'a, 'd> {
    /// The document of the finding.
    pub document: &'d Document<'d>,
    /// Its line ending and indentation.
    pub layout: &'a Layout<'d>,
    /// The pod of the finding.
    pub pod: &'a Pod<'d>,
    /// Where the finding is.
    pub loc: Loc,
}

impl<'a, 'd> FixContext<'a, 'd> {
    fn node(&self, id: crate::yaml::NodeId) -> NodeRef<'d> {
        self.document.node_ref(id)
    }

    fn parent(&self, id: crate::yaml::NodeId) -> Option<NodeRef<'d>> {
        let parent = self.document.nodes.get(id as usize)?.parent?;
        Some(self.node(parent))
    }

    /// The key and value of a field finding.
    pub fn field(&self) -> Option<(NodeRef<'d>, NodeRef<'d>)> {
        match self.loc {
            Loc::Field { key, value } => Some((self.node(key), self.node(value))),
            _ => None,
        }
    }

    /// The key text of a field finding.
    pub fn field_key(&self) -> Option<&'d str> {
        self.field().and_then(|(key, _)| key.as_str())
    }

    /// The name of the container a finding is in (`""` when it has none), if it is in one.
    pub fn container_name(&self) -> Option<&'d str> {
        self.pod.container_name_at(self.document, self.loc)
    }

    /// The container a finding is in, if it is in one.
    pub fn container(&self) -> Option<&'a Container<'d>> {
        let index = self.pod.container_index_at(self.document, self.loc)?;
        self.pod.containers.get(index)
    }

    /// ` on container "app"`, or ` from the pod` for a pod-level setting.
    pub fn on_container_or_pod(&self) -> String {
        if self.container_name().is_some() {
            self.on_container()
        } else {
            " from the pod".to_string()
        }
    }

    /// ` on container "app"`, or nothing outside containers.
    pub fn on_container(&self) -> String {
        self.container_name()
            .map(|name| format!(" on container {name:?}"))
            .unwrap_or_default()
    }

    /// Replaces the value of a field finding.
    pub fn set_value(&self, text: &str) -> Option<TextEdit> {
        let (key, value) = self.field()?;
        Some(patch::replace_value(self.layout, key, value, text))
    }

    /// Removes a field finding's entry from its mapping.
    pub fn remove_field(&self) -> Option<TextEdit> {
        let (key, _) = self.field()?;
        patch::remove_entry(self.layout, self.parent(key.id())?, key)
    }

    /// Removes any entry of the document from its mapping (an entry beside the finding).
    pub fn remove_entry(&self, entry: crate::yaml::Entry<'d>) -> Option<TextEdit> {
        patch::remove_entry(self.layout, self.parent(entry.key.id())?, entry.key)
    }

    /// Removes item `index` of `sequence`.
    pub fn remove_item(&self, sequence: NodeRef<'d>, index: usize) -> Option<TextEdit> {
        patch::remove_item(self.layout, sequence, index)
    }

    /// Replaces the value of any entry of the document.
    pub fn replace(&self, entry: crate::yaml::Entry<'d>, text: &str) -> TextEdit {
        patch::replace_value(self.layout, entry.key, entry.written_value, text)
    }

    /// Removes the list item that holds the finding (the finding's node itself, or the mapping that
    /// holds its key, as for a sysctl's `name`).
    pub fn remove_enclosing_item(&self) -> Option<TextEdit> {
        let item = match self.loc {
            Loc::Item { node } => node,
            Loc::Field { key, .. } => self.parent(key)?.id(),
            _ => return None,
        };
        let sequence = self.parent(item)?;
        let index = match sequence.kind()? {
            NodeKind::Sequence { items, .. } => {
                self.document.items_of(*items).iter().position(|i| *i == item)?
            }
            _ => return None,
        };
        patch::remove_item(self.layout, sequence, index)
    }

    /// Makes `keys` equal to `leaf` under the container of a missing-setting finding.
    pub fn ensure_in_container(&self, keys: &[&str], leaf: &str) -> Option<TextEdit> {
        match self.loc {
            Loc::ContainerMissing { container, .. } => {
                patch::ensure(self.layout, self.node(container), keys, leaf)
            }
            _ => None,
        }
    }

    /// Makes `keys` equal to `leaf` under the pod spec.
    pub fn ensure_in_pod_spec(&self, keys: &[&str], leaf: &str) -> Option<TextEdit> {
        patch::ensure(self.layout, self.pod.spec?, keys, leaf)
    }

    /// Makes `keys` equal to `leaf` under the value of a field finding.
    pub fn ensure_under_field(&self, keys: &[&str], leaf: &str) -> Option<TextEdit> {
        let (key, value) = self.field()?;
        if value.resolved().is_mapping() {
            patch::ensure(self.layout, value, keys, leaf)
        } else {
            patch::ensure(
                self.layout,
                self.parent(key.id())?,
                &[&[key.as_str()?][..], keys].concat(),
                leaf,
            )
        }
    }

    /// Appends to the sequence value of a field finding (or makes it `[item]`).
    pub fn append_to_field(&self, item: &str) -> Option<TextEdit> {
        let (key, value) = self.field()?;
        if value.resolved().is_sequence() {
            patch::append_item(self.layout, value, item)
        } else {
            Some(patch::replace_value(
                self.layout,
                key,
                value,
                &format!("[{item}]"),
            ))
        }
    }

    /// Replaces a whole field finding (key and value) with `text`, as when a volume changes type.
    pub fn replace_field(&self, text: &str) -> Option<TextEdit> {
        let (key, value) = self.field()?;
        let end = value.span().end.max(key.span().end);
        let end = self
            .document
            .text
            .get(..end)
            .map_or(end, |t| t.trim_end().len())
            .max(key.span().end);
        Some(TextEdit {
            span: crate::yaml::Span::new(key.span().start, end),
            replacement: text.to_string(),
        })
    }
}

/// Replaces a forbidden profile (shared by the AppArmor and seccomp checks): an annotation (its key
/// contains `annotation_marker`) becomes `runtime/default`, a `<field>.type` becomes `RuntimeDefault`, with
/// what the API server requires beside it: no `localhostProfile` (`validateSeccompProfileField`,
/// `ValidateAppArmorProfileField`), and the same scope's legacy annotation in agreement (checked when a pod is
/// created).
pub fn runtime_default_profile(
    context: &FixContext<'_, '_>,
    annotation_marker: &str,
    field: &str,
) -> Option<Fix> {
    let key = context.field_key()?;
    if key.contains(annotation_marker) {
        return fix(
            format!("Set annotation {key} to runtime/default"),
            Applicability::Unsafe,
            context.set_value("runtime/default"),
        );
    }
    let (type_edit, profile) = if key == "type" {
        let (key, _) = context.field()?;
        (context.set_value("RuntimeDefault")?, context.parent(key.id()))
    } else {
        let (_, value) = context.field()?;
        (
            context.ensure_under_field(&["type"], "RuntimeDefault")?,
            Some(value),
        )
    };
    let mut edits = vec![type_edit];
    if let Some(localhost) = profile.and_then(|p| p.entry("localhostProfile")) {
        edits.push(context.remove_entry(localhost)?);
    }
    edits.extend(agreeing_annotation(context, field, context.container()));
    fix_of_edits(
        format!("Set {field}.type: RuntimeDefault{}", context.on_container()),
        Applicability::Unsafe,
        edits,
    )
}

/// The edit that keeps a profile's legacy annotation in agreement with `<field>.type: RuntimeDefault` set on
/// `container` (or the pod), when the annotation says otherwise (`validateSeccompAnnotationsAndFieldsMatch`,
/// `validateAppArmorAnnotationsAndFieldsMatchOnCreate`). A pod-level AppArmor field has none: the API server
/// copies each container's annotation into that container's field first.
pub fn agreeing_annotation(
    context: &FixContext<'_, '_>,
    field: &str,
    container: Option<&Container<'_>>,
) -> Option<TextEdit> {
    use crate::validation::{
        APPARMOR_CONTAINER_ANNOTATION, SECCOMP_CONTAINER_ANNOTATION, SECCOMP_POD_ANNOTATION,
    };
    let key = match (field, container) {
        ("seccompProfile", None) => SECCOMP_POD_ANNOTATION.to_string(),
        ("seccompProfile", Some(c)) => format!("{SECCOMP_CONTAINER_ANNOTATION}{}", c.name),
        ("appArmorProfile", Some(c)) => format!("{APPARMOR_CONTAINER_ANNOTATION}{}", c.name),
        _ => return None,
    };
    let entry = context.pod.metadata?.get("annotations")?.entry(&key)?;
    let value = entry.value.as_str().unwrap_or("");
    let agrees = value == "runtime/default" || (field == "seccompProfile" && value == "docker/default");
    (!agrees).then(|| context.replace(entry, "runtime/default"))
}

/// Removes a disallowed entry of `capabilities.add` (shared by both capability checks).
pub fn remove_capability(context: &FixContext<'_, '_>) -> Option<Fix> {
    let Loc::Item { node } = context.loc else {
        return None;
    };
    let capability = context.document.node_ref(node).as_str().unwrap_or("");
    fix(
        format!(
            "Remove capability {capability} from capabilities.add{}",
            context.on_container()
        ),
        Applicability::Unsafe,
        context.remove_enclosing_item(),
    )
}

/// A fix of several edits, or none when two of them touch the same text: `patch::apply` would drop one,
/// and the fix would not do what its title says.
pub fn fix_of_edits(
    title: impl Into<String>,
    applicability: Applicability,
    edits: Vec<TextEdit>,
) -> Option<Fix> {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let overlapping = sorted
        .windows(2)
        .any(|pair| matches!(pair, [first, second] if second.span.start < first.span.end));
    if edits.is_empty() || overlapping {
        return None;
    }
    Some(Fix {
        title: title.into(),
        applicability,
        edits,
    })
}

/// A fix from one edit.
pub fn fix(title: impl Into<String>, applicability: Applicability, edit: Option<TextEdit>) -> Option<Fix> {
    Some(Fix {
        title: title.into(),
        applicability,
        edits: vec![edit?],
    })
}
