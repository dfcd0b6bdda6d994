"""The concrete messages: human, system, AI (and its streamed chunk), tool, and a
message with any role."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from seltzer.messages.base import BaseMessage, BaseMessageChunk
from seltzer.messages.merge import add_usage, merge_content, merge_dicts, merge_lists
from seltzer.messages.tool_calls import tool_call_chunk, tool_calls_from_chunks

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "ChatMessage",
    "HumanMessage",
    "SystemMessage",
    "ToolMessage",
]

#: The prefix of the ids the models give messages from a run (``lc_run--<run id>``).
RUN_ID_PREFIX = "lc_run-"
_AUTO_PREFIX = "lc_"


class HumanMessage(BaseMessage):
    """A message from the user."""

    type: ClassVar[str] = "human"
    __slots__ = ()


class SystemMessage(BaseMessage):
    """Instructions for the model."""

    type: ClassVar[str] = "system"
    __slots__ = ()


class ChatMessage(BaseMessage):
    """A message with an arbitrary ``role``."""

    type: ClassVar[str] = "chat"
    _extra_fields: ClassVar[tuple[tuple[str, Any], ...]] = (("role", ""),)
    __slots__ = ("role",)

    def __init__(self, content: str | list[Any] = "", *, role: str, **fields: Any) -> None:
        super().__init__(content, **fields)
        self.role = role


class ToolMessage(BaseMessage):
    """The result of a tool call, sent back to the model."""

    type: ClassVar[str] = "tool"
    _extra_fields: ClassVar[tuple[tuple[str, Any], ...]] = (
        ("tool_call_id", ""),
        ("artifact", None),
        ("status", "success"),
    )
    __slots__ = ("artifact", "status", "tool_call_id")

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        tool_call_id: str,
        artifact: Any = None,
        status: str = "success",
        **fields: Any,
    ) -> None:
        super().__init__(content, **fields)
        self.tool_call_id = tool_call_id
        self.artifact = artifact
        self.status = status


class AIMessage(BaseMessage):
    """A reply from the model, with its tool calls and token usage."""

    type: ClassVar[str] = "ai"
    _extra_fields: ClassVar[tuple[tuple[str, Any], ...]] = (
        ("tool_calls", []),
        ("invalid_tool_calls", []),
        ("usage_metadata", None),
    )
    __slots__ = ("invalid_tool_calls", "tool_calls", "usage_metadata")

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        tool_calls: list[dict[str, Any]] | None = None,
        invalid_tool_calls: list[dict[str, Any]] | None = None,
        usage_metadata: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(content, **fields)
        self.tool_calls = tool_calls if tool_calls is not None else []
        self.invalid_tool_calls = invalid_tool_calls if invalid_tool_calls is not None else []
        self.usage_metadata = usage_metadata


class AIMessageChunk(AIMessage, BaseMessageChunk):
    """A fragment of a streamed reply; ``+`` joins fragments (content, metadata, tool
    call fragments by index, usage by sum) exactly as LangChain's does."""

    type: ClassVar[str] = "AIMessageChunk"
    _extra_fields: ClassVar[tuple[tuple[str, Any], ...]] = (
        *AIMessage._extra_fields,
        ("tool_call_chunks", []),
        ("chunk_position", None),
    )
    __slots__ = ("chunk_position", "tool_call_chunks")

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        tool_call_chunks: list[dict[str, Any]] | None = None,
        chunk_position: Literal["last"] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(content, **fields)
        self.chunk_position: Literal["last"] | None = chunk_position
        if tool_call_chunks:
            self.tool_call_chunks = tool_call_chunks
            self.tool_calls, self.invalid_tool_calls = tool_calls_from_chunks(tool_call_chunks)
            return
        if not (self.tool_calls or self.invalid_tool_calls):
            self.tool_call_chunks = []  # a streamed text chunk: the common case, made fast
            return
        self.tool_call_chunks = [
            tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=None)
            for c in self.tool_calls
        ] + [
            tool_call_chunk(name=c["name"], args=c["args"], id=c["id"], index=None)
            for c in self.invalid_tool_calls
        ]

    @classmethod
    def streamed(
        cls, content: str, response_metadata: dict[str, Any], id: str | None = None
    ) -> AIMessageChunk:
        """The chunk of a streamed text fragment: equal to
        ``AIMessageChunk(content, response_metadata=..., id=...)``, made without the
        constructors' argument handling (a fifth of the time; once per token)."""
        chunk = object.__new__(cls)
        chunk.content = content
        chunk.additional_kwargs = {}
        chunk.response_metadata = response_metadata
        chunk.name = None
        chunk.id = id
        chunk.tool_calls = []
        chunk.invalid_tool_calls = []
        chunk.usage_metadata = None
        chunk.chunk_position = None
        chunk.tool_call_chunks = []
        return chunk

    def __add__(self, other: Any) -> BaseMessageChunk:
        if isinstance(other, AIMessageChunk):
            return add_ai_message_chunks(self, other)
        if isinstance(other, (list, tuple)) and all(isinstance(o, AIMessageChunk) for o in other):
            return add_ai_message_chunks(self, *other)
        return super().__add__(other)


def add_ai_message_chunks(left: AIMessageChunk, *others: AIMessageChunk) -> AIMessageChunk:
    """Joins chunks in one step (cheaper than adding them pairwise)."""
    return join_ai_message_chunks(
        left,
        contents=[o.content for o in others],
        additional_kwargs=[o.additional_kwargs for o in others],
        response_metadata=[o.response_metadata for o in others],
        tool_call_chunks=[o.tool_call_chunks for o in others],
        usages=[o.usage_metadata for o in others],
        ids=[o.id for o in others],
        last=any(o.chunk_position == "last" for o in others),
    )


def join_ai_message_chunks(
    left: AIMessageChunk,
    *,
    contents: Sequence[str | list[Any]],
    additional_kwargs: Sequence[dict[str, Any]],
    response_metadata: Sequence[dict[str, Any]],
    tool_call_chunks: Sequence[list[dict[str, Any]]],
    usages: Sequence[dict[str, Any] | None],
    ids: Sequence[str | None],
    last: bool,
) -> AIMessageChunk:
    """``left`` joined with the chunks after it, given field by field, in order.

    What ``add_ai_message_chunks`` computes. Empty dicts and lists change nothing, nor
    does an id or a None usage right after an equal one, so a caller may leave those
    out (``ChunkGatherer`` does).

    Args:
        left: The first chunk.
        contents: Each later chunk's content.
        additional_kwargs: Their ``additional_kwargs``.
        response_metadata: Their ``response_metadata``.
        tool_call_chunks: Their ``tool_call_chunks``.
        usages: Their ``usage_metadata``.
        ids: Their ids.
        last: Whether any of them has ``chunk_position="last"``.
    """
    raw_calls = merge_lists(left.tool_call_chunks, *tool_call_chunks)
    calls = [
        tool_call_chunk(
            name=c.get("name"), args=c.get("args"), id=c.get("id"), index=c.get("index")
        )
        for c in raw_calls or []
    ]
    usage: dict[str, Any] | None = None
    if left.usage_metadata or any(u is not None for u in usages):
        usage = left.usage_metadata
        for other in usages:
            usage = add_usage(usage, other)
    return AIMessageChunk(
        merge_content(left.content, *contents),
        additional_kwargs=merge_dicts(left.additional_kwargs, *additional_kwargs),
        response_metadata=merge_dicts(left.response_metadata, *response_metadata),
        tool_call_chunks=calls,
        usage_metadata=usage,
        id=_best_id([left.id, *ids]),
        chunk_position="last" if last or left.chunk_position == "last" else None,
    )


def _best_id(ids: Sequence[str | None]) -> str | None:
    """The provider's id if any chunk has one, else a run id, else any id."""
    best_rank, best = -1, None
    for id_ in ids:
        if not id_:
            continue
        if not id_.startswith(RUN_ID_PREFIX) and not id_.startswith(_AUTO_PREFIX):
            return id_
        rank = 1 if id_.startswith(RUN_ID_PREFIX) else 0
        if rank > best_rank:
            best_rank, best = rank, id_
    return best
