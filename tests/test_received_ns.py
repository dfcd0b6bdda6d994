"""``TokenChunk.received_ns``: over seltzer's transport each token carries the moment the
bytes completing its event were read off the socket (``time.perf_counter_ns()`` clock),
taken in Rust. The async transport (and the sync one with ``read_ahead=True``) reads as
soon as the response head is in, however late the consumer reads; the sync one by
default reads while its caller waits. Other byte sources leave it None."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import seltzer
import seltzer.mock
from seltzer.transport import AsyncHTTPTransport, HTTPTransport
from tests.clients import DONE, chat_event
from tests.compress import compressed_pieces
from tests.server import Conn, LoopbackServer

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
TOKENS = 6
ITL_MS = 40
#: How long the consumer waits before its first read: every token is in by then.
LATE_S = TOKENS * ITL_MS / 1000 + 0.4
PACED = {"x-mock-tokens": str(TOKENS), "x-mock-itl-ms": str(ITL_MS), "x-mock-ttft-ms": "0"}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with seltzer.mock.serve(tokens=TOKENS) as server:
        yield server.url + "/v1/chat/completions"


def _check_stamps(chunks: list[Any], sent_ns: int, first_read_ns: int) -> None:
    stamps = [c.received_ns for c in chunks]
    assert all(isinstance(s, int) for s in stamps), stamps
    assert stamps == sorted(stamps)
    assert sent_ns < stamps[0]
    # Every token was read off the socket before the consumer asked for the first one...
    assert stamps[-1] < first_read_ns
    # ...at the server's pace, not all at once when the consumer came.
    assert stamps[-1] - stamps[0] >= (TOKENS - 2) * ITL_MS * 1_000_000 // 2


def test_sync_tokens_carry_their_socket_arrival_when_read_ahead(url: str) -> None:
    with httpx.Client(transport=HTTPTransport(read_ahead=True)) as client:
        sent_ns = time.perf_counter_ns()
        with client.stream("POST", url, json=CHAT, headers=PACED) as response:
            time.sleep(LATE_S)
            first_read_ns = time.perf_counter_ns()
            chunks = [c for c in seltzer.iter_tokens(response, "openai-chat") if c.text]
    assert len(chunks) == TOKENS
    _check_stamps(chunks, sent_ns, first_read_ns)


def test_sync_tokens_read_by_their_caller_carry_the_read(url: str) -> None:
    """By default the sync transport reads the socket while its caller waits: tokens
    that came while it was away are read, and stamped, when it asks (those already in
    when the response head was, during the wait for it); tokens it waits for are stamped
    as they arrive, at the server's pace."""
    with httpx.Client(transport=HTTPTransport()) as client:
        with client.stream("POST", url, json=CHAT, headers=PACED) as response:
            head_ns = time.perf_counter_ns()
            time.sleep(LATE_S)
            first_read_ns = time.perf_counter_ns()
            late = [c for c in seltzer.iter_tokens(response, "openai-chat") if c.text]
        with client.stream("POST", url, json=CHAT, headers=PACED) as response:
            prompt = [c for c in seltzer.iter_tokens(response, "openai-chat") if c.text]
    assert len(late) == len(prompt) == TOKENS
    late_stamps = [c.received_ns for c in late]
    assert all(isinstance(s, int) for s in late_stamps), late_stamps
    # None read while the caller slept; most (all but those sent with the head) after.
    assert all(s <= head_ns or s >= first_read_ns for s in late_stamps), late_stamps
    assert sum(s >= first_read_ns for s in late_stamps) >= TOKENS - 2, late_stamps
    assert late_stamps == sorted(late_stamps)
    stamps = [c.received_ns for c in prompt]
    assert stamps == sorted(stamps)
    assert stamps[-1] - stamps[0] >= (TOKENS - 2) * ITL_MS * 1_000_000 // 2


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_async_tokens_carry_their_socket_arrival(url: str, loop: str) -> None:
    async def main() -> tuple[list[Any], int, int]:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport()) as client:
            sent_ns = time.perf_counter_ns()
            async with client.stream("POST", url, json=CHAT, headers=PACED) as response:
                await asyncio.sleep(LATE_S)
                first_read_ns = time.perf_counter_ns()
                chunks = [c async for c in seltzer.aiter_tokens(response, "openai-chat") if c.text]
        return chunks, sent_ns, first_read_ns

    if loop == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        chunks, sent_ns, first_read_ns = uvloop.run(main())
    else:
        chunks, sent_ns, first_read_ns = asyncio.run(main())
    assert len(chunks) == TOKENS
    _check_stamps(chunks, sent_ns, first_read_ns)


def test_compressed_bodies_are_stamped_too(server: LoopbackServer) -> None:
    texts = [f"t{i}" for i in range(5)]
    pieces = compressed_pieces([chat_event(t) for t in texts] + [DONE], "gzip")

    @server.route("/gzip")
    def gzipped(conn: Conn) -> None:
        conn.head(200, {"content-encoding": "gzip"})
        for piece in pieces:
            conn.send(piece)
        conn.end()

    client = httpx.Client(transport=HTTPTransport())
    with client, client.stream("GET", server.url + "/gzip") as response:
        chunks = [c for c in seltzer.iter_tokens(response, "openai-chat") if c.text]
    assert [c.text for c in chunks] == texts
    assert all(isinstance(c.received_ns, int) for c in chunks)


def test_other_byte_sources_leave_it_none() -> None:
    data = [b'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n', b"data: [DONE]\n\n"]
    (chunk,) = seltzer.iter_tokens(data, "openai-chat")
    assert chunk.received_ns is None
    decoder = seltzer.TokenDecoder("openai-chat")
    (fed,) = decoder.feed(data[0])
    assert fed.received_ns is None
    # Not part of a token's value: equal tokens with and without a stamp compare equal.
    assert chunk == fed
