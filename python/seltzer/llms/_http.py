"""The one place the models' HTTP clients are built: pooled ``httpx`` clients over
the transport the models stream through (async: with the handling of each answer's
head paced, see ``_pacing``), which look for cookies only in answers that set some."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from seltzer.llms import _pacing
from seltzer.transport import AsyncHTTPTransport, HTTPTransport

__all__ = [
    "DEFAULT_TIMEOUT",
    "PacedAsyncTransport",
    "SetCookieOnlyCookies",
    "async_client",
    "async_transport",
    "sync_client",
    "sync_transport",
]

_Client = TypeVar("_Client", httpx.Client, httpx.AsyncClient)

#: The models' default timeout: generous for the first byte of a slow model.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
#: Connection pool bounds (like the openai SDK's).
LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


def sync_transport() -> httpx.BaseTransport:
    """The transport of the models' sync clients: seltzer's Rust transport, so that
    ``iter_tokens`` decodes straight from the socket."""
    return HTTPTransport(limits=LIMITS)


class PacedAsyncTransport(AsyncHTTPTransport):
    """seltzer's async transport, whose answers are handed on within the loop turn's
    budget (``_pacing.admit_head``): for a burst of heads, what follows each one's
    arrival (httpx's client: cookies, redirects, event hooks; then the model's first
    read, about 100 µs in all) runs over several turns instead of one."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Sends ``request``; returns once the head is in and the turn has budget."""
        response = await super().handle_async_request(request)
        try:
            await _pacing.admit_head()
        except BaseException:
            await response.aclose()
            raise
        return response


def async_transport() -> httpx.AsyncBaseTransport:
    """The transport of the models' async clients (seltzer's, as for sync, paced)."""
    return PacedAsyncTransport(limits=LIMITS)


class SetCookieOnlyCookies(httpx.Cookies):
    """httpx's cookie jar, which hands an answer to ``http.cookiejar`` only when it has a
    ``Set-Cookie`` (or ``Set-Cookie2``) header: the only ones that jar takes cookies
    from. httpx hands it every answer, through two adapter objects and a copy of the
    request's headers: about a fifth of the Python time of starting a stream, for
    answers that (from an LLM API) mostly set none."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Loads the cookies that ``response`` sets, if it sets any."""
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


def _with_set_cookie_only(client: _Client) -> _Client:
    # httpx keeps its jar in ``_cookies`` (its ``cookies`` setter would copy ours into a
    # plain ``Cookies``); the new jar shares the client's own cookie store.
    client._cookies = SetCookieOnlyCookies(client._cookies.jar)
    return client


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
    client = httpx.Client(transport=sync_transport(), timeout=_timeout(timeout))
    return _with_set_cookie_only(client)


def async_client(timeout: Any = None) -> httpx.AsyncClient:
    """A pooled async client (``timeout`` as for ``sync_client``)."""
    client = httpx.AsyncClient(transport=async_transport(), timeout=_timeout(timeout))
    return _with_set_cookie_only(client)
