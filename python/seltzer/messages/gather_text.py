"""Adding up a text model's streamed ``GenerationChunk``s at the end of the stream:
the same sum as ``chunks[0] + chunks[1:]`` added one by one, without copying the text
so far at every token (which made a long stream's sum quadratic)."""

from __future__ import annotations

from typing import Any

from seltzer.messages.merge import merge_dicts
from seltzer.messages.outputs import GenerationChunk

__all__ = ["GenerationGatherer"]


class GenerationGatherer:
    """``GenerationChunk``s added one by one; ``total`` is their sum."""

    __slots__ = ("_first", "_infos", "_texts")

    def __init__(self) -> None:
        self._first: GenerationChunk | None = None
        self._texts: list[str] = []
        self._infos: list[dict[str, Any]] = []

    def add(self, chunk: GenerationChunk) -> None:
        """Adds ``chunk`` after the ones added so far."""
        if self._first is None:
            self._first = chunk
        self._texts.append(chunk.text)
        self._infos.append(chunk.generation_info or {})

    def total(self) -> GenerationChunk | None:
        """The sum of the chunks added (the chunk itself when there is one; None when
        there is none)."""
        if len(self._texts) < 2:
            return self._first
        # Folding merge_dicts pair by pair gives what one call over them all gives.
        info = merge_dicts(*self._infos)
        return GenerationChunk("".join(self._texts), info or None)
