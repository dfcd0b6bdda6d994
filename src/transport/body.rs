//! A response body as a pull source. As soon as the response head is in, a task starts
//! reading the socket and hands over every chunk as it arrives, with the moment it did;
//! the consumer takes all that has arrived, coalesced, either blocking
//! ([`Body::next_chunk`]), polled ([`Body::poll_next`]) or tried with a wake callback
//! ([`Body::try_next`], [`Body::set_wake`]). On the shared runtime the task reads ahead of
//! the consumer; a sync client's body (on the caller-driven runtime, `driven.rs`) is read
//! while its consumer waits, and only blocking. The read timeout applies between chunks;
//! on the caller-driven runtime it counts from the later of the last chunk and the start
//! of the consumer's wait (as httpx's does per read), since its task reads only then.
//! Dropping the body aborts the task, which closes the connection at once. Bytes stay
//! content-encoded; readers that decode them in Rust undo the encoding with `encoding.rs`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::runtime::Runtime;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::AbortHandle;
use tokio::time::Sleep;

use super::channel::{Batch, Channel, Take, WakeFn};
use super::driven;
use super::error::{TransportError, TransportErrorKind};
use super::runtime;

/// Bytes buffered ahead of a slow consumer before the socket is left unread.
pub const MAX_BUFFERED_BYTES: usize = 1 << 20;

/// Times the reader yields at the end of a body before reporting it, so that hyper's
/// idle-connection task (woken by the same read) runs first.
const IDLE_YIELDS: usize = 4;

/// The unread response and what reading it needs; owned by whichever task reads it.
pub(crate) struct Source {
    response: reqwest::Response,
    read_timeout: Option<Duration>,
    /// Fires at the read deadline. Re-armed only when it fires before the deadline has
    /// really passed (a chunk came meanwhile), so that a chunk costs no timer operation.
    deadline: Option<Pin<Box<Sleep>>>,
    /// When the last chunk arrived, or when waiting for the next one began.
    last_read: Instant,
    /// When the consumer of a caller-driven body began its wait (None elsewhere).
    waits: Option<Arc<WaitClock>>,
    /// The connection slot, given back when the body is done or dropped.
    _permit: Option<OwnedSemaphorePermit>,
    /// The URL for messages, without query string.
    pub url: String,
}

/// One chunk from the socket and the moment it was taken.
type Arrival = (Bytes, Instant);

impl Source {
    /// The next chunk from the socket, within the read timeout of the last one.
    pub async fn next(&mut self) -> Result<Option<Arrival>, TransportError> {
        let Some(limit) = self.read_timeout else {
            let read = self.response.chunk().await;
            return self.arrived(read);
        };
        let first_due = self.last_read + limit;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(first_due.into())));
        let mut read = std::pin::pin!(self.response.chunk());
        loop {
            let read_or_fired = std::future::poll_fn(|cx| {
                if let Poll::Ready(read) = read.as_mut().poll(cx) {
                    return Poll::Ready(Some(read));
                }
                deadline.as_mut().poll(cx).map(|()| None)
            })
            .await;
            if let Some(read) = read_or_fired {
                let at = Instant::now();
                self.last_read = at;
                return read
                    .map(|chunk| chunk.map(|c| (c, at)))
                    .map_err(|err| TransportError::from_body(&err, &self.url));
            }
            let now = Instant::now();
            let due = match self.waits.as_ref().map(|waits| waits.since()) {
                None => self.last_read + limit,
                Some(Some(since)) => since.max(self.last_read) + limit,
                // Another thread ran the task meanwhile: its consumer's pause is no
                // wait for the server. Look again later.
                Some(None) => now + limit,
            };
            if now >= due {
                return Err(TransportError::new(
                    TransportErrorKind::ReadTimeout,
                    format!(
                        "no bytes within {limit:?} reading the response body of {}",
                        self.url
                    ),
                ));
            }
            deadline.as_mut().reset(due.into());
        }
    }

    /// A chunk that can be had without waiting (hyper holds it, or the socket does):
    /// `None` when the next one would need a wait.
    pub fn ready(&mut self) -> Option<Result<Option<Arrival>, TransportError>> {
        let mut cx = Context::from_waker(Waker::noop());
        let polled = std::pin::pin!(self.response.chunk()).poll(&mut cx);
        match polled {
            Poll::Ready(read) => Some(self.arrived(read)),
            Poll::Pending => None,
        }
    }

    /// The read timeout counts from now (after waiting for the consumer to make room).
    pub fn restart_clock(&mut self) {
        self.last_read = Instant::now();
    }

    fn arrived(
        &mut self,
        read: reqwest::Result<Option<Bytes>>,
    ) -> Result<Option<Arrival>, TransportError> {
        let at = Instant::now();
        self.last_read = at;
        read.map(|chunk| chunk.map(|c| (c, at)))
            .map_err(|err| TransportError::from_body(&err, &self.url))
    }
}

/// When the consumer of a caller-driven body began its current wait, if it waits: its
/// task reads mostly while the consumer waits (or while another thread drives the
/// runtime), and time the consumer spends away must not count against the server. A
/// clock read and two stores per wait; read only when the read deadline fires.
pub(crate) struct WaitClock {
    base: Instant,
    /// Nanoseconds from `base` to the start of the wait; [`AWAY`] between waits.
    started: AtomicU64,
}

/// The consumer is not waiting.
const AWAY: u64 = u64::MAX;

impl WaitClock {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            started: AtomicU64::new(AWAY),
        }
    }

    /// The consumer begins to wait now, unless it is waiting already (a wait cut short
    /// by `next_chunk_for`'s limit goes on counting when the caller calls again).
    fn start(&self) {
        let nanos = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(AWAY - 1);
        let _ = self
            .started
            .compare_exchange(AWAY, nanos, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The consumer took what came and went away.
    fn stop(&self) {
        self.started.store(AWAY, Ordering::Relaxed);
    }

    /// When the current wait began; None when the consumer is away.
    fn since(&self) -> Option<Instant> {
        let nanos = self.started.load(Ordering::Relaxed);
        (nanos != AWAY).then(|| self.base + Duration::from_nanos(nanos))
    }
}

/// The chunks that arrived since the consumer last took, each with when it was read
/// from the socket. Their bytes are copied into one buffer as they come: hyper hands a
/// chunk out as a slice of its 8 KiB read buffer, so queuing the slice would keep that
/// whole buffer alive while the consumer is away (in the soak, 512 streams behind a
/// 70 ms loop pause grew memory in use by ~12 MiB, which glibc then kept).
#[derive(Default)]
pub(crate) struct Chunks {
    buf: BytesMut,
    /// Where each chunk ends in `buf`, and when it arrived.
    parts: Vec<(usize, Instant)>,
}

impl Chunks {
    fn push(&mut self, chunk: &[u8], at: Instant) {
        self.buf.extend_from_slice(chunk);
        self.parts.push((self.buf.len(), at));
    }

    fn append(&mut self, other: Chunks) {
        if self.parts.is_empty() {
            *self = other;
            return;
        }
        let base = self.buf.len();
        self.buf.extend_from_slice(&other.buf);
        self.parts
            .extend(other.parts.into_iter().map(|(end, at)| (base + end, at)));
    }

    fn len(&self) -> usize {
        self.buf.len()
    }

    /// All of them as one `Bytes`.
    fn coalesce(self) -> Bytes {
        self.buf.freeze()
    }

    /// All of them as one `Bytes`, with where each ends and when it arrived.
    fn received(self) -> Received {
        Received {
            bytes: self.buf.freeze(),
            parts: self.parts,
        }
    }
}

/// Bytes taken from a body, and when their parts were read from the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Every byte that had arrived, as one buffer.
    pub bytes: Bytes,
    /// Each part that makes it up, in order: its end offset in `bytes` and the moment
    /// the reading task received it.
    pub parts: Vec<(usize, Instant)>,
}

impl Batch for Chunks {
    fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
    fn is_full(&self) -> bool {
        self.len() >= MAX_BUFFERED_BYTES
    }
}

type ByteChannel = Channel<Chunks, TransportError>;

/// A response body being read; see the module docs.
pub struct Body {
    channel: Arc<ByteChannel>,
    /// The response until reading starts.
    source: Option<Box<Source>>,
    task: Option<AbortHandle>,
    /// The caller-driven runtime its task runs on (a sync client's body), looked up
    /// once rather than at every read.
    driven: Option<Arc<Runtime>>,
    /// On the caller-driven runtime with a read timeout: where a wait's start is noted.
    waits: Option<Arc<WaitClock>>,
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("started", &self.source.is_none())
            .finish_non_exhaustive()
    }
}

fn coalesced(
    taken: Result<Option<Chunks>, TransportError>,
) -> Result<Option<Bytes>, TransportError> {
    taken.map(|chunks| chunks.map(Chunks::coalesce))
}

fn received(
    taken: Result<Option<Chunks>, TransportError>,
) -> Result<Option<Received>, TransportError> {
    taken.map(|chunks| chunks.map(Chunks::received))
}

impl Body {
    pub(crate) fn new(
        response: reqwest::Response,
        read_timeout: Option<Duration>,
        permit: Option<OwnedSemaphorePermit>,
        url: String,
        driven: Option<Arc<Runtime>>,
    ) -> Self {
        let waits =
            (driven.is_some() && read_timeout.is_some()).then(|| Arc::new(WaitClock::new()));
        let mut body = Self {
            channel: ByteChannel::new(),
            source: Some(Box::new(Source {
                response,
                read_timeout,
                deadline: None,
                last_read: Instant::now(),
                waits: waits.clone(),
                _permit: permit,
                url,
            })),
            task: None,
            driven,
            waits,
        };
        // Read from the moment the head is in, not when the consumer first asks: on the
        // shared runtime each chunk is taken off the socket (and stamped) on arrival,
        // however busy the consumer's thread is; at most MAX_BUFFERED_BYTES wait for it.
        body.channel();
        body
    }

    /// The reading task's channel, starting the task on first use.
    fn channel(&mut self) -> &ByteChannel {
        if let Some(source) = self.source.take() {
            self.task = start(*source, Arc::clone(&self.channel), self.driven.as_deref());
        }
        &self.channel
    }

    /// Blocks until bytes, the end (`None`) or an error is ready; returns all bytes that
    /// have arrived, as one chunk. Call it without holding locks the runtime needs.
    ///
    /// # Errors
    /// The read's [`TransportError`] (after all bytes before it were returned);
    /// [`TransportErrorKind::Runtime`] when called from a runtime thread.
    pub fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(TransportError::new(
                TransportErrorKind::Runtime,
                "Body::next_chunk blocks; from async code use poll_next or try_next",
            ));
        }
        if let Some(runtime) = &self.driven {
            // (Its task started with the body.)
            if let Some(waits) = &self.waits {
                waits.start();
            }
            let taken = driven::drive_on(runtime, self.channel.take());
            if let Some(waits) = &self.waits {
                waits.stop();
            }
            return taken.and_then(coalesced);
        }
        coalesced(self.channel().take_blocking())
    }

    /// Like [`Body::next_chunk`], but waits at most `limit`: `None` when nothing came
    /// (so that a caller can check for signals between waits).
    ///
    /// # Errors
    /// As [`Body::next_chunk`].
    pub fn next_chunk_for(
        &mut self,
        limit: Duration,
    ) -> Option<Result<Option<Received>, TransportError>> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Some(Err(TransportError::new(
                TransportErrorKind::Runtime,
                "Body::next_chunk_for blocks; from async code use poll_next or try_next",
            )));
        }
        if let Some(runtime) = &self.driven {
            if let Some(waits) = &self.waits {
                waits.start();
            }
            // The timer is made inside: it needs the runtime's context. (The task started
            // with the body.)
            let take = async { tokio::time::timeout(limit, self.channel.take()).await };
            let taken = driven::drive_on(runtime, take);
            // A wait cut short by `limit` goes on at the caller's next call.
            if let Some(waits) = self.waits.as_ref().filter(|_| !matches!(taken, Ok(Err(_)))) {
                waits.stop();
            }
            return match taken {
                Ok(Ok(taken)) => Some(received(taken)),
                Ok(Err(_elapsed)) => None,
                Err(err) => Some(Err(err)),
            };
        }
        self.channel().take_blocking_for(limit).map(received)
    }

    /// All bytes that have arrived, without waiting: `None` when there are none yet (the
    /// wake callback, if set, then runs once something is ready); `Some(Ok(None))` at the end.
    pub fn try_next(&mut self) -> Option<Result<Option<Received>, TransportError>> {
        if self.driven.is_some() {
            return Some(Err(not_async()));
        }
        let taken: Take<Chunks, TransportError> = self.channel().try_take();
        taken.map(received)
    }

    /// Like [`Body::try_next`], registering `cx`'s waker when nothing has arrived.
    pub fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, TransportError>> {
        if self.driven.is_some() {
            return Poll::Ready(Err(not_async()));
        }
        self.channel().poll_take(cx).map(coalesced)
    }

    /// Sets the callback run on a runtime thread when something is ready after an
    /// empty-handed [`Body::try_next`] (once per such try). Starts reading.
    pub fn set_wake(&mut self, callback: WakeFn) {
        self.channel().set_callback(callback);
    }

    /// Reads the whole body, blocking.
    ///
    /// # Errors
    /// As [`Body::next_chunk`].
    pub fn read_to_end(&mut self) -> Result<Vec<u8>, TransportError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next_chunk()? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

/// The error for reading a sync client's body from async code: nothing would run its
/// task while the event loop waits.
fn not_async() -> TransportError {
    TransportError::new(
        TransportErrorKind::Runtime,
        "this response came from a sync transport: read it with the sync iterators, or send it with the async transport",
    )
}

/// Spawns the task that moves chunks from `source` into `channel`: on `driven` (the
/// caller-driven runtime) for a sync client's body, else on the shared runtime.
fn start(
    mut source: Source,
    channel: Arc<ByteChannel>,
    driven: Option<&Runtime>,
) -> Option<AbortHandle> {
    let handle = driven.map_or_else(runtime::handle, |driven| Ok(driven.handle().clone()));
    let handle = match handle {
        Ok(handle) => handle,
        Err(err) => {
            channel.finish(Err(err));
            return None;
        }
    };
    let task = handle.spawn(async move {
        loop {
            if channel.wait_space().await {
                source.restart_clock();
            }
            let first = source.next().await;
            let (batch, end) = with_ready(&mut source, first);
            if !batch.parts.is_empty() {
                channel.push(|q| q.append(batch));
            }
            match end {
                None => {}
                Some(Ok(())) => {
                    // Let hyper's idle task put the connection back in the pool before the
                    // consumer, told of the end, sends its next request (keep-alive).
                    drop(source);
                    for _ in 0..IDLE_YIELDS {
                        tokio::task::yield_now().await;
                    }
                    channel.finish(Ok(()));
                    break;
                }
                Some(Err(err)) => {
                    channel.finish(Err(err));
                    break;
                }
            }
        }
    });
    Some(task.abort_handle())
}

/// Bytes gathered at once before the consumer hears of them.
const GATHER_BYTES: usize = 64 * 1024;

/// `first` and every chunk after it that needs no wait (up to [`GATHER_BYTES`]), so
/// that a burst reaches the consumer in one push (one wake-up) rather than one per
/// chunk; and the end of the body, if it came: `Ok` at the end, `Err` on failure.
fn with_ready(
    source: &mut Source,
    first: Result<Option<Arrival>, TransportError>,
) -> (Chunks, Option<Result<(), TransportError>>) {
    let mut batch = Chunks::default();
    let mut read = first;
    loop {
        match read {
            Ok(Some((chunk, at))) => {
                if !chunk.is_empty() {
                    batch.push(&chunk, at);
                }
            }
            Ok(None) => return (batch, Some(Ok(()))),
            Err(err) => return (batch, Some(Err(err))),
        }
        if batch.len() >= GATHER_BYTES {
            return (batch, None);
        }
        match source.ready() {
            Some(next) => read = next,
            None => return (batch, None),
        }
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        // A task that has finished read the body to its end (or failed): nothing to close.
        if let Some(task) = self.task.as_ref().filter(|task| !task.is_finished()) {
            // Dropping the task drops the response mid-body: hyper closes the connection.
            task.abort();
            if let Some(runtime) = &self.driven {
                // Nothing runs the caller-driven runtime until the next wait: run it now.
                driven::settle_on(runtime);
            }
        }
    }
}
