//! `seltzer._core.MockServer`: the Rust mock LLM server (`crate::mock`) started from
//! Python on its own background thread; `seltzer.mock` wraps it in a context manager.

use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::mock::{Fault, MockConfig, MockServer};

/// A running mock server; `shutdown()` (or garbage collection) stops it.
#[pyclass(name = "MockServer", module = "seltzer._core", frozen, weakref)]
pub struct PyMockServer {
    server: Mutex<Option<MockServer>>,
    url: String,
    host: String,
    port: u16,
}

/// Starts a mock server on a background thread; returns once it listens.
#[pyfunction]
#[pyo3(signature = (
    *, host = "127.0.0.1", port = 0, ttft_ms = 0, itl_ms = 0, jitter_ms = 0, tokens = 16,
    batch = 1, seed = 0, unicode = false, fault = None, retry_after_s = 1, timestamps = false,
    model = "mock-model", worker_threads = 1,
))]
#[allow(clippy::too_many_arguments)]
pub fn start_mock_server(
    py: Python<'_>,
    host: &str,
    port: u16,
    ttft_ms: u64,
    itl_ms: u64,
    jitter_ms: u64,
    tokens: u64,
    batch: u32,
    seed: u64,
    unicode: bool,
    fault: Option<&str>,
    retry_after_s: u64,
    timestamps: bool,
    model: &str,
    worker_threads: usize,
) -> PyResult<PyMockServer> {
    if batch == 0 {
        return Err(PyValueError::new_err("batch must be at least 1"));
    }
    let fault = fault.map(str::parse::<Fault>).transpose()?;
    let config = MockConfig {
        host: host.to_owned(),
        port,
        ttft_ms,
        itl_ms,
        jitter_ms,
        tokens,
        batch,
        seed,
        unicode,
        fault,
        retry_after_s,
        timestamps,
        model: model.to_owned(),
        worker_threads,
        ..MockConfig::default()
    };
    let server = py.detach(|| MockServer::start(config))?;
    let addr = server.addr();
    Ok(PyMockServer {
        url: server.url(),
        host: addr.ip().to_string(),
        port: addr.port(),
        server: Mutex::new(Some(server)),
    })
}

#[pymethods]
impl PyMockServer {
    /// The base URL, such as `http://127.0.0.1:41234`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    #[getter]
    fn host(&self) -> &str {
        &self.host
    }

    /// The port it listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Whether it still runs.
    #[getter]
    fn running(&self) -> bool {
        self.server.lock().is_ok_and(|s| s.is_some())
    }

    /// Counters: requests served, connections open now and accepted, tokens sent.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self
            .server
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(MockServer::stats))
            .unwrap_or_default();
        let dict = PyDict::new(py);
        dict.set_item("requests", stats.requests)?;
        dict.set_item("open_connections", stats.open_connections)?;
        dict.set_item("connections", stats.connections)?;
        dict.set_item("tokens", stats.tokens)?;
        Ok(dict)
    }

    /// Stops accepting, closes every connection and joins the server's thread.
    fn shutdown(&self, py: Python<'_>) {
        let server = self.server.lock().ok().and_then(|mut s| s.take());
        if let Some(mut server) = server {
            py.detach(move || server.shutdown());
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.running() { "running" } else { "stopped" };
        format!("<MockServer {} {state}>", self.url)
    }
}
