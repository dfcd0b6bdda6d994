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
    result = run("decode", str(EXAMPLE), "--sep", "|")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "|Bubbles| dancing| in| my| glass|" in out
    assert out.replace("|", "").startswith("\n\nVerse 1:\nBubbles dancing in my glass\n")


def test_decode_reads_stdin_with_a_text_path() -> None:
    body = b'data: {"delta": {"text": "a"}}\n\ndata: {"delta": {"text": "b"}}\n\n'
    result = run("decode", "-", "--text-path", "/delta/text", "--sep", ",", stdin=body)
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
