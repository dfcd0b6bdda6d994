//! Google Gemini `streamGenerateContent?alt=sse` (and Vertex AI): for each candidate,
//! each part of `content.parts` is a token (thought parts as reasoning, `functionCall`
//! parts as whole tool calls numbered across the stream); `finishReason` is the finish
//! reason and the terminal marker; `usageMetadata` is the usage; `{"error": ...}` raises.

use std::borrow::Cow;

use jiter::{Jiter, Peek};

use super::json::{enter_array, opt_bool, opt_str, opt_text, opt_u32, raw_value, read_error, Keys};
use super::{Batch, Stop, StreamState, Token, ToolCallDelta};

/// Every member name this dialect reads, at any depth.
const KEYS: Keys = Keys(&[
    "candidates",
    "usageMetadata",
    "error",
    "index",
    "finishReason",
    "content",
    "parts",
    "text",
    "thought",
    "functionCall",
    "id",
    "name",
    "args",
]);

/// Decodes one Gemini response chunk.
pub(super) fn parse<'a>(
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    if super::is_done_marker(payload) {
        return Ok(());
    }
    let mut j = Jiter::new(payload.as_bytes());
    let mut usage = None;
    let mut error = None;
    let mut key = KEYS.first(&mut j)?;
    while let Some(k) = key {
        match k {
            "candidates" => {
                let mut peek = enter_array(&mut j)?;
                while let Some(p) = peek {
                    if p == Peek::Object {
                        read_candidate(&mut j, payload, state, batch)?;
                    } else {
                        j.known_skip(p)?;
                    }
                    peek = j.array_step()?;
                }
            }
            "usageMetadata" => usage = raw_value(&mut j, payload)?,
            "error" => error = Some(read_error(&mut j, payload)?),
            _ => j.next_skip()?,
        }
        key = KEYS.next(&mut j)?;
    }
    j.finish()?;
    if let Some(error) = error.filter(|e| !e.is_empty()) {
        return Err(Stop::Stream(error.into_stream_error(true)));
    }
    batch.attach_usage(usage.map(Cow::Borrowed));
    Ok(())
}

/// Reads one candidate; its parts become tokens once its `index` is known.
fn read_candidate<'a>(
    j: &mut Jiter<'a>,
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    let mut parts = Batch::default();
    let mut index = None;
    let mut finish_reason = None;
    let mut key = KEYS.first(j)?;
    while let Some(k) = key {
        match k {
            "index" => index = opt_u32(j)?,
            "finishReason" => finish_reason = opt_text(j, payload)?,
            "content" => {
                let mut ckey = KEYS.enter(j)?;
                while let Some(ck) = ckey {
                    match ck {
                        "parts" => read_parts(j, payload, state, &mut parts)?,
                        _ => j.next_skip()?,
                    }
                    ckey = KEYS.next(j)?;
                }
            }
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    if finish_reason.is_some() {
        // Gemini sends no other terminal marker.
        state.done = true;
        if parts.is_empty() {
            parts.push(Token::default());
        }
        if let Some(last) = parts.last_mut() {
            last.finish_reason = finish_reason;
        }
    }
    let index = index.unwrap_or(0);
    parts.for_each(|mut token| {
        token.index = index;
        batch.push(token);
    });
    Ok(())
}

fn read_parts<'a>(
    j: &mut Jiter<'a>,
    payload: &'a str,
    state: &mut StreamState,
    parts: &mut Batch<'a>,
) -> Result<(), Stop> {
    let mut peek = enter_array(j)?;
    while let Some(p) = peek {
        if p == Peek::Object {
            parts.push(read_part(j, payload, state)?);
        } else {
            j.known_skip(p)?;
        }
        peek = j.array_step()?;
    }
    Ok(())
}

fn read_part<'a>(
    j: &mut Jiter<'a>,
    payload: &'a str,
    state: &mut StreamState,
) -> Result<Token<'a>, Stop> {
    let mut token = Token::default();
    let mut text = None;
    let mut thought = false;
    let mut key = KEYS.first(j)?;
    while let Some(k) = key {
        match k {
            "text" => text = opt_str(j, payload)?,
            "thought" => thought = opt_bool(j)?.unwrap_or(false),
            "functionCall" => {
                let mut call = ToolCallDelta {
                    index: state.calls,
                    ..ToolCallDelta::default()
                };
                state.calls = state.calls.saturating_add(1);
                let mut fkey = KEYS.enter(j)?;
                while let Some(fk) = fkey {
                    match fk {
                        "id" => call.id = opt_text(j, payload)?,
                        "name" => call.name = opt_text(j, payload)?,
                        // Raw JSON text of the args object: a valid serialization of it.
                        "args" => call.arguments = raw_value(j, payload)?.unwrap_or("{}").into(),
                        _ => j.next_skip()?,
                    }
                    fkey = KEYS.next(j)?;
                }
                if call.arguments.is_empty() {
                    call.arguments = Cow::Borrowed("{}");
                }
                token.tool_calls.push(call);
            }
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    if thought {
        token.set_reasoning(text);
    } else {
        token.text = text.unwrap_or_default();
    }
    Ok(token)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{decode_all, Seen};
    use super::super::Dialect;

    fn gemini(payloads: &[&str]) -> Seen {
        decode_all(&Dialect::Gemini, payloads)
    }

    #[test]
    fn parts_thoughts_finish_and_usage() {
        let seen = gemini(&[
            r#"{"candidates": [{"content": {"parts": [{"text": "plan", "thought": true}, {"text": "A"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 1}}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "B", "thoughtSignature": "sig"}]},"finishReason": "STOP"}],"usageMetadata": {"totalTokenCount": 9}}"#,
        ]);
        assert_eq!(seen.reasoning(0), "plan");
        assert_eq!(seen.text(0), "AB");
        assert_eq!(seen.finish(0), Some("STOP"));
        assert_eq!(seen.usage.as_deref(), Some(r#"{"totalTokenCount": 9}"#));
        assert!(seen.done);
    }

    #[test]
    fn function_calls_are_numbered_across_the_stream() {
        let seen = gemini(&[
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{"x":1}}}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"id":"c2","name":"b","args":{}}}]},"finishReason":"STOP"}]}"#,
        ]);
        assert_eq!(
            seen.calls,
            vec![
                (0, None, Some("a".into()), r#"{"x":1}"#.into()),
                (1, Some("c2".into()), Some("b".into()), "{}".into()),
            ]
        );
    }

    #[test]
    fn candidate_index_applies_to_its_parts() {
        let seen = gemini(&[
            r#"{"candidates":[{"content":{"parts":[{"text":"x"}]},"index":2,"finishReason":"MAX_TOKENS"}]}"#,
        ]);
        assert_eq!(seen.text(2), "x");
        assert_eq!(seen.finish(2), Some("MAX_TOKENS"));
    }

    #[test]
    fn error_payload_raises_with_status() {
        let seen = gemini(&[
            r#"{"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}"#,
        ]);
        assert_eq!(
            seen.stream_error,
            Some((
                Some("RESOURCE_EXHAUSTED".into()),
                "Resource exhausted".into()
            ))
        );
        let seen = gemini(&[r#"{"error": {"code": 500, "message": "oops"}}"#]);
        assert_eq!(seen.stream_error, Some((Some("500".into()), "oops".into())));
    }
}
