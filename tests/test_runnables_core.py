"""The Runnable layer without models: composition with ``|`` and callables, batch
options, config, duck-typed callbacks, streaming through sequences, and the
prompts, parsers and messages (checked against langchain-core where it matters)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from seltzer.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    to_messages,
)
from seltzer.runnables import (
    ChatPromptTemplate,
    JsonOutputParser,
    MessagesPlaceholder,
    PromptTemplate,
    RunnableLambda,
    StrOutputParser,
)
from tests.conftest import MODES, run_async


def run(runnable: Any, value: Any, mode: str, config: Any = None) -> Any:
    if mode == "sync":
        return runnable.invoke(value, config)
    return run_async(runnable.ainvoke(value, config), mode)


def stream(runnable: Any, value: Any, mode: str, config: Any = None) -> list[Any]:
    if mode == "sync":
        return list(runnable.stream(value, config))

    async def main() -> list[Any]:
        return [chunk async for chunk in runnable.astream(value, config)]

    return run_async(main(), mode)


@pytest.mark.parametrize("mode", MODES)
def test_pipe_coerces_callables_on_both_sides(mode: str) -> None:
    chain = (lambda x: x + 1) | RunnableLambda(lambda x: x * 2) | str
    assert run(chain, 3, mode) == "8"
    assert [s.get_name() for s in chain.steps] == ["RunnableLambda", "RunnableLambda", "str"]


@pytest.mark.parametrize("mode", MODES)
def test_async_functions_and_config_parameter(mode: str) -> None:
    async def shout(text: str, config: dict[str, Any]) -> str:
        return text.upper() + "!" * len(config["tags"])

    chain = RunnableLambda(lambda s: s.strip()) | shout
    if mode == "sync":
        with pytest.raises(TypeError, match="only an async function"):
            chain.invoke(" hi ")
        return
    assert run(chain, " hi ", mode, {"tags": ["a", "b"]}) == "HI!!"


@pytest.mark.parametrize("mode", MODES)
def test_batch_keeps_order_limits_concurrency_and_returns_exceptions(mode: str) -> None:
    active = [0, 0]

    async def work(x: int) -> int:
        active[0] += 1
        active[1] = max(active)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active[0] -= 1
        if x == 3:
            raise ValueError("three")
        return x * 10

    def sync_work(x: int) -> int:
        if x == 3:
            raise ValueError("three")
        return x * 10

    runnable = RunnableLambda(sync_work, afunc=work)
    inputs = [1, 2, 3, 4, 5]
    config = {"max_concurrency": 2}
    if mode == "sync":
        out = runnable.batch(inputs, config, return_exceptions=True)
        with pytest.raises(ValueError, match="three"):
            runnable.batch(inputs, config)
    else:
        out = run_async(runnable.abatch(inputs, config, return_exceptions=True), mode)
        assert active[1] == 2
        with pytest.raises(ValueError, match="three"):
            run_async(runnable.abatch(inputs, config), mode)
    assert out[:2] == [10, 20]
    assert out[3:] == [40, 50]
    assert isinstance(out[2], ValueError)
    assert runnable.batch([]) == []


class Recorder:
    """A callback handler with LangChain's method names (no LangChain needed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: Any,
        parent_run_id: Any,
        tags: list[str],
        metadata: dict[str, Any],
        name: str,
        **kw: Any,
    ) -> None:
        self.calls.append(
            ("chain_start", name, tuple(tags), metadata.get("k"), parent_run_id is None)
        )

    async def on_chain_end(self, outputs: Any, *, run_id: Any, **kw: Any) -> None:
        self.calls.append(("chain_end", outputs))


@pytest.mark.parametrize("mode", MODES)
def test_callbacks_are_called_duck_typed_with_tags_metadata_and_run_name(mode: str) -> None:
    recorder = Recorder()
    chain = (
        PromptTemplate.from_template("say {word}") | (lambda v: v.to_string()) | StrOutputParser()
    )
    config = {"callbacks": [recorder], "tags": ["t"], "metadata": {"k": "v"}, "run_name": "top"}
    assert run(chain, {"word": "hi"}, mode, config) == "say hi"
    starts = [c for c in recorder.calls if c[0] == "chain_start"]
    assert starts == [
        ("chain_start", "top", ("t",), "v", True),
        ("chain_start", "PromptTemplate", ("seq:step:1", "t"), "v", False),
        ("chain_start", "RunnableLambda", ("seq:step:2", "t"), "v", False),
        ("chain_start", "StrOutputParser", ("seq:step:3", "t"), "v", False),
    ]
    assert recorder.calls[-1] == ("chain_end", "say hi")


def test_with_config_and_bind() -> None:
    recorder = Recorder()
    seen = []
    base = RunnableLambda(lambda x, config: seen.append(config["tags"]) or x)
    bound = base.with_config(tags=["bound"], callbacks=[recorder], run_name="named")
    assert bound.invoke(1, {"tags": ["call"]}) == 1
    assert recorder.calls[0][1] == "named"
    assert sorted(recorder.calls[0][2]) == ["bound", "call"]
    assert bound.get_name() == "RunnableLambda"


def source(chunks: list[str]) -> RunnableLambda:
    """A Runnable that streams ``chunks`` (a generator function)."""

    def gen(_: Any) -> Iterator[str]:
        yield from chunks

    async def agen(_: Any) -> AsyncIterator[str]:
        for chunk in chunks:
            yield chunk

    return RunnableLambda(gen, afunc=agen)


def test_a_run_astream_events_leaves_out_still_sums_its_chunks_for_other_handlers() -> None:
    # The events handler reads no totals of a run its filter leaves out; another
    # handler on the same run still gets the whole output at its end.
    recorder = Recorder()
    chain = source(["Every", " valley", " story"]) | StrOutputParser()

    async def main() -> list[Any]:
        config: Any = {"callbacks": [recorder]}
        events = chain.astream_events(None, config, exclude_types=["chain", "parser"])
        return [event async for event in events]

    assert asyncio.run(main()) == []
    ends = [c for c in recorder.calls if c[0] == "chain_end"]
    assert ends[-2:] == [("chain_end", "Every valley story")] * 2  # the parser, the chain


@pytest.mark.parametrize("mode", MODES)
def test_parsers_stream_through_sequences_and_lambdas_wait(mode: str) -> None:
    chunks = ["Every", " valley", " story"]
    assert stream(source(chunks) | StrOutputParser(), None, mode) == chunks
    assert stream(source(chunks) | StrOutputParser() | str.upper, None, mode) == [
        "EVERY VALLEY STORY"
    ]


@pytest.mark.parametrize("mode", MODES)
def test_str_parser_streams_message_text_and_a_subclass_still_parses(mode: str) -> None:
    chunks = [AIMessageChunk([{"type": "text", "text": "Every"}]), AIMessageChunk(" valley"), "!"]
    assert stream(source(chunks) | StrOutputParser(), None, mode) == ["Every", " valley", "!"]

    class Shout(StrOutputParser):
        def parse_text(self, text: str, *, partial: bool = False) -> str:
            return text.upper()

    assert stream(source(chunks) | Shout(), None, mode) == ["EVERY", " VALLEY", "!"]


@pytest.mark.parametrize("mode", MODES)
def test_json_parser_streams_partial_objects_like_langchain(mode: str) -> None:
    lc_parsers = pytest.importorskip("langchain_core.output_parsers")
    chunks = ['```json\n{"a": 1', ', "b": ["x', 'y", 2', "]", ', "c": {"d": tru', "e}}\n```"]
    ours = stream(source(chunks) | JsonOutputParser(), None, mode)
    theirs = list(lc_parsers.JsonOutputParser().transform(iter(chunks)))
    assert ours == theirs
    assert ours[-1] == {"a": 1, "b": ["xy", 2], "c": {"d": True}}
    assert JsonOutputParser().invoke('{"k": [1, 2]}') == {"k": [1, 2]}


def test_prompts_match_langchain() -> None:
    lc_prompts = pytest.importorskip("langchain_core.prompts")
    ours = ChatPromptTemplate.from_messages(
        [("system", "Be {style}."), ("placeholder", "{history}"), ("human", "{question}")]
    )
    theirs = lc_prompts.ChatPromptTemplate.from_messages(
        [("system", "Be {style}."), ("placeholder", "{history}"), ("human", "{question}")]
    )
    values = {"style": "brief", "question": "why?", "history": [("human", "hi"), ("ai", "hello")]}
    assert ours.invoke(values).model_dump() == theirs.invoke(values).model_dump()
    assert sorted(ours.input_variables) == sorted(theirs.input_variables)
    assert (
        ours.invoke({**values, "history": []}).to_string()
        == theirs.invoke({**values, "history": []}).to_string()
    )
    plain = PromptTemplate.from_template("Tell me about {topic}")
    assert plain.invoke("water").to_string() == "Tell me about water"
    with pytest.raises(KeyError, match="missing variables"):
        ChatPromptTemplate.from_template("{a} {b}").invoke({"a": 1})
    required = ChatPromptTemplate.from_messages([MessagesPlaceholder("msgs")])
    assert required.input_variables == ["msgs"]


def test_messages_add_and_convert() -> None:
    first = AIMessageChunk(
        "",
        tool_call_chunks=[
            {"name": "f", "args": '{"a": ', "id": "c1", "index": 0, "type": "tool_call_chunk"}
        ],
    )
    second = AIMessageChunk(
        "",
        tool_call_chunks=[
            {"name": None, "args": "1}", "id": None, "index": 0, "type": "tool_call_chunk"}
        ],
        usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    )
    total = first + second
    assert total.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert total.usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    assert first.tool_calls == [{"name": "f", "args": {}, "id": "c1", "type": "tool_call"}]
    converted = to_messages(
        [
            "plain",
            ("system", "s"),
            {"role": "assistant", "content": "a"},
            {"role": "tool", "content": "r", "tool_call_id": "c1"},
        ]
    )
    assert converted == [
        HumanMessage("plain"),
        SystemMessage("s"),
        AIMessage("a"),
        ToolMessage("r", tool_call_id="c1"),
    ]
    with pytest.raises(ValueError, match="unknown message role"):
        to_messages([("wizard", "x")])


def test_a_streamed_chunk_equals_the_constructed_one_in_every_field() -> None:
    fast = AIMessageChunk.streamed("hi", {"model_provider": "openai"}, "run-1")
    made = AIMessageChunk("hi", response_metadata={"model_provider": "openai"}, id="run-1")
    assert fast == made
    assert fast.model_dump() == made.model_dump()
    # Every slot of the class is set, so that no field reads as missing.
    slots = {s for cls in type(made).__mro__ for s in getattr(cls, "__slots__", ())}
    assert {s: getattr(fast, s) for s in slots} == {s: getattr(made, s) for s in slots}
    assert (fast + made).content == "hihi"


def test_langchain_messages_are_taken_duck_typed() -> None:
    lc = pytest.importorskip("langchain_core.messages")
    given = [
        lc.SystemMessage("s"),
        lc.HumanMessage("h", id="h1"),
        lc.AIMessage("", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1"}]),
        lc.ToolMessage("r", tool_call_id="c1"),
    ]
    ours = to_messages(given)
    assert [m.model_dump() for m in ours] == [m.model_dump() for m in given]
