//! Symbolic locations (`Loc`) as spans and field paths, following one rule: a bad value on its key (and
//! value, when a scalar on the same line), a missing container setting on the container's `name`, a
//! missing pod setting on the pod spec's key.

use super::Location;
use crate::pod::Loc;
use crate::workload::PodObject;
use crate::yaml::{Document, NodeKind, NodeRef, Span};

/// The node a location's field path names under `object` (`spec.containers[0].securityContext`,
/// `metadata.annotations["a.b/c"]`), if it is written.
pub(super) fn written_at<'d>(object: NodeRef<'d>, path: &str) -> Option<NodeRef<'d>> {
    let mut node = object;
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(inner) = rest.strip_prefix("[\"") {
            let end = inner.find("\"]")?;
            node = node.get(inner.get(..end)?)?;
            rest = inner.get(end + 2..)?;
        } else if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            let index: usize = inner.get(..end)?.parse().ok()?;
            node = node.items().nth(index)?;
            rest = inner.get(end + 1..)?;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            node = node.get(rest.get(..end)?)?;
            rest = rest.get(end..)?;
        }
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
                span: first_line(document, item.span()),
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
                None => first_line(document, item.span()),
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
fn first_line(document: &Document<'_>, span: Span) -> Span {
    let text = document.text.get(span.start..span.end).unwrap_or("");
    let line = text.split(['\r', '\n']).next().unwrap_or("");
    Span::new(span.start, span.start + line.len())
}
