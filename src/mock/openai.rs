//! OpenAI's legacy completions (`/v1/completions`) and chat completions
//! (`/v1/chat/completions`) wire formats, streamed and whole, with the field order of
//! the real API's chunks (see the fixtures). The Responses API is `responses.rs`.

use super::json::{push_key, push_str, push_u64};
use super::wire::{Ctx, Out, Tok, Wire};

/// The message of the in-stream error event and of 500 / 503 bodies.
pub(crate) const SERVER_ERROR: &str =
    "The server had an error while processing your request. Sorry about that!";

fn finish_reason(c: &Ctx) -> &'static str {
    if c.tool.is_some() {
        "tool_calls"
    } else if c.limited {
        "length"
    } else {
        "stop"
    }
}

/// `"id":..,"object":..,"created":..,"model":..` for chat chunks and bodies.
fn chat_prefix(c: &Ctx, b: &mut Vec<u8>, object: &str) {
    b.extend_from_slice(b"{\"id\":");
    push_str(b, &c.id);
    b.extend_from_slice(b",\"object\":\"");
    b.extend_from_slice(object.as_bytes());
    b.extend_from_slice(b"\",\"created\":");
    push_u64(b, c.created);
    b.extend_from_slice(b",\"model\":");
    push_str(b, &c.model);
    b.extend_from_slice(b",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\"");
}

fn usage(c: &Ctx, b: &mut Vec<u8>, completion: u64, details: bool) {
    b.extend_from_slice(b"{\"prompt_tokens\":");
    push_u64(b, c.prompt_tokens);
    b.extend_from_slice(b",\"completion_tokens\":");
    push_u64(b, completion);
    b.extend_from_slice(b",\"total_tokens\":");
    push_u64(b, c.prompt_tokens + completion);
    if details {
        b.extend_from_slice(
            b",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\
              \"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\
              \"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}",
        );
    }
    b.push(b'}');
}

fn chat_chunk(
    c: &Ctx,
    out: &mut Out,
    choice: u32,
    delta: impl FnOnce(&mut Vec<u8>),
    finish: Option<&str>,
) {
    out.sse(None, |b| {
        chat_prefix(c, b, "chat.completion.chunk");
        b.extend_from_slice(b",\"choices\":[{\"index\":");
        push_u64(b, u64::from(choice));
        b.extend_from_slice(b",\"delta\":");
        delta(b);
        b.extend_from_slice(b",\"logprobs\":null,\"finish_reason\":");
        match finish {
            Some(f) => push_str(b, f),
            None => b.extend_from_slice(b"null"),
        }
        b.extend_from_slice(b"}]");
        if c.include_usage {
            b.extend_from_slice(b",\"usage\":null");
        }
        b.push(b'}');
    });
}

fn call_id(c: &Ctx) -> String {
    format!("call_{}", c.id.rsplit('-').next().unwrap_or("mock"))
}

/// Chat: the first chunk of each choice, with the role (and the tool call's head).
pub(crate) fn chat_head(c: &Ctx, out: &mut Out) {
    for choice in 0..c.n {
        chat_chunk(
            c,
            out,
            choice,
            |b| match &c.tool {
                None => b.extend_from_slice(
                    b"{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
                ),
                Some(name) => {
                    b.extend_from_slice(b"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":");
                    push_str(b, &call_id(c));
                    b.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
                    push_str(b, name);
                    b.extend_from_slice(b",\"arguments\":\"\"}}],\"refusal\":null}");
                }
            },
            None,
        );
    }
}

/// Chat: one token: a content delta, or a tool-call arguments fragment.
pub(crate) fn chat_token(c: &Ctx, t: &Tok<'_>, out: &mut Out) {
    chat_chunk(
        c,
        out,
        t.choice,
        |b| {
            if c.tool.is_some() {
                b.extend_from_slice(b"{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":");
                push_str(b, &c.tool_fragment(t.k, t.text));
                b.extend_from_slice(b"}}]}");
            } else {
                b.extend_from_slice(b"{\"content\":");
                push_str(b, t.text);
                b.push(b'}');
            }
        },
        None,
    );
}

/// Completions: one token; the choice's last carries `finish_reason`.
pub(crate) fn completions_token(c: &Ctx, t: &Tok<'_>, out: &mut Out) {
    out.sse(None, |b| {
        b.extend_from_slice(b"{\"id\":");
        push_str(b, &c.id);
        b.extend_from_slice(b",\"object\":\"text_completion\",\"created\":");
        push_u64(b, c.created);
        b.extend_from_slice(b",\"choices\":[{\"text\":");
        push_str(b, t.text);
        b.extend_from_slice(b",\"index\":");
        push_u64(b, u64::from(t.choice));
        b.extend_from_slice(b",\"logprobs\":null,\"finish_reason\":");
        if t.last {
            push_str(b, finish_reason(c));
        } else {
            b.extend_from_slice(b"null");
        }
        b.extend_from_slice(b"}],\"model\":");
        push_str(b, &c.model);
        if c.include_usage {
            b.extend_from_slice(b",\"usage\":null");
        }
        b.push(b'}');
    });
}

/// Completions and chat: finish chunks (chat), the usage chunk when asked, `[DONE]`.
pub(crate) fn completions_chat_tail(c: &Ctx, done_marker: bool, out: &mut Out) {
    let chat = c.wire == Wire::Chat;
    if chat {
        for choice in 0..c.n {
            chat_chunk(
                c,
                out,
                choice,
                |b| b.extend_from_slice(b"{}"),
                Some(finish_reason(c)),
            );
        }
    }
    if c.include_usage {
        out.sse(None, |b| {
            if chat {
                chat_prefix(c, b, "chat.completion.chunk");
                b.extend_from_slice(b",\"choices\":[],\"usage\":");
                usage(c, b, c.total(), true);
            } else {
                b.extend_from_slice(b"{\"id\":");
                push_str(b, &c.id);
                b.extend_from_slice(b",\"object\":\"text_completion\",\"created\":");
                push_u64(b, c.created);
                b.extend_from_slice(b",\"model\":");
                push_str(b, &c.model);
                b.extend_from_slice(b",\"usage\":");
                usage(c, b, c.total(), false);
                b.extend_from_slice(b",\"choices\":[]");
            }
            b.push(b'}');
        });
    }
    if done_marker {
        out.sse_raw(b"[DONE]");
    }
}

/// Completions and chat: the in-stream error OpenAI sends (`data: {"error": ...}`).
pub(crate) fn stream_error(out: &mut Out) {
    out.sse(None, |b| {
        b.extend_from_slice(b"{\"error\":{\"message\":");
        push_str(b, SERVER_ERROR);
        b.extend_from_slice(b",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
    });
}

/// Completions: the whole JSON response.
pub(crate) fn completions_full(c: &Ctx) -> Vec<u8> {
    let mut b = Vec::with_capacity(super::json::capacity(256, c.total()));
    b.extend_from_slice(b"{\"id\":");
    push_str(&mut b, &c.id);
    b.extend_from_slice(b",\"object\":\"text_completion\",\"created\":");
    push_u64(&mut b, c.created);
    b.extend_from_slice(b",\"model\":");
    push_str(&mut b, &c.model);
    b.extend_from_slice(b",\"choices\":[");
    for choice in 0..c.n {
        if choice > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"text\":");
        push_str(&mut b, &c.text(choice));
        b.extend_from_slice(b",\"index\":");
        push_u64(&mut b, u64::from(choice));
        b.extend_from_slice(b",\"logprobs\":null,\"finish_reason\":");
        push_str(&mut b, finish_reason(c));
        b.push(b'}');
    }
    b.extend_from_slice(b"],\"usage\":");
    usage(c, &mut b, c.total(), false);
    b.push(b'}');
    b
}

/// Chat: the whole JSON response.
pub(crate) fn chat_full(c: &Ctx) -> Vec<u8> {
    let mut b = Vec::with_capacity(super::json::capacity(256, c.total()));
    b.extend_from_slice(b"{\"id\":");
    push_str(&mut b, &c.id);
    b.extend_from_slice(b",\"object\":\"chat.completion\",\"created\":");
    push_u64(&mut b, c.created);
    b.extend_from_slice(b",\"model\":");
    push_str(&mut b, &c.model);
    b.extend_from_slice(b",\"choices\":[");
    for choice in 0..c.n {
        if choice > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"index\":");
        push_u64(&mut b, u64::from(choice));
        b.extend_from_slice(b",\"message\":{\"role\":\"assistant\",");
        match &c.tool {
            None => {
                push_key(&mut b, "content");
                push_str(&mut b, &c.text(choice));
            }
            Some(name) => {
                b.extend_from_slice(b"\"content\":null,\"tool_calls\":[{\"id\":");
                push_str(&mut b, &call_id(c));
                b.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
                push_str(&mut b, name);
                b.extend_from_slice(b",\"arguments\":");
                push_str(&mut b, &c.tool_arguments());
                b.extend_from_slice(b"}}]");
            }
        }
        b.extend_from_slice(
            b",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":",
        );
        push_str(&mut b, finish_reason(c));
        b.push(b'}');
    }
    b.extend_from_slice(b"],\"usage\":");
    usage(c, &mut b, c.total(), true);
    b.extend_from_slice(b",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\"}");
    b
}
