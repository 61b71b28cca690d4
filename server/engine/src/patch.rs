//! Minimal text edits on the positioned tree, never a re-serialisation: every byte outside an edit
//! stays as written, and inserted text follows the surrounding indentation, block or flow style, and
//! line endings.

use crate::yaml::{Document, NodeKind, NodeRef, Span};

/// Replace the text of `span` with `replacement` (an insertion when the span is empty).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextEdit {
    /// The bytes replaced.
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

impl TextEdit {
    fn insert(at: usize, text: String) -> Self {
        Self {
            span: Span::point(at),
            replacement: text,
        }
    }
}

/// Applies edits to `text`. Edits must not overlap; they are applied from the end so offsets stay valid.
pub fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.replacement.len()).sum::<usize>());
    let mut cursor = 0;
    for edit in sorted {
        if edit.span.start < cursor || edit.span.end > text.len() {
            continue;
        }
        out.push_str(text.get(cursor..edit.span.start).unwrap_or(""));
        out.push_str(&edit.replacement);
        cursor = edit.span.end;
    }
    out.push_str(text.get(cursor..).unwrap_or(""));
    out
}

/// Layout facts of a document: its line ending and indentation step.
pub struct Layout<'t> {
    text: &'t str,
    eol: &'static str,
    step: usize,
}

impl<'t> Layout<'t> {
    /// Reads the layout of `document`: CRLF if the text uses it, and the indentation step of the first
    /// block mapping nested in another (2 if there is none).
    pub fn of(document: &Document<'t>) -> Self {
        let text = document.text;
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut layout = Self { text, eol, step: 2 };
        layout.step = layout.infer_step(document).unwrap_or(2);
        layout
    }

    fn infer_step(&self, document: &Document<'_>) -> Option<usize> {
        document.nodes.iter().find_map(|node| {
            let NodeKind::Mapping { entries, flow: false } = &node.kind else {
                return None;
            };
            document.entries_of(*entries).iter().find_map(|(key, value)| {
                let value = document.node_ref(*value);
                let NodeKind::Mapping {
                    entries: inner,
                    flow: false,
                } = value.kind()?
                else {
                    return None;
                };
                let (inner_key, _) = document.entries_of(*inner).first()?;
                let outer = self.column(document.node_ref(*key).span().start);
                let inner_col = self.column(document.node_ref(*inner_key).span().start);
                let same_line = self.line_start(document.node_ref(*inner_key).span().start)
                    == self.line_start(document.node_ref(*key).span().start);
                (inner_col > outer && !same_line).then_some(inner_col - outer)
            })
        })
    }

    /// The start of the line holding `offset`. Lines end at `\n`, `\r\n` or a lone `\r`, as in YAML.
    fn line_start(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .and_then(|t| t.rfind(['\n', '\r']))
            .map_or(0, |i| i + 1)
    }

    /// The end of the line holding `offset`, before its line break.
    fn line_end(&self, offset: usize) -> usize {
        let rest = self.text.get(offset..).unwrap_or("");
        offset + rest.find(['\n', '\r']).unwrap_or(rest.len())
    }

    /// The start of the next line (after the line break), or the end of the text.
    fn next_line(&self, offset: usize) -> usize {
        let end = self.line_end(offset);
        let rest = self.text.get(end..).unwrap_or("");
        end + if rest.starts_with("\r\n") {
            2
        } else {
            usize::from(!rest.is_empty())
        }
    }

    /// The offset of the colon that follows `key` (only spaces between), if it has one.
    fn colon_after(&self, key: NodeRef<'_>) -> Option<usize> {
        let end = key.span().end;
        let rest = self.text.get(end..)?;
        let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        rest.get(gap..)?.starts_with(':').then_some(end + gap)
    }

    /// Characters from the start of the line to `offset`.
    fn column(&self, offset: usize) -> usize {
        self.text
            .get(self.line_start(offset)..offset)
            .map_or(0, |t| t.chars().count())
    }

    /// Whether only spaces precede `offset` on its line.
    fn starts_line(&self, offset: usize) -> bool {
        self.text
            .get(self.line_start(offset)..offset)
            .is_some_and(|t| t.chars().all(|c| c == ' '))
    }

    /// The last byte of real content at or before `end` (block scalars end after their line break).
    fn content_end(&self, end: usize) -> usize {
        self.text.get(..end).map_or(end, |t| t.trim_end().len())
    }

    /// Where a new line can be added after the node ending at `end`: the end of its last line,
    /// after any comment there.
    fn after_line_of(&self, end: usize) -> usize {
        self.line_end(self.content_end(end))
    }

    /// `keys[0]:\n  keys[1]: …leaf` as block lines at `indent`, joined with the line ending.
    fn block(&self, keys: &[&str], leaf: &str, indent: usize) -> String {
        let mut lines = Vec::new();
        for (depth, key) in keys.iter().enumerate() {
            let pad = " ".repeat(indent + depth * self.step);
            if depth + 1 == keys.len() {
                lines.push(format!("{pad}{key}: {leaf}"));
            } else {
                lines.push(format!("{pad}{key}:"));
            }
        }
        lines.join(self.eol)
    }
}

/// `a: {b: leaf}` for keys `[a, b]`.
fn flow(keys: &[&str], leaf: &str) -> String {
    let mut text = String::new();
    for (depth, key) in keys.iter().enumerate() {
        text.push_str(key);
        text.push_str(": ");
        if depth + 1 < keys.len() {
            text.push('{');
        }
    }
    text.push_str(leaf);
    text.push_str(&"}".repeat(keys.len().saturating_sub(1)));
    text
}

/// Whether a node sits inside a flow collection.
fn inside_flow(node: NodeRef<'_>) -> bool {
    let document = node.document();
    let mut current = document.nodes.get(node.id() as usize).and_then(|n| n.parent);
    while let Some(id) = current {
        if is_flow(document.node_ref(id)) {
            return true;
        }
        current = document.nodes.get(id as usize).and_then(|n| n.parent);
    }
    false
}

fn is_flow(node: NodeRef<'_>) -> bool {
    matches!(
        node.kind(),
        Some(NodeKind::Mapping { flow: true, .. } | NodeKind::Sequence { flow: true, .. })
    )
}

/// The entry of `key`, null values included.
fn raw_entry<'d>(mapping: NodeRef<'d>, key: &str) -> Option<crate::yaml::Entry<'d>> {
    mapping.entries().filter(|e| e.key.as_str() == Some(key)).last()
}

/// Makes `mapping.keys[0].keys[1]…` equal to `leaf` (YAML text), creating what is missing.
/// `None` when it already is.
pub fn ensure(layout: &Layout<'_>, mapping: NodeRef<'_>, keys: &[&str], leaf: &str) -> Option<TextEdit> {
    let mapping = mapping.resolved();
    // Only a mapping can take keys (a container still being typed may be a bare scalar), and a block
    // mapping inside flow context (an implicit `key: value` pair in `[…]`) cannot take new lines.
    if !mapping.is_mapping() || (!is_flow(mapping) && inside_flow(mapping)) {
        return None;
    }
    let (first, rest) = keys.split_first()?;
    match raw_entry(mapping, first) {
        Some(entry) if rest.is_empty() => {
            if entry.value.as_str() == Some(leaf) {
                return None;
            }
            Some(replace_value(layout, entry.key, entry.written_value, leaf))
        }
        Some(entry) if entry.value.is_mapping() => ensure(layout, entry.value, rest, leaf),
        Some(entry) => {
            // Present but null (or not a mapping): give it the nested value.
            let nested = if is_flow(mapping) {
                format!("{{{}}}", flow(rest, leaf))
            } else {
                let indent = layout.column(entry.key.span().start) + layout.step;
                format!("{}{}", layout.eol, layout.block(rest, leaf, indent))
            };
            if nested.starts_with(layout.eol) {
                // Block: everything after the colon is replaced, comments on that line kept after.
                let value_span = entry.written_value.span();
                let colon = layout.colon_after(entry.key)?;
                let end = if value_span.end > value_span.start {
                    value_span.end
                } else {
                    colon + 1
                };
                Some(TextEdit {
                    span: Span::new(colon + 1, end),
                    replacement: nested,
                })
            } else {
                Some(replace_value(layout, entry.key, entry.written_value, &nested))
            }
        }
        None => Some(insert_entry(layout, mapping, keys, leaf)),
    }
}

/// Replaces an entry's value with `text` (after the colon, when the value is empty).
pub fn replace_value(layout: &Layout<'_>, key: NodeRef<'_>, value: NodeRef<'_>, text: &str) -> TextEdit {
    let span = value.span();
    if span.end > span.start && span.start >= key.span().end {
        return TextEdit {
            span,
            replacement: text.to_string(),
        };
    }
    match layout.colon_after(key) {
        Some(colon) => TextEdit::insert(colon + 1, format!(" {text}")),
        // `{key}` or `{key, …}`: no colon yet.
        None => TextEdit::insert(key.span().end, format!(": {text}")),
    }
}

/// Adds `keys[0]: …` as a new entry of `mapping`, after its last entry.
fn insert_entry(layout: &Layout<'_>, mapping: NodeRef<'_>, keys: &[&str], leaf: &str) -> TextEdit {
    // Among the entries written here: merged ones (`<<: *base`) are written elsewhere.
    let last_end = mapping
        .written_entries()
        .last()
        .map(|e| e.written_value.span().end.max(e.key.span().end));
    if is_flow(mapping) {
        // Never past the closing brace, whatever the last value's span says.
        let last_end = last_end.map(|end| end.min(mapping.span().end.saturating_sub(1)));
        let text = flow(keys, leaf);
        return match last_end {
            Some(end) => TextEdit::insert(end, format!(", {text}")),
            None => TextEdit::insert(mapping.span().start + 1, text),
        };
    }
    let first_key = mapping
        .written_entries()
        .next()
        .map_or(mapping.span().start, |e| e.key.span().start);
    let indent = layout.column(first_key);
    let at = layout.after_line_of(last_end.unwrap_or(mapping.span().end));
    TextEdit::insert(at, format!("{}{}", layout.eol, layout.block(keys, leaf, indent)))
}

/// Appends `item` (YAML text) to a sequence.
pub fn append_item(layout: &Layout<'_>, sequence: NodeRef<'_>, item: &str) -> Option<TextEdit> {
    let sequence = sequence.resolved();
    let last = sequence.items().last();
    if is_flow(sequence) {
        let close = sequence.span().end.saturating_sub(1);
        return Some(match last {
            Some(last) => TextEdit::insert(last.span().end.min(close), format!(", {item}")),
            None => TextEdit::insert(sequence.span().start + 1, item.to_string()),
        });
    }
    let first = sequence.items().next()?;
    let dash = layout.text.get(..first.span().start)?.rfind('-')?;
    let indent = layout.column(dash);
    let at = layout.after_line_of(last?.span().end);
    Some(TextEdit::insert(
        at,
        format!("{}{}- {item}", layout.eol, " ".repeat(indent)),
    ))
}

/// Removes an entry (key and value) from its mapping.
pub fn remove_entry(layout: &Layout<'_>, mapping: NodeRef<'_>, key: NodeRef<'_>) -> Option<TextEdit> {
    // From the mapping that writes it: an entry a `<<` merge key brought in is removed where it is written.
    let mapping = match key.parent() {
        Some(parent) if parent.id() != mapping.resolved().id() && parent.is_mapping() => parent,
        _ => mapping.resolved(),
    };
    let entries: Vec<_> = mapping.written_entries().collect();
    let index = entries.iter().position(|e| e.key.id() == key.id())?;
    let entry = entries.get(index)?;
    let end = entry.written_value.span().end.max(entry.key.span().end);
    if is_flow(mapping) {
        return Some(
            match (
                entries.get(index + 1),
                index.checked_sub(1).and_then(|i| entries.get(i)),
            ) {
                (Some(next), _) => TextEdit {
                    span: Span::new(entry.key.span().start, next.key.span().start),
                    replacement: String::new(),
                },
                (None, Some(previous)) => {
                    let previous_end = previous.written_value.span().end.max(previous.key.span().end);
                    TextEdit {
                        span: Span::new(previous_end, end),
                        replacement: String::new(),
                    }
                }
                (None, None) => TextEdit {
                    span: Span::new(entry.key.span().start, end),
                    replacement: String::new(),
                },
            },
        );
    }
    let start = entry.key.span().start;
    if layout.starts_line(start) {
        // Whole lines, with the comment at the end of the last one.
        let line = layout.line_start(start);
        return Some(TextEdit {
            span: Span::new(line, layout.next_line(layout.content_end(end))),
            replacement: String::new(),
        });
    }
    // The first entry of a `- key: value` item: keep the dash, pull the next entry up.
    Some(match entries.get(index + 1) {
        Some(next) => TextEdit {
            span: Span::new(start, next.key.span().start),
            replacement: String::new(),
        },
        None => TextEdit {
            span: Span::new(start, layout.after_line_of(end)),
            replacement: "{}".to_string(),
        },
    })
}

/// Removes an item from its sequence.
pub fn remove_item(layout: &Layout<'_>, sequence: NodeRef<'_>, item_index: usize) -> Option<TextEdit> {
    let sequence = sequence.resolved();
    let items: Vec<NodeRef<'_>> = match sequence.kind() {
        Some(NodeKind::Sequence { items, .. }) => {
            let document = sequence.document();
            document
                .items_of(*items)
                .iter()
                .map(|id| document.node_ref(*id))
                .collect()
        }
        _ => return None,
    };
    let item = items.get(item_index)?;
    if is_flow(sequence) {
        let next = items.get(item_index + 1);
        let previous = item_index.checked_sub(1).and_then(|i| items.get(i));
        return Some(match (next, previous) {
            (Some(next), _) => TextEdit {
                span: Span::new(item.span().start, next.span().start),
                replacement: String::new(),
            },
            (None, Some(previous)) => TextEdit {
                span: Span::new(previous.span().end, item.span().end),
                replacement: String::new(),
            },
            (None, None) => TextEdit {
                span: item.span(),
                replacement: String::new(),
            },
        });
    }
    if items.len() == 1 {
        // The only item: remove the whole entry (`add: [X]` → nothing), so no empty list is left behind.
        let document = sequence.document();
        let parent = document
            .nodes
            .get(sequence.id() as usize)?
            .parent
            .map(|p| document.node_ref(p))?;
        let key = parent
            .entries()
            .find(|e| e.written_value.id() == sequence.id())?
            .key;
        return remove_entry(layout, parent, key);
    }
    let dash = layout.text.get(..item.span().start)?.rfind('-')?;
    Some(TextEdit {
        span: Span::new(
            layout.line_start(dash),
            layout.next_line(layout.content_end(item.span().end)),
        ),
        replacement: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn with_root(text: &str, edit: impl Fn(&Layout<'_>, NodeRef<'_>) -> Option<TextEdit>) -> String {
        let stream = parse_stream(text, &Limits::default());
        let document = &stream.documents[0];
        let layout = Layout::of(document);
        let edit = edit(&layout, document.root().unwrap()).expect("an edit");
        apply(text, &[edit])
    }

    #[test]
    fn ensure_creates_nested_block_keys_with_the_document_indentation() {
        let text = "spec:\n    containers:\n    - name: app   # main\n      image: x\n";
        let fixed = with_root(text, |layout, root| {
            let container = root.get("spec")?.get("containers")?.items().next()?;
            ensure(
                layout,
                container,
                &["securityContext", "allowPrivilegeEscalation"],
                "false",
            )
        });
        assert_eq!(
            fixed,
            "spec:\n    containers:\n    - name: app   # main\n      image: x\n      securityContext:\n          allowPrivilegeEscalation: false\n"
        );
    }

    #[test]
    fn ensure_in_flow_style_and_with_crlf() {
        let text = "c: {name: a, securityContext: {}}\r\nd: 1\r\n";
        let fixed = with_root(text, |layout, root| {
            ensure(
                layout,
                root.get("c")?,
                &["securityContext", "capabilities", "drop"],
                "[ALL]",
            )
        });
        assert_eq!(
            fixed,
            "c: {name: a, securityContext: {capabilities: {drop: [ALL]}}}\r\nd: 1\r\n"
        );
        let fixed = with_root("a:\r\n  b: 1\r\n", |layout, root| {
            ensure(layout, root.get("a")?, &["c", "d"], "x")
        });
        assert_eq!(fixed, "a:\r\n  b: 1\r\n  c:\r\n    d: x\r\n");
    }

    #[test]
    fn ensure_fills_a_null_value_and_replaces_a_wrong_one() {
        let fixed = with_root("sc:   # keep\nz: 1\n", |layout, root| {
            ensure(layout, root, &["sc", "a"], "true")
        });
        assert_eq!(fixed, "sc:\n  a: true   # keep\nz: 1\n");
        let fixed = with_root("sc: {a: false}\n", |layout, root| {
            ensure(layout, root, &["sc", "a"], "true")
        });
        assert_eq!(fixed, "sc: {a: true}\n");
        let fixed = with_root("a: ~\n", |layout, root| ensure(layout, root, &["a", "b"], "1"));
        assert_eq!(fixed, "a:\n  b: 1\n");
    }

    #[test]
    fn append_and_remove_items_in_both_styles() {
        let fixed = with_root("drop:\n  - NET_RAW # x\nz: 1\n", |layout, root| {
            append_item(layout, root.get("drop")?, "ALL")
        });
        assert_eq!(fixed, "drop:\n  - NET_RAW # x\n  - ALL\nz: 1\n");
        let fixed = with_root("drop: [NET_RAW]\n", |layout, root| {
            append_item(layout, root.get("drop")?, "ALL")
        });
        assert_eq!(fixed, "drop: [NET_RAW, ALL]\n");
        let fixed = with_root("add: [A, B, C]\n", |layout, root| {
            remove_item(layout, root.get("add")?, 1)
        });
        assert_eq!(fixed, "add: [A, C]\n");
        let fixed = with_root("add:\n- A\n- B  # b\n- C\n", |layout, root| {
            remove_item(layout, root.get("add")?, 1)
        });
        assert_eq!(fixed, "add:\n- A\n- C\n");
        let fixed = with_root("add:\n- A\nz: 1\n", |layout, root| {
            remove_item(layout, root.get("add")?, 0)
        });
        assert_eq!(fixed, "z: 1\n");
    }

    #[test]
    fn remove_entries_keeping_the_rest() {
        let fixed = with_root("a: 1\nb: 2   # gone\nc: 3\n", |layout, root| {
            remove_entry(layout, root, root.entry("b")?.key)
        });
        assert_eq!(fixed, "a: 1\nc: 3\n");
        let fixed = with_root("- name: x\n  hostPort: 1\n", |layout, root| {
            let item = root.items().next()?;
            remove_entry(layout, item, item.entry("name")?.key)
        });
        assert_eq!(fixed, "- hostPort: 1\n");
        let fixed = with_root("{a: 1, b: 2, c: 3}\n", |layout, root| {
            remove_entry(layout, root, root.entry("c")?.key)
        });
        assert_eq!(fixed, "{a: 1, b: 2}\n");
    }
}
