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

use crate::dialect::{DecodeError as CoreDecodeError, StreamError as CoreStreamError};
use crate::mock::{FaultParseError, MockError};
use crate::ndjson::NdjsonError;
use crate::sse::SseError;
use crate::token::DecodeFailure;

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
        let SseError::EventTooLarge { limit, offset, .. } = &err;
        too_large(err.to_string(), *limit, *offset)
    }
}

impl From<NdjsonError> for PyErr {
    fn from(err: NdjsonError) -> PyErr {
        let NdjsonError::LineTooLong { limit, offset, .. } = &err;
        too_large(err.to_string(), *limit, *offset)
    }
}

/// `SSEError` for an event (or NDJSON line) over its bound, with `.limit` and `.offset`.
fn too_large(message: String, limit: usize, offset: u64) -> PyErr {
    Python::attach(|py| {
        let attrs = [
            ("offset", offset.into_pyobject(py).map(Bound::into_any)),
            ("limit", limit.into_pyobject(py).map(Bound::into_any)),
        ];
        let attrs: Vec<_> = attrs
            .into_iter()
            .filter_map(|(name, value)| value.ok().map(|v| (name, v)))
            .collect();
        with_attrs::<SSEError>(py, message, &attrs)
    })
}

impl From<CoreDecodeError> for PyErr {
    fn from(err: CoreDecodeError) -> PyErr {
        Python::attach(|py| {
            let offset = match err.offset.into_pyobject(py) {
                Ok(offset) => offset.into_any(),
                Err(e) => return e.into(),
            };
            let snippet = pyo3::types::PyString::new(py, &err.snippet).into_any();
            with_attrs::<DecodeError>(
                py,
                err.to_string(),
                &[("offset", offset), ("snippet", snippet)],
            )
        })
    }
}

impl From<CoreStreamError> for PyErr {
    fn from(err: CoreStreamError) -> PyErr {
        Python::attach(|py| {
            let type_ = match &err.type_ {
                Some(t) => pyo3::types::PyString::new(py, t).into_any(),
                None => py.None().into_bound(py),
            };
            let message = pyo3::types::PyString::new(py, &err.message).into_any();
            with_attrs::<StreamError>(
                py,
                format!("the provider sent an error in the stream: {err}"),
                &[("type", type_), ("message", message)],
            )
        })
    }
}

impl From<DecodeFailure> for PyErr {
    fn from(err: DecodeFailure) -> PyErr {
        match err {
            DecodeFailure::Sse(e) => e.into(),
            DecodeFailure::Ndjson(e) => e.into(),
            DecodeFailure::Decode(e) => e.into(),
            DecodeFailure::Stream(e) => e.into(),
        }
    }
}

/// `StreamInterrupted(message)` with `.partial`, the text received before it.
pub fn interrupted(message: String, partial: &str) -> PyErr {
    Python::attach(|py| {
        let partial = pyo3::types::PyString::new(py, partial).into_any();
        with_attrs::<StreamInterrupted>(py, message, &[("partial", partial)])
    })
}

impl From<MockError> for PyErr {
    fn from(err: MockError) -> PyErr {
        pyo3::exceptions::PyOSError::new_err(err.to_string())
    }
}

impl From<FaultParseError> for PyErr {
    fn from(err: FaultParseError) -> PyErr {
        pyo3::exceptions::PyValueError::new_err(err.to_string())
    }
}
