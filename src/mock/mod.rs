//! The mock LLM server: a real HTTP/1.1 server (tokio + hyper, keep-alive, chunked
//! transfer encoding) on 127.0.0.1 that speaks the providers' streaming wire formats
//! with seeded deterministic text, paces tokens and injects faults on request. This file
//! is the public API and the server's thread; the rest is split by job: `config`
//! (settings, `x-mock-*` headers), `faults`, `text`, `pacing`, `request`, `server`
//! (sockets, routing), `stream` (bodies), and one file per provider family.
//!
//! ```no_run
//! use seltzer::mock::{MockConfig, MockServer};
//! let mut server = MockServer::start(MockConfig { itl_ms: 20, ..MockConfig::default() })?;
//! println!("{}", server.url()); // POST {url}/v1/chat/completions
//! server.shutdown();
//! # Ok::<(), seltzer::mock::MockError>(())
//! ```

mod anthropic;
mod config;
mod faults;
mod gemini;
mod json;
mod ollama;
mod openai;
mod pacing;
mod replies;
mod request;
mod responses;
mod server;
mod stream;
mod text;
mod tgi;
mod wire;

#[cfg(test)]
mod client;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

pub use config::{
    MockConfig, HEADER_BATCH, HEADER_FAULT, HEADER_ITL_MS, HEADER_ITL_US, HEADER_JITTER_MS,
    HEADER_RETRY_AFTER, HEADER_SEED, HEADER_TIMESTAMPS, HEADER_TOKENS, HEADER_TTFT_MS,
    HEADER_UNICODE, MAX_CHOICES, MAX_TOKENS,
};
pub use faults::{Fault, FaultParseError, MAX_OVERSIZE_BYTES};
pub use text::{choice_seed, count_words, expected_text, TextGen};

use server::{accept_loop, Counters, Shared};

/// What a server has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockStats {
    /// Requests answered (errors included).
    pub requests: u64,
    /// Connections open now.
    pub open_connections: u64,
    /// Connections accepted in all.
    pub connections: u64,
    /// Token events sent (every choice counted; whole bodies count their tokens).
    pub tokens: u64,
}

/// Why a server could not start.
#[derive(Debug)]
pub enum MockError {
    /// `host:port` did not resolve to an address.
    Address(String),
    /// Binding or listening on the address failed.
    Bind(SocketAddr, io::Error),
    /// The server's thread or tokio runtime could not be started.
    Runtime(io::Error),
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Address(addr) => write!(f, "mock server: cannot resolve address {addr:?}"),
            Self::Bind(addr, err) => write!(f, "mock server: cannot listen on {addr}: {err}"),
            Self::Runtime(err) => write!(f, "mock server: cannot start its runtime: {err}"),
        }
    }
}

impl std::error::Error for MockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Address(_) => None,
            Self::Bind(_, err) | Self::Runtime(err) => Some(err),
        }
    }
}

/// A running mock server on its own thread; shut down by [`MockServer::shutdown`] or drop.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl MockServer {
    /// Binds `config.host:config.port` and serves on one background thread; returns once
    /// the socket is listening.
    ///
    /// # Errors
    /// [`MockError`] when the address does not resolve or bind, or the thread or runtime
    /// cannot start.
    pub fn start(config: MockConfig) -> Result<Self, MockError> {
        let listener = bind(&config)?;
        let addr = listener.local_addr().map_err(MockError::Runtime)?;
        let counters = Arc::new(Counters::default());
        let (stop, stop_rx) = watch::channel(false);
        let workers = config.worker_threads;
        let shared = Arc::new(Shared {
            config,
            counters: Arc::clone(&counters),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<io::Result<()>>(1);
        let thread = std::thread::Builder::new()
            .name("seltzer-mock".to_owned())
            .spawn(move || {
                let runtime = match runtime(workers) {
                    Ok(rt) => rt,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            accept_loop(listener, shared, stop_rx).await;
                        }
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                        }
                    }
                });
                // Dropping the runtime drops every connection task: sockets close.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(MockError::Runtime)?;
        let server = Self {
            addr,
            stop,
            thread: Some(thread),
            counters,
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(server),
            Ok(Err(err)) => Err(MockError::Runtime(err)),
            Err(_) => Err(MockError::Runtime(io::Error::other(
                "mock server thread exited",
            ))),
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The counters so far.
    pub fn stats(&self) -> MockStats {
        self.counters.snapshot()
    }

    /// Stops accepting, closes every connection (streams in flight are cut) and joins the
    /// server's thread; the port is free when this returns. Idempotent.
    pub fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Serves on the calling thread until `stop` completes (a CLI's foreground server);
/// `on_ready` gets the bound address once listening. Returns the final counters.
///
/// # Errors
/// As for [`MockServer::start`].
pub fn serve_until_future<F, R>(
    config: MockConfig,
    stop: F,
    on_ready: R,
) -> Result<MockStats, MockError>
where
    F: Future<Output = ()>,
    R: FnOnce(SocketAddr),
{
    let listener = bind(&config)?;
    let addr = listener.local_addr().map_err(MockError::Runtime)?;
    let runtime = runtime(config.worker_threads).map_err(MockError::Runtime)?;
    let counters = Arc::new(Counters::default());
    let shared = Arc::new(Shared {
        config,
        counters: Arc::clone(&counters),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(MockError::Runtime)?;
        on_ready(addr);
        let serving = tokio::spawn(accept_loop(listener, shared, stop_rx));
        stop.await;
        let _ = stop_tx.send(true);
        let _ = serving.await;
        Ok::<(), MockError>(())
    })?;
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(counters.snapshot())
}

/// Serves on the calling thread until `stop` turns true (checked every 20 ms), e.g.
/// set by a Ctrl-C handler.
///
/// # Errors
/// As for [`MockServer::start`].
pub fn serve_until(
    config: MockConfig,
    stop: &AtomicBool,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<MockStats, MockError> {
    let stopped = async {
        while !stop.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    serve_until_future(config, stopped, on_ready)
}

fn bind(config: &MockConfig) -> Result<std::net::TcpListener, MockError> {
    let addr = (config.host.as_str(), config.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| MockError::Address(format!("{}:{}", config.host, config.port)))?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| MockError::Bind(addr, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| MockError::Bind(addr, e))?;
    Ok(listener)
}

fn runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    if workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("seltzer-mock")
            .enable_all()
            .build()
    }
}
