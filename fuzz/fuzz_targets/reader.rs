//! podsec's YAML reader on any text, as YAML and as a JSON value: no panic; every token and event lies
//! inside the text on character boundaries; collections open and close in order, the stream ends with
//! `StreamEnd` or one error, whose cause lies before where the reading stopped. (Until the libyaml port was
//! removed, the target `reader_differential` held this reader to it token by token and event by event.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use podsec_engine::yaml::events::{EventKind, Reader};
use podsec_engine::yaml::scan::{Scanner, TokenKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let inside = |start: usize, end: usize| {
        start <= end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end)
    };
    let mut ended = false;
    for token in Scanner::new(text) {
        match token {
            Ok(token) => {
                assert!(inside(token.start, token.end), "{token:?}");
                ended = token.kind == TokenKind::StreamEnd;
            }
            Err(error) => {
                assert!(error.cause() <= error.at && error.at <= text.len(), "{error:?}");
                ended = true;
            }
        }
    }
    assert!(ended, "the tokens stop before the end");
    for json in [false, true] {
        let mut reader = Reader::new(text);
        reader.set_json(json);
        let mut depth: usize = 0;
        loop {
            match reader.next_event() {
                Ok(Some(event)) => {
                    assert!(inside(event.start, event.end), "{event:?}");
                    match event.kind {
                        EventKind::MappingStart { .. } | EventKind::SequenceStart { .. } => depth += 1,
                        EventKind::MappingEnd | EventKind::SequenceEnd => {
                            depth = depth.checked_sub(1).expect("a collection closes that never opened");
                        }
                        EventKind::StreamEnd => assert_eq!(depth, 0, "the stream ends inside a collection"),
                        _ => {}
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    assert!(error.cause() <= error.at && error.at <= text.len(), "{error:?}");
                    break;
                }
            }
        }
    }
});
