//! Python types built with the C API (`PyType_FromSpec`) for the per-item hot paths,
//! where `#[pyclass]` method trampolines cost more than the work itself: the object
//! layout (a header and a pointer to Rust state), allocation, deallocation, and running
//! Rust code on the state with re-entry and panic protection. The iterators in
//! `iter.rs` and `aiter.rs` supply their slots; all they do is ordinary safe Rust.

// Raw object layouts and `extern "C"` slots need unsafe code; each block says why it
// holds.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;

use super::errors::SeltzerError;

/// The Python object: a header and a pointer to the Rust state `S`.
#[repr(C)]
struct RawObject<S> {
    ob_base: ffi::PyObject,
    /// Owned `Box<S>`; null while a slot function is using it (re-entry guard).
    state: *mut S,
}

/// A slot for [`create_type`].
pub fn slot(slot: c_int, pfunc: *mut c_void) -> ffi::PyType_Slot {
    ffi::PyType_Slot { slot, pfunc }
}

/// Creates a heap type named `name` whose instances hold an `S`. `slots` must not
/// include `Py_tp_dealloc` (added here); the list is leaked, as the type keeps it.
pub fn create_type<S>(
    py: Python<'_>,
    name: &'static CStr,
    mut slots: Vec<ffi::PyType_Slot>,
) -> PyResult<Py<PyType>> {
    slots.push(slot(ffi::Py_tp_dealloc, dealloc::<S> as *mut c_void));
    slots.push(slot(0, ptr::null_mut()));
    let slots: &'static mut [ffi::PyType_Slot] = Box::leak(slots.into_boxed_slice());
    let basicsize = c_int::try_from(std::mem::size_of::<RawObject<S>>())
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let spec: &'static mut ffi::PyType_Spec = Box::leak(Box::new(ffi::PyType_Spec {
        name: name.as_ptr(),
        basicsize,
        itemsize: 0,
        #[allow(clippy::cast_possible_truncation)] // reason: the default flags fit in 32 bits
        flags: ffi::Py_TPFLAGS_DEFAULT as _,
        slots: slots.as_mut_ptr(),
    }));
    // SAFETY: attached; the spec and everything it points to are 'static (leaked).
    unsafe {
        let tp = ffi::PyType_FromSpec(spec);
        Ok(Bound::from_owned_ptr_or_err(py, tp)?
            .cast_into::<PyType>()?
            .unbind())
    }
}

/// A new instance of `tp` (made by [`create_type::<S>`]) owning `state`.
pub fn new_instance<S>(tp: &Bound<'_, PyType>, state: S) -> PyResult<Py<PyAny>> {
    let py = tp.py();
    let state = Box::new(state);
    // SAFETY: attached; `tp` was made by create_type::<S>, so its tp_alloc returns a
    // zeroed RawObject<S> with one reference, or null with an exception set.
    unsafe {
        let alloc: ffi::allocfunc =
            std::mem::transmute(ffi::PyType_GetSlot(tp.as_type_ptr(), ffi::Py_tp_alloc));
        let obj = alloc(tp.as_type_ptr(), 0);
        if obj.is_null() {
            return Err(PyErr::fetch(py));
        }
        (*obj.cast::<RawObject<S>>()).state = Box::into_raw(state);
        Ok(Bound::from_owned_ptr(py, obj).unbind())
    }
}

/// Runs `f` with the object's state, catching panics and re-entry. Returns `None` with
/// a Python exception set when `f` failed, could not run or panicked.
///
/// # Safety
/// `obj` is a live instance of a type made by `create_type::<S>`, and the thread is
/// attached to the interpreter.
pub unsafe fn with_state<S, R>(
    obj: *mut ffi::PyObject,
    f: impl FnOnce(Python<'_>, &mut S) -> PyResult<R>,
) -> Option<R> {
    let py = Python::assume_attached();
    let raw = obj.cast::<RawObject<S>>();
    // Take the state out while it is in use: a re-entrant call finds null and fails
    // instead of aliasing it.
    let state = (*raw).state;
    if state.is_null() {
        PyRuntimeError::new_err("seltzer iterator is already running").restore(py);
        return None;
    }
    (*raw).state = ptr::null_mut();
    let result = catch_unwind(AssertUnwindSafe(|| f(py, &mut *state)));
    (*raw).state = state;
    match result {
        Ok(Ok(value)) => Some(value),
        Ok(Err(err)) => {
            err.restore(py);
            None
        }
        Err(_) => {
            SeltzerError::new_err("internal error in a seltzer iterator (please report it)")
                .restore(py);
            None
        }
    }
}

/// A slot returning the object itself (`__iter__`, `__aiter__`, `__await__`).
///
/// # Safety
/// Called by CPython with a live object.
pub unsafe extern "C" fn return_self(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    ffi::Py_INCREF(obj);
    obj
}

/// `tp_dealloc`: drops the Rust state, frees the object, releases the type.
unsafe extern "C" fn dealloc<S>(obj: *mut ffi::PyObject) {
    let raw = obj.cast::<RawObject<S>>();
    let state = (*raw).state;
    if !state.is_null() {
        (*raw).state = ptr::null_mut();
        // Dropping the state releases the Python objects it holds (attached here).
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(state))));
    }
    let tp = ffi::Py_TYPE(obj);
    let free: ffi::freefunc = std::mem::transmute(ffi::PyType_GetSlot(tp, ffi::Py_tp_free));
    free(obj.cast());
    // Instances of heap types hold a reference to their type.
    ffi::Py_DECREF(tp.cast());
}
