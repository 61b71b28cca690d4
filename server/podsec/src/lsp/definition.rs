//! `textDocument/definition`: from a namespace's name (an object's `metadata.namespace`, a
//! kustomization's `namespace:`) to the Namespace object of that name, in the open documents or the
//! workspace (the scan knows every Namespace).

use super::session::{Snapshot, governs_others, is_project_file};
use super::why::Candidates;
use tower_lsp_server::ls_types::*;

/// Where the namespace named at `offset` is defined, if the cursor is on one.
pub(super) fn definition(
    snapshot: &Snapshot,
    offset: usize,
    candidates: &Candidates,
) -> Option<GotoDefinitionResponse> {
    let path = snapshot.path.as_deref();
    // A kustomization names its namespace at the top (`governs_others` without the project file).
    let kustomization = governs_others(path) && !is_project_file(path);
    let (name, _) =
        podsec_engine::navigate::namespace_at(&snapshot.text, &snapshot.limits, offset, kustomization)?;
    let found = candidates.namespace_objects(&name, snapshot.encoding);
    (!found.is_empty()).then_some(GotoDefinitionResponse::Array(found))
}

/// Whether the text at `offset` may name a namespace (cheap, before collecting candidates).
pub(super) fn may_name_a_namespace(snapshot: &Snapshot, offset: usize) -> bool {
    let line_start = snapshot
        .text
        .get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = snapshot
        .text
        .get(offset..)
        .and_then(|t| t.find('\n'))
        .map_or(snapshot.text.len(), |i| offset + i);
    snapshot
        .text
        .get(line_start..line_end)
        .is_some_and(|line| line.contains("namespace"))
}
