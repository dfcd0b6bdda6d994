"""The ``seltzer`` command through a real subprocess: output and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sparkling-water.sse"


#: Provider keys are removed: nothing here may reach a real endpoint.
ENV = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "HF_TOKEN"))}


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "seltzer", *args],
        input=stdin,
        capture_output=True,
        timeout=30,
        check=False,
        env=ENV,
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


def test_stream_from_the_embedded_mock_prints_tokens_as_they_come() -> None:
    prompt = "Write me a 1 verse song about sparkling water."
    result = run("stream", prompt, "--mock", "--sep", "|", "--itl-ms", "1", "--ttft-ms", "1")
    assert result.returncode == 0, result.stderr
    tokens = result.stdout.decode().rstrip("\n").split("|")
    assert tokens[-1] == ""
    assert len(tokens[:-1]) == 48
    assert all(tokens[:-1])


def test_stream_errors_print_one_line() -> None:
    result = run("stream", "hi", "--base-url", "http://127.0.0.1:9/v1", "--timeout", "2")
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert "ConnectError" in lines[0] or "APIConnectionError" in lines[0]


def test_mock_command_serves_until_ctrl_c() -> None:
    import signal

    import httpx

    with subprocess.Popen(
        [sys.executable, "-m", "seltzer", "mock", "--port", "0", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline().decode()
            url = first.split(" on ")[1].split(" ")[0]
            assert url.startswith("http://127.0.0.1:")
            assert "curl -N" in proc.stdout.readline().decode()
            assert httpx.get(url + "/health", timeout=5).status_code == 200
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            proc.kill()
