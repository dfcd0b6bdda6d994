"""Benchmark a streaming LLM endpoint with a client that is not the bottleneck:
``seltzer.bench.run(...)`` in Python, ``seltzer bench`` on the command line.

Closed loop per concurrency level or open loop (seeded Poisson arrivals); TTFT, TPOT,
ITL and end-to-end latency (mean, median, std, p90, p99), throughputs, failures grouped
by kind and goodput under SLOs, reported with vLLM's ``bench serve`` key names. Each
token's arrival time is read as the Rust decoder hands it out.

    result = seltzer.bench.run(mock=MockPacing(ttft_ms=20, itl_ms=5), concurrency=[1, 8])
    result.runs[1].itl.median, result.to_dict()
"""

from seltzer.bench.config import BenchConfig, MockPacing, Prompt, parse_concurrency, parse_slo
from seltzer.bench.result import BenchResult, ClientStats, LevelResult, ServerTruth
from seltzer.bench.runner import arun_config, run, run_config
from seltzer.bench.stats import Summary
from seltzer.bench.table import format_table

__all__ = [
    "BenchConfig",
    "BenchResult",
    "ClientStats",
    "LevelResult",
    "MockPacing",
    "Prompt",
    "ServerTruth",
    "Summary",
    "arun_config",
    "format_table",
    "parse_concurrency",
    "parse_slo",
    "run",
    "run_config",
]
