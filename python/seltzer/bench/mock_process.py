"""The embedded mock server in its own process (``python -m seltzer mock``), so that the
client under test and the server it measures do not share an interpreter, and where
each dialect's API sits on it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from seltzer.bench.config import MockPacing

__all__ = ["MOCK_BASE_PATHS", "mock_base_url", "mock_process"]

#: Where each dialect's API sits under the mock's root, as its SDK's base URL has it.
MOCK_BASE_PATHS = {"anthropic": "/v1", "gemini": "/v1beta", "tgi": "", "ollama": ""}

#: What the mock prints first: "seltzer mock server listening on URL (Ctrl-C stops it)".
_LISTENING = " listening on "


def mock_base_url(root: str, dialect: str) -> str:
    """The base URL of ``dialect``'s API on a mock server at ``root``."""
    return root.rstrip("/") + MOCK_BASE_PATHS.get(dialect, "/v1")


@contextlib.contextmanager
def mock_process(pacing: MockPacing, *, stop_timeout: float = 10.0) -> Iterator[str]:
    """Runs ``seltzer mock`` on a free loopback port in a child process and yields its
    root URL; the process stops when the block exits.

    The child runs in its own session, so a Ctrl-C in the terminal reaches only the
    benchmark, which then stops the server itself.

    Raises:
        RuntimeError: The server did not start (its error output is in the message).
    """
    command = [sys.executable, "-m", "seltzer", "mock", "--host", "127.0.0.1", "--port", "0"]
    command += ["--ttft-ms", str(pacing.ttft_ms), "--itl-ms", str(pacing.itl_ms)]
    command += ["--jitter-ms", str(pacing.jitter_ms), "--workers", str(pacing.workers)]
    # The server needs no API key: none is handed to it.
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode(errors="replace")
        if _LISTENING not in first:
            process.kill()
            _, err = process.communicate(timeout=stop_timeout)
            detail = err.decode(errors="replace").strip() or first.strip() or "no output"
            raise RuntimeError(f"the mock server did not start: {detail}")
        yield first.split(_LISTENING, 1)[1].split()[0]
    finally:
        _stop(process, stop_timeout)


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stops the server (SIGTERM: a Ctrl-C may be ignored by a child of a background job),
    killing it if it does not go."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    else:
        process.communicate()
