//! The response bodies: a whole JSON body, or a token stream that renders events as
//! their time comes, one HTTP chunk per write, with faults applied at their token
//! positions. Event layouts are the wire-format files' job; sockets are `server.rs`'s.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::config::Pacing;
use super::faults::Fault;
use super::pacing::Schedule;
use super::server::Counters;
use super::text::{choice_seed, TextGen};
use super::wire::{Ctx, Out, Tok};

/// Where a token stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Tokens,
    /// Cut the connection once what was written is flushed.
    Killing,
    Done,
}

/// A streamed response being produced.
pub(crate) struct TokenStream {
    ctx: Ctx,
    pacing: Pacing,
    schedule: Schedule,
    gens: Vec<TextGen>,
    sent: u64,
    phase: Phase,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Return `Pending` (waking at once) before the next frame, so hyper flushes each
    /// write to the socket on its own.
    yield_next: bool,
    kill: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl TokenStream {
    /// A stream for `ctx`, paced by `pacing` from `start`; `kill` cuts its connection.
    pub fn new(
        ctx: Ctx,
        pacing: Pacing,
        start: Instant,
        kill: Arc<AtomicBool>,
        counters: Arc<Counters>,
    ) -> Self {
        let gens = (0..ctx.n)
            .map(|i| TextGen::new(choice_seed(ctx.seed, i), ctx.unicode))
            .collect();
        let schedule = Schedule::new(start, &pacing, ctx.seed, ctx.n);
        Self {
            ctx,
            pacing,
            schedule,
            gens,
            sent: 0,
            phase: Phase::Head,
            sleep: None,
            yield_next: false,
            kill,
            counters,
        }
    }

    /// Waits until token event `seq` is due; `Ready` when it is.
    fn wait_for(&mut self, seq: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.schedule.is_immediate() {
            return Poll::Ready(());
        }
        let due = self.schedule.due(seq);
        if due <= Instant::now() {
            return Poll::Ready(());
        }
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
        if sleep.deadline() != due {
            sleep.as_mut().reset(due);
        }
        sleep.as_mut().poll(cx)
    }

    /// Renders token event `self.sent` into `out`, applying a fault aimed at it.
    fn render_token(&mut self, out: &mut Out, forced: Option<&'static str>) {
        let seq = self.sent;
        let n = u64::from(self.ctx.n);
        let choice = u32::try_from(seq % n).unwrap_or(0);
        let k = seq / n;
        let generated = self
            .gens
            .get_mut(choice as usize)
            .map_or(" water", TextGen::next_token);
        let text = forced.unwrap_or(generated);
        let tok = Tok {
            choice,
            k,
            text,
            last: k + 1 == self.ctx.tokens,
            done_marker: self.pacing.fault != Some(Fault::NoDone),
        };
        let start = out.buf.len();
        self.ctx.wire.token(&self.ctx, &tok, out);
        match self.pacing.fault {
            Some(Fault::Malformed(at)) if u64::from(at) == seq => {
                if let Some(pos) = out.buf[start..].iter().rposition(|&b| b == b'}') {
                    out.buf.remove(start + pos);
                }
            }
            Some(Fault::BadUtf8(at)) if u64::from(at) == seq => {
                let escaped = super::json::escaped(text);
                let region = &out.buf[start..];
                if let Some(pos) = memchr::memmem::rfind(region, escaped.as_bytes()) {
                    let at = start + pos + escaped.len();
                    out.buf.splice(at..at, [0xFF, 0xFE]);
                }
            }
            Some(Fault::Oversize(at, bytes)) if u64::from(at) == seq => {
                let len = out.buf.len() - start;
                let field = b",\"mock_padding\":\"\"".len();
                if let Some(pos) = out.buf[start..].iter().rposition(|&b| b == b'}') {
                    let pad = bytes.saturating_sub(len + field);
                    let mut ins = Vec::with_capacity(field + pad);
                    ins.extend_from_slice(b",\"mock_padding\":\"");
                    ins.resize(ins.len() + pad, b'x');
                    ins.push(b'"');
                    out.buf.splice(start + pos..start + pos, ins);
                }
            }
            _ => {}
        }
        self.sent += 1;
    }

    /// The next write, or `Pending` while its time has not come.
    fn next_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut out = Out::new(self.ctx.wire, self.pacing.timestamps);
        if self.phase == Phase::Head {
            self.ctx.wire.head(&self.ctx, &mut out);
            self.phase = Phase::Tokens;
            if !out.buf.is_empty() {
                return Poll::Ready(Some(Bytes::from(out.buf)));
            }
        }
        let total = self.ctx.total();
        let batch_end = total.min(self.sent + u64::from(self.pacing.batch));
        if self.sent < batch_end && self.wait_for(batch_end - 1, cx).is_pending() {
            return Poll::Pending;
        }
        let first = self.sent;
        while self.sent < batch_end && self.phase == Phase::Tokens {
            if !self.fault_before_token(&mut out) {
                self.render_token(&mut out, None);
            }
        }
        if self.sent == total && self.phase == Phase::Tokens && !self.fault_before_token(&mut out) {
            let marker = self.pacing.fault != Some(Fault::NoDone);
            self.ctx.wire.tail(&self.ctx, marker, &mut out);
            self.phase = Phase::Done;
        }
        self.counters.tokens(self.sent - first);
        if out.buf.is_empty() {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Bytes::from(out.buf)))
    }

    /// Applies a fault due before token event `self.sent`; true when it replaced it.
    fn fault_before_token(&mut self, out: &mut Out) -> bool {
        let seq = self.sent;
        match self.pacing.fault {
            Some(Fault::ErrorEvent(at)) if u64::from(at) == seq => {
                self.ctx.wire.error(&self.ctx, out);
                self.phase = Phase::Done;
            }
            Some(Fault::Drop(at)) if u64::from(at) == seq => self.phase = Phase::Killing,
            Some(Fault::DropMid(at)) if u64::from(at) == seq && seq < self.ctx.total() => {
                let start = out.buf.len();
                self.render_token(out, None);
                self.sent -= 1;
                let len = out.buf.len() - start;
                out.buf.truncate(start + len / 2);
                self.phase = Phase::Killing;
            }
            Some(Fault::DropUtf8(at)) if u64::from(at) == seq && seq < self.ctx.total() => {
                let start = out.buf.len();
                self.render_token(out, Some(" \u{1F942}"));
                self.sent -= 1;
                let cut = memchr::memmem::find(&out.buf[start..], "\u{1F942}".as_bytes())
                    .map_or(out.buf.len(), |pos| start + pos + 2);
                out.buf.truncate(cut);
                self.phase = Phase::Killing;
            }
            _ => return false,
        }
        true
    }
}

/// A response body: whole, whole after a delay, or a token stream.
pub(crate) enum MockBody {
    Full(Option<Bytes>),
    Delayed(Pin<Box<Sleep>>, Option<Bytes>),
    Stream(Box<TokenStream>),
}

impl MockBody {
    /// A whole body.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }

    /// A whole body sent once `delay` has passed since `start`.
    pub fn delayed(bytes: impl Into<Bytes>, start: Instant, delay: Duration) -> Self {
        let due = start.checked_add(delay).unwrap_or(start);
        Self::Delayed(Box::pin(tokio::time::sleep_until(due)), Some(bytes.into()))
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let data = match self.get_mut() {
            Self::Full(bytes) => bytes.take(),
            Self::Delayed(sleep, bytes) => {
                if bytes.is_some() && sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                bytes.take()
            }
            Self::Stream(stream) => loop {
                if stream.yield_next {
                    stream.yield_next = false;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                match stream.phase {
                    Phase::Done => break None,
                    Phase::Killing => {
                        // No wake-up: hyper flushes what it holds, and the connection's
                        // flush then fails (see `server::Io`), closing it without the
                        // terminating chunk.
                        stream.kill.store(true, Ordering::Release);
                        return Poll::Pending;
                    }
                    Phase::Head | Phase::Tokens => match stream.next_frame(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(None) => {}
                        Poll::Ready(Some(bytes)) => {
                            stream.yield_next = true;
                            break Some(bytes);
                        }
                    },
                }
            },
        };
        Poll::Ready(data.map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(bytes) | Self::Delayed(_, bytes) => bytes.is_none(),
            Self::Stream(stream) => stream.phase == Phase::Done,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(bytes) | Self::Delayed(_, bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Self::Stream(_) => SizeHint::default(),
        }
    }
}
