"""The one place the benchmark's HTTP client is made: an ``httpx.AsyncClient`` sized for
the load. Changing how bytes reach the decoders (seltzer's Rust transport, say) is a
one-line change here.
"""

from __future__ import annotations

import httpx

from seltzer.transport import AsyncHTTPTransport

__all__ = ["make_client", "transport_name"]


def make_client(*, max_connections: int | None, timeout: float) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for the benchmark.

    Args:
        max_connections: Connections it may open at once (None: no bound); idle ones are
            kept for reuse, so a level's requests do not pay for new connections.
        timeout: Seconds to wait for a connection or for the next bytes of a response.

    Returns:
        A client to use as an async context manager.
    """
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=None)
    # No pool timeout: the load generator itself bounds the requests in flight.
    timeouts = httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=None)
    transport = AsyncHTTPTransport(limits=limits)
    return httpx.AsyncClient(limits=limits, timeout=timeouts, transport=transport)


def transport_name(client: httpx.AsyncClient) -> str:
    """The class of transport that ``client`` sends through, for the report."""
    transport = client._transport
    return f"{type(transport).__module__}.{type(transport).__qualname__}"
