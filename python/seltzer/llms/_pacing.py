"""Spreads the start of many streams over event-loop turns, so that a burst of new
requests never stalls the loop.

Starting a stream (building the httpx request, sending it, reading the answer's head)
costs the loop 100-200 µs of Python. A server that opens 1,000 streams at once would
otherwise spend one loop turn of 100-200 ms starting them all, and every other task
on the loop (including streams already flowing) would wait that long. Here each loop
turn spends at most ``TURN_BUDGET`` seconds on starts; the starts over budget wait,
in arrival order, for the next turns.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque

__all__ = ["TURN_BUDGET", "admit"]

#: Loop time (seconds) that one turn may spend starting streams before later starts
#: wait for the next turn. A stall target of 10 ms leaves room for the streams' own work.
TURN_BUDGET = 0.002

_clock = time.perf_counter


class StartPacer:
    """The start budget of one event loop's current turn, and the starts waiting."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        #: When the first start of the current turn was admitted; None: none yet.
        self._turn_start: float | None = None
        #: Starts admitted in the current turn.
        self._admitted = 0
        #: How many starts the last full turn admitted: how many waiters to wake next.
        self._per_turn = 1
        self._waiting: deque[asyncio.Future[None]] = deque()
        #: Waiters woken this turn that found the budget spent: first in line again.
        self._deferred: deque[asyncio.Future[None]] = deque()

    async def admit(self) -> None:
        """Returns at once while this turn's budget lasts and nobody waits, else after
        the starts ahead of it, in a later turn."""
        if not self._waiting and self._try_admit():
            return
        line = self._waiting
        while True:
            waiter = self._loop.create_future()
            line.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                self._forget(waiter)
                raise
            if self._try_admit():
                return
            line = self._deferred

    def _try_admit(self) -> bool:
        now = _clock()
        if self._turn_start is None:
            self._turn_start = now
            self._admitted = 1
            self._loop.call_soon(self._next_turn)
            return True
        if now - self._turn_start < TURN_BUDGET:
            self._admitted += 1
            return True
        return False

    def _next_turn(self) -> None:
        """Runs once at the turn after starts were admitted: a fresh budget, and as
        many waiters woken as the last turn could start (woken ones that still find the
        budget spent wait again at the head of the line)."""
        if self._turn_start is not None:
            self._per_turn = max(1, self._admitted)
        self._turn_start = None
        self._admitted = 0
        waiting = self._waiting
        if self._deferred:
            waiting.extendleft(reversed(self._deferred))
            self._deferred.clear()
        woken = 0
        while waiting and woken < self._per_turn:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                woken += 1
        if waiting:
            # Keep the line moving even if nobody else starts a stream.
            self._loop.call_soon(self._wake_more)

    def _wake_more(self) -> None:
        if self._turn_start is None and self._waiting:
            self._next_turn()

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        for line in (self._waiting, self._deferred):
            if waiter in line:
                line.remove(waiter)
        if waiter.done() and not waiter.cancelled() and self._waiting:
            # It was woken to start: hand its place on.
            self._loop.call_soon(self._wake_more)


_pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StartPacer] = (
    weakref.WeakKeyDictionary()
)


async def admit() -> None:
    """Waits until the running loop's current turn has budget to start a stream."""
    loop = asyncio.get_running_loop()
    pacer = _pacers.get(loop)
    if pacer is None:
        pacer = _pacers[loop] = StartPacer(loop)
    await pacer.admit()
