//! The token level of podsec's YAML reader: YAML 1.1 as go-yaml v2 (gopkg.in/yaml.v2 v2.4.0, the reader of
//! kubectl and the API server) tokenises it.
//!
//! The text is read in place: positions are byte offsets into it, and a scalar written without escapes or
//! folding borrows it. What the YAML 1.1 specification leaves to the reader, go-yaml v2 decides:
//!
//! - Indentation opens and closes block collections (spec 1.1 §§ 4.2.1, 9). A block collection opens where its
//!   first key or `-` stands, at a column deeper than the enclosing one, and closes when a line starts to its
//!   left. Tabs never indent (they may separate tokens after the indentation).
//! - A *simple key* (spec 1.1 § 9.1.3: an implicit key) is only known to be a key when the `:` after it is
//!   found. Every token that could start one remembers where it started; a `:` on the same line, within 1,024
//!   characters, turns it into a key after the fact (a `Key` token, and a block mapping start if the key opens
//!   a deeper indentation, are put back in the queue before it). A remembered key that can no longer be one
//!   and had to be (it stands at its mapping's indentation) is the error "could not find expected ':'".
//! - Inside flow collections indentation means nothing, and `,[]{}` end plain scalars; go-yaml v2 also ends
//!   one at `?`, and takes `x:` before a flow indicator as the scalar `x:`.
//! - go-yaml v2 takes `\'` in double quotes (YAML 1.1 does not), refuses `\/` (JSON's) and needs a blank
//!   after a tag, whose characters include `,`, `[` and `]`.
//! - It stops at 10,000 flow levels and 10,000 block indentations ("exceeded max depth of 10000").
//!
//! Nothing recurses; memory is the text's tokens that wait on a possible key (one line's) and the two
//! nesting stacks, each bounded by the depth limit.

use std::borrow::Cow;
use std::collections::VecDeque;

/// go-yaml v2's deepest flow nesting, and its deepest stack of block indentations (each limit on its own).
const MAX_DEPTH: usize = 10_000;

/// The longest simple key, in characters (spec 1.1 § 9.1.3).
const MAX_SIMPLE_KEY_CHARS: usize = 1024;

/// How a scalar is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    /// No quotes.
    Plain,
    /// `'…'`.
    SingleQuoted,
    /// `"…"`.
    DoubleQuoted,
    /// `|`.
    Literal,
    /// `>`.
    Folded,
}

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind<'a> {
    /// The start of the text.
    StreamStart,
    /// The end of the text.
    StreamEnd,
    /// `%YAML major.minor`.
    VersionDirective {
        /// Before the dot.
        major: u32,
        /// After the dot.
        minor: u32,
    },
    /// `%TAG handle prefix`.
    TagDirective {
        /// `!`, `!!` or `!name!`.
        handle: &'a str,
        /// What the handle stands for.
        prefix: Cow<'a, str>,
    },
    /// `---`.
    DocumentStart,
    /// `...`.
    DocumentEnd,
    /// A block sequence opens (an indentation deeper than its parent's, at its first `-`).
    BlockSequenceStart,
    /// A block mapping opens (at its first key).
    BlockMappingStart,
    /// A block collection closes.
    BlockEnd,
    /// `[`.
    FlowSequenceStart,
    /// `]`.
    FlowSequenceEnd,
    /// `{`.
    FlowMappingStart,
    /// `}`.
    FlowMappingEnd,
    /// `-` of a block sequence.
    BlockEntry,
    /// `,`.
    FlowEntry,
    /// A key starts here (`?`, or where a simple key started).
    Key,
    /// `:`.
    Value,
    /// `*name`.
    Alias(&'a str),
    /// `&name`.
    Anchor(&'a str),
    /// `!handle!suffix`, `!suffix`, `!<verbatim>`.
    Tag {
        /// `!`, `!!`, `!name!`, or empty for a verbatim tag and for `!` alone.
        handle: &'a str,
        /// The rest, `%`-escapes decoded.
        suffix: Cow<'a, str>,
    },
    /// A scalar's value, as its style reads.
    Scalar {
        /// The value.
        value: Cow<'a, str>,
        /// How it is written.
        style: ScalarStyle,
    },
}

/// A token and the bytes it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind<'a>,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// Why the text cannot be read, where, and what was being read (go-yaml's problem and context).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// What is wrong, in go-yaml's words ("mapping values are not allowed in this context").
    pub problem: &'static str,
    /// The byte where it was found.
    pub at: usize,
    /// What was being read and where it started ("while scanning a quoted scalar").
    pub context: Option<(&'static str, usize)>,
    /// Whether the context's construct, left open, is the cause (see [`ReadError::cause`]).
    pub left_open: bool,
}

impl ReadError {
    fn new(problem: &'static str, at: usize) -> Self {
        Self {
            problem,
            at,
            context: None,
            left_open: false,
        }
    }

    pub(crate) fn within(context: &'static str, started: usize, problem: &'static str, at: usize) -> Self {
        Self {
            problem,
            at,
            context: Some((context, started)),
            left_open: false,
        }
    }
}

impl ReadError {
    /// Where the real cause is: for a construct left open (a simple key whose `:` never came, a quoted scalar
    /// or a flow collection never closed), where it starts; otherwise where the reading stopped. go-yaml (and
    /// so kubectl) names the line where it stopped, which for these is a later line than the mistake.
    pub fn cause(&self) -> usize {
        match self.context {
            Some((_, started)) if self.left_open => started.min(self.at),
            _ => self.at,
        }
    }

    /// The same error, caused by the construct its context names, left open.
    pub(crate) fn left_open(mut self) -> Self {
        self.left_open = true;
        self
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.problem)
    }
}

/// A place where a simple key may have started, one per flow level (the block level is the first).
#[derive(Clone, Copy, Debug, Default)]
struct KeyCandidate {
    possible: bool,
    /// At its block mapping's indentation: if it is no key, the text is wrong.
    required: bool,
    /// The number of the token it would be put before (counted from the start of the stream).
    token_number: usize,
    at: usize,
    line: usize,
    column: usize,
    /// Characters before it, for the 1,024-character limit.
    chars: usize,
}

/// Whether `byte` may be in an anchor's or a tag handle's name (`[0-9A-Za-z_-]`).
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Whether `byte` may be in a tag's URI (go-yaml v2's set, which has `,`, `[` and `]` everywhere).
fn is_uri_byte(byte: u8) -> bool {
    is_name_byte(byte) || b";/?:@&=+$,.!~*'()[]%".contains(&byte)
}

/// The width in bytes of the UTF-8 character that starts with `lead` (1 for anything else).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// The first character YAML 1.1 does not allow in a text (spec 1.1 § 5.1: C0 and C1 controls but tab, line
/// feed, carriage return and NEL; DEL; U+FFFE and U+FFFF), as go-yaml's reader refuses it.
fn first_control_character(text: &str) -> Option<usize> {
    /// Whether `byte` may start a refused character: a C0 control but tab, LF and CR, DEL, and the lead
    /// bytes of C1 controls (C2) and of U+FFFE/U+FFFF (EF), which the exact check then looks at.
    fn suspect(byte: u8) -> bool {
        (byte < 0x20 && byte != b'\t' && byte != b'\n' && byte != b'\r')
            | (byte == 0x7F)
            | (byte == 0xC2)
            | (byte == 0xEF)
    }
    let bytes = text.as_bytes();
    // A chunk at a time (which the compiler vectorises); only a suspect chunk is looked at byte by byte.
    const CHUNK: usize = 64;
    let mut chunk_start = 0;
    for chunk in bytes.chunks(CHUNK) {
        if chunk.iter().fold(false, |any, byte| any | suspect(*byte)) {
            for (offset, byte) in chunk.iter().enumerate() {
                let at = chunk_start + offset;
                let refused = match byte {
                    b'\t' | b'\n' | b'\r' => false,
                    0..0x20 | 0x7F => true,
                    0xC2 => matches!(bytes.get(at + 1), Some(0x80..=0x84 | 0x86..=0x9F)),
                    0xEF => matches!(bytes.get(at + 1..at + 3), Some([0xBF, 0xBE | 0xBF])),
                    _ => false,
                };
                if refused {
                    return Some(at);
                }
            }
        }
        chunk_start += chunk.len();
    }
    None
}

/// The bytes at which a plain scalar's run of characters may end (looked at closely then): blanks, line
/// breaks (the lead bytes of NEL, LS and PS among them) and `:`; in flow context also `,?[]{}`.
const PLAIN_STOPS: [bool; 256] = plain_stops(false);
const PLAIN_STOPS_IN_FLOW: [bool; 256] = plain_stops(true);

#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build, never a run"
)]
const fn plain_stops(flow: bool) -> [bool; 256] {
    let mut stops = [false; 256];
    let always: &[u8] = b" \t\n\r:\xC2\xE2";
    let mut i = 0;
    while i < always.len() {
        stops[always[i] as usize] = true;
        i += 1;
    }
    if flow {
        let indicators: &[u8] = b",?[]{}";
        let mut i = 0;
        while i < indicators.len() {
            stops[indicators[i] as usize] = true;
            i += 1;
        }
    }
    stops
}

/// The token level: `next_token` until `StreamEnd` or the first error.
pub struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Line breaks read so far, and where the current line starts.
    line: usize,
    line_start: usize,
    /// A running count of characters: `counted` characters lie before byte `counted_to`, and
    /// `line_start_chars` before `line_start` (once counted that far).
    counted_to: usize,
    counted: usize,
    line_start_chars: usize,
    /// JSON mode: the value of a JSON stream, read as Go's JSON decoder reads strings.
    json: bool,
    started: bool,
    ended: bool,
    /// The first control character, which ends the reading where the scanner reaches it.
    control_at: Option<usize>,
    failed: Option<ReadError>,
    flow_level: usize,
    /// The current block indentation (-1 outside every block collection) and the enclosing ones.
    indent: isize,
    indents: Vec<isize>,
    key_allowed: bool,
    /// One candidate per flow level, the block level first.
    keys: Vec<KeyCandidate>,
    /// How many of `keys` are possible.
    possible_keys: usize,
    /// No key below this index is possible. Keys deeper in `keys` started later (a flow level opens after
    /// its parent's key), so they go stale later: the loops over possible keys start here and stop at the
    /// first that stays, and what one token costs does not grow with the nesting.
    oldest_possible: usize,
    queue: VecDeque<Token<'a>>,
    /// Tokens handed out so far.
    taken: usize,
}

type Scan<T> = Result<T, ReadError>;

impl<'a> Scanner<'a> {
    /// A scanner over `text` (a leading byte order mark is skipped).
    pub fn new(text: &'a str) -> Self {
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Self {
            text,
            bytes: text.as_bytes(),
            pos: bom,
            line: 0,
            line_start: bom,
            counted_to: bom,
            counted: 0,
            line_start_chars: 0,
            json: false,
            started: false,
            ended: false,
            control_at: first_control_character(text),
            failed: None,
            flow_level: 0,
            indent: -1,
            indents: Vec::new(),
            key_allowed: false,
            keys: Vec::new(),
            possible_keys: 0,
            oldest_possible: 0,
            queue: VecDeque::new(),
            taken: 0,
        }
    }

    /// Reads the text as a JSON value of a JSON stream: `\/` is an escape, a `\u` surrogate pair is one
    /// character and a lone surrogate is U+FFFD, as in Go's JSON decoder.
    pub fn set_json(&mut self, json: bool) {
        self.json = json;
    }

    /// The next token, `None` after `StreamEnd`. After an error, the same error again.
    pub fn next_token(&mut self) -> Scan<Option<Token<'a>>> {
        if self.queue.is_empty() && self.ended {
            return Ok(None);
        }
        self.ensure_token()?;
        Ok(self.take_token())
    }

    /// The next token, left in place.
    pub(crate) fn peek(&mut self) -> Scan<&Token<'a>> {
        // Most of the time: a token waits and no key could still go before it.
        if self.possible_keys == 0 && self.failed.is_none() && !self.queue.is_empty() {
            return self
                .queue
                .front()
                .ok_or_else(|| ReadError::new("did not find expected <stream-end>", self.pos));
        }
        self.ensure_token()?;
        self.queue
            .front()
            .ok_or_else(|| ReadError::new("did not find expected <stream-end>", self.pos))
    }

    /// Hands out the token `peek` showed.
    pub(crate) fn take_token(&mut self) -> Option<Token<'a>> {
        let token = self.queue.pop_front()?;
        self.taken += 1;
        Some(token)
    }

    // --- Reading the text ---

    /// The byte `k` bytes ahead, 0 at the end (the text holds no NUL: it is a control character).
    fn byte(&self, k: usize) -> u8 {
        self.bytes.get(self.pos + k).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The width of the line break `k` bytes ahead (CR LF is one), 0 if there is none. YAML 1.1's breaks
    /// are LF, CR, NEL, LS and PS.
    fn break_width(&self, k: usize) -> usize {
        match self.byte(k) {
            b'\r' if self.byte(k + 1) == b'\n' => 2,
            b'\r' | b'\n' => 1,
            0xC2 if self.byte(k + 1) == 0x85 => 2,
            0xE2 if self.byte(k + 1) == 0x80 && matches!(self.byte(k + 2), 0xA8 | 0xA9) => 3,
            _ => 0,
        }
    }

    fn is_break(&self, k: usize) -> bool {
        self.break_width(k) > 0
    }

    fn is_blank(&self, k: usize) -> bool {
        matches!(self.byte(k), b' ' | b'\t')
    }

    fn is_blank_or_end(&self, k: usize) -> bool {
        self.pos + k >= self.bytes.len() || self.is_blank(k) || self.is_break(k)
    }

    fn is_break_or_end(&self, k: usize) -> bool {
        self.pos + k >= self.bytes.len() || self.is_break(k)
    }

    /// Whether a `---` or `...` line starts here.
    fn at_document_indicator(&mut self) -> bool {
        self.pos == self.line_start
            && matches!(self.bytes.get(self.pos..self.pos + 3), Some(b"---" | b"..."))
            && self.is_blank_or_end(3)
    }

    /// Moves past one character.
    fn skip(&mut self) {
        self.pos = (self.pos + utf8_width(self.byte(0))).min(self.bytes.len());
    }

    /// Moves past a line break (nothing if there is none).
    fn skip_break(&mut self) {
        let width = self.break_width(0);
        if width > 0 {
            self.pos += width;
            self.line += 1;
            self.line_start = self.pos;
        }
    }

    /// Moves past a line break and writes it as a scalar holds it: LS and PS as themselves, the others as LF.
    fn read_break(&mut self, into: &mut String) {
        match self.break_width(0) {
            0 => return,
            3 => into.push_str(self.slice(self.pos, self.pos + 3)),
            _ => into.push('\n'),
        }
        self.skip_break();
    }

    /// Where the line that `pos` is on ends: its first line break, or the end of the text.
    fn line_end(&self) -> usize {
        let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
        let mut end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
        // NEL, LS and PS break lines too; their lead bytes are rare.
        let mut from = 0;
        while let Some(found) = memchr::memchr2(0xC2, 0xE2, rest.get(from..end).unwrap_or(&[])) {
            let at = from + found;
            if self.break_width(at) > 0 {
                end = at;
                break;
            }
            from = at + 1;
        }
        self.pos + end
    }

    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or("")
    }

    /// Characters before `pos` (counted once, as the reading moves on).
    fn chars(&mut self) -> usize {
        /// Characters in `bytes`: the bytes that are not UTF-8 continuation bytes, summed in byte-wide lanes
        /// (chunks of 255 cannot overflow one), which the compiler vectorises.
        fn count(bytes: &[u8]) -> usize {
            bytes
                .chunks(255)
                .map(|chunk| {
                    let starts = chunk.iter().fold(0u8, |starts, byte| {
                        starts.wrapping_add(u8::from((*byte as i8) >= -0x40))
                    });
                    usize::from(starts)
                })
                .sum()
        }
        if self.counted_to <= self.line_start {
            self.counted += count(self.bytes.get(self.counted_to..self.line_start).unwrap_or(&[]));
            self.counted_to = self.line_start;
            self.line_start_chars = self.counted;
        }
        self.counted += count(self.bytes.get(self.counted_to..self.pos).unwrap_or(&[]));
        self.counted_to = self.pos;
        self.counted
    }

    /// The column of `pos`, in characters.
    fn column(&mut self) -> usize {
        self.chars().saturating_sub(self.line_start_chars)
    }

    fn fail<T>(&mut self, error: ReadError) -> Scan<T> {
        self.failed = Some(error.clone());
        Err(error)
    }

    fn error<T>(&mut self, problem: &'static str) -> Scan<T> {
        self.fail(ReadError::new(problem, self.pos))
    }

    fn error_within<T>(&mut self, context: &'static str, started: usize, problem: &'static str) -> Scan<T> {
        self.fail(ReadError::within(context, started, problem, self.pos))
    }

    /// An error whose cause is the construct that started at `started` and was never finished.
    fn error_left_open<T>(
        &mut self,
        context: &'static str,
        started: usize,
        problem: &'static str,
    ) -> Scan<T> {
        self.fail(ReadError::within(context, started, problem, self.pos).left_open())
    }

    fn push(&mut self, kind: TokenKind<'a>, start: usize, end: usize) {
        self.queue.push_back(Token { kind, start, end });
    }

    /// Pushes a one-character token at `pos` and moves past it.
    fn push_indicator(&mut self, kind: TokenKind<'a>) {
        let start = self.pos;
        self.skip();
        self.push(kind, start, self.pos);
    }

    // --- The token queue ---

    /// Fetches tokens until the first one in the queue is settled: it is not where a possible simple key
    /// starts, so no `Key` can be put before it.
    fn ensure_token(&mut self) -> Scan<()> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        loop {
            if !self.queue.is_empty() {
                if self.possible_keys == 0 {
                    return Ok(());
                }
                // After the end too: a key left open on the last line is stale then (a required one an error).
                self.drop_stale_keys()?;
                if self.ended || !self.key_waits_at(self.taken) {
                    return Ok(());
                }
            } else if self.ended {
                return Ok(());
            }
            self.fetch_token()?;
        }
    }

    /// Whether a possible key would put a token before token number `number`: the oldest possible key
    /// has the smallest token number.
    fn key_waits_at(&mut self, number: usize) -> bool {
        self.skip_impossible_keys();
        self.keys
            .get(self.oldest_possible)
            .is_some_and(|key| key.possible && key.token_number == number)
    }

    fn skip_impossible_keys(&mut self) {
        while self
            .keys
            .get(self.oldest_possible)
            .is_some_and(|key| !key.possible)
        {
            self.oldest_possible += 1;
        }
    }

    /// Forgets the keys that can no longer be: on an earlier line, or more than 1,024 characters back. The
    /// oldest go stale first, so this stops at the first possible key that stays.
    fn drop_stale_keys(&mut self) -> Scan<()> {
        if self.possible_keys == 0 {
            return Ok(());
        }
        let (line, pos) = (self.line, self.pos);
        let mut chars = None;
        loop {
            self.skip_impossible_keys();
            let Some(key) = self.keys.get(self.oldest_possible).copied() else {
                break;
            };
            let too_long = pos - key.at > MAX_SIMPLE_KEY_CHARS && {
                let now = *chars.get_or_insert_with(|| self.chars());
                now - key.chars > MAX_SIMPLE_KEY_CHARS
            };
            if key.line == line && !too_long {
                break;
            }
            if key.required {
                return self.error_left_open(
                    "while scanning a simple key",
                    key.at,
                    "could not find expected ':'",
                );
            }
            if let Some(key) = self.keys.get_mut(self.oldest_possible) {
                key.possible = false;
            }
            self.possible_keys = self.possible_keys.saturating_sub(1);
        }
        Ok(())
    }

    /// Remembers that a simple key may start here (if one may).
    fn save_key(&mut self) -> Scan<()> {
        if !self.key_allowed {
            return Ok(());
        }
        let column = if self.flow_level == 0 { self.column() } else { 0 };
        let candidate = KeyCandidate {
            possible: true,
            required: self.flow_level == 0 && self.indent == column as isize,
            token_number: self.taken + self.queue.len(),
            at: self.pos,
            line: self.line,
            column,
            chars: self.chars(),
        };
        self.forget_key()?;
        if let Some(key) = self.keys.last_mut() {
            *key = candidate;
            self.possible_keys += 1;
        }
        self.oldest_possible = self.oldest_possible.min(self.keys.len().saturating_sub(1));
        Ok(())
    }

    /// The innermost candidate can no longer be a key; an error if it had to be.
    fn forget_key(&mut self) -> Scan<()> {
        let Some(key) = self.keys.last_mut() else {
            return Ok(());
        };
        if key.possible {
            let (required, at) = (key.required, key.at);
            key.possible = false;
            self.possible_keys = self.possible_keys.saturating_sub(1);
            if required {
                return self.error_left_open(
                    "while scanning a simple key",
                    at,
                    "could not find expected ':'",
                );
            }
        }
        Ok(())
    }

    /// Opens a block collection at `column` if it is deeper than the current indentation, with its start
    /// token put before token number `number` (or last).
    fn open_block(
        &mut self,
        column: usize,
        number: Option<usize>,
        kind: TokenKind<'a>,
        at: usize,
    ) -> Scan<()> {
        if self.flow_level > 0 || self.indent >= column as isize {
            return Ok(());
        }
        self.indents.push(self.indent);
        if self.indents.len() > MAX_DEPTH {
            return self.error_within("while increasing indent level", at, "exceeded max depth of 10000");
        }
        self.indent = column as isize;
        let token = Token {
            kind,
            start: at,
            end: at,
        };
        match number {
            Some(number) => self.insert_token(number, token),
            None => self.queue.push_back(token),
        }
        Ok(())
    }

    /// Puts `token` before token number `number` (still in the queue: a possible key keeps it there).
    fn insert_token(&mut self, number: usize, token: Token<'a>) {
        let index = number.saturating_sub(self.taken);
        if index <= self.queue.len() {
            self.queue.insert(index, token);
        } else {
            self.queue.push_back(token);
        }
    }

    /// Closes the block collections deeper than `column`.
    fn close_blocks(&mut self, column: isize) {
        if self.flow_level > 0 {
            return;
        }
        while self.indent > column {
            self.push(TokenKind::BlockEnd, self.pos, self.pos);
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    // --- Tokens ---

    fn fetch_token(&mut self) -> Scan<()> {
        if !self.started {
            if let Some(at) = self.control_at {
                // go-yaml's reader decodes ahead of its scanner: a control character anywhere is refused first.
                return self.fail(ReadError::new("control characters are not allowed", at));
            }
            self.started = true;
            self.keys.push(KeyCandidate::default());
            self.key_allowed = true;
            self.push(TokenKind::StreamStart, self.pos, self.pos);
            return Ok(());
        }
        self.skip_to_token();
        self.drop_stale_keys()?;
        let column = self.column();
        self.close_blocks(column as isize);
        if self.at_end() {
            return self.fetch_stream_end();
        }
        let first = self.byte(0);
        let blank_after = self.is_blank_or_end(1);
        if column == 0 {
            if first == b'%' {
                return self.fetch_directive();
            }
            if self.at_document_indicator() {
                let kind = if first == b'-' {
                    TokenKind::DocumentStart
                } else {
                    TokenKind::DocumentEnd
                };
                self.close_blocks(-1);
                self.forget_key()?;
                self.key_allowed = false;
                let start = self.pos;
                self.pos += 3;
                self.push(kind, start, self.pos);
                return Ok(());
            }
        }
        match first {
            b'[' => self.fetch_flow_start(TokenKind::FlowSequenceStart),
            b'{' => self.fetch_flow_start(TokenKind::FlowMappingStart),
            b']' => self.fetch_flow_end(TokenKind::FlowSequenceEnd),
            b'}' => self.fetch_flow_end(TokenKind::FlowMappingEnd),
            b',' => {
                self.forget_key()?;
                self.key_allowed = true;
                self.push_indicator(TokenKind::FlowEntry);
                Ok(())
            }
            b'-' if blank_after => self.fetch_block_entry(),
            b'?' if self.flow_level > 0 || blank_after => self.fetch_explicit_key(),
            b':' if self.flow_level > 0 || blank_after => self.fetch_value(),
            b'*' | b'&' => {
                self.save_key()?;
                self.key_allowed = false;
                self.scan_anchor(first == b'*')
            }
            b'!' => {
                self.save_key()?;
                self.key_allowed = false;
                self.scan_tag()
            }
            b'|' | b'>' if self.flow_level == 0 => {
                self.forget_key()?;
                self.key_allowed = true;
                self.scan_block_scalar(first == b'|')
            }
            b'\'' | b'"' => {
                self.save_key()?;
                self.key_allowed = false;
                self.scan_quoted(first == b'\'')
            }
            _ if self.starts_plain(first) => {
                self.save_key()?;
                self.key_allowed = false;
                self.scan_plain()
            }
            _ => self.error_within(
                "while scanning for the next token",
                self.pos,
                "found character that cannot start any token",
            ),
        }
    }

    /// Whether a plain scalar starts here (spec 1.1 § 9.1.3: not at an indicator, but `-`, `?` and `:`
    /// followed by a non-blank may start one; in flow context `?` and `:` are indicators always).
    fn starts_plain(&self, first: u8) -> bool {
        let indicator = self.is_blank_or_end(0) || b"-?:,[]{}#&*!|>'\"%@`".contains(&first);
        !indicator
            || (first == b'-' && !self.is_blank(1))
            || (self.flow_level == 0 && matches!(first, b'?' | b':') && !self.is_blank_or_end(1))
    }

    /// Skips blanks, comments and line breaks up to the next token. Tabs separate only where no block
    /// indentation is being read (in flow context, or after something on the line).
    fn skip_to_token(&mut self) {
        loop {
            if self.pos == self.line_start
                && self.bytes.get(self.pos..self.pos + 3) == Some("\u{feff}".as_bytes())
            {
                self.pos += 3;
            }
            while self.byte(0) == b' '
                || (self.byte(0) == b'\t' && (self.flow_level > 0 || !self.key_allowed))
            {
                self.pos += 1;
            }
            if self.byte(0) == b'#' {
                self.pos = self.line_end();
            }
            if !self.is_break(0) {
                return;
            }
            self.skip_break();
            if self.flow_level == 0 {
                self.key_allowed = true;
            }
        }
    }

    fn fetch_stream_end(&mut self) -> Scan<()> {
        if self.pos != self.line_start {
            self.line += 1;
        }
        self.close_blocks(-1);
        self.forget_key()?;
        self.key_allowed = false;
        self.ended = true;
        self.push(TokenKind::StreamEnd, self.pos, self.pos);
        Ok(())
    }

    fn fetch_flow_start(&mut self, kind: TokenKind<'a>) -> Scan<()> {
        self.save_key()?;
        self.keys.push(KeyCandidate::default());
        self.flow_level += 1;
        if self.flow_level > MAX_DEPTH {
            return self.error_within(
                "while increasing flow level",
                self.pos,
                "exceeded max depth of 10000",
            );
        }
        self.key_allowed = true;
        self.push_indicator(kind);
        Ok(())
    }

    fn fetch_flow_end(&mut self, kind: TokenKind<'a>) -> Scan<()> {
        self.forget_key()?;
        if self.flow_level > 0 {
            self.flow_level -= 1;
            if self.keys.pop().is_some_and(|key| key.possible) {
                self.possible_keys = self.possible_keys.saturating_sub(1);
            }
            self.oldest_possible = self.oldest_possible.min(self.keys.len());
        }
        self.key_allowed = false;
        self.push_indicator(kind);
        Ok(())
    }

    fn fetch_block_entry(&mut self) -> Scan<()> {
        if self.flow_level == 0 {
            if !self.key_allowed {
                return self.error("block sequence entries are not allowed in this context");
            }
            let column = self.column();
            self.open_block(column, None, TokenKind::BlockSequenceStart, self.pos)?;
        }
        self.forget_key()?;
        self.key_allowed = true;
        self.push_indicator(TokenKind::BlockEntry);
        Ok(())
    }

    fn fetch_explicit_key(&mut self) -> Scan<()> {
        if self.flow_level == 0 {
            if !self.key_allowed {
                return self.error("mapping keys are not allowed in this context");
            }
            let column = self.column();
            self.open_block(column, None, TokenKind::BlockMappingStart, self.pos)?;
        }
        self.forget_key()?;
        self.key_allowed = self.flow_level == 0;
        self.push_indicator(TokenKind::Key);
        Ok(())
    }

    fn fetch_value(&mut self) -> Scan<()> {
        let key = self.keys.last().copied().unwrap_or_default();
        if key.possible {
            // The key is settled: its `Key` goes where it started, after any block mapping start.
            let token = Token {
                kind: TokenKind::Key,
                start: key.at,
                end: key.at,
            };
            self.insert_token(key.token_number, token);
            if let Some(last) = self.keys.last_mut() {
                last.possible = false;
            }
            self.possible_keys = self.possible_keys.saturating_sub(1);
            self.open_block(
                key.column,
                Some(key.token_number),
                TokenKind::BlockMappingStart,
                key.at,
            )?;
            self.key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.key_allowed {
                    return self.error("mapping values are not allowed in this context");
                }
                let column = self.column();
                self.open_block(column, None, TokenKind::BlockMappingStart, self.pos)?;
            }
            self.key_allowed = self.flow_level == 0;
        }
        self.push_indicator(TokenKind::Value);
        Ok(())
    }

    // --- Directives ---

    fn fetch_directive(&mut self) -> Scan<()> {
        self.close_blocks(-1);
        self.forget_key()?;
        self.key_allowed = false;
        let start = self.pos;
        self.pos += 1;
        let name_start = self.pos;
        while is_name_byte(self.byte(0)) {
            self.pos += 1;
        }
        let name = self.slice(name_start, self.pos);
        if name.is_empty() {
            return self.error_within(
                "while scanning a directive",
                start,
                "could not find expected directive name",
            );
        }
        if !self.is_blank_or_end(0) {
            return self.error_within(
                "while scanning a directive",
                start,
                "found unexpected non-alphabetical character",
            );
        }
        let kind = match name {
            "YAML" => {
                self.skip_blanks();
                let major = self.version_number(start)?;
                if self.byte(0) != b'.' {
                    return self.error_within(
                        "while scanning a %YAML directive",
                        start,
                        "did not find expected digit or '.' character",
                    );
                }
                self.pos += 1;
                let minor = self.version_number(start)?;
                TokenKind::VersionDirective { major, minor }
            }
            "TAG" => {
                self.skip_blanks();
                let handle = self.tag_handle(start, true)?;
                if !self.is_blank(0) {
                    return self.error_within(
                        "while scanning a %TAG directive",
                        start,
                        "did not find expected whitespace",
                    );
                }
                self.skip_blanks();
                let prefix = self.tag_uri(start, true, "")?;
                if !self.is_blank_or_end(0) {
                    return self.error_within(
                        "while scanning a %TAG directive",
                        start,
                        "did not find expected whitespace or line break",
                    );
                }
                TokenKind::TagDirective { handle, prefix }
            }
            _ => {
                return self.error_within(
                    "while scanning a directive",
                    start,
                    "found unknown directive name",
                );
            }
        };
        let end = self.pos;
        self.skip_blanks();
        self.skip_comment();
        if !self.is_break_or_end(0) {
            return self.error_within(
                "while scanning a directive",
                start,
                "did not find expected comment or line break",
            );
        }
        self.skip_break();
        self.push(kind, start, end);
        Ok(())
    }

    fn skip_blanks(&mut self) {
        while self.is_blank(0) {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) {
        if self.byte(0) == b'#' {
            self.pos = self.line_end();
        }
    }

    fn version_number(&mut self, start: usize) -> Scan<u32> {
        let mut value: u32 = 0;
        let mut digits = 0;
        while self.byte(0).is_ascii_digit() {
            digits += 1;
            if digits > 9 {
                return self.error_within(
                    "while scanning a %YAML directive",
                    start,
                    "found extremely long version number",
                );
            }
            value = value * 10 + u32::from(self.byte(0) - b'0');
            self.pos += 1;
        }
        if digits == 0 {
            return self.error_within(
                "while scanning a %YAML directive",
                start,
                "did not find expected version number",
            );
        }
        Ok(value)
    }

    // --- Anchors, aliases and tags ---

    fn scan_anchor(&mut self, alias: bool) -> Scan<()> {
        let start = self.pos;
        self.pos += 1;
        while is_name_byte(self.byte(0)) {
            self.pos += 1;
        }
        let name = self.slice(start + 1, self.pos);
        let ends_well = self.is_blank_or_end(0) || b"?:,]}%@`".contains(&self.byte(0));
        if name.is_empty() || !ends_well {
            let context = if alias {
                "while scanning an alias"
            } else {
                "while scanning an anchor"
            };
            return self.error_within(
                context,
                start,
                "did not find expected alphabetic or numeric character",
            );
        }
        let kind = if alias {
            TokenKind::Alias(name)
        } else {
            TokenKind::Anchor(name)
        };
        self.push(kind, start, self.pos);
        Ok(())
    }

    fn scan_tag(&mut self) -> Scan<()> {
        let start = self.pos;
        let (handle, suffix) = if self.byte(1) == b'<' {
            self.pos += 2;
            let suffix = self.tag_uri(start, false, "")?;
            if self.byte(0) != b'>' {
                return self.error_within("while scanning a tag", start, "did not find the expected '>'");
            }
            self.pos += 1;
            ("", suffix)
        } else {
            let handle = self.tag_handle(start, false)?;
            if handle.len() > 1 && handle.ends_with('!') {
                let suffix = self.tag_uri(start, false, "")?;
                (handle, suffix)
            } else {
                // `!name…`: no second `!`, so the name is the suffix's start and the handle is `!`.
                let suffix = self.tag_uri(start, false, handle)?;
                if suffix.is_empty() {
                    ("", Cow::Borrowed("!"))
                } else {
                    (self.slice(start, start + 1), suffix)
                }
            }
        };
        if !self.is_blank_or_end(0) {
            return self.error_within(
                "while scanning a tag",
                start,
                "did not find expected whitespace or line break",
            );
        }
        self.push(TokenKind::Tag { handle, suffix }, start, self.pos);
        Ok(())
    }

    /// `!`, `!!` or `!name!` (in a tag, also `!name`, whose name then starts the suffix).
    fn tag_handle(&mut self, start: usize, directive: bool) -> Scan<&'a str> {
        if self.byte(0) != b'!' {
            let context = if directive {
                "while scanning a tag directive"
            } else {
                "while scanning a tag"
            };
            return self.error_within(context, start, "did not find expected '!'");
        }
        let from = self.pos;
        self.pos += 1;
        while is_name_byte(self.byte(0)) {
            self.pos += 1;
        }
        if self.byte(0) == b'!' {
            self.pos += 1;
        } else if directive && self.pos - from > 1 {
            return self.error_within(
                "while parsing a tag directive",
                start,
                "did not find expected '!'",
            );
        }
        Ok(self.slice(from, self.pos))
    }

    /// A tag's URI characters, `%`-escapes decoded; `head` is a handle without its second `!` (`!name`),
    /// whose name, just before, starts the URI.
    fn tag_uri(&mut self, start: usize, directive: bool, head: &'a str) -> Scan<Cow<'a, str>> {
        let context = if directive {
            "while parsing a %TAG directive"
        } else {
            "while parsing a tag"
        };
        let from = self.pos;
        let uri_start = from - head.len().saturating_sub(1);
        let mut decoded: Option<Vec<u8>> = None;
        while is_uri_byte(self.byte(0)) {
            if self.byte(0) == b'%' {
                let mut bytes = decoded
                    .take()
                    .unwrap_or_else(|| self.bytes.get(uri_start..self.pos).unwrap_or(&[]).to_vec());
                self.uri_escapes(start, context, &mut bytes)?;
                decoded = Some(bytes);
            } else {
                if let Some(bytes) = decoded.as_mut() {
                    bytes.push(self.byte(0));
                }
                self.pos += 1;
            }
        }
        if head.is_empty() && self.pos == from {
            return self.error_within(context, start, "did not find expected tag URI");
        }
        Ok(match decoded {
            Some(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
            None => Cow::Borrowed(self.slice(uri_start, self.pos)),
        })
    }

    /// One UTF-8 character written as `%XX` escapes.
    fn uri_escapes(&mut self, start: usize, context: &'static str, into: &mut Vec<u8>) -> Scan<()> {
        let mut width = 0;
        loop {
            let hex = |b: u8| char::from(b).to_digit(16);
            let (Some(high), Some(low)) = (hex(self.byte(1)), hex(self.byte(2))) else {
                return self.error_within(context, start, "did not find URI escaped octet");
            };
            if self.byte(0) != b'%' {
                return self.error_within(context, start, "did not find URI escaped octet");
            }
            let octet = (high * 16 + low) as u8;
            if width == 0 {
                width = match octet {
                    0..0x80 => 1,
                    0xC0..0xE0 => 2,
                    0xE0..0xF0 => 3,
                    0xF0..0xF8 => 4,
                    _ => return self.error_within(context, start, "found an incorrect leading UTF-8 octet"),
                };
            } else if octet & 0xC0 != 0x80 {
                return self.error_within(context, start, "found an incorrect trailing UTF-8 octet");
            }
            into.push(octet);
            self.pos += 3;
            width -= 1;
            if width == 0 {
                return Ok(());
            }
        }
    }

    // --- Scalars ---

    fn scan_block_scalar(&mut self, literal: bool) -> Scan<()> {
        let start = self.pos;
        self.pos += 1;
        // Chomping: -1 strip, 0 clip, 1 keep. An explicit indentation is relative to the parent's.
        let mut chomping = 0i8;
        let mut increment = 0usize;
        for _ in 0..2 {
            match self.byte(0) {
                b'+' | b'-' if chomping == 0 => {
                    chomping = if self.byte(0) == b'+' { 1 } else { -1 };
                    self.pos += 1;
                }
                b'0' if increment == 0 => {
                    return self.error_within(
                        "while scanning a block scalar",
                        start,
                        "found an indentation indicator equal to 0",
                    );
                }
                digit @ b'1'..=b'9' if increment == 0 => {
                    increment = usize::from(digit - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        self.skip_blanks();
        self.skip_comment();
        if !self.is_break_or_end(0) {
            return self.error_within(
                "while scanning a block scalar",
                start,
                "did not find expected comment or line break",
            );
        }
        self.skip_break();
        let mut end = self.pos;
        let mut indent = if increment == 0 {
            0
        } else {
            usize::try_from(self.indent).map_or(increment, |parent| parent + increment)
        };
        let mut value = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        let mut leading_blank = false;
        let mut column = self.block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        while column == indent && !self.at_end() {
            let trailing_blank = self.is_blank(0);
            if !literal && leading_break.starts_with('\n') && !leading_blank && !trailing_blank {
                // Folding: one line break between two lines of text is a space.
                if trailing_breaks.is_empty() {
                    value.push(' ');
                }
                leading_break.clear();
            } else {
                value.push_str(&leading_break);
                leading_break.clear();
            }
            value.push_str(&trailing_breaks);
            trailing_breaks.clear();
            leading_blank = self.is_blank(0);
            let line_start = self.pos;
            self.pos = self.line_end();
            value.push_str(self.slice(line_start, self.pos));
            self.read_break(&mut leading_break);
            column = self.block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        }
        if chomping != -1 {
            value.push_str(&leading_break);
        }
        if chomping == 1 {
            value.push_str(&trailing_breaks);
        }
        let style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        self.push(
            TokenKind::Scalar {
                value: Cow::Owned(value),
                style,
            },
            start,
            end,
        );
        Ok(())
    }

    /// The indentation and empty lines before a block scalar's next line of text; settles the indentation
    /// (the deepest of the empty lines', at least the parent's plus one) if it is not yet known. Returns the
    /// column reached (spaces only since the line's start, but for a header that ends the text).
    fn block_scalar_breaks(
        &mut self,
        indent: &mut usize,
        breaks: &mut String,
        start: usize,
        end: &mut usize,
    ) -> Scan<usize> {
        let mut deepest = 0;
        let mut column = self.column();
        *end = self.pos;
        loop {
            while (*indent == 0 || column < *indent) && self.byte(0) == b' ' {
                self.pos += 1;
                column += 1;
            }
            deepest = deepest.max(column);
            if (*indent == 0 || column < *indent) && self.byte(0) == b'\t' {
                return self.error_within(
                    "while scanning a block scalar",
                    start,
                    "found a tab character where an indentation space is expected",
                );
            }
            if !self.is_break(0) {
                break;
            }
            self.read_break(breaks);
            *end = self.pos;
            column = 0;
        }
        if *indent == 0 {
            let parent = usize::try_from(self.indent + 1).unwrap_or(0);
            *indent = deepest.max(parent).max(1);
        }
        Ok(column)
    }

    fn scan_quoted(&mut self, single: bool) -> Scan<()> {
        let start = self.pos;
        let quote = if single { b'\'' } else { b'"' };
        self.pos += 1;
        let content_start = self.pos;
        // Written as is (no escapes, no line breaks): the value borrows the text.
        let mut value: Option<String> = None;
        let mut whitespaces = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        loop {
            if self.at_document_indicator() {
                return self.error_left_open(
                    "while scanning a quoted scalar",
                    start,
                    "found unexpected document indicator",
                );
            }
            if self.at_end() {
                return self.error_left_open(
                    "while scanning a quoted scalar",
                    start,
                    "found unexpected end of stream",
                );
            }
            let mut leading_blanks = false;
            while !self.is_blank_or_end(0) {
                let byte = self.byte(0);
                if single && byte == b'\'' && self.byte(1) == b'\'' {
                    self.owned(&mut value, content_start).push('\'');
                    self.pos += 2;
                } else if byte == quote {
                    break;
                } else if !single && byte == b'\\' && self.is_break(1) {
                    self.owned(&mut value, content_start);
                    self.pos += 1;
                    self.skip_break();
                    leading_blanks = true;
                    break;
                } else if !single && byte == b'\\' {
                    let mut owned = value
                        .take()
                        .unwrap_or_else(|| self.slice(content_start, self.pos).to_string());
                    let result = self.escape(start, &mut owned);
                    value = Some(owned);
                    result?;
                } else {
                    let from = self.pos;
                    self.skip();
                    if let Some(value) = value.as_mut() {
                        value.push_str(self.slice(from, self.pos));
                    }
                }
            }
            if self.byte(0) == quote {
                break;
            }
            let text_end = self.pos;
            // Blanks and line breaks: kept between words on a line, folded across lines.
            while self.is_blank(0) || self.is_break(0) {
                if self.is_blank(0) {
                    if leading_blanks {
                        self.pos += 1;
                    } else {
                        whitespaces.push(char::from(self.byte(0)));
                        self.pos += 1;
                    }
                } else if leading_blanks {
                    self.read_break(&mut trailing_breaks);
                } else {
                    whitespaces.clear();
                    self.read_break(&mut leading_break);
                    leading_blanks = true;
                }
            }
            if leading_blanks {
                let value = value.get_or_insert_with(|| self.slice(content_start, text_end).to_string());
                fold(value, &mut leading_break, &mut trailing_breaks);
                whitespaces.clear();
            } else if !whitespaces.is_empty() {
                if let Some(value) = value.as_mut() {
                    value.push_str(&whitespaces);
                }
                whitespaces.clear();
            }
        }
        let content_end = self.pos;
        self.pos += 1;
        let value = match value {
            Some(value) => Cow::Owned(value),
            None => Cow::Borrowed(self.slice(content_start, content_end)),
        };
        let style = if single {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        self.push(TokenKind::Scalar { value, style }, start, self.pos);
        Ok(())
    }

    /// The scalar's value as an owned string, starting with what was read as is since `from`.
    fn owned<'v>(&self, value: &'v mut Option<String>, from: usize) -> &'v mut String {
        value.get_or_insert_with(|| self.slice(from, self.pos).to_string())
    }

    /// One escape sequence of a double-quoted scalar (spec 1.1 § 5.7, with go-yaml v2's `\'` and without
    /// `\/`, which only JSON has).
    fn escape(&mut self, start: usize, value: &mut String) -> Scan<()> {
        let simple = match self.byte(1) {
            b'0' => Some('\0'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b't' | b'\t' => Some('\t'),
            b'n' => Some('\n'),
            b'v' => Some('\x0B'),
            b'f' => Some('\x0C'),
            b'r' => Some('\r'),
            b'e' => Some('\x1B'),
            b' ' => Some(' '),
            b'"' => Some('"'),
            b'\'' => Some('\''),
            b'\\' => Some('\\'),
            b'/' if self.json => Some('/'),
            b'N' => Some('\u{85}'),
            b'_' => Some('\u{A0}'),
            b'L' => Some('\u{2028}'),
            b'P' => Some('\u{2029}'),
            b'x' | b'u' | b'U' => None,
            _ => {
                return self.error_within(
                    "while parsing a quoted scalar",
                    start,
                    "found unknown escape character",
                );
            }
        };
        let kind = self.byte(1);
        self.pos += 2;
        if let Some(c) = simple {
            value.push(c);
            return Ok(());
        }
        let digits = match kind {
            b'x' => 2,
            b'u' => 4,
            _ => 8,
        };
        let Some(mut code) = self.hex(0, digits) else {
            return self.error_within(
                "while parsing a quoted scalar",
                start,
                "did not find expected hexdecimal number",
            );
        };
        let mut width = digits;
        if self.json && digits == 4 && (0xD800..0xE000).contains(&code) {
            // Go's JSON decoder: a high surrogate and the `\u` low one after it are one character; any
            // other surrogate is U+FFFD.
            let low = (self.byte(4) == b'\\' && self.byte(5) == b'u')
                .then(|| self.hex(6, 4))
                .flatten()
                .filter(|low| (0xDC00..0xE000).contains(low));
            code = match low {
                Some(low) if code < 0xDC00 => {
                    width += 6;
                    0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                _ => 0xFFFD,
            };
        }
        let Some(c) = char::from_u32(code) else {
            return self.error_within(
                "while parsing a quoted scalar",
                start,
                "found invalid Unicode character escape code",
            );
        };
        value.push(c);
        self.pos += width;
        Ok(())
    }

    /// The value of `digits` hexadecimal digits `k` bytes ahead.
    fn hex(&self, k: usize, digits: usize) -> Option<u32> {
        (k..k + digits).try_fold(0u32, |value, i| {
            Some(value * 16 + char::from(self.byte(i)).to_digit(16)?)
        })
    }

    fn scan_plain(&mut self) -> Scan<()> {
        let start = self.pos;
        let mut end = self.pos;
        let indent = self.indent + 1;
        let mut value: Option<String> = None;
        // The blanks after the last run on its line (kept if another run follows on the same line).
        let mut blanks = (start, start);
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        let mut leading_blanks = false;
        loop {
            if self.at_document_indicator() || self.byte(0) == b'#' {
                break;
            }
            let run_start = self.pos;
            self.pos = self.plain_run_end();
            if self.pos > run_start {
                // What separated this run from the previous one: blanks as written, breaks folded.
                if leading_blanks {
                    let value = self.owned_plain(&mut value, start, end);
                    fold(value, &mut leading_break, &mut trailing_breaks);
                    leading_blanks = false;
                } else if let Some(value) = value.as_mut() {
                    value.push_str(self.slice(blanks.0, blanks.1));
                }
                if let Some(value) = value.as_mut() {
                    value.push_str(self.slice(run_start, self.pos));
                }
                end = self.pos;
            }
            let blanks_start = self.pos;
            // Only blanks since the line's start once a break is read: the column is then the byte count.
            let mut after_break = false;
            loop {
                match self.byte(0) {
                    b' ' => {
                        let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
                        self.pos += rest.iter().take_while(|byte| **byte == b' ').count();
                    }
                    b'\t' => {
                        if leading_blanks && ((self.pos - self.line_start) as isize) < indent {
                            return self.error_within(
                                "while scanning a plain scalar",
                                start,
                                "found a tab character that violates indentation",
                            );
                        }
                        self.pos += 1;
                    }
                    _ if self.is_break(0) => {
                        if leading_blanks {
                            self.read_break(&mut trailing_breaks);
                        } else {
                            self.read_break(&mut leading_break);
                            leading_blanks = true;
                        }
                        after_break = true;
                    }
                    _ => break,
                }
            }
            if self.pos == blanks_start {
                break;
            }
            blanks = if leading_blanks {
                (self.pos, self.pos)
            } else {
                (blanks_start, self.pos)
            };
            let column = if after_break {
                self.pos - self.line_start
            } else {
                self.column()
            };
            if self.flow_level == 0 && (column as isize) < indent {
                break;
            }
        }
        if leading_blanks {
            self.key_allowed = true;
        }
        let value = match value {
            Some(value) => Cow::Owned(value),
            None => Cow::Borrowed(self.slice(start, end)),
        };
        self.push(
            TokenKind::Scalar {
                value,
                style: ScalarStyle::Plain,
            },
            start,
            end,
        );
        Ok(())
    }

    /// Where a run of a plain scalar's characters ends: at a blank, a line break, the end, `: ` and (in flow
    /// context) a flow indicator or `?`. Byte by byte: no byte of a multi-byte character is one of these,
    /// and the lead bytes of NEL, LS and PS are looked at closely.
    fn plain_run_end(&self) -> usize {
        let stops = if self.flow_level > 0 {
            &PLAIN_STOPS_IN_FLOW
        } else {
            &PLAIN_STOPS
        };
        let mut at = self.pos;
        while let Some(&byte) = self.bytes.get(at) {
            if stops.get(usize::from(byte)).copied().unwrap_or(false) {
                let k = at - self.pos;
                let ends = match byte {
                    b':' => {
                        self.pos + k + 1 >= self.bytes.len() || self.is_blank(k + 1) || self.is_break(k + 1)
                    }
                    0xC2 | 0xE2 => self.is_break(k),
                    _ => true,
                };
                if ends {
                    break;
                }
            }
            at += 1;
        }
        at
    }

    /// A plain scalar's value as an owned string: what was read as is, `start..end`.
    fn owned_plain<'v>(&self, value: &'v mut Option<String>, start: usize, end: usize) -> &'v mut String {
        value.get_or_insert_with(|| self.slice(start, end).to_string())
    }
}

/// Folds the line breaks between two pieces of a flow or plain scalar (spec 1.1 § 4.1.4): a single break is a
/// space, more are themselves less the first; a break that is LS or PS is kept.
fn fold(value: &mut String, leading_break: &mut String, trailing_breaks: &mut String) {
    if leading_break.starts_with('\n') {
        if trailing_breaks.is_empty() {
            value.push(' ');
        } else {
            value.push_str(trailing_breaks);
        }
    } else {
        value.push_str(leading_break);
        value.push_str(trailing_breaks);
    }
    leading_break.clear();
    trailing_breaks.clear();
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Scan<Token<'a>>;

    /// Tokens up to `StreamEnd`, or up to and including the first error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed.is_some() {
            return None;
        }
        self.next_token().transpose()
    }
}
