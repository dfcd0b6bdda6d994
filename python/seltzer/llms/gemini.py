"""``ChatGemini``: Google's Gemini API (``streamGenerateContent``)."""

from __future__ import annotations

from typing import Any

from seltzer.endpoints import StreamRequest
from seltzer.llms._model import delta_chunk
from seltzer.llms._secret import SecretStr, secret_from
from seltzer.llms.chat_model import BaseChatModel, ChunkConverter, Piece
from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import AIMessage, SystemMessage, ToolMessage

__all__ = ["ChatGemini"]

_PROVIDER = {"model_provider": "google_genai"}


class ChatGemini(BaseChatModel):
    """Gemini chat model, streamed (``alt=sse``) and decoded in Rust.

    Args:
        model: The model name, e.g. "gemini-2.5-flash".
        temperature, top_p, top_k: Sampling.
        max_tokens: Bound on the reply (``maxOutputTokens``).
        stop: Stop sequences.
        n: Candidates per request (streaming reads the first).
        base_url: The API root without the version (``api_version``, "v1beta").
        api_key: The key; ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY`` when unset.
        timeout, max_retries, model_kwargs (more ``generationConfig`` fields),
        streaming, default_headers, http_client, http_async_client, callbacks, tags,
        metadata, name: As for the other models.
    """

    dialect = "gemini"
    provider = "google_genai"
    _shown = ("model_name", "temperature", "max_tokens", "base_url")

    def __init__(
        self,
        *,
        model: str = "gemini-2.5-flash",
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
        n: int | None = None,
        base_url: str | None = None,
        api_version: str = "v1beta",
        api_key: str | SecretStr | None = None,
        model_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.model_name = model
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.max_tokens = max_tokens
        self.stop = stop
        self.n = n
        self.base_url = (base_url or "https://generativelanguage.googleapis.com").rstrip("/")
        self.api_version = api_version
        self.api_key = secret_from(api_key, ("GEMINI_API_KEY", "GOOGLE_API_KEY"))
        self.model_kwargs = dict(model_kwargs or {})

    @property
    def model(self) -> str:
        """The model name."""
        return self.model_name

    def _auth_headers(self, api_key: SecretStr | None) -> dict[str, str]:
        return {"x-goog-api-key": api_key.get_secret_value()} if api_key else {}

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> StreamRequest:
        config = self._sampling(
            (
                ("temperature", "temperature"),
                ("top_p", "topP"),
                ("top_k", "topK"),
                ("max_tokens", "maxOutputTokens"),
                ("n", "candidateCount"),
            ),
            stop,
            "stopSequences",
        )
        config.update(self.model_kwargs)
        body: dict[str, Any] = {"contents": _contents(messages)}
        system = "\n\n".join(m.text for m in messages if isinstance(m, SystemMessage))
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        if config:
            body["generationConfig"] = config
        tools = kwargs.pop("tools", None)
        if tools:
            body["tools"] = [{"functionDeclarations": [t["function"] for t in tools]}]
        kwargs.pop("tool_choice", None)
        body.update(kwargs)
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        url = f"{self.base_url}/{self.api_version}/models/{self.model_name}:{method}"
        return StreamRequest("POST", url, body, self._auth_headers(self.api_key))

    def _converter(self) -> ChunkConverter:
        return _GeminiChunks()


def _contents(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    contents = []
    for message in messages:
        if isinstance(message, SystemMessage):
            continue
        if isinstance(message, ToolMessage):
            part = {
                "functionResponse": {
                    "name": message.name or message.tool_call_id,
                    "response": {"result": message.content},
                }
            }
            contents.append({"role": "user", "parts": [part]})
        elif isinstance(message, AIMessage):
            parts: list[dict[str, Any]] = [{"text": message.text}] if message.text else []
            parts += [
                {"functionCall": {"name": c["name"], "args": c["args"]}} for c in message.tool_calls
            ]
            contents.append({"role": "model", "parts": parts})
        else:
            contents.append({"role": "user", "parts": [{"text": message.text}]})
    return contents


class _GeminiChunks(ChunkConverter):
    """Message chunks from Gemini events; usage (cumulative in every event) goes on
    the finishing chunk only, so that adding chunks counts it once."""

    def convert(self, token: Any) -> list[Piece]:
        if token.index != 0:
            return []
        chunk = delta_chunk(token, _PROVIDER)
        info = None
        if token.finish_reason is not None:
            info = {"finish_reason": token.finish_reason}
            usage = token.usage or {}
            prompt, output = usage.get("promptTokenCount", 0), usage.get("candidatesTokenCount", 0)
            chunk.usage_metadata = {
                "input_tokens": prompt,
                "output_tokens": output,
                "total_tokens": usage.get("totalTokenCount", prompt + output),
            }
            chunk.response_metadata["model_name"] = token.json().get("modelVersion")
        return [(chunk, info)]
