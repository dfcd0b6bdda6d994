"""``RunnableLambda``: a Python function (sync or async, plain or generator) as a
Runnable. It waits for its whole input; a returned Runnable is run in its place."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from seltzer.runnables.accumulate import ChunkAccumulator
from seltzer.runnables.base import Runnable
from seltzer.runnables.config import RunnableConfig, current_config, patch_config

__all__ = ["RunnableLambda"]


class RunnableLambda(Runnable):
    """Runs ``func(input)`` (or ``func(input, config)`` when it takes ``config``).

    Args:
        func: The function; may be a coroutine function, a generator function
            (streams its yields) or an async generator function.
        afunc: An async version to use on the async paths.
        name: The run name (the function's name by default).
    """

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Any] | None = None,
        name: str | None = None,
    ) -> None:
        sync: Callable[..., Any] | None = func
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            afunc, sync = func, None
        self.func = sync
        self.afunc = afunc
        named = sync or afunc
        if name is not None:
            self.name = name
        elif named is not None and getattr(named, "__name__", "<lambda>") != "<lambda>":
            self.name = named.__name__

    def __repr__(self) -> str:
        named = self.func or self.afunc
        return f"RunnableLambda({getattr(named, '__name__', '...')})"

    # -- calling the function --------------------------------------------------------

    def _call_sync(self, value: Any, config: RunnableConfig) -> Any:
        if self.func is None:
            raise TypeError(f"{self.get_name()} has only an async function: use ainvoke / astream")
        context = contextvars.copy_context()
        context.run(current_config.set, config)
        args = (value, config) if "config" in _params(self.func) else (value,)
        output = context.run(self.func, *args)
        if inspect.isgenerator(output):
            total = ChunkAccumulator(stop_after_unaddable=False)
            for chunk in _in_context(context, output):
                total.add(chunk)
            output = total.value
        return output

    async def _call_async(self, value: Any, config: RunnableConfig) -> Any:
        if self.afunc is None:
            context = contextvars.copy_context()
            return await asyncio.get_running_loop().run_in_executor(
                None, context.run, self._call_sync, value, config
            )
        token = current_config.set(config)
        try:
            args = (value, config) if "config" in _params(self.afunc) else (value,)
            output = self.afunc(*args)
            if inspect.isasyncgen(output):
                total = ChunkAccumulator(stop_after_unaddable=False)
                async for chunk in output:
                    total.add(chunk)
                return total.value
            return await output
        finally:
            current_config.reset(token)

    # -- Runnable --------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Calls the function (a returned Runnable is invoked on the same input)."""
        return self._call_with_config(self._invoke, input, config)

    def _invoke(self, value: Any, run_manager: Any, config: RunnableConfig) -> Any:
        output = self._call_sync(value, config)
        if isinstance(output, Runnable):
            limit = _deeper(config, self, value)
            output = output.invoke(
                value,
                patch_config(config, callbacks=run_manager.get_child(), recursion_limit=limit),
            )
        return output

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The async twin of ``invoke``."""
        return await self._acall_with_config(self._ainvoke, input, config)

    async def _ainvoke(self, value: Any, run_manager: Any, config: RunnableConfig) -> Any:
        output = await self._call_async(value, config)
        if isinstance(output, Runnable):
            limit = _deeper(config, self, value)
            output = await output.ainvoke(
                value,
                patch_config(config, callbacks=run_manager.get_child(), recursion_limit=limit),
            )
        return output

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Streams the function's yields (or its one result)."""
        return self._stream_one(input, config, **kwargs)

    def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """The async twin of ``stream``."""
        return self._astream_one(input, config, **kwargs)

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Waits for the whole input, then streams the function's output."""
        return self._transform_stream_with_config(input, self._transform, config)

    def _transform(
        self, chunks: Iterator[Any], run_manager: Any, config: RunnableConfig
    ) -> Iterator[Any]:
        total = ChunkAccumulator(stop_after_unaddable=False)
        for chunk in chunks:
            total.add(chunk)
        value = total.value
        if self.func is None:
            raise TypeError(f"{self.get_name()} has only an async function: use astream")
        context = contextvars.copy_context()
        context.run(current_config.set, config)
        args = (value, config) if "config" in _params(self.func) else (value,)
        output = context.run(self.func, *args)
        if inspect.isgenerator(output):
            yield from _in_context(context, output)
            return
        if isinstance(output, Runnable):
            limit = _deeper(config, self, value)
            yield from output.stream(
                value,
                patch_config(config, callbacks=run_manager.get_child(), recursion_limit=limit),
            )
            return
        yield output

    def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """The async twin of ``transform``."""
        return self._atransform_stream_with_config(input, self._atransform, config)

    async def _atransform(
        self, chunks: AsyncIterator[Any], run_manager: Any, config: RunnableConfig
    ) -> AsyncIterator[Any]:
        total = ChunkAccumulator(stop_after_unaddable=False)
        async for chunk in chunks:
            total.add(chunk)
        value = total.value
        if self.afunc is not None and inspect.isasyncgenfunction(self.afunc):
            token = current_config.set(config)
            try:
                args = (value, config) if "config" in _params(self.afunc) else (value,)
                async for chunk in self.afunc(*args):
                    yield chunk
            finally:
                current_config.reset(token)
            return
        output = await self._call_async(value, config)
        if isinstance(output, Runnable):
            limit = _deeper(config, self, value)
            async for chunk in output.astream(
                value,
                patch_config(config, callbacks=run_manager.get_child(), recursion_limit=limit),
            ):
                yield chunk
            return
        yield output


def _in_context(context: contextvars.Context, generator: Iterator[Any]) -> Iterator[Any]:
    while True:
        try:
            yield context.run(next, generator)
        except StopIteration:
            return


def _deeper(config: RunnableConfig, runnable: Runnable, value: Any) -> int:
    limit = config.get("recursion_limit", 25)
    if limit <= 0:
        raise RecursionError(
            f"Recursion limit reached when invoking {runnable!r} with input {value!r}."
        )
    return limit - 1


def _params(func: Callable[..., Any]) -> frozenset[str]:
    try:
        return frozenset(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return frozenset()
