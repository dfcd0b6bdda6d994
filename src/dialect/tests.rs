//! Shared helpers for the dialects' unit tests: decode a list of payloads with one
//! stream state and aggregate the tokens the way the fixtures README does. Byte-level
//! feeding and the fixtures themselves are tested in `crate::token`.

use std::collections::BTreeMap;

use super::{DecodeError, Dialect, EventRef, Halt, StreamState, Token};

/// A merged tool call: index, first id, first name, concatenated arguments.
pub(crate) type Call = (u32, Option<String>, Option<String>, String);

/// The aggregate of the tokens decoded from some payloads.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub tokens: usize,
    pub text: BTreeMap<u32, String>,
    pub reasoning: BTreeMap<u32, String>,
    pub calls: Vec<Call>,
    pub finish: BTreeMap<u32, String>,
    pub usage: Option<String>,
    pub done: bool,
    pub stream_error: Option<(Option<String>, String)>,
    pub decode_error: Option<DecodeError>,
    /// Some token's text borrowed the payload.
    pub borrowed_text: bool,
    pub events: Vec<String>,
}

impl Seen {
    pub(crate) fn text(&self, index: u32) -> &str {
        self.text.get(&index).map_or("", String::as_str)
    }

    pub(crate) fn reasoning(&self, index: u32) -> &str {
        self.reasoning.get(&index).map_or("", String::as_str)
    }

    pub(crate) fn finish(&self, index: u32) -> Option<&str> {
        self.finish.get(&index).map(String::as_str)
    }

    /// Adds one token, merging tool calls per fragment index.
    pub(crate) fn add(&mut self, token: &Token<'_>) {
        self.tokens += 1;
        self.events.push(token.event.to_owned());
        if !token.text.is_empty() {
            self.text
                .entry(token.index)
                .or_default()
                .push_str(&token.text);
            self.borrowed_text |= matches!(token.text, std::borrow::Cow::Borrowed(_));
        }
        if let Some(reasoning) = &token.reasoning {
            if !reasoning.is_empty() {
                self.reasoning
                    .entry(token.index)
                    .or_default()
                    .push_str(reasoning);
            }
        }
        for call in &token.tool_calls {
            if !self.calls.iter().any(|c| c.0 == call.index) {
                self.calls.push((call.index, None, None, String::new()));
            }
            let merged = self.calls.iter_mut().find(|c| c.0 == call.index).unwrap();
            if merged.1.is_none() {
                merged.1 = call.id.as_deref().filter(|s| !s.is_empty()).map(Into::into);
            }
            if merged.2.is_none() {
                merged.2 = call
                    .name
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .map(Into::into);
            }
            merged.3.push_str(&call.arguments);
            self.calls.sort_by_key(|c| c.0);
        }
        if let Some(reason) = &token.finish_reason {
            self.finish.insert(token.index, reason.to_string());
        }
        if let Some(usage) = &token.usage {
            self.usage = Some(usage.to_string());
        }
    }
}

/// Decodes `payloads` as consecutive `message` events of one stream.
pub(crate) fn decode_all(dialect: &Dialect, payloads: &[&str]) -> Seen {
    let events: Vec<(&str, &str)> = payloads.iter().map(|p| ("message", *p)).collect();
    decode_events(dialect, &events)
}

/// Decodes `(event type, payload)` pairs of one stream, stopping at an error or the end.
pub(crate) fn decode_events(dialect: &Dialect, events: &[(&str, &str)]) -> Seen {
    let mut seen = Seen::default();
    let mut state = StreamState::default();
    for (i, (event, payload)) in events.iter().enumerate() {
        if state.done {
            break;
        }
        let ev = EventRef {
            event,
            payload,
            data_offset: 0,
            event_index: i as u64 + 1,
        };
        let result = dialect.decode(&ev, &mut state, &mut |t: &Token<'_>| {
            seen.add(t);
            Ok::<(), ()>(())
        });
        match result {
            Ok(()) => {}
            Err(Halt::Decode(err)) => {
                seen.decode_error = Some(err);
                break;
            }
            Err(Halt::Stream(err)) => {
                seen.stream_error = Some((err.type_, err.message));
                break;
            }
            Err(Halt::Sink(())) => unreachable!("the test sink never fails"),
        }
    }
    seen.done = state.done;
    seen
}

#[test]
fn dialect_names_round_trip() {
    for name in super::DIALECT_NAMES {
        let path = (name == "json").then_some("/a");
        let dialect = Dialect::new(name, path).unwrap();
        assert_eq!(dialect.name(), name);
        assert_eq!(dialect.to_string(), name);
        assert_eq!(dialect.is_ndjson(), name == "ollama");
    }
}

#[test]
fn unknown_dialect_lists_the_valid_names() {
    let err = Dialect::from_name("openai").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("\"openai\""), "{msg}");
    for name in super::DIALECT_NAMES {
        assert!(msg.contains(name), "{msg}");
    }
}

#[test]
fn json_dialect_needs_a_valid_text_path() {
    assert_eq!(
        Dialect::from_name("json").unwrap_err(),
        super::DialectError::MissingTextPath
    );
    assert!(Dialect::from_name("json")
        .unwrap_err()
        .to_string()
        .contains("text_path"));
    assert!(matches!(
        Dialect::new("json", Some("a/b")),
        Err(super::DialectError::InvalidTextPath(_))
    ));
    assert!(matches!(
        Dialect::new("tgi", Some("/a")),
        Err(super::DialectError::UnexpectedTextPath { dialect: "tgi" })
    ));
    assert!(Dialect::new("json", Some("")).is_ok());
}

#[test]
fn deeply_nested_payload_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "{{\"choices\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for name in super::DIALECT_NAMES {
        let dialect = Dialect::new(name, (name == "json").then_some("/choices/0/0/0")).unwrap();
        let seen = decode_all(&dialect, &[&deep]);
        if name != "json" {
            let err = seen.decode_error.expect(name);
            assert!(err.kind.contains("recursion limit"), "{name}: {err}");
        }
    }
}

#[test]
fn a_plain_token_carries_text_and_nothing_else() {
    let text = Token {
        text: "Hi".into(),
        ..Token::default()
    };
    assert!(text.is_plain());
    assert!(
        Token::at(1).is_plain(),
        "the index and empty text leave it plain"
    );
    let others = [
        Token {
            finish_reason: Some("stop".into()),
            ..text.clone()
        },
        Token {
            usage: Some("{}".into()),
            ..text.clone()
        },
        Token {
            tool_calls: vec![super::ToolCallDelta::default()],
            ..text.clone()
        },
        Token {
            reasoning: Some("hm".into()),
            ..text.clone()
        },
    ];
    for token in others {
        assert!(!token.is_plain(), "{token:?}");
    }
}
