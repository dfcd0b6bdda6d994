"""``ChatOpenAI`` for LangChain: langchain-openai's arguments and chunks, seltzer's
transport and Rust decoding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from seltzer.langchain._chat import SeltzerChatModel
from seltzer.llms.chat_model import BaseChatModel as Engine
from seltzer.llms.chat_openai import ChatOpenAI as OpenAIEngine

__all__ = ["ChatOpenAI"]


class ChatOpenAI(SeltzerChatModel):
    """OpenAI chat completions (and any OpenAI-compatible server) for LangChain.

    Takes langchain-openai's ``ChatOpenAI`` arguments and aliases (``model`` /
    ``model_name``, ``base_url`` / ``openai_api_base``, ``api_key`` / ``openai_api_key``,
    ``timeout``, ``max_retries``, ``max_tokens``, ``stop``, ``n``, ``model_kwargs``,
    ``streaming``, ``stream_usage``, ``default_headers``, ...) and yields the same chunks;
    failures raise seltzer's errors (``APIStatusError``, ``APIConnectionError``, ...).
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_name: str = Field(default="gpt-3.5-turbo", alias="model")
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, alias="max_completion_tokens")
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    n: int | None = None
    top_p: float | None = None
    seed: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict[int, int] | None = None
    reasoning_effort: str | None = None
    service_tier: str | None = None
    extra_body: dict[str, Any] | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    openai_api_key: SecretStr | None = Field(default=None, alias="api_key")
    openai_api_base: str | None = Field(default=None, alias="base_url")
    openai_organization: str | None = Field(default=None, alias="organization")
    request_timeout: Any = Field(default=None, alias="timeout")
    max_retries: int | None = None
    streaming: bool = False
    stream_usage: bool | None = None
    default_headers: dict[str, str] | None = None
    http_client: Any = Field(default=None, exclude=True)
    http_async_client: Any = Field(default=None, exclude=True)

    @property
    def _llm_type(self) -> str:
        return "openai-chat"

    def _make_engine(self) -> Engine:
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else None
        return OpenAIEngine(
            model=self.model_name,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            stop=self.stop,
            n=self.n,
            base_url=self.openai_api_base,
            api_key=key,
            organization=self.openai_organization,
            model_kwargs=self.model_kwargs,
            stream_usage=self.stream_usage,
            top_p=self.top_p,
            seed=self.seed,
            logprobs=self.logprobs,
            top_logprobs=self.top_logprobs,
            frequency_penalty=self.frequency_penalty,
            presence_penalty=self.presence_penalty,
            logit_bias=self.logit_bias,
            reasoning_effort=self.reasoning_effort,
            service_tier=self.service_tier,
            extra_body=self.extra_body,
            streaming=self.streaming,
            timeout=self.request_timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            http_client=self.http_client,
            http_async_client=self.http_async_client,
        )

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offers ``tools`` on every call, as langchain-openai does (``tool_choice``:
        "auto", "none", "required"/"any"/True, or a tool's name)."""
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        if tool_choice is not None:
            kwargs["tool_choice"] = _tool_choice(tool_choice, formatted)
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: str = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Replies parsed into ``schema``: by forcing a tool call (``function_calling``,
        langchain-core's way) or with ``response_format`` (``json_schema``,
        ``json_mode``)."""
        if method == "function_calling":
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)  # type: ignore[arg-type]
        if method not in ("json_schema", "json_mode"):
            raise ValueError(
                f"method must be function_calling, json_schema or json_mode, got {method!r}"
            )
        pydantic = isinstance(schema, type) and issubclass(schema, BaseModel)
        if method == "json_mode":
            response_format: dict[str, Any] = {"type": "json_object"}
        else:
            if schema is None:
                raise ValueError("json_schema needs a schema")
            function = convert_to_openai_tool(schema, strict=strict)["function"]
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": function["name"],
                    "schema": function["parameters"],
                    **({"strict": strict} if strict is not None else {}),
                },
            }
        parser: Runnable[Any, Any] = (
            PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
            if pydantic
            else JsonOutputParser()
        )
        model = self.bind(response_format=response_format)
        if not include_raw:
            return model | parser
        parsed = RunnablePassthrough.assign(parsed=lambda x: parser.invoke(x["raw"]))
        return RunnableMap(raw=model) | parsed.with_fallbacks(
            [RunnablePassthrough.assign(parsed=lambda _: None)], exception_key="parsing_error"
        )


def _tool_choice(choice: dict[str, Any] | str | bool, tools: list[dict[str, Any]]) -> Any:
    names = [t["function"]["name"] for t in tools]
    if choice is True or choice == "any":
        return "required"
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        if choice not in names:
            raise ValueError(f"tool_choice {choice!r} is not one of the tools: {names}")
        return {"type": "function", "function": {"name": choice}}
    return choice
