"""The fault matrix: every fault the mock server injects, crossed with every route it
serves, the sync and async APIs, and three byte sources (the fused path over seltzer's
transport, httpx's own transport, and a byte iterable of the recorded body).

One table (``FAULTS``) says what each fault must give; the cells are generated from it.
Each cell checks the exception class and its fields, that every token before the fault
was yielded exactly once (against a plain-Python oracle over the fault-free body), that
``.partial`` is their concatenation, ``__cause__``, that the mock's connection is closed,
and the time from fault to exception.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import seltzer
from seltzer.endpoints import stream_request
from tests.conftest import MODES, run_async

#: Tokens per response, and where the faults strike (0-based token event).
TOKENS = 5
AT = 2
#: ``max_event_bytes`` in every cell; ``oversize`` pads its event well past it.
LIMIT = 4096
#: A seed whose text has a multi-byte token before the fault (" ✨").
SEED = "25"
#: Retry-After the status faults send (429 and 503).
RETRY_AFTER = "7"
#: The read timeout of the stall cells, and the bound on fault-to-exception time there.
STALL_READ_TIMEOUT = 0.5
STALL_RAISES_WITHIN = 1.0
#: Loose bound on any other cell's request-to-exception time (a hang guard).
PROMPT_BOUND = 3.0
#: How long a closed connection may take to show in the mock's counters.
CLOSE_DEADLINE = 2.0
#: Bytes per piece of the byte-iterable source: splits events, lines and characters.
PIECE = 7

SOURCES = ("fused", "httpx", "iterable")
HTTP_SOURCES = ("fused", "httpx")

#: httpx.Client() builds an SSL context each time (30 ms); the cells share one.
SSL_CONTEXT = ssl.create_default_context()


# --- The routes the mock serves ---------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One way to ask the mock for a stream, and the dialect that reads it."""

    name: str
    dialect: str
    url: str  # path on the mock, with query
    body: dict[str, Any]
    headers: dict[str, str]
    text_path: str | None = None

    def decode_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"max_event_bytes": LIMIT}
        if self.text_path is not None:
            options["text_path"] = self.text_path
        return options


def _route(name: str, dialect: str, text_path: str | None = None) -> Route:
    base = {"anthropic": "/v1", "gemini": "/v1beta", "tgi": "", "ollama": ""}.get(dialect, "/v1")
    origin = "http://mock"
    request = stream_request(dialect, "Write me a song", base_url=origin + base, max_tokens=TOKENS)
    path = request.url.removeprefix(origin)
    return Route(name, dialect, path, request.json, dict(request.headers), text_path)


ROUTES = [
    _route("openai-completions", "openai-completions"),
    _route("openai-chat", "openai-chat"),
    _route("openai-responses", "openai-responses"),
    _route("anthropic", "anthropic"),
    _route("gemini", "gemini"),
    _route("tgi", "tgi"),
    _route("ollama-chat", "ollama"),
    Route(
        "ollama-generate",
        "ollama",
        "/api/generate",
        {"model": "llama3", "prompt": "Write me a song", "options": {"num_predict": TOKENS}},
        {},
    ),
    _route("json", "json", text_path="/choices/0/delta/content"),
]

#: Each route's in-stream error, as the provider's wire puts it: (type, message).
ERROR_EVENTS = {
    "openai-completions": (
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
    ),
    "openai-chat": (
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
    ),
    "openai-responses": (
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
    ),
    "anthropic": ("overloaded_error", "Overloaded"),
    "gemini": ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    "tgi": ("generation", "Request failed during generation"),
    "ollama-chat": (None, "an error was encountered while running the model"),
    "ollama-generate": (None, "an error was encountered while running the model"),
}


# --- The table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One row: the fault header, what the caller must get, and where it applies.

    ``outcome`` is one of: ``status`` (APIStatusError), ``stream-error`` (StreamError),
    ``cut`` (StreamInterrupted caused by the transport's error), ``ended``
    (StreamInterrupted: the body ended without its terminal marker), ``decode``
    (DecodeError), ``too-large`` (SSEError with .limit/.offset), ``content-type``
    (SSEError naming the type), ``complete`` (every token, no error).
    """

    spec: str
    outcome: str
    sources: tuple[str, ...] = SOURCES
    #: The client stops reading while the server still has more to send: the connection
    #: must close when the response does, before the client is closed. (The server paces
    #: its tokens then, so that the rest of the body cannot have arrived already.)
    abandons: bool = False
    read_timeout: float = 5.0
    #: Outcomes that differ by route.
    per_route: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.split("@")[0].split(":")[0]

    @property
    def at(self) -> int:
        """Token events the server sends before the fault."""
        if "@" in self.spec:
            return int(self.spec.split("@")[1].split(":")[0])
        return TOKENS if self.outcome in ("ended", "complete") else 0


NDJSON_ROUTES = ("ollama-chat", "ollama-generate")

FAULTS = [
    Fault("status:401", "status", HTTP_SOURCES),
    Fault("status:429", "status", HTTP_SOURCES),
    Fault("status:500", "status", HTTP_SOURCES),
    Fault("status:503", "status", HTTP_SOURCES),
    # The generic json dialect knows no provider's error shape: the error event is just a
    # payload without the text, and the stream then ends without [DONE].
    Fault("error-event@0", "stream-error", per_route={"json": "ended"}),
    Fault(f"error-event@{AT}", "stream-error", per_route={"json": "ended"}),
    Fault("drop@0", "cut"),
    Fault(f"drop@{AT}", "cut"),
    Fault(f"drop-mid@{AT}", "cut"),
    Fault(f"drop-utf8@{AT}", "cut"),
    Fault(
        f"stall@{AT}:3000",
        "cut",
        HTTP_SOURCES,
        abandons=True,
        read_timeout=STALL_READ_TIMEOUT,
    ),
    # The generic json dialect reads the pointer and ignores the rest of the payload (by
    # design: "non-JSON data is ignored"); the broken brace comes after the text.
    Fault(f"malformed@{AT}", "decode", abandons=True, per_route={"json": "complete"}),
    Fault(f"bad-utf8@{AT}", "complete"),
    Fault(f"oversize@{AT}:{4 * LIMIT}", "too-large", abandons=True),
    # Ollama's API answers application/json, so the label is no fault there.
    Fault(
        "content-type",
        "content-type",
        HTTP_SOURCES,
        abandons=True,
        per_route=dict.fromkeys(NDJSON_ROUTES, "complete"),
    ),
    Fault("no-done", "ended"),
]


@dataclass(frozen=True)
class Cell:
    fault: Fault
    route: Route
    mode: str
    source: str

    @property
    def outcome(self) -> str:
        outcome = self.fault.per_route.get(self.route.name, self.fault.outcome)
        if outcome == "cut" and self.source == "iterable":
            return "ended"  # the recorded bytes simply stop
        return outcome

    @property
    def abandons(self) -> bool:
        return self.fault.abandons and self.outcome != "complete"


#: Sync and asyncio everywhere; uvloop too where seltzer drives the loop itself (the
#: fused path's wake-ups), to keep the matrix's run time reasonable.
CELLS = [
    pytest.param(Cell(fault, route, mode, source), id=f"{fault.spec}-{route.name}-{mode}-{source}")
    for fault in FAULTS
    for route in ROUTES
    for mode in MODES
    for source in fault.sources
    if mode != "uvloop" or source == "fused"
]


# --- Recordings and the oracle ------------------------------------------------------------


#: The pace of an abandoning cell's tokens: the client has given up on the body long
#: before its end is sent.
ABANDON_ITL_MS = "20"


def request_headers(spec: str | None, *, paced: bool = False) -> dict[str, str]:
    headers = {"x-mock-seed": SEED, "x-mock-unicode": "1", "x-mock-retry-after": RETRY_AFTER}
    if spec is not None:
        headers["x-mock-fault"] = spec
    if paced:
        headers["x-mock-itl-ms"] = ABANDON_ITL_MS
    return headers


_recordings: dict[tuple[str, str | None], tuple[int, bytes]] = {}


def recording(route: Route, spec: str | None) -> tuple[int, bytes]:
    """(status, body bytes as they arrived, up to the fault) of one request, read with
    httpx alone; cached for the module."""
    key = (route.name, spec)
    if key not in _recordings:
        with seltzer.mock.serve() as server, httpx.Client(verify=SSL_CONTEXT) as client:
            chunks: list[bytes] = []
            headers = {**route.headers, **request_headers(spec)}
            with client.stream(
                "POST", server.url + route.url, json=route.body, headers=headers
            ) as response:
                try:
                    for chunk in response.iter_raw():
                        chunks.append(chunk)
                except httpx.TransportError:
                    pass  # a dropped connection: the bytes before it are the recording
        _recordings[key] = (response.status_code, b"".join(chunks))
    return _recordings[key]


#: The blank line that ends an SSE event (any of the spec's line ends; Gemini sends CRLF).
EVENT_END = re.compile(rb"(?:\r\n|\r|\n){2}")


def split_events(route: Route, body: bytes) -> list[tuple[int, int, bytes]]:
    """(start, end, bytes) of each event (NDJSON: line) in a body, line ends included."""
    out, start = [], 0
    while start < len(body):
        if route.name in NDJSON_ROUTES:
            nl = body.find(b"\n", start)
            end = len(body) if nl < 0 else nl + 1
        else:
            found = EVENT_END.search(body, start)
            end = len(body) if found is None else found.end()
        out.append((start, end, body[start:end]))
        start = end
    return out


def payload_of(route: Route, event: bytes) -> tuple[str, str]:
    """(event type, data) of one SSE event, or ("", line) for NDJSON."""
    text = event.decode("utf-8", errors="replace")
    if route.name in NDJSON_ROUTES:
        return "", text.strip()
    kind, data = "message", []
    for line in re.split(r"\r\n|\r|\n", text):
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            kind = value
        elif name == "data":
            data.append(value)
    return kind, "\n".join(data)


def oracle_tokens(route: Route, body: bytes) -> list[str]:
    """The non-empty texts of a fault-free body, read in plain Python."""
    texts: list[str] = []
    for _, _, event in split_events(route, body):
        kind, data = payload_of(route, event)
        if not data or data == "[DONE]":
            continue
        p = json.loads(data)
        name = route.name
        if name == "openai-completions":
            found = [c["text"] for c in p["choices"]]
        elif name in ("openai-chat", "json"):
            found = [c["delta"].get("content") or "" for c in p["choices"]]
        elif name == "openai-responses":
            found = [p["delta"]] if kind == "response.output_text.delta" else []
        elif name == "anthropic":
            delta = p.get("delta", {})
            found = [delta["text"]] if delta.get("type") == "text_delta" else []
        elif name == "gemini":
            found = [
                part.get("text", "") for c in p["candidates"] for part in c["content"]["parts"]
            ]
        elif name == "tgi":
            found = [] if p["token"]["special"] else [p["token"]["text"]]
        elif name == "ollama-chat":
            found = [p["message"]["content"]]
        else:
            found = [p["response"]]
        texts += [t for t in found if t]
    return texts


def reference(route: Route) -> list[str]:
    status, body = recording(route, None)
    assert status == 200
    tokens = oracle_tokens(route, body)
    assert len(tokens) == TOKENS, tokens
    assert any(ord(c) > 127 for t in tokens[:AT] for c in t), "want a multi-byte token"
    return tokens


# --- Running a cell -----------------------------------------------------------------------


@dataclass
class Observed:
    """What a cell saw: tokens with their arrival times, the exception and when, and
    the mock's open connections after the response and after the client closed."""

    started: float = field(default_factory=time.monotonic)
    tokens: list[str] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)
    error: BaseException | None = None
    raised_at: float | None = None
    open_after_response: int | None = None
    open_after_client: int | None = None

    def token(self, text: str) -> None:
        self.tokens.append(text)
        self.stamps.append(time.monotonic())

    def fail(self, exc: BaseException) -> None:
        self.error = exc
        self.raised_at = time.monotonic()


def open_connections_when_settled(server: Any) -> int:
    deadline = time.monotonic() + CLOSE_DEADLINE
    while (n := server.stats()["open_connections"]) and time.monotonic() < deadline:
        time.sleep(0.005)
    return int(n)


async def aopen_connections_when_settled(server: Any) -> int:
    deadline = time.monotonic() + CLOSE_DEADLINE
    for _ in range(int(CLOSE_DEADLINE / 0.005)):
        if not server.stats()["open_connections"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.005)
    return int(server.stats()["open_connections"])


def pieces(body: bytes) -> Iterator[bytes]:
    for i in range(0, len(body), PIECE):
        yield body[i : i + PIECE]


async def apieces(body: bytes) -> AsyncIterator[bytes]:
    for piece in pieces(body):
        await asyncio.sleep(0)
        yield piece


def timeout(cell: Cell) -> httpx.Timeout:
    return httpx.Timeout(5.0, read=cell.fault.read_timeout)


def run_sync(cell: Cell, server: Any, seen: Observed) -> None:
    route, options = cell.route, cell.route.decode_options()
    if cell.source == "iterable":
        _, body = recording(route, cell.fault.spec)
        try:
            for text in seltzer.iter_text(pieces(body), route.dialect, **options):
                seen.token(text)
        except Exception as exc:
            seen.fail(exc)
        return
    transport = seltzer.HTTPTransport() if cell.source == "fused" else None
    headers = {**route.headers, **request_headers(cell.fault.spec, paced=cell.abandons)}
    client = httpx.Client(transport=transport, timeout=timeout(cell), verify=SSL_CONTEXT)
    response = None
    with client:
        try:
            with client.stream(
                "POST", server.url + route.url, json=route.body, headers=headers
            ) as response:
                for text in seltzer.iter_text(response, route.dialect, **options):
                    seen.token(text)
        except Exception as exc:
            seen.fail(exc)
        if cell.abandons:
            seen.open_after_response = open_connections_when_settled(server)
    # The exception's traceback holds this frame: drop what it would keep alive.
    del client, transport, response
    seen.open_after_client = open_connections_when_settled(server)


async def run_async_cell(cell: Cell, server: Any, seen: Observed) -> None:
    route, options = cell.route, cell.route.decode_options()
    if cell.source == "iterable":
        _, body = recording(route, cell.fault.spec)
        try:
            async for text in seltzer.aiter_text(apieces(body), route.dialect, **options):
                seen.token(text)
        except Exception as exc:
            seen.fail(exc)
        return
    transport = seltzer.AsyncHTTPTransport() if cell.source == "fused" else None
    headers = {**route.headers, **request_headers(cell.fault.spec, paced=cell.abandons)}
    client = httpx.AsyncClient(transport=transport, timeout=timeout(cell), verify=SSL_CONTEXT)
    response = None
    async with client:
        try:
            async with client.stream(
                "POST", server.url + route.url, json=route.body, headers=headers
            ) as response:
                async for text in seltzer.aiter_text(response, route.dialect, **options):
                    seen.token(text)
        except Exception as exc:
            seen.fail(exc)
        if cell.abandons:
            seen.open_after_response = await aopen_connections_when_settled(server)
    del client, transport, response
    seen.open_after_client = await aopen_connections_when_settled(server)


def observe(cell: Cell) -> Observed:
    # Recordings come from a mock of their own, and before the clock starts.
    reference(cell.route)
    if cell.source == "iterable":
        recording(cell.route, cell.fault.spec)
    seen = Observed()
    with seltzer.mock.serve() as server:
        seen.started = time.monotonic()
        if cell.mode == "sync":
            run_sync(cell, server, seen)
        else:
            run_async(run_async_cell(cell, server, seen), cell.mode)
    return seen


def bytes_spec(cell: Cell) -> str:
    """The fault whose recording holds the bytes a transport cell receives: a stall's
    bytes before the stall are those of a drop at the same token."""
    spec = cell.fault.spec
    return f"drop@{cell.fault.at}" if spec.startswith("stall@") else spec


# --- The checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_fault(cell: Cell) -> None:
    expected = reference(cell.route)
    seen = observe(cell)
    outcome, exc = cell.outcome, seen.error
    at = cell.fault.at

    if outcome == "complete":
        assert exc is None, repr(exc)
        want = list(expected)
        if cell.fault.name == "bad-utf8":
            # WHATWG: each invalid byte (FF FE) becomes U+FFFD.
            want[at] += "\ufffd\ufffd"
        assert seen.tokens == want
    else:
        assert isinstance(exc, seltzer.SeltzerError), repr(exc)
        # Every token before the fault, each exactly once, in order; none after.
        assert seen.tokens == expected[:at]
        CHECKS[outcome](cell, exc, seen)
        if outcome != "cut":
            assert exc.__cause__ is None, repr(exc.__cause__)
        if outcome != "cut" or cell.fault.name != "stall":
            assert seen.raised_at is not None
            assert seen.raised_at - seen.started < PROMPT_BOUND

    if cell.source != "iterable":
        # The connection is released: at once when the client gave up on a body the
        # server was still sending, and in any case once the client is closed.
        if cell.abandons:
            assert seen.open_after_response == 0
        assert seen.open_after_client == 0


def check_status(cell: Cell, exc: BaseException, seen: Observed) -> None:
    assert type(exc) is seltzer.APIStatusError
    code = int(cell.fault.spec.split(":")[1])
    assert exc.status_code == code
    status, body = recording(cell.route, cell.fault.spec)
    assert status == code
    assert exc.body == json.loads(body)
    assert isinstance(exc.headers, httpx.Headers)
    if code in (429, 503):
        assert exc.headers["retry-after"] == RETRY_AFTER
    else:
        assert "retry-after" not in exc.headers
    assert f"HTTP {code}" in str(exc)


def check_stream_error(cell: Cell, exc: BaseException, seen: Observed) -> None:
    assert type(exc) is seltzer.StreamError
    kind, message = ERROR_EVENTS[cell.route.name]
    assert exc.type == kind
    assert exc.message == message
    assert message in str(exc)


def check_cut(cell: Cell, exc: BaseException, seen: Observed) -> None:
    assert type(exc) is seltzer.StreamInterrupted
    assert exc.partial == "".join(seen.tokens)
    cause = exc.__cause__
    if cell.fault.name == "stall":
        assert isinstance(cause, httpx.ReadTimeout), repr(cause)
        assert seen.raised_at is not None
        assert seen.stamps, "the tokens before the stall arrive"
        waited = seen.raised_at - seen.stamps[-1]
        assert STALL_READ_TIMEOUT * 0.9 <= waited < STALL_RAISES_WITHIN, waited
    else:
        # The mock cuts a chunked body short: a protocol error, whichever transport.
        assert isinstance(cause, httpx.RemoteProtocolError), repr(cause)
    _, received = recording(cell.route, bytes_spec(cell))
    assert f"after {len(received)} bytes" in str(exc)


def check_ended(cell: Cell, exc: BaseException, seen: Observed) -> None:
    assert type(exc) is seltzer.StreamInterrupted
    assert exc.partial == "".join(seen.tokens)
    assert "terminal marker" in str(exc)
    _, body = recording(cell.route, cell.fault.spec)
    assert f"after {len(body)} bytes" in str(exc)


def check_decode(cell: Cell, exc: BaseException, seen: Observed) -> None:
    assert type(exc) is seltzer.DecodeError
    _, body = recording(cell.route, cell.fault.spec)
    broken = []
    for start, end, event in split_events(cell.route, body):
        _, data = payload_of(cell.route, event)
        if data and data != "[DONE]":
            try:
                json.loads(data)
            except ValueError:
                broken.append((start, end, event))
    assert len(broken) == 1
    start, end, event = broken[0]
    assert isinstance(exc.offset, int)
    assert start <= exc.offset <= end, (start, exc.offset, end)
    assert exc.snippet
    # (Ollama's lines carry the time they were sent: digits may differ.)
    assert digitless(exc.snippet) in digitless(event.decode("utf-8", errors="replace"))


def digitless(text: str) -> str:
    return re.sub(r"[0-9]", "0", text)


def check_too_large(cell: Cell, exc: BaseException, seen: Observed) -> None:
    assert type(exc) is seltzer.SSEError
    _, body = recording(cell.route, cell.fault.spec)
    padded = [s for s, _, event in split_events(cell.route, body) if b"mock_padding" in event]
    assert len(padded) == 1
    assert exc.limit == LIMIT
    # The stream offset of the first byte past the limit (line ends do not count).
    assert exc.offset == first_byte_past(body, padded[0], LIMIT)
    assert f"max_{'line' if cell.route.name in NDJSON_ROUTES else 'event'}_bytes={LIMIT}" in str(
        exc
    )


def first_byte_past(body: bytes, start: int, limit: int) -> int:
    """The offset of the first byte of an event, from ``start``, beyond ``limit`` bytes
    of its lines (CR and LF are line ends, not event bytes)."""
    counted = 0
    for pos in range(start, len(body)):
        if body[pos] in b"\r\n":
            continue
        if counted == limit:
            return pos
        counted += 1
    raise AssertionError("the event is within the limit")


def check_content_type(cell: Cell, exc: BaseException, seen: Observed) -> None:
    assert type(exc) is seltzer.SSEError
    assert exc.offset is None
    assert exc.limit is None
    assert "application/json" in str(exc)


CHECKS = {
    "status": check_status,
    "stream-error": check_stream_error,
    "cut": check_cut,
    "ended": check_ended,
    "decode": check_decode,
    "too-large": check_too_large,
    "content-type": check_content_type,
}


def test_the_table_covers_every_fault_the_mock_injects() -> None:
    """Every fault the mock's docstring lists has a row, and every route a column."""
    doc = seltzer.mock.__doc__ or ""
    names = {fault.name for fault in FAULTS}
    for name in (
        "status",
        "error-event",
        "drop",
        "drop-mid",
        "drop-utf8",
        "stall",
        "malformed",
        "bad-utf8",
        "oversize",
        "content-type",
        "no-done",
    ):
        assert f"``{name}" in doc
        assert name in names
    assert {route.dialect for route in ROUTES} == set(seltzer.DIALECTS)
