//! Responses API streams (`/v1/responses`). The event type is the payload's `type` (the `event:`
//! line may be absent): text and reasoning deltas at `output_index`, function calls from
//! `response.output_item.added` plus `response.function_call_arguments.delta`,
//! `response.completed` / `response.incomplete` as the terminal marker with usage and
//! status, and `error` / `response.failed` as in-stream errors. `.done` events repeat
//! what was streamed and add nothing; a gateway's `data: [DONE]` is ignored.

use std::borrow::Cow;

use jiter::Jiter;

use super::json::{opt_str, opt_text, opt_u32, raw_value, read_error, ErrorFields, Keys};
use super::{is_done_marker, Batch, Stop, StreamState, Token, ToolCallDelta};

/// Every member name this dialect reads, at any depth.
const KEYS: Keys = Keys(&[
    "type",
    "output_index",
    "delta",
    "item",
    "response",
    "error",
    "code",
    "message",
    "call_id",
    "name",
    "status",
    "usage",
]);

/// The fields of one Responses event that any event type may need.
#[derive(Debug, Default)]
struct Fields<'a> {
    type_: Option<Cow<'a, str>>,
    output_index: Option<u32>,
    delta: Option<Cow<'a, str>>,
    item_type: Option<Cow<'a, str>>,
    item_call_id: Option<Cow<'a, str>>,
    item_name: Option<Cow<'a, str>>,
    status: Option<Cow<'a, str>>,
    usage: Option<&'a str>,
    response_error: Option<ErrorFields<'a>>,
    error: Option<ErrorFields<'a>>,
    code: Option<Cow<'a, str>>,
    message: Option<Cow<'a, str>>,
}

/// Decodes one Responses event.
pub(super) fn parse<'a>(
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    if is_done_marker(payload) {
        return Ok(());
    }
    let f = read_fields(payload)?;
    let index = f.output_index.unwrap_or(0);
    match f.type_.as_deref().unwrap_or_default() {
        "response.output_text.delta" => batch.push(Token {
            text: f.delta.unwrap_or_default(),
            ..Token::at(index)
        }),
        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
            let mut token = Token::at(index);
            token.set_reasoning(f.delta);
            batch.push(token);
        }
        "response.output_item.added" if f.item_type.as_deref() == Some("function_call") => {
            batch.push(Token {
                tool_calls: vec![ToolCallDelta {
                    index,
                    id: f.item_call_id,
                    name: f.item_name,
                    arguments: Cow::Borrowed(""),
                }],
                ..Token::at(index)
            });
        }
        "response.function_call_arguments.delta" => batch.push(Token {
            tool_calls: vec![ToolCallDelta {
                index,
                arguments: f.delta.unwrap_or_default(),
                ..ToolCallDelta::default()
            }],
            ..Token::at(index)
        }),
        "response.completed" | "response.incomplete" => {
            state.done = true;
            batch.push(Token {
                finish_reason: f.status,
                usage: f.usage.map(Cow::Borrowed),
                ..Token::at(0)
            });
        }
        "error" => {
            let error = match f.error.filter(|e| !e.is_empty()) {
                Some(nested) => nested.into_stream_error(false),
                None => ErrorFields {
                    code: f.code,
                    message: f.message,
                    ..ErrorFields::default()
                }
                .into_stream_error(false),
            };
            return Err(Stop::Stream(error));
        }
        "response.failed" => {
            let error = f.response_error.unwrap_or_default();
            return Err(Stop::Stream(error.into_stream_error(false)));
        }
        _ => {}
    }
    Ok(())
}

fn read_fields(payload: &str) -> Result<Fields<'_>, Stop> {
    let mut f = Fields::default();
    let mut j = Jiter::new(payload.as_bytes());
    let mut key = KEYS.first(&mut j)?;
    while let Some(k) = key {
        match k {
            "type" => f.type_ = opt_str(&mut j, payload)?,
            "output_index" => f.output_index = opt_u32(&mut j)?,
            "delta" => f.delta = opt_str(&mut j, payload)?,
            "item" => read_item(&mut j, payload, &mut f)?,
            "response" => read_response(&mut j, payload, &mut f)?,
            "error" => f.error = Some(read_error(&mut j, payload)?),
            "code" => f.code = opt_text(&mut j, payload)?,
            "message" => f.message = opt_str(&mut j, payload)?,
            _ => j.next_skip()?,
        }
        key = KEYS.next(&mut j)?;
    }
    j.finish()?;
    Ok(f)
}

fn read_item<'a>(j: &mut Jiter<'a>, payload: &'a str, f: &mut Fields<'a>) -> Result<(), Stop> {
    let mut key = KEYS.enter(j)?;
    while let Some(k) = key {
        match k {
            "type" => f.item_type = opt_str(j, payload)?,
            "call_id" => f.item_call_id = opt_text(j, payload)?,
            "name" => f.item_name = opt_text(j, payload)?,
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    Ok(())
}

fn read_response<'a>(j: &mut Jiter<'a>, payload: &'a str, f: &mut Fields<'a>) -> Result<(), Stop> {
    let mut key = KEYS.enter(j)?;
    while let Some(k) = key {
        match k {
            "status" => f.status = opt_text(j, payload)?,
            "usage" => f.usage = raw_value(j, payload)?,
            "error" => f.response_error = Some(read_error(j, payload)?),
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::decode_all;
    use super::super::Dialect;

    fn responses(payloads: &[&str]) -> super::super::tests::Seen {
        decode_all(&Dialect::OpenAiResponses, payloads)
    }

    #[test]
    fn text_and_reasoning_deltas_at_output_index() {
        let seen = responses(&[
            r#"{"type":"response.reasoning_summary_text.delta","output_index":0,"delta":"think"}"#,
            r#"{"delta":"Hi","output_index":1,"type":"response.output_text.delta"}"#,
            r#"{"type":"response.output_text.done","output_index":1,"text":"Hi"}"#,
            r#"{"type":"response.completed","response":{"status":"completed","usage":{"total_tokens":3}}}"#,
            r#"{"type":"response.output_text.delta","output_index":1,"delta":"late"}"#,
        ]);
        assert_eq!(seen.reasoning(0), "think");
        assert_eq!(seen.text(1), "Hi");
        assert_eq!(seen.finish(0), Some("completed"));
        assert_eq!(seen.usage.as_deref(), Some(r#"{"total_tokens":3}"#));
        assert!(seen.done);
        assert_eq!(seen.tokens, 3);
    }

    #[test]
    fn function_call_from_item_added_and_argument_deltas() {
        let seen = responses(&[
            r#"{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"call_1","name":"f","arguments":""}}"#,
            r#"{"type":"response.function_call_arguments.delta","output_index":1,"delta":"{\"a\""}"#,
            r#"{"type":"response.function_call_arguments.delta","output_index":1,"delta":":1}"}"#,
            r#"{"type":"response.output_item.added","output_index":2,"item":{"type":"message"}}"#,
        ]);
        assert_eq!(
            seen.calls,
            vec![(
                1,
                Some("call_1".into()),
                Some("f".into()),
                "{\"a\":1}".into()
            )]
        );
    }

    #[test]
    fn error_event_with_nested_or_flat_error() {
        let seen = responses(&[
            r#"{"type":"error","error":{"type":"insufficient_quota","code":"q","message":"m"}}"#,
        ]);
        assert_eq!(
            seen.stream_error,
            Some((Some("insufficient_quota".into()), "m".into()))
        );
        let seen =
            responses(&[r#"{"type":"error","code":"rate_limit","message":"slow","param":null}"#]);
        assert_eq!(
            seen.stream_error,
            Some((Some("rate_limit".into()), "slow".into()))
        );
    }

    #[test]
    fn response_failed_raises_with_response_error() {
        let seen = responses(&[
            r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}}"#,
        ]);
        assert_eq!(
            seen.stream_error,
            Some((Some("server_error".into()), "boom".into()))
        );
    }

    #[test]
    fn done_marker_is_ignored() {
        let seen = responses(&["[DONE]"]);
        assert!(!seen.done);
        assert!(seen.decode_error.is_none());
    }
}
