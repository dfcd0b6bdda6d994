//! Borrowing the bytes of a Python chunk: `bytes` without a copy, `bytearray` and
//! `memoryview` (or any object with `__bytes__`-compatible buffer) through one copy.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

/// Calls `f` with the bytes of `chunk`.
pub fn with_bytes<T>(chunk: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> T) -> PyResult<T> {
    if let Ok(bytes) = chunk.cast::<PyBytes>() {
        return Ok(f(bytes.as_bytes()));
    }
    if let Ok(array) = chunk.cast::<PyByteArray>() {
        return Ok(f(&array.to_vec()));
    }
    if chunk.hasattr(pyo3::intern!(chunk.py(), "tobytes"))? {
        let copy = chunk.call_method0(pyo3::intern!(chunk.py(), "tobytes"))?;
        if let Ok(bytes) = copy.cast::<PyBytes>() {
            return Ok(f(bytes.as_bytes()));
        }
    }
    Err(PyTypeError::new_err(format!(
        "expected bytes, bytearray or memoryview, got {}",
        chunk.get_type().name()?
    )))
}
