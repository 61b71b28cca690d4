//! `textDocument/codeAction`: quick fixes for podsec's diagnostics (safe ones preferred; at most one
//! preferred action per request: several safe fixes become one action that applies them together),
//! exemptions (the annotation per check and object, the comment per check and line, their reasons as
//! snippets' tab stops, or selected by `podsec.showLocation` after the edit where the client takes no
//! snippets), and "fix all" for the document.

use super::convert;
use super::session::Snapshot;
use tower_lsp_server::ls_types::*;

/// `source.fixAll.podsec`: the kind editors run on save for "fix all".
pub(super) fn fix_all_kind() -> CodeActionKind {
    CodeActionKind::new("source.fixAll.podsec")
}

/// Whether an action of `kind` is wanted by a request's `only` filter (a prefix match, as the spec says).
fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    only.is_none_or(|only| {
        only.iter()
            .any(|o| kind.as_str() == o.as_str() || kind.as_str().starts_with(&format!("{}.", o.as_str())))
    })
}

/// An engine edit as the protocol's.
fn text_edit(snapshot: &Snapshot, edit: &podsec_engine::patch::TextEdit) -> TextEdit {
    TextEdit {
        range: convert::range(&snapshot.rope, edit.span, snapshot.encoding),
        new_text: edit.replacement.clone(),
    }
}

/// The edits as a versioned edit of the snapshot's document.
fn workspace_edit(snapshot: &Snapshot, edits: &[podsec_engine::patch::TextEdit]) -> WorkspaceEdit {
    document_edit(
        snapshot,
        edits
            .iter()
            .map(|e| OneOf::Left(text_edit(snapshot, e)))
            .collect(),
    )
}

/// An exemption's edits, with the placeholder reason marked as the cursor's place: `snippets` makes
/// that a snippet edit for a client that takes them, and leaves the text plain for the others.
fn exemption_edit(snapshot: &Snapshot, edits: &[podsec_engine::patch::TextEdit]) -> WorkspaceEdit {
    use podsec_engine::sources::PLACEHOLDER_REASON;
    let edits = edits
        .iter()
        .map(|e| {
            let plain = text_edit(snapshot, e);
            match e.replacement.rfind(PLACEHOLDER_REASON) {
                Some(start) => OneOf::Right(AnnotatedTextEdit {
                    text_edit: plain,
                    annotation_id: super::snippets::marker(start, start + PLACEHOLDER_REASON.len()),
                }),
                None => OneOf::Left(plain),
            }
        })
        .collect();
    document_edit(snapshot, edits)
}

/// The command that selects an exemption's placeholder reason once its edits are applied (a client runs
/// an action's command after its edit): the cursor lands on the reason in a client without snippet
/// edits too. `snippets` drops it for a client that takes the snippet instead.
fn reason_after(snapshot: &Snapshot, edits: &[podsec_engine::patch::TextEdit]) -> Option<Command> {
    use podsec_engine::sources::PLACEHOLDER_REASON;
    let marked = edits
        .iter()
        .find_map(|e| Some((e, e.replacement.rfind(PLACEHOLDER_REASON)?)))?;
    let (edit, within) = marked;
    // Where the marked edit's text starts once every edit before it has been applied.
    let shift: isize = edits
        .iter()
        .filter(|e| e.span.end <= edit.span.start && !std::ptr::eq(*e, edit))
        .map(|e| e.replacement.len() as isize - (e.span.end - e.span.start) as isize)
        .sum();
    let start = (edit.span.start as isize + shift) as usize + within;
    let after = podsec_engine::patch::apply(&snapshot.text, edits);
    let reason = podsec_engine::Span::new(start, start + PLACEHOLDER_REASON.len());
    if after.get(reason.start..reason.end) != Some(PLACEHOLDER_REASON) {
        return None;
    }
    let rope = ropey::Rope::from_str(&after);
    let range = convert::range(&rope, reason, snapshot.encoding);
    Some(super::commands::show_location(
        "Write the exemption's reason",
        &snapshot.uri,
        range,
    ))
}

/// Edits of the snapshot's document, at its version.
fn document_edit(snapshot: &Snapshot, edits: Vec<OneOf<TextEdit, AnnotatedTextEdit>>) -> WorkspaceEdit {
    WorkspaceEdit {
        document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier {
                uri: snapshot.uri.clone(),
                version: Some(snapshot.version),
            },
            edits,
        }])),
        ..WorkspaceEdit::default()
    }
}

/// "Fix all `<check>` problems in this file", for each check of the request's diagnostics that has more
/// than one fixable finding in the file: its safe fixes, or else (marked unsafe) its unsafe ones.
/// What a document's code actions compute for the whole file, whatever the cursor: the analysis with
/// fixes, the file's fix-all and each check's. Kept per document generation, so that a client asking on
/// every cursor move (VS Code) pays for them once per edit.
pub(super) struct FileActions {
    pub generation: u64,
    analysis: podsec_engine::Analysis,
    fix_all: std::sync::OnceLock<podsec_engine::fix_all::FixAll>,
    /// Each check's fix-all: its safe fixes, or else its unsafe ones (`true`).
    by_check:
        std::sync::Mutex<std::collections::HashMap<&'static str, (podsec_engine::fix_all::FixAll, bool)>>,
}

impl FileActions {
    /// The analysis of `snapshot` with fixes (the rest is computed when first asked for).
    pub fn of(snapshot: &Snapshot) -> Self {
        Self {
            generation: snapshot.generation,
            // A patch offers no fix: it is not the object its overlay deploys.
            analysis: snapshot
                .patch_analysis()
                .unwrap_or_else(|| podsec_engine::analyze(&snapshot.text, &snapshot.options_with_fixes())),
            fix_all: std::sync::OnceLock::new(),
            by_check: std::sync::Mutex::default(),
        }
    }

    /// The analysis of the snapshot with fixes (what hover reads too).
    pub fn analysis(&self) -> &podsec_engine::Analysis {
        &self.analysis
    }

    fn fix_all(&self, snapshot: &Snapshot) -> &podsec_engine::fix_all::FixAll {
        self.fix_all.get_or_init(|| {
            let options = snapshot.options_with_fixes();
            podsec_engine::fix_all::fix_all_from(&snapshot.text, &options, &self.analysis, false, None)
        })
    }

    fn fix_all_of(&self, snapshot: &Snapshot, check: &'static str) -> (podsec_engine::fix_all::FixAll, bool) {
        let mut by_check = self
            .by_check
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        by_check
            .entry(check)
            .or_insert_with(|| {
                let options = snapshot.options_with_fixes();
                let from = |include_unsafe| {
                    podsec_engine::fix_all::fix_all_from(
                        &snapshot.text,
                        &options,
                        &self.analysis,
                        include_unsafe,
                        Some(check),
                    )
                };
                let safe = from(false);
                if safe.text != snapshot.text {
                    (safe, false)
                } else {
                    (from(true), true)
                }
            })
            .clone()
    }
}

fn fix_all_of_checks(
    snapshot: &Snapshot,
    params: &CodeActionParams,
    file: &FileActions,
) -> Vec<CodeActionOrCommand> {
    let analysis = &file.analysis;
    let mut checks: Vec<&'static str> = Vec::new();
    for diagnostic in &params.context.diagnostics {
        let Some(NumberOrString::String(code)) = &diagnostic.code else {
            continue;
        };
        if let Some(check) = podsec_engine::check_by_id(code).filter(|c| !checks.contains(&c.id)) {
            checks.push(check.id);
        }
    }
    let mut actions = Vec::new();
    for check in checks {
        let fixable = analysis
            .objects
            .iter()
            .flat_map(|o| &o.violations)
            .filter(|v| v.check.id == check)
            .flat_map(|v| &v.locations)
            .filter(|l| l.fix.is_some())
            .count();
        if fixable < 2 {
            continue;
        }
        let (fixed, unsafe_fixes) = file.fix_all_of(snapshot, check);
        let unsafe_note = if unsafe_fixes { " (unsafe)" } else { "" };
        if fixed.text == snapshot.text {
            continue;
        }
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!(
                "Fix all {check} problems in this file ({} fixes){unsafe_note}",
                fixed.applied.len()
            ),
            kind: Some(CodeActionKind::QUICKFIX),
            edit: Some(workspace_edit(snapshot, &diff_edits(&snapshot.text, &fixed.text))),
            is_preferred: Some(false),
            ..CodeAction::default()
        }));
    }
    actions
}

/// Line-level edits that turn `old` into `new`: one per changed hunk, so the editor keeps its cursor and
/// folds everywhere else.
fn diff_edits(old: &str, new: &str) -> Vec<podsec_engine::patch::TextEdit> {
    let diff = similar::TextDiff::from_lines(old, new);
    let old_lines: Vec<&str> = diff.iter_old_slices().collect();
    let new_lines: Vec<&str> = diff.iter_new_slices().collect();
    let mut offsets = Vec::with_capacity(old_lines.len() + 1);
    let mut offset = 0;
    for line in &old_lines {
        offsets.push(offset);
        offset += line.len();
    }
    offsets.push(offset);
    diff.ops()
        .iter()
        .filter(|op| op.tag() != similar::DiffTag::Equal)
        .map(|op| {
            let old_range = op.old_range();
            let start = offsets.get(old_range.start).copied().unwrap_or(offset);
            let end = offsets.get(old_range.end).copied().unwrap_or(offset);
            let replacement = new_lines.get(op.new_range()).unwrap_or_default().concat();
            within_last_line(old, start, end, replacement)
        })
        .collect()
}

/// A hunk that reaches the end of a text ending in a line break would be placed at (line count, 0), a
/// line that does not exist: Neovim then adds a blank line. The same edit is written one line break
/// earlier, so it ends on the last line, and the text after it is the same.
fn within_last_line(
    old: &str,
    start: usize,
    end: usize,
    replacement: String,
) -> podsec_engine::patch::TextEdit {
    let edit = |start, end, replacement| podsec_engine::patch::TextEdit {
        span: podsec_engine::Span::new(start, end),
        replacement,
    };
    if end != old.len() || !old.ends_with('\n') {
        return edit(start, end, replacement);
    }
    if replacement.is_empty() && start > 0 && old.as_bytes().get(start - 1) == Some(&b'\n') {
        // Removing the last lines: remove the line break before them instead of the final one.
        return edit(start - 1, end - 1, replacement);
    }
    if !replacement.ends_with('\n') {
        return edit(start, end, replacement);
    }
    let trimmed = replacement.get(..replacement.len() - 1).unwrap_or("").to_string();
    if start < end {
        // Both the removed and the inserted text end with the final line break: keep it.
        edit(start, end - 1, trimmed)
    } else if start > 0 {
        // An insertion after the final line break: insert before it, starting a new line.
        edit(start - 1, start - 1, format!("\n{trimmed}"))
    } else {
        edit(start, end, replacement)
    }
}

/// The code actions for a request: quick fixes for the podsec diagnostics in it (safe ones preferred),
/// the exemptions, and "fix all" for the document.
pub(super) fn code_actions(
    snapshot: &Snapshot,
    params: &CodeActionParams,
    file: &FileActions,
    reveal: bool,
) -> Vec<CodeActionOrCommand> {
    let text = &snapshot.text;
    // The analysis behind the diagnostics, with fixes: the same snapshot, the same options.
    let options = snapshot.options_with_fixes();
    let analysis = &file.analysis;
    // Each document the request's findings are in is read once, for every fix that asks (the analysis
    // behind them is the file's, kept per version).
    let neutralised = podsec_engine::helm::is_template(text).then(|| podsec_engine::helm::neutralise(text));
    let parsed = neutralised.as_ref().map_or(text.as_str(), |n| n.text.as_str());
    let mut reading = podsec_engine::fix_all::RequestReading::new(text, parsed, options.limits);
    let only = params.context.only.as_deref();
    let mut quick_fixes = Vec::new();
    let mut exemptions = Vec::new();
    // One exemption action per check and object, one comment per check and line.
    let mut exempted: Vec<(String, u32)> = Vec::new();
    let mut commented: Vec<(String, u32)> = Vec::new();
    // The safe fixes of the request's findings (distinct repairs), which one preferred action applies
    // together when there are several.
    let mut safe_fixes: Vec<(
        (podsec_engine::fix_all::FindingKey, Diagnostic),
        &podsec_engine::fix::Fix,
    )> = Vec::new();
    if wanted(only, &CodeActionKind::QUICKFIX) {
        for diagnostic in &params.context.diagnostics {
            if diagnostic.source.as_deref() != Some("podsec") {
                continue;
            }
            if diagnostic.code == Some(NumberOrString::String("psp-removed".to_string())) {
                let offset =
                    convert::byte_offset(&snapshot.rope, diagnostic.range.start, snapshot.encoding, false)
                        .unwrap_or(0);
                if let Some(fix) = reading
                    .document_at(offset, false)
                    .and_then(|document| podsec_engine::psp::labels_fix_of(text, document))
                {
                    quick_fixes.push((
                        false,
                        CodeActionOrCommand::CodeAction(CodeAction {
                            title: fix.title.clone(),
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![diagnostic.clone()]),
                            edit: Some(workspace_edit(snapshot, &fix.edits)),
                            is_preferred: Some(true),
                            ..CodeAction::default()
                        }),
                    ));
                }
                continue;
            }
            // A finding is its check (the code) at its range, in the same snapshot's analysis.
            let Some(NumberOrString::String(check)) = &diagnostic.code else {
                continue;
            };
            let Some(check) = podsec_engine::check_by_id(check).map(|c| c.id) else {
                continue;
            };
            let locations = || {
                analysis.objects.iter().flat_map(|o| {
                    o.violations
                        .iter()
                        .filter(|v| v.check.id == check)
                        .flat_map(|v| &v.locations)
                        .map(|l| {
                            (
                                o.document,
                                l,
                                convert::range(&snapshot.rope, l.span, snapshot.encoding),
                            )
                        })
                })
            };
            // Exactly where it is, else where it overlaps on its line: the client may still show it with
            // the extent it was sent, while typing at its edge grew it (see `tracking::same_findings`).
            let found = locations()
                .find(|(_, _, range)| *range == diagnostic.range)
                .or_else(|| locations().find(|(_, _, range)| overlaps_on_its_line(*range, diagnostic.range)))
                .map(|(document, l, _)| (document, l));
            if let Some((document, location, fix)) =
                found.and_then(|(document, l)| Some((document, l, l.fix.as_ref()?)))
            {
                let safe = fix.applicability == podsec_engine::fix::Applicability::Safe;
                if safe && !safe_fixes.iter().any(|(_, f)| *f == fix) {
                    let key = podsec_engine::fix_all::FindingKey {
                        document,
                        check,
                        path: location.path.clone(),
                    };
                    safe_fixes.push(((key, diagnostic.clone()), fix));
                }
                quick_fixes.push((
                    !safe,
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title: if safe {
                            fix.title.clone()
                        } else {
                            format!("{} (unsafe)", fix.title)
                        },
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![diagnostic.clone()]),
                        edit: Some(workspace_edit(snapshot, &fix.edits)),
                        is_preferred: Some(safe),
                        ..CodeAction::default()
                    }),
                ));
            }
            let offset =
                convert::byte_offset(&snapshot.rope, diagnostic.range.start, snapshot.encoding, false)
                    .unwrap_or(0);
            let object_line = diagnostic
                .related_information
                .as_ref()
                .and_then(|r| r.first())
                .map_or(0, |r| r.location.range.start.line);
            let exemption = |fix: podsec_engine::fix::Fix| {
                CodeActionOrCommand::CodeAction(CodeAction {
                    command: reveal.then(|| reason_after(snapshot, &fix.edits)).flatten(),
                    title: fix.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(exemption_edit(snapshot, &fix.edits)),
                    is_preferred: Some(false),
                    ..CodeAction::default()
                })
            };
            let by_object = (check.to_string(), object_line);
            if !exempted.contains(&by_object) {
                if let Some(fix) = reading.exemption_fix(offset, check) {
                    exempted.push(by_object);
                    exemptions.push(exemption(fix));
                }
            }
            let by_line = (check.to_string(), diagnostic.range.start.line);
            if !commented.contains(&by_line) {
                if let Some(fix) = reading.comment_exemption_fix(offset, check) {
                    commented.push(by_line);
                    exemptions.push(exemption(fix));
                }
            }
        }
    }
    // Safe fixes first, then unsafe ones, then exemptions.
    quick_fixes.sort_by_key(|(unsafe_fix, _)| *unsafe_fix);
    let mut actions: Vec<CodeActionOrCommand> = Vec::new();
    if safe_fixes.len() > 1 {
        actions.extend(fix_together(snapshot, &options, &safe_fixes));
    }
    actions.extend(quick_fixes.into_iter().map(|(_, action)| action));
    at_most_one_preferred(&mut actions);
    if wanted(only, &CodeActionKind::QUICKFIX) {
        actions.extend(fix_all_of_checks(snapshot, params, file));
    }
    actions.extend(exemptions);
    let kind = fix_all_kind();
    if only.is_some_and(|_| wanted(only, &kind)) || (only.is_none() && !actions.is_empty()) {
        let fixed = file.fix_all(snapshot);
        if fixed.text != *text {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!(
                    "Fix all podsec problems in this file ({} safe fixes)",
                    fixed.applied.len()
                ),
                kind: Some(kind),
                edit: Some(workspace_edit(snapshot, &diff_edits(text, &fixed.text))),
                ..CodeAction::default()
            }));
        }
    }
    actions
}

/// The one preferred action where a request holds several findings with safe fixes (a container's
/// `name` line carries every setting the container lacks): their safe fixes applied together, in rounds
/// as fix-all applies them, so "apply the preferred fix" applies without a menu.
fn fix_together(
    snapshot: &Snapshot,
    options: &podsec_engine::Options,
    safe_fixes: &[(
        (podsec_engine::fix_all::FindingKey, Diagnostic),
        &podsec_engine::fix::Fix,
    )],
) -> Option<CodeActionOrCommand> {
    let keys: Vec<podsec_engine::fix_all::FindingKey> =
        safe_fixes.iter().map(|((key, _), _)| key.clone()).collect();
    let fixed = podsec_engine::fix_all::fix_findings(&snapshot.text, options, &keys);
    if fixed.text == snapshot.text {
        return None;
    }
    let titles: Vec<&str> = safe_fixes.iter().map(|(_, fix)| fix.title.as_str()).collect();
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!(
            "Apply the {} safe fixes here: {}",
            titles.len(),
            titles.join("; ")
        ),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(safe_fixes.iter().map(|((_, d), _)| d.clone()).collect()),
        edit: Some(workspace_edit(snapshot, &diff_edits(&snapshot.text, &fixed.text))),
        is_preferred: Some(true),
        ..CodeAction::default()
    }))
}

/// Keeps the first preferred action preferred and no other: a client's "apply the preferred fix"
/// applies only when exactly one is.
fn at_most_one_preferred(actions: &mut [CodeActionOrCommand]) {
    let mut seen = false;
    for action in actions {
        if let CodeActionOrCommand::CodeAction(action) = action {
            if action.is_preferred == Some(true) {
                if seen {
                    action.is_preferred = Some(false);
                }
                seen = true;
            }
        }
    }
}

/// Whether two ranges on the same lines share a position (touching counts: text typed at an edge).
fn overlaps_on_its_line(a: Range, b: Range) -> bool {
    a.start.line == b.start.line && a.end.line == b.end.line && a.start <= b.end && b.start <= a.end
}

#[cfg(test)]
mod tests {
    use super::diff_edits;

    fn apply(text: &str, edits: &[podsec_engine::patch::TextEdit]) -> String {
        podsec_engine::patch::apply(text, edits)
    }

    #[test]
    fn fix_all_hunks_never_reach_past_the_last_line() {
        for (old, new) in [
            ("a: 1\nb: 2\n", "a: 1\nb: 2\nc: 3\n"),
            ("a: 1\nb: 2\n", "a: 1\nb: 3\n"),
            ("a: 1\nb: 2\n", "a: 1\n"),
            ("a: 1\n", "b: 2\n"),
            ("a: 1", "a: 1\nb: 2"),
        ] {
            let edits = diff_edits(old, new);
            assert_eq!(apply(old, &edits), new, "{old:?} -> {new:?}");
            for edit in &edits {
                // No edit ends at the very end of a text that ends with a line break.
                assert!(
                    !(old.ends_with('\n') && edit.span.end == old.len()),
                    "{old:?} -> {new:?}: {edit:?}"
                );
            }
        }
    }
}
