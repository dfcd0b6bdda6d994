//! The mock server's framing against the real provider streams in the fixtures
//! (`SELTZER_FIXTURES`, else `../shared/fixtures`): per dialect, the sequence of event
//! types and top-level keys, the `data:` / `event:` prefixes and CRLF use match.

use std::path::PathBuf;

use jiter::JsonValue;

use super::client::post;
use super::tests::{server, stream_request};

fn fixtures_dir() -> PathBuf {
    std::env::var_os("SELTZER_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
        PathBuf::from,
    )
}

/// Keys that vary between real streams (or are the mock's own) and so are not compared.
const IGNORED_KEYS: [&str; 6] = [
    "obfuscation",
    "sequence_number",
    "logprobs",
    "context",
    "mock_sent_ns",
    "index",
];

/// The stream's shape: per event, its type and top-level keys; runs of equal shapes
/// collapsed to one.
fn shape(body: &[u8], ndjson: bool) -> Vec<String> {
    let mut shapes: Vec<String> = Vec::new();
    let mut push = |event: &str, data: &str| {
        let keys = match JsonValue::parse(data.as_bytes(), false) {
            Ok(JsonValue::Object(o)) => {
                let mut keys: Vec<String> = o
                    .iter()
                    .map(|(k, _)| k.to_string())
                    .filter(|k| !IGNORED_KEYS.contains(&k.as_str()))
                    .collect();
                keys.sort();
                let kind = o.iter().find(|(k, _)| k == "type").and_then(|(_, v)| {
                    if let JsonValue::Str(s) = v {
                        Some(s.to_string())
                    } else {
                        None
                    }
                });
                format!(
                    "{}{keys:?}",
                    kind.map(|k| format!("type={k} ")).unwrap_or_default()
                )
            }
            _ => data.to_owned(),
        };
        let s = format!("{event} {keys}");
        if shapes.last() != Some(&s) {
            shapes.push(s);
        }
    };
    if ndjson {
        for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            push("line", std::str::from_utf8(line).unwrap());
        }
    } else {
        let mut dec = crate::sse::SseDecoder::new(1 << 24);
        let mut events = Vec::new();
        dec.feed(body, |ev: &crate::sse::Event<'_>| {
            events.push((ev.event_type.to_owned(), ev.data.to_string()));
            Ok::<(), crate::sse::SseError>(())
        })
        .unwrap();
        for (event, data) in events {
            push(&event, &data);
        }
    }
    shapes
}

#[test]
fn framing_matches_the_provider_fixtures() {
    let dir = fixtures_dir();
    if !dir.exists() {
        eprintln!("no fixtures at {}: skipped", dir.display());
        return;
    }
    let server = server();
    let cases = [
        (
            "openai-completions",
            "openai-completions/gpt35-instruct-usage.sse",
        ),
        ("openai-chat", "openai-chat/gpt4o-mini-text-usage.sse"),
        ("openai-responses", "openai-responses/gpt4o-text.sse"),
        ("anthropic", "anthropic/sonnet4-text.sse"),
        ("gemini", "gemini/flash-text-crlf.sse"),
        ("tgi", "tgi/flan-t5-eos-special.sse"),
        ("ollama", "ollama/chat-llama3.ndjson"),
        ("ollama-generate", "ollama/generate-gemma3-japanese.ndjson"),
    ];
    for (dialect, fixture) in cases {
        let want = std::fs::read(dir.join(fixture)).unwrap();
        let (path, body) = stream_request(dialect, 12, 9);
        let got = post(server.addr(), &path, &[], &body).body;
        let ndjson = fixture.ends_with(".ndjson");
        assert_eq!(
            shape(&got, ndjson),
            shape(&want, ndjson),
            "{dialect} vs {fixture}"
        );
        // The same line layout: `event:` / `data:` prefix, and CRLF where the provider uses it.
        let first_line = |b: &[u8]| {
            b.iter()
                .position(|&c| c == b':')
                .map(|i| b[..=i.min(b.len())].to_vec())
        };
        if !ndjson {
            assert_eq!(first_line(&got), first_line(&want), "{dialect}");
            let crlf = |b: &[u8]| b.windows(4).any(|w| w == b"\r\n\r\n");
            assert_eq!(crlf(&got), crlf(&want), "{dialect}");
            assert_eq!(
                got.starts_with(b"data: ") || got.starts_with(b"event: "),
                want.starts_with(b"data: ") || want.starts_with(b"event: "),
                "{dialect}"
            );
        }
    }
}
