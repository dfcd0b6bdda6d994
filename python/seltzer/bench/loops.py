"""How requests are started: a closed loop (a fixed number of requests in flight, each
slot sending its next request when the last one ends) or an open loop (requests start
at scheduled arrival times, optionally capped in flight). Both stop at once, cancelling
what is in flight, when ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

from seltzer.bench.reader import RequestRecord

__all__ = ["Send", "closed_loop", "open_loop"]

#: Sends request number ``i`` of the level and returns its record.
Send = Callable[[int], Awaitable[RequestRecord]]
#: Takes each finished request's record.
OnRecord = Callable[[RequestRecord], None]


async def closed_loop(
    send: Send,
    on_record: OnRecord,
    *,
    concurrency: int,
    count: int | None,
    duration: float | None,
    stop: asyncio.Event,
) -> None:
    """Keeps ``concurrency`` requests in flight until ``count`` have been sent, or until
    ``duration`` seconds have passed (requests in flight then finish), or ``stop``."""
    numbers = itertools.count()
    deadline = None if duration is None else time.perf_counter() + duration

    async def slot() -> None:
        while not stop.is_set():
            if deadline is not None and time.perf_counter() >= deadline:
                return
            i = next(numbers)
            if count is not None and i >= count:
                return
            on_record(await send(i))

    await run_until_stopped([slot() for _ in range(concurrency)], stop)


async def open_loop(
    send: Send,
    on_record: OnRecord,
    *,
    arrivals: Iterator[float],
    cap: int | None,
    count: int | None,
    duration: float | None,
    stop: asyncio.Event,
) -> None:
    """Starts request ``i`` at ``arrivals``' i-th time (seconds from now), whether or not
    earlier ones have finished, with at most ``cap`` in flight (later ones wait their
    turn), until ``count`` have started or arrivals pass ``duration``, or ``stop``."""
    limit = asyncio.Semaphore(cap) if cap else None

    async def one(i: int) -> None:
        if limit is None:
            on_record(await send(i))
            return
        async with limit:
            on_record(await send(i))

    async def schedule() -> None:
        started: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        try:
            for i, at in enumerate(arrivals):
                if (count is not None and i >= count) or (duration is not None and at >= duration):
                    break
                delay = start + at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                started.append(asyncio.ensure_future(one(i)))
            await asyncio.gather(*started)
        finally:
            await _cancel(started)

    await run_until_stopped([schedule()], stop)


async def run_until_stopped(work: Iterable[Awaitable[None]], stop: asyncio.Event) -> None:
    """Runs ``work`` concurrently until all of it is done or ``stop`` is set, then cancels
    what is left; the first failure among them is raised."""
    tasks = [asyncio.ensure_future(w) for w in work]
    stopper = asyncio.ensure_future(stop.wait())
    try:
        remaining = set(tasks)
        while remaining and not stopper.done():
            done, _ = await asyncio.wait(remaining | {stopper}, return_when=asyncio.FIRST_COMPLETED)
            remaining -= done
            for task in done - {stopper}:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
    finally:
        await _cancel([*tasks, stopper])


async def _cancel(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancels ``tasks`` and waits until they have all finished."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
