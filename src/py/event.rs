//! `seltzer.ServerSentEvent`: a frozen, comparable, hashable event, and the cache that
//! lets the decoder reuse Python strings that repeat (event types, ids).

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::sse::Event;

/// One server-sent event.
#[pyclass(name = "ServerSentEvent", module = "seltzer", frozen)]
pub struct PyServerSentEvent {
    event: Py<PyString>,
    data: Py<PyString>,
    id: Option<Py<PyString>>,
    retry: Option<u64>,
}

#[pymethods]
impl PyServerSentEvent {
    #[new]
    #[pyo3(signature = (event = "message", data = "", id = None, retry = None))]
    fn new(
        py: Python<'_>,
        event: &str,
        data: &str,
        id: Option<Py<PyString>>,
        retry: Option<u64>,
    ) -> Self {
        Self {
            event: PyString::new(py, event).unbind(),
            data: PyString::new(py, data).unbind(),
            id,
            retry,
        }
    }

    /// The event type ("message" unless an `event` field said otherwise).
    #[getter]
    fn event(&self, py: Python<'_>) -> Py<PyString> {
        self.event.clone_ref(py)
    }

    /// The data lines joined with "\n".
    #[getter]
    fn data(&self, py: Python<'_>) -> Py<PyString> {
        self.data.clone_ref(py)
    }

    /// The last event ID at dispatch, or None when the stream never sent one.
    #[getter]
    fn id(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.id.as_ref().map(|id| id.clone_ref(py))
    }

    /// A valid `retry` field in this event (milliseconds), else None.
    #[getter]
    fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Parses `data` as JSON, in Rust.
    fn json(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        super::guard::guard(|| super::json::parse(py, self.data.bind(py).to_str()?))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let id = match &self.id {
            Some(id) => id.bind(py).repr()?.to_string(),
            None => "None".to_string(),
        };
        let retry = self
            .retry
            .map_or_else(|| "None".to_string(), |r| r.to_string());
        Ok(format!(
            "ServerSentEvent(event={}, data={}, id={id}, retry={retry})",
            self.event.bind(py).repr()?,
            self.data.bind(py).repr()?,
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<Self>() else {
            return Ok(py.NotImplemented());
        };
        compare(py, self.key(py)?.eq(other.get().key(py)?)?, op)
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        self.key(py)?.hash()
    }
}

impl PyServerSentEvent {
    /// The tuple that equality and hashing compare.
    fn key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok((
            self.event.clone_ref(py),
            self.data.clone_ref(py),
            self.id.as_ref().map(|id| id.clone_ref(py)),
            self.retry,
        )
            .into_pyobject(py)?
            .into_any())
    }
}

/// The result of `==` / `!=` given whether two values are equal; other comparisons are
/// not implemented.
pub fn compare(py: Python<'_>, equal: bool, op: CompareOp) -> PyResult<Py<PyAny>> {
    let result = match op {
        CompareOp::Eq => equal,
        CompareOp::Ne => !equal,
        _ => return Ok(py.NotImplemented()),
    };
    Ok(result.into_pyobject(py)?.to_owned().into_any().unbind())
}

/// Remembers the last Python string made for a value that tends to repeat.
#[derive(Default)]
pub struct StrCache {
    key: String,
    value: Option<Py<PyString>>,
}

impl StrCache {
    /// The Python string for `s`, reused when `s` equals the previous call's.
    pub fn get(&mut self, py: Python<'_>, s: &str) -> Py<PyString> {
        if let Some(value) = &self.value {
            if self.key == s {
                return value.clone_ref(py);
            }
        }
        let value = PyString::new(py, s).unbind();
        self.key.clear();
        self.key.push_str(s);
        self.value = Some(value.clone_ref(py));
        value
    }
}

/// Reused strings for the fields of consecutive events.
#[derive(Default)]
pub struct EventStrings {
    event: StrCache,
    id: StrCache,
}

impl EventStrings {
    /// Builds the Python event for a core event.
    pub fn make(&mut self, py: Python<'_>, ev: &Event<'_>) -> PyResult<Py<PyServerSentEvent>> {
        let event = if ev.event_type == "message" {
            pyo3::intern!(py, "message").clone().unbind()
        } else {
            self.event.get(py, ev.event_type)
        };
        Py::new(
            py,
            PyServerSentEvent {
                event,
                data: PyString::new(py, &ev.data).unbind(),
                id: ev.id.map(|id| self.id.get(py, id)),
                retry: ev.retry,
            },
        )
    }
}
