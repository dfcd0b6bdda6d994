"""From request records to a level's metrics, as vLLM's ``bench serve`` defines them:
TTFT and E2EL per completed request, TPOT = (E2EL - TTFT) / (output tokens - 1), ITL as
every gap between consecutive tokens, throughputs over the level's duration, goodput
as the requests that met every SLO.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from seltzer.bench.errors import error_group, redact
from seltzer.bench.reader import RequestRecord
from seltzer.bench.result import ClientStats, LevelResult, ServerTruth
from seltzer.bench.stats import summarize

__all__ = ["level_result", "peak_concurrency"]

_MS = 1e6  # nanoseconds per millisecond


def level_result(
    records: Sequence[RequestRecord],
    *,
    concurrency: int | None,
    request_rate: float | None,
    duration: float,
    slo: Mapping[str, float],
    client: ClientStats,
    secrets: Iterable[str] = (),
    interrupted: bool = False,
) -> LevelResult:
    """The metrics of one level.

    Args:
        records: Every request of the level that finished (completed or failed).
        concurrency: The level's concurrency (or open-loop cap; None for none).
        request_rate: The open loop's rate, None in a closed loop.
        duration: The level's wall time in seconds.
        slo: Bounds in ms for goodput, keyed "ttft_ms", "tpot_ms", "e2el_ms".
        client: The client's report on itself during the level.
        secrets: Strings to remove from error messages.
        interrupted: Whether Ctrl-C cut the level short.
    """
    done = [r for r in records if r.ok and r.token_ns]
    failed = [r for r in records if not r.ok]
    # A stream that ended properly without a single token is a failure too: no TTFT.
    empty = [r for r in records if r.ok and not r.token_ns]
    errors: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for record in failed:
        assert record.error is not None
        group = error_group(record.error)
        errors[group] += 1
        examples.setdefault(group, redact(str(record.error) or group, secrets))
    if empty:
        errors["no tokens"] += len(empty)
        examples.setdefault("no tokens", "the stream ended without a token")

    ttfts = [(r.token_ns[0] - r.start_ns) / _MS for r in done]
    e2els = [(r.end_ns - r.start_ns) / _MS for r in done]
    itls = [(b - a) / _MS for r in done for a, b in itertools.pairwise(r.token_ns)]
    outputs = [r.output_tokens for r in done]
    tpots = [
        (e2el - ttft) / (n - 1)
        for ttft, e2el, n in zip(ttfts, e2els, outputs, strict=True)
        if n > 1
    ]
    total_output = sum(outputs)
    total_input = sum(r.usage_input_tokens or 0 for r in done)
    from_usage = sum(r.usage_output_tokens is not None for r in done)
    counts = (
        "usage" if from_usage == len(done) and done else "chunks" if not from_usage else "mixed"
    )
    seconds = max(duration, 1e-9)
    goodput = None
    if slo:
        good = sum(
            _meets(slo, ttft, e2el, n) for ttft, e2el, n in zip(ttfts, e2els, outputs, strict=True)
        )
        goodput = good / seconds
    return LevelResult(
        concurrency=concurrency,
        request_rate=request_rate,
        duration=duration,
        completed=len(done),
        failed=len(failed) + len(empty),
        errors=dict(errors.most_common()),
        error_examples=examples,
        total_input_tokens=total_input,
        total_output_tokens=total_output,
        token_counts=counts,
        request_throughput=len(done) / seconds,
        output_throughput=total_output / seconds,
        total_token_throughput=(total_input + total_output) / seconds,
        request_goodput=goodput,
        ttft=summarize(ttfts),
        tpot=summarize(tpots),
        itl=summarize(itls),
        e2el=summarize(e2els),
        peak_concurrency=peak_concurrency(records),
        client=client,
        server=_server_truth(done),
        interrupted=interrupted,
        ttfts_ms=ttfts,
        itls_ms=itls,
    )


def _meets(slo: Mapping[str, float], ttft: float, e2el: float, tokens: int) -> bool:
    """Whether one request met every SLO (TPOT is 0 for a one-token answer, as in vLLM)."""
    tpot = (e2el - ttft) / (tokens - 1) if tokens > 1 else 0.0
    measured = {"ttft_ms": ttft, "tpot_ms": tpot, "e2el_ms": e2el}
    return all(measured[name] <= bound for name, bound in slo.items())


def peak_concurrency(records: Iterable[RequestRecord]) -> int:
    """The most requests in flight at once."""
    edges = sorted(
        edge for r in records for edge in ((r.start_ns, 1), (r.end_ns, -1))
    )  # at equal times an end (-1) sorts before a start
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def _server_truth(done: Sequence[RequestRecord]) -> ServerTruth | None:
    """The mock server's figures, from the stamps of requests that carry all of them."""
    stamped = [r for r in done if r.sent_ns and all(r.sent_ns)]
    if not stamped:
        return None
    ttfts: list[float] = []
    itls: list[float] = []
    lags: list[float] = []
    for r in stamped:
        assert r.sent_ns is not None
        ttfts.append((r.sent_ns[0] - r.start_unix_ns) / _MS)
        itls.extend((b - a) / _MS for a, b in itertools.pairwise(r.sent_ns))
        lags.extend(
            ((arrived - r.start_ns) - (sent - r.start_unix_ns)) / _MS
            for arrived, sent in zip(r.token_ns, r.sent_ns, strict=True)
        )
    return ServerTruth(ttft=summarize(ttfts), itl=summarize(itls), delivery_lag=summarize(lags))
