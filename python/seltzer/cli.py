"""The ``seltzer`` command line.

``seltzer decode FILE`` frames a recorded event stream (a file, or ``-`` for stdin) in
Rust and prints each token's text as it is decoded, ``--sep``-separated like LangChain's
streaming guide prints them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from seltzer import SeltzerError, ServerSentEvent, iter_sse

#: Where the token text sits in the payloads of the OpenAI wire formats.
_OPENAI_TEXT_PATHS = (("choices", 0, "delta", "content"), ("choices", 0, "text"))


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
    decode = commands.add_parser("decode", help="print the tokens of a recorded event stream")
    decode.add_argument("file", help="a text/event-stream body, or - for stdin")
    decode.add_argument("--sep", default="", help='printed after each token, e.g. "|"')
    decode.add_argument(
        "--text-path",
        default=None,
        help="JSON pointer to the token text in each event (default: OpenAI chat or completions)",
    )
    decode.add_argument(
        "--pace-ms", type=float, default=0.0, help="pause between tokens, to watch them arrive"
    )
    decode.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    decode.set_defaults(run=_decode)
    return parser


def _decode(args: argparse.Namespace) -> int:
    paths = _OPENAI_TEXT_PATHS if args.text_path is None else (_pointer(args.text_path),)
    with _open(args.file) as source:
        for event in iter_sse(_chunks(source)):
            text = _text(event, paths)
            if text is None:
                continue
            sys.stdout.write(text + args.sep)
            sys.stdout.flush()
            if args.pace_ms:
                time.sleep(args.pace_ms / 1000)
    sys.stdout.write("\n")
    return 0


def _text(event: ServerSentEvent, paths: Sequence[tuple[str | int, ...]]) -> str | None:
    if event.data == "[DONE]":
        return None
    payload = event.json()
    for path in paths:
        value: Any = payload
        for key in path:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if isinstance(value, str) and value:
                return value
    return None


def _pointer(text: str) -> tuple[str | int, ...]:
    if text and not text.startswith("/"):
        raise SystemExit(
            f"seltzer: --text-path must be a JSON pointer such as /a/0/b, got {text!r}"
        )
    parts = [p.replace("~1", "/").replace("~0", "~") for p in text.split("/")[1:]]
    return tuple(int(p) if p.isdigit() else p for p in parts)


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    return open(path, "rb")


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read1(65536) if hasattr(source, "read1") else source.read(65536):
        yield chunk
