"""One ``LoopWaker`` per running event loop (asyncio or uvloop), registered as a reader
on first use. The transport's runtime threads wake the loop through it: one byte per
loop iteration, whatever the number of streams waiting (see ``src/py/loop_wake.rs``).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from seltzer._core import LoopWaker

__all__ = ["waker"]

_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWaker] = (
    weakref.WeakKeyDictionary()
)


def waker() -> tuple[LoopWaker, Callable[[], Any]]:
    """The running loop's waker and its ``create_future``.

    Raises:
        RuntimeError: No event loop is running in this thread.
    """
    loop = asyncio.get_running_loop()
    found = _wakers.get(loop)
    if found is None:
        found = LoopWaker()
        loop.add_reader(found.fileno(), found.drain)
        _wakers[loop] = found
    return found, loop.create_future
