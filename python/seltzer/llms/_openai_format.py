"""OpenAI's chat format: messages to request dicts, and usage counts to LangChain's
``usage_metadata`` (shared by ``ChatOpenAI`` and the OpenAI-compatible servers)."""

from __future__ import annotations

import json
from typing import Any

from seltzer.llms.tools import arguments_json
from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage
from seltzer.messages.tool_calls import invalid_tool_call, tool_call

__all__ = ["message_dict", "parse_tool_calls", "usage_metadata"]


def message_dict(message: BaseMessage) -> dict[str, Any]:
    """One message as chat completions expect it."""
    out: dict[str, Any] = {"content": message.content}
    name = message.name or message.additional_kwargs.get("name")
    if name is not None:
        out["name"] = name
    if isinstance(message, ChatMessage):
        out["role"] = message.role
    elif isinstance(message, HumanMessage):
        out["role"] = "user"
    elif isinstance(message, AIMessage):
        out["role"] = "assistant"
        calls = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": arguments_json(c["args"])},
            }
            for c in [*message.tool_calls, *message.invalid_tool_calls]
        ]
        if calls:
            out["tool_calls"] = calls
            out["content"] = out["content"] or None
    elif isinstance(message, SystemMessage):
        out["role"] = message.additional_kwargs.get("__openai_role__", "system")
    elif isinstance(message, ToolMessage):
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": _tool_content(message.content),
        }
    else:
        raise TypeError(f"Got unknown type {message!r}")
    return out


def _tool_content(content: Any) -> Any:
    return content if isinstance(content, (str, list)) else json.dumps(content)


def usage_metadata(usage: dict[str, Any], service_tier: str | None = None) -> dict[str, Any]:
    """OpenAI's usage counts as LangChain's ``usage_metadata``."""
    input_tokens = usage.get("prompt_tokens") or 0
    output_tokens = usage.get("completion_tokens") or 0
    total = usage.get("total_tokens")
    tier = service_tier if service_tier in ("priority", "flex") else None
    prefix = f"{tier}_" if tier else ""
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    input_details: dict[str, Any] = {
        "audio": prompt_details.get("audio_tokens"),
        f"{prefix}cache_read": prompt_details.get("cached_tokens"),
        f"{prefix}cache_creation": prompt_details.get("cache_write_tokens"),
    }
    output_details: dict[str, Any] = {
        "audio": completion_details.get("audio_tokens"),
        f"{prefix}reasoning": completion_details.get("reasoning_tokens"),
    }
    if tier is not None:
        input_details[tier] = input_tokens - (input_details.get(f"{prefix}cache_read") or 0)
        output_details[tier] = output_tokens - (output_details.get(f"{prefix}reasoning") or 0)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total if total is not None else input_tokens + output_tokens,
        "input_token_details": {k: v for k, v in input_details.items() if v is not None},
        "output_token_details": {k: v for k, v in output_details.items() if v is not None},
    }


def parse_tool_calls(
    raw: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A reply's tool calls: the parsable ones and the invalid ones."""
    calls, invalid = [], []
    for call in raw:
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments are not a JSON object")
            calls.append(tool_call(name=function.get("name") or "", args=args, id=call.get("id")))
        except ValueError as exc:
            invalid.append(
                invalid_tool_call(
                    name=function.get("name"),
                    args=function.get("arguments"),
                    id=call.get("id"),
                    error=str(exc),
                )
            )
    return calls, invalid
