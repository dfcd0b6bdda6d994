"""``astream_events``' lifecycle, as an async generator's: nothing runs before the first
event is asked for; closing it, cancelling its consumer or dropping it ends the run
and its HTTP stream; an error in the run comes after every event before it, each once."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from typing import Any

import pytest

import seltzer
from seltzer.llms import ChatOpenAI
from tests.conftest import run_async

ASYNC_MODES = ["asyncio", "uvloop"]


@pytest.fixture
def mock() -> Iterator[Any]:
    with seltzer.mock.serve(worker_threads=2) as server:
        yield server


def model(server: Any, **headers: str) -> ChatOpenAI:
    return ChatOpenAI(base_url=server.url + "/v1", api_key="k", default_headers=headers)


def slow(server: Any) -> ChatOpenAI:
    """A stream of 1,000 tokens 20 ms apart: far longer than any test waits."""
    return model(server, **{"x-mock-itl-ms": "20", "x-mock-tokens": "1000"})


async def closed(server: Any, within: float = 3.0) -> bool:
    """Whether the mock's connections are all closed (waiting up to ``within``), the
    loop running meanwhile."""
    deadline = time.monotonic() + within
    while server.stats()["open_connections"] and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.005)  # the mock's counters cannot be awaited
    return not server.stats()["open_connections"]


async def first_token(events: Any) -> list[str]:
    """The event names up to the first streamed token."""
    names = []
    async for event in events:
        names.append(event["event"])
        if event["event"] == "on_chat_model_stream":
            return names
    raise AssertionError(f"no token came: {names}")


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_nothing_runs_until_the_first_event_is_asked_for(mock: Any, mode: str) -> None:
    async def main() -> list[str]:
        chat = slow(mock)
        events = chat.astream_events("hi", version="v2")
        await asyncio.sleep(0.1)
        assert mock.stats()["requests"] == 0
        names = await first_token(events)
        await events.aclose()  # type: ignore[attr-defined]
        await chat.aclose()
        return names

    assert run_async(main(), mode) == ["on_chat_model_start", "on_chat_model_stream"]
    assert mock.stats()["requests"] == 1


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_closing_the_events_ends_the_run_and_its_stream(mock: Any, mode: str) -> None:
    async def main() -> None:
        chat = slow(mock)
        events = chat.astream_events("hi", version="v2")
        await first_token(events)
        assert mock.stats()["open_connections"] == 1
        await events.aclose()  # type: ignore[attr-defined]
        assert await closed(mock)
        with pytest.raises(StopAsyncIteration):
            await anext(events)
        await chat.aclose()

    run_async(main(), mode)


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_cancelling_the_consumer_ends_the_run_and_its_stream(mock: Any, mode: str) -> None:
    async def main() -> None:
        chat = slow(mock)
        streaming = asyncio.Event()

        async def consume() -> None:
            async for event in chat.astream_events("hi", version="v2"):
                if event["event"] == "on_chat_model_stream":
                    streaming.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(streaming.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await closed(mock)
        await chat.aclose()

    run_async(main(), mode)


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_dropped_events_end_the_run_and_its_stream(mock: Any, mode: str) -> None:
    async def main() -> None:
        chat = slow(mock)
        events = chat.astream_events("hi", version="v2")
        await first_token(events)
        del events
        gc.collect()
        assert await closed(mock)
        await chat.aclose()

    run_async(main(), mode)


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_an_error_in_the_run_comes_after_every_event_before_it(mock: Any, mode: str) -> None:
    async def main() -> tuple[list[str], BaseException]:
        chat = model(mock, **{"x-mock-fault": "drop@3", "x-mock-tokens": "10"})
        names: list[str] = []

        async def collect() -> None:
            async for event in chat.astream_events("hi", version="v2"):
                names.append(event["event"])

        with pytest.raises(seltzer.StreamInterrupted) as info:
            await collect()
        await chat.aclose()
        return names, info.value

    names, error = run_async(main(), mode)
    # The three tokens sent, each once (the first is the role event's empty chunk).
    tokens = [n for n in names if n == "on_chat_model_stream"]
    assert names[0] == "on_chat_model_start"
    assert len(tokens) == 4
    assert "Every valley" in str(error.partial)  # type: ignore[attr-defined]
