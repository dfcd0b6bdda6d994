"""The per-request reader: sends one streaming request, takes each token's arrival time
and keeps the usage the stream reports. Through seltzer's transport the arrival is the
moment the token's bytes were read off the socket, stamped in Rust (``received_ns``), so
a busy event loop does not delay it; through another transport it is
``time.perf_counter_ns()`` as the decoder hands the token out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from seltzer.endpoints import StreamRequest
from seltzer.tokens import aiter_tokens

__all__ = ["RequestRecord", "read_stream"]

#: Usage keys that count output tokens, per provider.
OUTPUT_KEYS = ("completion_tokens", "output_tokens", "candidatesTokenCount", "eval_count")
#: Usage keys that count prompt tokens, per provider.
INPUT_KEYS = ("prompt_tokens", "input_tokens", "promptTokenCount", "prompt_eval_count")


@dataclass
class RequestRecord:
    """What one request measured; times are ``perf_counter_ns`` values.

    Attributes:
        start_ns: When the request was sent.
        end_ns: When the stream ended (or failed).
        token_ns: When each token (a chunk with text, reasoning or tool call) arrived.
        usage: The stream's usage fields, later events overriding earlier ones.
        error: What ended the request early, if anything.
        start_unix_ns: ``start_ns`` on the wall clock, to compare with server stamps.
        sent_ns: The server's send stamp of each token (``server_times`` only).
    """

    start_ns: int
    end_ns: int = 0
    token_ns: list[int] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None
    start_unix_ns: int = 0
    sent_ns: list[int] | None = None

    @property
    def ok(self) -> bool:
        """Whether the stream ran to its end."""
        return self.error is None

    @property
    def usage_output_tokens(self) -> int | None:
        """The output token count that the server reported, if it did."""
        return _first_count(self.usage, OUTPUT_KEYS)

    @property
    def usage_input_tokens(self) -> int | None:
        """The prompt token count that the server reported, if it did."""
        return _first_count(self.usage, INPUT_KEYS)

    @property
    def output_tokens(self) -> int:
        """Output tokens: the server's count when it reports one, else the chunks seen."""
        reported = self.usage_output_tokens
        return len(self.token_ns) if reported is None else reported


def _first_count(usage: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = usage.get(key)
        if isinstance(value, int):
            return value
    return None


async def read_stream(
    client: httpx.AsyncClient,
    request: StreamRequest,
    dialect: str,
    *,
    text_path: str | None = None,
    server_times: bool = False,
) -> RequestRecord:
    """Sends ``request`` and reads its stream to the end, timing every token.

    Failures do not raise: they end up in ``RequestRecord.error`` (cancellation still
    propagates).

    Args:
        client: The client to send through.
        request: The streaming request.
        dialect: The wire format to decode.
        text_path: For the "json" dialect: a JSON pointer to each event's text.
        server_times: Read each token event's ``mock_sent_ns`` stamp.
    """
    clock = time.perf_counter_ns
    record = RequestRecord(start_ns=0, start_unix_ns=time.time_ns())
    record.start_ns = clock()
    tokens = record.token_ns
    usage = record.usage
    stamps: list[int] | None = [] if server_times else None
    record.sent_ns = stamps
    try:
        async with client.stream(
            request.method, request.url, json=request.json, headers=request.headers
        ) as response:
            async for chunk in aiter_tokens(response, dialect, text_path=text_path):
                if chunk.text or chunk.reasoning or chunk.tool_calls:
                    # Read off the socket in Rust; else (another transport) now.
                    tokens.append(chunk.received_ns or clock())
                    if stamps is not None:
                        stamps.append(_sent_ns(chunk.json()))
                if chunk.usage:
                    usage.update(chunk.usage)
    except Exception as exc:  # every failure is a result to count, not a crash
        record.error = exc
    record.end_ns = clock()
    return record


def _sent_ns(payload: Any) -> int:
    """The mock server's send stamp in an event's payload (0 when it has none)."""
    value = payload.get("mock_sent_ns") if isinstance(payload, dict) else None
    return value if isinstance(value, int) else 0
