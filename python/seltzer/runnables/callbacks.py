"""Callbacks: handlers are any objects with LangChain's method names (``on_chain_start``,
``on_llm_new_token``, ``on_llm_end``, ...), called duck-typed; a method may be sync or
async. ``CallbackManager`` starts runs and ``RunManager`` reports on one run, passing
tags, metadata and handlers down to child runs the way LangChain does."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from seltzer.runnables.config import uuid7
from seltzer.runnables.dispatch import call_handlers as _call
from seltzer.runnables.dispatch import finish_async as _finish_async
from seltzer.runnables.dispatch import finish_sync as _finish_sync

__all__ = ["CallbackManager", "RunManager", "StreamTap"]


class StreamTap:
    """Base of the handlers that also see a run's output stream (``astream_events``)."""

    def output_sender(
        self, run_id: uuid.UUID, *, sync: bool = False
    ) -> Callable[[Any], bool] | None:
        """What the loop over run ``run_id``'s output calls with each chunk before
        passing it on (asked once, after the run started); None when nothing is.

        It returns True when the producer should ``await make_way()`` first. ``sync``:
        the loop is a generator, which may be resumed from any thread (it never makes
        way).
        """
        return None

    async def make_way(self) -> None:
        """Lets the consumer of the events take its backlog (see ``output_sender``)."""

    def reads_totals(self, run_id: uuid.UUID) -> bool:
        """Whether this handler reads what run ``run_id``'s end reports (its whole
        input and output): a streaming run sums its chunks only if some handler does."""
        return True


class _Scope:
    """Handlers, tags and metadata, each split into what is inherited by child runs."""

    __slots__ = (
        "handlers",
        "inheritable_handlers",
        "inheritable_metadata",
        "inheritable_tags",
        "metadata",
        "parent_run_id",
        "tags",
    )

    def __init__(
        self,
        handlers: list[Any] | None = None,
        inheritable_handlers: list[Any] | None = None,
        parent_run_id: uuid.UUID | None = None,
        *,
        tags: list[str] | None = None,
        inheritable_tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inheritable_metadata: dict[str, Any] | None = None,
    ) -> None:
        # Lists given are kept, empty ones too: a run shares its manager's (an open
        # stream then holds four lists fewer for the garbage collector to trace).
        self.handlers = handlers if handlers is not None else []
        self.inheritable_handlers = inheritable_handlers if inheritable_handlers is not None else []
        self.parent_run_id = parent_run_id
        self.tags = tags if tags is not None else []
        self.inheritable_tags = inheritable_tags if inheritable_tags is not None else []
        self.metadata = metadata or {}
        self.inheritable_metadata = inheritable_metadata or {}


class CallbackManager(_Scope):
    """Starts runs and tells the handlers; ``configure`` builds one from a config."""

    __slots__ = ()

    @classmethod
    def configure(
        cls,
        inheritable_callbacks: Any = None,
        local_callbacks: Any = None,
        inheritable_tags: list[str] | None = None,
        local_tags: list[str] | None = None,
        inheritable_metadata: dict[str, Any] | None = None,
        local_metadata: dict[str, Any] | None = None,
    ) -> CallbackManager:
        """A manager from a config's callbacks (a handler list or a manager), plus
        local handlers, tags and metadata that child runs do not inherit."""
        manager = cls()
        if inheritable_callbacks or local_callbacks:
            if isinstance(inheritable_callbacks, list) or inheritable_callbacks is None:
                handlers = list(inheritable_callbacks or [])
                manager = cls(handlers, list(handlers))
            else:
                manager = inheritable_callbacks.copy()
            local = (
                local_callbacks
                if isinstance(local_callbacks, list)
                else (local_callbacks.handlers if local_callbacks else [])
            )
            for handler in local:
                manager.add_handler(handler, inherit=False)
        if inheritable_tags or local_tags:
            manager.add_tags(inheritable_tags or [])
            manager.add_tags(local_tags or [], inherit=False)
        if inheritable_metadata or local_metadata:
            manager.add_metadata(inheritable_metadata or {})
            manager.add_metadata(local_metadata or {}, inherit=False)
        return manager

    def copy(self) -> CallbackManager:
        """A shallow copy (lists and dicts copied)."""
        return CallbackManager(
            list(self.handlers),
            list(self.inheritable_handlers),
            self.parent_run_id,
            tags=list(self.tags),
            inheritable_tags=list(self.inheritable_tags),
            metadata=dict(self.metadata),
            inheritable_metadata=dict(self.inheritable_metadata),
        )

    def add_handler(self, handler: Any, inherit: bool = True) -> None:
        """Adds a handler (inherited by child runs unless ``inherit`` is False)."""
        if handler not in self.handlers:
            self.handlers.append(handler)
        if inherit and handler not in self.inheritable_handlers:
            self.inheritable_handlers.append(handler)

    def set_handlers(self, handlers: list[Any], inherit: bool = True) -> None:
        """Replaces the handlers."""
        self.handlers = []
        self.inheritable_handlers = []
        for handler in handlers:
            self.add_handler(handler, inherit)

    def add_tags(self, tags: list[str], inherit: bool = True) -> None:
        """Appends tags; a tag already present moves to the end."""
        for tag in tags:
            if tag in self.tags:
                self.tags.remove(tag)
                if tag in self.inheritable_tags:
                    self.inheritable_tags.remove(tag)
        self.tags.extend(tags)
        if inherit:
            self.inheritable_tags.extend(tags)

    def add_metadata(self, metadata: dict[str, Any], inherit: bool = True) -> None:
        """Merges metadata in (later keys win)."""
        self.metadata = {**self.metadata, **metadata}
        if inherit:
            self.inheritable_metadata = {**self.inheritable_metadata, **metadata}

    def _run(self, run_id: uuid.UUID | None) -> RunManager:
        return RunManager(
            run_id or uuid7(),
            self.handlers,
            self.inheritable_handlers,
            self.parent_run_id,
            tags=self.tags,
            inheritable_tags=self.inheritable_tags,
            metadata=self.metadata,
            inheritable_metadata=self.inheritable_metadata,
        )

    def _start(
        self, method: str, run: RunManager, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> list[Awaitable[Any]]:
        if not self.handlers:
            return []
        return _call(
            self.handlers,
            method,
            args,
            {
                "run_id": run.run_id,
                "parent_run_id": self.parent_run_id,
                "tags": self.tags,
                "metadata": self.metadata,
                **kwargs,
            },
        )

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> RunManager:
        """Starts a chain-like run (``run_type`` names prompt / parser runs)."""
        run = self._run(run_id)
        _finish_sync(self._start("on_chain_start", run, (serialized, inputs), kwargs))
        return run

    async def aon_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> RunManager:
        """The async twin of ``on_chain_start``."""
        run = self._run(run_id)
        await _finish_async(self._start("on_chain_start", run, (serialized, inputs), kwargs))
        return run

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> list[RunManager]:
        """Starts one text-model run per prompt."""
        runs = []
        for i, prompt in enumerate(prompts):
            run = self._run(run_id if i == 0 else None)
            _finish_sync(self._start("on_llm_start", run, (serialized, [prompt]), kwargs))
            runs.append(run)
        return runs

    async def aon_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> list[RunManager]:
        """The async twin of ``on_llm_start``."""
        runs = []
        for i, prompt in enumerate(prompts):
            run = self._run(run_id if i == 0 else None)
            await _finish_async(self._start("on_llm_start", run, (serialized, [prompt]), kwargs))
            runs.append(run)
        return runs

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> list[RunManager]:
        """Starts one chat-model run per message list."""
        runs = []
        for i, batch in enumerate(messages):
            run = self._run(run_id if i == 0 else None)
            _finish_sync(self._start("on_chat_model_start", run, (serialized, [batch]), kwargs))
            runs.append(run)
        return runs

    async def aon_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> list[RunManager]:
        """The async twin of ``on_chat_model_start``."""
        runs = []
        for i, batch in enumerate(messages):
            run = self._run(run_id if i == 0 else None)
            await _finish_async(
                self._start("on_chat_model_start", run, (serialized, [batch]), kwargs)
            )
            runs.append(run)
        return runs


class RunManager(_Scope):
    """Reports on one run to the handlers, and makes the managers of its child runs."""

    __slots__ = ("run_id",)

    def __init__(self, run_id: uuid.UUID, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_id = run_id

    def get_child(self, tag: str | None = None) -> CallbackManager:
        """The manager for a child run: inherited handlers, tags and metadata, plus
        ``tag`` (such as "seq:step:2") for the child alone."""
        manager = CallbackManager(parent_run_id=self.run_id)
        manager.set_handlers(self.inheritable_handlers)
        manager.add_tags(self.inheritable_tags)
        manager.add_metadata(self.inheritable_metadata)
        if tag is not None:
            manager.add_tags([tag], inherit=False)
        return manager

    def reads_totals(self) -> bool:
        """Whether any handler reads the whole input and output this run's end reports
        (an ``astream_events`` handler does not for a run its filter leaves out)."""
        return any(
            not isinstance(handler, StreamTap) or handler.reads_totals(self.run_id)
            for handler in self.handlers
        )

    def stream_tap(self) -> StreamTap | None:
        """The ``astream_events`` handler among this run's handlers, if any."""
        for handler in self.handlers:
            if isinstance(handler, StreamTap):
                return handler
        return None

    def _report(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> list[Awaitable[Any]]:
        if not self.handlers:
            return []
        return _call(
            self.handlers,
            method,
            args,
            {
                "run_id": self.run_id,
                "parent_run_id": self.parent_run_id,
                "tags": self.tags,
                **kwargs,
            },
        )

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        """The run returned ``outputs`` (``inputs=`` the whole input, when streamed)."""
        _finish_sync(self._report("on_chain_end", (outputs,), kwargs))

    async def aon_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        """The async twin of ``on_chain_end``."""
        await _finish_async(self._report("on_chain_end", (outputs,), kwargs))

    def on_chain_error(self, error: BaseException, **kwargs: Any) -> None:
        """The run raised ``error``."""
        _finish_sync(self._report("on_chain_error", (error,), kwargs))

    async def aon_chain_error(self, error: BaseException, **kwargs: Any) -> None:
        """The async twin of ``on_chain_error``."""
        await _finish_async(self._report("on_chain_error", (error,), kwargs))

    def on_llm_new_token(self, token: Any, *, chunk: Any = None, **kwargs: Any) -> None:
        """A model streamed ``token`` (``chunk``: the generation chunk it came in)."""
        _finish_sync(self._report("on_llm_new_token", (token,), {"chunk": chunk, **kwargs}))

    async def aon_llm_new_token(self, token: Any, *, chunk: Any = None, **kwargs: Any) -> None:
        """The async twin of ``on_llm_new_token``."""
        await _finish_async(self._report("on_llm_new_token", (token,), {"chunk": chunk, **kwargs}))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        """A model run finished with ``response`` (an ``LLMResult``)."""
        _finish_sync(self._report("on_llm_end", (response,), kwargs))

    async def aon_llm_end(self, response: Any, **kwargs: Any) -> None:
        """The async twin of ``on_llm_end``."""
        await _finish_async(self._report("on_llm_end", (response,), kwargs))

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        """A model run raised ``error``."""
        _finish_sync(self._report("on_llm_error", (error,), kwargs))

    async def aon_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        """The async twin of ``on_llm_error``."""
        await _finish_async(self._report("on_llm_error", (error,), kwargs))
