"""Shared inputs for the benchmarks: a 10,000-event OpenAI chat-completions stream."""

from __future__ import annotations

import json

N_EVENTS = 10_000


def chat_event(i: int) -> bytes:
    payload = {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
        "choices": [
            {
                "index": 0,
                "delta": {"content": f" token{i}"},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


#: (a) one event per chunk, as a paced server sends them.
PER_EVENT = [chat_event(i) for i in range(N_EVENTS)]
BODY = b"".join(PER_EVENT)
#: (b) the same bytes in 64 KiB chunks, as a fast server or a buffer delivers them.
BIG = [BODY[i : i + 65536] for i in range(0, len(BODY), 65536)]
CHUNKINGS = {"per-event": PER_EVENT, "64KiB": BIG}


def anthropic_event(i: int) -> bytes:
    payload = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": f" token{i}"},
    }
    return (
        b"event: content_block_delta\ndata: "
        + json.dumps(payload, separators=(",", ":")).encode()
        + b"\n\n"
    )


def anthropic_stream() -> list[bytes]:
    """A 10,000-token Messages API stream, one event per chunk, with its framing events."""
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 12, "output_tokens": 1},
        },
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    head = [
        b"event: message_start\ndata: " + json.dumps(start).encode() + b"\n\n",
        b"event: content_block_start\ndata: " + json.dumps(block).encode() + b"\n\n",
    ]
    tail = [
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
        b'"usage":{"output_tokens":10000}}\n\n',
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ]
    return head + [anthropic_event(i) for i in range(N_EVENTS)] + tail


def chat_stream() -> list[bytes]:
    """The chat stream with its terminal marker, one event per chunk."""
    return [*PER_EVENT, b"data: [DONE]\n\n"]


def rechunk(chunks: list[bytes], size: int = 65536) -> list[bytes]:
    body = b"".join(chunks)
    return [body[i : i + size] for i in range(0, len(body), size)]
