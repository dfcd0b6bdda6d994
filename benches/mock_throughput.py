"""Does the mock server outrun its client? Runs `seltzer mock` in its own process and one
client process streaming from it with seltzer (httpx.AsyncClient + aiter_text), at 1, 64
and 512 concurrent streams, and compares CPU per token on both sides: the server can
serve (client CPU per token / server CPU per token) times what one client consumes.
Then sends many small requests through one keep-alive connection and reports the
server's resident memory before and after.

Run: python benches/mock_throughput.py [--tokens 2000] [--requests 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

import httpx

import seltzer

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def stream_all(url: str, streams: int, tokens: int) -> int:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-mock-tokens": str(tokens)}
    limits = httpx.Limits(max_connections=streams)

    async def one(client: httpx.AsyncClient) -> int:
        async with client.stream("POST", url, json=body, headers=headers) as response:
            return sum([1 async for _ in seltzer.aiter_text(response, "openai-chat")])

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        counts = await asyncio.gather(*(one(client) for _ in range(streams)))
    return sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=20000, help="tokens per stream (1 stream)")
    parser.add_argument("--total", type=int, default=100_000, help="tokens per concurrency level")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="the server's runtime threads")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "seltzer", "mock", "--port", "0", "--workers", str(args.workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        base = server.stdout.readline().decode().split(" on ")[1].split(" ")[0]
        url = base + "/v1/chat/completions"
        print(f"mock server pid {server.pid} at {base}; one event per HTTP chunk, itl 0")
        print(
            f"{'streams':>8} {'tokens':>8} {'tokens/s':>10} {'client µs/tok':>14} "
            f"{'server µs/tok':>14} {'server headroom':>16}"
        )
        for streams in (1, 64, 512):
            per_stream = max(1, args.total // streams) if streams > 1 else args.tokens
            s0, c0, t0 = cpu_seconds(server.pid), time.process_time(), time.perf_counter()
            n = asyncio.run(stream_all(url, streams, per_stream))
            s1, c1, t1 = cpu_seconds(server.pid), time.process_time(), time.perf_counter()
            client_us = (c1 - c0) / n * 1e6
            server_us = max(s1 - s0, 1 / CLK_TCK) / n * 1e6
            print(
                f"{streams:>8} {n:>8} {n / (t1 - t0):>10.0f} {client_us:>14.1f} "
                f"{server_us:>14.2f} {client_us / server_us:>15.1f}x"
            )
        before = rss_mib(server.pid)
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        started = time.perf_counter()
        with httpx.Client() as client:
            for i in range(args.requests):
                r = client.post(url, json=body, headers={"x-mock-tokens": "1"})
                r.raise_for_status()
                if i == args.requests // 10:
                    before = rss_mib(server.pid)  # after warm-up
        after = rss_mib(server.pid)
        print(
            f"{args.requests} sequential requests in {time.perf_counter() - started:.1f} s: "
            f"server RSS {before:.1f} MiB after 10% -> {after:.1f} MiB at the end"
        )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
