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
