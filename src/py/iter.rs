//! The sync iterator behind `iter_sse` (and the token iterators): pulls chunks from a
//! Python iterator, decodes them in Rust and hands out one item per `__next__`.

use pyo3::prelude::*;
use pyo3::types::PyIterator;

use super::guard::guard;
use super::pump::{Pump, Step};

/// Iterator of decoded items over an iterator of byte chunks.
#[pyclass(name = "ChunkIterator", module = "seltzer._core")]
pub struct PyChunkIterator {
    pump: Pump,
    source: Py<PyIterator>,
}

impl PyChunkIterator {
    /// Wraps `source` (any iterable of bytes-like chunks).
    pub fn new(source: &Bound<'_, PyAny>, pump: Pump) -> PyResult<Self> {
        Ok(Self {
            pump,
            source: source.try_iter()?.unbind(),
        })
    }
}

#[pymethods]
impl PyChunkIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        guard(|| loop {
            match self.pump.step() {
                Step::Item(item) => return Ok(Some(item)),
                Step::End(None) => return Ok(None),
                Step::End(Some(err)) => return Err(err),
                Step::NeedChunk => {}
            }
            let source = self.source.bind(py).clone();
            match source.into_iter().next() {
                Some(Ok(chunk)) => self.pump.chunk(&chunk),
                Some(Err(err)) => return Err(self.pump.source_failed(py, err)),
                None => self.pump.end(py),
            }
        })
    }
}
