//! The sync iterator behind `iter_sse` and the token iterators: pulls chunks from a
//! Python iterator, decodes them in Rust and hands out one item per `__next__`. Built
//! as a C-API type (`rawtype`): `tp_iternext` returns a decoded item with no method
//! trampoline in between, which is most of the per-item cost that is left.

// The `tp_iternext` slot is an `extern "C"` function over a raw object pointer.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::ptr;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyIterator, PyType};

use super::http_body::BodyReader;
use super::pump::{Pump, Step};
use super::rawtype::{create_type, new_instance, return_self, slot, with_state};

/// Where the bytes come from.
enum Source {
    /// A Python iterable of bytes-like chunks.
    Python(Py<PyIterator>),
    /// A body from seltzer's transport, read in Rust (the GIL released while waiting).
    Body(Box<BodyReader>),
}

/// The iterator's state.
struct State {
    pump: Pump,
    source: Source,
}

impl State {
    /// The next item; `None` at the end of the stream.
    fn next(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            match self.pump.step() {
                Step::Item(item) => return Ok(Some(item)),
                Step::End(None) => return Ok(None),
                Step::End(Some(err)) => return Err(err),
                Step::NeedChunk => {}
            }
            match &mut self.source {
                Source::Python(source) => {
                    let mut source = source.bind(py).clone();
                    match source.next() {
                        Some(Ok(chunk)) => self.pump.chunk(&chunk),
                        Some(Err(err)) => return Err(self.pump.source_failed(py, err)),
                        None => self.pump.end(py),
                    }
                }
                Source::Body(reader) => match reader.next_blocking(py) {
                    Ok(Some(chunk)) => self.pump.received(py, &chunk),
                    Ok(None) => self.pump.end(py),
                    Err(err) => return Err(self.pump.source_failed(py, err)),
                },
            }
        }
    }
}

/// Creates the iterator over `source` (any iterable of bytes-like chunks).
pub fn new_iterator(source: &Bound<'_, PyAny>, pump: Pump) -> PyResult<Py<PyAny>> {
    let state = State {
        pump,
        source: Source::Python(source.try_iter()?.unbind()),
    };
    new_instance(type_object(source.py())?, state)
}

/// Creates the iterator over a transport body.
pub fn new_body_iterator(py: Python<'_>, reader: BodyReader, pump: Pump) -> PyResult<Py<PyAny>> {
    let state = State {
        pump,
        source: Source::Body(Box::new(reader)),
    };
    new_instance(type_object(py)?, state)
}

/// The `ChunkIterator` type, created once.
pub fn type_object(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    TYPE.get_or_try_init(py, || {
        create_type::<State>(
            py,
            c"seltzer._core.ChunkIterator",
            vec![
                slot(ffi::Py_tp_iter, return_self as *mut c_void),
                slot(ffi::Py_tp_iternext, iternext as *mut c_void),
                slot(
                    ffi::Py_tp_doc,
                    c"Iterator of decoded items over an iterable of byte chunks."
                        .as_ptr()
                        .cast_mut()
                        .cast(),
                ),
            ],
        )
    })
    .map(|tp| tp.bind(py))
}

/// `tp_iternext`: the next item, or null (with nothing set at the end, or an error).
unsafe extern "C" fn iternext(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    match with_state(obj, |py, state: &mut State| state.next(py)) {
        Some(Some(item)) => item.into_ptr(),
        Some(None) | None => ptr::null_mut(),
    }
}
