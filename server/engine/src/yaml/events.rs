//! The event level of podsec's YAML reader: the tokens of `scan.rs` grouped into documents, nodes and
//! collections (spec 1.1 § 3.1.2's serialization events), with go-yaml v2's acceptances and refusals.
//!
//! A state machine over an explicit stack of what each open collection expects next, so nesting costs no
//! native stack. Every event has the bytes it covers; a node's event starts at its content, not at its anchor
//! or tag (`&a value` starts at `value`), so a key's or value's span is the text that reads as it. An empty
//! node (`a:` with nothing after) is an empty plain scalar where the reading found it missing.

use super::scan::{ReadError, ScalarStyle, Scanner, Token, TokenKind};
use std::borrow::Cow;

/// The prefix of the `!!` handle (YAML 1.1's tag repository).
const DEFAULT_PREFIX: &str = "tag:yaml.org,2002:";

/// What an event is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind<'a> {
    /// The start of the text.
    StreamStart,
    /// The end of the text.
    StreamEnd,
    /// A document starts (at `---` if `explicit`).
    DocumentStart {
        /// Started by `---` (or directives).
        explicit: bool,
    },
    /// A document ends (at `...` if `explicit`).
    DocumentEnd {
        /// Ended by `...`.
        explicit: bool,
    },
    /// `*name`.
    Alias {
        /// The anchor's name.
        name: &'a str,
    },
    /// A scalar.
    Scalar {
        /// Its value.
        value: Cow<'a, str>,
        /// How it is written.
        style: ScalarStyle,
        /// `&name`.
        anchor: Option<&'a str>,
        /// The tag, its handle resolved (`!!str` is `tag:yaml.org,2002:str`).
        tag: Option<Cow<'a, str>>,
    },
    /// A sequence opens.
    SequenceStart {
        /// `&name`.
        anchor: Option<&'a str>,
        /// The tag, resolved.
        tag: Option<Cow<'a, str>>,
        /// `[…]` rather than `- …` lines.
        flow: bool,
    },
    /// The innermost sequence closes.
    SequenceEnd,
    /// A mapping opens.
    MappingStart {
        /// `&name`.
        anchor: Option<&'a str>,
        /// The tag, resolved.
        tag: Option<Cow<'a, str>>,
        /// `{…}` (or a single pair in a flow sequence) rather than `key: value` lines.
        flow: bool,
    },
    /// The innermost mapping closes.
    MappingEnd,
}

/// An event and the bytes it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// What it is.
    pub kind: EventKind<'a>,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// What the reading expects next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    StreamStart,
    FirstDocument,
    Document,
    DocumentContent,
    DocumentEnd,
    /// The implicit first document's top-level node.
    BlockNode,
    BlockSequenceFirst,
    BlockSequenceEntry,
    /// `- ` items at their mapping's indentation (`key:\n- a`).
    IndentlessEntry,
    BlockMappingFirst,
    BlockMappingKey,
    BlockMappingValue,
    FlowSequenceFirst,
    FlowSequenceEntry,
    /// A single-pair mapping in a flow sequence (`[a: 1]`): its key, value and end.
    PairKey,
    PairValue,
    PairEnd,
    FlowMappingFirst,
    FlowMappingKey,
    FlowMappingValue,
    /// A flow mapping's key written without `:` (`{a, b: 1}`): its value is empty.
    FlowMappingEmptyValue,
    Done,
}

/// A token's kind without its data, to decide on before taking it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Is {
    StreamStart,
    StreamEnd,
    Directive,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias,
    Anchor,
    Tag,
    Scalar,
}

fn is(kind: &TokenKind<'_>) -> Is {
    match kind {
        TokenKind::StreamStart => Is::StreamStart,
        TokenKind::StreamEnd => Is::StreamEnd,
        TokenKind::VersionDirective { .. } | TokenKind::TagDirective { .. } => Is::Directive,
        TokenKind::DocumentStart => Is::DocumentStart,
        TokenKind::DocumentEnd => Is::DocumentEnd,
        TokenKind::BlockSequenceStart => Is::BlockSequenceStart,
        TokenKind::BlockMappingStart => Is::BlockMappingStart,
        TokenKind::BlockEnd => Is::BlockEnd,
        TokenKind::FlowSequenceStart => Is::FlowSequenceStart,
        TokenKind::FlowSequenceEnd => Is::FlowSequenceEnd,
        TokenKind::FlowMappingStart => Is::FlowMappingStart,
        TokenKind::FlowMappingEnd => Is::FlowMappingEnd,
        TokenKind::BlockEntry => Is::BlockEntry,
        TokenKind::FlowEntry => Is::FlowEntry,
        TokenKind::Key => Is::Key,
        TokenKind::Value => Is::Value,
        TokenKind::Alias(_) => Is::Alias,
        TokenKind::Anchor(_) => Is::Anchor,
        TokenKind::Tag { .. } => Is::Tag,
        TokenKind::Scalar { .. } => Is::Scalar,
    }
}

type Read<T> = Result<T, ReadError>;

/// The event level: `next_event` until `StreamEnd` or the first error.
pub struct Reader<'a> {
    scanner: Scanner<'a>,
    expect: Expect,
    /// What to expect once the current node is read, one entry per open collection (and the document).
    after: Vec<Expect>,
    /// Where each open collection started, for errors.
    opened_at: Vec<usize>,
    /// The current document's `%TAG` handles and their prefixes.
    tag_handles: Vec<(&'a str, Cow<'a, str>)>,
    failed: Option<ReadError>,
}

impl<'a> Reader<'a> {
    /// A reader of `text`.
    pub fn new(text: &'a str) -> Self {
        Self {
            scanner: Scanner::new(text),
            expect: Expect::StreamStart,
            after: Vec::new(),
            opened_at: Vec::new(),
            tag_handles: Vec::new(),
            failed: None,
        }
    }

    /// Reads the text as a JSON value of a JSON stream (see [`Scanner::set_json`]).
    pub fn set_json(&mut self, json: bool) {
        self.scanner.set_json(json);
    }

    /// The next event; `None` after `StreamEnd`. After an error, the same error again.
    pub fn next_event(&mut self) -> Read<Option<Event<'a>>> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.step() {
            Ok(event) => Ok(event),
            Err(error) => {
                self.failed = Some(error.clone());
                Err(error)
            }
        }
    }

    fn peek(&mut self) -> Read<(Is, usize, usize)> {
        let token = self.scanner.peek()?;
        Ok((is(&token.kind), token.start, token.end))
    }

    fn take(&mut self) -> Option<Token<'a>> {
        self.scanner.take_token()
    }

    /// Returns to what the enclosing collection expects.
    fn pop(&mut self) {
        self.expect = self.after.pop().unwrap_or(Expect::Done);
    }

    fn close(&mut self, kind: EventKind<'a>, start: usize, end: usize) -> Event<'a> {
        self.pop();
        self.opened_at.pop();
        Event { kind, start, end }
    }

    fn step(&mut self) -> Read<Option<Event<'a>>> {
        match self.expect {
            Expect::StreamStart => {
                let (_, start, end) = self.peek()?;
                self.take();
                self.expect = Expect::FirstDocument;
                Ok(Some(Event {
                    kind: EventKind::StreamStart,
                    start,
                    end,
                }))
            }
            Expect::FirstDocument => self.document_start(true).map(Some),
            Expect::Document => self.document_start(false).map(Some),
            Expect::DocumentContent => {
                let (next, start, _) = self.peek()?;
                if matches!(
                    next,
                    Is::Directive | Is::DocumentStart | Is::DocumentEnd | Is::StreamEnd
                ) {
                    self.pop();
                    Ok(Some(empty_scalar(start)))
                } else {
                    self.node(true, false).map(Some)
                }
            }
            Expect::DocumentEnd => {
                let (next, start, mut end) = self.peek()?;
                let explicit = next == Is::DocumentEnd;
                if explicit {
                    self.take();
                } else {
                    end = start;
                }
                self.tag_handles.clear();
                self.expect = Expect::Document;
                Ok(Some(Event {
                    kind: EventKind::DocumentEnd { explicit },
                    start,
                    end,
                }))
            }
            Expect::BlockNode => self.node(true, false).map(Some),
            Expect::BlockSequenceFirst | Expect::BlockSequenceEntry => self
                .block_sequence_entry(self.expect == Expect::BlockSequenceFirst)
                .map(Some),
            Expect::IndentlessEntry => self.indentless_entry().map(Some),
            Expect::BlockMappingFirst | Expect::BlockMappingKey => self
                .block_mapping_key(self.expect == Expect::BlockMappingFirst)
                .map(Some),
            Expect::BlockMappingValue => self.block_mapping_value().map(Some),
            Expect::FlowSequenceFirst | Expect::FlowSequenceEntry => self
                .flow_sequence_entry(self.expect == Expect::FlowSequenceFirst)
                .map(Some),
            Expect::PairKey => {
                let (next, _, end) = self.peek()?;
                if matches!(next, Is::Value | Is::FlowEntry | Is::FlowSequenceEnd) {
                    self.take();
                    self.expect = Expect::PairValue;
                    Ok(Some(empty_scalar(end)))
                } else {
                    self.after.push(Expect::PairValue);
                    self.node(false, false).map(Some)
                }
            }
            Expect::PairValue => {
                let (mut next, mut start, _) = self.peek()?;
                if next == Is::Value {
                    self.take();
                    (next, start, _) = self.peek()?;
                    if !matches!(next, Is::FlowEntry | Is::FlowSequenceEnd) {
                        self.after.push(Expect::PairEnd);
                        return self.node(false, false).map(Some);
                    }
                }
                self.expect = Expect::PairEnd;
                Ok(Some(empty_scalar(start)))
            }
            Expect::PairEnd => {
                let (_, start, _) = self.peek()?;
                self.expect = Expect::FlowSequenceEntry;
                Ok(Some(Event {
                    kind: EventKind::MappingEnd,
                    start,
                    end: start,
                }))
            }
            Expect::FlowMappingFirst | Expect::FlowMappingKey => self
                .flow_mapping_key(self.expect == Expect::FlowMappingFirst)
                .map(Some),
            Expect::FlowMappingValue => {
                let (mut next, mut start, _) = self.peek()?;
                if next == Is::Value {
                    self.take();
                    (next, start, _) = self.peek()?;
                    if !matches!(next, Is::FlowEntry | Is::FlowMappingEnd) {
                        self.after.push(Expect::FlowMappingKey);
                        return self.node(false, false).map(Some);
                    }
                }
                self.expect = Expect::FlowMappingKey;
                Ok(Some(empty_scalar(start)))
            }
            Expect::FlowMappingEmptyValue => {
                let (_, start, _) = self.peek()?;
                self.expect = Expect::FlowMappingKey;
                Ok(Some(empty_scalar(start)))
            }
            Expect::Done => Ok(None),
        }
    }

    /// A document's start: explicit (`---`, after directives) or, for the first document, implicit.
    fn document_start(&mut self, first: bool) -> Read<Event<'a>> {
        let (mut next, mut start, mut end) = self.peek()?;
        if !first {
            while next == Is::DocumentEnd {
                self.take();
                (next, start, end) = self.peek()?;
            }
        }
        if next == Is::StreamEnd {
            self.take();
            self.expect = Expect::Done;
            return Ok(Event {
                kind: EventKind::StreamEnd,
                start,
                end,
            });
        }
        if first && !matches!(next, Is::Directive | Is::DocumentStart) {
            self.default_tag_handles();
            self.after.push(Expect::DocumentEnd);
            self.expect = Expect::BlockNode;
            return Ok(Event {
                kind: EventKind::DocumentStart { explicit: false },
                start,
                end,
            });
        }
        self.directives()?;
        let (next, at, end) = self.peek()?;
        if next != Is::DocumentStart {
            return Err(ReadError {
                problem: "did not find expected <document start>",
                at,
                context: None,
                left_open: false,
            });
        }
        self.take();
        self.after.push(Expect::DocumentEnd);
        self.expect = Expect::DocumentContent;
        Ok(Event {
            kind: EventKind::DocumentStart { explicit: true },
            start,
            end,
        })
    }

    /// `%YAML` and `%TAG` before a document; go-yaml v2 reads YAML 1.1 only.
    fn directives(&mut self) -> Read<()> {
        let mut version_seen = false;
        loop {
            let (next, at, _) = self.peek()?;
            if next != Is::Directive {
                break;
            }
            let refused = |problem| ReadError {
                problem,
                at,
                context: None,
                left_open: false,
            };
            match self.take().map(|token| token.kind) {
                Some(TokenKind::VersionDirective { major, minor }) => {
                    if version_seen {
                        return Err(refused("found duplicate %YAML directive"));
                    }
                    if (major, minor) != (1, 1) {
                        return Err(refused("found incompatible YAML document"));
                    }
                    version_seen = true;
                }
                Some(TokenKind::TagDirective { handle, prefix }) => {
                    if self.tag_handles.iter().any(|(known, _)| *known == handle) {
                        return Err(refused("found duplicate %TAG directive"));
                    }
                    self.tag_handles.push((handle, prefix));
                }
                _ => {}
            }
        }
        self.default_tag_handles();
        Ok(())
    }

    fn default_tag_handles(&mut self) {
        for (handle, prefix) in [("!", "!"), ("!!", DEFAULT_PREFIX)] {
            if !self.tag_handles.iter().any(|(known, _)| *known == handle) {
                self.tag_handles.push((handle, Cow::Borrowed(prefix)));
            }
        }
    }

    /// A node: an alias, or an anchor and a tag (either order, each optional) before a scalar or a collection.
    fn node(&mut self, block: bool, indentless_sequence: bool) -> Read<Event<'a>> {
        let (next, start, end) = self.peek()?;
        if next == Is::Scalar {
            // Most nodes: a scalar without properties.
            if let Some(TokenKind::Scalar { value, style }) = self.take().map(|token| token.kind) {
                self.pop();
                return Ok(Event {
                    kind: EventKind::Scalar {
                        value,
                        style,
                        anchor: None,
                        tag: None,
                    },
                    start,
                    end,
                });
            }
        }
        if next == Is::Alias {
            let name = match self.take().map(|token| token.kind) {
                Some(TokenKind::Alias(name)) => name,
                _ => "",
            };
            self.pop();
            return Ok(Event {
                kind: EventKind::Alias { name },
                start,
                end,
            });
        }
        let mut anchor = None;
        let mut tag_parts = None;
        // Where the properties start and end, and where the tag starts.
        let (properties_start, mut properties_end, mut tag_at) = (start, start, start);
        for _ in 0..2 {
            let (next, start, end) = self.peek()?;
            match next {
                Is::Anchor if anchor.is_none() => {
                    if let Some(TokenKind::Anchor(name)) = self.take().map(|token| token.kind) {
                        anchor = Some(name);
                    }
                }
                Is::Tag if tag_parts.is_none() => {
                    if let Some(TokenKind::Tag { handle, suffix }) = self.take().map(|token| token.kind) {
                        tag_parts = Some((handle, suffix));
                    }
                    tag_at = start;
                }
                _ => break,
            }
            properties_end = end;
        }
        let tag = match tag_parts {
            None => None,
            Some(("", suffix)) => Some(suffix),
            Some((handle, suffix)) => {
                let Some((_, prefix)) = self.tag_handles.iter().find(|(known, _)| *known == handle) else {
                    return Err(ReadError {
                        problem: "found undefined tag handle",
                        at: tag_at,
                        context: Some(("while parsing a node", properties_start)),
                        left_open: false,
                    });
                };
                Some(Cow::Owned(format!("{prefix}{suffix}")))
            }
        };
        let (next, content_start, content_end) = self.peek()?;
        let collection = |flow: bool, sequence: bool, anchor, tag| {
            let kind = if sequence {
                EventKind::SequenceStart { anchor, tag, flow }
            } else {
                EventKind::MappingStart { anchor, tag, flow }
            };
            Event {
                kind,
                start: content_start,
                end: content_end,
            }
        };
        let event = match next {
            Is::BlockEntry if indentless_sequence => {
                self.expect = Expect::IndentlessEntry;
                collection(false, true, anchor, tag)
            }
            Is::Scalar => {
                let Some(TokenKind::Scalar { value, style }) = self.take().map(|token| token.kind) else {
                    return Err(ReadError {
                        problem: "did not find expected node content",
                        at: content_start,
                        context: None,
                        left_open: false,
                    });
                };
                self.pop();
                Event {
                    kind: EventKind::Scalar {
                        value,
                        style,
                        anchor,
                        tag,
                    },
                    start: content_start,
                    end: content_end,
                }
            }
            Is::FlowSequenceStart => {
                self.expect = Expect::FlowSequenceFirst;
                collection(true, true, anchor, tag)
            }
            Is::FlowMappingStart => {
                self.expect = Expect::FlowMappingFirst;
                collection(true, false, anchor, tag)
            }
            Is::BlockSequenceStart if block => {
                self.expect = Expect::BlockSequenceFirst;
                collection(false, true, anchor, tag)
            }
            Is::BlockMappingStart if block => {
                self.expect = Expect::BlockMappingFirst;
                collection(false, false, anchor, tag)
            }
            _ if anchor.is_some() || tag.is_some() => {
                // Properties and no content: an empty scalar, where the properties are.
                self.pop();
                Event {
                    kind: EventKind::Scalar {
                        value: Cow::Borrowed(""),
                        style: ScalarStyle::Plain,
                        anchor,
                        tag,
                    },
                    start: properties_start,
                    end: properties_end,
                }
            }
            _ => {
                let context = if block {
                    "while parsing a block node"
                } else {
                    "while parsing a flow node"
                };
                return Err(ReadError {
                    problem: "did not find expected node content",
                    at: content_start,
                    context: Some((context, properties_start)),
                    left_open: false,
                });
            }
        };
        Ok(event)
    }

    /// Opens a collection: its start token is taken and remembered for errors.
    fn open(&mut self) -> Read<()> {
        let (_, start, _) = self.peek()?;
        self.opened_at.push(start);
        self.take();
        Ok(())
    }

    fn opened_at(&self) -> usize {
        self.opened_at.last().copied().unwrap_or(0)
    }

    fn block_sequence_entry(&mut self, first: bool) -> Read<Event<'a>> {
        if first {
            self.open()?;
        }
        let (next, start, end) = self.peek()?;
        match next {
            Is::BlockEntry => {
                self.take();
                let (next, _, _) = self.peek()?;
                if matches!(next, Is::BlockEntry | Is::BlockEnd) {
                    self.expect = Expect::BlockSequenceEntry;
                    Ok(empty_scalar(end))
                } else {
                    self.after.push(Expect::BlockSequenceEntry);
                    self.node(true, false)
                }
            }
            Is::BlockEnd => {
                self.take();
                Ok(self.close(EventKind::SequenceEnd, start, end))
            }
            _ => Err(ReadError {
                problem: "did not find expected '-' indicator",
                at: start,
                context: Some(("while parsing a block collection", self.opened_at())),
                left_open: false,
            }),
        }
    }

    fn indentless_entry(&mut self) -> Read<Event<'a>> {
        let (next, start, end) = self.peek()?;
        if next != Is::BlockEntry {
            self.pop();
            // Ends where the next token does (its end too, as the reader always had it).
            return Ok(Event {
                kind: EventKind::SequenceEnd,
                start,
                end,
            });
        }
        self.take();
        let (next, _, _) = self.peek()?;
        if matches!(next, Is::BlockEntry | Is::Key | Is::Value | Is::BlockEnd) {
            self.expect = Expect::IndentlessEntry;
            Ok(empty_scalar(end))
        } else {
            self.after.push(Expect::IndentlessEntry);
            self.node(true, false)
        }
    }

    fn block_mapping_key(&mut self, first: bool) -> Read<Event<'a>> {
        if first {
            self.open()?;
        }
        let (next, start, end) = self.peek()?;
        match next {
            Is::Key => {
                self.take();
                let (next, _, _) = self.peek()?;
                if matches!(next, Is::Key | Is::Value | Is::BlockEnd) {
                    self.expect = Expect::BlockMappingValue;
                    Ok(empty_scalar(end))
                } else {
                    self.after.push(Expect::BlockMappingValue);
                    self.node(true, true)
                }
            }
            Is::BlockEnd => {
                self.take();
                Ok(self.close(EventKind::MappingEnd, start, end))
            }
            _ => Err(ReadError {
                problem: "did not find expected key",
                at: start,
                context: Some(("while parsing a block mapping", self.opened_at())),
                left_open: false,
            }),
        }
    }

    fn block_mapping_value(&mut self) -> Read<Event<'a>> {
        let (next, start, end) = self.peek()?;
        if next != Is::Value {
            self.expect = Expect::BlockMappingKey;
            return Ok(empty_scalar(start));
        }
        self.take();
        let (next, _, _) = self.peek()?;
        if matches!(next, Is::Key | Is::Value | Is::BlockEnd) {
            self.expect = Expect::BlockMappingKey;
            Ok(empty_scalar(end))
        } else {
            self.after.push(Expect::BlockMappingKey);
            self.node(true, true)
        }
    }

    fn flow_sequence_entry(&mut self, first: bool) -> Read<Event<'a>> {
        if first {
            self.open()?;
        }
        let (mut next, mut start, mut end) = self.peek()?;
        if next != Is::FlowSequenceEnd {
            if !first {
                if next != Is::FlowEntry {
                    return Err(ReadError {
                        problem: "did not find expected ',' or ']'",
                        at: start,
                        context: Some(("while parsing a flow sequence", self.opened_at())),
                        // At the end of the text, the collection was never closed.
                        left_open: next == Is::StreamEnd,
                    });
                }
                self.take();
                (next, start, end) = self.peek()?;
            }
            if next == Is::Key {
                self.take();
                self.expect = Expect::PairKey;
                return Ok(Event {
                    kind: EventKind::MappingStart {
                        anchor: None,
                        tag: None,
                        flow: true,
                    },
                    start,
                    end,
                });
            }
            if next != Is::FlowSequenceEnd {
                self.after.push(Expect::FlowSequenceEntry);
                return self.node(false, false);
            }
        }
        self.take();
        Ok(self.close(EventKind::SequenceEnd, start, end))
    }

    fn flow_mapping_key(&mut self, first: bool) -> Read<Event<'a>> {
        if first {
            self.open()?;
        }
        let (mut next, mut start, mut end) = self.peek()?;
        if next != Is::FlowMappingEnd {
            if !first {
                if next != Is::FlowEntry {
                    return Err(ReadError {
                        problem: "did not find expected ',' or '}'",
                        at: start,
                        context: Some(("while parsing a flow mapping", self.opened_at())),
                        // At the end of the text, the collection was never closed.
                        left_open: next == Is::StreamEnd,
                    });
                }
                self.take();
                (next, start, end) = self.peek()?;
            }
            if next == Is::Key {
                self.take();
                let (next, start, _) = self.peek()?;
                if matches!(next, Is::Value | Is::FlowEntry | Is::FlowMappingEnd) {
                    self.expect = Expect::FlowMappingValue;
                    return Ok(empty_scalar(start));
                }
                self.after.push(Expect::FlowMappingValue);
                return self.node(false, false);
            }
            if next != Is::FlowMappingEnd {
                self.after.push(Expect::FlowMappingEmptyValue);
                return self.node(false, false);
            }
        }
        self.take();
        Ok(self.close(EventKind::MappingEnd, start, end))
    }
}

/// An empty plain scalar at `at`: a node the text leaves out (`a:`, `- `, `{a}`).
fn empty_scalar<'a>(at: usize) -> Event<'a> {
    Event {
        kind: EventKind::Scalar {
            value: Cow::Borrowed(""),
            style: ScalarStyle::Plain,
            anchor: None,
            tag: None,
        },
        start: at,
        end: at,
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Read<Event<'a>>;

    /// Events up to `StreamEnd`, or up to and including the first error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed.is_some() {
            return None;
        }
        self.next_event().transpose()
    }
}
