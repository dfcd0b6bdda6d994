"""``BaseLLM``: a text-completion model as a Runnable. ``stream`` / ``astream`` yield
``str`` tokens decoded in Rust, with LangChain's callbacks (``on_llm_*`` events);
``invoke`` returns the text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from seltzer.endpoints import StreamRequest
from seltzer.llms import _pacing
from seltzer.llms._model import BaseModel
from seltzer.llms._token_route import hears_tokens, token_route
from seltzer.messages.convert import to_prompt_value
from seltzer.messages.gather_text import GenerationGatherer
from seltzer.messages.outputs import Generation, GenerationChunk, LLMResult
from seltzer.runnables.callbacks import CallbackManager, RunManager
from seltzer.runnables.config import RunnableConfig, ensure_config
from seltzer.tokens import aiter_token_texts, aiter_tokens, iter_token_texts, iter_tokens

__all__ = ["BaseLLM"]


class BaseLLM(BaseModel):
    """A text model: a prompt string in, text out (streamed as strings)."""

    _START_CALLBACK = "on_llm_start"

    def __init__(self, *, streaming: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.streaming = streaming

    # -- what providers implement --------------------------------------------------

    def _request(
        self, prompt: str, stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> StreamRequest:
        """The request for ``prompt`` (``stream``: a streaming one)."""
        raise NotImplementedError

    def _chunk(self, token: Any) -> GenerationChunk:
        """The generation chunk of one decoded token."""
        return GenerationChunk(token.text, {"finish_reason": token.finish_reason})

    def _parse_response(self, body: Any) -> tuple[list[Generation], dict[str, Any] | None]:
        """The generations and provider output of a non-streaming answer."""
        raise NotImplementedError

    def _invocation_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        return {"stop": stop, **kwargs}

    def _ls_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        """The ``ls_*`` metadata LangChain adds to a text model's runs."""
        provider = type(self).__name__.removesuffix("LLM").lower()
        params: dict[str, Any] = {"ls_provider": provider, "ls_model_type": "llm"}
        if stop:
            params["ls_stop"] = stop
        model = kwargs.get("model", getattr(self, "model_name", None))
        if isinstance(model, str):
            params["ls_model_name"] = model
        temperature = kwargs.get("temperature", getattr(self, "temperature", None))
        if isinstance(temperature, (int, float)):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", getattr(self, "max_tokens", None))
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        return params

    # -- running ---------------------------------------------------------------------

    def _start(
        self, config: RunnableConfig, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        return self._run_start(config, stop, kwargs, {"stop": stop})

    def _begin(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[CallbackManager, str, dict[str, Any]]:
        """A call's callback manager, prompt and start-callback arguments."""
        config = ensure_config(config)
        prompt = to_prompt_value(input).to_string()
        manager, start = self._start(config, stop, kwargs)
        return manager, prompt, start

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        """Streams the completion as ``str`` tokens.

        Raises:
            APIStatusError, APIConnectionError, StreamError, StreamInterrupted: As the
                HTTP exchange fails.
        """
        run, request = self._start_stream(input, config, stop, kwargs)
        gathered = GenerationGatherer() if run.handlers else None
        # Decided once: a tap on this run's stream is in place before the stream starts.
        hears = hears_tokens(run)
        try:
            response = self._send_stream(request)
            del request  # sent: the stream keeps only its response
            try:
                if gathered is None:
                    # Nobody watches the run: each token's text, straight from Rust.
                    yield from iter_token_texts(response, self.dialect)
                else:
                    for token in iter_tokens(response, self.dialect):
                        chunk = self._chunk(token)
                        if hears:
                            run.on_llm_new_token(chunk.text, chunk=chunk)
                        gathered.add(chunk)
                        yield token.text
            finally:
                response.close()
        except BaseException as exc:
            run.on_llm_error(exc, response=_partial(gathered))
            raise
        if gathered is not None:
            run.on_llm_end(_end(gathered.total()))

    async def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        """The async twin of ``stream``; cancelling it closes the response at once."""
        await _pacing.admit()
        run, request = await self._astart_stream(input, config, stop, kwargs)
        gathered = GenerationGatherer() if run.handlers else None
        # Decided once: a tap on this run's stream is in place before the stream starts.
        hears, report = token_route(run)
        try:
            response = await self._asend_stream(request)
            del request  # sent: the stream keeps only its response
            try:
                if gathered is None:
                    # Nobody watches the run: each token's text, straight from Rust.
                    async for text in aiter_token_texts(response, self.dialect):
                        yield text
                else:
                    async for token in aiter_tokens(response, self.dialect):
                        chunk = self._chunk(token)
                        if hears:
                            await run.aon_llm_new_token(chunk.text, chunk=chunk)
                        elif report is not None:
                            report(chunk)
                        gathered.add(chunk)
                        yield token.text
            finally:
                await response.aclose()
        except BaseException as exc:
            await run.aon_llm_error(exc, response=_partial(gathered))
            raise
        if gathered is not None:
            await run.aon_llm_end(_end(gathered.total()))

    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        """The whole completion (one non-streaming request unless ``streaming=True``)."""
        run, prompt = self._start_run(input, config, stop, kwargs)
        try:
            if self.streaming:
                result = self._stream_result(run, prompt, stop, kwargs)
            else:
                result = LLMResult(
                    *self._one(
                        self._parse_response(
                            self._post_json(self._request(prompt, stop, False, **kwargs))
                        )
                    )
                )
        except BaseException as exc:
            run.on_llm_error(exc)
            raise
        run.on_llm_end(result)
        return result.generations[0][0].text

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        """The async twin of ``invoke``."""
        await _pacing.admit()
        run, prompt = await self._astart_run(input, config, stop, kwargs)
        try:
            if self.streaming:
                result = await self._astream_result(run, prompt, stop, kwargs)
            else:
                body = await self._apost_json(self._request(prompt, stop, False, **kwargs))
                result = LLMResult(*self._one(self._parse_response(body)))
        except BaseException as exc:
            await run.aon_llm_error(exc)
            raise
        await run.aon_llm_end(result)
        return result.generations[0][0].text

    @staticmethod
    def _one(
        parsed: tuple[list[Generation], dict[str, Any] | None],
    ) -> tuple[list[list[Generation]], dict[str, Any] | None]:
        generations, llm_output = parsed
        return [generations], llm_output

    def _stream_result(
        self, run: RunManager, prompt: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> LLMResult:
        gathered = GenerationGatherer()
        response = self._send_stream(self._request(prompt, stop, True, **kwargs))
        try:
            for token in iter_tokens(response, self.dialect):
                chunk = self._chunk(token)
                run.on_llm_new_token(chunk.text, chunk=chunk)
                gathered.add(chunk)
        finally:
            response.close()
        return _end(gathered.total())

    async def _astream_result(
        self, run: RunManager, prompt: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> LLMResult:
        gathered = GenerationGatherer()
        response = await self._asend_stream(self._request(prompt, stop, True, **kwargs))
        try:
            async for token in aiter_tokens(response, self.dialect):
                chunk = self._chunk(token)
                await run.aon_llm_new_token(chunk.text, chunk=chunk)
                gathered.add(chunk)
        finally:
            await response.aclose()
        return _end(gathered.total())


def _end(total: GenerationChunk | None) -> LLMResult:
    if total is None:
        raise ValueError("No generation chunks were returned")
    return LLMResult([[total]])


def _partial(gathered: GenerationGatherer | None) -> LLMResult:
    """What an error callback reports: the sum of the chunks so far, if any."""
    total = None if gathered is None else gathered.total()
    return LLMResult([[total]] if total else [])
