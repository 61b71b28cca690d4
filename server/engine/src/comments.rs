//! Comments, which the YAML tree does not hold: where they are in a document's text, found with the
//! tree's spans.
//!
//! The reader's scanner (`yaml/scan.rs`, as go-yaml's) starts a comment at a `#` wherever it is between tokens, and the only tokens that can hold a
//! `#` are scalars (`"a # b"`, `a#b`, a block scalar's lines): tags, anchors, aliases, indicators and
//! directives cannot. So a `#` outside every scalar is a comment, and it runs to the end of its line.
//! A block scalar's span starts at its `|` or `>`, but its content only on the next line: its header
//! line can end with a comment (`script: |  # note`).

use crate::yaml::{Document, NodeKind, ScalarKind, Span};

/// Whether `c` ends a line for YAML 1.1 (LF, CR, NEL, LS, PS), so it ends a comment.
fn is_yaml_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The parts of the document's text that are scalars, where a `#` is text, in order.
fn scalar_regions(document: &Document<'_>) -> Vec<Span> {
    let text = document.text;
    let mut regions: Vec<Span> = document
        .nodes
        .iter()
        .filter_map(|node| match &node.kind {
            NodeKind::Scalar {
                style: ScalarKind::Block,
                ..
            } => {
                // The content starts after the header line.
                let header = text.get(node.span.start..node.span.end)?;
                let content = header
                    .find(is_yaml_break)
                    .map_or(node.span.end, |i| node.span.start + i);
                Some(Span::new(content, node.span.end))
            }
            NodeKind::Scalar { .. } | NodeKind::Alias { .. } => Some(node.span),
            NodeKind::Mapping { .. } | NodeKind::Sequence { .. } => None,
        })
        .filter(|span| span.start < span.end)
        .collect();
    regions.sort_unstable();
    regions
}

/// The comments of a document, in order, each from its `#` to the end of its line (the line break
/// left out). Empty for a document that could not be read, or was read no further than its kind: without
/// its tree, a `#` may be in a scalar.
pub fn comments(document: &Document<'_>) -> Vec<Span> {
    if document.error.is_some() || document.skipped {
        return Vec::new();
    }
    let text = document.text;
    let end = document.span.end.min(text.len());
    let regions = scalar_regions(document);
    let mut found = Vec::new();
    let mut at = document.span.start;
    let mut next_region = 0;
    while at < end {
        while regions.get(next_region).is_some_and(|r| r.end <= at) {
            next_region += 1;
        }
        let region = regions.get(next_region);
        if let Some(region) = region.filter(|r| r.start <= at) {
            at = region.end;
            continue;
        }
        let until = region.map_or(end, |r| r.start.min(end));
        let Some(hash) = text.get(at..until).and_then(|gap| gap.find('#')) else {
            at = until;
            continue;
        };
        let start = at + hash;
        let rest = text.get(start..end).unwrap_or("");
        let comment_end = start + rest.find(is_yaml_break).unwrap_or(rest.len());
        found.push(Span::new(start, comment_end));
        at = comment_end.max(start + 1);
    }
    found
}

/// The start of the line holding `offset`: lines end at `\n`, `\r\n` or a lone `\r`, as the command
/// line and the editor count them.
pub fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .and_then(|t| t.rfind(['\n', '\r']))
        .map_or(0, |i| i + 1)
}

/// The end of the line holding `offset`, before its line break.
pub fn line_end(text: &str, offset: usize) -> usize {
    let rest = text.get(offset..).unwrap_or("");
    offset + rest.find(['\n', '\r']).unwrap_or(rest.len())
}

/// Where a comment can be added to the line holding `offset`: after its last character that is not a
/// space or a tab. `None` when the line ends inside a scalar (a quoted or plain scalar continued on the
/// next line, a block scalar's content), where a `#` would change the value.
pub fn comment_position(document: &Document<'_>, offset: usize) -> Option<usize> {
    if document.error.is_some() || document.skipped {
        return None;
    }
    let text = document.text;
    let start = line_start(text, offset);
    let end = line_end(text, offset);
    let content = text.get(start..end)?.trim_end_matches([' ', '\t']);
    let at = start + content.len();
    let inside = scalar_regions(document)
        .iter()
        .any(|region| region.start < end && end < region.end || region.start < at && at < region.end);
    (!inside).then_some(at)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "a test fails by panicking"
    )]
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    /// The comments of every document of `text`, as text. (`tests/comments.rs` holds the same reading to
    /// the reader's scanner, on these texts and on every YAML file of the repository.)
    fn comments_of(text: &str) -> Vec<&str> {
        let stream = parse_stream(text, &Limits::default());
        stream
            .documents
            .iter()
            .flat_map(comments)
            .map(|span| &text[span.start..span.end])
            .collect()
    }

    #[test]
    fn a_hash_inside_a_scalar_is_text() {
        let text = "a: \"x # y\" # one\nb: 'p # q'#two\nc: plain#text # three\nd: [x#y, \"#\"] # four\n";
        assert_eq!(comments_of(text), ["# one", "#two", "# three", "# four"]);
        // A quoted scalar continued on the next line, with a `#` on each.
        let text = "a: \"first # line\n  second # line\" # five\n";
        assert_eq!(comments_of(text), ["# five"]);
        // A plain scalar continued on the next line ends at a ` #`.
        let text = "a: one\n  two # six\n";
        assert_eq!(comments_of(text), ["# six"]);
    }

    #[test]
    fn block_scalars_hold_text_and_their_header_a_comment() {
        let text = "script: |  # header\n  echo # not a comment\n  # nor this\n# after\nnext: 1 # last\n";
        assert_eq!(comments_of(text), ["# header", "# after", "# last"]);
        let text = "folded: >-\n  a # b\n\n  c\nkey: v  # end\n";
        assert_eq!(comments_of(text), ["# end"]);
    }

    #[test]
    fn lines_end_at_every_yaml_break() {
        let text = "a: 1 # crlf\r\nb: 2\t# tab\r\nc: 3 # cr\rd: 4 # nel\u{85}";
        assert_eq!(comments_of(text), ["# crlf", "# tab", "# cr", "# nel"]);
        let text = "e: 5 # ls\u{2028}f: 6 # ps\u{2029}";
        assert_eq!(comments_of(text), ["# ls", "# ps"]);
    }

    #[test]
    fn non_ascii_text_around_comments() {
        let text = "名前: \"é # ü\" # コメント 🚀\nclé: [ü, \"#ß\"] #ß\n";
        assert_eq!(comments_of(text), ["# コメント 🚀", "#ß"]);
    }

    #[test]
    fn comments_inside_flow_collections_and_around_documents() {
        let text =
            "--- # marker\nsc: {\n  privileged: true, # in flow\n  b: [1, # item\n    2]}\n... # end\n";
        assert_eq!(comments_of(text), ["# marker", "# in flow", "# item", "# end"]);
        // Tags and anchors cannot hold a `#`: what follows them is a comment.
        let text = "a: !!str x # tagged\nb: &anchor y #anchored\nc: *anchor # alias\n";
        assert_eq!(comments_of(text), ["# tagged", "#anchored", "# alias"]);
    }

    #[test]
    fn a_document_that_cannot_be_read_has_no_comments() {
        assert_eq!(comments_of("a: [ # x\n"), Vec::<&str>::new());
    }

    #[test]
    fn a_comment_is_added_only_where_it_cannot_change_a_value() {
        let text = "a: 1   \nb: \"x\n  y\"\nc: plain\n  continued\nd: |\n  text\ne: {f: 1,\n  g: 2}\n";
        let stream = parse_stream(text, &Limits::default());
        let document = &stream.documents[0];
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(comment_position(document, at("a:")), Some(at("a: 1") + 4));
        assert_eq!(comment_position(document, at("b:")), None);
        assert_eq!(comment_position(document, at("c:")), None);
        assert_eq!(comment_position(document, at("d:")), Some(at("d: |") + 4));
        assert_eq!(comment_position(document, at("  text")), None);
        assert_eq!(comment_position(document, at("e:")), Some(at("e: {f: 1,") + 9));
    }
}
