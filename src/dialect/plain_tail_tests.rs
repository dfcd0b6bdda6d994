//! Differential tests for the plain-tail shortcut of the first-tier readers: streams
//! whose payloads repeat one envelope around varying texts, with envelope ends that do
//! and do not add to the reading (a repeated text member, an index, a finish reason,
//! usage, a second choice, another delta type). Every payload must read exactly as jiter
//! reads it alone, however often its envelope repeated before.

use jiter::Jiter;
use proptest::prelude::*;

use super::anthropic::{read_fields_with, Fields};
use super::fast::{self, Resume};
use super::fast_tests::{check_anthropic_after, check_chat_after};
use super::openai_chat::Shape;
use super::scan_tests::string;
use super::Batch;

const CHAT_HEAD: &str = r#"{"id":"chatcmpl-B9MBs8Cj","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"#;

/// Ends of a chat chunk after its text: plain ones and ones that add to the reading.
const CHAT_TAILS: &[&str] = &[
    r#"},"logprobs":null,"finish_reason":null}]}"#,
    r#"},"finish_reason":null}]}"#,
    r#","content":"again"},"finish_reason":null}]}"#,
    r#","content":null},"finish_reason":null}]}"#,
    r#"},"index":1,"finish_reason":null}]}"#,
    r#"},"logprobs":null,"finish_reason":"stop"}]}"#,
    r#"},"finish_reason":null}],"usage":{"total_tokens":3}}"#,
    r#"},"finish_reason":null},{"index":1,"delta":{"content":"b"}}]}"#,
    r#","reasoning_content":"r"}}]}"#,
    r#","tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]}"#,
];

const COMPLETIONS_HEAD: &str = r#"{"id":"cmpl-8Xy","object":"text_completion","created":1741569952,"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":"#;

/// Ends of a completion chunk after its text, as for chat.
const COMPLETIONS_TAILS: &[&str] = &[
    r#","logprobs":null,"finish_reason":null}]}"#,
    r#","finish_reason":null}]}"#,
    r#","text":"again","finish_reason":null}]}"#,
    r#","index":1,"finish_reason":null}]}"#,
    r#","finish_reason":"length"}]}"#,
    r#","finish_reason":null}],"usage":{"total_tokens":3}}"#,
    r#"},{"index":1,"text":"b"}]}"#,
];

const ANTHROPIC_HEAD: &str =
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"#;

/// Ends of an Anthropic event after its text, as for chat.
const ANTHROPIC_TAILS: &[&str] = &[
    "}}",
    "} }",
    r#","text":"again"}}"#,
    r#"},"index":2}"#,
    r#","type":"thinking_delta"}}"#,
    r#"},"type":"message_delta"}"#,
    r#","thinking":"t"}}"#,
    r#","stop_reason":"end_turn"}}"#,
];

/// A stream of `head + text + tail` payloads, tails picked from `tails`.
fn stream(head: &'static str, tails: &'static [&'static str]) -> BoxedStrategy<Vec<String>> {
    let event = (string(), prop::sample::select(tails));
    prop::collection::vec(event, 1..16)
        .prop_map(move |events| {
            events
                .into_iter()
                .map(|(text, tail)| format!("{head}{text}{tail}"))
                .collect()
        })
        .boxed()
}

/// Reads `payload` as the chat dialect does after the stream's earlier payloads.
fn chat_agrees(payload: &str, resume: &mut Resume) -> Result<(), TestCaseError> {
    check_chat_after(payload, Shape::Chat, resume).map(drop)
}

/// Reads `payload` as the Anthropic dialect does (the text-delta shortcut first).
fn anthropic_agrees(payload: &str, resume: &mut Resume) -> Result<(), TestCaseError> {
    let Some((index, text)) = fast::anthropic::text_delta(payload, resume) else {
        return check_anthropic_after(payload, resume).map(drop);
    };
    let mut slow = Fields::default();
    let slow_result = read_fields_with(&mut Jiter::new(payload.as_bytes()), payload, &mut slow);
    prop_assert_eq!(slow_result, Ok(()), "payload {:?}", payload);
    prop_assert_eq!(slow.type_.as_deref(), Some("content_block_delta"));
    prop_assert_eq!(slow.delta_type.as_deref(), Some("text_delta"));
    prop_assert_eq!(slow.index.unwrap_or(0), index, "payload {:?}", payload);
    prop_assert_eq!(
        slow.delta_text.unwrap_or_default(),
        text,
        "payload {:?}",
        payload
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn chat_payloads_read_alike_whatever_repeated_before(payloads in stream(CHAT_HEAD, CHAT_TAILS)) {
        let mut resume = Resume::default();
        for payload in &payloads {
            chat_agrees(payload, &mut resume)?;
        }
    }

    #[test]
    fn completion_payloads_read_alike_whatever_repeated_before(
        payloads in stream(COMPLETIONS_HEAD, COMPLETIONS_TAILS),
    ) {
        let mut resume = Resume::default();
        for payload in &payloads {
            check_chat_after(payload, Shape::Completions, &mut resume)?;
        }
    }

    #[test]
    fn anthropic_payloads_read_alike_whatever_repeated_before(
        payloads in stream(ANTHROPIC_HEAD, ANTHROPIC_TAILS),
    ) {
        let mut resume = Resume::default();
        for payload in &payloads {
            anthropic_agrees(payload, &mut resume)?;
        }
    }
}

#[test]
fn a_repeated_plain_tail_is_recognised_and_one_that_adds_is_not() {
    // Guards the proptests against vacuity: the shortcut is taken on plain repeats.
    let plain = |text: &str| format!("{CHAT_HEAD}\"{text}\"{}", CHAT_TAILS[0]);
    let mut resume = Resume::default();
    for text in ["a", "b", "c"] {
        chat_agrees(&plain(text), &mut resume).unwrap();
    }
    assert!(resume.is_plain_tail(CHAT_TAILS[0].as_bytes()));
    // A tail repeating the text member is never plain: its text wins every time.
    let again = |text: &str| format!("{CHAT_HEAD}\"{text}\"{}", CHAT_TAILS[2]);
    for text in ["x", "y", "z"] {
        let payload = again(text);
        let mut batch = Batch::default();
        fast::openai::read_chunk(&payload, Shape::Chat, &mut batch, &mut resume).unwrap();
        assert_eq!(batch.single().map(|t| t.text.as_ref()), Some("again"));
    }
    assert!(!resume.is_plain_tail(CHAT_TAILS[2].as_bytes()));

    let event = |text: &str| format!("{ANTHROPIC_HEAD}\"{text}\"}}}}");
    let mut resume = Resume::default();
    for text in ["a", "b"] {
        anthropic_agrees(&event(text), &mut resume).unwrap();
    }
    let third = event("c");
    let shortcut = fast::anthropic::text_delta(&third, &resume);
    assert_eq!(shortcut, Some((0, "c".into())));
}
