"""``OpenAI``: OpenAI's text completions (``/completions``), with langchain-openai's
arguments; ``stream`` yields ``str`` tokens."""

from __future__ import annotations

import os
from typing import Any

from seltzer.endpoints import DEFAULT_BASE_URLS, StreamRequest
from seltzer.llms._secret import SecretStr, secret_from
from seltzer.llms.llm import BaseLLM
from seltzer.messages.outputs import Generation, GenerationChunk

__all__ = ["OpenAI"]


class OpenAI(BaseLLM):
    """OpenAI completion model, streamed and decoded in Rust.

    Args:
        model: The model name.
        temperature: Sampling temperature.
        max_tokens: Bound on the completion.
        stop: Stop sequences (per call: ``stop=``).
        n: Completions per request.
        base_url: The API root, e.g. "https://api.openai.com/v1".
        api_key: The key; ``OPENAI_API_KEY`` when unset. Never shown.
        timeout: Seconds, (connect, read) or an ``httpx.Timeout``.
        max_retries: Retries before the first byte.
        model_kwargs: More request body fields.
        top_p, frequency_penalty, presence_penalty, best_of, logit_bias, seed,
        logprobs, extra_body, organization, streaming, default_headers, http_client,
        http_async_client, callbacks, tags, metadata, name: As in langchain-openai.
    """

    dialect = "openai-completions"
    _shown = ("model_name", "temperature", "max_tokens", "base_url")

    def __init__(
        self,
        *,
        model: str = "gpt-3.5-turbo-instruct",
        temperature: float = 0.7,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        n: int = 1,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        organization: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
        top_p: float = 1,
        frequency_penalty: float = 0,
        presence_penalty: float = 0,
        best_of: int = 1,
        logit_bias: dict[str, float] | None = None,
        seed: int | None = None,
        logprobs: int | None = None,
        extra_body: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if n < 1:
            raise ValueError("n must be at least 1.")
        self.model_name = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.stop = stop
        self.n = n
        env_base = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
        self.base_url = (base_url or env_base or DEFAULT_BASE_URLS["openai-completions"]).rstrip(
            "/"
        )
        self.api_key = secret_from(api_key, ("OPENAI_API_KEY",))
        self.organization = organization or os.environ.get("OPENAI_ORG_ID")
        self.model_kwargs = dict(model_kwargs or {})
        self.top_p = top_p
        self.frequency_penalty = frequency_penalty
        self.presence_penalty = presence_penalty
        self.best_of = best_of
        self.logit_bias = logit_bias
        self.seed = seed
        self.logprobs = logprobs
        self.extra_body = extra_body

    def _default_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "n": self.n,
            "seed": self.seed,
            "logprobs": self.logprobs,
            "max_tokens": self.max_tokens,
        }
        if self.logit_bias is not None:
            params["logit_bias"] = self.logit_bias
        if self.best_of > 1:
            params["best_of"] = self.best_of
        return {**params, **self.model_kwargs}

    def _invocation_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            **self._default_params(),
            "_type": "openai",
            "stop": stop,
            **kwargs,
        }

    def _request(
        self, prompt: str, stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> StreamRequest:
        body = {"model": self.model_name, "prompt": prompt, **self._default_params(), **kwargs}
        stop = stop if stop is not None else self.stop
        if stop is not None:
            body["stop"] = stop
        body = {k: v for k, v in body.items() if v is not None}
        body["stream"] = stream
        body.update(self.extra_body or {})
        headers = self._openai_headers(self.api_key, self.organization)
        return StreamRequest("POST", f"{self.base_url}/completions", body, headers)

    def _chunk(self, token: Any) -> GenerationChunk:
        logprobs = None
        if self.logprobs:
            choices = token.json().get("choices") or [{}]
            logprobs = choices[0].get("logprobs")
        return GenerationChunk(
            token.text, {"finish_reason": token.finish_reason, "logprobs": logprobs}
        )

    def _parse_response(self, body: Any) -> tuple[list[Generation], dict[str, Any] | None]:
        if body.get("error"):
            raise ValueError(body["error"])
        usage = body.get("usage") or {}
        token_usage = {
            k: usage[k]
            for k in ("completion_tokens", "prompt_tokens", "total_tokens")
            if k in usage
        }
        generations = [
            Generation(
                c["text"], {"finish_reason": c.get("finish_reason"), "logprobs": c.get("logprobs")}
            )
            for c in body["choices"][: self.n]
        ]
        llm_output: dict[str, Any] = {"token_usage": token_usage, "model_name": self.model_name}
        if body.get("system_fingerprint"):
            llm_output["system_fingerprint"] = body["system_fingerprint"]
        return generations, llm_output
