//! Ollama's native `/api/generate` and `/api/chat` wire formats: NDJSON
//! (`application/x-ndjson`), one object per token with `created_at`, then a `done` line
//! with `done_reason` and the eval counts and durations; `{"error": "..."}` as its error.

use std::time::{SystemTime, UNIX_EPOCH};

use super::json::{push_str, push_u64, rfc3339_nanos};
use super::wire::{Ctx, Out, Tok, Wire};

/// Nominal nanoseconds per generated token, for the reported durations.
const NS_PER_TOKEN: u64 = 12_000_000;

fn created_at(b: &mut Vec<u8>) {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    push_str(b, &rfc3339_nanos(ns));
}

/// `{"model":..,"created_at":..,` then the text as `response` or `message`.
fn line_head(c: &Ctx, b: &mut Vec<u8>, text: &str) {
    b.extend_from_slice(b"{\"model\":");
    push_str(b, &c.model);
    b.extend_from_slice(b",\"created_at\":");
    created_at(b);
    if c.wire == Wire::OllamaChat {
        b.extend_from_slice(b",\"message\":{\"role\":\"assistant\",\"content\":");
        push_str(b, text);
        b.push(b'}');
    } else {
        b.extend_from_slice(b",\"response\":");
        push_str(b, text);
    }
}

fn done_fields(c: &Ctx, b: &mut Vec<u8>) {
    b.extend_from_slice(b",\"done\":true,\"done_reason\":");
    push_str(b, if c.limited { "length" } else { "stop" });
    let eval = c.tokens * NS_PER_TOKEN;
    let prompt_eval = c.prompt_tokens * NS_PER_TOKEN / 4;
    let load = 1_000_000;
    b.extend_from_slice(b",\"total_duration\":");
    push_u64(b, load + prompt_eval + eval);
    b.extend_from_slice(b",\"load_duration\":");
    push_u64(b, load);
    b.extend_from_slice(b",\"prompt_eval_count\":");
    push_u64(b, c.prompt_tokens);
    b.extend_from_slice(b",\"prompt_eval_duration\":");
    push_u64(b, prompt_eval);
    b.extend_from_slice(b",\"eval_count\":");
    push_u64(b, c.tokens);
    b.extend_from_slice(b",\"eval_duration\":");
    push_u64(b, eval);
    b.push(b'}');
}

/// One token line.
pub(crate) fn token(c: &Ctx, t: &Tok<'_>, out: &mut Out) {
    out.line(|b| {
        line_head(c, b, t.text);
        b.extend_from_slice(b",\"done\":false}");
    });
}

/// The `done` line (left out under `no-done`).
pub(crate) fn tail(c: &Ctx, done_marker: bool, out: &mut Out) {
    if done_marker {
        out.line(|b| {
            line_head(c, b, "");
            done_fields(c, b);
        });
    }
}

/// The error line Ollama sends when generation fails.
pub(crate) fn stream_error(out: &mut Out) {
    out.line(|b| {
        b.extend_from_slice(b"{\"error\":\"an error was encountered while running the model\"}");
    });
}

/// The whole (`"stream": false`) response.
pub(crate) fn full(c: &Ctx) -> Vec<u8> {
    let mut b = Vec::with_capacity(super::json::capacity(256, c.tokens));
    line_head(c, &mut b, &c.text(0));
    done_fields(c, &mut b);
    b
}
