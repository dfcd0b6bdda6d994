"""What every model shares: its pooled HTTP clients (created lazily, closable), the
request it sends with retries, its callback manager, and a repr without secrets."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import httpx

from seltzer.endpoints import StreamRequest
from seltzer.llms import _http, _retry
from seltzer.llms._secret import SecretStr
from seltzer.messages.kinds import AIMessageChunk
from seltzer.messages.tool_calls import tool_call_chunk
from seltzer.runnables.base import Runnable
from seltzer.runnables.callbacks import CallbackManager, RunManager
from seltzer.runnables.config import RunnableConfig
from seltzer.sse import acheck_response, check_response

__all__ = ["BaseModel", "delta_chunk", "tool_call_chunks"]

JSON = ("application/json",)


class BaseModel(Runnable):
    """A model behind an HTTP API; subclasses say how to ask it and read its answers.

    Use it as a context manager (or call ``close`` / ``aclose``) to release its
    connections; it reopens them lazily when used again.
    """

    #: The wire format of its streams (one of ``seltzer.DIALECTS``).
    dialect: ClassVar[str]
    #: Constructor arguments shown in repr and serialized for callbacks.
    _shown: ClassVar[tuple[str, ...]] = ("model_name",)

    def __init__(
        self,
        *,
        timeout: Any = None,
        max_retries: int | None = 2,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        callbacks: Any = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_retries = 2 if max_retries is None else max_retries
        self.default_headers = dict(default_headers or {})
        self.callbacks = callbacks
        self.tags = tags
        self.metadata = metadata
        self.name = name
        self._given_client = http_client
        self._given_async_client = http_async_client
        self._client: httpx.Client | None = None
        self._async_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._lock = threading.Lock()

    # -- identity --------------------------------------------------------------------

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._shown)
        return f"{type(self).__name__}({shown})"

    @property
    def _serialized(self) -> dict[str, Any]:
        """What callbacks receive as ``serialized`` (no secrets)."""
        cls = type(self).__name__
        return {
            "lc": 1,
            "type": "constructor",
            "id": ["seltzer", "llms", cls],
            "kwargs": {k: getattr(self, k) for k in self._shown},
            "name": cls,
        }

    def _callback_manager(
        self, config: RunnableConfig, ls_params: dict[str, Any]
    ) -> CallbackManager:
        return CallbackManager.configure(
            config.get("callbacks"),
            self.callbacks,
            config.get("tags"),
            self.tags,
            {**(config.get("metadata") or {}), **ls_params},
            self.metadata,
        )

    def _invocation_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        """The call's parameters, as callbacks see them."""
        raise NotImplementedError

    def _ls_params(self, stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        """The ``ls_*`` metadata LangChain adds to the model's runs."""
        raise NotImplementedError

    def _run_start(
        self,
        config: RunnableConfig,
        stop: list[str] | None,
        kwargs: dict[str, Any],
        options: dict[str, Any],
    ) -> tuple[CallbackManager, dict[str, Any]]:
        """The callback manager of a call and the keyword arguments of its start
        callback (``options``: what LangChain reports as the call's options)."""
        manager = self._callback_manager(config, self._ls_params(stop, **kwargs))
        start = {
            "invocation_params": self._invocation_params(stop, **kwargs),
            "options": options,
            "name": config.get("run_name"),
            "run_id": config.pop("run_id", None),
            "batch_size": 1,
        }
        return manager, start

    #: The callback manager's method that starts this kind of model's run
    #: (``on_chat_model_start``, ``on_llm_start``); ``"a" +`` it is the async one.
    _START_CALLBACK: ClassVar[str]

    # Each kind of model declares these two for its own model input (messages, prompt):
    #: ``_begin(input, config, stop, kwargs)``: a call's callback manager, model input
    #: and start-callback arguments.
    _begin: Callable[..., tuple[CallbackManager, Any, dict[str, Any]]]
    #: ``_request(model_input, stop, stream, **kwargs)``: the request for the model input
    #: (``stream``: a streaming one).
    _request: Callable[..., StreamRequest]

    def _start_run(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[RunManager, Any]:
        """Starts a call's run (its start callback reported); the run and the model
        input."""
        manager, model_input, start = self._begin(input, config, stop, kwargs)
        report = getattr(manager, self._START_CALLBACK)
        (run,) = report(self._serialized, [model_input], **start)
        return run, model_input

    async def _astart_run(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[RunManager, Any]:
        """The async twin of ``_start_run``."""
        manager, model_input, start = self._begin(input, config, stop, kwargs)
        report = getattr(manager, "a" + self._START_CALLBACK)
        (run,) = await report(self._serialized, [model_input], **start)
        return run, model_input

    def _start_stream(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[RunManager, StreamRequest]:
        """Starts a streamed call's run; its request. A stream keeps only these two of
        its call's setup: with 1,000 streams open, every object one keeps alive is
        1,000 more for each full pass of the garbage collector to trace."""
        run, model_input = self._start_run(input, config, stop, kwargs)
        return run, self._request(model_input, stop, True, **kwargs)

    async def _astart_stream(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[RunManager, StreamRequest]:
        """The async twin of ``_start_stream``."""
        run, model_input = await self._astart_run(input, config, stop, kwargs)
        return run, self._request(model_input, stop, True, **kwargs)

    def _present(self, fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        """``{wire name: value}`` of the attributes in ``fields`` (attribute, wire name)
        that are set: what a provider's request sends only when given."""
        return {name: getattr(self, key) for key, name in fields if getattr(self, key) is not None}

    def _sampling(
        self, fields: tuple[tuple[str, str], ...], stop: list[str] | None, stop_key: str
    ) -> dict[str, Any]:
        """``_present(fields)``, then under ``stop_key`` the call's ``stop`` (the model's
        own ``stop`` when the call gives none) if that is non-empty."""
        out = self._present(fields)
        stop = stop if stop is not None else getattr(self, "stop", None)
        if stop:
            out[stop_key] = stop
        return out

    def _auth_headers(self, api_key: SecretStr | None) -> dict[str, str]:
        """The headers that carry ``api_key`` (Bearer by default)."""
        return {"authorization": f"Bearer {api_key.get_secret_value()}"} if api_key else {}

    def _openai_headers(
        self, api_key: SecretStr | None, organization: str | None
    ) -> dict[str, str]:
        """What both OpenAI APIs (chat and completions) send: ``_auth_headers``, and
        ``openai-organization`` when ``organization`` is set."""
        headers = self._auth_headers(api_key)
        if organization:
            headers["openai-organization"] = organization
        return headers

    # -- clients ---------------------------------------------------------------------

    def _sync_client(self) -> httpx.Client:
        if self._given_client is not None:
            return self._given_client
        with self._lock:
            if self._client is None or self._client.is_closed:
                self._client = _http.sync_client(self.timeout)
            return self._client

    def _async_client(self) -> httpx.AsyncClient:
        if self._given_async_client is not None:
            return self._given_async_client
        # An async client's connections belong to the loop that opened them.
        loop = asyncio.get_running_loop()
        with self._lock:
            for other in [other for other in self._async_clients if other.is_closed()]:
                del self._async_clients[other]
            client = self._async_clients.get(loop)
            if client is None or client.is_closed:
                client = self._async_clients[loop] = _http.async_client(self.timeout)
            return client

    def close(self) -> None:
        """Closes the sync client (and forgets async ones); clients passed in stay open."""
        with self._lock:
            client, self._client = self._client, None
            self._async_clients.clear()
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Closes the clients this model opened on the running loop, and the sync one."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.pop(loop, None)
        if client is not None:
            await client.aclose()
        self.close()

    def __enter__(self) -> BaseModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> BaseModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- requests --------------------------------------------------------------------

    def _build(
        self, client: httpx.Client | httpx.AsyncClient, request: StreamRequest
    ) -> httpx.Request:
        headers = {**self.default_headers, **request.headers}
        url = _parsed_url(request.url)
        return client.build_request(request.method, url, json=request.json, headers=headers)

    def _stream_headers(self) -> dict[str, str]:
        return {
            "accept": "text/event-stream" if self.dialect != "ollama" else "application/x-ndjson"
        }

    def _send_stream(self, request: StreamRequest) -> httpx.Response:
        """Sends ``request`` (with retries) and returns the unread, streamed response;
        the caller closes it."""
        client = self._sync_client()
        built = self._build(client, _with_headers(request, self._stream_headers()))
        return _retry.send(client, built, self.max_retries)

    async def _asend_stream(self, request: StreamRequest) -> httpx.Response:
        """The async twin of ``_send_stream``. A stream that holds only the response
        (not the request, nor a context manager's generator) keeps fewer objects alive
        for the garbage collector to trace while it is open."""
        client = self._async_client()
        built = self._build(client, _with_headers(request, self._stream_headers()))
        return await _retry.asend(client, built, self.max_retries)

    @contextlib.contextmanager
    def _open_stream(self, request: StreamRequest) -> Iterator[httpx.Response]:
        """The streamed response, closed on exit (at once when the consumer stops)."""
        response = self._send_stream(request)
        try:
            yield response
        finally:
            response.close()

    @contextlib.asynccontextmanager
    async def _aopen_stream(self, request: StreamRequest) -> AsyncIterator[httpx.Response]:
        """The async twin of ``_open_stream``."""
        response = await self._asend_stream(request)
        try:
            yield response
        finally:
            await response.aclose()

    def _post_json(self, request: StreamRequest) -> Any:
        """Sends a non-streaming request and returns its JSON body.

        Raises:
            APIStatusError: Status >= 400.
            SSEError: The answer is not JSON.
        """
        with self._open_stream(_with_headers(request, {"accept": JSON[0]})) as response:
            check_response(response, JSON)
            return json.loads(response.read())

    async def _apost_json(self, request: StreamRequest) -> Any:
        """The async twin of ``_post_json``."""
        async with self._aopen_stream(_with_headers(request, {"accept": JSON[0]})) as response:
            await acheck_response(response, JSON)
            return json.loads(await response.aread())


def _with_headers(request: StreamRequest, headers: dict[str, str]) -> StreamRequest:
    return StreamRequest(request.method, request.url, request.json, {**headers, **request.headers})


def tool_call_chunks(token: Any) -> list[dict[str, Any]] | None:
    """The tool-call fragments of a decoded ``token`` as LangChain's chunks, or None."""
    calls = token.tool_calls
    if not calls:
        return None
    return [tool_call_chunk(name=d.name, args=d.arguments, id=d.id, index=d.index) for d in calls]


def delta_chunk(token: Any, provider: dict[str, str]) -> AIMessageChunk:
    """The message chunk of a decoded ``token``: its text, its reasoning (as
    ``reasoning_content``), its tool-call fragments and ``provider`` as metadata."""
    if token.plain:
        return AIMessageChunk.streamed(token.text, dict(provider))
    return AIMessageChunk(
        token.text,
        additional_kwargs={"reasoning_content": token.reasoning} if token.reasoning else None,
        response_metadata=dict(provider),
        tool_call_chunks=tool_call_chunks(token),
    )


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    """An endpoint's URL, parsed once: httpx parses a string URL at every request
    (about a tenth of the Python time of starting a stream). ``httpx.URL`` is immutable."""
    return httpx.URL(url)
