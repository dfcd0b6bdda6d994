"""``GenerationGatherer``'s total equals a text model's ``GenerationChunk``s added one by
one with ``+`` (the same text and generation info, or the same error), without the
quadratic copying of the text."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from seltzer.messages.gather_text import GenerationGatherer
from seltzer.messages.outputs import GenerationChunk

INFO = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries(
        {"finish_reason": st.sampled_from([None, "stop", "length"])},
        optional={"logprobs": st.sampled_from([None, {"tokens": ["a"]}])},
    ),
)
CHUNK = st.builds(GenerationChunk, st.sampled_from(["", "a", " bc"]), INFO)


def outcome(compute: Any) -> Any:
    """The text and generation info ``compute`` gives, or the type of what it raised."""
    try:
        total = compute()
    except TypeError as exc:
        return type(exc)
    return None if total is None else (total.text, total.generation_info)


@given(st.lists(CHUNK, max_size=8))
def test_total_is_the_chunks_added_one_by_one(chunks: list[GenerationChunk]) -> None:
    def added() -> GenerationChunk | None:
        total = None
        for chunk in chunks:
            total = chunk if total is None else total + chunk
        return total

    def gathered() -> GenerationChunk | None:
        gatherer = GenerationGatherer()
        for chunk in chunks:
            gatherer.add(chunk)
        return gatherer.total()

    assert outcome(gathered) == outcome(added)


def test_one_chunk_is_its_own_total_and_none_is_none() -> None:
    chunk = GenerationChunk("a", {})
    gatherer = GenerationGatherer()
    assert gatherer.total() is None
    gatherer.add(chunk)
    assert gatherer.total() is chunk


def test_a_long_stream_keeps_its_text_and_last_finish_reason() -> None:
    gatherer = GenerationGatherer()
    for i in range(10_000):
        gatherer.add(GenerationChunk(f"{i} ", {"finish_reason": None}))
    gatherer.add(GenerationChunk("", {"finish_reason": "stop"}))
    total = gatherer.total()
    assert total is not None
    assert total.text == "".join(f"{i} " for i in range(10_000))
    assert total.generation_info == {"finish_reason": "stop"}
