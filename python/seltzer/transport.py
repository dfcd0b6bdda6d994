"""seltzer's HTTP transport for httpx: requests go out through reqwest (Rust) and bodies
come back as soon as any bytes arrive. The async transport runs on one shared tokio
runtime, whose thread reads every chunk off the socket as it arrives; the sync one, by
default, on a runtime that the waiting caller's own thread runs (one thread wake-up per
read instead of two), unless it is asked to read ahead.

    client = httpx.Client(transport=seltzer.HTTPTransport())
    aclient = httpx.AsyncClient(transport=seltzer.AsyncHTTPTransport(http2=True))

Any httpx-based SDK can take such a client (``openai.OpenAI(http_client=client)``).
Responses from it are read by ``iter_sse`` / ``iter_tokens`` / ``iter_text`` (and their
async twins) straight from the socket in Rust. Failures raise httpx's own exceptions
(``httpx.ConnectError``, ``httpx.ReadTimeout``, ...) with the request attached.
"""

from __future__ import annotations

import asyncio
import atexit
import ssl
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx

from seltzer._core import HttpClient, ResponseBody, shutdown_transport

__all__ = ["AsyncHTTPTransport", "HTTPTransport", "InsecureTransportWarning", "response_body"]

#: httpx's default pool limits.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

#: Where a response from seltzer's transport keeps its Rust body.
BODY_EXTENSION = "seltzer.body"


class InsecureTransportWarning(UserWarning):
    """A seltzer transport was made with ``verify=False`` (warned once per process)."""


_warned_insecure = False


def _warn_insecure() -> None:
    global _warned_insecure
    if not _warned_insecure:
        _warned_insecure = True
        warnings.warn(
            "seltzer transport with verify=False: TLS certificates are not verified, so "
            "any server can impersonate the one you connect to",
            InsecureTransportWarning,
            stacklevel=5,
        )


def _verify_options(verify: Any) -> dict[str, Any]:
    if isinstance(verify, ssl.SSLContext):
        raise TypeError(
            "seltzer's transport verifies TLS with rustls and cannot use an ssl.SSLContext: "
            "pass verify=True (system roots, or SSL_CERT_FILE with trust_env), "
            "verify='/path/to/ca-bundle.pem', or verify=False"
        )
    if isinstance(verify, bool):
        if not verify:
            _warn_insecure()
        return {"verify": verify}
    if isinstance(verify, str):
        return {"verify": True, "ca_bundle": verify}
    raise TypeError(f"verify must be a bool or a CA bundle path, got {type(verify).__name__}")


def _cert_options(cert: Any) -> dict[str, Any]:
    if cert is None:
        return {}
    if isinstance(cert, str):
        return {"cert": cert}
    if isinstance(cert, tuple) and len(cert) == 2:
        return {"cert": cert[0], "key": cert[1]}
    raise TypeError(
        "cert must be a PEM file path or a (certificate, key) tuple of paths; "
        "encrypted keys (a password) are not supported"
    )


def _proxy_url(proxy: Any) -> str | None:
    if proxy is None:
        return None
    if isinstance(proxy, httpx.Proxy):
        url = proxy.url
        if proxy.raw_auth is not None:
            user, password = proxy.raw_auth
            url = url.copy_with(username=user.decode(), password=password.decode())
        return str(url)
    return str(proxy)


def _client(
    verify: Any,
    cert: Any,
    trust_env: bool,
    http1: bool,
    http2: bool,
    limits: httpx.Limits,
    proxy: Any,
    uds: str | None,
    local_address: str | None,
    retries: int,
    socket_options: Any,
    caller_driven: bool,
) -> HttpClient:
    """The Rust client for httpx.HTTPTransport's arguments."""
    if uds is not None:
        raise ValueError("seltzer's transport does not connect over Unix sockets (uds)")
    if socket_options is not None:
        raise ValueError("seltzer's transport does not take socket_options")
    return HttpClient(
        **_verify_options(verify),
        **_cert_options(cert),
        http1=http1,
        http2=http2,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        proxy=_proxy_url(proxy),
        trust_env=trust_env,
        retries=retries,
        local_address=local_address,
        caller_driven=caller_driven,
    )


#: Where a request's first origin is kept: httpx gives the requests of one redirect
#: chain the same extensions dict.
ORIGIN_EXTENSION = "seltzer.origin"

#: Headers that carry API keys besides Authorization (which httpx drops itself on a
#: redirect to another origin): Anthropic's, Gemini's and Azure OpenAI's.
KEY_HEADERS = frozenset({b"x-api-key", b"x-goog-api-key", b"api-key"})


def _parts(request: httpx.Request, content: bytes) -> dict[str, Any]:
    """The request as the Rust client takes it: reqwest writes Host itself, and API key
    headers are not forwarded when a redirect leads to another origin."""
    url = request.url
    netloc = url.netloc
    here = (url.scheme, url.host, url.port)
    away = request.extensions.setdefault(ORIGIN_EXTENSION, here) != here
    headers = [
        (name.decode("latin-1"), value)
        for name, value in request.headers.raw
        if not (name.lower() == b"host" and value == netloc)
        and not (away and name.lower() in KEY_HEADERS)
    ]
    timeout = request.extensions.get("timeout", {})
    return {
        "request": request,
        "method": request.method,
        "url": str(request.url),
        "headers": headers,
        "content": content,
        "connect": timeout.get("connect"),
        "read": timeout.get("read"),
        "write": timeout.get("write"),
        "pool": timeout.get("pool"),
    }


def _response(sent: tuple[int, str, list[tuple[bytes, bytes]], ResponseBody], stream: Any) -> Any:
    status, version, headers, body = sent
    return httpx.Response(
        status,
        headers=headers,
        stream=stream(body),
        extensions={"http_version": version.encode(), BODY_EXTENSION: body},
    )


class _SyncBody(httpx.SyncByteStream):
    """The body for httpx: raw chunks as they arrive, read in Rust."""

    def __init__(self, body: ResponseBody) -> None:
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        return self.body.iter_raw()

    def close(self) -> None:
        self.body.close()


class _AsyncBody(httpx.AsyncByteStream):
    """The async twin of ``_SyncBody``."""

    def __init__(self, body: ResponseBody) -> None:
        self.body = body

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.body.aiter_raw()

    async def aclose(self) -> None:
        self.body.close()


class _Options:
    """``httpx.HTTPTransport``'s constructor, shared by the sync and async transports:
    ``verify`` takes a bool or a CA bundle path (not an ``ssl.SSLContext``); ``cert`` a
    PEM path or a (certificate, key) pair; ``uds`` and ``socket_options`` are not
    supported. Timeouts come from each request, as httpx sets them.

    ``read_ahead`` (seltzer's own): whether a thread of seltzer's runtime reads each chunk
    off the socket the moment it arrives, however busy the caller is (up to 1 MiB ahead;
    ``TokenChunk.received_ns`` is then the arrival time). The async transport always
    does (its runtime waits while the event loop runs). The sync one does not by default:
    the caller's own thread reads the socket while it waits, which costs one thread
    wake-up per read instead of two, and bytes that came while it was busy are read (and
    stamped) together when it next asks, as with httpx's own transport. The read timeout
    then bounds each wait for the server, as httpx's does; reading ahead, it bounds the
    time between chunks from the server, whatever the caller does meanwhile."""

    #: Whether this kind's requests run on the runtime their caller drives (sync only).
    _SYNC = False

    def __init__(
        self,
        verify: ssl.SSLContext | str | bool = True,
        cert: str | tuple[str, str] | None = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = DEFAULT_LIMITS,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
        uds: str | None = None,
        local_address: str | None = None,
        retries: int = 0,
        socket_options: Any = None,
        *,
        read_ahead: bool | None = None,
    ) -> None:
        if read_ahead is None:
            read_ahead = not self._SYNC
        elif not read_ahead and not self._SYNC:
            raise ValueError("the async transport always reads ahead (read_ahead=True)")
        self._client = _client(
            verify,
            cert,
            trust_env,
            http1,
            http2,
            limits,
            proxy,
            uds,
            local_address,
            retries,
            socket_options,
            caller_driven=not read_ahead,
        )


def _probe_headers(headers: Mapping[str, str] | None) -> list[tuple[str, bytes]]:
    return [(name, value.encode("latin-1")) for name, value in (headers or {}).items()]


class HTTPTransport(_Options, httpx.BaseTransport):
    """A drop-in for ``httpx.HTTPTransport`` (same arguments) over reqwest; see
    ``_Options`` for what the arguments accept, and for ``read_ahead``."""

    _SYNC = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Sends ``request``; the response body streams from the socket."""
        sent = self._client.send(**_parts(request, request.read()))
        return _response(sent, _SyncBody)  # type: ignore[no-any-return]

    def open_connections(
        self,
        url: str,
        count: int,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> int:
        """Opens up to ``count`` connections to ``url``'s server ahead of a burst of
        requests, so that the burst does not pay for its handshakes: ``count`` GETs of
        ``url`` (a cheap one, such as a model list) at once, each holding its connection
        until all have answered, then left in the pool. Returns how many were answered,
        whatever their status; an unreachable server answers none. Blocks for at most
        about ``timeout`` seconds."""
        return self._client.open_connections(url, count, _probe_headers(headers), timeout)

    def close(self) -> None:
        """Closes idle pooled connections (``httpx.Client.close`` calls it)."""
        self._client.close()


class AsyncHTTPTransport(_Options, httpx.AsyncBaseTransport):
    """The async twin of ``HTTPTransport``, for ``httpx.AsyncClient`` on asyncio or
    uvloop. Waiting costs one event-loop wake-up per batch of bytes, shared by every
    stream on the loop; cancelling a request or a read closes its connection at once.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Sends ``request``; the response body streams from the socket."""
        sent = await self._client.send_async(**_parts(request, await request.aread()))
        return _response(sent, _AsyncBody)  # type: ignore[no-any-return]

    async def open_connections(
        self,
        url: str,
        count: int,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> int:
        """``HTTPTransport.open_connections``, awaited: the wait happens on a worker
        thread, never on the event loop."""
        probe = _probe_headers(headers)
        return await asyncio.to_thread(self._client.open_connections, url, count, probe, timeout)

    async def aclose(self) -> None:
        """Closes idle pooled connections (``httpx.AsyncClient.aclose`` calls it)."""
        self._client.close()


#: Content codings httpx can undo (when zstandard is installed) but the fused path
#: cannot: such responses are read through httpx. Unknown codings raise
#: ``httpx.DecodingError`` on the fused path rather than yielding garbage.
HTTPX_ONLY_ENCODINGS = frozenset({"zstd"})


def response_body(response: httpx.Response) -> ResponseBody | None:
    """The Rust body of an unread response from seltzer's transport (claiming it: the
    response then counts as consumed), or None for any other response, and for a
    content coding only httpx can undo."""
    body = response.extensions.get(BODY_EXTENSION)
    if not isinstance(body, ResponseBody) or response.is_stream_consumed or body.closed:
        return None
    if response.headers.get("content-encoding", "").strip().lower() in HTTPX_ONLY_ENCODINGS:
        return None
    response.is_stream_consumed = True
    return body


@atexit.register
def _shutdown() -> None:
    """Interpreter exit stops the shared runtime (threads joined, connections closed)."""
    shutdown_transport()
