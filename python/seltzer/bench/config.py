"""What one benchmark run is asked to do: ``BenchConfig`` (endpoint, load shape, prompts,
SLOs) and ``MockPacing`` (the embedded mock's pacing), with the parsers the command line
uses for ``--concurrency`` and ``--slo``. Checking happens here, once, before any traffic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from seltzer._core import DIALECTS

__all__ = [
    "DEFAULT_PROMPT",
    "SLO_METRICS",
    "BenchConfig",
    "MockPacing",
    "Prompt",
    "levels_of",
    "parse_concurrency",
    "parse_slo",
]

#: The prompt sent when none is given.
DEFAULT_PROMPT = "Write me a 1 verse song about sparkling water."

#: The metrics an SLO can bound (milliseconds), as vLLM's ``--goodput`` names them.
SLO_METRICS = ("ttft_ms", "tpot_ms", "e2el_ms")


@dataclass(frozen=True)
class Prompt:
    """One prompt of the workload, with its own output bound when it has one."""

    text: str
    max_tokens: int | None = None


@dataclass(frozen=True)
class MockPacing:
    """How the embedded mock server (started in its own process) paces its tokens."""

    ttft_ms: int = 20
    itl_ms: int = 5
    jitter_ms: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        for name in ("ttft_ms", "itl_ms", "jitter_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"mock {name} must be >= 0, got {getattr(self, name)}")
        if self.workers < 1:
            raise ValueError(f"mock workers must be >= 1, got {self.workers}")


@dataclass(frozen=True)
class BenchConfig:
    """Every option of one benchmark, checked when built.

    Attributes:
        base_url: The API's base URL as its SDK takes it; None with ``mock``.
        mock: Pacing for the embedded mock server, started in another process.
        dialect: The wire format, one of ``seltzer.DIALECTS``.
        model: The model name (a default per dialect otherwise).
        concurrency: Closed loop: concurrent requests per level. Open loop: the cap on
            requests in flight per level (0: no cap).
        num_prompts: Requests per level (a default from the concurrency otherwise).
        duration: Seconds per level during which new requests start (instead of a count).
        request_rate: Open loop: mean requests per second of a seeded Poisson process
            (``inf``: all at once). None: closed loop.
        prompts: The prompts, sent in turn.
        max_tokens: The output bound sent with every prompt that has none of its own.
        warmup: Requests sent and discarded before each level.
        preconnect: Open each level's connections before timing it (as a long-running
            client has them), so that a burst of handshakes does not delay the first
            tokens' reads; False times the connections' opening too.
        slo: Bounds for goodput, in milliseconds, keyed by ``SLO_METRICS``.
        timeout: Read timeout per request, seconds (also the connect timeout's bound).
        seed: Seeds the open loop's arrival times.
        headers: Extra headers on every request (never printed).
        text_path: For the "json" dialect: a JSON pointer to each event's text.
        server_times: Ask the mock to stamp each event's send time and report the
            client's error against it (a seltzer mock server only).
        api_key: Sent as the dialect's API expects; from its usual environment
            variables when None. Never printed.
    """

    base_url: str | None = None
    mock: MockPacing | None = None
    dialect: str = "openai-chat"
    model: str | None = None
    concurrency: tuple[int, ...] = (1,)
    num_prompts: int | None = None
    duration: float | None = None
    request_rate: float | None = None
    prompts: tuple[Prompt, ...] = (Prompt(DEFAULT_PROMPT),)
    max_tokens: int | None = 128
    warmup: int = 0
    preconnect: bool = True
    slo: Mapping[str, float] = field(default_factory=dict)
    timeout: float = 60.0
    seed: int = 0
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    text_path: str | None = None
    server_times: bool = False
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.base_url is None) == (self.mock is None):
            raise ValueError("give exactly one of base_url and mock")
        if self.dialect not in DIALECTS:
            raise ValueError(
                f"unknown dialect {self.dialect!r}; expected one of: {', '.join(DIALECTS)}"
            )
        if self.dialect == "json" and not self.text_path:
            raise ValueError("the json dialect needs text_path (a JSON pointer to the text)")
        if not self.concurrency:
            raise ValueError("concurrency needs at least one level")
        floor = 0 if self.request_rate is not None else 1
        for level in self.concurrency:
            if level < floor:
                raise ValueError(f"concurrency must be >= {floor}, got {level}")
        if self.num_prompts is not None and self.duration is not None:
            raise ValueError("give num_prompts or duration, not both")
        if self.num_prompts is not None and self.num_prompts < 1:
            raise ValueError(f"num_prompts must be >= 1, got {self.num_prompts}")
        if self.duration is not None and not self.duration > 0:
            raise ValueError(f"duration must be > 0 seconds, got {self.duration}")
        if self.request_rate is not None and not self.request_rate > 0:
            raise ValueError(f"request_rate must be > 0, got {self.request_rate}")
        if not self.prompts:
            raise ValueError("the workload needs at least one prompt")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout}")
        for name, bound in self.slo.items():
            if name not in SLO_METRICS:
                raise ValueError(f"unknown SLO {name!r}; expected one of: {', '.join(SLO_METRICS)}")
            if not bound > 0:
                raise ValueError(f"SLO {name} must be > 0 ms, got {bound}")

    @property
    def open_loop(self) -> bool:
        """Whether requests arrive on a schedule (``request_rate``) rather than in a loop."""
        return self.request_rate is not None

    def requests_per_level(self, concurrency: int) -> int | None:
        """How many requests a level sends: ``num_prompts``, None under ``duration``, else
        four per concurrent slot (at least 16; 64 for an uncapped open loop)."""
        if self.duration is not None:
            return None
        if self.num_prompts is not None:
            return self.num_prompts
        if concurrency == 0:
            return 64
        return max(16, 4 * concurrency)


def parse_concurrency(text: str) -> tuple[int, ...]:
    """Parses ``"1,8,64"`` into ``(1, 8, 64)``.

    Raises:
        ValueError: An empty list or a part that is not a whole number.
    """
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"concurrency: expected numbers like 1,8,64, got {text!r}") from None
    if not levels:
        raise ValueError("concurrency: expected numbers like 1,8,64, got nothing")
    return levels


def parse_slo(text: str) -> dict[str, float]:
    """Parses ``"ttft_ms=500,tpot_ms=50"`` into ``{"ttft_ms": 500.0, "tpot_ms": 50.0}``.

    Raises:
        ValueError: A part without ``=``, an unknown metric or a bound that is not a
            positive number.
    """
    slo: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in SLO_METRICS:
            raise ValueError(f"slo: expected {'|'.join(SLO_METRICS)}=MS pairs, got {part!r}")
        try:
            bound = float(value)
        except ValueError:
            raise ValueError(f"slo: {name} needs a number of milliseconds, got {value!r}") from None
        if not (bound > 0 and math.isfinite(bound)):
            raise ValueError(f"slo: {name} must be a positive number of milliseconds")
        slo[name] = bound
    return slo


def levels_of(values: int | Sequence[int]) -> tuple[int, ...]:
    """A concurrency argument (one level or several) as a tuple of levels."""
    return (values,) if isinstance(values, int) else tuple(values)
