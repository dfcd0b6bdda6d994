//! The state shared by the sync and async iterators: decoded items waiting to be
//! handed out, the end of the stream, and the error that follows the last good item.

use std::collections::VecDeque;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::bytes::as_bytes;
use super::chunks::ChunkDecoder;
use crate::transport::Received;

/// Decoded items between a byte source and the caller.
pub struct Pump {
    decoder: Box<dyn ChunkDecoder>,
    pending: VecDeque<Py<PyAny>>,
    finished: bool,
    deferred: Option<PyErr>,
    /// `on_error(exc, offset, partial)`: returns the exception to raise instead of a
    /// source error, or None to raise it as it is.
    on_error: Option<Py<PyAny>>,
}

/// What the iterator should do next.
pub enum Step {
    /// Hand out this item.
    Item(Py<PyAny>),
    /// The stream is over: raise this error, or stop when `None`.
    End(Option<PyErr>),
    /// Nothing decoded yet: read another chunk.
    NeedChunk,
}

impl Pump {
    /// A pump over `decoder`.
    pub fn new(decoder: Box<dyn ChunkDecoder>, on_error: Option<Py<PyAny>>) -> Self {
        Self {
            decoder,
            pending: VecDeque::new(),
            finished: false,
            deferred: None,
            on_error,
        }
    }

    /// The next thing to do, without touching the source.
    pub fn step(&mut self) -> Step {
        if let Some(item) = self.pending.pop_front() {
            return Step::Item(item);
        }
        if self.finished {
            return Step::End(self.deferred.take());
        }
        Step::NeedChunk
    }

    /// Whether the iterator has nothing more to hand out.
    pub fn exhausted(&self) -> bool {
        self.finished && self.pending.is_empty() && self.deferred.is_none()
    }

    /// Decodes a chunk from the source; a failure ends the stream after the items
    /// decoded before it.
    pub fn chunk(&mut self, chunk: &Bound<'_, PyAny>) {
        let result = as_bytes(chunk).and_then(|bytes| self.decoder.feed(&bytes, &mut self.pending));
        self.settle(result);
    }

    /// Decodes bytes read in Rust (the fused path).
    pub fn chunk_slice(&mut self, py: Python<'_>, data: &[u8]) {
        let result = self.decoder.feed_slice(py, data, &mut self.pending);
        self.settle(result);
    }

    /// Decodes a fused read: at once, or part by part, each part stamped with its
    /// arrival, for decoders whose items carry it (one `bytes` object for the read).
    pub fn received(&mut self, py: Python<'_>, received: &Received) {
        if !self.decoder.stamps_arrivals() {
            return self.chunk_slice(py, &received.bytes);
        }
        let whole = PyBytes::new(py, &received.bytes);
        let mut start = 0;
        for &(end, at) in &received.parts {
            self.decoder.set_arrival(py, at);
            let result = self
                .decoder
                .feed_part(&whole, start..end, &mut self.pending);
            self.settle(result);
            if self.finished {
                break;
            }
            start = end;
        }
    }

    /// A failed decode ends the stream; its error follows the items decoded before it.
    fn settle(&mut self, result: PyResult<()>) {
        if let Err(err) = result {
            self.finished = true;
            self.deferred = Some(err);
        }
    }

    /// The source is exhausted.
    pub fn end(&mut self, py: Python<'_>) {
        self.finished = true;
        if let Err(err) = self.decoder.finish(py, &mut self.pending) {
            self.deferred = Some(err);
        }
    }

    /// The source raised `err`: ends the stream and returns what to raise.
    pub fn source_failed(&mut self, py: Python<'_>, err: PyErr) -> PyErr {
        self.finished = true;
        let Some(on_error) = &self.on_error else {
            return err;
        };
        match on_error.call1(
            py,
            (err.value(py), self.decoder.offset(), self.decoder.partial()),
        ) {
            Ok(mapped) if !mapped.is_none(py) => PyErr::from_value(mapped.into_bound(py)),
            Ok(_) => err,
            Err(hook_failed) => hook_failed,
        }
    }
}
