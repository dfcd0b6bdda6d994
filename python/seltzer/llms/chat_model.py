"""``BaseChatModel``: a chat model as a Runnable. ``stream`` / ``astream`` yield
``AIMessageChunk``s decoded in Rust from the provider's stream, with LangChain's
callbacks (so ``astream_events`` sees ``on_chat_model_*``); ``invoke`` returns an
``AIMessage``. Providers fill in the request and the per-token conversion."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

from seltzer.endpoints import StreamRequest
from seltzer.llms import _pacing
from seltzer.llms._chat_run import (
    _areport_error,
    _finish,
    _finish_result,
    _from_stream,
    _report_end,
    _report_error,
    _result,
)
from seltzer.llms._model import BaseModel
from seltzer.llms._token_route import hears_tokens as _hears_tokens
from seltzer.llms._token_route import token_route as _token_route
from seltzer.llms.tools import to_openai_tool
from seltzer.messages.base import BaseMessage
from seltzer.messages.convert import to_prompt_value
from seltzer.messages.gather import ChunkGatherer
from seltzer.messages.kinds import RUN_ID_PREFIX, AIMessage, AIMessageChunk
from seltzer.messages.outputs import ChatGeneration, ChatGenerationChunk, LLMResult
from seltzer.runnables.binding import RunnableBinding
from seltzer.runnables.callbacks import CallbackManager, RunManager
from seltzer.runnables.config import RunnableConfig, ensure_config
from seltzer.runnables.events import EventStreamHandler
from seltzer.tokens import aiter_chat_tokens, aiter_tokens, iter_chat_tokens, iter_tokens

__all__ = ["BaseChatModel", "ChunkConverter"]

#: One converted token: the message chunk and its generation info (or None).
Piece = tuple[AIMessageChunk, dict[str, Any] | None]

_streamed = AIMessageChunk.streamed  # once per token: one lookup fewer


class ChunkConverter:
    """Turns one stream's ``TokenChunk``s into message chunks (state per stream)."""

    #: When not None, ``stream`` and ``astream`` turn each plain token of the first
    #: choice after the stream's first (text and nothing else, decoded as a ``str``)
    #: into ``AIMessageChunk.streamed(text, {**plain_metadata})`` themselves, without
    #: ``convert``: a converter sets it when that is what ``convert`` would give.
    plain_metadata: dict[str, Any] | None = None

    def convert(self, token: Any) -> list[Piece]:
        """The message chunks one decoded token makes (often one, maybe none)."""
        raise NotImplementedError


class BaseChatModel(BaseModel):
    """A chat model: messages in, an AI message out (streamed as chunks)."""

    #: ``ls_provider`` in the run metadata.
    provider: ClassVar[str]
    _START_CALLBACK = "on_chat_model_start"

    def __init__(self, *, streaming: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.streaming = streaming

    # -- what providers implement --------------------------------------------------

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> StreamRequest:
        """The request for ``messages`` (``stream``: a streaming one)."""
        raise NotImplementedError

    def _converter(self) -> ChunkConverter:
        """A fresh converter for one stream."""
        raise NotImplementedError

    def _parse_response(self, body: Any) -> tuple[list[ChatGeneration], dict[str, Any] | None]:
        """The generations and provider output of a non-streaming answer; providers
        without one raise ``NotImplementedError`` (``invoke`` then streams)."""
        raise NotImplementedError

    @property
    def answers_whole(self) -> bool:
        """Whether this provider's ``invoke`` sends a non-streaming request (it
        implements ``_parse_response``); the others stream and aggregate."""
        return type(self)._parse_response is not BaseChatModel._parse_response

    def _invocation_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        """The call's parameters, as callbacks see them."""
        return {"model": self.model_name, "stop": stop, **kwargs}  # type: ignore[attr-defined]

    def _ls_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        """The ``ls_*`` metadata LangChain adds to a chat model's runs."""
        params: dict[str, Any] = {
            "ls_provider": self.provider,
            "ls_model_name": kwargs.get("model", self.model_name),  # type: ignore[attr-defined]
            "ls_model_type": "chat",
            "ls_temperature": kwargs.get("temperature", getattr(self, "temperature", None)),
        }
        max_tokens = kwargs.get("max_tokens", getattr(self, "max_tokens", None))
        if max_tokens:
            params["ls_max_tokens"] = max_tokens
        stop = stop or kwargs.get("stop") or getattr(self, "stop", None)
        if stop:
            params["ls_stop"] = stop
        params["ls_integration"] = "langchain_chat_model"
        return params

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> RunnableBinding:
        """This model with tools offered on every call.

        Args:
            tools: OpenAI-style tool dicts, {name, description, parameters} dicts,
                pydantic model classes or typed Python functions.
            tool_choice: "auto", "required"/"any", "none", or a tool's name.
        """
        bound: dict[str, Any] = {"tools": [to_openai_tool(t) for t in tools], **kwargs}
        if tool_choice is not None:
            bound["tool_choice"] = tool_choice
        return self.bind(**bound)

    # -- running ---------------------------------------------------------------------

    def _start(
        self,
        config: RunnableConfig,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[Any, dict[str, Any]]:
        params = self._invocation_params(stop, **kwargs)
        options = {"stop": stop, **{k: params[k] for k in kwargs if k in params}}
        return self._run_start(config, stop, kwargs, options)

    def _begin(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[CallbackManager, list[BaseMessage], dict[str, Any]]:
        """A call's callback manager, messages and start-callback arguments."""
        config = ensure_config(config)
        messages = to_prompt_value(input).to_messages()
        manager, start = self._start(config, messages, stop, kwargs)
        return manager, messages, start

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """Streams the reply as ``AIMessageChunk``s (content, tool_call_chunks,
        usage_metadata, response_metadata), then an empty last chunk.

        Raises:
            APIStatusError, APIConnectionError, StreamError, StreamInterrupted: As the
                HTTP exchange fails.
        """
        run, request = self._start_stream(input, config, stop, kwargs)
        gathered = ChunkGatherer() if run.handlers else None
        # Decided once: a tap on this run's stream is in place before the stream starts.
        hears_tokens = _hears_tokens(run)
        run_tag = f"{RUN_ID_PREFIX}-{run.run_id}"
        last: AIMessageChunk | None = None
        try:
            response = self._send_stream(request)
            del request  # sent: the stream keeps only its response
            try:
                converter = self._converter()
                plain = converter.plain_metadata
                read = iter_tokens if plain is None else iter_chat_tokens
                # A run of plain chunks goes to `gathered` through its appends (set
                # only while one runs, and only when there is a `gathered`).
                add_text: Callable[[str], None] | None = None
                add_metadata: Callable[[dict[str, Any]], None]
                for token in read(response, self.dialect):
                    if type(token) is str:  # plain text: the short way (see plain_metadata)
                        metadata = {**plain}  # type: ignore[dict-item]
                        message = _streamed(token, metadata, run_tag)
                        if not hears_tokens:
                            if add_text is None:
                                if gathered is not None and (pair := gathered.plain_run(message)):
                                    add_text, add_metadata = pair
                            else:
                                add_text(token)
                                add_metadata(metadata)
                            last = message
                            yield message
                            continue
                        pieces: Iterable[Piece] = ((message, None),)
                    else:
                        pieces = converter.convert(token)
                    for message, info in pieces:
                        _finish(message, info, run_tag)
                        if gathered is not None:
                            generation = None
                            if hears_tokens:
                                generation = ChatGenerationChunk(message, info)
                                run.on_llm_new_token(message.content, chunk=generation)
                            gathered.add(message, info, generation)
                            add_text = None
                        last = message
                        yield message
            finally:
                response.close()
            if last is not None and not last.chunk_position:
                closing = AIMessageChunk(
                    "" if isinstance(last.content, str) else [], chunk_position="last", id=run_tag
                )
                if gathered is not None:
                    run.on_llm_new_token("", chunk=ChatGenerationChunk(closing))
                yield closing
        except BaseException as exc:
            _report_error(run, exc, gathered)
            raise
        if gathered is not None:
            _report_end(run, gathered)

    async def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """The async twin of ``stream``; cancelling it closes the response at once."""
        await _pacing.admit()
        run, request = await self._astart_stream(input, config, stop, kwargs)
        gathered = ChunkGatherer() if run.handlers else None
        # Decided once: a tap on this run's stream is in place before the stream starts.
        hears_tokens, report = _token_route(run)
        run_tag = f"{RUN_ID_PREFIX}-{run.run_id}"
        last: AIMessageChunk | None = None
        try:
            response = await self._asend_stream(request)
            del request  # sent: the stream keeps only its response
            try:
                converter = self._converter()
                plain = converter.plain_metadata
                aread = aiter_tokens if plain is None else aiter_chat_tokens
                # A run of plain chunks goes to `gathered` through its appends (set
                # only while one runs, and only when there is a `gathered`).
                add_text: Callable[[str], None] | None = None
                add_metadata: Callable[[dict[str, Any]], None]
                async for token in aread(response, self.dialect):
                    if type(token) is str:  # plain text: the short way (see plain_metadata)
                        metadata = {**plain}  # type: ignore[dict-item]
                        message = _streamed(token, metadata, run_tag)
                        if not hears_tokens:
                            if report is not None:  # (set only with a handler: `gathered` too)
                                report(message)
                            if add_text is None:
                                if gathered is not None and (pair := gathered.plain_run(message)):
                                    add_text, add_metadata = pair
                            else:
                                add_text(token)
                                add_metadata(metadata)
                            last = message
                            yield message
                            continue
                        pieces: Iterable[Piece] = ((message, None),)
                    else:
                        pieces = converter.convert(token)
                    for message, info in pieces:
                        _finish(message, info, run_tag)
                        if gathered is not None:
                            generation = None
                            if hears_tokens:
                                generation = ChatGenerationChunk(message, info)
                                await run.aon_llm_new_token(message.content, chunk=generation)
                            elif report is not None:
                                report(message)
                            gathered.add(message, info, generation)
                            add_text = None
                        last = message
                        yield message
            finally:
                await response.aclose()
            if last is not None and not last.chunk_position:
                closing = AIMessageChunk(
                    "" if isinstance(last.content, str) else [], chunk_position="last", id=run_tag
                )
                if gathered is not None:
                    await run.aon_llm_new_token("", chunk=ChatGenerationChunk(closing))
                yield closing
        except BaseException as exc:
            await _areport_error(run, exc, gathered)
            raise
        if gathered is not None:
            await run.aon_llm_end(_result(gathered))

    def _streams_on_invoke(self, run: RunManager) -> bool:
        return self.streaming or any(isinstance(h, EventStreamHandler) for h in run.handlers)

    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """The whole reply as an ``AIMessage`` (one non-streaming request where the
        provider has one; streamed when ``streaming=True`` or inside astream_events)."""
        run, messages = self._start_run(input, config, stop, kwargs)
        try:
            generation, llm_output = self._generate(run, messages, stop, kwargs)
        except BaseException as exc:
            run.on_llm_error(exc)
            raise
        run.on_llm_end(LLMResult([[generation]], llm_output))
        assert isinstance(generation.message, AIMessage)
        return generation.message

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """The async twin of ``invoke``."""
        await _pacing.admit()
        run, messages = await self._astart_run(input, config, stop, kwargs)
        try:
            generation, llm_output = await self._agenerate(run, messages, stop, kwargs)
        except BaseException as exc:
            await run.aon_llm_error(exc)
            raise
        await run.aon_llm_end(LLMResult([[generation]], llm_output))
        assert isinstance(generation.message, AIMessage)
        return generation.message

    def _generate(
        self,
        run: RunManager,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[ChatGeneration, dict[str, Any] | None]:
        if not self._streams_on_invoke(run):
            try:
                body = self._post_json(self._request(messages, stop, False, **kwargs))
                return _finish_result(self._parse_response(body), run)
            except NotImplementedError:
                pass
        pieces = ChunkGatherer()
        run_tag = f"{RUN_ID_PREFIX}-{run.run_id}"
        response = self._send_stream(self._request(messages, stop, True, **kwargs))
        try:
            converter = self._converter()
            for token in iter_tokens(response, self.dialect):
                for message, info in converter.convert(token):
                    _finish(message, info, run_tag)
                    generation = ChatGenerationChunk(message, info)
                    run.on_llm_new_token(message.content, chunk=generation)
                    pieces.add(message, info, generation)
        finally:
            response.close()
        return _from_stream(pieces, run, run_tag), None

    async def _agenerate(
        self,
        run: RunManager,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[ChatGeneration, dict[str, Any] | None]:
        if not self._streams_on_invoke(run):
            try:
                body = await self._apost_json(self._request(messages, stop, False, **kwargs))
                return _finish_result(self._parse_response(body), run)
            except NotImplementedError:
                pass
        pieces = ChunkGatherer()
        run_tag = f"{RUN_ID_PREFIX}-{run.run_id}"
        hears_tokens, report = _token_route(run)
        response = await self._asend_stream(self._request(messages, stop, True, **kwargs))
        try:
            converter = self._converter()
            async for token in aiter_tokens(response, self.dialect):
                for message, info in converter.convert(token):
                    _finish(message, info, run_tag)
                    generation = None
                    if hears_tokens:
                        generation = ChatGenerationChunk(message, info)
                        await run.aon_llm_new_token(message.content, chunk=generation)
                    elif report is not None:
                        report(message)
                    pieces.add(message, info, generation)
        finally:
            await response.aclose()
        return _from_stream(pieces, run, run_tag), None
