"""SSE framing throughput: seltzer against openai's and httpx-sse's decoders on the same
bytes, one event per chunk and 64 KiB chunks. Every contender must produce the same
(event, data) pairs before its timing counts.

Run: pytest benches/test_sse_framing.py --benchmark-group-by=group
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource
from openai._streaming import SSEDecoder as OpenAIDecoder

import seltzer
from benches.conftest import CHUNKINGS, N_EVENTS

Pairs = list[tuple[str, str]]
Events = Iterable[Any]


def seltzer_iter_sse(chunks: list[bytes]) -> Events:
    return seltzer.iter_sse(chunks)


def seltzer_feed(chunks: list[bytes]) -> Events:
    decoder = seltzer.SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)


def openai_sdk(chunks: list[bytes]) -> Events:
    return OpenAIDecoder().iter_bytes(iter(chunks))


def httpx_sse(chunks: list[bytes]) -> Events:
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=_ChunkStream(chunks)
    )
    return EventSource(response).iter_sse()


class _ChunkStream(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)


async def _abytes(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def seltzer_aiter_sse(chunks: list[bytes]) -> Events:
    async def main() -> list[Any]:
        return [ev async for ev in seltzer.aiter_sse(_abytes(chunks))]

    return asyncio.run(main())


def async_source_alone(chunks: list[bytes]) -> Events:
    """The async byte source drained with no decoding: what any async decoder pays for
    its input before doing any work (one async-generator step per chunk)."""

    async def main() -> list[Any]:
        return [chunk async for chunk in _abytes(chunks)]

    return asyncio.run(main())


def seltzer_iter_sse_in_loop(chunks: list[bytes]) -> Events:
    """The sync path inside the same asyncio.run, for an async-vs-sync ratio."""

    async def main() -> list[Any]:
        return list(seltzer.iter_sse(chunks))

    return asyncio.run(main())


CONTENDERS: dict[str, Callable[[list[bytes]], Events]] = {
    "seltzer.iter_sse": seltzer_iter_sse,
    "seltzer.SSEDecoder.feed": seltzer_feed,
    "seltzer.aiter_sse": seltzer_aiter_sse,
    "seltzer.iter_sse (in asyncio.run)": seltzer_iter_sse_in_loop,
    "async byte source alone (no decoding)": async_source_alone,
    "openai SSEDecoder.iter_bytes": openai_sdk,
    "httpx-sse EventSource": httpx_sse,
}


def pairs(events: Events) -> Pairs:
    return [(ev.event or "message", ev.data) for ev in events]


def drain(run: Callable[[list[bytes]], Events], chunks: list[bytes]) -> int:
    """Consumes every event (the timed part: decoding only, no per-event Python work)."""
    events = deque(run(chunks), maxlen=1)
    return len(events)


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("contender", list(CONTENDERS))
def test_sse_framing(benchmark, contender: str, chunking: str) -> None:  # type: ignore[no-untyped-def]
    chunks = CHUNKINGS[chunking]
    reference = pairs(openai_sdk(chunks))
    assert len(reference) == N_EVENTS
    run = CONTENDERS[contender]
    if run is async_source_alone:
        assert b"".join(run(chunks)) == b"".join(chunks)
        benchmark.group = f"sse-framing {chunking}"
        benchmark(drain, run, chunks)
        return
    assert pairs(run(chunks)) == reference, f"{contender} disagrees with the reference"
    benchmark.group = f"sse-framing {chunking}"
    benchmark.extra_info["events"] = N_EVENTS
    assert benchmark(drain, run, chunks) == 1
