"""seltzer: streamed LLM responses to tokens, in Rust.

The public API; see ``seltzer.sse`` for the httpx integration.
"""

from seltzer import mock
from seltzer._core import (
    DEFAULT_MAX_EVENT_BYTES,
    DIALECTS,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DecodeError,
    SeltzerError,
    ServerSentEvent,
    SSEDecoder,
    SSEError,
    StreamError,
    StreamInterrupted,
    TokenChunk,
    TokenDecoder,
    ToolCallDelta,
    __version__,
)
from seltzer.sse import EventSource, aconnect_sse, aiter_sse, connect_sse, iter_sse
from seltzer.tokens import aiter_text, aiter_tokens, iter_text, iter_tokens
from seltzer.transport import AsyncHTTPTransport, HTTPTransport

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DIALECTS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncHTTPTransport",
    "DecodeError",
    "EventSource",
    "HTTPTransport",
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
    "aconnect_sse",
    "aiter_sse",
    "aiter_text",
    "aiter_tokens",
    "connect_sse",
    "iter_sse",
    "iter_text",
    "iter_tokens",
    "mock",
]
