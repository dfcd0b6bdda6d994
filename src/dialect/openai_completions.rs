//! Legacy completions (`/v1/completions`): `choices[i].text` → text at
//! `choices[i].index`, `finish_reason`, top-level `usage` and `error`, `data: [DONE]`.
//! The chunk walk itself lives in `openai_chat`, shared with chat completions.

use super::openai_chat::{parse_chunk, Shape};
use super::{Batch, Stop, StreamState};

/// Decodes one completion chunk.
pub(super) fn parse<'a>(
    payload: &'a str,
    state: &mut StreamState,
    batch: &mut Batch<'a>,
) -> Result<(), Stop> {
    parse_chunk(payload, state, Shape::Completions, batch)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::decode_all;
    use super::super::Dialect;

    #[test]
    fn choice_text_and_finish_reason() {
        let seen = decode_all(
            &Dialect::OpenAiCompletions,
            &[
                r#"{"choices":[{"text":"Hel","index":0,"logprobs":{"tokens":["Hel"]},"finish_reason":null}]}"#,
                r#"{"choices":[{"text":"lo","index":0,"finish_reason":"length"}],"usage":null}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
                "[DONE]",
            ],
        );
        assert_eq!(seen.text(0), "Hello");
        assert_eq!(seen.finish(0), Some("length"));
        assert_eq!(seen.usage.as_deref(), Some(r#"{"prompt_tokens":1}"#));
        assert!(seen.done);
    }

    #[test]
    fn delta_is_not_read_for_completions() {
        let seen = decode_all(
            &Dialect::OpenAiCompletions,
            &[r#"{"choices":[{"delta":{"content":"x"}}]}"#],
        );
        assert_eq!(seen.tokens, 0);
    }

    #[test]
    fn error_payload_raises() {
        let seen = decode_all(
            &Dialect::OpenAiCompletions,
            &[r#"{"error":{"message":"bad","type":"server_error"}}"#],
        );
        assert_eq!(
            seen.stream_error,
            Some((Some("server_error".into()), "bad".into()))
        );
    }
}
