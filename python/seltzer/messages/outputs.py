"""What a model run produced, in LangChain's shapes: generations (text or message),
their streamed chunks, and ``LLMResult`` (what ``on_llm_end`` handlers receive)."""

from __future__ import annotations

from typing import Any

from seltzer.messages.base import BaseMessage, BaseMessageChunk, dump
from seltzer.messages.merge import merge_dicts

__all__ = ["ChatGeneration", "ChatGenerationChunk", "Generation", "GenerationChunk", "LLMResult"]


class Generation:
    """One completion of a text model: ``text`` and provider ``generation_info``."""

    type = "Generation"
    __slots__ = ("generation_info", "text")

    def __init__(self, text: str = "", generation_info: dict[str, Any] | None = None) -> None:
        self.text = text
        self.generation_info = generation_info

    def model_dump(self) -> dict[str, Any]:
        """The generation as a plain dict with LangChain's keys."""
        return {"text": self.text, "generation_info": self.generation_info, "type": self.type}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Generation)
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(text={self.text!r}, generation_info={self.generation_info!r})"
        )


class GenerationChunk(Generation):
    """A streamed piece of a ``Generation``; ``+`` joins pieces."""

    __slots__ = ()

    def __add__(self, other: GenerationChunk) -> GenerationChunk:
        if not isinstance(other, GenerationChunk):
            return NotImplemented
        info = merge_dicts(self.generation_info or {}, other.generation_info or {})
        return GenerationChunk(self.text + other.text, info or None)


class ChatGeneration(Generation):
    """One reply of a chat model: the ``message`` (``text`` is its text)."""

    type = "ChatGeneration"
    __slots__ = ("message",)

    def __init__(self, message: BaseMessage, generation_info: dict[str, Any] | None = None) -> None:
        super().__init__(message.text, generation_info)
        self.message = message

    def model_dump(self) -> dict[str, Any]:
        """The generation as a plain dict with LangChain's keys."""
        return {**super().model_dump(), "message": self.message.model_dump()}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, "
            f"generation_info={self.generation_info!r})"
        )


class ChatGenerationChunk(ChatGeneration):
    """A streamed piece of a ``ChatGeneration``; ``+`` joins pieces."""

    type = "ChatGenerationChunk"
    __slots__ = ()

    def __add__(
        self, other: ChatGenerationChunk | list[ChatGenerationChunk]
    ) -> ChatGenerationChunk:
        others = other if isinstance(other, list) else [other]
        info = merge_dicts(
            self.generation_info or {}, *(o.generation_info for o in others if o.generation_info)
        )
        message = self.message
        assert isinstance(message, BaseMessageChunk)
        joined = (
            message + [o.message for o in others]
            if len(others) > 1
            else message + others[0].message
        )
        return ChatGenerationChunk(joined, info or None)


class LLMResult:
    """The generations of a model run: one list per prompt, plus provider output."""

    __slots__ = ("generations", "llm_output", "run")

    def __init__(
        self, generations: list[list[Generation]], llm_output: dict[str, Any] | None = None
    ) -> None:
        self.generations = generations
        self.llm_output = llm_output
        self.run = None

    def model_dump(self) -> dict[str, Any]:
        """The result as a plain dict with LangChain's keys."""
        return {
            "generations": [[dump(g) for g in gens] for gens in self.generations],
            "llm_output": self.llm_output,
            "run": None,
            "type": "LLMResult",
        }

    def __repr__(self) -> str:
        return f"LLMResult(generations={self.generations!r}, llm_output={self.llm_output!r})"
