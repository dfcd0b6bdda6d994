"""Runs a benchmark: starts the mock server when asked, builds the requests, then for
each concurrency level warms up, drives the closed or open loop with one shared client,
and summarizes. Ctrl-C stops the run and keeps what finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from seltzer._core import APIConnectionError, APIStatusError
from seltzer.bench.client import make_client, transport_name
from seltzer.bench.config import DEFAULT_PROMPT, BenchConfig, MockPacing, Prompt, levels_of
from seltzer.bench.connections import open_connections, probe_url
from seltzer.bench.errors import error_group, redact
from seltzer.bench.loops import Send, closed_loop, open_loop
from seltzer.bench.metrics import level_result
from seltzer.bench.mock_process import mock_base_url, mock_process
from seltzer.bench.monitor import LoopMonitor
from seltzer.bench.progress import LevelBar
from seltzer.bench.reader import RequestRecord, read_stream
from seltzer.bench.report import client_report, saturation_warnings
from seltzer.bench.result import BenchResult, LevelResult
from seltzer.bench.workload import build_requests, load_prompts, poisson_arrivals
from seltzer.endpoints import StreamRequest, api_key_from_env

__all__ = ["arun_config", "make_config", "run", "run_config"]


def run(
    base_url: str | None = None,
    *,
    mock: bool | MockPacing = False,
    dialect: str = "openai-chat",
    model: str | None = None,
    concurrency: int | Sequence[int] | None = None,
    num_prompts: int | None = None,
    duration: float | None = None,
    request_rate: float | None = None,
    prompts: Sequence[str | Prompt] | None = None,
    prompts_file: str | os.PathLike[str] | None = None,
    max_tokens: int | None = 128,
    warmup: int = 0,
    preconnect: bool = True,
    slo: Mapping[str, float] | None = None,
    timeout: float = 60.0,
    seed: int = 0,
    headers: Mapping[str, str] | None = None,
    text_path: str | None = None,
    server_times: bool = False,
    api_key: str | None = None,
    progress: bool = False,
) -> BenchResult:
    """Benchmarks a streaming LLM endpoint and returns the results per concurrency level.

    One untimed request goes first (as vLLM's initial test run), then for each level:
    its connections are opened, its warm-up requests sent, then the level timed.

    Example:
        result = seltzer.bench.run(mock=MockPacing(ttft_ms=20, itl_ms=5), concurrency=[1, 8])
        print(result.runs[0].itl.median, result.to_dict()["runs"][0]["p99_ttft_ms"])

    Args:
        base_url: The API's base URL as its SDK takes it (requests go to
            ``base_url + "/chat/completions"`` and so on per dialect).
        mock: Benchmark the embedded mock server instead, started in its own process
            (True for the default pacing, or a ``MockPacing``).
        dialect: The wire format, one of ``seltzer.DIALECTS``.
        model: The model name (a default per dialect otherwise).
        concurrency: Closed loop: requests in flight, one level or several (default 1).
            Open loop: the cap on requests in flight per level (default none).
        num_prompts: Requests per level (default: 4 per concurrent slot, at least 16).
        duration: Seconds per level during which requests start, instead of a count.
        request_rate: Requests per second arriving as a seeded Poisson process (the
            open loop; ``math.inf`` sends all at once). None: a closed loop.
        prompts: The prompts, sent in turn (default: one song request).
        prompts_file: A JSONL file of prompts, instead of ``prompts``.
        max_tokens: The output bound per request (a prompt's own wins).
        warmup: Requests sent and discarded before each level.
        preconnect: Open each level's connections before timing it (False: the first
            requests' TTFT includes opening them, in one burst of handshakes).
        slo: Goodput bounds in ms: ``{"ttft_ms": 500, "tpot_ms": 50, "e2el_ms": ...}``.
        timeout: Seconds to wait for a connection or the next bytes of a stream.
        seed: Seeds the open loop's arrival times.
        headers: Extra headers for every request.
        text_path: For the "json" dialect: a JSON pointer to each event's text.
        server_times: Ask a seltzer mock server to stamp each event and report the
            client's error against its send times.
        api_key: The API key (default: the dialect's usual environment variables).
            Never printed or saved.
        progress: Show a progress bar on stderr.

    Returns:
        A ``BenchResult``; ``.to_dict()`` gives vLLM's key names.

    Raises:
        ValueError: A bad option.
        OSError: The prompts file cannot be read.
        RuntimeError: The mock server did not start, or the endpoint failed the untimed
            request sent first (no connection, or a 4xx other than 408 and 429).
    """
    config = make_config(
        base_url=base_url,
        mock=mock,
        dialect=dialect,
        model=model,
        concurrency=concurrency,
        num_prompts=num_prompts,
        duration=duration,
        request_rate=request_rate,
        prompts=prompts,
        prompts_file=prompts_file,
        max_tokens=max_tokens,
        warmup=warmup,
        preconnect=preconnect,
        slo=slo,
        timeout=timeout,
        seed=seed,
        headers=headers,
        text_path=text_path,
        server_times=server_times,
        api_key=api_key,
    )
    return run_config(config, progress=progress)


def make_config(
    *,
    mock: bool | MockPacing,
    concurrency: int | Sequence[int] | None,
    prompts: Sequence[str | Prompt] | None,
    prompts_file: str | os.PathLike[str] | None,
    slo: Mapping[str, float] | None,
    headers: Mapping[str, str] | None,
    **options: Any,
) -> BenchConfig:
    """A ``BenchConfig`` from ``run``'s arguments (defaults filled in, prompts loaded)."""
    if prompts is not None and prompts_file is not None:
        raise ValueError("give prompts or prompts_file, not both")
    if prompts_file is not None:
        workload = load_prompts(Path(prompts_file))
    else:
        given = prompts if prompts is not None else [DEFAULT_PROMPT]
        workload = tuple(p if isinstance(p, Prompt) else Prompt(p) for p in given)
    if concurrency is None:
        concurrency = 0 if options.get("request_rate") is not None else 1
    pacing = MockPacing() if mock is True else (mock or None)
    return BenchConfig(
        mock=pacing,
        concurrency=levels_of(concurrency),
        prompts=workload,
        slo=dict(slo or {}),
        headers=dict(headers or {}),
        **options,
    )


def run_config(config: BenchConfig, *, progress: bool = False) -> BenchResult:
    """Runs the benchmark that ``config`` describes on a new event loop."""
    with _endpoint(config) as (base_url, api_key):
        return asyncio.run(_bench(config, base_url, api_key, progress))


async def arun_config(config: BenchConfig, *, progress: bool = False) -> BenchResult:
    """``run_config`` on the running event loop."""
    with _endpoint(config) as (base_url, api_key):
        return await _bench(config, base_url, api_key, progress)


@contextlib.contextmanager
def _endpoint(config: BenchConfig) -> Iterator[tuple[str, str | None]]:
    """The base URL and API key to use, with the mock server running if asked for."""
    if config.mock is not None:
        with mock_process(config.mock) as root:
            yield mock_base_url(root, config.dialect), None
    else:
        assert config.base_url is not None
        yield config.base_url, config.api_key or api_key_from_env(config.dialect)


async def _bench(
    config: BenchConfig, base_url: str, api_key: str | None, progress: bool
) -> BenchResult:
    requests = build_requests(
        config.prompts,
        config.dialect,
        base_url=base_url,
        model=config.model,
        max_tokens=config.max_tokens,
        api_key=api_key,
        headers=config.headers,
        server_times=config.server_times,
    )
    secrets = _secrets(api_key, config.headers, base_url)
    stop = asyncio.Event()
    release = _trap_sigint(stop)
    runs: list[LevelResult] = []
    try:
        client = make_client(max_connections=_max_connections(config), timeout=config.timeout)
        async with client:
            send = _sender(client, requests, config)
            await _first_request(send, secrets)
            for level in config.concurrency:
                if config.preconnect and level and not stop.is_set():
                    await open_connections(
                        client,
                        probe_url(base_url, config.dialect),
                        level,
                        headers=requests[0].headers,
                        timeout=config.timeout,
                    )
                if config.warmup and not stop.is_set():
                    await _warm_up(send, level, config.warmup, stop)
                if stop.is_set():
                    break
                runs.append(await _level(config, send, level, stop, progress, secrets))
            transport = transport_name(client)
    finally:
        release()
    return BenchResult(
        runs=runs,
        client=client_report(config, base_url, transport, runs),
        warnings=saturation_warnings(runs),
        interrupted=stop.is_set(),
    )


def _sender(client: httpx.AsyncClient, requests: list[StreamRequest], config: BenchConfig) -> Send:
    async def send(i: int) -> RequestRecord:
        return await read_stream(
            client,
            requests[i % len(requests)],
            config.dialect,
            text_path=config.text_path,
            server_times=config.server_times,
        )

    return send


async def _first_request(send: Send, secrets: list[str]) -> None:
    """Sends one untimed request first, as vLLM's initial test run does: it pays the
    one-time costs (connecting, lazy imports) outside the measurements, and stops the
    run early when the endpoint cannot work (no connection, a 4xx other than 408/429).

    Raises:
        RuntimeError: The endpoint cannot work; the (redacted) reason is in the message.
    """
    error = (await send(0)).error
    status = error.status_code if isinstance(error, APIStatusError) else None
    fatal = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, APIConnectionError)) or (
        status is not None and 400 <= status < 500 and status not in (408, 429)
    )
    if error is not None and fatal:
        detail = redact(f"{error_group(error)}: {error}", secrets)
        raise RuntimeError(f"the endpoint failed its first request: {detail}")


async def _warm_up(send: Send, level: int, count: int, stop: asyncio.Event) -> None:
    """Sends ``count`` requests, up to ``level`` at a time, and forgets them."""
    slots = min(count, level) if level else count
    await closed_loop(
        send, lambda _: None, concurrency=slots, count=count, duration=None, stop=stop
    )


async def _level(
    config: BenchConfig,
    send: Send,
    level: int,
    stop: asyncio.Event,
    progress: bool,
    secrets: list[str],
) -> LevelResult:
    total = config.requests_per_level(level)
    records: list[RequestRecord] = []
    bar = LevelBar(_label(config, level), total, enabled=progress)

    def keep(record: RequestRecord) -> None:
        records.append(record)
        bar.done(ok=record.ok)

    monitor = LoopMonitor()
    started = time.perf_counter()
    try:
        async with monitor:
            if config.request_rate is not None:
                arrivals = poisson_arrivals(config.request_rate, config.seed)
                await open_loop(
                    send,
                    keep,
                    arrivals=arrivals,
                    cap=level or None,
                    count=total,
                    duration=config.duration,
                    stop=stop,
                )
            else:
                await closed_loop(
                    send, keep, concurrency=level, count=total, duration=config.duration, stop=stop
                )
    finally:
        bar.close()
    return level_result(
        records,
        concurrency=level or None,
        request_rate=config.request_rate,
        duration=time.perf_counter() - started,
        slo=config.slo,
        client=monitor.stats,
        secrets=secrets,
        interrupted=stop.is_set(),
    )


def _label(config: BenchConfig, level: int) -> str:
    if config.request_rate is None:
        return f"concurrency {level}"
    cap = f", at most {level} in flight" if level else ""
    return f"{config.request_rate:g} req/s{cap}"


def _max_connections(config: BenchConfig) -> int | None:
    if config.request_rate is not None and 0 in config.concurrency:
        return None
    return max(config.concurrency)


def _secrets(api_key: str | None, headers: Mapping[str, str], base_url: str) -> list[str]:
    """Everything that might hold a credential: never shown in messages."""
    secrets = [api_key or "", *headers.values()]
    with contextlib.suppress(httpx.InvalidURL):
        url = httpx.URL(base_url)
        secrets += [url.password or "", url.query.decode(errors="replace")]
    return [s for s in secrets if s]


def _trap_sigint(stop: asyncio.Event) -> Callable[[], None]:
    """Makes Ctrl-C set ``stop`` (once: a second Ctrl-C interrupts at once); returns the
    function that undoes it. Only the main thread can take signals."""
    loop = asyncio.get_running_loop()
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_sigint() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or no signals here
        return lambda: None

    def release() -> None:
        loop.remove_signal_handler(signal.SIGINT)

    return release
