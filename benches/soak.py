"""Soak: many concurrent streams from the mock server for a bounded time, a few of them
faulted, then many sequential requests through one client; no token may be lost or
repeated, and memory, file descriptors and threads must stay flat.

    python benches/soak.py --seconds 600                 # the full soak (issue 11)
    python benches/soak.py --seconds 20 --sequential 2000  # a quick look

Phase 1 keeps ``--concurrency`` streams (512) open on one ``httpx.AsyncClient`` over
seltzer's transport, every dialect the mock speaks in turn; each stream has a
``--fault-rate`` (5%) chance of a random fault at a random token. A stream that completes
must give exactly its true text (the same request without a fault); one that fails must
raise a ``SeltzerError`` after a prefix of it (``StreamInterrupted.partial`` being that
prefix). Resident memory, open descriptors and threads are sampled every
``--sample-every`` seconds. Phase 2 sends ``--sequential`` requests (100,000) one after
another through one sync client, sampled ten times. The mock runs in a process of its
own, so that only the client is measured. Prints a JSON report; exits 1 when a check
fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

import seltzer
from seltzer.endpoints import stream_request

#: Where each dialect's API sits on the mock.
BASE_PATHS = {"anthropic": "/v1", "gemini": "/v1beta", "tgi": "", "ollama": ""}
DIALECTS = [d for d in seltzer.DIALECTS if d != "json"]
#: Faults that end a stream early (``bad-utf8`` changes the text instead: left out).
FAULTS = ["error-event", "drop", "drop-mid", "drop-utf8", "malformed", "stall", "no-done"]
STATUS_FAULTS = ["status:429", "status:500", "status:503"]
#: Streams are this many tokens, paced so that each lasts about a second.
TOKENS = 40
ITL_MS = 20
SEEDS = 16
#: A stall outlasts the read timeout.
READ_TIMEOUT = 1.0
STALL_MS = 2000


@dataclass
class Sample:
    """One look at the process: seconds since the phase began, resident MiB, open
    descriptors, threads."""

    t: float
    rss_mib: float
    fds: int
    threads: int


def sample(started: float) -> Sample:
    with open("/proc/self/status") as f:
        status = f.read()
    rss_kib = int(status.split("VmRSS:")[1].split()[0])
    return Sample(
        t=round(time.monotonic() - started, 2),
        rss_mib=round(rss_kib / 1024, 1),
        fds=len(os.listdir("/proc/self/fd")),
        threads=len(os.listdir("/proc/self/task")),
    )


@dataclass
class Report:
    """What a soak saw. ``problems`` lists every broken promise; empty means it passed."""

    seconds: float = 0.0
    concurrency: int = 0
    streams: int = 0
    completed: int = 0
    faulted: int = 0
    failed_as_expected: int = 0
    tokens: int = 0
    sequential: int = 0
    concurrent_samples: list[Sample] = field(default_factory=list)
    sequential_samples: list[Sample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)


@contextmanager
def mock_process(workers: int = 2) -> Iterator[str]:
    """The mock server in a child process; yields its URL."""
    code = (
        "import sys, seltzer\n"
        f"server = seltzer.mock.start(itl_ms={ITL_MS}, worker_threads={workers})\n"
        "print(server.url, flush=True)\n"
        "sys.stdin.read()\n"
        "server.shutdown()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def request_for(root: str, dialect: str) -> Any:
    return stream_request(
        dialect,
        "Write me a song",
        base_url=root + BASE_PATHS.get(dialect, "/v1"),
        max_tokens=TOKENS,
    )


def references(root: str) -> dict[tuple[str, int], str]:
    """The true text of every (dialect, seed) a stream may ask for."""
    texts = {}
    with httpx.Client(timeout=10) as client:
        for dialect in DIALECTS:
            request = request_for(root, dialect)
            for seed in range(SEEDS):
                headers = {**request.headers, "x-mock-seed": str(seed), "x-mock-itl-ms": "0"}
                with client.stream("POST", request.url, json=request.json, headers=headers) as r:
                    texts[dialect, seed] = "".join(seltzer.iter_text(r, dialect))
    return texts


def pick_fault(rng: random.Random, fault_rate: float) -> str | None:
    if rng.random() >= fault_rate:
        return None
    kind = rng.choice([*FAULTS, *STATUS_FAULTS])
    at = rng.randrange(TOKENS)
    if kind == "stall":
        return f"stall@{at}:{STALL_MS}"
    if kind.startswith("status:") or kind == "no-done":
        return kind
    return f"{kind}@{at}"


async def one_stream(
    client: httpx.AsyncClient,
    root: str,
    rng: random.Random,
    truth: dict[tuple[str, int], str],
    fault_rate: float,
    report: Report,
) -> None:
    dialect = DIALECTS[report.streams % len(DIALECTS)]
    seed = rng.randrange(SEEDS)
    fault = pick_fault(rng, fault_rate)
    report.streams += 1
    report.faulted += fault is not None
    request = request_for(root, dialect)
    headers = {**request.headers, "x-mock-seed": str(seed)}
    if fault:
        headers["x-mock-fault"] = fault
    true_text = truth[dialect, seed]
    got: list[str] = []
    try:
        async with client.stream("POST", request.url, json=request.json, headers=headers) as r:
            async for text in seltzer.aiter_text(r, dialect):
                got.append(text)
    except seltzer.SeltzerError as exc:
        text = "".join(got)
        report.tokens += len(got)
        where = f"{dialect} seed={seed} fault={fault}"
        if fault is None:
            report.problem(f"{where}: unexpected {type(exc).__name__}: {exc}")
        elif not true_text.startswith(text):
            report.problem(f"{where}: tokens before the error are not a prefix of the text")
        elif isinstance(exc, seltzer.StreamInterrupted) and exc.partial != text:
            report.problem(f"{where}: .partial {exc.partial!r} is not the text yielded")
        else:
            report.failed_as_expected += 1
        return
    except Exception as exc:
        report.problem(f"{dialect} seed={seed} fault={fault}: {type(exc).__name__}: {exc}")
        return
    report.tokens += len(got)
    if "".join(got) == true_text:
        report.completed += 1
    else:
        report.problem(f"{dialect} seed={seed} fault={fault}: completed with the wrong text")


async def concurrent_phase(
    root: str,
    seconds: float,
    concurrency: int,
    fault_rate: float,
    sample_every: float,
    seed: int,
    report: Report,
) -> None:
    truth = references(root)
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = seltzer.AsyncHTTPTransport(limits=limits)
    timeout = httpx.Timeout(30.0, read=READ_TIMEOUT)
    started = time.monotonic()
    deadline = started + seconds
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                await one_stream(client, root, rng, truth, fault_rate, report)

        async def sampler() -> None:
            while True:
                report.concurrent_samples.append(sample(started))
                await asyncio.sleep(sample_every)

        watching = asyncio.create_task(sampler())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        report.concurrent_samples.append(sample(started))
        watching.cancel()


def sequential_phase(root: str, count: int, report: Report) -> None:
    request = request_for(root, "openai-chat")
    headers = {**request.headers, "x-mock-itl-ms": "0", "x-mock-tokens": "4"}
    started = time.monotonic()
    every = max(1, count // 10)  # ten samples, however long it takes
    expected = None
    with httpx.Client(transport=seltzer.HTTPTransport(), timeout=10) as client:
        for i in range(count):
            if i % every == 0:
                report.sequential_samples.append(sample(started))
            with client.stream("POST", request.url, json=request.json, headers=headers) as r:
                text = "".join(seltzer.iter_text(r, "openai-chat"))
            expected = expected or text
            if text != expected:
                report.problem(f"sequential request {i}: wrong text")
            report.sequential += 1
    report.sequential_samples.append(sample(started))


def check_flat(samples: list[Sample], what: str, report: Report, rss_mib: float) -> None:
    """Compares the last sample with the first one taken after warm-up (the second)."""
    if len(samples) < 3:
        report.problem(f"{what}: too few samples ({len(samples)}) to judge")
        return
    first, last = samples[1], samples[-1]
    if last.rss_mib - first.rss_mib > rss_mib:
        report.problem(f"{what}: resident memory grew {first.rss_mib} -> {last.rss_mib} MiB")
    if last.fds - first.fds > 8:
        report.problem(f"{what}: open descriptors grew {first.fds} -> {last.fds}")
    if last.threads > first.threads:
        report.problem(f"{what}: threads grew {first.threads} -> {last.threads}")


def soak(
    seconds: float,
    *,
    concurrency: int = 512,
    fault_rate: float = 0.05,
    sequential: int = 100_000,
    sample_every: float = 10.0,
    seed: int = 0,
    rss_growth_mib: float = 32.0,
) -> Report:
    """Runs both phases against a mock server in a child process; returns the report
    (``problems`` empty when every check passed)."""
    report = Report(seconds=seconds, concurrency=concurrency)
    with mock_process() as root:
        asyncio.run(
            concurrent_phase(root, seconds, concurrency, fault_rate, sample_every, seed, report)
        )
        sequential_phase(root, sequential, report)
    if report.completed == 0:
        report.problem("no stream completed")
    if fault_rate and report.faulted == 0:
        report.problem("no stream was faulted")
    check_flat(report.concurrent_samples, "concurrent phase", report, rss_growth_mib)
    check_flat(report.sequential_samples, "sequential phase", report, rss_growth_mib)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="length of phase 1")
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--sequential", type=int, default=100_000, help="requests in phase 2")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = soak(
        args.seconds,
        concurrency=args.concurrency,
        fault_rate=args.fault_rate,
        sequential=args.sequential,
        sample_every=args.sample_every,
        seed=args.seed,
    )
    print(json.dumps(asdict(report), indent=2))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
