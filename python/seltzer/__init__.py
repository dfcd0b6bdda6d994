"""seltzer: streamed LLM responses to tokens, in Rust.

The public API; see ``seltzer.sse`` for the httpx integration.
"""

from seltzer._core import (
    DEFAULT_MAX_EVENT_BYTES,
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
    __version__,
)
from seltzer.sse import EventSource, aconnect_sse, aiter_sse, connect_sse, iter_sse

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "DecodeError",
    "EventSource",
    "SSEDecoder",
    "SSEError",
    "SeltzerError",
    "ServerSentEvent",
    "StreamError",
    "StreamInterrupted",
    "__version__",
    "aconnect_sse",
    "aiter_sse",
    "connect_sse",
    "iter_sse",
]
