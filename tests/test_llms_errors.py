"""Model failures against the mock server: retries before the first byte (and never
after), the error classes and their fields, secrets kept out of messages, and
responses closed as soon as a consumer stops."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

import seltzer
from seltzer.llms import ChatOpenAI, OpenAI, SecretStr
from seltzer.llms._retry import retry_delay
from tests.conftest import MODES, run_async

SECRET = "sk-very-secret-0123456789"


@pytest.fixture
def server() -> Iterator[Any]:
    with seltzer.mock.serve(tokens=8) as srv:
        yield srv


def chat(server: Any, fault: str | None = None, **options: Any) -> ChatOpenAI:
    headers = {"x-mock-retry-after": "0"}
    if fault:
        headers["x-mock-fault"] = fault
    return ChatOpenAI(
        model="gpt-4o-mini",
        base_url=server.url + "/v1",
        api_key=SECRET,
        default_headers=headers,
        **options,
    )


def stream_all(model: Any, mode: str) -> list[Any]:
    if mode == "sync":
        with model:
            return list(model.stream("hi"))

    async def main() -> list[Any]:
        async with model:
            return [chunk async for chunk in model.astream("hi")]

    return run_async(main(), mode)


@pytest.mark.parametrize("mode", MODES)
def test_status_errors_are_retried_then_raised_with_fields(server: Any, mode: str) -> None:
    model = chat(server, "status:429", max_retries=2)
    with pytest.raises(seltzer.APIStatusError) as info:
        stream_all(model, mode)
    assert info.value.status_code == 429
    assert info.value.headers["retry-after"] == "0"
    assert "429" in str(info.value)
    assert SECRET not in str(info.value)
    assert server.stats()["requests"] == 3


@pytest.mark.parametrize("mode", MODES)
def test_no_retries_when_max_retries_is_zero(server: Any, mode: str) -> None:
    model = chat(server, "status:500", max_retries=0)
    with pytest.raises(seltzer.APIStatusError) as info:
        stream_all(model, mode)
    assert info.value.status_code == 500
    assert server.stats()["requests"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_error_inside_the_stream_is_not_retried(server: Any, mode: str) -> None:
    model = chat(server, "error-event@3", max_retries=2)
    seen: list[str] = []

    def consume() -> None:
        if mode == "sync":
            with model:
                for chunk in model.stream("hi"):
                    seen.append(chunk.content)
            return

        async def main() -> None:
            async with model:
                async for chunk in model.astream("hi"):
                    seen.append(chunk.content)

        run_async(main(), mode)

    with pytest.raises(seltzer.StreamError):
        consume()
    assert "".join(seen)  # the tokens before the error came first
    assert server.stats()["requests"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_dropped_connection_raises_interrupted_with_partial_text(server: Any, mode: str) -> None:
    model = chat(server, "drop@4")
    with pytest.raises(seltzer.StreamInterrupted) as info:
        stream_all(model, mode)
    assert info.value.partial
    assert server.stats()["requests"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_unreachable_server_raises_connection_error_without_the_key(mode: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRET, max_retries=1)
    with pytest.raises(seltzer.APIConnectionError) as info:
        stream_all(model, mode)
    assert SECRET not in str(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_silent_server_raises_timeout_after_retries(mode: str) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        model = OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRET, max_retries=1, timeout=0.2
        )
        with pytest.raises(seltzer.APITimeoutError) as info:
            stream_all(model, mode)
    assert isinstance(info.value, seltzer.APIConnectionError)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_timeout_mid_stream_is_an_interruption(server: Any, mode: str) -> None:
    model = chat(server, max_retries=2, timeout=0.2)
    model.default_headers["x-mock-ttft-ms"] = "3000"
    with pytest.raises(seltzer.StreamInterrupted):
        stream_all(model, mode)
    assert server.stats()["requests"] == 1


def test_retry_delay_honours_the_server_then_backs_off() -> None:
    import httpx

    assert retry_delay(0, httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_delay(3, httpx.Headers({"retry-after": "2"})) == 2.0
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < retry_delay(0, httpx.Headers({"retry-after": future})) <= 30
    for attempt in range(6):
        delay = retry_delay(attempt, httpx.Headers({"retry-after": "3600"}))
        assert 0.75 * min(0.5 * 2**attempt, 8.0) <= delay <= min(0.5 * 2**attempt, 8.0)


def test_the_key_never_shows(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    model = chat(server)
    assert SECRET not in repr(model)
    assert SECRET not in str(model._serialized)
    assert repr(model.api_key) == "SecretStr('**********')"
    assert isinstance(model.api_key, SecretStr)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    from_env = ChatOpenAI(base_url=server.url + "/v1")
    assert from_env.api_key is not None
    assert from_env.api_key.get_secret_value() == "sk-from-env"
    assert "sk-from-env" not in repr(from_env)
    with from_env:
        assert from_env.invoke("hi").content


def wait_until_closed(server: Any) -> int:
    """Polls the server's open connection count until it is 0 (bounded)."""
    deadline = time.monotonic() + 10
    while server.stats()["open_connections"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return int(server.stats()["open_connections"])


def test_breaking_out_of_stream_closes_the_response(server: Any) -> None:
    model = chat(server)
    model.default_headers.update({"x-mock-tokens": "100000", "x-mock-itl-ms": "5"})
    for i, _ in enumerate(model.stream("hi")):
        if i == 3:
            break
    assert wait_until_closed(server) == 0
    model.close()


@pytest.mark.parametrize("mode", MODES[1:])
def test_cancelling_astream_closes_the_response(server: Any, mode: str) -> None:
    model = chat(server)
    model.default_headers.update({"x-mock-tokens": "100000", "x-mock-itl-ms": "5"})

    async def main() -> None:
        three = asyncio.Event()

        async def consume() -> None:
            count = 0
            async for _ in model.astream("hi"):
                count += 1
                if count == 3:
                    three.set()

        task = asyncio.create_task(consume())
        await three.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(wait_until_closed, server) == 0
        await model.aclose()

    run_async(main(), mode)


def test_clients_are_pooled_closed_and_reopened(server: Any) -> None:
    model = chat(server)
    with model:
        model.invoke("one")
        first = model._client
        model.invoke("two")
        assert model._client is first
    assert first is not None
    assert first.is_closed
    assert model.invoke("three").content
    assert model._client is not first
    model.close()
    assert server.stats()["connections"] == 2
