//! The mock server's routes end to end over loopback: every route's stream decoded with
//! the crate's own `TokenDecoder` (text, token count, usage, terminal marker), `n`
//! choices, tool calls and whole JSON bodies; plus the request helpers the other test
//! files share. Connections and errors are in `server_tests.rs`, framing against the
//! fixtures in `fixture_tests.rs`, faults in `fault_tests.rs`, throughput in
//! `load_tests.rs`.

use jiter::JsonValue;

use super::client::{decode, post};
use super::*;

pub(super) fn server() -> MockServer {
    MockServer::start(MockConfig::default()).unwrap()
}

/// A streaming request per dialect: (dialect, path, body) asking for `tokens` tokens.
pub(super) fn stream_request(dialect: &str, tokens: u64, seed: u64) -> (String, String) {
    let (path, body) = match dialect {
        "openai-completions" => (
            "/v1/completions".to_owned(),
            format!(
                r#"{{"model":"m","prompt":"Write me a song","max_tokens":{tokens},"seed":{seed},"stream":true,"stream_options":{{"include_usage":true}}}}"#
            ),
        ),
        "openai-chat" => (
            "/v1/chat/completions".to_owned(),
            format!(
                r#"{{"model":"m","messages":[{{"role":"user","content":"Write me a song"}}],"max_tokens":{tokens},"seed":{seed},"stream":true,"stream_options":{{"include_usage":true}}}}"#
            ),
        ),
        "openai-responses" => (
            "/v1/responses".to_owned(),
            format!(
                r#"{{"model":"m","input":"Write me a song","max_output_tokens":{tokens},"seed":{seed},"stream":true}}"#
            ),
        ),
        "anthropic" => (
            "/v1/messages".to_owned(),
            format!(
                r#"{{"model":"m","messages":[{{"role":"user","content":"Write me a song"}}],"max_tokens":{tokens},"seed":{seed},"stream":true}}"#
            ),
        ),
        "gemini" => (
            "/v1beta/models/gemini-mock:streamGenerateContent?alt=sse".to_owned(),
            format!(
                r#"{{"contents":[{{"role":"user","parts":[{{"text":"Write me a song"}}]}}],"generationConfig":{{"maxOutputTokens":{tokens},"seed":{seed}}}}}"#
            ),
        ),
        "tgi" => (
            "/generate_stream".to_owned(),
            format!(
                r#"{{"inputs":"Write me a song","parameters":{{"max_new_tokens":{tokens},"seed":{seed},"details":true}}}}"#
            ),
        ),
        "ollama" => (
            "/api/chat".to_owned(),
            format!(
                r#"{{"model":"m","messages":[{{"role":"user","content":"Write me a song"}}],"options":{{"num_predict":{tokens},"seed":{seed}}}}}"#
            ),
        ),
        "ollama-generate" => (
            "/api/generate".to_owned(),
            format!(
                r#"{{"model":"m","prompt":"Write me a song","options":{{"num_predict":{tokens},"seed":{seed}}}}}"#
            ),
        ),
        _ => unreachable!(),
    };
    (path, body)
}

pub(super) const DIALECTS: [&str; 8] = [
    "openai-completions",
    "openai-chat",
    "openai-responses",
    "anthropic",
    "gemini",
    "tgi",
    "ollama",
    "ollama-generate",
];

pub(super) fn decoder_name(dialect: &str) -> &str {
    if dialect == "ollama-generate" {
        "ollama"
    } else {
        dialect
    }
}

#[test]
fn every_route_streams_the_seeded_text_with_true_usage_and_its_done_marker() {
    let server = server();
    for dialect in DIALECTS {
        let (path, body) = stream_request(dialect, 37, 42);
        let resp = post(server.addr(), &path, &[], &body);
        assert_eq!(resp.status, 200, "{dialect}");
        assert!(resp.complete, "{dialect}");
        let d = decode(decoder_name(dialect), &resp.chunks);
        assert!(d.error.is_none(), "{dialect}: {:?}", d.error);
        assert!(d.done, "{dialect}");
        assert_eq!(
            d.text.get(&0).map(String::as_str),
            Some(expected_text(42, 37, false).as_str()),
            "{dialect}"
        );
        assert_eq!(d.text_tokens, 37, "{dialect}");
        let usage = d.usage.unwrap_or_default();
        let want: &[&str] = match dialect {
            "openai-completions" | "openai-chat" => &[
                "\"prompt_tokens\":4",
                "\"completion_tokens\":37",
                "\"total_tokens\":41",
            ],
            "openai-responses" => &[
                "\"input_tokens\":4",
                "\"output_tokens\":37",
                "\"total_tokens\":41",
            ],
            "anthropic" => &["\"input_tokens\":4", "\"output_tokens\":37"],
            "gemini" => &[
                "\"promptTokenCount\": 4",
                "\"candidatesTokenCount\": 37",
                "\"totalTokenCount\": 41",
            ],
            "tgi" => &[],
            _ => &["\"prompt_eval_count\":4", "\"eval_count\":37"],
        };
        for w in want {
            assert!(usage.contains(w), "{dialect}: {usage} lacks {w}");
        }
        let finish = d.finish.get(&0).cloned().unwrap_or_default();
        assert!(
            ["length", "completed", "max_tokens", "MAX_TOKENS"].contains(&finish.as_str()),
            "{dialect}: {finish}"
        );
    }
    assert_eq!(server.stats().tokens, 37 * DIALECTS.len() as u64);
    assert_eq!(server.stats().requests, DIALECTS.len() as u64);
}

#[test]
fn same_request_same_text_and_seed_header_overrides() {
    let server = server();
    let (path, body) = stream_request("openai-chat", 50, 1);
    let a = decode(
        "openai-chat",
        &post(server.addr(), &path, &[], &body).chunks,
    );
    let b = decode(
        "openai-chat",
        &post(server.addr(), &path, &[], &body).chunks,
    );
    assert_eq!(a.text, b.text);
    let c = decode(
        "openai-chat",
        &post(
            server.addr(),
            &path,
            &[(HEADER_SEED, "2"), (HEADER_TOKENS, "9")],
            &body,
        )
        .chunks,
    );
    assert_eq!(c.text[&0], expected_text(2, 9, false));
    assert_eq!(c.finish[&0], "stop");
}

#[test]
fn unicode_text_when_asked() {
    let server = server();
    let (path, body) = stream_request("openai-chat", 400, 5);
    let d = decode(
        "openai-chat",
        &post(server.addr(), &path, &[(HEADER_UNICODE, "1")], &body).chunks,
    );
    assert_eq!(d.text[&0], expected_text(5, 400, true));
    assert!(!d.text[&0].is_ascii());
}

#[test]
fn n_choices_are_interleaved_with_their_own_seeds() {
    let server = server();
    for path in ["/v1/chat/completions", "/v1/completions"] {
        let body = r#"{"model":"m","prompt":"hi","messages":[],"n":3,"max_tokens":10,"seed":7,"stream":true,"stream_options":{"include_usage":true}}"#;
        let d = decode(
            if path.contains("chat") {
                "openai-chat"
            } else {
                "openai-completions"
            },
            &post(server.addr(), path, &[], body).chunks,
        );
        assert!(d.done);
        for i in 0..3 {
            assert_eq!(
                d.text[&i],
                expected_text(choice_seed(7, i), 10, false),
                "{path} choice {i}"
            );
            assert_eq!(d.finish[&i], "length");
        }
        assert!(d.usage.unwrap().contains("\"completion_tokens\":30"));
    }
}

#[test]
fn chat_with_tools_streams_tool_call_fragments() {
    let server = server();
    let body = r#"{"model":"m","messages":[{"role":"user","content":"weather?"}],"max_tokens":12,"seed":3,"stream":true,
                   "tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}]}"#;
    let d = decode(
        "openai-chat",
        &post(server.addr(), "/v1/chat/completions", &[], body).chunks,
    );
    assert!(d.done && d.error.is_none());
    assert_eq!(d.tool_names, vec!["get_weather".to_owned()]);
    assert_eq!(d.finish[&0], "tool_calls");
    let args = JsonValue::parse(d.tool_args.as_bytes(), false).unwrap();
    let JsonValue::Object(obj) = args else {
        panic!("{}", d.tool_args)
    };
    let JsonValue::Str(input) = &obj[0].1 else {
        panic!()
    };
    let mut gen = TextGen::new(3, false);
    let words: String = (0..12).map(|_| gen.next_token()).skip(1).take(10).collect();
    assert_eq!(input.as_ref(), words);
}

#[test]
fn non_stream_bodies_are_whole_json_with_the_same_text() {
    let server = server();
    let text = expected_text(11, 20, false);
    let cases = [
        (
            "/v1/completions",
            r#"{"prompt":"a b","max_tokens":20,"seed":11}"#,
            &["choices", "0", "text"][..],
        ),
        (
            "/v1/chat/completions",
            r#"{"messages":[],"max_tokens":20,"seed":11}"#,
            &["choices", "0", "message", "content"][..],
        ),
        (
            "/v1/responses",
            r#"{"input":"x","max_output_tokens":20,"seed":11}"#,
            &["output", "0", "content", "0", "text"][..],
        ),
        (
            "/v1/messages",
            r#"{"messages":[],"max_tokens":20,"seed":11}"#,
            &["content", "0", "text"][..],
        ),
        (
            "/v1beta/models/g:generateContent",
            r#"{"contents":[],"generationConfig":{"maxOutputTokens":20,"seed":11}}"#,
            &["candidates", "0", "content", "parts", "0", "text"][..],
        ),
        (
            "/api/generate",
            r#"{"prompt":"x","stream":false,"options":{"num_predict":20,"seed":11}}"#,
            &["response"][..],
        ),
        (
            "/api/chat",
            r#"{"messages":[],"stream":false,"options":{"num_predict":20,"seed":11}}"#,
            &["message", "content"][..],
        ),
    ];
    for (path, body, pointer) in cases {
        let resp = post(server.addr(), path, &[], body);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let value = JsonValue::parse(&resp.body, false).unwrap();
        let mut v = &value;
        for key in pointer {
            v = match v {
                JsonValue::Object(o) => &o.iter().find(|(k, _)| k == key).unwrap().1,
                JsonValue::Array(a) => &a[key.parse::<usize>().unwrap()],
                _ => panic!("{path}"),
            };
        }
        assert_eq!(v, &JsonValue::Str(text.clone().into()), "{path}");
    }
}
