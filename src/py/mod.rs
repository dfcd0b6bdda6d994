//! The pyo3 layer: Python classes, iterators, awaitables and exceptions over the pure
//! Rust core. Bindings convert arguments, call the core and convert results; no parsing
//! logic lives here.

mod aiter;
mod bytes;
mod chunks;
pub mod errors;
mod event;
mod feeder;
mod guard;
mod iter;
mod json;
mod mock;
mod pump;
mod rawtype;
mod sse_decoder;
mod token_chunk;
mod token_decoder;

use pyo3::prelude::*;

use crate::sse::DEFAULT_MAX_EVENT_BYTES;
use chunks::SseEvents;
use pump::Pump;
use sse_decoder::check_max_event_bytes;

pub use event::PyServerSentEvent;
pub use sse_decoder::PySseDecoder;

/// Iterator of `ServerSentEvent`s over an iterable of byte chunks.
#[pyfunction]
#[pyo3(signature = (source, /, *, max_event_bytes = DEFAULT_MAX_EVENT_BYTES, on_error = None))]
fn sse_iterator(
    source: &Bound<'_, PyAny>,
    max_event_bytes: usize,
    on_error: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let decoder = Box::new(SseEvents::new(check_max_event_bytes(max_event_bytes)?));
    iter::new_iterator(source, Pump::new(decoder, on_error))
}

/// Async iterator of `ServerSentEvent`s over an async iterable of byte chunks.
#[pyfunction]
#[pyo3(signature = (source, /, *, max_event_bytes = DEFAULT_MAX_EVENT_BYTES, on_error = None))]
fn sse_async_iterator(
    source: &Bound<'_, PyAny>,
    max_event_bytes: usize,
    on_error: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let decoder = Box::new(SseEvents::new(check_max_event_bytes(max_event_bytes)?));
    aiter::new_async_iterator(source, Pump::new(decoder, on_error))
}

/// Picks the chunk decoder for a token iterator: `TokenChunk`s, or `str` texts only.
fn token_chunks(
    dialect: &str,
    text_path: Option<&str>,
    max_event_bytes: usize,
    strict: bool,
    text_only: bool,
) -> PyResult<Box<dyn chunks::ChunkDecoder>> {
    let dialect = token_decoder::dialect(dialect, text_path)?;
    let max_event_bytes = check_max_event_bytes(max_event_bytes)?;
    Ok(if text_only {
        Box::new(token_decoder::TextChunks::new(
            dialect,
            max_event_bytes,
            strict,
        ))
    } else {
        Box::new(token_decoder::TokenChunks::new(
            dialect,
            max_event_bytes,
            strict,
        ))
    })
}

/// Iterator of `TokenChunk`s (or, with `text_only`, `str` texts) over byte chunks.
#[pyfunction]
#[pyo3(signature = (source, dialect, /, *, text_path = None, max_event_bytes = DEFAULT_MAX_EVENT_BYTES, strict = true, text_only = false, on_error = None))]
#[allow(clippy::too_many_arguments)]
fn token_iterator(
    source: &Bound<'_, PyAny>,
    dialect: &str,
    text_path: Option<&str>,
    max_event_bytes: usize,
    strict: bool,
    text_only: bool,
    on_error: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let decoder = token_chunks(dialect, text_path, max_event_bytes, strict, text_only)?;
    iter::new_iterator(source, Pump::new(decoder, on_error))
}

/// Async iterator of `TokenChunk`s (or `str` texts) over async byte chunks.
#[pyfunction]
#[pyo3(signature = (source, dialect, /, *, text_path = None, max_event_bytes = DEFAULT_MAX_EVENT_BYTES, strict = true, text_only = false, on_error = None))]
#[allow(clippy::too_many_arguments)]
fn token_async_iterator(
    source: &Bound<'_, PyAny>,
    dialect: &str,
    text_path: Option<&str>,
    max_event_bytes: usize,
    strict: bool,
    text_only: bool,
    on_error: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let decoder = token_chunks(dialect, text_path, max_event_bytes, strict, text_only)?;
    aiter::new_async_iterator(source, Pump::new(decoder, on_error))
}

/// Registers every class and function of `seltzer._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<PyServerSentEvent>()?;
    m.add_class::<PySseDecoder>()?;
    m.add("ChunkIterator", iter::type_object(m.py())?)?;
    m.add("AsyncChunkIterator", aiter::type_object(m.py())?)?;
    m.add_function(wrap_pyfunction!(sse_iterator, m)?)?;
    m.add_function(wrap_pyfunction!(sse_async_iterator, m)?)?;
    m.add_class::<token_chunk::PyTokenChunk>()?;
    m.add_class::<token_chunk::PyToolCallDelta>()?;
    m.add_class::<token_decoder::PyTokenDecoder>()?;
    m.add_function(wrap_pyfunction!(token_iterator, m)?)?;
    m.add_function(wrap_pyfunction!(token_async_iterator, m)?)?;
    m.add_class::<mock::PyMockServer>()?;
    m.add_function(wrap_pyfunction!(mock::start_mock_server, m)?)?;
    m.add(
        "DIALECTS",
        pyo3::types::PyTuple::new(m.py(), crate::dialect::DIALECT_NAMES)?,
    )?;
    m.add("DEFAULT_MAX_EVENT_BYTES", DEFAULT_MAX_EVENT_BYTES)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
