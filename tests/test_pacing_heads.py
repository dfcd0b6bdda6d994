"""Answer heads paced like stream starts (``seltzer.llms._pacing.admit_head``): heads go
ahead of every start waiting, in arrival order; the models' async transport admits each
head before httpx handles it; a request cancelled while its head waits closes its
connection."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import seltzer.mock
from seltzer import llms
from seltzer.llms import _http, _pacing
from tests.conftest import run_async
from tests.pacing_util import TurnCounter

LOOPS = ["asyncio", "uvloop"]


@pytest.mark.parametrize("mode", LOOPS)
def test_heads_go_ahead_of_waiting_starts(no_budget: None, mode: str) -> None:
    async def main() -> list[tuple[str, int]]:
        counter = TurnCounter(asyncio.get_running_loop())
        order: list[tuple[str, int]] = []

        async def start(i: int) -> None:
            await _pacing.admit()
            order.append((f"start {i}", counter.turns))

        async def head(i: int) -> None:
            await _pacing.admit_head()
            order.append((f"head {i}", counter.turns))

        starts = [asyncio.create_task(start(i)) for i in range(4)]
        await asyncio.sleep(0)  # the first start goes; the others wait
        heads = [asyncio.create_task(head(i)) for i in range(3)]
        await asyncio.gather(*starts, *heads)
        counter.armed = False
        return order

    order = run_async(main(), mode)
    assert [name for name, _ in order] == [
        "start 0",
        "head 0",
        "head 1",
        "head 2",
        "start 1",
        "start 2",
        "start 3",
    ]
    turns = [turn for _, turn in order]
    assert len(set(turns)) == len(turns)  # one admission per turn, heads or starts


@pytest.mark.parametrize("mode", LOOPS)
def test_a_head_does_not_wait_for_starts(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> list[str]:
        order: list[str] = []

        async def start(i: int) -> None:
            await _pacing.admit()
            order.append(f"start {i}")

        async def head() -> None:
            await _pacing.admit_head()
            order.append("head")

        # Starts wait (no budget at all), and a head comes while they do.
        monkeypatch.setattr(_pacing, "TURN_BUDGET", -1.0)
        starts = [asyncio.create_task(start(i)) for i in range(3)]
        await asyncio.sleep(0)
        # Budget left in this turn: the head goes at once, though starts wait.
        monkeypatch.setattr(_pacing, "TURN_BUDGET", 60.0)
        await head()
        await asyncio.gather(*starts)
        return order

    order = run_async(main(), mode)
    assert order[:2] == ["start 0", "head"]
    assert sorted(order[2:]) == ["start 1", "start 2"]


@pytest.mark.parametrize("mode", LOOPS)
def test_cancelled_head_waiters_do_not_stall_the_line(no_budget: None, mode: str) -> None:
    async def main() -> list[str]:
        admitted: list[str] = []

        async def wait(name: str, admit: Any) -> None:
            await admit()
            admitted.append(name)

        tasks = [
            asyncio.create_task(wait(f"{kind} {i}", admit))
            for i in range(10)
            for kind, admit in (("head", _pacing.admit_head), ("start", _pacing.admit))
        ]
        await asyncio.sleep(0)
        for task in tasks[2::3]:
            task.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
        return admitted

    admitted = run_async(main(), mode)
    assert len(admitted) == 20 - len(range(2, 20, 3))


def test_the_models_async_transport_is_paced() -> None:
    assert isinstance(_http.async_transport(), _http.PacedAsyncTransport)


def test_each_answer_head_is_admitted(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    async def admit_head() -> None:
        seen.append(True)

    monkeypatch.setattr(_pacing, "admit_head", admit_head)

    async def main(url: str) -> list[str]:
        model = llms.ChatOpenAI(model="gpt-4o-mini", base_url=url + "/v1", api_key="sk-test")

        async def one() -> str:
            return "".join([str(c.content) async for c in model.astream("hi")])

        try:
            return await asyncio.gather(*(one() for _ in range(5)))
        finally:
            await model.aclose()

    with seltzer.mock.serve(tokens=5) as server:
        texts = asyncio.run(main(server.url))
    assert len(set(texts)) == 1
    assert texts[0]
    assert len(seen) == 5


def _settled(server: Any, want: int) -> int:
    """The mock's open connections once they reach ``want`` (or 2 s pass)."""
    deadline = time.monotonic() + 2.0
    while server.stats()["open_connections"] != want and time.monotonic() < deadline:
        time.sleep(0.005)
    return int(server.stats()["open_connections"])


@pytest.mark.parametrize("mode", LOOPS)
def test_cancelled_while_the_head_waits_closes_the_connection(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = asyncio.Event()

    async def admit_head() -> None:
        waiting.set()
        await asyncio.Event().wait()  # never admitted

    monkeypatch.setattr(_pacing, "admit_head", admit_head)

    async def main(server: Any) -> tuple[int, int]:
        waiting.clear()
        model = llms.ChatOpenAI(model="gpt-4o-mini", base_url=server.url + "/v1", api_key="sk-test")

        async def first() -> Any:
            return await anext(aiter(model.astream("hi")))

        task = asyncio.create_task(first())
        await asyncio.wait_for(waiting.wait(), 10)
        during = server.stats()["open_connections"]
        task.cancel()
        # Its traceback (kept while the connection is checked) keeps every frame of
        # the request alive: the response is closed, not merely dropped.
        with pytest.raises(asyncio.CancelledError) as cancelled:
            await task
        after = await asyncio.to_thread(_settled, server, 0)
        assert cancelled.value.__traceback__ is not None
        await model.aclose()
        return during, after

    with seltzer.mock.serve(tokens=5, itl_ms=50) as server:
        assert run_async(main(server), mode) == (1, 0)
