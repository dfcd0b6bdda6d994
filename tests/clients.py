"""One request through seltzer's transport, run by the sync client or by the async
client on the event loop that a mode names (see ``tests.conftest.MODES``)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from seltzer.transport import AsyncHTTPTransport, HTTPTransport
from tests.conftest import run_async


def fetch(
    mode: str,
    method: str,
    url: str,
    *,
    options: dict[str, Any] | None = None,
    timeout: Any = 5.0,
    raw: bool = False,
    **kwargs: Any,
) -> tuple[httpx.Response, list[bytes]]:
    """One streamed request through seltzer's transport (sync, or async on the loop that
    ``mode`` names); returns the closed response and its chunks (``iter_raw`` when
    ``raw``, else ``iter_bytes``)."""
    options = options or {}
    if mode == "sync":
        with (
            httpx.Client(transport=HTTPTransport(**options), timeout=timeout) as client,
            client.stream(method, url, **kwargs) as response,
        ):
            chunks = list(response.iter_raw() if raw else response.iter_bytes())
        return response, chunks

    async def main() -> tuple[httpx.Response, list[bytes]]:
        async with (
            httpx.AsyncClient(transport=AsyncHTTPTransport(**options), timeout=timeout) as client,
            client.stream(method, url, **kwargs) as response,
        ):
            source = response.aiter_raw() if raw else response.aiter_bytes()
            chunks = [chunk async for chunk in source]
        return response, chunks

    return run_async(main(), mode)


def read_raw(mode: str, url: str, into: list[bytes], timeout: Any = 5.0) -> None:
    """GETs ``url`` through seltzer's transport, appending its raw chunks to ``into`` as
    they arrive (so that they are kept when reading fails)."""
    if mode == "sync":
        with (
            httpx.Client(transport=HTTPTransport(), timeout=timeout) as client,
            client.stream("GET", url) as response,
        ):
            for chunk in response.iter_raw():
                into.append(chunk)
        return

    async def main() -> None:
        async with (
            httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=timeout) as client,
            client.stream("GET", url) as response,
        ):
            async for chunk in response.aiter_raw():
                into.append(chunk)

    run_async(main(), mode)


def request(
    mode: str, method: str, url: str, *, options: dict[str, Any] | None = None, **kwargs: Any
) -> httpx.Response:
    """One non-streamed request (``client.request``) through seltzer's transport, made
    with ``options``; the body is read."""
    options = options or {}
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport(**options), timeout=5.0) as client:
            return client.request(method, url, **kwargs)

    async def main() -> httpx.Response:
        transport = AsyncHTTPTransport(**options)
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as client:
            return await client.request(method, url, **kwargs)

    return run_async(main(), mode)


def chat_event(text: str) -> bytes:
    """One OpenAI chat-completions stream event carrying ``text``."""
    payload = json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})
    return f"data: {payload}\n\n".encode()


#: The OpenAI stream's terminal event.
DONE = b"data: [DONE]\n\n"
