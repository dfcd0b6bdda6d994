"""The client's report on itself: a blocked event loop shows as lag and flags the results
as suspect, busy work shows as the loop's CPU share, and the table and JSON say so."""

from __future__ import annotations

import asyncio
import time

from seltzer.bench import BenchConfig, BenchResult, MockPacing, format_table
from seltzer.bench.metrics import level_result
from seltzer.bench.monitor import LoopMonitor
from seltzer.bench.reader import RequestRecord
from seltzer.bench.report import client_report, saturation_warnings


def hog_loop(seconds: float) -> None:
    """Keeps the event loop's thread busy, as a client with too much to do would."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def test_a_blocked_loop_is_reported_as_lag_and_saturation() -> None:
    async def main() -> LoopMonitor:
        async with LoopMonitor() as monitor:
            await asyncio.sleep(0.03)
            for _ in range(4):
                hog_loop(0.04)  # a client too busy to read its sockets
                await asyncio.sleep(0.015)
        return monitor

    stats = asyncio.run(main()).stats
    assert stats.max_loop_lag_ms >= 20
    assert stats.p99_loop_lag_ms >= 5
    assert stats.saturated


def test_busy_work_shows_as_the_loops_cpu_share() -> None:
    async def main() -> LoopMonitor:
        async with LoopMonitor() as monitor:
            deadline = time.perf_counter() + 0.3
            while time.perf_counter() < deadline:
                sum(range(1000))
                await asyncio.sleep(0)
        return monitor

    stats = asyncio.run(main()).stats
    assert 20 < stats.loop_cpu_percent <= 110
    assert stats.cpu_percent >= stats.loop_cpu_percent * 0.9


def test_the_table_and_json_carry_the_warning() -> None:
    async def main() -> LoopMonitor:
        async with LoopMonitor() as monitor:
            await asyncio.sleep(0.02)
            hog_loop(0.05)
            await asyncio.sleep(0.02)
        return monitor

    stats = asyncio.run(main()).stats
    now = time.perf_counter_ns()
    record = RequestRecord(start_ns=now, end_ns=now + 3_000_000, token_ns=[now + 1_000_000])
    runs = [
        level_result(
            [record], concurrency=64, request_rate=None, duration=1.0, slo={}, client=stats
        )
    ]
    config = BenchConfig(mock=MockPacing())
    result = BenchResult(
        runs=runs,
        client=client_report(config, "http://127.0.0.1:1/v1", "httpx", runs),
        warnings=saturation_warnings(runs),
    )
    assert "warning: concurrency 64: the client was near saturation" in format_table(result)
    data = result.to_dict()
    assert data["runs"][0]["client"]["saturated"] is True
    assert data["client"]["saturated"] is True
    assert data["client"]["warnings"] == result.warnings
