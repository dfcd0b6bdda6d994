"""Opening a level's connections before it is timed. A closed loop starts all its
requests at once: on new connections, that burst of TCP (and TLS) handshakes keeps the
client's transport thread busy for tens of milliseconds, and the first tokens of the
earliest streams wait on their sockets meanwhile, to be stamped late (at 512 streams on
two cores, 10-40 ms for one first token in ten). A long-running client has its
connections open already; so does the benchmark, unless asked to time them
(``preconnect=False``).

Each connection is opened by a cheap GET of the API (its model list where it has one);
any answer, an error status included, leaves the connection in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import httpx

from seltzer.transport import AsyncHTTPTransport

__all__ = ["PROBE_PATHS", "open_connections", "probe_url"]

#: A cheap GET per dialect, under its base URL.
PROBE_PATHS: Mapping[str, str] = {
    "openai-completions": "/models",
    "openai-chat": "/models",
    "openai-responses": "/models",
    "json": "/models",
    "anthropic": "/models",
    "gemini": "/models",
    "tgi": "/health",
    "ollama": "/api/tags",
}


def probe_url(base_url: str, dialect: str) -> str:
    """The URL whose GET opens a connection to ``base_url``'s server for ``dialect``."""
    return base_url.rstrip("/") + PROBE_PATHS.get(dialect, "/models")


async def open_connections(
    client: httpx.AsyncClient,
    url: str,
    count: int,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> int:
    """Opens up to ``count`` connections to ``url``'s server in ``client``'s pool;
    returns how many GETs were answered. Never raises for the server's sake: a
    connection that cannot be opened now is opened by the request that needs it.

    Each GET holds its connection until all have answered: in Rust through seltzer's
    transport (``AsyncHTTPTransport.open_connections``), else by reading the answers
    only then.
    """
    if count < 1:
        return 0
    transport = client._transport
    if isinstance(transport, AsyncHTTPTransport):
        return await transport.open_connections(url, count, headers=headers, timeout=timeout)

    answered = 0
    pending = count
    everyone = asyncio.Event()

    def arrived() -> None:
        nonlocal pending
        pending -= 1
        if pending == 0:
            everyone.set()

    async def one() -> None:
        nonlocal answered
        waiting = True
        try:
            async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
                answered += 1
                arrived()
                waiting = False
                # Held until all have answered: a finished GET would hand its
                # connection to the next one instead of a new one being opened.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(everyone.wait(), timeout)
                await response.aread()
        except httpx.HTTPError:
            pass
        finally:
            if waiting:
                arrived()

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(count))), 2 * timeout + 1)
    return answered
