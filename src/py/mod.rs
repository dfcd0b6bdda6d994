//! The pyo3 layer: Python classes, iterators, awaitables and exceptions over the pure
//! Rust core. Bindings convert arguments, call the core and convert results; no parsing
//! logic lives here.

mod aiter;
mod awaitable;
mod bytes;
mod chunks;
mod clock;
pub mod errors;
mod event;
mod event_aiter;
mod feeder;
mod guard;
mod http_body;
mod http_client;
mod http_errors;
mod iter;
mod json;
mod loop_wake;
mod mock;
mod pump;
mod rawtype;
mod sse_decoder;
mod token_chunk;
mod token_decoder;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::sse::DEFAULT_MAX_EVENT_BYTES;
use chunks::SseEvents;
use pump::Pump;
use sse_decoder::check_max_event_bytes;

pub use event::PyServerSentEvent;
pub use sse_decoder::PySseDecoder;

/// The sync iterator over `source`: a transport `ResponseBody` is read in Rust (fused,
/// content-decoded here), anything else is iterated for byte chunks.
fn sync_iterator(source: &Bound<'_, PyAny>, pump: Pump) -> PyResult<Py<PyAny>> {
    match source.cast::<http_body::PyResponseBody>() {
        Ok(body) => {
            let reader = http_body::BodyReader::new(body.clone().unbind(), true);
            iter::new_body_iterator(source.py(), reader, pump)
        }
        Err(_) => iter::new_iterator(source, pump),
    }
}

/// The async twin of [`sync_iterator`].
fn async_iterator(source: &Bound<'_, PyAny>, pump: Pump) -> PyResult<Py<PyAny>> {
    match source.cast::<http_body::PyResponseBody>() {
        Ok(body) => {
            let reader = http_body::BodyReader::new(body.clone().unbind(), true);
            aiter::new_body_iterator(source.py(), reader, pump)
        }
        Err(_) => aiter::new_async_iterator(source, pump),
    }
}

/// Iterator of `ServerSentEvent`s over an iterable of byte chunks.
#[pyfunction]
#[pyo3(signature = (source, /, *, max_event_bytes = DEFAULT_MAX_EVENT_BYTES, on_error = None))]
fn sse_iterator(
    source: &Bound<'_, PyAny>,
    max_event_bytes: usize,
    on_error: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let decoder = Box::new(SseEvents::new(check_max_event_bytes(max_event_bytes)?));
    sync_iterator(source, Pump::new(decoder, on_error))
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
    async_iterator(source, Pump::new(decoder, on_error))
}

/// What a token iterator yields for each token.
#[derive(Clone, Copy)]
enum TokenForm {
    /// A `TokenChunk`; with `plain_texts`, a `str` for a plain token of the first
    /// choice after the stream's first token.
    Chunks { plain_texts: bool },
    /// Its text as `str`, skipping tokens without text unless `keep_empty`.
    Texts { keep_empty: bool },
}

impl TokenForm {
    /// The form the keyword arguments ask for (`plain_texts` needs `TokenChunk`s).
    fn new(text_only: bool, keep_empty: bool, plain_texts: bool) -> PyResult<Self> {
        match (text_only, plain_texts) {
            (true, true) => Err(PyValueError::new_err(
                "plain_texts mixes texts into TokenChunks: it cannot go with text_only",
            )),
            (true, false) => Ok(Self::Texts { keep_empty }),
            (false, _) => Ok(Self::Chunks { plain_texts }),
        }
    }
}

/// Picks the chunk decoder for a token iterator.
fn token_chunks(
    dialect: &str,
    text_path: Option<&str>,
    max_event_bytes: usize,
    strict: bool,
    form: TokenForm,
) -> PyResult<Box<dyn chunks::ChunkDecoder>> {
    let dialect = token_decoder::dialect(dialect, text_path)?;
    let max_event_bytes = check_max_event_bytes(max_event_bytes)?;
    Ok(match form {
        TokenForm::Texts { keep_empty } => Box::new(token_decoder::TextChunks::new(
            dialect,
            max_event_bytes,
            strict,
            keep_empty,
        )),
        TokenForm::Chunks { plain_texts } => Box::new(token_decoder::TokenChunks::new(
            dialect,
            max_event_bytes,
            strict,
            plain_texts,
        )),
    })
}

/// Iterator of `TokenChunk`s (or, with `text_only`, `str` texts: with `keep_empty`,
/// one per token, "" for a token without text; or with `plain_texts`, `TokenChunk`s
/// and the `str` texts of plain first-choice tokens after the first) over byte chunks.
#[pyfunction]
#[pyo3(signature = (source, dialect, /, *, text_path = None, max_event_bytes = DEFAULT_MAX_EVENT_BYTES, strict = true, text_only = false, keep_empty = false, plain_texts = false, on_error = None))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // reason: Python's keywords
fn token_iterator(
    source: &Bound<'_, PyAny>,
    dialect: &str,
    text_path: Option<&str>,
    max_event_bytes: usize,
    strict: bool,
    text_only: bool,
    keep_empty: bool,
    plain_texts: bool,
    on_error: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let form = TokenForm::new(text_only, keep_empty, plain_texts)?;
    let decoder = token_chunks(dialect, text_path, max_event_bytes, strict, form)?;
    sync_iterator(source, Pump::new(decoder, on_error))
}

/// Async iterator of `TokenChunk`s (or `str` texts, as `token_iterator`'s) over async
/// byte chunks.
#[pyfunction]
#[pyo3(signature = (source, dialect, /, *, text_path = None, max_event_bytes = DEFAULT_MAX_EVENT_BYTES, strict = true, text_only = false, keep_empty = false, plain_texts = false, on_error = None))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // reason: Python's keywords
fn token_async_iterator(
    source: &Bound<'_, PyAny>,
    dialect: &str,
    text_path: Option<&str>,
    max_event_bytes: usize,
    strict: bool,
    text_only: bool,
    keep_empty: bool,
    plain_texts: bool,
    on_error: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let form = TokenForm::new(text_only, keep_empty, plain_texts)?;
    let decoder = token_chunks(dialect, text_path, max_event_bytes, strict, form)?;
    async_iterator(source, Pump::new(decoder, on_error))
}

/// Stops the transport's runtimes (at interpreter exit), waiting up to `timeout` seconds
/// for the shared one's tasks; a later request starts them again.
#[pyfunction]
#[pyo3(signature = (timeout = 1.0))]
fn shutdown_transport(py: Python<'_>, timeout: f64) {
    let timeout = std::time::Duration::try_from_secs_f64(timeout).unwrap_or_default();
    py.detach(|| {
        crate::transport::driven::shutdown(timeout);
        crate::transport::runtime::shutdown(timeout);
    });
}

/// Registers every class and function of `seltzer._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<PyServerSentEvent>()?;
    m.add_class::<PySseDecoder>()?;
    m.add("ChunkIterator", iter::type_object(m.py())?)?;
    m.add("AsyncChunkIterator", aiter::type_object(m.py())?)?;
    m.add("EventIterator", event_aiter::type_object(m.py())?)?;
    m.add_function(wrap_pyfunction!(event_aiter::event_iterator, m)?)?;
    m.add_function(wrap_pyfunction!(sse_iterator, m)?)?;
    m.add_function(wrap_pyfunction!(sse_async_iterator, m)?)?;
    m.add_class::<token_chunk::PyTokenChunk>()?;
    m.add_class::<token_chunk::PyToolCallDelta>()?;
    m.add_class::<token_decoder::PyTokenDecoder>()?;
    m.add_function(wrap_pyfunction!(token_iterator, m)?)?;
    m.add_function(wrap_pyfunction!(token_async_iterator, m)?)?;
    m.add_class::<http_client::PyHttpClient>()?;
    m.add_class::<http_client::PyPendingResponse>()?;
    m.add_class::<http_body::PyResponseBody>()?;
    m.add_class::<loop_wake::PyLoopWaker>()?;
    m.add_function(wrap_pyfunction!(shutdown_transport, m)?)?;
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
