"""Lifecycle: interpreter exit with streams open, Ctrl-C in a sync stream, unclosed
responses garbage-collected, 1,000 tasks cancelled at once, os.fork() after the runtime
started, and 16 threads streaming through one client."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import seltzer
from tests.conftest import MODES, run_async

ROOT = Path(__file__).resolve().parents[1]
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


@pytest.fixture
def mock() -> Iterator[Any]:
    with seltzer.mock.serve(worker_threads=2) as server:
        yield server


def url(server: Any) -> str:
    return server.url + "/v1/chat/completions"


def settled(server: Any, want: int = 0, within: float = 2.0) -> int:
    """The mock's open connections once they reach ``want`` (or ``within`` passes)."""
    deadline = time.monotonic() + within
    while server.stats()["open_connections"] != want and time.monotonic() < deadline:
        time.sleep(0.005)
    return int(server.stats()["open_connections"])


def reference(server: Any, tokens: int, seed: int = 0) -> str:
    headers = {"x-mock-tokens": str(tokens), "x-mock-seed": str(seed)}
    with (
        httpx.Client() as client,
        client.stream("POST", url(server), json=CHAT, headers=headers) as r,
    ):
        return "".join(seltzer.iter_text(r, "openai-chat"))


def run_child(code: str, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDEVMODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        check=False,
    )


# --- Interpreter exit ---------------------------------------------------------------------

EXIT_WITH_STREAMS_OPEN = """
    import asyncio, sys, threading
    import httpx, seltzer

    URL = sys.argv[1]
    BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    SLOW = {"x-mock-itl-ms": "200", "x-mock-tokens": "1000"}
    STALLED = {"x-mock-fault": "stall@1:60000"}
    started = threading.Barrier(2)

    # A sync stream left open mid-iteration, in the main thread.
    client = httpx.Client(transport=seltzer.HTTPTransport())
    response = client.send(client.build_request("POST", URL, json=BODY, headers=SLOW), stream=True)
    tokens = seltzer.iter_text(response, "openai-chat")
    next(tokens)

    # A daemon thread blocked in a fused read (the GIL released) that never returns.
    def blocked():
        with httpx.Client(transport=seltzer.HTTPTransport()) as c:
            with c.stream("POST", URL, json=BODY, headers=STALLED) as r:
                for _ in seltzer.iter_text(r, "openai-chat"):
                    started.wait()
    threading.Thread(target=blocked, daemon=True).start()
    started.wait()

    # Async streams still running when asyncio.run returns: it cancels them.
    async def stream(aclient, headers):
        async with aclient.stream("POST", URL, json=BODY, headers=headers) as r:
            async for _ in seltzer.aiter_text(r, "openai-chat"):
                pass

    async def main():
        aclient = httpx.AsyncClient(transport=seltzer.AsyncHTTPTransport())
        tasks = [asyncio.create_task(stream(aclient, SLOW)) for _ in range(8)]
        tasks += [asyncio.create_task(stream(aclient, STALLED)) for _ in range(8)]
        await asyncio.sleep(0.5)
        return tasks

    tasks = asyncio.run(main())
    assert all(t.done() for t in tasks)
    print("exiting", flush=True)
"""


def test_interpreter_exits_promptly_and_quietly_with_streams_open(mock: Any) -> None:
    started = time.monotonic()
    proc = run_child(EXIT_WITH_STREAMS_OPEN, url(mock))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "exiting\n"
    # No "Task was destroyed", no "Exception ignored", no ResourceWarning, no panic.
    assert proc.stderr == ""
    assert time.monotonic() - started < 10
    assert settled(mock) == 0


# --- Ctrl-C -------------------------------------------------------------------------------

CTRL_C = """
    import sys
    import httpx, seltzer

    URL, SOURCE = sys.argv[1], sys.argv[2]
    BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    transport = seltzer.HTTPTransport() if SOURCE == "fused" else None
    client = httpx.Client(transport=transport, timeout=60)
    try:
        with client.stream(
            "POST", URL, json=BODY, headers={"x-mock-fault": "stall@1:10000"}
        ) as response:
            for text in seltzer.iter_text(response, "openai-chat"):
                print("token", flush=True)  # then the read blocks for 10 s
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.stdin.readline()  # stay alive (client open) while the parent looks
    print("done", flush=True)
"""


@pytest.mark.parametrize("source", ["fused", "httpx"])
def test_ctrl_c_in_a_blocked_sync_read_propagates_and_closes(mock: Any, source: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CTRL_C), url(mock), source],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdin is not None
        assert proc.stdout.readline() == "token\n"
        time.sleep(0.2)  # the read is blocked now
        assert settled(mock, want=1) == 1
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.stdout.readline() == "interrupted\n"
        assert time.monotonic() - sent < 2.0
        # The response closed its connection, with the client and process still alive.
        assert settled(mock) == 0
        out, err = proc.communicate("\n", timeout=10)
        assert out == "done\n"
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # reaps it and closes the pipes


# --- Garbage collection -------------------------------------------------------------------


@pytest.mark.parametrize("read_first", [True, False], ids=["mid-stream", "unread"])
@pytest.mark.parametrize("mode", MODES)
def test_unclosed_response_is_released_when_collected(
    mock: Any, mode: str, read_first: bool
) -> None:
    headers = {"x-mock-itl-ms": "50", "x-mock-tokens": "200"}

    if mode == "sync":
        with httpx.Client(transport=seltzer.HTTPTransport()) as client:
            request = client.build_request("POST", url(mock), json=CHAT, headers=headers)
            response = client.send(request, stream=True)
            tokens = seltzer.iter_text(response, "openai-chat")
            if read_first:
                next(tokens)
            assert mock.stats()["open_connections"] == 1
            del response, tokens
            gc.collect()
            assert settled(mock, within=1.0) == 0
        return

    async def main() -> None:
        async with httpx.AsyncClient(transport=seltzer.AsyncHTTPTransport()) as client:
            request = client.build_request("POST", url(mock), json=CHAT, headers=headers)
            response = await client.send(request, stream=True)
            tokens = seltzer.aiter_text(response, "openai-chat")
            if read_first:
                await tokens.__anext__()
            assert mock.stats()["open_connections"] == 1
            with warnings.catch_warnings():
                # An unclosed async response may say so (a ResourceWarning is fair).
                warnings.simplefilter("ignore", ResourceWarning)
                del response, tokens
                gc.collect()
            assert await asyncio.to_thread(settled, mock, 0, 1.0) == 0

    run_async(main(), mode)


# --- 1,000 tasks cancelled at once ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["asyncio", "uvloop"])
def test_1000_tasks_cancelled_at_once(mock: Any, mode: str) -> None:
    headers = {"x-mock-itl-ms": "100", "x-mock-tokens": "10000"}
    n = 1000

    async def main() -> tuple[float, float]:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        transport = seltzer.AsyncHTTPTransport(limits=limits)
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            first = asyncio.Semaphore(0)

            async def stream() -> None:
                async with client.stream("POST", url(mock), json=CHAT, headers=headers) as r:
                    async for _ in seltzer.aiter_text(r, "openai-chat"):
                        first.release()
                        await asyncio.sleep(3600)

            tasks = [asyncio.create_task(stream()) for _ in range(n)]
            for _ in range(n):
                await asyncio.wait_for(first.acquire(), 30)
            assert mock.stats()["open_connections"] == n

            lag = 0.0

            async def heartbeat() -> None:
                nonlocal lag
                while True:
                    before = time.monotonic()
                    await asyncio.sleep(0.01)
                    lag = max(lag, time.monotonic() - before - 0.01)

            beat = asyncio.create_task(heartbeat())
            await asyncio.sleep(0.05)
            cancelled = time.monotonic()
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)
            closed = await asyncio.to_thread(settled, mock, 0, 5.0)
            took = time.monotonic() - cancelled
            assert closed == 0
            beat.cancel()
            return took, lag

    took, lag = run_async(main(), mode)
    assert took < 1.0, f"closing 1000 connections took {took:.2f} s"
    assert lag < 0.5, f"the loop stalled {lag:.2f} s"


# --- fork ---------------------------------------------------------------------------------


def test_forked_child_streams_through_the_client_it_inherited(mock: Any) -> None:
    """After a fork, the child's runtime is its own: a client made before the fork
    (its runtime running, a connection pooled) still streams in the child."""
    text = reference(mock, 20)
    with httpx.Client(transport=seltzer.HTTPTransport(), timeout=5) as client:
        with client.stream("POST", url(mock), json=CHAT, headers={"x-mock-tokens": "20"}) as r:
            assert "".join(seltzer.iter_text(r, "openai-chat")) == text
        read, write = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                os.close(read)
                headers = {"x-mock-tokens": "20"}
                with client.stream("POST", url(mock), json=CHAT, headers=headers) as r:
                    got = "".join(seltzer.iter_text(r, "openai-chat"))
                os.write(write, got.encode())
                code = 0
            except BaseException as exc:
                os.write(write, f"{type(exc).__module__}.{type(exc).__name__}: {exc}".encode())
            finally:
                os._exit(code)
        os.close(write)
        deadline = time.monotonic() + 15
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
            pytest.fail("the forked child hung on the client it inherited")
        got = os.read(read, 1 << 16).decode()
        os.close(read)
        assert os.waitstatus_to_exitcode(status) == 0, got
        assert got == text
        # And the parent's client still works.
        with client.stream("POST", url(mock), json=CHAT, headers={"x-mock-tokens": "20"}) as r:
            assert "".join(seltzer.iter_text(r, "openai-chat")) == text


# --- Threads ------------------------------------------------------------------------------


def test_16_threads_stream_through_one_client(mock: Any) -> None:
    texts = {seed: reference(mock, 30, seed) for seed in range(4)}
    errors: list[BaseException] = []
    done = []
    limits = httpx.Limits(max_connections=16)
    client = httpx.Client(transport=seltzer.HTTPTransport(limits=limits), timeout=10)

    def worker(i: int) -> None:
        try:
            for k in range(10):
                seed = (i + k) % 4
                headers = {"x-mock-tokens": "30", "x-mock-seed": str(seed), "x-mock-itl-us": "200"}
                with client.stream("POST", url(mock), json=CHAT, headers=headers) as r:
                    got = "".join(seltzer.iter_text(r, "openai-chat"))
                assert got == texts[seed]
                done.append(1)
        except BaseException as exc:
            errors.append(exc)

    most_open = 0
    watching = threading.Event()

    def watch() -> None:
        nonlocal most_open
        while not watching.is_set():
            most_open = max(most_open, mock.stats()["open_connections"])
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with client:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
    watching.set()
    watcher.join()
    assert errors == []
    assert len(done) == 160
    # The pool is shared, within its limit.
    assert 1 <= most_open <= 16
