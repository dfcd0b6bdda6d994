//! Transport failures as httpx's own exception classes (`httpx.ReadTimeout`, ...), with
//! the request attached, so that retry logic written for httpx behaves unchanged.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::transport::{TransportError, TransportErrorKind};

/// The `httpx` module, imported once.
fn httpx(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static HTTPX: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    HTTPX
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("httpx")?.unbind()))
        .map(|m| m.bind(py))
}

/// `err` as the httpx exception of its kind, carrying `request` when there is one.
/// Options that cannot be used are `ValueError`; a stopped runtime is `RuntimeError`.
pub fn httpx_error(py: Python<'_>, err: &TransportError, request: Option<&Py<PyAny>>) -> PyErr {
    match err.kind() {
        TransportErrorKind::InvalidOptions => return PyValueError::new_err(err.to_string()),
        TransportErrorKind::Runtime => return PyRuntimeError::new_err(err.to_string()),
        _ => {}
    }
    let made = (|| {
        let class = httpx(py)?.getattr(err.kind().httpx_name())?;
        let kwargs = PyDict::new(py);
        if let Some(request) = request {
            kwargs.set_item("request", request)?;
        }
        class.call((err.message(),), Some(&kwargs))
    })();
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(failed) => failed,
    }
}

/// `httpx.StreamClosed()`: reading a body after it was closed.
pub fn stream_closed(py: Python<'_>) -> PyErr {
    match httpx(py).and_then(|m| m.getattr("StreamClosed")?.call0()) {
        Ok(exc) => PyErr::from_value(exc),
        Err(failed) => failed,
    }
}
