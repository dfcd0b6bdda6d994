"""A small threaded HTTPS server on 127.0.0.1 for tests, speaking HTTP/2 (with the ``h2``
package) or HTTP/1.1, whichever ALPN settles on. Certificates come from a trustme CA.
Each route returns a status, headers and an iterable of body chunks (a generator may
pause between them); each chunk goes out as one DATA frame (HTTP/2) or one HTTP chunk
(HTTP/1.1). The server records requests, connections and streams the client reset."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import trustme

from tests.listener import Listener
from tests.server import _read_request

#: Upper bound on one connection's life, so that no test can hang on the server.
CONNECTION_DEADLINE_S = 10.0


@dataclass
class TLSRequest:
    """A request as the server saw it (HTTP/2 keeps ``:authority`` and ``:scheme`` among
    the headers)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    http_version: str


@dataclass
class Reply:
    """What a route answers with."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/plain"})
    chunks: Iterable[bytes] = (b"hello over tls",)
    #: Close the whole connection (TCP) after the chunks, leaving the body unfinished.
    cut: bool = False


Route = Callable[[TLSRequest], Reply]


@dataclass
class TLSServer(Listener):
    """The running server: ``url``, ``routes``, and what it saw.

    Args:
        ca: The trustme CA that issues the server's certificate.
        alpn: The protocols offered, in order of preference.
        client_ca: When given, client certificates from this CA are required.
    """

    ca: trustme.CA
    alpn: tuple[str, ...] = ("h2", "http/1.1")
    client_ca: trustme.CA | None = None
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[TLSRequest] = field(default_factory=list)
    connections: int = 0
    handshake_failures: int = 0
    resets: list[int] = field(default_factory=list)
    reset: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._ctx)
        self._ctx.set_alpn_protocols(list(self.alpn))
        if self.client_ca is not None:
            self.client_ca.configure_trust(self._ctx)
            self._ctx.verify_mode = ssl.CERT_REQUIRED
        self._listen("127.0.0.1", "https", CONNECTION_DEADLINE_S)

    def route(self, path: str) -> Callable[[Route], Route]:
        """Decorator: serve ``path`` with the function."""

        def register(handler: Route) -> Route:
            self.routes[path] = handler
            return handler

        return register

    def _reply(self, request: TLSRequest) -> Reply:
        self.requests.append(request)
        handler = self.routes.get(request.path.split("?")[0])
        if handler is None:
            return Reply(404, {"content-type": "text/plain"}, (b"not found",))
        return handler(request)

    def _handle(self, raw: socket.socket) -> None:
        raw.settimeout(CONNECTION_DEADLINE_S)
        try:
            tls = self._ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            self.handshake_failures += 1
            raw.close()
            return
        self.connections += 1
        with tls:
            try:
                if tls.selected_alpn_protocol() == "h2":
                    _H2Connection(self, tls).run()
                else:
                    self._http1(tls)
            except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
                return

    def _http1(self, tls: ssl.SSLSocket) -> None:
        parsed = _read_request(tls)  # type: ignore[arg-type]
        request = TLSRequest(parsed.method, parsed.path, parsed.headers, parsed.body, "HTTP/1.1")
        reply = self._reply(request)
        lines = [f"HTTP/1.1 {reply.status} OK", "transfer-encoding: chunked", "connection: close"]
        lines += [f"{k}: {v}" for k, v in reply.headers.items()]
        tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        for chunk in reply.chunks:
            tls.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        if reply.cut:
            tls.shutdown(socket.SHUT_RDWR)
            return
        tls.sendall(b"0\r\n\r\n")


class _H2Connection:
    """One HTTP/2 connection: this thread reads frames; each request's reply is sent by a
    thread of its own, so that streams interleave."""

    def __init__(self, server: TLSServer, tls: ssl.SSLSocket) -> None:
        self.server = server
        self.tls = tls
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self.lock = threading.Condition()
        self.heads: dict[int, dict[str, str]] = {}
        self.bodies: dict[int, bytes] = {}
        self.closed: set[int] = set()
        self.gone = False

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.tls.sendall(data)

    def run(self) -> None:
        with self.lock:
            self.conn.initiate_connection()
            self.flush()
        try:
            while True:
                data = self.tls.recv(65536)
                if not data:
                    return
                with self.lock:
                    for event in self.conn.receive_data(data):
                        self.on_event(event)
                    self.flush()
                    self.lock.notify_all()
        finally:
            with self.lock:
                self.gone = True
                self.lock.notify_all()

    def on_event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self.heads[event.stream_id] = dict(event.headers)  # type: ignore[arg-type]
            self.bodies[event.stream_id] = b""
        elif isinstance(event, h2.events.DataReceived):
            self.bodies[event.stream_id] += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            head = self.heads[event.stream_id]
            request = TLSRequest(
                head[":method"],
                head[":path"],
                {k: v for k, v in head.items() if k not in (":method", ":path")},
                self.bodies[event.stream_id],
                "HTTP/2",
            )
            self.server._spawn(self.respond, event.stream_id, request)
        elif isinstance(event, h2.events.StreamReset):
            self.closed.add(event.stream_id)
            self.server.resets.append(event.stream_id)
            self.server.reset.set()

    def respond(self, stream_id: int, request: TLSRequest) -> None:
        reply = self.server._reply(request)
        headers = [(":status", str(reply.status)), *reply.headers.items()]
        try:
            with self.lock:
                self.conn.send_headers(stream_id, headers)
                self.flush()
            for chunk in reply.chunks:
                self.send(stream_id, chunk)
            if reply.cut:
                self.tls.shutdown(socket.SHUT_RDWR)
                return
            with self.lock:
                if stream_id not in self.closed:
                    self.conn.end_stream(stream_id)
                    self.flush()
        except (OSError, h2.exceptions.ProtocolError, _Gone):
            return

    def send(self, stream_id: int, chunk: bytes) -> None:
        """Sends ``chunk`` as DATA frames, waiting for flow-control window as needed."""
        while chunk:
            with self.lock:
                while True:
                    if self.gone or stream_id in self.closed:
                        raise _Gone
                    window = min(
                        self.conn.local_flow_control_window(stream_id),
                        self.conn.max_outbound_frame_size,
                    )
                    if window > 0:
                        break
                    if not self.lock.wait(timeout=CONNECTION_DEADLINE_S):
                        raise _Gone
                piece, chunk = chunk[:window], chunk[window:]
                self.conn.send_data(stream_id, piece)
                self.flush()


class _Gone(Exception):
    """The client reset the stream or closed the connection."""
