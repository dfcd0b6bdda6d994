"""``--plot``: one PNG with the CDFs of TTFT and ITL per level and the output throughput
against concurrency. matplotlib is an optional extra (``pip install 'seltzer[plot]'``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seltzer.bench.result import BenchResult, LevelResult

__all__ = ["PlotUnavailable", "require_matplotlib", "save_plot"]

#: What to install for plots.
INSTALL_HINT = "pip install 'seltzer[plot]' (or: pip install matplotlib)"


class PlotUnavailable(ImportError):
    """matplotlib, which plots need, is not installed."""


def require_matplotlib() -> Any:
    """The ``matplotlib.pyplot`` module on the file-only Agg backend.

    Raises:
        PlotUnavailable: matplotlib is not installed; the message says what to install.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailable(f"--plot needs matplotlib: {INSTALL_HINT}") from exc
    return plt


def save_plot(result: BenchResult, path: str | Path) -> None:
    """Draws the plots of ``result`` into the image file ``path`` (PNG by its name).

    Raises:
        PlotUnavailable: matplotlib is not installed.
        OSError: The file cannot be written.
    """
    plt = require_matplotlib()
    figure, (ttft_axes, itl_axes, rate_axes) = plt.subplots(1, 3, figsize=(15, 4.5))
    for run in result.runs:
        label = _label(run)
        _cdf(ttft_axes, run.ttfts_ms, label)
        _cdf(itl_axes, run.itls_ms, label)
    ttft_axes.set(title="TTFT", xlabel="ms", ylabel="fraction of requests")
    itl_axes.set(title="ITL", xlabel="ms", ylabel="fraction of gaps")
    itl_axes.set_xscale("symlog", linthresh=1.0)
    levels = [run for run in result.runs if run.concurrency]
    rate_axes.plot(
        [run.concurrency for run in levels],
        [run.output_throughput for run in levels],
        marker="o",
    )
    rate_axes.set(title="Output throughput", xlabel="concurrency", ylabel="output tokens/s")
    if len(levels) > 1:
        rate_axes.set_xscale("log", base=2)
    rate_axes.set_xticks(
        [run.concurrency for run in levels], [str(run.concurrency) for run in levels]
    )
    for axes in (ttft_axes, itl_axes):
        if result.runs:
            axes.legend(loc="best")
        axes.grid(alpha=0.3)
    rate_axes.grid(alpha=0.3)
    client = result.client
    figure.suptitle(f"seltzer bench: {client['dialect']} {client['model']} at {client['base_url']}")
    figure.tight_layout()
    figure.savefig(Path(path), dpi=100)
    plt.close(figure)


def _label(run: LevelResult) -> str:
    if run.request_rate is None:
        return f"concurrency {run.concurrency}"
    return f"{run.request_rate:g} req/s"


def _cdf(axes: Any, values: list[float], label: str) -> None:
    if not values:
        return
    ordered = sorted(values)
    fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
    axes.step(ordered, fractions, where="post", label=label)
