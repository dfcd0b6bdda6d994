"""Tool definitions in OpenAI's function format (the form ``bind_tools`` stores; each
provider converts from it), from dicts, pydantic models or typed functions."""

from __future__ import annotations

import inspect
import json
import types
import typing
from typing import Any

__all__ = ["to_openai_tool"]

_JSON_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}


def to_openai_tool(tool: Any) -> dict[str, Any]:
    """``{"type": "function", "function": {name, description, parameters}}``.

    Raises:
        TypeError: Not a tool dict, a pydantic model class or a function.
    """
    if isinstance(tool, dict):
        if tool.get("type") == "function" and "function" in tool:
            return tool
        if "name" in tool:
            function = {
                "name": tool["name"],
                "description": tool.get("description", ""),
                "parameters": tool.get("parameters")
                or tool.get("input_schema")
                or {"type": "object", "properties": {}},
            }
            return {"type": "function", "function": function}
    if isinstance(tool, type) and hasattr(tool, "model_json_schema"):
        schema = dict(tool.model_json_schema())
        description = schema.pop("description", "") or (tool.__doc__ or "").strip()
        schema.pop("title", None)
        return {
            "type": "function",
            "function": {"name": tool.__name__, "description": description, "parameters": schema},
        }
    if callable(tool):
        return {"type": "function", "function": _from_function(tool)}
    raise TypeError(f"cannot make a tool of {type(tool).__name__}: {tool!r}")


def _from_function(function: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(function)
    properties: dict[str, Any] = {}
    required = []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        properties[name] = _schema(hints.get(name, str))
        if parameter.default is inspect.Parameter.empty:
            required.append(name)
    doc = inspect.getdoc(function) or ""
    return {
        "name": function.__name__,
        "description": doc.split("\n\n")[0].strip(),
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


def _schema(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (
            _schema(options[0]) if len(options) == 1 else {"anyOf": [_schema(a) for a in options]}
        )
    if origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        return {"type": "array", "items": _schema(item)}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(annotation))}
    json_type = _JSON_TYPES.get(origin or annotation)
    return {"type": json_type} if json_type else {}


def arguments_json(args: Any) -> str:
    """Tool call arguments as the JSON string OpenAI-style APIs expect."""
    return args if isinstance(args, str) else json.dumps(args)
