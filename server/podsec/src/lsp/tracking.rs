//! Where the client shows a document's published diagnostics after the user's edits.
//!
//! Editors keep published diagnostics on the text they were put on: Neovim and VS Code hold them in
//! marks that move with every edit. A range's start follows text inserted at it and its end does not,
//! so a range never grows when the user types at its edges (Neovim's extmark gravities). A keystroke
//! that changes no verdict — a new line, a comment — only moves diagnostics, and the client has moved
//! them already: publishing them again costs the client its whole diagnostic handling (about 30 ms of
//! Neovim 0.11's main loop for 1,000 diagnostics) to show the same squiggles in the same places.
//! [`follow`] moves the server's copy of what the client shows through each edit, so that a new
//! analysis can tell whether it only moved things.

use super::convert::Encoding;
use tower_lsp_server::ls_types::{Diagnostic, Position, Range, TextDocumentContentChangeEvent, Uri};

/// Moves `shown`, the diagnostics of the document `uri` as the client shows them, through one content
/// change (in the positions of the text before it). False when where the client now shows them is not
/// known: the whole text was replaced, or the edit replaced text across an end of a range.
pub(super) fn follow(
    shown: &mut [Diagnostic],
    change: &TextDocumentContentChangeEvent,
    encoding: Encoding,
    uri: &Uri,
) -> bool {
    let Some(range) = change.range else {
        return false;
    };
    let (start, end) = if range.start <= range.end {
        (range.start, range.end)
    } else {
        (range.end, range.start)
    };
    let edit = Edit {
        start,
        end,
        inserted: Inserted::of(&change.text, encoding),
    };
    for diagnostic in shown.iter_mut() {
        let Some(moved) = edit.moved(diagnostic.range) else {
            return false;
        };
        diagnostic.range = moved;
        // Related locations in the same document move too (the server's next analysis moves them).
        for related in diagnostic.related_information.iter_mut().flatten() {
            if &related.location.uri == uri {
                let Some(moved) = edit.moved(related.location.range) else {
                    return false;
                };
                related.location.range = moved;
            }
        }
    }
    true
}

/// Puts the diagnostics a client names in a request (a code action's context) where they are now: a
/// client that has not been sent the moved ones yet names them at their published positions. `published`
/// and `shown` are the same diagnostics, as sent and as moved since (see [`follow`]).
pub(super) fn to_current(named: &mut [Diagnostic], published: &[Diagnostic], shown: &[Diagnostic]) {
    if published.len() != shown.len() {
        return;
    }
    for diagnostic in named {
        // (Clients echo what they were sent, not always every optional field: the range, code and
        // message say which one it is.)
        let sent = published.iter().position(|p| {
            p.range == diagnostic.range && p.code == diagnostic.code && p.message == diagnostic.message
        });
        if let Some(now) = sent.and_then(|i| shown.get(i)) {
            diagnostic.range = now.range;
        }
    }
}

/// Whether `now` holds the findings the client shows (`shown`): the same ones, on the same lines, with
/// the same severity, code, source and tags, however their messages are worded and wherever on those
/// lines they begin and end. Typing into a container's name rewords that container's findings without
/// changing a verdict, and a finding that underlines the name grows by what is typed at its end (which the
/// client's marks do not stretch over). Sending the whole list again for that costs the client as much as
/// a new verdict (about 25 µs of Neovim's main loop per diagnostic), so it waits until the typing stops
/// (see `Backend::catch_up`).
pub(super) fn same_findings(shown: &[Diagnostic], now: &[Diagnostic]) -> bool {
    let lines = |range: &Range| (range.start.line, range.end.line);
    let related = |d: &Diagnostic| {
        d.related_information
            .iter()
            .flatten()
            .map(|r| (r.location.uri.clone(), lines(&r.location.range)))
            .collect::<Vec<_>>()
    };
    shown.len() == now.len()
        && shown.iter().zip(now).all(|(a, b)| {
            lines(&a.range) == lines(&b.range)
                && a.severity == b.severity
                && a.code == b.code
                && a.source == b.source
                && a.tags == b.tags
                && a.code_description == b.code_description
                && a.data == b.data
                && related(a) == related(b)
        })
}

/// One edit: the text between `start` and `end` replaced by `inserted`.
struct Edit {
    start: Position,
    end: Position,
    inserted: Inserted,
}

/// The shape of inserted text: its line breaks and the length of its last line, in the position
/// encoding's units.
struct Inserted {
    breaks: u32,
    last_line: u32,
}

impl Inserted {
    fn of(text: &str, encoding: Encoding) -> Self {
        let mut breaks = 0u32;
        let mut last_start = 0;
        let mut bytes = text.bytes().enumerate().peekable();
        while let Some((i, byte)) = bytes.next() {
            if byte == b'\n' || byte == b'\r' {
                // `\r\n` is one break, as LSP counts lines.
                if byte == b'\r' && bytes.peek().is_some_and(|&(_, next)| next == b'\n') {
                    bytes.next();
                    last_start = i + 2;
                } else {
                    last_start = i + 1;
                }
                breaks = breaks.saturating_add(1);
            }
        }
        let last = text.get(last_start..).unwrap_or("");
        let last_line = match encoding {
            Encoding::Utf8 => last.len(),
            Encoding::Utf16 => last.encode_utf16().count(),
            Encoding::Utf32 => last.chars().count(),
        };
        Self {
            breaks,
            last_line: u32::try_from(last_line).unwrap_or(u32::MAX),
        }
    }
}

impl Edit {
    /// Where `range` is after the edit, moved as the client's marks move; `None` when the edit replaced
    /// text across one of its ends (where the client puts that end is its own choice then).
    fn moved(&self, range: Range) -> Option<Range> {
        // The start keeps to the text after it: it stays before the edit, moves at or after its end.
        let start = if range.start < self.start {
            range.start
        } else if range.start >= self.end {
            self.shifted(range.start)
        } else {
            return None;
        };
        // The end keeps to the text before it: text inserted at it does not widen the range.
        let end = if range.end <= self.start {
            range.end
        } else if range.end >= self.end {
            self.shifted(range.end)
        } else {
            return None;
        };
        (start <= end).then_some(Range { start, end })
    }

    /// A position at or after the edit's end, moved by it.
    fn shifted(&self, at: Position) -> Position {
        let Self { start, end, inserted } = self;
        if at.line == end.line {
            let column = if inserted.breaks == 0 {
                start.character.saturating_add(inserted.last_line)
            } else {
                inserted.last_line
            };
            Position {
                line: start.line.saturating_add(inserted.breaks),
                character: column.saturating_add(at.character.saturating_sub(end.character)),
            }
        } else {
            Position {
                line: (at.line - (end.line - start.line)).saturating_add(inserted.breaks),
                character: at.character,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    fn range(a: (u32, u32), b: (u32, u32)) -> Range {
        Range {
            start: at(a.0, a.1),
            end: at(b.0, b.1),
        }
    }

    fn edit(a: (u32, u32), b: (u32, u32), text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(range(a, b)),
            range_length: None,
            text: text.to_string(),
        }
    }

    fn diagnostic(r: Range) -> Diagnostic {
        Diagnostic {
            range: r,
            message: "m".to_string(),
            ..Diagnostic::default()
        }
    }

    fn followed(r: Range, change: &TextDocumentContentChangeEvent, encoding: Encoding) -> Option<Range> {
        let uri: Uri = "file:///x.yaml".parse().ok()?;
        let mut shown = vec![diagnostic(r)];
        follow(&mut shown, change, encoding, &uri).then(|| shown[0].range)
    }

    #[test]
    fn a_request_naming_diagnostics_where_they_were_sent_gets_them_where_they_are() {
        let Ok(uri) = "file:///x.yaml".parse::<Uri>() else {
            panic!("uri")
        };
        let published = vec![
            diagnostic(range((3, 4), (3, 9))),
            diagnostic(range((7, 0), (7, 2))),
        ];
        let mut shown = published.clone();
        assert!(follow(
            &mut shown,
            &edit((1, 0), (1, 0), "# new\n"),
            Encoding::Utf16,
            &uri
        ));
        // Neovim 0.11 names the second as it was published, before the catch-up.
        let mut named = vec![published[1].clone()];
        to_current(&mut named, &published, &shown);
        assert_eq!(named[0].range, range((8, 0), (8, 2)));
        // One it was never sent stays as named.
        let mut other = vec![diagnostic(range((5, 0), (5, 1)))];
        to_current(&mut other, &published, &shown);
        assert_eq!(other[0].range, range((5, 0), (5, 1)));
    }

    #[test]
    fn a_new_line_above_moves_a_range_down_and_text_after_it_changes_nothing() {
        let squiggle = range((3, 4), (3, 9));
        // Neovim's `nvim_buf_set_lines(buf, 1, 1, …)`: a whole line inserted before line 1.
        let new_line = edit((1, 0), (1, 0), "# new line\n");
        assert_eq!(
            followed(squiggle, &new_line, Encoding::Utf16),
            Some(range((4, 4), (4, 9)))
        );
        // Enter at the end of the squiggle's own line: the range stays.
        let enter = edit((3, 12), (3, 12), "\n    ");
        assert_eq!(followed(squiggle, &enter, Encoding::Utf16), Some(squiggle));
        // Lines deleted above: it moves up.
        let deleted = edit((0, 0), (2, 0), "");
        assert_eq!(
            followed(squiggle, &deleted, Encoding::Utf16),
            Some(range((1, 4), (1, 9)))
        );
    }

    #[test]
    fn text_typed_before_a_range_on_its_line_moves_it_in_the_encodings_units() {
        let squiggle = range((2, 6), (2, 10));
        // "é" is 1 UTF-16 unit, 2 UTF-8 bytes; "😀" is 2 UTF-16 units, 4 bytes, 1 scalar.
        let typed = edit((2, 0), (2, 0), "é😀");
        assert_eq!(
            followed(squiggle, &typed, Encoding::Utf16),
            Some(range((2, 9), (2, 13)))
        );
        assert_eq!(
            followed(squiggle, &typed, Encoding::Utf8),
            Some(range((2, 12), (2, 16)))
        );
        assert_eq!(
            followed(squiggle, &typed, Encoding::Utf32),
            Some(range((2, 8), (2, 12)))
        );
        // A line break typed before it on its line: it moves to the new line, after the indent.
        let split = edit((2, 2), (2, 2), "\r\n  ");
        assert_eq!(
            followed(squiggle, &split, Encoding::Utf16),
            Some(range((3, 6), (3, 10)))
        );
    }

    #[test]
    fn typing_at_a_ranges_edges_never_widens_it() {
        let squiggle = range((5, 4), (5, 8));
        // At its start: the range moves right, as the text it marks does.
        assert_eq!(
            followed(squiggle, &edit((5, 4), (5, 4), "ab"), Encoding::Utf16),
            Some(range((5, 6), (5, 10)))
        );
        // At its end: it stays.
        assert_eq!(
            followed(squiggle, &edit((5, 8), (5, 8), "ab"), Encoding::Utf16),
            Some(squiggle)
        );
    }

    #[test]
    fn text_replaced_across_an_end_of_a_range_or_a_whole_text_leaves_the_placement_unknown() {
        let squiggle = range((5, 4), (5, 8));
        // Typed inside: the range holds the text, as the client's marks do.
        assert_eq!(
            followed(squiggle, &edit((5, 5), (5, 5), "x"), Encoding::Utf16),
            Some(range((5, 4), (5, 9)))
        );
        assert_eq!(
            followed(squiggle, &edit((5, 2), (5, 6), ""), Encoding::Utf16),
            None
        );
        assert_eq!(
            followed(squiggle, &edit((5, 6), (6, 0), ""), Encoding::Utf16),
            None
        );
        let whole = TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: String::new(),
        };
        assert_eq!(followed(squiggle, &whole, Encoding::Utf16), None);
        // An empty range that text is typed into would turn inside out.
        let point = range((5, 4), (5, 4));
        assert_eq!(followed(point, &edit((5, 4), (5, 4), "x"), Encoding::Utf16), None);
    }

    /// A new wording, or an extent grown on its line by typing at its end, is the same finding; a new
    /// severity, code, line or count is not.
    #[test]
    fn the_same_findings_may_be_worded_and_extended_differently_on_their_lines() {
        use tower_lsp_server::ls_types::{DiagnosticSeverity, NumberOrString};
        let finding = |r: Range, message: &str, severity: DiagnosticSeverity, code: &str| Diagnostic {
            range: r,
            message: message.to_string(),
            severity: Some(severity),
            code: Some(NumberOrString::String(code.to_string())),
            source: Some("podsec".to_string()),
            ..Diagnostic::default()
        };
        let (error, warning) = (DiagnosticSeverity::ERROR, DiagnosticSeverity::WARNING);
        let shown = vec![
            finding(
                range((3, 4), (3, 13)),
                "container \"app\" must set x",
                error,
                "runAsNonRoot",
            ),
            finding(
                range((4, 4), (4, 20)),
                "container \"app\" uses hostPort 80",
                error,
                "hostPorts",
            ),
        ];
        let mut now = shown.clone();
        now[0].message = "container \"appé\" must set x".to_string();
        now[0].range = range((3, 4), (3, 15));
        now[1].message = "container \"appé\" uses hostPort 80".to_string();
        assert!(same_findings(&shown, &now));

        let mut warned = now.clone();
        warned[1].severity = Some(warning);
        assert!(!same_findings(&shown, &warned), "a severity is a verdict");
        let mut other_check = now.clone();
        other_check[0] = finding(range((3, 4), (3, 15)), "m", error, "seccompProfile_restricted");
        assert!(!same_findings(&shown, &other_check));
        let mut other_line = now.clone();
        other_line[1].range = range((5, 4), (5, 20));
        assert!(!same_findings(&shown, &other_line));
        assert!(!same_findings(&shown, &now[..1]));
    }
}
