//! The dialect layer's errors: [`DecodeError`] for a payload that is not the JSON the
//! dialect expects (with its place in the stream), [`StreamError`] for an error the
//! provider sent inside the stream. Framing errors belong to `sse` and `ndjson`.

use std::fmt;

use jiter::JiterError;

use super::EventRef;

/// Longest excerpt of a payload a [`DecodeError`] carries, in bytes.
const SNIPPET_BYTES: usize = 40;
/// How much of the excerpt precedes the error position.
const SNIPPET_BEFORE: usize = 15;

/// A payload is not the JSON its dialect expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong, e.g. `expected object but found array`.
    pub kind: String,
    /// Byte offset in the stream: the payload's data offset plus the position in it.
    pub offset: u64,
    /// An excerpt (at most 40 bytes) of the payload around the error.
    pub snippet: String,
    /// 1-based number of the event (NDJSON: line) in the stream.
    pub event_index: u64,
    /// The dialect decoding the stream.
    pub dialect: &'static str,
}

impl DecodeError {
    /// A decode error at byte `position` of the payload of `ev`.
    pub(crate) fn at(
        kind: String,
        ev: &EventRef<'_>,
        position: usize,
        dialect: &'static str,
    ) -> Self {
        Self {
            kind,
            offset: ev.data_offset.saturating_add(position as u64),
            snippet: snippet(ev.payload, position),
            event_index: ev.event_index,
            dialect,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.dialect == "ollama" {
            "line"
        } else {
            "event"
        };
        write!(
            f,
            "{} at byte {} of {unit} {} ({}): '{}'",
            self.kind, self.offset, self.event_index, self.dialect, self.snippet
        )
    }
}

impl std::error::Error for DecodeError {}

/// The provider reported an error inside the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// The provider's error type or code, when it gives one.
    pub type_: Option<String>,
    /// The provider's message.
    pub message: String,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.type_ {
            Some(type_) => write!(f, "{type_}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for StreamError {}

/// Why a dialect's parse of one payload stopped.
#[derive(Debug, PartialEq)]
pub(crate) enum Stop {
    /// Malformed JSON, or a value of the wrong type where the dialect needs one.
    Json(JiterError),
    /// The payload is the provider's in-stream error.
    Stream(StreamError),
}

impl From<JiterError> for Stop {
    fn from(err: JiterError) -> Self {
        Self::Json(err)
    }
}

/// Why decoding one event stopped: the dialect failed, or the sink did.
#[derive(Debug)]
pub(crate) enum Halt<E> {
    /// The payload is malformed.
    Decode(DecodeError),
    /// The provider sent an error.
    Stream(StreamError),
    /// The caller's sink returned an error.
    Sink(E),
}

impl<E> Halt<E> {
    /// Places a dialect's [`Stop`] in the stream.
    pub(crate) fn from_stop(stop: Stop, ev: &EventRef<'_>, dialect: &'static str) -> Self {
        match stop {
            Stop::Json(err) => Self::Decode(DecodeError::at(
                err.error_type.to_string(),
                ev,
                err.index,
                dialect,
            )),
            Stop::Stream(err) => Self::Stream(err),
        }
    }
}

/// Up to [`SNIPPET_BYTES`] of `payload` around byte `position`, cut at char boundaries.
fn snippet(payload: &str, position: usize) -> String {
    let position = position.min(payload.len());
    let mut start = position.saturating_sub(SNIPPET_BEFORE);
    // Near the end, show more of what precedes the error instead.
    if payload.len() - start < SNIPPET_BYTES {
        start = payload.len().saturating_sub(SNIPPET_BYTES);
    }
    while !payload.is_char_boundary(start) {
        start += 1;
    }
    let mut end = start.saturating_add(SNIPPET_BYTES).min(payload.len());
    while !payload.is_char_boundary(end) {
        end -= 1;
    }
    payload.get(start..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn snippet_is_at_most_40_bytes_on_char_boundaries() {
        let payload = "é".repeat(100);
        for position in 0..=payload.len() + 3 {
            let s = snippet(&payload, position);
            assert!(s.len() <= SNIPPET_BYTES);
            assert!(!s.is_empty());
        }
    }

    #[test]
    fn snippet_of_short_payload_is_the_payload() {
        assert_eq!(snippet("{\"choi", 0), "{\"choi");
        assert_eq!(snippet("{\"choi", 6), "{\"choi");
        assert_eq!(snippet("", 0), "");
    }

    #[test]
    fn display_says_what_and_where() {
        let err = DecodeError {
            kind: "expected object but found array".into(),
            offset: 41,
            snippet: "[1]".into(),
            event_index: 3,
            dialect: "openai-chat",
        };
        assert_eq!(
            err.to_string(),
            "expected object but found array at byte 41 of event 3 (openai-chat): '[1]'"
        );
        let err = StreamError {
            type_: Some("overloaded_error".into()),
            message: "Overloaded".into(),
        };
        assert_eq!(err.to_string(), "overloaded_error: Overloaded");
    }
}
