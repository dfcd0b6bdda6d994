//! `seltzer.SSEDecoder`: the incremental framer as a Python class (`feed`, `flush`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use super::chunks::SseEvents;
use super::feeder::Feeder;
use crate::sse::DEFAULT_MAX_EVENT_BYTES;

/// Incremental SSE decoder, one instance per stream.
#[pyclass(name = "SSEDecoder", module = "seltzer")]
pub struct PySseDecoder {
    feeder: Feeder<SseEvents>,
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
            feeder: Feeder::new(SseEvents::new(check_max_event_bytes(max_event_bytes)?)),
        })
    }

    /// Decodes a chunk; returns the events it completes.
    #[pyo3(signature = (data, /))]
    fn feed<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.feeder.feed(data)
    }

    /// Ends the stream: an unterminated event is discarded. Returns the (empty) rest.
    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.feeder.flush(py)
    }

    /// The last event ID seen ("" until an `id` field arrives).
    #[getter]
    fn last_event_id(&self) -> &str {
        self.feeder.inner.decoder.last_event_id().unwrap_or("")
    }

    /// The last valid `retry` field (milliseconds), or None.
    #[getter]
    fn retry(&self) -> Option<u64> {
        self.feeder.inner.decoder.retry()
    }

    /// The bound on one event's bytes.
    #[getter]
    fn max_event_bytes(&self) -> usize {
        self.feeder.inner.decoder.max_event_bytes()
    }

    fn __repr__(&self) -> String {
        let decoder = &self.feeder.inner.decoder;
        format!(
            "SSEDecoder(max_event_bytes={}, offset={})",
            decoder.max_event_bytes(),
            decoder.offset()
        )
    }
}
