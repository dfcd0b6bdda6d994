"""SSEDecoder and ServerSentEvent through the Python API: spec rules, limits, errors."""

from __future__ import annotations

import pickle

import pytest

import seltzer
from seltzer import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes, **kwargs: int) -> list[ServerSentEvent]:
    decoder = SSEDecoder(**kwargs)
    events = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.flush()


def decode_with(decoder: SSEDecoder, chunks: list[bytes]) -> list[ServerSentEvent]:
    return [ev for chunk in chunks for ev in decoder.feed(chunk)]


def test_spec_example_lines_join_with_lf() -> None:
    assert decode(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [ServerSentEvent(data="YHOO\n+2\n10")]


def test_event_id_and_retry_fields() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"event: add\nid: 42\nretry: 1500\ndata: x\n\ndata: y\n\n")
    assert events == [
        ServerSentEvent(event="add", data="x", id="42", retry=1500),
        ServerSentEvent(data="y", id="42"),
    ]
    assert decoder.last_event_id == "42"
    assert decoder.retry == 1500


def test_last_event_id_empty_until_seen() -> None:
    decoder = SSEDecoder()
    assert decoder.last_event_id == ""
    assert decoder.retry is None
    assert decoder.feed(b"data: a\n\n")[0].id is None


def test_event_without_data_is_not_dispatched() -> None:
    assert decode(b"event: ping\n\nid: 1\n\n: comment\n\n") == []


def test_cr_lf_and_crlf_line_ends_split_anywhere() -> None:
    body = b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"
    expected = [ServerSentEvent(data=x) for x in "abc"]
    for cut in range(len(body) + 1):
        assert decode(body[:cut], body[cut:]) == expected


def test_utf8_split_across_chunks_and_invalid_bytes() -> None:
    body = "data: caf\u00e9 \U0001f600\n\n".encode()
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == [
        ServerSentEvent(data="caf\u00e9 \U0001f600")
    ]
    assert decode(b"data: a\xffb\n\n")[0].data == "a\ufffdb"


def test_bom_stripped_once() -> None:
    assert decode(b"\xef", b"\xbb\xbfdata: a\n\n") == [ServerSentEvent(data="a")]


def test_feed_accepts_bytes_bytearray_memoryview() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(bytearray(b"data: a\n\n")) == [ServerSentEvent(data="a")]
    assert decoder.feed(memoryview(b"xxdata: b\n\n")[2:]) == [ServerSentEvent(data="b")]
    with pytest.raises(TypeError, match="expected bytes"):
        decoder.feed("data: c\n\n")  # type: ignore[arg-type]


def test_unterminated_event_discarded_at_flush() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [ServerSentEvent(data="a")]
    assert decoder.flush() == []


def test_event_over_limit_raises_sse_error_with_limit_and_offset() -> None:
    decoder = SSEDecoder(max_event_bytes=16)
    assert decoder.feed(b"data: ok\n\n") == [ServerSentEvent(data="ok")]
    with pytest.raises(
        seltzer.SSEError, match=r"byte 10 exceeds max_event_bytes=16 .*byte 26"
    ) as info:
        decoder.feed(b"data: 0123456789abcdef\n\n")
    assert info.value.offset == 26
    assert info.value.limit == 16


def test_events_before_an_error_are_returned_and_the_error_follows() -> None:
    decoder = SSEDecoder(max_event_bytes=16)
    assert decoder.feed(b"data: ok\n\ndata: 0123456789abcdef") == [ServerSentEvent(data="ok")]
    with pytest.raises(seltzer.SSEError):
        decoder.feed(b"\n\n")


def test_errors_are_sticky() -> None:
    decoder = SSEDecoder(max_event_bytes=4)
    with pytest.raises(seltzer.SSEError):
        decoder.feed(b"data: too long\n\n")
    with pytest.raises(seltzer.SSEError):
        decoder.feed(b"data: a\n\n")
    with pytest.raises(seltzer.SSEError):
        decoder.flush()


def test_endless_line_stays_bounded() -> None:
    decoder = SSEDecoder(max_event_bytes=1 << 20)
    piece = b"x" * 65536
    with pytest.raises(seltzer.SSEError) as info:
        decode_with(decoder, [piece] * 64)
    assert info.value.offset == 1 << 20


def test_max_event_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SSEDecoder(max_event_bytes=0)
    assert SSEDecoder().max_event_bytes == seltzer.DEFAULT_MAX_EVENT_BYTES == 16 * 1024 * 1024


def test_server_sent_event_defaults_repr_eq_hash() -> None:
    ev = ServerSentEvent()
    assert (ev.event, ev.data, ev.id, ev.retry) == ("message", "", None, None)
    a = ServerSentEvent(event="x", data="d\n", id="1", retry=5)
    assert repr(a) == "ServerSentEvent(event='x', data='d\\n', id='1', retry=5)"
    assert a == ServerSentEvent(event="x", data="d\n", id="1", retry=5)
    assert a != ServerSentEvent(event="x", data="d\n", id="2", retry=5)
    assert len({a, ServerSentEvent(event="x", data="d\n", id="1", retry=5)}) == 1
    assert (a == "x") is False


def test_server_sent_event_is_frozen() -> None:
    with pytest.raises(AttributeError):
        ServerSentEvent().data = "x"  # type: ignore[misc]


def test_json_parses_in_rust() -> None:
    ev = ServerSentEvent(
        data='{"a": [1, 2.5, null, true, "\\u00e9"], "big": 123456789012345678901234567890}'
    )
    assert ev.json() == {"a": [1, 2.5, None, True, "\u00e9"], "big": 123456789012345678901234567890}


def test_json_error_is_decode_error_with_offset_and_snippet() -> None:
    with pytest.raises(seltzer.DecodeError, match="byte 9") as info:
        ServerSentEvent(data='{"a": 1, }').json()
    assert info.value.offset == 9
    assert info.value.snippet == '{"a": 1, }'


def test_error_hierarchy() -> None:
    for cls in (
        seltzer.SSEError,
        seltzer.DecodeError,
        seltzer.APIStatusError,
        seltzer.StreamError,
        seltzer.StreamInterrupted,
        seltzer.APIConnectionError,
    ):
        assert issubclass(cls, seltzer.SeltzerError)
        assert cls.__module__ == "seltzer"
    assert issubclass(seltzer.APITimeoutError, seltzer.APIConnectionError)
    assert seltzer.StreamInterrupted("x").partial == ""
    assert seltzer.DecodeError("x").offset is None
    err = pickle.loads(pickle.dumps(seltzer.SSEError("boom")))
    assert str(err) == "boom"
