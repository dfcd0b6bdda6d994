"""The workload: prompts read from a JSONL file, the streaming request each prompt becomes
(built once, sent many times), and the open loop's seeded Poisson arrival times.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from seltzer.bench.config import Prompt
from seltzer.endpoints import StreamRequest, stream_request

__all__ = ["TIMESTAMPS_HEADER", "build_requests", "load_prompts", "poisson_arrivals"]

#: The header that asks the mock server to stamp each event with its send time.
TIMESTAMPS_HEADER = "x-mock-timestamps"


def load_prompts(path: str | Path) -> tuple[Prompt, ...]:
    """Reads prompts from a JSONL file: one per line, either a JSON string or an object
    with ``"prompt"`` and optionally ``"max_tokens"``. Blank lines are skipped.

    Raises:
        OSError: The file cannot be read.
        ValueError: A line that is neither form, or a file with no prompt.
    """
    prompts = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                prompts.append(_prompt_of(line, f"{path}:{number}"))
    if not prompts:
        raise ValueError(f"{path}: no prompts (one JSON string or object per line)")
    return tuple(prompts)


def _prompt_of(line: str, where: str) -> Prompt:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not JSON: {exc.msg}") from None
    if isinstance(item, str):
        return Prompt(item)
    if isinstance(item, dict) and isinstance(item.get("prompt"), str):
        max_tokens = item.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ValueError(f"{where}: max_tokens must be a positive whole number")
        return Prompt(item["prompt"], max_tokens)
    raise ValueError(f'{where}: expected a JSON string or {{"prompt": "...", "max_tokens": N}}')


def build_requests(
    prompts: tuple[Prompt, ...],
    dialect: str,
    *,
    base_url: str,
    model: str | None,
    max_tokens: int | None,
    api_key: str | None,
    headers: Mapping[str, str],
    server_times: bool,
) -> list[StreamRequest]:
    """The streaming request for each prompt, in order, with the extra headers (and the
    mock's timestamp header with ``server_times``) added."""
    extra = dict(headers)
    if server_times:
        extra[TIMESTAMPS_HEADER] = "1"
    requests = []
    for prompt in prompts:
        request = stream_request(
            dialect,
            prompt.text,
            base_url=base_url,
            model=model,
            max_tokens=prompt.max_tokens or max_tokens,
            api_key=api_key,
        )
        if extra:
            request = replace(request, headers={**request.headers, **extra})
        requests.append(request)
    return requests


def poisson_arrivals(rate: float, seed: int) -> Iterator[float]:
    """Seconds from the start at which requests arrive: a Poisson process of ``rate``
    requests a second (exponential gaps, seeded; the first at 0), as vLLM's
    ``bench serve`` sends them. An infinite rate sends everything at 0."""
    rng = random.Random(seed)
    at = 0.0
    while True:
        yield at
        if not math.isinf(rate):
            at += rng.expovariate(rate)
