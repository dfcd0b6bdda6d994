//! `seltzer.SSEDecoder`: the incremental framer as a Python class (`feed`, `flush`).

use std::collections::VecDeque;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use super::bytes::as_bytes;
use super::chunks::{ChunkDecoder, SseEvents};
use super::guard::guard;
use crate::sse::DEFAULT_MAX_EVENT_BYTES;

/// Incremental SSE decoder, one instance per stream.
#[pyclass(name = "SSEDecoder", module = "seltzer")]
pub struct PySseDecoder {
    inner: SseEvents,
    /// A failure is sticky: every later call raises it again.
    error: Option<PyErr>,
    out: VecDeque<Py<PyAny>>,
}

/// Checks a user-given event bound.
pub fn check_max_event_bytes(max_event_bytes: usize) -> PyResult<usize> {
    if max_event_bytes == 0 {
        return Err(PyValueError::new_err("max_event_bytes must be at least 1"));
    }
    Ok(max_event_bytes)
}

#[pymethods]
impl PySseDecoder {
    #[new]
    #[pyo3(signature = (*, max_event_bytes = DEFAULT_MAX_EVENT_BYTES))]
    fn new(max_event_bytes: usize) -> PyResult<Self> {
        Ok(Self {
            inner: SseEvents::new(check_max_event_bytes(max_event_bytes)?),
            error: None,
            out: VecDeque::new(),
        })
    }

    /// Decodes a chunk; returns the events it completes.
    #[pyo3(signature = (data, /))]
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            if let Some(err) = &self.error {
                return Err(err.clone_ref(py));
            }
            let bytes = as_bytes(data)?;
            let result = self.inner.feed(&bytes, &mut self.out);
            self.take_events(py, result)
        })
    }

    /// Ends the stream: an unterminated event is discarded. Returns the (empty) rest.
    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            if let Some(err) = &self.error {
                return Err(err.clone_ref(py));
            }
            let result = self.inner.finish(py, &mut self.out);
            self.take_events(py, result)
        })
    }

    /// The last event ID seen ("" until an `id` field arrives).
    #[getter]
    fn last_event_id(&self) -> &str {
        self.inner.decoder.last_event_id().unwrap_or("")
    }

    /// The last valid `retry` field (milliseconds), or None.
    #[getter]
    fn retry(&self) -> Option<u64> {
        self.inner.decoder.retry()
    }

    /// The bound on one event's bytes.
    #[getter]
    fn max_event_bytes(&self) -> usize {
        self.inner.decoder.max_event_bytes()
    }

    fn __repr__(&self) -> String {
        format!(
            "SSEDecoder(max_event_bytes={}, offset={})",
            self.inner.decoder.max_event_bytes(),
            self.inner.decoder.offset()
        )
    }
}

impl PySseDecoder {
    /// Returns the decoded events; an error is raised now when nothing came before it in
    /// this call, else kept for the next call so that those events are not lost.
    fn take_events<'py>(
        &mut self,
        py: Python<'py>,
        result: PyResult<()>,
    ) -> PyResult<Bound<'py, PyList>> {
        if let Err(err) = result {
            self.error = Some(err.clone_ref(py));
            if self.out.is_empty() {
                return Err(err);
            }
        }
        PyList::new(py, self.out.drain(..))
    }
}
