"""``ChatOpenAI``: OpenAI's chat completions (and any compatible server: vLLM, TGI,
llama.cpp, Ollama's /v1, the mock) with langchain-openai's arguments and chunks."""

from __future__ import annotations

import os
from typing import Any

from seltzer.endpoints import DEFAULT_BASE_URLS, StreamRequest
from seltzer.llms._model import tool_call_chunks
from seltzer.llms._openai_format import message_dict, parse_tool_calls, usage_metadata
from seltzer.llms._secret import SecretStr, secret_from
from seltzer.llms.chat_model import BaseChatModel, ChunkConverter, Piece
from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import AIMessage, AIMessageChunk
from seltzer.messages.outputs import ChatGeneration

__all__ = ["ChatOpenAI"]

_PROVIDER = {"model_provider": "openai"}


class ChatOpenAI(BaseChatModel):
    """OpenAI chat model (``/chat/completions``), streamed and decoded in Rust.

    Args:
        model: The model name.
        temperature: Sampling temperature (the server's default when None).
        max_tokens: Bound on the reply (sent as ``max_completion_tokens``).
        stop: Stop sequences.
        n: Replies per request (streaming reads the first).
        base_url: The API root, e.g. "https://api.openai.com/v1" (``OPENAI_API_BASE``
            / ``OPENAI_BASE_URL`` when unset).
        api_key: The key; ``OPENAI_API_KEY`` when unset. Never shown.
        organization: Sent as ``OpenAI-Organization`` (``OPENAI_ORG_ID`` when unset).
        timeout: Seconds, (connect, read) or an ``httpx.Timeout``.
        max_retries: Retries before the first byte (connection errors, 408, 409,
            429, 5xx).
        model_kwargs: More request body fields.
        stream_usage: Ask for token usage in streams (default: on for OpenAI's own
            endpoint, off for other servers).
        streaming: Stream even for ``invoke``.
        top_p, seed, logprobs, top_logprobs, frequency_penalty, presence_penalty,
        logit_bias, reasoning_effort, service_tier, extra_body: As the API defines them.
        default_headers, http_client, http_async_client, callbacks, tags, metadata,
        name: As in langchain-openai.
    """

    dialect = "openai-chat"
    provider = "openai"
    _shown = ("model_name", "temperature", "max_tokens", "base_url")

    def __init__(
        self,
        *,
        model: str = "gpt-3.5-turbo",
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: list[str] | str | None = None,
        n: int | None = None,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        organization: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
        stream_usage: bool | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        logit_bias: dict[int, int] | None = None,
        reasoning_effort: str | None = None,
        service_tier: str | None = None,
        extra_body: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if n is not None and n < 1:
            raise ValueError("n must be at least 1.")
        self.model_name = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.stop = stop
        self.n = n
        env_base = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
        custom = base_url is not None or env_base is not None or self._given_client is not None
        self.base_url = (base_url or env_base or DEFAULT_BASE_URLS["openai-chat"]).rstrip("/")
        self.api_key = secret_from(api_key, ("OPENAI_API_KEY",))
        self.organization = (
            organization or os.environ.get("OPENAI_ORG_ID") or os.environ.get("OPENAI_ORGANIZATION")
        )
        self.model_kwargs = dict(model_kwargs or {})
        self.stream_usage = stream_usage if stream_usage is not None else not custom
        self.params: dict[str, Any] = {
            "top_p": top_p,
            "seed": seed,
            "logprobs": logprobs,
            "top_logprobs": top_logprobs,
            "frequency_penalty": frequency_penalty,
            "presence_penalty": presence_penalty,
            "logit_bias": logit_bias,
            "reasoning_effort": reasoning_effort,
            "service_tier": service_tier,
            "extra_body": extra_body,
        }

    @property
    def model(self) -> str:
        """The model name."""
        return self.model_name

    def _default_params(self) -> dict[str, Any]:
        optional = {
            **{k: v for k, v in self.params.items() if k != "extra_body"},
            "stop": self.stop or None,
            "max_tokens": self.max_tokens,
            "n": self.n,
            "temperature": self.temperature,
        }
        return {
            "model": self.model_name,
            "stream": self.streaming,
            **{k: v for k, v in optional.items() if v is not None},
            **self.model_kwargs,
        }

    def _invocation_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "stop": stop,
            "_type": "openai-chat",
            **self._default_params(),
            **kwargs,
        }

    def _ls_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        params = self._invocation_params(stop, **kwargs)
        out: dict[str, Any] = {
            "ls_provider": "openai",
            "ls_model_name": params.get("model", self.model_name),
            "ls_model_type": "chat",
            "ls_temperature": params.get("temperature", self.temperature),
        }
        max_tokens = params.get("max_tokens", self.max_tokens) or params.get(
            "max_completion_tokens", self.max_tokens
        )
        if max_tokens:
            out["ls_max_tokens"] = max_tokens
        if ls_stop := stop or params.get("stop"):
            out["ls_stop"] = ls_stop
        out["ls_integration"] = "langchain_chat_model"
        return out

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> StreamRequest:
        usage = kwargs.pop("stream_usage", None)
        body: dict[str, Any] = {**self._default_params(), **kwargs}
        if stop is not None:
            body["stop"] = stop
        if "max_tokens" in body:
            body["max_completion_tokens"] = body.pop("max_tokens")
        body["stream"] = stream
        if stream:
            include = _first_bool(
                usage,
                kwargs.get("stream_options", {}).get("include_usage"),
                self.model_kwargs.get("stream_options", {}).get("include_usage"),
                self.stream_usage,
            )
            if include:
                body["stream_options"] = {"include_usage": True}
        else:
            body.pop("stream_options", None)
        body.update(body.pop("extra_body", None) or self.params["extra_body"] or {})
        body["messages"] = [message_dict(m) for m in messages]
        headers = self._openai_headers(self.api_key, self.organization)
        return StreamRequest("POST", f"{self.base_url}/chat/completions", body, headers)

    def _converter(self) -> ChunkConverter:
        return _OpenAIChunks(bool(self.params["logprobs"]))

    def _parse_response(self, body: Any) -> tuple[list[ChatGeneration], dict[str, Any] | None]:
        if body.get("error"):
            raise ValueError(body["error"])
        choices = body.get("choices")
        if choices is None:
            raise TypeError(f"Received a response without 'choices': keys {list(body)}")
        usage = body.get("usage")
        tier = body.get("service_tier")
        generations = []
        for choice in choices:
            raw = choice["message"]
            calls, invalid = parse_tool_calls(raw.get("tool_calls") or [])
            extra: dict[str, Any] = {}
            if raw.get("function_call"):
                extra["function_call"] = dict(raw["function_call"])
            if raw.get("audio"):
                extra["audio"] = raw["audio"]
            extra["refusal"] = raw.get("refusal")
            message = AIMessage(
                raw.get("content") or "",
                additional_kwargs=extra,
                name=raw.get("name"),
                id=raw.get("id"),
                tool_calls=calls,
                invalid_tool_calls=invalid,
                usage_metadata=usage_metadata(usage, tier) if usage else None,
            )
            info: dict[str, Any] = {"finish_reason": choice.get("finish_reason")}
            if "logprobs" in choice:
                info["logprobs"] = choice["logprobs"]
            generations.append(ChatGeneration(message, info))
        llm_output: dict[str, Any] = {
            "token_usage": usage,
            "model_provider": "openai",
            "model_name": body.get("model", self.model_name),
            "system_fingerprint": body.get("system_fingerprint", ""),
        }
        if "id" in body:
            llm_output["id"] = body["id"]
        if tier:
            llm_output["service_tier"] = tier
        return generations, llm_output


def _first_bool(*values: Any) -> bool:
    for value in values:
        if isinstance(value, bool):
            return value
    return False


class _OpenAIChunks(ChunkConverter):
    """langchain-openai's chunks from chat completion events: the first choice's delta,
    finish metadata on the finishing chunk, usage on the usage chunk."""

    def __init__(self, logprobs: bool) -> None:
        self.first = True
        self.logprobs = logprobs
        # A plain fragment's chunk, as `convert` makes it (unless logprobs are wanted).
        self.plain_metadata = None if logprobs else _PROVIDER

    def convert(self, token: Any) -> list[Piece]:
        if token.plain and not self.first and token.index == 0 and not self.logprobs:
            # A text fragment and nothing else: most of a stream, the short way.
            return [(AIMessageChunk.streamed(token.text, {**_PROVIDER}), None)]
        out: list[Piece] = []
        payload = None
        if self.first:
            self.first = False
            payload = token.json()
            choices = payload.get("choices") or []
            if not (choices and "role" in (choices[0].get("delta") or {})):
                # Every OpenAI stream opens with an event holding only the role, which
                # yields no token but an empty chunk in LangChain: give it here.
                out.append((AIMessageChunk("", response_metadata=dict(_PROVIDER)), None))
        if token.index != 0:
            return out  # LangChain streams the first choice only
        usage = token.usage
        if usage is not None:
            payload = payload or token.json()
            if not payload.get("choices"):
                metadata = usage_metadata(usage, payload.get("service_tier"))
                out.append((AIMessageChunk("", usage_metadata=metadata), None))
                return out
        info: dict[str, Any] | None = None
        if token.finish_reason is not None:
            payload = payload or token.json()
            info = {"finish_reason": token.finish_reason}
            for key, name in (
                ("model", "model_name"),
                ("system_fingerprint", "system_fingerprint"),
                ("service_tier", "service_tier"),
            ):
                if payload.get(key):
                    info[name] = payload[key]
        if self.logprobs:
            payload = payload or token.json()
            choice = (payload.get("choices") or [{}])[0]
            if choice.get("logprobs"):
                info = {**(info or {}), "logprobs": choice["logprobs"]}
        message = AIMessageChunk(
            token.text,
            response_metadata=dict(_PROVIDER),
            tool_call_chunks=tool_call_chunks(token),
        )
        if usage is not None:
            payload = payload or token.json()
            message.usage_metadata = usage_metadata(usage, payload.get("service_tier"))
        out.append((message, info))
        return out
