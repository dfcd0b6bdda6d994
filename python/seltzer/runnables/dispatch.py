"""Calling handler methods duck-typed: every handler that has the method gets it
(LangChain's ``ignore_*`` flags and ``raise_error`` honoured), and methods that return
awaitables are awaited, from sync code too."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Awaitable, Sequence
from typing import Any

from seltzer.messages.prompt_values import buffer_string

__all__ = ["call_handlers", "finish_async", "finish_sync"]

logger = logging.getLogger("seltzer.callbacks")

_IGNORE = {
    "on_chain_start": "ignore_chain",
    "on_chain_end": "ignore_chain",
    "on_chain_error": "ignore_chain",
    "on_llm_start": "ignore_llm",
    "on_chat_model_start": "ignore_chat_model",
    "on_llm_new_token": "ignore_llm",
    "on_llm_end": "ignore_llm",
    "on_llm_error": "ignore_llm",
}


def call_handlers(
    handlers: Sequence[Any], method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[Awaitable[Any]]:
    """Calls ``method`` on every handler that has it; returns the awaitables returned."""
    ignore = _IGNORE.get(method)
    pending: list[Awaitable[Any]] = []
    for handler in handlers:
        if ignore is not None and getattr(handler, ignore, False):
            continue
        function = getattr(handler, method, None)
        call_args = args
        if function is None and method == "on_chat_model_start":
            # LangChain's fallback: handlers without chat support see text prompts.
            function = getattr(handler, "on_llm_start", None)
            call_args = (args[0], [buffer_string(m) for m in args[1]])
        if function is None:
            continue
        try:
            result = function(*call_args, **kwargs)
        except Exception as exc:
            _handler_failed(handler, method, exc)
            continue
        if inspect.isawaitable(result):
            pending.append(_guarded(handler, method, result))
    return pending


async def _guarded(handler: Any, method: str, awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception as exc:
        _handler_failed(handler, method, exc)


def _handler_failed(handler: Any, method: str, exc: Exception) -> None:
    if getattr(handler, "raise_error", False):
        raise exc
    logger.warning("Error in %s.%s callback: %r", type(handler).__name__, method, exc)


def finish_sync(pending: list[Awaitable[Any]]) -> None:
    """Runs async handler methods called from sync code to completion."""
    if not pending:
        return

    async def run_all() -> None:
        for awaitable in pending:
            await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_all())
        return
    # A loop runs in this thread (sync code called from async code): use another.
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _collect(errors, run_all))
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _collect(errors: list[BaseException], run_all: Any) -> None:
    try:
        asyncio.run(run_all())
    except BaseException as exc:
        errors.append(exc)


async def finish_async(pending: list[Awaitable[Any]]) -> None:
    for awaitable in pending:
        await awaitable
