//! The tokio runtime every async client shares (sync clients run on the caller-driven
//! one in `driven.rs`, unless they read ahead): multi-threaded with one worker by default
//! (the work is waiting on sockets, not computing, and one worker saves the cross-thread
//! wake-ups between hyper's connection task and the body reader: measured 14 against 26
//! µs CPU per paced chunk; `SELTZER_TRANSPORT_THREADS` asks for more), started on first use, rebuilt in a
//! forked child (whose copy of the parent's runtime has no threads behind it, so it is
//! leaked, never touched), and shut down by [`shutdown`] at interpreter exit. Futures are
//! spawned here; the blocking helpers never call `block_on`, so they work from any thread
//! that is not itself a runtime worker.

use std::future::Future;
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime};

use super::error::{TransportError, TransportErrorKind};
use super::per_process::PerProcess;

/// Worker threads of the shared runtime unless `SELTZER_TRANSPORT_THREADS` says otherwise.
pub const DEFAULT_WORKER_THREADS: usize = 1;

/// Environment variable: worker threads of the shared runtime (1 up to the core count).
pub const THREADS_ENV: &str = "SELTZER_TRANSPORT_THREADS";

/// The runtime of this process.
static SHARED: PerProcess<Runtime> = PerProcess::new();

/// A handle to the shared runtime, starting it on first use (and again in a forked child).
///
/// # Errors
/// [`TransportErrorKind::Runtime`] when the runtime's threads cannot be started.
pub fn handle() -> Result<Handle, TransportError> {
    SHARED.get_or_start(start, |runtime| runtime.handle().clone())
}

/// A new shared runtime, with its worker threads.
fn start() -> Result<Runtime, TransportError> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let workers = std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_WORKER_THREADS)
        .clamp(1, cores.max(1));
    Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("seltzer-transport")
        .enable_all()
        .build()
        .map_err(|err| {
            TransportError::new(
                TransportErrorKind::Runtime,
                format!("cannot start the transport runtime: {err}"),
            )
        })
}

/// Stops the shared runtime: tasks are dropped (their connections close) and its threads
/// get `timeout` to finish. Later calls to [`handle`] start a new runtime. Safe to call
/// from a runtime thread (it then does not wait) and in a forked child (it only forgets).
pub fn shutdown(timeout: Duration) {
    if let Some(runtime) = SHARED.take() {
        stop(runtime, timeout);
    }
}

/// Drops `runtime`'s tasks and gives its threads `timeout` to finish; from inside a
/// runtime (where waiting is not allowed: tokio would panic) it does not wait.
pub(super) fn stop(runtime: Runtime, timeout: Duration) {
    if Handle::try_current().is_ok() {
        runtime.shutdown_background();
    } else {
        runtime.shutdown_timeout(timeout);
    }
}

/// Runs `future` on the shared runtime and blocks this thread until it is done.
///
/// # Errors
/// [`TransportErrorKind::Runtime`] when called from a runtime thread (that would deadlock
/// it), when the runtime cannot start, or when it shuts down before the future finishes;
/// otherwise the future's own error.
pub fn block_on<T, F>(future: F) -> Result<T, TransportError>
where
    F: Future<Output = Result<T, TransportError>> + Send + 'static,
    T: Send + 'static,
{
    if Handle::try_current().is_ok() {
        return Err(TransportError::new(
            TransportErrorKind::Runtime,
            "a blocking transport call was made from inside an async runtime; await it instead",
        ));
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle()?.spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv().unwrap_or_else(|_| Err(shut_down()))
}

/// The error for work cut short by [`shutdown`].
pub(crate) fn shut_down() -> TransportError {
    TransportError::new(
        TransportErrorKind::Runtime,
        "the transport runtime was shut down",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_runs_on_the_shared_runtime() {
        let name = block_on(async { Ok(std::thread::current().name().map(str::to_owned)) });
        assert_eq!(name.unwrap().as_deref(), Some("seltzer-transport"));
    }

    #[test]
    fn block_on_inside_a_runtime_is_an_error_not_a_deadlock() {
        let handle = handle().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        handle.spawn(async move {
            let inner = block_on(async { Ok(1) });
            tx.send(inner.map_err(|e| e.kind())).unwrap();
        });
        assert_eq!(rx.recv().unwrap(), Err(TransportErrorKind::Runtime));
    }
}
