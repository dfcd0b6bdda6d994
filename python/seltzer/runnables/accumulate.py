"""Adding up streamed chunks with ``+`` (what a step that needs its whole input sees,
and what ``on_chain_end`` reports), as LangChain's ``_ChunkAccumulator`` does."""

from __future__ import annotations

from typing import Any

from seltzer.messages.gather import ChunkGatherer
from seltzer.messages.kinds import AIMessageChunk

__all__ = ["ChunkAccumulator"]


class ChunkAccumulator:
    """The sum of the chunks so far; a chunk that cannot be added replaces the sum
    (and with ``stop_after_unaddable`` every later chunk does too).

    Leading runs of strings or of ``AIMessageChunk``s are kept (the messages in a
    ``ChunkGatherer``) and joined in one step when the value is read: adding them one
    at a time is quadratic.
    """

    __slots__ = (
        "_addable",
        "_keep",
        "_kind",
        "_messages",
        "_pending",
        "_stop_after_unaddable",
        "_value",
    )

    def __init__(self, *, stop_after_unaddable: bool) -> None:
        self._value: Any = None
        self._pending: list[Any] = []
        self._messages: ChunkGatherer | None = None  # a leading run of AIMessageChunks
        self._addable = True
        self._stop_after_unaddable = stop_after_unaddable
        # The leading run's type and how a chunk of it is kept (once per token).
        self._kind: type | None = None
        self._keep: Any = None

    @property
    def value(self) -> Any:
        """The sum (None before the first chunk)."""
        self._flush()
        return self._value

    def add(self, chunk: Any) -> None:
        """Adds one chunk."""
        if type(chunk) is self._kind:
            self._keep(chunk)  # the leading run goes on
            return
        messages = self._messages
        if (
            self._value is None
            and self._addable
            and messages is None
            and isinstance(chunk, (str, AIMessageChunk))
            and not self._pending
        ):
            self._kind = type(chunk)
            if type(chunk) is AIMessageChunk:
                self._messages = messages = ChunkGatherer()
                self._keep = messages.add
            else:
                self._keep = self._pending.append
            self._keep(chunk)
            return
        self._flush()
        self._add(chunk)

    def _flush(self) -> None:
        self._kind = self._keep = None
        if self._messages is not None:
            self._value = self._messages.total()
            self._messages = None
            return
        if not self._pending:
            return
        chunks, self._pending = self._pending, []
        if isinstance(chunks[0], str):
            self._value = "".join(chunks)
        elif len(chunks) == 1:
            self._value = chunks[0]
        else:
            self._value = chunks[0] + chunks[1:]

    def _add(self, chunk: Any) -> None:
        if self._value is None or not self._addable:
            self._value = chunk
            return
        try:
            self._value = self._value + chunk
        except TypeError:
            self._value = chunk
            self._addable = not self._stop_after_unaddable
