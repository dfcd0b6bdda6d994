"""``astream_events(version="v1")``: the older schema, which LangChain derives from its
run log (``astream_log``). Events of the root run carry the config's tags and metadata
and the stream's sum as output; no event has ``parent_ids``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from seltzer.messages.base import dump
from seltzer.messages.outputs import ChatGenerationChunk, LLMResult
from seltzer.runnables.callbacks import StreamTap
from seltzer.runnables.channel import Channel
from seltzer.runnables.config import RunnableConfig
from seltzer.runnables.event_filter import EventFilter
from seltzer.runnables.events import assign_name, cancel, open_stream

__all__ = ["astream_events_v1"]

_ROOT_START = "root-start"
_ROOT_CHUNK = "root-chunk"
_EVENT = "event"


class _RunLogHandler(StreamTap):
    """Sends an event per run start, token, tapped chunk and end of every kept run
    below the root; the root's own start is only signalled (its type)."""

    def __init__(self, event_filter: EventFilter, channel: Channel) -> None:
        self.filter = event_filter
        self.channel = channel
        self.root_id: uuid.UUID | None = None
        self.entries: dict[uuid.UUID, dict[str, Any]] = {}

    def _start(
        self,
        run_id: uuid.UUID,
        name: str,
        run_type: str,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        inputs: Any,
    ) -> None:
        if self.root_id is None:
            self.root_id = run_id
            self.channel.send((_ROOT_START, run_type, str(run_id)))
            return
        if not self.filter.keeps(name, run_type, tags):
            return
        entry = {
            "id": str(run_id),
            "name": name,
            "type": run_type,
            "tags": tags or [],
            "metadata": metadata or {},
            "inputs": inputs,
        }
        self.entries[run_id] = entry
        self._send(entry, "start", {} if inputs is None else {"input": inputs})

    def _send(self, entry: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
        self.channel.send(
            (
                _EVENT,
                {
                    "event": f"on_{entry['type']}_{kind}",
                    "name": entry["name"],
                    "run_id": entry["id"],
                    "tags": entry["tags"],
                    "metadata": entry["metadata"],
                    "data": data,
                    "parent_ids": [],
                },
            )
        )

    def _end(self, run_id: uuid.UUID, inputs: Any, output: Any) -> None:
        entry = self.entries.pop(run_id, None)
        if entry is None:
            return
        data = {} if inputs is None else {"input": inputs}
        data["output"] = output
        self._send(entry, "end", data)

    def output_sender(
        self, run_id: uuid.UUID, *, sync: bool = False
    ) -> Callable[[Any], bool] | None:
        """Sends a stream event per chunk of a kept run below the root."""
        if run_id == self.root_id:
            return None

        def send(chunk: Any) -> bool:
            entry = self.entries.get(run_id)
            if entry is not None:
                self._send(entry, "stream", {"chunk": chunk})
            return False

        return send

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A chat model run starts."""
        self._start(
            run_id,
            assign_name(name, serialized),
            "chat_model",
            tags,
            metadata,
            {"messages": messages},
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A text model run starts."""
        self._start(
            run_id, assign_name(name, serialized), "llm", tags, metadata, {"prompts": prompts}
        )

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        run_type: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """A chain, prompt or parser run starts."""
        known = None if inputs == {"input": ""} else inputs
        self._start(
            run_id, assign_name(name, serialized), run_type or "chain", tags, metadata, known
        )

    def on_llm_new_token(
        self, token: Any, *, chunk: Any = None, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        """A model streamed a token: the message chunk (chat) or the text."""
        entry = self.entries.get(run_id)
        if entry is not None:
            value = chunk.message if isinstance(chunk, ChatGenerationChunk) else token
            self._send(entry, "stream", {"chunk": value})

    def on_llm_end(self, response: LLMResult, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """A model run ends; the output is the whole result, as LangChain logs it."""
        entry = self.entries.get(run_id)
        if entry is not None:
            self._end(run_id, entry["inputs"], _result(response))

    def on_llm_error(
        self, error: BaseException, *, run_id: uuid.UUID, response: Any = None, **kwargs: Any
    ) -> None:
        """A model run failed."""
        entry = self.entries.get(run_id)
        if entry is not None:
            self._end(run_id, entry["inputs"], None if response is None else _result(response))

    def on_chain_end(
        self, outputs: Any, *, run_id: uuid.UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        """A chain, prompt or parser run ends."""
        entry = self.entries.get(run_id)
        if entry is not None:
            self._end(run_id, entry["inputs"] if inputs is None else inputs, outputs)

    def on_chain_error(
        self, error: BaseException, *, run_id: uuid.UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        """A chain, prompt or parser run failed (output None)."""
        entry = self.entries.get(run_id)
        if entry is not None:
            self._end(run_id, entry["inputs"] if inputs is None else inputs, None)


def _result(response: LLMResult) -> dict[str, Any]:
    """``response`` dumped as LangChain's run log holds it: messages stay objects."""
    out = response.model_dump()
    for generations, dumped in zip(response.generations, out["generations"], strict=True):
        for generation, entry in zip(generations, dumped, strict=True):
            if "message" in entry:
                entry["message"] = generation.message  # type: ignore[attr-defined]
                entry["generation_info"] = dump(generation.generation_info)
    return out


async def astream_events_v1(
    runnable: Any,
    value: Any,
    config: RunnableConfig | None,
    event_filter: EventFilter,
    **kwargs: Any,
) -> AsyncIterator[dict[str, Any]]:
    """Runs ``runnable.astream`` in a task and yields v1 events as they come."""
    channel, _, config = open_stream(_RunLogHandler, event_filter, config)
    root_tags = config.get("tags", [])
    root_metadata = config.get("metadata", {})
    root_name = config.get("run_name", runnable.get_name())
    total: list[Any] = [None]

    async def consume() -> None:
        try:
            async for chunk in runnable.astream(value, config, **kwargs):
                channel.send((_ROOT_CHUNK, chunk))
                if total[0] is None:
                    total[0] = chunk
                else:
                    try:
                        total[0] = total[0] + chunk
                    except TypeError:
                        total[0] = chunk
        finally:
            channel.close()

    task = asyncio.create_task(consume())
    root_type, root_id = "chain", None

    def root(kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if not event_filter.keeps(root_name, root_type, root_tags):
            return None
        return {
            "event": f"on_{root_type}_{kind}",
            "name": root_name,
            "run_id": root_id,
            "tags": root_tags,
            "metadata": root_metadata,
            "data": data,
            "parent_ids": [],
        }

    try:
        async for item in channel:
            kind = item[0]
            if kind == _EVENT:
                yield item[1]
            elif kind == _ROOT_START:
                root_type, root_id = item[1], item[2]
                event = root("start", {"input": value})
                if event is not None:
                    yield event
            else:
                event = root("stream", {"chunk": item[1]})
                if event is not None:
                    yield event
        await task
        event = root("end", {"output": total[0]})
        if event is not None:
            yield event
    finally:
        await cancel(task)
