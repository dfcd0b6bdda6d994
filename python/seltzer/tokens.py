"""Tokens from streamed LLM responses: ``iter_tokens`` / ``iter_text`` and their async
twins, over byte iterables or httpx responses. Decoding happens in Rust
(``seltzer._core``); this module picks the byte source and checks responses.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

import httpx

from seltzer._core import (
    DEFAULT_MAX_EVENT_BYTES,
    TokenChunk,
    token_async_iterator,
    token_iterator,
)
from seltzer.sse import (
    EVENT_STREAM,
    async_response_bytes,
    check_response,
    interrupted,
    response_bytes,
)

__all__ = ["aiter_text", "aiter_tokens", "iter_text", "iter_tokens"]

#: What Ollama's native API answers with.
NDJSON = ("application/x-ndjson", "application/ndjson", "application/json")


def iter_tokens(
    source: Iterable[bytes] | httpx.Response,
    dialect: str,
    *,
    text_path: str | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    strict: bool = True,
) -> Iterator[TokenChunk]:
    """Decodes a streamed response into tokens, in Rust.

    Args:
        source: An iterable of bytes-like chunks, or an open (streamed) ``httpx.Response``.
        dialect: The wire format, one of ``seltzer.DIALECTS``.
        text_path: For the "json" dialect: a JSON pointer to the text in each event.
        max_event_bytes: Bound on one event's (NDJSON: line's) bytes.
        strict: Raise ``StreamInterrupted`` when the stream ends before its terminal
            marker (after every token before it).

    Returns:
        An iterator of ``TokenChunk``.

    Raises:
        ValueError: An unknown dialect or a bad ``text_path``.
        APIStatusError: The response has status >= 400.
        SSEError: Wrong content type, or an event over ``max_event_bytes``.
        DecodeError: A payload is not the JSON the dialect expects.
        StreamError: The provider sent an error inside the stream.
        StreamInterrupted: The stream ended early (``.partial`` holds the text so far, up
            to its first 16 MiB).
    """
    return _sync(source, dialect, False, text_path, max_event_bytes, strict)  # type: ignore[no-any-return]


def iter_text(
    source: Iterable[bytes] | httpx.Response,
    dialect: str,
    *,
    text_path: str | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    strict: bool = True,
) -> Iterator[str]:
    """Like ``iter_tokens``, but yields each token's text as a plain ``str`` and skips
    tokens without text: the fastest path.
    """
    return _sync(source, dialect, True, text_path, max_event_bytes, strict)  # type: ignore[no-any-return]


def aiter_tokens(
    source: AsyncIterable[bytes] | httpx.Response,
    dialect: str,
    *,
    text_path: str | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    strict: bool = True,
) -> AsyncIterator[TokenChunk]:
    """The async twin of ``iter_tokens``."""
    return _async(source, dialect, False, text_path, max_event_bytes, strict)  # type: ignore[no-any-return]


def aiter_text(
    source: AsyncIterable[bytes] | httpx.Response,
    dialect: str,
    *,
    text_path: str | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    strict: bool = True,
) -> AsyncIterator[str]:
    """The async twin of ``iter_text``."""
    return _async(source, dialect, True, text_path, max_event_bytes, strict)  # type: ignore[no-any-return]


def iter_token_texts(source: httpx.Response, dialect: str) -> Iterator[str]:
    """Every token's text, "" for a token without any: what a text model's ``stream``
    yields, made in Rust without a ``TokenChunk`` per token."""
    return _sync(source, dialect, True, None, DEFAULT_MAX_EVENT_BYTES, True, keep_empty=True)  # type: ignore[no-any-return]


def aiter_token_texts(source: httpx.Response, dialect: str) -> AsyncIterator[str]:
    """The async twin of ``iter_token_texts``."""
    return _async(source, dialect, True, None, DEFAULT_MAX_EVENT_BYTES, True, keep_empty=True)  # type: ignore[no-any-return]


def iter_chat_tokens(source: httpx.Response, dialect: str) -> Iterator[TokenChunk | str]:
    """``iter_tokens``' tokens, except that a plain token of the first choice (text and
    nothing else) after the stream's first comes as its text, a ``str``: what a chat
    model turns into a message without reading the token's other fields."""
    return _sync(source, dialect, False, None, DEFAULT_MAX_EVENT_BYTES, True, plain_texts=True)  # type: ignore[no-any-return]


def aiter_chat_tokens(source: httpx.Response, dialect: str) -> AsyncIterator[TokenChunk | str]:
    """The async twin of ``iter_chat_tokens``."""
    return _async(source, dialect, False, None, DEFAULT_MAX_EVENT_BYTES, True, plain_texts=True)  # type: ignore[no-any-return]


def _media_types(dialect: str) -> tuple[str, ...]:
    return NDJSON if dialect == "ollama" else EVENT_STREAM


def _sync(
    source: Any,
    dialect: str,
    text_only: bool,
    text_path: str | None,
    max_event_bytes: int,
    strict: bool,
    *,
    keep_empty: bool = False,
    plain_texts: bool = False,
) -> Any:
    """The Rust iterator over a byte iterable, or over a checked response's bytes (whose
    transport errors become ``StreamInterrupted``)."""
    on_error = None
    if isinstance(source, httpx.Response):
        check_response(source, _media_types(dialect))
        source, on_error = response_bytes(source), interrupted
    return token_iterator(
        source,
        dialect,
        text_path=text_path,
        max_event_bytes=max_event_bytes,
        strict=strict,
        text_only=text_only,
        keep_empty=keep_empty,
        plain_texts=plain_texts,
        on_error=on_error,
    )


def _async(
    source: Any,
    dialect: str,
    text_only: bool,
    text_path: str | None,
    max_event_bytes: int,
    strict: bool,
    *,
    keep_empty: bool = False,
    plain_texts: bool = False,
) -> Any:
    """The async twin of ``_sync`` (the response is checked when iteration starts)."""
    on_error = None
    if isinstance(source, httpx.Response):
        source, on_error = async_response_bytes(source, _media_types(dialect)), interrupted
    return token_async_iterator(
        source,
        dialect,
        text_path=text_path,
        max_event_bytes=max_event_bytes,
        strict=strict,
        text_only=text_only,
        keep_empty=keep_empty,
        plain_texts=plain_texts,
        on_error=on_error,
    )
