//! The hand-off between a task on the runtime (the producer: it reads the socket) and one
//! consumer on any thread, shared by [`super::Body`] and [`super::FusedStream`]. The
//! consumer takes everything that has arrived in one batch, in three ways: blocking
//! ([`Channel::take_blocking`]), polled by a `Waker` ([`Channel::poll_take`]), or tried
//! ([`Channel::try_take`]) with a wake callback that the producer calls at most once per
//! empty-handed try. The producer pauses while the batch is full (backpressure).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

/// A callback run on a runtime thread when data, the end or an error is ready.
pub type WakeFn = Arc<dyn Fn() + Send + Sync>;

/// What a channel carries between takes.
pub(crate) trait Batch: Default + Send {
    /// Whether nothing is waiting.
    fn is_empty(&self) -> bool;
    /// Whether the producer should wait for the consumer before adding more.
    fn is_full(&self) -> bool;
}

/// One take: `None` nothing yet; `Some(Ok(Some(batch)))` data; `Some(Ok(None))` the end;
/// `Some(Err(e))` the failure (reported once, after all data before it; the end follows).
pub(crate) type Take<Q, E> = Option<Result<Option<Q>, E>>;

struct State<Q, E> {
    queue: Q,
    /// The producer's last word: `Some(Ok)` clean end, `Some(Err)` failure (taken once).
    end: Option<Result<(), E>>,
    ended: bool,
    /// Whether the consumer found nothing and is waiting to be called back.
    armed: bool,
    /// Whether a consumer sleeps on the condition variable (whose notify is a system
    /// call even with no one waiting, so it is made only when someone is).
    blocked: bool,
    callback: Option<WakeFn>,
    waker: Option<Waker>,
}

/// The shared state of one stream.
pub(crate) struct Channel<Q, E> {
    state: Mutex<State<Q, E>>,
    ready: Condvar,
    space: Notify,
}

impl<Q: Batch, E> Channel<Q, E> {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                queue: Q::default(),
                end: None,
                ended: false,
                armed: false,
                blocked: false,
                callback: None,
                waker: None,
            }),
            ready: Condvar::new(),
            space: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<Q, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- producer side (runtime thread) ----

    /// Waits until the consumer has room for more; whether it had to wait.
    pub async fn wait_space(&self) -> bool {
        let mut waited = false;
        loop {
            let notified = self.space.notified();
            if !self.lock().queue.is_full() {
                return waited;
            }
            waited = true;
            notified.await;
        }
    }

    /// Adds to the batch with `add` and wakes the consumer if it is waiting.
    pub fn push(&self, add: impl FnOnce(&mut Q)) {
        let mut state = self.lock();
        let was_empty = state.queue.is_empty();
        add(&mut state.queue);
        if was_empty && !state.queue.is_empty() {
            self.wake(state);
        }
    }

    /// Ends the stream (`Ok`) or fails it; wakes the consumer.
    pub fn finish(&self, result: Result<(), E>) {
        let mut state = self.lock();
        if state.ended {
            return;
        }
        state.ended = true;
        state.end = Some(result);
        self.wake(state);
    }

    fn wake(&self, mut state: MutexGuard<'_, State<Q, E>>) {
        let waker = state.waker.take();
        let callback = if state.armed {
            state.armed = false;
            state.callback.clone()
        } else {
            None
        };
        let blocked = state.blocked;
        drop(state);
        if blocked {
            self.ready.notify_one();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(callback) = callback {
            callback();
        }
    }

    // ---- consumer side (any thread) ----

    fn take_locked(&self, state: &mut State<Q, E>) -> Take<Q, E> {
        if !state.queue.is_empty() {
            let batch = std::mem::take(&mut state.queue);
            self.space.notify_one();
            return Some(Ok(Some(batch)));
        }
        if state.ended {
            return Some(match state.end.take() {
                Some(Err(err)) => Err(err),
                _ => Ok(None),
            });
        }
        None
    }

    /// Everything that has arrived, without waiting; `None` arms the callback.
    pub fn try_take(&self) -> Take<Q, E> {
        let mut state = self.lock();
        let taken = self.take_locked(&mut state);
        state.armed = taken.is_none();
        taken
    }

    /// Waits on this thread until something has arrived, then takes all of it.
    pub fn take_blocking(&self) -> Result<Option<Q>, E> {
        let mut state = self.lock();
        loop {
            if let Some(taken) = self.take_locked(&mut state) {
                return taken;
            }
            state.blocked = true;
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.blocked = false;
        }
    }

    /// Like [`Self::take_blocking`], giving up after `limit`: `None` when nothing came.
    pub fn take_blocking_for(&self, limit: std::time::Duration) -> Option<Result<Option<Q>, E>> {
        let deadline = std::time::Instant::now() + limit;
        let mut state = self.lock();
        loop {
            if let Some(taken) = self.take_locked(&mut state) {
                return Some(taken);
            }
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            state.blocked = true;
            state = self
                .ready
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.blocked = false;
        }
    }

    /// Waits, as a future, until something has arrived; then takes all of it.
    pub async fn take(&self) -> Result<Option<Q>, E> {
        std::future::poll_fn(|cx| self.poll_take(cx)).await
    }

    /// Takes what has arrived, or registers `cx`'s waker.
    pub fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Result<Option<Q>, E>> {
        let mut state = self.lock();
        if let Some(taken) = self.take_locked(&mut state) {
            return Poll::Ready(taken);
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Sets the callback run (on a runtime thread) once something is ready after an
    /// empty-handed [`Self::try_take`]; it is never run from here.
    pub fn set_callback(&self, callback: WakeFn) {
        self.lock().callback = Some(callback);
    }
}
