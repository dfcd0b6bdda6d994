"""The embedded mock LLM server: a real HTTP/1.1 server written in Rust (tokio + hyper)
that speaks every dialect's wire format, paces tokens and injects faults on request.

    with seltzer.mock.serve(ttft_ms=20, itl_ms=5) as server:
        httpx.post(server.url + "/v1/chat/completions", json={...})

Per-request overrides travel in headers: ``x-mock-ttft-ms``, ``x-mock-itl-ms`` (``x-mock-itl-us``),
``x-mock-jitter-ms``, ``x-mock-tokens``, ``x-mock-batch``, ``x-mock-seed``,
``x-mock-fault``, ``x-mock-timestamps``, ``x-mock-retry-after``, ``x-mock-unicode``.
Faults: ``status:429`` / ``status:500`` / ``status:503``, ``error-event@N``, ``drop@N``,
``drop-mid@N``, ``drop-utf8@N``, ``stall@N:MS``, ``malformed@N``, ``bad-utf8@N``,
``oversize@N:BYTES``, ``content-type``, ``no-done``.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

from seltzer._core import MockServer, start_mock_server

__all__ = ["MockServer", "serve", "start"]

_running: weakref.WeakSet[MockServer] = weakref.WeakSet()
_lock = threading.Lock()


def start(host: str = "127.0.0.1", port: int = 0, **options: Any) -> MockServer:
    """Starts a mock server on a background thread and returns it, listening.

    Args:
        host: The address to bind; loopback unless told otherwise.
        port: The port; 0 picks a free one.
        **options: ``ttft_ms``, ``itl_ms``, ``jitter_ms``, ``tokens``, ``batch``, ``seed``,
            ``unicode``, ``fault``, ``retry_after_s``, ``timestamps``, ``model``,
            ``worker_threads``.

    Raises:
        OSError: The address cannot be bound.
        ValueError: A bad option (an unknown fault, say).
    """
    server = start_mock_server(host=host, port=port, **options)
    with _lock:
        _running.add(server)
    return server


@contextlib.contextmanager
def serve(host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[MockServer]:
    """``start`` as a context manager: the server stops (threads joined, port released)
    when the block exits, however it exits."""
    server = start(host, port, **options)
    try:
        yield server
    finally:
        server.shutdown()


@atexit.register
def _stop_all() -> None:
    """Interpreter exit stops servers still running, so that no thread is left behind."""
    with _lock:
        servers = list(_running)
    for server in servers:
        server.shutdown()
