"""Shared fixtures: the loopback test server, fixture files, and a runner that drives
one test body through the sync API, asyncio and uvloop."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings

from seltzer.llms import _pacing
from tests.server import LoopbackServer

settings.register_profile("fast", max_examples=100, deadline=None)
settings.register_profile("slow", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("SELTZER_HYPOTHESIS_PROFILE", "fast"))

T = TypeVar("T")

#: The provider stream samples: $SELTZER_FIXTURES, else ../shared/fixtures beside the repo.
FIXTURES = Path(
    os.environ.get("SELTZER_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures")
)

#: Ways to run a body: the sync API, or the async API on each event loop.
MODES = ["sync", "asyncio", "uvloop"]


def run_async(coro: Awaitable[T], mode: str) -> T:
    """Runs a coroutine on the event loop that ``mode`` names."""
    if mode == "uvloop":
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type]
    return asyncio.run(coro)  # type: ignore[arg-type]


async def acollect(aiterable: AsyncIterator[T]) -> list[T]:
    return [item async for item in aiterable]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


def fixture_cases(kind: str = ".sse") -> list[Any]:
    """Every fixture body of the given kind, as pytest params named dialect/name."""
    cases = []
    for meta in sorted(FIXTURES.glob("*/*.json")):
        body = meta.with_suffix(kind)
        if body.exists():
            cases.append(
                pytest.param(
                    body, json.loads(meta.read_text()), id=f"{meta.parent.name}/{meta.stem}"
                )
            )
    return cases


def chunked(data: bytes, sizes: Callable[[int], int]) -> list[bytes]:
    """Cuts ``data`` into pieces whose sizes ``sizes(i)`` gives."""
    out, pos, i = [], 0, 0
    while pos < len(data):
        size = max(1, sizes(i))
        out.append(data[pos : pos + size])
        pos += size
        i += 1
    return out


@pytest.fixture
def no_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream pacing's turn budget spent by each turn's first admission: one per turn."""
    monkeypatch.setattr(_pacing, "TURN_BUDGET", 0.0)
