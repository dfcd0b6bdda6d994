//! The runtime of sync clients: a current-thread tokio runtime with no threads of its
//! own, run by whichever caller waits on it ([`drive`]). A sync caller waiting for bytes
//! thus reads its socket itself: one thread wake-up per read, where a read ahead by a
//! runtime thread costs two (the runtime thread's, then the caller's), and bytes that
//! arrive while the caller is busy wait in the socket to be read together (as with
//! httpx's own transport). Several threads may wait at once: one runs the runtime (every
//! connection's I/O) while the others sleep until their own future is ready. Started on
//! first use, rebuilt in a forked child, and stopped by [`shutdown`] at interpreter exit.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime};

use super::error::{TransportError, TransportErrorKind};
use super::per_process::PerProcess;

/// The runtime of this process.
static DRIVEN: PerProcess<Arc<Runtime>> = PerProcess::new();

/// Times [`settle`] lets the runtime run its ready tasks.
const SETTLE_TURNS: usize = 4;

/// The caller-driven runtime, started on first use (and again in a forked child). Its
/// lookup takes a lock and asks the process id: a reader that waits on the runtime
/// again and again looks it up once and uses [`drive_on`].
///
/// # Errors
/// [`TransportErrorKind::Runtime`] when it cannot start.
pub fn runtime() -> Result<Arc<Runtime>, TransportError> {
    let start = || {
        Builder::new_current_thread()
            .enable_all()
            .build()
            .map(Arc::new)
            .map_err(|err| {
                TransportError::new(
                    TransportErrorKind::Runtime,
                    format!("cannot start the sync transport runtime: {err}"),
                )
            })
    };
    DRIVEN.get_or_start(start, Arc::clone)
}

/// Runs `future` to completion on this thread, running the caller-driven runtime (its
/// connections' I/O and tasks) meanwhile. Call it without the GIL and without locks
/// that the runtime's tasks take.
///
/// # Errors
/// [`TransportErrorKind::Runtime`] when called from inside any tokio runtime (that would
/// deadlock it) or when the runtime cannot start.
pub fn drive<F: Future>(future: F) -> Result<F::Output, TransportError> {
    let runtime = runtime()?;
    drive_on(&runtime, future)
}

/// [`drive`] on `runtime`, the caller-driven runtime as [`runtime`] gave it.
///
/// # Errors
/// [`TransportErrorKind::Runtime`] when called from inside any tokio runtime.
pub fn drive_on<F: Future>(runtime: &Runtime, future: F) -> Result<F::Output, TransportError> {
    if Handle::try_current().is_ok() {
        return Err(TransportError::new(
            TransportErrorKind::Runtime,
            "a sync transport call was made from inside an async runtime; use the async transport there",
        ));
    }
    Ok(runtime.block_on(future))
}

/// Lets the runtime run what is ready now (tasks just aborted are dropped, connections
/// just released are closed), so that it happens at once rather than at the next wait.
/// Does nothing inside a runtime or when the runtime has not started.
pub fn settle() {
    if let Some(runtime) = DRIVEN.get(Arc::clone) {
        settle_on(&runtime);
    }
}

/// [`settle`] on `runtime`, the caller-driven runtime as [`runtime`] gave it.
pub fn settle_on(runtime: &Runtime) {
    if Handle::try_current().is_ok() {
        return;
    }
    runtime.block_on(async {
        for _ in 0..SETTLE_TURNS {
            tokio::task::yield_now().await;
        }
    });
}

/// Stops the runtime: its tasks are dropped (their connections close). Unless another
/// thread is still inside [`drive`], in which case that thread keeps it until it returns.
/// A later [`drive`] starts a new one.
pub fn shutdown(timeout: Duration) {
    if let Some(runtime) = DRIVEN.take().and_then(Arc::into_inner) {
        super::runtime::stop(runtime, timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_runs_on_the_calling_thread() {
        let me = std::thread::current().id();
        let ran_on = drive(async { std::thread::current().id() }).unwrap();
        assert_eq!(ran_on, me);
    }

    #[test]
    fn drive_inside_a_runtime_is_an_error_not_a_deadlock() {
        let inner = drive(async { drive(async { 1 }).map_err(|e| e.kind()) }).unwrap();
        assert_eq!(inner, Err(TransportErrorKind::Runtime));
    }

    #[test]
    fn a_task_spawned_by_one_waiter_is_run_by_another() {
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        drive(async move {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = tx.send(7);
            });
        })
        .unwrap();
        // The spawning thread is gone from the runtime; this one's wait runs the task.
        let got = std::thread::spawn(move || drive(rx).unwrap().unwrap())
            .join()
            .unwrap();
        assert_eq!(got, 7);
    }
}
