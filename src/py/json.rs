//! `.json()` for events: parses a payload with jiter (in Rust) and converts the value
//! tree into Python objects. Integers beyond 64 bits fall back to Python's `json`.

use jiter::{JsonErrorType, JsonValue};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::errors::{with_attrs, DecodeError};

/// Parses `text` as JSON into Python objects.
pub fn parse(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    match JsonValue::parse(text.as_bytes(), false) {
        Ok(value) => to_python(py, &value).map(Bound::unbind),
        Err(e) if e.error_type == JsonErrorType::NumberOutOfRange => {
            // jiter is built without big integers; Python's parser has them.
            let json = py.import("json")?;
            Ok(json.call_method1("loads", (text,))?.unbind())
        }
        Err(e) => {
            let start = e.index.saturating_sub(10);
            let snippet: String = text
                .get(start..)
                .unwrap_or_default()
                .chars()
                .take(30)
                .collect();
            let message = format!(
                "{} at byte {} of event data: {snippet:?}",
                e.error_type, e.index
            );
            let offset = e.index.into_pyobject(py)?.into_any();
            let snippet = snippet.into_pyobject(py)?.into_any();
            Err(with_attrs::<DecodeError>(
                py,
                message,
                &[("offset", offset), ("snippet", snippet)],
            ))
        }
    }
}

fn to_python<'py>(py: Python<'py>, value: &JsonValue<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        JsonValue::Null => py.None().into_bound(py),
        JsonValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        JsonValue::Int(i) => i.into_pyobject(py)?.into_any(),
        JsonValue::Float(f) => f.into_pyobject(py)?.into_any(),
        JsonValue::Str(s) => s.as_ref().into_pyobject(py)?.into_any(),
        JsonValue::Array(items) => {
            let list = PyList::empty(py);
            for item in items.iter() {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        JsonValue::Object(fields) => {
            let dict = PyDict::new(py);
            for (key, item) in fields.iter() {
                dict.set_item(key.as_ref(), to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}
