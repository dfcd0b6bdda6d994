"""How accurate is each client at measuring a paced server? Starts the mock server in its
own process with known pacing and send-time stamps (``x-mock-timestamps``), then reads the
same load with three clients at each concurrency level:

- seltzer: ``seltzer bench``'s own reader (``seltzer.bench.reader``, its client from
  ``seltzer.bench.client.make_client``);
- aiohttp: a line reader as vLLM's ``bench serve`` has it (``async for line in
  response.content``, ``json.loads`` per event), when aiohttp is installed;
- openai: the openai SDK's ``AsyncOpenAI`` streaming chat completions.

For each it prints the median and p99 ITL and the median TTFT beside the server's own
figures for the same requests, the error, and the client's CPU per token. Each client
opens its level's connections first, as ``seltzer bench`` does (``--no-preconnect``:
the timed requests open them, in one burst of handshakes).

Run: python benches/bench_client_accuracy.py [--concurrency 1,64,512] [--itl-ms 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from seltzer.bench.client import make_client
from seltzer.bench.config import MockPacing, parse_concurrency
from seltzer.bench.connections import open_connections
from seltzer.bench.loops import closed_loop
from seltzer.bench.metrics import level_result
from seltzer.bench.mock_process import mock_process
from seltzer.bench.monitor import LoopMonitor
from seltzer.bench.reader import RequestRecord, read_stream
from seltzer.bench.result import LevelResult
from seltzer.endpoints import stream_request

#: Reads request number ``i``; made per client and level.
Reader = Callable[[int], Awaitable[RequestRecord]]
STAMPS = {"x-mock-timestamps": "1"}
PROMPT = "Write me a 1 verse song about sparkling water."


def new_record() -> RequestRecord:
    record = RequestRecord(start_ns=0, start_unix_ns=time.time_ns(), sent_ns=[])
    record.start_ns = time.perf_counter_ns()
    return record


async def with_seltzer(
    base: str, level: int, tokens: int, count: int, preconnect: bool
) -> LevelResult:
    request = stream_request("openai-chat", PROMPT, base_url=base, max_tokens=tokens)
    request = type(request)(request.method, request.url, request.json, {**STAMPS})
    async with make_client(max_connections=level, timeout=120) as client:

        async def read(_: int) -> RequestRecord:
            return await read_stream(client, request, "openai-chat", server_times=True)

        if preconnect:
            await open_connections(client, base + "/models", level)
        return await measure(read, level, count)


async def with_aiohttp(
    base: str, level: int, tokens: int, count: int, preconnect: bool
) -> LevelResult:
    import aiohttp

    body = stream_request("openai-chat", PROMPT, base_url=base, max_tokens=tokens).json
    connector = aiohttp.TCPConnector(limit=level)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def read(_: int) -> RequestRecord:
            record = new_record()
            assert record.sent_ns is not None
            try:
                url = base + "/chat/completions"
                async with session.post(url, json=body, headers=STAMPS) as response:
                    async for line in response.content:  # vLLM's backend_request_func
                        line = line.strip()
                        if not line:
                            continue
                        data = line.decode().removeprefix("data: ")
                        if data == "[DONE]":
                            continue
                        now = time.perf_counter_ns()
                        event = json.loads(data)
                        choices = event.get("choices")
                        if choices and choices[0]["delta"].get("content"):
                            record.token_ns.append(now)
                            record.sent_ns.append(event.get("mock_sent_ns", 0))
                        elif event.get("usage"):
                            record.usage.update(event["usage"])
            except Exception as exc:
                record.error = exc
            record.end_ns = time.perf_counter_ns()
            return record

        if preconnect:
            await aiohttp_connections(session, base + "/models", level)
        return await measure(read, level, count)


async def aiohttp_connections(session: Any, url: str, count: int) -> None:
    """``open_connections`` for an aiohttp session: ``count`` GETs held open together,
    so that each opens a connection of its own."""
    everyone = asyncio.Event()
    answered = 0

    async def one() -> None:
        nonlocal answered
        async with session.get(url) as response:
            answered += 1
            if answered == count:
                everyone.set()
            await asyncio.wait_for(everyone.wait(), 30)
            await response.read()

    await asyncio.gather(*(one() for _ in range(count)))


async def with_openai(
    base: str, level: int, tokens: int, count: int, preconnect: bool
) -> LevelResult:
    import openai

    # As people use it: the SDK's own HTTP client (up to 1,000 connections).
    client = openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=0, timeout=120)
    async with client:

        async def read(_: int) -> RequestRecord:
            record = new_record()
            assert record.sent_ns is not None
            try:
                stream = await client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": PROMPT}],
                    max_tokens=tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                    extra_headers=STAMPS,
                )
                async for chunk in stream:
                    now = time.perf_counter_ns()
                    if chunk.choices and chunk.choices[0].delta.content:
                        record.token_ns.append(now)
                        record.sent_ns.append((chunk.model_extra or {}).get("mock_sent_ns", 0))
                    if chunk.usage:
                        record.usage.update(chunk.usage.model_dump())
            except Exception as exc:
                record.error = exc
            record.end_ns = time.perf_counter_ns()
            return record

        if preconnect:
            # The SDK's own httpx client, as its requests use it.
            await open_connections(client._client, base + "/models", level)
        return await measure(read, level, count)


async def measure(read: Reader, level: int, count: int) -> LevelResult:
    records: list[RequestRecord] = []
    await read(0)  # connects and imports outside the measurement
    monitor = LoopMonitor()
    started = time.perf_counter()
    cpu = time.process_time()
    async with monitor:
        await closed_loop(
            read,
            records.append,
            concurrency=level,
            count=count,
            duration=None,
            stop=asyncio.Event(),
        )
    result = level_result(
        records,
        concurrency=level,
        request_rate=None,
        duration=time.perf_counter() - started,
        slo={},
        client=monitor.stats,
    )
    tokens = max(1, result.total_output_tokens)
    result.error_examples["cpu_us_per_token"] = f"{(time.process_time() - cpu) / tokens * 1e6:.1f}"
    return result


def row(name: str, result: LevelResult) -> str:
    truth = result.server
    if truth is None or result.completed == 0:
        return f"{name:8} {result.concurrency:>5}  no completed requests: {result.errors}"
    cells: list[Any] = [
        result.itl.median,
        truth.itl.median,
        result.itl.p99,
        truth.itl.p99,
        result.ttft.median,
        truth.ttft.median,
    ]
    errors = [cells[0] - cells[1], cells[2] - cells[3], cells[4] - cells[5]]
    cpu = result.error_examples["cpu_us_per_token"]
    numbers = "  ".join(f"{value:8.2f}" for value in cells + errors)
    flag = "  saturated" if result.client.saturated else ""
    return f"{name:8} {result.concurrency:>5}  {numbers}  {cpu:>8}{flag}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,64,512")
    parser.add_argument("--ttft-ms", type=int, default=20)
    parser.add_argument("--itl-ms", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=100, help="tokens per response")
    # As `seltzer bench` sends by default (num_prompts: 4 per concurrent slot).
    parser.add_argument("--requests", type=int, default=4, help="requests per slot")
    parser.add_argument("--clients", default="seltzer,aiohttp,openai")
    parser.add_argument(
        "--no-preconnect", action="store_true", help="the timed requests open the connections"
    )
    args = parser.parse_args()
    clients = {"seltzer": with_seltzer, "aiohttp": with_aiohttp, "openai": with_openai}
    pacing = MockPacing(ttft_ms=args.ttft_ms, itl_ms=args.itl_ms)
    print(f"mock in its own process: ttft {args.ttft_ms} ms, itl {args.itl_ms} ms; ms below")
    heads = ["ITL med", "truth", "ITL p99", "truth", "TTFT med", "truth"]
    heads += ["err med", "err p99", "err TTFT", "CPU us/tok"]
    print(f"{'client':8} {'conc':>5}  " + "  ".join(f"{h:>8}" for h in heads))
    with mock_process(pacing) as root:
        for level in parse_concurrency(args.concurrency):
            for name in args.clients.split(","):
                try:
                    result = await clients[name](
                        root + "/v1",
                        level,
                        args.tokens,
                        max(16, args.requests * level),
                        preconnect=not args.no_preconnect,
                    )
                except ImportError as exc:
                    print(f"{name:8} {level:>5}  skipped: {exc}")
                    continue
                print(row(name, result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
