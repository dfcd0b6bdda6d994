//! The SSE framing error: the only way framing can fail is an event outgrowing its bound.

use std::fmt;

/// Why the SSE decoder stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseError {
    /// An event's lines add up to more than `limit` bytes.
    EventTooLarge {
        /// The `max_event_bytes` in force.
        limit: usize,
        /// Stream offset of the event's first byte.
        event_offset: u64,
        /// Stream offset of the first byte past the limit.
        offset: u64,
    },
}

impl SseError {
    /// Stream offset where decoding failed.
    pub fn offset(&self) -> u64 {
        match self {
            Self::EventTooLarge { offset, .. } => *offset,
        }
    }
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EventTooLarge {
                limit,
                event_offset,
                offset,
            } => write!(
                f,
                "event starting at byte {event_offset} exceeds max_event_bytes={limit} \
                 (limit passed at byte {offset})"
            ),
        }
    }
}

impl std::error::Error for SseError {}
