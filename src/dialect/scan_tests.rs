//! Differential tests for the fast [`Scanner`]: on arbitrary payloads (random JSON in
//! every field a dialect reads, extra keys, whitespace, escapes, byte mutations) it
//! either gives up or reads exactly what jiter reads. Giving up is always safe: the
//! dialects then decode with jiter, whose result and error are the reference.

use jiter::Jiter;
use proptest::prelude::*;

use super::anthropic::{read_fields_with, Fields};
use super::openai_chat::{read_chunk, Shape};
use super::read::JsonRead;
use super::scan::Scanner;
use super::{Batch, Stop};

/// JSON whitespace, mostly none.
pub(super) fn ws() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", "", " ", "\n", "\t ", "\r\n  "])
}

/// A string literal: plain text, UTF-8, valid and invalid escapes, raw control bytes.
pub(super) fn string() -> BoxedStrategy<String> {
    let piece = prop::sample::select(vec![
        "",
        "a",
        "Hi",
        " the",
        "é",
        "😀",
        "日本",
        r"\n",
        r#"\""#,
        r"\\",
        r"\/",
        r"\t",
        r"\u00e9",
        r"\uD83D\uDE00",
        r"\uD800",
        r"\uDC00x",
        r"\x",
        r"\u12",
        "\u{1}",
        "\t",
        "\u{7f}",
        "{",
        "}",
        ",",
        ":",
        "[",
        r#"\"}"#,
    ]);
    prop::collection::vec(piece, 0..5)
        .prop_map(|pieces| format!("\"{}\"", pieces.concat()))
        .boxed()
}

/// A scalar's JSON text, including some that are not valid JSON.
pub(super) fn scalar() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "7",
            "42",
            "-1",
            "-0",
            "4294967295",
            "4294967296",
            "1.5",
            "1e3",
            "1E+2",
            "-2.5e-3",
            "01",
            "1.",
            "-",
            "00",
            "12345678901234567890123",
            "NaN",
            "Infinity",
            "-Infinity",
            "true",
            "false",
            "null",
            "tru",
            "nul",
            "x",
            "",
        ])
        .prop_map(String::from),
        string(),
    ]
    .boxed()
}

/// `{...}` from `members` (key text, value text) with the given whitespace.
fn object(members: &[(String, String)], pad: &str) -> String {
    let inner: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{pad}{k}{pad}:{pad}{v}{pad}"))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Any JSON value (and some near misses), nested a few levels.
pub(super) fn value() -> BoxedStrategy<String> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..4), ws())
                    .prop_map(|(items, pad)| format!("[{pad}{}{pad}]", items.join(","))),
                (prop::collection::vec((string(), inner), 0..4), ws())
                    .prop_map(|(members, pad)| object(&members, pad)),
            ]
        })
        .boxed()
}

/// A member named `name` (sometimes with its name escaped) whose value is `v` or, now
/// and then, any value.
fn field(name: &'static str, v: BoxedStrategy<String>) -> BoxedStrategy<(String, String)> {
    let escaped = name.replacen('e', r"\u0065", 1);
    let key = prop_oneof![
        8 => Just(format!("\"{name}\"")),
        1 => Just(format!("\"{escaped}\"")),
    ];
    let v = prop_oneof![6 => v, 1 => value()];
    (key, v).boxed()
}

/// An object of some of `fields` (repeats allowed) and unknown members.
fn object_of(fields: Vec<BoxedStrategy<(String, String)>>) -> BoxedStrategy<String> {
    let mut all = fields;
    all.push(
        (
            prop::sample::select(vec!["\"id\"", "\"x\"", "\"\""]),
            value(),
        )
            .prop_map(|(k, v)| (k.to_owned(), v))
            .boxed(),
    );
    let member = proptest::strategy::Union::new(all);
    (prop::collection::vec(member, 0..6), ws())
        .prop_map(|(members, pad)| object(&members, pad))
        .boxed()
}

fn array_of(item: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (prop::collection::vec(item, 0..3), ws())
        .prop_map(|(items, pad)| format!("[{pad}{}{pad}]", items.join(&format!("{pad},"))))
        .boxed()
}

pub(super) fn chat_payload() -> BoxedStrategy<String> {
    let text = || string();
    let function = object_of(vec![field("name", text()), field("arguments", text())]);
    let call = object_of(vec![
        field("index", scalar()),
        field("id", text()),
        field("function", function),
    ]);
    let delta = object_of(vec![
        field("content", text()),
        field("reasoning_content", text()),
        field("reasoning", text()),
        field("tool_calls", array_of(call)),
    ]);
    let choice = object_of(vec![
        field("index", scalar()),
        field("finish_reason", text()),
        field("delta", delta),
        field("text", text()),
        field("logprobs", value()),
    ]);
    let error = object_of(vec![
        field("type", text()),
        field("code", scalar()),
        field("message", text()),
    ]);
    object_of(vec![
        field("choices", array_of(choice)),
        field("usage", value()),
        field("error", error),
    ])
}

pub(super) fn anthropic_payload() -> BoxedStrategy<String> {
    let text = || string();
    let kind = || {
        prop::sample::select(vec![
            "\"content_block_delta\"",
            "\"text_delta\"",
            "\"tool_use\"",
            "\"message_delta\"",
            "\"error\"",
        ])
        .prop_map(String::from)
        .boxed()
    };
    let delta = object_of(vec![
        field("type", kind()),
        field("text", text()),
        field("thinking", text()),
        field("partial_json", text()),
        field("stop_reason", text()),
    ]);
    let block = object_of(vec![
        field("type", kind()),
        field("id", text()),
        field("name", text()),
        field("text", text()),
    ]);
    let message = object_of(vec![field("usage", value())]);
    let error = object_of(vec![field("type", text()), field("message", text())]);
    object_of(vec![
        field("type", kind()),
        field("index", scalar()),
        field("delta", delta),
        field("content_block", block),
        field("message", message),
        field("usage", value()),
        field("error", error),
    ])
}

/// `payload` with up to three bytes replaced, inserted or removed (kept valid UTF-8).
pub(super) fn mutated(payload: BoxedStrategy<String>) -> BoxedStrategy<String> {
    let edit = (
        any::<prop::sample::Index>(),
        0..3u8,
        prop::sample::select(b"{}[]\",:\\ 0-.e\x01a".to_vec()),
    );
    (payload, prop::collection::vec(edit, 0..3))
        .prop_map(|(payload, edits)| {
            let mut bytes = payload.into_bytes();
            for (at, kind, byte) in edits {
                let i = at.index(bytes.len() + 1);
                match kind {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => {}
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .boxed()
}

/// The fast scanner gave up, or read what jiter reads.
fn check_chat(payload: &str, shape: Shape) -> Result<(), TestCaseError> {
    let mut fast = Batch::default();
    let fast_result = read_chunk(&mut Scanner::new(payload), payload, shape, &mut fast);
    let mut slow = Batch::default();
    let slow_result = read_chunk(
        &mut Jiter::new(payload.as_bytes()),
        payload,
        shape,
        &mut slow,
    );
    if !matches!(fast_result, Err(Stop::Json(_))) {
        prop_assert_eq!(fast_result, slow_result, "payload {:?}", payload);
        prop_assert_eq!(fast, slow, "payload {:?}", payload);
    }
    Ok(())
}

fn check_anthropic(payload: &str) -> Result<(), TestCaseError> {
    let mut fast = Fields::default();
    let fast_result = read_fields_with(&mut Scanner::new(payload), payload, &mut fast);
    let mut slow = Fields::default();
    let slow_result = read_fields_with(&mut Jiter::new(payload.as_bytes()), payload, &mut slow);
    if !matches!(fast_result, Err(Stop::Json(_))) {
        prop_assert_eq!(fast_result, slow_result, "payload {:?}", payload);
        prop_assert_eq!(fast, slow, "payload {:?}", payload);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn scanner_skips_any_value_exactly_like_jiter(text in mutated(value()), pad in ws()) {
        let payload = format!("{pad}{text}{pad}");
        let mut fast = Scanner::new(&payload);
        let fast_end = fast.next_skip().and_then(|()| fast.finish()).map(|()| fast.current_index());
        let mut slow = Jiter::new(payload.as_bytes());
        let slow_end = slow.next_skip().and_then(|()| slow.finish()).map(|()| slow.current_index());
        if let Ok(end) = fast_end {
            prop_assert_eq!(Ok(end), slow_end.map_err(drop), "payload {:?}", payload);
        }
    }

    #[test]
    fn chat_fast_path_agrees_with_jiter(payload in mutated(chat_payload())) {
        check_chat(&payload, Shape::Chat)?;
        check_chat(&payload, Shape::Completions)?;
    }

    #[test]
    fn anthropic_fast_path_agrees_with_jiter(payload in mutated(anthropic_payload())) {
        check_anthropic(&payload)?;
    }
}

#[test]
fn scanner_reads_typical_payloads_without_giving_up() {
    let chat = [
        r#"{"id":"c","object":"chat.completion.chunk","created":1732049838,"choices":[{"index":0,"delta":{"content":" heart"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a\n\u00e9\"b \ud83d\ude00"}}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":1,"cost":1.5e-3,"x":[true,false,{}]}}"#,
        r#" { "choices" : [ { "index" : 1 , "delta" : { "tool_calls" : [ { "index" : 0 , "function" : { "arguments" : "{\"a\":1}" } } ] } } ] } "#,
    ];
    for payload in chat {
        let mut batch = Batch::default();
        let read = read_chunk(&mut Scanner::new(payload), payload, Shape::Chat, &mut batch);
        assert_eq!(read, Ok(()), "{payload}");
    }
    let payload =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"The"}  }"#;
    let mut fields = Fields::default();
    let read = read_fields_with(&mut Scanner::new(payload), payload, &mut fields);
    assert_eq!(read, Ok(()));
}

#[test]
fn scanner_gives_up_where_jiter_reports_an_error() {
    for payload in [
        r#"{"choices":[{"delta":{"content":"x"}}"#,
        r#"{"choices":[1,]}"#,
        r#"{"choices":01}"#,
        "{\"choices\":\"a\u{1}\"}",
        r#"{"choices":"\x"}"#,
        r#"{"usage":{"a":1 "b":2}}"#,
        r#"{"choices":[]} x"#,
        "[1,2]",
    ] {
        let mut batch = Batch::default();
        let read = read_chunk(&mut Scanner::new(payload), payload, Shape::Chat, &mut batch);
        assert!(matches!(read, Err(Stop::Json(_))), "{payload}: {read:?}");
    }
}

#[test]
fn differential_payloads_mostly_take_the_fast_path() {
    // Guards the tests above against vacuity: a scanner that always gave up would pass.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = chat_payload();
    let mut fast = 0;
    let mut valid = 0;
    for _ in 0..1000 {
        let payload = strategy.new_tree(&mut runner).unwrap().current();
        let mut batch = Batch::default();
        if read_chunk(
            &mut Jiter::new(payload.as_bytes()),
            &payload,
            Shape::Chat,
            &mut batch,
        )
        .is_ok()
        {
            valid += 1;
            let mut batch = Batch::default();
            fast += usize::from(
                read_chunk(
                    &mut Scanner::new(&payload),
                    &payload,
                    Shape::Chat,
                    &mut batch,
                )
                .is_ok(),
            );
        }
    }
    assert!(
        valid > 200,
        "only {valid} of 1000 generated payloads are valid"
    );
    assert!(
        fast * 2 > valid,
        "fast path took only {fast} of {valid} valid payloads"
    );
}
