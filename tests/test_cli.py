"""The ``seltzer`` command through a real subprocess: output and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sparkling-water.sse"


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "seltzer", *args],
        input=stdin,
        capture_output=True,
        timeout=30,
        check=False,
    )


def test_decode_prints_tokens_separated() -> None:
    result = run("decode", str(EXAMPLE), "--dialect", "openai-completions", "--sep", "|")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "|Bubbles| dancing| in| my| glass|" in out
    assert out.replace("|", "").startswith("\n\nVerse 1:\nBubbles dancing in my glass\n")


def test_decode_reads_stdin_with_a_text_path() -> None:
    body = b'data: {"delta": {"text": "a"}}\n\ndata: {"delta": {"text": "b"}}\n\ndata: [DONE]\n\n'
    args = ("--dialect", "json", "--text-path", "/delta/text", "--sep", ",")
    result = run("decode", "-", *args, stdin=body)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"a,b,\n"


def test_errors_print_one_line_and_exit_nonzero() -> None:
    result = run("decode", "-", stdin=b'data: {"a"\n\n')
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("seltzer: DecodeError:")
    missing = run("decode", "/nonexistent/stream.sse")
    assert missing.returncode == 1
    assert "No such file" in missing.stderr.decode()
    assert b"Traceback" not in missing.stderr


def test_stream_without_terminal_marker_fails_unless_lenient() -> None:
    body = b'data: {"choices": [{"index": 0, "delta": {"content": "hi"}}]}\n\n'
    strict = run("decode", "-", stdin=body)
    assert strict.returncode == 1
    assert strict.stdout == b"hi"
    assert "StreamInterrupted" in strict.stderr.decode()
    lenient = run("decode", "-", "--lenient", stdin=body)
    assert lenient.returncode == 0
    assert lenient.stdout == b"hi\n"


def test_provider_error_in_stream_is_reported() -> None:
    error = b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
    body = b"event: error\ndata: " + error + b"\n\n"
    result = run("decode", "-", "--dialect", "anthropic", stdin=body)
    assert result.returncode == 1
    assert "overloaded_error: Overloaded" in result.stderr.decode()
