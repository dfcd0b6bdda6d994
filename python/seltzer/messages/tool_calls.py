"""Tool calls as LangChain represents them (plain dicts with a ``type`` key), and the
partial-JSON parser that turns streamed argument fragments into objects."""

from __future__ import annotations

import bisect
import itertools
import json
from typing import Any

__all__ = [
    "invalid_tool_call",
    "parse_partial_json",
    "tool_call",
    "tool_call_chunk",
    "tool_calls_from_chunks",
]


def tool_call(*, name: str, args: dict[str, Any], id: str | None) -> dict[str, Any]:
    """A complete tool call."""
    return {"name": name, "args": args, "id": id, "type": "tool_call"}


def tool_call_chunk(
    *, name: str | None, args: str | None, id: str | None, index: int | None
) -> dict[str, Any]:
    """A fragment of a streamed tool call."""
    return {"name": name, "args": args, "id": id, "index": index, "type": "tool_call_chunk"}


def invalid_tool_call(
    *, name: str | None, args: str | None, id: str | None, error: str | None
) -> dict[str, Any]:
    """A tool call whose arguments are not a JSON object."""
    return {"name": name, "args": args, "id": id, "error": error, "type": "invalid_tool_call"}


def tool_calls_from_chunks(
    chunks: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parses the (merged) fragments into tool calls and invalid tool calls."""
    calls: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for chunk in chunks:
        try:
            args = parse_partial_json(chunk["args"]) if chunk["args"] else {}
        except ValueError:
            args = None
        if isinstance(args, dict):
            calls.append(tool_call(name=chunk["name"] or "", args=args, id=chunk["id"]))
        else:
            invalid.append(
                invalid_tool_call(
                    name=chunk["name"], args=chunk["args"], id=chunk["id"], error=None
                )
            )
    return calls, invalid


def parse_partial_json(text: str, *, strict: bool = False) -> Any:
    """Parses JSON that may be cut short, closing open strings, arrays and objects
    (LangChain's algorithm, so partial results agree with its parsers).

    Returns:
        The parsed value, or None when the brackets do not match.

    Raises:
        json.JSONDecodeError: No prefix of ``text`` parses.
    """
    try:
        return json.loads(text, strict=strict)
    except json.JSONDecodeError:
        pass
    chars: list[str] = []
    stack: list[str] = []
    in_string = False
    escaped = False
    for char in text:
        new_char = char
        if in_string:
            if char == '"' and not escaped:
                in_string = False
            elif char == "\n" and not escaped:
                new_char = "\\n"
            elif char == "\\":
                escaped = not escaped
            else:
                escaped = False
        elif char == '"':
            in_string = True
            escaped = False
        elif char == "{":
            stack.append("}")
        elif char == "[":
            stack.append("]")
        elif char in "}]":
            if stack and stack[-1] == char:
                stack.pop()
            else:
                return None
        chars.append(new_char)
    if in_string:
        if escaped:
            chars.pop()
        chars.append('"')
    stack.reverse()
    ends = list(itertools.accumulate(map(len, chars)))
    while chars:
        try:
            return json.loads("".join(chars + stack), strict=strict)
        except json.JSONDecodeError as exc:
            # Longer candidates still hold the rejected element: cut past it at once.
            cut = bisect.bisect_right(ends, exc.pos)
            if cut < len(chars):
                del chars[cut:]
                del ends[cut:]
            else:
                chars.pop()
                ends.pop()
    return json.loads(text, strict=strict)
