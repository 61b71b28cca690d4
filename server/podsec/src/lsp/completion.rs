//! `textDocument/completion`: the engine's candidates (`podsec_engine::complete`) as completion items,
//! each replacing the word typed so far (a text edit, so the range is exact in any position encoding).

use super::convert;
use super::session::Snapshot;
use podsec_engine::complete::CompletionKind;
use tower_lsp_server::ls_types::*;

/// What typing may ask for completion after: a label's `/` and `.`, a value's space, a flow list's `[`.
pub(super) fn trigger_characters() -> Vec<String> {
    ["/", ".", " ", "["].iter().map(|c| c.to_string()).collect()
}

/// The completion at byte `offset` of the snapshot's text.
pub(super) fn completion(snapshot: &Snapshot, offset: usize) -> Option<CompletionResponse> {
    let found = podsec_engine::complete::completions(&snapshot.text, offset, snapshot.is_project_file());
    if found.is_empty() {
        return None;
    }
    let items = found
        .into_iter()
        .enumerate()
        .map(|(index, candidate)| CompletionItem {
            label: candidate.label.clone(),
            kind: Some(match candidate.kind {
                CompletionKind::Key => CompletionItemKind::PROPERTY,
                CompletionKind::Value => CompletionItemKind::VALUE,
                CompletionKind::Check => CompletionItemKind::ENUM_MEMBER,
            }),
            detail: Some(candidate.detail),
            // The engine's order (the strictest level first, the newest version first).
            sort_text: Some(format!("{index:04}")),
            filter_text: Some(candidate.label.clone()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: convert::range(&snapshot.rope, candidate.replace, snapshot.encoding),
                new_text: candidate.label,
            })),
            ..CompletionItem::default()
        })
        .collect();
    Some(CompletionResponse::List(CompletionList {
        is_incomplete: false,
        items,
    }))
}
