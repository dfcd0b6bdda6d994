"""Sending a request with retries: connection errors, 408, 409, 429 and 5xx are tried
again after an exponential backoff with jitter, or after the server's
``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date). Only until the
response's status line: a stream that started is never retried."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time

import httpx

from seltzer._core import APIConnectionError, APITimeoutError

__all__ = ["INITIAL_DELAY", "MAX_DELAY", "asend", "retry_delay", "send", "should_retry"]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
#: Longest server-requested wait that is honoured (longer ones fall back to backoff).
MAX_RETRY_AFTER = 60.0


def should_retry(status_code: int) -> bool:
    """Whether a response status is worth another try."""
    return status_code in (408, 409, 429) or status_code >= 500


def retry_delay(attempt: int, headers: httpx.Headers | None = None) -> float:
    """Seconds to wait before retry number ``attempt + 1``."""
    if headers is not None:
        requested = _retry_after(headers)
        if requested is not None and 0 <= requested <= MAX_RETRY_AFTER:
            return requested
    delay = min(INITIAL_DELAY * 2.0**attempt, MAX_DELAY)
    return delay * (1.0 - 0.25 * random.random())


def _retry_after(headers: httpx.Headers) -> float | None:
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return float(milliseconds) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_to_datetime(value) if _looks_like_date(value) else None
    if parsed is None:
        return None
    return parsed.timestamp() - time.time()


def _looks_like_date(value: str) -> bool:
    try:
        return email.utils.parsedate_tz(value) is not None
    except (TypeError, ValueError):
        return False


def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    where = f"{request.method} {request.url.copy_with(query=None, userinfo=b'')}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out: {type(exc).__name__} ({where})")
    return APIConnectionError(f"connection failed: {type(exc).__name__}: {exc} ({where})")


def send(
    client: httpx.Client, request: httpx.Request, max_retries: int, *, stream: bool = True
) -> httpx.Response:
    """Sends ``request`` (streamed response), retrying as the module describes.

    Returns:
        The response; statuses >= 400 are left for the caller to raise.

    Raises:
        APIConnectionError: Every try failed to connect (``APITimeoutError``: timed out).
    """
    attempt = 0
    while True:
        try:
            response = client.send(request, stream=stream)
        except httpx.TransportError as exc:
            if attempt >= max_retries:
                raise _connection_error(exc, request) from exc
            time.sleep(retry_delay(attempt))
            attempt += 1
            continue
        if attempt < max_retries and should_retry(response.status_code):
            response.close()
            time.sleep(retry_delay(attempt, response.headers))
            attempt += 1
            continue
        return response


async def asend(
    client: httpx.AsyncClient, request: httpx.Request, max_retries: int, *, stream: bool = True
) -> httpx.Response:
    """The async twin of ``send``."""
    attempt = 0
    while True:
        try:
            response = await client.send(request, stream=stream)
        except httpx.TransportError as exc:
            if attempt >= max_retries:
                raise _connection_error(exc, request) from exc
            await asyncio.sleep(retry_delay(attempt))
            attempt += 1
            continue
        if attempt < max_retries and should_retry(response.status_code):
            await response.aclose()
            await asyncio.sleep(retry_delay(attempt, response.headers))
            attempt += 1
            continue
        return response
