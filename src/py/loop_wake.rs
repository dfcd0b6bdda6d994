//! Waking an asyncio (or uvloop) event loop from the transport's runtime threads,
//! without the GIL and at most once per loop iteration for every stream on that loop.
//!
//! Each loop gets one [`PyLoopWaker`]: a socket pair whose read end the loop watches
//! (`loop.add_reader(waker.fileno(), waker.drain)`, see `seltzer/_loop_wake.py`). A
//! stream that must wait parks an asyncio future in its [`WaitSlot`] and yields it to the
//! task. When bytes arrive, a runtime thread marks the slot and queues it; only the
//! first slot queued since the last drain writes a byte to the socket. `drain`, on the
//! loop's thread, resolves the parked futures of every queued slot at once.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pyo3::prelude::*;

use crate::transport::WakeFn;

/// One waiter's state: whether its data arrived, and the future parked until then.
#[derive(Default)]
pub struct WaitSlot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    fired: bool,
    future: Option<Py<PyAny>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl WaitSlot {
    /// Forgets an earlier wake-up; call before trying the source again.
    pub fn reset(&self) {
        lock(&self.state).fired = false;
    }

    /// Parks `future` unless the data arrived since [`WaitSlot::reset`]; `false` means it
    /// did, so the caller should try the source again instead of waiting.
    pub fn park(&self, future: &Bound<'_, PyAny>) -> bool {
        let mut state = lock(&self.state);
        if state.fired {
            return false;
        }
        state.future = Some(future.clone().unbind());
        true
    }

    /// Drops a parked future (the waiter went away), on the loop's thread.
    pub fn unpark(&self, py: Python<'_>) {
        let future = lock(&self.state).future.take();
        drop(future.map(|f| f.into_bound(py)));
    }
}

/// What runtime threads share with the loop: the queue and the socket's write end.
struct Shared {
    queue: Mutex<Vec<Arc<WaitSlot>>>,
    writer: UnixStream,
}

impl Shared {
    /// Runs on a runtime thread: marks `slot`, queues it and wakes the loop if it is the
    /// first since the last drain. Touches no Python object.
    fn notify(&self, slot: &Arc<WaitSlot>) {
        lock(&slot.state).fired = true;
        let mut queue = lock(&self.queue);
        let first = queue.is_empty();
        queue.push(Arc::clone(slot));
        drop(queue);
        if first {
            // A full socket buffer means a wake-up is already pending: nothing to add.
            let _ = (&self.writer).write(&[1]);
        }
    }
}

/// The per-loop waker; see the module docs.
#[pyclass(name = "LoopWaker", module = "seltzer._core", frozen)]
pub struct PyLoopWaker {
    shared: Arc<Shared>,
    reader: UnixStream,
}

impl PyLoopWaker {
    /// The callback a transport body or request calls when `slot`'s data is ready.
    pub fn callback(&self, slot: &Arc<WaitSlot>) -> WakeFn {
        let shared = Arc::clone(&self.shared);
        let slot = Arc::clone(slot);
        Arc::new(move || shared.notify(&slot))
    }
}

#[pymethods]
impl PyLoopWaker {
    #[new]
    fn new() -> PyResult<Self> {
        super::guard::guard(|| {
            let (reader, writer) = UnixStream::pair()?;
            reader.set_nonblocking(true)?;
            writer.set_nonblocking(true)?;
            Ok(Self {
                shared: Arc::new(Shared {
                    queue: Mutex::new(Vec::new()),
                    writer,
                }),
                reader,
            })
        })
    }

    /// The file descriptor the event loop watches for readability.
    fn fileno(&self) -> i32 {
        self.reader.as_raw_fd()
    }

    /// Resolves the future of every stream whose data arrived (the loop's reader
    /// callback).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        super::guard::guard(|| {
            let mut buf = [0_u8; 64];
            loop {
                match (&self.reader).read(&mut buf) {
                    Ok(n) if n == buf.len() => {}
                    Ok(_) => break,
                    Err(err) if err.kind() == ErrorKind::Interrupted => {}
                    Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                    Err(err) => return Err(err.into()),
                }
            }
            let slots = std::mem::take(&mut *lock(&self.shared.queue));
            let done = pyo3::intern!(py, "done");
            let set_result = pyo3::intern!(py, "set_result");
            for slot in slots {
                let Some(future) = lock(&slot.state).future.take() else {
                    continue;
                };
                let future = future.into_bound(py);
                // A cancelled task has cancelled its future already.
                if !future.call_method0(done)?.is_truthy()? {
                    future.call_method1(set_result, (py.None(),))?;
                }
            }
            Ok(())
        })
    }
}

/// A stream's (or request's) way of waiting on its running event loop.
pub struct LoopWait {
    waker: Py<PyLoopWaker>,
    create_future: Py<PyAny>,
    /// Where the parked future lives.
    pub slot: Arc<WaitSlot>,
}

impl LoopWait {
    /// The waiter for the running loop (its waker made and registered on first use by
    /// `seltzer._loop_wake.waker`).
    ///
    /// # Errors
    /// `RuntimeError` outside a running event loop.
    pub fn running(py: Python<'_>) -> PyResult<Self> {
        static WAKER: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
        let lookup = WAKER.get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("seltzer._loop_wake")?.getattr("waker")?.unbind())
        })?;
        let (waker, create_future): (Py<PyLoopWaker>, Py<PyAny>) =
            lookup.bind(py).call0()?.extract()?;
        Ok(Self {
            waker,
            create_future,
            slot: Arc::default(),
        })
    }

    /// The callback that wakes this waiter.
    pub fn callback(&self) -> WakeFn {
        self.waker.get().callback(&self.slot)
    }

    /// A new future for the task to wait on, parked in the slot; `None` when the data
    /// arrived meanwhile (try again at once).
    pub fn park<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let future = self.create_future.bind(py).call0()?;
        if !self.slot.park(&future) {
            return Ok(None);
        }
        // What `Future.__await__` sets before yielding the future to its task.
        future.setattr(pyo3::intern!(py, "_asyncio_future_blocking"), true)?;
        Ok(Some(future))
    }
}
