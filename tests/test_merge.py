"""``merge_dicts`` gives what langchain-core's gives (the same dict, or a TypeError) for
runs of dicts, including the repeats a stream is made of, which it skips when merging
them again would change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.utils._merge import merge_dicts as langchain_merge_dicts

from seltzer.messages.merge import merge_dicts

VALUE = st.one_of(
    st.none(),
    st.sampled_from(["", "a", "openai", "lc_1"]),
    st.integers(0, 2),
    st.just(1.5),
    st.lists(st.sampled_from(["x", "y"]), max_size=2),
)
DICT = st.dictionaries(
    st.sampled_from(["a", "id", "index", "model_provider", "created"]),
    st.one_of(VALUE, st.dictionaries(st.sampled_from(["a", "b"]), VALUE, max_size=2)),
    max_size=3,
)


def _outcome(merge: Any, left: dict[str, Any], others: list[dict[str, Any]]) -> Any:
    try:
        return merge(left, *others)
    except TypeError:
        return TypeError


@given(DICT, st.lists(st.tuples(DICT, st.integers(1, 3)), max_size=4))
def test_merge_matches_langchain_core_with_repeats(
    left: dict[str, Any], runs: list[tuple[dict[str, Any], int]]
) -> None:
    # Each dict repeated (equal copies, as a stream's chunks carry them).
    others = [dict(d) for d, times in runs for _ in range(times)]
    assert _outcome(merge_dicts, left, others) == _outcome(langchain_merge_dicts, left, others)


@pytest.mark.parametrize(
    ("left", "repeated", "expected"),
    [
        ({"model_provider": "openai"}, {"model_provider": "openai"}, {"model_provider": "openai"}),
        ({"a": "x"}, {"a": "y"}, {"a": "xyyy"}),  # text: every copy adds to it
        ({}, {"model_provider": "openai"}, {"model_provider": "openai"}),
        ({"n": 1}, {"n": 2}, {"n": 7}),  # the first copy differs; the two after add
    ],
)
def test_equal_copies_are_skipped_only_when_they_change_nothing(
    left: dict[str, Any], repeated: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert merge_dicts(left, *(dict(repeated) for _ in range(3))) == expected
