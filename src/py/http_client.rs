//! `HttpClient`: the Rust side of `seltzer.HTTPTransport` / `AsyncHTTPTransport`. It
//! takes a request in plain parts (the Python transport unpacks the `httpx.Request`) and
//! returns the response head with its `ResponseBody`, blocking with the GIL released
//! (`send`) or as an awaitable that wakes the event loop once the head has arrived
//! (`send_async`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use pyo3::exceptions::{PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::http_body::PyResponseBody;
use super::http_errors::httpx_error;
use super::loop_wake::LoopWait;
use crate::transport::{
    Client, ClientOptions, Pending, Request, Response, RuntimeKind, Timeouts, TransportError,
    Verify,
};

/// A pooled HTTP client on the shared runtime, or on the caller-driven one; see the
/// module docs.
#[pyclass(name = "HttpClient", module = "seltzer._core", frozen)]
pub struct PyHttpClient {
    /// `None` once closed: dropping the client drops its pool and idle connections.
    client: Mutex<Option<Pooled>>,
    options: ClientOptions,
}

impl Drop for PyHttpClient {
    /// A pool inherited through fork is forgotten, never dropped: its connections'
    /// tasks live on the parent's runtime, which has no threads in this process.
    fn drop(&mut self) {
        let pooled = self
            .client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(p) = pooled.filter(|p| p.pid != std::process::id()) {
            std::mem::forget(p);
        }
    }
}

/// A client and the process whose runtime its pooled connections belong to.
struct Pooled {
    client: Client,
    pid: u32,
}

impl PyHttpClient {
    /// The client, unless closed. In a forked child the inherited pool's connections
    /// belong to the parent's runtime (which has no threads here): the child gets a
    /// fresh client with the same options, and the inherited one is forgotten.
    fn client(&self) -> PyResult<Client> {
        let mut guard = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(pooled) = guard.as_mut() else {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "cannot send a request: the transport has been closed",
            ));
        };
        let pid = std::process::id();
        if pooled.pid != pid {
            let fresh = Client::new(&self.options)
                .map_err(|e| Python::attach(|py| httpx_error(py, &e, None)))?;
            std::mem::forget(std::mem::replace(&mut pooled.client, fresh));
            pooled.pid = pid;
        }
        Ok(pooled.client.clone())
    }
}

/// Seconds as a `Duration`; `None` (no limit) stays `None`.
fn seconds(value: Option<f64>, what: &str) -> PyResult<Option<Duration>> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .map_err(|_| PyValueError::new_err(format!("{what} must be >= 0 seconds, got {s}")))
        })
        .transpose()
}

#[pymethods]
impl PyHttpClient {
    /// A client with httpx.HTTPTransport's options, already unpacked into plain values.
    #[new]
    #[allow(clippy::fn_params_excessive_bools)] // httpx.HTTPTransport's own flags
    #[pyo3(signature = (*, verify = true, ca_bundle = None, cert = None, key = None, http1 = true, http2 = false, max_connections = None, max_keepalive_connections = None, keepalive_expiry = None, proxy = None, trust_env = true, retries = 0, local_address = None, caller_driven = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        verify: bool,
        ca_bundle: Option<PathBuf>,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
        http1: bool,
        http2: bool,
        max_connections: Option<usize>,
        max_keepalive_connections: Option<usize>,
        keepalive_expiry: Option<f64>,
        proxy: Option<String>,
        trust_env: bool,
        retries: u32,
        local_address: Option<String>,
        caller_driven: bool,
    ) -> PyResult<Self> {
        super::guard::guard(|| {
            let local_address = local_address
                .map(|a| {
                    a.parse::<IpAddr>().map_err(|_| {
                        PyValueError::new_err(format!(
                            "local_address must be an IP address, got {a:?}"
                        ))
                    })
                })
                .transpose()?;
            let options = ClientOptions {
                verify: match (verify, ca_bundle) {
                    (false, _) => Verify::Disabled,
                    (true, Some(path)) => Verify::CaBundle(path),
                    (true, None) => Verify::Default,
                },
                cert: cert.map(|c| (c, key)),
                http1,
                http2,
                max_connections,
                max_keepalive_connections,
                keepalive_expiry: seconds(keepalive_expiry, "keepalive_expiry")?,
                proxy,
                trust_env,
                retries,
                local_address,
                runtime: if caller_driven {
                    RuntimeKind::CallerDriven
                } else {
                    RuntimeKind::Shared
                },
            };
            let client = Client::new(&options)
                .map_err(|e| Python::attach(|py| httpx_error(py, &e, None)))?;
            Ok(Self {
                client: Mutex::new(Some(Pooled {
                    client,
                    pid: std::process::id(),
                })),
                options,
            })
        })
    }

    /// Closes the pool: idle keep-alive connections close now; responses being read
    /// keep theirs until they end. Later requests raise `RuntimeError`.
    fn close(&self, py: Python<'_>) {
        let pooled = self
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match pooled {
            // A pool inherited through fork is never touched (see `client`).
            Some(p) if p.pid != std::process::id() => std::mem::forget(p),
            other => py.detach(|| {
                let driven = other.as_ref().is_some_and(|p| p.client.is_caller_driven());
                drop(other);
                if driven {
                    // Run the caller-driven runtime now, so that idle connections close.
                    crate::transport::driven::settle();
                }
            }),
        }
    }

    /// Opens up to `count` connections to `url`'s server in the pool, ahead of a burst
    /// of requests: `count` GETs of `url` at once, each holding its connection until all
    /// have answered. Blocks (GIL released) at most about `timeout` seconds; returns how
    /// many were answered, whatever their status. Unreachable servers are not errors.
    #[pyo3(signature = (url, count, headers = Vec::new(), timeout = 30.0))]
    fn open_connections(
        &self,
        py: Python<'_>,
        url: String,
        count: usize,
        headers: Vec<(String, Vec<u8>)>,
        timeout: f64,
    ) -> PyResult<usize> {
        super::guard::guard(|| {
            let patience = seconds(Some(timeout), "timeout")?.unwrap_or_default();
            let request = Request {
                method: "GET".to_owned(),
                url,
                headers,
                body: Bytes::new(),
                timeouts: Timeouts {
                    connect: Some(patience),
                    read: Some(patience),
                    write: Some(patience),
                    pool: Some(patience),
                },
            };
            let client = self.client()?;
            py.detach(move || client.open_connections_blocking(request, count, patience))
                .map_err(|e| httpx_error(py, &e, None))
        })
    }

    /// Sends a request and blocks (GIL released) until the response head arrives.
    /// Returns `(status, http_version, headers, body)`; failures raise httpx's
    /// exceptions with `request` attached.
    #[pyo3(signature = (request, method, url, headers, content, connect = None, read = None, write = None, pool = None))]
    #[allow(clippy::too_many_arguments)]
    fn send<'py>(
        &self,
        py: Python<'py>,
        request: Py<PyAny>,
        method: String,
        url: String,
        headers: Vec<(String, Vec<u8>)>,
        content: &Bound<'py, PyBytes>,
        connect: Option<f64>,
        read: Option<f64>,
        write: Option<f64>,
        pool: Option<f64>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        super::guard::guard(|| {
            let core = core_request(method, url, headers, content, [connect, read, write, pool])?;
            let client = self.client()?;
            let sent = py.detach(move || client.send_blocking(core));
            response_tuple(py, sent, request)
        })
    }

    /// `send` as an awaitable for the running event loop.
    #[pyo3(signature = (request, method, url, headers, content, connect = None, read = None, write = None, pool = None))]
    #[allow(clippy::too_many_arguments)]
    fn send_async(
        &self,
        py: Python<'_>,
        request: Py<PyAny>,
        method: String,
        url: String,
        headers: Vec<(String, Vec<u8>)>,
        content: &Bound<'_, PyBytes>,
        connect: Option<f64>,
        read: Option<f64>,
        write: Option<f64>,
        pool: Option<f64>,
    ) -> PyResult<PyPendingResponse> {
        super::guard::guard(|| {
            let core = core_request(method, url, headers, content, [connect, read, write, pool])?;
            let wait = LoopWait::running(py)?;
            let pending = self.client()?.send(core);
            pending.set_wake(wait.callback());
            Ok(PyPendingResponse {
                state: Mutex::new(Some(PendingState {
                    pending,
                    wait,
                    request,
                })),
            })
        })
    }
}

fn core_request(
    method: String,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    content: &Bound<'_, PyBytes>,
    [connect, read, write, pool]: [Option<f64>; 4],
) -> PyResult<Request> {
    Ok(Request {
        method,
        url,
        headers,
        body: Bytes::copy_from_slice(content.as_bytes()),
        timeouts: Timeouts {
            connect: seconds(connect, "the connect timeout")?,
            read: seconds(read, "the read timeout")?,
            write: seconds(write, "the write timeout")?,
            pool: seconds(pool, "the pool timeout")?,
        },
    })
}

/// `(status, http_version, [(name, value), ...], ResponseBody)` for httpx.Response.
fn response_tuple(
    py: Python<'_>,
    sent: Result<Response, TransportError>,
    request: Py<PyAny>,
) -> PyResult<Bound<'_, PyTuple>> {
    let response = sent.map_err(|e| httpx_error(py, &e, Some(&request)))?;
    let Response { head, body } = response;
    let headers = PyList::empty(py);
    for (name, value) in &head.headers {
        headers.append((PyBytes::new(py, name.as_bytes()), PyBytes::new(py, value)))?;
    }
    let encoding = head.header("content-encoding").map(<[u8]>::to_vec);
    let body = Py::new(py, PyResponseBody::new(body, request, encoding))?;
    (head.status, head.version.as_str(), headers, body).into_pyobject(py)
}

struct PendingState {
    pending: Pending,
    wait: LoopWait,
    request: Py<PyAny>,
}

/// A request in flight, awaited from a coroutine: `await client.send_async(...)`.
/// Dropping or cancelling it cancels the request.
#[pyclass(name = "PendingResponse", module = "seltzer._core", frozen)]
pub struct PyPendingResponse {
    state: Mutex<Option<PendingState>>,
}

#[pymethods]
impl PyPendingResponse {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Returns the response tuple via `StopIteration`, or yields a loop future.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        super::guard::guard(|| {
            let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                let Some(state) = guard.as_mut() else {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err(
                        "cannot reuse an already awaited request",
                    ));
                };
                state.wait.slot.reset();
                if let Some(sent) = state.pending.try_get() {
                    let request = state.request.clone_ref(py);
                    *guard = None;
                    let result = response_tuple(py, sent, request)?;
                    return Err(PyStopIteration::new_err((result.unbind(),)));
                }
                if let Some(future) = state.wait.park(py)? {
                    return Ok(future);
                }
            }
        })
    }

    /// Coroutine protocol: the task resumes us with `None` once the future is done.
    #[pyo3(signature = (value, /))]
    fn send<'py>(&self, py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        super::guard::guard(|| {
            let _ = value;
            self.__next__(py)
        })
    }

    /// Coroutine protocol: a cancellation cancels the request and raises here.
    #[pyo3(signature = (exc, value = None, traceback = None))]
    fn throw(
        &self,
        py: Python<'_>,
        exc: Bound<'_, PyAny>,
        value: Option<Bound<'_, PyAny>>,
        traceback: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        super::guard::guard(|| {
            drop(traceback);
            self.close(py);
            let exc = value.filter(|v| !v.is_none()).unwrap_or(exc);
            Err(PyErr::from_value(exc))
        })
    }

    /// Cancels the request.
    fn close(&self, py: Python<'_>) {
        let state = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(state) = state {
            state.wait.slot.unpark(py);
            drop(state);
        }
    }
}
