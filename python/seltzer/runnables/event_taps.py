"""The stream side of ``astream_events``' handler: the events of output streams (a
tapped Runnable's chunks, a model's tokens), one per chunk. What is the same for every
chunk of a run (its names, ids, tags, metadata, whether the filter keeps it) is worked
out once per run, so each chunk costs one dict and one append to the channel."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
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

    def _template(self, run_id: uuid.UUID, info: dict[str, Any], event: str) -> dict[str, Any]:
        """What every stream event of the run holds; each event is a copy of it with
        its own "data" (a copy costs two thirds of building the dict anew)."""
        return {
            "event": event,
            "data": None,
            "run_id": str(run_id),
            "name": info["name"],
            "tags": info["tags"],
            "metadata": info["metadata"],
            "parent_ids": self._parent_ids(run_id),
        }

    def _stream_sender(
        self,
        run_id: uuid.UUID,
        info: dict[str, Any],
        event: str,
        *,
        direct: bool,
        own_parent_ids: bool,
    ) -> Callable[[Any], bool] | None:
        """What sends the ``event`` of each streamed chunk of a run, and returns
        whether the consumer has a backlog (``make_way``); None when the run's events
        are filtered out. ``direct``: it is called on the loop's thread only, and
        appends to the channel itself (else it calls ``Channel.send``, from any
        thread). ``own_parent_ids``: each event gets its own ``parent_ids`` list (as
        from ``on_llm_new_token``), else they share one (as from an output stream)."""
        if not info["kept"]:
            return None
        template = self._template(run_id, info, event)
        parent_ids = template["parent_ids"]
        copy = template.copy
        channel = self.channel
        backlog = channel.items
        if not direct:
            send = channel.send

            def send_any(chunk: Any) -> bool:
                message = copy()
                message["data"] = {"chunk": chunk}
                if own_parent_ids:
                    message["parent_ids"] = parent_ids.copy()
                send(message)
                return False

            return send_any
        # Once per token: the append and the wake-up check are written out here, not
        # made in one more call.
        append = backlog.append

        def send_direct(chunk: Any) -> bool:
            message = copy()
            message["data"] = {"chunk": chunk}
            if own_parent_ids:
                message["parent_ids"] = parent_ids.copy()
            append(message)
            if channel.waiter is not None:
                channel.wake()
            return len(backlog) >= BACKLOG

        return send_direct

    def chunk_reporter(self, run_id: uuid.UUID) -> Callable[[Any], bool] | None:
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
        direct = self.channel.on_loop_thread()
        return self._stream_sender(run_id, info, event, direct=direct, own_parent_ids=True)

    def reads_totals(self, run_id: uuid.UUID) -> bool:
        """Only a kept run's end event reports its whole input and output."""
        info = self.run_map.get(run_id)
        return info is None or bool(info["kept"])

    def _claim(self, run_id: uuid.UUID) -> bool:
        """Whether this is the run's first tap (the one that sends its events)."""
        mine = object()
        return self.is_tapped.setdefault(run_id, mine) is mine

    def _output_sender(self, run_id: uuid.UUID, *, sync: bool) -> Callable[[Any], bool] | None:
        # Known once started: a transform loop asks after its run's start, `drain` after
        # the root's first chunk (which starts the root).
        info = self.run_map.get(run_id)
        if info is None:
            return None
        # A generator may be resumed from any thread: its sends check each time.
        direct = not sync and self.channel.on_loop_thread()
        event = f"on_{info['run_type']}_stream"
        return self._stream_sender(run_id, info, event, direct=direct, own_parent_ids=False)

    def output_sender(
        self, run_id: uuid.UUID, *, sync: bool = False
    ) -> Callable[[Any], bool] | None:
        """Sends the stream events of run ``run_id``'s output, if this is the run's
        first tap (a later one sends nothing) and the filter keeps the run."""
        return self._output_sender(run_id, sync=sync) if self._claim(run_id) else None

    async def make_way(self) -> None:
        """Lets the consumer take its backlog first (see ``Channel.make_way``)."""
        await self.channel.make_way()

    async def drain(self, run_id: uuid.UUID, output: AsyncIterator[Any]) -> None:
        """Runs ``output`` (on the channel's loop) to its end, sending the stream events
        of run ``run_id`` as ``output_sender`` would, without passing its chunks on:
        the root's stream."""
        if not self._claim(run_id):
            async for _ in output:
                pass
            return
        first = await anext(output, _END)
        if first is _END:
            return
        # Known once the first chunk started the root.
        info = self.run_map.get(run_id)
        if info is None or not info["kept"]:
            async for _ in output:
                pass
            return
        # `_stream_sender`'s direct send, written out in the loop: the root's chunks are
        # every token of a lone model, and the call costs 2-3% of its events per token
        # (cachegrind). (This runs on the channel's loop: its appends need no hand-over.)
        copy = self._template(run_id, info, f"on_{info['run_type']}_stream").copy
        channel = self.channel
        backlog = channel.items
        append = backlog.append
        message = copy()
        message["data"] = {"chunk": first}
        append(message)
        if channel.waiter is not None:
            channel.wake()
        async for chunk in output:
            message = copy()
            message["data"] = {"chunk": chunk}
            append(message)
            if channel.waiter is not None:
                channel.wake()
            if len(backlog) >= BACKLOG:
                await channel.make_way()
