"""Adding up a stream's chunks at its end without holding on to every chunk: a run's
end callback and a step that needs its whole input see the same sum as
``chunks[0] + chunks[1:]``, but only the fields that change it are kept. (Ten thousand
live message objects, each with its lists, make every full pass of Python's garbage
collector slow; their strings and flat dicts cost it nothing.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seltzer.messages.kinds import AIMessageChunk, join_ai_message_chunks
from seltzer.messages.merge import merge_dicts
from seltzer.messages.outputs import ChatGenerationChunk

__all__ = ["ChunkGatherer", "PlainAppends"]

#: What ``ChunkGatherer.plain_run`` returns: the content append and the metadata append.
PlainAppends = tuple[Callable[[str | list[Any]], None], Callable[[dict[str, Any]], None]]


class ChunkGatherer:
    """``AIMessageChunk``s (with their generation info, from a chat model) added one
    by one. ``total`` is what ``chunks[0] + chunks[1:]`` gives (the chunk itself when
    there is one); ``total_generation`` the same for the ``ChatGenerationChunk``s.

    The first chunk is kept; of the others, their fields, leaving out the ones that
    change nothing (see ``join_ai_message_chunks``). Fields are read when a chunk is
    added, not at the end.
    """

    __slots__ = (
        "_calls",
        "_contents",
        "_first",
        "_first_generation",
        "_first_info",
        "_ids",
        "_infos",
        "_kwargs",
        "_last",
        "_last_id",
        "_metadata",
        "_none_last",
        "_usages",
    )

    def __init__(self) -> None:
        self._first: AIMessageChunk | None = None
        self._first_generation: ChatGenerationChunk | None = None
        self._first_info: dict[str, Any] | None = None
        self._infos: list[dict[str, Any]] = []  # of the others, the ones not empty
        self._contents: list[str | list[Any]] = []  # of the chunks after the first
        self._kwargs: list[dict[str, Any]] = []
        self._metadata: list[dict[str, Any]] = []
        self._calls: list[list[dict[str, Any]]] = []
        # None after None is left out: adding None usage twice adds nothing more.
        self._usages: list[dict[str, Any] | None] = []
        self._none_last = False
        self._ids: list[str | None] = []
        self._last_id: str | None = None
        self._last = False

    def __len__(self) -> int:
        return 0 if self._first is None else len(self._contents) + 1

    def add(
        self,
        chunk: AIMessageChunk,
        info: dict[str, Any] | None = None,
        generation: ChatGenerationChunk | None = None,
    ) -> None:
        """Adds ``chunk`` after the ones added so far.

        Args:
            chunk: The message chunk.
            info: Its generation info (``ChatGenerationChunk(chunk, info)``).
            generation: That generation chunk, when the caller made it already.
        """
        if self._first is None:
            self._first = chunk
            self._first_generation = generation
            self._first_info = info
            self._last_id = chunk.id
            return
        if info:
            self._infos.append(info)
        self._contents.append(chunk.content)
        if chunk.additional_kwargs:
            self._kwargs.append(chunk.additional_kwargs)
        if chunk.response_metadata:
            self._metadata.append(chunk.response_metadata)
        if chunk.tool_call_chunks:
            self._calls.append(chunk.tool_call_chunks)
        usage = chunk.usage_metadata
        if usage is not None:
            self._usages.append(usage)
            self._none_last = False
        elif not self._none_last:
            self._usages.append(None)
            self._none_last = True
        if chunk.id != self._last_id:
            self._last_id = chunk.id
            self._ids.append(chunk.id)
        if chunk.chunk_position == "last":
            self._last = True

    def plain_run(self, chunk: AIMessageChunk) -> PlainAppends | None:
        """``add(chunk)``, for the first chunk of a run of plain text chunks with its id,
        as ``AIMessageChunk.streamed`` makes them (a model's text tokens). Returns the
        appends that take each later chunk of the run, its content and its response
        metadata: in two C calls what ``add`` does for such a chunk, valid until
        anything else is added. None when the next chunk still needs ``plain_run``
        (``chunk`` was the first of all: the None usage and the id it leaves for the
        chunks after it are noted only then)."""
        was_first = self._first is None
        self.add(chunk)
        if was_first:
            return None
        return self._contents.append, self._metadata.append

    def total(self) -> AIMessageChunk:
        """The sum of the chunks added.

        Raises:
            ValueError: No chunk was added.
        """
        first = self._first
        if first is None:
            raise ValueError("No chunks were added")
        if not self._contents:
            return first
        return join_ai_message_chunks(
            first,
            contents=self._contents,
            additional_kwargs=self._kwargs,
            response_metadata=self._metadata,
            tool_call_chunks=self._calls,
            usages=self._usages,
            ids=self._ids,
            last=self._last,
        )

    def total_generation(self) -> ChatGenerationChunk:
        """The sum of the chunks added as ``ChatGenerationChunk``s.

        Raises:
            ValueError: No chunk was added.
        """
        if self._first is None:
            raise ValueError("No generation chunks were returned")
        first = self._first_generation
        if first is None:
            first = ChatGenerationChunk(self._first, self._first_info)
        if not self._contents:
            return first
        info = merge_dicts(first.generation_info or {}, *self._infos)
        return ChatGenerationChunk(self.total(), info or None)
