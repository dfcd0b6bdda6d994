//! `seltzer.TokenDecoder`, and the chunk decoders behind `iter_tokens` (one `TokenChunk`
//! per token, or a chat model's mix of `str` for plain text and `TokenChunk` for the
//! rest) and `iter_text` (one `str` per token with text: the fastest path).
//! Strings that repeat from token to token (event types, finish reasons, call ids and
//! names) are made once and reused.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

use super::chunks::ChunkDecoder;
use super::errors::interrupted;
use super::event::StrCache;
use super::feeder::Feeder;
use super::sse_decoder::check_max_event_bytes;
use super::token_chunk::{Payload, PyTokenChunk, PyToolCallDelta};
use crate::dialect::{Dialect, Token};
use crate::sse::DEFAULT_MAX_EVENT_BYTES;
use crate::token::TokenDecoder;

/// Parses a dialect name (and `text_path`), naming the valid choices on failure.
pub fn dialect(name: &str, text_path: Option<&str>) -> PyResult<Dialect> {
    Dialect::new(name, text_path).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The most text kept for `StreamInterrupted.partial` (whole tokens, from the start):
/// 16 times the longest completions models produce, and a bound on what an endless
/// stream holds.
const MAX_PARTIAL_BYTES: usize = 16 * 1024 * 1024;

/// What the decoder keeps of the text for `StreamInterrupted.partial`.
struct Partial {
    /// Whether a stream that ends without its terminal marker is an error.
    strict: bool,
    text: String,
    /// Whether a token was left out to stay within [`MAX_PARTIAL_BYTES`].
    capped: bool,
}

impl Partial {
    fn new(strict: bool) -> Self {
        Self {
            strict,
            text: String::new(),
            capped: false,
        }
    }

    fn push(&mut self, text: &str) {
        if !self.strict || self.capped {
            return;
        }
        if self.text.len() + text.len() > MAX_PARTIAL_BYTES {
            self.capped = true;
            return;
        }
        self.text.push_str(text);
    }
}

/// Decoding into `TokenChunk` objects (with `plain_texts`, mixed with `str`s).
pub struct TokenChunks {
    decoder: TokenDecoder,
    strings: TokenStrings,
    partial: Partial,
    /// Whether a plain token of the first choice (text only, not the stream's first
    /// token) comes as its text, a `str`: what a chat model makes a message of without
    /// looking further.
    plain_texts: bool,
    /// Whether a token came already (the first always comes whole: it opens the stream).
    started: bool,
}

/// Decoding into plain `str` tokens, skipping tokens without text unless `keep_empty`.
pub struct TextChunks {
    decoder: TokenDecoder,
    partial: Partial,
    keep_empty: bool,
}

impl TokenChunks {
    /// A decoder for `dialect`; `plain_texts`: see the field.
    pub fn new(dialect: Dialect, max_event_bytes: usize, strict: bool, plain_texts: bool) -> Self {
        Self {
            decoder: TokenDecoder::new(dialect, max_event_bytes),
            strings: TokenStrings::default(),
            partial: Partial::new(strict),
            plain_texts,
            started: false,
        }
    }

    /// Whether `token` comes as its text (and notes that a token came).
    fn as_text(plain_texts: bool, started: &mut bool, token: &Token<'_>) -> bool {
        let first = !std::mem::replace(started, true);
        plain_texts && !first && token.index == 0 && token.is_plain()
    }
}

impl TextChunks {
    /// A decoder for `dialect`; `keep_empty`: a token without text gives "" too (one
    /// `str` per token, as a text model's `stream` yields).
    pub fn new(dialect: Dialect, max_event_bytes: usize, strict: bool, keep_empty: bool) -> Self {
        Self {
            decoder: TokenDecoder::new(dialect, max_event_bytes),
            partial: Partial::new(strict),
            keep_empty,
        }
    }
}

impl ChunkDecoder for TokenChunks {
    fn stamps_arrivals(&self) -> bool {
        true
    }

    fn set_arrival(&mut self, py: Python<'_>, at: Instant) {
        self.strings.received_ns = super::clock::perf_counter_ns(py, at);
    }

    fn feed(&mut self, chunk: &Bound<'_, PyBytes>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        self.feed_part(chunk, 0..chunk.as_bytes().len(), out)
    }

    fn feed_part(
        &mut self,
        chunk: &Bound<'_, PyBytes>,
        range: Range<usize>,
        out: &mut VecDeque<Py<PyAny>>,
    ) -> PyResult<()> {
        let Self {
            decoder,
            strings,
            partial,
            plain_texts,
            started,
        } = self;
        let part = chunk.as_bytes().get(range).unwrap_or_default();
        decoder.feed(part, |token: &Token<'_>| {
            partial.push(&token.text);
            out.push_back(if Self::as_text(*plain_texts, started, token) {
                PyString::new(chunk.py(), &token.text).into_any().unbind()
            } else {
                strings.make(chunk, token)?.into_any()
            });
            Ok::<(), PyErr>(())
        })
    }

    fn finish(&mut self, py: Python<'_>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        let Self {
            decoder,
            strings,
            partial,
            plain_texts,
            started,
        } = self;
        decoder.flush(|token: &Token<'_>| {
            partial.push(&token.text);
            out.push_back(if Self::as_text(*plain_texts, started, token) {
                PyString::new(py, &token.text).into_any().unbind()
            } else {
                strings.make_detached(py, token)?.into_any()
            });
            Ok::<(), PyErr>(())
        })?;
        check_done(decoder, partial)
    }

    fn offset(&self) -> u64 {
        self.decoder.offset()
    }

    fn partial(&self) -> &str {
        &self.partial.text
    }
}

impl TextChunks {
    /// The text of a token, as `str`, unless it has none (and empty ones are skipped).
    fn push(
        py: Python<'_>,
        partial: &mut Partial,
        out: &mut VecDeque<Py<PyAny>>,
        token: &Token<'_>,
        keep_empty: bool,
    ) {
        if keep_empty || !token.text.is_empty() {
            partial.push(&token.text);
            out.push_back(PyString::new(py, &token.text).into_any().unbind());
        }
    }
}

impl ChunkDecoder for TextChunks {
    fn feed(&mut self, chunk: &Bound<'_, PyBytes>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        self.feed_slice(chunk.py(), chunk.as_bytes(), out)
    }

    fn feed_slice(
        &mut self,
        py: Python<'_>,
        data: &[u8],
        out: &mut VecDeque<Py<PyAny>>,
    ) -> PyResult<()> {
        let Self {
            decoder,
            partial,
            keep_empty,
        } = self;
        decoder.feed(data, |token: &Token<'_>| {
            Self::push(py, partial, out, token, *keep_empty);
            Ok::<(), PyErr>(())
        })
    }

    fn finish(&mut self, py: Python<'_>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        let Self {
            decoder,
            partial,
            keep_empty,
        } = self;
        decoder.flush(|token: &Token<'_>| {
            Self::push(py, partial, out, token, *keep_empty);
            Ok::<(), PyErr>(())
        })?;
        check_done(decoder, partial)
    }

    fn offset(&self) -> u64 {
        self.decoder.offset()
    }

    fn partial(&self) -> &str {
        &self.partial.text
    }
}

/// Strict decoding: a stream that ended before its terminal marker is interrupted.
fn check_done(decoder: &TokenDecoder, partial: &Partial) -> PyResult<()> {
    if partial.strict && !decoder.done() {
        return Err(interrupted(
            format!(
                "the {} stream ended after {} bytes without its terminal marker{}",
                decoder.dialect().name(),
                decoder.offset(),
                if partial.capped {
                    format!(
                        " (.partial keeps the text's first {} MiB)",
                        MAX_PARTIAL_BYTES >> 20
                    )
                } else {
                    String::new()
                }
            ),
            &partial.text,
        ));
    }
    Ok(())
}

/// Reused Python strings for the fields of consecutive tokens.
#[derive(Default)]
struct TokenStrings {
    /// When the bytes being decoded arrived, on `time.perf_counter_ns()`'s clock.
    received_ns: Option<u64>,
    event: StrCache,
    finish_reason: StrCache,
    call_id: StrCache,
    call_name: StrCache,
}

impl TokenStrings {
    /// Builds the Python token; its payload refers to `chunk` when it lies inside it.
    fn make(
        &mut self,
        chunk: &Bound<'_, PyBytes>,
        token: &Token<'_>,
    ) -> PyResult<Py<PyTokenChunk>> {
        let py = chunk.py();
        let payload = match slice_range(chunk.as_bytes(), token.payload.as_bytes()) {
            Some((start, end)) => Payload::Chunk {
                bytes: chunk.clone().unbind(),
                start,
                end,
            },
            None => Payload::Owned(Arc::from(token.payload)),
        };
        self.build(py, token, payload)
    }

    /// Builds a token whose payload is not inside any chunk (decoded at flush).
    fn make_detached(&mut self, py: Python<'_>, token: &Token<'_>) -> PyResult<Py<PyTokenChunk>> {
        self.build(py, token, Payload::Owned(Arc::from(token.payload)))
    }

    fn build(
        &mut self,
        py: Python<'_>,
        token: &Token<'_>,
        payload: Payload,
    ) -> PyResult<Py<PyTokenChunk>> {
        let event = if token.event == "message" {
            pyo3::intern!(py, "message").clone().unbind()
        } else {
            self.event.get(py, token.event)
        };
        let tool_calls = if token.tool_calls.is_empty() {
            None
        } else {
            let deltas = token
                .tool_calls
                .iter()
                .map(|call| {
                    Py::new(
                        py,
                        PyToolCallDelta {
                            index: call.index,
                            id: call.id.as_deref().map(|id| self.call_id.get(py, id)),
                            name: call.name.as_deref().map(|n| self.call_name.get(py, n)),
                            arguments: PyString::new(py, &call.arguments).unbind(),
                        },
                    )
                })
                .collect::<PyResult<Vec<_>>>()?;
            Some(PyList::new(py, deltas)?.unbind())
        };
        Py::new(
            py,
            PyTokenChunk {
                text: PyString::new(py, &token.text).unbind(),
                index: token.index,
                finish_reason: token
                    .finish_reason
                    .as_deref()
                    .map(|r| self.finish_reason.get(py, r)),
                usage: token
                    .usage
                    .as_deref()
                    .map(|u| super::json::parse(py, u))
                    .transpose()?,
                tool_calls,
                reasoning: token
                    .reasoning
                    .as_deref()
                    .map(|r| PyString::new(py, r).unbind()),
                event,
                payload,
                received_ns: self.received_ns,
            },
        )
    }
}

/// Where `inner` lies inside `outer`, when it does (compared by address).
fn slice_range(outer: &[u8], inner: &[u8]) -> Option<(usize, usize)> {
    let outer_start = outer.as_ptr() as usize;
    let inner_start = inner.as_ptr() as usize;
    let start = inner_start.checked_sub(outer_start)?;
    let end = start.checked_add(inner.len())?;
    (end <= outer.len()).then_some((start, end))
}

/// Turns the stream of one response into tokens, incrementally.
#[pyclass(name = "TokenDecoder", module = "seltzer")]
pub struct PyTokenDecoder {
    feeder: Feeder<TokenChunks>,
}

#[pymethods]
impl PyTokenDecoder {
    #[new]
    #[pyo3(signature = (dialect, /, *, text_path = None, max_event_bytes = DEFAULT_MAX_EVENT_BYTES))]
    fn new(dialect: &str, text_path: Option<&str>, max_event_bytes: usize) -> PyResult<Self> {
        let dialect = self::dialect(dialect, text_path)?;
        // The decoder API reports `done` and leaves a missing marker to the caller.
        let chunks = TokenChunks::new(
            dialect,
            check_max_event_bytes(max_event_bytes)?,
            false,
            false,
        );
        Ok(Self {
            feeder: Feeder::new(chunks),
        })
    }

    /// Decodes a chunk; returns the tokens it completes.
    #[pyo3(signature = (data, /))]
    fn feed<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.feeder.feed(data)
    }

    /// Ends the stream; returns the tokens still pending (NDJSON: an unterminated line).
    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.feeder.flush(py)
    }

    /// Whether the stream's terminal marker has been decoded.
    #[getter]
    fn done(&self) -> bool {
        self.feeder.inner.decoder.done()
    }

    /// The dialect's name.
    #[getter]
    fn dialect(&self) -> &'static str {
        self.feeder.inner.decoder.dialect().name()
    }

    fn __repr__(&self) -> String {
        let decoder = &self.feeder.inner.decoder;
        format!(
            "TokenDecoder({:?}, done={}, offset={})",
            decoder.dialect().name(),
            if decoder.done() { "True" } else { "False" },
            decoder.offset()
        )
    }
}
