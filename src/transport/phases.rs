//! Per-request timeouts as httpx defines them, on top of reqwest (which only knows
//! client-wide ones): connect (a connector layer that reads the request's timeout from a
//! task-local), write (until the request body is handed to the connection) and read
//! (until the response head arrives; between body chunks it is `body.rs`'s job). The pool
//! timeout is the connection limiter's, in `client.rs`.

use std::convert::Infallible;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::error::TransportErrorKind;

/// Per-request timeouts, as httpx passes them in `request.extensions["timeout"]`; `None`
/// waits forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// To establish a connection (TCP, TLS, proxy tunnel).
    pub connect: Option<Duration>,
    /// Between any two reads: for the response head, then between body chunks.
    pub read: Option<Duration>,
    /// To hand the request (head and body) to the connection.
    pub write: Option<Duration>,
    /// To get a connection slot when `max_connections` are all in use.
    pub pool: Option<Duration>,
}

impl Timeouts {
    /// The same timeout for all four phases, like `httpx.Timeout(t)`.
    pub fn all(timeout: Option<Duration>) -> Self {
        Self {
            connect: timeout,
            read: timeout,
            write: timeout,
            pool: timeout,
        }
    }
}

tokio::task_local! {
    static PHASES: Arc<Phases>;
}

/// The connect timer's own error, found in reqwest's source chain to tell a connect
/// timeout from a connect failure.
#[derive(Debug)]
pub(crate) struct ConnectTimedOut(Duration);

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no connection within {:?}", self.0)
    }
}

impl std::error::Error for ConnectTimedOut {}

#[derive(Default)]
struct PhaseState {
    connecting: usize,
    connected_at: Option<Instant>,
    /// When the connection last took a frame of the request body.
    wrote_at: Option<Instant>,
    body_sent_at: Option<Instant>,
}

/// Where one request attempt is: connecting, writing, or waiting for the response head.
pub(crate) struct Phases {
    start: Instant,
    timeouts: Timeouts,
    state: Mutex<PhaseState>,
    changed: Notify,
}

impl Phases {
    /// A new attempt; `body_sent` when there is no body to wait for.
    pub fn new(timeouts: Timeouts, body_sent: bool) -> Arc<Self> {
        let start = Instant::now();
        Arc::new(Self {
            start,
            timeouts,
            state: Mutex::new(PhaseState {
                body_sent_at: body_sent.then_some(start),
                ..PhaseState::default()
            }),
            changed: Notify::new(),
        })
    }

    fn update(&self, change: impl FnOnce(&mut PhaseState)) {
        change(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_waiters();
    }

    /// Whether the request body has been handed to the connection.
    pub fn body_sent(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .body_sent_at
            .is_some()
    }

    /// The next deadline and the timeout it stands for; `None` while connecting (the
    /// connect layer times that) or when no timeout applies.
    fn deadline(&self) -> Option<(Instant, TransportErrorKind)> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.connecting > 0 {
            return None;
        }
        let base = state.connected_at.unwrap_or(self.start).max(self.start);
        match state.body_sent_at {
            // httpx's write timeout bounds each write, not the whole body.
            None => Some((
                state.wrote_at.unwrap_or(base).max(base) + self.timeouts.write?,
                TransportErrorKind::WriteTimeout,
            )),
            Some(sent) => Some((
                sent.max(base) + self.timeouts.read?,
                TransportErrorKind::ReadTimeout,
            )),
        }
    }

    /// Runs `send` (the request up to its response head) under the write and read
    /// timeouts, with this attempt's connect timeout visible to the connector layer.
    pub async fn run<F: Future>(self: Arc<Self>, send: F) -> Result<F::Output, TransportErrorKind> {
        let mut send = pin!(PHASES.scope(Arc::clone(&self), send));
        loop {
            let changed = self.changed.notified();
            let deadline = self.deadline();
            let far = Instant::now() + Duration::from_secs(86_400);
            let mut sleep = pin!(tokio::time::sleep_until(deadline.map_or(far, |d| d.0)));
            let mut changed = pin!(changed);
            let outcome = poll_fn(|cx| {
                if let Poll::Ready(out) = send.as_mut().poll(cx) {
                    return Poll::Ready(Some(out));
                }
                if sleep.as_mut().poll(cx).is_ready() || changed.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                Poll::Pending
            })
            .await;
            match (outcome, deadline) {
                (Some(out), _) => return Ok(out),
                (None, Some((at, kind))) if Instant::now() >= at => return Err(kind),
                (None, _) => {}
            }
        }
    }
}

/// Frames a request body is cut into, so that the connection takes each only when it
/// has written the one before (hyper's backpressure) and write progress can be timed.
const FRAME_BYTES: usize = 64 * 1024;

/// The request body, marking its progress into the connection.
pub(crate) struct TrackedBody {
    data: Option<Bytes>,
    len: u64,
    phases: Arc<Phases>,
}

impl TrackedBody {
    pub fn new(data: Bytes, phases: Arc<Phases>) -> Self {
        Self {
            len: data.len() as u64,
            data: Some(data),
            phases,
        }
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let frame = match &mut this.data {
            Some(data) if data.len() > FRAME_BYTES => Some(data.split_to(FRAME_BYTES)),
            _ => this.data.take(),
        };
        let last = this.data.is_none();
        this.phases.update(|s| {
            let now = Instant::now();
            s.wrote_at = Some(now);
            if last {
                s.body_sent_at.get_or_insert(now);
            }
        });
        Poll::Ready(frame.map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// The connector layer that applies each request's connect timeout.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConnectTimeoutLayer;

impl<S> tower_layer::Layer<S> for ConnectTimeoutLayer {
    type Service = ConnectTimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConnectTimeoutService { inner }
    }
}

/// See [`ConnectTimeoutLayer`].
#[derive(Debug, Clone)]
pub(crate) struct ConnectTimeoutService<S> {
    inner: S,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, R> tower_service::Service<R> for ConnectTimeoutService<S>
where
    S: tower_service::Service<R>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: R) -> Self::Future {
        // hyper-util calls the connector from inside the request's future, so the
        // task-local of the attempt that needs this connection is in scope here.
        let phases = PHASES.try_with(Arc::clone).ok();
        let connect = self.inner.call(req);
        Box::pin(async move {
            let Some(phases) = phases else {
                return connect.await.map_err(Into::into);
            };
            phases.update(|s| s.connecting += 1);
            let result = match phases.timeouts.connect {
                Some(limit) => match tokio::time::timeout(limit, connect).await {
                    Ok(result) => result.map_err(Into::into),
                    Err(_) => Err(Box::new(ConnectTimedOut(limit)) as BoxError),
                },
                None => connect.await.map_err(Into::into),
            };
            phases.update(|s| {
                s.connecting = s.connecting.saturating_sub(1);
                s.connected_at = Some(Instant::now());
            });
            result
        })
    }
}
