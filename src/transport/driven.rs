//! The runtime of sync clients: a current-thread tokio runtime with no threads of its
//! own, run by whichever caller waits on it ([`drive`]). A sync caller waiting for bytes
//! thus reads its socket itself: one thread wake-up per read, where a read ahead by a
//! runtime thread costs two (the runtime thread's, then the caller's), and bytes that
//! arrive while the caller is busy wait in the socket to be read together (as with
//! httpx's own transport). Several threads may wait at once: one runs the runtime (every
//! connection's I/O) while the others sleep until their own future is ready. Started on
//! first use, rebuilt in a forked child, and stopped by [`shutdown`] at interpreter exit.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime};

use super::error::{TransportError, TransportErrorKind};

/// The runtime and the process that built it.
static DRIVEN: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// Times [`settle`] lets the runtime run its ready tasks.
const SETTLE_TURNS: usize = 4;

/// The caller-driven runtime, started on first use (and again in a forked child).
fn runtime() -> Result<Arc<Runtime>, TransportError> {
    let mut driven = DRIVEN.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some((owner, runtime)) = driven.as_ref() {
        if *owner == pid {
            return Ok(Arc::clone(runtime));
        }
    }
    if let Some(inherited) = driven.take() {
        // A copy made by fork(2): another thread of the parent may have been running it.
        std::mem::forget(inherited);
    }
    let runtime = Builder::new_current_thread()
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|err| {
            TransportError::new(
                TransportErrorKind::Runtime,
                format!("cannot start the sync transport runtime: {err}"),
            )
        })?;
    *driven = Some((pid, Arc::clone(&runtime)));
    Ok(runtime)
}

/// Runs `future` to completion on this thread, running the caller-driven runtime (its
/// connections' I/O and tasks) meanwhile. Call it without the GIL and without locks
/// that the runtime's tasks take.
///
/// # Errors
/// [`TransportErrorKind::Runtime`] when called from inside any tokio runtime (that would
/// deadlock it) or when the runtime cannot start.
pub fn drive<F: Future>(future: F) -> Result<F::Output, TransportError> {
    if Handle::try_current().is_ok() {
        return Err(TransportError::new(
            TransportErrorKind::Runtime,
            "a sync transport call was made from inside an async runtime; use the async transport there",
        ));
    }
    Ok(runtime()?.block_on(future))
}

/// Lets the runtime run what is ready now (tasks just aborted are dropped, connections
/// just released are closed), so that it happens at once rather than at the next wait.
/// Does nothing inside a runtime or when the runtime has not started.
pub fn settle() {
    let started = DRIVEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .is_some_and(|(owner, _)| *owner == std::process::id());
    if started {
        let _ = drive(async {
            for _ in 0..SETTLE_TURNS {
                tokio::task::yield_now().await;
            }
        });
    }
}

/// Stops the runtime: its tasks are dropped (their connections close). Unless another
/// thread is still inside [`drive`], in which case that thread keeps it until it returns.
/// A later [`drive`] starts a new one.
pub fn shutdown(timeout: Duration) {
    let taken = DRIVEN.lock().unwrap_or_else(PoisonError::into_inner).take();
    let Some((owner, runtime)) = taken else {
        return;
    };
    if owner != std::process::id() {
        std::mem::forget(runtime);
    } else if let Ok(runtime) = Arc::try_unwrap(runtime) {
        if Handle::try_current().is_ok() {
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(timeout);
        }
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
