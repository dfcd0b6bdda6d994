"""``ChatAnthropic``: Anthropic's Messages API with langchain-anthropic's arguments."""

from __future__ import annotations

import os
from typing import Any

from seltzer.endpoints import StreamRequest
from seltzer.llms._model import delta_chunk
from seltzer.llms._secret import SecretStr, secret_from
from seltzer.llms.chat_model import BaseChatModel, ChunkConverter, Piece
from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import AIMessage, AIMessageChunk, SystemMessage, ToolMessage

__all__ = ["ChatAnthropic"]

_PROVIDER = {"model_provider": "anthropic"}


class ChatAnthropic(BaseChatModel):
    """Anthropic chat model (``/v1/messages``), streamed and decoded in Rust.

    Args:
        model: The model name.
        max_tokens: Bound on the reply (the API requires one).
        temperature, top_k, top_p: Sampling.
        stop: Stop sequences (``stop_sequences``).
        base_url: The API root without "/v1" (``ANTHROPIC_API_URL`` when unset).
        api_key: The key; ``ANTHROPIC_API_KEY`` when unset. Never shown.
        timeout, max_retries, model_kwargs, streaming, default_headers, http_client,
        http_async_client, callbacks, tags, metadata, name: As in langchain-anthropic.
    """

    dialect = "anthropic"
    provider = "anthropic"
    _shown = ("model_name", "temperature", "max_tokens", "base_url")

    def __init__(
        self,
        *,
        model: str = "claude-sonnet-4-20250514",
        max_tokens: int = 1024,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        stop: list[str] | None = None,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        model_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.model_name = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.stop = stop
        self.base_url = (
            base_url or os.environ.get("ANTHROPIC_API_URL") or "https://api.anthropic.com"
        ).rstrip("/")
        self.api_key = secret_from(api_key, ("ANTHROPIC_API_KEY",))
        self.model_kwargs = dict(model_kwargs or {})

    @property
    def model(self) -> str:
        """The model name."""
        return self.model_name

    def _auth_headers(self, api_key: SecretStr | None) -> dict[str, str]:
        headers = {"anthropic-version": "2023-06-01"}
        if api_key:
            headers["x-api-key"] = api_key.get_secret_value()
        return headers

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> StreamRequest:
        system, turns = _anthropic_messages(messages)
        body: dict[str, Any] = {
            "model": self.model_name,
            "max_tokens": self.max_tokens,
            "messages": turns,
        }
        if system:
            body["system"] = system
        body.update(
            self._sampling(
                (("temperature", "temperature"), ("top_k", "top_k"), ("top_p", "top_p")),
                stop,
                "stop_sequences",
            )
        )
        tools = kwargs.pop("tools", None)
        if tools:
            body["tools"] = [
                {
                    "name": t["function"]["name"],
                    "description": t["function"].get("description", ""),
                    "input_schema": t["function"].get("parameters", {}),
                }
                for t in tools
            ]
        choice = kwargs.pop("tool_choice", None)
        if choice is not None:
            body["tool_choice"] = _tool_choice(choice)
        body.update(self.model_kwargs)
        body.update(kwargs)
        body["stream"] = stream
        return StreamRequest(
            "POST", f"{self.base_url}/v1/messages", body, self._auth_headers(self.api_key)
        )

    def _converter(self) -> ChunkConverter:
        return _AnthropicChunks()


def _tool_choice(choice: Any) -> dict[str, Any]:
    if isinstance(choice, dict):
        return choice
    if choice in ("any", "required"):
        return {"type": "any"}
    if choice in ("auto", "none"):
        return {"type": choice}
    return {"type": "tool", "name": choice}


def _anthropic_messages(messages: list[BaseMessage]) -> tuple[str, list[dict[str, Any]]]:
    system = "\n\n".join(m.text for m in messages if isinstance(m, SystemMessage))
    turns: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            continue
        if isinstance(message, ToolMessage):
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            if turns and turns[-1]["role"] == "user" and isinstance(turns[-1]["content"], list):
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
            continue
        if isinstance(message, AIMessage):
            content: Any = message.content
            if message.tool_calls:
                blocks = [{"type": "text", "text": message.text}] if message.text else []
                blocks += [
                    {"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["args"]}
                    for c in message.tool_calls
                ]
                content = blocks
            turns.append({"role": "assistant", "content": content})
            continue
        turns.append({"role": "user", "content": message.content})
    return system, turns


class _AnthropicChunks(ChunkConverter):
    """langchain-anthropic's chunks from Messages API events: the model name on
    message_start, text and tool-input fragments, and on message_delta the stop reason
    and the whole usage, marked as the last chunk."""

    # A plain text fragment is `delta_chunk`'s short way (message_start, the first
    # token, is not one).
    plain_metadata = _PROVIDER

    def convert(self, token: Any) -> list[Piece]:
        event = token.event
        usage = token.usage
        if event == "message_start":
            model = token.json().get("message", {}).get("model")
            metadata = {"model_name": model, **_PROVIDER} if model else dict(_PROVIDER)
            return [(AIMessageChunk("", response_metadata=metadata), None)]
        if token.finish_reason is not None or (usage is not None and event == "message_delta"):
            delta = token.json().get("delta", {})
            chunk = AIMessageChunk(
                token.text,
                response_metadata={
                    "stop_reason": token.finish_reason,
                    "stop_sequence": delta.get("stop_sequence"),
                    **_PROVIDER,
                },
                usage_metadata=_usage(usage or {}),
                chunk_position="last" if token.finish_reason else None,
            )
            return [(chunk, None)]
        return [(delta_chunk(token, _PROVIDER), None)]


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    """langchain-anthropic's usage metadata: Anthropic's ``input_tokens`` exclude cached
    tokens, which are added back; absent details are left out."""
    details = {
        "cache_read": usage.get("cache_read_input_tokens"),
        "cache_creation": usage.get("cache_creation_input_tokens"),
    }
    input_tokens = (usage.get("input_tokens") or 0) + sum(v or 0 for v in details.values())
    output_tokens = usage.get("output_tokens") or 0
    metadata: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "input_token_details": {k: v for k, v in details.items() if v is not None},
    }
    thinking = (usage.get("output_tokens_details") or {}).get("thinking_tokens")
    if thinking is not None:
        metadata["output_token_details"] = {"reasoning": thinking}
    return metadata
