"""Turning what callers pass into messages: a string, (role, content) tuples,
role/content dicts, seltzer messages, or LangChain message objects (duck-typed, so
that LangChain need not be installed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from seltzer.messages.prompt_values import ChatPromptValue, PromptValue, StringPromptValue

__all__ = ["to_message", "to_messages", "to_prompt_value"]

_ROLES = {
    "human": "human",
    "user": "human",
    "ai": "ai",
    "assistant": "ai",
    "system": "system",
    "developer": "system",
    "tool": "tool",
}
#: LangChain's message ``type`` values for the classes seltzer has.
_TYPES = {
    "human": "human",
    "HumanMessageChunk": "human",
    "ai": "ai",
    "AIMessageChunk": "chunk",
    "system": "system",
    "SystemMessageChunk": "system",
    "tool": "tool",
    "ToolMessageChunk": "tool",
    "chat": "chat",
    "ChatMessageChunk": "chat",
}


def to_prompt_value(value: Any) -> PromptValue:
    """A model's input as a prompt value.

    Raises:
        TypeError: ``value`` is none of a prompt value, a string or a message list.
    """
    if isinstance(value, PromptValue):
        return value
    if isinstance(value, str):
        return StringPromptValue(value)
    if _is_langchain_prompt_value(value):
        if hasattr(value, "messages"):
            return ChatPromptValue(to_messages(value.messages))
        return StringPromptValue(value.to_string())
    if isinstance(value, Sequence):
        return ChatPromptValue(to_messages(value))
    raise TypeError(
        f"Invalid input type {type(value).__name__}: expected a PromptValue, a str, "
        "or a list of messages"
    )


def to_messages(values: Any) -> list[BaseMessage]:
    """A list of messages from message-likes (or one string: one human message)."""
    if isinstance(values, str):
        return [HumanMessage(values)]
    if isinstance(values, PromptValue):
        return values.to_messages()
    return [to_message(value) for value in values]


def to_message(value: Any) -> BaseMessage:
    """One message from a message-like.

    Raises:
        ValueError: An unknown role, or a dict without role and content.
        TypeError: Not a message-like.
    """
    if isinstance(value, BaseMessage):
        return value
    if isinstance(value, str):
        return HumanMessage(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        role, content = value
        return _from_role(str(role), content)
    if isinstance(value, dict):
        fields = dict(value)
        role = fields.pop("role", None) or fields.pop("type", None)
        if role is None or "content" not in fields:
            raise ValueError(f"a message dict needs 'role' and 'content', got {sorted(value)}")
        content = fields.pop("content")
        return _from_role(str(role), content, **fields)
    if hasattr(value, "type") and hasattr(value, "content"):
        return _from_langchain(value)
    raise TypeError(f"cannot make a message from {type(value).__name__}: {value!r}")


def _from_role(role: str, content: Any, **fields: Any) -> BaseMessage:
    kind = _ROLES.get(role)
    if kind == "human":
        return HumanMessage(content, **fields)
    if kind == "ai":
        tool_calls = fields.pop("tool_calls", None)
        if tool_calls:
            fields["tool_calls"] = [_tool_call_from_openai(c) for c in tool_calls]
        return AIMessage(content, **fields)
    if kind == "system":
        return SystemMessage(content, **fields)
    if kind == "tool":
        tool_call_id = fields.pop("tool_call_id", None)
        if tool_call_id is None:
            raise ValueError("a tool message needs a 'tool_call_id'")
        return ToolMessage(content, tool_call_id=tool_call_id, **fields)
    raise ValueError(f"unknown message role {role!r}; expected one of: {', '.join(sorted(_ROLES))}")


def _tool_call_from_openai(call: dict[str, Any]) -> dict[str, Any]:
    """A tool call dict as LangChain stores it, from either LangChain's or OpenAI's shape."""
    import json

    if "function" in call:
        function = call["function"]
        args = function.get("arguments") or "{}"
        return {
            "name": function.get("name"),
            "args": json.loads(args) if isinstance(args, str) else args,
            "id": call.get("id"),
            "type": "tool_call",
        }
    return {
        "name": call["name"],
        "args": call.get("args", {}),
        "id": call.get("id"),
        "type": "tool_call",
    }


def _from_langchain(message: Any) -> BaseMessage:
    """A seltzer message with the same fields as a LangChain message object."""
    kind = _TYPES.get(str(message.type))
    common: dict[str, Any] = {
        "additional_kwargs": dict(getattr(message, "additional_kwargs", None) or {}),
        "response_metadata": dict(getattr(message, "response_metadata", None) or {}),
        "name": getattr(message, "name", None),
        "id": getattr(message, "id", None),
    }
    content = message.content
    if kind == "human":
        return HumanMessage(content, **common)
    if kind == "system":
        return SystemMessage(content, **common)
    if kind == "tool":
        return ToolMessage(
            content,
            tool_call_id=message.tool_call_id,
            artifact=getattr(message, "artifact", None),
            status=getattr(message, "status", "success"),
            **common,
        )
    if kind == "chat":
        return ChatMessage(content, role=message.role, **common)
    if kind in ("ai", "chunk"):
        ai_fields: dict[str, Any] = {
            "tool_calls": [dict(c) for c in getattr(message, "tool_calls", None) or []],
            "invalid_tool_calls": [
                dict(c) for c in getattr(message, "invalid_tool_calls", None) or []
            ],
            "usage_metadata": getattr(message, "usage_metadata", None),
        }
        if kind == "chunk":
            return AIMessageChunk(
                content,
                tool_call_chunks=[
                    dict(c) for c in getattr(message, "tool_call_chunks", None) or []
                ],
                chunk_position=getattr(message, "chunk_position", None),
                **common,
                **ai_fields,
            )
        return AIMessage(content, **common, **ai_fields)
    raise ValueError(f"unknown message type {message.type!r} ({type(message).__name__})")


def _is_langchain_prompt_value(value: Any) -> bool:
    return type(value).__name__ in ("StringPromptValue", "ChatPromptValue") and hasattr(
        value, "to_string"
    )
