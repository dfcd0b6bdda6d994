"""The fused path: ``iter_sse`` / ``iter_tokens`` / ``iter_text`` and their async twins
over responses from seltzer's transport read the Rust body straight from the socket
(content encoding decoded in Rust). Checked against the plain httpx path for every
dialect, with compressed bodies, broken and stalled connections, early break and
cancellation, 512 concurrent streams, the openai SDK, langchain-openai, and delivery
promptness on a paced server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import zstandard
from langchain_openai import ChatOpenAI

import seltzer
import seltzer.transport
from seltzer.endpoints import stream_request
from seltzer.transport import AsyncHTTPTransport, HTTPTransport
from tests.clients import DONE, chat_event, fetch
from tests.compress import ENCODINGS, compressed_pieces
from tests.conftest import MODES, run_async
from tests.server import Conn, LoopbackServer

ASYNC_MODES = ["asyncio", "uvloop"]
BASE_PATHS = {"anthropic": "/v1", "gemini": "/v1beta", "tgi": "", "ollama": ""}
DIALECTS = [d for d in seltzer.DIALECTS if d != "json"]
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}

#: How long a test waits for the server to notice something; generous, for a loaded box.
NOTICE_S = 5.0


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    with seltzer.mock.serve() as srv:
        yield srv


@pytest.fixture
def fresh_mock() -> Iterator[Any]:
    """A mock server of the test's own, whose counters only this test moves."""
    with seltzer.mock.serve() as srv:
        yield srv


def consume(
    mode: str,
    url: str,
    *,
    kind: str = "text",
    dialect: str = "openai-chat",
    method: str = "POST",
    transport: bool = True,
    into: list[Any] | None = None,
    timeout: Any = 10.0,
    **kwargs: Any,
) -> list[Any]:
    """Streams one response and reads it with ``iter_<kind>`` (``aiter_<kind>`` in async
    modes), through seltzer's transport or httpx's own; items go to ``into`` as they
    arrive, so that they are kept when the stream fails."""
    out: list[Any] = [] if into is None else into
    extra = () if kind == "sse" else (dialect,)
    if mode == "sync":
        client = httpx.Client(transport=HTTPTransport() if transport else None, timeout=timeout)
        with client, client.stream(method, url, **kwargs) as response:
            for item in getattr(seltzer, f"iter_{kind}")(response, *extra):
                out.append(item)
        return out

    async def main() -> None:
        aclient = httpx.AsyncClient(
            transport=AsyncHTTPTransport() if transport else None, timeout=timeout
        )
        async with aclient, aclient.stream(method, url, **kwargs) as response:
            async for item in getattr(seltzer, f"aiter_{kind}")(response, *extra):
                out.append(item)

    run_async(main(), mode)
    return out


def chat(server: Any, mode: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """The mock's OpenAI chat stream, as ``iter_text`` reads it."""
    url = server.url + "/v1/chat/completions"
    kwargs.setdefault("json", CHAT)
    return consume(mode, url, headers=headers or {}, **kwargs)


# --- The same tokens as the plain path ---------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_fused_tokens_match_the_plain_httpx_path(mock: Any, dialect: str, mode: str) -> None:
    request = stream_request(
        dialect, "Write me a song", base_url=mock.url + BASE_PATHS.get(dialect, "/v1")
    )
    send = {"json": request.json, "headers": {**request.headers, "x-mock-tokens": "20"}}
    expected = consume("sync", request.url, kind="tokens", dialect=dialect, transport=False, **send)
    assert len([t for t in expected if t.text]) == 20
    got = consume(mode, request.url, kind="tokens", dialect=dialect, **send)
    assert got == expected
    texts = consume(mode, request.url, kind="text", dialect=dialect, **send)
    assert texts == [t.text for t in expected if t.text]


@pytest.mark.parametrize("mode", MODES)
def test_fused_events_match_the_plain_httpx_path(mock: Any, mode: str) -> None:
    request = stream_request("anthropic", "Hi", base_url=mock.url + "/v1")
    url = request.url
    expected = consume("sync", url, kind="sse", transport=False, json=request.json)
    assert len(expected) > 10
    assert consume(mode, url, kind="sse", json=request.json) == expected


@pytest.mark.parametrize("mode", MODES)
def test_fused_path_reads_the_rust_body_not_the_httpx_stream(
    mock: Any, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = chat(mock, "sync", transport=False)

    def forbidden(self: Any) -> Any:
        raise AssertionError("the fused path read the body through httpx")

    monkeypatch.setattr(seltzer.transport._SyncBody, "__iter__", forbidden)
    monkeypatch.setattr(seltzer.transport._AsyncBody, "__aiter__", forbidden)
    assert chat(mock, mode) == expected
    # The patch bites: reading through httpx now fails.
    with pytest.raises(AssertionError, match="fused"):
        fetch(mode, "POST", mock.url + "/v1/chat/completions", json=CHAT)


@pytest.mark.parametrize("mode", MODES)
def test_already_read_response_gives_its_tokens(mock: Any, mode: str) -> None:
    """A response read whole (``client.post``) has no Rust body left to claim; the
    iterators read its content instead."""
    expected = chat(mock, "sync", transport=False)
    url = mock.url + "/v1/chat/completions"
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport()) as client:
            response = client.post(url, json=CHAT)
            assert list(seltzer.iter_text(response, "openai-chat")) == expected
        return

    async def main() -> list[str]:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport()) as client:
            response = await client.post(url, json=CHAT)
            return [t async for t in seltzer.aiter_text(response, "openai-chat")]

    assert run_async(main(), mode) == expected


def test_fused_read_consumes_the_response(mock: Any) -> None:
    with (
        httpx.Client(transport=HTTPTransport()) as client,
        client.stream("POST", mock.url + "/v1/chat/completions", json=CHAT) as response,
    ):
        assert list(seltzer.iter_text(response, "openai-chat"))
        assert response.is_stream_consumed
        with pytest.raises(httpx.StreamConsumed):
            response.read()


@pytest.mark.parametrize("mode", MODES)
def test_fused_streams_return_their_connection_to_the_pool(fresh_mock: Any, mode: str) -> None:
    url = fresh_mock.url + "/v1/chat/completions"
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport(), timeout=10) as client:
            for _ in range(4):
                with client.stream("POST", url, json=CHAT) as response:
                    assert list(seltzer.iter_text(response, "openai-chat"))
    else:

        async def main() -> None:
            async with httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=10) as client:
                for _ in range(4):
                    async with client.stream("POST", url, json=CHAT) as response:
                        assert [t async for t in seltzer.aiter_text(response, "openai-chat")]

        run_async(main(), mode)
    stats = fresh_mock.stats()
    assert stats["requests"] == 4
    assert stats["connections"] == 1


# --- Content encoding, decoded in Rust, token by token -----------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("encoding", ["identity", *ENCODINGS])
def test_each_token_arrives_before_the_server_sends_the_next(
    server: LoopbackServer, mode: str, encoding: str
) -> None:
    """The server sends one event, then waits until the caller has its token: a reader
    that waited for more bytes (or for a compressor's block) would stall the server."""
    tokens = [f"t{i} " for i in range(6)]
    events = [chat_event(t) for t in tokens]
    if encoding == "identity":
        pieces = [*events, DONE]
    else:
        pieces = compressed_pieces([*events, DONE], encoding)
    received = [threading.Event() for _ in tokens]
    timed_out: list[int] = []

    @server.route("/lockstep")
    def lockstep(conn: Conn) -> None:
        headers = {"content-type": "text/event-stream"}
        if encoding != "identity":
            headers["content-encoding"] = encoding
        conn.head(200, headers)
        for i, piece in enumerate(pieces):
            conn.send(piece)
            if i < len(tokens) and not received[i].wait(NOTICE_S):
                timed_out.append(i)
        conn.end()

    class Noting(list[str]):
        def append(self, text: str) -> None:
            received[len(self)].set()
            super().append(text)

    got = consume(mode, server.url + "/lockstep", method="GET", into=Noting())
    assert got == tokens
    assert timed_out == []


@pytest.mark.parametrize("mode", MODES)
def test_unknown_content_encoding_is_a_decoding_error_not_garbage(
    server: LoopbackServer, mode: str
) -> None:
    @server.route("/unknown")
    def unknown(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/event-stream", "content-encoding": "x-unknown"})
        conn.send(b"\x28\xb5\x2f\xfd garbage")
        conn.end()

    with pytest.raises(httpx.DecodingError, match="x-unknown"):
        consume(mode, server.url + "/unknown", method="GET")


@pytest.mark.parametrize("mode", MODES)
def test_fused_path_decodes_zstd_when_httpx_advertised_it(
    server: LoopbackServer, mode: str
) -> None:
    """httpx sends ``Accept-Encoding: ..., zstd`` whenever ``zstandard`` is installed
    (langsmith, a langchain dependency, installs it) and decodes such bodies itself; a
    server that picks zstd must not break the fused path."""
    tokens = [f"z{i} " for i in range(5)]
    compressor = zstandard.ZstdCompressor().compressobj()
    body = (
        b"".join(
            compressor.compress(piece) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            for piece in [*map(chat_event, tokens), DONE]
        )
        + compressor.flush()
    )

    @server.route("/zstd")
    def zstd(conn: Conn) -> None:
        assert "zstd" in conn.request.headers["accept-encoding"]
        conn.head(200, {"content-type": "text/event-stream", "content-encoding": "zstd"})
        conn.send(body)
        conn.end()

    url = server.url + "/zstd"
    assert consume(mode, url, method="GET", transport=False) == tokens
    assert consume(mode, url, method="GET") == tokens


# --- Failures mid-stream -----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["fin", "rst", "fin-gzip"])
def test_server_closing_mid_stream_gives_stream_interrupted_with_partial(
    server: LoopbackServer, mode: str, how: str
) -> None:
    tokens = ["Hel", "lo, ", "w\u00f6rld"]
    pieces = [chat_event(t) for t in tokens]
    headers = {"content-type": "text/event-stream"}
    if how == "fin-gzip":
        pieces = compressed_pieces(pieces, "gzip")[:-1]
        headers["content-encoding"] = "gzip"

    @server.route("/cut")
    def cut(conn: Conn) -> None:
        conn.head(200, headers)
        for piece in pieces:
            conn.send(piece)
        time.sleep(0.05)
        if how == "rst":
            conn.drop()
        else:
            conn.sock.shutdown(2)

    got: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted) as info:
        consume(mode, server.url + "/cut", method="GET", into=got)
    assert got == tokens
    assert info.value.partial == "".join(tokens)
    cause = info.value.__cause__
    if how == "rst":
        assert isinstance(cause, (httpx.ReadError, httpx.RemoteProtocolError))
    else:
        assert isinstance(cause, httpx.RemoteProtocolError)
    assert isinstance(cause, httpx.TransportError)
    assert cause.request.url.path == "/cut"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", ["drop@4", "drop-mid@4", "drop-utf8@4"])
def test_mock_drop_keeps_every_token_before_it(mock: Any, mode: str, fault: str) -> None:
    headers = {"x-mock-unicode": "1", "x-mock-tokens": "10"}
    reference = chat(mock, "sync", headers, transport=False)
    got: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted) as info:
        chat(mock, mode, {**headers, "x-mock-fault": fault}, into=got)
    assert got == reference[:4]
    assert info.value.partial == "".join(reference[:4])
    assert isinstance(info.value.__cause__, httpx.TransportError)


@pytest.mark.parametrize("mode", MODES)
def test_stall_gives_stream_interrupted_caused_by_read_timeout(mock: Any, mode: str) -> None:
    got: list[str] = []
    started = time.monotonic()
    with pytest.raises(seltzer.StreamInterrupted) as info:
        chat(
            mock,
            mode,
            {"x-mock-fault": "stall@2:5000"},
            into=got,
            timeout=httpx.Timeout(5.0, read=0.3),
        )
    assert time.monotonic() - started < 3.0
    assert len(got) == 2
    assert info.value.partial == "".join(got)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize("mode", MODES)
def test_missing_terminal_marker_gives_stream_interrupted(mock: Any, mode: str) -> None:
    request = stream_request("anthropic", "Hi", base_url=mock.url + "/v1")
    url = request.url
    got: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted, match="terminal marker") as info:
        consume(
            mode,
            url,
            dialect="anthropic",
            json=request.json,
            headers={"x-mock-fault": "no-done", "x-mock-tokens": "5"},
            into=got,
        )
    assert len(got) == 5
    assert info.value.partial == "".join(got)


@pytest.mark.parametrize("mode", MODES)
def test_status_and_content_type_errors_on_the_fused_path(mock: Any, mode: str) -> None:
    with pytest.raises(seltzer.APIStatusError) as info:
        chat(mock, mode, {"x-mock-fault": "status:429", "x-mock-retry-after": "3"})
    assert info.value.status_code == 429
    assert info.value.headers["retry-after"] == "3"
    assert info.value.body
    with pytest.raises(seltzer.SSEError, match="application/json"):
        chat(mock, mode, {"x-mock-fault": "content-type"})


# --- Early close and cancellation --------------------------------------------------------


def wait_for_no_open_connections(server: Any) -> bool:
    deadline = time.monotonic() + NOTICE_S
    while time.monotonic() < deadline:
        if server.stats()["open_connections"] == 0:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("mode", MODES)
def test_break_closes_the_connection_at_once(fresh_mock: Any, mode: str) -> None:
    url = fresh_mock.url + "/v1/chat/completions"
    headers = {"x-mock-itl-ms": "20", "x-mock-tokens": "500"}
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport(), timeout=10) as client:
            with client.stream("POST", url, json=CHAT, headers=headers) as response:
                for i, _ in enumerate(seltzer.iter_text(response, "openai-chat")):
                    if i == 2:
                        assert fresh_mock.stats()["open_connections"] == 1
                        break
            assert wait_for_no_open_connections(fresh_mock)
    else:

        async def main() -> None:
            async with httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=10) as client:
                async with client.stream("POST", url, json=CHAT, headers=headers) as response:
                    i = 0
                    async for _ in seltzer.aiter_text(response, "openai-chat"):
                        i += 1
                        if i == 3:
                            assert fresh_mock.stats()["open_connections"] == 1
                            break
                assert await asyncio.to_thread(wait_for_no_open_connections, fresh_mock)

        run_async(main(), mode)
    assert fresh_mock.stats()["tokens"] < 500


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_cancelling_the_task_closes_the_connection(fresh_mock: Any, mode: str) -> None:
    url = fresh_mock.url + "/v1/chat/completions"
    headers = {"x-mock-itl-ms": "300", "x-mock-tokens": "30"}

    async def main() -> None:
        first = asyncio.Event()

        async def read(client: httpx.AsyncClient) -> None:
            async with client.stream("POST", url, json=CHAT, headers=headers) as response:
                async for _ in seltzer.aiter_text(response, "openai-chat"):
                    first.set()

        async with httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=10) as client:
            task = asyncio.create_task(read(client))
            await asyncio.wait_for(first.wait(), NOTICE_S)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(wait_for_no_open_connections, fresh_mock)

    run_async(main(), mode)


# --- Scale and promptness ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_512_concurrent_streams_on_one_loop_are_complete(fresh_mock: Any, mode: str) -> None:
    url = fresh_mock.url + "/v1/chat/completions"
    body = {**CHAT, "max_tokens": 40}
    references = {
        seed: "".join(chat(fresh_mock, "sync", {"x-mock-seed": str(seed)}, json=body))
        for seed in range(8)
    }
    assert len(set(references.values())) == 8

    async def one(client: httpx.AsyncClient, i: int) -> str:
        headers = {"x-mock-seed": str(i % 8), "x-mock-itl-ms": "5"}
        async with client.stream("POST", url, json=body, headers=headers) as response:
            return "".join([t async for t in seltzer.aiter_text(response, "openai-chat")])

    async def main() -> list[str]:
        transport = AsyncHTTPTransport(limits=httpx.Limits(max_connections=512))
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            return await asyncio.gather(*(one(client, i) for i in range(512)))

    texts = run_async(main(), mode)
    assert texts == [references[i % 8] for i in range(512)]
    assert fresh_mock.stats()["requests"] == 8 + 512


@pytest.mark.parametrize("mode", MODES)
def test_each_token_reaches_the_caller_promptly(mock: Any, mode: str) -> None:
    """On a server pacing 30 tokens 50 ms apart, each token is in the caller's hands well
    before the stream ends (a loose bound: a reader that buffered would lag by up to
    1.5 s); lag is measured from the server's own send time."""
    lags_ms: list[float] = []
    sent_ns: list[int] = []

    class Timing(list[Any]):
        def append(self, token: Any) -> None:
            now = time.time_ns()
            if token.text:
                sent = token.json()["mock_sent_ns"]
                sent_ns.append(sent)
                lags_ms.append((now - sent) / 1e6)
            super().append(token)

    headers = {"x-mock-itl-ms": "50", "x-mock-tokens": "30", "x-mock-timestamps": "1"}
    chat(mock, mode, headers, kind="tokens", into=Timing())
    assert len(lags_ms) == 30
    # The server really paced them.
    assert sent_ns[-1] - sent_ns[0] >= 29 * 50_000_000 * 0.99
    assert max(lags_ms) < 500, lags_ms
    assert sorted(lags_ms)[15] < 100, lags_ms


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_waiting_for_tokens_does_not_block_the_loop(mock: Any, mode: str) -> None:
    url = mock.url + "/v1/chat/completions"
    headers = {"x-mock-ttft-ms": "600", "x-mock-itl-ms": "100", "x-mock-tokens": "3"}

    async def main() -> tuple[int, list[str]]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        async with (
            httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=10) as client,
            client.stream("POST", url, json=CHAT, headers=headers) as response,
        ):
            texts = [t async for t in seltzer.aiter_text(response, "openai-chat")]
        stop.set()
        await ticking
        return ticks, texts

    ticks, texts = run_async(main(), mode)
    assert len(texts) == 3
    # 800 ms of waiting at 10 ms a tick: a blocked loop would tick once or twice.
    assert ticks >= 10


# --- SDKs through the transport ------------------------------------------------------------


class CountingTransport(HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return super().handle_request(request)


class AsyncCountingTransport(AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await super().handle_async_request(request)


def reference_text(server: Any, max_tokens: int) -> str:
    return "".join(chat(server, "sync", transport=False, json={**CHAT, "max_tokens": max_tokens}))


@pytest.mark.parametrize("mode", MODES)
def test_openai_sdk_streams_through_the_transport(mock: Any, mode: str) -> None:
    expected = reference_text(mock, 20)
    messages = [{"role": "user", "content": "hi"}]
    base_url = mock.url + "/v1"
    if mode == "sync":
        transport = CountingTransport()
        client = openai.OpenAI(
            base_url=base_url, api_key="sk-test", http_client=httpx.Client(transport=transport)
        )
        with client:
            stream = client.chat.completions.create(
                model="m", messages=messages, stream=True, max_tokens=20
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            whole = client.chat.completions.create(model="m", messages=messages, max_tokens=20)
            with pytest.raises(openai.RateLimitError):
                client.with_options(max_retries=0).chat.completions.create(
                    model="m",
                    messages=messages,
                    stream=True,
                    extra_headers={"x-mock-fault": "status:429"},
                )
    else:
        transport = AsyncCountingTransport()

        async def main() -> tuple[str, Any]:
            aclient = openai.AsyncOpenAI(
                base_url=base_url,
                api_key="sk-test",
                http_client=httpx.AsyncClient(transport=transport),
            )
            async with aclient:
                stream = await aclient.chat.completions.create(
                    model="m", messages=messages, stream=True, max_tokens=20
                )
                parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
                whole = await aclient.chat.completions.create(
                    model="m", messages=messages, max_tokens=20
                )
                with pytest.raises(openai.RateLimitError):
                    await aclient.with_options(max_retries=0).chat.completions.create(
                        model="m",
                        messages=messages,
                        stream=True,
                        extra_headers={"x-mock-fault": "status:429"},
                    )
            return "".join(parts), whole

        text, whole = run_async(main(), mode)
    assert text == expected
    assert whole.choices[0].message.content == expected
    assert whole.usage.completion_tokens == 20
    assert transport.sent == 3


@pytest.mark.parametrize("mode", MODES)
def test_openai_sdk_sees_connection_errors_as_its_own(mode: str) -> None:
    """httpx's exception classes from the transport drive the SDK's error mapping."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    messages = [{"role": "user", "content": "hi"}]
    if mode == "sync":
        client = openai.OpenAI(
            base_url=base_url,
            api_key="sk-test",
            max_retries=0,
            http_client=httpx.Client(transport=HTTPTransport()),
        )
        with client, pytest.raises(openai.APIConnectionError) as info:
            client.chat.completions.create(model="m", messages=messages)
    else:

        async def main() -> None:
            aclient = openai.AsyncOpenAI(
                base_url=base_url,
                api_key="sk-test",
                max_retries=0,
                http_client=httpx.AsyncClient(transport=AsyncHTTPTransport()),
            )
            async with aclient:
                await aclient.chat.completions.create(model="m", messages=messages)

        with pytest.raises(openai.APIConnectionError) as info:
            run_async(main(), mode)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("mode", MODES)
def test_langchain_openai_streams_through_the_transport(mock: Any, mode: str) -> None:
    expected = reference_text(mock, 20)
    transport, atransport = CountingTransport(), AsyncCountingTransport()
    llm = ChatOpenAI(
        model="m",
        base_url=mock.url + "/v1",
        api_key="sk-test",  # type: ignore[arg-type]
        max_tokens=20,  # type: ignore[call-arg]
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=atransport),
    )
    if mode == "sync":
        text = "".join(str(chunk.content) for chunk in llm.stream("hi"))
        assert (transport.sent, atransport.sent) == (1, 0)
    else:

        async def main() -> str:
            return "".join([str(chunk.content) async for chunk in llm.astream("hi")])

        text = run_async(main(), mode)
        assert (transport.sent, atransport.sent) == (0, 1)
    assert text == expected


def test_mock_timestamps_are_wall_clock_nanoseconds(mock: Any) -> None:
    """The promptness test compares ``mock_sent_ns`` with ``time.time_ns()``."""
    headers = {"x-mock-timestamps": "1", "x-mock-tokens": "2"}
    before = time.time_ns()
    tokens = chat(mock, "sync", headers, kind="tokens")
    after = time.time_ns()
    stamps = [t.json()["mock_sent_ns"] for t in tokens if t.text]
    assert stamps
    assert all(before <= s <= after for s in stamps)
