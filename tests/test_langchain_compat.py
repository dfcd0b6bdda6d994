"""``seltzer.langchain`` against langchain-openai itself: both run against one mock server
with the same inputs, and their whole outputs (stream chunks, invoke and batch results,
astream_events v1 and v2, callbacks) must be equal once run ids and response ids are
numbered by first appearance."""

from __future__ import annotations

import asyncio
import gc
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import langchain_anthropic
import langchain_openai
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from pydantic import BaseModel

import seltzer
from seltzer import langchain as sl

#: uuids (run ids, LangChain's chunk ids) and provider response ids.
_IDS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:chatcmpl|cmpl)-[\w-]+"
)


def normalized(value: Any) -> Any:
    """``value`` as plain data with every id replaced by its order of first appearance,
    so that two runs compare equal when their ids are used in the same places."""
    seen: dict[str, str] = {}

    def fix(text: str) -> str:
        return _IDS.sub(lambda m: seen.setdefault(m.group(0), f"<id{len(seen)}>"), text)

    def walk(v: Any, key: Any = None) -> Any:
        if isinstance(key, str) and key.endswith("_tokens_details") and isinstance(v, dict):
            # langchain-openai dumps the openai SDK's usage model, whose version decides
            # which absent fields appear as None; the server sent none of them.
            v = {k: x for k, x in v.items() if x is not None}
        if hasattr(v, "model_dump"):
            v = {"__type__": type(v).__name__, **v.model_dump()}
        if isinstance(v, dict):
            # lc_versions names LangChain's package versions (langchain-openai's own among
            # them), which seltzer does not claim.
            return {walk(k): walk(x, k) for k, x in v.items() if k != "lc_versions"}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        if isinstance(v, str):
            return fix(v)
        if type(v).__name__ == "UUID":
            return fix(str(v))
        return v

    return walk(value)


# The openai SDK under langchain-openai closes its async clients only from a running
# loop; collected later they warn about unclosed sockets. Those are LangChain's.
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with seltzer.mock.serve(tokens=6) as srv:
        yield srv


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.Runner]:
    """One loop for the module: langchain-openai caches its async client process-wide."""
    with asyncio.Runner() as runner:
        yield runner
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def chat_pair(server: Any, **options: Any) -> tuple[Any, Any]:
    kw = {"model": "gpt-4o-mini", "base_url": server.url + "/v1", "api_key": "sk-test", **options}
    return sl.ChatOpenAI(**kw), langchain_openai.ChatOpenAI(**kw)


def llm_pair(server: Any, **options: Any) -> tuple[Any, Any]:
    kw = {"model": "gpt-3.5-turbo-instruct", "base_url": server.url + "/v1", "api_key": "sk-t"}
    return sl.OpenAI(**kw, **options), langchain_openai.OpenAI(**kw, **options)


def both(fn: Any, pair: tuple[Any, Any]) -> None:
    ours, theirs = (normalized(fn(model)) for model in pair)
    assert ours == theirs


CONFIGS = [
    None,
    {"tags": ["t1"], "metadata": {"user": "u"}, "run_name": "named"},
]


def chains(kind: str, model: Any) -> Any:
    if kind == "lone":
        return model
    prompt: Any = (
        ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{topic}")])
        if isinstance(model, sl.ChatOpenAI | langchain_openai.ChatOpenAI)
        else PromptTemplate.from_template("Tell me about {topic}")
    )
    return prompt | model | StrOutputParser()


def inputs(kind: str) -> Any:
    return "Write me a 1 verse song about sparkling water." if kind == "lone" else {"topic": "x"}


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["lone", "chain"])
@pytest.mark.parametrize("model", ["chat", "llm"])
def test_stream_and_invoke_equal_langchain_openai(
    server: Any, model: str, kind: str, config: Any
) -> None:
    pair = chat_pair(server) if model == "chat" else llm_pair(server)
    both(lambda m: list(chains(kind, m).stream(inputs(kind), config)), pair)
    both(lambda m: chains(kind, m).invoke(inputs(kind), config), pair)
    both(lambda m: chains(kind, m).batch([inputs(kind)] * 3, config), pair)


# v1 is deprecated in langchain-core 1.x, and still what some users run.
@pytest.mark.filterwarnings("ignore:astream_events version='v1' is deprecated")
@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["lone", "chain"])
@pytest.mark.parametrize("model", ["chat", "llm"])
def test_astream_events_equal_langchain_openai(
    server: Any, loop: asyncio.Runner, model: str, kind: str, config: Any, version: str
) -> None:
    pair = chat_pair(server) if model == "chat" else llm_pair(server)

    async def events(m: Any) -> list[Any]:
        runnable = chains(kind, m)
        return [e async for e in runnable.astream_events(inputs(kind), config, version=version)]

    both(lambda m: loop.run(events(m)), pair)


def test_async_stream_and_ainvoke_equal(server: Any, loop: asyncio.Runner) -> None:
    async def run(m: Any) -> Any:
        chunks = [c async for c in m.astream("hi")]
        return chunks, await m.ainvoke("hi"), await m.abatch(["a", "b"])

    both(lambda m: loop.run(run(m)), chat_pair(server))
    both(lambda m: loop.run(run(m)), llm_pair(server))


def test_stream_usage_and_streaming_invoke(server: Any) -> None:
    both(lambda m: list(m.stream("hi")), chat_pair(server, stream_usage=True))
    both(lambda m: m.invoke("hi"), chat_pair(server, streaming=True))


class Tokens(BaseCallbackHandler):
    """Counts what a callback handler hears."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.ends = 0

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ends += 1


def test_callbacks_hear_every_token(server: Any) -> None:
    heard = []
    for model in chat_pair(server):
        handler = Tokens()
        list(model.stream("hi", {"callbacks": [handler]}))
        heard.append((handler.tokens, handler.ends))
    assert heard[0] == heard[1]
    assert len(heard[0][0]) > 5


def test_llm_batch_is_one_request(server: Any) -> None:
    ours, theirs = llm_pair(server)
    before = server.stats()["requests"]
    got = ours.batch(["a", "b", "c"])
    assert server.stats()["requests"] == before + 1
    assert got == theirs.batch(["a", "b", "c"])
    assert len(set(got)) == 3


class Weather(BaseModel):
    """The weather in a city."""

    city: str


def test_tool_calls_stream_like_langchain_openai(server: Any) -> None:
    both(lambda m: list(m.bind_tools([Weather]).stream("weather?")), chat_pair(server))
    both(lambda m: m.bind_tools([Weather], tool_choice="Weather").invoke("?"), chat_pair(server))


class Lookup(BaseModel):
    """Looks something up (the mock's tool calls carry an ``input`` argument)."""

    input: str


def test_structured_output_by_function_calling(server: Any) -> None:
    ours, theirs = chat_pair(server)
    got = ours.with_structured_output(Lookup, method="function_calling").invoke("?")
    want = theirs.with_structured_output(Lookup, method="function_calling").invoke("?")
    assert isinstance(got, Lookup)
    assert got == want
    raw = ours.with_structured_output(Lookup, method="function_calling", include_raw=True)
    assert raw.invoke("?")["parsed"] == want


def test_retry_fallbacks_and_parallel(server: Any) -> None:
    ours, _ = chat_pair(server)
    broken, _ = chat_pair(server, default_headers={"x-mock-fault": "status:500"}, max_retries=0)
    with pytest.raises(seltzer.APIStatusError):
        broken.invoke("hi")
    assert broken.with_fallbacks([ours]).invoke("hi").content
    parallel = RunnableParallel(a=ours | StrOutputParser(), b=RunnableLambda(lambda x: x))
    assert parallel.invoke("hi")["b"] == "hi"
    assert ours.with_retry(stop_after_attempt=2).invoke("hi").content


def test_api_key_never_shown(server: Any) -> None:
    model = sl.ChatOpenAI(base_url=server.url + "/v1", api_key="sk-canary-123")
    assert "sk-canary-123" not in repr(model)
    assert "sk-canary-123" not in str(model.model_dump())


def test_import_without_langchain_core_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['langchain_core'] = None\n"
        "import seltzer\n"
        "assert 'langchain_core' not in [m for m in sys.modules if sys.modules[m]]\n"
        "try:\n    import seltzer.langchain\nexcept ImportError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert 'pip install "seltzer[langchain]"' in done.stdout


def test_import_seltzer_does_not_import_langchain() -> None:
    code = "import sys, seltzer, seltzer.llms; print('langchain_core' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "False", done.stderr


def agent_graph(model: Any) -> Any:
    """A one-tool agent: the model calls ``lookup`` on the first turn (the mock always
    calls an offered tool), sees its result, then answers in text."""

    @tool
    def lookup(input: str) -> str:
        """Looks ``input`` up."""
        return f"found {input}"

    def agent(state: MessagesState) -> dict[str, Any]:
        first = isinstance(state["messages"][-1], HumanMessage)
        runnable = model.bind_tools([lookup]) if first else model
        return {"messages": [runnable.invoke(state["messages"])]}

    def route(state: MessagesState) -> str:
        return "tools" if state["messages"][-1].tool_calls else END

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([lookup]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", route, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph.compile()


def test_langgraph_agent_streams_messages_like_langchain_openai(server: Any) -> None:
    def run(model: Any) -> Any:
        stream = agent_graph(model).stream(
            {"messages": [("user", "look up sparkling water")]}, stream_mode="messages"
        )
        return [(chunk, metadata.get("langgraph_node")) for chunk, metadata in stream]

    ours, theirs = (normalized(run(m)) for m in chat_pair(server))
    assert ours == theirs
    texts = [chunk["content"] for chunk, node in ours if node == "agent" and chunk["content"]]
    assert len(texts) > 3


def test_structured_output_by_json_schema() -> None:
    """``method="json_schema"`` sends the schema as ``response_format`` and parses the
    reply's JSON text into the model (the mock ignores response_format, so a raw server
    answers here)."""
    import json as json_module

    from tests.server import Conn, LoopbackServer

    raw = LoopbackServer()
    reply = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": '{"input": "bubbles"}'},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6},
    }

    @raw.route("/v1/chat/completions")
    def answer(conn: Conn) -> None:
        body = json_module.dumps(reply).encode()
        conn.head(
            200,
            {"content-type": "application/json", "content-length": str(len(body))},
            chunked=False,
        )
        conn.write(body)

    try:
        model = sl.ChatOpenAI(model="m", base_url=raw.url + "/v1", api_key="sk-test")
        got = model.with_structured_output(Lookup, method="json_schema").invoke("?")
        assert got == Lookup(input="bubbles")
        sent = json_module.loads(raw.requests[-1].body)
        assert sent["response_format"]["type"] == "json_schema"
        assert sent["response_format"]["json_schema"]["name"] == "Lookup"
        assert "input" in sent["response_format"]["json_schema"]["schema"]["properties"]
        both_ways = model.with_structured_output(Lookup, method="json_schema", include_raw=True)
        result = both_ways.invoke("?")
        assert result["parsed"] == Lookup(input="bubbles")
        assert result["raw"].content == '{"input": "bubbles"}'
    finally:
        raw.close()


def anthropic_pair(server: Any, **options: Any) -> tuple[Any, Any]:
    kw = {"model": "mock-model", "base_url": server.url, "api_key": "sk-ant-test"}
    kw |= {"max_tokens": 8, **options}
    return sl.ChatAnthropic(**kw), langchain_anthropic.ChatAnthropic(**kw)


@pytest.mark.parametrize("config", CONFIGS)
def test_anthropic_streams_equal_langchain_anthropic(
    server: Any, loop: asyncio.Runner, config: Any
) -> None:
    """Chunks, streamed invokes and astream_events v2 of a chain, as langchain-anthropic
    gives them. (Its non-streaming invoke puts the anthropic SDK's whole response model in
    ``response_metadata``, SDK version by version; seltzer's streams instead.)"""
    both(lambda m: list(m.stream("hi", config)), anthropic_pair(server))
    both(lambda m: m.invoke("hi", config), anthropic_pair(server, streaming=True))

    async def run(m: Any) -> Any:
        chain = ChatPromptTemplate.from_template("{topic}") | m | StrOutputParser()
        chunks = [c async for c in m.astream("hi", config)]
        events = [e async for e in chain.astream_events({"topic": "x"}, config, version="v2")]
        return chunks, events

    both(lambda m: loop.run(run(m)), anthropic_pair(server))
