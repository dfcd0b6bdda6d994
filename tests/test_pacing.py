"""Stream starts spread over loop turns (``seltzer.llms._pacing``): with no budget left,
each turn admits one start, in arrival order; cancelled waiters never stall the line;
and a burst of real streams against the mock all complete."""

from __future__ import annotations

import asyncio

import pytest

import seltzer.mock
from seltzer import llms
from seltzer.llms import _pacing
from tests.pacing_util import TurnCounter


async def _start_all(count: int, order: list[tuple[int, int]], counter: TurnCounter) -> None:
    async def start(i: int) -> None:
        await _pacing.admit()
        order.append((i, counter.turns))

    await asyncio.gather(*(start(i) for i in range(count)))


def test_one_start_per_turn_in_arrival_order(no_budget: None) -> None:
    async def main() -> list[tuple[int, int]]:
        counter = TurnCounter(asyncio.get_running_loop())
        order: list[tuple[int, int]] = []
        await _start_all(50, order, counter)
        counter.armed = False
        return order

    order = asyncio.run(main())
    assert [i for i, _ in order] == list(range(50))
    turns = [turn for _, turn in order]
    # No two starts share a turn once the budget is spent.
    assert len(set(turns)) == len(turns)


def test_budget_admits_a_burst_in_one_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    # A budget no scheduling hiccup can spend: admitting costs next to nothing.
    monkeypatch.setattr(_pacing, "TURN_BUDGET", 60.0)

    async def main() -> list[tuple[int, int]]:
        counter = TurnCounter(asyncio.get_running_loop())
        order: list[tuple[int, int]] = []
        await _start_all(20, order, counter)
        counter.armed = False
        return order

    order = asyncio.run(main())
    assert {turn for _, turn in order} == {order[0][1]}


def test_cancelled_waiters_do_not_stall_the_line(no_budget: None) -> None:
    async def main() -> list[int]:
        admitted: list[int] = []

        async def start(i: int) -> None:
            await _pacing.admit()
            admitted.append(i)

        tasks = [asyncio.create_task(start(i)) for i in range(30)]
        await asyncio.sleep(0)
        for task in tasks[1::2]:
            task.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        return admitted

    admitted = asyncio.run(main())
    assert admitted[0] == 0
    assert set(admitted) >= set(range(0, 30, 2))


def test_cancelled_after_being_woken_hands_its_place_on(no_budget: None) -> None:
    async def main() -> list[str]:
        admitted: list[str] = []
        loop = asyncio.get_running_loop()

        async def start(name: str) -> None:
            await _pacing.admit()
            admitted.append(name)

        first = asyncio.create_task(start("first"))
        second = asyncio.create_task(start("second"))
        third = asyncio.create_task(start("third"))
        await asyncio.sleep(0)  # the first started, the others wait; the next turn
        # wakes the second, and this runs right after, before it resumes.
        loop.call_soon(second.cancel)
        await asyncio.wait_for(asyncio.gather(first, second, third, return_exceptions=True), 5)
        assert second.cancelled()
        return admitted

    assert asyncio.run(main()) == ["first", "third"]


def test_a_burst_of_streams_completes() -> None:
    async def main(url: str) -> list[str]:
        model = llms.ChatOpenAI(
            model="gpt-4o-mini",
            base_url=url + "/v1",
            api_key="sk-test",
        )

        async def one() -> str:
            return "".join([str(c.content) async for c in model.astream("hi")])

        try:
            return await asyncio.wait_for(asyncio.gather(*(one() for _ in range(300))), 60)
        finally:
            await model.aclose()

    with seltzer.mock.serve(tokens=20) as server:
        texts = asyncio.run(main(server.url))
    assert len(texts) == 300
    assert len(set(texts)) == 1
    assert texts[0]
