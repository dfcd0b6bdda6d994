"""Type stubs for ``seltzer._core``, the Rust extension."""

from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable, Generator, Iterable
from typing import Any, Final, Protocol, final

from typing_extensions import Self

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DIALECTS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncChunkIterator",
    "ChunkIterator",
    "DecodeError",
    "EventIterator",
    "HttpClient",
    "LoopWaker",
    "MockServer",
    "PendingResponse",
    "ResponseBody",
    "SSEDecoder",
    "SSEError",
    "SeltzerError",
    "ServerSentEvent",
    "StreamError",
    "StreamInterrupted",
    "TokenChunk",
    "TokenDecoder",
    "ToolCallDelta",
    "__version__",
    "event_iterator",
    "shutdown_transport",
    "sse_async_iterator",
    "sse_iterator",
    "start_mock_server",
    "token_async_iterator",
    "token_iterator",
]

__version__: Final[str]
DEFAULT_MAX_EVENT_BYTES: Final[int]
DIALECTS: Final[tuple[str, ...]]
"""The wire formats ``TokenDecoder`` reads."""

_BytesLike = bytes | bytearray | memoryview
_OnError = Callable[[BaseException, int, str], BaseException | None] | None

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
    """The text received before the interruption (from token decoders: whole tokens, up
    to the text's first 16 MiB)."""

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

class _SelfAwaiting:
    """An async iterator that is its own awaitable (the coroutine protocol); a stub-only
    base: the runtime types share the slots, not a class."""

    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Self: ...
    def __await__(self) -> Self: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...
    def send(self, value: Any, /) -> Any: ...
    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any: ...
    def close(self) -> None: ...

@final
class AsyncChunkIterator(_SelfAwaiting):
    """Async iterator of decoded items over an async iterable of byte chunks; it is its
    own awaitable (coroutine protocol) so that ready items cost no event-loop turn."""

class _EventRun(Protocol):
    async def more(self) -> bool: ...
    async def finish(self) -> None: ...
    def abandon(self) -> None: ...

@final
class EventIterator(_SelfAwaiting):
    """The events of an astream_events run, as they come; its own awaitable, so that a
    queued event costs no event-loop turn."""

    def aclose(self) -> Awaitable[None]:
        """Ends the run; returns an awaitable."""

def event_iterator(items: deque[Any], run: _EventRun) -> EventIterator:
    """The iterator over ``items`` (a deque the run's handler appends events to) for
    ``run``."""

@final
class ToolCallDelta:
    """A fragment of a tool call; fragments with the same ``index`` add up to one call
    (the first ``id`` and ``name``, ``arguments`` concatenated). Also a read-only mapping
    with the keys index, id, name and arguments."""

    def __new__(
        cls,
        index: int,
        id: str | None = None,
        name: str | None = None,
        arguments: str | None = None,
    ) -> Self: ...
    @property
    def index(self) -> int:
        """Which call of the message this fragment belongs to."""
    @property
    def id(self) -> str | None:
        """The call id (usually only on the first fragment)."""
    @property
    def name(self) -> str | None:
        """The function name (usually only on the first fragment)."""
    @property
    def arguments(self) -> str:
        """A fragment of the JSON arguments."""
    def keys(self) -> list[str]:
        """The field names."""
    def to_dict(self) -> dict[str, Any]:
        """The fragment as a plain dict."""
    def __getitem__(self, key: str, /) -> Any: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: str, /) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...

@final
class TokenChunk:
    """What one event says about one choice (content block, output item, candidate)."""

    @property
    def text(self) -> str:
        """The text the event adds ("" when none)."""
    @property
    def index(self) -> int:
        """The choice / content-block / output-item index."""
    @property
    def finish_reason(self) -> str | None:
        """Why generation stopped, as the provider spells it."""
    @property
    def usage(self) -> dict[str, Any] | None:
        """The usage counts exactly as the provider sent them."""
    @property
    def tool_calls(self) -> list[ToolCallDelta] | None:
        """Tool-call fragments."""
    @property
    def reasoning(self) -> str | None:
        """Reasoning / thinking text."""
    @property
    def event(self) -> str:
        """The SSE event type the token came from."""
    @property
    def plain(self) -> bool:
        """True when the token carries text and nothing else (no finish_reason, usage,
        tool_calls or reasoning)."""
    @property
    def received_ns(self) -> int | None:
        """When the bytes that completed this token's event were read from the socket,
        in ``time.perf_counter_ns()`` nanoseconds; None unless read through seltzer's
        transport."""
    def json(self) -> Any:
        """The event's whole JSON payload, parsed now (in Rust)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...

@final
class TokenDecoder:
    """Turns one streamed response into tokens, incrementally.

    Raises ``ValueError`` for an unknown dialect (naming the valid ones) or a bad
    ``text_path``.
    """

    def __new__(
        cls, dialect: str, /, *, text_path: str | None = None, max_event_bytes: int = ...
    ) -> Self: ...
    def feed(self, data: _BytesLike, /) -> list[TokenChunk]:
        """Decodes a chunk and returns the tokens it completes.

        An error met after some tokens of this chunk is raised by the next call, so that
        those tokens are returned first. Errors are sticky.

        Raises:
            SSEError: An event (NDJSON: line) over ``max_event_bytes``.
            DecodeError: A payload is not the JSON the dialect expects.
            StreamError: The provider sent an error inside the stream.
        """
    def flush(self) -> list[TokenChunk]:
        """Ends the stream; returns what is still pending (NDJSON: an unterminated line)."""
    @property
    def done(self) -> bool:
        """Whether the stream's terminal marker has been decoded."""
    @property
    def dialect(self) -> str:
        """The dialect's name."""

def sse_iterator(
    source: Iterable[_BytesLike] | ResponseBody,
    /,
    *,
    max_event_bytes: int = ...,
    on_error: _OnError = None,
) -> ChunkIterator:
    """Events from a byte iterable.

    ``on_error(exc, offset, partial)`` may return an exception to raise instead of one the
    source raised.
    """

def sse_async_iterator(
    source: AsyncIterable[_BytesLike] | ResponseBody,
    /,
    *,
    max_event_bytes: int = ...,
    on_error: _OnError = None,
) -> AsyncChunkIterator:
    """Events from an async byte iterable. ``on_error`` as for ``sse_iterator``."""

def token_iterator(
    source: Iterable[_BytesLike] | ResponseBody,
    dialect: str,
    /,
    *,
    text_path: str | None = None,
    max_event_bytes: int = ...,
    strict: bool = True,
    text_only: bool = False,
    keep_empty: bool = False,
    plain_texts: bool = False,
    on_error: _OnError = None,
) -> ChunkIterator:
    """``TokenChunk``s (``str`` texts with ``text_only``: with ``keep_empty``, one per
    token, "" for a token without text; with ``plain_texts``, the ``str`` text of each
    plain first-choice token after the first, among ``TokenChunk``s) from a byte
    iterable."""

def token_async_iterator(
    source: AsyncIterable[_BytesLike] | ResponseBody,
    dialect: str,
    /,
    *,
    text_path: str | None = None,
    max_event_bytes: int = ...,
    strict: bool = True,
    text_only: bool = False,
    keep_empty: bool = False,
    plain_texts: bool = False,
    on_error: _OnError = None,
) -> AsyncChunkIterator:
    """The async twin of ``token_iterator``."""

@final
class MockServer:
    """A running mock LLM server (Rust, tokio + hyper) on a background thread."""

    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:41234"."""
    @property
    def host(self) -> str:
        """The address it listens on."""
    @property
    def port(self) -> int:
        """The port it listens on."""
    @property
    def running(self) -> bool:
        """Whether it still runs."""
    def stats(self) -> dict[str, int]:
        """Counters: requests, open_connections, connections, tokens."""
    def shutdown(self) -> None:
        """Stops accepting, closes every connection and joins the server's thread."""

def start_mock_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ttft_ms: int = 0,
    itl_ms: int = 0,
    jitter_ms: int = 0,
    tokens: int = 16,
    batch: int = 1,
    seed: int = 0,
    unicode: bool = False,
    fault: str | None = None,
    retry_after_s: int = 1,
    timestamps: bool = False,
    model: str = "mock-model",
    worker_threads: int = 1,
) -> MockServer:
    """Starts a mock server; returns once it listens.

    Raises:
        OSError: The address cannot be bound.
        ValueError: An unknown fault spec, or batch 0.
    """

_ResponseTuple = tuple[int, str, list[tuple[bytes, bytes]], ResponseBody]

@final
class HttpClient:
    """A pooled HTTP client (reqwest): the Rust side of ``seltzer.HTTPTransport`` and
    ``AsyncHTTPTransport``. On the shared runtime, or with ``caller_driven`` on a runtime
    run by the threads waiting on it (then ``send`` only, not ``send_async``). Failures
    raise httpx's exception classes."""

    def __new__(
        cls,
        *,
        verify: bool = True,
        ca_bundle: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        http1: bool = True,
        http2: bool = False,
        max_connections: int | None = None,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        retries: int = 0,
        local_address: str | None = None,
        caller_driven: bool = False,
    ) -> Self: ...
    def send(
        self,
        request: Any,
        method: str,
        url: str,
        headers: list[tuple[str, bytes]],
        content: bytes,
        connect: float | None = None,
        read: float | None = None,
        write: float | None = None,
        pool: float | None = None,
    ) -> _ResponseTuple:
        """Sends and blocks (GIL released) until the head: (status, version, headers, body)."""
    def send_async(
        self,
        request: Any,
        method: str,
        url: str,
        headers: list[tuple[str, bytes]],
        content: bytes,
        connect: float | None = None,
        read: float | None = None,
        write: float | None = None,
        pool: float | None = None,
    ) -> PendingResponse:
        """``send`` as an awaitable for the running event loop."""
    def open_connections(
        self,
        url: str,
        count: int,
        headers: list[tuple[str, bytes]] = ...,
        timeout: float = 30.0,
    ) -> int:
        """Opens up to ``count`` pooled connections to ``url``'s server (``count`` GETs
        at once, each held until all have answered); blocks, GIL released. Returns how
        many were answered."""
    def close(self) -> None:
        """Closes the pool; later requests raise ``RuntimeError``."""

@final
class PendingResponse:
    """A request in flight; awaiting it gives the response tuple."""

    def __await__(self) -> Generator[Any, Any, _ResponseTuple]: ...
    def __next__(self) -> Any: ...
    def send(self, value: Any, /) -> Any: ...
    def throw(self, exc: Any, value: Any = None, traceback: Any = None) -> None: ...
    def close(self) -> None: ...

@final
class ResponseBody:
    """A response body from seltzer's transport, read in Rust."""

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
    def close(self) -> None:
        """Closes the body (drops the connection unless it was read to the end)."""
    def iter_raw(self) -> ChunkIterator:
        """The raw (content-encoded) chunks, each all that had arrived."""
    def aiter_raw(self) -> AsyncChunkIterator:
        """The async twin of ``iter_raw``."""

@final
class LoopWaker:
    """Wakes one event loop from the transport's threads (see ``seltzer._loop_wake``)."""

    def __new__(cls) -> Self: ...
    def fileno(self) -> int:
        """The descriptor the loop watches."""
    def drain(self) -> None:
        """Resolves the futures of every stream whose data arrived."""

def shutdown_transport(timeout: float = 1.0) -> None:
    """Stops the transport's runtimes (at interpreter exit)."""
