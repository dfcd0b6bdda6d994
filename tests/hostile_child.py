"""The client side of one hostile-input case, run in a process of its own by
``tests/test_hostile_input.py`` so that its peak memory can be measured alone.

    python -m tests.hostile_child URL CASE

Prints one JSON line: the case's output or the exception (class, message, fields), the
seconds it took, and the growth of peak resident memory over the resident memory
before it (Linux: ``/proc/self/clear_refs`` resets the peak).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

import seltzer

TIMEOUT = httpx.Timeout(30.0)


def memory() -> dict[str, int]:
    """Resident and peak resident memory, in bytes."""
    with open("/proc/self/status") as f:
        text = f.read()
    return {
        key: int(re.search(key + r":\s+(\d+) kB", text).group(1)) * 1024  # type: ignore[union-attr]
        for key in ("VmRSS", "VmHWM")
    }


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def fused() -> httpx.Client:
    return httpx.Client(transport=seltzer.HTTPTransport(), timeout=TIMEOUT)


def text_of(client: httpx.Client, url: str, dialect: str = "openai-chat") -> list[Any]:
    """The text tokens of a GET, with their count and total length (not the texts: a
    million of them would not fit a JSON line)."""
    with client, client.stream("GET", url) as response:
        count = size = 0
        joined = []
        for text in seltzer.iter_text(response, dialect):
            count += 1
            if size < 4096:
                joined.append(text)
            size += len(text)
        return [count, size, "".join(joined)[:4096]]


def endless_line(base: str) -> Any:
    return text_of(fused(), base + "/endless")


def endless_line_httpx(base: str) -> Any:
    return text_of(httpx.Client(timeout=TIMEOUT), base + "/endless")


def gzip_bomb(base: str) -> Any:
    return text_of(fused(), base + "/bomb/gzip")


def brotli_bomb(base: str) -> Any:
    return text_of(fused(), base + "/bomb/br")


def empty_events(base: str) -> Any:
    with fused() as client, client.stream("GET", base + "/empty-events") as response:
        count = nonempty = 0
        for event in seltzer.iter_sse(response):
            count += 1
            nonempty += event.data != ""
        return [count, nonempty]


def empty_token_events(base: str) -> Any:
    return text_of(fused(), base + "/empty-token-events")


def big_token(base: str) -> Any:
    with fused() as client, client.stream("GET", base + "/big-token") as response:
        texts = list(seltzer.iter_text(response, "openai-chat"))
        return [len(texts), [len(t) for t in texts], all(set(t) == {"x"} for t in texts)]


def deep_json(base: str) -> Any:
    """A 100,000-deep value in a field the dialect skips, then in the field it reads."""
    with fused() as client, client.stream("GET", base + "/deep") as response:
        return [t.text for t in seltzer.iter_tokens(response, "openai-chat")]


def deep_json_value(base: str) -> Any:
    """``.json()`` of an event whose data is 100,000 arrays deep."""
    with fused() as client, client.stream("GET", base + "/deep-value") as response:
        return [event.json() for event in seltzer.iter_sse(response)]


def tiny_writes(base: str) -> Any:
    return text_of(fused(), base + "/tiny-writes")


def tiny_writes_async(base: str) -> Any:
    async def main() -> Any:
        transport = seltzer.AsyncHTTPTransport()
        async with (
            httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client,
            client.stream("GET", base + "/tiny-writes") as response,
        ):
            texts = [t async for t in seltzer.aiter_text(response, "openai-chat")]
        return [len(texts), sum(map(len, texts)), "".join(texts)[:4096]]

    return asyncio.run(main())


def many_headers(base: str) -> Any:
    return text_of(fused(), base + "/many-headers")


def long_header(base: str) -> Any:
    return text_of(fused(), base + "/long-header")


CASES: dict[str, Callable[[str], Any]] = {
    "endless-line": endless_line,
    "endless-line-httpx": endless_line_httpx,
    "gzip-bomb": gzip_bomb,
    "brotli-bomb": brotli_bomb,
    "empty-events": empty_events,
    "empty-token-events": empty_token_events,
    "big-token": big_token,
    "deep-json": deep_json,
    "deep-json-value": deep_json_value,
    "tiny-writes": tiny_writes,
    "tiny-writes-async": tiny_writes_async,
    "many-headers": many_headers,
    "long-header": long_header,
}

FIELDS = ("offset", "limit", "snippet", "partial", "status_code", "type", "message")


def main() -> None:
    base, case = sys.argv[1], sys.argv[2]
    # Warm up: the runtime started, the decoders and httpx's machinery imported.
    with fused() as client:
        client.get(base + "/warm").read()
    list(seltzer.iter_text([b'data: {"choices":[]}\n\ndata: [DONE]\n\n'], "openai-chat"))
    before = memory()["VmRSS"]
    reset_peak()
    started = time.monotonic()
    result: dict[str, Any] = {}
    try:
        result["output"] = CASES[case](base)
    except Exception as exc:
        result["error"] = type(exc).__name__
        result["module"] = type(exc).__module__
        result["message"] = str(exc)[:1000]
        result["fields"] = {
            name: value
            for name in FIELDS
            if isinstance(value := getattr(exc, name, None), (int, str)) and len(str(value)) < 4096
        }
        cause = exc.__cause__
        result["cause"] = None if cause is None else type(cause).__name__
    result["seconds"] = time.monotonic() - started
    result["growth"] = memory()["VmHWM"] - before
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
