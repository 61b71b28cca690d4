//! `textDocument/documentSymbol`: one symbol per object (each YAML document, each item of a `List`),
//! named `Kind name` with its namespace as detail, and its pod's containers as children.

use super::convert;
use super::session::Snapshot;
use tower_lsp_server::ls_types::*;

/// A symbol; `selection` must lie within `range`, as the protocol requires.
#[allow(
    deprecated,
    reason = "DocumentSymbol's `deprecated` field must still be written"
)]
fn symbol(
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    range: Range,
    selection: Range,
    children: Option<Vec<DocumentSymbol>>,
) -> DocumentSymbol {
    let selection = if selection.start >= range.start && selection.end <= range.end {
        selection
    } else {
        Range::new(range.start, range.start)
    };
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children,
    }
}

/// The symbols of the snapshot's text.
pub(super) fn document_symbols(snapshot: &Snapshot) -> Vec<DocumentSymbol> {
    let (rope, encoding) = (&snapshot.rope, snapshot.encoding);
    podsec_engine::navigate::outline(&snapshot.text, &snapshot.limits)
        .into_iter()
        .map(|object| {
            let kind = if object.kind.is_empty() {
                "(no kind)"
            } else {
                object.kind.as_str()
            };
            let name = match &object.name {
                Some(name) => format!("{kind} {name}"),
                None => kind.to_string(),
            };
            let children: Vec<DocumentSymbol> = object
                .containers
                .iter()
                .map(|container| {
                    symbol(
                        container.name.clone(),
                        Some(container.list.clone()),
                        SymbolKind::OBJECT,
                        convert::range(rope, container.span, encoding),
                        convert::range(rope, container.selection, encoding),
                        None,
                    )
                })
                .collect();
            symbol(
                name,
                object.namespace.map(|namespace| format!("namespace {namespace}")),
                SymbolKind::CLASS,
                convert::range(rope, object.span, encoding),
                convert::range(rope, object.selection, encoding),
                (!children.is_empty()).then_some(children),
            )
        })
        .collect()
}
