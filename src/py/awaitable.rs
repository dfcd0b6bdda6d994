//! The C-API layer shared by seltzer's async iterators (the token and SSE iterators in
//! `aiter.rs`, `astream_events`' in `event_aiter.rs`): a type that is its own awaitable,
//! whose `am_send` slot hands a ready item back as a plain return value (no
//! `StopIteration`, no event-loop turn) and otherwise passes the suspensions of a Python
//! awaitable it drives through to the event loop. Each iterator supplies its state as an
//! [`AsyncSource`]: ordinary safe Rust; the unsafe part is only the slot functions here.

// The C-API type needs raw pointers and `extern "C"` slots; each unsafe block says why
// it holds.
#![allow(unsafe_code)]

use std::ffi::{c_void, CStr};
use std::ptr;

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

use super::rawtype::{create_type, return_self, slot, with_state};

/// How the awaitable is being resumed.
pub enum Resume<'py> {
    Next,
    Send(Bound<'py, PyAny>),
    Throw(Bound<'py, PyTuple>),
}

/// What one resumption produced.
pub enum Outcome {
    /// An item is ready: the `await` returns it.
    Ready(Py<PyAny>),
    /// The source is waiting on the event loop: suspend with what it yielded.
    Suspend(Py<PyAny>),
    /// The stream is over: `StopAsyncIteration`.
    Exhausted,
}

/// What resuming a driven awaitable gave.
pub enum Sent<'py> {
    /// It suspended on the event loop with this value.
    Yielded(Bound<'py, PyAny>),
    /// It finished with this value.
    Returned(Bound<'py, PyAny>),
    /// It raised (`StopAsyncIteration` at the end of an async iterator).
    Raised(PyErr),
}

/// The state of an async iterator built on this layer.
pub trait AsyncSource: Sized + 'static {
    /// Runs until an item is ready, the stream ends, or the source suspends.
    fn drive(&mut self, py: Python<'_>, resume: Resume<'_>) -> PyResult<Outcome>;
    /// Whether a resumption would go to a pending awaitable (else a `throw` has nothing
    /// to go into).
    fn waiting(&self) -> bool;
    /// Whether the stream is over and nothing is pending (`__anext__` then raises).
    fn finished(&self) -> bool;
    /// Abandons the pending awaitable, if any (`close()` of the coroutine protocol).
    fn close(&mut self, py: Python<'_>) -> PyResult<()>;
}

/// Resumes `inner` with `value` (None for `__next__`) through `PyIter_Send`, which
/// hands back a finished awaitable's result without raising `StopIteration`.
pub fn send<'py>(inner: &Bound<'py, PyAny>, value: Option<&Bound<'py, PyAny>>) -> Sent<'py> {
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

/// Resumes `inner` as `resume` says: `send`, or its `throw` method.
pub fn resume<'py>(inner: &Bound<'py, PyAny>, resume: Resume<'py>) -> PyResult<Sent<'py>> {
    let py = inner.py();
    Ok(match resume {
        Resume::Next => send(inner, None),
        Resume::Send(value) => send(inner, Some(&value)),
        Resume::Throw(args) => match inner.call_method1(pyo3::intern!(py, "throw"), args) {
            Ok(yielded) => Sent::Yielded(yielded),
            Err(err) if err.is_instance_of::<PyStopIteration>(py) => {
                Sent::Returned(err.value(py).getattr(pyo3::intern!(py, "value"))?)
            }
            Err(err) => Sent::Raised(err),
        },
    })
}

/// The exception a `throw(type, value, traceback)` call carries.
pub fn thrown(args: &Bound<'_, PyTuple>) -> PyErr {
    let exc = match args.get_item(1) {
        Ok(val) if !val.is_none() => Ok(val),
        _ => args.get_item(0),
    };
    match exc {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// A method of the type beyond the coroutine protocol (which every such type has).
pub struct ExtraMethod {
    pub name: &'static CStr,
    pub meth: ffi::PyCFunction,
    pub flags: std::ffi::c_int,
    pub doc: &'static CStr,
}

/// Creates the async iterator type named `name` over state `S`, with the coroutine
/// protocol's `send`, `throw` and `close`, and `extra` methods.
pub fn create_async_type<S: AsyncSource>(
    py: Python<'_>,
    name: &'static CStr,
    doc: &'static CStr,
    extra: &[ExtraMethod],
) -> PyResult<Py<PyType>> {
    let mut methods = vec![
        ffi::PyMethodDef {
            ml_name: c"send".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: method_send::<S>,
            },
            ml_flags: ffi::METH_O,
            ml_doc: c"Coroutine protocol: resume with a value from the event loop.".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"throw".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: method_throw::<S>,
            },
            ml_flags: ffi::METH_VARARGS,
            ml_doc: c"Coroutine protocol: raise an exception inside the pending wait.".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"close".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: method_close::<S>,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Coroutine protocol: abandon the pending wait.".as_ptr(),
        },
    ];
    methods.extend(extra.iter().map(|m| ffi::PyMethodDef {
        ml_name: m.name.as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: m.meth,
        },
        ml_flags: m.flags,
        ml_doc: m.doc.as_ptr(),
    }));
    methods.push(ffi::PyMethodDef::zeroed());
    // The type keeps a pointer to its method table: it lives as long as the process.
    let methods: &'static mut [ffi::PyMethodDef] = Box::leak(methods.into_boxed_slice());
    create_type::<S>(
        py,
        name,
        vec![
            slot(ffi::Py_tp_iter, return_self as *mut c_void),
            slot(ffi::Py_tp_iternext, iternext::<S> as *mut c_void),
            slot(ffi::Py_am_await, return_self as *mut c_void),
            slot(ffi::Py_am_aiter, return_self as *mut c_void),
            slot(ffi::Py_am_anext, anext::<S> as *mut c_void),
            slot(ffi::Py_am_send, am_send::<S> as *mut c_void),
            slot(ffi::Py_tp_methods, methods.as_mut_ptr().cast()),
            slot(ffi::Py_tp_doc, doc.as_ptr().cast_mut().cast()),
        ],
    )
}

/// `am_send`: CPython's fast path for `await`; a ready item is a plain return.
unsafe extern "C" fn am_send<S: AsyncSource>(
    obj: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
    result: *mut *mut ffi::PyObject,
) -> ffi::PySendResult {
    let outcome = with_state(obj, |py, state: &mut S| {
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

unsafe extern "C" fn iternext<S: AsyncSource>(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    outcome_to_ptr(with_state(obj, |py, state: &mut S| {
        state.drive(py, Resume::Next)
    }))
}

unsafe extern "C" fn method_send<S: AsyncSource>(
    obj: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    outcome_to_ptr(with_state(obj, |py, state: &mut S| {
        if arg == ffi::Py_None() {
            state.drive(py, Resume::Next)
        } else {
            state.drive(py, Resume::Send(Bound::from_borrowed_ptr(py, arg)))
        }
    }))
}

unsafe extern "C" fn method_throw<S: AsyncSource>(
    obj: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    outcome_to_ptr(with_state(obj, |py, state: &mut S| {
        let args = Bound::from_borrowed_ptr(py, args).cast_into::<PyTuple>()?;
        if !state.waiting() {
            // Nothing pending to throw into: raise it here, as a finished coroutine does.
            return Err(thrown(&args));
        }
        state.drive(py, Resume::Throw(args))
    }))
}

unsafe extern "C" fn method_close<S: AsyncSource>(
    obj: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    match with_state(obj, |py, state: &mut S| state.close(py)) {
        Some(()) => {
            let none = ffi::Py_None();
            ffi::Py_INCREF(none);
            none
        }
        None => ptr::null_mut(),
    }
}

unsafe extern "C" fn anext<S: AsyncSource>(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    match with_state(obj, |_, state: &mut S| Ok(state.finished())) {
        Some(true) => {
            PyStopAsyncIteration::new_err(()).restore(Python::assume_attached());
            ptr::null_mut()
        }
        Some(false) => return_self(obj),
        None => ptr::null_mut(),
    }
}
