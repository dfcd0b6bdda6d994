"""What the LangChain chat front doors share: a langchain-core ``BaseChatModel`` whose
``_stream`` / ``_astream`` / ``_generate`` / ``_agenerate`` run a ``seltzer.llms`` chat
model (the "engine": request, retries, transport, Rust decoding, chunk conversion) and
hand langchain-core the chunks a LangChain provider would. Callbacks, tracing and
``astream_events`` are langchain-core's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import (
    BaseChatModel,
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from seltzer.langchain._convert import chat_result, generation_chunk
from seltzer.llms.chat_model import BaseChatModel as Engine
from seltzer.messages.convert import to_messages
from seltzer.tokens import aiter_tokens, iter_tokens

__all__ = ["SeltzerChatModel"]


class SeltzerChatModel(BaseChatModel):
    """A langchain-core chat model run by a ``seltzer.llms`` engine (``_make_engine``)."""

    _engine_instance: Engine | None = PrivateAttr(default=None)

    def _make_engine(self) -> Engine:
        """The ``seltzer.llms`` model for this one's settings."""
        raise NotImplementedError

    @property
    def _engine(self) -> Engine:
        if self._engine_instance is None:
            self._engine_instance = self._make_engine()
        return self._engine_instance

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self._engine.model_name, **self._engine._default_params()}  # type: ignore[attr-defined]

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = self._engine._ls_params(stop, **kwargs)
        params.pop("ls_integration", None)  # langchain-core adds it
        return params

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        engine = self._engine
        request = engine._request(to_messages(messages), stop, True, **kwargs)
        with engine._open_stream(request) as response:
            converter = engine._converter()
            for token in iter_tokens(response, engine.dialect):
                for message, info in converter.convert(token):
                    chunk = generation_chunk(message, info)
                    if run_manager:
                        logprobs = (info or {}).get("logprobs")
                        run_manager.on_llm_new_token(chunk.text, chunk=chunk, logprobs=logprobs)
                    yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        engine = self._engine
        request = engine._request(to_messages(messages), stop, True, **kwargs)
        async with engine._aopen_stream(request) as response:
            converter = engine._converter()
            async for token in aiter_tokens(response, engine.dialect):
                for message, info in converter.convert(token):
                    chunk = generation_chunk(message, info)
                    if run_manager:
                        logprobs = (info or {}).get("logprobs")
                        await run_manager.on_llm_new_token(
                            chunk.text, chunk=chunk, logprobs=logprobs
                        )
                    yield chunk

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        engine = self._engine
        if engine.streaming or not engine.answers_whole:
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        body = engine._post_json(engine._request(to_messages(messages), stop, False, **kwargs))
        return chat_result(*engine._parse_response(body))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        engine = self._engine
        if engine.streaming or not engine.answers_whole:
            stream = self._astream(messages, stop, run_manager, **kwargs)
            return await agenerate_from_stream(stream)
        request = engine._request(to_messages(messages), stop, False, **kwargs)
        body = await engine._apost_json(request)
        return chat_result(*engine._parse_response(body))
