"""The client's report on itself: CPU share of the process and of the event-loop thread,
and how late the loop wakes a timer, measured while a level runs. A busy loop reads
tokens late and makes every latency look worse, so near saturation the results are
flagged as suspect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from seltzer.bench.result import ClientStats
from seltzer.bench.stats import percentile

__all__ = ["LAG_LIMIT_MS", "LOOP_CPU_LIMIT", "LoopMonitor"]

#: How often the lag probe wakes, seconds.
PROBE_INTERVAL = 0.010
#: The event loop's CPU share (percent of one core) above which the client is saturated.
LOOP_CPU_LIMIT = 80.0
#: The 99th-percentile timer lateness (ms) above which the client is saturated.
LAG_LIMIT_MS = 5.0


class LoopMonitor:
    """Measures the client while a level runs; use as an async context manager on the
    event loop's thread, then read ``stats``."""

    def __init__(self) -> None:
        self._lags_ms: list[float] = []
        self._probe: asyncio.Task[None] | None = None
        self._start = (0.0, 0.0, 0.0)
        self.stats = ClientStats(0.0, 0.0, 0.0, 0.0, False)

    async def __aenter__(self) -> LoopMonitor:
        self._start = (time.perf_counter(), time.process_time(), time.thread_time())
        self._probe = asyncio.get_running_loop().create_task(self._measure_lag())
        return self

    async def __aexit__(self, *exc: object) -> None:
        wall, cpu, loop_cpu = (time.perf_counter(), time.process_time(), time.thread_time())
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        elapsed = max(wall - self._start[0], 1e-9)
        lags = sorted(self._lags_ms) or [0.0]
        cpu_percent = 100 * (cpu - self._start[1]) / elapsed
        loop_percent = 100 * (loop_cpu - self._start[2]) / elapsed
        p99 = percentile(lags, 99)
        self.stats = ClientStats(
            cpu_percent=cpu_percent,
            loop_cpu_percent=loop_percent,
            max_loop_lag_ms=lags[-1],
            p99_loop_lag_ms=p99,
            saturated=loop_percent >= LOOP_CPU_LIMIT or p99 >= LAG_LIMIT_MS,
        )

    async def _measure_lag(self) -> None:
        clock = time.perf_counter
        while True:
            before = clock()
            await asyncio.sleep(PROBE_INTERVAL)
            self._lags_ms.append(max(0.0, (clock() - before - PROBE_INTERVAL) * 1000))
