//! Anthropic Messages API streams, read by the payload's `type` (it matches the `event:`
//! line): `content_block_delta` text / thinking / tool-input fragments at the block
//! index, `content_block_start` of a client `tool_use` block, `message_start` and
//! `message_delta` usage, `message_delta` stop reason, `message_stop` as the terminal
//! marker, `error` as an in-stream error. Which blocks are client tool calls is
//! remembered in the stream state: server-run blocks stream `input_json_delta` too.

use std::borrow::Cow;

use jiter::Jiter;

use super::fast;
use super::json::{opt_str, opt_text, opt_u32, raw_value, read_error, ErrorFields, Keys};
use super::read::JsonRead;
use super::scan::Scanner;
use super::{Batch, Stop, StreamState, Token, ToolCallDelta};

/// Every member name this dialect reads, at any depth.
const KEYS: Keys = Keys(&[
    "type",
    "index",
    "delta",
    "content_block",
    "message",
    "usage",
    "error",
    "text",
    "thinking",
    "partial_json",
    "stop_reason",
    "id",
    "name",
]);

/// The fields of one Messages event that any event type may need.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Fields<'a> {
    pub(super) type_: Option<Cow<'a, str>>,
    pub(super) index: Option<u32>,
    pub(super) delta_type: Option<Cow<'a, str>>,
    pub(super) delta_text: Option<Cow<'a, str>>,
    pub(super) delta_thinking: Option<Cow<'a, str>>,
    pub(super) delta_partial_json: Option<Cow<'a, str>>,
    pub(super) delta_stop_reason: Option<Cow<'a, str>>,
    pub(super) block_type: Option<Cow<'a, str>>,
    pub(super) block_id: Option<Cow<'a, str>>,
    pub(super) block_name: Option<Cow<'a, str>>,
    pub(super) block_text: Option<Cow<'a, str>>,
    pub(super) message_usage: Option<&'a str>,
    pub(super) usage: Option<&'a str>,
    pub(super) error: Option<ErrorFields<'a>>,
}

/// Decodes one Messages event.
pub(super) fn parse<'a>(
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    // Some gateways end Anthropic streams with an OpenAI-style marker; `message_stop` is
    // the real one.
    if super::is_done_marker(payload) {
        return Ok(());
    }
    if let Some((index, text)) = fast::anthropic::text_delta(payload, &state.resume) {
        batch.push_at(index).text = text;
        return Ok(());
    }
    let mut f = Fields::default();
    read_fields(payload, &mut f, &mut state.resume)?;
    let index = f.index.unwrap_or(0);
    match f.type_.as_deref().unwrap_or_default() {
        "content_block_delta" => match f.delta_type.as_deref().unwrap_or_default() {
            "text_delta" => batch.push_at(index).text = f.delta_text.unwrap_or_default(),
            "thinking_delta" => batch.push_at(index).set_reasoning(f.delta_thinking),
            "input_json_delta" if state.tool_blocks.contains(&index) => batch.push(Token {
                tool_calls: vec![ToolCallDelta {
                    index,
                    arguments: f.delta_partial_json.unwrap_or_default(),
                    ..ToolCallDelta::default()
                }],
                ..Token::at(index)
            }),
            _ => {}
        },
        "content_block_start" => match f.block_type.as_deref().unwrap_or_default() {
            "tool_use" => {
                if !state.tool_blocks.contains(&index) {
                    state.tool_blocks.push(index);
                }
                batch.push(Token {
                    tool_calls: vec![ToolCallDelta {
                        index,
                        id: f.block_id,
                        name: f.block_name,
                        arguments: Cow::Borrowed(""),
                    }],
                    ..Token::at(index)
                });
            }
            "text" => batch.push(Token {
                text: f.block_text.unwrap_or_default(),
                ..Token::at(index)
            }),
            _ => {}
        },
        "message_start" => batch.attach_usage(f.message_usage.map(Cow::Borrowed)),
        "message_delta" => batch.push(Token {
            finish_reason: f.delta_stop_reason,
            usage: f.usage.map(Cow::Borrowed),
            ..Token::at(0)
        }),
        "message_stop" => state.done = true,
        "error" => {
            return Err(Stop::Stream(
                f.error.unwrap_or_default().into_stream_error(false),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Reads the fields of one event into `f` (filled in place: the struct is large): the
/// first-tier reader's reading, else the fast scanner's, else jiter's.
fn read_fields<'a>(
    payload: &'a str,
    f: &mut Fields<'a>,
    resume: &mut fast::Resume,
) -> Result<(), Stop> {
    if fast::anthropic::read_fields(payload, f, resume).is_some() {
        return Ok(());
    }
    *f = Fields::default();
    match read_fields_with(&mut Scanner::new(payload), payload, f) {
        Err(Stop::Json(_)) => {
            *f = Fields::default();
            read_fields_with(&mut Jiter::new(payload.as_bytes()), payload, f)
        }
        done => done,
    }
}

/// Reads the fields of one event with `j`, the fast scanner or jiter.
pub(super) fn read_fields_with<'a>(
    j: &mut impl JsonRead,
    payload: &'a str,
    f: &mut Fields<'a>,
) -> Result<(), Stop> {
    let mut key = KEYS.first(j)?;
    while let Some(k) = key {
        match k {
            "type" => f.type_ = opt_str(j, payload)?,
            "index" => f.index = opt_u32(j)?,
            "delta" => read_delta(j, payload, f)?,
            "content_block" => read_block(j, payload, f)?,
            "message" => {
                let mut mkey = KEYS.enter(j)?;
                while let Some(mk) = mkey {
                    match mk {
                        "usage" => f.message_usage = raw_value(j, payload)?,
                        _ => j.next_skip()?,
                    }
                    mkey = KEYS.next(j)?;
                }
            }
            "usage" => f.usage = raw_value(j, payload)?,
            "error" => f.error = Some(read_error(j, payload)?),
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    j.finish()?;
    Ok(())
}

fn read_delta<'a>(j: &mut impl JsonRead, payload: &'a str, f: &mut Fields<'a>) -> Result<(), Stop> {
    let mut key = KEYS.enter(j)?;
    while let Some(k) = key {
        match k {
            "type" => f.delta_type = opt_str(j, payload)?,
            "text" => f.delta_text = opt_str(j, payload)?,
            "thinking" => f.delta_thinking = opt_str(j, payload)?,
            "partial_json" => f.delta_partial_json = opt_str(j, payload)?,
            "stop_reason" => f.delta_stop_reason = opt_str(j, payload)?,
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    Ok(())
}

fn read_block<'a>(j: &mut impl JsonRead, payload: &'a str, f: &mut Fields<'a>) -> Result<(), Stop> {
    let mut key = KEYS.enter(j)?;
    while let Some(k) = key {
        match k {
            "type" => f.block_type = opt_str(j, payload)?,
            "id" => f.block_id = opt_text(j, payload)?,
            "name" => f.block_name = opt_text(j, payload)?,
            "text" => f.block_text = opt_str(j, payload)?,
            _ => j.next_skip()?,
        }
        key = KEYS.next(j)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{decode_all, Seen};
    use super::super::Dialect;

    fn anthropic(payloads: &[&str]) -> Seen {
        decode_all(&Dialect::Anthropic, payloads)
    }

    #[test]
    fn text_thinking_usage_and_stop() {
        let seen = anthropic(&[
            r#"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"xyz"}}"#,
            r#"{"type": "ping"}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"#,
            r#"{"type":"message_stop"}"#,
        ]);
        assert_eq!(seen.reasoning(0), "hmm");
        assert_eq!(seen.text(1), "Hi");
        assert_eq!(seen.finish(0), Some("end_turn"));
        assert_eq!(seen.usage.as_deref(), Some(r#"{"output_tokens":9}"#));
        assert!(seen.done);
        assert_eq!(seen.tokens, 4);
    }

    #[test]
    fn server_tool_input_is_not_a_tool_call() {
        let seen = anthropic(&[
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"server_tool_use","id":"srv","name":"web_search","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":1}"}}"#,
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get","input":{}}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"2}"}}"#,
        ]);
        assert_eq!(
            seen.calls,
            vec![(
                2,
                Some("toolu_1".into()),
                Some("get".into()),
                "{\"a\":2}".into()
            )]
        );
    }

    #[test]
    fn error_event_raises() {
        let seen = anthropic(&[
            r#"{"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}}"#,
        ]);
        assert_eq!(
            seen.stream_error,
            Some((Some("overloaded_error".into()), "Overloaded".into()))
        );
    }
}
