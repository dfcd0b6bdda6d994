"""Every provider stream in ../shared/fixtures frames to the same events as openai's
and httpx-sse's decoders, fed whole and in random chunkings, except where those
decoders depart from the WHATWG rules (each such case is named below with why)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource as HttpxSseEventSource
from openai._streaming import SSEDecoder as OpenAIDecoder

import seltzer
from tests.conftest import chunked, fixture_cases

CASES = fixture_cases(".sse")

#: Streams where a peer departs from the WHATWG rules, with seltzer's (spec) result and
#: why the peer differs. None of the recorded fixtures hits these; they are spec edges.
SPEC_EDGES: list[tuple[str, bytes, list[tuple[str, str]], set[str], str]] = [
    (
        "event-without-data",
        b"event: ping\n\ndata: a\n\n",
        [("message", "a")],
        {"openai", "httpx-sse"},
        "both dispatch an event whose data buffer is empty; the spec resets it instead",
    ),
    (
        "leading-bom",
        b"\xef\xbb\xbfdata: a\n\n",
        [("message", "a")],
        {"openai", "httpx-sse"},
        "neither strips the stream's leading UTF-8 BOM, so the first field name is wrong",
    ),
    (
        "invalid-utf8",
        b"data: a\xffb\n\n",
        [("message", "a\ufffdb")],
        {"openai"},
        "openai decodes strictly and raises UnicodeDecodeError; the spec replaces with U+FFFD",
    ),
    (
        "lone-cr-line-ends",
        b"data: a\r\rdata: b\r\r",
        [("message", "a"), ("message", "b")],
        set(),
        "",
    ),
]


def seltzer_events(body: bytes, pieces: list[bytes] | None = None) -> list[tuple[str, str]]:
    return [(ev.event, ev.data) for ev in seltzer.iter_sse(pieces or [body])]


def openai_events(body: bytes) -> list[tuple[str, str]]:
    return [(ev.event or "message", ev.data) for ev in OpenAIDecoder().iter_bytes(iter([body]))]


def httpx_sse_events(body: bytes) -> list[tuple[str, str]]:
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    return [(ev.event, ev.data) for ev in HttpxSseEventSource(response).iter_sse()]


def test_fixtures_are_present() -> None:
    assert len(CASES) >= 25, "../shared/fixtures not found (set SELTZER_FIXTURES)"


@pytest.mark.parametrize(("path", "meta"), CASES)
def test_any_chunking_frames_the_same(path: Path, meta: dict[str, Any]) -> None:
    body = path.read_bytes()
    whole = seltzer_events(body)
    assert whole, "a fixture with no events"
    rng = random.Random(path.name)
    for _ in range(5):
        pieces = chunked(body, lambda _: rng.randint(1, 64))
        assert seltzer_events(body, pieces) == whole
    assert seltzer_events(body, chunked(body, lambda _: 1)) == whole


@pytest.mark.parametrize("peer", ["openai", "httpx-sse"])
@pytest.mark.parametrize(("path", "meta"), CASES)
def test_frames_like_peer_decoders(path: Path, meta: dict[str, Any], peer: str) -> None:
    body = path.read_bytes()
    case = f"{path.parent.name}/{path.stem}"
    theirs = peer_events(peer, body)
    assert seltzer_events(body) == theirs, case


def peer_events(peer: str, body: bytes) -> list[tuple[str, str]] | str:
    try:
        return openai_events(body) if peer == "openai" else httpx_sse_events(body)
    except Exception as exc:
        return repr(exc)


@pytest.mark.parametrize("peer", ["openai", "httpx-sse"])
@pytest.mark.parametrize(
    ("body", "spec", "deviates", "why"),
    [pytest.param(*case[1:], id=case[0]) for case in SPEC_EDGES],
)
def test_spec_edges_where_peers_deviate(
    peer: str, body: bytes, spec: list[tuple[str, str]], deviates: set[str], why: str
) -> None:
    assert seltzer_events(body) == spec
    if peer in deviates:
        assert peer_events(peer, body) != spec, f"{peer} now follows the spec: {why}"
    else:
        assert peer_events(peer, body) == spec
