//! Analysing a large file in pieces of a few YAML documents, so that only one piece's findings are in
//! memory at a time. The engine analyses each document on its own (which is what lets the language
//! server reuse unchanged documents), so a piece's analysis, moved to the piece's offset and document
//! number, is exactly that part of the whole file's analysis, until kubectl's stop (a file's first error),
//! after which the rest is one part ([`analyse_pieces`]); the unit test holds it to that.

use podsec_engine::yaml::document_ranges;
use podsec_engine::{Analysis, Options, Span, analyze};

/// About how much text one piece holds: its findings take roughly ten times as much memory.
pub const PIECE_BYTES: usize = 256 * 1024;

/// A text without these has no policy-source problems of its own: they come from exemption annotations
/// and comments and PodSecurityPolicies only (the unit test holds every test file to that). A printer that
/// needs those problems before the objects skips the other pieces in its first look.
pub const CONFIG_PROBLEM_MARKERS: &[&str] = &[
    "podsec.dev/exempt",
    podsec_engine::sources::COMMENT_MARKER,
    "PodSecurityPolicy",
];

/// Whether a piece of `text` may hold policy-source problems.
pub fn may_have_config_problems(text: &str, piece: Piece) -> bool {
    let part = text.get(piece.range.start..piece.range.end).unwrap_or(text);
    CONFIG_PROBLEM_MARKERS.iter().any(|m| part.contains(m))
}

/// A run of consecutive documents of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Its bytes in the text.
    pub range: Span,
    /// The stream index of its first document.
    pub first_document: usize,
}

/// Cuts `text` into pieces of at least `piece_bytes` (but whole documents). A chart template, whose
/// placeholders depend on the whole text, and a stream past the document limit (whose error names the
/// whole stream's count) are one piece.
pub fn pieces(text: &str, options: &Options<'_>, piece_bytes: usize) -> Vec<Piece> {
    let whole = vec![Piece {
        range: Span::new(0, text.len()),
        first_document: 0,
    }];
    if text.len() <= piece_bytes || podsec_engine::helm::is_template(text) {
        return whole;
    }
    let ranges = document_ranges(text, &options.limits);
    if ranges.len() > options.limits.max_documents {
        return whole;
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let mut start = 0;
    let mut first_document = 0;
    for (index, range) in ranges.iter().enumerate() {
        if range.end - start >= piece_bytes || index + 1 == ranges.len() {
            // The last piece runs to the end of the text, whatever follows the last document.
            let end = if index + 1 == ranges.len() {
                text.len()
            } else {
                range.end
            };
            pieces.push(Piece {
                range: Span::new(start, end),
                first_document,
            });
            start = end;
            first_document = index + 1;
        }
    }
    if pieces.is_empty() { whole } else { pieces }
}

/// The analysis of one piece of `text`, with spans and document numbers of the whole text.
pub fn analyse_piece(text: &str, piece: Piece, options: &Options<'_>) -> Analysis {
    let Some(part) = text.get(piece.range.start..piece.range.end) else {
        return Analysis::default();
    };
    let mut analysis = analyze(part, options);
    if piece.range.start > 0 || piece.first_document > 0 {
        shift(&mut analysis, piece.range.start, piece.first_document);
    }
    analysis
}

/// The analyses of `cut`'s pieces of `text` in order, each handed to `each` (which says whether to go on). A
/// piece whose analysis finds kubectl's stop (a `syntax-error`: kubectl reads a file no further) is analysed
/// again with the rest of the text as one part, so that every object after it is named as never sent, as in the
/// whole analysis (the pieces after it get empty analyses): only a file that does not apply costs more than a
/// piece of memory.
pub fn analyse_pieces(
    text: &str,
    cut: &[Piece],
    options: &Options<'_>,
    mut each: impl FnMut(Analysis) -> bool,
) {
    for (at, piece) in cut.iter().enumerate() {
        let analysis = analyse_piece(text, *piece, options);
        let stops = analysis.problems.iter().any(|p| p.code == "syntax-error");
        if stops && at + 1 < cut.len() {
            let rest = Piece {
                range: Span::new(piece.range.start, text.len()),
                first_document: piece.first_document,
            };
            // One analysis per piece still (the printer takes one per piece): the rest are empty.
            if each(analyse_piece(text, rest, options)) {
                for _ in at + 1..cut.len() {
                    if !each(Analysis::default()) {
                        return;
                    }
                }
            }
            return;
        }
        if !each(analysis) {
            return;
        }
    }
}

/// Moves an analysis of a part starting at byte `offset` and document `first_document` to the whole text.
fn shift(analysis: &mut Analysis, offset: usize, first_document: usize) {
    let moved = |span: Span| Span::new(span.start + offset, span.end + offset);
    for object in &mut analysis.objects {
        object.header = moved(object.header);
        object.span = moved(object.span);
        object.document += first_document;
        let violations = object
            .violations
            .iter_mut()
            .chain(object.exempted.iter_mut().map(|(v, _)| v));
        for location in violations.flat_map(|v| &mut v.locations) {
            location.span = moved(location.span);
            for edit in location.fix.iter_mut().flat_map(|f| &mut f.edits) {
                edit.span = moved(edit.span);
            }
        }
    }
    for problem in analysis.problems.iter_mut().chain(&mut analysis.unread_templates) {
        problem.span = moved(problem.span);
        problem.document += first_document;
    }
    for problem in &mut analysis.config_problems {
        problem.span = moved(problem.span);
    }
    // `used_exemptions` are spans in the project file: they do not move.
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "a test fails by panicking"
    )]
    use super::*;
    use std::path::{Path, PathBuf};

    fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                found.push(path);
            }
        }
    }

    #[test]
    fn an_analysis_in_pieces_equals_the_whole_analysis() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        for dir in ["examples", "tests"] {
            yaml_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 20, "{files:?}");
        let mut cut = 0;
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            // A stream with exemption annotations, a syntax error and a repeated document, too.
            for text in [
                text.clone(),
                format!("{text}\n---\n{text}\n---\nkind: [\n---\n{text}"),
            ] {
                let options = Options::default();
                let whole = analyze(&text, &options);
                let pieces = pieces(&text, &options, 1);
                cut += usize::from(pieces.len() > 1);
                let mut joined = Analysis::default();
                analyse_pieces(&text, &pieces, &options, |part| {
                    joined.objects.extend(part.objects);
                    joined.problems.extend(part.problems);
                    joined.config_problems.extend(part.config_problems);
                    joined.used_exemptions.extend(part.used_exemptions);
                    joined.chart_template |= part.chart_template;
                    joined.unread_templates.extend(part.unread_templates);
                    true
                });
                assert_eq!(joined, whole, "{}", file.display());
                if !whole.config_problems.is_empty() {
                    let whole_text = Piece {
                        range: Span::new(0, text.len()),
                        first_document: 0,
                    };
                    assert!(may_have_config_problems(&text, whole_text), "{}", file.display());
                }
            }
        }
        assert!(cut > 10, "pieces were cut in {cut} texts");
    }
}
