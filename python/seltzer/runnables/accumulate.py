"""Adding up streamed chunks with ``+`` (what a step that needs its whole input sees,
and what ``on_chain_end`` reports), as LangChain's ``_ChunkAccumulator`` does."""

from __future__ import annotations

from typing import Any

from seltzer.messages.kinds import AIMessageChunk

__all__ = ["ChunkAccumulator"]


class ChunkAccumulator:
    """The sum of the chunks so far; a chunk that cannot be added replaces the sum
    (and with ``stop_after_unaddable`` every later chunk does too).

    Leading runs of strings or of ``AIMessageChunk``s are kept in a list and joined in
    one step when the value is read: adding them one at a time is quadratic.
    """

    __slots__ = ("_addable", "_pending", "_stop_after_unaddable", "_value")

    def __init__(self, *, stop_after_unaddable: bool) -> None:
        self._value: Any = None
        self._pending: list[Any] = []
        self._addable = True
        self._stop_after_unaddable = stop_after_unaddable

    @property
    def value(self) -> Any:
        """The sum (None before the first chunk)."""
        self._flush()
        return self._value

    def add(self, chunk: Any) -> None:
        """Adds one chunk."""
        if (
            self._value is None
            and self._addable
            and isinstance(chunk, (str, AIMessageChunk))
            and (not self._pending or type(self._pending[0]) is type(chunk))
        ):
            self._pending.append(chunk)
            return
        self._flush()
        self._add(chunk)

    def _flush(self) -> None:
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
