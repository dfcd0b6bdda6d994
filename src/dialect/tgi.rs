//! Hugging Face text-generation-inference `/generate_stream`: `token.text` is the text
//! unless `token.special`; `details.finish_reason` the finish reason; a non-null
//! `generated_text` marks the last event; `{"error", "error_type"}` raises. The index is
//! always 0 (the payload's `index` numbers tokens, not choices).

use jiter::{Jiter, Peek};

use super::json::{opt_bool, opt_str, opt_text, read_error, Keys};
use super::{Batch, Stop, StreamState, Token};

/// Every member name this dialect reads, at any depth.
const KEYS: Keys = Keys(&[
    "token",
    "generated_text",
    "details",
    "error",
    "error_type",
    "text",
    "special",
    "finish_reason",
]);

/// Decodes one TGI stream event.
pub(super) fn parse<'a>(
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    if super::is_done_marker(payload) {
        return Ok(());
    }
    let mut j = Jiter::new(payload.as_bytes());
    let mut token = Token::at(0);
    let mut special = false;
    let mut text = None;
    let mut last = false;
    let mut error = None;
    let mut error_type = None;
    let mut key = KEYS.first(&mut j)?;
    while let Some(k) = key {
        match k {
            "token" => {
                let mut tkey = KEYS.enter(&mut j)?;
                while let Some(tk) = tkey {
                    match tk {
                        "text" => text = opt_str(&mut j, payload)?,
                        "special" => special = opt_bool(&mut j)?.unwrap_or(false),
                        _ => j.next_skip()?,
                    }
                    tkey = KEYS.next(&mut j)?;
                }
            }
            "generated_text" => {
                let peek = j.peek()?;
                last = peek != Peek::Null;
                j.known_skip(peek)?;
            }
            "details" => {
                let mut dkey = KEYS.enter(&mut j)?;
                while let Some(dk) = dkey {
                    match dk {
                        "finish_reason" => token.finish_reason = opt_text(&mut j, payload)?,
                        _ => j.next_skip()?,
                    }
                    dkey = KEYS.next(&mut j)?;
                }
            }
            "error" => error = Some(read_error(&mut j, payload)?),
            "error_type" => error_type = opt_str(&mut j, payload)?,
            _ => j.next_skip()?,
        }
        key = KEYS.next(&mut j)?;
    }
    j.finish()?;
    if let Some(error) = error.filter(|e| !e.is_empty()) {
        let mut stream_error = error.into_stream_error(false);
        if let Some(error_type) = error_type {
            stream_error.type_ = Some(error_type.into_owned());
        }
        return Err(Stop::Stream(stream_error));
    }
    if !special {
        token.text = text.unwrap_or_default();
    }
    if last {
        state.done = true;
    }
    batch.push(token);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::decode_all;
    use super::super::Dialect;

    #[test]
    fn special_tokens_and_generated_text_are_not_text() {
        let seen = decode_all(
            &Dialect::Tgi,
            &[
                r#"{"index":1,"token":{"id":1,"text":" Hi","logprob":-0.5,"special":false},"generated_text":null,"details":null}"#,
                r#"{"token":{"id":2,"text":"</s>","special":true},"generated_text":"Hi","details":{"finish_reason":"eos_token","generated_tokens":2}}"#,
                r#"{"token":{"id":3,"text":"late","special":false}}"#,
            ],
        );
        assert_eq!(seen.text(0), " Hi");
        assert_eq!(seen.finish(0), Some("eos_token"));
        assert!(seen.done);
        assert!(seen.usage.is_none());
    }

    #[test]
    fn error_event_raises_with_error_type() {
        let seen = decode_all(
            &Dialect::Tgi,
            &[r#"{"error":"Request failed during generation","error_type":"generation"}"#],
        );
        assert_eq!(
            seen.stream_error,
            Some((
                Some("generation".into()),
                "Request failed during generation".into()
            ))
        );
    }
}
