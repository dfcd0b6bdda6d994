//! Ollama's native API (`/api/generate`, `/api/chat`), one JSON object per NDJSON line:
//! `response` / `message.content` → text, `thinking` / `message.thinking` → reasoning,
//! `message.tool_calls` → whole tool calls, and the `"done": true` line → terminal
//! marker, `done_reason` and the timing/count usage subset. `{"error": "..."}` raises.
//! Line framing is `crate::ndjson`'s job.

use std::borrow::Cow;

use jiter::{Jiter, Peek};

use super::json::{enter_array, opt_bool, opt_str, opt_text, opt_u32, raw_value, read_error, Keys};
use super::{Batch, Stop, StreamState, Token, ToolCallDelta};

/// Every member name this dialect reads, at any depth.
const KEYS: Keys = Keys(&[
    "response",
    "thinking",
    "message",
    "done",
    "done_reason",
    "error",
    "content",
    "tool_calls",
    "id",
    "function",
    "index",
    "name",
    "arguments",
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
]);

/// The counters of the final line reported as usage, in this order.
const USAGE_KEYS: [&str; 6] = [
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
];

/// Decodes one Ollama NDJSON line.
pub(super) fn parse<'a>(
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    let mut j = Jiter::new(payload.as_bytes());
    let mut token = Token::at(0);
    let mut thinking = None;
    let mut done = false;
    let mut done_reason = None;
    let mut counters: [Option<&'a str>; USAGE_KEYS.len()] = [None; USAGE_KEYS.len()];
    let mut error = None;
    let mut key = KEYS.first(&mut j)?;
    while let Some(k) = key {
        if let Some(slot) = USAGE_KEYS.iter().position(|name| *name == k) {
            if let Some(counter) = counters.get_mut(slot) {
                *counter = raw_value(&mut j, payload)?;
            }
            key = KEYS.next(&mut j)?;
            continue;
        }
        match k {
            "response" => token.text = opt_str(&mut j, payload)?.unwrap_or_default(),
            "thinking" => thinking = opt_text(&mut j, payload)?,
            "message" => read_message(&mut j, payload, state, &mut token, &mut thinking)?,
            "done" => done = opt_bool(&mut j)?.unwrap_or(false),
            "done_reason" => done_reason = opt_text(&mut j, payload)?,
            "error" => error = Some(read_error(&mut j, payload)?),
            _ => j.next_skip()?,
        }
        key = KEYS.next(&mut j)?;
    }
    j.finish()?;
    if let Some(error) = error.filter(|e| !e.is_empty()) {
        return Err(Stop::Stream(error.into_stream_error(false)));
    }
    token.set_reasoning(thinking);
    if done {
        state.done = true;
        token.finish_reason = done_reason;
        token.usage = usage_subset(&counters).map(Cow::Owned);
    }
    batch.push(token);
    Ok(())
}

fn read_message<'a>(
    j: &mut Jiter<'a>,
    payload: &'a str,
    state: &mut StreamState,
    token: &mut Token<'a>,
    thinking: &mut Option<Cow<'a, str>>,
) -> Result<(), Stop> {
    let mut key = KEYS.enter(j)?;
    while let Some(k) = key {
        match k {
            "content" => token.text = opt_str(j, payload)?.unwrap_or_default(),
            "thinking" => *thinking = opt_text(j, payload)?,
            "tool_calls" => {
                let mut peek = enter_array(j)?;
                while let Some(p) = peek {
                    if p == Peek::Object {
                        let call = read_tool_call(j, payload, state)?;
                        token.tool_calls.push(call);
                    } else {
                        j.known_skip(p)?;
                    }
                    peek = j.array_step()?;
                }
            }
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    Ok(())
}

fn read_tool_call<'a>(
    j: &mut Jiter<'a>,
    payload: &'a str,
    state: &mut StreamState,
) -> Result<ToolCallDelta<'a>, Stop> {
    let mut call = ToolCallDelta::default();
    let mut index = None;
    let mut key = KEYS.first(j)?;
    while let Some(k) = key {
        match k {
            "id" => call.id = opt_text(j, payload)?,
            "function" => {
                let mut fkey = KEYS.enter(j)?;
                while let Some(fk) = fkey {
                    match fk {
                        "index" => index = opt_u32(j)?,
                        "name" => call.name = opt_text(j, payload)?,
                        // Raw JSON text of the arguments object: a valid serialization.
                        "arguments" => {
                            call.arguments = raw_value(j, payload)?.unwrap_or("{}").into();
                        }
                        _ => j.next_skip()?,
                    }
                    fkey = KEYS.next(j)?;
                }
            }
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    call.index = index.unwrap_or(state.calls);
    state.calls = state.calls.saturating_add(1);
    if call.arguments.is_empty() {
        call.arguments = Cow::Borrowed("{}");
    }
    Ok(call)
}

/// `{"total_duration": ..., ...}` with the counters present, or `None` when none are.
fn usage_subset(counters: &[Option<&str>; USAGE_KEYS.len()]) -> Option<String> {
    let mut out = String::new();
    for (name, value) in USAGE_KEYS.iter().zip(counters) {
        if let Some(value) = value {
            out.push(if out.is_empty() { '{' } else { ',' });
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
            out.push_str(value);
        }
    }
    if out.is_empty() {
        return None;
    }
    out.push('}');
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{decode_all, Seen};
    use super::super::Dialect;

    fn ollama(payloads: &[&str]) -> Seen {
        decode_all(&Dialect::Ollama, payloads)
    }

    #[test]
    fn chat_lines_and_done_line() {
        let seen = ollama(&[
            r#"{"model":"m","message":{"role":"assistant","content":"Hi","thinking":"hm"},"done":false}"#,
            r#"{"model":"m","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":10,"eval_count":2,"context":[1,2]}"#,
        ]);
        assert_eq!(seen.text(0), "Hi");
        assert_eq!(seen.reasoning(0), "hm");
        assert_eq!(seen.finish(0), Some("stop"));
        assert_eq!(
            seen.usage.as_deref(),
            Some(r#"{"total_duration":10,"eval_count":2}"#)
        );
        assert!(seen.done);
    }

    #[test]
    fn generate_response_and_thinking() {
        let seen = ollama(&[r#"{"response":"a","thinking":"t","done":false}"#]);
        assert_eq!(seen.text(0), "a");
        assert_eq!(seen.reasoning(0), "t");
        assert!(!seen.done);
    }

    #[test]
    fn tool_calls_use_function_index_or_position() {
        let seen = ollama(&[
            r#"{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"a","arguments":{"x":1}}},{"id":"c","function":{"index":5,"name":"b","arguments":{}}}]},"done":false}"#,
            r#"{"message":{"tool_calls":[{"function":{"name":"c"}}]},"done":false}"#,
        ]);
        assert_eq!(
            seen.calls,
            vec![
                (0, None, Some("a".into()), r#"{"x":1}"#.into()),
                (2, None, Some("c".into()), "{}".into()),
                (5, Some("c".into()), Some("b".into()), "{}".into()),
            ]
        );
    }

    #[test]
    fn error_line_raises_without_type() {
        let seen = ollama(&[r#"{"error":"model not found"}"#]);
        assert_eq!(seen.stream_error, Some((None, "model not found".into())));
    }
}
