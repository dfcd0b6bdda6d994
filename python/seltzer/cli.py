"""The ``seltzer`` command line.

``seltzer stream PROMPT`` streams a completion's tokens to stdout as they arrive, from a
real endpoint or (with no API key or base URL) from the embedded mock server;
``seltzer mock`` runs the mock server in the foreground; ``seltzer decode FILE`` decodes a
recorded stream; ``seltzer bench`` benchmarks an endpoint (``seltzer.bench``). Tokens
print ``--sep``-separated, as LangChain's streaming guide does.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import httpx

from seltzer import DIALECTS, SeltzerError, iter_text, mock
from seltzer.endpoints import api_key_from_env, stream_request
from seltzer.transport import HTTPTransport


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SeltzerError as exc:
        if args.debug:
            raise
        print(f"seltzer: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except (OSError, httpx.HTTPError, ValueError) as exc:
        if args.debug:
            raise
        print(f"seltzer: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seltzer", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    stream = commands.add_parser("stream", help="stream a completion's tokens to stdout")
    stream.add_argument("prompt", help="the user message")
    stream.add_argument("--dialect", default="openai-chat", choices=DIALECTS)
    stream.add_argument("--model", default=None, help="model name (a default per dialect)")
    stream.add_argument("--base-url", default=None, help="the API's base URL, as its SDK takes it")
    stream.add_argument("--mock", action="store_true", help="stream from the embedded mock server")
    stream.add_argument("--max-tokens", type=int, default=None)
    stream.add_argument("--sep", default="", help='printed after each token, e.g. "|"')
    stream.add_argument("--timeout", type=float, default=60.0, help="read timeout, seconds")
    stream.add_argument("--ttft-ms", type=int, default=150, help="mock: time to first token")
    stream.add_argument("--itl-ms", type=int, default=25, help="mock: inter-token interval")
    stream.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    stream.set_defaults(run=_stream)

    serve = commands.add_parser("mock", help="run the mock LLM server in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--ttft-ms", type=int, default=0)
    serve.add_argument("--itl-ms", type=int, default=0)
    serve.add_argument("--jitter-ms", type=int, default=0)
    serve.add_argument("--tokens", type=int, default=16, help="tokens per response")
    serve.add_argument("--batch", type=int, default=1, help="token events per write")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--fault", default=None, help="e.g. drop@5, status:429, stall@3:2000")
    serve.add_argument(
        "--workers", type=int, default=1, help="runtime threads (1: one thread does it all)"
    )
    serve.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(run=_mock)

    decode = commands.add_parser("decode", help="print the tokens of a recorded stream")
    decode.add_argument("file", help="a response body (SSE, or NDJSON for ollama), or - for stdin")
    decode.add_argument(
        "--dialect", default="openai-chat", choices=DIALECTS, help="the wire format"
    )
    decode.add_argument("--sep", default="", help='printed after each token, e.g. "|"')
    decode.add_argument(
        "--text-path", default=None, help="JSON pointer to the text (the json dialect)"
    )
    decode.add_argument(
        "--lenient",
        action="store_true",
        help="accept a stream that ends without its terminal marker",
    )
    decode.add_argument(
        "--pace-ms", type=float, default=0.0, help="pause between tokens, to watch them arrive"
    )
    decode.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    decode.set_defaults(run=_decode)
    _add_bench(commands)
    return parser


def _add_bench(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="benchmark a streaming endpoint: TTFT, ITL, TPOT, latency, throughput",
        description="Benchmark a streaming LLM endpoint, closed-loop per concurrency level "
        "or open-loop at --request-rate. Progress on stderr, a table on stdout.",
    )
    target = bench.add_mutually_exclusive_group(required=True)
    target.add_argument("--base-url", help="the API's base URL, as its SDK takes it")
    target.add_argument(
        "--mock", action="store_true", help="benchmark the embedded mock, in its own process"
    )
    bench.add_argument("--dialect", default="openai-chat", choices=DIALECTS)
    bench.add_argument("--model", default=None, help="model name (a default per dialect)")
    bench.add_argument(
        "--concurrency",
        default=None,
        help="levels, e.g. 1,8,64 (default 1); with --request-rate: caps on requests in flight",
    )
    amount = bench.add_mutually_exclusive_group()
    amount.add_argument(
        "--num-prompts",
        type=int,
        default=None,
        help="requests per level (default 4 x level, >= 16)",
    )
    amount.add_argument(
        "--duration", type=float, default=None, help="seconds per level in which requests start"
    )
    bench.add_argument(
        "--request-rate",
        type=float,
        default=None,
        help="open loop: Poisson arrivals per second (inf: all at once)",
    )
    source = bench.add_mutually_exclusive_group()
    source.add_argument("--prompt", default=None, help="the prompt sent with every request")
    source.add_argument(
        "--prompts", default=None, metavar="FILE.jsonl", help='one "text" or {"prompt": ...} a line'
    )
    bench.add_argument(
        "--max-tokens", type=int, default=128, help="output bound per request (default 128)"
    )
    bench.add_argument("--warmup", type=int, default=0, help="requests discarded before each level")
    bench.add_argument(
        "--no-preconnect",
        action="store_true",
        help="time the opening of each level's connections too (default: opened first)",
    )
    bench.add_argument("--slo", default=None, help="goodput bounds, e.g. ttft_ms=500,tpot_ms=50")
    bench.add_argument("--json", default=None, metavar="PATH", help="write results as JSON")
    bench.add_argument(
        "--plot", default=None, metavar="PATH.png", help="plot CDFs and throughput (matplotlib)"
    )
    bench.add_argument("--timeout", type=float, default=60.0, help="read timeout, seconds")
    bench.add_argument("--seed", type=int, default=0, help="seeds the open loop's arrivals")
    bench.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="an extra request header (repeatable; never printed)",
    )
    bench.add_argument(
        "--text-path", default=None, help="JSON pointer to the text (the json dialect)"
    )
    bench.add_argument(
        "--server-times",
        action="store_true",
        help="mock: stamp send times and report the client's error against them",
    )
    bench.add_argument("--ttft-ms", type=int, default=20, help="mock: time to first token")
    bench.add_argument("--itl-ms", type=int, default=5, help="mock: inter-token interval")
    bench.add_argument("--jitter-ms", type=int, default=0, help="mock: random extra delay")
    bench.add_argument("--mock-workers", type=int, default=1, help="mock: runtime threads")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    bench.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    bench.set_defaults(run=_bench)


def _bench(args: argparse.Namespace) -> int:
    from seltzer.bench.command import bench_command  # its imports cost the other commands

    return bench_command(args)


def _stream(args: argparse.Namespace) -> int:
    api_key = api_key_from_env(args.dialect)
    use_mock = args.mock or (args.base_url is None and api_key is None)
    with contextlib.ExitStack() as stack:
        base_url = args.base_url
        if use_mock:
            pacing = {"ttft_ms": args.ttft_ms, "itl_ms": args.itl_ms, "tokens": 48}
            server = stack.enter_context(mock.serve(**pacing))
            from seltzer.bench.mock_process import mock_base_url  # only when it is needed

            base_url = mock_base_url(server.url, args.dialect)
            api_key = None
        request = stream_request(
            args.dialect,
            args.prompt,
            base_url=base_url,
            model=args.model,
            max_tokens=args.max_tokens,
            api_key=api_key,
        )
        timeout = httpx.Timeout(10.0, read=args.timeout)
        client = stack.enter_context(httpx.Client(transport=HTTPTransport(), timeout=timeout))
        response = stack.enter_context(
            client.stream(request.method, request.url, json=request.json, headers=request.headers)
        )
        for text in iter_text(response, args.dialect):
            sys.stdout.write(text + args.sep)
            sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def _mock(args: argparse.Namespace) -> int:
    options = {
        "ttft_ms": args.ttft_ms,
        "itl_ms": args.itl_ms,
        "jitter_ms": args.jitter_ms,
        "tokens": args.tokens,
        "batch": args.batch,
        "seed": args.seed,
        "fault": args.fault,
        "worker_threads": args.workers,
    }
    with mock.serve(args.host, args.port, **options) as server:
        print(f"seltzer mock server listening on {server.url} (Ctrl-C stops it)")
        body = '{"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
        print(
            f"try: curl -N {server.url}/v1/chat/completions "
            f"-H 'content-type: application/json' -d '{body}'"
        )
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    print("stopped", file=sys.stderr)
    return 0


def _decode(args: argparse.Namespace) -> int:
    with _open(args.file) as source:
        tokens = iter_text(
            _chunks(source), args.dialect, text_path=args.text_path, strict=not args.lenient
        )
        for text in tokens:
            sys.stdout.write(text + args.sep)
            sys.stdout.flush()
            if args.pace_ms:
                time.sleep(args.pace_ms / 1000)
    sys.stdout.write("\n")
    return 0


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    return open(path, "rb")


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read1(65536) if hasattr(source, "read1") else source.read(65536):
        yield chunk
