//! `textDocument/hover`: the rule, the verdict and the policy in force under the cursor.

use super::code_actions::FileActions;
use super::convert;
use super::session::Snapshot;
use tower_lsp_server::ls_types::*;

/// The hover at `offset` (a byte offset in the snapshot's text), from the snapshot's analysis with fixes
/// (the one its code actions use).
pub(super) fn hover(snapshot: &Snapshot, offset: usize, file: &FileActions) -> Option<Hover> {
    let options = snapshot.options_with_fixes();
    let info = podsec_engine::explain::hover_in(&snapshot.text, &options, offset, file.analysis())?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: info.markdown,
        }),
        range: Some(convert::range(&snapshot.rope, info.span, snapshot.encoding)),
    })
}
