//! The HTTP side of the mock server: the accept loop (`TCP_NODELAY`, one task per
//! connection, HTTP/1.1 keep-alive via hyper), connection and token accounting, routing,
//! request bodies (capped), and the error responses (404, 400, 413, status faults).
//! Streams are `stream.rs`'s job; the threads and the public handle are `mod.rs`'s.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

use super::config::{MockConfig, Pacing, MAX_TOKENS, MAX_WHOLE_TOKENS};
use super::faults::Fault;
use super::replies::{json, models, openai_error, status_fault};
use super::request::{parse_params, Params, Route};
use super::stream::{MockBody, TokenStream};
use super::text::mix;
use super::wire::{Ctx, Wire};
use super::MockStats;

/// The server's counters, shared by every connection.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    open: AtomicU64,
    accepted: AtomicU64,
    tokens: AtomicU64,
}

impl Counters {
    /// Adds `n` token events sent.
    pub fn tokens(&self, n: u64) {
        if n > 0 {
            self.tokens.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// A snapshot.
    pub fn snapshot(&self) -> MockStats {
        MockStats {
            requests: self.requests.load(Ordering::Relaxed),
            open_connections: self.open.load(Ordering::Relaxed),
            connections: self.accepted.load(Ordering::Relaxed),
            tokens: self.tokens.load(Ordering::Relaxed),
        }
    }
}

/// What every connection task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: MockConfig,
    pub counters: Arc<Counters>,
}

/// A connection's socket for hyper; its flush fails once the stream asked for the
/// connection to be cut (`drop@N` faults), after everything before was written.
struct Io {
    inner: TokioIo<TcpStream>,
    kill: Arc<AtomicBool>,
}

impl hyper::rt::Read for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::Acquire) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "mock fault: drop",
            )));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}

/// Decrements the open-connection count when a connection task ends, however it ends.
struct OpenGuard(Arc<Counters>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts connections until `stop` turns true; each is served on its own task.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let Some(accepted) = first(listener.accept(), stop.wait_for(|s| *s)).await else {
            break;
        };
        let Ok((tcp, _peer)) = accepted else {
            // EMFILE and friends: back off briefly instead of spinning.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
        shared.counters.open.fetch_add(1, Ordering::Relaxed);
        let guard = OpenGuard(Arc::clone(&shared.counters));
        let shared = Arc::clone(&shared);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let kill = Arc::new(AtomicBool::new(false));
            let io = Io {
                inner: TokioIo::new(tcp),
                kill: Arc::clone(&kill),
            };
            let service = hyper::service::service_fn(move |req| {
                let shared = Arc::clone(&shared);
                let kill = Arc::clone(&kill);
                async move { Ok::<_, Infallible>(handle(req, &shared, kill).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(io, service);
            // On shutdown the connection is dropped: its socket closes at once.
            let _ = first(conn, stop.wait_for(|s| *s)).await;
        });
    }
}

/// Runs `a` until it completes (`Some`) or `b` does first (`None`).
pub(crate) async fn first<A: Future, B: Future>(a: A, b: B) -> Option<A::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        if b.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// Answers one request.
async fn handle(
    req: Request<Incoming>,
    shared: &Shared,
    kill: Arc<AtomicBool>,
) -> Response<MockBody> {
    let start = Instant::now();
    shared.counters.requests.fetch_add(1, Ordering::Relaxed);
    let Some(route) = Route::find(req.method(), req.uri().path()) else {
        let msg = format!(
            "Unknown request URL: {} {}. Please check the URL for typos, or see the docs at https://platform.openai.com/docs/api-reference/.",
            req.method(),
            req.uri().path()
        );
        return openai_error(
            StatusCode::NOT_FOUND,
            &msg,
            "invalid_request_error",
            Some("unknown_url"),
        );
    };
    match route {
        Route::Health => return json(StatusCode::OK, b"{\"status\":\"ok\"}".to_vec()),
        Route::Models => return models(&shared.config.model),
        _ => {}
    }
    let pacing = match Pacing::resolve(&shared.config, req.headers()) {
        Ok(p) => p,
        Err(msg) => {
            return openai_error(StatusCode::BAD_REQUEST, &msg, "invalid_request_error", None)
        }
    };
    let body = match read_body(req, shared.config.max_body_bytes).await {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    let params = match parse_params(&route, &body) {
        Ok(p) => p,
        Err(msg) => {
            return openai_error(StatusCode::BAD_REQUEST, &msg, "invalid_request_error", None)
        }
    };
    let (wire, stream, path_model) = match route {
        Route::Completions => (Wire::Completions, params.stream == Some(true), None),
        Route::Chat => (Wire::Chat, params.stream == Some(true), None),
        Route::Responses => (Wire::Responses, params.stream == Some(true), None),
        Route::Anthropic => (Wire::Anthropic, params.stream == Some(true), None),
        Route::Gemini { model, stream } => (Wire::Gemini, stream, Some(model)),
        Route::Tgi => (Wire::Tgi, true, None),
        Route::OllamaGenerate => (Wire::OllamaGenerate, params.stream != Some(false), None),
        Route::OllamaChat => (Wire::OllamaChat, params.stream != Some(false), None),
        Route::Models | Route::Health => return json(StatusCode::OK, b"{}".to_vec()),
    };
    if let Some(Fault::Status(code)) = pacing.fault {
        return status_fault(wire, code, pacing.retry_after_s);
    }
    let ctx = build_ctx(wire, path_model, params, &pacing, &shared.config);
    let tokens = ctx.tokens;
    if !stream {
        if ctx.total() > MAX_WHOLE_TOKENS {
            let msg = format!(
                "A non-streamed mock response holds at most {MAX_WHOLE_TOKENS} tokens (n * max tokens); stream larger ones."
            );
            return openai_error(StatusCode::BAD_REQUEST, &msg, "invalid_request_error", None);
        }
        let delay = Duration::from_millis(pacing.ttft_ms)
            + Duration::from_micros(pacing.itl_us.saturating_mul(tokens - 1));
        let body = wire.full(&ctx);
        shared.counters.tokens(ctx.total());
        let mut resp = Response::new(MockBody::delayed(body, start, delay));
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return resp;
    }
    let content_type = if pacing.fault == Some(Fault::ContentType) {
        "application/json"
    } else {
        wire.content_type()
    };
    let body = TokenStream::new(ctx, pacing, start, kill, Arc::clone(&shared.counters));
    let mut resp = Response::new(MockBody::Stream(Box::new(body)));
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    resp
}

/// What every event of the response shares: the request's fields over the config's.
fn build_ctx(
    wire: Wire,
    path_model: Option<String>,
    params: Params,
    pacing: &Pacing,
    config: &MockConfig,
) -> Ctx {
    let seed = pacing.seed_header.or(params.seed).unwrap_or(config.seed);
    let limited = pacing.tokens_header.is_none() && params.max_tokens.is_some();
    let min_tokens = if params.tool.is_some() { 2 } else { 1 };
    let tokens = pacing
        .tokens_header
        .or(params.max_tokens)
        .unwrap_or(config.tokens)
        .clamp(min_tokens, MAX_TOKENS);
    Ctx {
        wire,
        id: response_id(wire, seed),
        model: path_model
            .or(params.model)
            .unwrap_or_else(|| config.model.clone()),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        n: params.n,
        tokens,
        prompt_tokens: params.prompt_tokens,
        include_usage: params.include_usage,
        tool: params.tool,
        details: params.details,
        seed,
        unicode: pacing.unicode,
        limited,
    }
}

/// Reads the whole body, refusing more than `max` bytes (413).
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, Box<Response<MockBody>>> {
    let too_large = || {
        Box::new(openai_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Request body too large: the limit is {max} bytes."),
            "invalid_request_error",
            None,
        ))
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(err) => Err(Box::new(openai_error(
            StatusCode::BAD_REQUEST,
            &format!("Could not read the request body: {err}"),
            "invalid_request_error",
            None,
        ))),
    }
}

fn response_id(wire: Wire, seed: u64) -> String {
    let prefix = match wire {
        Wire::Completions => "cmpl-",
        Wire::Chat => "chatcmpl-",
        Wire::Responses => "resp_",
        Wire::Anthropic => "msg_",
        Wire::Gemini | Wire::Tgi | Wire::OllamaGenerate | Wire::OllamaChat => "",
    };
    format!("{prefix}mock{:016x}", mix(seed ^ 0x1D))
}
