"""Making a Runnable of what ``|`` is given: a Runnable stays as is, a callable becomes
a ``RunnableLambda``."""

from __future__ import annotations

from typing import Any

from seltzer.runnables.base import Runnable

__all__ = ["coerce_to_runnable"]


def coerce_to_runnable(thing: Any) -> Runnable:
    """``thing`` as a Runnable.

    Raises:
        TypeError: Neither a Runnable nor a callable.
    """
    if isinstance(thing, Runnable):
        return thing
    if callable(thing):
        from seltzer.runnables.function import RunnableLambda

        return RunnableLambda(thing)
    raise TypeError(
        f"expected a Runnable or a callable to compose with |, got {type(thing).__name__}"
    )
