"""LangChain parity: seltzer and langchain-core + langchain-openai run the same
compositions against the same mock server, and their ``astream_events`` (v1 and v2),
stream chunks and invoke / batch results must be equal after normalising what
differs by nature (run ids, LangChain's package versions)."""

from __future__ import annotations

import asyncio
import gc
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("langchain_core")
pytest.importorskip("langchain_openai")

import langchain_core.output_parsers as lc_parsers
import langchain_core.prompts as lc_prompts
import langchain_openai
from langchain_core._api.deprecation import LangChainDeprecationWarning

import seltzer
from seltzer import llms, runnables

# The openai SDK under langchain-openai closes its async HTTP clients only from a
# running loop; collected later they warn about unclosed sockets. Those are LangChain's
# (seltzer's models are closed in ``pair`` and checked for leaks in test_llms_*.py).
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

CONFIGS = {
    "plain": None,
    "tagged": {"tags": ["t1", "t2"], "metadata": {"k": "v", "n": 1}, "run_name": "my_run"},
    "tags-only": {"tags": ["only"]},
}


@pytest.fixture(scope="module")
def server() -> Iterator[seltzer.mock.MockServer]:
    with seltzer.mock.serve(tokens=6) as srv:
        yield srv


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.Runner]:
    """One event loop for the module: langchain-openai caches its async HTTP client
    process-wide, so a loop per test would leave it with connections of a closed loop."""
    with asyncio.Runner() as runner:
        yield runner
        # Collect LangChain's unclosed clients here, under this module's filter, rather
        # than during some later test.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.fixture
def pair(server: Any, loop: asyncio.Runner) -> Iterator[Pair]:
    made: list[Pair] = []

    def make(**options: Any) -> Pair:
        made.append(Pair(server.url, **options))
        return made[-1]

    yield make  # type: ignore[misc]
    for p in made:
        loop.run(p.aclose())


def normalize(value: Any, ids: dict[str, str] | None = None) -> Any:
    """A comparable form: objects become ``{"__class__": name, **model_dump()}``, run
    ids become their order of first appearance, and LangChain's ``lc_versions``
    metadata goes (it names LangChain's own package versions, which seltzer, not
    being LangChain, does not claim)."""
    ids = {} if ids is None else ids
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return {"__class__": type(value).__name__, **normalize(value.model_dump(), ids)}
    if isinstance(value, dict):
        return {k: normalize(v, ids) for k, v in value.items() if k != "lc_versions"}
    if isinstance(value, (list, tuple)):
        return [normalize(v, ids) for v in value]
    if isinstance(value, str):
        return UUID.sub(lambda m: ids.setdefault(m.group(0), f"<id{len(ids)}>"), value)
    return value


def drop_sdk_nones(value: Any) -> Any:
    """``token_usage`` without None values: langchain-openai dumps the openai SDK's
    pydantic model, which adds fields the server never sent (``text_tokens: None``...);
    seltzer reports the server's JSON as it came."""
    if isinstance(value, dict):
        return {k: drop_sdk_nones(v) for k, v in value.items() if v is not None}
    return value


def normalize_message(message: Any) -> Any:
    out = normalize(message)
    usage = out.get("response_metadata", {}).get("token_usage")
    if usage is not None:
        out["response_metadata"]["token_usage"] = drop_sdk_nones(usage)
    return out


class Pair:
    """The same models on both sides."""

    def __init__(self, url: str, *, max_tokens: int = 4, **chat_options: Any) -> None:
        base = url + "/v1"
        self.lc_llm = langchain_openai.OpenAI(
            model="gpt-3.5-turbo-instruct", base_url=base, api_key="sk-test", max_tokens=max_tokens
        )
        self.sz_llm = llms.OpenAI(
            model="gpt-3.5-turbo-instruct", base_url=base, api_key="sk-test", max_tokens=max_tokens
        )
        self.lc_chat = langchain_openai.ChatOpenAI(
            model="gpt-4o-mini",
            base_url=base,
            api_key="sk-test",
            max_tokens=max_tokens,
            **chat_options,
        )
        self.sz_chat = llms.ChatOpenAI(
            model="gpt-4o-mini",
            base_url=base,
            api_key="sk-test",
            max_tokens=max_tokens,
            **chat_options,
        )

    async def aclose(self) -> None:
        for model in (self.sz_llm, self.sz_chat):
            await model.aclose()

    def composition(self, which: str, side: str) -> tuple[Any, Any]:
        lc = side == "lc"
        llm = self.lc_llm if lc else self.sz_llm
        chat = self.lc_chat if lc else self.sz_chat
        prompts = lc_prompts if lc else runnables
        parser = (lc_parsers.StrOutputParser if lc else runnables.StrOutputParser)()
        if which == "llm":
            return llm, "Write me a 1 verse song about sparkling water."
        if which == "chat":
            return chat, "Write me a 1 verse song about sparkling water."
        if which == "prompt|llm|parser":
            prompt = prompts.PromptTemplate.from_template("Write me a 1 verse song about {topic}.")
            return prompt | llm | parser, {"topic": "sparkling water"}
        chat_prompt = prompts.ChatPromptTemplate.from_messages(
            [("system", "You are a poet."), ("human", "Write me a 1 verse song about {topic}.")]
        )
        return chat_prompt | chat | parser, {"topic": "sparkling water"}


async def collect_events(
    runnable: Any, value: Any, config: Any, version: str, **filters: Any
) -> list[Any]:
    with warnings.catch_warnings():
        # LangChain deprecated v1 (seltzer keeps it quiet): not what is compared here.
        warnings.simplefilter("ignore", LangChainDeprecationWarning)
        return [
            event
            async for event in runnable.astream_events(
                value, dict(config) if config else None, version=version, **filters
            )
        ]


COMPOSITIONS = ["llm", "chat", "prompt|llm|parser", "chat_prompt|chat|parser"]


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
@pytest.mark.parametrize("which", COMPOSITIONS)
def test_astream_events_match_langchain(
    pair: Any, loop: asyncio.Runner, which: str, config: str, version: str
) -> None:
    pair = pair()

    async def main() -> tuple[list[Any], list[Any]]:
        lc = await collect_events(*pair.composition(which, "lc"), CONFIGS[config], version)
        sz = await collect_events(*pair.composition(which, "sz"), CONFIGS[config], version)
        return lc, sz

    lc, sz = loop.run(main())
    assert len(lc) > 4
    assert normalize(sz) == normalize(lc)


@pytest.mark.parametrize(
    "filters",
    [
        {"include_types": ["chat_model"]},
        {"include_names": ["StrOutputParser"], "include_tags": ["seq:step:1"]},
        {"exclude_types": ["chain", "parser"]},
        {"exclude_tags": ["seq:step:2"]},
    ],
    ids=["types", "names+tags", "exclude-types", "exclude-tags"],
)
@pytest.mark.parametrize("version", ["v2", "v1"])
def test_filtered_events_match_langchain(
    pair: Any, loop: asyncio.Runner, filters: dict[str, Any], version: str
) -> None:
    pair = pair()

    async def main() -> tuple[list[Any], list[Any]]:
        lc = await collect_events(
            *pair.composition("chat_prompt|chat|parser", "lc"), None, version, **filters
        )
        sz = await collect_events(
            *pair.composition("chat_prompt|chat|parser", "sz"), None, version, **filters
        )
        return lc, sz

    lc, sz = loop.run(main())
    assert lc
    assert normalize(sz) == normalize(lc)


@pytest.mark.parametrize("which", ["chat", "chat_prompt|chat|parser"])
def test_long_stream_events_match_langchain(pair: Any, loop: asyncio.Runner, which: str) -> None:
    """300 tokens arriving together: handed to the consumer in batches, the model's
    chunks summed for its end event, every event and chunk its own object."""
    pair = pair(default_headers={"x-mock-tokens": "300"})

    async def main() -> tuple[list[Any], list[Any]]:
        lc = await collect_events(*pair.composition(which, "lc"), None, "v2")
        sz = await collect_events(*pair.composition(which, "sz"), None, "v2")
        return lc, sz

    lc, sz = loop.run(main())
    assert len(lc) > 300
    assert normalize(sz) == normalize(lc)
    stream = [e for e in sz if e["event"] == "on_chat_model_stream"]
    assert len({id(e) for e in stream}) == len({id(e["data"]["chunk"]) for e in stream})
    assert len({id(e["data"]["chunk"]) for e in stream}) == len(stream) > 300


@pytest.mark.parametrize("stream_usage", [True, False])
def test_chat_stream_chunks_match_langchain(
    pair: Any, loop: asyncio.Runner, stream_usage: bool
) -> None:
    pair = pair(stream_usage=stream_usage)
    question = "Write me a 1 verse song about sparkling water."
    lc = list(pair.lc_chat.stream(question))
    sz = list(pair.sz_chat.stream(question))
    assert normalize(sz) == normalize(lc)
    assert any(c.usage_metadata for c in sz) is stream_usage

    async def main() -> tuple[list[Any], list[Any]]:
        return (
            [c async for c in pair.lc_chat.astream(question)],
            [c async for c in pair.sz_chat.astream(question)],
        )

    lc, sz = loop.run(main())
    assert normalize(sz) == normalize(lc)
    total = sz[0] + sz[1:]
    assert normalize(total) == normalize(lc[0] + lc[1:])


def test_llm_stream_chunks_match_langchain(pair: Any, loop: asyncio.Runner) -> None:
    pair = pair(max_tokens=12)
    question = "Write me a 1 verse song about sparkling water."
    assert list(pair.sz_llm.stream(question)) == list(pair.lc_llm.stream(question))

    async def main() -> tuple[list[str], list[str]]:
        return (
            [c async for c in pair.lc_llm.astream(question)],
            [c async for c in pair.sz_llm.astream(question)],
        )

    lc, sz = loop.run(main())
    assert sz == lc
    assert len(sz) == 12


def test_chat_invoke_and_batch_match_langchain(pair: Any, loop: asyncio.Runner) -> None:
    pair = pair()
    questions = ["one", "two", "three"]
    assert normalize_message(pair.sz_chat.invoke("hi")) == normalize_message(
        pair.lc_chat.invoke("hi")
    )
    lc = [normalize_message(m) for m in pair.lc_chat.batch(questions)]
    sz = [normalize_message(m) for m in pair.sz_chat.batch(questions)]
    assert sz == lc

    async def main() -> tuple[Any, Any, Any, Any]:
        return (
            await pair.lc_chat.ainvoke("hi"),
            await pair.sz_chat.ainvoke("hi"),
            await pair.lc_chat.abatch(questions, {"max_concurrency": 2}),
            await pair.sz_chat.abatch(questions, {"max_concurrency": 2}),
        )

    lc_one, sz_one, lc_many, sz_many = loop.run(main())
    assert normalize_message(sz_one) == normalize_message(lc_one)
    assert [normalize_message(m) for m in sz_many] == [normalize_message(m) for m in lc_many]


def test_llm_invoke_and_batch_match_langchain(pair: Any, loop: asyncio.Runner) -> None:
    pair = pair(max_tokens=8)
    assert pair.sz_llm.invoke("hi") == pair.lc_llm.invoke("hi")
    # LangChain's OpenAI.batch sends one request with a list of prompts, which the
    # mock does not take: its per-input answers are the reference.
    expected = [pair.lc_llm.invoke(q) for q in ("a", "b")]
    assert pair.sz_llm.batch(["a", "b"]) == expected
    assert loop.run(pair.sz_llm.abatch(["a", "b"])) == expected


def test_chain_invoke_and_stream_match_langchain(pair: Any) -> None:
    pair = pair()
    for which in COMPOSITIONS[2:]:
        lc_chain, value = pair.composition(which, "lc")
        sz_chain, _ = pair.composition(which, "sz")
        assert sz_chain.invoke(value) == lc_chain.invoke(value)
        assert list(sz_chain.stream(value)) == list(lc_chain.stream(value))


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_tool_call_chunks_match_langchain(pair: Any) -> None:
    pair = pair(max_tokens=20)
    lc_model = pair.lc_chat.bind_tools([WEATHER_TOOL])
    sz_model = pair.sz_chat.bind_tools([WEATHER_TOOL])
    lc = list(lc_model.stream("weather in Paris?"))
    sz = list(sz_model.stream("weather in Paris?"))
    assert any(c.tool_call_chunks for c in sz)
    assert normalize(sz) == normalize(lc)
    assert normalize(sz[0] + sz[1:]) == normalize(lc[0] + lc[1:])
    assert normalize_message(sz_model.invoke("weather?")) == normalize_message(
        lc_model.invoke("weather?")
    )
