"""The ``Runnable`` base: invoke, ainvoke, batch, abatch, stream, astream, transform,
atransform, astream_events, with_config, bind and ``|``; and the helpers subclasses
use to run a step with callbacks, as LangChain's Runnables do."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from seltzer.runnables.accumulate import ChunkAccumulator
from seltzer.runnables.callbacks import CallbackManager, RunManager, StreamTap
from seltzer.runnables.config import (
    RunnableConfig,
    ensure_config,
    get_config_list,
    patch_config,
)

if TYPE_CHECKING:
    from seltzer.runnables.binding import RunnableBinding
    from seltzer.runnables.sequence import RunnableSequence

__all__ = ["Runnable", "callback_manager_for"]


def callback_manager_for(config: RunnableConfig) -> CallbackManager:
    """The callback manager a config describes (its callbacks, tags and metadata)."""
    return CallbackManager.configure(
        config.get("callbacks"),
        inheritable_tags=config.get("tags"),
        inheritable_metadata=config.get("metadata"),
    )


class Runnable:
    """A unit of work that can be invoked, batched, streamed and composed with ``|``.

    Subclasses implement ``invoke`` (and ``ainvoke`` when they can do better than a
    thread); streaming ones implement ``transform`` / ``atransform`` too.
    """

    name: str | None = None
    """The run name in callbacks and events (the class name when None)."""

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The Runnable's name, as callbacks and events show it."""
        name_ = name or self.name or type(self).__name__
        if suffix:
            return name_ + suffix.title() if name_[0].isupper() else f"{name_}_{suffix.lower()}"
        return name_

    # -- one input -------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Runs on one input and returns the output.

        Args:
            input: The input.
            config: Tags, metadata, callbacks, run_name, run_id, ...
            **kwargs: Passed to the underlying call (e.g. ``stop`` for models).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement invoke")

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The async twin of ``invoke`` (by default ``invoke`` in a worker thread)."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: context.run(self.invoke, input, config, **kwargs)
        )

    # -- many inputs -----------------------------------------------------------------

    def batch(
        self,
        inputs: list[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``invoke`` on each input, in parallel threads (``max_concurrency`` of them).

        Args:
            inputs: The inputs.
            config: One config for all, or one per input.
            return_exceptions: Return an input's exception in its place instead of
                raising the first.
            **kwargs: Passed to each ``invoke``.

        Returns:
            The outputs, in the order of the inputs.
        """
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))

        def one(item: tuple[Any, RunnableConfig]) -> Any:
            value, cfg = item
            try:
                return self.invoke(value, cfg, **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        if len(inputs) == 1:
            return [one((inputs[0], configs[0]))]
        workers = configs[0].get("max_concurrency") or None
        with ThreadPoolExecutor(max_workers=workers) as pool:
            contexts = [contextvars.copy_context() for _ in inputs]
            futures = [
                pool.submit(ctx.run, one, item)
                for ctx, item in zip(contexts, zip(inputs, configs, strict=True), strict=True)
            ]
            return [f.result() for f in futures]

    async def abatch(
        self,
        inputs: list[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``ainvoke`` on each input concurrently (at most ``max_concurrency`` at once).

        Args:
            inputs: The inputs.
            config: One config for all, or one per input.
            return_exceptions: Return an input's exception in its place instead of
                raising the first.
            **kwargs: Passed to each ``ainvoke``.

        Returns:
            The outputs, in the order of the inputs.
        """
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        limit = configs[0].get("max_concurrency")
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(value: Any, cfg: RunnableConfig) -> Any:
            try:
                if semaphore is None:
                    return await self.ainvoke(value, cfg, **kwargs)
                async with semaphore:
                    return await self.ainvoke(value, cfg, **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        return list(
            await asyncio.gather(*(one(v, c) for v, c in zip(inputs, configs, strict=True)))
        )

    # -- streams ---------------------------------------------------------------------

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Yields the output in chunks as it is produced (one chunk unless the
        Runnable streams)."""
        yield self.invoke(input, config, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """The async twin of ``stream``."""
        yield await self.ainvoke(input, config, **kwargs)

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Streams the output for a streamed input; by default waits for the whole
        input (chunks added with ``+``) and then streams."""
        total = ChunkAccumulator(stop_after_unaddable=False)
        seen = False
        for chunk in input:
            total.add(chunk)
            seen = True
        if seen:
            yield from self.stream(total.value, config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """The async twin of ``transform``."""
        total = ChunkAccumulator(stop_after_unaddable=False)
        seen = False
        async for chunk in input:
            total.add(chunk)
            seen = True
        if seen:
            async for output in self.astream(total.value, config, **kwargs):
                yield output

    def astream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Streams what happens inside the run as LangChain's event dicts (``event``,
        ``name``, ``run_id``, ``parent_ids``, ``tags``, ``metadata``, ``data``).

        Args:
            input: The input.
            config: As for ``invoke``.
            version: "v2" (or the older "v1", without ``parent_ids``).
            include_names: Only events of runs with these names...
            include_types: ...or these run types ("chat_model", "llm", "chain",
                "prompt", "parser")...
            include_tags: ...or any of these tags.
            exclude_names: No events of runs with these names.
            exclude_types: No events of runs of these types.
            exclude_tags: No events of runs with any of these tags.
            **kwargs: Passed to ``astream``.

        Raises:
            NotImplementedError: A version other than "v1" or "v2".
        """
        from seltzer.runnables.event_filter import EventFilter
        from seltzer.runnables.events import astream_events_v2
        from seltzer.runnables.events_v1 import astream_events_v1

        event_filter = EventFilter(
            include_names=include_names,
            include_types=include_types,
            include_tags=include_tags,
            exclude_names=exclude_names,
            exclude_types=exclude_types,
            exclude_tags=exclude_tags,
        )
        if version == "v2":
            return astream_events_v2(self, input, config, event_filter, **kwargs)
        if version == "v1":
            return astream_events_v1(self, input, config, event_filter, **kwargs)
        raise NotImplementedError('only versions "v1" and "v2" of the schema are implemented')

    # -- composition -----------------------------------------------------------------

    def with_config(self, config: RunnableConfig | None = None, **kwargs: Any) -> RunnableBinding:
        """The same Runnable with ``config`` (and keyword config entries) applied to
        every call."""
        from seltzer.runnables.binding import RunnableBinding

        merged: RunnableConfig = {**(config or {}), **kwargs}  # type: ignore[typeddict-item]
        return RunnableBinding(self, config=merged)

    def bind(self, **kwargs: Any) -> RunnableBinding:
        """The same Runnable with keyword arguments passed to every call."""
        from seltzer.runnables.binding import RunnableBinding

        return RunnableBinding(self, kwargs=kwargs)

    def pipe(self, *others: Any, name: str | None = None) -> RunnableSequence:
        """``self | others[0] | ...`` as one sequence."""
        from seltzer.runnables.sequence import RunnableSequence

        return RunnableSequence(self, *others, name=name)

    def __or__(self, other: Any) -> RunnableSequence:
        from seltzer.runnables.sequence import RunnableSequence

        return RunnableSequence(self, other)

    def __ror__(self, other: Any) -> RunnableSequence:
        from seltzer.runnables.sequence import RunnableSequence

        return RunnableSequence(other, self)

    # -- helpers for subclasses ------------------------------------------------------

    def _run_identity(self, config: RunnableConfig) -> dict[str, Any]:
        """The ``name`` and ``run_id`` keywords that start this Runnable's run. The
        id is taken out of ``config``: it belongs to this run, not to its children."""
        return {
            "name": config.get("run_name") or self.get_name(),
            "run_id": config.pop("run_id", None),
        }

    def _stream_one(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        """``transform`` on a stream of one chunk, ``input`` (for ``stream``)."""
        return self.transform(iter([input]), config, **kwargs)

    def _astream_one(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """``atransform`` on a stream of one chunk, ``input`` (for ``astream``)."""

        async def one() -> AsyncIterator[Any]:
            yield input

        return self.atransform(one(), config, **kwargs)

    def _call_with_config(
        self,
        func: Callable[..., Any],
        input: Any,
        config: RunnableConfig | None,
        run_type: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Runs ``func(input)`` as one run: start and end (or error) callbacks around it.
        ``func`` may take ``run_manager`` and ``config`` (the child config) keywords."""
        config = ensure_config(config)
        run = callback_manager_for(config).on_chain_start(
            None,
            input,
            run_type=run_type,
            **self._run_identity(config),
        )
        try:
            output = func(input, **_extras(func, run, config, kwargs))
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end(output)
        return output

    async def _acall_with_config(
        self,
        func: Callable[..., Any],
        input: Any,
        config: RunnableConfig | None,
        run_type: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """The async twin of ``_call_with_config`` (``func`` returns an awaitable)."""
        config = ensure_config(config)
        run = await callback_manager_for(config).aon_chain_start(
            None,
            input,
            run_type=run_type,
            **self._run_identity(config),
        )
        try:
            output = await func(input, **_extras(func, run, config, kwargs))
        except BaseException as exc:
            await run.aon_chain_error(exc)
            raise
        await run.aon_chain_end(output)
        return output

    def _transform_stream_with_config(
        self,
        inputs: Iterator[Any],
        transformer: Callable[..., Iterator[Any]],
        config: RunnableConfig | None,
        run_type: str | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Streams ``transformer(inputs)`` as one run. The run starts once the first
        input chunk is there; its end reports the whole input and output."""
        inputs = iter(inputs)
        first = next(inputs, _NOTHING)
        final_input = ChunkAccumulator(stop_after_unaddable=True)
        if first is not _NOTHING:
            final_input.add(first)
        config = ensure_config(config)
        run = callback_manager_for(config).on_chain_start(
            None,
            {"input": ""},
            run_type=run_type,
            **self._run_identity(config),
        )
        final_output = ChunkAccumulator(stop_after_unaddable=True)
        # When no handler reads the totals, chunks pass through unsummed.
        watched = run.reads_totals()

        def replay() -> Iterator[Any]:
            if first is not _NOTHING:
                yield first
            for chunk in inputs:
                if watched:
                    final_input.add(chunk)
                yield chunk

        send = (run.stream_tap() or _NO_TAP).output_sender(run.run_id, sync=True)
        try:
            for chunk in transformer(replay(), **_extras(transformer, run, config, kwargs)):
                if send is not None:
                    send(chunk)
                yield chunk
                if watched:
                    final_output.add(chunk)
            for chunk in inputs:  # what the transformer left unread
                if watched:
                    final_input.add(chunk)
        except BaseException as exc:
            run.on_chain_error(exc, inputs=final_input.value)
            raise
        run.on_chain_end(final_output.value, inputs=final_input.value)

    async def _atransform_stream_with_config(
        self,
        inputs: AsyncIterator[Any],
        transformer: Callable[..., AsyncIterator[Any]],
        config: RunnableConfig | None,
        run_type: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """The async twin of ``_transform_stream_with_config``."""
        first = await anext(inputs, _NOTHING)
        final_input = ChunkAccumulator(stop_after_unaddable=True)
        if first is not _NOTHING:
            final_input.add(first)
        config = ensure_config(config)
        run = await callback_manager_for(config).aon_chain_start(
            None,
            {"input": ""},
            run_type=run_type,
            **self._run_identity(config),
        )
        final_output = ChunkAccumulator(stop_after_unaddable=True)
        # When no handler reads the totals, chunks pass through unsummed.
        watched = run.reads_totals()

        async def replay() -> AsyncIterator[Any]:
            if first is not _NOTHING:
                yield first
            async for chunk in inputs:
                if watched:
                    final_input.add(chunk)
                yield chunk

        source = transformer(replay(), **_extras(transformer, run, config, kwargs))
        tap = run.stream_tap() or _NO_TAP
        send = tap.output_sender(run.run_id)
        try:
            async for chunk in source:
                if send is not None and send(chunk):
                    await tap.make_way()
                yield chunk
                if watched:
                    final_output.add(chunk)
            async for chunk in inputs:
                if watched:
                    final_input.add(chunk)
        except BaseException as exc:
            await run.aon_chain_error(exc, inputs=final_input.value)
            raise
        finally:
            await _aclose(source)
        await run.aon_chain_end(final_output.value, inputs=final_input.value)


_NOTHING: Any = object()
_NO_TAP = StreamTap()  # a run no astream_events handler watches


async def _aclose(iterator: Any) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def _extras(
    func: Callable[..., Any], run: RunManager, config: RunnableConfig, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The keywords ``func`` accepts among run_manager and config (the child config)."""
    extras = dict(kwargs)
    names = _parameters(func)
    if "run_manager" in names:
        extras["run_manager"] = run
    if "config" in names:
        extras["config"] = patch_config(config, callbacks=run.get_child())
    return extras


def _parameters(func: Callable[..., Any]) -> frozenset[str]:
    key = getattr(func, "__func__", func)
    cached = _PARAMETERS.get(key)
    if cached is None:
        import inspect

        try:
            cached = frozenset(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            cached = frozenset()
        if len(_PARAMETERS) < 4096:
            _PARAMETERS[key] = cached
    return cached


_PARAMETERS: dict[Any, frozenset[str]] = {}
