"""Spreads the start of many streams, and the handling of their answers' heads, over
event-loop turns, so that a burst of either never stalls the loop.

Starting a stream (building the httpx request, sending it) costs the loop 100-200 µs
of Python, and handling the head of its answer (httpx's response, cookies, the
model's first read) about 100 µs more. A server that opens 1,000 streams at once would
otherwise spend one loop turn of 100-200 ms starting them all, and when many heads
arrive together (after any pause of the loop, or from a busy server) one turn would
handle them all; every other task on the loop (including streams already flowing)
would wait that long. Here each loop turn spends about ``TURN_BUDGET`` seconds on
admitted work; the rest waits, in arrival order, for the next turns, heads ahead of
starts (a stream already under way finishes before new ones begin).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Awaitable

__all__ = ["TURN_BUDGET", "admit", "admit_head"]

#: Loop time (seconds) that one turn may spend on starts and heads before later ones
#: wait for the next turn. While 1,000 streams start, the loop is busy from turn to
#: turn, and a task that becomes ready waits for up to two turns, each holding this
#: budget plus the tokens of the streams already flowing (and now and then a young-
#: generation collection of the garbage collector, 1-4 ms): 1 ms keeps that under the
#: 10 ms stall target, where 2 ms did not (worst lag 8-13 ms against 8-9 ms in the
#: bench), at no cost in throughput.
TURN_BUDGET = 0.001

_clock = time.perf_counter

#: The lines of waiters, in the order they are served.
HEADS, STARTS = 0, 1


class TurnPacer:
    """The budget of one event loop's current turn, and the work waiting for it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weak: ``_pacers`` is keyed weakly by the loop, and a pacer holding its loop
        # would keep every closed loop (and its pacer) alive.
        self.loop = weakref.ref(loop)
        #: When the first admission of the current turn happened; None: none yet.
        self._turn_start: float | None = None
        #: Admissions in the current turn.
        self._admitted = 0
        #: Whether the current turn's budget turned anyone away.
        self._full = False
        #: How many waiters to wake at the next turn.
        self._per_turn = 1
        #: Waiting heads, then waiting starts.
        self._lines: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())
        #: Per line, waiters woken this turn that found the budget spent: first in
        #: their line again.
        self._deferred: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    async def admit(self, line: int) -> None:
        """Returns at once while this turn's budget lasts and nobody waits in ``line``
        or ahead of it, else after those, in a later turn."""
        if self._try_admit_now(line):
            return
        loop = asyncio.get_running_loop()
        queue = self._lines[line]
        while True:
            waiter = loop.create_future()
            queue.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                self._forget(waiter)
                raise
            if self._try_admit():
                return
            queue = self._deferred[line]

    def _try_admit_now(self, line: int) -> bool:
        for queue in self._lines[: line + 1]:
            if queue:
                return False
        return self._try_admit()

    def _try_admit(self) -> bool:
        now = _clock()
        if self._turn_start is None:
            self._turn_start = now
            self._admitted = 1
            asyncio.get_running_loop().call_soon(self._next_turn)
            return True
        if now - self._turn_start < TURN_BUDGET:
            self._admitted += 1
            return True
        self._full = True
        return False

    def _next_turn(self) -> None:
        """Runs once at the turn after work was admitted: a fresh budget, and waiters
        woken, heads first: as many as the last turn admitted when its budget ran
        out, else twice as many (so that the count grows back after a turn crowded
        by other work). Woken ones that find the budget spent wait again at the head
        of their line."""
        if self._turn_start is not None:
            self._per_turn = max(1, self._admitted if self._full else 2 * self._admitted)
        self._turn_start = None
        self._admitted = 0
        self._full = False
        for queue, deferred in zip(self._lines, self._deferred, strict=True):
            if deferred:
                queue.extendleft(reversed(deferred))
                deferred.clear()
        woken = 0
        for queue in self._lines:
            while queue and woken < self._per_turn:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    woken += 1
        if self._anyone_waiting():
            # Keep the lines moving even if nothing else is admitted.
            asyncio.get_running_loop().call_soon(self._wake_more)

    def _anyone_waiting(self) -> bool:
        return any(self._lines)

    def _wake_more(self) -> None:
        if self._turn_start is None and self._anyone_waiting():
            self._next_turn()

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        for queue in (*self._lines, *self._deferred):
            if waiter in queue:
                queue.remove(waiter)
        if waiter.done() and not waiter.cancelled() and self._anyone_waiting():
            # It was woken to go ahead: hand its place on.
            asyncio.get_running_loop().call_soon(self._wake_more)


_pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnPacer] = (
    weakref.WeakKeyDictionary()
)
#: The pacer used last: found without a weak-dict lookup while one loop runs.
_recent: TurnPacer | None = None


def _pacer() -> TurnPacer:
    global _recent
    loop = asyncio.get_running_loop()
    pacer = _recent
    if pacer is None or pacer.loop() is not loop:
        pacer = _pacers.get(loop)
        if pacer is None:
            pacer = _pacers[loop] = TurnPacer(loop)
        _recent = pacer
    return pacer


def admit() -> Awaitable[None]:
    """Waits until the running loop's current turn has budget to start a stream.
    (A plain function returning the pacer's coroutine: one frame less per start.)"""
    return _pacer().admit(STARTS)


def admit_head() -> Awaitable[None]:
    """Waits until the running loop's current turn has budget to handle the head of an
    answer (ahead of every start waiting)."""
    return _pacer().admit(HEADS)
