"""Failures, grouped: one short, stable name per kind of failure (``APIStatusError: HTTP
503``, ``StreamInterrupted (ReadTimeout)``), and messages with secrets taken out before
anything is printed or saved.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from seltzer._core import APIStatusError, StreamError, StreamInterrupted

__all__ = ["error_group", "redact", "safe_url"]

#: How long an example error message may be in the report.
MAX_MESSAGE = 200


def error_group(exc: BaseException) -> str:
    """The group that a failure is counted under: its type and the detail that tells
    kinds apart (status code, provider error type, the transport error underneath)."""
    name = type(exc).__name__
    if isinstance(exc, APIStatusError):
        return f"{name}: HTTP {exc.status_code}"
    if isinstance(exc, StreamError):
        return f"{name}: {exc.type}" if exc.type else name
    if isinstance(exc, StreamInterrupted):
        cause = exc.__cause__
        return f"{name} ({type(cause).__name__})" if cause is not None else f"{name}: early end"
    return name


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (of four characters or more) replaced by ``***`` and cut
    to ``MAX_MESSAGE`` characters."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return text


def safe_url(url: str) -> str:
    """``url`` without credentials or query string (either may hold an API key)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid URL>"
    return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))
