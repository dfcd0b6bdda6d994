"""connect_sse / aconnect_sse and iter_sse(response) against a real loopback server:
TCP-level splits, gzip, error statuses, content types, drops, early exit, cancellation."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import seltzer
from seltzer import ServerSentEvent
from tests.conftest import MODES, run_async
from tests.server import Conn, LoopbackServer, write_until_disconnect

TIMEOUT = httpx.Timeout(5.0)


def stream_events(
    url: str, mode: str, on_event: Callable[[ServerSentEvent], bool] | None = None, **kwargs: Any
) -> list[ServerSentEvent]:
    """Opens an event stream and collects its events; ``on_event`` returning True stops."""
    seen: list[ServerSentEvent] = []
    kwargs.setdefault("json", {"prompt": "hi"})
    if mode == "sync":
        with (
            httpx.Client(timeout=TIMEOUT) as client,
            seltzer.connect_sse(client, "POST", url, **kwargs) as source,
        ):
            for ev in source.iter_sse():
                seen.append(ev)
                if on_event and on_event(ev):
                    break
        return seen

    async def main() -> None:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT) as client,
            seltzer.aconnect_sse(client, "POST", url, **kwargs) as source,
        ):
            async for ev in source.aiter_sse():
                seen.append(ev)
                if on_event and on_event(ev):
                    break

    run_async(main(), mode)
    return seen


def events(*data: str) -> list[ServerSentEvent]:
    return [ServerSentEvent(data=d) for d in data]


@pytest.mark.parametrize("mode", MODES)
def test_whole_body_in_one_write(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        conn.send(b"data: a\n\nevent: e\nid: 1\ndata: b\n\n")
        conn.end()

    assert stream_events(server.url + "/s", mode) == [
        ServerSentEvent(data="a"),
        ServerSentEvent(event="e", data="b", id="1"),
    ]
    request = server.requests[0]
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["cache-control"] == "no-store"
    assert json.loads(request.body) == {"prompt": "hi"}


@pytest.mark.parametrize("mode", MODES)
def test_byte_by_byte_tcp_writes(server: LoopbackServer, mode: str) -> None:
    body = "data: caf\u00e9\r\n\r\ndata: \U0001f600\r\r".encode()

    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        for i in range(len(body)):
            conn.send(body[i : i + 1])
            time.sleep(0.001)
        conn.end()

    assert stream_events(server.url + "/s", mode) == events("caf\u00e9", "\U0001f600")


@pytest.mark.parametrize("mode", MODES)
def test_cr_and_lf_in_separate_tcp_writes(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head(chunked=False, headers={"connection": "close"})
        for piece in (b"data: a\r", b"\n\r", b"\ndata: b\r", b"\ndata: c\r", b"\n\r\n"):
            conn.write(piece)
            time.sleep(0.01)

    assert stream_events(server.url + "/s", mode) == events("a", "b\nc")


@pytest.mark.parametrize("mode", MODES)
def test_gzip_body(server: LoopbackServer, mode: str) -> None:
    body = gzip.compress(b"".join(b"data: %d\n\n" % i for i in range(500)))

    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head(headers={"content-encoding": "gzip"})
        for i in range(0, len(body), 100):
            conn.send(body[i : i + 100])
        conn.end()

    assert stream_events(server.url + "/s", mode) == events(*(str(i) for i in range(500)))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_error_status_raises_api_status_error_with_body(
    server: LoopbackServer, mode: str, status: int
) -> None:
    payload = json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}).encode()

    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head(status, {"content-type": "application/json", "retry-after": "3"})
        conn.send(payload)
        conn.end()

    with pytest.raises(seltzer.APIStatusError, match=f"HTTP {status} .* POST http://") as info:
        stream_events(server.url + "/s?key=secret-in-query", mode)
    err = info.value
    assert err.status_code == status
    assert err.body == {"error": {"message": "slow down", "type": "rate_limit"}}
    assert err.headers["retry-after"] == "3"
    assert "secret-in-query" not in str(err)


@pytest.mark.parametrize("mode", MODES)
def test_error_body_read_at_most_64_kib(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head(500, {"content-type": "text/plain"})
        for _ in range(100):
            conn.send(b"x" * 4096)
        conn.end()

    with pytest.raises(seltzer.APIStatusError) as info:
        stream_events(server.url + "/s", mode)
    assert info.value.body == "x" * 65536


@pytest.mark.parametrize("mode", MODES)
def test_wrong_content_type_raises_sse_error_naming_it(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head(headers={"content-type": "application/json"})
        conn.send(b'{"choices": []}')
        conn.end()

    with pytest.raises(seltzer.SSEError, match="got 'application/json'"):
        stream_events(server.url + "/s", mode)


@pytest.mark.parametrize("mode", MODES)
def test_content_type_with_parameters_is_accepted(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head(headers={"content-type": "Text/Event-Stream; charset=utf-8"})
        conn.send(b"data: a\n\n")
        conn.end()

    assert stream_events(server.url + "/s", mode) == events("a")


@pytest.mark.parametrize("mode", MODES)
def test_connection_dropped_mid_event_raises_stream_interrupted(
    server: LoopbackServer, mode: str
) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        conn.send(b"data: a\n\ndata: b\n\ndata: half")
        time.sleep(0.05)
        conn.drop()

    seen: list[ServerSentEvent] = []
    with pytest.raises(seltzer.StreamInterrupted, match="stream interrupted after") as info:
        stream_events(server.url + "/s", mode, on_event=lambda ev: seen.append(ev) and False)
    assert seen == events("a", "b")
    assert isinstance(info.value.__cause__, httpx.TransportError)


@pytest.mark.parametrize("mode", MODES)
def test_early_break_closes_the_connection(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        write_until_disconnect(conn, b"data: tick\n\n")

    got = stream_events(server.url + "/s", mode, on_event=lambda ev: True)
    assert got == events("tick")
    assert server.disconnected.wait(5), "the server never saw the client go away"


@pytest.mark.parametrize("mode", ["asyncio", "uvloop"])
def test_task_cancellation_closes_the_connection(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        write_until_disconnect(conn, b"data: tick\n\n", interval=0.02)

    async def main() -> None:
        first = asyncio.Event()

        async def consume() -> None:
            async with (
                httpx.AsyncClient(timeout=TIMEOUT) as client,
                seltzer.aconnect_sse(client, "GET", server.url + "/s") as source,
            ):
                async for _ in source.aiter_sse():
                    first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_async(main(), mode)
    assert server.disconnected.wait(5)


@pytest.mark.parametrize("mode", MODES)
def test_connection_refused_raises_api_connection_error(mode: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(seltzer.APIConnectionError) as info:
        stream_events(f"http://127.0.0.1:{port}/s", mode)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("mode", MODES)
def test_read_timeout_is_stream_interrupted(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        conn.send(b"data: a\n\n")
        time.sleep(1.5)
        conn.end()

    seen: list[ServerSentEvent] = []
    # The server resumes after 1.5 s: only the 0.3 s read timeout can end this early.
    with pytest.raises(seltzer.StreamInterrupted) as info:
        stream_events(
            server.url + "/s",
            mode,
            on_event=lambda ev: seen.append(ev) and False,
            timeout=httpx.Timeout(5.0, read=0.3),
        )
    assert seen == events("a")
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize("mode", MODES)
def test_iter_sse_accepts_a_plain_streamed_response(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        conn.send(b"data: a\n\n")
        conn.end()

    if mode == "sync":
        with httpx.Client() as client, client.stream("GET", server.url + "/s") as response:
            assert list(seltzer.iter_sse(response)) == events("a")
        return

    async def main() -> list[ServerSentEvent]:
        async with (
            httpx.AsyncClient() as client,
            client.stream("GET", server.url + "/s") as response,
        ):
            return [ev async for ev in seltzer.aiter_sse(response)]

    assert run_async(main(), mode) == events("a")


def test_event_source_repr_hides_query() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/x?api_key=k")
    response = httpx.Response(200, request=request)
    assert repr(seltzer.EventSource(response)) == "<EventSource GET http://127.0.0.1:1/x [200]>"
