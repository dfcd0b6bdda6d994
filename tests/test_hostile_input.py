"""Hostile input, bounded: each case ends in a specific error (or the correct output)
within seconds, and the client's peak memory grows by less than 64 MiB over the limit in
force (``max_event_bytes``, 16 MiB by default).

Each case's client runs in a process of its own (``tests/hostile_child.py``) so that its
memory is measured alone; the bytes come from a raw server in this process that makes
them as it sends them (1 GiB is never held in memory).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest

import seltzer
from tests.server import Conn, LoopbackServer

GIB = 1 << 30
MIB = 1 << 20
#: Peak memory may grow by the limit in force plus this much.
SLACK = 64 * MIB
BOUND = seltzer.DEFAULT_MAX_EVENT_BYTES + SLACK
#: Seconds any case may take (loose: 2 shared cores).
WITHIN = 10.0
ROOT = Path(__file__).resolve().parents[1]

DONE = b"data: [DONE]\n\n"


def chat(text: str) -> bytes:
    payload = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


#: One MiB of the bombs' decoded body: a comment line and the blank line after it. SSE
#: dispatches nothing for it, so all 1 GiB must be decoded and framed, at memchr speed.
BOMB_BLOCK = b": " + b"a" * (MIB - 4) + b"\n\n"


def gzip_bomb() -> bytes:
    """1 GiB of comments, gzip-compressed (about 1 MiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(BOMB_BLOCK) for _ in range(GIB // MIB)]
    return b"".join(parts) + compressor.flush()


def brotli_bomb() -> bytes:
    """1 GiB of comments, brotli-compressed (a few KiB: brotli outdoes gzip's ratio)."""
    compressor = brotli.Compressor(quality=5)
    parts = [compressor.process(BOMB_BLOCK) for _ in range(GIB // MIB)]
    return b"".join(parts) + compressor.finish()


#: A 100,000-deep array.
DEEP = b"[" * 100_000 + b"]" * 100_000

#: Chat events adding up to 100,000 bytes, each byte to be sent in its own TCP write.
TINY_TEXTS = [f" w{i}" for i in range(1200)]
TINY_BODY = b"".join(chat(t) for t in TINY_TEXTS) + DONE


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    bombs = {"gzip": gzip_bomb(), "br": brotli_bomb()}
    assert len(bombs["gzip"]) <= 1.1 * MIB
    assert len(bombs["br"]) <= MIB

    @srv.route("/warm")
    def warm(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain", "content-length": "2"}, chunked=False)
        conn.write(b"ok")

    @srv.route("/endless")
    def endless(conn: Conn) -> None:
        conn.head()
        conn.send(b"data: ")
        piece = b"a" * MIB
        for _ in range(GIB // MIB):
            conn.send(piece)  # until the client hangs up (OSError)
        conn.end()

    def bomb(encoding: str) -> Any:
        def handler(conn: Conn) -> None:
            body = bombs[encoding]
            headers = {"content-encoding": encoding, "content-length": str(len(body))}
            conn.head(200, headers, chunked=False)
            for i in range(0, len(body), 65536):
                conn.write(body[i : i + 65536])

        return handler

    srv.route("/bomb/gzip")(bomb("gzip"))
    srv.route("/bomb/br")(bomb("br"))

    def repeated(event: bytes, times: int, tail: bytes = b"") -> Any:
        def handler(conn: Conn) -> None:
            conn.head()
            per = max(1, 65536 // len(event))
            for _ in range(times // per):
                conn.send(event * per)
            conn.send(event * (times % per) + tail)
            conn.end()

        return handler

    srv.route("/empty-events")(repeated(b"data:\n\n", 1_000_000))
    srv.route("/empty-token-events")(repeated(b'data: {"choices":[]}\n\n', 1_000_000, DONE))

    @srv.route("/big-token")
    def big_token(conn: Conn) -> None:
        conn.head()
        conn.send(chat("x" * 10_000_000))
        conn.send(DONE)
        conn.end()

    @srv.route("/deep")
    def deep(conn: Conn) -> None:
        conn.head()
        skipped = b'{"choices":[{"index":0,"delta":{"content":"a"},"extra":' + DEEP + b"}]}"
        read = b'{"choices":[{"index":0,"delta":{"content":' + DEEP + b"}}]}"
        conn.send(b"data: " + skipped + b"\n\n")
        conn.send(chat("b"))
        conn.send(b"data: " + read + b"\n\n")
        conn.send(DONE)
        conn.end()

    @srv.route("/deep-value")
    def deep_value(conn: Conn) -> None:
        conn.head()
        conn.send(b"data: " + DEEP + b"\n\n")
        conn.end()

    @srv.route("/tiny-writes")
    def tiny(conn: Conn) -> None:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.head(200, {"content-length": str(len(TINY_BODY))}, chunked=False)
        for i in range(len(TINY_BODY)):
            conn.write(TINY_BODY[i : i + 1])

    @srv.route("/many-headers")
    def many_headers(conn: Conn) -> None:
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        head += b"".join(b"x-h%d: v\r\n" % i for i in range(10_000))
        conn.write(head + b"content-length: %d\r\n\r\n" % len(DONE) + DONE)

    @srv.route("/long-header")
    def long_header(conn: Conn) -> None:
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        head += b"x-long: " + b"a" * MIB + b"\r\n"
        conn.write(head + b"content-length: %d\r\n\r\n" % len(DONE) + DONE)

    yield srv
    srv.close()


def run_case(server: LoopbackServer, case: str) -> dict[str, Any]:
    """Runs one case's client in a fresh interpreter; returns what it printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.hostile_child", server.url, case],
        capture_output=True,
        text=True,
        timeout=WITHIN + 15,
        env=env,
        cwd=ROOT,
        check=False,
    )
    # Nothing may crash the interpreter (a panic, a stack overflow) or print a warning.
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["seconds"] < WITHIN, result
    assert result["growth"] < BOUND, f"peak memory grew {result['growth'] / MIB:.0f} MiB"
    return result


@pytest.mark.parametrize("case", ["endless-line", "endless-line-httpx"])
def test_endless_line_stops_at_max_event_bytes(server: LoopbackServer, case: str) -> None:
    result = run_case(server, case)
    assert result.get("error") == "SSEError", result
    limit = seltzer.DEFAULT_MAX_EVENT_BYTES
    assert result["fields"] == {"limit": limit, "offset": limit}


@pytest.mark.parametrize("case", ["gzip-bomb", "brotli-bomb"])
def test_decompression_bomb_is_decoded_in_bounded_memory(server: LoopbackServer, case: str) -> None:
    # A GiB of comments is no event at all: the stream ends without [DONE], having been
    # decoded a slice at a time, never whole.
    result = run_case(server, case)
    assert result.get("error") == "StreamInterrupted", result
    assert result["fields"] == {"partial": ""}
    assert f"after {GIB} bytes" in result["message"]


def test_a_million_empty_events(server: LoopbackServer) -> None:
    result = run_case(server, "empty-events")
    assert result.get("output") == [1_000_000, 0], result


def test_a_million_events_without_text(server: LoopbackServer) -> None:
    result = run_case(server, "empty-token-events")
    assert result.get("output") == [0, 0, ""], result


def test_a_10_mb_token_is_delivered_whole(server: LoopbackServer) -> None:
    result = run_case(server, "big-token")
    assert result.get("output") == [1, [10_000_000], True], result


def test_json_nested_100000_deep_is_a_decode_error(server: LoopbackServer) -> None:
    result = run_case(server, "deep-json")
    # The nesting in a skipped field is still validated, within a recursion limit.
    assert result.get("error") == "DecodeError", result
    assert result["fields"]["offset"] > 0
    assert "recursion" in result["message"].lower()


def test_json_value_nested_100000_deep_is_a_decode_error(server: LoopbackServer) -> None:
    result = run_case(server, "deep-json-value")
    assert result.get("error") == "DecodeError", result
    assert "recursion" in result["message"].lower()


@pytest.mark.parametrize("case", ["tiny-writes", "tiny-writes-async"])
def test_100000_one_byte_tcp_writes(server: LoopbackServer, case: str) -> None:
    assert len(TINY_BODY) >= 100_000
    result = run_case(server, case)
    text = "".join(TINY_TEXTS)
    assert result.get("output") == [len(TINY_TEXTS), len(text), text[:4096]], result


@pytest.mark.parametrize("case", ["many-headers", "long-header"])
def test_huge_response_heads_are_a_clear_error(server: LoopbackServer, case: str) -> None:
    result = run_case(server, case)
    # The error httpx's own transport raises for a head over its limits.
    assert result.get("error") == "RemoteProtocolError", result
    assert result["module"].startswith("httpx")
    assert "header" in result["message"].lower()
