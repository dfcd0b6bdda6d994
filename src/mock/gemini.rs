//! Gemini's `streamGenerateContent?alt=sse` and `generateContent` wire formats:
//! `candidates[].content.parts[].text`, `finishReason` on the last chunk (Gemini's only
//! terminal marker), `usageMetadata` on every chunk, CRLF event separators and the
//! spaced JSON the real API sends.

use super::json::{push_str, push_u64};
use super::wire::{Ctx, Out, Tok};

fn finish_reason(c: &Ctx) -> &'static str {
    if c.limited {
        "MAX_TOKENS"
    } else {
        "STOP"
    }
}

/// `usageMetadata` after `candidates` tokens.
fn usage(c: &Ctx, b: &mut Vec<u8>, candidates: Option<u64>) {
    b.extend_from_slice(b"\"usageMetadata\": {\"promptTokenCount\": ");
    push_u64(b, c.prompt_tokens);
    if let Some(n) = candidates {
        b.extend_from_slice(b",\"candidatesTokenCount\": ");
        push_u64(b, n);
    }
    b.extend_from_slice(b",\"totalTokenCount\": ");
    push_u64(b, c.prompt_tokens + candidates.unwrap_or(0));
    b.extend_from_slice(b",\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": ");
    push_u64(b, c.prompt_tokens);
    b.extend_from_slice(b"}]");
    if let Some(n) = candidates {
        b.extend_from_slice(
            b",\"candidatesTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": ",
        );
        push_u64(b, n);
        b.extend_from_slice(b"}]");
    }
    b.push(b'}');
}

fn response(c: &Ctx, b: &mut Vec<u8>, text: &str, finish: Option<&str>, candidates: Option<u64>) {
    b.extend_from_slice(b"{\"candidates\": [{\"content\": {\"parts\": [{\"text\": ");
    push_str(b, text);
    b.extend_from_slice(b"}],\"role\": \"model\"}");
    if let Some(f) = finish {
        b.extend_from_slice(b",\"finishReason\": ");
        push_str(b, f);
    }
    b.extend_from_slice(b",\"index\": 0}],");
    usage(c, b, candidates);
    b.extend_from_slice(b",\"modelVersion\": ");
    push_str(b, &c.model);
    b.extend_from_slice(b",\"responseId\": ");
    push_str(b, &c.id);
    b.push(b'}');
}

/// One chunk; the last carries `finishReason` (left out under `no-done`) and the counts.
pub(crate) fn token(c: &Ctx, t: &Tok<'_>, out: &mut Out) {
    out.sse(None, |b| {
        let finish = (t.last && t.done_marker).then(|| finish_reason(c));
        let candidates = t.last.then_some(c.tokens);
        response(c, b, t.text, finish, candidates);
    });
}

/// The error object Gemini sends in a stream.
pub(crate) fn stream_error(out: &mut Out) {
    out.sse(None, |b| {
        b.extend_from_slice(
            b"{\"error\": {\"code\": 503,\"message\": \"The model is overloaded. Please try again later.\",\"status\": \"UNAVAILABLE\"}}",
        );
    });
}

/// The whole (`generateContent`) response.
pub(crate) fn full(c: &Ctx) -> Vec<u8> {
    let mut b = Vec::with_capacity(super::json::capacity(512, c.tokens));
    response(
        c,
        &mut b,
        &c.text(0),
        Some(finish_reason(c)),
        Some(c.tokens),
    );
    b
}
