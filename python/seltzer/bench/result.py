"""The results: ``LevelResult`` per concurrency level, ``BenchResult`` for the run, and
``to_dict()`` with vLLM's ``bench serve`` key names (``mean_ttft_ms``, ``p99_itl_ms``,
``request_throughput``, ...), so dashboards that read vLLM's JSON read seltzer's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from seltzer.bench.stats import STAT_NAMES, Summary

__all__ = ["LATENCY_METRICS", "BenchResult", "ClientStats", "LevelResult", "ServerTruth"]

#: The latency metrics, as vLLM names them in its keys.
LATENCY_METRICS = ("ttft", "tpot", "itl", "e2el")


@dataclass(frozen=True)
class ClientStats:
    """How hard the client worked while it measured.

    Attributes:
        cpu_percent: The client process's CPU time (all threads) over wall time, in
            percent of one core.
        loop_cpu_percent: The event-loop thread's CPU time over wall time, in percent.
        max_loop_lag_ms: The longest the event loop was late to wake a 10 ms timer.
        p99_loop_lag_ms: The 99th percentile of that lateness.
        saturated: Whether the client was near saturation (the results are suspect).
    """

    cpu_percent: float
    loop_cpu_percent: float
    max_loop_lag_ms: float
    p99_loop_lag_ms: float
    saturated: bool

    def to_dict(self) -> dict[str, Any]:
        """The stats as JSON-ready values."""
        return {
            "cpu_percent": round(self.cpu_percent, 1),
            "loop_cpu_percent": round(self.loop_cpu_percent, 1),
            "max_loop_lag_ms": round(self.max_loop_lag_ms, 3),
            "p99_loop_lag_ms": round(self.p99_loop_lag_ms, 3),
            "saturated": self.saturated,
        }


@dataclass(frozen=True)
class ServerTruth:
    """The seltzer mock server's own send times for the completed requests, and how late
    the client saw each token against them.

    Attributes:
        ttft: From the client's send to the server's send of the first token, ms.
        itl: Between the server's sends of consecutive tokens, ms.
        delivery_lag: From the server's send of a token to the client's clock read, ms.
    """

    ttft: Summary
    itl: Summary
    delivery_lag: Summary

    def to_dict(self) -> dict[str, Any]:
        """The truth with the same key names as the client's figures."""
        out: dict[str, Any] = {}
        for metric, summary in (("ttft", self.ttft), ("itl", self.itl)):
            out.update(_stat_keys(metric, summary))
        out.update(_stat_keys("delivery_lag", self.delivery_lag))
        return out


@dataclass(frozen=True)
class LevelResult:
    """The measurements of one concurrency level.

    Attributes:
        concurrency: Closed loop: requests in flight. Open loop: their cap (None: none).
        request_rate: Open loop: the Poisson rate asked for; None in a closed loop.
        duration: Seconds from the level's first request to its last answer.
        completed: Requests whose stream ran to its end.
        failed: Requests that failed.
        errors: Failed requests per error group.
        error_examples: One (redacted) message per error group.
        total_input_tokens: Prompt tokens of completed requests, from usage (0 unknown).
        total_output_tokens: Output tokens of completed requests.
        token_counts: Where output token counts came from: "usage", "chunks" or "mixed".
        request_throughput: Completed requests per second.
        output_throughput: Output tokens per second.
        total_token_throughput: Prompt and output tokens per second.
        request_goodput: Requests per second that met every SLO (None without SLOs).
        ttft: Time to first token, ms.
        tpot: Time per output token after the first, per request, ms.
        itl: Gaps between consecutive tokens, ms.
        e2el: End-to-end latency, ms.
        peak_concurrency: The most requests that were in flight at once.
        client: How hard the client worked.
        server: The mock server's own figures (``server_times`` only).
        interrupted: Whether Ctrl-C cut the level short.
        ttfts_ms: Every completed request's TTFT (for plots; not in ``to_dict``).
        itls_ms: Every gap between tokens (for plots; not in ``to_dict``).
    """

    concurrency: int | None
    request_rate: float | None
    duration: float
    completed: int
    failed: int
    errors: dict[str, int]
    error_examples: dict[str, str]
    total_input_tokens: int
    total_output_tokens: int
    token_counts: str
    request_throughput: float
    output_throughput: float
    total_token_throughput: float
    request_goodput: float | None
    ttft: Summary
    tpot: Summary
    itl: Summary
    e2el: Summary
    peak_concurrency: int
    client: ClientStats
    server: ServerTruth | None = None
    interrupted: bool = False
    ttfts_ms: list[float] = field(default_factory=list, repr=False)
    itls_ms: list[float] = field(default_factory=list, repr=False)

    def latency(self, metric: str) -> Summary:
        """The summary of ``metric``, one of ``LATENCY_METRICS``."""
        summary: Summary = getattr(self, metric)
        return summary

    def to_dict(self) -> dict[str, Any]:
        """The level as vLLM's ``bench serve`` names its results, plus seltzer's own."""
        rate: float | str | None = self.request_rate
        if self.request_rate is not None and math.isinf(self.request_rate):
            rate = "inf"  # as vLLM writes it: JSON has no infinity
        out: dict[str, Any] = {
            "concurrency": self.concurrency,
            "request_rate": rate,
            "duration": self.duration,
            "completed": self.completed,
            "failed": self.failed,
            "errors": dict(self.errors),
            "error_examples": dict(self.error_examples),
            "total_input_tokens": self.total_input_tokens,
            "total_output_tokens": self.total_output_tokens,
            "token_counts": self.token_counts,
            "request_throughput": self.request_throughput,
            "output_throughput": self.output_throughput,
            "total_token_throughput": self.total_token_throughput,
            "request_goodput": self.request_goodput,
        }
        for metric in LATENCY_METRICS:
            out.update(_stat_keys(metric, self.latency(metric)))
        out["peak_concurrency"] = self.peak_concurrency
        out["interrupted"] = self.interrupted
        out["client"] = self.client.to_dict()
        out["server"] = self.server.to_dict() if self.server is not None else None
        return out


def _stat_keys(metric: str, summary: Summary) -> dict[str, float | None]:
    return {f"{stat}_{metric}_ms": summary.get(stat) for stat in STAT_NAMES}


@dataclass(frozen=True)
class BenchResult:
    """A whole benchmark: one ``LevelResult`` per level run, and the client's report.

    Attributes:
        runs: The levels, in the order they ran (fewer than asked when interrupted).
        client: The setup and the client's report on itself (JSON-ready).
        warnings: What makes results suspect (a saturated client, say).
        interrupted: Whether Ctrl-C stopped the run.
    """

    runs: list[LevelResult]
    client: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """``{"runs": [...], "client": {...}}``, ready for ``json.dump``."""
        client = {**self.client, "warnings": list(self.warnings)}
        return {
            "runs": [run.to_dict() for run in self.runs],
            "client": client,
            "interrupted": self.interrupted,
        }
