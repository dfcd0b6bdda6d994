//! Faults and pacing end to end: status faults with `Retry-After`, each provider's error
//! event after exactly N tokens, drops (clean cut, mid-event, mid-UTF-8), stalls,
//! malformed and invalid-UTF-8 events, oversize events, the wrong content type, a
//! missing terminal marker, timestamps, time to first token and batching.

use std::time::Duration;

use super::client::{decode, post};
use super::tests::{decoder_name, server, stream_request, DIALECTS};
use super::*;
use crate::token::DecodeFailure;

#[test]
fn status_faults_answer_with_the_providers_error_and_retry_after() {
    let server = MockServer::start(MockConfig {
        retry_after_s: 7,
        ..MockConfig::default()
    })
    .unwrap();
    for (dialect, code, body_start) in [
        ("openai-chat", "429", "{\"error\":{\"message\":"),
        (
            "anthropic",
            "503",
            "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"",
        ),
        ("gemini", "429", "{\"error\":{\"code\":429,"),
        ("openai-responses", "500", "{\"error\":{\"message\":"),
    ] {
        let (path, body) = stream_request(dialect, 5, 0);
        let fault = format!("status:{code}");
        let resp = post(server.addr(), &path, &[(HEADER_FAULT, &fault)], &body);
        assert_eq!(resp.status.to_string(), code, "{dialect}");
        let text = String::from_utf8(resp.body.clone()).unwrap();
        assert!(text.starts_with(body_start), "{dialect}: {text}");
        let retry = resp.header("retry-after");
        assert_eq!(retry, (code != "500").then_some("7"), "{dialect}");
    }
    let (path, body) = stream_request("openai-chat", 5, 0);
    let resp = post(
        server.addr(),
        &path,
        &[(HEADER_FAULT, "status:429"), (HEADER_RETRY_AFTER, "2")],
        &body,
    );
    assert_eq!(resp.header("retry-after"), Some("2"));
}

#[test]
fn a_config_fault_applies_to_every_request_unless_one_says_none() {
    let server = MockServer::start(MockConfig {
        fault: Some(Fault::Status(503)),
        ..MockConfig::default()
    })
    .unwrap();
    let (path, body) = stream_request("openai-chat", 5, 0);
    assert_eq!(post(server.addr(), &path, &[], &body).status, 503);
    assert_eq!(
        post(server.addr(), &path, &[(HEADER_FAULT, "none")], &body).status,
        200
    );
}

#[test]
fn error_event_comes_after_exactly_n_tokens_in_every_dialect() {
    let server = server();
    for dialect in DIALECTS {
        for n in [0, 5] {
            let (path, body) = stream_request(dialect, 20, 3);
            let fault = format!("error-event@{n}");
            let resp = post(server.addr(), &path, &[(HEADER_FAULT, &fault)], &body);
            assert!(resp.complete, "{dialect}");
            let d = decode(decoder_name(dialect), &resp.chunks);
            assert!(
                matches!(d.error, Some(DecodeFailure::Stream(_))),
                "{dialect}: {:?}",
                d.error
            );
            assert_eq!(d.text_tokens, n, "{dialect}");
            assert_eq!(
                d.text.get(&0).cloned().unwrap_or_default(),
                expected_text(3, n as u64, false)
            );
            assert!(!d.done);
        }
    }
}

#[test]
fn drop_cuts_the_connection_after_exactly_n_tokens() {
    let server = server();
    for dialect in DIALECTS {
        let (path, body) = stream_request(dialect, 20, 4);
        let resp = post(server.addr(), &path, &[(HEADER_FAULT, "drop@6")], &body);
        assert!(!resp.complete, "{dialect}: no terminating chunk");
        let d = decode(decoder_name(dialect), &resp.chunks);
        assert!(d.error.is_none() && !d.done, "{dialect}");
        assert_eq!(d.text[&0], expected_text(4, 6, false), "{dialect}");
    }
    // The server's connection task ends just after the client sees the close.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while server.stats().open_connections > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.stats().open_connections, 0);
}

#[test]
fn drop_mid_cuts_inside_the_next_event_and_drop_utf8_inside_a_character() {
    let server = server();
    let (path, body) = stream_request("openai-chat", 20, 4);
    let resp = post(server.addr(), &path, &[(HEADER_FAULT, "drop-mid@3")], &body);
    assert!(!resp.complete);
    assert!(!resp.body.ends_with(b"\n\n"));
    let contents = resp
        .body
        .windows(10)
        .filter(|w| w == b"\"content\":")
        .count();
    assert!(
        (4..=5).contains(&contents),
        "role chunk, 3 tokens, maybe half of the 4th: {contents}"
    );
    let d = decode("openai-chat", &resp.chunks);
    assert_eq!(
        (d.text[&0].as_str(), d.done),
        (expected_text(4, 3, false).as_str(), false)
    );

    let resp = post(
        server.addr(),
        &path,
        &[(HEADER_FAULT, "drop-utf8@3")],
        &body,
    );
    assert!(!resp.complete);
    assert!(
        resp.body.ends_with(&[0xF0, 0x9F]),
        "{:?}",
        &resp.body[resp.body.len() - 4..]
    );
    assert!(std::str::from_utf8(&resp.body).is_err());
}

#[test]
fn stall_pauses_after_n_tokens_then_goes_on() {
    let server = server();
    let (path, body) = stream_request("openai-completions", 10, 4);
    let resp = post(
        server.addr(),
        &path,
        &[(HEADER_FAULT, "stall@4:300"), (HEADER_TIMESTAMPS, "1")],
        &body,
    );
    assert!(resp.complete);
    // Server send times, not arrival times: a loaded client may read late.
    let gap_ns = sent_ns(&resp.chunks[4].1) - sent_ns(&resp.chunks[3].1);
    assert!(gap_ns >= 290_000_000, "{gap_ns} ns");
    let before_ns = sent_ns(&resp.chunks[3].1) - sent_ns(&resp.chunks[0].1);
    assert!(before_ns < gap_ns, "{before_ns} vs {gap_ns}");
    let d = decode("openai-completions", &resp.chunks);
    assert_eq!(
        (d.text[&0].as_str(), d.done),
        (expected_text(4, 10, false).as_str(), true)
    );
}

#[test]
fn malformed_bad_utf8_and_oversize_hit_event_n() {
    let server = server();
    let (path, body) = stream_request("openai-completions", 10, 4);
    let d = decode(
        "openai-completions",
        &post(
            server.addr(),
            &path,
            &[(HEADER_FAULT, "malformed@3")],
            &body,
        )
        .chunks,
    );
    assert!(
        matches!(d.error, Some(DecodeFailure::Decode(_))),
        "{:?}",
        d.error
    );
    assert_eq!(d.text_tokens, 3);

    let resp = post(server.addr(), &path, &[(HEADER_FAULT, "bad-utf8@3")], &body);
    assert_eq!(
        resp.body.windows(2).filter(|w| w == &[0xFF, 0xFE]).count(),
        1
    );
    let d = decode("openai-completions", &resp.chunks);
    let mut gen = TextGen::new(4, false);
    let words: Vec<&str> = (0..10).map(|_| gen.next_token()).collect();
    let want = format!(
        "{}\u{FFFD}\u{FFFD}{}",
        words[..4].concat(),
        words[4..].concat()
    );
    assert_eq!((d.text[&0].as_str(), d.done), (want.as_str(), true));

    let resp = post(
        server.addr(),
        &path,
        &[(HEADER_FAULT, "oversize@2:100000")],
        &body,
    );
    let events: Vec<usize> = resp
        .body
        .split_inclusive(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|e| e.iter().map(|l| l.len()).sum())
        .collect();
    assert_eq!(events[2], 100_000, "{events:?}");
    let d = decode("openai-completions", &resp.chunks);
    assert_eq!(
        (d.text[&0].as_str(), d.done),
        (expected_text(4, 10, false).as_str(), true)
    );
}

#[test]
fn content_type_and_no_done_faults() {
    let server = server();
    let (path, body) = stream_request("anthropic", 10, 4);
    let resp = post(
        server.addr(),
        &path,
        &[(HEADER_FAULT, "content-type")],
        &body,
    );
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert!(resp.body.starts_with(b"event: message_start"));
    for dialect in DIALECTS {
        let (path, body) = stream_request(dialect, 10, 4);
        let resp = post(server.addr(), &path, &[(HEADER_FAULT, "no-done")], &body);
        assert!(resp.complete, "{dialect}");
        let d = decode(decoder_name(dialect), &resp.chunks);
        assert!(d.error.is_none() && !d.done, "{dialect}");
        assert_eq!(d.text[&0], expected_text(4, 10, false), "{dialect}");
    }
}

#[test]
fn timestamps_ttft_itl_and_batch() {
    let server = server();
    let (path, body) = stream_request("openai-chat", 5, 4);
    let resp = post(
        server.addr(),
        &path,
        &[
            (HEADER_TIMESTAMPS, "1"),
            (HEADER_TTFT_MS, "150"),
            (HEADER_ITL_MS, "20"),
        ],
        &body,
    );
    let text = String::from_utf8(resp.body.clone()).unwrap();
    assert_eq!(
        text.matches("\"mock_sent_ns\":").count(),
        5 + 1 + 1 + 1,
        "role, 5 tokens, finish, usage"
    );
    let first_token = resp.chunks[1].0 - resp.sent_at.unwrap();
    assert!(first_token >= Duration::from_millis(150), "{first_token:?}");
    // The pacing is checked on the server's own send times: arrival times on a loaded
    // machine can bunch up (several events in one read), send times cannot.
    let spread_ns = sent_ns(&resp.chunks[5].1) - sent_ns(&resp.chunks[1].1);
    assert!(
        spread_ns >= 79_000_000,
        "{spread_ns} ns for four intervals of 20 ms"
    );
    assert!(decode("openai-chat", &resp.chunks).done);

    let (path, body) = stream_request("openai-completions", 8, 4);
    let resp = post(server.addr(), &path, &[(HEADER_BATCH, "4")], &body);
    assert_eq!(
        resp.chunks.len(),
        2,
        "two writes of four events; the tail rides with the last"
    );
    assert_eq!(
        resp.chunks[0]
            .1
            .windows(6)
            .filter(|w| w == b"data: ")
            .count(),
        4
    );
    let resp = post(server.addr(), &path, &[], &body);
    assert_eq!(resp.chunks.len(), 8, "one event per chunk");
}

/// The server's send time stamped into an event (`x-mock-timestamps: 1`).
fn sent_ns(chunk: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(chunk);
    let key = "\"mock_sent_ns\":";
    let at = text.find(key).unwrap() + key.len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}
