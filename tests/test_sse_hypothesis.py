"""Property tests at the Python API: any bytes in any chunking only ever yield events
or raise a SeltzerError, and chunking never changes the outcome."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import seltzer

PIECES = st.sampled_from(
    [
        b"data",
        b"event",
        b"id",
        b"retry",
        b":",
        b" ",
        b"\r",
        b"\n",
        b"\r\n",
        b"\xef\xbb\xbf",
        "\u00e9\U0001f600".encode(),
        b"\x00",
        b"12",
        b"\xff",
        b"x",
    ]
)
STREAMS = st.lists(st.one_of(PIECES, st.binary(max_size=4)), max_size=60).map(b"".join)


def outcome(pieces: list[bytes], limit: int) -> tuple[list[seltzer.ServerSentEvent], str | None]:
    events: list[seltzer.ServerSentEvent] = []
    try:
        for ev in seltzer.iter_sse(pieces, max_event_bytes=limit):
            events.append(ev)
    except seltzer.SeltzerError as exc:
        return events, f"{type(exc).__name__}: {exc}"
    return events, None


@given(STREAMS, st.lists(st.integers(0, 300), max_size=10), st.integers(1, 64))
def test_chunking_never_changes_the_outcome(body: bytes, cuts: list[int], limit: int) -> None:
    bounds = sorted({min(c, len(body)) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *bounds], [*bounds, len(body)], strict=True)]
    assert outcome(pieces, limit) == outcome([body], limit)


@given(st.binary(max_size=2000), st.integers(1, 100))
def test_random_bytes_yield_events_or_seltzer_errors(body: bytes, size: int) -> None:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    events, _ = outcome(pieces, 512)
    for ev in events:
        assert isinstance(ev.data, str)
        assert isinstance(ev.event, str)
        assert ev.event
