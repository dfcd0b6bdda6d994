"""The ``seltzer`` command line.

``seltzer decode FILE --dialect D`` decodes a recorded stream (a file, or ``-`` for
stdin) in Rust and prints each token's text as it is decoded, ``--sep``-separated like
LangChain's streaming guide prints them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from seltzer import DIALECTS, SeltzerError, iter_text


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
    except OSError as exc:
        if args.debug:
            raise
        print(f"seltzer: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seltzer", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
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
    return parser


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
