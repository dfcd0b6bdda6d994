"""SSE framing throughput: seltzer against openai's and httpx-sse's decoders on the same
bytes, one event per chunk and 64 KiB chunks. Every contender must produce the same
(event, data) pairs before its timing counts.

Run: pytest benches/test_sse_framing.py --benchmark-group-by=group
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import seltzer
from httpx_sse import EventSource
from openai._streaming import SSEDecoder as OpenAIDecoder

from benches.conftest import CHUNKINGS, N_EVENTS

Pairs = list[tuple[str, str]]


def seltzer_iter_sse(chunks: list[bytes]) -> Pairs:
    return [(ev.event, ev.data) for ev in seltzer.iter_sse(chunks)]


def seltzer_feed(chunks: list[bytes]) -> Pairs:
    decoder = seltzer.SSEDecoder()
    out = []
    for chunk in chunks:
        out += [(ev.event, ev.data) for ev in decoder.feed(chunk)]
    return out


def openai_sdk(chunks: list[bytes]) -> Pairs:
    return [(ev.event or "message", ev.data) for ev in OpenAIDecoder().iter_bytes(iter(chunks))]


def httpx_sse(chunks: list[bytes]) -> Pairs:
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=httpx.ByteStream(b"")
    )
    response.stream = _ChunkStream(chunks)
    return [(ev.event, ev.data) for ev in EventSource(response).iter_sse()]


class _ChunkStream(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.chunks)


async def _abytes(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def seltzer_aiter_sse(chunks: list[bytes]) -> Pairs:
    async def main() -> Pairs:
        return [(ev.event, ev.data) async for ev in seltzer.aiter_sse(_abytes(chunks))]

    return asyncio.run(main())


def seltzer_iter_sse_in_loop(chunks: list[bytes]) -> Pairs:
    """The sync path inside the same asyncio.run, for an async-vs-sync ratio."""

    async def main() -> Pairs:
        return seltzer_iter_sse(chunks)

    return asyncio.run(main())


CONTENDERS: dict[str, Callable[[list[bytes]], Pairs]] = {
    "seltzer.iter_sse": seltzer_iter_sse,
    "seltzer.SSEDecoder.feed": seltzer_feed,
    "seltzer.aiter_sse": seltzer_aiter_sse,
    "seltzer.iter_sse (in asyncio.run)": seltzer_iter_sse_in_loop,
    "openai SSEDecoder.iter_bytes": openai_sdk,
    "httpx-sse EventSource": httpx_sse,
}


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("contender", list(CONTENDERS))
def test_sse_framing(benchmark, contender: str, chunking: str) -> None:  # type: ignore[no-untyped-def]
    chunks = CHUNKINGS[chunking]
    reference = openai_sdk(chunks)
    assert len(reference) == N_EVENTS
    run = CONTENDERS[contender]
    assert run(chunks) == reference, f"{contender} disagrees with the reference"
    benchmark.group = f"sse-framing {chunking}"
    benchmark.extra_info["events"] = N_EVENTS
    result = benchmark(run, chunks)
    assert len(result) == N_EVENTS
