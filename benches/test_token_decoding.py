"""Token decoding throughput: seltzer against the Python decoders people use today on
the same bytes (10,000-token OpenAI chat and Anthropic streams, one event per chunk and
64 KiB chunks), and against the floor of making one Python str per token. Every
contender must yield the same token texts before its timing counts.

Run: pytest benches/test_token_decoding.py --benchmark-group-by=group
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import httpx
import orjson
import pytest
from httpx_sse import EventSource
from openai._streaming import SSEDecoder as OpenAIDecoder

import seltzer
from benches.conftest import N_EVENTS, anthropic_stream, chat_stream, rechunk

Texts = Iterable[str]


def chat_text(data: dict) -> str | None:  # type: ignore[type-arg]
    choices = data.get("choices") or []
    return choices[0]["delta"].get("content") if choices else None


def anthropic_text(data: dict) -> str | None:  # type: ignore[type-arg]
    if data.get("type") == "content_block_delta" and data["delta"].get("type") == "text_delta":
        return data["delta"]["text"]  # type: ignore[no-any-return]
    return None


EXTRACT = {"openai-chat": chat_text, "anthropic": anthropic_text}


def openai_sdk(loads: Callable[[str], object]) -> Callable[[list[bytes], str], Texts]:
    def run(chunks: list[bytes], dialect: str) -> Iterator[str]:
        extract = EXTRACT[dialect]
        for sse in OpenAIDecoder().iter_bytes(iter(chunks)):
            if sse.data == "[DONE]":
                break
            text = extract(loads(sse.data))  # type: ignore[arg-type]
            if text:
                yield text

    return run


class _ChunkStream(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)


def httpx_sse_json(chunks: list[bytes], dialect: str) -> Iterator[str]:
    extract = EXTRACT[dialect]
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=_ChunkStream(chunks)
    )
    for sse in EventSource(response).iter_sse():
        if sse.data == "[DONE]":
            break
        text = extract(json.loads(sse.data))
        if text:
            yield text


def seltzer_iter_tokens(chunks: list[bytes], dialect: str) -> Iterator[str]:
    return (t.text for t in seltzer.iter_tokens(chunks, dialect) if t.text)


def seltzer_iter_text(chunks: list[bytes], dialect: str) -> Texts:
    return seltzer.iter_text(chunks, dialect)


CONTENDERS: dict[str, Callable[[list[bytes], str], Texts]] = {
    "openai SSEDecoder + json.loads": openai_sdk(json.loads),
    "openai SSEDecoder + orjson.loads": openai_sdk(orjson.loads),
    "httpx-sse + json.loads": httpx_sse_json,
    "seltzer.iter_tokens": seltzer_iter_tokens,
    "seltzer.iter_text": seltzer_iter_text,
}

STREAMS = {"openai-chat": chat_stream(), "anthropic": anthropic_stream()}


def drain_tokens(
    run: Callable[[list[bytes], str], Texts], chunks: list[bytes], dialect: str
) -> int:
    """The timed part: decode and consume every token, nothing else."""
    if run is seltzer_iter_tokens:
        # Time the TokenChunk objects themselves, not a generator wrapped around them.
        tokens = seltzer.iter_tokens(chunks, dialect)
    else:
        tokens = run(chunks, dialect)  # type: ignore[assignment]
    return len(deque(tokens, maxlen=1))


def slices(chunks: list[bytes], dialect: str) -> list[bytes]:
    """Each token's text as bytes, cut out beforehand: the input of the floor."""
    return [t.encode() for t in seltzer.iter_text(chunks, dialect)]


def floor(pieces: list[bytes]) -> int:
    """One Python str per token from pre-sliced bytes: no decoder can do less."""
    return len(deque((p.decode() for p in pieces), maxlen=1))


@pytest.mark.parametrize("chunking", ["per-event", "64KiB"])
@pytest.mark.parametrize("dialect", list(STREAMS))
@pytest.mark.parametrize("contender", [*CONTENDERS, "floor: str per token"])
def test_token_decoding(benchmark, contender: str, dialect: str, chunking: str) -> None:  # type: ignore[no-untyped-def]
    chunks = STREAMS[dialect] if chunking == "per-event" else rechunk(STREAMS[dialect])
    reference = list(openai_sdk(json.loads)(chunks, dialect))
    assert len(reference) == N_EVENTS
    benchmark.group = f"tokens {dialect} {chunking}"
    benchmark.extra_info["tokens"] = N_EVENTS
    if contender.startswith("floor"):
        pieces = slices(chunks, dialect)
        assert [p.decode() for p in pieces] == reference
        benchmark(floor, pieces)
        return
    run = CONTENDERS[contender]
    assert list(run(chunks, dialect)) == reference, f"{contender} disagrees"
    benchmark(drain_tokens, run, chunks, dialect)
