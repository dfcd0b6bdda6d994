//! Token extraction from event payloads, one file per provider family.
//!
//! A [`Dialect`] names how one provider's stream carries text: given one event's JSON
//! payload it reads only the fields it needs (borrowed strings, no DOM) and hands each
//! [`Token`] to a sink. Framing the bytes into events (`crate::sse`, `crate::ndjson`) and
//! keeping per-stream state across events (`crate::token`) are left to others; so is any
//! Python object.

mod anthropic;
mod batch;
mod error;
mod fast;
mod gemini;
mod json;
mod json_pointer;
mod ollama;
mod openai_chat;
mod openai_completions;
mod openai_responses;
mod read;
mod scan;
mod tgi;
mod token;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod scan_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod fast_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod plain_tail_tests;

use std::fmt;

pub use error::{DecodeError, StreamError};
pub use json_pointer::{JsonPointer, JsonPointerError};
pub use token::{Token, ToolCallDelta};

pub(crate) use batch::Batch;
pub(crate) use error::{Halt, Stop};

/// The names [`Dialect::from_name`] accepts, in the order `seltzer.DIALECTS` lists them.
pub const DIALECT_NAMES: [&str; 8] = [
    "openai-completions",
    "openai-chat",
    "openai-responses",
    "anthropic",
    "gemini",
    "tgi",
    "ollama",
    "json",
];

/// How one provider family's stream carries tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    /// Legacy `/v1/completions`: `choices[i].text`.
    OpenAiCompletions,
    /// `/v1/chat/completions` and compatibles: `choices[i].delta.content`.
    OpenAiChat,
    /// The Responses API (`/v1/responses`): `response.output_text.delta` and friends.
    OpenAiResponses,
    /// Anthropic Messages API: `content_block_delta` and friends.
    Anthropic,
    /// Google Gemini `streamGenerateContent?alt=sse`: `candidates[i].content.parts`.
    Gemini,
    /// Hugging Face text-generation-inference `/generate_stream`: `token.text`.
    Tgi,
    /// Ollama's native API, NDJSON: `response` or `message.content`.
    Ollama,
    /// Any SSE stream: the string at a JSON pointer is the text.
    Json(JsonPointer),
}

/// Why a dialect could not be built from a name (and `text_path`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialectError {
    /// The name is none of [`DIALECT_NAMES`].
    Unknown {
        /// The name given.
        name: String,
    },
    /// `"json"` was asked for without a `text_path`.
    MissingTextPath,
    /// A `text_path` was given for a dialect other than `"json"`.
    UnexpectedTextPath {
        /// The dialect named.
        dialect: &'static str,
    },
    /// The `text_path` is not a valid RFC 6901 JSON pointer.
    InvalidTextPath(JsonPointerError),
}

/// The error [`Dialect::from_name`] returns; the name the first design used for it.
pub type UnknownDialect = DialectError;

impl fmt::Display for DialectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown { name } => {
                write!(f, "unknown dialect {name:?}; expected one of: ")?;
                f.write_str(&DIALECT_NAMES.join(", "))
            }
            Self::MissingTextPath => f.write_str(
                "dialect \"json\" needs a text_path, a JSON pointer such as \"/choices/0/text\"",
            ),
            Self::UnexpectedTextPath { dialect } => write!(
                f,
                "text_path applies only to dialect \"json\", not {dialect:?}"
            ),
            Self::InvalidTextPath(err) => write!(f, "invalid text_path: {err}"),
        }
    }
}

impl std::error::Error for DialectError {}

impl Dialect {
    /// The dialect called `name` (one of [`DIALECT_NAMES`]); `"json"` needs
    /// [`Dialect::new`] with a `text_path`.
    ///
    /// # Errors
    /// [`DialectError::Unknown`] (listing the valid names) or, for `"json"`,
    /// [`DialectError::MissingTextPath`].
    pub fn from_name(name: &str) -> Result<Self, DialectError> {
        Self::new(name, None)
    }

    /// The dialect called `name`, with the `text_path` (RFC 6901 JSON pointer) that
    /// `"json"` requires and every other dialect refuses.
    ///
    /// # Errors
    /// [`DialectError`] when the name is unknown, or `text_path` is missing, unexpected or
    /// not a valid JSON pointer.
    pub fn new(name: &str, text_path: Option<&str>) -> Result<Self, DialectError> {
        let dialect = match name {
            "openai-completions" => Self::OpenAiCompletions,
            "openai-chat" => Self::OpenAiChat,
            "openai-responses" => Self::OpenAiResponses,
            "anthropic" => Self::Anthropic,
            "gemini" => Self::Gemini,
            "tgi" => Self::Tgi,
            "ollama" => Self::Ollama,
            "json" => {
                let path = text_path.ok_or(DialectError::MissingTextPath)?;
                let pointer = JsonPointer::parse(path).map_err(DialectError::InvalidTextPath)?;
                return Ok(Self::Json(pointer));
            }
            _ => {
                return Err(DialectError::Unknown {
                    name: name.to_owned(),
                })
            }
        };
        match text_path {
            Some(_) => Err(DialectError::UnexpectedTextPath {
                dialect: dialect.name(),
            }),
            None => Ok(dialect),
        }
    }

    /// The dialect's name, as in [`DIALECT_NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            Self::OpenAiCompletions => "openai-completions",
            Self::OpenAiChat => "openai-chat",
            Self::OpenAiResponses => "openai-responses",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Tgi => "tgi",
            Self::Ollama => "ollama",
            Self::Json(_) => "json",
        }
    }

    /// Whether the stream is newline-delimited JSON rather than SSE (only `"ollama"`).
    pub fn is_ndjson(&self) -> bool {
        matches!(self, Self::Ollama)
    }

    /// The `text_path` of the `"json"` dialect.
    pub fn text_path(&self) -> Option<&JsonPointer> {
        match self {
            Self::Json(pointer) => Some(pointer),
            _ => None,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One framed event (or NDJSON line) to decode, with where it sits in the stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventRef<'a> {
    /// The SSE event type (`"message"` for NDJSON lines).
    pub event: &'a str,
    /// The event's data: one JSON document.
    pub payload: &'a str,
    /// Stream offset of the payload's first byte.
    pub data_offset: u64,
    /// 1-based number of the event (or line) in the stream.
    pub event_index: u64,
}

/// What a dialect remembers between the events of one stream.
#[derive(Debug, Default, Clone)]
pub(crate) struct StreamState {
    /// The terminal marker was seen.
    pub done: bool,
    /// Function calls reported so far (gemini, ollama number them by position).
    pub calls: u32,
    /// Anthropic content-block indexes that are client `tool_use` blocks.
    pub tool_blocks: Vec<u32>,
    /// Where the first-tier reader can take up the next payload.
    pub resume: fast::Resume,
}

/// The terminal marker OpenAI-style streams end with.
pub(crate) fn is_done_marker(payload: &str) -> bool {
    payload.trim_ascii() == "[DONE]"
}

impl Dialect {
    /// Decodes one event, passing each token that carries something to `sink`.
    pub(crate) fn decode<E, F>(
        &self,
        ev: &EventRef<'_>,
        state: &mut StreamState,
        sink: &mut F,
    ) -> Result<(), Halt<E>>
    where
        F: FnMut(&Token<'_>) -> Result<(), E>,
    {
        let payload = ev.payload;
        let mut batch = Batch::default();
        let parsed = match self {
            Self::OpenAiCompletions => openai_completions::parse(payload, state, &mut batch),
            Self::OpenAiChat => openai_chat::parse(payload, state, &mut batch),
            Self::OpenAiResponses => openai_responses::parse(payload, state, &mut batch),
            Self::Anthropic => anthropic::parse(payload, state, &mut batch),
            Self::Gemini => gemini::parse(payload, state, &mut batch),
            Self::Tgi => tgi::parse(payload, state, &mut batch),
            Self::Ollama => ollama::parse(payload, state, &mut batch),
            Self::Json(pointer) => {
                json_pointer::parse(pointer, payload, state, &mut batch);
                Ok(())
            }
        };
        parsed.map_err(|stop| Halt::from_stop(stop, ev, self.name()))?;
        batch.emit(ev, sink).map_err(Halt::Sink)
    }
}
