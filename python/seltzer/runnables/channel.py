"""An unbounded, ordered hand-off from the task that runs a Runnable to the
``astream_events`` consumer: sending never waits, and the consumer is woken once for
everything that arrived meanwhile. Safe to send from worker threads.

A producer on the loop may also step aside (``make_way``) once a woken consumer has a
backlog to take: events then live for microseconds instead of a whole batch of tokens,
so the garbage collector rarely finds (and promotes) any, which costs more than the
extra loop turn."""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["BACKLOG", "Channel"]

#: Items waiting for a woken consumer that make ``make_way`` step aside.
BACKLOG = 64


class Channel:
    """Items in the order sent; iteration ends once ``close`` was called and every
    item sent before it was taken."""

    __slots__ = ("_closed", "_items", "_loop", "_thread", "_woken", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._items: collections.deque[Any] = collections.deque()
        self._loop = loop
        self._thread = threading.get_ident()
        #: The future the consumer sleeps on until an item comes (None while it does
        #: not): a producer on the loop's thread that appends to ``items`` itself
        #: (rather than calling ``send``) then calls ``wake`` unless this is None.
        self.waiter: asyncio.Future[None] | None = None
        self._woken = False
        self._closed = False

    @property
    def items(self) -> collections.deque[Any]:
        """The items sent and not yet taken, oldest first (the consumer takes them
        with ``popleft``)."""
        return self._items

    def send(self, item: Any) -> None:
        """Queues ``item`` (from any thread)."""
        if threading.get_ident() == self._thread:
            self._push(item)
        else:
            self._loop.call_soon_threadsafe(self._push, item)

    def on_loop_thread(self) -> bool:
        """Whether the caller runs on the loop's thread."""
        return threading.get_ident() == self._thread

    async def make_way(self) -> None:
        """Lets the consumer run first if it was woken and ``BACKLOG`` items wait for
        it; else (and off the loop's thread) returns at once. The caller is held back
        one loop turn at most, and once per wake-up: a consumer that does not come
        (busy elsewhere, or no longer iterating) is not waited for again."""
        if self._woken and len(self._items) >= BACKLOG and threading.get_ident() == self._thread:
            self._woken = False
            await asyncio.sleep(0)

    def close(self) -> None:
        """Ends the stream after the items already sent."""
        if threading.get_ident() == self._thread:
            self._finish()
        else:
            self._loop.call_soon_threadsafe(self._finish)

    async def more(self) -> bool:
        """Waits until an item is there (True) or the channel is closed and every
        item taken (False)."""
        while not self._items:
            if self._closed:
                return False
            self.waiter = waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self.waiter = None
                self._woken = False
        return True

    def _push(self, item: Any) -> None:
        self._items.append(item)
        if self.waiter is not None:
            self.wake()

    def _finish(self) -> None:
        self._closed = True
        self.wake()

    def wake(self) -> None:
        """Wakes the consumer if it sleeps (on the loop's thread only)."""
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None  # the items that follow need no wake-up
            if not waiter.done():
                waiter.set_result(None)
                self._woken = True

    async def __aiter__(self) -> AsyncIterator[Any]:
        items = self._items
        while await self.more():
            while items:
                yield items.popleft()
