"""Type stubs for ``seltzer._core``, the Rust extension."""

from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, Final, final

from typing_extensions import Self

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncChunkIterator",
    "ChunkIterator",
    "DecodeError",
    "SSEDecoder",
    "SSEError",
    "SeltzerError",
    "ServerSentEvent",
    "StreamError",
    "StreamInterrupted",
    "__version__",
    "sse_async_iterator",
    "sse_iterator",
]

__version__: Final[str]
DEFAULT_MAX_EVENT_BYTES: Final[int]

_BytesLike = bytes | bytearray | memoryview

class SeltzerError(Exception):
    """Base class of every error seltzer raises."""

class SSEError(SeltzerError):
    """Not an event stream (wrong content type), or an event over ``max_event_bytes``."""

    offset: int | None
    """Stream offset of the first byte past the limit (None for a content-type error)."""
    limit: int | None
    """The ``max_event_bytes`` in force (None for a content-type error)."""

class DecodeError(SeltzerError):
    """A payload is not the JSON expected."""

    offset: int | None
    """Byte offset of the error."""
    snippet: str | None
    """A short excerpt of the payload around the error."""

class APIStatusError(SeltzerError):
    """The server answered with HTTP status >= 400."""

    status_code: int | None
    """The HTTP status."""
    body: Any
    """The response body (read up to 64 KiB): parsed JSON when it is JSON, else text."""
    headers: Any
    """The response headers (``httpx.Headers``)."""

class StreamError(SeltzerError):
    """The provider sent an error inside the stream."""

    type: str | None
    """The provider's error type."""
    message: str | None
    """The provider's error message."""

class StreamInterrupted(SeltzerError):
    """The stream ended before its end (connection lost, terminal marker missing)."""

    partial: str
    """The text received before the interruption."""

class APIConnectionError(SeltzerError):
    """Could not connect to the server or send the request."""

class APITimeoutError(APIConnectionError):
    """The request timed out."""

@final
class ServerSentEvent:
    """One server-sent event: frozen, comparable and hashable."""

    def __new__(
        cls,
        event: str = "message",
        data: str = "",
        id: str | None = None,
        retry: int | None = None,
    ) -> Self: ...
    @property
    def event(self) -> str:
        """The event type ("message" unless an ``event`` field said otherwise)."""
    @property
    def data(self) -> str:
        """The data lines joined with "\\n"."""
    @property
    def id(self) -> str | None:
        """The decoder's last event ID at dispatch; None when no id was ever sent."""
    @property
    def retry(self) -> int | None:
        """A valid ``retry`` field in this event (milliseconds)."""
    def json(self) -> Any:
        """Parses ``data`` as JSON, in Rust.

        Raises:
            DecodeError: ``data`` is not JSON (``.offset``, ``.snippet``).
        """
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SSEDecoder:
    """Incremental SSE decoder (WHATWG rules), one instance per stream."""

    def __new__(cls, *, max_event_bytes: int = ...) -> Self: ...
    def feed(self, data: _BytesLike, /) -> list[ServerSentEvent]:
        """Decodes a chunk and returns the events it completes.

        An error met after some events of this chunk is raised by the next call, so that
        those events are returned first. Errors are sticky.

        Raises:
            SSEError: An event outgrew ``max_event_bytes``.
        """
    def flush(self) -> list[ServerSentEvent]:
        """Ends the stream; an unterminated event is discarded (per the spec)."""
    @property
    def last_event_id(self) -> str:
        """The last event ID seen ("" until an ``id`` field arrives)."""
    @property
    def retry(self) -> int | None:
        """The last valid ``retry`` field (milliseconds)."""
    @property
    def max_event_bytes(self) -> int:
        """The bound on one event's bytes."""

@final
class ChunkIterator:
    """Iterator of decoded items over an iterable of byte chunks."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...

@final
class AsyncChunkIterator:
    """Async iterator of decoded items over an async iterable of byte chunks; it is its
    own awaitable (coroutine protocol) so that ready items cost no event-loop turn."""

    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Self: ...
    def __await__(self) -> Self: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...
    def send(self, value: Any, /) -> Any: ...
    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any: ...
    def close(self) -> None: ...

def sse_iterator(
    source: Iterable[_BytesLike],
    /,
    *,
    max_event_bytes: int = ...,
    on_error: Callable[[BaseException, int], BaseException | None] | None = None,
) -> ChunkIterator:
    """Events from a byte iterable. ``on_error(exc, offset)`` may replace a source error."""

def sse_async_iterator(
    source: AsyncIterable[_BytesLike],
    /,
    *,
    max_event_bytes: int = ...,
    on_error: Callable[[BaseException, int], BaseException | None] | None = None,
) -> AsyncChunkIterator:
    """Events from an async byte iterable. ``on_error`` as for ``sse_iterator``."""
