"""Every provider stream in ../shared/fixtures decodes to its expected aggregate through
the Python API: TokenDecoder fed whole, byte by byte and in random pieces, and the
sync and async iterators."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import seltzer
from tests.conftest import MODES, chunked, fixture_cases, run_async

CASES = fixture_cases(".sse") + fixture_cases(".ndjson")


def aggregate(tokens: list[seltzer.TokenChunk], done: bool, error: Any) -> dict[str, Any]:
    """The fixtures README's `expected`, built from the tokens."""
    text: dict[str, str] = {}
    reasoning: dict[str, str] = {}
    calls: dict[int, dict[str, Any]] = {}
    finish: dict[str, str] = {}
    usage = None
    for token in tokens:
        key = str(token.index)
        if token.text:
            text[key] = text.get(key, "") + token.text
        if token.reasoning:
            reasoning[key] = reasoning.get(key, "") + token.reasoning
        for delta in token.tool_calls or []:
            call = calls.setdefault(
                delta.index, {"index": delta.index, "id": None, "name": None, "arguments": ""}
            )
            call["id"] = call["id"] or delta.id or None
            call["name"] = call["name"] or delta.name or None
            call["arguments"] += delta.arguments
        if token.finish_reason is not None:
            finish[key] = token.finish_reason
        if token.usage is not None:
            usage = token.usage
    return {
        "text": text,
        "reasoning": reasoning,
        "tool_calls": [calls[i] for i in sorted(calls)],
        "finish_reason": finish,
        "usage": usage,
        "done": done,
        "error": error,
    }


def normalized(result: dict[str, Any]) -> dict[str, Any]:
    """Tool-call arguments compare as JSON where they are complete JSON."""
    out = dict(result)
    calls = []
    for call in result["tool_calls"]:
        call = dict(call)
        with contextlib.suppress(ValueError):
            call["arguments"] = json.loads(call["arguments"])
        calls.append(call)
    out["tool_calls"] = calls
    return out


def error_split(body: bytes, meta: dict[str, Any]) -> int:
    """Where the provider's error event starts, so the bytes before it are fed first."""
    if meta["expected"]["error"] is None:
        return len(body)
    needle = b'"error"'
    at = body.find(needle)
    start = max(body.rfind(b"\n\n", 0, at), body.rfind(b"\r\n\r\n", 0, at))
    if meta["dialect"] == "ollama":
        start = body.rfind(b"\n", 0, at)
    return start + 1 if start >= 0 else 0


def decode_pieces(meta: dict[str, Any], pieces: list[bytes]) -> dict[str, Any]:
    decoder = seltzer.TokenDecoder(meta["dialect"], text_path=meta.get("text_path"))
    tokens: list[seltzer.TokenChunk] = []
    error = None
    try:
        for piece in pieces:
            tokens += decoder.feed(piece)
        tokens += decoder.flush()
    except seltzer.StreamError as exc:
        error = {"type": exc.type, "message": exc.message}
    return normalized(aggregate(tokens, decoder.done, error))


@pytest.mark.parametrize(("path", "meta"), CASES)
def test_fixture_decodes_to_expected_in_any_chunking(path: Path, meta: dict[str, Any]) -> None:
    body = path.read_bytes()
    expected = normalized(meta["expected"])
    cut = error_split(body, meta)
    head, tail = body[:cut], body[cut:]
    assert decode_pieces(meta, [head, tail]) == expected
    assert decode_pieces(meta, [head[i : i + 1] for i in range(len(head))] + [tail]) == expected
    rng = random.Random(path.name)
    for _ in range(3):
        pieces = chunked(head, lambda _: rng.randint(1, 97))
        assert decode_pieces(meta, [*pieces, tail]) == expected


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("path", "meta"), CASES)
def test_iterators_yield_the_same_tokens(path: Path, meta: dict[str, Any], mode: str) -> None:
    body = path.read_bytes()
    pieces = chunked(body, lambda i: 1 + (i * 37) % 211)
    kwargs = {"text_path": meta.get("text_path"), "strict": False}
    tokens: list[seltzer.TokenChunk] = []
    texts: list[str] = []

    async def apieces() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    def consume(into: list[Any], text_only: bool) -> None:
        if mode == "sync":
            decode = seltzer.iter_text if text_only else seltzer.iter_tokens
            for item in decode(pieces, meta["dialect"], **kwargs):
                into.append(item)
            return

        async def main() -> None:
            adecode = seltzer.aiter_text if text_only else seltzer.aiter_tokens
            async for item in adecode(apieces(), meta["dialect"], **kwargs):
                into.append(item)

        run_async(main(), mode)

    expected = meta["expected"]
    for into, text_only in ((tokens, False), (texts, True)):
        if expected["error"] is None:
            consume(into, text_only)
            continue
        with pytest.raises(seltzer.StreamError) as info:
            consume(into, text_only)
        assert info.value.type == expected["error"]["type"]
        assert info.value.message == expected["error"]["message"]
    got = normalized(aggregate(tokens, expected["done"], expected["error"]))
    assert got == normalized(expected)
    assert all(texts), "iter_text yields only non-empty texts"
    assert "".join(texts) == "".join(t.text for t in tokens)
