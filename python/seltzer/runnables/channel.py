"""An unbounded, ordered hand-off from the task that runs a Runnable to the
``astream_events`` consumer: ``send`` never waits, and the consumer is woken once for
everything that arrived meanwhile. Safe to send from worker threads."""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["Channel"]


class Channel:
    """Items in the order sent; iteration ends once ``close`` was called and every
    item sent before it was taken."""

    __slots__ = ("_closed", "_items", "_loop", "_thread", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._items: collections.deque[Any] = collections.deque()
        self._loop = loop
        self._thread = threading.get_ident()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    def send(self, item: Any) -> None:
        """Queues ``item`` (from any thread)."""
        if threading.get_ident() == self._thread:
            self._push(item)
        else:
            self._loop.call_soon_threadsafe(self._push, item)

    def close(self) -> None:
        """Ends the stream after the items already sent."""
        if threading.get_ident() == self._thread:
            self._finish()
        else:
            self._loop.call_soon_threadsafe(self._finish)

    def _push(self, item: Any) -> None:
        self._items.append(item)
        self._wake()

    def _finish(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def __aiter__(self) -> AsyncIterator[Any]:
        items = self._items
        while True:
            while items:
                yield items.popleft()
            if self._closed:
                return
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
