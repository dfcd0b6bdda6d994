//! The async iterator that `astream_events` returns: it hands out the events its run
//! queues (a `collections.deque`) one per `__anext__`, a queued event as a plain return
//! value (see `awaitable.rs`), where an async generator costs a frame resume and a
//! `StopIteration` per event. When the queue is empty it awaits the run's `more()`;
//! once that says the run is over, or the wait fails (an error, a cancelled consumer),
//! it awaits the run's `finish()` (the run's task cancelled and awaited: the run's error,
//! if any, surfaces there), then ends, or raises what failed. `aclose()` and `close()`
//! end the run as an async generator's `finally` would; so does dropping the iterator
//! (the run's `abandon()`: its task is cancelled).

#![allow(unsafe_code)] // the `aclose` method's C signature; its unsafe block says why

use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use super::awaitable::{
    create_async_type, resume, AsyncSource, ExtraMethod, Outcome, Resume, Sent,
};
use super::rawtype::{new_instance, with_state};

/// Where the iterator is.
enum Phase {
    /// Between events: the next one comes from the queue, or from a wait.
    Idle,
    /// Awaiting the run's `more()`.
    Waiting(Py<PyAny>),
    /// Awaiting the run's `finish()`; then raising `pending`, if set.
    Finishing {
        awaiting: Py<PyAny>,
        pending: Option<PyErr>,
    },
    /// Over.
    Done,
}

/// The iterator's state, owned by the Python object.
struct State {
    /// The queue's length and `popleft`, looked up once.
    items: Py<PyAny>,
    popleft: Py<PyAny>,
    /// The run: `more()`, `finish()` (coroutines) and `abandon()`.
    run: Py<PyAny>,
    phase: Phase,
}

impl State {
    /// Moves to `phase`, releasing what the last one held (as a `Bound`: a `Py` dropped
    /// in a raw slot would wait in pyo3's deferred pool).
    fn settle(&mut self, py: Python<'_>, phase: Phase) {
        match std::mem::replace(&mut self.phase, phase) {
            Phase::Waiting(awaiting) | Phase::Finishing { awaiting, .. } => {
                drop(awaiting.into_bound(py));
            }
            Phase::Idle | Phase::Done => {}
        }
    }

    /// Starts awaiting the run's `finish()`, to raise `pending` (if set) after it.
    fn finish(&mut self, py: Python<'_>, pending: Option<PyErr>) -> PyResult<()> {
        match self.run.bind(py).call_method0(pyo3::intern!(py, "finish")) {
            Ok(awaiting) => {
                self.phase = Phase::Finishing {
                    awaiting: awaiting.unbind(),
                    pending,
                };
                Ok(())
            }
            Err(err) => {
                self.phase = Phase::Done;
                Err(pending.unwrap_or(err))
            }
        }
    }
}

impl AsyncSource for State {
    fn drive(&mut self, py: Python<'_>, mut how: Resume<'_>) -> PyResult<Outcome> {
        loop {
            let resumed = std::mem::replace(&mut how, Resume::Next);
            match &mut self.phase {
                Phase::Done => return Ok(Outcome::Exhausted),
                Phase::Idle => {
                    if self.items.bind(py).len()? > 0 {
                        return Ok(Outcome::Ready(self.popleft.bind(py).call0()?.unbind()));
                    }
                    let more = self.run.bind(py).call_method0(pyo3::intern!(py, "more"))?;
                    self.phase = Phase::Waiting(more.unbind());
                }
                Phase::Waiting(awaiting) => {
                    let sent = resume(&awaiting.bind(py).clone(), resumed)?;
                    match sent {
                        Sent::Yielded(yielded) => return Ok(Outcome::Suspend(yielded.unbind())),
                        Sent::Returned(more) => {
                            self.settle(py, Phase::Idle);
                            if !more.is_truthy()? {
                                self.finish(py, None)?;
                            }
                        }
                        Sent::Raised(err) => {
                            self.settle(py, Phase::Idle);
                            self.finish(py, Some(err))?;
                        }
                    }
                }
                Phase::Finishing { awaiting, .. } => {
                    let sent = resume(&awaiting.bind(py).clone(), resumed)?;
                    if let Sent::Yielded(yielded) = sent {
                        return Ok(Outcome::Suspend(yielded.unbind()));
                    }
                    let Phase::Finishing { awaiting, pending } =
                        std::mem::replace(&mut self.phase, Phase::Done)
                    else {
                        unreachable!("matched above")
                    };
                    drop(awaiting.into_bound(py));
                    return match (sent, pending) {
                        (Sent::Raised(err), _) | (_, Some(err)) => Err(err),
                        _ => Ok(Outcome::Exhausted),
                    };
                }
            }
        }
    }

    fn waiting(&self) -> bool {
        matches!(self.phase, Phase::Waiting(_) | Phase::Finishing { .. })
    }

    fn finished(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        if let Phase::Waiting(awaiting) | Phase::Finishing { awaiting, .. } = phase {
            awaiting
                .into_bound(py)
                .call_method0(pyo3::intern!(py, "close"))?;
        }
        self.run
            .bind(py)
            .call_method0(pyo3::intern!(py, "abandon"))?;
        Ok(())
    }
}

impl Drop for State {
    fn drop(&mut self) {
        Python::attach(|py| {
            if !matches!(self.phase, Phase::Done) {
                // Dropped unfinished: the run must not go on for nobody.
                if let Err(err) = self.run.bind(py).call_method0(pyo3::intern!(py, "abandon")) {
                    err.write_unraisable(py, None);
                }
            }
            self.settle(py, Phase::Done);
        });
    }
}

/// `aclose()`: an awaitable that ends the run (as an async generator's does).
unsafe extern "C" fn method_aclose(
    obj: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: called by CPython with a live instance of the type, attached.
    let closing = unsafe {
        with_state(obj, |py, state: &mut State| {
            match std::mem::replace(&mut state.phase, Phase::Done) {
                Phase::Idle | Phase::Done => Ok(state
                    .run
                    .bind(py)
                    .call_method0(pyo3::intern!(py, "finish"))?
                    .unbind()),
                running => {
                    state.phase = running;
                    Err(PyRuntimeError::new_err(
                        "aclose(): the events are being awaited elsewhere",
                    ))
                }
            }
        })
    };
    closing.map_or(std::ptr::null_mut(), Py::into_ptr)
}

/// The iterator over `items` (a deque the run's handler appends events to) for `run`.
#[pyfunction]
pub fn event_iterator(items: &Bound<'_, PyAny>, run: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let py = items.py();
    let state = State {
        items: items.clone().unbind(),
        popleft: items.getattr(pyo3::intern!(py, "popleft"))?.unbind(),
        run: run.clone().unbind(),
        phase: Phase::Idle,
    };
    new_instance(type_object(py)?, state)
}

/// The `EventIterator` type, created once.
pub fn type_object(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    TYPE.get_or_try_init(py, || {
        let doc = c"The events of an astream_events run, as they come; its own awaitable, so \
                    that a queued event costs no event-loop turn.";
        create_async_type::<State>(
            py,
            c"seltzer._core.EventIterator",
            doc,
            &[ExtraMethod {
                name: c"aclose",
                meth: method_aclose,
                flags: ffi::METH_NOARGS,
                doc: c"Ends the run; returns an awaitable.",
            }],
        )
    })
    .map(|tp| tp.bind(py))
}
