"""Client CPU per token and delivery lag on paced streams, one HTTP chunk per token: the
workload of issue 6. The mock server runs in its own process (`seltzer mock`) and stamps
each event with its send time (`x-mock-timestamps`); each contender runs in a fresh
process, and its CPU comes from `time.process_time` (all its threads, the transport
runtime's too) around the streaming alone. Every contender's tokens are checked against
the server's text before its figures count.

Workloads: async at 1 stream (2,000 tokens, 200 µs apart) and at 50 concurrent streams
(200 tokens each, 5 ms apart); sync at 1 stream; and a burst (a whole 10,000-token
response at once, no pacing). Note: the mock's tokio timer ticks every millisecond, so
at 200 µs the server sends about five tokens per tick, each in its own HTTP chunk.

Run: python benches/transport_paced.py [--repeat 3] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

#: (name, mode, transport description). mode: "async", "sync".
CONTENDERS: dict[str, tuple[str, str]] = {
    "langchain-openai ChatOpenAI.astream": ("async", "langchain"),
    "openai AsyncOpenAI stream": ("async", "openai"),
    "httpx + httpx-sse + json": ("async", "httpx-sse"),
    "aiohttp lines + json": ("async", "aiohttp-lines"),
    "raw: httpx aiter_raw": ("async", "httpx-raw"),
    "raw: aiohttp iter_chunks": ("async", "aiohttp-raw"),
    "raw: pyreqwest read_chunk": ("async", "pyreqwest-raw"),
    "seltzer aiter_text (AsyncHTTPTransport)": ("async", "seltzer-text"),
    "seltzer aiter_tokens (AsyncHTTPTransport)": ("async", "seltzer-tokens"),
    "sync: openai OpenAI stream": ("sync", "openai"),
    "sync: httpx + httpx-sse + json": ("sync", "httpx-sse"),
    "sync: raw httpx iter_raw": ("sync", "httpx-raw"),
    "sync: seltzer iter_text (HTTPTransport)": ("sync", "seltzer-text"),
    "sync: seltzer iter_text (HTTPTransport read_ahead)": ("sync", "seltzer-text-ahead"),
}

#: (label, streams, tokens per stream, itl µs, contenders).
WORKLOADS = [
    ("async, 1 stream x 2000 tokens, 200 µs apart", 1, 2000, 200, "async"),
    ("async, 50 streams x 200 tokens, 5 ms apart", 50, 200, 5000, "async"),
    ("sync, 1 stream x 2000 tokens, 200 µs apart", 1, 2000, 200, "sync"),
]

BURST = [
    "sync: raw httpx iter_raw",
    "sync: seltzer iter_text (HTTPTransport)",
    "sync: seltzer iter_text (HTTPTransport read_ahead)",
]
PROMPT = [{"role": "user", "content": "hi"}]
MODEL = "mock-model"


def _headers(tokens: int, itl_us: int) -> dict[str, str]:
    return {
        "x-mock-tokens": str(tokens),
        "x-mock-itl-us": str(itl_us),
        "x-mock-timestamps": "1",
    }


def _body() -> dict[str, Any]:
    return {"model": MODEL, "messages": PROMPT, "stream": True}


# ---- one stream, per contender; each returns [(text, arrival_unix_ns, sent_ns | None)],
# or ("raw", [(bytes, arrival)]) / ("tokens", [(TokenChunk, arrival)]) decoded afterwards ----

Rec = list[tuple[str, int, int | None]]


async def _a_langchain(base: str, headers: dict[str, str]) -> Rec:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model=MODEL, base_url=base + "/v1", api_key="sk-bench", default_headers=headers
    )
    out: Rec = []
    async for chunk in chat.astream("hi"):
        if chunk.content:
            out.append((chunk.content, time.time_ns(), None))
    return out


def _sent(payload: Any) -> int | None:
    return payload.get("mock_sent_ns") if isinstance(payload, dict) else None


async def _a_openai(base: str, headers: dict[str, str], client: Any) -> Rec:
    out: Rec = []
    stream = await client.chat.completions.create(
        model=MODEL, messages=PROMPT, stream=True, extra_headers=headers
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            extra = chunk.model_extra or {}
            out.append((chunk.choices[0].delta.content, time.time_ns(), extra.get("mock_sent_ns")))
    return out


async def _a_httpx_sse(url: str, headers: dict[str, str], client: Any) -> Rec:
    from httpx_sse import aconnect_sse

    out: Rec = []
    async with aconnect_sse(client, "POST", url, json=_body(), headers=headers) as source:
        async for event in source.aiter_sse():
            if event.data == "[DONE]":
                break
            payload = json.loads(event.data)
            choices = payload.get("choices")
            if choices and choices[0]["delta"].get("content"):
                out.append((choices[0]["delta"]["content"], time.time_ns(), _sent(payload)))
    return out


async def _a_aiohttp_lines(url: str, headers: dict[str, str], session: Any) -> Rec:
    out: Rec = []
    async with session.post(url, json=_body(), headers=headers) as response:
        async for line in response.content:
            if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                continue
            payload = json.loads(line[6:])
            choices = payload.get("choices")
            if choices and choices[0]["delta"].get("content"):
                out.append((choices[0]["delta"]["content"], time.time_ns(), _sent(payload)))
    return out


def _raw_record(chunks: list[tuple[bytes, int]]) -> Rec:
    """Raw readers parse nothing while timed; their bytes are decoded afterwards so that
    their output can be checked like everyone's."""
    import seltzer

    out: Rec = []
    decoder = seltzer.TokenDecoder("openai-chat")
    for data, at in chunks:
        for token in decoder.feed(data):
            if token.text:
                out.append((token.text, at, _sent(token.json())))
    return out


async def _a_httpx_raw(url: str, headers: dict[str, str], client: Any) -> Any:
    chunks = []
    async with client.stream("POST", url, json=_body(), headers=headers) as response:
        async for data in response.aiter_raw():
            chunks.append((data, time.time_ns()))
    return ("raw", chunks)


async def _a_aiohttp_raw(url: str, headers: dict[str, str], session: Any) -> Any:
    chunks = []
    async with session.post(url, json=_body(), headers=headers) as response:
        async for data, _ in response.content.iter_chunks():
            chunks.append((data, time.time_ns()))
    return ("raw", chunks)


async def _a_pyreqwest_raw(url: str, headers: dict[str, str], client: Any) -> Any:
    chunks = []
    request = client.post(url).body_json(_body())
    for name, value in headers.items():
        request = request.header(name, value)
    async with request.build_streamed() as response:
        while (data := await response.body_reader.read_chunk()) is not None:
            chunks.append((bytes(data), time.time_ns()))
    return ("raw", chunks)


async def _a_seltzer_text(url: str, headers: dict[str, str], client: Any) -> Rec:
    import seltzer

    out: Rec = []
    async with client.stream("POST", url, json=_body(), headers=headers) as response:
        async for text in seltzer.aiter_text(response, "openai-chat"):
            out.append((text, time.time_ns(), None))
    return out


async def _a_seltzer_tokens(url: str, headers: dict[str, str], client: Any) -> Any:
    import seltzer

    out: list[Any] = []
    async with client.stream("POST", url, json=_body(), headers=headers) as response:
        async for token in seltzer.aiter_tokens(response, "openai-chat"):
            out.append((token, time.time_ns()))
    # The payloads are parsed for their send times after the timed section.
    return ("tokens", out)


# ---- sync ----


def _s_openai(base: str, headers: dict[str, str], client: Any) -> Rec:
    out: Rec = []
    stream = client.chat.completions.create(
        model=MODEL, messages=PROMPT, stream=True, extra_headers=headers
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            extra = chunk.model_extra or {}
            out.append((chunk.choices[0].delta.content, time.time_ns(), extra.get("mock_sent_ns")))
    return out


def _s_httpx_sse(url: str, headers: dict[str, str], client: Any) -> Rec:
    from httpx_sse import connect_sse

    out: Rec = []
    with connect_sse(client, "POST", url, json=_body(), headers=headers) as source:
        for event in source.iter_sse():
            if event.data == "[DONE]":
                break
            payload = json.loads(event.data)
            choices = payload.get("choices")
            if choices and choices[0]["delta"].get("content"):
                out.append((choices[0]["delta"]["content"], time.time_ns(), _sent(payload)))
    return out


def _s_httpx_raw(url: str, headers: dict[str, str], client: Any) -> Any:
    chunks = []
    with client.stream("POST", url, json=_body(), headers=headers) as response:
        for data in response.iter_raw():
            chunks.append((data, time.time_ns()))
    return ("raw", chunks)


def _s_seltzer_text(url: str, headers: dict[str, str], client: Any) -> Rec:
    import seltzer

    out: Rec = []
    with client.stream("POST", url, json=_body(), headers=headers) as response:
        for text in seltzer.iter_text(response, "openai-chat"):
            out.append((text, time.time_ns(), None))
    return out


# ---- the child process ----


def _finish(rec: Any) -> Rec:
    """Decodes what the timed section kept undecoded (raw bytes, token objects)."""
    if isinstance(rec, tuple) and rec[0] == "raw":
        return _raw_record(rec[1])
    if isinstance(rec, tuple) and rec[0] == "tokens":
        return [(t.text, at, _sent(t.json())) for t, at in rec[1] if t.text]
    return rec  # type: ignore[no-any-return]


def _async_setup(kind: str, base: str) -> tuple[Callable[..., Any], Any, Callable[[], Any]]:
    """(stream function, shared client, closer) for an async contender."""
    import httpx

    url = base + "/v1/chat/completions"
    if kind == "langchain":
        return (lambda h: _a_langchain(base, h)), None, lambda: None
    if kind == "openai":
        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=base + "/v1", api_key="sk-bench", max_retries=0)
        return (lambda h: _a_openai(base, h, client)), client, client.close
    if kind in ("aiohttp-lines", "aiohttp-raw"):
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        fn = _a_aiohttp_lines if kind == "aiohttp-lines" else _a_aiohttp_raw
        return (lambda h: fn(url, h, session)), session, session.close
    if kind == "pyreqwest-raw":
        from pyreqwest.client import ClientBuilder

        client = ClientBuilder().build()
        return (lambda h: _a_pyreqwest_raw(url, h, client)), client, client.close
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    if kind.startswith("seltzer"):
        import seltzer

        transport = seltzer.AsyncHTTPTransport(limits=limits)
        client = httpx.AsyncClient(transport=transport, timeout=120)
    else:
        client = httpx.AsyncClient(limits=limits, timeout=120)
    fn = {
        "httpx-sse": _a_httpx_sse,
        "httpx-raw": _a_httpx_raw,
        "seltzer-text": _a_seltzer_text,
        "seltzer-tokens": _a_seltzer_tokens,
    }[kind]
    return (lambda h: fn(url, h, client)), client, client.aclose


def _sync_setup(kind: str, base: str) -> tuple[Callable[..., Any], Callable[[], Any]]:
    import httpx

    url = base + "/v1/chat/completions"
    if kind == "openai":
        from openai import OpenAI

        client = OpenAI(base_url=base + "/v1", api_key="sk-bench", max_retries=0)
        return (lambda h: _s_openai(base, h, client)), client.close
    if kind.startswith("seltzer-text"):
        import seltzer

        # By default the caller's thread reads the socket; read_ahead, a runtime thread.
        transport = seltzer.HTTPTransport(read_ahead=kind.endswith("-ahead"))
        hclient = httpx.Client(transport=transport, timeout=120)
        kind = "seltzer-text"
    else:
        hclient = httpx.Client(timeout=120)
    fn = {"httpx-sse": _s_httpx_sse, "httpx-raw": _s_httpx_raw, "seltzer-text": _s_seltzer_text}[
        kind
    ]
    return (lambda h: fn(url, h, hclient)), hclient.close


def _run_child(args: argparse.Namespace) -> None:
    mode, kind = CONTENDERS[args.child]
    headers = _headers(args.tokens, args.itl_us)
    if mode == "async":

        async def main() -> tuple[float, list[Rec]]:
            fn, _, close = _async_setup(kind, args.url)
            await fn(_headers(5, 0))  # warm-up: connections, imports
            c0 = time.process_time()
            recs = await asyncio.gather(*(fn(headers) for _ in range(args.streams)))
            cpu = time.process_time() - c0
            result = close()
            if asyncio.iscoroutine(result):
                await result
            return cpu, list(recs)

        if args.uvloop:
            import uvloop

            cpu, recs = uvloop.run(main())
        else:
            cpu, recs = asyncio.run(main())
    else:
        fn, close = _sync_setup(kind, args.url)
        fn(_headers(5, 0))
        c0 = time.process_time()
        recs = [fn(headers)]
        cpu = time.process_time() - c0
        close()
    recs = [_finish(r) for r in recs]
    texts = ["".join(t for t, _, _ in r) for r in recs]
    lags = [(at - sent) / 1e6 for r in recs for _, at, sent in r if sent is not None]
    tokens = sum(len(r) for r in recs)
    print(
        json.dumps(
            {
                "cpu_us_per_token": cpu / max(tokens, 1) * 1e6,
                "tokens": tokens,
                "texts": sorted(set(texts)),
                "lag_p50_ms": statistics.median(lags) if lags else None,
                "lag_p99_ms": statistics.quantiles(lags, n=100)[98] if len(lags) > 100 else None,
            }
        )
    )


# ---- the parent ----


def _burst_body(tokens: int) -> bytes:
    """A whole chat stream, one HTTP chunk per event, as one response in memory."""
    events = [
        json.dumps({"object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"content": f" tok{i}"}, "finish_reason": None}
        ]}).encode()
        for i in range(tokens)
    ] + [b"[DONE]"]  # fmt: skip
    chunks = b"".join(b"%x\r\n" % (len(e) + 8) + b"data: " + e + b"\n\n\r\n" for e in events)
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    return head + chunks + b"0\r\n\r\n"


def _start_burst_server() -> tuple[Callable[[], None], str]:
    """A raw server that answers every request with the burst response in one write."""
    import socket
    import threading

    sock = socket.create_server(("127.0.0.1", 0))
    bodies = {n: _burst_body(n) for n in (5, 10_000)}

    def serve(conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    piece = conn.recv(65536)
                    if not piece:
                        return
                    data += piece
                head, _, data = data.partition(b"\r\n\r\n")
                fields = dict(
                    line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line
                )
                length = int(fields.get(b"content-length", b"0"))
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                conn.sendall(bodies[int(fields.get(b"x-mock-tokens", b"5"))])

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return sock.close, f"http://127.0.0.1:{sock.getsockname()[1]}"


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "seltzer", "mock", "--port", "0", "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert server.stdout is not None
    base = server.stdout.readline().decode().split(" on ")[1].split(" ")[0]
    return server, base


def _child(name: str, base: str, streams: int, tokens: int, itl_us: int, uvloop: bool) -> Any:
    cmd = [sys.executable, __file__, "--child", name, "--url", base]
    cmd += ["--streams", str(streams), "--tokens", str(tokens), "--itl-us", str(itl_us)]
    if uvloop:
        cmd.append("--uvloop")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--itl-us", type=int, default=200)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (median kept)")
    parser.add_argument("--only", default="", help="comma-separated contender names")
    args = parser.parse_args()
    if args.child:
        _run_child(args)
        return
    only = [n for n in args.only.split(",") if n]
    server, base = _start_server()
    try:
        print(f"mock server pid {server.pid} at {base}; median of {args.repeat} runs per cell")
        for label, streams, tokens, itl_us, mode in WORKLOADS:
            _workload(label, base, streams, tokens, itl_us, mode, args.repeat, only)
        stop, burst_base = _start_burst_server()
        burst = "burst: a 10,000-token response in memory, one HTTP chunk per token, one write"
        _workload(burst, burst_base, 1, 10_000, 0, "burst", args.repeat, only)
        stop()
    finally:
        server.terminate()
        server.wait()


def _workload(
    label: str,
    base: str,
    streams: int,
    tokens: int,
    itl_us: int,
    mode: str,
    repeat: int,
    only: list[str],
) -> None:
    print(f"\n{label}")
    print(f"{'contender':<44} {'µs CPU/token':>13} {'lag p50 ms':>11} {'lag p99 ms':>11}")
    names = BURST if mode == "burst" else [n for n, (m, _) in CONTENDERS.items() if m == mode]
    expected: str | None = None
    for name in names:
        if only and name not in only:
            continue
        runs = [_child(name, base, streams, tokens, itl_us, False) for _ in range(repeat)]
        for run in runs:
            if run["tokens"] != streams * tokens or len(run["texts"]) != 1:
                raise RuntimeError(f"{name}: incomplete or differing output: {run['tokens']}")
            expected = expected or run["texts"][0]
            if run["texts"][0] != expected:
                raise RuntimeError(f"{name}: output differs from the other contenders'")
        cpu = statistics.median(r["cpu_us_per_token"] for r in runs)
        p50 = [r["lag_p50_ms"] for r in runs if r["lag_p50_ms"] is not None]
        p99 = [r["lag_p99_ms"] for r in runs if r["lag_p99_ms"] is not None]
        print(
            f"{name:<44} {cpu:>13.1f} {_fmt(statistics.median(p50) if p50 else None, '11.2f')} "
            f"{_fmt(statistics.median(p99) if p99 else None, '11.2f')}",
            flush=True,
        )


if __name__ == "__main__":
    main()
