//! OpenAI's Responses API (`/v1/responses`) wire format: the event sequence
//! `response.created`, `response.in_progress`, `response.output_item.added`,
//! `response.content_part.added`, `response.output_text.delta`..., the `.done` events
//! and `response.completed` with usage; `error` + `response.failed` as its error. Each
//! event has an `event:` line and a `sequence_number`, as the real API sends them.

use super::json::{push_str, push_u64};
use super::openai::SERVER_ERROR;
use super::wire::{Ctx, Out, Tok};

/// Events before the first delta.
const HEAD_EVENTS: u64 = 4;

fn item_id(c: &Ctx) -> String {
    format!("msg_{}", c.id.trim_start_matches("resp_"))
}

/// The `response` object; `status` is `in_progress`, `completed` or `failed`.
fn response(c: &Ctx, b: &mut Vec<u8>, status: &str, text: Option<&str>) {
    b.extend_from_slice(b"{\"id\":");
    push_str(b, &c.id);
    b.extend_from_slice(b",\"object\":\"response\",\"created_at\":");
    push_u64(b, c.created);
    b.extend_from_slice(b",\"status\":");
    push_str(b, status);
    b.extend_from_slice(b",\"background\":false,\"error\":");
    if status == "failed" {
        b.extend_from_slice(b"{\"code\":\"server_error\",\"message\":");
        push_str(b, SERVER_ERROR);
        b.push(b'}');
    } else {
        b.extend_from_slice(b"null");
    }
    b.extend_from_slice(
        b",\"incomplete_details\":null,\"instructions\":null,\"max_output_tokens\":",
    );
    if c.limited {
        push_u64(b, c.tokens);
    } else {
        b.extend_from_slice(b"null");
    }
    b.extend_from_slice(b",\"model\":");
    push_str(b, &c.model);
    b.extend_from_slice(b",\"output\":[");
    if let Some(text) = text {
        message_item(c, b, "completed", Some(text));
    }
    b.extend_from_slice(
        b"],\"parallel_tool_calls\":true,\"previous_response_id\":null,\
          \"reasoning\":{\"effort\":null,\"summary\":null},\"store\":true,\"temperature\":1.0,\
          \"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\
          \"top_p\":1.0,\"truncation\":\"disabled\",\"usage\":",
    );
    if text.is_some() {
        b.extend_from_slice(b"{\"input_tokens\":");
        push_u64(b, c.prompt_tokens);
        b.extend_from_slice(b",\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":");
        push_u64(b, c.tokens);
        b.extend_from_slice(
            b",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":",
        );
        push_u64(b, c.prompt_tokens + c.tokens);
        b.push(b'}');
    } else {
        b.extend_from_slice(b"null");
    }
    b.extend_from_slice(b",\"user\":null,\"metadata\":{}}");
}

fn part(b: &mut Vec<u8>, text: &str) {
    b.extend_from_slice(b"{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":");
    push_str(b, text);
    b.push(b'}');
}

fn message_item(c: &Ctx, b: &mut Vec<u8>, status: &str, text: Option<&str>) {
    b.extend_from_slice(b"{\"id\":");
    push_str(b, &item_id(c));
    b.extend_from_slice(b",\"type\":\"message\",\"status\":");
    push_str(b, status);
    b.extend_from_slice(b",\"content\":[");
    if let Some(text) = text {
        part(b, text);
    }
    b.extend_from_slice(b"],\"role\":\"assistant\"}");
}

/// `{"type":TYPE,"sequence_number":SEQ`, left open.
fn open(b: &mut Vec<u8>, kind: &str, seq: u64) {
    b.extend_from_slice(b"{\"type\":");
    push_str(b, kind);
    b.extend_from_slice(b",\"sequence_number\":");
    push_u64(b, seq);
}

/// `,"item_id":..,"output_index":0,"content_index":0`.
fn at_part(c: &Ctx, b: &mut Vec<u8>) {
    b.extend_from_slice(b",\"item_id\":");
    push_str(b, &item_id(c));
    b.extend_from_slice(b",\"output_index\":0,\"content_index\":0");
}

/// The four events before the first delta.
pub(crate) fn head(c: &Ctx, out: &mut Out) {
    for (seq, kind) in [(0, "response.created"), (1, "response.in_progress")] {
        out.sse(Some(kind), |b| {
            open(b, kind, seq);
            b.extend_from_slice(b",\"response\":");
            response(c, b, "in_progress", None);
            b.push(b'}');
        });
    }
    out.sse(Some("response.output_item.added"), |b| {
        open(b, "response.output_item.added", 2);
        b.extend_from_slice(b",\"output_index\":0,\"item\":");
        message_item(c, b, "in_progress", None);
        b.push(b'}');
    });
    out.sse(Some("response.content_part.added"), |b| {
        open(b, "response.content_part.added", 3);
        at_part(c, b);
        b.extend_from_slice(b",\"part\":");
        part(b, "");
        b.push(b'}');
    });
}

/// One `response.output_text.delta`.
pub(crate) fn token(c: &Ctx, t: &Tok<'_>, out: &mut Out) {
    out.sse(Some("response.output_text.delta"), |b| {
        open(b, "response.output_text.delta", HEAD_EVENTS + t.k);
        at_part(c, b);
        b.extend_from_slice(b",\"delta\":");
        push_str(b, t.text);
        b.extend_from_slice(b",\"logprobs\":[]}");
    });
}

/// The `.done` events and `response.completed` (left out under `no-done`).
pub(crate) fn tail(c: &Ctx, done_marker: bool, out: &mut Out) {
    let text = c.text(0);
    let seq = HEAD_EVENTS + c.tokens;
    out.sse(Some("response.output_text.done"), |b| {
        open(b, "response.output_text.done", seq);
        at_part(c, b);
        b.extend_from_slice(b",\"text\":");
        push_str(b, &text);
        b.extend_from_slice(b",\"logprobs\":[]}");
    });
    out.sse(Some("response.content_part.done"), |b| {
        open(b, "response.content_part.done", seq + 1);
        at_part(c, b);
        b.extend_from_slice(b",\"part\":");
        part(b, &text);
        b.push(b'}');
    });
    out.sse(Some("response.output_item.done"), |b| {
        open(b, "response.output_item.done", seq + 2);
        b.extend_from_slice(b",\"output_index\":0,\"item\":");
        message_item(c, b, "completed", Some(&text));
        b.push(b'}');
    });
    if done_marker {
        out.sse(Some("response.completed"), |b| {
            open(b, "response.completed", seq + 3);
            b.extend_from_slice(b",\"response\":");
            response(c, b, "completed", Some(&text));
            b.push(b'}');
        });
    }
}

/// The `error` event and `response.failed`, as the API sends a failure mid-stream.
pub(crate) fn stream_error(c: &Ctx, out: &mut Out) {
    out.sse(Some("error"), |b| {
        open(b, "error", HEAD_EVENTS);
        b.extend_from_slice(
            b",\"error\":{\"type\":\"server_error\",\"code\":\"server_error\",\"message\":",
        );
        push_str(b, SERVER_ERROR);
        b.extend_from_slice(b",\"param\":null}}");
    });
    out.sse(Some("response.failed"), |b| {
        open(b, "response.failed", HEAD_EVENTS + 1);
        b.extend_from_slice(b",\"response\":");
        response(c, b, "failed", None);
        b.push(b'}');
    });
}

/// The whole (non-streamed) response object.
pub(crate) fn full(c: &Ctx) -> Vec<u8> {
    let mut b = Vec::with_capacity(super::json::capacity(1024, c.tokens));
    response(c, &mut b, "completed", Some(&c.text(0)));
    b
}
