"""A small threaded HTTP proxy on 127.0.0.1 for tests: ``CONNECT host:port`` tunnels
and absolute-form requests (``GET http://host:port/path``) forwarded in origin form.
It only reaches 127.0.0.1, and records what it proxied (method, target, headers), so a
test can tell that a request went through it."""

from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: Upper bound on one proxied connection's life, so that no test can hang on the proxy.
CONNECTION_DEADLINE_S = 10.0


@dataclass
class Proxied:
    """One request the proxy handled."""

    method: str
    target: str
    headers: dict[str, str]


@dataclass
class Proxy:
    """The running proxy: ``url``, and ``seen`` (every request, in order).

    ``refuse_connect`` makes it answer every CONNECT with 403.
    """

    refuse_connect: bool = False
    seen: list[Proxied] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def close(self) -> None:
        self._stop.set()
        self._accept.join(timeout=2)
        self._sock.close()
        for thread in self._threads:
            thread.join(timeout=CONNECTION_DEADLINE_S)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._handle, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(CONNECTION_DEADLINE_S)
        with client:
            try:
                head, rest = _read_head(client)
            except (OSError, ValueError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
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


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ValueError("connection closed before the request head")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


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
