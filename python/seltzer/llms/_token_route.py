"""How a model run's streamed chunks reach its handlers (chat and text models alike):
through the per-token callback, straight to ``astream_events``' handler, or not at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seltzer.runnables.callbacks import RunManager
from seltzer.runnables.events import EventStreamHandler

__all__ = ["hears_tokens", "token_route"]


def token_route(run: RunManager) -> tuple[bool, Callable[[Any], bool] | None]:
    """How a model run's streamed chunks reach its handlers, decided once per run:
    whether through ``on_llm_new_token`` (as ``hears_tokens`` says), else the function
    that gives each chunk to ``astream_events``' handler directly (None: it wants none).
    The direct way serves only a run whose one handler is that handler; it makes the
    same event as the callback, without the per-token dispatch. (For ``astream`` and
    ``ainvoke``, which run on the loop that handler sends to.)"""
    handlers = run.handlers
    if len(handlers) == 1 and type(handlers[0]) is EventStreamHandler:
        try:
            return False, handlers[0].chunk_reporter(run.run_id)
        except LookupError:
            pass  # a run it never saw start: the callback reports that, as before
    return hears_tokens(run), None


def hears_tokens(run: RunManager) -> bool:
    """Whether any handler wants each token. ``astream_events``' handler ignores the
    tokens of a run whose output stream it taps (it reports that stream instead, and
    registers the tap before pulling the first chunk), so when it is the only one the
    per-token callback is skipped: same events, less work."""
    for handler in run.handlers:
        if not (isinstance(handler, EventStreamHandler) and handler.is_tapped.get(run.run_id)):
            return True
    return False
