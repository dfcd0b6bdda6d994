//! The async iterator behind `aiter_sse` (and the token iterators). It needs no Rust
//! runtime: `__anext__` returns the iterator itself as the awaitable, which hands out a
//! decoded item at once when one is waiting (no event-loop round trip), and otherwise
//! drives the source's own `__anext__` awaitable, passing its suspensions through to the
//! event loop (asyncio, uvloop, trio alike) until a chunk arrives.
//!
//! The type is built with the C API (`PyType_FromSpec`) rather than `#[pyclass]`: only
//! that way does it get the `am_send` slot, through which CPython receives a ready item
//! as a plain return value. With `#[pyclass]` every item costs three method trampolines
//! and a `StopIteration` exception object, which doubled the per-event cost of the async
//! path against the sync one. The decoding logic is ordinary safe Rust (`drive`); the
//! unsafe part is only the slot functions that adapt it to the C signatures.

// The C-API type needs raw pointers and `extern "C"` slots; each unsafe block says why
// it holds.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::ptr;

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

use super::http_body::{BodyReader, Read};
use super::pump::{Pump, Step};
use super::rawtype::{create_type, new_instance, return_self, slot, with_state};

/// Where the bytes come from.
enum Source {
    /// A Python async iterable, and the awaitable iterator of its pending `__anext__()`
    /// while one runs.
    Python {
        source: Py<PyAny>,
        awaiting: Option<Py<PyAny>>,
    },
    /// A body from seltzer's transport, and whether a loop future is parked on it.
    Body {
        reader: Box<BodyReader>,
        waiting: bool,
    },
}

/// The iterator's state, owned by the Python object.
struct State {
    pump: Pump,
    source: Source,
    /// Items handed out since the task last gave the event loop a turn.
    streak: u32,
}

/// Ready items handed out in a row before one bare suspension (a turn of the event
/// loop, as `asyncio.sleep(0)` gives): a burst of thousands of tokens that arrived
/// together must not starve the loop's other tasks (about a millisecond of work for the
/// consumer between turns).
const READY_BEFORE_YIELD: u32 = 256;

/// What resuming the source's pending read gave.
enum Sent<'py> {
    /// It suspended on the event loop with this value.
    Yielded(Bound<'py, PyAny>),
    /// It finished with this chunk.
    Returned(Bound<'py, PyAny>),
    /// It raised (`StopAsyncIteration` at the end of the source).
    Raised(PyErr),
}

/// The iterator to drive for the source's next chunk: `source.__anext__()` through the
/// type slot, and its `__await__()` only when it cannot be resumed directly (async
/// generators' and coroutines' awaitables can: that saves two method calls a chunk).
fn next_awaitable<'py>(source: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = source.py();
    // SAFETY: attached; `source` is a live object, the slot (when present) is its
    // type's am_anext, which returns a new reference or null with an error set.
    let awaitable = unsafe {
        let tp = ffi::Py_TYPE(source.as_ptr());
        let anext = ffi::PyType_GetSlot(tp, ffi::Py_am_anext);
        if anext.is_null() {
            source.call_method0(pyo3::intern!(py, "__anext__"))?
        } else {
            let anext: ffi::unaryfunc = std::mem::transmute(anext);
            Bound::from_owned_ptr_or_err(py, anext(source.as_ptr()))?
        }
    };
    // SAFETY: attached; reading a type slot and checking the iterator protocol.
    let direct = unsafe {
        let tp = ffi::Py_TYPE(awaitable.as_ptr());
        !ffi::PyType_GetSlot(tp, ffi::Py_am_send).is_null()
            || ffi::PyIter_Check(awaitable.as_ptr()) != 0
    };
    if direct {
        Ok(awaitable)
    } else {
        awaitable.call_method0(pyo3::intern!(py, "__await__"))
    }
}

/// Resumes `inner` with `value` (None for `__next__`) through `PyIter_Send`, which
/// hands back a finished read's result without raising `StopIteration`.
fn send<'py>(inner: &Bound<'py, PyAny>, value: Option<&Bound<'py, PyAny>>) -> Sent<'py> {
    let py = inner.py();
    let mut result: *mut ffi::PyObject = ptr::null_mut();
    // SAFETY: attached; `inner` and the argument are live for the call; PyIter_Send
    // stores a new reference in `result` for NEXT and RETURN, and sets an error for
    // ERROR.
    unsafe {
        let arg = value.map_or_else(|| ffi::Py_None(), Bound::as_ptr);
        match ffi::PyIter_Send(inner.as_ptr(), arg, &raw mut result) {
            ffi::PySendResult::PYGEN_NEXT => Sent::Yielded(Bound::from_owned_ptr(py, result)),
            ffi::PySendResult::PYGEN_RETURN => Sent::Returned(Bound::from_owned_ptr(py, result)),
            ffi::PySendResult::PYGEN_ERROR => Sent::Raised(PyErr::fetch(py)),
        }
    }
}

/// How the awaitable is being resumed.
enum Resume<'py> {
    Next,
    Send(Bound<'py, PyAny>),
    Throw(Bound<'py, PyTuple>),
}

/// What one resumption produced.
enum Outcome {
    /// An item is ready: the `await` returns it.
    Ready(Py<PyAny>),
    /// The source is waiting on the event loop: suspend with what it yielded.
    Suspend(Py<PyAny>),
    /// The stream is over: `StopAsyncIteration`.
    Exhausted,
}

/// The exception a `throw(type, value, traceback)` call carries.
fn thrown(args: &Bound<'_, PyTuple>) -> PyErr {
    let exc = match args.get_item(1) {
        Ok(val) if !val.is_none() => Ok(val),
        _ => args.get_item(0),
    };
    match exc {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

impl State {
    /// Whether a read is pending on the event loop.
    fn waiting(&self) -> bool {
        match &self.source {
            Source::Python { awaiting, .. } => awaiting.is_some(),
            Source::Body { waiting, .. } => *waiting,
        }
    }

    /// Runs until an item is ready, the stream ends, or the source suspends.
    fn drive(&mut self, py: Python<'_>, mut resume: Resume<'_>) -> PyResult<Outcome> {
        // Only over seltzer's transport, which runs on asyncio / uvloop anyway: a bare
        // suspension is asyncio's protocol, and other byte sources suspend on their own.
        let idle_body = matches!(self.source, Source::Body { waiting: false, .. });
        if self.streak >= READY_BEFORE_YIELD && idle_body {
            self.streak = 0;
            return Ok(Outcome::Suspend(py.None()));
        }
        loop {
            match self.pump.step() {
                Step::Item(item) => {
                    self.streak += 1;
                    return Ok(Outcome::Ready(item));
                }
                Step::End(None) => return Ok(Outcome::Exhausted),
                Step::End(Some(err)) => return Err(err),
                Step::NeedChunk => {}
            }
            let resumed = std::mem::replace(&mut resume, Resume::Next);
            match &mut self.source {
                Source::Python { source, awaiting } => {
                    let inner = if let Some(inner) = awaiting {
                        inner.bind(py).clone()
                    } else {
                        let inner = next_awaitable(source.bind(py))?;
                        *awaiting = Some(inner.clone().unbind());
                        inner
                    };
                    let sent = match resumed {
                        Resume::Next => send(&inner, None),
                        Resume::Send(value) => send(&inner, Some(&value)),
                        Resume::Throw(args) => {
                            match inner.call_method1(pyo3::intern!(py, "throw"), args) {
                                Ok(yielded) => Sent::Yielded(yielded),
                                Err(err) if err.is_instance_of::<PyStopIteration>(py) => {
                                    Sent::Returned(
                                        err.value(py).getattr(pyo3::intern!(py, "value"))?,
                                    )
                                }
                                Err(err) => Sent::Raised(err),
                            }
                        }
                    };
                    if !matches!(sent, Sent::Yielded(_)) {
                        // Dropped as a Bound: a Py dropped in a raw slot (where pyo3 does
                        // not know the thread is attached) would wait in pyo3's deferred
                        // pool.
                        drop(awaiting.take().map(|inner| inner.into_bound(py)));
                    }
                    match sent {
                        Sent::Yielded(yielded) => {
                            self.streak = 0;
                            return Ok(Outcome::Suspend(yielded.unbind()));
                        }
                        Sent::Returned(chunk) => self.pump.chunk(&chunk),
                        Sent::Raised(err) => {
                            if err.is_instance_of::<PyStopAsyncIteration>(py) {
                                self.pump.end(py);
                            } else {
                                return Err(self.pump.source_failed(py, err));
                            }
                        }
                    }
                }
                Source::Body { reader, waiting } => {
                    *waiting = false;
                    if let Resume::Throw(args) = resumed {
                        // A cancelled task: drop the connection now, raise what was thrown.
                        reader.close(py);
                        return Err(thrown(&args));
                    }
                    match reader.poll(py) {
                        Ok(Read::Chunk(chunk)) => self.pump.received(py, &chunk),
                        Ok(Read::End) => self.pump.end(py),
                        Ok(Read::Wait(future)) => {
                            *waiting = true;
                            self.streak = 0;
                            return Ok(Outcome::Suspend(future));
                        }
                        Err(err) => return Err(self.pump.source_failed(py, err)),
                    }
                }
            }
        }
    }

    /// Abandons the pending read, if any (a transport body's connection is closed).
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        match &mut self.source {
            Source::Python { awaiting, .. } => {
                if let Some(inner) = awaiting.take() {
                    inner.bind(py).call_method0(pyo3::intern!(py, "close"))?;
                }
            }
            Source::Body { reader, waiting } => {
                if std::mem::take(waiting) {
                    reader.close(py);
                }
            }
        }
        Ok(())
    }
}

/// Creates the async iterator over `source` (an async iterable of byte chunks).
pub fn new_async_iterator(source: &Bound<'_, PyAny>, pump: Pump) -> PyResult<Py<PyAny>> {
    let py = source.py();
    let source = source
        .call_method0(pyo3::intern!(py, "__aiter__"))?
        .unbind();
    let state = State {
        pump,
        streak: 0,
        source: Source::Python {
            source,
            awaiting: None,
        },
    };
    new_instance(type_object(py)?, state)
}

/// Creates the async iterator over a transport body.
pub fn new_body_iterator(py: Python<'_>, reader: BodyReader, pump: Pump) -> PyResult<Py<PyAny>> {
    let state = State {
        pump,
        streak: 0,
        source: Source::Body {
            reader: Box::new(reader),
            waiting: false,
        },
    };
    new_instance(type_object(py)?, state)
}

/// The `AsyncChunkIterator` type, created once.
pub fn type_object(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    TYPE.get_or_try_init(py, || create(py))
        .map(|tp| tp.bind(py))
}

fn create(py: Python<'_>) -> PyResult<Py<PyType>> {
    // The type keeps a pointer to its method table: it lives as long as the process.
    let methods: &'static mut [ffi::PyMethodDef; 4] = Box::leak(Box::new([
        ffi::PyMethodDef {
            ml_name: c"send".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: method_send,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Coroutine protocol: resume with a value from the event loop.".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"throw".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: method_throw,
            },
            ml_flags: ffi::METH_VARARGS,
            ml_doc: c"Coroutine protocol: raise an exception inside the pending read.".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"close".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: method_close,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Coroutine protocol: abandon the pending read.".as_ptr(),
        },
        ffi::PyMethodDef::zeroed(),
    ]));
    let doc = c"Async iterator of decoded items over an async iterable of byte chunks; it is \
                its own awaitable, so that ready items cost no event-loop turn.";
    create_type::<State>(
        py,
        c"seltzer._core.AsyncChunkIterator",
        vec![
            slot(ffi::Py_tp_iter, return_self as *mut c_void),
            slot(ffi::Py_tp_iternext, iternext as *mut c_void),
            slot(ffi::Py_am_await, return_self as *mut c_void),
            slot(ffi::Py_am_aiter, return_self as *mut c_void),
            slot(ffi::Py_am_anext, anext as *mut c_void),
            slot(ffi::Py_am_send, am_send as *mut c_void),
            slot(ffi::Py_tp_methods, methods.as_mut_ptr().cast()),
            slot(ffi::Py_tp_doc, doc.as_ptr().cast_mut().cast()),
        ],
    )
}

/// `am_send`: CPython's fast path for `await`; a ready item is a plain return.
unsafe extern "C" fn am_send(
    obj: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
    result: *mut *mut ffi::PyObject,
) -> ffi::PySendResult {
    let outcome = with_state(obj, |py, state: &mut State| {
        let resume = if arg.is_null() || arg == ffi::Py_None() {
            Resume::Next
        } else {
            Resume::Send(Bound::from_borrowed_ptr(py, arg))
        };
        state.drive(py, resume)
    });
    match outcome {
        Some(Outcome::Ready(item)) => {
            *result = item.into_ptr();
            ffi::PySendResult::PYGEN_RETURN
        }
        Some(Outcome::Suspend(yielded)) => {
            *result = yielded.into_ptr();
            ffi::PySendResult::PYGEN_NEXT
        }
        Some(Outcome::Exhausted) => {
            PyStopAsyncIteration::new_err(()).restore(Python::assume_attached());
            *result = ptr::null_mut();
            ffi::PySendResult::PYGEN_ERROR
        }
        None => {
            *result = ptr::null_mut();
            ffi::PySendResult::PYGEN_ERROR
        }
    }
}

/// Converts an outcome for the `__next__`/`send`/`throw` paths, which signal a result
/// with `StopIteration(value)` like any coroutine.
unsafe fn outcome_to_ptr(outcome: Option<Outcome>) -> *mut ffi::PyObject {
    let py = Python::assume_attached();
    match outcome {
        Some(Outcome::Ready(item)) => {
            // A tuple value would be taken for the exception's arguments: wrap it.
            let value = PyTuple::new(py, [item]).map(Bound::into_ptr);
            match value {
                Ok(args) => {
                    ffi::PyErr_SetObject(ffi::PyExc_StopIteration, args);
                    ffi::Py_DECREF(args);
                }
                Err(err) => err.restore(py),
            }
            ptr::null_mut()
        }
        Some(Outcome::Suspend(yielded)) => yielded.into_ptr(),
        Some(Outcome::Exhausted) => {
            PyStopAsyncIteration::new_err(()).restore(py);
            ptr::null_mut()
        }
        None => ptr::null_mut(),
    }
}

unsafe extern "C" fn iternext(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    outcome_to_ptr(with_state(obj, |py, state: &mut State| {
        state.drive(py, Resume::Next)
    }))
}

unsafe extern "C" fn method_send(
    obj: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    outcome_to_ptr(with_state(obj, |py, state: &mut State| {
        if arg == ffi::Py_None() {
            state.drive(py, Resume::Next)
        } else {
            state.drive(py, Resume::Send(Bound::from_borrowed_ptr(py, arg)))
        }
    }))
}

unsafe extern "C" fn method_throw(
    obj: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    outcome_to_ptr(with_state(obj, |py, state: &mut State| {
        let args = Bound::from_borrowed_ptr(py, args).cast_into::<PyTuple>()?;
        if !state.waiting() {
            // Nothing pending to throw into: raise it here, as a finished coroutine does.
            return Err(thrown(&args));
        }
        state.drive(py, Resume::Throw(args))
    }))
}

unsafe extern "C" fn method_close(
    obj: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    match with_state(obj, |py, state: &mut State| state.close(py)) {
        Some(()) => {
            let none = ffi::Py_None();
            ffi::Py_INCREF(none);
            none
        }
        None => ptr::null_mut(),
    }
}

unsafe extern "C" fn anext(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    let finished = with_state(obj, |_, state: &mut State| {
        Ok(state.pump.exhausted() && !state.waiting())
    });
    match finished {
        Some(true) => {
            PyStopAsyncIteration::new_err(()).restore(Python::assume_attached());
            ptr::null_mut()
        }
        Some(false) => return_self(obj),
        None => ptr::null_mut(),
    }
}
