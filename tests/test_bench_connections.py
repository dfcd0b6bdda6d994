"""The benchmark opens a level's connections before timing it: one per slot, each kept
in the pool for the level's requests, whatever the probe's answer; a server that
cannot be reached costs nothing but the attempt."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

import seltzer
from seltzer import aiter_text
from seltzer.bench import run
from seltzer.bench.client import make_client
from seltzer.bench.connections import PROBE_PATHS, open_connections, probe_url
from seltzer.endpoints import stream_request


def test_every_dialect_has_a_probe_under_its_base_url() -> None:
    assert set(PROBE_PATHS) == set(seltzer.DIALECTS)
    assert probe_url("http://127.0.0.1:8000/v1/", "openai-chat") == (
        "http://127.0.0.1:8000/v1/models"
    )
    assert probe_url("http://127.0.0.1:11434", "ollama") == "http://127.0.0.1:11434/api/tags"


def client_for(transport: str) -> httpx.AsyncClient:
    if transport == "seltzer":
        return make_client(max_connections=6, timeout=10)
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=6), timeout=10)


@pytest.mark.parametrize("transport", ["seltzer", "httpx"])
@pytest.mark.parametrize("path", ["/v1/models", "/no/such/path"])
def test_opens_one_connection_per_slot_and_the_level_reuses_them(path: str, transport: str) -> None:
    async def main(url: str) -> tuple[int, int, int]:
        async with client_for(transport) as client:
            answered = await open_connections(client, url + path, 6)
            opened = server.stats()["connections"]
            request = stream_request("openai-chat", "hi", base_url=url + "/v1", max_tokens=3)

            async def one() -> str:
                async with client.stream(
                    request.method, request.url, json=request.json, headers=request.headers
                ) as response:
                    return "".join([t async for t in aiter_text(response, "openai-chat")])

            texts = await asyncio.gather(*(one() for _ in range(6)))
            assert all(texts)
            return answered, opened, server.stats()["connections"]

    with seltzer.mock.serve(ttft_ms=30, itl_ms=1) as server:
        answered, opened, after = asyncio.run(main(server.url))
    # A 404 answers too: its connection stays in the pool all the same.
    assert (answered, opened, after) == (6, 6, 6)


def test_an_unreachable_server_is_not_an_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there

    async def main() -> int:
        async with make_client(max_connections=4, timeout=5) as client:
            return await open_connections(client, f"http://127.0.0.1:{port}/v1/models", 4)

    assert asyncio.run(main()) == 0


def test_the_sync_transport_opens_them_too() -> None:
    with seltzer.mock.serve() as server:
        transport = seltzer.HTTPTransport(limits=httpx.Limits(max_connections=3))
        try:
            assert transport.open_connections(server.url + "/v1/models", 5) == 3
        finally:
            transport.close()
        assert server.stats()["connections"] == 3


def test_the_runner_opens_each_levels_connections_unless_told_not_to() -> None:
    for preconnect, probes in ((True, 1 + 4), (False, 0)):
        with seltzer.mock.serve() as server:
            result = run(
                server.url + "/v1",
                concurrency=[1, 4],
                num_prompts=4,
                max_tokens=2,
                preconnect=preconnect,
            )
            # one untimed first request, 4 per level, and a probe per slot per level
            assert server.stats()["requests"] == 1 + 2 * 4 + probes
        assert [r.completed for r in result.runs] == [4, 4]
        assert result.to_dict()["client"]["preconnect"] is preconnect
