//! Tests for the SSE decoder: the WHATWG spec's examples, chunk-split edge cases,
//! regressions, and property tests against a plain whole-stream oracle.

use proptest::prelude::*;

use super::*;

/// An owned copy of an [`Event`] for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    event: String,
    data: String,
    id: Option<String>,
    retry: Option<u64>,
}

impl Owned {
    fn new(event: &str, data: &str, id: Option<&str>, retry: Option<u64>) -> Self {
        Self {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
            retry,
        }
    }
}

fn feed_chunks<'a>(
    decoder: &mut SseDecoder,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Owned>, SseError> {
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk, |ev: &Event<'_>| {
            out.push(Owned::new(ev.event_type, &ev.data, ev.id, ev.retry));
            Ok::<(), SseError>(())
        })?;
    }
    decoder.flush();
    Ok(out)
}

fn decode(input: &[u8]) -> Vec<Owned> {
    feed_chunks(&mut SseDecoder::default(), [input]).unwrap()
}

fn decode_split(input: &[u8], cuts: &[usize]) -> Vec<Owned> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        let cut = cut.clamp(start, input.len());
        pieces.push(&input[start..cut]);
        start = cut;
    }
    pieces.push(&input[start..]);
    feed_chunks(&mut SseDecoder::default(), pieces).unwrap()
}

fn msg(data: &str) -> Owned {
    Owned::new("message", data, None, None)
}

/// A plain oracle: decode the whole stream, split lines, apply the spec's steps.
fn oracle(input: &[u8]) -> Vec<Owned> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = String::from_utf8_lossy(input);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut current));
            }
            '\n' => lines.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    // The unterminated last line is discarded with the stream's end.
    let (mut data, mut event, mut id, mut retry) = (String::new(), String::new(), None, None);
    let mut has_data = false;
    let mut out = Vec::new();
    for line in lines {
        if line.is_empty() {
            if has_data {
                let ev = if event.is_empty() { "message" } else { &event };
                out.push(Owned::new(ev, &data, id.as_deref(), retry));
            }
            (data, event, retry, has_data) = (String::new(), String::new(), None, false);
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match name {
            "data" => {
                if has_data {
                    data.push('\n');
                }
                data.push_str(value);
                has_data = true;
            }
            "event" => event = value.to_string(),
            "id" if !value.contains('\0') => id = Some(value.to_string()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                retry = value.parse().ok().or(Some(u64::MAX));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn spec_example_stock_ticker_lines_join_with_lf() {
    let input = b"data: YHOO\ndata: +2\ndata: 10\n\n";
    assert_eq!(decode(input), [msg("YHOO\n+2\n10")]);
}

#[test]
fn spec_example_comment_and_ids() {
    let input = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
    assert_eq!(
        decode(input),
        [
            Owned::new("message", "first event", Some("1"), None),
            Owned::new("message", "second event", Some(""), None),
            Owned::new("message", " third event", Some(""), None),
        ]
    );
}

#[test]
fn spec_example_empty_data_lines() {
    let input = b"data\n\ndata\ndata\n\ndata:\n";
    // The last event is not terminated by a blank line and is discarded.
    assert_eq!(decode(input), [msg(""), msg("\n")]);
}

#[test]
fn spec_example_space_after_colon_is_optional() {
    assert_eq!(
        decode(b"data:test\n\ndata: test\n\n"),
        [msg("test"), msg("test")]
    );
}

#[test]
fn event_field_sets_type_for_one_event_only() {
    let input = b"event: add\ndata: 73857293\n\ndata: x\n\n";
    assert_eq!(
        decode(input),
        [Owned::new("add", "73857293", None, None), msg("x")]
    );
}

#[test]
fn event_without_data_is_not_dispatched_but_its_id_persists() {
    let input = b"event: ping\nid: 7\n\ndata: a\n\n";
    assert_eq!(decode(input), [Owned::new("message", "a", Some("7"), None)]);
}

#[test]
fn id_with_nul_is_ignored() {
    let input = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n";
    let events = decode(input);
    assert_eq!(events[1].id.as_deref(), Some("1"));
}

#[test]
fn retry_only_when_all_ascii_digits() {
    let mut decoder = SseDecoder::default();
    let events = feed_chunks(
        &mut decoder,
        [&b"retry: 1000\ndata: a\n\nretry: 12a\ndata: b\n\nretry: -5\nretry:\ndata: c\n\n"[..]],
    )
    .unwrap();
    assert_eq!(events[0].retry, Some(1000));
    assert_eq!(events[1].retry, None);
    assert_eq!(events[2].retry, None);
    assert_eq!(decoder.retry(), Some(1000));
}

#[test]
fn unknown_and_differently_cased_fields_are_ignored() {
    assert_eq!(
        decode(b"Data: x\nDATA: y\nfoo: z\ndata: ok\n\n"),
        [msg("ok")]
    );
}

#[test]
fn only_one_leading_space_is_stripped() {
    assert_eq!(decode(b"data:   x \n\n"), [msg("  x ")]);
    assert_eq!(decode(b"data:\tx\n\n"), [msg("\tx")]);
}

#[test]
fn one_trailing_lf_removed_from_data() {
    assert_eq!(decode(b"data: a\ndata:\n\n"), [msg("a\n")]);
}

#[test]
fn crlf_lf_and_lone_cr_all_end_lines() {
    let expected = [msg("a"), msg("b")];
    assert_eq!(decode(b"data: a\r\n\r\ndata: b\r\n\r\n"), expected);
    assert_eq!(decode(b"data: a\n\ndata: b\n\n"), expected);
    assert_eq!(decode(b"data: a\r\rdata: b\r\r"), expected);
    assert_eq!(decode(b"data: a\r\n\ndata: b\n\r\n"), expected);
}

#[test]
fn cr_at_chunk_end_joins_lf_in_next_chunk() {
    let input = b"data: a\r\n\r\ndata: b\r\n\r\n";
    for cut in 0..=input.len() {
        assert_eq!(
            decode_split(input, &[cut]),
            [msg("a"), msg("b")],
            "cut at {cut}"
        );
    }
}

#[test]
fn cr_at_chunk_end_dispatches_without_waiting() {
    let mut decoder = SseDecoder::default();
    let mut seen = Vec::new();
    decoder
        .feed(b"data: now\r\r", |ev: &Event<'_>| {
            seen.push(ev.data.to_string());
            Ok::<(), SseError>(())
        })
        .unwrap();
    assert_eq!(seen, ["now"]);
}

#[test]
fn bom_stripped_at_stream_start_only() {
    assert_eq!(decode(b"\xEF\xBB\xBFdata: a\n\n"), [msg("a")]);
    // A second BOM is part of the first line: a field name that is not `data`.
    assert_eq!(decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n"), []);
    assert_eq!(
        decode(b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"),
        [msg("a")],
        "a BOM later in the stream is not stripped"
    );
}

#[test]
fn regression_bom_split_across_chunks() {
    // A BOM arriving byte by byte must still be stripped, and a partial BOM that turns
    // out not to be one must be kept as data.
    let input = b"\xEF\xBB\xBFdata: a\n\n";
    for cut in 0..=input.len() {
        assert_eq!(decode_split(input, &[cut]), [msg("a")], "cut at {cut}");
    }
    assert_eq!(decode_split(b"\xEF\xBBdata: a\n\n", &[1]), []);
    assert_eq!(
        decode_split(b"\xEF\xBB\ndata: b\n\n", &[1, 2]),
        [msg("b")],
        "the held-back bytes form their own line"
    );
}

#[test]
fn invalid_utf8_becomes_replacement_character() {
    assert_eq!(decode(b"data: a\xFFb\n\n"), [msg("a\u{FFFD}b")]);
    assert_eq!(decode(b"event: \xC3\ndata: x\n\n")[0].event, "\u{FFFD}");
}

#[test]
fn utf8_character_split_across_chunks_decodes() {
    let input = "data: caf\u{e9} \u{1F600}\n\n".as_bytes();
    for cut in 0..=input.len() {
        assert_eq!(decode_split(input, &[cut]), [msg("caf\u{e9} \u{1F600}")]);
    }
}

#[test]
fn unterminated_event_discarded_at_end() {
    assert_eq!(decode(b"data: a\n\ndata: b\n"), [msg("a")]);
    assert_eq!(decode(b"data: a\n\ndata: b"), [msg("a")]);
}

#[test]
fn flush_keeps_last_event_id_and_restarts_framing() {
    let mut decoder = SseDecoder::default();
    let first = feed_chunks(&mut decoder, [&b"id: 9\ndata: a\n\ndata: lost"[..]]).unwrap();
    assert_eq!(first.len(), 1);
    let second = feed_chunks(&mut decoder, [&b"\xEF\xBB\xBFdata: b\n\n"[..]]).unwrap();
    assert_eq!(second, [Owned::new("message", "b", Some("9"), None)]);
}

#[test]
fn event_over_limit_fails_with_offsets() {
    let mut decoder = SseDecoder::new(16);
    let err = feed_chunks(
        &mut decoder,
        [&b"data: ok\n\ndata: 0123456789abcdef\n\n"[..]],
    )
    .unwrap_err();
    assert_eq!(
        err,
        SseError::EventTooLarge {
            limit: 16,
            event_offset: 10,
            offset: 26
        }
    );
    assert!(err.to_string().contains("max_event_bytes=16"));
}

#[test]
fn event_limit_counts_all_lines_of_the_event() {
    let mut decoder = SseDecoder::new(20);
    let input = b"data: 0123456\ndata: 0123456\n\n";
    let err = feed_chunks(&mut decoder, [&input[..]]).unwrap_err();
    assert_eq!(err.offset(), 14 + 7);
}

#[test]
fn event_limit_is_chunking_invariant_on_an_endless_line() {
    let line = [b'x'; 100];
    let whole = feed_chunks(&mut SseDecoder::new(50), [&line[..]]).unwrap_err();
    let mut decoder = SseDecoder::new(50);
    let pieces: Vec<&[u8]> = line.chunks(7).collect();
    let split = feed_chunks(&mut decoder, pieces).unwrap_err();
    assert_eq!(whole, split);
    assert_eq!(whole.offset(), 50);
}

#[test]
fn event_exactly_at_limit_passes() {
    let mut decoder = SseDecoder::new(8);
    assert_eq!(
        feed_chunks(&mut decoder, [&b"data: ab\n\n"[..]]).unwrap(),
        [msg("ab")]
    );
}

#[test]
fn data_borrowed_from_chunk_survives_into_next_chunk() {
    // The first data line is in chunk 1 (borrowed), the second in chunk 2.
    assert_eq!(decode_split(b"data: a\ndata: b\n\n", &[8]), [msg("a\nb")]);
}

#[test]
fn offsets_count_every_byte_fed() {
    let mut decoder = SseDecoder::default();
    let mut offsets = Vec::new();
    for chunk in [&b"\xEF\xBB\xBFdata: a\n\n"[..], b": c\ndata: bb\n\n"] {
        decoder
            .feed(chunk, |ev: &Event<'_>| {
                offsets.push(ev.data_offset);
                Ok::<(), SseError>(())
            })
            .unwrap();
    }
    assert_eq!(offsets, [9, 12 + 4 + 6]);
    assert_eq!(decoder.offset(), 12 + 14);
}

fn sse_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"event".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just("\u{e9}\u{1F600}".as_bytes().to_vec()),
        Just(b"\0".to_vec()),
        Just(b"123".to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_events(input in sse_like_bytes(), cuts in prop::collection::vec(0usize..200, 0..8)) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        prop_assert_eq!(decode_split(&input, &cuts), decode(&input));
    }

    #[test]
    fn matches_the_whole_stream_oracle(input in sse_like_bytes()) {
        prop_assert_eq!(decode(&input), oracle(&input));
    }

    #[test]
    fn byte_by_byte_matches_whole(input in sse_like_bytes()) {
        let pieces: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(feed_chunks(&mut SseDecoder::default(), pieces).unwrap(), decode(&input));
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..512), limit in 1usize..64, cut in 0usize..512) {
        let cut = cut.min(input.len());
        let mut decoder = SseDecoder::new(limit);
        let whole = feed_chunks(&mut SseDecoder::new(limit), [&input[..]]);
        let split = feed_chunks(&mut decoder, [&input[..cut], &input[cut..]]);
        prop_assert_eq!(whole, split);
    }
}

#[test]
fn regression_empty_event_field_means_message() {
    // Found by `matches_the_whole_stream_oracle` (proptest-regressions/sse/tests.txt):
    // `event:` with an empty value left the type empty; the spec dispatches "message"
    // whenever the event type buffer is empty.
    assert_eq!(decode(b"data\revent\r\r\n"), [msg("")]);
    assert_eq!(decode(b"event:\ndata: x\n\n"), [msg("x")]);
}
