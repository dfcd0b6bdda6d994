//! The token decoder: one framer (SSE, or NDJSON for Ollama) feeding one dialect, with
//! the per-stream state between them. Bytes in, [`Token`]s out through a sink, whatever
//! the chunking; the first error sticks. Framing rules live in `crate::sse` and
//! `crate::ndjson`, field extraction in `crate::dialect`, Python objects in `src/py/`.

use std::fmt;

use crate::dialect::{DecodeError, Dialect, EventRef, Halt, StreamError, StreamState, Token};
use crate::ndjson::{Line, NdjsonDecoder, NdjsonError};
use crate::sse::{Event, SseDecoder, SseError};

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

/// Why token decoding stopped; every variant says what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeFailure {
    /// SSE framing failed (an event over `max_event_bytes`).
    Sse(SseError),
    /// NDJSON framing failed (a line over the bound).
    Ndjson(NdjsonError),
    /// A payload is not the JSON the dialect expects.
    Decode(DecodeError),
    /// The provider sent an error inside the stream.
    Stream(StreamError),
}

impl fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sse(err) => err.fmt(f),
            Self::Ndjson(err) => err.fmt(f),
            Self::Decode(err) => err.fmt(f),
            Self::Stream(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for DecodeFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Sse(err) => Some(err),
            Self::Ndjson(err) => Some(err),
            Self::Decode(err) => Some(err),
            Self::Stream(err) => Some(err),
        }
    }
}

impl From<SseError> for DecodeFailure {
    fn from(err: SseError) -> Self {
        Self::Sse(err)
    }
}

impl From<NdjsonError> for DecodeFailure {
    fn from(err: NdjsonError) -> Self {
        Self::Ndjson(err)
    }
}

impl From<DecodeError> for DecodeFailure {
    fn from(err: DecodeError) -> Self {
        Self::Decode(err)
    }
}

impl From<StreamError> for DecodeFailure {
    fn from(err: StreamError) -> Self {
        Self::Stream(err)
    }
}

/// Why one `feed` stopped: the decoder failed, or the caller's sink did.
#[derive(Debug)]
enum Abort<E> {
    Failure(DecodeFailure),
    Sink(E),
}

impl<E> From<SseError> for Abort<E> {
    fn from(err: SseError) -> Self {
        Self::Failure(DecodeFailure::Sse(err))
    }
}

impl<E> From<NdjsonError> for Abort<E> {
    fn from(err: NdjsonError) -> Self {
        Self::Failure(DecodeFailure::Ndjson(err))
    }
}

impl<E> From<Halt<E>> for Abort<E> {
    fn from(halt: Halt<E>) -> Self {
        match halt {
            Halt::Decode(err) => Self::Failure(DecodeFailure::Decode(err)),
            Halt::Stream(err) => Self::Failure(DecodeFailure::Stream(err)),
            Halt::Sink(err) => Self::Sink(err),
        }
    }
}

/// The framer in front of the dialect.
#[derive(Debug)]
enum Framer {
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
}

/// Turns the bytes of one streamed response into tokens: one instance per stream.
#[derive(Debug)]
pub struct TokenDecoder {
    dialect: Dialect,
    framer: Framer,
    state: StreamState,
    events: u64,
    error: Option<DecodeFailure>,
}

impl TokenDecoder {
    /// A decoder for `dialect` whose events (NDJSON: lines) may hold up to
    /// `max_event_bytes` bytes.
    pub fn new(dialect: Dialect, max_event_bytes: usize) -> Self {
        let framer = if dialect.is_ndjson() {
            Framer::Ndjson(NdjsonDecoder::new(max_event_bytes))
        } else {
            Framer::Sse(SseDecoder::new(max_event_bytes))
        };
        Self {
            dialect,
            framer,
            state: StreamState::default(),
            events: 0,
            error: None,
        }
    }

    /// The dialect decoded.
    pub fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    /// Whether the stream's terminal marker has been decoded; later events are ignored.
    pub fn done(&self) -> bool {
        self.state.done
    }

    /// The error that stopped the decoder, if any.
    pub fn error(&self) -> Option<&DecodeFailure> {
        self.error.as_ref()
    }

    /// Events (NDJSON: non-blank lines) framed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Bytes of the stream consumed so far.
    pub fn offset(&self) -> u64 {
        match &self.framer {
            Framer::Sse(sse) => sse.offset(),
            Framer::Ndjson(ndjson) => ndjson.offset(),
        }
    }

    /// Decodes `chunk`, calling `sink` once per token, in stream order.
    ///
    /// # Errors
    /// The [`DecodeFailure`] (converted into `E`) that stopped decoding; it sticks, and
    /// every later `feed` or `flush` returns it again. An error from `sink` is returned
    /// as is; the events after it in that chunk are dropped.
    pub fn feed<E, F>(&mut self, chunk: &[u8], mut sink: F) -> Result<(), E>
    where
        E: From<DecodeFailure>,
        F: FnMut(&Token<'_>) -> Result<(), E>,
    {
        if let Some(err) = &self.error {
            return Err(err.clone().into());
        }
        let Self {
            dialect,
            framer,
            state,
            events,
            ..
        } = self;
        let result = match framer {
            Framer::Sse(sse) => sse.feed(chunk, |ev: &Event<'_>| {
                *events += 1;
                decode_event(dialect, state, &sse_ref(ev, *events), &mut sink)
            }),
            Framer::Ndjson(ndjson) => ndjson.feed(chunk, |line: &Line<'_>| {
                *events += 1;
                decode_event(dialect, state, &line_ref(line, *events), &mut sink)
            }),
        };
        self.settle(result)
    }

    /// Ends the stream. SSE: an unterminated event is discarded. NDJSON: an unterminated
    /// last line is decoded. `done` keeps its value: a stream that ends without its
    /// terminal marker leaves it `false`.
    ///
    /// # Errors
    /// As for [`TokenDecoder::feed`].
    pub fn flush<E, F>(&mut self, mut sink: F) -> Result<(), E>
    where
        E: From<DecodeFailure>,
        F: FnMut(&Token<'_>) -> Result<(), E>,
    {
        if let Some(err) = &self.error {
            return Err(err.clone().into());
        }
        let Self {
            dialect,
            framer,
            state,
            events,
            ..
        } = self;
        let result = match framer {
            Framer::Sse(sse) => {
                sse.flush();
                Ok(())
            }
            Framer::Ndjson(ndjson) => ndjson.flush(|line: &Line<'_>| {
                *events += 1;
                match decode_event(dialect, state, &line_ref(line, *events), &mut sink) {
                    // The last line had no line break: a body cut mid-line, not a bad
                    // payload. It is dropped like an unfinished SSE event, so the stream
                    // reads as interrupted (no terminal marker), not as malformed.
                    Err(Abort::Failure(DecodeFailure::Decode(_))) => Ok(()),
                    other => other,
                }
            }),
        };
        self.settle(result)
    }

    /// Records a decoder failure (it sticks) and converts the outcome for the caller.
    fn settle<E: From<DecodeFailure>>(&mut self, result: Result<(), Abort<E>>) -> Result<(), E> {
        let failure = match result {
            Ok(()) => return Ok(()),
            Err(Abort::Sink(err)) => {
                // The framer stopped mid-chunk: start it afresh so it never sees data
                // positions from a chunk it no longer has.
                if let Framer::Sse(sse) = &mut self.framer {
                    sse.flush();
                }
                return Err(err);
            }
            Err(Abort::Failure(err)) => err,
        };
        self.error = Some(failure.clone());
        Err(failure.into())
    }
}

/// Decodes one event unless the terminal marker was already seen.
fn decode_event<E, F>(
    dialect: &Dialect,
    state: &mut StreamState,
    ev: &EventRef<'_>,
    sink: &mut F,
) -> Result<(), Abort<E>>
where
    F: FnMut(&Token<'_>) -> Result<(), E>,
{
    if state.done {
        return Ok(());
    }
    dialect.decode(ev, state, sink).map_err(Abort::from)
}

fn sse_ref<'a>(ev: &'a Event<'_>, event_index: u64) -> EventRef<'a> {
    EventRef {
        event: ev.event_type,
        payload: &ev.data,
        data_offset: ev.data_offset,
        event_index,
    }
}

fn line_ref<'a>(line: &'a Line<'_>, event_index: u64) -> EventRef<'a> {
    EventRef {
        event: "message",
        payload: &line.text,
        data_offset: line.offset,
        event_index,
    }
}
