//! The async iterator behind `aiter_sse` (and the token iterators). It needs no Rust
//! runtime: `__anext__` returns the iterator itself as the awaitable, which hands out a
//! decoded item at once when one is waiting (no event-loop round trip), and otherwise
//! drives the source's own `__anext__` awaitable, passing its suspensions through to the
//! event loop (asyncio, uvloop, trio alike) until a chunk arrives.
//!
//! The type is built with the C API (`PyType_FromSpec`, see `awaitable.rs`) rather than
//! `#[pyclass]`: only that way does it get the `am_send` slot, through which CPython
//! receives a ready item as a plain return value. With `#[pyclass]` every item costs
//! three method trampolines and a `StopIteration` exception object, which doubled the
//! per-event cost of the async path against the sync one.

// Reading a type slot of the source needs the C API; each unsafe block says why it
// holds.
#![allow(unsafe_code)]

use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use super::awaitable::{create_async_type, resume, thrown, AsyncSource, Outcome, Resume, Sent};
use super::http_body::{BodyReader, Read};
use super::pump::{Pump, Step};
use super::rawtype::new_instance;

/// Where the bytes come from.
enum Source {
    /// A Python async iterable, and the awaitable iterator of its pending `__anext__()`
    /// while one runs.
    Python {
        source: Py<PyAny>,
        awaiting: Option<Py<PyAny>>,
    },
    /// A body from seltzer's transport, and whether a loop future is parked on it.
    Body {
        reader: Box<BodyReader>,
        waiting: bool,
    },
}

/// The iterator's state, owned by the Python object.
struct State {
    pump: Pump,
    source: Source,
    /// Items handed out since the task last gave the event loop a turn.
    streak: u32,
}

/// Ready items handed out in a row before one bare suspension (a turn of the event
/// loop, as `asyncio.sleep(0)` gives): a burst of thousands of tokens that arrived
/// together must not starve the loop's other tasks (about a millisecond of work for the
/// consumer between turns).
const READY_BEFORE_YIELD: u32 = 256;

/// The iterator to drive for the source's next chunk: `source.__anext__()` through the
/// type slot, and its `__await__()` only when it cannot be resumed directly (async
/// generators' and coroutines' awaitables can: that saves two method calls a chunk).
fn next_awaitable<'py>(source: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = source.py();
    // SAFETY: attached; `source` is a live object, the slot (when present) is its
    // type's am_anext, which returns a new reference or null with an error set.
    let awaitable = unsafe {
        let tp = ffi::Py_TYPE(source.as_ptr());
        let anext = ffi::PyType_GetSlot(tp, ffi::Py_am_anext);
        if anext.is_null() {
            source.call_method0(pyo3::intern!(py, "__anext__"))?
        } else {
            let anext: ffi::unaryfunc = std::mem::transmute(anext);
            Bound::from_owned_ptr_or_err(py, anext(source.as_ptr()))?
        }
    };
    // SAFETY: attached; reading a type slot and checking the iterator protocol.
    let direct = unsafe {
        let tp = ffi::Py_TYPE(awaitable.as_ptr());
        !ffi::PyType_GetSlot(tp, ffi::Py_am_send).is_null()
            || ffi::PyIter_Check(awaitable.as_ptr()) != 0
    };
    if direct {
        Ok(awaitable)
    } else {
        awaitable.call_method0(pyo3::intern!(py, "__await__"))
    }
}

impl AsyncSource for State {
    /// Whether a read is pending on the event loop.
    fn waiting(&self) -> bool {
        match &self.source {
            Source::Python { awaiting, .. } => awaiting.is_some(),
            Source::Body { waiting, .. } => *waiting,
        }
    }

    /// Runs until an item is ready, the stream ends, or the source suspends.
    fn drive(&mut self, py: Python<'_>, mut how: Resume<'_>) -> PyResult<Outcome> {
        // Only over seltzer's transport, which runs on asyncio / uvloop anyway: a bare
        // suspension is asyncio's protocol, and other byte sources suspend on their own.
        let idle_body = matches!(self.source, Source::Body { waiting: false, .. });
        if self.streak >= READY_BEFORE_YIELD && idle_body {
            self.streak = 0;
            return Ok(Outcome::Suspend(py.None()));
        }
        loop {
            match self.pump.step() {
                Step::Item(item) => {
                    self.streak += 1;
                    return Ok(Outcome::Ready(item));
                }
                Step::End(None) => return Ok(Outcome::Exhausted),
                Step::End(Some(err)) => return Err(err),
                Step::NeedChunk => {}
            }
            let resumed = std::mem::replace(&mut how, Resume::Next);
            match &mut self.source {
                Source::Python { source, awaiting } => {
                    let inner = if let Some(inner) = awaiting {
                        inner.bind(py).clone()
                    } else {
                        let inner = next_awaitable(source.bind(py))?;
                        *awaiting = Some(inner.clone().unbind());
                        inner
                    };
                    let sent = resume(&inner, resumed)?;
                    if !matches!(sent, Sent::Yielded(_)) {
                        // Dropped as a Bound: a Py dropped in a raw slot (where pyo3 does
                        // not know the thread is attached) would wait in pyo3's deferred
                        // pool.
                        drop(awaiting.take().map(|inner| inner.into_bound(py)));
                    }
                    match sent {
                        Sent::Yielded(yielded) => {
                            self.streak = 0;
                            return Ok(Outcome::Suspend(yielded.unbind()));
                        }
                        Sent::Returned(chunk) => self.pump.chunk(&chunk),
                        Sent::Raised(err) => {
                            if err.is_instance_of::<PyStopAsyncIteration>(py) {
                                self.pump.end(py);
                            } else {
                                return Err(self.pump.source_failed(py, err));
                            }
                        }
                    }
                }
                Source::Body { reader, waiting } => {
                    *waiting = false;
                    if let Resume::Throw(args) = resumed {
                        // A cancelled task: drop the connection now, raise what was thrown.
                        reader.close(py);
                        return Err(thrown(&args));
                    }
                    match reader.poll(py) {
                        Ok(Read::Chunk(chunk)) => self.pump.received(py, &chunk),
                        Ok(Read::End) => self.pump.end(py),
                        Ok(Read::Wait(future)) => {
                            *waiting = true;
                            self.streak = 0;
                            return Ok(Outcome::Suspend(future));
                        }
                        Err(err) => return Err(self.pump.source_failed(py, err)),
                    }
                }
            }
        }
    }

    fn finished(&self) -> bool {
        self.pump.exhausted() && !self.waiting()
    }

    /// Abandons the pending read, if any (a transport body's connection is closed).
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        match &mut self.source {
            Source::Python { awaiting, .. } => {
                if let Some(inner) = awaiting.take() {
                    inner.bind(py).call_method0(pyo3::intern!(py, "close"))?;
                }
            }
            Source::Body { reader, waiting } => {
                if std::mem::take(waiting) {
                    reader.close(py);
                }
            }
        }
        Ok(())
    }
}

/// Creates the async iterator over `source` (an async iterable of byte chunks).
pub fn new_async_iterator(source: &Bound<'_, PyAny>, pump: Pump) -> PyResult<Py<PyAny>> {
    let py = source.py();
    let source = source
        .call_method0(pyo3::intern!(py, "__aiter__"))?
        .unbind();
    let state = State {
        pump,
        streak: 0,
        source: Source::Python {
            source,
            awaiting: None,
        },
    };
    new_instance(type_object(py)?, state)
}

/// Creates the async iterator over a transport body.
pub fn new_body_iterator(py: Python<'_>, reader: BodyReader, pump: Pump) -> PyResult<Py<PyAny>> {
    let state = State {
        pump,
        streak: 0,
        source: Source::Body {
            reader: Box::new(reader),
            waiting: false,
        },
    };
    new_instance(type_object(py)?, state)
}

/// The `AsyncChunkIterator` type, created once.
pub fn type_object(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    TYPE.get_or_try_init(py, || create(py))
        .map(|tp| tp.bind(py))
}

fn create(py: Python<'_>) -> PyResult<Py<PyType>> {
    let doc = c"Async iterator of decoded items over an async iterable of byte chunks; it is \
                its own awaitable, so that ready items cost no event-loop turn.";
    create_async_type::<State>(py, c"seltzer._core.AsyncChunkIterator", doc, &[])
}
