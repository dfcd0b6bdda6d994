//! A response body from seltzer's transport, as Python sees it (`ResponseBody`), and the
//! reader the iterators drive over it (`BodyReader`): blocking with the GIL released, or
//! tried from a coroutine with a loop wake-up when nothing has arrived. Raw reads hand
//! out the bytes still content-encoded (httpx decodes them); fused reads undo the
//! `Content-Encoding` here and feed the decoders directly, so no `bytes` object is made.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::chunks::ChunkDecoder;
use super::http_errors::{httpx_error, stream_closed};
use super::loop_wake::LoopWait;
use super::pump::Pump;
use super::{aiter, iter};
use crate::transport::{
    Body, ContentDecoder, ContentEncoding, Received, TransportError, TransportErrorKind,
};

/// The body of one response; see the module docs.
#[pyclass(name = "ResponseBody", module = "seltzer._core", frozen)]
pub struct PyResponseBody {
    /// `None` once closed.
    body: Mutex<Option<Body>>,
    /// The `httpx.Request`, attached to read errors.
    request: Py<PyAny>,
    /// The `Content-Encoding` header, for fused reads.
    content_encoding: Option<Vec<u8>>,
}

impl PyResponseBody {
    /// Wraps `body` of a response to `request`.
    pub fn new(body: Body, request: Py<PyAny>, content_encoding: Option<Vec<u8>>) -> Self {
        Self {
            body: Mutex::new(Some(body)),
            request,
            content_encoding,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Body>> {
        self.body.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn error(&self, py: Python<'_>, err: &TransportError) -> PyErr {
        httpx_error(py, err, Some(&self.request))
    }
}

#[pymethods]
impl PyResponseBody {
    /// Closes the body: the connection is dropped at once unless it was read to the end.
    fn close(&self, py: Python<'_>) {
        let body = self.lock().take();
        py.detach(|| drop(body));
    }

    /// Whether `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.lock().is_none()
    }

    /// An iterator of the raw (still content-encoded) chunks, each all that had arrived.
    fn iter_raw(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        super::guard::guard(|| {
            let reader = BodyReader::new(slf.clone().unbind(), false);
            iter::new_body_iterator(
                slf.py(),
                reader,
                Pump::new(Box::new(RawChunks::default()), None),
            )
        })
    }

    /// The async twin of `iter_raw`.
    fn aiter_raw(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        super::guard::guard(|| {
            let reader = BodyReader::new(slf.clone().unbind(), false);
            aiter::new_body_iterator(
                slf.py(),
                reader,
                Pump::new(Box::new(RawChunks::default()), None),
            )
        })
    }
}

/// What one non-blocking read gave.
pub enum Read {
    /// Bytes (content-decoded on fused reads), with when their parts arrived.
    Chunk(Received),
    /// The body is complete.
    End,
    /// Nothing yet: the task waits on this future.
    Wait(Py<PyAny>),
}

/// Reads a [`PyResponseBody`] for an iterator; see the module docs.
pub struct BodyReader {
    body: Py<PyResponseBody>,
    /// Set on fused reads.
    content: Option<ContentDecoder>,
    /// A `Content-Encoding` the fused read cannot undo, raised by the first read.
    failed: Option<TransportError>,
    /// Compressed bytes read but not yet decoded: they are decoded a slice at a time, so
    /// that a decompression bomb never expands into one huge buffer.
    backlog: Bytes,
    /// When the last part of the backlog's read arrived: the arrival of what it decodes to.
    backlog_at: Option<Instant>,
    /// How a coroutine waits, once it had to.
    wait: Option<LoopWait>,
    ended: bool,
}

/// How long a blocking read waits before checking for signals (Ctrl-C).
const SIGNAL_CHECK: std::time::Duration = std::time::Duration::from_millis(50);

/// Compressed bytes decoded at once: gzip expands at most ~1000x, so a slice yields at
/// most about 4 MiB, however hostile the body.
const DECODE_SLICE: usize = 4096;

fn decoding_error(message: &str) -> TransportError {
    TransportError::new(
        TransportErrorKind::DecodingError,
        format!("{message} in the response body"),
    )
}

impl BodyReader {
    /// A reader of `body`; `fused` undoes its `Content-Encoding`.
    pub fn new(body: Py<PyResponseBody>, fused: bool) -> Self {
        let header = body.get().content_encoding.as_deref();
        let (content, failed) = match ContentEncoding::from_header(header) {
            _ if !fused => (None, None),
            Ok(ContentEncoding::Identity) => (None, None),
            Ok(encoding) => (Some(ContentDecoder::new(encoding)), None),
            Err(err) => (None, Some(decoding_error(&err.to_string()))),
        };
        Self {
            body,
            content,
            failed,
            backlog: Bytes::new(),
            backlog_at: None,
            wait: None,
            ended: false,
        }
    }

    /// Decodes the next slices of the backlog until some output comes; `None` once the
    /// backlog is used up.
    fn drain_backlog(&mut self) -> Result<Option<Received>, TransportError> {
        let Some(decoder) = &mut self.content else {
            return Ok(None);
        };
        while !self.backlog.is_empty() || decoder.has_more_output() {
            let take = DECODE_SLICE.min(self.backlog.len());
            let (used, plain) = decoder
                .feed_some(&self.backlog[..take])
                .map_err(|msg| decoding_error(&msg))?;
            let _ = self.backlog.split_to(used);
            if !plain.is_empty() {
                return Ok(Some(self.stamped(Bytes::from(plain))));
            }
            if used == 0 && !decoder.has_more_output() {
                break;
            }
        }
        Ok(None)
    }

    /// Decoded bytes as one part, arrived with the read they came from.
    fn stamped(&self, bytes: Bytes) -> Received {
        let at = self.backlog_at.unwrap_or_else(Instant::now);
        Received {
            parts: vec![(bytes.len(), at)],
            bytes,
        }
    }

    /// Passes a raw read through the content decoder; at the end, its last bytes.
    fn decoded(&mut self, read: Option<Received>) -> Result<Option<Received>, TransportError> {
        if let Some(err) = self.failed.take() {
            self.ended = true;
            return Err(err);
        }
        let Some(decoder) = &mut self.content else {
            self.ended = read.is_none();
            return Ok(read);
        };
        let Some(chunk) = read else {
            let rest = decoder.finish().map_err(|msg| decoding_error(&msg))?;
            self.ended = true;
            return Ok((!rest.is_empty()).then(|| self.stamped(Bytes::from(rest))));
        };
        self.backlog_at = chunk.parts.last().map(|part| part.1);
        self.backlog = chunk.bytes;
        self.drain_backlog()
    }

    /// Blocks (GIL released) until bytes arrive; `None` at the end.
    ///
    /// # Errors
    /// The httpx exception of a failed read; `httpx.StreamClosed` after `close`.
    pub fn next_blocking(&mut self, py: Python<'_>) -> PyResult<Option<Received>> {
        let body = self.body.clone_ref(py);
        let owner = body.get();
        while !self.ended {
            if let Some(chunk) = self.drain_backlog().map_err(|e| owner.error(py, &e))? {
                return Ok(Some(chunk));
            }
            let read = py.detach(|| match owner.lock().as_mut() {
                Some(body) => body.next_chunk_for(SIGNAL_CHECK).map(|r| r.map(Some)),
                None => Some(Ok(None)),
            });
            let Some(read) = read else {
                // Nothing yet: let Ctrl-C (KeyboardInterrupt) through, then wait again.
                if let Err(interrupt) = py.check_signals() {
                    self.ended = true;
                    owner.close(py);
                    return Err(interrupt);
                }
                continue;
            };
            let read = match read {
                Ok(Some(read)) => read,
                Ok(None) => return Err(stream_closed(py)),
                Err(err) => {
                    self.ended = true;
                    return Err(owner.error(py, &err));
                }
            };
            // Compressed input may decode to nothing yet: read on.
            if let Some(chunk) = self.decoded(read).map_err(|e| owner.error(py, &e))? {
                return Ok(Some(chunk));
            }
        }
        Ok(None)
    }

    /// What has arrived, without blocking; [`Read::Wait`] parks a future on the running
    /// loop that resolves once something has.
    ///
    /// # Errors
    /// As [`BodyReader::next_blocking`]; `RuntimeError` outside a running loop.
    pub fn poll(&mut self, py: Python<'_>) -> PyResult<Read> {
        loop {
            if self.ended {
                return Ok(Read::End);
            }
            let body = self.body.clone_ref(py);
            let owner = body.get();
            if let Some(chunk) = self.drain_backlog().map_err(|e| owner.error(py, &e))? {
                return Ok(Read::Chunk(chunk));
            }
            if let Some(wait) = &self.wait {
                wait.slot.reset();
            }
            let tried = match owner.lock().as_mut() {
                Some(body) => body.try_next(),
                None => return Err(stream_closed(py)),
            };
            match tried {
                Some(Ok(read)) => {
                    return match self.decoded(read).map_err(|e| owner.error(py, &e))? {
                        Some(chunk) => Ok(Read::Chunk(chunk)),
                        None if self.ended => Ok(Read::End),
                        // Compressed input that decoded to nothing yet.
                        None => continue,
                    };
                }
                Some(Err(err)) => {
                    self.ended = true;
                    return Err(owner.error(py, &err));
                }
                None => {}
            }
            if self.wait.is_none() {
                let wait = LoopWait::running(py)?;
                if let Some(body) = owner.lock().as_mut() {
                    body.set_wake(wait.callback());
                }
                self.wait = Some(wait);
                // The callback was not armed by the try above: try again now that it is.
                continue;
            }
            if let Some(future) = self
                .wait
                .as_ref()
                .map(|w| w.park(py))
                .transpose()?
                .flatten()
            {
                return Ok(Read::Wait(future.unbind()));
            }
        }
    }

    /// Closes the body (a `break`, a cancellation): the connection is dropped at once.
    pub fn close(&mut self, py: Python<'_>) {
        self.ended = true;
        if let Some(wait) = &self.wait {
            wait.slot.unpark(py);
        }
        self.body.get().close(py);
    }
}

impl Drop for BodyReader {
    /// An iterator dropped before the end (a `break`) closes the connection at once.
    fn drop(&mut self) {
        let body = self.body.get().lock().take();
        drop(body);
    }
}

/// Raw reads as `bytes` items: one per read, all that had arrived.
#[derive(Default)]
struct RawChunks {
    offset: u64,
}

impl ChunkDecoder for RawChunks {
    fn feed(&mut self, chunk: &Bound<'_, PyBytes>, out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        self.offset += chunk.as_bytes().len() as u64;
        out.push_back(chunk.clone().into_any().unbind());
        Ok(())
    }

    fn finish(&mut self, _py: Python<'_>, _out: &mut VecDeque<Py<PyAny>>) -> PyResult<()> {
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.offset
    }

    fn partial(&self) -> &'static str {
        ""
    }
}
