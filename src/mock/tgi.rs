//! Hugging Face text-generation-inference's `/generate_stream` wire format: one
//! `data:` event (no space, as TGI's server writes it) per token object with id, text,
//! logprob and special; `generated_text` on the last event (TGI's terminal marker) and
//! `details` there when the request asked; `{"error", "error_type"}` as its error.

use super::json::{push_str, push_u64};
use super::text::mix;
use super::wire::{Ctx, Out, Tok};

fn finish_reason(c: &Ctx) -> &'static str {
    if c.limited {
        "length"
    } else {
        "eos_token"
    }
}

fn details(c: &Ctx, b: &mut Vec<u8>) {
    b.extend_from_slice(b"{\"finish_reason\":");
    push_str(b, finish_reason(c));
    b.extend_from_slice(b",\"generated_tokens\":");
    push_u64(b, c.tokens);
    b.extend_from_slice(b",\"seed\":null,\"input_length\":");
    push_u64(b, c.prompt_tokens);
    b.push(b'}');
}

/// A token id and logprob derived from the text, so the same token always gets them.
fn token_id(text: &str) -> (u64, u64) {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (mix(h) % 50_000 + 3, mix(h ^ 1) % 3_000_000)
}

/// One token event; the last carries `generated_text` (null under `no-done`).
pub(crate) fn token(c: &Ctx, t: &Tok<'_>, out: &mut Out) {
    out.sse(None, |b| {
        let (id, logprob) = token_id(t.text);
        b.extend_from_slice(b"{\"index\":");
        push_u64(b, t.k + 1);
        b.extend_from_slice(b",\"token\":{\"id\":");
        push_u64(b, id);
        b.extend_from_slice(b",\"text\":");
        push_str(b, t.text);
        b.extend_from_slice(b",\"logprob\":-");
        push_u64(b, logprob / 1_000_000);
        b.push(b'.');
        b.extend_from_slice(format!("{:06}", logprob % 1_000_000).as_bytes());
        b.extend_from_slice(b",\"special\":false},\"generated_text\":");
        let last = t.last && t.done_marker;
        if last {
            push_str(b, &c.text(0));
        } else {
            b.extend_from_slice(b"null");
        }
        b.extend_from_slice(b",\"details\":");
        if last && c.details {
            details(c, b);
        } else {
            b.extend_from_slice(b"null");
        }
        b.push(b'}');
    });
}

/// The error event TGI sends when generation fails.
pub(crate) fn stream_error(out: &mut Out) {
    out.sse(None, |b| {
        b.extend_from_slice(
            b"{\"error\":\"Request failed during generation\",\"error_type\":\"generation\"}",
        );
    });
}

/// The whole response (as TGI's `/generate`).
pub(crate) fn full(c: &Ctx) -> Vec<u8> {
    let mut b = Vec::with_capacity(super::json::capacity(256, c.tokens));
    b.extend_from_slice(b"{\"generated_text\":");
    push_str(&mut b, &c.text(0));
    if c.details {
        b.extend_from_slice(b",\"details\":");
        details(c, &mut b);
    }
    b.push(b'}');
    b
}
