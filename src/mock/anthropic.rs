//! Anthropic's Messages API (`/v1/messages`) wire format: `message_start`,
//! `content_block_start`, `ping`, `content_block_delta` (`text_delta`)...,
//! `content_block_stop`, `message_delta` (stop reason, usage), `message_stop`; the
//! `event: error` it sends mid-stream; and the whole JSON message.

use super::json::{push_str, push_u64};
use super::wire::{Ctx, Out, Tok};

fn stop_reason(c: &Ctx) -> &'static str {
    if c.limited {
        "max_tokens"
    } else {
        "end_turn"
    }
}

/// The message object; `content` is written by `content`.
fn message(
    c: &Ctx,
    b: &mut Vec<u8>,
    content: impl FnOnce(&mut Vec<u8>),
    stop: Option<&str>,
    output_tokens: u64,
) {
    b.extend_from_slice(b"{\"model\":");
    push_str(b, &c.model);
    b.extend_from_slice(b",\"id\":");
    push_str(b, &c.id);
    b.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"content\":[");
    content(b);
    b.extend_from_slice(b"],\"stop_reason\":");
    match stop {
        Some(s) => push_str(b, s),
        None => b.extend_from_slice(b"null"),
    }
    b.extend_from_slice(b",\"stop_sequence\":null,\"usage\":{\"input_tokens\":");
    push_u64(b, c.prompt_tokens);
    b.extend_from_slice(
        b",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\
          \"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},\
          \"output_tokens\":",
    );
    push_u64(b, output_tokens);
    b.extend_from_slice(b",\"service_tier\":\"standard\"}}");
}

/// `message_start`, `content_block_start`, `ping`.
pub(crate) fn head(c: &Ctx, out: &mut Out) {
    out.sse(Some("message_start"), |b| {
        b.extend_from_slice(b"{\"type\":\"message_start\",\"message\":");
        message(c, b, |_| {}, None, 1);
        b.push(b'}');
    });
    out.sse(Some("content_block_start"), |b| {
        b.extend_from_slice(
            b"{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
        );
    });
    out.sse(Some("ping"), |b| {
        b.extend_from_slice(b"{\"type\": \"ping\"}");
    });
}

/// One `content_block_delta` with a `text_delta`.
pub(crate) fn token(_c: &Ctx, t: &Tok<'_>, out: &mut Out) {
    out.sse(Some("content_block_delta"), |b| {
        b.extend_from_slice(b"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":");
        push_str(b, t.text);
        b.extend_from_slice(b"}}");
    });
}

/// `content_block_stop`, `message_delta`, `message_stop` (left out under `no-done`).
pub(crate) fn tail(c: &Ctx, done_marker: bool, out: &mut Out) {
    out.sse(Some("content_block_stop"), |b| {
        b.extend_from_slice(b"{\"type\":\"content_block_stop\",\"index\":0}");
    });
    out.sse(Some("message_delta"), |b| {
        b.extend_from_slice(b"{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
        push_str(b, stop_reason(c));
        b.extend_from_slice(b",\"stop_sequence\":null},\"usage\":{\"input_tokens\":");
        push_u64(b, c.prompt_tokens);
        b.extend_from_slice(
            b",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":",
        );
        push_u64(b, c.tokens);
        b.extend_from_slice(b"}}");
    });
    if done_marker {
        out.sse(Some("message_stop"), |b| {
            b.extend_from_slice(b"{\"type\":\"message_stop\"}");
        });
    }
}

/// The `event: error` Anthropic sends mid-stream (here: `overloaded_error`).
pub(crate) fn stream_error(out: &mut Out) {
    out.sse(Some("error"), |b| {
        b.extend_from_slice(
            b"{\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}",
        );
    });
}

/// The whole (non-streamed) message.
pub(crate) fn full(c: &Ctx) -> Vec<u8> {
    let mut b = Vec::with_capacity(super::json::capacity(512, c.tokens));
    let text = c.text(0);
    message(
        c,
        &mut b,
        |b| {
            b.extend_from_slice(b"{\"type\":\"text\",\"text\":");
            push_str(b, &text);
            b.push(b'}');
        },
        Some(stop_reason(c)),
        c.tokens,
    );
    b
}
