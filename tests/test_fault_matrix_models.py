"""The fault matrix's table (``tests/test_fault_matrix.py``) driving the Runnable layer's
models: every fault the mock injects, crossed with every provider model and ``stream`` /
``astream``.

Each cell checks the exception class, that the text chunks before the fault are a prefix
of the fault-free reply and ``.partial`` (where there is one) their concatenation, that
no request is retried once the stream has begun (the mock counts requests, and the
models may retry twice), and that a 4xx/5xx before the first byte is not retried when
``max_retries=0``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import seltzer
from seltzer import llms
from tests.test_fault_matrix import FAULTS, Fault

#: Tokens per reply (max_tokens where the model sends one).
TOKENS = 5

MODELS = ("chat-openai", "openai", "anthropic", "gemini", "ollama")
#: The outcome a fault has on a route other than the matrix's default, by model.
ROUTE_OF = {
    "chat-openai": "openai-chat",
    "openai": "openai-completions",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama-chat",
}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with seltzer.mock.serve(tokens=TOKENS) as srv:
        yield srv


def model(kind: str, url: str, fault: str | None, retries: int, read: float | None) -> Any:
    headers = {"x-mock-fault": fault} if fault else {}
    common: dict[str, Any] = {
        "default_headers": headers,
        "max_retries": retries,
        "timeout": read if read is not None else 10.0,
    }
    if kind == "chat-openai":
        return llms.ChatOpenAI(base_url=url + "/v1", api_key="k", max_tokens=TOKENS, **common)
    if kind == "openai":
        return llms.OpenAI(base_url=url + "/v1", api_key="k", max_tokens=TOKENS, **common)
    if kind == "anthropic":
        return llms.ChatAnthropic(base_url=url, api_key="k", max_tokens=TOKENS, **common)
    if kind == "gemini":
        return llms.ChatGemini(base_url=url, api_key="k", **common)
    return llms.ChatOllama(base_url=url, **common)


def text_of(chunk: Any) -> str:
    return (
        chunk if isinstance(chunk, str) else chunk.content if isinstance(chunk.content, str) else ""
    )


def collect(m: Any, mode: str) -> tuple[list[str], BaseException | None]:
    """The text chunks streamed, and what was raised (None: the stream completed)."""
    texts: list[str] = []

    async def astream() -> None:
        async with m:
            async for chunk in m.astream("Write me a song"):
                texts.append(text_of(chunk))

    try:
        if mode == "sync":
            with m:
                for chunk in m.stream("Write me a song"):
                    texts.append(text_of(chunk))
        else:
            asyncio.run(astream())
    except seltzer.SeltzerError as exc:
        return [t for t in texts if t], exc
    return [t for t in texts if t], None


EXPECTED: dict[str, type[BaseException] | None] = {
    "status": seltzer.APIStatusError,
    "stream-error": seltzer.StreamError,
    "cut": seltzer.StreamInterrupted,
    "ended": seltzer.StreamInterrupted,
    "decode": seltzer.DecodeError,
    "too-large": seltzer.SSEError,
    "content-type": seltzer.SSEError,
    "complete": None,
}


def for_models(fault: Fault) -> Fault:
    """The row as the models meet it: they keep the default ``max_event_bytes``
    (16 MiB), so the oversize event must outgrow that instead of the matrix's 4 KiB."""
    if fault.name == "oversize":
        at = fault.spec.split("@")[1].split(":")[0]
        return Fault(f"oversize@{at}:{20 << 20}", fault.outcome, abandons=True)
    return fault


CELLS = [
    pytest.param(for_models(f), kind, mode, id=f"{f.spec}-{kind}-{mode}")
    for f in FAULTS
    for kind in MODELS
    for mode in ("sync", "asyncio")
]


def outcome(fault: Fault, kind: str) -> str:
    return fault.per_route.get(ROUTE_OF[kind], fault.outcome)


@pytest.mark.parametrize(("fault", "kind", "mode"), CELLS)
def test_model_fault(server: Any, fault: Fault, kind: str, mode: str) -> None:
    truth, clean = collect(model(kind, server.url, None, 0, None), "sync")
    assert clean is None, clean
    assert truth
    before = server.stats()["requests"]
    retries = 0 if fault.outcome == "status" else 2
    got, exc = collect(model(kind, server.url, fault.spec, retries, fault.read_timeout), mode)
    expected = EXPECTED[outcome(fault, kind)]
    if expected is None:
        assert exc is None
        if fault.name != "bad-utf8":
            assert got == truth
    else:
        assert isinstance(exc, expected), repr(exc)
        # Every chunk before the fault, once each, in order.
        assert got == truth[: len(got)]
        if isinstance(exc, seltzer.StreamInterrupted):
            assert exc.partial == "".join(got)
        if isinstance(exc, seltzer.APIStatusError):
            assert exc.status_code == int(fault.spec.split(":")[1])
    # A stream that has begun is never sent again; with max_retries=0 nothing is.
    assert server.stats()["requests"] == before + 1
