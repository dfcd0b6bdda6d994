"""Output parsers: ``StrOutputParser`` (the text of each chunk) and ``JsonOutputParser``
(the JSON object parsed so far, re-yielded as the text grows). Both transform a stream
chunk by chunk, so in a sequence they pass tokens on as they arrive."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from seltzer.messages.base import BaseMessage
from seltzer.messages.kinds import AIMessageChunk
from seltzer.messages.tool_calls import parse_partial_json
from seltzer.runnables.base import Runnable
from seltzer.runnables.config import RunnableConfig

__all__ = ["BaseOutputParser", "JsonOutputParser", "OutputParserException", "StrOutputParser"]


class OutputParserException(ValueError):
    """The model's output could not be parsed (``llm_output`` holds it)."""

    def __init__(self, message: str, llm_output: str | None = None) -> None:
        super().__init__(message)
        self.llm_output = llm_output


def _text(value: Any) -> str:
    # Once per streamed token: a message chunk with text content, the short way.
    if type(value) is AIMessageChunk and type(content := value.content) is str:
        return content
    if isinstance(value, BaseMessage):
        return value.text
    if hasattr(value, "type") and hasattr(value, "content") and not isinstance(value, str):
        content = value.content  # a LangChain message, duck-typed
        if isinstance(content, str):
            return content
        return "".join(
            b if isinstance(b, str) else b.get("text", "")
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
        )
    return str(value)


class BaseOutputParser(Runnable):
    """Parses a model's output (a string or a message) as a ``"parser"`` run."""

    def parse(self, text: str) -> Any:
        """The parsed value of a whole output."""
        raise NotImplementedError

    def parse_text(self, text: str, *, partial: bool = False) -> Any:
        """The parsed value of the text so far (``partial``: it may be cut short)."""
        return self.parse(text)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Parses one whole output."""
        return self._call_with_config(
            lambda value: self.parse_text(_text(value)), input, config, run_type="parser"
        )

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The async twin of ``invoke``."""

        async def parse(value: Any) -> Any:
            return self.parse_text(_text(value))

        return await self._acall_with_config(parse, input, config, run_type="parser")

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Parses a stream as it comes (see the subclasses for what each chunk gives)."""
        return self._transform_stream_with_config(input, self._transform, config, run_type="parser")

    def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """The async twin of ``transform``."""
        return self._atransform_stream_with_config(
            input, self._atransform, config, run_type="parser"
        )

    def _transform(self, chunks: Iterator[Any]) -> Iterator[Any]:
        for chunk in chunks:
            yield self.parse_text(_text(chunk))

    async def _atransform(self, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for chunk in chunks:
            yield self.parse_text(_text(chunk))


class StrOutputParser(BaseOutputParser):
    """The text of the output: each streamed chunk's text as it arrives."""

    def parse(self, text: str) -> str:
        """Returns ``text`` unchanged."""
        return text

    def parse_text(self, text: str, *, partial: bool = False) -> str:
        """Returns ``text`` unchanged."""
        return text

    def _transform(self, chunks: Iterator[Any]) -> Iterator[Any]:
        if type(self).parse_text is not StrOutputParser.parse_text:
            yield from super()._transform(chunks)
            return
        yield from map(_text, chunks)  # parse_text would return each text unchanged

    async def _atransform(self, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if type(self).parse_text is not StrOutputParser.parse_text:
            async for text in super()._atransform(chunks):
                yield text
            return
        async for chunk in chunks:
            yield _text(chunk)


_FENCE = re.compile(r"```(json)?(.*)", re.DOTALL)


class JsonOutputParser(BaseOutputParser):
    """A JSON value from the output (fenced in Markdown or not). Streaming, it yields
    the object parsed so far each time the growing text parses to something new."""

    def parse(self, text: str) -> Any:
        """The JSON value of a whole output.

        Raises:
            OutputParserException: Not JSON.
        """
        return self.parse_text(text)

    def parse_text(self, text: str, *, partial: bool = False) -> Any:
        """The JSON value of the text so far; None for an unparsable partial text.

        Raises:
            OutputParserException: A whole text that is not JSON.
        """
        text = text.strip()
        try:
            return _parse_json_markdown(text)
        except json.JSONDecodeError as exc:
            if partial:
                return None
            raise OutputParserException(f"Invalid json output: {text}", llm_output=text) from exc

    def _transform(self, chunks: Iterator[Any]) -> Iterator[Any]:
        previous: Any = None
        text = ""
        for chunk in chunks:
            text = _grow(text, chunk)
            parsed = self.parse_text(text, partial=True)
            if parsed is not None and parsed != previous:
                yield parsed
                previous = parsed

    async def _atransform(self, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        previous: Any = None
        text = ""
        async for chunk in chunks:
            text = _grow(text, chunk)
            parsed = self.parse_text(text, partial=True)
            if parsed is not None and parsed != previous:
                yield parsed
                previous = parsed


def _grow(text: str, chunk: Any) -> str:
    return text + _text(chunk)


def _parse_json_markdown(text: str) -> Any:
    try:
        return _parse_json(text)
    except json.JSONDecodeError:
        match = _FENCE.search(text)
        return _parse_json(text if match is None else match.group(2))


def _parse_json(text: str) -> Any:
    return parse_partial_json(text.strip(" \n\r\t`"))
