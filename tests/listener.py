"""The part the loopback test servers share: a listening socket on 127.0.0.1 (or the
given host), an accept loop on a thread of its own, one thread per connection, and a
``close`` that stops accepting and waits for the connection threads."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TypeVar

_L = TypeVar("_L", bound="Listener")


class Listener:
    """Base of the loopback servers: call ``_listen`` once set up, implement ``_handle``.

    After ``_listen``: ``port`` and ``url`` (``scheme://host:port``).
    """

    port: int
    url: str

    def _listen(self, host: str, scheme: str, deadline_s: float) -> None:
        """Binds an ephemeral port and starts accepting; ``deadline_s`` bounds how long
        ``close`` waits for each connection thread."""
        self._sock = socket.create_server((host, 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"{scheme}://{host}:{self.port}"
        self._deadline_s = deadline_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _handle(self, sock: socket.socket) -> None:
        """Serves one accepted connection (on a thread of its own)."""
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._accept.join(timeout=2)
        self._sock.close()
        for thread in self._threads:
            thread.join(timeout=self._deadline_s)

    def __enter__(self: _L) -> _L:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._spawn(self._handle, sock)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        """Runs ``target(*args)`` on a thread that ``close`` waits for."""
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()


def read_head(sock: socket.socket) -> tuple[list[str], dict[str, str], bytes]:
    """Reads an HTTP request head up to its blank line: its lines (request line first),
    its headers (names lower-cased), and whatever came after it in the same reads (the
    start of the body, or of tunnelled bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ValueError("connection closed before the request head")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines, headers, rest
