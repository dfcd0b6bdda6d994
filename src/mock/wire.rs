//! What every wire format shares: the [`Wire`] enum and its dispatch to the provider
//! files, the per-response [`Ctx`], the token event [`Tok`] and the [`Out`] buffer
//! that frames events (SSE or NDJSON) and stamps them. Pacing and faults are
//! `stream.rs`'s job; each provider's layout is its own file's.

use std::time::{SystemTime, UNIX_EPOCH};

use super::text::{choice_seed, expected_text, TextGen};
use super::{anthropic, gemini, ollama, openai, responses, tgi};

/// The wire format of a streamed (or whole) response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Completions,
    Chat,
    Responses,
    Anthropic,
    Gemini,
    Tgi,
    OllamaGenerate,
    OllamaChat,
}

/// What every event of one response shares.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent request flags, not a state machine"
)]
pub(crate) struct Ctx {
    pub wire: Wire,
    pub id: String,
    pub model: String,
    pub created: u64,
    /// Choices, interleaved one token event each per step.
    pub n: u32,
    /// Token events per choice.
    pub tokens: u64,
    pub prompt_tokens: u64,
    pub include_usage: bool,
    /// The tool to call (chat only): the tokens are its arguments' fragments.
    pub tool: Option<String>,
    pub details: bool,
    pub seed: u64,
    pub unicode: bool,
    /// Whether the token count came from the request's own limit (finish: "length").
    pub limited: bool,
}

impl Ctx {
    /// The whole text of `choice`, regenerated from the seed (for `.done` events).
    pub fn text(&self, choice: u32) -> String {
        expected_text(choice_seed(self.seed, choice), self.tokens, self.unicode)
    }

    /// Token events sent in all, every choice counted.
    pub fn total(&self) -> u64 {
        self.tokens.saturating_mul(u64::from(self.n))
    }

    /// Tool-call arguments fragment `k` (its raw JSON text) for a generated `token`:
    /// `{"input":"`, then the escaped words, then `"}`.
    pub fn tool_fragment(&self, k: u64, token: &str) -> String {
        if k == 0 {
            "{\"input\":\"".to_owned()
        } else if k + 1 == self.tokens {
            "\"}".to_owned()
        } else {
            super::json::escaped(token)
        }
    }

    /// The whole arguments text of the tool call.
    pub fn tool_arguments(&self) -> String {
        let mut gen = TextGen::new(self.seed, self.unicode);
        (0..self.tokens)
            .map(|k| self.tool_fragment(k, gen.next_token()))
            .collect()
    }
}

/// One token event to render.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok<'a> {
    pub choice: u32,
    /// Index within the choice.
    pub k: u64,
    pub text: &'a str,
    /// Whether this is the choice's last token.
    pub last: bool,
    /// Whether the stream's terminal marker may be sent (false under `no-done`).
    pub done_marker: bool,
}

/// An output buffer that frames events (SSE or NDJSON) and stamps them when asked.
#[derive(Debug)]
pub(crate) struct Out {
    pub buf: Vec<u8>,
    stamp: bool,
    data_prefix: &'static [u8],
    eol: &'static [u8],
}

impl Out {
    /// An empty buffer framing events for `wire`.
    pub fn new(wire: Wire, stamp: bool) -> Self {
        let (data_prefix, eol): (&[u8], &[u8]) = match wire {
            Wire::Gemini => (b"data: ", b"\r\n"),
            Wire::Tgi => (b"data:", b"\n"),
            _ => (b"data: ", b"\n"),
        };
        Self {
            buf: Vec::with_capacity(512),
            stamp,
            data_prefix,
            eol,
        }
    }

    /// An SSE event with an optional `event:` line and a JSON object `data:`.
    pub fn sse(&mut self, event: Option<&str>, payload: impl FnOnce(&mut Vec<u8>)) {
        if let Some(event) = event {
            self.buf.extend_from_slice(b"event: ");
            self.buf.extend_from_slice(event.as_bytes());
            self.buf.extend_from_slice(self.eol);
        }
        self.buf.extend_from_slice(self.data_prefix);
        self.object(payload);
        self.buf.extend_from_slice(self.eol);
        self.buf.extend_from_slice(self.eol);
    }

    /// A raw SSE `data:` line that is not JSON (`[DONE]`).
    pub fn sse_raw(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(self.data_prefix);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(self.eol);
        self.buf.extend_from_slice(self.eol);
    }

    /// An NDJSON line holding a JSON object.
    pub fn line(&mut self, payload: impl FnOnce(&mut Vec<u8>)) {
        self.object(payload);
        self.buf.push(b'\n');
    }

    fn object(&mut self, payload: impl FnOnce(&mut Vec<u8>)) {
        payload(&mut self.buf);
        if self.stamp && self.buf.last() == Some(&b'}') {
            self.buf.pop();
            self.buf.extend_from_slice(b",\"mock_sent_ns\":");
            super::json::push_u64(&mut self.buf, unix_ns());
            self.buf.push(b'}');
        }
    }
}

/// Now, in nanoseconds since the unix epoch.
pub(crate) fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Wire {
    /// The streamed body's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::OllamaGenerate | Self::OllamaChat => "application/x-ndjson",
            _ => "text/event-stream",
        }
    }

    /// Renders the format's `head` events.
    pub fn head(self, c: &Ctx, out: &mut Out) {
        match self {
            Self::Chat => openai::chat_head(c, out),
            Self::Responses => responses::head(c, out),
            Self::Anthropic => anthropic::head(c, out),
            Self::Completions
            | Self::Gemini
            | Self::Tgi
            | Self::OllamaGenerate
            | Self::OllamaChat => {}
        }
    }

    /// Renders the format's `token` events.
    pub fn token(self, c: &Ctx, t: &Tok<'_>, out: &mut Out) {
        match self {
            Self::Completions => openai::completions_token(c, t, out),
            Self::Chat => openai::chat_token(c, t, out),
            Self::Responses => responses::token(c, t, out),
            Self::Anthropic => anthropic::token(c, t, out),
            Self::Gemini => gemini::token(c, t, out),
            Self::Tgi => tgi::token(c, t, out),
            Self::OllamaGenerate | Self::OllamaChat => ollama::token(c, t, out),
        }
    }

    /// Renders the format's `tail` events.
    pub fn tail(self, c: &Ctx, done_marker: bool, out: &mut Out) {
        match self {
            Self::Completions | Self::Chat => openai::completions_chat_tail(c, done_marker, out),
            Self::Responses => responses::tail(c, done_marker, out),
            Self::Anthropic => anthropic::tail(c, done_marker, out),
            Self::OllamaGenerate | Self::OllamaChat => ollama::tail(c, done_marker, out),
            Self::Gemini | Self::Tgi => {}
        }
    }

    /// Renders the format's `error` events.
    pub fn error(self, c: &Ctx, out: &mut Out) {
        match self {
            Self::Completions | Self::Chat => openai::stream_error(out),
            Self::Responses => responses::stream_error(c, out),
            Self::Anthropic => anthropic::stream_error(out),
            Self::Gemini => gemini::stream_error(out),
            Self::Tgi => tgi::stream_error(out),
            Self::OllamaGenerate | Self::OllamaChat => ollama::stream_error(out),
        }
    }

    /// The whole (non-streamed) JSON response.
    pub fn full(self, c: &Ctx) -> Vec<u8> {
        match self {
            Self::Completions => openai::completions_full(c),
            Self::Chat => openai::chat_full(c),
            Self::Responses => responses::full(c),
            Self::Anthropic => anthropic::full(c),
            Self::Gemini => gemini::full(c),
            Self::Tgi => tgi::full(c),
            Self::OllamaGenerate | Self::OllamaChat => ollama::full(c),
        }
    }
}
