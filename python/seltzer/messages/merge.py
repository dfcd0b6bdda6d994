"""Merging the fields of streamed chunks exactly as LangChain does: dicts key by key,
lists of indexed fragments by index, usage counts by sum."""

from __future__ import annotations

import contextlib
from itertools import groupby
from typing import Any, cast

__all__ = ["add_usage", "merge_content", "merge_dicts", "merge_lists"]

#: Integer keys that identify or timestamp a fragment; the last value wins, not the sum.
_LAST_WINS = frozenset({"index", "created", "timestamp"})
#: String keys that are labels, not text: equal values are kept once, not concatenated.
_LABELS = frozenset({"id", "output_version", "model_provider"})


def merge_dicts(left: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """Merges dicts: a key missing (or None) on the left takes the right's value;
    strings concatenate, dicts and lists merge recursively, integers add.

    Raises:
        TypeError: The same key holds values of different types.
    """
    merged = left.copy()
    # A dict equal to the one before, whose merge changed nothing, changes nothing
    # either: skipped (a stream's chunks mostly repeat the same metadata). The runs of
    # equal dicts are found in C, not compared one by one here.
    for _, run in groupby(others):
        for right in run:
            if _merge_into(merged, right):
                break
    return merged


def _merge_into(merged: dict[str, Any], right: dict[str, Any]) -> bool:
    """Merges ``right`` into ``merged`` in place; True when that changed nothing."""
    unchanged = True
    for key, value in right.items():
        if key not in merged or (value is not None and merged[key] is None):
            merged[key] = value
            unchanged = False
            continue
        if value is None:
            continue
        current = merged[key]
        if type(current) is not type(value):
            raise TypeError(
                f'additional_kwargs["{key}"] already exists in this message,'
                " but with a different type."
            )
        if isinstance(current, str):
            if (key == "index" and current.startswith("lc_")) or (
                key in _LABELS and current == value
            ):
                continue
            merged[key] = current + value
        elif isinstance(current, dict):
            merged[key] = merge_dicts(current, value)
        elif isinstance(current, list):
            merged[key] = merge_lists(current, value)
        elif current == value:
            continue
        elif isinstance(current, int) and not isinstance(current, bool):
            merged[key] = value if key in _LAST_WINS else current + value
        else:
            raise TypeError(
                f"Additional kwargs key {key} already exists in left dict and "
                f"value has unsupported type {type(current)}."
            )
        unchanged = False
    return unchanged


def merge_lists(left: list[Any] | None, *others: list[Any] | None) -> list[Any] | None:
    """Concatenates lists, except that dicts with the same integer ``index`` (and no
    conflicting ``id``) merge into one element."""
    merged = left.copy() if left is not None else None
    for other in others:
        if other is None:
            continue
        if merged is None:
            merged = other.copy()
            continue
        for element in other:
            if isinstance(element, dict) and _mergeable_index(element.get("index")):
                target = next(
                    (
                        i
                        for i, existing in enumerate(merged)
                        if isinstance(existing, dict)
                        and existing.get("index") == element["index"]
                        and (
                            existing.get("id") in (None, "")
                            or element.get("id") in (None, "")
                            or existing.get("id") == element.get("id")
                        )
                    ),
                    None,
                )
                if target is not None:
                    addition = {k: v for k, v in element.items() if k != "type"}
                    merged[target] = merge_dicts(merged[target], addition)
                    continue
            merged.append(element)
    return merged


def _mergeable_index(index: Any) -> bool:
    return isinstance(index, int) or (isinstance(index, str) and index.startswith("lc_"))


def merge_content(first: str | list[Any], *contents: str | list[Any]) -> str | list[Any]:
    """Concatenates message contents as LangChain does: strings join; a list absorbs
    a string into its last text element; lists merge by index."""
    merged: str | list[Any] = "" if first is None else first
    if isinstance(merged, str):
        with contextlib.suppress(TypeError):  # a list among them: joined below
            return merged + "".join(cast("tuple[str, ...]", contents))  # the common case
    if isinstance(merged, list):
        merged = merged.copy()
    for content in contents:
        if isinstance(merged, str):
            merged = merged + content if isinstance(content, str) else [merged, *content]
        elif isinstance(content, list):
            merged = merge_lists(merged, content) or []
        elif merged and isinstance(merged[-1], str):
            merged[-1] += content
        elif content != "" and merged:
            merged.append(content)
    return merged


def add_usage(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Adds two ``usage_metadata`` dicts key by key (nested details too)."""
    if not (left or right):
        return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    if not (left and right):
        return dict(left or right or {})
    return _add_counts(left, right)


def _add_counts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in {**left, **right}:
        a, b = left.get(key), right.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            out[key] = _add_counts(a or {}, b or {})
        else:
            out[key] = (a or 0) + (b or 0)
    return out
