"""Each provider model against the mock server's rendition of its API: the text,
usage and finish metadata of ``stream`` / ``astream`` / ``invoke``, and tool calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import seltzer
from seltzer.llms import ChatAnthropic, ChatGemini, ChatOllama, ChatOpenAI, OpenAI
from seltzer.messages import AIMessage, AIMessageChunk
from tests.conftest import MODES, run_async

TEXT = "Every valley story, story"


@pytest.fixture
def server() -> Iterator[Any]:
    with seltzer.mock.serve(tokens=5) as srv:
        yield srv


def models(url: str) -> dict[str, Any]:
    return {
        "openai": ChatOpenAI(base_url=url + "/v1", api_key="k", stream_usage=True),
        "anthropic": ChatAnthropic(base_url=url, api_key="k", max_tokens=5),
        "gemini": ChatGemini(base_url=url, api_key="k"),
        "ollama": ChatOllama(base_url=url),
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "ollama"])
def test_chat_models_stream_text_and_usage(server: Any, provider: str, mode: str) -> None:
    model = models(server.url)[provider]
    if mode == "sync":
        with model:
            chunks = list(model.stream([("system", "be brief"), ("human", "hi")]))
            message = model.invoke("hi")
    else:

        async def main() -> tuple[list[Any], Any]:
            async with model:
                got = [c async for c in model.astream([("system", "be brief"), ("human", "hi")])]
                return got, await model.ainvoke("hi")

        chunks, message = run_async(main(), mode)
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    total = chunks[0] + chunks[1:]
    assert total.content == TEXT
    assert total.chunk_position == "last"
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_tokens"] == 5
    assert len({c.id for c in chunks[:-1]}) == 1  # the closing chunk carries the run id
    assert total.id == chunks[0].id
    # Each chunk owns its dicts and lists (a caller may change one chunk's).
    for field in ("response_metadata", "additional_kwargs", "tool_call_chunks", "tool_calls"):
        assert len({id(getattr(c, field)) for c in chunks}) == len(chunks), field
    assert isinstance(message, AIMessage)
    assert message.content == TEXT
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] == 5


@pytest.mark.parametrize("mode", MODES)
# (Gemini's events all carry the usage so far: none is plain, and it has no short way.)
@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama"])
def test_plain_tokens_the_short_way_make_the_chunks_convert_makes(
    server: Any, provider: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A converter's plain_metadata lets the model make plain text chunks itself: they
    # must equal what its convert makes of the same tokens.
    def chunks() -> list[dict[str, Any]]:
        model = models(server.url)[provider]
        if mode == "sync":
            with model:
                got = list(model.stream("hi"))
        else:

            async def main() -> list[Any]:
                async with model:
                    return [c async for c in model.astream("hi")]

            got = run_async(main(), mode)
        return [{**c.model_dump(), "id": None} for c in got]

    kind = type(models(server.url)[provider])
    assert kind._converter(models(server.url)[provider]).plain_metadata is not None
    short = chunks()
    make = kind._converter

    def without_short_way(self: Any) -> Any:
        converter = make(self)
        converter.plain_metadata = None
        return converter

    monkeypatch.setattr(kind, "_converter", without_short_way)
    assert chunks() == short
    assert len(short) > 3


# The mock answers with tool calls on OpenAI's wire only.
@pytest.mark.parametrize("provider", ["openai"])
def test_chat_models_stream_tool_calls(server: Any, provider: str) -> None:
    model = models(server.url)[provider].bind_tools([get_weather])
    chunks = list(model.stream("weather in Paris?"))
    total = chunks[0] + chunks[1:]
    assert [c["name"] for c in total.tool_calls] == ["get_weather"]
    assert isinstance(total.tool_calls[0]["args"], dict)
    model.bound.close()


def get_weather(city: str, unit: str = "C") -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@pytest.mark.parametrize("mode", MODES)
def test_openai_completions_stream_strings(server: Any, mode: str) -> None:
    llm = OpenAI(base_url=server.url + "/v1", api_key="k", max_tokens=5)
    if mode == "sync":
        tokens = list(llm.stream("Write me a 1 verse song about sparkling water."))
        llm.close()
    else:

        async def main() -> list[str]:
            async with llm:
                return [
                    t async for t in llm.astream("Write me a 1 verse song about sparkling water.")
                ]

        tokens = run_async(main(), mode)
    assert all(isinstance(t, str) for t in tokens)
    assert tokens == ["Every", " valley", " story", ",", " story"]
    assert "".join(tokens) == TEXT
