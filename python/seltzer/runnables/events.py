"""``astream_events(version="v2")``: a callback handler turns the run tree's callbacks
and output streams into LangChain's event dicts, in the order LangChain emits them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

from seltzer._core import event_iterator
from seltzer.messages.outputs import LLMResult
from seltzer.runnables.channel import Channel
from seltzer.runnables.config import RunnableConfig, ensure_config, uuid7
from seltzer.runnables.event_filter import EventFilter
from seltzer.runnables.event_taps import StreamEventTap

__all__ = ["EventRun", "EventStreamHandler", "astream_events_v2", "with_handler"]

_SENTINEL: Any = object()  # no inputs given


def assign_name(name: str | None, serialized: dict[str, Any] | None) -> str:
    """A run's name: the one given, else the serialized object's, else "Unnamed"."""
    if name is not None:
        return name
    if serialized:
        if "name" in serialized:
            return str(serialized["name"])
        if "id" in serialized:
            return str(serialized["id"][-1])
    return "Unnamed"


def with_handler(config: RunnableConfig, handler: Any) -> None:
    """Adds ``handler`` to ``config``'s callbacks (a list or a manager), inherited."""
    callbacks = config.get("callbacks")
    if callbacks is None:
        config["callbacks"] = [handler]
    elif isinstance(callbacks, list):
        config["callbacks"] = [*callbacks, handler]
    else:
        callbacks = callbacks.copy()
        callbacks.add_handler(handler, inherit=True)
        config["callbacks"] = callbacks


_Handler = TypeVar("_Handler")


def open_stream(
    make_handler: Callable[[EventFilter, Channel], _Handler],
    event_filter: EventFilter,
    config: RunnableConfig | None,
) -> tuple[Channel, _Handler, RunnableConfig]:
    """A channel on the running loop, the handler that sends to it, and a copy of
    ``config`` with that handler added (the start of ``astream_events``)."""
    channel = Channel(asyncio.get_running_loop())
    handler = make_handler(event_filter, channel)
    config = ensure_config(config)
    with_handler(config, handler)
    return channel, handler, config


async def cancel(task: asyncio.Task[None]) -> None:
    """Cancels ``task`` and waits for it to finish (the end of ``astream_events``)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class EventStreamHandler(StreamEventTap):
    """Builds the v2 event dicts from callbacks and output streams (see
    ``StreamEventTap``) and sends the kept ones to a channel."""

    def __init__(self, event_filter: EventFilter, channel: Channel) -> None:
        self.filter = event_filter
        self.channel = channel
        self.run_map: dict[uuid.UUID, dict[str, Any]] = {}
        self.parent_map: dict[uuid.UUID, uuid.UUID | None] = {}
        self.is_tapped: dict[uuid.UUID, Any] = {}
        self._keep_all = event_filter.everything
        #: The input given to ``astream_events``, which the first event carries.
        self.root_input: Any = None
        self._first_run_id: str | None = None

    def _send(self, event: dict[str, Any], info: dict[str, Any]) -> None:
        """Sends a kept event: a run's start or end (or a token, when reported as a
        callback). As LangChain does, the first event sent carries the root's input
        (only known whole here: streaming steps start before it is), and the end of
        that event's run carries none."""
        if not info["kept"]:
            return
        if self._first_run_id is None:
            event["data"]["input"] = self.root_input
            self._first_run_id = event["run_id"]
        elif (
            "input" in event["data"]  # first: a token's event has none
            and event["run_id"] == self._first_run_id
            and event["event"].endswith("_end")
        ):
            del event["data"]["input"]
        self.channel.send(event)

    def _start(
        self,
        run_id: uuid.UUID,
        *,
        name: str,
        run_type: str,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        parent_run_id: uuid.UUID | None,
        data: dict[str, Any],
        inputs: Any = _SENTINEL,
    ) -> None:
        info: dict[str, Any] = {
            "tags": tags or [],
            "metadata": metadata or {},
            "name": name,
            "run_type": run_type,
            "parent_run_id": parent_run_id,
            # The filter looks at the run's name, type and tags only: asked once.
            "kept": self._keep_all or self.filter.keeps(name, run_type, tags or []),
        }
        if inputs is not _SENTINEL:
            info["inputs"] = inputs
        self.run_map[run_id] = info
        self.parent_map[run_id] = parent_run_id
        self._send(
            {
                "event": f"on_{run_type}_start",
                "data": data,
                "name": name,
                "tags": tags or [],
                "run_id": str(run_id),
                "metadata": metadata or {},
                "parent_ids": self._parent_ids(run_id),
            },
            info,
        )

    def _model_start(
        self,
        run_id: uuid.UUID,
        serialized: dict[str, Any],
        name: str | None,
        run_type: str,
        key: str,
        value: Any,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        parent_run_id: uuid.UUID | None,
    ) -> None:
        # The event's input and the run's stored inputs are equal dicts, not one.
        self._start(
            run_id,
            name=assign_name(name, serialized),
            run_type=run_type,
            tags=tags,
            metadata=metadata,
            parent_run_id=parent_run_id,
            data={"input": {key: value}},
            inputs={key: value},
        )

    def _event(
        self, run_id: uuid.UUID, info: dict[str, Any], event: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "event": event,
            "data": data,
            "run_id": str(run_id),
            "name": info["name"],
            "tags": info["tags"],
            "metadata": info["metadata"],
            "parent_ids": self._parent_ids(run_id),
        }

    # -- callbacks -------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        parent_run_id: uuid.UUID | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A chat model run starts."""
        self._model_start(
            run_id,
            serialized,
            name,
            "chat_model",
            "messages",
            messages,
            tags,
            metadata,
            parent_run_id,
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        parent_run_id: uuid.UUID | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A text model run starts."""
        self._model_start(
            run_id, serialized, name, "llm", "prompts", prompts, tags, metadata, parent_run_id
        )

    def on_llm_new_token(
        self, token: Any, *, chunk: Any = None, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        """A model streamed a token (unless its output stream is tapped already)."""
        info = self.run_map.get(run_id)
        if info is None:
            raise AssertionError(f"Run ID {run_id} not found in run map.")
        if self.is_tapped.get(run_id):
            return
        if info["run_type"] == "chat_model":
            event = "on_chat_model_stream"
            if chunk is None:
                from seltzer.messages.kinds import AIMessageChunk

                value: Any = AIMessageChunk(token)
            else:
                value = chunk.message
        else:
            event = "on_llm_stream"
            if chunk is None:
                from seltzer.messages.outputs import GenerationChunk

                value = GenerationChunk(token if isinstance(token, str) else "")
            else:
                value = chunk
        self._send(self._event(run_id, info, event, {"chunk": value}), info)

    def on_llm_end(self, response: LLMResult, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """A model run ends: the message (chat) or the generations (text)."""
        info = self.run_map.pop(run_id)
        output: Any = {}
        if info["run_type"] == "chat_model":
            for generations in response.generations:
                if generations:
                    output = generations[0].message  # type: ignore[attr-defined]
                    break
            event = "on_chat_model_end"
        else:
            output = {
                "generations": [
                    [
                        {"text": g.text, "generation_info": g.generation_info, "type": g.type}
                        for g in generations
                    ]
                    for generations in response.generations
                ],
                "llm_output": response.llm_output,
            }
            event = "on_llm_end"
        data = {"output": output, "input": info.get("inputs")}
        self._send(self._event(run_id, info, event, data), info)

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        parent_run_id: uuid.UUID | None = None,
        metadata: dict[str, Any] | None = None,
        run_type: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A chain, prompt or parser run starts (its input, unless still streaming)."""
        known = inputs != {"input": ""}
        self._start(
            run_id,
            name=assign_name(name, serialized),
            run_type=run_type or "chain",
            tags=tags,
            metadata=metadata,
            parent_run_id=parent_run_id,
            data={"input": inputs} if known else {},
            inputs=inputs if known else _SENTINEL,
        )

    def on_chain_end(
        self, outputs: Any, *, run_id: uuid.UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        """A chain, prompt or parser run ends."""
        info = self.run_map.pop(run_id)
        data = {"output": outputs, "input": inputs or info.get("inputs") or {}}
        self._send(self._event(run_id, info, f"on_{info['run_type']}_end", data), info)


def astream_events_v2(
    runnable: Any,
    value: Any,
    config: RunnableConfig | None,
    event_filter: EventFilter,
    **kwargs: Any,
) -> AsyncIterator[dict[str, Any]]:
    """Runs ``runnable.astream`` in a task, from the first event asked for, and hands
    out its events as they come (through seltzer's ``EventIterator``)."""
    channel, handler, config = open_stream(EventStreamHandler, event_filter, config)
    run_id = config.get("run_id")
    if run_id is None:
        run_id = config["run_id"] = uuid7()

    async def consume() -> None:
        try:
            stream = runnable.astream(value, config, **kwargs)
            try:
                await handler.drain(run_id, stream)
            finally:
                await stream.aclose()
        finally:
            channel.close()

    handler.root_input = value
    return event_iterator(channel.items, EventRun(channel, consume))


class EventRun:
    """What the events' iterator asks of the run behind them: ``more`` (the run's
    task starts at the first call), ``finish`` (the end, the run's error raised) and
    ``abandon`` (the iterator was dropped unfinished)."""

    __slots__ = ("_channel", "_consume", "_task")

    def __init__(self, channel: Channel, consume: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._channel = channel
        self._consume: Callable[[], Coroutine[Any, Any, None]] | None = consume
        self._task: asyncio.Task[None] | None = None

    async def more(self) -> bool:
        """Waits until an event is queued (True) or the run is over (False)."""
        if self._consume is not None:
            self._task = asyncio.create_task(self._consume())
            self._consume = None
        return await self._channel.more()

    async def finish(self) -> None:
        """Ends the run (its task cancelled, unless over) and raises its error, once;
        a run never started never starts."""
        self._consume = None
        task, self._task = self._task, None
        if task is not None:
            await cancel(task)

    def abandon(self) -> None:
        """Cancels the run without waiting for it."""
        self._consume = None
        if self._task is not None:
            self._task.cancel()
