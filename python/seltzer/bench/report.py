"""What the run reports about its setup and its client: versions, transport, endpoint
(without credentials), load shape, the client's worst CPU share and loop lag, and a
warning for each level where the client was near saturation.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import asdict
from typing import Any

from seltzer._core import __version__
from seltzer.bench.config import BenchConfig
from seltzer.bench.errors import safe_url
from seltzer.bench.monitor import LAG_LIMIT_MS, LOOP_CPU_LIMIT
from seltzer.bench.result import LevelResult
from seltzer.endpoints import DEFAULT_MODELS

__all__ = ["client_report", "saturation_warnings"]


def client_report(
    config: BenchConfig, base_url: str, transport: str, runs: list[LevelResult]
) -> dict[str, Any]:
    """The setup and the client's report on itself, JSON-ready (no secrets)."""
    rate = config.request_rate
    return {
        "seltzer": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "transport": transport,
        "dialect": config.dialect,
        "model": config.model or DEFAULT_MODELS[config.dialect],
        "base_url": safe_url(base_url),
        "mock": asdict(config.mock) if config.mock is not None else None,
        "load": "closed-loop" if rate is None else "open-loop",
        "request_rate": "inf" if rate is not None and math.isinf(rate) else rate,
        "seed": config.seed,
        "max_tokens": config.max_tokens,
        "prompts": len(config.prompts),
        "warmup": config.warmup,
        "preconnect": config.preconnect,
        "slo": dict(config.slo),
        "server_times": config.server_times,
        "cpu_percent": max((r.client.cpu_percent for r in runs), default=0.0),
        "loop_cpu_percent": max((r.client.loop_cpu_percent for r in runs), default=0.0),
        "max_loop_lag_ms": max((r.client.max_loop_lag_ms for r in runs), default=0.0),
        "saturated": any(r.client.saturated for r in runs),
    }


def saturation_warnings(runs: list[LevelResult]) -> list[str]:
    """One warning per level whose client was near saturation."""
    warnings = []
    for run in runs:
        stats = run.client
        if stats.saturated:
            warnings.append(
                f"concurrency {run.concurrency}: the client was near saturation (event loop "
                f"{stats.loop_cpu_percent:.0f}% CPU, limit {LOOP_CPU_LIMIT:.0f}%; p99 loop lag "
                f"{stats.p99_loop_lag_ms:.1f} ms, limit {LAG_LIMIT_MS:.0f} ms): its latencies "
                "include its own delays and are suspect"
            )
    return warnings
