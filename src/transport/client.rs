//! The client: [`Client::send`] runs one request on the shared runtime (or
//! [`Client::send_blocking`] on the caller's thread, for a caller-driven client), with httpx's
//! per-request timeouts, the connection limit (pool timeout) and connect retries, and
//! resolves to the response head plus a [`Body`] that has not been read yet. Options are
//! `options.rs`'s job, the body's reading `body.rs`'s.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;

use super::body::Body;
use super::channel::{Batch, Channel, WakeFn};
use super::driven;
use super::error::{redact_url, TransportError, TransportErrorKind};
use super::options::{build, ClientOptions, RuntimeKind};
use super::phases::{Phases, Timeouts, TrackedBody};
use super::runtime;

/// One HTTP request, as httpx hands it to a transport.
#[derive(Clone)]
pub struct Request {
    /// The method, e.g. `"POST"`.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Header names and raw values, in order (repeats allowed).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (empty: none).
    pub body: Bytes,
    /// This request's timeouts.
    pub timeouts: Timeouts,
}

// Header values are secrets (Authorization, API keys): only their names are shown.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = reqwest::Url::parse(&self.url)
            .map_or_else(|_| "<invalid>".to_owned(), |u| redact_url(&u));
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &url)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

/// The HTTP version a response came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
    /// HTTP/2
    Http2,
    /// HTTP/3 or anything else
    Other,
}

impl HttpVersion {
    /// As httpx's `response.http_version` spells it: `"HTTP/1.1"`, `"HTTP/2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http10 => "HTTP/1.0",
            Self::Http11 => "HTTP/1.1",
            Self::Http2 => "HTTP/2",
            Self::Other => "HTTP/3",
        }
    }
}

/// The status line and headers of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The canonical reason phrase ("OK"), empty for unknown codes.
    pub reason: &'static str,
    /// The protocol version.
    pub version: HttpVersion,
    /// Header names (lower case) and raw values, in the order received.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl ResponseHead {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// A response: its head and its unread body.
#[derive(Debug)]
pub struct Response {
    /// Status and headers.
    pub head: ResponseHead,
    /// The body, still content-encoded.
    pub body: Body,
}

/// An HTTP client on the shared runtime, or on the caller-driven one
/// ([`RuntimeKind::CallerDriven`]); cheap to clone (clones share the pool).
#[derive(Debug, Clone)]
pub struct Client {
    inner: reqwest::Client,
    slots: Option<Arc<Semaphore>>,
    retries: u32,
    driven: bool,
}

impl Client {
    /// A client with `options`.
    ///
    /// # Errors
    /// [`TransportErrorKind::InvalidOptions`] when a certificate, CA bundle or proxy URL
    /// cannot be used, or no HTTP version is enabled.
    pub fn new(options: &ClientOptions) -> Result<Self, TransportError> {
        Ok(Self {
            inner: build(options)?,
            slots: options
                .max_connections
                .map(|n| Arc::new(Semaphore::new(n.clamp(1, Semaphore::MAX_PERMITS)))),
            retries: options.retries,
            driven: options.runtime == RuntimeKind::CallerDriven,
        })
    }

    /// Whether this client runs on the caller-driven runtime (blocking calls only).
    pub fn is_caller_driven(&self) -> bool {
        self.driven
    }

    /// Starts `request` on the shared runtime; the returned [`Pending`] resolves to the
    /// response once its head has arrived. Dropping it cancels the request. A
    /// caller-driven client's [`Pending`] fails at once: use [`Client::send_blocking`].
    pub fn send(&self, request: Request) -> Pending {
        let channel = Channel::<Slot, TransportError>::new();
        let handle = if self.driven {
            Err(TransportError::new(
                TransportErrorKind::Runtime,
                "a sync transport's client cannot send from async code; use the async transport",
            ))
        } else {
            runtime::handle()
        };
        let task = match handle {
            Ok(handle) => {
                let client = self.clone();
                let tx = Arc::clone(&channel);
                let task = handle.spawn(async move {
                    match client.execute(request).await {
                        Ok(response) => {
                            tx.push(|slot| slot.0 = Some(response));
                            tx.finish(Ok(()));
                        }
                        Err(err) => tx.finish(Err(err)),
                    }
                });
                Some(task.abort_handle())
            }
            Err(err) => {
                channel.finish(Err(err));
                None
            }
        };
        Pending { channel, task }
    }

    /// Sends `request` and blocks this thread until the response head has arrived (a
    /// caller-driven client's request runs on the runtime this thread drives meanwhile).
    ///
    /// # Errors
    /// The [`TransportError`] of the request; [`TransportErrorKind::Runtime`] when called
    /// from a runtime thread.
    pub fn send_blocking(&self, request: Request) -> Result<Response, TransportError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(TransportError::new(
                TransportErrorKind::Runtime,
                "send_blocking was called from inside an async runtime; await send instead",
            ));
        }
        if self.driven {
            // As a task, queued behind the tasks already woken, so that a connection just
            // released (by this thread's last body, say) is back in the pool before the
            // request looks for one: polled straight from this thread, it could miss it
            // and open one more connection (seen with 16 threads sharing 16 connections).
            let client = self.clone();
            return driven::drive(async move {
                let task = tokio::spawn(client.execute(request));
                task.await.unwrap_or_else(|_| Err(runtime::shut_down()))
            })?;
        }
        self.send(request).wait()
    }

    /// The request on this (runtime) thread: limiter slot, attempts, head.
    async fn execute(self, request: Request) -> Result<Response, TransportError> {
        let prepared = request.prepare()?;
        let permit = self.slot(request.timeouts.pool, &prepared.shown).await?;
        let mut attempt = 0;
        loop {
            let result = self.attempt(&prepared, &request).await;
            match result {
                Err(err)
                    if attempt < self.retries
                        && matches!(
                            err.kind(),
                            TransportErrorKind::ConnectError | TransportErrorKind::ConnectTimeout
                        ) =>
                {
                    // httpcore's backoff: 0, 0.5, 1, 2, ... seconds.
                    let delay = if attempt == 0 {
                        0.0
                    } else {
                        0.5 * f64::from(1u32 << (attempt - 1).min(16))
                    };
                    tokio::time::sleep(Duration::from_secs_f64(delay)).await;
                    attempt += 1;
                }
                Err(err) => return Err(err),
                Ok(response) => {
                    let head = head_of(&response);
                    let (timeout, url) = (request.timeouts.read, prepared.shown);
                    let driven = if self.driven {
                        Some(driven::runtime()?)
                    } else {
                        None
                    };
                    let body = Body::new(response, timeout, permit, url, driven);
                    return Ok(Response { head, body });
                }
            }
        }
    }

    /// How many more connections the limit allows now (`None`: no limit).
    pub(super) fn free_slots(&self) -> Option<usize> {
        self.slots.as_ref().map(|slots| slots.available_permits())
    }

    pub(super) async fn slot(
        &self,
        pool: Option<Duration>,
        shown: &str,
    ) -> Result<Option<OwnedSemaphorePermit>, TransportError> {
        let Some(slots) = &self.slots else {
            return Ok(None);
        };
        let acquire = Arc::clone(slots).acquire_owned();
        let acquired = match pool {
            Some(limit) => tokio::time::timeout(limit, acquire).await.map_err(|_| {
                TransportError::new(
                    TransportErrorKind::PoolTimeout,
                    format!("no free connection slot within {limit:?} for {shown}"),
                )
            })?,
            None => acquire.await,
        };
        acquired.map(Some).map_err(|_| runtime::shut_down())
    }

    /// One try at sending `request` (as `prepared`): the response once its head is in.
    pub(super) async fn attempt(
        &self,
        prepared: &Prepared,
        request: &Request,
    ) -> Result<reqwest::Response, TransportError> {
        let Prepared {
            method,
            url,
            headers,
            shown,
        } = prepared;
        let phases = Phases::new(request.timeouts, request.body.is_empty());
        let mut req = reqwest::Request::new(method.clone(), url.clone());
        *req.headers_mut() = headers.clone();
        if !request.body.is_empty() {
            let body = TrackedBody::new(request.body.clone(), Arc::clone(&phases));
            *req.body_mut() = Some(reqwest::Body::wrap(body));
        }
        let sent = Arc::clone(&phases).run(self.inner.execute(req)).await;
        match sent {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(err)) => Err(TransportError::from_send(&err, shown, phases.body_sent())),
            Err(kind) => {
                let (limit, what) = match kind {
                    TransportErrorKind::WriteTimeout => {
                        (request.timeouts.write, "sending the request to")
                    }
                    _ => (request.timeouts.read, "waiting for the response from"),
                };
                Err(TransportError::new(
                    kind,
                    format!(
                        "timed out after {:?} {what} {shown}",
                        limit.unwrap_or_default()
                    ),
                ))
            }
        }
    }
}

impl Request {
    /// Checks and converts the URL, method and headers for reqwest.
    pub(super) fn prepare(&self) -> Result<Prepared, TransportError> {
        let url = reqwest::Url::parse(&self.url).map_err(|err| {
            TransportError::new(
                TransportErrorKind::UnsupportedProtocol,
                format!("invalid URL: {err}"),
            )
        })?;
        let shown = redact_url(&url);
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(TransportError::new(
                TransportErrorKind::UnsupportedProtocol,
                format!("cannot send to {shown}: only http:// and https:// URLs with a host are supported"),
            ));
        }
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).map_err(|_| {
            TransportError::new(
                TransportErrorKind::LocalProtocolError,
                format!("invalid method {:?} for {shown}", self.method),
            )
        })?;
        let mut headers = reqwest::header::HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let bad = || {
                TransportError::new(
                    TransportErrorKind::LocalProtocolError,
                    format!("invalid header {name:?} for {shown}"),
                )
            };
            let name =
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let mut value = reqwest::header::HeaderValue::from_bytes(value).map_err(|_| bad())?;
            if matches!(
                name.as_str(),
                "authorization" | "proxy-authorization" | "cookie"
            ) {
                value.set_sensitive(true);
            }
            headers.append(name, value);
        }
        Ok(Prepared {
            method,
            url,
            headers,
            shown,
        })
    }
}

/// A request's parts as reqwest takes them, and its URL as messages show it.
pub(super) struct Prepared {
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    pub headers: reqwest::header::HeaderMap,
    /// The URL without its query string (which may carry a key).
    pub shown: String,
}

fn head_of(response: &reqwest::Response) -> ResponseHead {
    let status = response.status();
    let version = match response.version() {
        reqwest::Version::HTTP_10 => HttpVersion::Http10,
        reqwest::Version::HTTP_11 => HttpVersion::Http11,
        reqwest::Version::HTTP_2 => HttpVersion::Http2,
        _ => HttpVersion::Other,
    };
    ResponseHead {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or(""),
        version,
        headers: response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect(),
    }
}

/// The one response a [`Pending`] carries.
#[derive(Default)]
pub(crate) struct Slot(Option<Response>);

impl Batch for Slot {
    fn is_empty(&self) -> bool {
        self.0.is_none()
    }
    fn is_full(&self) -> bool {
        self.0.is_some()
    }
}

/// A request in flight until its response head arrives; awaitable, blockable or pollable
/// with a wake callback. Dropping it cancels the request.
pub struct Pending {
    channel: Arc<Channel<Slot, TransportError>>,
    task: Option<AbortHandle>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

fn into_response(taken: Result<Option<Slot>, TransportError>) -> Result<Response, TransportError> {
    match taken {
        Ok(Some(Slot(Some(response)))) => Ok(response),
        Ok(_) => Err(runtime::shut_down()),
        Err(err) => Err(err),
    }
}

impl Pending {
    /// Blocks this thread until the response head has arrived.
    ///
    /// # Errors
    /// The request's [`TransportError`].
    pub fn wait(self) -> Result<Response, TransportError> {
        into_response(self.channel.take_blocking())
    }

    /// The response if it has arrived; `None` arms the wake callback.
    pub fn try_get(&mut self) -> Option<Result<Response, TransportError>> {
        self.channel.try_take().map(into_response)
    }

    /// Sets the callback run on a runtime thread once the response is ready after an
    /// empty-handed [`Pending::try_get`].
    pub fn set_wake(&self, callback: WakeFn) {
        self.channel.set_callback(callback);
    }
}

impl Future for Pending {
    type Output = Result<Response, TransportError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.channel.poll_take(cx).map(into_response)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
