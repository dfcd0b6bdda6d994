"""Summary statistics of a sample, as vLLM's ``bench serve`` reports them: mean, median,
population standard deviation, and the 90th and 99th percentiles with linear
interpolation (numpy's default), without numpy.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["STAT_NAMES", "Summary", "percentile", "summarize"]

#: The statistics reported for each latency metric, in the order vLLM prints them.
STAT_NAMES = ("mean", "median", "std", "p90", "p99")


@dataclass(frozen=True)
class Summary:
    """The five statistics of one metric; all None for an empty sample."""

    mean: float | None = None
    median: float | None = None
    std: float | None = None
    p90: float | None = None
    p99: float | None = None
    count: int = 0

    def get(self, name: str) -> float | None:
        """The statistic called ``name`` (one of ``STAT_NAMES``)."""
        value: float | None = getattr(self, name)
        return value


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of an ascending, non-empty sample, interpolated
    linearly between the two nearest ranks."""
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Sequence[float]) -> Summary:
    """The summary of a sample (any order)."""
    if not values:
        return Summary()
    ordered = sorted(values)
    return Summary(
        mean=statistics.fmean(ordered),
        median=percentile(ordered, 50),
        std=statistics.pstdev(ordered) if len(ordered) > 1 else 0.0,
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        count=len(ordered),
    )
