//! The async iterator behind `aiter_sse` (and the token iterators). It needs no Rust
//! runtime: `__anext__` returns the iterator itself as the awaitable, which hands out a
//! decoded item at once when one is waiting (no event-loop round trip), and otherwise
//! drives the source's own `__anext__` awaitable, passing its suspensions through to the
//! event loop (asyncio, uvloop, trio alike) until a chunk arrives.

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;

use super::guard::guard;
use super::pump::{Pump, Step};

/// Async iterator of decoded items over an async iterator of byte chunks.
#[pyclass(name = "AsyncChunkIterator", module = "seltzer._core")]
pub struct PyAsyncChunkIterator {
    pump: Pump,
    source: Py<PyAny>,
    /// The awaitable iterator of the source's pending `__anext__()`, while one runs.
    awaiting: Option<Py<PyAny>>,
}

impl PyAsyncChunkIterator {
    /// Wraps `source` (any async iterable of bytes-like chunks).
    pub fn new(source: &Bound<'_, PyAny>, pump: Pump) -> PyResult<Self> {
        let source = source.call_method0(pyo3::intern!(source.py(), "__aiter__"))?;
        Ok(Self {
            pump,
            source: source.unbind(),
            awaiting: None,
        })
    }

    /// Runs until an item is ready (raise `StopIteration(item)`), the stream ends
    /// (`StopAsyncIteration` or its error), or the source suspends (return what it
    /// yielded, for the event loop). `resume` is what the loop sent or threw in.
    fn drive(&mut self, py: Python<'_>, mut resume: Resume<'_>) -> PyResult<Py<PyAny>> {
        loop {
            match self.pump.step() {
                // A bare (non-tuple) value lets CPython skip building the exception.
                Step::Item(item) => return Err(PyStopIteration::new_err(item)),
                Step::End(None) => return Err(PyStopAsyncIteration::new_err(())),
                Step::End(Some(err)) => return Err(err),
                Step::NeedChunk => {}
            }
            let inner = if let Some(inner) = &self.awaiting {
                inner.bind(py).clone()
            } else {
                let awaitable = self
                    .source
                    .bind(py)
                    .call_method0(pyo3::intern!(py, "__anext__"))?;
                let inner = awaitable.call_method0(pyo3::intern!(py, "__await__"))?;
                self.awaiting = Some(inner.clone().unbind());
                inner
            };
            let result = match std::mem::replace(&mut resume, Resume::Next) {
                Resume::Next => inner.call_method1(pyo3::intern!(py, "send"), (py.None(),)),
                Resume::Send(value) => inner.call_method1(pyo3::intern!(py, "send"), (value,)),
                Resume::Throw(args) => inner.call_method1(pyo3::intern!(py, "throw"), args),
            };
            match result {
                // The source is waiting on the event loop: suspend with it.
                Ok(yielded) => return Ok(yielded.unbind()),
                Err(err) => {
                    self.awaiting = None;
                    if err.is_instance_of::<PyStopIteration>(py) {
                        let chunk = err.value(py).getattr(pyo3::intern!(py, "value"))?;
                        self.pump.chunk(&chunk);
                    } else if err.is_instance_of::<PyStopAsyncIteration>(py) {
                        self.pump.end(py);
                    } else {
                        return Err(self.pump.source_failed(py, err));
                    }
                }
            }
        }
    }
}

/// How the awaitable is being resumed.
enum Resume<'py> {
    Next,
    Send(Bound<'py, PyAny>),
    Throw(Bound<'py, pyo3::types::PyTuple>),
}

#[pymethods]
impl PyAsyncChunkIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__(slf: PyRef<'_, Self>) -> PyResult<PyRef<'_, Self>> {
        if slf.pump.exhausted() && slf.awaiting.is_none() {
            return Err(PyStopAsyncIteration::new_err(()));
        }
        Ok(slf)
    }

    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| self.drive(py, Resume::Next))
    }

    /// Coroutine protocol: resume with a value from the event loop.
    #[pyo3(signature = (value, /))]
    fn send(&mut self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        guard(|| {
            if value.is_none() {
                self.drive(py, Resume::Next)
            } else {
                self.drive(py, Resume::Send(value))
            }
        })
    }

    /// Coroutine protocol: raise an exception (cancellation) inside the pending read.
    #[pyo3(signature = (typ, val = None, tb = None, /))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: Bound<'_, PyAny>,
        val: Option<Bound<'_, PyAny>>,
        tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        guard(|| {
            if self.awaiting.is_none() {
                let exc = match val {
                    Some(val) if !val.is_none() => val,
                    _ => typ,
                };
                return Err(PyErr::from_value(exc));
            }
            let mut args = vec![typ];
            args.extend(val);
            args.extend(tb);
            let args = pyo3::types::PyTuple::new(py, args)?;
            self.drive(py, Resume::Throw(args))
        })
    }

    /// Coroutine protocol: abandon the pending read.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(inner) = self.awaiting.take() {
            inner.bind(py).call_method0(pyo3::intern!(py, "close"))?;
        }
        Ok(())
    }
}
