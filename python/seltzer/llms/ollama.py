"""``ChatOllama``: Ollama's native chat API (``/api/chat``, NDJSON)."""

from __future__ import annotations

import os
from typing import Any

from seltzer.endpoints import StreamRequest
from seltzer.llms._model import delta_chunk
from seltzer.llms.chat_model import BaseChatModel, ChunkConverter, Piece
from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = ["ChatOllama"]

_PROVIDER = {"model_provider": "ollama"}


class ChatOllama(BaseChatModel):
    """Ollama chat model, streamed (NDJSON) and decoded in Rust.

    Args:
        model: The model name, e.g. "llama3".
        temperature, top_k, top_p, num_predict (max_tokens), stop: Sampling
            options.
        base_url: The server (``OLLAMA_HOST`` or "http://127.0.0.1:11434").
        keep_alive: How long the server keeps the model loaded.
        timeout, max_retries, model_kwargs (more ``options``), streaming,
        default_headers, http_client, http_async_client, callbacks, tags, metadata,
        name: As for the other models.
    """

    dialect = "ollama"
    provider = "ollama"
    _shown = ("model_name", "temperature", "max_tokens", "base_url")

    def __init__(
        self,
        *,
        model: str = "llama3",
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        num_predict: int | None = None,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
        base_url: str | None = None,
        keep_alive: str | int | None = None,
        model_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("max_retries", 2)
        super().__init__(**options)
        self.model_name = model
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.max_tokens = num_predict if num_predict is not None else max_tokens
        self.stop = stop
        host = base_url or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
        self.base_url = (host if "://" in host else f"http://{host}").rstrip("/")
        self.keep_alive = keep_alive
        self.model_kwargs = dict(model_kwargs or {})

    @property
    def model(self) -> str:
        """The model name."""
        return self.model_name

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> StreamRequest:
        options = self._sampling(
            (
                ("temperature", "temperature"),
                ("top_k", "top_k"),
                ("top_p", "top_p"),
                ("max_tokens", "num_predict"),
            ),
            stop,
            "stop",
        )
        options.update(self.model_kwargs)
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [_message(m) for m in messages],
            "stream": stream,
        }
        if options:
            body["options"] = options
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        kwargs.pop("tool_choice", None)
        body.update(kwargs)
        return StreamRequest("POST", f"{self.base_url}/api/chat", body, {})

    def _converter(self) -> ChunkConverter:
        return _OllamaChunks(self.model_name)


def _message(message: BaseMessage) -> dict[str, Any]:
    if isinstance(message, ToolMessage):
        return {"role": "tool", "content": message.text, "tool_call_id": message.tool_call_id}
    if isinstance(message, AIMessage):
        out: dict[str, Any] = {"role": "assistant", "content": message.text}
        if message.tool_calls:
            out["tool_calls"] = [
                {"function": {"name": c["name"], "arguments": c["args"]}}
                for c in message.tool_calls
            ]
        return out
    role = (
        "system"
        if isinstance(message, SystemMessage)
        else "user"
        if isinstance(message, HumanMessage)
        else getattr(message, "role", "user")
    )
    return {"role": role, "content": message.text}


class _OllamaChunks(ChunkConverter):
    """Message chunks from Ollama's lines; the final line brings the counts."""

    # A plain line is `delta_chunk`'s short way.
    plain_metadata = _PROVIDER

    def __init__(self, model: str) -> None:
        self.model = model

    def convert(self, token: Any) -> list[Piece]:
        chunk = delta_chunk(token, _PROVIDER)
        if token.finish_reason is not None:
            usage = token.usage or {}
            prompt, output = usage.get("prompt_eval_count", 0), usage.get("eval_count", 0)
            chunk.usage_metadata = {
                "input_tokens": prompt,
                "output_tokens": output,
                "total_tokens": prompt + output,
            }
            payload = token.json()
            chunk.response_metadata.update(
                {
                    "model_name": payload.get("model", self.model),
                    "done": True,
                    "done_reason": token.finish_reason,
                }
            )
        return [(chunk, None)]
