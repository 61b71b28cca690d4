//! `textDocument/hover`: the rule, the verdict and the policy in force under the cursor.

use super::convert;
use super::session::Snapshot;
use tower_lsp_server::ls_types::*;

/// The hover at `offset` (a byte offset in the snapshot's text), analysed as the diagnostics are.
pub(super) fn hover(snapshot: &Snapshot, offset: usize) -> Option<Hover> {
    let info = podsec_engine::explain::hover(&snapshot.text, &snapshot.options(), offset)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: info.markdown,
        }),
        range: Some(convert::range(&snapshot.rope, info.span, snapshot.encoding)),
    })
}
