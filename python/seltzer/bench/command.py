"""``seltzer bench``: the command line's options to a ``BenchConfig``, the run, and the
output: the table on stdout, ``--json`` and ``--plot`` files, the exit status (0; 1 when
no request completed; 130 after Ctrl-C, with the partial results printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seltzer.bench.config import (
    DEFAULT_PROMPT,
    BenchConfig,
    MockPacing,
    Prompt,
    parse_concurrency,
    parse_slo,
)
from seltzer.bench.plot import PlotUnavailable, require_matplotlib, save_plot
from seltzer.bench.result import BenchResult
from seltzer.bench.runner import run_config
from seltzer.bench.table import format_table
from seltzer.bench.workload import load_prompts

__all__ = ["bench_command", "config_from_args", "parse_header", "write_json"]

#: The exit status after Ctrl-C, as a shell reports SIGINT.
INTERRUPTED = 130


def bench_command(args: argparse.Namespace) -> int:
    """Runs ``seltzer bench`` with parsed arguments; returns the exit status.

    Raises:
        ValueError: A bad option (the command line prints it on one line).
        OSError: A prompts, JSON or plot file cannot be read or written.
    """
    if args.plot:
        try:
            require_matplotlib()  # before the run, not after minutes of it
        except PlotUnavailable as exc:
            print(f"seltzer: {exc}", file=sys.stderr)
            return 1
    config = config_from_args(args)
    try:
        result = run_config(config, progress=not args.no_progress)
    except RuntimeError as exc:
        print(f"seltzer: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(format_table(result))
    sys.stdout.flush()
    if args.json:
        write_json(result, args.json)
    if args.plot:
        save_plot(result, args.plot)
    if result.interrupted:
        return INTERRUPTED
    return 0 if any(run.completed for run in result.runs) else 1


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """The ``BenchConfig`` that the ``bench`` subcommand's arguments describe.

    Raises:
        ValueError: A bad option.
        OSError: The prompts file cannot be read.
    """
    prompts = (
        load_prompts(Path(args.prompts))
        if args.prompts
        else (Prompt(args.prompt if args.prompt is not None else DEFAULT_PROMPT),)
    )
    if args.concurrency is not None:
        concurrency = parse_concurrency(args.concurrency)
    else:
        concurrency = (0,) if args.request_rate is not None else (1,)
    mock = None
    if args.mock:
        mock = MockPacing(args.ttft_ms, args.itl_ms, args.jitter_ms, args.mock_workers)
    return BenchConfig(
        base_url=args.base_url,
        mock=mock,
        dialect=args.dialect,
        model=args.model,
        concurrency=concurrency,
        num_prompts=args.num_prompts,
        duration=args.duration,
        request_rate=args.request_rate,
        prompts=prompts,
        max_tokens=args.max_tokens,
        warmup=args.warmup,
        preconnect=not args.no_preconnect,
        slo=parse_slo(args.slo) if args.slo else {},
        timeout=args.timeout,
        seed=args.seed,
        headers=dict(parse_header(h) for h in args.header),
        text_path=args.text_path,
        server_times=args.server_times,
    )


def parse_header(text: str) -> tuple[str, str]:
    """Parses ``"Name: value"`` into ``("Name", "value")``.

    Raises:
        ValueError: No colon, or no name before it (the value is never shown).
    """
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError("--header: expected 'NAME: VALUE'")
    return name.strip(), value.strip()


def write_json(result: BenchResult, path: str | Path) -> None:
    """Writes ``result.to_dict()`` to ``path`` as indented JSON."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump(result.to_dict(), out, indent=2, allow_nan=False)
        out.write("\n")
