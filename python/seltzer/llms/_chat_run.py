"""The per-run helpers behind ``BaseChatModel``'s ``stream``, ``astream``, ``invoke``
and ``ainvoke``: finishing each streamed chunk, reporting a run's end or error, and
turning gathered chunks or a parsed answer into the final ``ChatGeneration``."""

from __future__ import annotations

from typing import Any

from seltzer.messages.gather import ChunkGatherer
from seltzer.messages.kinds import RUN_ID_PREFIX, AIMessage, AIMessageChunk
from seltzer.messages.outputs import ChatGeneration, ChatGenerationChunk, LLMResult
from seltzer.runnables.callbacks import RunManager


def _finish(message: AIMessageChunk, info: dict[str, Any] | None, run_tag: str) -> None:
    """What LangChain does to each streamed chunk: the run's id, and the generation
    info merged into ``response_metadata``."""
    if message.id is None:
        message.id = run_tag
    if info:
        message.response_metadata = {**info, **message.response_metadata}


def _result(gathered: ChunkGatherer) -> LLMResult:
    return LLMResult([[gathered.total_generation()]])


def _report_end(run: RunManager, gathered: ChunkGatherer) -> None:
    run.on_llm_end(_result(gathered))


def _report_error(run: RunManager, exc: BaseException, gathered: ChunkGatherer | None) -> None:
    generations: list[list[Any]] = [[gathered.total_generation()]] if gathered else []
    run.on_llm_error(exc, response=LLMResult(generations))


async def _areport_error(
    run: RunManager, exc: BaseException, gathered: ChunkGatherer | None
) -> None:
    generations: list[list[Any]] = [[gathered.total_generation()]] if gathered else []
    await run.aon_llm_error(exc, response=LLMResult(generations))


def _to_message(chunk: AIMessageChunk) -> AIMessage:
    """An aggregated chunk as a whole message (LangChain's ``message_chunk_to_message``)."""
    return AIMessage(
        chunk.content,
        additional_kwargs=chunk.additional_kwargs,
        response_metadata=chunk.response_metadata,
        name=chunk.name,
        id=chunk.id,
        tool_calls=chunk.tool_calls,
        invalid_tool_calls=chunk.invalid_tool_calls,
        usage_metadata=chunk.usage_metadata,
    )


def _from_stream(pieces: ChunkGatherer, run: RunManager, run_tag: str) -> ChatGeneration:
    if not pieces:
        raise ValueError("No generation chunks were returned")
    closing = AIMessageChunk("", chunk_position="last", id=run_tag)
    last = ChatGenerationChunk(closing)
    run.on_llm_new_token("", chunk=last)
    pieces.add(closing, None, last)
    merged = pieces.total_generation()
    assert isinstance(merged.message, AIMessageChunk)
    generation = ChatGeneration(_to_message(merged.message), merged.generation_info)
    generation.message.response_metadata = {
        **(merged.generation_info or {}),
        **generation.message.response_metadata,
    }
    return generation


def _finish_result(
    parsed: tuple[list[ChatGeneration], dict[str, Any] | None], run: RunManager
) -> tuple[ChatGeneration, dict[str, Any] | None]:
    """LangChain's finishing of a non-streamed result: ids, and generation info and
    provider output merged into ``response_metadata``."""
    generations, llm_output = parsed
    for i, generation in enumerate(generations):
        if generation.message.id is None:
            generation.message.id = f"{RUN_ID_PREFIX}-{run.run_id}-{i}"
        generation.message.response_metadata = {
            **(generation.generation_info or {}),
            **generation.message.response_metadata,
        }
    if len(generations) == 1 and llm_output is not None:
        generations[0].message.response_metadata = {
            **llm_output,
            **generations[0].message.response_metadata,
        }
    return generations[0], llm_output
