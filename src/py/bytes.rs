//! Chunks from Python as `bytes`: a `bytes` object is used as it is (no copy, and
//! tokens can keep a reference to it for `.json()`); `bytearray`, `memoryview` and other
//! buffers are copied once into a new `bytes`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

/// `chunk` as a `bytes` object.
pub fn as_bytes<'py>(chunk: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let py = chunk.py();
    if let Ok(bytes) = chunk.cast::<PyBytes>() {
        return Ok(bytes.clone());
    }
    if let Ok(array) = chunk.cast::<PyByteArray>() {
        return Ok(PyBytes::new(py, &array.to_vec()));
    }
    if chunk.hasattr(pyo3::intern!(py, "tobytes"))? {
        let copy = chunk.call_method0(pyo3::intern!(py, "tobytes"))?;
        if let Ok(bytes) = copy.cast_into::<PyBytes>() {
            return Ok(bytes);
        }
    }
    Err(PyTypeError::new_err(format!(
        "expected bytes, bytearray or memoryview, got {}",
        chunk.get_type().name()?
    )))
}
