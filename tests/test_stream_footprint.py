"""What an open model stream keeps alive: its run and its response, not its call's setup
(config, messages, callback manager, request, a context manager's generator). Every
object a stream keeps is 1,000 more, with 1,000 streams open, for each full pass of
the garbage collector to trace, and 1,000 more allocations bringing the next pass on."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import seltzer.mock
from seltzer import llms
from seltzer.endpoints import StreamRequest
from seltzer.messages.kinds import HumanMessage
from seltzer.messages.prompt_values import ChatPromptValue, StringPromptValue
from seltzer.runnables.callbacks import CallbackManager, RunManager

#: What a call sets up and a stream has no use for once its request is sent.
SETUP = (
    CallbackManager,
    StreamRequest,
    HumanMessage,
    ChatPromptValue,
    StringPromptValue,
    contextlib._AsyncGeneratorContextManager,
    contextlib._GeneratorContextManager,
)
STREAMS = 10


def live() -> Counter[type]:
    """Live instances of the setup types, and of ``RunManager``."""
    gc.collect()
    return Counter(type(o) for o in gc.get_objects() if type(o) in (*SETUP, RunManager))


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    # Slow tokens: every stream is still open when the test looks.
    with seltzer.mock.serve(tokens=5, itl_ms=200) as server:
        yield server


def model_of(kind: str, url: str) -> Any:
    if kind == "chat":
        return llms.ChatOpenAI(model="gpt-4o-mini", base_url=url + "/v1", api_key="sk-test")
    return llms.OpenAI(base_url=url + "/v1", api_key="sk-test")


@pytest.mark.parametrize("kind", ["chat", "llm"])
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_an_open_stream_keeps_none_of_its_setup(server: Any, kind: str, sync: bool) -> None:
    model = model_of(kind, server.url)
    before = live()
    if sync:
        with model:
            streams = [model.stream("hi") for _ in range(STREAMS)]
            for stream in streams:
                next(stream)
            during = live()
            for stream in streams:
                stream.close()
    else:

        async def main() -> Counter[type]:
            streams = [model.astream("hi") for _ in range(STREAMS)]
            await asyncio.gather(*(anext(stream) for stream in streams))
            during = live()
            for stream in streams:
                await stream.aclose()
            await model.aclose()
            return during

        during = asyncio.run(main())
    added = during - before
    assert added[RunManager] == STREAMS  # the streams are open and hold their runs
    del added[RunManager]
    assert not added


def test_a_run_shares_its_managers_lists() -> None:
    manager = CallbackManager.configure()
    (run,) = manager.on_chat_model_start({}, [[HumanMessage("hi")]])
    assert run.handlers is manager.handlers
    assert run.inheritable_handlers is manager.inheritable_handlers
    assert run.tags is manager.tags
    assert run.inheritable_tags is manager.inheritable_tags
    assert run.handlers == []
    assert run.tags == []
