"""How to ask each provider for a stream: the URL path, headers and JSON body per
dialect, and where its API key comes from. Shared by the command line, the mock
server's clients and (later) the models and the benchmark.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_BASE_URLS",
    "DEFAULT_MODELS",
    "KEY_VARIABLES",
    "StreamRequest",
    "stream_request",
]

#: A sensible model name per dialect when none is given.
DEFAULT_MODELS = {
    "openai-completions": "gpt-3.5-turbo-instruct",
    "openai-chat": "gpt-4o-mini",
    "openai-responses": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-20250514",
    "gemini": "gemini-2.5-flash",
    "tgi": "tgi",
    "ollama": "llama3",
    "json": "gpt-4o-mini",
}

#: The providers' own base URLs, as their SDKs name them.
DEFAULT_BASE_URLS = {
    "openai-completions": "https://api.openai.com/v1",
    "openai-chat": "https://api.openai.com/v1",
    "openai-responses": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "gemini": "https://generativelanguage.googleapis.com/v1beta",
    "tgi": "http://127.0.0.1:8080",
    "ollama": "http://127.0.0.1:11434",
    "json": "https://api.openai.com/v1",
}

#: The environment variables each provider's SDK reads its API key from, in order.
KEY_VARIABLES = {
    "openai-completions": ("OPENAI_API_KEY",),
    "openai-chat": ("OPENAI_API_KEY",),
    "openai-responses": ("OPENAI_API_KEY",),
    "json": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "tgi": ("HF_TOKEN",),
    "ollama": (),
}


@dataclass(frozen=True)
class StreamRequest:
    """One streaming request: method, URL, headers and JSON body."""

    method: str
    url: str
    json: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        # Headers can carry API keys: never shown.
        return f"StreamRequest(method={self.method!r}, url={self.url!r}, json={self.json!r})"


def api_key_from_env(dialect: str) -> str | None:
    """The API key for ``dialect`` from its usual environment variables, if set."""
    for name in KEY_VARIABLES[dialect]:
        value = os.environ.get(name)
        if value:
            return value
    return None


def stream_request(
    dialect: str,
    prompt: str,
    *,
    base_url: str | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
    api_key: str | None = None,
) -> StreamRequest:
    """Builds the streaming request that ``dialect``'s API expects for one user prompt.

    Args:
        dialect: One of ``seltzer.DIALECTS``.
        prompt: The user's message.
        base_url: Where the API lives, as its SDK takes it (OpenAI: ".../v1").
        model: The model name (a default per dialect otherwise).
        max_tokens: Bound on the tokens generated.
        api_key: Sent as the provider expects it.

    Raises:
        ValueError: An unknown dialect.
    """
    if dialect not in DEFAULT_MODELS:
        raise ValueError(
            f"unknown dialect {dialect!r}; expected one of: {', '.join(DEFAULT_MODELS)}"
        )
    base = (base_url or DEFAULT_BASE_URLS[dialect]).rstrip("/")
    model = model or DEFAULT_MODELS[dialect]
    headers = {}
    body: dict[str, Any]
    if dialect in ("openai-chat", "json"):
        path = "/chat/completions"
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True}
        body["stream_options"] = {"include_usage": True}
        _put(body, "max_tokens", max_tokens)
    elif dialect == "openai-completions":
        path = "/completions"
        body = {"model": model, "prompt": prompt, "stream": True}
        body["stream_options"] = {"include_usage": True}
        _put(body, "max_tokens", max_tokens)
    elif dialect == "openai-responses":
        path = "/responses"
        body = {"model": model, "input": prompt, "stream": True}
        _put(body, "max_output_tokens", max_tokens)
    elif dialect == "anthropic":
        path = "/messages"
        body = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens or 1024,
            "stream": True,
        }
        headers["anthropic-version"] = "2023-06-01"
    elif dialect == "gemini":
        path = f"/models/{model}:streamGenerateContent?alt=sse"
        body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
        if max_tokens is not None:
            body["generationConfig"] = {"maxOutputTokens": max_tokens}
    elif dialect == "tgi":
        path = "/generate_stream"
        body = {"inputs": prompt, "parameters": {"details": True}}
        _put(body["parameters"], "max_new_tokens", max_tokens)
    else:  # ollama
        path = "/api/chat"
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True}
        if max_tokens is not None:
            body["options"] = {"num_predict": max_tokens}
    if api_key:
        if dialect == "anthropic":
            headers["x-api-key"] = api_key
        elif dialect == "gemini":
            headers["x-goog-api-key"] = api_key
        else:
            headers["authorization"] = f"Bearer {api_key}"
    return StreamRequest("POST", base + path, body, headers)


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        body[key] = value
