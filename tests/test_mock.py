"""The embedded mock server through seltzer's own decoders: every dialect, determinism,
true usage, pacing, every fault, 512 concurrent streams, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import Any

import httpx
import pytest

import seltzer
from seltzer.endpoints import stream_request
from tests.conftest import MODES, run_async

BASE_PATHS = {"anthropic": "/v1", "gemini": "/v1beta", "tgi": "", "ollama": ""}
DIALECTS = [d for d in seltzer.DIALECTS if d != "json"]


@pytest.fixture(scope="module")
def server() -> Any:
    with seltzer.mock.serve() as srv:
        yield srv


def request_for(server: Any, dialect: str, *, max_tokens: int | None = None) -> Any:
    base = server.url + BASE_PATHS.get(dialect, "/v1")
    return stream_request(dialect, "Write me a song", base_url=base, max_tokens=max_tokens)


def stream_tokens(
    server: Any,
    dialect: str,
    mode: str,
    *,
    headers: dict[str, str] | None = None,
    max_tokens: int | None = None,
    into: list[Any] | None = None,
    **kwargs: Any,
) -> list[Any]:
    """Streams one response through iter_tokens / aiter_tokens; returns the tokens."""
    request = request_for(server, dialect, max_tokens=max_tokens)
    all_headers = {**request.headers, **(headers or {})}
    tokens: list[Any] = [] if into is None else into
    timeout = kwargs.pop("timeout", httpx.Timeout(5.0))
    if mode == "sync":
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", request.url, json=request.json, headers=all_headers) as response,
        ):
            for token in seltzer.iter_tokens(response, dialect, **kwargs):
                tokens.append(token)
        return tokens

    async def main() -> None:
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream("POST", request.url, json=request.json, headers=all_headers) as response,
        ):
            async for token in seltzer.aiter_tokens(response, dialect, **kwargs):
                tokens.append(token)

    run_async(main(), mode)
    return tokens


def text_of(tokens: list[Any]) -> str:
    return "".join(t.text for t in tokens)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_streams_exact_tokens_with_true_usage(
    server: Any, dialect: str, mode: str
) -> None:
    tokens = stream_tokens(server, dialect, mode, max_tokens=25)
    texts = [t.text for t in tokens if t.text]
    assert len(texts) == 25
    usage = [t.usage for t in tokens if t.usage]
    if dialect != "tgi":  # TGI streams report no usage
        last = usage[-1]
        completion = (
            last.get("completion_tokens")
            or last.get("output_tokens")
            or last.get("candidatesTokenCount")
            or last.get("eval_count")
        )
        assert completion == 25, last
    # Deterministic: the same request gives the same text.
    assert text_of(stream_tokens(server, dialect, "sync", max_tokens=25)) == text_of(tokens)


def test_seed_changes_the_text(server: Any) -> None:
    a = text_of(stream_tokens(server, "openai-chat", "sync", headers={"x-mock-seed": "1"}))
    b = text_of(stream_tokens(server, "openai-chat", "sync", headers={"x-mock-seed": "2"}))
    assert a
    assert b
    assert a != b


def test_pacing_headers_are_honoured(server: Any) -> None:
    started = time.monotonic()
    first_arrival = None
    sent_ns: list[int] = []
    request = request_for(server, "openai-chat")
    headers = {
        "x-mock-ttft-ms": "200",
        "x-mock-itl-ms": "30",
        "x-mock-tokens": "6",
        "x-mock-timestamps": "1",
    }
    with (
        httpx.Client() as client,
        client.stream("POST", request.url, json=request.json, headers=headers) as response,
    ):
        for token in seltzer.iter_tokens(response, "openai-chat"):
            if token.text:
                first_arrival = first_arrival or time.monotonic() - started
                sent_ns.append(token.json()["mock_sent_ns"])
    assert len(sent_ns) == 6
    # Nothing can arrive before it is due; the spacing is read off the server's own
    # send times, which a loaded client cannot distort.
    assert first_arrival is not None
    assert first_arrival >= 0.2
    assert sent_ns[-1] - sent_ns[0] >= 5 * 30_000_000 * 0.99


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [429, 500, 503])
def test_status_faults(server: Any, mode: str, status: int) -> None:
    headers = {"x-mock-fault": f"status:{status}", "x-mock-retry-after": "7"}
    with pytest.raises(seltzer.APIStatusError) as info:
        stream_tokens(server, "openai-chat", mode, headers=headers)
    assert info.value.status_code == status
    if status != 500:
        assert info.value.headers["retry-after"] == "7"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_error_event_after_n_tokens(server: Any, dialect: str, mode: str) -> None:
    tokens: list[Any] = []
    with pytest.raises(seltzer.StreamError) as info:
        stream_tokens(server, dialect, mode, headers={"x-mock-fault": "error-event@3"}, into=tokens)
    assert len([t for t in tokens if t.text]) == 3
    assert info.value.message


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", ["drop@4", "drop-mid@4", "drop-utf8@4"])
def test_dropped_connection_keeps_every_token_once(server: Any, fault: str, mode: str) -> None:
    headers = {"x-mock-fault": fault, "x-mock-unicode": "1", "x-mock-tokens": "10"}
    reference = stream_tokens(
        server, "openai-chat", "sync", headers={"x-mock-unicode": "1", "x-mock-tokens": "10"}
    )
    tokens: list[Any] = []
    with pytest.raises(seltzer.StreamInterrupted) as info:
        stream_tokens(server, "openai-chat", mode, headers=headers, into=tokens)
    got = [t.text for t in tokens if t.text]
    assert got == [t.text for t in reference if t.text][: len(got)]
    assert len(got) == 4
    assert info.value.partial == "".join(got)
    assert isinstance(info.value.__cause__, httpx.TransportError)


@pytest.mark.parametrize("mode", MODES)
def test_stall_hits_the_read_timeout(server: Any, mode: str) -> None:
    started = time.monotonic()
    tokens: list[Any] = []
    with pytest.raises(seltzer.StreamInterrupted) as info:
        stream_tokens(
            server,
            "openai-chat",
            mode,
            headers={"x-mock-fault": "stall@2:3000"},
            into=tokens,
            timeout=httpx.Timeout(5.0, read=0.5),
        )
    assert time.monotonic() - started < 2.5
    assert len([t for t in tokens if t.text]) == 2
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize("mode", MODES)
def test_malformed_json_is_a_decode_error_after_earlier_tokens(server: Any, mode: str) -> None:
    tokens: list[Any] = []
    with pytest.raises(seltzer.DecodeError) as info:
        stream_tokens(
            server, "openai-chat", mode, headers={"x-mock-fault": "malformed@2"}, into=tokens
        )
    assert len([t for t in tokens if t.text]) == 2
    assert info.value.offset is not None
    assert info.value.snippet


def test_invalid_utf8_becomes_replacement_characters(server: Any) -> None:
    tokens = stream_tokens(server, "openai-chat", "sync", headers={"x-mock-fault": "bad-utf8@1"})
    assert "\ufffd" in tokens[1].text


@pytest.mark.parametrize("mode", MODES)
def test_oversized_event_is_an_sse_error(server: Any, mode: str) -> None:
    tokens: list[Any] = []
    with pytest.raises(seltzer.SSEError, match="max_event_bytes=65536"):
        stream_tokens(
            server,
            "openai-chat",
            mode,
            headers={"x-mock-fault": "oversize@2:100000"},
            into=tokens,
            max_event_bytes=65536,
        )
    assert len([t for t in tokens if t.text]) == 2


@pytest.mark.parametrize("mode", MODES)
def test_wrong_content_type_and_missing_done(server: Any, mode: str) -> None:
    with pytest.raises(seltzer.SSEError, match="application/json"):
        stream_tokens(server, "openai-chat", mode, headers={"x-mock-fault": "content-type"})
    with pytest.raises(seltzer.StreamInterrupted, match="terminal marker"):
        stream_tokens(server, "anthropic", mode, headers={"x-mock-fault": "no-done"})


def test_512_concurrent_streams_are_complete_and_correct(server: Any) -> None:
    request = request_for(server, "openai-chat", max_tokens=40)
    references = {
        seed: text_of(
            stream_tokens(
                server, "openai-chat", "sync", max_tokens=40, headers={"x-mock-seed": str(seed)}
            )
        )
        for seed in range(8)
    }

    async def one(client: httpx.AsyncClient, i: int) -> bool:
        headers = {"x-mock-seed": str(i % 8), "x-mock-itl-ms": "2"}
        async with client.stream(
            "POST", request.url, json=request.json, headers=headers
        ) as response:
            text = "".join([t async for t in seltzer.aiter_text(response, "openai-chat")])
        return text == references[i % 8]

    async def main() -> list[bool]:
        limits = httpx.Limits(max_connections=512)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            return await asyncio.gather(*(one(client, i) for i in range(512)))

    assert all(asyncio.run(main()))


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_shutdown_releases_port_and_thread() -> None:
    before = _threads()
    with seltzer.mock.serve() as srv:
        port = srv.port
        assert srv.running
        assert _threads() == before + 1
        httpx.get(srv.url + "/health").raise_for_status()
    assert not srv.running
    assert _threads() == before
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_binds_loopback_by_default_and_rejects_bad_faults() -> None:
    with seltzer.mock.serve() as srv:
        assert srv.host == "127.0.0.1"
    with pytest.raises(ValueError, match="fault"):
        seltzer.mock.start(fault="explode")
