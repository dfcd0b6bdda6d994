"""httpx integration: Server-Sent Events from byte iterables and httpx responses.

Framing happens in Rust (``seltzer._core``); this module checks responses, opens
streams with the right headers and maps httpx's errors onto seltzer's.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

import httpx

from seltzer._core import (
    DEFAULT_MAX_EVENT_BYTES,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ServerSentEvent,
    SSEError,
    StreamInterrupted,
    sse_async_iterator,
    sse_iterator,
)
from seltzer.transport import response_body

__all__ = ["EventSource", "aconnect_sse", "aiter_sse", "connect_sse", "iter_sse"]

#: How much of an error response's body is read into ``APIStatusError.body``.
ERROR_BODY_LIMIT = 64 * 1024


def iter_sse(
    source: Iterable[bytes] | httpx.Response, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> Iterator[ServerSentEvent]:
    """Frames a byte stream into events, in Rust.

    Args:
        source: An iterable of bytes-like chunks, or an open (streamed) ``httpx.Response``.
        max_event_bytes: Bound on one event's bytes; a larger event raises ``SSEError``.

    Returns:
        An iterator of ``ServerSentEvent``.

    Raises:
        APIStatusError: The response has status >= 400.
        SSEError: The response is not ``text/event-stream``, or an event is too large.
        StreamInterrupted: The connection failed mid-stream (the httpx error is its cause).
    """
    if isinstance(source, httpx.Response):
        check_response(source)
        return sse_iterator(
            response_bytes(source), max_event_bytes=max_event_bytes, on_error=interrupted
        )
    return sse_iterator(source, max_event_bytes=max_event_bytes)


def aiter_sse(
    source: AsyncIterable[bytes] | httpx.Response,
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> AsyncIterator[ServerSentEvent]:
    """Frames an async byte stream into events, in Rust; the async twin of ``iter_sse``.

    Args:
        source: An async iterable of bytes-like chunks, or an open ``httpx.Response``.
        max_event_bytes: Bound on one event's bytes; a larger event raises ``SSEError``.

    Returns:
        An async iterator of ``ServerSentEvent``.

    Raises:
        APIStatusError: The response has status >= 400.
        SSEError: The response is not ``text/event-stream``, or an event is too large.
        StreamInterrupted: The connection failed mid-stream (the httpx error is its cause).
    """
    if isinstance(source, httpx.Response):
        return sse_async_iterator(
            async_response_bytes(source), max_event_bytes=max_event_bytes, on_error=interrupted
        )
    return sse_async_iterator(source, max_event_bytes=max_event_bytes)


class EventSource:
    """An open event-stream response, as ``connect_sse`` / ``aconnect_sse`` yield it."""

    def __init__(
        self, response: httpx.Response, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    ) -> None:
        self.response = response
        self.max_event_bytes = max_event_bytes

    def iter_sse(self) -> Iterator[ServerSentEvent]:
        """The response's events (sync client)."""
        return iter_sse(self.response, max_event_bytes=self.max_event_bytes)

    def aiter_sse(self) -> AsyncIterator[ServerSentEvent]:
        """The response's events (async client)."""
        return aiter_sse(self.response, max_event_bytes=self.max_event_bytes)

    def __repr__(self) -> str:
        request = self.response.request
        return (
            f"<EventSource {request.method} {_safe_url(request.url)} [{self.response.status_code}]>"
        )


@contextlib.contextmanager
def connect_sse(
    client: httpx.Client,
    method: str,
    url: str | httpx.URL,
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    **kwargs: Any,
) -> Iterator[EventSource]:
    """Opens an event stream with an ``httpx.Client``; the response closes on exit.

    Args:
        client: The client to send with (its transport, auth and timeouts apply).
        method: HTTP method, such as "GET" or "POST".
        url: The URL.
        max_event_bytes: Bound on one event's bytes.
        **kwargs: Passed to ``client.stream`` (``json``, ``headers``, ``params``, ...).

    Yields:
        The ``EventSource``.

    Raises:
        APIConnectionError: The request could not be sent (``APITimeoutError`` on timeout).
    """
    kwargs["headers"] = _sse_headers(kwargs.get("headers"))
    with _connection_errors():
        stream = client.stream(method, url, **kwargs)
        response = stream.__enter__()
    try:
        yield EventSource(response, max_event_bytes=max_event_bytes)
    finally:
        stream.__exit__(None, None, None)


@contextlib.asynccontextmanager
async def aconnect_sse(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    **kwargs: Any,
) -> AsyncIterator[EventSource]:
    """Opens an event stream with an ``httpx.AsyncClient``; the async twin of ``connect_sse``.

    Args:
        client: The client to send with.
        method: HTTP method.
        url: The URL.
        max_event_bytes: Bound on one event's bytes.
        **kwargs: Passed to ``client.stream``.

    Yields:
        The ``EventSource``.

    Raises:
        APIConnectionError: The request could not be sent (``APITimeoutError`` on timeout).
    """
    kwargs["headers"] = _sse_headers(kwargs.get("headers"))
    with _connection_errors():
        stream = client.stream(method, url, **kwargs)
        response = await stream.__aenter__()
    try:
        yield EventSource(response, max_event_bytes=max_event_bytes)
    finally:
        await stream.__aexit__(None, None, None)


#: The media type of an event stream.
EVENT_STREAM = ("text/event-stream",)


def check_response(response: httpx.Response, media_types: tuple[str, ...] = EVENT_STREAM) -> None:
    """Raises unless ``response`` is a successful stream of one of ``media_types``.

    Reads up to 64 KiB of an error response's body into the exception.

    Raises:
        APIStatusError: Status >= 400.
        SSEError: A content type not in ``media_types``.
    """
    if response.status_code >= 400:
        body = b""
        with contextlib.suppress(httpx.HTTPError):
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= ERROR_BODY_LIMIT:
                    break
        response.close()
        raise _status_error(response, body)
    error = _content_type_error(response, media_types)
    if error is not None:
        response.close()
        raise error


async def acheck_response(
    response: httpx.Response, media_types: tuple[str, ...] = EVENT_STREAM
) -> None:
    """The async twin of ``check_response``."""
    if response.status_code >= 400:
        body = b""
        with contextlib.suppress(httpx.HTTPError):
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= ERROR_BODY_LIMIT:
                    break
        await response.aclose()
        raise _status_error(response, body)
    error = _content_type_error(response, media_types)
    if error is not None:
        await response.aclose()
        raise error


async def checked_aiter_bytes(
    response: httpx.Response, media_types: tuple[str, ...] = EVENT_STREAM
) -> AsyncIterator[bytes]:
    """The response's (content-decoded) bytes, after ``acheck_response``."""
    await acheck_response(response, media_types)
    async for chunk in response.aiter_bytes():
        yield chunk


def response_bytes(response: httpx.Response) -> Any:
    """What the Rust iterators read a checked response from: its Rust body when it came
    from seltzer's transport (the fused path), else its content-decoded bytes."""
    body = response_body(response)
    return response.iter_bytes() if body is None else body


def async_response_bytes(
    response: httpx.Response, media_types: tuple[str, ...] = EVENT_STREAM
) -> Any:
    """The async twin of ``response_bytes``, for an unchecked response: a response that
    passes the checks without reading gives its Rust body; any other is checked (error
    body read) when iteration starts."""
    if response.status_code < 400 and _content_type_error(response, media_types) is None:
        body = response_body(response)
        if body is not None:
            return body
    return checked_aiter_bytes(response, media_types)


def _content_type_error(response: httpx.Response, media_types: tuple[str, ...]) -> SSEError | None:
    content_type = response.headers.get("content-type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type in media_types:
        return None
    request = response.request
    shown = content_type or "no content type"
    return SSEError(
        f"expected {' or '.join(media_types)} from {request.method} "
        f"{_safe_url(request.url)}, got {shown!r}"
    )


def _status_error(response: httpx.Response, raw: bytes) -> APIStatusError:
    raw = raw[:ERROR_BODY_LIMIT]
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    body: Any = text
    if "json" in response.headers.get("content-type", ""):
        with contextlib.suppress(ValueError):
            body = json.loads(text)
    request = response.request
    snippet = text if len(text) <= 200 else text[:200] + "..."
    reason = response.reason_phrase
    error = APIStatusError(
        f"HTTP {response.status_code} {reason} from {request.method} "
        f"{_safe_url(request.url)}: {snippet}"
    )
    error.status_code = response.status_code
    error.body = body
    error.headers = response.headers
    return error


def interrupted(exc: BaseException, offset: int, partial: str) -> BaseException | None:
    """Maps a transport error during the body to ``StreamInterrupted`` (cause kept).

    The Rust iterators call it with the bytes and the text received so far.
    """
    if not isinstance(exc, httpx.TransportError):
        return None
    error = StreamInterrupted(
        f"stream interrupted after {offset} bytes: {type(exc).__name__}: {exc}"
    )
    error.partial = partial
    error.__cause__ = exc
    return error


@contextlib.contextmanager
def _connection_errors() -> Iterator[None]:
    """Maps httpx's failures to connect or send onto seltzer's classes (cause kept)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise APITimeoutError(f"request timed out: {type(exc).__name__}: {exc}") from exc
    except httpx.TransportError as exc:
        raise APIConnectionError(f"connection failed: {type(exc).__name__}: {exc}") from exc


def _sse_headers(headers: Any) -> httpx.Headers:
    merged = httpx.Headers(headers)
    merged.setdefault("Accept", "text/event-stream")
    merged.setdefault("Cache-Control", "no-store")
    return merged


def _safe_url(url: httpx.URL) -> str:
    """The URL without query string or credentials, which may hold API keys."""
    return str(url.copy_with(query=None, userinfo=b""))
