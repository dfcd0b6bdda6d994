"""The results as a plain-text table for stdout: one column per level, one row per
figure (vLLM's statistics for TTFT, TPOT, ITL and E2E latency), then the mock's own
figures when it stamped its send times, the errors, and the client's warnings.
"""

from __future__ import annotations

from collections.abc import Callable

from seltzer.bench.result import LATENCY_METRICS, BenchResult, LevelResult, ServerTruth
from seltzer.bench.stats import STAT_NAMES

__all__ = ["format_table"]

#: How each latency metric is titled in the table.
TITLES = {"ttft": "TTFT ms", "tpot": "TPOT ms", "itl": "ITL ms", "e2el": "E2E latency ms"}

Row = tuple[str, Callable[[LevelResult], str]]


def format_table(result: BenchResult) -> str:
    """The table, with a heading that says what was measured and how tokens were
    counted; ends with a newline."""
    client = result.client
    lines = [_heading(result)]
    if not result.runs:
        lines.append("no level finished")
    else:
        rows = _rows(result)
        label_width = max(len(label) for label, _ in rows)
        cells = [[cell(run) for run in result.runs] for _, cell in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(result.runs))]
        for (label, _), row in zip(rows, cells, strict=True):
            padded = "  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True))
            lines.append(f"{label.ljust(label_width)}  {padded}".rstrip())
    for run in result.runs:
        for group, count in run.errors.items():
            example = run.error_examples.get(group, "")
            lines.append(f"errors at {_level_name(run)}: {count} x {group}: {example}")
    lines.extend(f"warning: {text}" for text in result.warnings)
    lines.append(
        f"client: {client['python']}, {client['transport']}, "
        f"max CPU {client['cpu_percent']:.0f}% of a core "
        f"(event loop {client['loop_cpu_percent']:.0f}%), "
        f"worst loop lag {client['max_loop_lag_ms']:.1f} ms"
    )
    if result.interrupted:
        lines.append("interrupted: partial results (Ctrl-C)")
    return "\n".join(lines) + "\n"


def _heading(result: BenchResult) -> str:
    client = result.client
    mock = client["mock"]
    where = client["base_url"]
    if mock is not None:
        where += f" (mock in its own process: ttft {mock['ttft_ms']} ms, itl {mock['itl_ms']} ms)"
    load = "closed loop"
    if client["request_rate"] is not None:
        load = f"open loop, Poisson {client['request_rate']} req/s, seed {client['seed']}"
    counts = sorted({run.token_counts for run in result.runs}) or ["-"]
    return (
        f"seltzer bench: {client['dialect']} {client['model']} at {where}; {load}; "
        f"output tokens counted from {'/'.join(counts)}"
    )


def _level_name(run: LevelResult) -> str:
    if run.request_rate is None:
        return f"concurrency {run.concurrency}"
    return f"cap {run.concurrency}" if run.concurrency else "no cap"


def _rows(result: BenchResult) -> list[Row]:
    rows: list[Row] = [
        (
            "concurrency" if result.client["request_rate"] is None else "max in flight",
            lambda r: str(r.concurrency or "-"),
        ),
        ("completed", lambda r: str(r.completed)),
        ("failed", lambda r: str(r.failed)),
        ("duration s", lambda r: f"{r.duration:.2f}"),
        ("requests/s", lambda r: f"{r.request_throughput:.2f}"),
        ("output tokens/s", lambda r: f"{r.output_throughput:.1f}"),
        ("total tokens/s", lambda r: f"{r.total_token_throughput:.1f}"),
    ]
    if result.client["slo"]:
        rows.append(("goodput req/s", lambda r: _number(r.request_goodput, 2)))
    for metric in LATENCY_METRICS:
        for stat in STAT_NAMES:
            rows.append((f"{TITLES[metric]} {stat}", _latency(metric, stat)))
    if any(run.server is not None for run in result.runs):
        rows += [
            ("mock TTFT median ms", _truth(lambda r: r.ttft.median)),
            ("mock ITL median ms", _truth(lambda r: r.itl.median)),
            ("mock ITL p99 ms", _truth(lambda r: r.itl.p99)),
            ("delivery lag median ms", _truth(lambda r: r.delivery_lag.median)),
            ("delivery lag p99 ms", _truth(lambda r: r.delivery_lag.p99)),
        ]
    rows += [
        ("client CPU % of a core", lambda r: f"{r.client.cpu_percent:.0f}"),
        ("event loop lag max ms", lambda r: f"{r.client.max_loop_lag_ms:.1f}"),
    ]
    return rows


def _latency(metric: str, stat: str) -> Callable[[LevelResult], str]:
    return lambda run: _number(run.latency(metric).get(stat), 2)


def _truth(pick: Callable[[ServerTruth], float | None]) -> Callable[[LevelResult], str]:
    return lambda run: "-" if run.server is None else _number(pick(run.server), 2)


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
