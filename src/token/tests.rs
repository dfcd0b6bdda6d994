//! Behaviour of [`TokenDecoder`] beyond the fixtures: error position and stickiness,
//! events after the terminal marker, framing bounds, NDJSON's last line, sink errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{DecodeFailure, TokenDecoder};
use crate::dialect::{Dialect, Token};

#[test]
fn decode_error_says_what_and_where() {
    let body = b"data: {\"choices\":[]}\n\ndata: [1, 2]\n\n";
    let mut decoder = TokenDecoder::new(Dialect::OpenAiChat, 1024);
    let err = decoder
        .feed(body, |_: &Token<'_>| Ok::<(), DecodeFailure>(()))
        .unwrap_err();
    let DecodeFailure::Decode(decode) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(decode.offset, 28);
    assert_eq!(decode.event_index, 2);
    assert_eq!(decode.snippet, "[1, 2]");
    assert_eq!(
        err.to_string(),
        "expected object but found array at byte 28 of event 2 (openai-chat): '[1, 2]'"
    );
    // The error sticks, for feed and flush alike.
    let again = decoder.feed(b"data: [DONE]\n\n", |_: &Token<'_>| {
        Ok::<(), DecodeFailure>(())
    });
    assert_eq!(again.unwrap_err(), err);
    let again = decoder.flush(|_: &Token<'_>| Ok::<(), DecodeFailure>(()));
    assert_eq!(again.unwrap_err(), err);
    assert!(!decoder.done());
}

#[test]
fn events_after_the_terminal_marker_are_ignored() {
    let body = b"data: [DONE]\n\ndata: not json at all\n\n";
    let mut decoder = TokenDecoder::new(Dialect::OpenAiChat, 1024);
    decoder
        .feed(body, |_: &Token<'_>| -> Result<(), DecodeFailure> {
            panic!("no tokens")
        })
        .unwrap();
    assert!(decoder.done());
    assert_eq!(decoder.events(), 2);
}

#[test]
fn oversized_event_is_an_sse_failure() {
    let mut decoder = TokenDecoder::new(Dialect::OpenAiChat, 16);
    let err = decoder
        .feed(b"data: 0123456789abcdefghij\n\n", |_: &Token<'_>| {
            Ok::<(), DecodeFailure>(())
        })
        .unwrap_err();
    assert!(matches!(err, DecodeFailure::Sse(_)), "{err:?}");
    let mut decoder = TokenDecoder::new(Dialect::Ollama, 16);
    let err = decoder
        .feed(b"{\"response\":\"0123456789\"}\n", |_: &Token<'_>| {
            Ok::<(), DecodeFailure>(())
        })
        .unwrap_err();
    assert!(matches!(err, DecodeFailure::Ndjson(_)), "{err:?}");
}

#[test]
fn ndjson_last_line_without_newline_is_decoded_at_flush() {
    let mut decoder = TokenDecoder::new(Dialect::Ollama, 1024);
    let mut text = String::new();
    let mut sink = |t: &Token<'_>| {
        text.push_str(&t.text);
        Ok::<(), DecodeFailure>(())
    };
    decoder
        .feed(
            b"{\"response\":\"a\"}\n{\"response\":\"b\",\"done\":true}",
            &mut sink,
        )
        .unwrap();
    assert!(!decoder.done());
    decoder.flush(&mut sink).unwrap();
    assert!(decoder.done());
    assert_eq!(text, "ab");
}

#[test]
fn sink_error_is_returned_and_decoder_stays_usable() {
    #[derive(Debug, PartialEq)]
    enum MyErr {
        Full,
        Decoder,
    }
    impl From<DecodeFailure> for MyErr {
        fn from(_: DecodeFailure) -> Self {
            Self::Decoder
        }
    }
    let mut decoder = TokenDecoder::new(Dialect::OpenAiChat, 1024);
    let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n";
    let got = decoder.feed(body, |_: &Token<'_>| Err(MyErr::Full));
    assert_eq!(got, Err(MyErr::Full));
    let mut seen = 0;
    decoder
        .feed(body, |_: &Token<'_>| {
            seen += 1;
            Ok::<(), MyErr>(())
        })
        .unwrap();
    assert_eq!(seen, 2);
}
