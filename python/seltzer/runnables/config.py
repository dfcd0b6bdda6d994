"""``RunnableConfig``: the per-call options every Runnable takes (tags, metadata,
run_name, run_id, max_concurrency, callbacks, ...), and how they pass from a
Runnable to the steps it runs."""

from __future__ import annotations

import contextvars
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypedDict

__all__ = [
    "RunnableConfig",
    "ensure_config",
    "get_config_list",
    "merge_configs",
    "patch_config",
    "uuid7",
]


class RunnableConfig(TypedDict, total=False):
    """Options for one call of a Runnable (all optional)."""

    tags: list[str]
    """Tags for this call and every call it makes."""
    metadata: dict[str, Any]
    """Metadata for this call and every call it makes."""
    callbacks: Any
    """Handlers (objects with LangChain's ``on_*`` method names) or a callback manager."""
    run_name: str
    """The name of this call's run (not inherited)."""
    run_id: uuid.UUID
    """The id of this call's run (not inherited)."""
    max_concurrency: int | None
    """Bound on parallel calls in ``batch`` / ``abatch``."""
    recursion_limit: int
    """Bound on nesting (Runnables that return Runnables)."""
    configurable: dict[str, Any]
    """Free-form values for configurable Runnables."""


CONFIG_KEYS = frozenset(RunnableConfig.__annotations__)
_COPIED = ("tags", "metadata", "callbacks", "configurable")
DEFAULT_RECURSION_LIMIT = 25

#: The config of the Runnable being run, so that Runnables called inside functions
#: (a RunnableLambda's body) join its run tree.
current_config: contextvars.ContextVar[RunnableConfig | None] = contextvars.ContextVar(
    "seltzer_runnable_config", default=None
)


def ensure_config(config: RunnableConfig | None = None) -> RunnableConfig:
    """A fresh config with every standard key, over the enclosing run's config.

    Unknown keys move into ``configurable``, as LangChain does.
    """
    empty: RunnableConfig = {
        "tags": [],
        "metadata": {},
        "callbacks": None,
        "recursion_limit": DEFAULT_RECURSION_LIMIT,
        "configurable": {},
    }
    outer = current_config.get()
    if outer:
        empty.update(_copied({k: v for k, v in outer.items() if v is not None}))  # type: ignore[typeddict-item]
    if config is not None:
        empty.update(
            _copied({k: v for k, v in config.items() if v is not None and k in CONFIG_KEYS})  # type: ignore[typeddict-item]
        )
        for key, value in config.items():
            if key not in CONFIG_KEYS and value is not None:
                empty["configurable"][key] = value
    for key in ("model", "checkpoint_ns"):
        value = empty["configurable"].get(key)
        if isinstance(value, str) and key not in empty["metadata"]:
            empty["metadata"][key] = value
    return empty


def _copied(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() if k in _COPIED and hasattr(v, "copy") else v for k, v in config.items()}


def patch_config(
    config: RunnableConfig | None,
    *,
    callbacks: Any = None,
    max_concurrency: int | None = None,
    run_name: str | None = None,
    recursion_limit: int | None = None,
) -> RunnableConfig:
    """A copy of ``config`` with some values replaced; new ``callbacks`` (a child's)
    drop ``run_name`` and ``run_id``, which belong to the parent's run."""
    config = ensure_config(config)
    if callbacks is not None:
        config["callbacks"] = callbacks
        config.pop("run_name", None)
        config.pop("run_id", None)
    if max_concurrency is not None:
        config["max_concurrency"] = max_concurrency
    if run_name is not None:
        config["run_name"] = run_name
    if recursion_limit is not None:
        config["recursion_limit"] = recursion_limit
    return config


def merge_configs(*configs: RunnableConfig | None) -> RunnableConfig:
    """Configs merged left to right: tags and metadata accumulate, callbacks add up,
    other keys are replaced."""
    base: dict[str, Any] = {}
    for config in configs:
        if not config:
            continue
        value: Any
        for key, value in config.items():
            if key == "metadata":
                base["metadata"] = {**base.get("metadata", {}), **(value or {})}
            elif key == "tags":
                base["tags"] = sorted(set(base.get("tags", [])) | set(value or []))
            elif key == "configurable":
                base["configurable"] = {**base.get("configurable", {}), **(value or {})}
            elif key == "callbacks":
                base["callbacks"] = _merge_callbacks(base.get("callbacks"), value)
            else:
                base[key] = value
    return base  # type: ignore[return-value]


def _merge_callbacks(left: Any, right: Any) -> Any:
    if left is None or right is None:
        return right if left is None else left
    if isinstance(left, list) and isinstance(right, list):
        return left + right
    if isinstance(right, list):
        manager = left.copy()
        for handler in right:
            manager.add_handler(handler, inherit=True)
        return manager
    if isinstance(left, list):
        manager = right.copy()
        for handler in left:
            manager.add_handler(handler, inherit=True)
        return manager
    return right


def get_config_list(
    config: RunnableConfig | Sequence[RunnableConfig] | None, length: int
) -> list[RunnableConfig]:
    """One config per input: the list given, or copies of one config (whose
    ``run_id`` goes to the first input only).

    Raises:
        ValueError: A list of configs of the wrong length.
    """
    if isinstance(config, Sequence):
        if len(config) != length:
            raise ValueError(
                f"config must be a list of the same length as inputs, "
                f"but got {len(config)} configs for {length} inputs"
            )
        return [ensure_config(c) for c in config]
    if length > 1 and config and config.get("run_id") is not None:
        rest: RunnableConfig = {k: v for k, v in config.items() if k != "run_id"}  # type: ignore[assignment]
        return [ensure_config(config if i == 0 else rest) for i in range(length)]
    return [ensure_config(config) for _ in range(length)]


@contextmanager
def config_context(config: RunnableConfig) -> Iterator[contextvars.Context]:
    """Makes ``config`` the enclosing config for code run in the yielded context."""
    context = contextvars.copy_context()
    context.run(current_config.set, config)
    yield context


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (version 7), as LangChain gives runs."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 68) << 64  # 12 bits
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)
