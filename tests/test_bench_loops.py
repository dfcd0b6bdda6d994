"""The load shapes, with a fake request that only sleeps: the closed loop keeps exactly
its concurrency in flight, the open loop starts requests on its seeded Poisson schedule
(never early) and honours its cap, and a stop cancels what is in flight."""

from __future__ import annotations

import asyncio
import itertools
import time

from seltzer.bench.loops import closed_loop, open_loop
from seltzer.bench.reader import RequestRecord
from seltzer.bench.workload import poisson_arrivals


class FakeEndpoint:
    """Answers each request after ``seconds``, recording starts and the most in flight."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: list[tuple[int, float]] = []
        self.in_flight = 0
        self.peak = 0

    async def send(self, i: int) -> RequestRecord:
        self.started.append((i, time.perf_counter()))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.in_flight -= 1
        now = time.perf_counter_ns()
        return RequestRecord(start_ns=now, end_ns=now, token_ns=[now])


def test_closed_loop_keeps_its_concurrency_and_sends_the_count() -> None:
    endpoint = FakeEndpoint(0.01)
    records: list[RequestRecord] = []

    async def main() -> None:
        await closed_loop(
            endpoint.send,
            records.append,
            concurrency=4,
            count=21,
            duration=None,
            stop=asyncio.Event(),
        )

    asyncio.run(main())
    assert len(records) == 21
    assert sorted(i for i, _ in endpoint.started) == list(range(21))
    assert endpoint.peak == 4


def test_closed_loop_for_a_duration_stops_starting_requests() -> None:
    endpoint = FakeEndpoint(0.02)
    records: list[RequestRecord] = []

    async def main() -> float:
        started = time.perf_counter()
        await closed_loop(
            endpoint.send, records.append, concurrency=2, count=None, duration=0.3,
            stop=asyncio.Event(),
        )  # fmt: skip
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    assert 0.3 <= elapsed < 2.0
    assert len(records) >= 2
    assert all(at - endpoint.started[0][1] < 0.3 for _, at in endpoint.started)


def test_open_loop_starts_requests_on_the_poisson_schedule() -> None:
    endpoint = FakeEndpoint(0.05)  # longer than many gaps: arrivals do not wait for answers
    records: list[RequestRecord] = []
    rate, count = 40.0, 30

    async def main() -> None:
        await open_loop(
            endpoint.send,
            records.append,
            arrivals=poisson_arrivals(rate, seed=3),
            cap=None,
            count=count,
            duration=None,
            stop=asyncio.Event(),
        )

    asyncio.run(main())
    schedule = list(itertools.islice(poisson_arrivals(rate, seed=3), count))
    assert len(records) == count
    first = endpoint.started[0][1]
    for i, at in endpoint.started:
        offset = at - first
        assert offset >= schedule[i] - 0.002, (i, offset, schedule[i])  # never early
        assert offset <= schedule[i] + 0.25, (i, offset, schedule[i])  # and not far late
    assert endpoint.peak > 1


def test_open_loop_cap_bounds_requests_in_flight() -> None:
    endpoint = FakeEndpoint(0.02)
    records: list[RequestRecord] = []

    async def main() -> None:
        await open_loop(
            endpoint.send,
            records.append,
            arrivals=poisson_arrivals(float("inf"), seed=0),
            cap=3,
            count=12,
            duration=None,
            stop=asyncio.Event(),
        )

    asyncio.run(main())
    assert len(records) == 12
    assert endpoint.peak == 3


def test_stop_cancels_requests_in_flight_and_keeps_finished_ones() -> None:
    endpoint = FakeEndpoint(0.05)
    records: list[RequestRecord] = []

    async def main() -> float:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.12, stop.set)
        started = time.perf_counter()
        await closed_loop(
            endpoint.send, records.append, concurrency=2, count=None, duration=None, stop=stop
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    assert elapsed < 1.0
    assert 2 <= len(records) <= 6
    assert endpoint.in_flight == 0
