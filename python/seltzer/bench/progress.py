"""The progress bar on stderr while a level runs (tqdm): requests done out of the level's
total (or a count under ``--duration``), with the failures so far."""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["LevelBar"]


class LevelBar:
    """One level's progress bar; does nothing when disabled."""

    def __init__(self, label: str, total: int | None, *, enabled: bool) -> None:
        self._failed = 0
        self._bar = tqdm(
            total=total,
            desc=label,
            unit="req",
            file=sys.stderr,
            disable=not enabled,
            dynamic_ncols=True,
            leave=True,
        )

    def done(self, *, ok: bool) -> None:
        """Counts one finished request."""
        if not ok:
            self._failed += 1
            self._bar.set_postfix(failed=self._failed, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        """Draws the bar a last time and moves below it."""
        self._bar.close()
