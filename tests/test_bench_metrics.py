"""seltzer.bench's arithmetic and parsing, without a network: statistics as vLLM
computes them, per-level metrics from hand-made records, failure grouping, secrets,
options, prompts files."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from pathlib import Path
from typing import Any

import httpx
import pytest

import seltzer
from seltzer.bench import BenchConfig, MockPacing, parse_concurrency, parse_slo
from seltzer.bench.errors import error_group, redact, safe_url
from seltzer.bench.metrics import level_result, peak_concurrency
from seltzer.bench.reader import RequestRecord
from seltzer.bench.result import ClientStats, LevelResult
from seltzer.bench.stats import percentile, summarize
from seltzer.bench.workload import load_prompts, poisson_arrivals

MS = 1_000_000
CLIENT = ClientStats(10.0, 10.0, 0.5, 0.2, False)


def record(start_ms: float, tokens_ms: list[float], end_ms: float, **kw: Any) -> RequestRecord:
    return RequestRecord(
        start_ns=int(start_ms * MS),
        end_ns=int(end_ms * MS),
        token_ns=[int(t * MS) for t in tokens_ms],
        **kw,
    )


def level(records: list[RequestRecord], **kw: Any) -> LevelResult:
    options: dict[str, Any] = {
        "concurrency": 1,
        "request_rate": None,
        "duration": 1.0,
        "slo": {},
        "client": CLIENT,
    }
    return level_result(records, **{**options, **kw})


def test_percentiles_interpolate_linearly_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    # numpy.percentile(values, [50, 90, 99]) with its default "linear" method
    assert percentile(values, 50) == 3.0
    assert percentile(values, 90) == pytest.approx(7.6)
    assert percentile(values, 99) == pytest.approx(9.76)
    summary = summarize([4.0, 1.0, 10.0, 3.0, 2.0])
    assert summary.median == 3.0
    assert summary.mean == 4.0
    assert summary.std == pytest.approx(statistics.pstdev(values))  # population, as np.std
    assert summary.count == 5


def test_an_empty_sample_has_no_statistics() -> None:
    summary = summarize([])
    assert (summary.mean, summary.median, summary.std, summary.p90, summary.p99) == (None,) * 5
    assert summarize([7.0]).std == 0.0


def test_level_metrics_follow_vllm_definitions() -> None:
    records = [
        # 4 tokens: TTFT 10, gaps 5, 5, 10, E2EL 35, TPOT (35 - 10) / 3
        record(0, [10, 15, 20, 30], 35, usage={"prompt_tokens": 3, "completion_tokens": 4}),
        # 2 tokens: TTFT 20, gap 10, E2EL 30, TPOT 10
        record(5, [25, 35], 35, usage={"prompt_tokens": 3, "completion_tokens": 2}),
    ]
    result = level(records, concurrency=2, duration=0.5)
    assert (result.completed, result.failed) == (2, 0)
    assert result.ttfts_ms == [10, 20]
    assert sorted(result.itls_ms) == [5, 5, 10, 10]
    assert result.ttft.mean == 15
    assert result.e2el.median == pytest.approx(32.5)
    assert result.tpot.mean == pytest.approx(((25 / 3) + 10) / 2)
    assert (result.total_input_tokens, result.total_output_tokens) == (6, 6)
    assert result.token_counts == "usage"
    assert result.request_throughput == 4.0
    assert result.output_throughput == 12.0
    assert result.total_token_throughput == 24.0
    assert result.request_goodput is None
    assert result.peak_concurrency == 2
    assert result.server is None


def test_token_counts_come_from_usage_when_reported_else_chunks() -> None:
    with_usage = record(0, [1, 2], 3, usage={"output_tokens": 9})
    without = record(0, [1, 2, 3], 4)
    assert level([with_usage]).total_output_tokens == 9
    chunks = level([without])
    assert (chunks.total_output_tokens, chunks.token_counts) == (3, "chunks")
    mixed = level([with_usage, without])
    assert (mixed.total_output_tokens, mixed.token_counts) == (12, "mixed")
    # Each provider's name for the count is read.
    for key in ("completion_tokens", "output_tokens", "candidatesTokenCount", "eval_count"):
        assert record(0, [1], 2, usage={key: 5}).output_tokens == 5


def test_goodput_counts_requests_within_every_slo() -> None:
    # TTFT 10, 50, 10; TPOT 10, 10, 90; E2EL 20, 60, 100; over 2 s
    records = [record(0, [10, 20], 20), record(0, [50, 60], 60), record(0, [10, 100], 100)]
    assert level(records, duration=2.0, slo={"ttft_ms": 20}).request_goodput == 1.0
    both = level(records, duration=2.0, slo={"ttft_ms": 20, "tpot_ms": 20})
    assert both.request_goodput == 0.5
    assert level(records, duration=2.0, slo={"e2el_ms": 1000}).request_goodput == 1.5


def test_failures_are_grouped_by_kind_with_redacted_examples() -> None:
    timeout = seltzer.StreamInterrupted("stream interrupted")
    timeout.__cause__ = httpx.ReadTimeout("timed out")
    records = [
        record(0, [], 1, error=httpx.ConnectError("cannot reach sk-secret-key")),
        record(0, [1], 2, error=timeout),
        record(0, [], 1, error=timeout),
        record(0, [], 1),  # ended properly without a token
        record(0, [5], 10),
    ]
    result = level(records, secrets=["sk-secret-key"])
    assert (result.completed, result.failed) == (1, 4)
    assert result.errors == {
        "StreamInterrupted (ReadTimeout)": 2,
        "ConnectError": 1,
        "no tokens": 1,
    }
    assert result.error_examples["ConnectError"] == "cannot reach ***"
    assert result.total_output_tokens == 1  # failed requests' tokens are not output


def test_error_groups_name_the_kind_of_failure() -> None:
    assert error_group(seltzer.StreamError("overloaded")).startswith("StreamError")
    assert error_group(ValueError("x")) == "ValueError"
    assert error_group(seltzer.StreamInterrupted("no marker")) == "StreamInterrupted: early end"


def test_redact_and_safe_url_hide_credentials() -> None:
    assert redact("key=sk-abcdef in message", ["sk-abcdef", "", "ab"]) == "key=*** in message"
    assert len(redact("x" * 1000, [])) == 200
    assert safe_url("http://me:hunter22@127.0.0.1:8000/v1?key=abc") == "http://127.0.0.1:8000/v1"


def test_peak_concurrency_counts_overlaps_only() -> None:
    back_to_back = [record(0, [1], 10), record(10, [11], 20), record(20, [21], 30)]
    assert peak_concurrency(back_to_back) == 1
    assert peak_concurrency([record(0, [1], 10), record(5, [6], 15), record(6, [7], 8)]) == 3


def test_poisson_arrivals_are_seeded_and_have_the_asked_rate() -> None:
    first = list(itertools.islice(poisson_arrivals(50.0, seed=7), 20_000))
    assert first == list(itertools.islice(poisson_arrivals(50.0, seed=7), 20_000))
    assert first != list(itertools.islice(poisson_arrivals(50.0, seed=8), 20_000))
    assert first[0] == 0.0
    assert all(b >= a for a, b in itertools.pairwise(first))
    assert 1 / 50 * 0.95 < first[-1] / (len(first) - 1) < 1 / 50 * 1.05
    assert list(itertools.islice(poisson_arrivals(math.inf, seed=0), 3)) == [0.0] * 3


def test_option_parsers_explain_their_errors() -> None:
    assert parse_concurrency("1,8, 64") == (1, 8, 64)
    assert parse_slo("ttft_ms=500, tpot_ms=50") == {"ttft_ms": 500.0, "tpot_ms": 50.0}
    with pytest.raises(ValueError, match="numbers like 1,8,64"):
        parse_concurrency("1,many")
    with pytest.raises(ValueError, match=r"ttft_ms\|tpot_ms\|e2el_ms"):
        parse_slo("latency=5")
    with pytest.raises(ValueError, match="positive"):
        parse_slo("ttft_ms=-1")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "exactly one of base_url and mock"),
        ({"base_url": "http://127.0.0.1:1", "mock": MockPacing()}, "exactly one"),
        ({"mock": MockPacing(), "dialect": "smoke-signals"}, "unknown dialect"),
        ({"mock": MockPacing(), "dialect": "json"}, "text_path"),
        ({"mock": MockPacing(), "concurrency": (0,)}, "concurrency must be >= 1"),
        ({"mock": MockPacing(), "num_prompts": 3, "duration": 1.0}, "not both"),
        ({"mock": MockPacing(), "request_rate": 0.0}, "request_rate"),
        ({"mock": MockPacing(), "slo": {"ttft": 5.0}}, "unknown SLO"),
    ],
)
def test_bad_configurations_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BenchConfig(**options)


def test_default_request_counts_scale_with_concurrency() -> None:
    config = BenchConfig(mock=MockPacing())
    assert [config.requests_per_level(c) for c in (1, 8, 64)] == [16, 32, 256]
    assert BenchConfig(mock=MockPacing(), duration=2.0).requests_per_level(8) is None


def test_prompts_file_takes_strings_and_objects(tmp_path: Path) -> None:
    path = tmp_path / "prompts.jsonl"
    lines = [json.dumps("plain"), "", json.dumps({"prompt": "bounded", "max_tokens": 7})]
    path.write_text("\n".join(lines) + "\n")
    prompts = load_prompts(path)
    assert [(p.text, p.max_tokens) for p in prompts] == [("plain", None), ("bounded", 7)]
    path.write_text('{"text": "wrong key"}\n')
    with pytest.raises(ValueError, match=r"prompts.jsonl:1"):
        load_prompts(path)
    path.write_text("\n")
    with pytest.raises(ValueError, match="no prompts"):
        load_prompts(path)
