//! Differential tests for the first-tier readers in `fast`: on arbitrary payloads
//! (random JSON in every field, extra keys, whitespace, escapes, control bytes,
//! truncations, byte mutations) each either gives up or reads exactly what jiter reads.
//! Giving up is always safe (the dialect then takes the generic path), so the tests also
//! check that realistic payloads, and the provider fixtures, do take the fast path.

use std::path::{Path, PathBuf};

use jiter::Jiter;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::anthropic::{read_fields_with, Fields};
use super::fast::{self, Cursor, Resume};
use super::openai_chat::{read_chunk, Shape};
use super::scan_tests::{anthropic_payload, chat_payload, mutated, string, value, ws};
use super::Batch;

/// The first-tier chat reader gave up, or read what jiter reads (and jiter succeeded).
fn check_chat(payload: &str, shape: Shape) -> Result<bool, TestCaseError> {
    check_chat_after(payload, shape, &mut Resume::default())
}

/// [`check_chat`] for a payload of a stream whose earlier payloads left `resume`: also
/// fails when the first tier reads a payload that jiter rejects.
pub(super) fn check_chat_after(
    payload: &str,
    shape: Shape,
    resume: &mut Resume,
) -> Result<bool, TestCaseError> {
    let mut fast = Batch::default();
    if fast::openai::read_chunk(payload, shape, &mut fast, resume).is_none() {
        return Ok(false);
    }
    let mut slow = Batch::default();
    let slow_result = read_chunk(
        &mut Jiter::new(payload.as_bytes()),
        payload,
        shape,
        &mut slow,
    );
    prop_assert_eq!(slow_result, Ok(()), "payload {:?}", payload);
    prop_assert_eq!(fast, slow, "payload {:?}", payload);
    Ok(true)
}

fn check_anthropic(payload: &str) -> Result<bool, TestCaseError> {
    check_anthropic_after(payload, &mut Resume::default())
}

pub(super) fn check_anthropic_after(
    payload: &str,
    resume: &mut Resume,
) -> Result<bool, TestCaseError> {
    let mut fast = Fields::default();
    if fast::anthropic::read_fields(payload, &mut fast, resume).is_none() {
        return Ok(false);
    }
    let mut slow = Fields::default();
    let slow_result = read_fields_with(&mut Jiter::new(payload.as_bytes()), payload, &mut slow);
    prop_assert_eq!(slow_result, Ok(()), "payload {:?}", payload);
    prop_assert_eq!(fast, slow, "payload {:?}", payload);
    Ok(true)
}

/// Variants of one payload from `base`, each with a few bytes edited: a stream whose
/// payloads share prefixes of every length.
fn variants(base: BoxedStrategy<String>) -> BoxedStrategy<Vec<String>> {
    base.prop_flat_map(|p| prop::collection::vec(mutated(Just(p).boxed()), 1..6))
        .boxed()
}

/// `payload` cut at byte `at` (moved back to a char boundary).
fn truncated(payload: &str, at: prop::sample::Index) -> &str {
    let mut end = at.index(payload.len() + 1);
    while !payload.is_char_boundary(end) {
        end -= 1;
    }
    &payload[..end]
}

/// A chat chunk as `OpenAI` sends it, with a random text (escapes included).
fn realistic_chat() -> BoxedStrategy<String> {
    let finish = prop::sample::select(vec!["null", "\"stop\"", "\"length\""]);
    let usage = prop::sample::select(vec![
        "",
        r#","usage":null"#,
        r#","usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0}}"#,
    ]);
    (string(), finish, usage, 0..3u32)
        .prop_map(|(text, finish, usage, index)| {
            format!(
                r#"{{"id":"chatcmpl-AVPZexJ0frlpPaMIa2MsW9a99fA1z","object":"chat.completion.chunk","created":1732049838,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_3de1288069","choices":[{{"index":{index},"delta":{{"content":{text}}},"logprobs":null,"finish_reason":{finish}}}]{usage}}}"#
            )
        })
        .boxed()
}

/// An Anthropic text or thinking delta as the API sends it, padded like the fixtures.
fn realistic_anthropic() -> BoxedStrategy<String> {
    let kind = prop::sample::select(vec!["text", "thinking"]);
    (string(), kind, 0..3u32, ws())
        .prop_map(|(text, kind, index, pad)| {
            format!(
                r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"{kind}_delta","{kind}":{text}}}{pad}}}"#
            )
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn cursor_skips_any_value_exactly_like_jiter(text in mutated(value()), pad in ws()) {
        let payload = format!("{pad}{text}{pad}");
        let mut fast = Cursor::new(&payload);
        if fast.skip().is_some() {
            let mut slow = Jiter::new(payload.as_bytes());
            let slow_end = slow.next_skip().map(|()| slow.current_index());
            prop_assert_eq!(slow_end, Ok(fast.position()), "payload {:?}", payload);
            prop_assert_eq!(slow.finish().is_ok(), fast.at_end(), "payload {:?}", payload);
        }
    }

    #[test]
    fn cursor_reads_any_string_exactly_like_jiter(text in mutated(string())) {
        let mut fast = Cursor::new(&text);
        if let Some(Some(s)) = fast.opt_str() {
            let mut slow = Jiter::new(text.as_bytes());
            prop_assert_eq!(slow.next_str().map(str::to_owned), Ok(s.into_owned()), "{:?}", text);
            prop_assert_eq!(slow.current_index(), fast.position());
        }
    }

    #[test]
    fn chat_first_tier_agrees_with_jiter(payload in mutated(chat_payload())) {
        check_chat(&payload, Shape::Chat)?;
        check_chat(&payload, Shape::Completions)?;
    }

    #[test]
    fn anthropic_first_tier_agrees_with_jiter(payload in mutated(anthropic_payload())) {
        check_anthropic(&payload)?;
    }

    #[test]
    fn chat_resumed_reading_agrees_with_jiter(
        random in variants(chat_payload()),
        realistic in prop::collection::vec(mutated(realistic_chat()), 1..6),
    ) {
        for shape in [Shape::Chat, Shape::Completions] {
            for stream in [&random, &realistic] {
                let mut resume = Resume::default();
                for payload in stream {
                    check_chat_after(payload, shape, &mut resume)?;
                }
            }
        }
    }

    #[test]
    fn anthropic_resumed_reading_agrees_with_jiter(
        random in variants(anthropic_payload()),
        realistic in prop::collection::vec(mutated(realistic_anthropic()), 1..6),
    ) {
        for stream in [&random, &realistic] {
            let mut resume = Resume::default();
            for payload in stream {
                check_anthropic_after(payload, &mut resume)?;
            }
        }
    }

    #[test]
    fn truncated_payloads_give_up_or_agree(
        chat in mutated(realistic_chat()),
        anthropic in mutated(realistic_anthropic()),
        at in any::<prop::sample::Index>(),
    ) {
        check_chat(truncated(&chat, at), Shape::Chat)?;
        check_anthropic(truncated(&anthropic, at))?;
    }
}

/// Of `count` payloads drawn from `strategy` that jiter reads, how many `fast` reads.
fn fast_share(
    strategy: &BoxedStrategy<String>,
    valid: impl Fn(&str) -> bool,
    fast: impl Fn(&str) -> Result<bool, TestCaseError>,
) -> (usize, usize) {
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut taken) = (0, 0);
    for _ in 0..1000 {
        let payload = strategy.new_tree(&mut runner).unwrap().current();
        if valid(&payload) {
            ok += 1;
            taken += usize::from(fast(&payload).unwrap());
        }
    }
    (ok, taken)
}

fn chat_is_valid(payload: &str) -> bool {
    let mut batch = Batch::default();
    let mut j = Jiter::new(payload.as_bytes());
    read_chunk(&mut j, payload, Shape::Chat, &mut batch).is_ok()
}

fn anthropic_is_valid(payload: &str) -> bool {
    let mut fields = Fields::default();
    read_fields_with(&mut Jiter::new(payload.as_bytes()), payload, &mut fields).is_ok()
}

#[test]
fn random_payloads_mostly_take_the_first_tier() {
    // Guards the proptests against vacuity: a reader that always gave up would pass them.
    let (valid, fast) = fast_share(&chat_payload(), chat_is_valid, |p| {
        check_chat(p, Shape::Chat)
    });
    assert!(valid > 200, "only {valid} of 1000 chat payloads are valid");
    assert!(
        fast * 2 > valid,
        "chat: {fast} of {valid} took the first tier"
    );
    let (valid, fast) = fast_share(&anthropic_payload(), anthropic_is_valid, check_anthropic);
    assert!(
        valid > 200,
        "only {valid} of 1000 anthropic payloads are valid"
    );
    assert!(
        fast * 2 > valid,
        "anthropic: {fast} of {valid} took the first tier"
    );
}

#[test]
fn realistic_payloads_take_the_first_tier() {
    // Only lone surrogates, invalid escapes and control bytes in the text may give up.
    let (valid, fast) = fast_share(&realistic_chat(), chat_is_valid, |p| {
        check_chat(p, Shape::Chat)
    });
    assert!(fast == valid && valid > 500, "chat: {fast} of {valid}");
    let (valid, fast) = fast_share(&realistic_anthropic(), anthropic_is_valid, check_anthropic);
    assert!(fast == valid && valid > 500, "anthropic: {fast} of {valid}");
}

/// Where the fixtures are: `$SELTZER_FIXTURES`, else `../shared/fixtures`.
fn fixtures_dir() -> PathBuf {
    std::env::var_os("SELTZER_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
        PathBuf::from,
    )
}

/// The `data:` payloads of every `.sse` fixture of `family`, one list per fixture.
fn fixture_streams(family: &str) -> Vec<Vec<String>> {
    let dir = fixtures_dir().join(family);
    let mut streams = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sse") {
            let body = std::fs::read_to_string(&path).unwrap();
            let payloads = body
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|data| {
                    data.trim_start_matches(' ')
                        .trim_end_matches('\r')
                        .to_owned()
                });
            streams.push(payloads.collect());
        }
    }
    streams
}

#[test]
fn fixture_payloads_take_the_first_tier_and_agree() {
    let mut checked = 0;
    let mut resumed = 0;
    for family in ["openai-chat", "openai-completions"] {
        for stream in fixture_streams(family) {
            for shape in [Shape::Chat, Shape::Completions] {
                let mut resume = Resume::default();
                for payload in &stream {
                    // Markers, in-stream errors and cut-off events are the generic path's.
                    if payload == "[DONE]"
                        || payload.contains("\"error\"")
                        || !chat_is_valid(payload)
                    {
                        continue;
                    }
                    let tag = if shape == Shape::Chat { 1 } else { 2 };
                    let native = (shape == Shape::Chat) == (family == "openai-chat");
                    if native {
                        resumed += usize::from(resume.matches(payload, tag).is_some());
                        checked += 1;
                    }
                    assert!(
                        check_chat_after(payload, shape, &mut resume).unwrap(),
                        "{payload}"
                    );
                }
            }
        }
    }
    for stream in fixture_streams("anthropic") {
        let mut resume = Resume::default();
        for payload in &stream {
            if payload.contains("\"error\"") || !anthropic_is_valid(payload) {
                continue;
            }
            resumed += usize::from(resume.matches(payload, 3).is_some());
            assert!(
                check_anthropic_after(payload, &mut resume).unwrap(),
                "{payload}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} fixture payloads");
    assert!(resumed * 2 > checked, "only {resumed} of {checked} resumed");
}

#[test]
fn first_tier_gives_up_where_jiter_reports_an_error() {
    for payload in [
        r#"{"choices":[{"delta":{"content":"x"}}"#,
        r#"{"choices":[1,]}"#,
        r#"{"choices":01}"#,
        r#"{"usage":{"a":1,}}"#,
        r#"{"usage":[1 2]}"#,
        r#"{"usage":{"a" 1}}"#,
        r#"{"usage":-}"#,
        r#"{"usage":1.}"#,
        r#"{"usage":1e}"#,
        "{\"choices\":\"a\u{1}\"}",
        r#"{"choices":"\x"}"#,
        r#"{"choices":"\uD800"}"#,
        r#"{"choices":"\uDC00\uD800"}"#,
        r#"{"choices":"\u12"}"#,
        r#"{"choices":[]} x"#,
        r#"{"choices":[],}"#,
        "[1,2]",
        "",
    ] {
        let mut batch = Batch::default();
        let read =
            fast::openai::read_chunk(payload, Shape::Chat, &mut batch, &mut Resume::default());
        assert!(read.is_none(), "{payload}");
        assert!(!chat_is_valid(payload), "{payload}");
    }
}

#[test]
fn escaped_text_is_decoded_like_jiter() {
    let payload = r#"{"choices":[{"delta":{"content":"a\n\u00e9\"b \ud83d\ude00\/\t\\"}}]}"#;
    assert!(check_chat(payload, Shape::Chat).unwrap());
    let mut batch = Batch::default();
    fast::openai::read_chunk(payload, Shape::Chat, &mut batch, &mut Resume::default()).unwrap();
    let mut texts = Vec::new();
    batch.for_each(|t| texts.push(t.text.into_owned()));
    assert_eq!(texts, vec!["a\né\"b 😀/\t\\".to_owned()]);
}

#[test]
fn deep_nesting_gives_up_before_jiters_limit() {
    let payload = format!(r#"{{"usage":{}{}}}"#, "[".repeat(100), "]".repeat(100));
    let mut batch = Batch::default();
    let read = fast::openai::read_chunk(&payload, Shape::Chat, &mut batch, &mut Resume::default());
    assert!(read.is_none());
    assert!(chat_is_valid(&payload));
}

#[test]
fn regression_empty_container_closes_its_own_level() {
    // Found by `cursor_skips_any_value_exactly_like_jiter`: an empty array or object did
    // not pop its level, so `[]]` skipped as one value.
    for (payload, end) in [("[]]", Some(2)), ("{}}", Some(2)), ("[[],{}]", Some(7))] {
        let mut c = Cursor::new(payload);
        assert_eq!(c.skip().map(|()| c.position()), end, "{payload}");
    }
    // And `01` is no number (jiter: invalid number), not `0` followed by junk.
    assert_eq!(Cursor::new("01").skip(), None);
}
