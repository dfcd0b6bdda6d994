"""``seltzer bench`` through a real subprocess: the table on stdout and the progress bar
on stderr, ``--json`` with vLLM's key names, ``--plot`` (and its clear error without
matplotlib), API keys never shown, Ctrl-C printing the partial results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import seltzer
from tests.test_cli import ENV

#: The keys of each run in ``--json``, named as vLLM's ``bench serve`` names them.
VLLM_KEYS = {
    "concurrency",
    "completed",
    "failed",
    "request_throughput",
    "output_throughput",
    "total_token_throughput",
} | {
    f"{stat}_{metric}_ms"
    for metric in ("ttft", "tpot", "itl", "e2el")
    for stat in ("mean", "median", "std", "p90", "p99")
}


def bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seltzer", "bench", *args],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
        env=env or ENV,
    )


def test_table_on_stdout_progress_on_stderr_and_vllm_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = bench(
        "--mock", "--ttft-ms", "5", "--itl-ms", "2", "--concurrency", "1,4",
        "--num-prompts", "8", "--max-tokens", "6", "--slo", "ttft_ms=500,tpot_ms=50",
        "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "TTFT ms median" in result.stdout
    assert "ITL ms p99" in result.stdout
    assert "output tokens counted from usage" in result.stdout
    assert "concurrency 4" in result.stderr  # the progress bar
    assert "8/8" in result.stderr
    data = json.loads(out.read_text())
    assert set(data) >= {"runs", "client"}
    runs = data["runs"]
    assert [run["concurrency"] for run in runs] == [1, 4]
    for run in runs:
        assert set(run) >= VLLM_KEYS, VLLM_KEYS - set(run)
        assert all(isinstance(run[key], (int, float)) for key in VLLM_KEYS)
        assert (run["completed"], run["failed"]) == (8, 0)
        assert run["total_output_tokens"] == 48
        assert run["token_counts"] == "usage"
        assert run["request_goodput"] == run["request_throughput"]
        assert run["errors"] == {}
    client = data["client"]
    assert {"cpu_percent", "max_loop_lag_ms", "transport", "warnings"} <= set(client)
    assert client["dialect"] == "openai-chat"
    assert client["preconnect"] is True


def test_open_loop_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = bench(
        "--mock", "--ttft-ms", "0", "--itl-ms", "1", "--request-rate", "100",
        "--num-prompts", "10", "--max-tokens", "3", "--dialect", "anthropic",
        "--json", str(out), "--no-progress", "--no-preconnect",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "open loop, Poisson 100.0 req/s" in result.stdout
    assert result.stderr == ""
    data = json.loads(out.read_text())
    (run,) = data["runs"]
    assert (run["request_rate"], run["concurrency"], run["completed"]) == (100.0, None, 10)
    assert data["client"]["preconnect"] is False


def test_api_keys_and_credentials_are_never_shown(tmp_path: Path) -> None:
    secrets = ["sk-env-secret-1234", "url-secret-5678", "header-secret-9012"]
    env = {**ENV, "OPENAI_API_KEY": secrets[0]}
    out = tmp_path / "bench.json"
    with seltzer.mock.serve() as server:
        base = server.url.replace("http://", f"http://user:{secrets[1]}@") + "/v1"
        failing = bench(
            "--base-url", base, "--num-prompts", "3", "--json", str(out),
            "--header", f"x-team-auth: {secrets[2]}", "--header", "x-mock-fault: status:500",
            env=env,
        )  # fmt: skip
    assert failing.returncode == 1  # nothing completed
    assert "APIStatusError: HTTP 500" in failing.stdout
    unreachable = bench("--base-url", "http://127.0.0.1:9/v1", "--timeout", "2", env=env)
    assert unreachable.returncode == 1
    assert "first request" in unreachable.stderr
    written = out.read_text()
    assert json.loads(written)["runs"][0]["failed"] == 3
    for secret in secrets:
        for text in (failing.stdout, failing.stderr, unreachable.stdout, unreachable.stderr):
            assert secret not in text
        assert secret not in written


def test_plot_draws_a_png(tmp_path: Path) -> None:
    png = tmp_path / "bench.png"
    result = bench(
        "--mock", "--ttft-ms", "1", "--itl-ms", "1", "--concurrency", "1,2",
        "--num-prompts", "4", "--max-tokens", "5", "--plot", str(png), "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_what_to_install(tmp_path: Path) -> None:
    # A package that shadows matplotlib and fails to import, as a missing one does.
    (tmp_path / "matplotlib").mkdir()
    (tmp_path / "matplotlib" / "__init__.py").write_text("raise ImportError('not here')\n")
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(tmp_path), ENV.get("PYTHONPATH", "")])}
    started = time.monotonic()
    result = bench("--mock", "--plot", str(tmp_path / "x.png"), env=env)
    assert result.returncode == 1
    assert "--plot needs matplotlib" in result.stderr
    assert "pip install" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # refused before any traffic
    assert time.monotonic() - started < 20


def test_a_target_is_required() -> None:
    result = bench()
    assert result.returncode == 2
    assert "--base-url" in result.stderr
    assert "--mock" in result.stderr


def test_ctrl_c_prints_the_partial_results(tmp_path: Path) -> None:
    err = tmp_path / "stderr"
    command = [sys.executable, "-m", "seltzer", "bench", "--mock", "--concurrency", "2,4"]
    command += ["--duration", "30", "--max-tokens", "5", "--itl-ms", "2"]
    with (
        open(err, "wb") as stderr,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, env=ENV, text=True
        ) as proc,
    ):
        try:
            _wait_for(lambda: "req" in err.read_text(errors="replace"), proc)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            stdout, _ = proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 130
    assert "interrupted: partial results" in stdout
    assert "completed" in stdout
    assert "concurrency 4" not in stdout  # the second level never started
    assert "Traceback" not in err.read_text()


def _wait_for(ready: Any, proc: subprocess.Popen[str], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None, "the benchmark ended early"
        assert time.monotonic() < deadline, "the benchmark did not start"
        time.sleep(0.05)
