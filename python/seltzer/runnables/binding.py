"""``RunnableBinding``: a Runnable with config and keyword arguments fixed
(``with_config``, ``bind``, ``bind_tools``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from seltzer.runnables.base import Runnable
from seltzer.runnables.config import RunnableConfig, ensure_config, merge_configs

__all__ = ["RunnableBinding"]


class RunnableBinding(Runnable):
    """Calls ``bound`` with ``config`` merged under each call's config and ``kwargs``
    added to each call's keyword arguments."""

    def __init__(
        self,
        bound: Runnable,
        *,
        config: RunnableConfig | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.bound = bound
        self.config: RunnableConfig = config or {}
        self.kwargs = kwargs or {}

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The bound Runnable's name."""
        return self.bound.get_name(suffix, name=name)

    def __getattr__(self, attribute: str) -> Any:
        # Attributes of the bound Runnable (model_name, ...) read through.
        if attribute == "bound":
            raise AttributeError(attribute)
        return getattr(self.bound, attribute)

    def __repr__(self) -> str:
        return (
            f"RunnableBinding(bound={self.bound!r}, kwargs={self.kwargs!r}, config={self.config!r})"
        )

    def _merge(self, config: RunnableConfig | None) -> RunnableConfig:
        return merge_configs(self.config, config)

    def bind(self, **kwargs: Any) -> RunnableBinding:
        """A binding with more keyword arguments."""
        return RunnableBinding(self.bound, config=self.config, kwargs={**self.kwargs, **kwargs})

    def with_config(self, config: RunnableConfig | None = None, **kwargs: Any) -> RunnableBinding:
        """A binding with more config."""
        extra: RunnableConfig = {**(config or {}), **kwargs}  # type: ignore[typeddict-item]
        return RunnableBinding(
            self.bound, config=merge_configs(self.config, extra), kwargs=self.kwargs
        )

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """``bound.invoke`` with the bound config and arguments."""
        return self.bound.invoke(input, self._merge(config), **{**self.kwargs, **kwargs})

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """``bound.ainvoke`` with the bound config and arguments."""
        return await self.bound.ainvoke(input, self._merge(config), **{**self.kwargs, **kwargs})

    def batch(
        self,
        inputs: list[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``bound.batch`` with the bound config and arguments."""
        configs = self._configs(config, len(inputs))
        return self.bound.batch(
            inputs, configs, return_exceptions=return_exceptions, **{**self.kwargs, **kwargs}
        )

    async def abatch(
        self,
        inputs: list[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``bound.abatch`` with the bound config and arguments."""
        configs = self._configs(config, len(inputs))
        return await self.bound.abatch(
            inputs, configs, return_exceptions=return_exceptions, **{**self.kwargs, **kwargs}
        )

    def _configs(
        self, config: RunnableConfig | Sequence[RunnableConfig] | None, n: int
    ) -> list[RunnableConfig]:
        if isinstance(config, Sequence):
            return [self._merge(c) for c in config]
        merged = self._merge(config)
        return [ensure_config(merged) for _ in range(n)]

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """``bound.stream`` with the bound config and arguments."""
        return self.bound.stream(input, self._merge(config), **{**self.kwargs, **kwargs})

    def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """``bound.astream`` with the bound config and arguments."""
        return self.bound.astream(input, self._merge(config), **{**self.kwargs, **kwargs})

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """``bound.transform`` with the bound config and arguments."""
        return self.bound.transform(input, self._merge(config), **{**self.kwargs, **kwargs})

    def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """``bound.atransform`` with the bound config and arguments."""
        return self.bound.atransform(input, self._merge(config), **{**self.kwargs, **kwargs})
