"""``ChatAnthropic`` for LangChain: langchain-anthropic's arguments and chunks, seltzer's
transport and Rust decoding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, SecretStr

from seltzer.langchain._chat import SeltzerChatModel
from seltzer.llms.anthropic import ChatAnthropic as AnthropicEngine
from seltzer.llms.chat_model import BaseChatModel as Engine

__all__ = ["ChatAnthropic"]


class ChatAnthropic(SeltzerChatModel):
    """Anthropic's Messages API for LangChain, with langchain-anthropic's arguments and
    aliases (``model`` / ``model_name``, ``max_tokens``, ``stop`` / ``stop_sequences``,
    ``base_url`` / ``anthropic_api_url``, ``api_key`` / ``anthropic_api_key``,
    ``timeout``, ``max_retries``, ``model_kwargs``, ``streaming``, ``default_headers``)."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model: str = Field(default="claude-sonnet-4-20250514", alias="model_name")
    max_tokens: int = Field(default=1024, alias="max_tokens_to_sample")
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    stop_sequences: list[str] | None = Field(default=None, alias="stop")
    anthropic_api_url: str | None = Field(default=None, alias="base_url")
    anthropic_api_key: SecretStr | None = Field(default=None, alias="api_key")
    default_request_timeout: Any = Field(default=None, alias="timeout")
    max_retries: int = 2
    streaming: bool = False
    stream_usage: bool = True
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    default_headers: dict[str, str] | None = None
    http_client: Any = Field(default=None, exclude=True)
    http_async_client: Any = Field(default=None, exclude=True)

    @property
    def _llm_type(self) -> str:
        return "anthropic-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_k": self.top_k,
            "top_p": self.top_p,
            "model_kwargs": self.model_kwargs,
            "streaming": self.streaming,
            "max_retries": self.max_retries,
            "default_request_timeout": self.default_request_timeout,
        }

    def _make_engine(self) -> Engine:
        key = self.anthropic_api_key.get_secret_value() if self.anthropic_api_key else None
        return AnthropicEngine(
            model=self.model,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_k=self.top_k,
            top_p=self.top_p,
            stop=self.stop_sequences,
            base_url=self.anthropic_api_url,
            api_key=key,
            model_kwargs=self.model_kwargs,
            streaming=self.streaming,
            timeout=self.default_request_timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            http_client=self.http_client,
            http_async_client=self.http_async_client,
        )

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offers ``tools`` on every call (Anthropic's tool format)."""
        formatted = []
        for tool in tools:
            function = convert_to_openai_tool(tool)["function"]
            formatted.append(
                {
                    "name": function["name"],
                    "description": function.get("description", ""),
                    "input_schema": function.get("parameters", {"type": "object"}),
                }
            )
        if tool_choice in ("any", "auto"):
            kwargs["tool_choice"] = {"type": tool_choice}
        elif isinstance(tool_choice, str):
            kwargs["tool_choice"] = {"type": "tool", "name": tool_choice}
        elif tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return super().bind(tools=formatted, **kwargs)
