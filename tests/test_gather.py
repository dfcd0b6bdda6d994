"""``ChunkGatherer`` keeps only the fields of a stream's chunks that change their sum,
yet its totals equal ``chunks[0] + chunks[1:]`` (the same values, or the same error)
for any chunks; and ``ChunkAccumulator``, which uses it, sums runs of messages the
same way."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seltzer.messages import AIMessageChunk, ChatGenerationChunk
from seltzer.messages.gather import ChunkGatherer
from seltzer.messages.tool_calls import tool_call_chunk
from seltzer.runnables.accumulate import ChunkAccumulator

TEXT = st.sampled_from(["", "a", "bc", " d"])
BLOCK = st.builds(
    lambda text, index: {"type": "text", "text": text, "index": index},
    TEXT,
    st.integers(0, 1),
)
CONTENT = st.one_of(TEXT, TEXT, st.lists(st.one_of(BLOCK, TEXT), max_size=2))
VALUE = st.one_of(st.none(), TEXT, st.integers(0, 2), st.sampled_from(["lc_1", "openai"]))
KWARGS = st.dictionaries(st.sampled_from(["a", "id", "index", "model_provider"]), VALUE, max_size=2)
METADATA = st.one_of(
    st.sampled_from([{}, {"model_provider": "openai"}, {"model_provider": "other"}]),
    st.just({"finish_reason": "stop", "model_provider": "openai"}),
    KWARGS,
)
CALL = st.builds(
    lambda name, args, id_, index: tool_call_chunk(name=name, args=args, id=id_, index=index),
    st.sampled_from([None, "f"]),
    st.sampled_from([None, "", '{"x"', ": 1}"]),
    st.sampled_from([None, "call_1", "call_2"]),
    st.sampled_from([None, 0, 1]),
)
USAGE = st.one_of(
    st.none(),
    st.none(),
    st.builds(
        lambda i, o: {"input_tokens": i, "output_tokens": o, "total_tokens": i + o},
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    st.builds(lambda i: {"input_tokens": i}, st.integers(0, 3)),
)
CHUNK = st.builds(
    lambda content, kwargs, metadata, calls, usage, id_, last: AIMessageChunk(
        content,
        additional_kwargs=kwargs,
        response_metadata=dict(metadata),
        tool_call_chunks=calls,
        usage_metadata=usage,
        id=id_,
        chunk_position="last" if last else None,
    ),
    CONTENT,
    st.one_of(st.just({}), KWARGS),
    METADATA,
    st.one_of(st.just([]), st.lists(CALL, max_size=2)),
    USAGE,
    st.sampled_from([None, "lc_run--a", "lc_run--b", "lc_x", "chatcmpl-1", "chatcmpl-2"]),
    st.booleans(),
)
INFO = st.one_of(st.none(), st.just({}), st.dictionaries(st.sampled_from(["k", "n"]), VALUE))


def outcome(compute: Any) -> Any:
    """The value's fields, or the error it raised."""
    try:
        value = compute()
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)
    return value.model_dump()


def gathered(chunks: list[AIMessageChunk], infos: list[Any] | None = None) -> ChunkGatherer:
    gatherer = ChunkGatherer()
    for i, chunk in enumerate(chunks):
        gatherer.add(chunk, infos[i] if infos else None)
    return gatherer


@given(st.lists(CHUNK, min_size=1, max_size=8))
def test_total_is_the_sum_of_the_chunks(chunks: list[AIMessageChunk]) -> None:
    expected = outcome(lambda: chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0])
    assert outcome(lambda: gathered(chunks).total()) == expected
    assert len(gathered(chunks)) == len(chunks)


@given(st.lists(st.tuples(CHUNK, INFO), min_size=1, max_size=6))
def test_total_generation_is_the_sum_of_the_generation_chunks(
    pieces: list[tuple[AIMessageChunk, Any]],
) -> None:
    generations = [ChatGenerationChunk(message, info) for message, info in pieces]
    expected = outcome(
        lambda: generations[0] + generations[1:] if len(generations) > 1 else generations[0]
    )
    infos = [info for _, info in pieces]
    total = gathered([m for m, _ in pieces], infos).total_generation
    assert outcome(total) == expected


PLAIN = st.builds(
    lambda content, metadata, id_: AIMessageChunk.streamed(content, dict(metadata), id_),
    TEXT,
    METADATA,
    st.sampled_from([None, "lc_run--a", "lc_run--b"]),
)


@given(st.lists(st.tuples(st.one_of(CHUNK, PLAIN), st.booleans()), min_size=1, max_size=8))
def test_plain_chunks_added_the_short_way_sum_the_same(
    pieces: list[tuple[AIMessageChunk, bool]],
) -> None:
    # ``plain_run`` takes a chunk made by ``AIMessageChunk.streamed`` (the model's short
    # way for a text token), wherever it comes in the stream.
    chunks = [chunk for chunk, _ in pieces]
    gatherer = ChunkGatherer()
    for chunk, short in pieces:
        if short and chunk.tool_call_chunks == [] and chunk.chunk_position is None:
            plain = AIMessageChunk.streamed(chunk.content, chunk.response_metadata, chunk.id)
            if plain == chunk and isinstance(chunk.content, str):
                gatherer.plain_run(chunk)
                continue
        gatherer.add(chunk)
    expected = outcome(lambda: chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0])
    assert outcome(gatherer.total) == expected
    assert len(gatherer) == len(chunks)


RUN = st.builds(
    lambda texts, metadata, id_: [AIMessageChunk.streamed(t, dict(metadata), id_) for t in texts],
    st.lists(TEXT, min_size=1, max_size=4),
    METADATA,
    st.sampled_from([None, "lc_run--a", "lc_run--b"]),
)


@given(
    st.lists(
        st.one_of(CHUNK.map(lambda chunk: (False, [chunk])), RUN.map(lambda run: (True, run))),
        min_size=1,
        max_size=6,
    )
)
def test_plain_runs_added_through_their_appends_sum_the_same(
    groups: list[tuple[bool, list[AIMessageChunk]]],
) -> None:
    # A model adds a run of plain chunks (one id, one metadata) as its loop does: the
    # first through ``plain_run``, the later ones through the appends it returned;
    # any other chunk through ``add``.
    chunks = [chunk for _, group in groups for chunk in group]
    gatherer = ChunkGatherer()
    for plain, group in groups:
        if not plain:
            gatherer.add(group[0])
            continue
        add_text = add_metadata = None
        for chunk in group:
            if add_text is None:
                appends = gatherer.plain_run(chunk)
                if appends is not None:
                    add_text, add_metadata = appends
            else:
                add_text(chunk.content)
                add_metadata(chunk.response_metadata)
    expected = outcome(lambda: chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0])
    assert outcome(gatherer.total) == expected
    assert len(gatherer) == len(chunks)


def test_one_chunk_is_its_own_total() -> None:
    chunk = AIMessageChunk("a", id="lc_run--a")
    generation = ChatGenerationChunk(chunk)
    gatherer = ChunkGatherer()
    gatherer.add(chunk, None, generation)
    assert gatherer.total() is chunk
    assert gatherer.total_generation() is generation


def test_empty_gatherer_raises_like_the_model_did() -> None:
    gatherer = ChunkGatherer()
    assert not gatherer
    with pytest.raises(ValueError, match="No generation chunks were returned"):
        gatherer.total_generation()


def test_many_plain_chunks_keep_one_none_usage_and_one_id() -> None:
    chunks = [AIMessageChunk(f"{i} ", id="lc_run--a") for i in range(1000)]
    chunks.append(AIMessageChunk("", usage_metadata={"input_tokens": 1, "output_tokens": 2}))
    gatherer = gathered(chunks)
    assert gatherer.total() == chunks[0] + chunks[1:]
    assert gatherer._usages == [None, chunks[-1].usage_metadata]
    assert gatherer._ids == [None]


@given(st.lists(CHUNK, min_size=1, max_size=8), st.integers(0, 8))
def test_accumulator_sums_a_run_of_messages_in_one_step(
    chunks: list[AIMessageChunk], read_at: int
) -> None:
    """Read mid-way, the sum so far is one step's; later chunks add pairwise (one
    that cannot be added replaces the sum)."""
    head, tail = chunks[:read_at] or chunks[:1], chunks[read_at:] if read_at else chunks[1:]

    def expected() -> Any:
        value = head[0] + head[1:] if len(head) > 1 else head[0]
        for chunk in tail:
            try:
                value = value + chunk
            except TypeError:
                value = chunk
        return value

    def accumulated() -> Any:
        accumulator = ChunkAccumulator(stop_after_unaddable=False)
        for chunk in head:
            accumulator.add(chunk)
        assert accumulator.value is not None
        for chunk in tail:
            accumulator.add(chunk)
        return accumulator.value

    assert outcome(accumulated) == outcome(expected)
