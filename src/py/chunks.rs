//! The one interface the Python iterators and decoder classes drive: a decoder that
//! turns byte chunks into ready Python items. SSE events implement it here; tokens in
//! `token_decoder`.

use std::collections::VecDeque;
use std::ops::Range;
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::event::EventStrings;
use crate::sse::{Event, SseDecoder};

/// Turns chunks into Python items, appending them to `out` in stream order. Items made
/// before an error stay in `out`, so that nothing decoded is lost.
pub trait ChunkDecoder: Send + Sync {
    /// Decodes one chunk.
    fn feed(&mut self, chunk: &Bound<'_, PyBytes>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()>;
    /// Decodes bytes read in Rust; decoders that keep no reference to the chunk override
    /// it to skip making a `bytes` object.
    fn feed_slice(
        &mut self,
        py: Python<'_>,
        data: &[u8],
        out: &mut VecDeque<Py<PyAny>>,
    ) -> PyResult<()> {
        self.feed(&PyBytes::new(py, data), out)
    }
    /// Decodes `chunk[range]`: a part of a read, whose items may keep a reference to the
    /// one `bytes` object made for the whole read.
    fn feed_part(
        &mut self,
        chunk: &Bound<'_, PyBytes>,
        range: Range<usize>,
        out: &mut VecDeque<Py<PyAny>>,
    ) -> PyResult<()> {
        let part = chunk.as_bytes().get(range).unwrap_or_default();
        self.feed_slice(chunk.py(), part, out)
    }
    /// Whether items carry when their bytes arrived: a fused read then feeds each part
    /// of what it took separately, after [`ChunkDecoder::set_arrival`].
    fn stamps_arrivals(&self) -> bool {
        false
    }
    /// When the bytes fed next were read from the socket.
    fn set_arrival(&mut self, _py: Python<'_>, _at: Instant) {}
    /// Ends the stream (an error here follows the items it appended).
    fn finish(&mut self, py: Python<'_>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()>;
    /// Bytes consumed so far.
    fn offset(&self) -> u64;
    /// The text decoded so far, for `StreamInterrupted.partial`.
    fn partial(&self) -> &str;
}

/// SSE framing into `ServerSentEvent` objects.
pub struct SseEvents {
    /// The core framer.
    pub decoder: SseDecoder,
    strings: EventStrings,
}

impl SseEvents {
    /// A framer with the given event bound.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            decoder: SseDecoder::new(max_event_bytes),
            strings: EventStrings::default(),
        }
    }
}

impl ChunkDecoder for SseEvents {
    fn feed(&mut self, chunk: &Bound<'_, PyBytes>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        self.feed_slice(chunk.py(), chunk.as_bytes(), out)
    }

    fn feed_slice(
        &mut self,
        py: Python<'_>,
        data: &[u8],
        out: &mut VecDeque<Py<PyAny>>,
    ) -> PyResult<()> {
        let strings = &mut self.strings;
        self.decoder.feed(data, |ev: &Event<'_>| {
            out.push_back(strings.make(py, ev)?.into_any());
            Ok::<(), PyErr>(())
        })
    }

    fn finish(&mut self, _py: Python<'_>, _out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        self.decoder.flush();
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.decoder.offset()
    }

    fn partial(&self) -> &'static str {
        // Events are not text: nothing to report.
        ""
    }
}
