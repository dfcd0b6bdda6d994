"""seltzer's HTTP transport under httpx, plain HTTP/1.1 against real servers on
127.0.0.1: keep-alive, body framings, content encodings decoded by httpx, request bodies
and headers, every timeout, refused and broken connections, early close and
cancellation, fork safety, and secrets kept out of errors."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import socket
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import seltzer
from seltzer.transport import AsyncHTTPTransport, HTTPTransport
from tests.clients import fetch, read_raw, request
from tests.compress import ENCODINGS, compressed_pieces
from tests.conftest import MODES, run_async
from tests.proxy import Proxy
from tests.server import HANDLER_DEADLINE_S, Conn, LoopbackServer

ASYNC_MODES = ["asyncio", "uvloop"]

#: How long a test waits for the server to notice something; generous, for a loaded box.
NOTICE_S = 5.0

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


@pytest.fixture
def mock() -> Iterator[Any]:
    with seltzer.mock.serve() as srv:
        yield srv


def wait_for_eof(conn: Conn, closed: threading.Event) -> None:
    """Blocks until the client closes the connection, then sets ``closed`` (never on the
    handler's deadline, so that a client that keeps the connection open is caught)."""
    conn.sock.settimeout(HANDLER_DEADLINE_S)
    try:
        while conn.sock.recv(65536):
            pass
    except TimeoutError:
        return
    except OSError:
        pass
    closed.set()


@contextlib.contextmanager
def silent_listener(*, backlog: int = 16) -> Iterator[tuple[int, list[socket.socket]]]:
    """A port whose server accepts connections and then neither reads nor writes."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=backlog)
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                sock, _ = listener.accept()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                accepted.append(sock)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        for sock in accepted:
            sock.close()
        listener.close()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Keep-alive and framing ----------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_keepalive_reuses_one_connection_for_sequential_requests(mock: Any, mode: str) -> None:
    headers = {"x-mock-tokens": "5"}
    url = mock.url + "/v1/chat/completions"
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport(), timeout=5) as client:
            for _ in range(4):
                assert client.get(mock.url + "/health").json() == {"status": "ok"}
            for _ in range(3):
                with client.stream("POST", url, json=CHAT, headers=headers) as response:
                    assert b"[DONE]" in response.read()
    else:

        async def main() -> None:
            async with httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=5) as client:
                for _ in range(4):
                    assert (await client.get(mock.url + "/health")).json() == {"status": "ok"}
                for _ in range(3):
                    async with client.stream("POST", url, json=CHAT, headers=headers) as response:
                        assert b"[DONE]" in await response.aread()

        run_async(main(), mode)
    stats = mock.stats()
    assert stats["requests"] == 7
    assert stats["connections"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_closing_the_client_closes_its_pooled_connections(mock: Any, mode: str) -> None:
    """As with httpx's own transport: ``client.close()`` / ``aclose()`` (and leaving its
    ``with`` block) close the transport's idle keep-alive connections, without waiting
    for the transport to be garbage collected or the idle connection to expire."""
    limits = httpx.Limits(keepalive_expiry=60)
    if mode == "sync":
        transport: Any = HTTPTransport(limits=limits)
        with httpx.Client(transport=transport, timeout=5) as client:
            assert client.get(mock.url + "/health").status_code == 200
    else:

        async def main() -> AsyncHTTPTransport:
            kept = AsyncHTTPTransport(limits=limits)
            async with httpx.AsyncClient(transport=kept, timeout=5) as client:
                assert (await client.get(mock.url + "/health")).status_code == 200
            return kept

        transport = run_async(main(), mode)
    assert mock.stats()["connections"] == 1
    deadline = time.monotonic() + 2.0
    while mock.stats()["open_connections"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mock.stats()["open_connections"] == 0
    del transport


BINARY = bytes(range(256)) * 64


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framing", ["content-length", "chunked", "close-delimited"])
def test_body_arrives_whole_in_every_framing(
    server: LoopbackServer, mode: str, framing: str
) -> None:
    @server.route("/body")
    def body(conn: Conn) -> None:
        headers = {"content-type": "application/octet-stream"}
        if framing == "content-length":
            headers["content-length"] = str(len(BINARY))
        conn.head(200, headers, chunked=framing == "chunked")
        for start in range(0, len(BINARY), 1000):
            conn.send(BINARY[start : start + 1000])
        conn.end()

    response, chunks = fetch(mode, "GET", server.url + "/body", raw=True)
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert b"".join(chunks) == BINARY
    assert all(chunks)


@pytest.mark.parametrize("mode", MODES)
def test_large_body_streams_intact(server: LoopbackServer, mode: str) -> None:
    data = hashlib.sha256(b"seed").digest() * (8 * 1024 * 1024 // 32)

    @server.route("/large")
    def large(conn: Conn) -> None:
        conn.head(200, {"content-length": str(len(data))}, chunked=False)
        conn.write(data)

    _, chunks = fetch(mode, "GET", server.url + "/large")
    assert len(chunks) > 1
    assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_content_encoded_body_stays_encoded_for_httpx_to_decode(
    server: LoopbackServer, mode: str, encoding: str
) -> None:
    pieces = [f"piece {i} ".encode() * 50 for i in range(20)]
    encoded = compressed_pieces(pieces, encoding)

    @server.route("/encoded")
    def body(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain", "content-encoding": encoding})
        for piece in encoded:
            conn.send(piece)
        conn.end()

    _, raw = fetch(mode, "GET", server.url + "/encoded", raw=True)
    assert b"".join(raw) == b"".join(encoded)
    response, decoded = fetch(mode, "GET", server.url + "/encoded")
    assert b"".join(decoded) == b"".join(pieces)
    assert response.headers["content-encoding"] == encoding
    assert request(mode, "GET", server.url + "/encoded").text == b"".join(pieces).decode()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_each_piece_reaches_the_caller_before_the_server_sends_the_next(
    server: LoopbackServer, mode: str, encoding: str
) -> None:
    """The server sends a piece, then waits until the client has it: a transport that
    waited to fill a buffer would make the server give up waiting."""
    pieces = [f"piece {i};".encode() for i in range(5)]
    encoded = [*pieces, b""] if encoding == "identity" else compressed_pieces(pieces, encoding)
    received = [threading.Event() for _ in pieces]
    timed_out: list[int] = []

    @server.route("/lockstep")
    def lockstep(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain", "content-encoding": encoding})
        for i, piece in enumerate(encoded[:-1]):
            conn.send(piece)
            if not received[i].wait(NOTICE_S):
                timed_out.append(i)
        if encoded[-1]:
            conn.send(encoded[-1])
        conn.end()

    def note(text: bytes) -> None:
        for i, piece in enumerate(pieces):
            if piece in text:
                received[i].set()

    got = b""
    if mode == "sync":
        with (
            httpx.Client(transport=HTTPTransport(), timeout=10) as client,
            client.stream("GET", server.url + "/lockstep") as response,
        ):
            for chunk in response.iter_bytes():
                got += chunk
                note(got)
    else:

        async def main() -> bytes:
            text = b""
            async with (
                httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=10) as client,
                client.stream("GET", server.url + "/lockstep") as response,
            ):
                async for chunk in response.aiter_bytes():
                    text += chunk
                    note(text)
            return text

        got = run_async(main(), mode)
    assert got == b"".join(pieces)
    assert timed_out == []


# --- Non-streamed requests, request bodies and headers --------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_non_streamed_get_and_post_return_json(mock: Any, mode: str) -> None:
    models = request(mode, "GET", mock.url + "/v1/models")
    assert models.status_code == 200
    assert models.json()["data"][0]["id"] == "mock-model"
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    completion = request(mode, "POST", mock.url + "/v1/chat/completions", json=body)
    assert completion.status_code == 200
    payload = completion.json()
    assert payload["object"] == "chat.completion"
    assert payload["usage"]["completion_tokens"] == 5
    assert payload["choices"][0]["message"]["content"]
    missing = request(mode, "GET", mock.url + "/no/such/route")
    assert missing.status_code == 404


@pytest.mark.parametrize("mode", MODES)
def test_request_body_and_headers_arrive_intact(server: LoopbackServer, mode: str) -> None:
    @server.route("/echo")
    def echo(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain", "content-length": "2"}, chunked=False)
        conn.write(b"ok")

    headers = {
        "authorization": "Bearer sk-test-123",
        "x-custom": "a  b\tc",
        "x-latin": b"caf\xe9",
        "user-agent": "seltzer-test/1",
    }
    response = request(
        mode, "PUT", server.url + "/echo?q=a%20b&x=1", content=BINARY, headers=headers
    )
    assert response.text == "ok"
    (seen,) = server.requests
    assert seen.method == "PUT"
    assert seen.path == "/echo?q=a%20b&x=1"
    assert seen.body == BINARY
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["content-length"] == str(len(BINARY))
    assert seen.headers["authorization"] == "Bearer sk-test-123"
    assert seen.headers["x-custom"] == "a  b\tc"
    assert seen.headers["x-latin"] == "caf\xe9"
    assert seen.headers["user-agent"] == "seltzer-test/1"


@pytest.mark.parametrize("mode", MODES)
def test_json_and_form_bodies_arrive_intact(server: LoopbackServer, mode: str) -> None:
    @server.route("/echo")
    def echo(conn: Conn) -> None:
        body = conn.request.body
        conn.head(
            200,
            {
                "content-type": conn.request.headers["content-type"],
                "content-length": str(len(body)),
            },
            chunked=False,
        )
        conn.write(body)

    data = {"text": "h\u00e9llo \u2603 \U0001f600", "n": [1, 2, 3]}
    assert request(mode, "POST", server.url + "/echo", json=data).json() == data
    form = request(mode, "POST", server.url + "/echo", data={"a": "1 2", "b": "&"})
    assert form.text == "a=1+2&b=%26"
    assert server.requests[0].headers["content-type"] == "application/json"


def read_chunked(conn: Conn) -> bytes:
    """The rest of a chunked request body (the server parsed only the head)."""
    data = conn.request.body
    while not data.endswith(b"0\r\n\r\n"):
        piece = conn.sock.recv(65536)
        if not piece:
            break
        data += piece
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return body
        body += data[:size]
        data = data[size + 2 :]


@pytest.mark.parametrize("mode", MODES)
def test_streamed_request_body_arrives_whole(server: LoopbackServer, mode: str) -> None:
    pieces = [bytes([i]) * 1000 for i in range(10)]

    @server.route("/upload")
    def upload(conn: Conn) -> None:
        if "chunked" in conn.request.headers.get("transfer-encoding", ""):
            body = read_chunked(conn)
        else:
            body = conn.request.body
        digest = hashlib.sha256(body).hexdigest().encode()
        conn.head(200, {"content-type": "text/plain", "content-length": "64"}, chunked=False)
        conn.write(digest)

    expected = hashlib.sha256(b"".join(pieces)).hexdigest()
    if mode == "sync":
        assert request(mode, "POST", server.url + "/upload", content=iter(pieces)).text == expected
    else:

        async def gen() -> Any:
            for piece in pieces:
                yield piece

        assert request(mode, "POST", server.url + "/upload", content=gen()).text == expected


@pytest.mark.parametrize("mode", MODES)
def test_head_and_no_content_responses_have_empty_bodies(server: LoopbackServer, mode: str) -> None:
    @server.route("/head")
    def head(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain", "content-length": "100"}, chunked=False)

    @server.route("/empty")
    def empty(conn: Conn) -> None:
        conn.head(204, {"content-type": "text/plain"}, chunked=False)

    response = request(mode, "HEAD", server.url + "/head")
    assert response.status_code == 200
    assert response.headers["content-length"] == "100"
    assert response.content == b""
    response = request(mode, "GET", server.url + "/empty")
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize("mode", MODES)
def test_repeated_response_headers_are_kept(server: LoopbackServer, mode: str) -> None:
    @server.route("/cookies")
    def cookies(conn: Conn) -> None:
        conn.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nset-cookie: a=1\r\n"
            b"set-cookie: b=2\r\nx-Mixed-Case: Value\r\ncontent-length: 0\r\n"
            b"connection: close\r\n\r\n"
        )

    response = request(mode, "GET", server.url + "/cookies")
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["x-mixed-case"] == "Value"
    assert response.extensions["http_version"] == b"HTTP/1.1"


@pytest.mark.parametrize("mode", MODES)
def test_redirects_are_followed_by_httpx(server: LoopbackServer, mode: str) -> None:
    @server.route("/old")
    def old(conn: Conn) -> None:
        conn.head(302, {"location": "/new", "content-length": "0"}, chunked=False)

    @server.route("/new")
    def new(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain", "content-length": "3"}, chunked=False)
        conn.write(b"new")

    response = request(mode, "GET", server.url + "/old", follow_redirects=True)
    assert response.text == "new"
    assert [r.status_code for r in response.history] == [302]


def test_local_address_binds_the_client_side() -> None:
    peers: list[str] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(NOTICE_S)

        def serve() -> None:
            with contextlib.suppress(OSError):
                sock, peer = listener.accept()
                with sock:
                    peers.append(peer[0])
                    sock.settimeout(NOTICE_S)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += sock.recv(65536)
                    sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        transport = HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(transport=transport, timeout=5) as client:
            assert client.get(f"http://127.0.0.1:{port}/").text == "ok"
        thread.join(timeout=NOTICE_S)
    assert peers == ["127.0.0.2"]


@contextlib.contextmanager
def raw_head_server() -> Iterator[tuple[int, list[bytes]]]:
    """A one-request server that keeps the request head exactly as it arrived."""
    heads: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(NOTICE_S)

        def serve() -> None:
            with contextlib.suppress(OSError):
                sock, _ = listener.accept()
                with sock:
                    sock.settimeout(NOTICE_S)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += sock.recv(65536)
                    heads.append(data.partition(b"\r\n\r\n")[0])
                    sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield listener.getsockname()[1], heads
        thread.join(timeout=NOTICE_S)


@pytest.mark.parametrize("host", [None, "api.example.test"])
def test_each_header_is_sent_once_and_a_custom_host_wins(host: str | None) -> None:
    with raw_head_server() as (port, heads):
        headers = {"x-one": "1"} if host is None else {"host": host, "x-one": "1"}
        with httpx.Client(transport=HTTPTransport(), timeout=5) as client:
            assert client.get(f"http://127.0.0.1:{port}/path", headers=headers).text == "ok"
    (head,) = heads
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "GET /path HTTP/1.1"
    names = [line.partition(":")[0].lower() for line in lines[1:]]
    assert sorted(names) == sorted(set(names)), lines
    assert set(names) >= {"host", "x-one", "accept", "accept-encoding", "user-agent"}
    sent = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert sent["host"] == (host or f"127.0.0.1:{port}")


@pytest.mark.parametrize("mode", MODES)
def test_errors_carry_the_very_request_sent(mode: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/refused"
    errors: list[httpx.ConnectError] = []
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport()) as client:
            sent = client.build_request("POST", url, content=b"x")
            try:
                client.send(sent)
            except httpx.ConnectError as exc:
                errors.append(exc)
    else:

        async def main() -> httpx.Request:
            async with httpx.AsyncClient(transport=AsyncHTTPTransport()) as client:
                built = client.build_request("POST", url, content=b"x")
                try:
                    await client.send(built)
                except httpx.ConnectError as exc:
                    errors.append(exc)
                return built

        sent = run_async(main(), mode)
    (error,) = errors
    assert error.request is sent


@pytest.mark.parametrize("mode", MODES)
def test_pool_limits_and_keepalive_expiry_are_honoured(mode: str) -> None:
    """No idle connections kept: each request connects anew; a short expiry drops an
    idle connection, a long one keeps it."""
    cases = [
        (httpx.Limits(max_keepalive_connections=0), 0.0, 3),
        (httpx.Limits(keepalive_expiry=0.1), 0.5, 3),
        (httpx.Limits(keepalive_expiry=30), 0.5, 1),
    ]
    for limits, pause, connections in cases:
        with seltzer.mock.serve() as srv:
            url = srv.url + "/health"
            if mode == "sync":
                with httpx.Client(transport=HTTPTransport(limits=limits), timeout=5) as client:
                    for _ in range(3):
                        assert client.get(url).status_code == 200
                        time.sleep(pause)
            else:

                async def main(limits: httpx.Limits, pause: float, url: str) -> None:
                    transport = AsyncHTTPTransport(limits=limits)
                    async with httpx.AsyncClient(transport=transport, timeout=5) as client:
                        for _ in range(3):
                            assert (await client.get(url)).status_code == 200
                            await asyncio.sleep(pause)

                run_async(main(limits, pause, url), mode)
            assert srv.stats()["connections"] == connections, (limits, pause)


def test_unsupported_options_raise_value_error() -> None:
    with pytest.raises(ValueError, match="uds"):
        HTTPTransport(uds="seltzer.sock")
    with pytest.raises(ValueError, match="socket_options"):
        AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)])
    with pytest.raises(TypeError, match="verify"):
        HTTPTransport(verify=1)  # type: ignore[arg-type]


# --- Failures: timeouts, refused, broken connections ----------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_stalled_body_raises_read_timeout(server: LoopbackServer, mode: str) -> None:
    @server.route("/stall")
    def stall(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain"})
        conn.send(b"first")
        wait_for_eof(conn, threading.Event())

    got: list[bytes] = []
    started = time.monotonic()
    timeout = httpx.Timeout(5.0, read=0.3)
    url = server.url + "/stall"
    with pytest.raises(httpx.ReadTimeout) as info:
        read_raw(mode, url, got, timeout)
    assert time.monotonic() - started < 4.0
    assert got == [b"first"]
    assert str(info.value.request.url) == url


@pytest.mark.parametrize("mode", MODES)
def test_server_that_never_answers_raises_read_timeout(mode: str) -> None:
    with silent_listener() as (port, _):
        url = f"http://127.0.0.1:{port}/silent"
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout) as info:
            request(mode, "GET", url, timeout=httpx.Timeout(5.0, read=0.3))
        assert time.monotonic() - started < 4.0
        assert str(info.value.request.url) == url


@pytest.mark.parametrize("mode", MODES)
def test_server_that_never_reads_raises_write_timeout(mode: str) -> None:
    with silent_listener() as (port, _):
        url = f"http://127.0.0.1:{port}/upload"
        body = b"x" * (64 * 1024 * 1024)
        started = time.monotonic()
        with pytest.raises(httpx.WriteTimeout) as info:
            request(mode, "POST", url, content=body, timeout=httpx.Timeout(10.0, write=0.5))
        assert time.monotonic() - started < 8.0
        assert str(info.value.request.url) == url


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port on 127.0.0.1 whose listen queue is full and never drained: Linux drops
    further SYNs, so a connect there neither succeeds nor fails until it times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        with socket.socket() as probe:
            probe.settimeout(0.3)
            # The precondition: a plain connect cannot complete either.
            with pytest.raises(TimeoutError):
                probe.connect(("127.0.0.1", port))
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.parametrize("mode", MODES)
def test_full_listen_queue_raises_connect_timeout(mode: str) -> None:
    with full_backlog() as port:
        url = f"http://127.0.0.1:{port}/"
        started = time.monotonic()
        with pytest.raises(httpx.ConnectTimeout) as info:
            request(mode, "GET", url, timeout=httpx.Timeout(5.0, connect=0.3))
        assert time.monotonic() - started < 4.0
        assert str(info.value.request.url) == url


@pytest.mark.parametrize("mode", MODES)
def test_held_connection_with_one_slot_raises_pool_timeout(mock: Any, mode: str) -> None:
    limits = httpx.Limits(max_connections=1)
    timeout = httpx.Timeout(5.0, pool=0.3)
    url = mock.url + "/v1/chat/completions"
    headers = {"x-mock-itl-ms": "1000", "x-mock-tokens": "5"}
    errors: list[BaseException] = []
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport(limits=limits), timeout=timeout) as client:
            with client.stream("POST", url, json=CHAT, headers=headers) as held:
                assert held.status_code == 200
                started = time.monotonic()
                try:
                    client.get(mock.url + "/health")
                except httpx.HTTPError as exc:
                    errors.append(exc)
                assert time.monotonic() - started < 4.0
            # Closing the held response frees the slot.
            assert client.get(mock.url + "/health").status_code == 200
    else:

        async def main() -> None:
            transport = AsyncHTTPTransport(limits=limits)
            async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
                async with client.stream("POST", url, json=CHAT, headers=headers) as held:
                    assert held.status_code == 200
                    started = time.monotonic()
                    try:
                        await client.get(mock.url + "/health")
                    except httpx.HTTPError as exc:
                        errors.append(exc)
                    assert time.monotonic() - started < 4.0
                assert (await client.get(mock.url + "/health")).status_code == 200

        run_async(main(), mode)
    (error,) = errors
    assert isinstance(error, httpx.PoolTimeout)
    assert error.request.url.path == "/health"


@pytest.mark.parametrize("mode", MODES)
def test_read_timeout_bounds_each_read_not_the_whole_body(
    server: LoopbackServer, mode: str
) -> None:
    """httpx's read timeout is per read: a body that trickles for longer than the
    timeout, each piece within it, completes (as do slow headers under a connect
    timeout)."""

    @server.route("/trickle")
    def trickle(conn: Conn) -> None:
        time.sleep(0.3)
        conn.head(200, {"content-type": "text/plain"})
        for i in range(8):
            conn.send(b"%d" % i)
            time.sleep(0.1)
        conn.end()

    timeout = httpx.Timeout(5.0, connect=0.2, read=1.0)
    _, chunks = fetch(mode, "GET", server.url + "/trickle", timeout=timeout)
    assert b"".join(chunks) == b"01234567"
    response = request(mode, "GET", server.url + "/trickle", timeout=httpx.Timeout(None))
    assert response.content == b"01234567"


def test_a_sync_consumer_pausing_between_reads_has_the_whole_read_timeout_each_time(
    server: LoopbackServer,
) -> None:
    """As with httpx's own transport, the read timeout bounds each wait for the server,
    not the time between pieces: pieces 0.3 s apart under a 0.2 s read timeout, read by
    a consumer that works 0.25 s on each, all arrive."""

    @server.route("/slow")
    def slow(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain"})
        for i in range(3):
            conn.send(b"%d" % i)
            time.sleep(0.3)
        conn.end()

    timeout = httpx.Timeout(5.0, read=0.2)
    for transport in (httpx.HTTPTransport(), HTTPTransport()):
        got = []
        with (
            httpx.Client(transport=transport, timeout=timeout) as client,
            client.stream("GET", server.url + "/slow") as response,
        ):
            for piece in response.iter_raw():
                got.append(piece)
                time.sleep(0.25)
        assert b"".join(got) == b"012", type(transport)


@pytest.mark.parametrize("mode", MODES)
def test_a_slot_freed_in_time_ends_the_pool_wait(mock: Any, mode: str) -> None:
    limits = httpx.Limits(max_connections=1)
    url = mock.url + "/v1/chat/completions"
    headers = {"x-mock-itl-ms": "100", "x-mock-tokens": "3"}
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport(limits=limits), timeout=10) as client:
            held = client.send(
                client.build_request("POST", url, json=CHAT, headers=headers), stream=True
            )
            release = threading.Timer(0.2, held.close)
            release.start()
            try:
                assert client.get(mock.url + "/health").status_code == 200
            finally:
                release.join()
        return

    async def main() -> None:
        transport = AsyncHTTPTransport(limits=limits)
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            request = client.build_request("POST", url, json=CHAT, headers=headers)
            held = await client.send(request, stream=True)

            async def release() -> None:
                await asyncio.sleep(0.2)
                await held.aclose()

            releasing = asyncio.create_task(release())
            assert (await client.get(mock.url + "/health")).status_code == 200
            await releasing

    run_async(main(), mode)


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_cancelled_pool_wait_gives_no_slot_away(mock: Any, mode: str) -> None:
    """A request cancelled while it waits for a connection slot must not keep or leak
    the slot: once the held response closes, the next request gets it."""
    limits = httpx.Limits(max_connections=1)
    url = mock.url + "/v1/chat/completions"
    headers = {"x-mock-itl-ms": "1000", "x-mock-tokens": "5"}

    async def main() -> None:
        transport = AsyncHTTPTransport(limits=limits)
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            async with client.stream("POST", url, json=CHAT, headers=headers):
                waiting = asyncio.create_task(client.get(mock.url + "/health"))
                await asyncio.sleep(0.2)
                assert not waiting.done()
                waiting.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await waiting
            response = await asyncio.wait_for(client.get(mock.url + "/health"), NOTICE_S)
            assert response.status_code == 200

    run_async(main(), mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("retries", [0, 2])
def test_refused_connection_raises_connect_error(mode: str, retries: int) -> None:
    url = f"http://127.0.0.1:{free_port()}/refused"
    if mode == "sync":
        with (
            httpx.Client(transport=HTTPTransport(retries=retries)) as client,
            pytest.raises(httpx.ConnectError) as info,
        ):
            client.get(url)
    else:

        async def main() -> None:
            async with httpx.AsyncClient(transport=AsyncHTTPTransport(retries=retries)) as client:
                await client.get(url)

        with pytest.raises(httpx.ConnectError) as info:
            run_async(main(), mode)
    assert str(info.value.request.url) == url


@pytest.mark.parametrize("mode", MODES)
def test_unsupported_scheme_raises_httpx_error(mode: str) -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        request(mode, "GET", "ftp://127.0.0.1/file")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_server_closing_mid_body_raises_remote_protocol_error(
    server: LoopbackServer, mode: str, framing: str
) -> None:
    @server.route("/cut")
    def cut(conn: Conn) -> None:
        if framing == "content-length":
            conn.head(200, {"content-type": "text/plain", "content-length": "100"}, chunked=False)
        else:
            conn.head(200, {"content-type": "text/plain"})
        conn.send(b"0123456789")
        time.sleep(0.05)
        conn.sock.shutdown(socket.SHUT_RDWR)

    got: list[bytes] = []
    url = server.url + "/cut"
    with pytest.raises(httpx.RemoteProtocolError) as info:
        read_raw(mode, url, got)
    assert b"".join(got) == b"0123456789"
    assert str(info.value.request.url) == url


@pytest.mark.parametrize("mode", MODES)
def test_connection_reset_mid_body_raises_read_error(server: LoopbackServer, mode: str) -> None:
    @server.route("/reset")
    def reset(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain"})
        conn.send(b"0123456789")
        time.sleep(0.05)
        conn.drop()

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        fetch(mode, "GET", server.url + "/reset", raw=True)


# --- Early close and cancellation -----------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_break_closes_the_connection_at_once(server: LoopbackServer, mode: str) -> None:
    closed = threading.Event()

    @server.route("/endless")
    def endless(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain"})
        conn.send(b"first")
        wait_for_eof(conn, closed)

    url = server.url + "/endless"
    if mode == "sync":
        with httpx.Client(transport=HTTPTransport(), timeout=10) as client:
            with client.stream("GET", url) as response:
                for _ in response.iter_raw():
                    break
            assert closed.wait(NOTICE_S)
            # The client still works (the broken connection was not pooled).
            assert client.get(url.replace("endless", "missing")).status_code == 404
        return

    async def main() -> None:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=10) as client:
            async with client.stream("GET", url) as response:
                async for _ in response.aiter_raw():
                    break
            assert await asyncio.to_thread(closed.wait, NOTICE_S)
            assert (await client.get(url.replace("endless", "missing"))).status_code == 404

    run_async(main(), mode)


@pytest.mark.parametrize("mode", ASYNC_MODES)
@pytest.mark.parametrize("where", ["head", "body"])
def test_cancelling_the_task_closes_the_connection(
    server: LoopbackServer, mode: str, where: str
) -> None:
    closed = threading.Event()
    asked = threading.Event()

    @server.route("/hang")
    def hang(conn: Conn) -> None:
        asked.set()
        if where == "body":
            conn.head(200, {"content-type": "text/plain"})
            conn.send(b"first")
        wait_for_eof(conn, closed)

    async def main() -> None:
        first = asyncio.Event()

        async def read(client: httpx.AsyncClient) -> None:
            async with client.stream("GET", server.url + "/hang") as response:
                async for _ in response.aiter_raw():
                    first.set()

        async with httpx.AsyncClient(transport=AsyncHTTPTransport(), timeout=10) as client:
            task = asyncio.create_task(read(client))
            if where == "body":
                await asyncio.wait_for(first.wait(), NOTICE_S)
            else:
                assert await asyncio.to_thread(asked.wait, NOTICE_S)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(closed.wait, NOTICE_S)

    run_async(main(), mode)


# --- Processes and secrets ------------------------------------------------------------


def test_forked_child_can_use_a_fresh_transport(mock: Any) -> None:
    url = mock.url + "/v1/chat/completions"
    with httpx.Client(transport=HTTPTransport(), timeout=5) as client:
        assert client.get(mock.url + "/health").status_code == 200
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                with httpx.Client(transport=HTTPTransport(), timeout=5) as child:
                    ok = child.get(mock.url + "/health").json() == {"status": "ok"}
                    with child.stream("POST", url, json=CHAT) as response:
                        text = "".join(seltzer.iter_text(response, "openai-chat"))

                async def amain() -> str:
                    transport = AsyncHTTPTransport()
                    async with (
                        httpx.AsyncClient(transport=transport, timeout=5) as aclient,
                        aclient.stream("POST", url, json=CHAT) as response,
                    ):
                        return "".join(
                            [t async for t in seltzer.aiter_text(response, "openai-chat")]
                        )

                code = 0 if ok and text and asyncio.run(amain()) == text else 2
            finally:
                os._exit(code)
        deadline = time.monotonic() + 30
        status = 0
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail("the forked child hung using a fresh transport")
            time.sleep(0.05)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's transport still works after the fork.
        assert client.get(mock.url + "/health").status_code == 200


SECRET = "sk-secret-0123456789abcdef"


def chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def assert_no_secret(exc: BaseException) -> None:
    for link in chain(exc):
        assert SECRET not in str(link), link
        assert SECRET not in repr(link), link
    assert SECRET not in "".join(traceback.format_exception(exc))


@pytest.mark.parametrize("mode", MODES)
def test_no_header_value_appears_in_any_error(server: LoopbackServer, mock: Any, mode: str) -> None:
    @server.route("/cut")
    def cut(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/event-stream"})
        conn.send(b'data: {"choices":[{"index":0,"delta":{"content":"ab"}}]}\n\n')
        time.sleep(0.05)
        conn.sock.shutdown(socket.SHUT_RDWR)

    @server.route("/stall")
    def stall(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain"})
        wait_for_eof(conn, threading.Event())

    headers = {"authorization": f"Bearer {SECRET}", "x-api-key": SECRET}
    short = httpx.Timeout(5.0, read=0.3, pool=0.3)
    failures: list[BaseException] = []

    def attempt(call: Any) -> None:
        try:
            call()
        except Exception as exc:
            failures.append(exc)
        else:
            pytest.fail("expected a failure")

    def fused(url: str) -> None:
        if mode == "sync":
            with (
                httpx.Client(transport=HTTPTransport(), headers=headers) as client,
                client.stream("GET", url) as response,
            ):
                list(seltzer.iter_text(response, "openai-chat"))
            return

        async def main() -> None:
            async with (
                httpx.AsyncClient(transport=AsyncHTTPTransport(), headers=headers) as client,
                client.stream("GET", url) as response,
            ):
                [t async for t in seltzer.aiter_text(response, "openai-chat")]

        run_async(main(), mode)

    refused = f"http://127.0.0.1:{free_port()}/x"
    attempt(lambda: request(mode, "GET", refused, headers=headers))
    attempt(lambda: fetch(mode, "GET", server.url + "/cut", headers=headers))
    attempt(lambda: fetch(mode, "GET", server.url + "/stall", headers=headers, timeout=short))
    attempt(lambda: fused(server.url + "/cut"))
    with Proxy(refuse_connect=True) as proxy:
        proxy_url = proxy.url.replace("http://", f"http://user:{SECRET}@")
        attempt(
            lambda: fetch(
                mode, "GET", "https://127.0.0.1:1/", headers=headers, options={"proxy": proxy_url}
            )
        )
    with full_backlog() as port:
        connect_short = httpx.Timeout(5.0, connect=0.3)
        attempt(
            lambda: request(
                mode, "GET", f"http://127.0.0.1:{port}/", headers=headers, timeout=connect_short
            )
        )
    kinds = [type(exc) for exc in failures]
    assert kinds[0] is httpx.ConnectError
    assert kinds[1] is httpx.RemoteProtocolError
    assert kinds[2] is httpx.ReadTimeout
    assert kinds[3] is seltzer.StreamInterrupted
    assert kinds[4] is httpx.ProxyError
    assert kinds[5] is httpx.ConnectTimeout
    for exc in failures:
        assert_no_secret(exc)


def test_reprs_hold_no_header_values(mock: Any) -> None:
    transport = HTTPTransport()
    with (
        httpx.Client(transport=transport, headers={"authorization": f"Bearer {SECRET}"}) as c,
        c.stream("GET", mock.url + "/health") as response,
    ):
        body = response.extensions["seltzer.body"]
        for thing in (transport, body, response):
            assert SECRET not in repr(thing)
        assert response.read() == b'{"status":"ok"}'


# --- Who reads the socket: the caller's thread (sync default) or the runtime's --------


@pytest.mark.parametrize("read_ahead", [False, True])
def test_sync_transport_streams_whole_texts_either_way(mock: Any, read_ahead: bool) -> None:
    url = mock.url + "/v1/chat/completions"
    headers = {"x-mock-tokens": "40", "x-mock-itl-us": "300"}
    with httpx.Client() as plain, plain.stream("POST", url, json=CHAT, headers=headers) as r:
        reference = "".join(seltzer.iter_text(r, "openai-chat"))
    before = mock.stats()["connections"]
    with httpx.Client(transport=HTTPTransport(read_ahead=read_ahead), timeout=10) as client:
        for _ in range(3):
            with client.stream("POST", url, json=CHAT, headers=headers) as response:
                assert "".join(seltzer.iter_text(response, "openai-chat")) == reference
            with client.stream("POST", url, json=CHAT, headers=headers) as response:
                raw = b"".join(response.iter_raw())
            # 40 tokens, the role event, the finish event and [DONE].
            assert raw.count(b"data: ") == 43
            assert raw.endswith(b"data: [DONE]\n\n")
    assert mock.stats()["connections"] == before + 1


def test_the_async_transport_cannot_be_told_not_to_read_ahead() -> None:
    with pytest.raises(ValueError, match="always reads ahead"):
        AsyncHTTPTransport(read_ahead=False)
    AsyncHTTPTransport(read_ahead=True)


def test_a_sync_transports_response_read_from_async_code_raises(mock: Any) -> None:
    """Nothing would read its socket while the event loop waits: a clear error, as httpx
    gives for a sync stream in async code, rather than a hang."""
    url = mock.url + "/v1/chat/completions"
    with (
        httpx.Client(transport=HTTPTransport(), timeout=5) as client,
        client.stream("POST", url, json=CHAT) as response,
    ):

        async def main() -> list[str]:
            return [text async for text in seltzer.aiter_text(response, "openai-chat")]

        with pytest.raises(RuntimeError, match="sync transport"):
            asyncio.run(asyncio.wait_for(main(), NOTICE_S))
