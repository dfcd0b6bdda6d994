//! Property tests for [`TokenDecoder`]: for every dialect, arbitrary bytes, fixture-like
//! event soup and mutated fixture bodies never panic, and any chunking yields exactly
//! the tokens and the error of feeding the same bytes whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use proptest::prelude::*;

use super::fixture_tests::{load_fixtures, Fixture};
use super::{DecodeFailure, TokenDecoder};
use crate::dialect::{Dialect, Token, DIALECT_NAMES};

/// An owned record of one token, every field included.
type Record = (
    String,
    u32,
    Option<String>,
    Option<String>,
    Vec<(u32, Option<String>, Option<String>, String)>,
    Option<String>,
    String,
    String,
);

fn record(t: &Token<'_>) -> Record {
    (
        t.text.to_string(),
        t.index,
        t.finish_reason.as_deref().map(Into::into),
        t.usage.as_deref().map(Into::into),
        t.tool_calls
            .iter()
            .map(|c| {
                (
                    c.index,
                    c.id.as_deref().map(Into::into),
                    c.name.as_deref().map(Into::into),
                    c.arguments.to_string(),
                )
            })
            .collect(),
        t.reasoning.as_deref().map(Into::into),
        t.event.to_owned(),
        t.payload.to_owned(),
    )
}

/// Everything a run produced: tokens, the failure that stopped it, `done`.
type Outcome = (Vec<Record>, Option<DecodeFailure>, bool);

fn decode(dialect: &Dialect, max: usize, chunks: &[&[u8]]) -> Outcome {
    let mut records = Vec::new();
    let mut decoder = TokenDecoder::new(dialect.clone(), max);
    let mut sink = |t: &Token<'_>| {
        records.push(record(t));
        Ok::<(), DecodeFailure>(())
    };
    let mut failure = None;
    for chunk in chunks {
        if let Err(err) = decoder.feed(chunk, &mut sink) {
            failure = Some(err);
            break;
        }
    }
    if failure.is_none() {
        failure = decoder.flush(&mut sink).err();
    }
    (records, failure, decoder.done())
}

fn split<'b>(body: &'b [u8], cuts: &[usize]) -> Vec<&'b [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&body[start..cut]);
        start = cut;
    }
    chunks.push(&body[start..]);
    chunks
}

fn dialects() -> Vec<Dialect> {
    DIALECT_NAMES
        .iter()
        .map(|name| Dialect::new(name, (*name == "json").then_some("/delta/text")).unwrap())
        .collect()
}

fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        load_fixtures()
            .into_iter()
            .filter(|f| f.body.len() < 40_000)
            .collect()
    })
}

/// Pieces of streams in every dialect's vocabulary, to glue into plausible soup.
const PIECES: &[&str] = &[
    "data: ",
    "data:",
    "event: error\n",
    "\n",
    "\r\n",
    "\r",
    ": comment\n",
    "[DONE]",
    r#"{"choices":[{"index":0,"delta":{"content":"a\u00e9\n","reasoning":"r"},"finish_reason":null}]}"#,
    r#"{"choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\""}}]}}]}"#,
    r#"{"choices":[{"text":"t","index":0,"finish_reason":"length"}],"usage":{"total_tokens":3}}"#,
    r#"{"error":{"message":"m","type":"t"}}"#,
    r#"{"type":"response.output_text.delta","output_index":0,"delta":"d"}"#,
    r#"{"type":"response.completed","response":{"status":"completed","usage":{"x":1}}}"#,
    r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"n"}}"#,
    r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#,
    r#"{"type":"message_stop"}"#,
    r#"{"candidates":[{"content":{"parts":[{"text":"g"},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}],"usageMetadata":{"a":1}}"#,
    r#"{"token":{"text":" w","special":false},"generated_text":null,"details":null}"#,
    r#"{"message":{"content":"o","tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":false}"#,
    r#"{"response":"","done":true,"done_reason":"stop","eval_count":2}"#,
    r#"{"delta":{"text":"j"}}"#,
    "{\"truncated\":",
    "\u{1F600}",
];

fn soup() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            6 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 0..4),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn check_any_split(body: &[u8], cuts: &[usize], small: bool) -> Result<(), TestCaseError> {
    let max = if small { 64 } else { 1 << 20 };
    for dialect in dialects() {
        let whole = decode(&dialect, max, &[body]);
        let pieces = split(body, cuts);
        prop_assert_eq!(
            &whole,
            &decode(&dialect, max, &pieces),
            "{}",
            dialect.name()
        );
        let bytewise: Vec<&[u8]> = body.chunks(1).collect();
        prop_assert_eq!(
            &whole,
            &decode(&dialect, max, &bytewise),
            "{}",
            dialect.name()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic_and_chunking_changes_nothing(
        body in proptest::collection::vec(any::<u8>(), 0..400),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        small in any::<bool>(),
    ) {
        check_any_split(&body, &cuts, small)?;
    }

    #[test]
    fn event_soup_never_panics_and_chunking_changes_nothing(
        body in soup(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        small in any::<bool>(),
    ) {
        check_any_split(&body, &cuts, small)?;
    }

    #[test]
    fn mutated_fixtures_never_panic_and_chunking_changes_nothing(
        which in any::<usize>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let fixtures = fixtures();
        let fixture = &fixtures[which % fixtures.len()];
        let mut body = fixture.body.clone();
        for (at, byte) in edits {
            let len = body.len().max(1);
            if let Some(b) = body.get_mut(at % len) {
                *b = byte;
            }
        }
        let whole = decode(&fixture.dialect, 1 << 20, &[&body]);
        prop_assert_eq!(&whole, &decode(&fixture.dialect, 1 << 20, &split(&body, &cuts)), "{}", fixture.name);
    }
}
