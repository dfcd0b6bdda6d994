//! The push-style half of the decoder classes (`SSEDecoder`, `TokenDecoder`): feed a
//! chunk, get a list; an error met after some items is raised by the next call so that
//! those items are returned first; errors stick.

use std::collections::VecDeque;

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::bytes::as_bytes;
use super::chunks::ChunkDecoder;
use super::guard::guard;

/// A chunk decoder driven by `feed` / `flush` calls.
pub struct Feeder<D> {
    /// The decoder.
    pub inner: D,
    error: Option<PyErr>,
    out: VecDeque<Py<PyAny>>,
}

impl<D: ChunkDecoder> Feeder<D> {
    /// Wraps `inner`.
    pub fn new(inner: D) -> Self {
        Self {
            inner,
            error: None,
            out: VecDeque::new(),
        }
    }

    /// Decodes a chunk; returns the items it completes.
    pub fn feed<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = data.py();
        guard(|| {
            self.check(py)?;
            let bytes = as_bytes(data)?;
            let result = self.inner.feed(&bytes, &mut self.out);
            self.take(py, result)
        })
    }

    /// Ends the stream; returns the items still pending.
    pub fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            self.check(py)?;
            let result = self.inner.finish(py, &mut self.out);
            self.take(py, result)
        })
    }

    fn check(&self, py: Python<'_>) -> PyResult<()> {
        match &self.error {
            Some(err) => Err(err.clone_ref(py)),
            None => Ok(()),
        }
    }

    /// Returns the decoded items; an error is raised now when nothing came before it in
    /// this call, else kept for the next call so that those items are not lost.
    fn take<'py>(&mut self, py: Python<'py>, result: PyResult<()>) -> PyResult<Bound<'py, PyList>> {
        if let Err(err) = result {
            self.error = Some(err.clone_ref(py));
            if self.out.is_empty() {
                return Err(err);
            }
        }
        PyList::new(py, self.out.drain(..))
    }
}
