"""``RunnableSequence``: ``a | b | c``. Each step's output is the next step's input;
streaming passes chunks through the steps that can transform a stream (parsers) and
gathers them for the others, as LangChain does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from seltzer.runnables.base import Runnable, callback_manager_for
from seltzer.runnables.coerce import coerce_to_runnable
from seltzer.runnables.config import RunnableConfig, ensure_config, patch_config

__all__ = ["RunnableSequence"]


class RunnableSequence(Runnable):
    """Steps run one after the other; plain callables become ``RunnableLambda``s and
    nested sequences are flattened.

    Raises:
        ValueError: Fewer than two steps.
    """

    steps: list[Runnable]

    def __init__(self, *steps: Any, name: str | None = None) -> None:
        flat: list[Runnable] = []
        for step in steps:
            if isinstance(step, RunnableSequence):
                flat.extend(step.steps)
            else:
                flat.append(coerce_to_runnable(step))
        if len(flat) < 2:
            raise ValueError(f"RunnableSequence must have at least 2 steps, got {len(flat)}")
        self.steps = flat
        self.name = name

    def __repr__(self) -> str:
        return "\n| ".join(repr(step) for step in self.steps)

    def __or__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(*self.steps, other, name=self.name)

    def __ror__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(other, *self.steps, name=self.name)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Runs the steps in turn; ``kwargs`` go to the first step."""
        config = ensure_config(config)
        run = callback_manager_for(config).on_chain_start(
            None,
            input,
            **self._run_identity(config),
        )
        value = input
        try:
            for step, step_config, step_kwargs in self._steps(run, config, kwargs):
                value = step.invoke(value, step_config, **step_kwargs)
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end(value)
        return value

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The async twin of ``invoke``."""
        config = ensure_config(config)
        run = await callback_manager_for(config).aon_chain_start(
            None,
            input,
            **self._run_identity(config),
        )
        value = input
        try:
            for step, step_config, step_kwargs in self._steps(run, config, kwargs):
                value = await step.ainvoke(value, step_config, **step_kwargs)
        except BaseException as exc:
            await run.aon_chain_error(exc)
            raise
        await run.aon_chain_end(value)
        return value

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Streams the last step's output, chunks passing through streaming steps."""
        return self._stream_one(input, config, **kwargs)

    def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """The async twin of ``stream``."""
        return self._astream_one(input, config, **kwargs)

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Streams a streamed input through the steps."""
        return self._transform_stream_with_config(
            input,
            self._pipeline,
            patch_config(config, run_name=(config or {}).get("run_name") or self.name),
            **kwargs,
        )

    def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """The async twin of ``transform``."""
        return self._atransform_stream_with_config(
            input,
            self._apipeline,
            patch_config(config, run_name=(config or {}).get("run_name") or self.name),
            **kwargs,
        )

    def _pipeline(
        self, input: Iterator[Any], run_manager: Any, config: RunnableConfig, **kwargs: Any
    ) -> Iterator[Any]:
        pipeline = input
        for step, step_config, step_kwargs in self._steps(run_manager, config, kwargs):
            pipeline = step.transform(pipeline, step_config, **step_kwargs)
        return pipeline

    def _apipeline(
        self, input: AsyncIterator[Any], run_manager: Any, config: RunnableConfig, **kwargs: Any
    ) -> AsyncIterator[Any]:
        # Each step's stream wraps the one before; the last is the sequence's output.
        pipeline = input
        for step, step_config, step_kwargs in self._steps(run_manager, config, kwargs):
            pipeline = step.atransform(pipeline, step_config, **step_kwargs)
        return pipeline

    def _steps(
        self, run_manager: Any, config: RunnableConfig, kwargs: dict[str, Any]
    ) -> Iterator[tuple[Runnable, RunnableConfig, dict[str, Any]]]:
        """Each step with its config (a child of ``run_manager``, tagged
        "seq:step:N") and its keyword arguments (``kwargs`` for the first step only)."""
        for i, step in enumerate(self.steps):
            config = patch_config(config, callbacks=run_manager.get_child(f"seq:step:{i + 1}"))
            yield step, config, kwargs if i == 0 else {}
