"""The one place the models' HTTP clients are built: pooled ``httpx`` clients over
the transport the models stream through."""

from __future__ import annotations

from typing import Any

import httpx

from seltzer.transport import AsyncHTTPTransport, HTTPTransport

__all__ = ["DEFAULT_TIMEOUT", "async_client", "async_transport", "sync_client", "sync_transport"]

#: The models' default timeout: generous for the first byte of a slow model.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
#: Connection pool bounds (like the openai SDK's).
LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


def sync_transport() -> httpx.BaseTransport:
    """The transport of the models' sync clients: seltzer's Rust transport, so that
    ``iter_tokens`` decodes straight from the socket."""
    return HTTPTransport(limits=LIMITS)


def async_transport() -> httpx.AsyncBaseTransport:
    """The transport of the models' async clients (seltzer's, as for sync)."""
    return AsyncHTTPTransport(limits=LIMITS)


def _timeout(timeout: Any) -> httpx.Timeout:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, tuple):
        connect, read = timeout
        return httpx.Timeout(read, connect=connect)
    return httpx.Timeout(float(timeout))


def sync_client(timeout: Any = None) -> httpx.Client:
    """A pooled sync client (``timeout``: seconds, (connect, read) or ``httpx.Timeout``)."""
    return httpx.Client(transport=sync_transport(), timeout=_timeout(timeout))


def async_client(timeout: Any = None) -> httpx.AsyncClient:
    """A pooled async client (``timeout`` as for ``sync_client``)."""
    return httpx.AsyncClient(transport=async_transport(), timeout=_timeout(timeout))
