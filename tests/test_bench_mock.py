"""seltzer.bench against the mock server with known pacing: the reported TTFT and ITL
agree with the server's own send times, token counts are exact in every dialect, the
open loop keeps its schedule, and injected faults are counted and grouped.

The mock runs in another process (as ``--mock`` starts it). Bounds are loose enough for
a loaded two-core machine, and tight enough to catch a metric measured wrongly."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest

import seltzer
from seltzer.bench import BenchConfig, BenchResult, MockPacing, Prompt, arun_config, run
from seltzer.bench.mock_process import mock_base_url, mock_process
from seltzer.bench.workload import poisson_arrivals

DIALECTS = list(seltzer.DIALECTS)
#: Dialects whose mock streams report no output token count.
NO_USAGE = {"tgi", "json"}
#: The json dialect reads OpenAI chat events with a pointer.
CHAT_TEXT = "/choices/0/delta/content"


@pytest.fixture(scope="module")
def root() -> Iterator[str]:
    """A fast mock server in its own process, shared by the tests that set pacing per
    request or need none."""
    with mock_process(MockPacing(ttft_ms=0, itl_ms=1)) as url:
        yield url


def test_reported_ttft_and_itl_match_the_servers_own_send_times() -> None:
    result = run(
        mock=MockPacing(ttft_ms=20, itl_ms=5),
        concurrency=[1, 8],
        num_prompts=16,
        max_tokens=20,
        server_times=True,
    )
    assert [r.concurrency for r in result.runs] == [1, 8]
    for level in result.runs:
        assert (level.completed, level.failed, level.errors) == (16, 0, {})
        assert level.total_output_tokens == 16 * 20
        assert level.token_counts == "usage"
        assert level.peak_concurrency == level.concurrency
        assert len(level.itls_ms) == 16 * 19
        truth = level.server
        assert truth is not None
        itl, ttft = level.itl.median, level.ttft.median
        assert itl is not None
        assert ttft is not None
        assert truth.itl.median is not None
        assert truth.ttft.median is not None
        # The truth is 5 ms apart and 20 ms to the first token; the server's own stamps
        # say what it really did, and the client must agree with them. A client that
        # falls behind reads tokens in bursts, which moves the median gap but not the
        # mean (the same first-to-last span), so the mean is held tighter.
        assert level.itl.mean is not None
        assert truth.itl.mean is not None
        assert abs(level.itl.mean - truth.itl.mean) <= 1.0, (level.itl.mean, truth.itl.mean)
        assert 3.5 <= itl <= 8.0, itl
        assert 4.0 <= truth.itl.median <= 8.0
        assert abs(itl - truth.itl.median) <= 1.5, (itl, truth.itl.median)
        assert 19.0 <= ttft <= 80.0, ttft
        # The first tokens of a level arrive together: under load the last is read late.
        assert abs(ttft - truth.ttft.median) <= 15.0, (ttft, truth.ttft.median)
        assert truth.delivery_lag.median is not None
        assert 0.0 <= truth.delivery_lag.median <= 3.0
        tpot, e2el = level.tpot.median, level.e2el.median
        assert tpot is not None
        assert e2el is not None
        assert 4.5 <= tpot <= 8.0, tpot
        assert 20 + 19 * 5 <= e2el <= 250, e2el
        assert level.client.cpu_percent > 0
    client = result.to_dict()["client"]
    assert client["mock"] == {"ttft_ms": 20, "itl_ms": 5, "jitter_ms": 0, "workers": 1}
    assert client["load"] == "closed-loop"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_counts_tokens_exactly(root: str, dialect: str) -> None:
    result = run(
        mock_base_url(root, dialect),
        dialect=dialect,
        concurrency=2,
        num_prompts=4,
        max_tokens=7,
        text_path=CHAT_TEXT if dialect == "json" else None,
    )
    (level,) = result.runs
    assert (level.completed, level.failed) == (4, 0), level.errors
    assert level.total_output_tokens == 4 * 7
    assert len(level.itls_ms) == 4 * 6  # every token timed, from the chunks
    assert level.token_counts == ("chunks" if dialect in NO_USAGE else "usage")
    if dialect not in NO_USAGE:
        assert level.total_input_tokens > 0


def test_open_loop_keeps_its_seeded_schedule(root: str) -> None:
    rate, count = 25.0, 25
    result = run(
        mock_base_url(root, "openai-chat"),
        request_rate=rate,
        num_prompts=count,
        max_tokens=3,
        seed=5,
    )
    (level,) = result.runs
    last = list(itertools.islice(poisson_arrivals(rate, seed=5), count))[-1]
    assert level.completed == count
    assert last <= level.duration <= last + 1.5, (last, level.duration)
    data = result.to_dict()
    assert data["runs"][0]["request_rate"] == rate
    assert data["runs"][0]["concurrency"] is None
    assert data["client"]["load"] == "open-loop"


@pytest.mark.parametrize(
    ("fault", "group"),
    [
        ("status:503", "APIStatusError: HTTP 503"),
        ("error-event@3", "StreamError"),
        ("drop@3", "StreamInterrupted ("),
        ("stall@3:3000", "StreamInterrupted (ReadTimeout)"),
    ],
)
def test_injected_faults_are_counted_and_grouped(root: str, fault: str, group: str) -> None:
    # Short prompts end before the fault's token: they complete; long ones fail.
    prompts = [Prompt("short", max_tokens=2), Prompt("long", max_tokens=6)]
    result = run(
        mock_base_url(root, "openai-chat"),
        concurrency=2,
        num_prompts=6,
        prompts=prompts,
        headers={"x-mock-fault": fault},
        timeout=0.5,
    )
    (level,) = result.runs
    if fault.startswith("status"):
        assert (level.completed, level.failed) == (0, 6)
    else:
        assert (level.completed, level.failed) == (3, 3)
        assert level.total_output_tokens == 3 * 2
    (name,) = level.errors
    assert name.startswith(group), level.errors
    assert level.errors[name] == level.failed
    assert level.error_examples[name]


def test_an_endpoint_that_cannot_work_stops_the_run_at_once(root: str) -> None:
    with pytest.raises(RuntimeError, match="first request: APIStatusError: HTTP 404"):
        run(root + "/no/such/api", num_prompts=50)


def test_warmup_and_first_request_are_sent_but_not_measured() -> None:
    with seltzer.mock.serve() as server:
        result = run(server.url + "/v1", concurrency=[1, 2], num_prompts=3, warmup=2, max_tokens=4)
        # one untimed first request, then per level a probe per slot (opening its
        # connections), 2 warm-up and 3 measured requests
        assert server.stats()["requests"] == 1 + (1 + 2) + 2 * (2 + 3)
    assert [r.completed for r in result.runs] == [3, 3]
    assert all(r.server is None for r in result.runs)  # no stamps unless asked


def test_goodput_counts_requests_within_the_slo(root: str) -> None:
    def goodput(slo: dict[str, float]) -> tuple[float | None, float]:
        result = run(
            mock_base_url(root, "openai-chat"),
            concurrency=2,
            num_prompts=4,
            max_tokens=3,
            headers={"x-mock-ttft-ms": "20"},
            slo=slo,
        )
        return result.runs[0].request_goodput, result.runs[0].request_throughput

    assert goodput({"ttft_ms": 1})[0] == 0.0
    met, throughput = goodput({"ttft_ms": 10_000, "e2el_ms": 10_000})
    assert met == throughput


def test_duration_bounds_when_requests_start(root: str) -> None:
    result = run(mock_base_url(root, "openai-chat"), concurrency=2, duration=0.4, max_tokens=3)
    (level,) = result.runs
    assert level.completed >= 2
    assert level.failed == 0
    assert 0.4 <= level.duration < 5.0


def test_arun_config_runs_on_the_callers_event_loop(root: str) -> None:
    config = BenchConfig(base_url=mock_base_url(root, "ollama"), dialect="ollama", num_prompts=3)

    async def main() -> BenchResult:
        return await arun_config(config)

    (level,) = asyncio.run(main()).runs
    assert (level.completed, level.total_output_tokens) == (3, 3 * 128)
