//! Symbolic locations (`Loc`) as spans and field paths, following one rule: a bad value on its key (and
//! value, when a scalar on the same line), a missing container setting on the container's `name`, a
//! missing pod setting on the pod spec's key.

use super::Location;
use crate::pod::Loc;
use crate::workload::PodObject;
use crate::yaml::{Document, NodeKind, NodeRef, Span};

/// One step of a location's field path: a key, or an index in a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathStep<'p> {
    Key(&'p str),
    Index(usize),
}

/// The steps of a location's field path (`spec.containers[0].securityContext`,
/// `metadata.annotations["a.b/c"]`), in order; a `None` where the path is malformed, after which there
/// are no more.
pub(crate) fn path_steps(path: &str) -> impl Iterator<Item = Option<PathStep<'_>>> {
    let mut rest = Some(path);
    std::iter::from_fn(move || {
        let text = rest?.strip_prefix('.').unwrap_or(rest?);
        if text.is_empty() {
            return None;
        }
        let step = if let Some(inner) = text.strip_prefix("[\"") {
            inner
                .find("\"]")
                .and_then(|end| Some((PathStep::Key(inner.get(..end)?), inner.get(end + 2..)?)))
        } else if let Some(inner) = text.strip_prefix('[') {
            inner.find(']').and_then(|end| {
                let index = inner.get(..end)?.parse().ok()?;
                Some((PathStep::Index(index), inner.get(end + 1..)?))
            })
        } else {
            let end = text.find(['.', '[']).unwrap_or(text.len());
            text.get(..end)
                .zip(text.get(end..))
                .map(|(key, after)| (PathStep::Key(key), after))
        };
        rest = step.map(|(_, after)| after);
        Some(step.map(|(step, _)| step))
    })
}

/// How far a field path goes in a tree: the last node reached, the key it is the value of, and how many
/// steps were taken.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reached<'d> {
    pub(crate) node: NodeRef<'d>,
    pub(crate) key: Option<NodeRef<'d>>,
    pub(crate) taken: usize,
}

/// The entry of `key` in a mapping, a `null` value included (a template's `securityContext:` followed by
/// an action line reads as `null`, and is still where the action writes).
pub(crate) fn entry_with_null<'d>(mapping: NodeRef<'d>, key: &str) -> Option<(NodeRef<'d>, NodeRef<'d>)> {
    mapping
        .entries()
        .filter(|e| e.key.as_str() == Some(key))
        .last()
        .map(|e| (e.key, e.written_value))
}

/// Follows `steps` from `start` as far as they are written, in a text other than the analysed one (a
/// chart's template, a Kustomize base or patch). `item(step, index, items)` picks the list item that
/// the `step`th step, `[index]`, means there.
pub(crate) fn follow_path<'d>(
    start: NodeRef<'d>,
    steps: &[PathStep<'_>],
    item: impl Fn(usize, usize, &[NodeRef<'d>]) -> Option<NodeRef<'d>>,
) -> Reached<'d> {
    let mut reached = Reached {
        node: start,
        key: None,
        taken: 0,
    };
    for (position, step) in steps.iter().enumerate() {
        let next = match *step {
            PathStep::Key(key) => entry_with_null(reached.node, key).map(|(k, v)| (Some(k), v)),
            PathStep::Index(index) => {
                let items: Vec<NodeRef<'d>> = reached.node.items().collect();
                item(position, index, &items).map(|item| (None, item))
            }
        };
        let Some((key, node)) = next else {
            break;
        };
        reached = Reached {
            node: node.resolved(),
            key,
            taken: reached.taken + 1,
        };
    }
    reached
}

/// The node a location's field path names under `object` (`spec.containers[0].securityContext`,
/// `metadata.annotations["a.b/c"]`), if it is written.
pub(super) fn written_at<'d>(object: NodeRef<'d>, path: &str) -> Option<NodeRef<'d>> {
    let mut node = object;
    for step in path_steps(path) {
        node = match step? {
            PathStep::Key(key) => node.get(key)?,
            PathStep::Index(index) => node.items().nth(index)?,
        };
    }
    Some(node)
}

/// Turns a check's symbolic location into a span and a path.
pub(super) fn locate(document: &Document<'_>, object: &PodObject<'_>, loc: Loc) -> Location {
    let object_path = document.path_of(object.object.id());
    let relative = |path: String| {
        let rest = path.strip_prefix(object_path.as_str()).unwrap_or(&path);
        rest.strip_prefix('.').unwrap_or(rest).to_string()
    };
    match loc {
        Loc::Field { key, value } => {
            let key = document.node_ref(key);
            let value = document.node_ref(value);
            Location {
                span: key_and_scalar_value(key, value),
                path: relative(document.path_of(value.id())),
                missing: false,
                fix: None,
                container: None,
                detail: None,
            }
        }
        Loc::Item { node } => {
            let item = document.node_ref(node);
            Location {
                span: first_line(document.text, item.span()),
                path: relative(document.path_of(node)),
                missing: false,
                fix: None,
                container: None,
                detail: None,
            }
        }
        Loc::ContainerMissing { container, field } => {
            let item = document.node_ref(container);
            let span = match item.resolved().entry("name") {
                Some(name) => key_and_scalar_value(name.key, name.written_value),
                None => first_line(document.text, item.span()),
            };
            Location {
                span,
                path: format!("{}.{field}", relative(document.path_of(container))),
                missing: true,
                fix: None,
                container: None,
                detail: None,
            }
        }
        Loc::PodMissing { field } => {
            let (span, path) = match object.pod.spec_key {
                Some(key) => (key.span(), relative(document.path_of(key.id()))),
                None => (object.pod.fallback, String::from("spec")),
            };
            Location {
                span,
                path: format!("{path}.{field}"),
                missing: true,
                fix: None,
                container: None,
                detail: None,
            }
        }
    }
}

/// The key, and the value too when it is a scalar (or alias) on the same line: `privileged: true`.
pub(crate) fn key_and_scalar_value(key: NodeRef<'_>, value: NodeRef<'_>) -> Span {
    let key_span = key.span();
    let value_span = value.span();
    let scalar = matches!(
        value.kind(),
        Some(NodeKind::Scalar { .. } | NodeKind::Alias { .. })
    );
    let same_line = value_span.start >= key_span.end
        && value_span.end > value_span.start
        && key
            .document()
            .text
            .get(key_span.start..value_span.end)
            .is_some_and(|t| !t.contains('\n'));
    if scalar && same_line {
        Span::new(key_span.start, value_span.end)
    } else {
        key_span
    }
}

/// A span cut at the end of its first line, so a whole mapping item underlines only its first line.
pub(crate) fn first_line(text: &str, span: Span) -> Span {
    let text = text.get(span.start..span.end).unwrap_or("");
    let line = text.split(['\r', '\n']).next().unwrap_or("");
    Span::new(span.start, span.start + line.len())
}
