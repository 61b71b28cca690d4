//! Tolerant YAML: every document of a stream becomes an arena tree with exact byte spans.
//!
//! Parsing never fails. The stream is first cut into documents at `---` and `...` lines (YAML forbids
//! those markers at column 0 inside content, so the cut is exact), and each document is parsed on its
//! own: a syntax error costs only its own document, the others are still read.
//!
//! The tree is an arena (`Vec<Node>`) so that nothing recurses over it: dropping, walking parents and
//! building are all loops, whatever the nesting. Aliases are nodes that point at their anchor's node;
//! they are never copied, and the expanded size of every node is counted while building, so an
//! alias bomb is refused with a clear error instead of being walked.

use events::{Event, EventKind, Reader};
use scan::ScalarStyle;
use std::borrow::Cow;
use std::collections::HashMap;

pub mod events;
mod json;
mod resolve;
pub mod scan;
pub use resolve::Resolved;

/// Index of a node in its document's arena.
pub type NodeId = u32;

/// A half-open byte range `start..end` in the analysed text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start,
            end: end.max(start),
        }
    }

    /// An empty span at `at`.
    pub fn point(at: usize) -> Self {
        Self { start: at, end: at }
    }

    /// Whether `offset` lies inside this span (the end counts, so a cursor after the last byte hovers it).
    pub fn contains(&self, offset: usize) -> bool {
        self.start <= offset && offset <= self.end
    }
}

/// Resource limits that keep hostile input from costing time or memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of collections accepted in one document: kubectl's, 10,000 (Go's JSON decoder's limit
    /// on what sigs.k8s.io/yaml makes of the YAML; go-yaml's scanner also stops at 10,000 flow levels or block
    /// indentations). Nothing recurses over the tree, so this costs no stack.
    pub max_depth: usize,
    /// Most pairs `<<` merge keys may copy into one document (merges of merges double at each level).
    /// Aliases follow go-yaml v2's own rule instead ("excessive aliasing", see `AliasBudget`).
    pub max_expanded_nodes: u64,
    /// Most documents read from one stream; the rest get one error.
    pub max_documents: usize,
    /// Largest document, in bytes, that is parsed; a larger one gets one error and is skipped.
    pub max_document_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 10_000,
            max_expanded_nodes: 100_000,
            max_documents: 100_000,
            max_document_bytes: 10 * 1024 * 1024,
        }
    }
}

/// How a scalar was written; plain scalars are resolved (`true`, `null`, `0x1F`), quoted ones are strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// Unquoted.
    Plain,
    /// Single or double quoted.
    Quoted,
    /// `|` or `>` block scalar.
    Block,
}

/// What a node holds.
#[derive(Debug)]
pub enum NodeKind<'a> {
    /// A scalar with its decoded text, its style and its tag if any (`!!str`).
    Scalar {
        /// Decoded text (escapes resolved, folding applied).
        value: Cow<'a, str>,
        /// How it was written.
        style: ScalarKind,
        /// Explicit tag: the suffix of a `!!` tag (`str`, `bool`, …), any other tag whole (`!`, `!foo`).
        tag: Option<Box<str>>,
    },
    /// A mapping: key and value node pairs in source order.
    Mapping {
        /// Its `(key, value)` pairs in [`Document::pairs`] (see [`Document::entries_of`]).
        entries: Children,
        /// Written `{…}`.
        flow: bool,
    },
    /// A sequence.
    Sequence {
        /// Its items in [`Document::items`] (see [`Document::items_of`]).
        items: Children,
        /// Written `[…]`.
        flow: bool,
    },
    /// `*name`: stands for the anchored node `target`.
    Alias {
        /// The anchored node.
        target: NodeId,
    },
}

/// Where a collection's children are in its document's shared child lists: one allocation per document
/// instead of one per collection. Empty while the collection is still being read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Children {
    start: u32,
    len: u32,
}

impl Children {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// One node of the arena.
#[derive(Debug)]
pub struct Node<'a> {
    /// What it holds.
    pub kind: NodeKind<'a>,
    /// Where it is written. For block collections: first key or item to the end of the last one.
    pub span: Span,
    /// The collection this node was written in (keys and values both point at their mapping).
    pub parent: Option<NodeId>,
}

/// One YAML document of a stream.
#[derive(Debug)]
pub struct Document<'a> {
    /// The whole stream's text (spans are offsets into it).
    pub text: &'a str,
    /// The arena.
    pub nodes: Vec<Node<'a>>,
    /// The `(key, value)` pairs of every mapping, each mapping's contiguous.
    pub pairs: Vec<(NodeId, NodeId)>,
    /// The items of every sequence, each sequence's contiguous.
    pub items: Vec<NodeId>,
    /// The top node, absent for an empty document or one that failed before any node.
    pub root: Option<NodeId>,
    /// The byte range of the document's text in the stream, markers included.
    pub span: Span,
    /// Position of the document in the stream, from 0.
    pub index: usize,
    /// The syntax or limit error that stopped this document, if any. A document with an error keeps
    /// the nodes read before it but is not analysed: a half-read pod would give false verdicts.
    pub error: Option<YamlError>,
    /// Whether the document was read no further than its top-level `kind`, which is certain and not one
    /// the reader reads (see [`read_document_if`]): it has no nodes, no root and no error.
    pub skipped: bool,
    /// Where content starts that follows the document's end (`...`) in its range: go-yaml never reads it,
    /// so kubectl never sends it.
    pub unread: Option<Span>,
}

/// Why a document could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// What went wrong, in the parser's words or ours.
    pub message: String,
    /// Where: the point the parser stopped at, or the node that crossed a limit.
    pub span: Span,
    /// Syntax error or resource limit.
    pub kind: YamlErrorKind,
}

/// The two kinds of unreadable document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// Not valid YAML.
    Syntax,
    /// Valid YAML that crosses one of the [`Limits`].
    Limit,
}

/// Every document of a stream.
#[derive(Debug)]
pub struct Stream<'a> {
    /// The documents in order; empty documents (only comments or whitespace) are left out.
    pub documents: Vec<Document<'a>>,
}

/// Reads every document of `text`. Never fails: errors are recorded on their documents.
pub fn parse_stream<'a>(text: &'a str, limits: &Limits) -> Stream<'a> {
    Stream {
        documents: documents(text, limits).collect(),
    }
}

/// The documents of `text`, read one at a time as the iterator advances, so that a caller that
/// handles each document before taking the next holds only one tree in memory.
pub fn documents<'a>(text: &'a str, limits: &Limits) -> impl Iterator<Item = Document<'a>> {
    let limits = *limits;
    document_ranges(text, &limits)
        .into_iter()
        .enumerate()
        .filter_map(move |(index, range)| read_document(text, index, range, &limits))
}

/// The document of `text` that holds byte `offset` (its range's end included only for an empty one),
/// read alone: a request about one position parses one document, not those before it.
pub fn document_at<'a>(text: &'a str, limits: &Limits, offset: usize) -> Option<Document<'a>> {
    let (index, range) = document_ranges(text, limits)
        .into_iter()
        .enumerate()
        .find(|(_, r)| r.start <= offset && offset < r.end.max(r.start + 1))?;
    read_document(text, index, range, limits)
}

/// The byte ranges of the documents of `text` (see [`read_document`]), at most one past the limit.
pub fn document_ranges(text: &str, limits: &Limits) -> Vec<Span> {
    let mut ranges = split_documents(text);
    ranges.truncate(limits.max_documents.saturating_add(1));
    ranges
}

/// Reads the document at `range`, the `index`-th of `text`; `None` for one with nothing in it.
/// A document past [`Limits::max_documents`] or larger than [`Limits::max_document_bytes`] is refused
/// with an error instead.
pub fn read_document<'a>(text: &'a str, index: usize, range: Span, limits: &Limits) -> Option<Document<'a>> {
    read_document_reading(text, index, range, limits, None)
}

/// [`read_document`] for a reader that reads only the documents of some kinds: a document whose top-level
/// `kind` is certain once its value is read, and refused by `reads_kind`, is read no further and comes back
/// [`Document::skipped`], without nodes. Certain means that the whole tree would give that kind: the
/// top-level mapping is a block mapping at column 0, the value a plain or quoted scalar without a tag, and
/// no later line of the document starts with anything that could be another top-level `kind` key (the last
/// duplicate wins). Whatever follows the `kind` is not read, so a syntax error or a limit crossed there is
/// not reported; errors before it are. The limits on documents and their size apply first, as in
/// [`read_document`].
pub fn read_document_if<'a>(
    text: &'a str,
    index: usize,
    range: Span,
    limits: &Limits,
    reads_kind: &dyn Fn(&str) -> bool,
) -> Option<Document<'a>> {
    read_document_reading(text, index, range, limits, Some(reads_kind))
}

/// [`documents`] for a reader that reads only the documents of some kinds (see [`read_document_if`]).
pub fn documents_if<'a, 'r>(
    text: &'a str,
    limits: &Limits,
    reads_kind: &'r dyn Fn(&str) -> bool,
) -> impl Iterator<Item = Document<'a>> + 'r
where
    'a: 'r,
{
    let limits = *limits;
    document_ranges(text, &limits)
        .into_iter()
        .enumerate()
        .filter_map(move |(index, range)| read_document_if(text, index, range, &limits, reads_kind))
}

fn read_document_reading<'a>(
    text: &'a str,
    index: usize,
    range: Span,
    limits: &Limits,
    reads_kind: Option<&dyn Fn(&str) -> bool>,
) -> Option<Document<'a>> {
    let refused = |message: String| {
        let error = YamlError {
            message,
            span: Span::point(range.start),
            kind: YamlErrorKind::Limit,
        };
        Document::without_tree(text, range, index, Some(error))
    };
    if index >= limits.max_documents {
        return Some(refused(format!(
            "more than {} documents in one file; the rest are not read",
            limits.max_documents
        )));
    }
    if range.end - range.start > limits.max_document_bytes {
        return Some(refused(format!(
            "this document is {:.1} MB, more than the {:.1} MB limit; it is not analysed",
            (range.end - range.start) as f64 / 1_048_576.0,
            limits.max_document_bytes as f64 / 1_048_576.0
        )));
    }
    match json::reading(text, range) {
        json::Reading::Yaml => {}
        json::Reading::Json => {
            // From the value's first byte: JSON's white space (a tab) is not all YAML's.
            let value = Span::new(json::skip_space(text.as_bytes(), range.start), range.end);
            let mut doc = parse_document(text, value, index, limits, reads_kind, true);
            doc.span = range;
            return (doc.root.is_some() || doc.error.is_some() || doc.skipped).then_some(doc);
        }
        json::Reading::Refused(message, at) => {
            let error = YamlError {
                message,
                span: Span::point(at),
                kind: YamlErrorKind::Syntax,
            };
            return Some(Document::without_tree(text, range, index, Some(error)));
        }
    }
    // kubectl returns a bad separator's error instead of the document before it.
    let next_line = line_at(text, range.end);
    if let Some(after) = bad_separator(next_line) {
        let at = range.end + next_line.find(after).unwrap_or(0);
        let error = YamlError {
            message: format!("invalid Yaml document separator: {after}"),
            span: Span::new(at, at + after.len()),
            kind: YamlErrorKind::Syntax,
        };
        return Some(Document::without_tree(text, range, index, Some(error)));
    }
    // A document that starts at a separator is read from the next line, as kubectl hands it to go-yaml, unless
    // kubectl's piece starts with that line (see `kubectl_buffer_empty_at`; it matters for `---#c`, which is
    // no marker to go-yaml). A bad separator is never read.
    let first_line = line_at(text, range.start);
    let yaml_start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    // Only a line that is no marker to go-yaml reads otherwise (`---#c`; `---` and `--- #c` read alike either
    // way): a part of a file analysed alone (the CLI's pieces) then agrees with the whole but for such a line.
    let included = is_unmarked_separator(first_line)
        && bad_separator(first_line).is_none()
        && kubectl_buffer_empty_at(text, yaml_start, range.start);
    let mut parsed = if first_line.starts_with("---") && !included {
        Span::new(range.start + first_line.len(), range.end)
    } else {
        range
    };
    // A BOM that starts a piece is skipped by the reader, as at the start of the text (marks stay bytes).
    if text
        .get(parsed.start..)
        .is_some_and(|rest| rest.starts_with('\u{feff}'))
    {
        parsed = Span::new(parsed.start + '\u{feff}'.len_utf8(), parsed.end);
    }
    let mut doc = parse_document(text, parsed, index, limits, reads_kind, false);
    doc.span = range;
    (doc.root.is_some() || doc.error.is_some() || doc.skipped).then_some(doc)
}

/// Whether the reading of the document at `range` depends on more of `text` than the document's own text:
/// in a JSON stream (the stream's first values decide how it is read), or when it starts with a `---` line that
/// is no YAML marker (`---#c`, read or not as kubectl's splitter held something before it). A cache of readings
/// per document text must not keep these.
pub fn read_in_context(text: &str, range: Span) -> bool {
    is_unmarked_separator(line_at(text, range.start)) || json::is_json_stream(text)
}

/// Whether a line starts with `---` that is no YAML marker (`---#c`): go-yaml reads it as text, not as the
/// start of a document, when kubectl hands it over (see [`kubectl_buffer_empty_at`]).
fn is_unmarked_separator(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| !(rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n'])))
}

/// Cuts a stream into document ranges as kubectl's splitter (apimachinery's `YAMLReader`) does: at every
/// line that starts with `---`. One followed by nothing but blanks or a comment separates; one followed by
/// anything else (`--- {a: 1}`, `--- |`, `----`) is kubectl's error, which loses the document before it, so that
/// document is cut there too, even when it holds nothing (see [`bad_separator`]). `...` separates nothing:
/// go-yaml reads the first document of a piece and never what follows it. Lines before a `---` that hold only
/// comments or blanks stay with the document that follows (kubectl skips such a piece); a directive is content,
/// as it is to kubectl (`%YAML` before the first `---` is a piece of its own, which go-yaml refuses).
fn split_documents(text: &str) -> Vec<Span> {
    if json::is_json_stream(text)
        && let Some(cut) = json::cut(text)
    {
        let mut ranges = cut.values;
        if let Some(from) = cut.yaml_from {
            ranges.extend(split_yaml(text, from));
        }
        return ranges;
    }
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    split_yaml(text, start)
}

/// [`split_documents`] for YAML, from `start`.
fn split_yaml(text: &str, start: usize) -> Vec<Span> {
    let line_end = |line_start: usize| {
        text.get(line_start..)
            .and_then(|rest| rest.find('\n'))
            .map_or(text.len(), |i| line_start + i + 1)
    };
    let mut ranges = Vec::new();
    let mut current = start;
    let mut current_has_content = false;
    let bytes = text.as_bytes();
    let dashes = memchr::memmem::Finder::new(b"\n---");
    // Where the next line that starts with `---` is (at its `\n`), once searched: not searched yet, none
    // left, or a place. Searched again only once passed.
    let mut next_dashes: Option<Option<usize>> = None;
    let mut next_line = Some(start);
    while let Some(line_start) = next_line.filter(|at| *at < text.len()) {
        let rest = text.get(line_start..).unwrap_or("");
        if rest.starts_with("---") {
            let line = text.get(line_start..line_end(line_start)).unwrap_or("");
            let bad = bad_separator(line).is_some();
            if bad && kubectl_buffer_empty_at(text, start, line_start) {
                // kubectl had read nothing since its last cut: the error is the line's own, and the next
                // document starts after it.
                ranges.push(Span::point(line_start));
                current = line_end(line_start);
            } else if current_has_content || bad {
                ranges.push(Span::new(current, line_start));
                current = line_start;
            }
            // After a good `---` the document has begun (an empty one reads as nothing); after a bad one,
            // what follows is a document of its own only if it holds something.
            current_has_content = !bad;
        } else if !current_has_content {
            let line = text.get(line_start..line_end(line_start)).unwrap_or("");
            let trimmed = line.trim_start();
            current_has_content = !(trimmed.is_empty() || trimmed.starts_with('#'));
        }
        // Only a `---` line can end a document that has content: the lines between are passed over.
        let after = bytes.get(line_start..).unwrap_or_default();
        next_line = if current_has_content {
            let passed = match next_dashes {
                None => true,
                Some(found) => found.is_some_and(|at| at < line_start),
            };
            if passed {
                next_dashes = Some(dashes.find(after).map(|at| line_start + at));
            }
            next_dashes.flatten().map(|at| at + 1)
        } else {
            memchr::memchr(b'\n', after).map(|at| line_start + at + 1)
        };
    }
    if current_has_content {
        ranges.push(Span::new(current, text.len()));
    }
    ranges
}

/// What follows `---` on a line that starts with it, when kubectl refuses the line as a separator: anything
/// but blanks (Go's `unicode.IsSpace`, which is Unicode's White_Space, as `char::is_whitespace`) and a
/// comment. The line is one of `\n`-ended text, as kubectl's line reader gives it.
fn bad_separator(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("---")?.trim();
    (!rest.is_empty() && !rest.starts_with('#')).then_some(rest)
}

/// Whether kubectl's splitter holds nothing when it reaches the line at `line_start` (a line of the YAML part
/// that starts at `start`). Its reader writes every line into the piece it builds, except a separator that
/// ends a piece (one reached while the piece holds something) and a bad one (whose error drops the piece): so
/// a separator reached while nothing is held is the piece's own first line, which go-yaml reads (`---#c` is
/// then a plain scalar). Found by walking back over the separators right before the line.
fn kubectl_buffer_empty_at(text: &str, start: usize, line_start: usize) -> bool {
    // The separators right before the line, nearest first, to what precedes them.
    let mut run = 0usize;
    let mut at = line_start;
    let empty_before_run = loop {
        if at <= start {
            break true;
        }
        let previous_start = text
            .get(start..at - 1)
            .and_then(|before| before.rfind('\n'))
            .map_or(start, |i| start + i + 1);
        let previous = text.get(previous_start..at).unwrap_or("");
        if !previous.starts_with("---") {
            break false;
        }
        if bad_separator(previous).is_some() {
            break true;
        }
        run += 1;
        at = previous_start;
    };
    // Each good separator of the run is written when nothing is held, and ends the piece otherwise.
    if run % 2 == 0 {
        empty_before_run
    } else {
        !empty_before_run
    }
}

/// The line at `at` in `text` (to its `\n`, included).
fn line_at(text: &str, at: usize) -> &str {
    let rest = text.get(at..).unwrap_or("");
    rest.find('\n').map_or(rest, |i| rest.get(..=i).unwrap_or(rest))
}

/// The positions just after each line break of `bytes` from `from` on: every `\n`, and every `\r` when
/// `with_cr`. memchr's vectorised search, since most of a manifest's bytes are not line breaks: looking at
/// the lines of a skipped document then costs little next to parsing.
struct LineStarts<'b> {
    bytes: &'b [u8],
    at: usize,
    with_cr: bool,
}

impl<'b> LineStarts<'b> {
    fn new(bytes: &'b [u8], from: usize, with_cr: bool) -> Self {
        Self {
            bytes,
            at: from.min(bytes.len()),
            with_cr,
        }
    }
}

impl Iterator for LineStarts<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let rest = self.bytes.get(self.at..)?;
        let found = if self.with_cr {
            memchr::memchr2(b'\n', b'\r', rest)
        } else {
            memchr::memchr(b'\n', rest)
        };
        match found {
            Some(i) => {
                self.at += i + 1;
                Some(self.at)
            }
            None => {
                self.at = self.bytes.len();
                None
            }
        }
    }
}

/// Moves the children of a closing collection (`open[first..]`) to the end of `done`.
fn move_children<T>(open: &mut Vec<T>, first: usize, done: &mut Vec<T>) -> Children {
    let first = first.min(open.len());
    let start = done.len();
    done.extend(open.drain(first..));
    // Counts fit: a document has fewer than u32::MAX nodes (`Builder::add` refuses more).
    Children {
        start: u32::try_from(start).unwrap_or(u32::MAX),
        len: u32::try_from(done.len() - start).unwrap_or(0),
    }
}

/// The parser hands over every scalar as a fresh `String`. Most are written exactly as they read (no
/// escapes, no folding), so the tree borrows them from the text instead: the parser's allocation is
/// freed at once, which keeps the tree small and the allocator warm (this is most of the cost of
/// holding a tree rather than streaming events).
fn borrow_if_written_as_is<'a>(
    value: Cow<'a, str>,
    text: &'a str,
    span: Span,
    style: ScalarKind,
) -> Cow<'a, str> {
    let Cow::Owned(owned) = &value else {
        return value;
    };
    let written = match style {
        _ if owned.is_empty() => Some(""),
        ScalarKind::Plain => text.get(span.start..span.end),
        ScalarKind::Quoted => text.get(span.start + 1..span.end.saturating_sub(1)),
        ScalarKind::Block => None,
    };
    match written {
        Some(written) if written == owned => Cow::Borrowed(written),
        _ => value,
    }
}

/// A resolved tag as the tree keeps it: `tag:yaml.org,2002:str` (`!!str`) is `str`; a local tag (`!x`, `!`)
/// stays whole, since go-yaml resolves none of them (`!int 0` is the string `0`).
fn tag_suffix(tag: &str) -> &str {
    tag.strip_prefix(resolve::YAML_TAG_PREFIX).unwrap_or(tag)
}

/// The id of a new anchor definition (0 for none); its name now stands for it.
fn define_anchor<'a>(
    ids: &mut HashMap<&'a str, usize>,
    anchors: &mut Vec<Option<Anchored>>,
    anchor: Option<&'a str>,
) -> usize {
    let Some(name) = anchor else { return 0 };
    // Ids start at 1; `Builder::add` fills the slot.
    let id = anchors.len().max(1);
    anchors.resize(id + 1, None);
    ids.insert(name, id);
    id
}

/// go-yaml v2's guard against alias bombs, which kubectl's reading stops at ("document contains excessive
/// aliasing"): it counts every node it decodes, and those decoded through an alias, and fails once the latter
/// are more than 100, the former more than 1,000, and their ratio above what the document's size allows (99%
/// up to 400,000 decodes, falling to 10% at 4,000,000). Nodes are decoded in document order and an alias's
/// expansion at the alias, where the ratio peaks: checking there is checking at every node.
struct AliasBudget {
    decoded: u64,
    through_aliases: u64,
}

impl AliasBudget {
    /// Counts an alias that stands for `size` decoded nodes; whether go-yaml fails there.
    fn decode_alias(&mut self, size: u64) -> bool {
        self.decoded = self.decoded.saturating_add(size.saturating_add(1));
        self.through_aliases = self.through_aliases.saturating_add(size);
        const LOW: f64 = 400_000.0;
        const HIGH: f64 = 4_000_000.0;
        let decoded = self.decoded as f64;
        let allowed = if decoded <= LOW {
            0.99
        } else if decoded >= HIGH {
            0.10
        } else {
            0.99 - 0.89 * ((decoded - LOW) / (HIGH - LOW))
        };
        self.through_aliases > 100 && self.decoded > 1000 && self.through_aliases as f64 / decoded > allowed
    }
}

/// An open collection while building.
struct Frame {
    id: NodeId,
    pending_key: Option<NodeId>,
    /// Where its children start on the builder's stack of open children.
    first_child: usize,
    /// The anchor id of this collection (see `define_anchor`), 0 for none.
    anchor: usize,
    /// Expanded size so far: the collection itself and its completed children.
    size: u64,
}

/// What an anchor stands for.
#[derive(Clone, Copy)]
struct Anchored {
    id: NodeId,
    /// Expanded size; `None` while the anchored collection is still open.
    size: Option<u64>,
}

struct Builder<'a> {
    /// The whole stream's text, for looking at closing brackets.
    source: &'a str,
    /// Pairs copied by `<<` merge keys so far, and how many may be: merges of merges double at each
    /// level, and are refused before they fill memory (the alias limit is only known at the end).
    merged_pairs: usize,
    max_merged_pairs: usize,
    nodes: Vec<Node<'a>>,
    stack: Vec<Frame>,
    /// Children of the open collections, innermost last; a collection's move to `pairs` or `items`
    /// when it closes, so each collection's end up contiguous there.
    open_pairs: Vec<(NodeId, NodeId)>,
    open_items: Vec<NodeId>,
    pairs: Vec<(NodeId, NodeId)>,
    items: Vec<NodeId>,
    root: Option<NodeId>,
    /// Anchor id (see `define_anchor`) to node. Each anchor definition gets its own id.
    anchors: Vec<Option<Anchored>>,
}

impl<'a> Builder<'a> {
    /// Adds a node; `size` is its expanded size, known at once for scalars and aliases and `None` for a
    /// collection until it closes.
    fn add(
        &mut self,
        kind: NodeKind<'a>,
        span: Span,
        anchor: usize,
        size: Option<u64>,
    ) -> Result<NodeId, String> {
        let id = NodeId::try_from(self.nodes.len()).map_err(|_| "too many nodes".to_string())?;
        // The parser places an implicit null value (`key:` with nothing after it) at the next token,
        // which can be a line or a closing bracket away; it belongs right after its key.
        // With an anchor or a tag (`key: &a`) the node is written there, and keeps the parser's span.
        let implicit_null = anchor == 0
            && matches!(&kind, NodeKind::Scalar { value, style: ScalarKind::Plain, tag: None } if value.is_empty());
        let span = match self.stack.last().and_then(|f| f.pending_key) {
            Some(key) if implicit_null => self.nodes.get(key as usize).map_or(span, |k| {
                // Right after the key's colon when it has one (`key:`), else after the key (`{key}`).
                let rest = self.source.get(k.span.end..).unwrap_or("");
                let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                let after = if rest.get(gap..).is_some_and(|r| r.starts_with(':')) {
                    gap + 1
                } else {
                    0
                };
                Span::point(k.span.end + after)
            }),
            _ => span,
        };
        let parent = self.stack.last().map(|frame| frame.id);
        self.nodes.push(Node { kind, span, parent });
        if anchor > 0 {
            if self.anchors.len() <= anchor {
                self.anchors.resize(anchor + 1, None);
            }
            if let Some(slot) = self.anchors.get_mut(anchor) {
                *slot = Some(Anchored { id, size });
            }
        }
        self.attach(id);
        if let Some(size) = size {
            self.count(size);
        }
        Ok(id)
    }

    /// Adds a completed node's expanded size to the collection it is in (what an alias to it costs).
    fn count(&mut self, size: u64) {
        if let Some(frame) = self.stack.last_mut() {
            frame.size = frame.size.saturating_add(size);
        }
    }

    fn attach(&mut self, id: NodeId) {
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(id);
            }
            return;
        };
        let parent = frame.id;
        match self.nodes.get(parent as usize).map(|n| &n.kind) {
            Some(NodeKind::Mapping { .. }) => match frame.pending_key.take() {
                None => frame.pending_key = Some(id),
                Some(key) => self.open_pairs.push((key, id)),
            },
            Some(NodeKind::Sequence { .. }) => self.open_items.push(id),
            _ => {}
        }
    }

    /// Closes the innermost collection: its span ends where its last child ends (flow collections
    /// end at their closing bracket), and its expanded size becomes known.
    fn close(&mut self, end_event: Span) {
        let Some(frame) = self.stack.pop() else { return };
        let id = frame.id as usize;
        let is_mapping = matches!(
            self.nodes.get(id).map(|n| &n.kind),
            Some(NodeKind::Mapping { .. })
        );
        // Children are added in source order, so the last one ends last.
        let last_child = if is_mapping {
            frame
                .pending_key
                .or_else(|| self.open_pairs.get(frame.first_child..)?.last().map(|(_, v)| *v))
        } else {
            self.open_items
                .get(frame.first_child..)
                .and_then(|items| items.last().copied())
        };
        let last_child_end = last_child
            .and_then(|c| self.nodes.get(c as usize))
            .map(|c| c.span.end);
        let children = if is_mapping {
            move_children(&mut self.open_pairs, frame.first_child, &mut self.pairs)
        } else {
            move_children(&mut self.open_items, frame.first_child, &mut self.items)
        };
        if let Some(node) = self.nodes.get_mut(id) {
            // A flow collection's end event covers its closing bracket; a block collection's end event is
            // empty, and so is that of a single-pair mapping in a flow sequence (`[a: 1]`), which has no
            // bracket of its own and counts as block here (the patcher then leaves it alone). The
            // opening can hide behind a tag or an anchor, so this is the reliable test.
            let flow = end_event.start < end_event.end;
            match &mut node.kind {
                NodeKind::Mapping { flow: f, entries: c } | NodeKind::Sequence { flow: f, items: c } => {
                    *f = flow;
                    *c = children;
                }
                _ => {}
            }
            let end = if flow {
                // Just past the closing bracket, even after a trailing comma.
                let rest = self.source.get(end_event.start..).unwrap_or("");
                rest.find(['}', ']'])
                    .map_or(end_event.end, |i| end_event.start + i + 1)
            } else {
                last_child_end.unwrap_or(node.span.end)
            };
            node.span.end = end.max(node.span.start);
        }
        if let Some(Some(anchored)) = self.anchors.get_mut(frame.anchor) {
            anchored.size = Some(frame.size);
        }
        self.count(frame.size);
    }

    /// Why kubectl refuses the node just added, if it does: sigs.k8s.io/yaml turns go-yaml's map keys into
    /// strings, and cannot for a null or an integer beyond int64 (go-yaml itself refuses a collection as a
    /// key); and JSON has no infinities or NaN. Its words, less Go's dump of the value.
    fn kubectl_refusal(&self, id: NodeId) -> Option<String> {
        // A collection has its own frame on top already: it is attached to the one below.
        let frame = match self.stack.as_slice() {
            [.., parent, top] if top.id == id => Some(parent),
            [.., top] if top.id != id => Some(top),
            _ => None,
        };
        let is_key = frame.is_some_and(|f| f.pending_key == Some(id))
            && matches!(
                frame.and_then(|f| self.nodes.get(f.id as usize)).map(|n| &n.kind),
                Some(NodeKind::Mapping { .. })
            );
        let mut kind = &self.nodes.get(id as usize)?.kind;
        if let NodeKind::Alias { target } = kind {
            kind = &self.nodes.get(*target as usize)?.kind;
        }
        let resolved = match kind {
            NodeKind::Scalar { value, style, tag } => {
                // Resolved only when it could be refused (every scalar passes here): a key that may be a null or
                // an integer, a value that may be an infinity or NaN (`.inf`, `-.Inf`, `+.INF`).
                let could_be_refused = if is_key {
                    value.is_empty()
                        || value.starts_with(|c: char| matches!(c, '~' | 'n' | 'N' | '+' | '0'..='9'))
                } else {
                    value.starts_with(['.', '+', '-'])
                };
                if !could_be_refused {
                    return None;
                }
                resolve::resolve(value, *style, tag.as_deref()).ok()?
            }
            NodeKind::Mapping { .. } if is_key => {
                return Some("error converting YAML to JSON: yaml: invalid map key: a mapping".to_string());
            }
            NodeKind::Sequence { .. } if is_key => {
                return Some("error converting YAML to JSON: yaml: invalid map key: a sequence".to_string());
            }
            _ => return None,
        };
        match resolved {
            Resolved::Null if is_key => Some(
                "error converting YAML to JSON: Unsupported map key of type: %!s(<nil>), key: <nil>"
                    .to_string(),
            ),
            Resolved::Unsigned(value) if is_key => Some(format!(
                "error converting YAML to JSON: Unsupported map key of type: uint64, key: {value:#x}"
            )),
            Resolved::Float(value) if !is_key && !value.is_finite() => {
                let shown = if value.is_nan() {
                    "NaN"
                } else if value > 0.0 {
                    "+Inf"
                } else {
                    "-Inf"
                };
                Some(format!(
                    "error converting YAML to JSON: json: unsupported value: {shown}"
                ))
            }
            _ => None,
        }
    }

    /// Whether `key` is a merge key: a plain `<<`, or one tagged `!!merge` or `!` (which makes any scalar
    /// implicit to go-yaml's parser, quoted or not), as go-yaml v2 tells them.
    fn is_merge_key(&self, key: NodeId) -> bool {
        matches!(
            self.nodes.get(key as usize).map(|n| &n.kind),
            Some(NodeKind::Scalar { value, style, tag })
                if value.as_ref() == "<<"
                    && ((*style == ScalarKind::Plain && tag.is_none())
                        || matches!(tag.as_deref(), Some("merge" | "!")))
        )
    }

    /// The mapping `id` stands for, aliases followed; `None` for any other node.
    fn mapping_entries(&self, id: NodeId) -> Option<Children> {
        let node = self.nodes.get(id as usize)?;
        match &node.kind {
            NodeKind::Mapping { entries, .. } => Some(*entries),
            NodeKind::Alias { target } => match self.nodes.get(*target as usize).map(|n| &n.kind) {
                Some(NodeKind::Mapping { entries, .. }) => Some(*entries),
                _ => None,
            },
            _ => None,
        }
    }

    /// Applies the `<<` merge keys of the just-closed mapping `id` as go-yaml v2 decodes them: in source
    /// order, a merge sets the keys of its mapping (or of each mapping of its sequence, the last first, so
    /// that the first wins) over the keys before it, and the keys after it override them. The merged
    /// pairs are the anchored mapping's own nodes, which stay where they are written (their spans and
    /// parents), so a finding points at the text that sets it. Any other value is go-yaml v2's error.
    fn apply_merges(&mut self, id: NodeId) -> Result<(), YamlError> {
        let Some(NodeKind::Mapping { entries, .. }) = self.nodes.get(id as usize).map(|n| &n.kind) else {
            return Ok(());
        };
        let entries = *entries;
        let own = self.pairs.get(entries.range()).unwrap_or_default();
        if !own.iter().any(|(key, _)| self.is_merge_key(*key)) {
            return Ok(());
        }
        let own = own.to_vec();
        let mut merged = Vec::with_capacity(own.len());
        for (key, value) in own {
            if !self.is_merge_key(key) {
                merged.push((key, value));
                continue;
            }
            let key_span = self.nodes.get(key as usize).map(|n| n.span).unwrap_or_default();
            let refused = || YamlError {
                message: "map merge requires map or sequence of maps as the value".to_string(),
                span: key_span,
                kind: YamlErrorKind::Syntax,
            };
            let sources: Vec<Children> = match self.mapping_entries(value) {
                Some(mapping) => vec![mapping],
                None => {
                    let items = match self.nodes.get(value as usize).map(|n| &n.kind) {
                        Some(NodeKind::Sequence { items, .. }) => *items,
                        _ => return Err(refused()),
                    };
                    let items = self.items.get(items.range()).unwrap_or_default();
                    let mut sources = Vec::with_capacity(items.len());
                    for item in items.iter().rev() {
                        sources.push(self.mapping_entries(*item).ok_or_else(refused)?);
                    }
                    sources
                }
            };
            for source in sources {
                self.merged_pairs = self.merged_pairs.saturating_add(source.len as usize);
                if self.merged_pairs > self.max_merged_pairs {
                    return Err(YamlError {
                        message: format!(
                            "merge keys expand this document to more than {} entries; it is not analysed",
                            self.max_merged_pairs
                        ),
                        span: key_span,
                        kind: YamlErrorKind::Limit,
                    });
                }
                merged.extend_from_slice(self.pairs.get(source.range()).unwrap_or_default());
            }
        }
        // The mapping's pairs were the last ones added (it has just closed): they are replaced there.
        if entries.start as usize + entries.len as usize == self.pairs.len() {
            self.pairs.truncate(entries.start as usize);
        }
        let start = self.pairs.len();
        self.pairs.extend(merged);
        let children = Children {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(self.pairs.len() - start).unwrap_or(0),
        };
        if let Some(NodeKind::Mapping { entries, .. }) = self.nodes.get_mut(id as usize).map(|n| &mut n.kind)
        {
            *entries = children;
        }
        Ok(())
    }
}

/// A scalar's text as kubectl reads it, or go-yaml's error for it: a `!!binary` scalar is its decoded bytes; a
/// tag that does not fit the text (`!!int abc`) is an error; and a block scalar on the file's last line, which
/// has no line break, gets the one kubectl's line reader appends to every line (`|` keeps it). Most scalars
/// are written as they read and borrow the text.
fn scalar_as_kubectl_reads_it<'a>(
    value: Cow<'a, str>,
    style: ScalarKind,
    tag: Option<&str>,
    text: &'a str,
    span: Span,
) -> Result<Cow<'a, str>, String> {
    if tag == Some("binary") {
        return resolve::decode_binary(&value)
            .map(Cow::Owned)
            .ok_or_else(|| "!!binary value contains invalid base64 data".to_string());
    }
    if tag.is_some() {
        resolve::resolve(&value, style, tag)?;
    }
    let at_the_end = text
        .get(span.end..)
        .is_some_and(|rest| rest.trim_matches([' ', '\t']).is_empty());
    if style == ScalarKind::Block && at_the_end && !text.ends_with(['\n', '\r']) {
        let header = text.get(span.start..).unwrap_or("");
        let last_line = text.rsplit(['\n', '\r']).next().unwrap_or("");
        let mut value = value.into_owned();
        // What the appended break changes: clip keeps one break after content, keep every break.
        let gains_a_break = match block_chomping(header) {
            b'-' => false,
            b'+' => true,
            _ => !last_line.trim_matches([' ', '\t']).is_empty(),
        };
        if gains_a_break {
            value.push('\n');
        }
        return Ok(Cow::Owned(value));
    }
    Ok(borrow_if_written_as_is(value, text, span, style))
}

/// A block scalar's chomping indicator (`-` strip, `+` keep, anything else clip), read from its header
/// (`|`, `>-`, `|2+`, … at the start of `written`).
fn block_chomping(written: &str) -> u8 {
    written
        .bytes()
        .skip(1)
        .take_while(|b| matches!(b, b'-' | b'+' | b'1'..=b'9'))
        .find(|b| matches!(b, b'-' | b'+'))
        .unwrap_or(b' ')
}

/// Whether a scalar means "absent" as Kubernetes reads it: `null`, `~` or nothing, unquoted and untagged, or
/// anything tagged `!!null` (`tag` is the suffix the tree keeps).
fn is_null_scalar(value: &str, style: ScalarKind, tag: Option<&str>) -> bool {
    match (style, tag) {
        (ScalarKind::Plain, None) => matches!(value, "" | "~" | "null" | "Null" | "NULL"),
        (_, Some(tag)) => tag == "null",
        _ => false,
    }
}

/// The kind a document certainly has, when the scalar just read (`value`, untagged, in `style`) is the value
/// of its top-level `kind` key, `reads_kind` refuses it, and nothing in `rest`, the document's text after it,
/// can be another. (A kind the reader reads is not looked into further: the document is read whole anyway.)
///
/// `kind` is what [`NodeRef::get`] would give on the whole tree, which reads the last of duplicate keys. So
/// the top-level mapping must be a block mapping at column 0 (`top_level_block_at_column_0`): each of its keys
/// then starts a line, and [`no_later_kind_key`] finds no line of `rest` that could start one reading `kind`.
/// The key is matched as [`NodeRef::entry`] matches it (any scalar reading `kind` that is not null), the value
/// as [`NodeRef::as_str`] reads it; a tagged, block or null value, or an alias, is not certain.
fn certain_unread_kind<'v>(
    builder: &Builder<'_>,
    top_level_block_at_column_0: bool,
    value: &'v str,
    style: ScalarKind,
    tagged: bool,
    reads_kind: &dyn Fn(&str) -> bool,
    rest: &str,
) -> Option<&'v str> {
    let [frame] = builder.stack.as_slice() else {
        return None;
    };
    let key = builder.nodes.get(frame.pending_key? as usize)?;
    let key_reads_kind = matches!(&key.kind, NodeKind::Scalar { value, style, tag }
        if value == "kind" && !is_null_scalar(value, *style, tag.as_deref()));
    let certain = top_level_block_at_column_0
        && builder.root == Some(frame.id)
        && key_reads_kind
        && !tagged
        && style != ScalarKind::Block
        && !is_null_scalar(value, style, None)
        && !reads_kind(value)
        && no_later_kind_key(rest);
    certain.then_some(value)
}

/// Whether no line of `rest` can start a top-level key that reads `kind`, in a document whose top-level
/// mapping is a block mapping at column 0: such a key starts at the first character of a line (after any of
/// YAML 1.1's line breaks: LF, CR, NEL, LS, PS). A line may start with a space (deeper content), a comment, a
/// sequence item, a flow indicator that closes or separates, or a letter or digit other than `k` (a plain
/// scalar, which has no escapes, so it reads as written). Anything else (a quote, a tag, an anchor, an alias,
/// `?`, a block scalar, a tab, `%`, a non-ASCII character such as a BOM, which the reader skips at a line's start)
/// might, and the document is then read whole. The first piece of `rest` is the end of the `kind`'s own line.
fn no_later_kind_key(rest: &str) -> bool {
    fn cannot_start_a_kind_key(first: u8) -> bool {
        (first.is_ascii_alphanumeric() && first != b'k')
            || matches!(
                first,
                b' ' | b'\n' | b'\r' | b'#' | b'-' | b'.' | b'_' | b'/' | b']' | b'}' | b','
            )
    }
    let bytes = rest.as_bytes();
    // U+0085, U+2028 and U+2029 (C2 85, E2 80 A8, E2 80 A9) break lines for YAML 1.1 too.
    let unicode_break = memchr::memchr2_iter(0xC2, 0xE2, bytes).any(|at| {
        matches!(bytes.get(at..at + 2), Some([0xC2, 0x85]))
            || matches!(bytes.get(at..at + 3), Some([0xE2, 0x80, 0xA8 | 0xA9]))
    });
    if unicode_break {
        return false;
    }
    LineStarts::new(bytes, 0, true).all(|at| bytes.get(at).is_none_or(|b| cannot_start_a_kind_key(*b)))
}

fn parse_document<'a>(
    text: &'a str,
    range: Span,
    index: usize,
    limits: &Limits,
    reads_kind: Option<&dyn Fn(&str) -> bool>,
    json: bool,
) -> Document<'a> {
    let source = text.get(range.start..range.end).unwrap_or("");
    // The reader's positions are byte offsets into `source`.
    let at = |offset: usize| range.start + offset.min(source.len());
    let span_of = |event: &Event| Span::new(at(event.start), at(event.end));
    let mut builder = Builder {
        source: text,
        // About one node per dozen bytes in manifests; reserving avoids most regrowth.
        nodes: Vec::with_capacity(source.len() / 12),
        stack: Vec::new(),
        open_pairs: Vec::new(),
        open_items: Vec::new(),
        pairs: Vec::new(),
        items: Vec::new(),
        root: None,
        anchors: Vec::new(),
        merged_pairs: 0,
        max_merged_pairs: usize::try_from(limits.max_expanded_nodes).unwrap_or(usize::MAX),
    };
    // Anchor name to its latest definition's id (go-yaml v2: a redefined anchor stands for the last one).
    let mut anchor_ids: HashMap<&str, usize> = HashMap::new();
    let mut error = None;
    // Set at the top-level node's start: whether a certain kind is possible at all (see `certain_unread_kind`).
    let mut top_level_block_at_column_0 = false;
    let mut unread = None;
    // go-yaml decodes the document node first.
    let mut aliases = AliasBudget {
        decoded: 1,
        through_aliases: 0,
    };
    let mut reader = Reader::new(source);
    reader.set_json(json);
    loop {
        let event = match reader.next_event() {
            Ok(Some(event)) => event,
            // After the stream's end (which ends the loop below) there is nothing.
            Ok(None) => break,
            Err(read_error) => {
                error = Some(YamlError {
                    message: read_error.problem.to_string(),
                    // From the real cause to where the reading stopped (the same point for most errors).
                    span: Span::new(at(read_error.cause()), at(read_error.at)),
                    kind: YamlErrorKind::Syntax,
                });
                break;
            }
        };
        let span = span_of(&event);
        let is_mapping = matches!(event.kind, EventKind::MappingStart { .. });
        if matches!(
            event.kind,
            EventKind::Scalar { .. } | EventKind::MappingStart { .. } | EventKind::SequenceStart { .. }
        ) {
            aliases.decoded = aliases.decoded.saturating_add(1);
        }
        if builder.root.is_none() && builder.stack.is_empty() {
            top_level_block_at_column_0 = matches!(event.kind, EventKind::MappingStart { flow: false, .. })
                && starts_a_line(source, event.start);
        }
        let adds_node = matches!(
            event.kind,
            EventKind::Scalar { .. }
                | EventKind::MappingStart { .. }
                | EventKind::SequenceStart { .. }
                | EventKind::Alias { .. }
        );
        let added = match event.kind {
            EventKind::Scalar {
                value,
                style,
                anchor,
                tag,
                ..
            } => {
                let style = match style {
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => ScalarKind::Quoted,
                    ScalarStyle::Literal | ScalarStyle::Folded => ScalarKind::Block,
                    ScalarStyle::Plain => ScalarKind::Plain,
                };
                if let Some(reads_kind) = reads_kind {
                    let rest = text.get(span.end..range.end).unwrap_or("");
                    let kind = certain_unread_kind(
                        &builder,
                        top_level_block_at_column_0,
                        &value,
                        style,
                        tag.is_some(),
                        reads_kind,
                        rest,
                    );
                    if kind.is_some() {
                        return Document {
                            skipped: true,
                            ..Document::without_tree(text, range, index, None)
                        };
                    }
                }
                let tag: Option<Box<str>> = tag.map(|t| tag_suffix(&t).into());
                let value = match scalar_as_kubectl_reads_it(value, style, tag.as_deref(), text, span) {
                    Ok(value) => value,
                    Err(message) => {
                        error = Some(YamlError {
                            message,
                            span,
                            kind: YamlErrorKind::Syntax,
                        });
                        break;
                    }
                };
                let anchor = define_anchor(&mut anchor_ids, &mut builder.anchors, anchor);
                builder.add(NodeKind::Scalar { value, style, tag }, span, anchor, Some(1))
            }
            EventKind::MappingStart { anchor, .. } | EventKind::SequenceStart { anchor, .. } => {
                if builder.stack.len() >= limits.max_depth {
                    // Go's JSON decoder refuses what sigs.k8s.io/yaml hands it past 10,000 levels.
                    let opening = if is_mapping { '{' } else { '[' };
                    error = Some(YamlError {
                        message: format!(
                            "error unmarshaling JSON: while decoding JSON: invalid character '{opening}' exceeded max depth"
                        ),
                        span: Span::point(span.start),
                        kind: YamlErrorKind::Syntax,
                    });
                    break;
                }
                // Settled when the collection closes (see `Builder::close`).
                let flow = false;
                let kind = if is_mapping {
                    NodeKind::Mapping {
                        entries: Children::default(),
                        flow,
                    }
                } else {
                    NodeKind::Sequence {
                        items: Children::default(),
                        flow,
                    }
                };
                let anchor = define_anchor(&mut anchor_ids, &mut builder.anchors, anchor);
                let added = builder.add(kind, span, anchor, None);
                if let Ok(id) = added {
                    // After `add`: attaching this collection may have put a pair on the stack.
                    let first_child = if is_mapping {
                        builder.open_pairs.len()
                    } else {
                        builder.open_items.len()
                    };
                    builder.stack.push(Frame {
                        id,
                        pending_key: None,
                        first_child,
                        anchor,
                        size: 1,
                    });
                }
                added
            }
            EventKind::Alias { name: anchor } => {
                match anchor_ids
                    .get(anchor)
                    .and_then(|id| builder.anchors.get(*id))
                    .copied()
                    .flatten()
                {
                    Some(Anchored { id, size: Some(size) }) => {
                        if aliases.decode_alias(size) {
                            Err("document contains excessive aliasing".to_string())
                        } else {
                            // The alias itself and what it stands for, as go-yaml decodes them.
                            builder.add(
                                NodeKind::Alias { target: id },
                                span,
                                0,
                                Some(size.saturating_add(1)),
                            )
                        }
                    }
                    Some(Anchored { size: None, .. }) => {
                        Err(format!("anchor '{anchor}' value contains itself"))
                    }
                    None => Err(format!("unknown anchor '{anchor}' referenced")),
                }
            }
            EventKind::MappingEnd | EventKind::SequenceEnd => {
                let closed = builder.stack.last().map(|frame| frame.id);
                builder.close(span);
                if let Some(Err(refused)) = closed.map(|id| builder.apply_merges(id)) {
                    error = Some(refused);
                    break;
                }
                Ok(0)
            }
            // go-yaml reads the first document of what kubectl hands it, and nothing after (`...`).
            EventKind::StreamEnd | EventKind::DocumentEnd { .. } => {
                let rest = text.get(span.end..range.end).unwrap_or("");
                unread = first_content_line(rest).map(|at| Span::point(span.end + at));
                break;
            }
            EventKind::StreamStart | EventKind::DocumentStart { .. } => Ok(0),
        };
        let refused = match added {
            Err(message) => Some(message),
            Ok(id) if adds_node => builder.kubectl_refusal(id),
            Ok(_) => None,
        };
        if let Some(message) = refused {
            error = Some(YamlError {
                message,
                span,
                kind: YamlErrorKind::Syntax,
            });
            break;
        }
    }
    // Close whatever the error left open so spans stay sensible.
    while !builder.stack.is_empty() {
        builder.close(Span::point(range.end));
    }
    Document {
        text,
        nodes: builder.nodes,
        pairs: builder.pairs,
        items: builder.items,
        root: builder.root,
        span: range,
        index,
        error,
        skipped: false,
        unread,
    }
}

/// Whether `at` starts a line of `text` (column 0: after a line break of YAML's, or at the start).
fn starts_a_line(text: &str, at: usize) -> bool {
    at == 0
        || text
            .get(..at)
            .is_some_and(|before| before.ends_with(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']))
}

/// Where the first line of `text` that holds more than blanks and a comment starts.
fn first_content_line(text: &str) -> Option<usize> {
    let mut at = 0;
    for line in text.split_inclusive(['\n', '\r']) {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if !(trimmed.trim_end().is_empty() || trimmed.starts_with('#')) {
            return Some(at + line.len() - trimmed.len());
        }
        at += line.len();
    }
    None
}

/// A node in its document, with alias resolution and YAML-1.1 scalar reading as Kubernetes does it
/// (kubectl and the API server read YAML through go-yaml v2: `yes`, `on` and `y` are `true`).
#[derive(Clone, Copy, Debug)]
pub struct NodeRef<'d> {
    doc: &'d Document<'d>,
    id: NodeId,
}

/// A key and its value in a mapping.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'d> {
    /// The key node.
    pub key: NodeRef<'d>,
    /// The value node, aliases resolved.
    pub value: NodeRef<'d>,
    /// The value node as written (an alias stays an alias), for locations.
    pub written_value: NodeRef<'d>,
}

impl<'a> Document<'a> {
    /// The document at `range` with no tree: refused (with its `error`) or read no further.
    fn without_tree(text: &'a str, range: Span, index: usize, error: Option<YamlError>) -> Self {
        Self {
            text,
            nodes: Vec::new(),
            pairs: Vec::new(),
            items: Vec::new(),
            root: None,
            span: range,
            index,
            error,
            skipped: false,
            unread: None,
        }
    }

    /// The root node, if any.
    pub fn root(&self) -> Option<NodeRef<'_>> {
        let root = self.root?;
        Some(NodeRef { doc: self, id: root }.resolved())
    }

    /// The `(key, value)` pairs of a mapping.
    pub fn entries_of(&self, entries: Children) -> &[(NodeId, NodeId)] {
        self.pairs.get(entries.range()).unwrap_or_default()
    }

    /// The items of a sequence.
    pub fn items_of(&self, items: Children) -> &[NodeId] {
        self.items.get(items.range()).unwrap_or_default()
    }

    /// The node `id`.
    pub fn node_ref(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef { doc: self, id }
    }

    fn node(&self, id: NodeId) -> Option<&Node<'a>> {
        self.nodes.get(id as usize)
    }

    /// The path of keys and indices from the root to `id`, written as in kubectl
    /// (`spec.containers[0].securityContext`, `metadata.annotations["a/b"]`).
    pub fn path_of(&self, id: NodeId) -> String {
        let mut segments: Vec<String> = Vec::new();
        let mut child = id;
        let mut guard = 0;
        while let Some(parent) = self.node(child).and_then(|n| n.parent) {
            guard += 1;
            if guard > 10_000 {
                break;
            }
            match self.node(parent).map(|n| &n.kind) {
                Some(NodeKind::Mapping { entries, .. }) => {
                    let entries = self.entries_of(*entries);
                    if let Some((key, _)) = entries.iter().find(|(k, v)| *v == child || *k == child) {
                        let name = self.node_ref(*key).as_str().unwrap_or("?");
                        let simple = !name.is_empty()
                            && name
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                        segments.push(if simple {
                            format!(".{name}")
                        } else {
                            format!("[{name:?}]")
                        });
                    }
                }
                Some(NodeKind::Sequence { items, .. }) => {
                    if let Some(i) = self.items_of(*items).iter().position(|item| *item == child) {
                        segments.push(format!("[{i}]"));
                    }
                }
                _ => {}
            }
            child = parent;
        }
        segments.reverse();
        let path = segments.concat();
        path.strip_prefix('.').map(str::to_string).unwrap_or(path)
    }
}

/// What a position points at: the innermost key or value under it.
#[derive(Clone, Copy, Debug)]
pub struct NodeAt {
    /// The value node whose key or value is under the position (its path names the field).
    pub value: NodeId,
    /// What to highlight: the key when the key is hovered, else the scalar value.
    pub span: Span,
}

impl Document<'_> {
    /// The innermost field at byte `offset`, without following aliases (their targets are elsewhere).
    pub fn node_at(&self, offset: usize) -> Option<NodeAt> {
        let mut current = self.root?;
        let mut found = None;
        loop {
            let node = self.node(current)?;
            let next = match &node.kind {
                NodeKind::Mapping { entries, .. } => self.entries_of(*entries).iter().find_map(|(k, v)| {
                    let key = self.node(*k)?;
                    let value = self.node(*v)?;
                    if key.span.contains(offset) {
                        found = Some(NodeAt {
                            value: *v,
                            span: key.span,
                        });
                        None
                    } else if value.span.contains(offset) && value.span.start < value.span.end {
                        found = Some(NodeAt {
                            value: *v,
                            span: value.span,
                        });
                        Some(*v)
                    } else {
                        None
                    }
                }),
                NodeKind::Sequence { items, .. } => self.items_of(*items).iter().copied().find(|i| {
                    self.node(*i)
                        .is_some_and(|item| item.span.contains(offset) && item.span.start < item.span.end)
                }),
                _ => None,
            };
            match next {
                Some(child) if child != current => current = child,
                _ => return found,
            }
        }
    }
}

impl<'d> NodeRef<'d> {
    /// The node's arena index.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The document it belongs to.
    pub fn document(&self) -> &'d Document<'d> {
        self.doc
    }

    /// Where the node is written.
    pub fn span(&self) -> Span {
        self.doc.node(self.id).map(|n| n.span).unwrap_or_default()
    }

    /// What the node holds.
    pub fn kind(&self) -> Option<&'d NodeKind<'d>> {
        self.doc.node(self.id).map(|n| &n.kind)
    }

    /// Follows an alias to its anchored node.
    pub fn resolved(self) -> Self {
        match self.kind() {
            Some(NodeKind::Alias { target }) => Self {
                doc: self.doc,
                id: *target,
            },
            _ => self,
        }
    }

    fn scalar(&self) -> Option<(&'d str, ScalarKind, Option<&'d str>)> {
        match self.resolved().kind() {
            Some(NodeKind::Scalar { value, style, tag }) => Some((value.as_ref(), *style, tag.as_deref())),
            _ => None,
        }
    }

    /// Whether the node is a scalar.
    pub fn is_scalar(&self) -> bool {
        self.scalar().is_some()
    }

    /// Whether the node means "absent": `null`, `~`, or nothing at all.
    pub fn is_null(&self) -> bool {
        self.scalar()
            .is_some_and(|(value, style, tag)| is_null_scalar(value, style, tag))
    }

    /// What a scalar is to Kubernetes (go-yaml v2's resolution); `None` for a collection. A tag that does
    /// not fit its text never reaches here: it is the document's error.
    pub fn resolve(&self) -> Option<Resolved> {
        let (value, style, tag) = self.scalar()?;
        Some(resolve::resolve(value, style, tag).unwrap_or(Resolved::Str))
    }

    /// The text of a non-null scalar, whatever its type (`80`, `true` and `"x"` all have text).
    pub fn as_str(&self) -> Option<&'d str> {
        if self.is_null() {
            return None;
        }
        self.scalar().map(|(value, _, _)| value)
    }

    /// The boolean a scalar resolves to, as go-yaml v2 reads it (`yes`, `on`, `!!bool "y"`).
    pub fn as_bool(&self) -> Option<bool> {
        match self.resolve()? {
            Resolved::Bool(value) => Some(value),
            _ => None,
        }
    }

    /// The integer the API server reads from a scalar, as go-yaml v2 and sigs.k8s.io/yaml hand it over:
    /// integers (`0x1F`, `010`, `1_000`), and floats that are integral (`0.0`, `8e1`, `08`, `!!float 0`), which
    /// reach it without a fraction.
    pub fn as_i64(&self) -> Option<i64> {
        self.resolve()?.as_i64()
    }

    /// The value of `key` in a mapping; the last one wins, as in JSON decoding. A `null` value counts
    /// as absent, as the API server decodes it.
    pub fn get(&self, key: &str) -> Option<NodeRef<'d>> {
        self.entry(key).map(|e| e.value)
    }

    /// The entry of `key` in a mapping (see [`NodeRef::get`]).
    pub fn entry(&self, key: &str) -> Option<Entry<'d>> {
        // The checks' hot path: look from the end (the last duplicate wins) at the keys' text directly.
        let Some(NodeKind::Mapping { entries, .. }) = self.resolved().kind() else {
            return None;
        };
        let doc = self.doc;
        let (k, v) = doc.entries_of(*entries).iter().rev().find(|(k, _)| {
            matches!(doc.node(*k).map(|n| &n.kind), Some(NodeKind::Scalar { value, .. }) if value == key)
                && !doc.node_ref(*k).is_null()
        })?;
        let entry = Entry {
            key: NodeRef { doc, id: *k },
            value: NodeRef { doc, id: *v }.resolved(),
            written_value: NodeRef { doc, id: *v },
        };
        (!entry.value.is_null()).then_some(entry)
    }

    /// The entries of a mapping in source order (nothing for other nodes).
    pub fn entries(self) -> impl Iterator<Item = Entry<'d>> + 'd {
        let doc = self.doc;
        let entries: &'d [(NodeId, NodeId)] = match self.resolved().kind() {
            Some(NodeKind::Mapping { entries, .. }) => doc.entries_of(*entries),
            _ => &[],
        };
        entries.iter().map(move |(k, v)| Entry {
            key: NodeRef { doc, id: *k },
            value: NodeRef { doc, id: *v }.resolved(),
            written_value: NodeRef { doc, id: *v },
        })
    }

    /// The entries written in this mapping itself, in source order: [`NodeRef::entries`] without those a
    /// `<<` merge key brought in (which are written elsewhere). Edits place new text among these.
    pub fn written_entries(self) -> impl Iterator<Item = Entry<'d>> + 'd {
        let mapping = self.resolved().id;
        let doc = self.doc;
        self.entries()
            .filter(move |e| doc.node(e.key.id).and_then(|n| n.parent) == Some(mapping))
    }

    /// The collection this node is written in.
    pub fn parent(&self) -> Option<NodeRef<'d>> {
        let parent = self.doc.node(self.id)?.parent?;
        Some(NodeRef {
            doc: self.doc,
            id: parent,
        })
    }

    /// The items of a sequence, aliases resolved (nothing for other nodes).
    pub fn items(self) -> impl Iterator<Item = NodeRef<'d>> + 'd {
        let doc = self.doc;
        let items: &'d [NodeId] = match self.resolved().kind() {
            Some(NodeKind::Sequence { items, .. }) => doc.items_of(*items),
            _ => &[],
        };
        items.iter().map(move |id| NodeRef { doc, id: *id }.resolved())
    }

    /// Whether the node is a mapping.
    pub fn is_mapping(&self) -> bool {
        matches!(self.resolved().kind(), Some(NodeKind::Mapping { .. }))
    }

    /// Whether the node is a sequence.
    pub fn is_sequence(&self) -> bool {
        matches!(self.resolved().kind(), Some(NodeKind::Sequence { .. }))
    }

    /// The node as a mapping, or `None`.
    pub fn as_mapping(self) -> Option<Self> {
        self.is_mapping().then_some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Stream<'_> {
        parse_stream(text, &Limits::default())
    }

    #[test]
    fn spans_are_bytes_even_after_non_ascii() {
        let text = "ключ: значение\nb: 1\n";
        let stream = parse(text);
        let root = stream.documents[0].root().unwrap();
        let b = root.entry("b").unwrap();
        assert_eq!(&text[b.key.span().start..b.value.span().end], "b: 1");
    }

    #[test]
    fn spans_are_bytes_after_a_reserved_directive_with_non_ascii_parameters() {
        // Found by fuzzing with saphyr-parser, which counted such a line in bytes. go-yaml v2 and libyaml refuse
        // a reserved directive (`%FOO`), and any control character such as U+0005; the error is located.
        let text = "# cü\n%FOO pärämeter 🚀 # ü\r\n%YAML 1.2\n---\n{a: ü, b: 1}\n";
        let error = parse(text).documents[0].error.clone().unwrap();
        assert_eq!(error.message, "found unknown directive name");
        assert!(text[error.span.start..].starts_with(" pärämeter"));
        let text = "# c\u{5}ü\n{a: 1}\n";
        let error = parse(text).documents[0].error.clone().unwrap();
        assert_eq!(error.message, "control characters are not allowed");
        assert_eq!(&text[error.span.start..], "\u{5}ü\n{a: 1}\n");
        // Non-ASCII comments and a directive before the content keep spans exact. (A directive is a piece of
        // its own to kubectl, which go-yaml refuses: the document after it is the second.)
        let text = "# cü 🚀\r\n%YAML 1.1\n---\n{a: ü, b: 1}\n";
        let stream = parse(text);
        let error = stream.documents[0].error.clone().unwrap();
        assert_eq!(error.message, "did not find expected <document start>");
        let root = stream.documents[1].root().unwrap();
        assert_eq!(&text[root.span().start..root.span().end], "{a: ü, b: 1}");
        let b = root.entry("b").unwrap();
        assert_eq!(&text[b.key.span().start..b.value.span().end], "b: 1");
        // A lone CR ends a comment line: what follows is content, and a `%` line after it is not a
        // directive but the rest of a plain scalar, counted in characters like any other.
        let text = "# c\rab\n%BAR ✓\nc\0";
        let error = parse(text).documents[0].error.clone().unwrap();
        assert_eq!(&text[error.span.start..], "\0");
    }

    #[test]
    fn reads_what_go_yaml_v2_reads() {
        // A flow sequence closed at its key's column, and a quoted scalar continued at its key's column:
        // both in widely applied manifests, both read by libyaml and go-yaml v2 (not by YAML 1.2 parsers).
        let text = "spec:\r\n  args: [\r\n    \"--flag=ü\",\r\n  ]\r\n  note: \"a long 🚀 value\r\n  at the key's column\"\r\n  b: 1\r\n";
        let stream = parse(text);
        let document = &stream.documents[0];
        assert_eq!(document.error, None);
        let spec = document.root().unwrap().get("spec").unwrap();
        let args = spec.get("args").unwrap();
        assert_eq!(
            &text[args.span().start..args.span().end],
            "[\r\n    \"--flag=ü\",\r\n  ]"
        );
        let flag = args.items().next().unwrap();
        assert_eq!(flag.as_str(), Some("--flag=ü"));
        assert_eq!(&text[flag.span().start..flag.span().end], "\"--flag=ü\"");
        let note = spec.entry("note").unwrap();
        assert_eq!(note.value.as_str(), Some("a long 🚀 value at the key's column"));
        assert!(text[note.value.span().start..note.value.span().end].ends_with("column\""));
        let b = spec.entry("b").unwrap();
        assert_eq!(&text[b.key.span().start..b.value.span().end], "b: 1");
        // A tag before a comma in a flow collection (libyaml-safer 0.3.0 panicked on it): go-yaml v2 reads the
        // comma as part of the tag, and wants a space after it.
        let stream = parse("a: [!!str , b, !!str, c]\n");
        let a = stream.documents[0].root().unwrap().get("a").unwrap();
        assert_eq!(
            a.items().filter_map(|i| i.as_str()).collect::<Vec<_>>(),
            ["", "b", "c"]
        );
        assert!(parse("a: [!!str,c]\n").documents[0].error.is_some());
        // go-yaml v2, not libyaml 0.2.5: `%YAML 1.1` only, `?` ends a plain scalar in flow context, `[a:]`
        // reads, `\'` is an escape and `\/` is not.
        // (Only CR line breaks keep a directive with its document: kubectl cuts at every `---` line.)
        assert!(parse("%YAML 1.2\r---\ra: 1\r").documents[0].error.is_some());
        assert!(parse("%YAML 1.1\r---\ra: 1\r").documents[0].error.is_none());
        assert!(parse("%YAML 1.1\n---\na: 1\n").documents[0].error.is_some());
        let stream = parse("a: [x:, \"\\'\"]\n");
        let a = stream.documents[0].root().unwrap().get("a").unwrap();
        assert_eq!(
            a.items().filter_map(|i| i.as_str()).collect::<Vec<_>>(),
            ["x:", "'"]
        );
        assert!(parse("a: \"\\/\"\n").documents[0].error.is_some());
        // Still refused as go-yaml v2 refuses it: a tab as indentation, a reserved directive.
        assert!(parse("a:\n\t- b\n").documents[0].error.is_some());
        // An anchor defined again stands for its last definition, as in go-yaml v2.
        let stream = parse("a: &x 1\nb: &x 2\nc: *x\n");
        assert_eq!(
            stream.documents[0].root().unwrap().get("c").unwrap().as_i64(),
            Some(2)
        );
    }

    #[test]
    fn values_are_what_kubectl_sends() {
        // sigs.k8s.io/yaml writes an integral float without its fraction: the API server reads an integer.
        let text = "a: 0.0\nb: 0e0\nc: .0\nd: -0.0\ne: !!float 0\nf: 80.0\ng: 8e1\nh: 08\ni: 1.5\nj: \"0\"\nk: _0\nl: 0_1\n";
        let stream = parse(text);
        let root = stream.documents[0].root().unwrap();
        let int = |key: &str| root.get(key).unwrap().as_i64();
        for zero in ["a", "b", "c", "d", "e"] {
            assert_eq!(int(zero), Some(0), "{zero}");
        }
        for port in ["f", "g"] {
            assert_eq!(int(port), Some(80), "{port}");
        }
        assert_eq!(int("h"), Some(8));
        assert_eq!(int("i"), None);
        assert_eq!(int("j"), None);
        // `_` starts a string in go-yaml; after a digit it is dropped.
        assert_eq!(int("k"), None);
        assert_eq!(root.get("k").unwrap().as_str(), Some("_0"));
        assert_eq!(int("l"), Some(1));
        // A float keeps its text and its span (fixes edit what is written).
        let a = root.entry("a").unwrap();
        assert_eq!(a.value.as_str(), Some("0.0"));
        assert_eq!(&text[a.value.span().start..a.value.span().end], "0.0");
    }

    #[test]
    fn binary_keys_and_values_are_decoded_and_bang_merges() {
        let text = "!!binary cHJpdmlsZWdlZA==: true\nb: !!binary |\n  cHJpdmls\n  ZWdlZA==\n";
        let stream = parse(text);
        let root = stream.documents[0].root().unwrap();
        let privileged = root.entry("privileged").unwrap();
        assert_eq!(privileged.value.as_bool(), Some(true));
        assert_eq!(
            &text[privileged.key.span().start..privileged.key.span().end],
            "cHJpdmlsZWdlZA=="
        );
        assert_eq!(root.get("b").unwrap().as_str(), Some("privileged"));
        let error = parse("a: !!binary cHJ\nb: 1\n").documents[0]
            .error
            .clone()
            .unwrap();
        assert_eq!(error.message, "!!binary value contains invalid base64 data");
        assert_eq!(error.span.start, 12);
        // `!` makes any scalar implicit: `! <<` and `! "<<"` merge; a local tag does not.
        let text = "base: &b {privileged: true}\nc:\n  ! <<: *b\nd:\n  ! \"<<\": *b\ne: {!foo <<: *b}\n";
        let stream = parse(text);
        let root = stream.documents[0].root().unwrap();
        for merged in ["c", "d"] {
            assert_eq!(
                root.get(merged).unwrap().get("privileged").unwrap().as_bool(),
                Some(true),
                "{merged}"
            );
        }
        assert!(root.get("e").unwrap().get("privileged").is_none());
        // A tag go-yaml resolves nothing with: `!int 0` is a string.
        let stream = parse("a: !int 0\nb: ! 0\n");
        let root = stream.documents[0].root().unwrap();
        assert_eq!(root.get("a").unwrap().as_i64(), None);
        assert_eq!(root.get("b").unwrap().as_i64(), None);
    }

    #[test]
    fn a_tag_that_does_not_fit_its_text_is_go_yaml_s_error() {
        for (text, message) in [
            ("a: !!int abc\n", "cannot decode !!str `abc` as a !!int"),
            ("a: !!bool 1\n", "cannot decode !!int `1` as a !!bool"),
            ("a: !!int 0.5\n", "cannot decode !!float `0.5` as a !!int"),
        ] {
            let error = parse(text).documents[0].error.clone().unwrap();
            assert_eq!(error.message, message);
            // At the value as written, after its tag.
            assert_eq!(error.span.start, text.rfind(' ').unwrap() + 1, "{text}");
        }
    }

    #[test]
    fn keys_and_values_json_cannot_hold_are_kubectl_s_error() {
        let prefix = "error converting YAML to JSON: ";
        for (text, message, at) in [
            (
                "~: 1\n",
                "Unsupported map key of type: %!s(<nil>), key: <nil>",
                "~",
            ),
            (
                "a: 0\n? \n: 2\n",
                "Unsupported map key of type: %!s(<nil>), key: <nil>",
                " \n: 2",
            ),
            ("? [a]\n: 1\n", "yaml: invalid map key: a sequence", "[a]"),
            ("{? {a: 1} : 1}\n", "yaml: invalid map key: a mapping", "{a: 1}"),
            (
                "9223372036854775808: 1\n",
                "Unsupported map key of type: uint64, key: 0x8000000000000000",
                "9",
            ),
            ("a: .inf\n", "json: unsupported value: +Inf", ".inf"),
            ("a: [x, -.Inf]\n", "json: unsupported value: -Inf", "-.Inf"),
            ("a: &n .nan\nb: *n\n", "json: unsupported value: NaN", ".nan"),
        ] {
            let error = parse(text).documents[0].error.clone().unwrap();
            assert_eq!(error.message, format!("{prefix}{message}"), "{text:?}");
            assert_eq!(error.kind, YamlErrorKind::Syntax);
            assert_eq!(error.span.start, text.find(at).unwrap(), "{text:?}");
        }
        // JSON holds these: float, boolean and integer keys become strings.
        for text in [".inf: 1\n", "1.5: a\nyes: b\n0x10: c\n", "a: 1e308\n"] {
            assert_eq!(parse(text).documents[0].error, None, "{text:?}");
        }
    }

    #[test]
    fn a_block_scalar_on_the_last_line_gets_kubectl_s_line_break() {
        // kubectl's line reader ends every line with `\n`, the file's last one too.
        for (text, value) in [
            ("a: |\n  x", "x\n"),
            ("a: |+\n  x", "x\n"),
            ("a: |-\n  x", "x"),
            ("a: >\n  x\n  y", "x y\n"),
            ("a: |\n  x\n  ", "x\n"),
            ("a: |+\n  x\n  ", "x\n\n"),
            ("a: |\n  x\n", "x\n"),
            ("a: |\n  x\nb: 1", "x\n"),
        ] {
            let stream = parse(text);
            let root = stream.documents[0].root().unwrap();
            assert_eq!(root.get("a").unwrap().as_str(), Some(value), "{text:?}");
        }
    }

    /// Bytes the mutation tests put anywhere into their seeds.
    const MUTATIONS: &[&str] = &[
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "-",
        "?",
        "!",
        "!!str",
        "&a",
        "*a",
        "'",
        "\"",
        "\\",
        "|",
        ">",
        "#",
        "%YAML 1.1\n",
        "%TAG ! x\n",
        "---",
        "...",
        "ü",
        "🚀",
        "\u{2028}",
        "\u{85}",
        "<<: *a\n",
        "  ",
        "\u{feff}",
        "%",
        "@",
        "`",
    ];

    /// `rounds` mutants of `seeds` (a fixed seed): each has one to six ranges of up to three bytes replaced by
    /// one of `pieces`, on character boundaries.
    fn mutants(seeds: &[&str], pieces: &[&str], rounds: usize) -> Vec<String> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound.max(1) as u64) as usize
        };
        (0..rounds)
            .map(|_| {
                let mut text = seeds[next(seeds.len())].to_string();
                for _ in 0..1 + next(6) {
                    let mut at = next(text.len() + 1);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    let mut end = (at + next(4)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, pieces[next(pieces.len())]);
                }
                text
            })
            .collect()
    }

    /// Rounds of the mutation tests: `PODSEC_YAML_STRESS=N` for more.
    fn stress_rounds() -> usize {
        std::env::var("PODSEC_YAML_STRESS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(3_000)
    }

    /// The parser is vendored C-turned-Rust: mutate the lenient shapes and the fixtures at random (a fixed
    /// seed; `PODSEC_YAML_STRESS=N` for more rounds) and require every mutant to be read without a panic, with
    /// every span and error on character boundaries.
    #[test]
    fn mutated_yaml_never_panics() {
        let seeds = [
            include_str!("../../../tests/yaml-leniency/indentation.yaml"),
            include_str!("../../../tests/yaml-leniency/scalars.yaml"),
            include_str!("../../../tests/yaml-leniency/structure.yaml"),
            include_str!("../../../tests/data/multi.yaml"),
            include_str!("../../../tests/data/crlf-flow.yaml"),
            // kubectl's reading: values it converts, its splitter and stop, a JSON stream.
            include_str!("../../../fuzz/seeds/kubectl-values.yaml"),
            include_str!("../../../fuzz/seeds/kubectl-stop.yaml"),
            include_str!("../../../fuzz/seeds/json-stream.json"),
        ];
        for text in mutants(&seeds, MUTATIONS, stress_rounds()) {
            for document in parse(&text).documents {
                for span in document
                    .nodes
                    .iter()
                    .map(|n| n.span)
                    .chain(document.error.map(|e| e.span))
                {
                    assert!(
                        span.start <= span.end
                            && text.is_char_boundary(span.start)
                            && text.is_char_boundary(span.end),
                        "{span:?} in {text:?}: {:?}",
                        text.as_bytes().get(span.start.saturating_sub(30)..span.end + 5)
                    );
                }
            }
        }
    }

    /// The cut as it was written first, a line at a time: the oracle of the cut eight bytes at a time.
    fn split_line_by_line(text: &str) -> Vec<Span> {
        let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut ranges = Vec::new();
        let mut current = start;
        let mut current_has_content = false;
        let mut line_start = start;
        while line_start < text.len() {
            let rest = &text[line_start..];
            let line_len = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = &rest[..line_len];
            let next = line_start + line_len;
            if line.starts_with("---") {
                let bad = bad_separator(line).is_some();
                if bad && kubectl_buffer_empty_at(text, start, line_start) {
                    ranges.push(Span::point(line_start));
                    current = next;
                } else if current_has_content || bad {
                    ranges.push(Span::new(current, line_start));
                    current = line_start;
                }
                current_has_content = !bad;
            } else if !current_has_content {
                let trimmed = line.trim_start();
                current_has_content = !(trimmed.is_empty() || trimmed.starts_with('#'));
            }
            line_start = next;
        }
        if current_has_content {
            ranges.push(Span::new(current, text.len()));
        }
        ranges
    }

    #[test]
    fn documents_are_cut_eight_bytes_at_a_time_as_line_by_line() {
        let seeds = [
            include_str!("../../../tests/data/multi.yaml"),
            include_str!("../../../tests/data/crlf-flow.yaml"),
            "\u{feff}# c\n%YAML 1.1\n---\na: 1\n...\n---\nb: 2\n--- x\n...\n",
        ];
        let mut texts = mutants(&seeds, MUTATIONS, stress_rounds());
        // Every line break and marker at every offset around the eight-byte words.
        for pad in 0..17 {
            for tail in [
                "---",
                "---\n",
                "...",
                "...\n",
                "--- a\n",
                "\n",
                "a\n---x\n",
                "\r---\n",
            ] {
                texts.push(format!("{}\n{tail}b: 1\n---\nc", "a".repeat(pad)));
                texts.push(format!("{tail}{}", "\n".repeat(pad)));
            }
        }
        for text in &texts {
            assert_eq!(split_documents(text), split_line_by_line(text), "{text:?}");
        }
    }

    #[test]
    fn line_starts_follow_every_line_break_eight_bytes_at_a_time() {
        for pad in 0..20 {
            let text = format!(
                "{}\n{}\r\n{}\r{}\n",
                "a".repeat(pad),
                "b".repeat(pad / 2),
                "c",
                "d".repeat(pad)
            );
            let bytes = text.as_bytes();
            let expected = |with_cr: bool| {
                (0..bytes.len())
                    .filter(|i| bytes[*i] == b'\n' || (with_cr && bytes[*i] == b'\r'))
                    .map(|i| i + 1)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                LineStarts::new(bytes, 0, false).collect::<Vec<_>>(),
                expected(false)
            );
            assert_eq!(
                LineStarts::new(bytes, 0, true).collect::<Vec<_>>(),
                expected(true)
            );
            let from = pad.min(bytes.len());
            let after: Vec<_> = expected(true).into_iter().filter(|at| *at > from).collect();
            assert_eq!(LineStarts::new(bytes, from, true).collect::<Vec<_>>(), after);
        }
    }

    /// The kind of a document as the whole tree gives it (what every reader of kinds looks at).
    fn top_level_kind(document: &Document<'_>) -> Option<String> {
        document
            .root()
            .and_then(|root| root.get("kind"))
            .and_then(|kind| kind.as_str())
            .map(str::to_string)
    }

    /// Documents that look like a CustomResourceDefinition but whose kind the first `kind` entry does not
    /// settle, each beside a document that is skipped.
    const NOT_CERTAIN: &[&str] = &[
        // A duplicate `kind` later in the document: the last one wins.
        "apiVersion: v1\nkind: ConfigMap\nspec:\n  a: 1\nkind: Pod\nspec:\n  containers: []\n",
        // The same, quoted, tagged, anchored, as an explicit key, as a block scalar key.
        "kind: ConfigMap\nspec: {}\n\"kind\": Pod\n",
        "kind: ConfigMap\nspec: {}\n'kind': Pod\n",
        "kind: ConfigMap\nspec: {}\n\"k\\x69nd\": Pod\n",
        "kind: ConfigMap\nspec: {}\n!!str kind: Pod\n",
        "kind: ConfigMap\nspec: {}\n&a kind: Pod\n",
        "kind: ConfigMap\nspec: {}\n? kind\n: Pod\n",
        "kind: ConfigMap\nspec: {}\n? |-\n  kind\n: Pod\n",
        // After a lone CR, a NEL or a line separator, which are line breaks to YAML 1.1.
        "kind: ConfigMap\rkind: Pod\n",
        "kind: ConfigMap\u{85}kind: Pod\n",
        "kind: ConfigMap\u{2028}kind: Pod\n",
        // A BOM at a line's start, which the reader skips (as go-yaml).
        "kind: ConfigMap\n\u{feff}kind: Pod\n",
        // A tagged, aliased, null or block value: not taken as certain.
        "kind: !!str ConfigMap\n",
        "a: &k ConfigMap\nkind: *k\n",
        "kind: ~\n",
        "kind: |-\n  ConfigMap\n",
        // A tagged key that is null, so not `kind` at all, then the real one.
        "!!null kind: ConfigMap\nkind: Pod\n",
        // Flow style, and a block mapping that does not start at column 0.
        "{kind: ConfigMap, spec: {}, kind: Pod}\n",
        "  kind: ConfigMap\n  spec: {}\n  kind: Pod\n",
    ];

    #[test]
    fn a_document_is_skipped_only_when_the_whole_tree_gives_its_kind() {
        let reads_pods = |kind: &str| kind == "Pod";
        let skipped_kinds = |text: &str| -> Vec<Option<String>> {
            document_ranges(text, &Limits::default())
                .into_iter()
                .enumerate()
                .filter_map(|(index, range)| {
                    let limits = Limits::default();
                    let skipped = read_document_if(text, index, range, &limits, &reads_pods)?.skipped;
                    skipped.then(|| top_level_kind(&read_document(text, index, range, &limits).unwrap()))
                })
                .collect()
        };
        // Certain: plain, quoted, after a comment or a deeper `kind`, CRLF, and a syntax error after the kind.
        let certain = [
            "apiVersion: v1\nkind: ConfigMap\nspec:\n  kind: Pod\n  x:\n    - kind: Pod\n",
            "\"kind\": 'ConfigMap'\n# kind: Pod\nmetadata:\n  name: a\n",
            "apiVersion: v1\r\nkind: ConfigMap\r\nspec:\r\n  kind: Pod\r\n",
            "kind: CustomResourceDefinition\nspec: [\n",
            // The kind after a large spec: read up to it, which is the whole document.
            "spec:\n  a: 1\n  b: [1, 2]\nkind: ConfigMap\n",
        ];
        for text in certain {
            let kinds = skipped_kinds(text);
            assert_eq!(kinds.len(), 1, "{text:?}");
            let full = read_document(
                text,
                0,
                document_ranges(text, &Limits::default())[0],
                &Limits::default(),
            );
            let full = full.unwrap();
            assert!(
                full.error.is_some() || kinds[0].as_deref().is_some_and(|k| k != "Pod"),
                "{text:?}"
            );
        }
        for text in NOT_CERTAIN {
            assert_eq!(skipped_kinds(text), Vec::<Option<String>>::new(), "{text:?}");
        }
        // Mutants of both, with the characters of the tricky shapes anywhere: whatever is skipped either does not
        // read, or has a kind that is not read.
        let mut seeds: Vec<&str> = certain.to_vec();
        seeds.extend(NOT_CERTAIN);
        let pieces: Vec<&str> = MUTATIONS
            .iter()
            .copied()
            .chain([
                "kind",
                "\nkind: Pod\n",
                "Pod",
                "k",
                "\n\"kind\": Pod",
                "\n? kind\n: Pod",
                "\\x69",
            ])
            .collect();
        let (mut skipped, mut read) = (0, 0);
        for text in mutants(&seeds, &pieces, stress_rounds() * 3) {
            for (index, range) in document_ranges(&text, &Limits::default()).into_iter().enumerate() {
                let limits = Limits::default();
                let Some(document) = read_document_if(&text, index, range, &limits, &reads_pods) else {
                    assert!(read_document(&text, index, range, &limits).is_none(), "{text:?}");
                    continue;
                };
                let full = read_document(&text, index, range, &limits).unwrap();
                if document.skipped {
                    skipped += 1;
                    let kind = top_level_kind(&full);
                    assert!(
                        full.error.is_some() || kind.as_deref().is_some_and(|k| !reads_pods(k)),
                        "{text:?}"
                    );
                } else {
                    // Not skipped: read exactly as without a reader of kinds.
                    read += 1;
                    assert_eq!(document.nodes.len(), full.nodes.len(), "{text:?}");
                    assert_eq!(document.error, full.error, "{text:?}");
                    assert_eq!(top_level_kind(&document), top_level_kind(&full), "{text:?}");
                }
            }
        }
        // Both ways are taken often, so the property is tested on each.
        assert!(skipped > 1_000 && read > 1_000, "{skipped} skipped, {read} read");
    }

    #[test]
    fn spans_stay_exact_across_the_readers_chunks() {
        // The reader decodes 16 KiB at a time: characters of every width straddle the chunk ends.
        for pad in 0..4 {
            let long = format!("{}{}", "x".repeat(pad), "ü🚀€".repeat(3_000));
            let text = format!("a: \"{long}\"\r\nb: {long}\r\nc: 1\r\n");
            let stream = parse(&text);
            let root = stream.documents[0].root().unwrap();
            assert_eq!(root.get("a").unwrap().as_str(), Some(long.as_str()));
            let b = root.entry("b").unwrap();
            assert_eq!(&text[b.value.span().start..b.value.span().end], long);
            let c = root.entry("c").unwrap();
            assert_eq!(&text[c.key.span().start..c.value.span().end], "c: 1");
        }
    }

    #[test]
    fn a_block_scalars_indentation_may_straddle_the_readers_chunks() {
        // The indentation of a block scalar's line is skipped a run of spaces at a time; a run cut by the end
        // of a 16 KiB chunk must go on in the next one (a real dashboards ConfigMap once read as a syntax
        // error there).
        for pad in 0..12 {
            for header in ["|", ">", "|2", "|-", ">+"] {
                let head = format!("a: {header}\n");
                let first = "x".repeat(16_384 - head.len() - 3 - pad);
                let text = format!("{head}  {first}\n          y\n\n   \n  z\nb: 1\n");
                let stream = parse(&text);
                let root = stream.documents[0].root();
                let root = root.unwrap_or_else(|| panic!("{pad} {header}: {:?}", stream.documents[0].error));
                let value = root.get("a").unwrap().as_str().unwrap().to_string();
                assert!(value.contains("        y"), "{pad} {header}: {value:?}");
                assert_eq!(root.get("b").unwrap().as_i64(), Some(1), "{pad} {header}");
            }
        }
    }

    #[test]
    fn a_syntax_error_costs_only_its_document() {
        let text = "a: 1\n---\nb: c: d\n---\ne: 2\n";
        let stream = parse(text);
        assert_eq!(stream.documents.len(), 3);
        assert!(stream.documents[0].error.is_none());
        let error = stream.documents[1].error.as_ref().unwrap();
        assert_eq!(error.kind, YamlErrorKind::Syntax);
        assert_eq!(&text[error.span.start..], ": d\n---\ne: 2\n");
        assert_eq!(
            stream.documents[2].root().unwrap().get("e").unwrap().as_i64(),
            Some(2)
        );
    }

    #[test]
    fn documents_split_at_markers_only_at_column_zero() {
        let text = "# head\n%YAML 1.1\n---\na: |\n  ---\n...\n# tail\n---\nb: 1\n";
        let stream = parse(text);
        // kubectl's pieces: the directive alone (go-yaml refuses it), `a`, `b`; `...` cuts nothing.
        assert_eq!(stream.documents.len(), 3);
        assert!(stream.documents[0].error.is_some());
        assert_eq!(
            stream.documents[1].root().unwrap().get("a").unwrap().as_str(),
            Some("---\n")
        );
        assert_eq!(stream.documents[1].unread, None);
        assert_eq!(
            stream.documents[2].root().unwrap().get("b").unwrap().as_i64(),
            Some(1)
        );
    }

    #[test]
    fn documents_are_cut_as_kubectl_cuts_them() {
        // `---#c` separates; `...` does not, and what follows it in the piece is never read.
        let text = "a: 1\n---#c\nb: 2\n...\nc: 3\n---\nd: 4\n";
        let stream = parse(text);
        let keys: Vec<_> = stream
            .documents
            .iter()
            .map(|d| d.root().unwrap().entries().next().unwrap().key.as_str().unwrap())
            .collect();
        assert_eq!(keys, ["a", "b", "d"]);
        assert_eq!(
            stream.documents[1].unread,
            Some(Span::point(text.find("c: 3").unwrap()))
        );
        // A separator followed by content is kubectl's error, which loses the document before it; the
        // next document is read from the line after it.
        for (text, after) in [
            ("a: 1\n--- {b: 2}\nc: 3\n", "{b: 2}"),
            ("a: 1\n--- |\n  x\nc: 3\n", "|"),
            ("a: 1\n--- !!map\nc: 3\n", "!!map"),
            ("a: 1\n----\nc: 3\n", "-"),
        ] {
            let stream = parse(text);
            let error = stream.documents[0].error.clone().unwrap();
            assert_eq!(error.message, format!("invalid Yaml document separator: {after}"));
            assert_eq!(&text[error.span.start..error.span.end], after);
            assert_eq!(stream.documents[0].span, Span::new(0, 5));
            let next = &stream.documents[1];
            assert_eq!(next.span.start, 5, "{text:?}");
            assert!(
                next.error.is_none() || text.contains('|'),
                "{text:?}: {:?}",
                next.error
            );
        }
        // When kubectl holds nothing (at the start, or right after a cut), the error is the line's own and the
        // next document starts after it.
        for text in ["--- {a: 1}\nb: 2\n", "a: 1\n---\n--- {a: 1}\nb: 2\n"] {
            let stream = parse(text);
            let bad = text.find("--- {").unwrap();
            let error = stream.documents.iter().find(|d| d.error.is_some()).unwrap();
            assert_eq!(error.span, Span::point(bad));
            let last = stream.documents.last().unwrap();
            assert_eq!(last.span.start, bad + "--- {a: 1}\n".len());
            assert_eq!(last.root().unwrap().get("b").unwrap().as_i64(), Some(2));
        }
        // A separator that starts kubectl's piece is read by go-yaml: `---#c` is then a plain scalar.
        let error = parse("---#c\nb: 2\n").documents[0].error.clone().unwrap();
        assert_eq!(error.message, "mapping values are not allowed in this context");
        let stream = parse("a: 1\n---#c\nb: 2\n");
        assert_eq!(
            stream.documents[1].root().unwrap().get("b").unwrap().as_i64(),
            Some(2)
        );
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut previous = "a";
        for name in names {
            text.push_str(&format!("{name}: &{name} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"));
            previous = name;
        }
        let stream = parse(&text);
        let error = stream.documents[0].error.as_ref().unwrap();
        // go-yaml's own guard, which stops kubectl: a syntax error (kubectl's), at the alias where it trips.
        assert_eq!(error.kind, YamlErrorKind::Syntax);
        assert_eq!(error.message, "document contains excessive aliasing");
        assert_eq!(&text[error.span.start..error.span.start + 3], "*c,");
    }

    #[test]
    fn aliases_follow_go_yaml_s_rule_to_its_edge() {
        // 1,000 nodes behind the anchor: go-yaml allows 110 aliases to it and refuses the 111th (99% of the
        // decoded nodes through aliases); podsec reads the one and refuses the other, at that alias.
        let text_with = |aliases: usize| {
            format!(
                "a: &a [{}]\nb: [{}]\n",
                vec!["x"; 1000].join(", "),
                vec!["*a"; aliases].join(", ")
            )
        };
        let allowed = text_with(110);
        let stream = parse(&allowed);
        assert_eq!(stream.documents[0].error, None);
        assert_eq!(
            stream.documents[0]
                .root()
                .unwrap()
                .get("b")
                .unwrap()
                .items()
                .count(),
            110
        );
        let refused = text_with(111);
        let error = parse(&refused).documents[0].error.clone().unwrap();
        assert_eq!(error.message, "document contains excessive aliasing");
        assert_eq!(error.span.start, refused.rfind("*a").unwrap());
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        // kubectl's limits, at their edges: 10,000 levels read (no recursion anywhere), 10,001 do not.
        let at_the_edge = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(parse(&at_the_edge(10_000)).documents[0].error, None);
        let error = parse(&at_the_edge(10_001)).documents[0].error.clone().unwrap();
        assert_eq!(
            (error.kind, error.message.as_str()),
            (YamlErrorKind::Syntax, "exceeded max depth of 10000")
        );
        let error = parse(&"[".repeat(100_000)).documents[0].error.clone().unwrap();
        assert_eq!(error.message, "exceeded max depth of 10000");
        // Block indentation: go-yaml's scanner counts it apart.
        let items = |depth: usize| format!("{}x\n", "- ".repeat(depth));
        assert_eq!(parse(&items(10_000)).documents[0].error, None);
        let error = parse(&items(10_001)).documents[0].error.clone().unwrap();
        assert_eq!(error.message, "exceeded max depth of 10000");
        // Mixed: each under 10,000, together past the 10,000 levels Go's JSON decoder takes.
        let mixed = |depth: usize| format!("a: {}1{}\n", "{b: ".repeat(depth), "}".repeat(depth));
        assert_eq!(parse(&mixed(9_999)).documents[0].error, None);
        let error = parse(&mixed(10_000)).documents[0].error.clone().unwrap();
        assert_eq!(
            error.message,
            "error unmarshaling JSON: while decoding JSON: invalid character '{' exceeded max depth"
        );
        // Deep block mappings read too (1,000 levels was podsec's own limit before).
        let block: String = (0..2_000)
            .map(|depth| format!("{}a:\n", " ".repeat(depth)))
            .collect();
        assert_eq!(parse(&block).documents[0].error, None);
    }

    #[test]
    fn a_text_may_start_with_any_character_go_yaml_reads() {
        // The libyaml port took a first byte EF for a broken byte order mark (U+F000 to U+FFFF: fullwidth
        // letters among them); go-yaml reads the text (found by the differential fuzzer).
        let stream = parse("Ａ: 1\n");
        assert_eq!(stream.documents[0].error, None);
        assert_eq!(
            stream.documents[0].root().unwrap().get("Ａ").unwrap().as_str(),
            Some("1")
        );
    }

    #[test]
    fn a_key_left_open_on_the_last_line_is_go_yaml_s_error() {
        // The `{` at column 0 must be a key of the top-level mapping; the text ends before its `:` (found by the
        // differential fuzzer: the reader handed its tokens on instead).
        let text = "a: 0\n{\"b\": 1";
        let error = parse(text).documents[0].error.clone().unwrap();
        assert_eq!(error.message, "could not find expected ':'");
        // At the key, where the mistake is (go-yaml names the line where it gave up).
        assert_eq!(error.span, Span::new(5, text.len()));
    }

    #[test]
    fn deeply_nested_flow_collections_cost_linear_time() {
        // Every level's key stays possible on one line; the reader looks at them from the oldest only.
        let text = format!("a: {}{}\n", "[".repeat(9_999), "]".repeat(9_999));
        let started = std::time::Instant::now();
        assert_eq!(parse(&text).documents[0].error, None);
        assert!(started.elapsed().as_secs_f64() < 2.0, "{:?}", started.elapsed());
    }

    #[test]
    fn many_entries_deep_in_flow_collections_cost_linear_time() {
        // libyaml visits every flow level's simple key on every token; the reader stops once it has seen
        // the possible ones (this took seconds, now milliseconds).
        let text = format!("{}{}{}", "[".repeat(999), "a, ".repeat(200_000), "]".repeat(999));
        let started = std::time::Instant::now();
        let stream = parse(&text);
        assert!(stream.documents[0].error.is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn too_many_or_too_large_documents_are_refused_with_a_clear_error() {
        let limits = Limits {
            max_documents: 3,
            max_document_bytes: 40,
            ..Limits::default()
        };
        let text = "a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n---\ne: 5\n";
        let stream = parse_stream(text, &limits);
        assert_eq!(stream.documents.len(), 4);
        let error = stream.documents[3].error.as_ref().unwrap();
        assert_eq!(
            error.message,
            "more than 3 documents in one file; the rest are not read"
        );
        let big = format!("a: {}\n---\nb: 1\n", "x".repeat(100));
        let stream = parse_stream(&big, &limits);
        assert!(
            stream.documents[0]
                .error
                .as_ref()
                .unwrap()
                .message
                .contains("more than the 0.0 MB limit")
        );
        assert!(stream.documents[1].error.is_none());
    }

    #[test]
    fn scalars_resolve_as_go_yaml_v2() {
        let stream = parse("a: yes\nb: 'true'\nc: 0x10\nd: ~\ne: !!str true\nf: 010\n");
        let root = stream.documents[0].root().unwrap();
        assert_eq!(root.get("a").unwrap().as_bool(), Some(true));
        assert_eq!(root.get("b").unwrap().as_bool(), None);
        assert_eq!(root.get("c").unwrap().as_i64(), Some(16));
        assert!(root.get("d").is_none());
        assert_eq!(root.get("e").unwrap().as_bool(), None);
        assert_eq!(root.get("f").unwrap().as_i64(), Some(8));
    }

    #[test]
    fn aliases_resolve_and_paths_are_written_like_kubectl() {
        let stream = parse("x: &sc {privileged: true}\nspec:\n  containers:\n  - securityContext: *sc\n");
        let doc = &stream.documents[0];
        let root = doc.root().unwrap();
        let container = root
            .get("spec")
            .unwrap()
            .get("containers")
            .unwrap()
            .items()
            .next()
            .unwrap();
        let sc = container.entry("securityContext").unwrap();
        assert_eq!(sc.value.get("privileged").unwrap().as_bool(), Some(true));
        assert_eq!(
            doc.path_of(sc.written_value.id()),
            "spec.containers[0].securityContext"
        );
    }
}
