"""seltzer's message and generation objects as langchain-core's, at the boundary between
``seltzer.llms`` (which builds requests and converts tokens) and langchain-core (which
runs callbacks, tracers and ``astream_events``)."""

from __future__ import annotations

from typing import Any, cast

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult,
    Generation,
    GenerationChunk,
    LLMResult,
)

from seltzer.messages import kinds
from seltzer.messages import outputs as seltzer_outputs

__all__ = ["chat_result", "generation_chunk", "llm_result", "message_chunk", "text_chunk"]


def message_chunk(chunk: kinds.AIMessageChunk) -> AIMessageChunk:
    """A streamed chunk; tool calls are derived from ``tool_call_chunks`` as usual."""
    return AIMessageChunk(
        content=chunk.content,
        additional_kwargs=chunk.additional_kwargs,
        response_metadata=chunk.response_metadata,
        name=chunk.name,
        id=chunk.id,
        # seltzer's dicts have langchain-core's TypedDict shapes.
        tool_call_chunks=cast(Any, chunk.tool_call_chunks),
        usage_metadata=cast(Any, chunk.usage_metadata),
        chunk_position=cast(Any, chunk.chunk_position),
    )


def generation_chunk(
    chunk: kinds.AIMessageChunk, info: dict[str, Any] | None
) -> ChatGenerationChunk:
    """The chunk a provider's ``_stream`` yields (``info``: its generation info)."""
    return ChatGenerationChunk(message=message_chunk(chunk), generation_info=info)


def _message(message: Any) -> AIMessage:
    return AIMessage(
        content=message.content,
        additional_kwargs=message.additional_kwargs,
        response_metadata=message.response_metadata,
        name=message.name,
        id=message.id,
        tool_calls=message.tool_calls,
        invalid_tool_calls=message.invalid_tool_calls,
        usage_metadata=message.usage_metadata,
    )


def chat_result(
    generations: list[seltzer_outputs.ChatGeneration], llm_output: dict[str, Any] | None
) -> ChatResult:
    """A non-streamed reply, as a provider's ``_generate`` returns it."""
    return ChatResult(
        generations=[
            ChatGeneration(message=_message(g.message), generation_info=g.generation_info)
            for g in generations
        ],
        llm_output=llm_output,
    )


def text_chunk(chunk: seltzer_outputs.GenerationChunk) -> GenerationChunk:
    """A streamed completion chunk."""
    return GenerationChunk(text=chunk.text, generation_info=chunk.generation_info)


def llm_result(
    generations: list[list[seltzer_outputs.Generation]], llm_output: dict[str, Any] | None
) -> LLMResult:
    """Completions for a list of prompts, as ``BaseLLM._generate`` returns them."""
    return LLMResult(
        generations=[
            [Generation(text=g.text, generation_info=g.generation_info) for g in prompt]
            for prompt in generations
        ],
        llm_output=llm_output,
    )
