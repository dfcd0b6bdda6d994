"""The stream side of ``astream_events``' handler: the events of output streams (a
tapped Runnable's chunks, a model's tokens), one per chunk. What is the same for every
chunk of a run (its names, ids, tags, metadata, whether the filter keeps it) is worked
out once per run, so each chunk costs one dict and one append to the channel."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from seltzer.runnables.callbacks import StreamTap
from seltzer.runnables.channel import BACKLOG, Channel

__all__ = ["StreamEventTap"]

_END: Any = object()


class StreamEventTap(StreamTap):
    """Sends the stream events of the runs the handler knows (``run_map``), through
    ``channel``; ``is_tapped`` holds the first tap of each run."""

    channel: Channel
    run_map: dict[uuid.UUID, dict[str, Any]]
    parent_map: dict[uuid.UUID, uuid.UUID | None]
    is_tapped: dict[uuid.UUID, Any]

    def _parent_ids(self, run_id: uuid.UUID) -> list[str]:
        parents = []
        while (parent := self.parent_map.get(run_id)) is not None:
            parents.append(str(parent))
            run_id = parent
        return parents[::-1]

    def _stream_sender(
        self,
        run_id: uuid.UUID,
        info: dict[str, Any],
        event: str,
        send: Callable[[dict[str, Any]], None],
        *,
        own_parent_ids: bool,
    ) -> Callable[[Any], None] | None:
        """What sends the ``event`` of each streamed chunk of a run; None when the
        run's events are filtered out. ``own_parent_ids``: each event gets its own
        ``parent_ids`` list (as from ``on_llm_new_token``), else they share one (as
        from a tapped stream)."""
        if not info["kept"]:
            return None
        run_id_str = str(run_id)
        name = info["name"]
        tags = info["tags"]
        metadata = info["metadata"]
        parent_ids = self._parent_ids(run_id)
        if own_parent_ids:

            def send_own(chunk: Any) -> None:
                send(
                    {
                        "event": event,
                        "data": {"chunk": chunk},
                        "run_id": run_id_str,
                        "name": name,
                        "tags": tags,
                        "metadata": metadata,
                        "parent_ids": parent_ids.copy(),
                    }
                )

            return send_own

        def send_shared(chunk: Any) -> None:
            send(
                {
                    "event": event,
                    "data": {"chunk": chunk},
                    "run_id": run_id_str,
                    "name": name,
                    "tags": tags,
                    "metadata": metadata,
                    "parent_ids": parent_ids,
                }
            )

        return send_shared

    def _tap_sender(
        self, run_id: uuid.UUID, send: Callable[[dict[str, Any]], None]
    ) -> Callable[[Any], None] | None:
        # The run starts (and so is known) only once its first chunk was asked for.
        info = self.run_map.get(run_id)
        if info is None:
            return None
        event = f"on_{info['run_type']}_stream"
        return self._stream_sender(run_id, info, event, send, own_parent_ids=False)

    def chunk_reporter(self, run_id: uuid.UUID) -> Callable[[Any], None] | None:
        """What ``on_llm_new_token`` does with each chunk of model run ``run_id``,
        worked out once, for a caller that stays on the calling thread.

        Returns:
            None when it does nothing (the run's output stream is tapped, or its events
            are filtered out); else a function that takes the chunk (the message, for
            a chat model; the ``GenerationChunk``, for a text model) and sends its
            event.

        Raises:
            LookupError: The run never started here (``on_llm_new_token`` fails too).
        """
        info = self.run_map.get(run_id)
        if info is None:
            raise LookupError(f"Run ID {run_id} not found in run map.")
        if self.is_tapped.get(run_id):
            return None
        event = "on_chat_model_stream" if info["run_type"] == "chat_model" else "on_llm_stream"
        return self._stream_sender(run_id, info, event, self.channel.sender(), own_parent_ids=True)

    def _claim(self, run_id: uuid.UUID) -> bool:
        """Whether this is the run's first tap (the one that sends its events)."""
        mine = object()
        return self.is_tapped.setdefault(run_id, mine) is mine

    def tap_output_aiter(self, run_id: uuid.UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """``output``, observed: the first tap of a run sends its stream events as the
        chunks pass; a later tap of the same run is ``output`` itself."""
        return self._atap(run_id, output) if self._claim(run_id) else output

    async def _atap(self, run_id: uuid.UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        first = await anext(output, _END)
        if first is _END:
            return
        channel = self.channel
        # An async generator stays on its loop's thread.
        send = self._tap_sender(run_id, channel.sender())
        if send is None:
            yield first
            async for chunk in output:
                yield chunk
            return
        send(first)
        yield first
        if not channel.on_loop_thread():
            async for chunk in output:
                send(chunk)
                yield chunk
            return
        backlog = channel.items
        async for chunk in output:
            send(chunk)
            if len(backlog) >= BACKLOG:
                await channel.make_way()
            yield chunk

    async def drain(self, run_id: uuid.UUID, output: AsyncIterator[Any]) -> None:
        """Runs ``output`` (on the channel's loop) to its end, as ``tap_output_aiter``
        would observe it, without passing its chunks on: the root's stream."""
        if not self._claim(run_id):
            async for _ in output:
                pass
            return
        first = await anext(output, _END)
        if first is _END:
            return
        channel = self.channel
        send = self._tap_sender(run_id, channel.sender())
        if send is None:
            async for _ in output:
                pass
            return
        send(first)
        backlog = channel.items
        async for chunk in output:
            send(chunk)
            if len(backlog) >= BACKLOG:
                await channel.make_way()

    def tap_output_iter(self, run_id: uuid.UUID, output: Iterator[Any]) -> Iterator[Any]:
        """The sync twin of ``tap_output_aiter``."""
        return self._tap(run_id, output) if self._claim(run_id) else output

    def _tap(self, run_id: uuid.UUID, output: Iterator[Any]) -> Iterator[Any]:
        first = next(output, _END)
        if first is _END:
            return
        # A generator may be resumed from any thread: send checks each time.
        send = self._tap_sender(run_id, self.channel.send)
        if send is None:
            yield first
            yield from output
            return
        send(first)
        yield first
        for chunk in output:
            send(chunk)
            yield chunk
