"""Secrets and exposure: a canary API key, sent every way seltzer sends keys, never shows
in a repr, a log record (DEBUG included), an exception message or traceback, or the
command line's output (``seltzer stream``, ``seltzer bench`` and its JSON). Keys are not
forwarded on redirects to another host; ``verify=False`` warns once; the mock server
binds loopback unless told otherwise.

(Models' own key handling belongs with the Runnable layer's tests.)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import seltzer
from seltzer.endpoints import stream_request
from tests.conftest import run_async
from tests.server import Conn, LoopbackServer

CANARY = "sk-canary-5f3a9c1e7b2d4086"
ROOT = Path(__file__).resolve().parents[1]
#: The ways a key travels in a request header.
KEY_HEADERS = {
    "authorization": f"Bearer {CANARY}",
    "x-api-key": CANARY,
    "x-goog-api-key": CANARY,
    "api-key": CANARY,
}
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


@pytest.fixture
def mock() -> Iterator[Any]:
    with seltzer.mock.serve() as server:
        yield server


def everything_said(exc: BaseException) -> str:
    """What an exception can show: its chain's messages, reprs and the traceback."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args)]
        for name in ("body", "headers", "partial", "message", "snippet", "type"):
            parts.append(repr(getattr(current, name, None)))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


# --- Errors -------------------------------------------------------------------------------

#: Faults with a URL carrying the key in its query string and userinfo (as Gemini's
#: ``?key=`` does), and the error each gives.
FAULTS = [
    ("status:401", seltzer.APIStatusError),
    ("content-type", seltzer.SSEError),
    ("error-event@1", seltzer.StreamError),
    ("malformed@1", seltzer.DecodeError),
    ("drop@1", seltzer.StreamInterrupted),
    ("drop-mid@1", seltzer.StreamInterrupted),
    ("stall@1:3000", seltzer.StreamInterrupted),
    ("no-done", seltzer.StreamInterrupted),
]


def keyed_url(server: Any) -> str:
    host = server.url.removeprefix("http://")
    return f"http://user:{CANARY}@{host}/v1/chat/completions?key={CANARY}&alt=sse"


def stream_error(url: str, headers: dict[str, str], source: str, mode: str) -> BaseException:
    """Streams one request with the key everywhere; returns what it raised."""
    timeout = httpx.Timeout(5.0, read=0.5)
    if mode == "sync":
        transport = seltzer.HTTPTransport() if source == "fused" else None
        with httpx.Client(transport=transport, headers=KEY_HEADERS, timeout=timeout) as client:
            try:
                with seltzer.connect_sse(client, "POST", url, json=CHAT, headers=headers) as src:
                    list(seltzer.iter_text(src.response, "openai-chat"))
            except seltzer.SeltzerError as exc:
                return exc
        raise AssertionError("no error")

    async def main() -> BaseException:
        transport = seltzer.AsyncHTTPTransport() if source == "fused" else None
        async with httpx.AsyncClient(
            transport=transport, headers=KEY_HEADERS, timeout=timeout
        ) as client:
            try:
                async with seltzer.aconnect_sse(
                    client, "POST", url, json=CHAT, headers=headers
                ) as src:
                    [t async for t in seltzer.aiter_text(src.response, "openai-chat")]
            except seltzer.SeltzerError as exc:
                return exc
        raise AssertionError("no error")

    return run_async(main(), mode)


@pytest.mark.parametrize("mode", ["sync", "asyncio"])
@pytest.mark.parametrize("source", ["fused", "httpx"])
@pytest.mark.parametrize(("fault", "error"), FAULTS, ids=[f for f, _ in FAULTS])
def test_no_error_shows_the_key(
    mock: Any, fault: str, error: type[BaseException], source: str, mode: str
) -> None:
    exc = stream_error(keyed_url(mock), {"x-mock-fault": fault}, source, mode)
    assert type(exc) is error
    said = everything_said(exc)
    assert "127.0.0.1" in said or error is not seltzer.APIStatusError
    assert CANARY not in said


@pytest.mark.parametrize("mode", ["sync", "asyncio"])
@pytest.mark.parametrize("source", ["fused", "httpx"])
def test_connection_errors_do_not_show_the_key(source: str, mode: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://user:{CANARY}@127.0.0.1:{port}/v1/chat/completions?key={CANARY}"
    exc = stream_error(url, {}, source, mode)
    assert type(exc) is seltzer.APIConnectionError
    assert CANARY not in everything_said(exc)


# --- Logs ---------------------------------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + repr(record.args) + repr(record.__dict__))


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


@pytest.mark.parametrize("mode", ["sync", "asyncio"])
def test_debug_logs_never_show_the_key(mock: Any, debug_logs: Capture, mode: str) -> None:
    url = mock.url + "/v1/chat/completions"
    for fault in (None, "status:401", "drop@1", "stall@1:3000", "malformed@1"):
        headers = {"x-mock-fault": fault} if fault else {}
        for source in ("fused", "httpx"):
            try:
                stream_error(url, headers, source, mode)
            except AssertionError:
                assert fault is None  # the clean stream raises nothing
    assert any("chat/completions" in line for line in debug_logs.lines), "nothing was logged"
    leaks = [line for line in debug_logs.lines if CANARY in line]
    assert leaks == []


# --- Reprs --------------------------------------------------------------------------------


def test_reprs_never_show_the_key(mock: Any) -> None:
    request = stream_request(
        "anthropic", "hi", base_url=mock.url + "/v1", max_tokens=2, api_key=CANARY
    )
    assert request.headers["x-api-key"] == CANARY
    things: list[Any] = [request, seltzer.HTTPTransport(), seltzer.AsyncHTTPTransport()]
    with (
        httpx.Client(transport=seltzer.HTTPTransport(), headers=KEY_HEADERS) as client,
        seltzer.connect_sse(client, "POST", keyed_url(mock), json=CHAT) as source,
    ):
        # (httpx's own Request repr shows the URL's query: httpx's business, not ours.)
        things += [source, source.response, source.response.extensions["seltzer.body"]]
        texts = list(seltzer.iter_text(source.response, "openai-chat"))
        assert texts
    for thing in things:
        assert CANARY not in repr(thing), type(thing)
        assert CANARY not in str(thing), type(thing)


# --- The command line ---------------------------------------------------------------------


@pytest.fixture
def keyed_server() -> Iterator[LoopbackServer]:
    """Answers /ok/... with a short stream, /denied/... with 401, /cut/... by cutting
    the stream short, /stall/... by stalling; records each request's headers."""
    srv = LoopbackServer()

    def chat(text: str) -> bytes:
        return b'data: {"choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n' % text.encode()

    @srv.route("/ok/chat/completions")
    def ok(conn: Conn) -> None:
        conn.head()
        conn.send(chat("fine") + b"data: [DONE]\n\n")
        conn.end()

    @srv.route("/denied/chat/completions")
    def denied(conn: Conn) -> None:
        body = b'{"error": {"message": "Incorrect API key provided", "type": "invalid_key"}}'
        conn.head(401, {"content-type": "application/json", "content-length": str(len(body))})
        conn.write(body)

    @srv.route("/cut/chat/completions")
    def cut(conn: Conn) -> None:
        conn.head()
        conn.send(chat("half"))
        conn.drop()

    @srv.route("/stall/chat/completions")
    def stall(conn: Conn) -> None:
        conn.head()
        conn.send(chat("wait"))
        time.sleep(2)
        conn.end()

    yield srv
    srv.close()


def seltzer_cli(*args: str, key_env: str = "OPENAI_API_KEY") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), key_env: CANARY}
    return subprocess.run(
        [sys.executable, "-m", "seltzer", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("route", ["ok", "denied", "cut", "stall"])
def test_seltzer_stream_never_prints_the_key(
    keyed_server: LoopbackServer, route: str, debug: bool
) -> None:
    args = ["--debug"] if debug else []
    base = keyed_server.url + f"/{route}"
    proc = seltzer_cli(*args, "stream", "hi", "--base-url", base, "--timeout", "0.5")
    # The key was really sent, and the run went the way the route says.
    assert keyed_server.requests[-1].headers["authorization"] == f"Bearer {CANARY}"
    assert (proc.returncode == 0) == (route == "ok"), proc.stderr
    assert CANARY not in proc.stdout
    assert CANARY not in proc.stderr


@pytest.mark.parametrize("route", ["ok", "denied", "cut"])
def test_seltzer_bench_never_prints_or_writes_the_key(
    keyed_server: LoopbackServer, route: str, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    proc = seltzer_cli(
        "bench",
        "--base-url",
        keyed_server.url + f"/{route}",
        "--num-prompts",
        "2",
        "--header",
        f"x-api-key: {CANARY}",
        "--json",
        str(out),
        "--no-progress",
        "--timeout",
        "2",
    )
    sent = keyed_server.requests[-1].headers
    assert sent["authorization"] == f"Bearer {CANARY}"
    assert sent["x-api-key"] == CANARY
    # A first request that fails ends the run before any results (no JSON then).
    assert out.exists() == (route != "denied"), proc.stderr
    written = out.read_text() if out.exists() else ""
    if written:
        json.loads(written)
    for text in (proc.stdout, proc.stderr, written):
        assert CANARY not in text


# --- Redirects, TLS, binding --------------------------------------------------------------


REDIRECT_CASES = [
    # httpx itself drops Authorization on a redirect to another origin ...
    pytest.param("httpx", ["authorization"], id="httpx-authorization"),
    pytest.param("fused", ["authorization"], id="fused-authorization"),
    # ... but not the other headers providers take keys in (x-api-key: Anthropic,
    # x-goog-api-key: Gemini, api-key: Azure), which issue 11 asks seltzer to drop too.
    pytest.param("fused", list(KEY_HEADERS), id="fused-every-key-header"),
]


@pytest.mark.parametrize("mode", ["sync", "asyncio"])
@pytest.mark.parametrize(("source", "dropped"), REDIRECT_CASES)
def test_keys_are_not_forwarded_on_a_redirect_to_another_host(
    source: str, dropped: list[str], mode: str
) -> None:
    """Key headers stay with the host they were meant for; a same-host redirect keeps
    them."""
    target = LoopbackServer()
    origin = LoopbackServer()
    try:

        @target.route("/landed")
        def landed(conn: Conn) -> None:
            conn.head(200, {"content-type": "text/plain", "content-length": "2"}, chunked=False)
            conn.write(b"ok")

        other_host = f"http://localhost:{target.port}/landed"  # another origin

        @origin.route("/away")
        def away(conn: Conn) -> None:
            conn.head(302, {"location": other_host, "content-length": "0"}, chunked=False)

        @origin.route("/here")
        def here(conn: Conn) -> None:
            conn.head(302, {"location": "/landed", "content-length": "0"}, chunked=False)

        origin.route("/landed")(landed)

        def get(url: str) -> None:
            if mode == "sync":
                transport = seltzer.HTTPTransport() if source == "fused" else None
                with httpx.Client(
                    transport=transport, headers=KEY_HEADERS, follow_redirects=True
                ) as client:
                    assert client.get(url).text == "ok"
                return

            async def main() -> None:
                transport = seltzer.AsyncHTTPTransport() if source == "fused" else None
                async with httpx.AsyncClient(
                    transport=transport, headers=KEY_HEADERS, follow_redirects=True
                ) as client:
                    assert (await client.get(url)).text == "ok"

            run_async(main(), mode)

        get(origin.url + "/here")
        kept = origin.requests[-1].headers
        assert all(kept.get(name) == value for name, value in KEY_HEADERS.items())
        get(origin.url + "/away")
        assert target.requests, "the redirect was followed"
        forwarded = target.requests[-1].headers
        assert [name for name in dropped if name in forwarded] == []
    finally:
        origin.close()
        target.close()


VERIFY_FALSE = """
import warnings
import seltzer
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("default")
    seltzer.HTTPTransport(verify=False)
    seltzer.HTTPTransport(verify=False)
    seltzer.AsyncHTTPTransport(verify=False)
    seltzer.HTTPTransport()
print(len(caught))
for w in caught:
    print(w.category.__name__, w.message)
"""


def test_verify_false_warns_once() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", VERIFY_FALSE],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    count, *messages = proc.stdout.splitlines()
    assert count == "1", proc.stdout
    assert "verif" in messages[0].lower()


def test_the_mock_binds_loopback_unless_told_otherwise() -> None:
    from seltzer import cli

    assert cli._parser().parse_args(["mock"]).host == "127.0.0.1"
    with seltzer.mock.serve() as server:
        assert server.host == "127.0.0.1"
        # Not reachable on any other local address.
        other = socket.gethostbyname(socket.gethostname())
        if other.startswith("127."):
            other = None
        if other is not None:
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex((other, server.port)) != 0
