"""``OpenAI`` (completions) for LangChain: langchain-openai's arguments and outputs,
seltzer's transport and Rust decoding. ``batch`` / ``generate`` send up to
``batch_size`` prompts in one request, as langchain-openai does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.llms import BaseLLM
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from seltzer.langchain._convert import llm_result, text_chunk
from seltzer.llms.openai import OpenAI as OpenAIEngine
from seltzer.tokens import aiter_tokens, iter_tokens

__all__ = ["OpenAI"]


class OpenAI(BaseLLM):
    """OpenAI completions (and OpenAI-compatible servers) for LangChain; ``stream``
    yields ``str`` tokens. Takes langchain-openai's ``OpenAI`` arguments."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_name: str = Field(default="gpt-3.5-turbo-instruct", alias="model")
    temperature: float = 0.7
    max_tokens: int = 256
    top_p: float = 1
    frequency_penalty: float = 0
    presence_penalty: float = 0
    n: int = 1
    best_of: int = 1
    seed: int | None = None
    logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    batch_size: int = 20
    extra_body: dict[str, Any] | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    openai_api_key: SecretStr | None = Field(default=None, alias="api_key")
    openai_api_base: str | None = Field(default=None, alias="base_url")
    openai_organization: str | None = Field(default=None, alias="organization")
    request_timeout: Any = Field(default=None, alias="timeout")
    max_retries: int = 2
    streaming: bool = False
    default_headers: dict[str, str] | None = None
    http_client: Any = Field(default=None, exclude=True)
    http_async_client: Any = Field(default=None, exclude=True)

    _engine_instance: OpenAIEngine | None = PrivateAttr(default=None)

    @property
    def _engine(self) -> OpenAIEngine:
        if self._engine_instance is None:
            key = self.openai_api_key.get_secret_value() if self.openai_api_key else None
            self._engine_instance = OpenAIEngine(
                model=self.model_name,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                n=self.n,
                base_url=self.openai_api_base,
                api_key=key,
                organization=self.openai_organization,
                model_kwargs=self.model_kwargs,
                top_p=self.top_p,
                frequency_penalty=self.frequency_penalty,
                presence_penalty=self.presence_penalty,
                best_of=self.best_of,
                logit_bias=self.logit_bias,
                seed=self.seed,
                logprobs=self.logprobs,
                extra_body=self.extra_body,
                streaming=self.streaming,
                timeout=self.request_timeout,
                max_retries=self.max_retries,
                default_headers=self.default_headers,
                http_client=self.http_client,
                http_async_client=self.http_async_client,
            )
        return self._engine_instance

    @property
    def _llm_type(self) -> str:
        return "openai"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, **self._engine._default_params()}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "openai"
        return params

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        engine = self._engine
        with engine._open_stream(engine._request(prompt, stop, True, **kwargs)) as response:
            for token in iter_tokens(response, engine.dialect):
                chunk = text_chunk(engine._chunk(token))
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk, logprobs=_logprobs(chunk))
                yield chunk

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        engine = self._engine
        request = engine._request(prompt, stop, True, **kwargs)
        async with engine._aopen_stream(request) as response:
            async for token in aiter_tokens(response, engine.dialect):
                chunk = text_chunk(engine._chunk(token))
                if run_manager:
                    await run_manager.on_llm_new_token(
                        chunk.text, chunk=chunk, logprobs=_logprobs(chunk)
                    )
                yield chunk

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        if self.streaming:
            return _streamed(
                prompts, [self._whole(p, stop, run_manager, **kwargs) for p in prompts]
            )
        engine = self._engine
        groups: list[list[Any]] = []
        output: dict[str, Any] | None = None
        for start in range(0, len(prompts), self.batch_size):
            batch = prompts[start : start + self.batch_size]
            body = engine._post_json(engine._request(batch, stop, False, **kwargs))  # type: ignore[arg-type]
            got, output = _grouped(engine, body, len(batch), output)
            groups.extend(got)
        return llm_result(groups, output)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        if self.streaming:
            wholes = [await self._awhole(p, stop, run_manager, **kwargs) for p in prompts]
            return _streamed(prompts, wholes)
        engine = self._engine
        groups: list[list[Any]] = []
        output: dict[str, Any] | None = None
        for start in range(0, len(prompts), self.batch_size):
            batch = prompts[start : start + self.batch_size]
            request = engine._request(batch, stop, False, **kwargs)  # type: ignore[arg-type]
            got, output = _grouped(engine, await engine._apost_json(request), len(batch), output)
            groups.extend(got)
        return llm_result(groups, output)

    def _whole(
        self, prompt: str, stop: Any, run_manager: Any, **kwargs: Any
    ) -> GenerationChunk | None:
        total: GenerationChunk | None = None
        for chunk in self._stream(prompt, stop, run_manager, **kwargs):
            total = chunk if total is None else total + chunk
        return total

    async def _awhole(
        self, prompt: str, stop: Any, run_manager: Any, **kwargs: Any
    ) -> GenerationChunk | None:
        total: GenerationChunk | None = None
        async for chunk in self._astream(prompt, stop, run_manager, **kwargs):
            total = chunk if total is None else total + chunk
        return total


def _logprobs(chunk: GenerationChunk) -> Any:
    return (chunk.generation_info or {}).get("logprobs")


def _streamed(prompts: list[str], wholes: list[GenerationChunk | None]) -> LLMResult:
    """One streamed generation per prompt (langchain-openai's streaming ``generate``)."""
    generations = []
    for whole in wholes:
        if whole is None:
            raise ValueError("no generation chunks were returned")
        generations.append([Generation(text=whole.text, generation_info=whole.generation_info)])
    return LLMResult(generations=generations, llm_output={"token_usage": {}})


def _grouped(
    engine: OpenAIEngine, body: Any, prompts: int, output: dict[str, Any] | None
) -> tuple[list[list[Any]], dict[str, Any] | None]:
    """A batched answer's choices, ``n`` per prompt in prompt order, and the provider
    output with token usage summed over the batches so far."""
    choices = sorted(body.get("choices") or [], key=lambda c: c.get("index", 0))
    n = engine.n
    groups = []
    llm_output: dict[str, Any] | None = None
    for i in range(prompts):
        generations, llm_output = engine._parse_response(
            {**body, "choices": choices[i * n : (i + 1) * n]}
        )
        groups.append(generations)
    if output is not None and llm_output is not None:
        usage = dict(output.get("token_usage") or {})
        for key, value in (llm_output.get("token_usage") or {}).items():
            usage[key] = usage.get(key, 0) + value
        llm_output = {**llm_output, "token_usage": usage}
    return groups, llm_output
