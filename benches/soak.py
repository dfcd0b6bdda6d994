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

Each sample also holds the allocator's view (glibc's ``mallinfo2``: bytes in use, and
free bytes it keeps mapped) and Python's allocated blocks, because resident memory alone
cannot tell a leak from allocator retention. At 512 streams the in-use heap stays flat
while resident memory climbs in steps, then plateaus: every pause of the event loop (a
full garbage collection, CPU contention) briefly holds more chunks per stream, the heap
of the transport's thread grows to that high-water mark, and glibc keeps the freed,
fragmented pages (``malloc_trim`` gives them back; under jemalloc the curve stays flat).
So memory is judged twice, each time from a warm baseline to the phase's end: the in-use
heap, which only a real leak moves, and resident memory measured right after
``malloc_trim(0)`` (``trimmed``: what the process needs, without the allocator's cache).
The warm baseline is the first sample ``--warmup`` seconds (at most a quarter of the
phase) into phase 1, and the second sample of phase 2. Every sample as measured, the
cold first one included, is in the report, with a ``summary`` of first, warm, last and
peak. Without glibc's malloc, resident memory as measured is judged instead.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
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
    descriptors, threads; the C heap's MiB in use and MiB free but kept by the allocator
    (``None`` where glibc's ``mallinfo2`` is not the allocator); Python's allocated
    blocks (cyclic garbage included until a collection frees it)."""

    t: float
    rss_mib: float
    fds: int
    threads: int
    heap_mib: float | None = None
    heap_free_mib: float | None = None
    py_blocks: int = 0


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _libc_function(name: str) -> Any:
    try:
        return getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return None


_mallinfo2 = _libc_function("mallinfo2")  # glibc 2.33 and later
if _mallinfo2 is not None:
    _mallinfo2.restype = _Mallinfo2
_malloc_trim = _libc_function("malloc_trim")


def heap_mib() -> tuple[float | None, float | None]:
    """The C heap as glibc sees it, every arena summed: MiB in use (mmapped blocks
    included) and MiB free but still mapped. ``(None, None)`` without glibc's malloc
    (an empty main arena means another allocator, e.g. jemalloc, was preloaded)."""
    if _mallinfo2 is None:
        return None, None
    info = _mallinfo2()
    if info.arena == 0:
        return None, None
    return (
        round((info.uordblks + info.hblkhd) / 2**20, 1),
        round(info.fordblks / 2**20, 1),
    )


def sample(started: float) -> Sample:
    with open("/proc/self/status") as f:
        status = f.read()
    rss_kib = int(status.split("VmRSS:")[1].split()[0])
    in_use, free = heap_mib()
    return Sample(
        t=round(time.monotonic() - started, 2),
        rss_mib=round(rss_kib / 1024, 1),
        fds=len(os.listdir("/proc/self/fd")),
        threads=len(os.listdir("/proc/self/task")),
        heap_mib=in_use,
        heap_free_mib=free,
        py_blocks=sys.getallocatedblocks(),
    )


def trimmed_sample(started: float) -> Sample | None:
    """A sample right after ``malloc_trim(0)`` has handed the allocator's free pages back
    to the system (what the process needs); ``None`` without glibc's malloc."""
    if _malloc_trim is None or heap_mib()[0] is None:
        return None
    _malloc_trim(0)
    return sample(started)


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
    #: Per phase, samples taken right after ``malloc_trim(0)``: ``"warm"`` (just after the
    #: warm baseline) and ``"last"`` (just after the last sample); none without glibc.
    trimmed: dict[str, dict[str, Sample]] = field(default_factory=dict)
    #: Per phase: the cold first sample, the warm baseline, the last and the peak (as measured).
    summary: dict[str, dict[str, Sample]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)

    def trim(self, what: str, which: str, started: float) -> None:
        """Records a sample right after ``malloc_trim(0)`` as ``trimmed[what][which]``."""
        after = trimmed_sample(started)
        if after is not None:
            self.trimmed.setdefault(what, {})[which] = after


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
    warmup: float = 0.0,
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
                if is_warm(report.concurrent_samples, warmup):
                    report.trim("concurrent phase", "warm", started)
                await asyncio.sleep(sample_every)

        watching = asyncio.create_task(sampler())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        report.concurrent_samples.append(sample(started))
        watching.cancel()
        report.trim("concurrent phase", "last", started)


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
                if is_warm(report.sequential_samples, 0.0):
                    report.trim("sequential phase", "warm", started)
            with client.stream("POST", request.url, json=request.json, headers=headers) as r:
                text = "".join(seltzer.iter_text(r, "openai-chat"))
            expected = expected or text
            if text != expected:
                report.problem(f"sequential request {i}: wrong text")
            report.sequential += 1
    report.sequential_samples.append(sample(started))
    report.trim("sequential phase", "last", started)


def warm_index(samples: list[Sample], warmup: float) -> int:
    """The warm baseline: the first sample after the first one (taken before any request)
    that is ``warmup`` seconds into the phase, or the second sample when none is."""
    return next((i for i, s in enumerate(samples) if i >= 1 and s.t >= warmup), 1)


def is_warm(samples: list[Sample], warmup: float) -> bool:
    """Whether the sample just added is the warm baseline (the phase's last one, added
    after the loop, never is: the phase then ended before warming up)."""
    return len(samples) >= 2 and warm_index(samples, warmup) == len(samples) - 1


def check_flat(
    samples: list[Sample],
    what: str,
    report: Report,
    rss_mib: float,
    heap_growth_mib: float = 8.0,
    warmup: float = 0.0,
) -> None:
    """Compares the last sample with the warm baseline (see ``warm_index``): the in-use
    heap, descriptors and threads as measured; resident memory as measured right after
    ``malloc_trim(0)`` at both points when the report has those samples, else as measured.
    Records the samples in ``report.summary``."""
    if len(samples) < 3:
        report.problem(f"{what}: too few samples ({len(samples)}) to judge")
        return
    warm, last = samples[warm_index(samples[:-1], warmup)], samples[-1]
    peak = max(samples, key=lambda s: s.rss_mib)
    report.summary[what] = {"first": samples[0], "warm": warm, "last": last, "peak": peak}
    measured = (
        f"as measured: first {samples[0].rss_mib}, at {warm.t} s {warm.rss_mib}, "
        f"last {last.rss_mib}, peak {peak.rss_mib} MiB"
    )
    trimmed = report.trimmed.get(what, {})
    if "warm" in trimmed and "last" in trimmed:
        before, after = trimmed["warm"].rss_mib, trimmed["last"].rss_mib
        if after - before > rss_mib:
            report.problem(
                f"{what}: resident memory after malloc_trim grew {before} -> {after} MiB "
                f"({measured})"
            )
    elif last.rss_mib - warm.rss_mib > rss_mib:
        report.problem(f"{what}: resident memory grew ({measured})")
    if (
        warm.heap_mib is not None
        and last.heap_mib is not None
        and last.heap_mib - warm.heap_mib > heap_growth_mib
    ):
        report.problem(f"{what}: heap in use grew {warm.heap_mib} -> {last.heap_mib} MiB")
    if last.fds - warm.fds > 8:
        report.problem(f"{what}: open descriptors grew {warm.fds} -> {last.fds}")
    if last.threads > warm.threads:
        report.problem(f"{what}: threads grew {warm.threads} -> {last.threads}")


def soak(
    seconds: float,
    *,
    concurrency: int = 512,
    fault_rate: float = 0.05,
    sequential: int = 100_000,
    sample_every: float = 10.0,
    seed: int = 0,
    rss_growth_mib: float = 32.0,
    heap_growth_mib: float = 8.0,
    warmup: float = 60.0,
) -> Report:
    """Runs both phases against a mock server in a child process; returns the report
    (``problems`` empty when every check passed). Phase 1 is judged from ``warmup``
    seconds in, or from a quarter of the phase if that is shorter."""
    report = Report(seconds=seconds, concurrency=concurrency)
    warmup = min(warmup, seconds / 4)
    with mock_process() as root:
        asyncio.run(
            concurrent_phase(
                root, seconds, concurrency, fault_rate, sample_every, seed, report, warmup
            )
        )
        sequential_phase(root, sequential, report)
    if report.completed == 0:
        report.problem("no stream completed")
    if fault_rate and report.faulted == 0:
        report.problem("no stream was faulted")
    check_flat(
        report.concurrent_samples,
        "concurrent phase",
        report,
        rss_growth_mib,
        heap_growth_mib,
        warmup,
    )
    check_flat(
        report.sequential_samples, "sequential phase", report, rss_growth_mib, heap_growth_mib
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="length of phase 1")
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--sequential", type=int, default=100_000, help="requests in phase 2")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--warmup",
        type=float,
        default=60.0,
        help="seconds into phase 1 of the baseline it is judged from (at most a quarter)",
    )
    args = parser.parse_args(argv)
    report = soak(
        args.seconds,
        concurrency=args.concurrency,
        fault_rate=args.fault_rate,
        sequential=args.sequential,
        sample_every=args.sample_every,
        seed=args.seed,
        warmup=args.warmup,
    )
    print(json.dumps(asdict(report), indent=2))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
