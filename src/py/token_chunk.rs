//! `seltzer.TokenChunk` and `seltzer.ToolCallDelta`: what one event says about one
//! choice, as Python objects. The payload behind `.json()` is kept by reference to the
//! chunk's `bytes` object when it lies inside it, so that tokens cost no copy of it.

use std::fmt::Write;
use std::sync::Arc;

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use super::event::compare;

/// Where a token's JSON payload lives.
pub enum Payload {
    /// A range of the chunk that carried it.
    Chunk {
        /// The chunk.
        bytes: Py<PyBytes>,
        /// Start of the payload in it.
        start: usize,
        /// End of the payload in it.
        end: usize,
    },
    /// A copy, for payloads assembled across chunks; shared by the tokens of one event.
    Owned(Arc<str>),
}

impl Payload {
    /// The payload's text.
    fn text<'a>(&'a self, py: Python<'a>) -> PyResult<&'a str> {
        match self {
            Self::Chunk { bytes, start, end } => {
                let slice = bytes
                    .bind(py)
                    .as_bytes()
                    .get(*start..*end)
                    .unwrap_or_default();
                // The range was cut from a &str, so it is valid UTF-8.
                std::str::from_utf8(slice)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
            }
            Self::Owned(text) => Ok(text),
        }
    }
}

/// One token: what one event says about one choice / content block / part.
#[pyclass(name = "TokenChunk", module = "seltzer", frozen)]
pub struct PyTokenChunk {
    pub(crate) text: Py<PyString>,
    pub(crate) index: u32,
    pub(crate) finish_reason: Option<Py<PyString>>,
    pub(crate) usage: Option<Py<PyAny>>,
    pub(crate) tool_calls: Option<Py<PyList>>,
    pub(crate) reasoning: Option<Py<PyString>>,
    pub(crate) event: Py<PyString>,
    pub(crate) payload: Payload,
    /// When the bytes that completed its event were read from the socket, on
    /// `time.perf_counter_ns()`'s clock: set on reads through seltzer's transport.
    pub(crate) received_ns: Option<u64>,
}

#[pymethods]
impl PyTokenChunk {
    /// The text the event adds ("" when none).
    #[getter]
    fn text(&self, py: Python<'_>) -> Py<PyString> {
        self.text.clone_ref(py)
    }

    /// The choice / content-block / output-item index.
    #[getter]
    fn index(&self) -> u32 {
        self.index
    }

    /// Why generation stopped, as the provider spells it, or None.
    #[getter]
    fn finish_reason(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.finish_reason.as_ref().map(|s| s.clone_ref(py))
    }

    /// The usage counts exactly as the provider sent them, or None.
    #[getter]
    fn usage(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.usage.as_ref().map(|u| u.clone_ref(py))
    }

    /// Tool-call fragments, or None.
    #[getter]
    fn tool_calls(&self, py: Python<'_>) -> Option<Py<PyList>> {
        self.tool_calls.as_ref().map(|t| t.clone_ref(py))
    }

    /// Reasoning / thinking text, or None.
    #[getter]
    fn reasoning(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.reasoning.as_ref().map(|s| s.clone_ref(py))
    }

    /// Whether the token carries text and nothing else (no finish reason, usage, tool
    /// calls or reasoning): the common case, which converters take a short way.
    #[getter]
    fn plain(&self) -> bool {
        self.finish_reason.is_none()
            && self.usage.is_none()
            && self.tool_calls.is_none()
            && self.reasoning.is_none()
    }

    /// The SSE event type the token came from.
    #[getter]
    fn event(&self, py: Python<'_>) -> Py<PyString> {
        self.event.clone_ref(py)
    }

    /// When the bytes that completed this token's event were read from the socket, in
    /// `time.perf_counter_ns()` nanoseconds; None unless read through seltzer's transport.
    #[getter]
    fn received_ns(&self) -> Option<u64> {
        self.received_ns
    }

    /// The event's whole JSON payload, parsed now (in Rust).
    fn json(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        super::guard::guard(|| super::json::parse(py, self.payload.text(py)?))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = format!(
            "TokenChunk(text={}, index={}",
            self.text.bind(py).repr()?,
            self.index
        );
        let optional: [(&str, Option<Bound<'_, PyAny>>); 4] = [
            (
                "finish_reason",
                self.finish_reason
                    .as_ref()
                    .map(|v| v.bind(py).clone().into_any()),
            ),
            ("usage", self.usage.as_ref().map(|v| v.bind(py).clone())),
            (
                "tool_calls",
                self.tool_calls
                    .as_ref()
                    .map(|v| v.bind(py).clone().into_any()),
            ),
            (
                "reasoning",
                self.reasoning
                    .as_ref()
                    .map(|v| v.bind(py).clone().into_any()),
            ),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                let _ = write!(out, ", {name}={}", value.repr()?);
            }
        }
        let _ = write!(out, ", event={})", self.event.bind(py).repr()?);
        Ok(out)
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<Self>() else {
            return Ok(py.NotImplemented());
        };
        compare(py, self.key(py)?.eq(other.get().key(py)?)?, op)
    }
}

impl PyTokenChunk {
    /// What equality compares: every field but the payload.
    fn key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let opt = |v: &Option<Py<PyString>>| v.as_ref().map(|s| s.clone_ref(py).into_any());
        PyTuple::new(
            py,
            [
                self.text.clone_ref(py).into_any(),
                self.index.into_pyobject(py)?.into_any().unbind(),
                opt(&self.finish_reason).unwrap_or_else(|| py.None()),
                self.usage
                    .as_ref()
                    .map_or_else(|| py.None(), |u| u.clone_ref(py)),
                self.tool_calls
                    .as_ref()
                    .map_or_else(|| py.None(), |t| t.clone_ref(py).into_any()),
                opt(&self.reasoning).unwrap_or_else(|| py.None()),
                self.event.clone_ref(py).into_any(),
            ],
        )
    }
}

/// A fragment of a tool call; fragments with the same `index` add up to one call.
/// Also readable as a mapping (`delta["arguments"]`, `dict(delta)`).
#[pyclass(name = "ToolCallDelta", module = "seltzer", frozen, mapping)]
pub struct PyToolCallDelta {
    pub(crate) index: u32,
    pub(crate) id: Option<Py<PyString>>,
    pub(crate) name: Option<Py<PyString>>,
    pub(crate) arguments: Py<PyString>,
}

const FIELDS: [&str; 4] = ["index", "id", "name", "arguments"];

#[pymethods]
impl PyToolCallDelta {
    #[new]
    #[pyo3(signature = (index, id = None, name = None, arguments = None))]
    fn new(
        py: Python<'_>,
        index: u32,
        id: Option<Py<PyString>>,
        name: Option<Py<PyString>>,
        arguments: Option<Py<PyString>>,
    ) -> Self {
        Self {
            index,
            id,
            name,
            arguments: arguments.unwrap_or_else(|| PyString::new(py, "").unbind()),
        }
    }

    /// Which call of the message this fragment belongs to.
    #[getter]
    fn index(&self) -> u32 {
        self.index
    }

    /// The call id (usually only on the first fragment).
    #[getter]
    fn id(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.id.as_ref().map(|s| s.clone_ref(py))
    }

    /// The function name (usually only on the first fragment).
    #[getter]
    fn name(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.name.as_ref().map(|s| s.clone_ref(py))
    }

    /// A fragment of the JSON arguments.
    #[getter]
    fn arguments(&self, py: Python<'_>) -> Py<PyString> {
        self.arguments.clone_ref(py)
    }

    /// The field names, as a dict's keys.
    #[allow(clippy::unused_self)] // reason: a method, as the mapping protocol wants
    fn keys(&self) -> [&'static str; 4] {
        FIELDS
    }

    fn __getitem__(&self, py: Python<'_>, key: &str) -> PyResult<Py<PyAny>> {
        let opt = |v: &Option<Py<PyString>>| {
            v.as_ref()
                .map_or_else(|| py.None(), |s| s.clone_ref(py).into_any())
        };
        Ok(match key {
            "index" => self.index.into_pyobject(py)?.into_any().unbind(),
            "id" => opt(&self.id),
            "name" => opt(&self.name),
            "arguments" => self.arguments.clone_ref(py).into_any(),
            _ => return Err(PyKeyError::new_err(key.to_string())),
        })
    }

    #[allow(clippy::unused_self)] // reason: the mapping protocol's signature
    fn __len__(&self) -> usize {
        FIELDS.len()
    }

    #[allow(clippy::unused_self)] // reason: the mapping protocol's signature
    fn __contains__(&self, key: &str) -> bool {
        FIELDS.contains(&key)
    }

    /// The fragment as a plain dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for key in FIELDS {
            dict.set_item(key, self.__getitem__(py, key)?)?;
        }
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr = |v: &Option<Py<PyString>>| -> PyResult<String> {
            v.as_ref().map_or_else(
                || Ok("None".to_string()),
                |s| Ok(s.bind(py).repr()?.to_string()),
            )
        };
        Ok(format!(
            "ToolCallDelta(index={}, id={}, name={}, arguments={})",
            self.index,
            repr(&self.id)?,
            repr(&self.name)?,
            self.arguments.bind(py).repr()?
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let mine = self.to_dict(py)?;
        let theirs = if let Ok(delta) = other.cast::<Self>() {
            delta.get().to_dict(py)?.into_any()
        } else if other.is_instance_of::<PyDict>() {
            other.clone()
        } else {
            return Ok(py.NotImplemented());
        };
        compare(py, mine.eq(theirs)?, op)
    }
}
