"""The Runnable layer's cost per token against LangChain and the openai SDK, each
streaming the same 10,000-token reply from the mock server in a separate process.

Per scenario (``group``): the client's CPU time per token (``time.process_time``,
median of 5 rounds) goes in ``extra_info["cpu_us_per_token"]``; every contender must
produce the same text before its timing counts. The concurrency scenario runs 1,000
``astream`` calls on one loop and records aggregate tokens/s, the worst loop lag, the
longest loop callback (wall and CPU) and the garbage collector's longest pause.

Run: pytest benches/test_runnables.py --benchmark-group-by=group -s
(``SELTZER_BENCH_TOKENS`` / ``SELTZER_BENCH_STREAMS`` shrink it for a smoke run.)
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from seltzer import llms
from seltzer.runnables import ChatPromptTemplate, StrOutputParser
from seltzer.tokens import iter_text
from seltzer.transport import response_body

TOKENS = int(os.environ.get("SELTZER_BENCH_TOKENS", "10000"))
STREAMS = int(os.environ.get("SELTZER_BENCH_STREAMS", "1000"))
ROUNDS = 5
PROMPT = "Write me a 1 verse song about sparkling water."


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    """A mock server in its own process (so its CPU is not the client's)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seltzer",
            "mock",
            "--port",
            str(port),
            "--tokens",
            str(TOKENS),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def cpu_per_token(benchmark: Any, run: Callable[[], str], expected: str) -> float:
    """Times ``run`` (checked against ``expected`` first); returns CPU µs per token."""
    assert run() == expected
    samples: list[float] = []

    def timed() -> str:
        start = time.process_time()
        text = run()
        samples.append(time.process_time() - start)
        return text

    benchmark.pedantic(timed, rounds=ROUNDS, iterations=1)
    per_token = statistics.median(samples) / TOKENS * 1e6
    benchmark.extra_info["cpu_us_per_token"] = round(per_token, 3)
    return per_token


def reference_text(url: str, path: str) -> str:
    """The reply as plain JSON (non-streaming) from the same server."""
    if path == "chat":
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
        reply = httpx.post(url + "/v1/chat/completions", json=body, timeout=60).json()
        return str(reply["choices"][0]["message"]["content"])
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": PROMPT, "max_tokens": TOKENS}
    reply = httpx.post(url + "/v1/completions", json=body, timeout=60).json()
    return str(reply["choices"][0]["text"])


# -- ChatOpenAI.stream -------------------------------------------------------------------


@pytest.mark.benchmark(group="chat-stream")
def test_seltzer_chat_stream(benchmark: Any, mock_url: str) -> None:
    model = llms.ChatOpenAI(model="gpt-4o-mini", base_url=mock_url + "/v1", api_key="sk-test")
    with model:
        cpu_per_token(
            benchmark,
            lambda: "".join(c.content for c in model.stream(PROMPT)),
            reference_text(mock_url, "chat"),
        )


@pytest.mark.benchmark(group="chat-stream")
def test_langchain_chat_stream(benchmark: Any, mock_url: str) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    model = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini", base_url=mock_url + "/v1", api_key="sk-test"
    )
    cpu_per_token(
        benchmark,
        lambda: "".join(c.content for c in model.stream(PROMPT)),
        reference_text(mock_url, "chat"),
    )


@pytest.mark.benchmark(group="chat-stream")
def test_openai_sdk_chat_stream(benchmark: Any, mock_url: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=mock_url + "/v1", api_key="sk-test")

    def run() -> str:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    cpu_per_token(benchmark, run, reference_text(mock_url, "chat"))


# -- OpenAI.stream (completions) ---------------------------------------------------------


@pytest.mark.benchmark(group="llm-stream")
def test_seltzer_llm_stream(benchmark: Any, mock_url: str) -> None:
    model = llms.OpenAI(base_url=mock_url + "/v1", api_key="sk-test", max_tokens=TOKENS)
    with model:
        cpu_per_token(
            benchmark, lambda: "".join(model.stream(PROMPT)), reference_text(mock_url, "llm")
        )


@pytest.mark.benchmark(group="llm-stream")
def test_langchain_llm_stream(benchmark: Any, mock_url: str) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    model = langchain_openai.OpenAI(base_url=mock_url + "/v1", api_key="sk-test", max_tokens=TOKENS)
    cpu_per_token(benchmark, lambda: "".join(model.stream(PROMPT)), reference_text(mock_url, "llm"))


# -- the transport floor under both ---------------------------------------------------


@pytest.mark.parametrize("path", ["chat", "llm"])
def test_seltzer_transport_floor(benchmark: Any, mock_url: str, path: str) -> None:
    """The floor under ``ChatOpenAI.stream`` / ``OpenAI.stream`` (in their groups): the
    same stream's bytes read through the model's own client and transport, as the model
    reads them, with nothing decoded.

    A client that keeps up with the mock (which writes each token on its own) reads each
    token soon after it arrives, a few per read, and each read's system time outweighs
    the decoding. Then the floor costs about what the whole stream does, and nothing in
    the decoder can bring the stream below it. The floor's rounds alternate with
    ``model.stream`` rounds so that both see the same regime. The cell reports the floor
    (``cpu_us_per_token``), the stream measured alongside it, their ratio and the floor's
    reads per stream. (The benchmark's own timing is of one pair of rounds.)"""
    benchmark.group = f"{path}-stream"
    model: Any
    if path == "chat":
        model = llms.ChatOpenAI(model="gpt-4o-mini", base_url=mock_url + "/v1", api_key="sk-test")
        messages = [{"role": "user", "content": PROMPT}]
        body = {"model": "gpt-4o-mini", "messages": messages, "stream": True}
    else:
        model = llms.OpenAI(base_url=mock_url + "/v1", api_key="sk-test", max_tokens=TOKENS)
        body = {"model": model.model_name, "prompt": PROMPT, "max_tokens": TOKENS, "stream": True}
    endpoint = mock_url + ("/v1/chat/completions" if path == "chat" else "/v1/completions")
    expected = reference_text(mock_url, path)
    floor: list[float] = []
    streamed: list[float] = []
    reads: list[int] = []

    def read_raw() -> list[bytes]:
        client = model._sync_client()
        with client.stream("POST", endpoint, json=body) as response:
            raw = response_body(response)
            assert raw is not None, "the model's client is not on seltzer's transport"
            return list(raw.iter_raw())

    def text(piece: Any) -> str:
        return piece if isinstance(piece, str) else str(piece.content)

    def pair() -> None:
        start = time.process_time()
        streamed_text = "".join(text(piece) for piece in model.stream(PROMPT))
        streamed.append(time.process_time() - start)
        assert streamed_text == expected
        start = time.process_time()
        chunks = read_raw()
        floor.append(time.process_time() - start)
        reads.append(len(chunks))
        assert "".join(iter_text(chunks, model.dialect)) == expected

    with model:
        pair()  # warm-up, and the check that both produce the reference text
        floor.clear()
        streamed.clear()
        reads.clear()
        benchmark.pedantic(pair, rounds=ROUNDS, iterations=1)
    floor_us = statistics.median(floor) / TOKENS * 1e6
    stream_us = statistics.median(streamed) / TOKENS * 1e6
    benchmark.extra_info["cpu_us_per_token"] = round(floor_us, 3)
    benchmark.extra_info["stream_cpu_us_per_token"] = round(stream_us, 3)
    benchmark.extra_info["stream_over_floor"] = round(stream_us / floor_us, 2)
    benchmark.extra_info["floor_reads_per_stream"] = round(statistics.median(reads))


# -- seltzer.langchain (langchain-core's BaseChatModel, seltzer's transport) -------------


@pytest.mark.benchmark(group="langchain-front-door")
@pytest.mark.parametrize("api", ["stream", "astream"])
@pytest.mark.parametrize("side", ["seltzer.langchain", "langchain_openai"])
def test_langchain_front_door(benchmark: Any, mock_url: str, side: str, api: str) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    from seltzer import langchain as seltzer_langchain

    module: Any = seltzer_langchain if side == "seltzer.langchain" else langchain_openai
    model = module.ChatOpenAI(model="gpt-4o-mini", base_url=mock_url + "/v1", api_key="sk-test")
    runner = asyncio.Runner()

    async def collect() -> str:
        return "".join([c.content async for c in model.astream(PROMPT)])

    def run() -> str:
        if api == "stream":
            return "".join(c.content for c in model.stream(PROMPT))
        return runner.run(collect())

    try:
        cpu_per_token(benchmark, run, reference_text(mock_url, "chat"))
    finally:
        runner.close()


# -- astream_events(v2) against astream ----------------------------------------------------


@pytest.mark.benchmark(group="events-overhead")
@pytest.mark.parametrize("api", ["astream", "astream_events"])
@pytest.mark.parametrize("runnable", ["chat", "llm", "chain"])
def test_seltzer_events_overhead(benchmark: Any, mock_url: str, runnable: str, api: str) -> None:
    """A lone chat model (its ``on_chat_model_stream`` events), a lone text model (its
    ``on_llm_stream`` events), and the chain prompt | chat model | StrOutputParser (its
    ``on_parser_stream`` events; three stream events per token)."""
    model: Any = llms.ChatOpenAI(model="gpt-4o-mini", base_url=mock_url + "/v1", api_key="sk-test")
    target: Any = model
    value: Any = PROMPT
    wanted = "on_chat_model_stream"
    reference = reference_text(mock_url, "chat")
    if runnable == "llm":
        model = target = llms.OpenAI(
            model="gpt-3.5-turbo-instruct",
            base_url=mock_url + "/v1",
            api_key="sk-test",
            max_tokens=TOKENS,
        )
        wanted = "on_llm_stream"
        reference = reference_text(mock_url, "llm")
    elif runnable == "chain":
        prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
        target = prompt | model | StrOutputParser()
        value = {"question": PROMPT}
        wanted = "on_parser_stream"
    runner = asyncio.Runner()

    def text(chunk: Any) -> str:
        return chunk if isinstance(chunk, str) else str(chunk.content)

    async def collect() -> str:
        if api == "astream":
            return "".join([text(c) async for c in target.astream(value)])
        parts = [
            text(e["data"]["chunk"])
            async for e in target.astream_events(value, version="v2")
            if e["event"] == wanted
        ]
        return "".join(parts)

    try:
        cpu_per_token(benchmark, lambda: runner.run(collect()), reference)
    finally:
        runner.run(model.aclose())
        runner.close()


# -- many streams on one loop --------------------------------------------------------------


async def _lag_monitor(worst: list[float], stop: asyncio.Event) -> None:
    interval = 0.001
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(interval)
        worst[0] = max(worst[0], time.perf_counter() - start - interval)


@pytest.mark.benchmark(group="concurrent-astream")
@pytest.mark.parametrize("itl_ms", [0, 50])
@pytest.mark.parametrize("client", ["seltzer", "AsyncOpenAI"])
def test_concurrent_astream(benchmark: Any, mock_url: str, client: str, itl_ms: int) -> None:
    """1,000 streams of 100 tokens on one loop. Unpaced (itl 0) the client is the
    bottleneck: aggregate tokens/s. Paced (50 ms apart, 20,000 tokens/s in all, a load
    the client can carry): the worst event-loop lag, i.e. how late any task runs. (At
    itl 0 every stream is ready at once, so one loop iteration holds every stream's work
    and the lag measures saturation, not blocking.)"""
    tokens = max(1, TOKENS // 100)

    async def one_seltzer(model: Any) -> int:
        return sum([1 async for c in model.astream(PROMPT) if c.content])

    async def run() -> tuple[float, float, int]:
        headers = {"x-mock-tokens": str(tokens), "x-mock-itl-ms": str(itl_ms)}
        stop = asyncio.Event()
        worst = [0.0]
        monitor = asyncio.create_task(_lag_monitor(worst, stop))
        start = time.perf_counter()
        if client == "seltzer":
            model = llms.ChatOpenAI(
                model="gpt-4o-mini",
                base_url=mock_url + "/v1",
                api_key="sk-test",
                default_headers=headers,
            )
            counts = await asyncio.gather(*(one_seltzer(model) for _ in range(STREAMS)))
            await model.aclose()
        else:
            openai = pytest.importorskip("openai")
            sdk = openai.AsyncOpenAI(
                base_url=mock_url + "/v1",
                api_key="sk-test",
                default_headers=headers,
                http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=STREAMS)),
            )

            async def one_sdk() -> int:
                stream = await sdk.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}], stream=True
                )
                return sum([1 async for c in stream if c.choices and c.choices[0].delta.content])

            counts = await asyncio.gather(*(one_sdk() for _ in range(STREAMS)))
            await sdk.close()
        elapsed = time.perf_counter() - start
        stop.set()
        await monitor
        return sum(counts) / elapsed, worst[0], sum(counts)

    results: list[tuple[float, float, int]] = []
    # The run starts with no garbage from earlier tests pending: a full collection the
    # collector owes them would land in this run (its pause scales with the whole heap,
    # pytest's included, so it is reported apart, below).
    gc.collect()
    with _longest_callback() as longest, _gc_pauses() as pauses:
        benchmark.pedantic(lambda: results.append(asyncio.run(run())), rounds=1, iterations=1)
    rate, lag, total = results[-1]
    assert total == STREAMS * tokens
    benchmark.extra_info["tokens_per_s"] = round(rate)
    benchmark.extra_info["worst_loop_lag_ms"] = round(lag * 1000, 2)
    benchmark.extra_info["longest_callback_ms"] = round(longest[0] * 1000, 2)
    benchmark.extra_info["longest_callback_cpu_ms"] = round(longest[1] * 1000, 2)
    benchmark.extra_info["longest_gc_pause_ms"] = round(max(pauses.values()) * 1000, 2)
    benchmark.extra_info["full_gc_collections"] = pauses.count


@contextlib.contextmanager
def _longest_callback() -> Iterator[list[float]]:
    """The longest any single event-loop callback (one task step) ran, in wall time and
    in this thread's CPU time: what blocks the loop, as opposed to the loop lag, which
    also counts every other ready task. A callback whose wall time is far above its CPU
    time was preempted (another process had the core), not busy."""
    longest = [0.0, 0.0]
    original = asyncio.events.Handle._run

    def timed(handle: Any) -> None:
        start = time.perf_counter()
        cpu = time.thread_time()
        try:
            original(handle)
        finally:
            longest[0] = max(longest[0], time.perf_counter() - start)
            longest[1] = max(longest[1], time.thread_time() - cpu)

    asyncio.events.Handle._run = timed  # type: ignore[method-assign]
    try:
        yield longest
    finally:
        asyncio.events.Handle._run = original  # type: ignore[method-assign]


class _Pauses(dict[int, float]):
    """The longest pause of each garbage-collector generation; ``count``: full
    (generation 2) collections."""

    count = 0


@contextlib.contextmanager
def _gc_pauses() -> Iterator[_Pauses]:
    """The garbage collector's pauses while the block runs (wall time)."""
    pauses = _Pauses({0: 0.0, 1: 0.0, 2: 0.0})
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        generation = info["generation"]
        pauses[generation] = max(pauses[generation], time.perf_counter() - started[0])
        if generation == 2:
            pauses.count += 1

    gc.callbacks.append(timed)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(timed)
