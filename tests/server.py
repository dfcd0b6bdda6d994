"""A small raw HTTP/1.1 server on 127.0.0.1 for tests: each route is a function that
writes exactly the bytes (and TCP writes, and pauses) a scenario needs, and the server
records what happened (requests seen, client disconnects)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.listener import Listener, read_head

#: Upper bound on any one handler's run, so that no test can hang on the server.
HANDLER_DEADLINE_S = 10.0


@dataclass
class Request:
    """A parsed request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Conn:
    """The server side of one request: helpers to write a response piece by piece."""

    def __init__(self, sock: socket.socket, request: Request) -> None:
        self.sock = sock
        self.request = request
        self.chunked = False

    def head(
        self, status: int = 200, headers: dict[str, str] | None = None, *, chunked: bool = True
    ) -> None:
        """Sends the status line and headers (chunked transfer encoding unless told, and
        ``connection: close``)."""
        headers = {"content-type": "text/event-stream", **(headers or {})}
        # One request per connection: say so, or a pooling client may reuse the
        # connection as it closes (a race no client can win).
        headers.setdefault("connection", "close")
        if chunked:
            headers.setdefault("transfer-encoding", "chunked")
        self.chunked = "transfer-encoding" in headers
        lines = [f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def write(self, data: bytes) -> None:
        """One TCP write of raw bytes."""
        self.sock.sendall(data)

    def send(self, data: bytes) -> None:
        """One body piece (one HTTP chunk when chunked), in one TCP write."""
        if self.chunked:
            self.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            self.write(data)

    def end(self) -> None:
        """Ends a chunked body."""
        if self.chunked:
            self.write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Closes the connection abruptly (RST), mid-body."""
        self.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        self.sock.close()


Handler = Callable[[Conn], None]


@dataclass
class LoopbackServer(Listener):
    """The running server: ``url``, ``route(path, handler)``, and what it saw."""

    host: str = "127.0.0.1"
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listen(self.host, "http", HANDLER_DEADLINE_S)

    def route(self, path: str) -> Callable[[Handler], Handler]:
        """Decorator: serve ``path`` with the function."""

        def register(handler: Handler) -> Handler:
            self.routes[path] = handler
            return handler

        return register

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(HANDLER_DEADLINE_S)
        with sock:
            try:
                request = _read_request(sock)
            except (OSError, ValueError):
                return
            self.requests.append(request)
            handler = self.routes.get(request.path.split("?")[0])
            conn = Conn(sock, request)
            try:
                if handler is None:
                    conn.head(
                        404, {"content-type": "text/plain", "content-length": "9"}, chunked=False
                    )
                    conn.write(b"not found")
                    return
                handler(conn)
            except OSError:
                # The client went away while we were writing.
                self.disconnects.append(request.path)
                self.disconnected.set()


def _read_request(sock: socket.socket) -> Request:
    lines, headers, body = read_head(sock)
    method, path, _ = lines[0].split(" ", 2)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        body += sock.recv(65536)
    return Request(method, path, headers, body)


def write_until_disconnect(conn: Conn, piece: bytes, interval: float = 0.01) -> None:
    """Streams ``piece`` repeatedly until the client disconnects (or the deadline)."""
    deadline = time.monotonic() + HANDLER_DEADLINE_S
    while time.monotonic() < deadline:
        conn.send(piece)
        time.sleep(interval)
    conn.end()
