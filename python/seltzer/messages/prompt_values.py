"""Prompt values: what prompt templates produce and models accept, as a string or as
messages (each convertible to the other)."""

from __future__ import annotations

from typing import Any

from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import HumanMessage

__all__ = ["ChatPromptValue", "PromptValue", "StringPromptValue", "buffer_string"]


class PromptValue:
    """A formatted prompt."""

    __slots__ = ()

    def to_string(self) -> str:
        """The prompt as one string (what text models receive)."""
        raise NotImplementedError

    def to_messages(self) -> list[BaseMessage]:
        """The prompt as messages (what chat models receive)."""
        raise NotImplementedError

    def model_dump(self) -> dict[str, Any]:
        """The value as a plain dict with LangChain's keys."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, PromptValue)
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]


class StringPromptValue(PromptValue):
    """A prompt that is one string."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def to_string(self) -> str:
        """The text."""
        return self.text

    def to_messages(self) -> list[BaseMessage]:
        """One human message with the text."""
        return [HumanMessage(self.text)]

    def model_dump(self) -> dict[str, Any]:
        """The value as a plain dict with LangChain's keys."""
        return {"text": self.text, "type": "StringPromptValue"}

    def __repr__(self) -> str:
        return f"StringPromptValue(text={self.text!r})"


class ChatPromptValue(PromptValue):
    """A prompt that is a list of messages."""

    __slots__ = ("messages",)

    def __init__(self, messages: list[BaseMessage]) -> None:
        self.messages = messages

    def to_string(self) -> str:
        """The messages as "Role: content" lines."""
        return buffer_string(self.messages)

    def to_messages(self) -> list[BaseMessage]:
        """The messages."""
        return list(self.messages)

    def model_dump(self) -> dict[str, Any]:
        """The value as a plain dict with LangChain's keys."""
        return {"messages": [m.base_dump() for m in self.messages]}

    def __repr__(self) -> str:
        return f"ChatPromptValue(messages={self.messages!r})"


_PREFIXES = {"human": "Human", "ai": "AI", "system": "System", "tool": "Tool"}


def buffer_string(messages: list[BaseMessage]) -> str:
    """Messages as LangChain's ``get_buffer_string`` writes them ("Human: hi")."""
    lines = []
    for message in messages:
        role = getattr(message, "role", None) or _PREFIXES.get(
            message.type.replace("MessageChunk", "").lower(), message.type
        )
        lines.append(f"{role}: {message.text}")
    return "\n".join(lines)
