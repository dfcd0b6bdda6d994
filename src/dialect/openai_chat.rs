//! Chat completions (`/v1/chat/completions`) from `OpenAI` and the servers compatible
//! with it (`DeepSeek`, Groq, `OpenRouter`, vLLM, ...): `choices[i].delta` → text, reasoning and
//! tool-call fragments; `finish_reason`; top-level `usage` and `error`; `data: [DONE]`.
//! The chunk walk is shared with `openai_completions`, which reads `choices[i].text`.
//!
//! This is the hot path: one pass of the first-tier `fast::openai` reader over the
//! payload (the generic fast `Scanner` when it gives up, then jiter's streaming parser),
//! values not needed skipped without being built, strings borrowed from the payload.

use jiter::{Jiter, Peek};

use super::fast;
use super::json::{enter_array, opt_str, opt_text, opt_u32, raw_value, read_error, Keys};
use super::read::JsonRead;
use super::scan::Scanner;
use super::{is_done_marker, Batch, Stop, StreamState, Token, ToolCallDelta};

/// Which chunk shape (chat or legacy completions) a choice has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// `choices[i].delta.{content, reasoning_content, reasoning, tool_calls}`.
    Chat,
    /// `choices[i].text`.
    Completions,
}

const TOP: Keys = Keys(&["choices", "usage", "error"]);
const CHOICE: Keys = Keys(&["index", "finish_reason", "delta", "text"]);
const DELTA: Keys = Keys(&["content", "reasoning_content", "reasoning", "tool_calls"]);
const CALL: Keys = Keys(&["index", "id", "function"]);
const FUNCTION: Keys = Keys(&["name", "arguments"]);

/// Decodes one chat-completion chunk.
pub(super) fn parse<'a>(
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    parse_chunk(payload, state, Shape::Chat, batch)
}

/// Decodes one chunk of either shape.
pub(super) fn parse_chunk<'a>(
    payload: &'a str,
    state: &mut StreamState,
    shape: Shape,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    if is_done_marker(payload) {
        state.done = true;
        return Ok(());
    }
    if fast::openai::read_chunk(payload, shape, batch, &mut state.resume).is_some() {
        return Ok(());
    }
    *batch = Batch::default();
    match read_chunk(&mut Scanner::new(payload), payload, shape, batch) {
        // The scanner gave up: jiter decides (and reports any error).
        Err(Stop::Json(_)) => {
            *batch = Batch::default();
            read_chunk(&mut Jiter::new(payload.as_bytes()), payload, shape, batch)
        }
        done => done,
    }
}

/// Reads one chunk with `j`, the fast scanner or jiter: both give the same tokens.
pub(super) fn read_chunk<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
    shape: Shape,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    let mut usage = None;
    let mut error = None;
    let mut key = TOP.first(j)?;
    while let Some(k) = key {
        match k {
            "choices" => read_choices(j, payload, shape, batch)?,
            "usage" => usage = raw_value(j, payload)?,
            "error" => error = Some(read_error(j, payload)?),
            _ => j.next_skip()?,
        }
        key = TOP.next(j)?;
    }
    j.finish()?;
    // Compatible servers put an `error` object beside (or instead of) choices.
    if let Some(error) = error.filter(|e| !e.is_empty()) {
        return Err(Stop::Stream(error.into_stream_error(false)));
    }
    batch.attach_usage(usage.map(Into::into));
    Ok(())
}

fn read_choices<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
    shape: Shape,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    let mut position = 0u32;
    let mut peek = enter_array(j)?;
    while let Some(p) = peek {
        if p == Peek::Object {
            batch.push(read_choice(j, payload, shape, position)?);
        } else {
            j.known_skip(p)?;
        }
        position = position.saturating_add(1);
        peek = j.array_step()?;
    }
    Ok(())
}

fn read_choice<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
    shape: Shape,
    position: u32,
) -> Result<Token<'a>, Stop> {
    let mut token = Token::at(position);
    let mut key = CHOICE.first(j)?;
    while let Some(k) = key {
        match k {
            "index" => token.index = opt_u32(j)?.unwrap_or(position),
            "finish_reason" => token.finish_reason = opt_str(j, payload)?,
            "delta" if shape == Shape::Chat => read_delta(j, payload, &mut token)?,
            "text" if shape == Shape::Completions => {
                token.text = opt_str(j, payload)?.unwrap_or_default();
            }
            _ => j.next_skip()?,
        }
        key = CHOICE.next(j)?;
    }
    Ok(token)
}

fn read_delta<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
    token: &mut Token<'a>,
) -> Result<(), Stop> {
    let mut reasoning_content = None;
    let mut reasoning = None;
    let mut key = DELTA.enter(j)?;
    while let Some(k) = key {
        match k {
            "content" => token.text = opt_str(j, payload)?.unwrap_or_default(),
            "reasoning_content" => reasoning_content = opt_text(j, payload)?,
            // Groq and `OpenRouter` name it `reasoning`.
            "reasoning" => reasoning = opt_text(j, payload)?,
            "tool_calls" => read_tool_calls(j, payload, &mut token.tool_calls)?,
            _ => j.next_skip()?,
        }
        key = DELTA.next(j)?;
    }
    token.set_reasoning(reasoning_content.or(reasoning));
    Ok(())
}

fn read_tool_calls<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
    calls: &mut Vec<ToolCallDelta<'a>>,
) -> Result<(), Stop> {
    let mut position = 0u32;
    let mut peek = enter_array(j)?;
    while let Some(p) = peek {
        if p == Peek::Object {
            let mut call = ToolCallDelta {
                index: position,
                ..ToolCallDelta::default()
            };
            let mut key = CALL.first(j)?;
            while let Some(k) = key {
                match k {
                    "index" => call.index = opt_u32(j)?.unwrap_or(position),
                    "id" => call.id = opt_text(j, payload)?,
                    "function" => {
                        let mut fkey = FUNCTION.enter(j)?;
                        while let Some(fk) = fkey {
                            match fk {
                                "name" => call.name = opt_text(j, payload)?,
                                "arguments" => {
                                    call.arguments = opt_str(j, payload)?.unwrap_or_default();
                                }
                                _ => j.next_skip()?,
                            }
                            fkey = FUNCTION.next(j)?;
                        }
                    }
                    _ => j.next_skip()?,
                }
                key = CALL.next(j)?;
            }
            calls.push(call);
        } else {
            j.known_skip(p)?;
        }
        position = position.saturating_add(1);
        peek = j.array_step()?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{decode_all, Seen};
    use super::super::Dialect;

    fn chat(payloads: &[&str]) -> Seen {
        decode_all(&Dialect::OpenAiChat, payloads)
    }

    #[test]
    fn content_delta_is_text_borrowed_from_payload() {
        let seen = chat(&[r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#]);
        assert_eq!(seen.text(0), "Hi");
        assert!(
            seen.borrowed_text,
            "unescaped text should borrow the payload"
        );
    }

    #[test]
    fn escaped_content_is_decoded() {
        let seen = chat(&[r#"{"choices":[{"delta":{"content":"a\n\u00e9\"b"}}]}"#]);
        assert_eq!(seen.text(0), "a\né\"b");
    }

    #[test]
    fn escaped_member_names_still_match() {
        let seen = chat(&[r#"{"ch\u006fices":[{"delta":{"cont\u0065nt":"x","\"":1}}]}"#]);
        assert_eq!(seen.text(0), "x");
    }

    #[test]
    fn role_only_and_empty_content_deltas_emit_nothing() {
        let seen = chat(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
        ]);
        assert_eq!(seen.tokens, 0);
    }

    #[test]
    fn reasoning_content_wins_over_reasoning() {
        let seen = chat(&[
            r#"{"choices":[{"delta":{"reasoning":"r1","reasoning_content":"rc"}}]}"#,
            r#"{"choices":[{"delta":{"reasoning":"r2"}}]}"#,
            r#"{"choices":[{"delta":{"reasoning_content":null,"reasoning":"r3"}}]}"#,
        ]);
        assert_eq!(seen.reasoning(0), "rcr2r3");
    }

    #[test]
    fn several_choices_emit_one_token_each() {
        let seen = chat(&[
            r#"{"choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a"}}]}"#,
        ]);
        assert_eq!(seen.tokens, 2);
        assert_eq!(seen.text(0), "a");
        assert_eq!(seen.text(1), "b");
    }

    #[test]
    fn tool_call_fragments_keep_their_index() {
        let seen = chat(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"c1","type":"function","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"a\":1}"}}]}}]}"#,
        ]);
        assert_eq!(
            seen.calls,
            vec![(1, Some("c1".into()), Some("f".into()), "{\"a\":1}".into())]
        );
    }

    #[test]
    fn usage_only_chunk_gives_raw_usage_at_index_0() {
        let seen = chat(&[r#"{"choices":[],"usage":{"prompt_tokens":1, "total_tokens":2}}"#]);
        assert_eq!(
            seen.usage.as_deref(),
            Some(r#"{"prompt_tokens":1, "total_tokens":2}"#)
        );
        assert_eq!(seen.tokens, 1);
    }

    #[test]
    fn error_object_wins_over_choices() {
        let seen = chat(&[
            r#"{"choices":[{"delta":{"content":"x"}}],"error":{"message":"m","type":null,"code":429}}"#,
        ]);
        assert_eq!(seen.tokens, 0);
        assert_eq!(seen.stream_error, Some((Some("429".into()), "m".into())));
    }

    #[test]
    fn done_marker_sets_done() {
        let seen = chat(&["[DONE]"]);
        assert!(seen.done);
        assert_eq!(seen.tokens, 0);
    }

    #[test]
    fn malformed_payload_is_a_decode_error() {
        let seen = chat(&[r#"{"choices":[{"delta":{"content":"x"}}"#]);
        let err = seen.decode_error.unwrap();
        assert_eq!(err.dialect, "openai-chat");
        assert!(err.kind.contains("EOF"), "{err}");
        let seen = chat(&["[1,2]"]);
        assert!(seen
            .decode_error
            .unwrap()
            .kind
            .starts_with("expected object"));
    }

    #[test]
    fn unexpected_field_types_are_skipped() {
        let seen = chat(&[
            r#"{"choices":[{"index":"x","delta":{"content":5,"tool_calls":{}}},null,7],"usage":[1]}"#,
        ]);
        assert_eq!(seen.text(0), "");
        assert_eq!(seen.usage.as_deref(), Some("[1]"));
    }
}
