//! Incremental Server-Sent Events framing, exactly as the WHATWG HTML standard's
//! "event stream interpretation" describes it: bytes in, events out.
//!
//! This module knows nothing of Python, JSON or providers: [`SseDecoder`] turns any
//! chunking of a byte stream into the same sequence of [`Event`]s and hands each one,
//! borrowed, to a caller-supplied sink. Line splitting lives in `lines`, field handling
//! in `fields`; the dialects (`crate::dialect`) and the pyo3 layer consume the events.

mod error;
mod fields;
mod lines;
mod same_bytes;

pub use error::SseError;
pub use fields::Event;
pub(crate) use same_bytes::same_bytes;

use fields::EventBuilder;
use lines::LineSplitter;

/// Default bound on the bytes of one event (16 MiB).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// An incremental SSE decoder: one instance per stream.
///
/// Feed it chunks split anywhere; it keeps only the unfinished line between calls and
/// dispatches each complete event to the sink as soon as its terminating blank line
/// arrives. An event's data is borrowed straight from the chunk when it lies within one
/// chunk, and copied once otherwise.
#[derive(Debug)]
pub struct SseDecoder {
    lines: LineSplitter,
    event: EventBuilder,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    /// A decoder that rejects events whose lines add up to more than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            lines: LineSplitter::new(max_event_bytes),
            event: EventBuilder::default(),
        }
    }

    /// The bound on one event's bytes this decoder enforces.
    pub fn max_event_bytes(&self) -> usize {
        self.lines.max_event_bytes()
    }

    /// The last-event-ID buffer: `None` until an `id` field is seen.
    pub fn last_event_id(&self) -> Option<&str> {
        self.event.last_event_id()
    }

    /// The last valid `retry` field seen on this stream, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.event.stream_retry()
    }

    /// Bytes of the stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.lines.offset()
    }

    /// Whether an unfinished event (or line) is buffered, which `flush` would discard.
    pub fn has_pending(&self) -> bool {
        self.lines.has_partial_line() || self.event.has_pending()
    }

    /// Frames `chunk`, calling `sink` once per dispatched event, in stream order.
    ///
    /// # Errors
    /// [`SseError::EventTooLarge`] (converted into `E`) when an event outgrows the limit,
    /// or whatever the sink returns. After an error the decoder must not be fed again.
    pub fn feed<E, F>(&mut self, chunk: &[u8], mut sink: F) -> Result<(), E>
    where
        E: From<SseError>,
        F: FnMut(&Event<'_>) -> Result<(), E>,
    {
        let event = &mut self.event;
        self.lines.split(chunk, |line| {
            if line.text.is_empty() {
                event.dispatch(chunk, &mut sink)
            } else {
                event.field(chunk, &line);
                Ok(())
            }
        })?;
        // Data borrowed from this chunk must outlive it: copy it now (once).
        self.event.detach(chunk);
        Ok(())
    }

    /// Ends the stream: an event not terminated by a blank line is discarded (WHATWG:
    /// "If the file ends in the middle of an event ... the incomplete event is not
    /// dispatched"). The last-event-ID and retry persist; framing restarts as for a new
    /// stream (a leading BOM is stripped again).
    pub fn flush(&mut self) {
        self.lines.reset();
        self.event.reset();
    }
}

#[cfg(test)]
mod tests;
