"""A small threaded HTTP proxy on 127.0.0.1 for tests: ``CONNECT host:port`` tunnels
and absolute-form requests (``GET http://host:port/path``) forwarded in origin form.
It only reaches 127.0.0.1, and records what it proxied (method, target, headers), so a
test can tell that a request went through it."""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.listener import Listener, read_head

#: Upper bound on one proxied connection's life, so that no test can hang on the proxy.
CONNECTION_DEADLINE_S = 10.0


@dataclass
class Proxied:
    """One request the proxy handled."""

    method: str
    target: str
    headers: dict[str, str]


@dataclass
class Proxy(Listener):
    """The running proxy: ``url``, and ``seen`` (every request, in order).

    ``refuse_connect`` makes it answer every CONNECT with 403.
    """

    refuse_connect: bool = False
    seen: list[Proxied] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listen("127.0.0.1", "http", CONNECTION_DEADLINE_S)

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(CONNECTION_DEADLINE_S)
        with client:
            try:
                lines, headers, rest = read_head(client)
            except (OSError, ValueError):
                return
            method, target, version = lines[0].split(" ", 2)
            self.seen.append(Proxied(method, target, headers))
            if method == "CONNECT":
                self._tunnel(client, target, rest)
            else:
                self._forward(client, method, target, version, lines[1:], rest)

    def _tunnel(self, client: socket.socket, target: str, rest: bytes) -> None:
        host, _, port = target.rpartition(":")
        if self.refuse_connect or host != "127.0.0.1":
            client.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=2)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _pipe(client, upstream)

    def _forward(
        self,
        client: socket.socket,
        method: str,
        target: str,
        version: str,
        header_lines: list[str],
        rest: bytes,
    ) -> None:
        url = urlsplit(target)
        if url.scheme != "http" or url.hostname != "127.0.0.1":
            client.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            return
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        # One request per proxied connection: the upstream closes after answering.
        kept = [
            line
            for line in header_lines
            if line.partition(":")[0].strip().lower()
            not in ("connection", "proxy-connection", "proxy-authorization", "keep-alive")
        ]
        head = "\r\n".join([f"{method} {path} {version}", *kept, "connection: close"])
        with socket.create_connection((url.hostname, url.port or 80), timeout=2) as upstream:
            upstream.sendall(head.encode("latin-1") + b"\r\n\r\n" + rest)
            _pipe(client, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copies bytes both ways until either side closes (or the deadline)."""
    socks = [a, b]
    while True:
        readable, _, _ = select.select(socks, [], [], CONNECTION_DEADLINE_S)
        if not readable:
            return
        for sock in readable:
            other = b if sock is a else a
            try:
                data = sock.recv(65536)
                if not data:
                    return
                other.sendall(data)
            except OSError:
                return
