//! The token type every dialect produces: one per choice / content block / part that
//! carries something, borrowed from the event payload where it can be. Building Python
//! objects from it is the pyo3 layer's job.

use std::borrow::Cow;

/// One decoded token: what one event says about one choice (or content block, output
/// item, candidate). Strings borrow the payload unless JSON escapes forced a copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Token<'a> {
    /// The text the event adds; `""` when it adds none.
    pub text: Cow<'a, str>,
    /// The choice / content-block / output-item index (0 for message-level events).
    pub index: u32,
    /// Why generation stopped, as the provider spells it.
    pub finish_reason: Option<Cow<'a, str>>,
    /// The usage object's raw JSON text exactly as sent (ollama: the counters' subset).
    pub usage: Option<Cow<'a, str>>,
    /// Tool-call fragments; empty when the event carries none.
    pub tool_calls: Vec<ToolCallDelta<'a>>,
    /// Reasoning / thinking text.
    pub reasoning: Option<Cow<'a, str>>,
    /// The SSE event type the token came from (`"message"` by default and for NDJSON).
    pub event: &'a str,
    /// The event's whole JSON payload, for parsing on demand.
    pub payload: &'a str,
}

/// A fragment of a tool (function) call; fragments with the same `index` add up to one
/// call: the first `id` and `name` given, and `arguments` concatenated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCallDelta<'a> {
    /// Which call of the message this fragment belongs to.
    pub index: u32,
    /// The call id, usually only on the first fragment.
    pub id: Option<Cow<'a, str>>,
    /// The function name, usually only on the first fragment.
    pub name: Option<Cow<'a, str>>,
    /// A fragment of the JSON arguments (gemini, ollama: the whole arguments object).
    pub arguments: Cow<'a, str>,
}

impl<'a> Token<'a> {
    /// An empty token at `index`.
    pub fn at(index: u32) -> Self {
        Self {
            index,
            ..Self::default()
        }
    }

    /// Whether the token carries anything worth emitting.
    pub fn carries_something(&self) -> bool {
        !self.text.is_empty()
            || self.reasoning.is_some()
            || !self.tool_calls.is_empty()
            || self.finish_reason.is_some()
            || self.usage.is_some()
    }

    /// Whether the token carries text and nothing else (no finish reason, usage, tool
    /// calls or reasoning): most tokens of a stream.
    pub fn is_plain(&self) -> bool {
        self.finish_reason.is_none()
            && self.usage.is_none()
            && self.tool_calls.is_empty()
            && self.reasoning.is_none()
    }

    /// Sets the reasoning, treating an empty string as none.
    pub(crate) fn set_reasoning(&mut self, reasoning: Option<Cow<'a, str>>) {
        self.reasoning = reasoning.filter(|r| !r.is_empty());
    }
}
