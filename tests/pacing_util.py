"""What the pacing tests share: a counter of event-loop turns (their ``no_budget``
fixture is in conftest)."""

from __future__ import annotations

import asyncio


class TurnCounter:
    """Counts event-loop turns while armed, by re-scheduling itself each turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.turns = 0
        self.armed = True
        loop.call_soon(self.tick)

    def tick(self) -> None:
        if self.armed:
            self.turns += 1
            self.loop.call_soon(self.tick)
