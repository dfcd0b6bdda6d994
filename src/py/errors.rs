//! The Python exception hierarchy, defined once, and the only place core errors become
//! Python exceptions (one `From<CoreError> for PyErr` per core error enum).
//!
//! `SeltzerError` > `SSEError`, `DecodeError`, `APIStatusError`, `StreamError`,
//! `StreamInterrupted`, `APIConnectionError` > `APITimeoutError`. Attributes that the
//! stub promises (`.offset`, `.snippet`, `.status_code`, ...) exist on every instance:
//! the classes carry `None` defaults and raising code sets the real values.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::sse::SseError;

create_exception!(
    seltzer,
    SeltzerError,
    PyException,
    "Base class of every error seltzer raises."
);
create_exception!(
    seltzer,
    SSEError,
    SeltzerError,
    "Not an event stream (wrong content type), or an event over max_event_bytes."
);
create_exception!(
    seltzer,
    DecodeError,
    SeltzerError,
    "A payload is not the JSON expected (.offset, .snippet)."
);
create_exception!(
    seltzer,
    APIStatusError,
    SeltzerError,
    "The server answered with HTTP status >= 400 (.status_code, .body, .headers)."
);
create_exception!(
    seltzer,
    StreamError,
    SeltzerError,
    "The provider sent an error inside the stream (.type, .message)."
);
create_exception!(
    seltzer,
    StreamInterrupted,
    SeltzerError,
    "The stream ended before its end (.partial: the text received so far)."
);
create_exception!(
    seltzer,
    APIConnectionError,
    SeltzerError,
    "Could not connect to the server or send the request."
);
create_exception!(
    seltzer,
    APITimeoutError,
    APIConnectionError,
    "The request timed out."
);

/// An attribute every instance of a class has, with its class-level default.
type AttrDefault = (&'static str, Option<&'static str>);

/// Adds the exception classes to the module, with their attribute defaults.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let defaults: [(Bound<'_, PyType>, &[AttrDefault]); 8] = [
        (py.get_type::<SeltzerError>(), &[]),
        (
            py.get_type::<SSEError>(),
            &[("offset", None), ("limit", None)],
        ),
        (
            py.get_type::<DecodeError>(),
            &[("offset", None), ("snippet", None)],
        ),
        (
            py.get_type::<APIStatusError>(),
            &[("status_code", None), ("body", None), ("headers", None)],
        ),
        (
            py.get_type::<StreamError>(),
            &[("type", None), ("message", None)],
        ),
        (py.get_type::<StreamInterrupted>(), &[("partial", Some(""))]),
        (py.get_type::<APIConnectionError>(), &[]),
        (py.get_type::<APITimeoutError>(), &[]),
    ];
    for (cls, attrs) in defaults {
        for (name, value) in attrs {
            cls.setattr(*name, value)?;
        }
        m.add(cls.name()?, cls)?;
    }
    Ok(())
}

/// Builds an exception of class `T` with `message` and sets `attrs` on the instance.
pub fn with_attrs<T: pyo3::PyTypeInfo>(
    py: Python<'_>,
    message: String,
    attrs: &[(&str, Bound<'_, PyAny>)],
) -> PyErr {
    let err = PyErr::new::<T, _>(message);
    let value = err.value(py);
    for (name, attr) in attrs {
        if let Err(e) = value.setattr(*name, attr) {
            return e;
        }
    }
    err
}

impl From<SseError> for PyErr {
    fn from(err: SseError) -> PyErr {
        Python::attach(|py| {
            let (limit, offset) = match &err {
                SseError::EventTooLarge { limit, offset, .. } => (*limit, *offset),
            };
            let attrs = [
                ("offset", offset.into_pyobject(py).map(Bound::into_any)),
                ("limit", limit.into_pyobject(py).map(Bound::into_any)),
            ];
            let attrs: Vec<_> = attrs
                .into_iter()
                .filter_map(|(name, value)| value.ok().map(|v| (name, v)))
                .collect();
            with_attrs::<SSEError>(py, err.to_string(), &attrs)
        })
    }
}
