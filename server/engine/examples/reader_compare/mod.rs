//! The comparison the `reader_differential` example and fuzz target share: podsec's reader against the
//! libyaml port, as lines `kind value @start..end`, the first error included.

use podsec_engine::yaml::events::{EventKind, Reader};
use podsec_engine::yaml::scan::ScalarStyle;
use podsec_libyaml as old;

/// The events of the libyaml port, up to its first error (as `error: problem @at`).
pub fn old_events(text: &str, json: bool) -> Vec<String> {
    let mut input = text.as_bytes();
    let mut parser = old::Parser::new();
    parser.set_input_string(&mut input);
    parser.set_json(json);
    let mut lines = Vec::new();
    loop {
        match parser.parse() {
            Ok(event) => {
                let span = format!("@{}..{}", event.start_mark.index, event.end_mark.index);
                let line = match event.data {
                    old::EventData::StreamStart { .. } => "stream-start".to_string(),
                    old::EventData::StreamEnd => "stream-end".to_string(),
                    old::EventData::DocumentStart { implicit, .. } => format!("document-start explicit={}", !implicit),
                    old::EventData::DocumentEnd { implicit } => format!("document-end explicit={}", !implicit),
                    old::EventData::Alias { anchor } => format!("alias {anchor}"),
                    old::EventData::Scalar {
                        anchor,
                        tag,
                        value,
                        style,
                        ..
                    } => {
                        let style = match style {
                            old::ScalarStyle::SingleQuoted => "single",
                            old::ScalarStyle::DoubleQuoted => "double",
                            old::ScalarStyle::Literal => "literal",
                            old::ScalarStyle::Folded => "folded",
                            _ => "plain",
                        };
                        format!("scalar {style} {value:?} anchor={anchor:?} tag={tag:?}")
                    }
                    old::EventData::SequenceStart { anchor, tag, style, .. } => format!(
                        "sequence-start flow={} anchor={anchor:?} tag={tag:?}",
                        style == old::SequenceStyle::Flow
                    ),
                    old::EventData::MappingStart { anchor, tag, style, .. } => format!(
                        "mapping-start flow={} anchor={anchor:?} tag={tag:?}",
                        style == old::MappingStyle::Flow
                    ),
                    old::EventData::SequenceEnd => "sequence-end".to_string(),
                    old::EventData::MappingEnd => "mapping-end".to_string(),
                };
                let end = line == "stream-end";
                lines.push(format!("{line} {span}"));
                if end {
                    break;
                }
            }
            Err(error) => {
                let at = error
                    .problem_mark()
                    .map_or_else(|| error.offset().unwrap_or(0) as u64, |mark| mark.index);
                lines.push(format!("error: {} @{at}", error.problem()));
                break;
            }
        }
    }
    lines
}

/// The events of podsec's reader, written as `old_events` writes the port's.
pub fn new_events(text: &str, json: bool) -> Vec<String> {
    let mut reader = Reader::new(text);
    reader.set_json(json);
    let mut lines = Vec::new();
    loop {
        match reader.next_event() {
            Ok(Some(event)) => {
                let span = format!("@{}..{}", event.start, event.end);
                let line = match event.kind {
                    EventKind::StreamStart => "stream-start".to_string(),
                    EventKind::StreamEnd => "stream-end".to_string(),
                    EventKind::DocumentStart { explicit } => format!("document-start explicit={explicit}"),
                    EventKind::DocumentEnd { explicit } => format!("document-end explicit={explicit}"),
                    EventKind::Alias { name } => format!("alias {name}"),
                    EventKind::Scalar {
                        value,
                        style,
                        anchor,
                        tag,
                    } => {
                        let style = match style {
                            ScalarStyle::SingleQuoted => "single",
                            ScalarStyle::DoubleQuoted => "double",
                            ScalarStyle::Literal => "literal",
                            ScalarStyle::Folded => "folded",
                            ScalarStyle::Plain => "plain",
                        };
                        let anchor = anchor.map(str::to_string);
                        let tag = tag.map(|t| t.into_owned());
                        format!("scalar {style} {value:?} anchor={anchor:?} tag={tag:?}")
                    }
                    EventKind::SequenceStart { anchor, tag, flow } => {
                        let anchor = anchor.map(str::to_string);
                        let tag = tag.map(|t| t.into_owned());
                        format!("sequence-start flow={flow} anchor={anchor:?} tag={tag:?}")
                    }
                    EventKind::MappingStart { anchor, tag, flow } => {
                        let anchor = anchor.map(str::to_string);
                        let tag = tag.map(|t| t.into_owned());
                        format!("mapping-start flow={flow} anchor={anchor:?} tag={tag:?}")
                    }
                    EventKind::SequenceEnd => "sequence-end".to_string(),
                    EventKind::MappingEnd => "mapping-end".to_string(),
                };
                lines.push(format!("{line} {span}"));
            }
            Ok(None) => break,
            Err(error) => {
                lines.push(format!("error: {} @{}", error.problem, error.at));
                break;
            }
        }
    }
    lines
}

/// Whether the two readers agree on `text`; otherwise the first differing event of each. Differences that
/// are decided (see ARCHITECTURE.md, "podsec's YAML reader") are not differences:
/// - a control character is refused before the first event (the port refused it when its 16 KiB window
///   reached it, after the events before, or an earlier error);
/// - a `%`-escaped tag is decoded as UTF-8 bytes (the port made each byte a character).
pub fn compare(text: &str, json: bool) -> Result<(), String> {
    let old = old_events(text, json);
    let new = new_events(text, json);
    if old == new || decided(text, &old, &new) {
        return Ok(());
    }
    let index = old.iter().zip(&new).position(|(a, b)| a != b).unwrap_or(old.len().min(new.len()));
    Err(format!("old: {:?}\n    new: {:?}", old.get(index), new.get(index)))
}

/// The decided differences of [`compare`].
fn decided(text: &str, old: &[String], new: &[String]) -> bool {
    let control = "error: control characters are not allowed";
    // Both refuse a text with a control character; podsec's reader first, the port possibly on something
    // before it, or after the events of its first 16 KiB.
    if new.last().is_some_and(|l| l.starts_with(control)) && old.last().is_some_and(|l| l.starts_with("error: ")) {
        return true;
    }
    // Lines that differ only in a tag, where the text has a `%` escape in one.
    let without_tag = |line: &String| {
        let (before, after) = line.split_once(" tag=").or_else(|| line.split_once("Tag ")).unwrap_or((line, ""));
        format!("{before} {}", after.rsplit(' ').next().unwrap_or(""))
    };
    text.contains('!')
        && text.contains('%')
        && old.len() == new.len()
        && old.iter().map(without_tag).eq(new.iter().map(without_tag))
}

/// The tokens of the libyaml port, up to its first error.
pub fn old_tokens(text: &str) -> Vec<String> {
    let mut input = text.as_bytes();
    let mut scanner = old::Scanner::new();
    scanner.set_input_string(&mut input);
    let mut lines = Vec::new();
    for token in scanner {
        match token {
            Ok(token) => {
                let kind = match token.data {
                    old::TokenData::StreamStart { .. } => "StreamStart".to_string(),
                    old::TokenData::StreamEnd => "StreamEnd".to_string(),
                    old::TokenData::VersionDirective { major, minor } => format!("%YAML {major}.{minor}"),
                    old::TokenData::TagDirective { handle, prefix } => format!("%TAG {handle} {prefix}"),
                    old::TokenData::DocumentStart => "DocumentStart".to_string(),
                    old::TokenData::DocumentEnd => "DocumentEnd".to_string(),
                    old::TokenData::BlockSequenceStart => "BlockSequenceStart".to_string(),
                    old::TokenData::BlockMappingStart => "BlockMappingStart".to_string(),
                    old::TokenData::BlockEnd => "BlockEnd".to_string(),
                    old::TokenData::FlowSequenceStart => "FlowSequenceStart".to_string(),
                    old::TokenData::FlowSequenceEnd => "FlowSequenceEnd".to_string(),
                    old::TokenData::FlowMappingStart => "FlowMappingStart".to_string(),
                    old::TokenData::FlowMappingEnd => "FlowMappingEnd".to_string(),
                    old::TokenData::BlockEntry => "BlockEntry".to_string(),
                    old::TokenData::FlowEntry => "FlowEntry".to_string(),
                    old::TokenData::Key => "Key".to_string(),
                    old::TokenData::Value => "Value".to_string(),
                    old::TokenData::Alias { value } => format!("Alias {value}"),
                    old::TokenData::Anchor { value } => format!("Anchor {value}"),
                    old::TokenData::Tag { handle, suffix } => format!("Tag {handle:?} {suffix:?}"),
                    old::TokenData::Scalar { value, .. } => format!("Scalar {value:?}"),
                };
                let end = kind == "StreamEnd";
                lines.push(format!("{kind} @{}..{}", token.start_mark.index, token.end_mark.index));
                if end {
                    break;
                }
            }
            Err(error) => {
                let at = error
                    .problem_mark()
                    .map_or_else(|| error.offset().unwrap_or(0) as u64, |mark| mark.index);
                lines.push(format!("error: {} @{at}", error.problem()));
                break;
            }
        }
    }
    lines
}

/// The tokens of podsec's scanner, written as `old_tokens` writes the port's.
pub fn new_tokens(text: &str) -> Vec<String> {
    use podsec_engine::yaml::scan::{Scanner, TokenKind};
    let mut lines = Vec::new();
    for token in Scanner::new(text) {
        match token {
            Ok(token) => {
                let kind = match token.kind {
                    TokenKind::VersionDirective { major, minor } => format!("%YAML {major}.{minor}"),
                    TokenKind::TagDirective { handle, prefix } => format!("%TAG {handle} {prefix}"),
                    TokenKind::Alias(value) => format!("Alias {value}"),
                    TokenKind::Anchor(value) => format!("Anchor {value}"),
                    TokenKind::Tag { handle, suffix } => format!("Tag {handle:?} {suffix:?}"),
                    TokenKind::Scalar { value, .. } => format!("Scalar {value:?}"),
                    other => format!("{other:?}"),
                };
                lines.push(format!("{kind} @{}..{}", token.start, token.end));
            }
            Err(error) => {
                lines.push(format!("error: {} @{}", error.problem, error.at));
                break;
            }
        }
    }
    lines
}

/// Whether the two scanners agree on `text` (with the decided differences of [`compare`]).
pub fn compare_tokens(text: &str) -> Result<(), String> {
    let old = old_tokens(text);
    let new = new_tokens(text);
    if old == new || decided(text, &old, &new) {
        return Ok(());
    }
    let index = old.iter().zip(&new).position(|(a, b)| a != b).unwrap_or(old.len().min(new.len()));
    Err(format!("tokens: old: {:?}\n    new: {:?}", old.get(index), new.get(index)))
}
