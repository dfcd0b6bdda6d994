"""TokenDecoder, TokenChunk and the token iterators through the Python API: errors and
their fields, strictness, payloads, and httpx responses from a loopback server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import seltzer
from seltzer.tokens import aiter_chat_tokens as achat_tokens
from seltzer.tokens import aiter_token_texts as atoken_texts
from seltzer.tokens import iter_chat_tokens as chat_tokens
from seltzer.tokens import iter_token_texts as token_texts
from tests.conftest import MODES, run_async
from tests.server import Conn, LoopbackServer


def chat(content: str, *, finish: str | None = None) -> bytes:
    delta = {"content": content} if content else {}
    payload = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


def collect(
    mode: str,
    sync_items: Callable[[], Iterator[Any]],
    async_items: Callable[[], AsyncIterator[Any]],
    into: list[Any],
) -> None:
    """Appends each item as it arrives, through the API ``mode`` names."""
    if mode == "sync":
        for item in sync_items():
            into.append(item)
        return

    async def main() -> None:
        async for item in async_items():
            into.append(item)

    run_async(main(), mode)


async def _aiter(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def test_dialects_are_listed() -> None:
    assert seltzer.DIALECTS == (
        "openai-completions",
        "openai-chat",
        "openai-responses",
        "anthropic",
        "gemini",
        "tgi",
        "ollama",
        "json",
    )


def test_unknown_dialect_and_bad_text_path_name_the_choices() -> None:
    with pytest.raises(ValueError, match="expected one of: openai-completions, openai-chat"):
        seltzer.TokenDecoder("openai")
    with pytest.raises(ValueError, match="text_path"):
        seltzer.TokenDecoder("json")
    with pytest.raises(ValueError, match="pointer"):
        seltzer.TokenDecoder("json", text_path="a/b")
    with pytest.raises(ValueError, match="expected one of"):
        seltzer.iter_text([], "nope")


def test_token_chunk_fields_repr_eq_and_json() -> None:
    decoder = seltzer.TokenDecoder("openai-chat")
    [first] = decoder.feed(chat("Hi"))
    assert (first.text, first.index, first.finish_reason, first.usage) == ("Hi", 0, None, None)
    assert (first.tool_calls, first.reasoning, first.event) == (None, None, "message")
    assert repr(first) == "TokenChunk(text='Hi', index=0, event='message')"
    assert first == seltzer.TokenDecoder("openai-chat").feed(chat("Hi"))[0]
    assert first != seltzer.TokenDecoder("openai-chat").feed(chat("Ho"))[0]
    assert first.json() == {
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]
    }
    assert decoder.done is False
    assert decoder.feed(DONE) == []
    assert decoder.done is True
    assert decoder.dialect == "openai-chat"


def test_json_of_a_payload_split_across_chunks() -> None:
    decoder = seltzer.TokenDecoder("openai-chat")
    body = chat("split")
    tokens = decoder.feed(body[:20]) + decoder.feed(body[20:])
    assert tokens[0].json()["choices"][0]["delta"]["content"] == "split"


def test_tool_call_deltas_read_as_objects_and_dicts() -> None:
    payload = {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {"index": 1, "id": "call_1", "function": {"name": "f", "arguments": '{"a"'}}
                    ]
                },
                "finish_reason": None,
            }
        ]
    }
    [token] = seltzer.TokenDecoder("openai-chat").feed(
        b"data: " + json.dumps(payload).encode() + b"\n\n"
    )
    [delta] = token.tool_calls or []
    assert (delta.index, delta.id, delta.name, delta.arguments) == (1, "call_1", "f", '{"a"')
    assert delta["arguments"] == '{"a"'
    assert dict(delta) == {"index": 1, "id": "call_1", "name": "f", "arguments": '{"a"'}
    assert delta == {"index": 1, "id": "call_1", "name": "f", "arguments": '{"a"'}
    assert delta == seltzer.ToolCallDelta(1, "call_1", "f", '{"a"')
    assert repr(delta) == "ToolCallDelta(index=1, id='call_1', name='f', arguments='{\"a\"')"
    with pytest.raises(KeyError):
        delta["nope"]


def test_decode_error_has_stream_offset_and_snippet() -> None:
    decoder = seltzer.TokenDecoder("openai-chat")
    good = chat("ok")
    assert [t.text for t in decoder.feed(good)] == ["ok"]
    with pytest.raises(seltzer.DecodeError, match=r"of event 2 \(openai-chat\)") as info:
        decoder.feed(b'data: {"choices": [}\n\n')
    # The payload starts 6 bytes into the event ("data: "); the error is 13 bytes in.
    assert info.value.offset == len(good) + 6 + 13
    assert info.value.snippet == '{"choices": [}'


def test_tokens_before_an_error_come_first_and_the_error_sticks() -> None:
    decoder = seltzer.TokenDecoder("anthropic")
    body = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"Hel"}}\n\n'
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"Overloaded"}}\n\n'
    )
    assert [t.text for t in decoder.feed(body)] == ["Hel"]
    for _ in range(2):
        with pytest.raises(seltzer.StreamError) as info:
            decoder.flush()
        assert (info.value.type, info.value.message) == ("overloaded_error", "Overloaded")


def test_event_and_line_bounds() -> None:
    with pytest.raises(seltzer.SSEError, match="max_event_bytes=32"):
        seltzer.TokenDecoder("openai-chat", max_event_bytes=32).feed(chat("x" * 100))
    with pytest.raises(seltzer.SSEError) as info:
        seltzer.TokenDecoder("ollama", max_event_bytes=16).feed(b'{"response": "' + b"x" * 64)
    assert info.value.limit == 16


@pytest.mark.parametrize("mode", MODES)
def test_stream_without_terminal_marker_is_interrupted_with_partial(mode: str) -> None:
    chunks = [chat("Hello"), chat(" world")]
    seen: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted, match="without its terminal marker") as info:
        collect(
            mode,
            lambda: seltzer.iter_text(chunks, "openai-chat"),
            lambda: seltzer.aiter_text(_aiter(chunks), "openai-chat"),
            seen,
        )
    assert seen == ["Hello", " world"]
    assert info.value.partial == "Hello world"

    lenient: list[str] = []
    collect(
        mode,
        lambda: seltzer.iter_text(chunks, "openai-chat", strict=False),
        lambda: seltzer.aiter_text(_aiter(chunks), "openai-chat", strict=False),
        lenient,
    )
    assert lenient == ["Hello", " world"]


@pytest.mark.parametrize("mode", MODES)
def test_partial_text_of_an_endless_stream_stays_bounded(mode: str) -> None:
    # 20 tokens of 1 MiB: every one is delivered, .partial keeps the whole tokens that
    # fit in its 16 MiB, from the start, and the message says so.
    mib = 1024 * 1024
    texts = [chr(ord("a") + i) * mib for i in range(20)]
    chunks = [chat(t) for t in texts]
    seen: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted, match="keeps the text's first 16 MiB") as info:
        collect(
            mode,
            lambda: seltzer.iter_text(chunks, "openai-chat", max_event_bytes=2 * mib),
            lambda: seltzer.aiter_text(_aiter(chunks), "openai-chat", max_event_bytes=2 * mib),
            seen,
        )
    assert seen == texts
    assert info.value.partial == "".join(texts[:16])
    tokens = seltzer.iter_tokens(chunks, "openai-chat", max_event_bytes=2 * mib)
    with pytest.raises(seltzer.StreamInterrupted) as info:
        list(tokens)
    assert info.value.partial == "".join(texts[:16])


@pytest.mark.parametrize("mode", MODES)
def test_text_only_skips_tokens_without_text(mode: str) -> None:
    chunks = [chat("a"), chat(""), chat("b", finish="stop"), DONE]
    texts: list[str] = []
    collect(
        mode,
        lambda: seltzer.iter_text(chunks, "openai-chat"),
        lambda: seltzer.aiter_text(_aiter(chunks), "openai-chat"),
        texts,
    )
    assert texts == ["a", "b"]
    tokens: list[seltzer.TokenChunk] = []
    collect(
        mode,
        lambda: seltzer.iter_tokens(chunks, "openai-chat"),
        lambda: seltzer.aiter_tokens(_aiter(chunks), "openai-chat"),
        tokens,
    )
    assert [(t.text, t.finish_reason) for t in tokens] == [("a", None), ("b", "stop")]


def serve(server: LoopbackServer, path: str, pieces: list[bytes], **head: Any) -> None:
    @server.route(path)
    def _(conn: Conn) -> None:
        conn.head(**head)
        for piece in pieces:
            conn.send(piece)
            time.sleep(0.002)
        if pieces and pieces[-1] is DROP:
            return
        conn.end()


DROP = b""


def response_items(url: str, mode: str, dialect: str, text_only: bool, into: list[Any]) -> None:
    if mode == "sync":
        decode = seltzer.iter_text if text_only else seltzer.iter_tokens
        with httpx.Client(timeout=5) as client, client.stream("POST", url) as response:
            for item in decode(response, dialect):
                into.append(item)
        return

    async def main() -> None:
        adecode = seltzer.aiter_text if text_only else seltzer.aiter_tokens
        async with httpx.AsyncClient(timeout=5) as client, client.stream("POST", url) as response:
            async for item in adecode(response, dialect):
                into.append(item)

    run_async(main(), mode)


@pytest.mark.parametrize("mode", MODES)
def test_tokens_from_an_httpx_response(server: LoopbackServer, mode: str) -> None:
    serve(server, "/chat", [chat("Hel"), chat("lo", finish="stop"), DONE])
    texts: list[str] = []
    response_items(server.url + "/chat", mode, "openai-chat", True, texts)
    assert texts == ["Hel", "lo"]


def completion(text: str, *, finish: str | None = None) -> bytes:
    payload = {"choices": [{"text": text, "index": 0, "finish_reason": finish}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def read_all(
    url: str,
    mode: str,
    dialect: str,
    decode: Callable[[httpx.Response, str], Iterator[Any]],
    adecode: Callable[[httpx.Response, str], AsyncIterator[Any]],
) -> list[Any]:
    """Every item ``decode`` (sync) or ``adecode`` gives of a POST to ``url``."""
    if mode == "sync":
        with httpx.Client(timeout=5) as client, client.stream("POST", url) as response:
            return list(decode(response, dialect))

    async def main() -> list[Any]:
        async with httpx.AsyncClient(timeout=5) as client, client.stream("POST", url) as response:
            return [item async for item in adecode(response, dialect)]

    return run_async(main(), mode)


@pytest.mark.parametrize("mode", MODES)
def test_token_texts_are_one_per_token_empty_ones_too(server: LoopbackServer, mode: str) -> None:
    # What a text model's stream yields: a completion's last event often adds no text.
    serve(server, "/c", [completion("Hel"), completion("lo"), completion("", finish="stop"), DONE])
    url = server.url + "/c"
    texts = read_all(url, mode, "openai-completions", token_texts, atoken_texts)
    assert texts == ["Hel", "lo", ""]
    tokens: list[seltzer.TokenChunk] = []
    response_items(url, mode, "openai-completions", False, tokens)
    assert [t.text for t in tokens] == texts


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


@pytest.mark.parametrize("mode", MODES)
def test_chat_tokens_give_plain_first_choice_text_as_str(server: LoopbackServer, mode: str) -> None:
    # What a chat model reads: the first token whole (even though it is plain; the role
    # event before it makes none), then a str for text and nothing else at index 0, and
    # a TokenChunk for anything more.
    def choice(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        payload = {"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}
        return sse(payload)

    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}
    pieces = [
        choice(0, {"role": "assistant", "content": ""}),
        choice(0, {"content": "Hel"}),
        choice(0, {"content": "lo"}),
        choice(1, {"content": "other"}),
        choice(0, {"content": " there"}),
        choice(0, {"reasoning_content": "hm", "content": ""}),
        choice(0, {"tool_calls": [call]}),
        choice(0, {}, finish="stop"),
        sse({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}),
        DONE,
    ]
    serve(server, "/chat", pieces)
    url = server.url + "/chat"
    items = read_all(url, mode, "openai-chat", chat_tokens, achat_tokens)
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["TokenChunk", "str", "TokenChunk", "str", *["TokenChunk"] * 4]
    assert items[1] == "lo"
    assert items[3] == " there"
    whole: list[seltzer.TokenChunk] = []
    response_items(url, mode, "openai-chat", False, whole)
    assert [i if isinstance(i, str) else i.text for i in items] == [t.text for t in whole]
    assert [i for i in items if not isinstance(i, str)] == [
        t for t in whole if not (t.plain and t.index == 0) or t is whole[0]
    ]


def test_plain_texts_cannot_go_with_text_only() -> None:
    with pytest.raises(ValueError, match=r"plain_texts .* text_only"):
        seltzer._core.token_iterator([DONE], "openai-chat", text_only=True, plain_texts=True)


@pytest.mark.parametrize("mode", MODES)
def test_ollama_ndjson_response(server: LoopbackServer, mode: str) -> None:
    lines = [b'{"response": "Hi"}\n', b'{"response": "!", "done": true, "done_reason": "stop"}\n']
    serve(server, "/api/generate", lines, headers={"content-type": "application/x-ndjson"})
    tokens: list[seltzer.TokenChunk] = []
    response_items(server.url + "/api/generate", mode, "ollama", False, tokens)
    assert [t.text for t in tokens] == ["Hi", "!"]
    assert tokens[-1].finish_reason == "stop"


@pytest.mark.parametrize("mode", MODES)
def test_wrong_content_type_for_the_dialect(server: LoopbackServer, mode: str) -> None:
    serve(server, "/s", [b'{"response": "Hi"}\n'], headers={"content-type": "application/x-ndjson"})
    with pytest.raises(
        seltzer.SSEError, match=r"expected text/event-stream .* got 'application/x-ndjson'"
    ):
        response_items(server.url + "/s", mode, "openai-chat", True, [])


@pytest.mark.parametrize("mode", MODES)
def test_status_error_from_a_response(server: LoopbackServer, mode: str) -> None:
    serve(
        server,
        "/s",
        [b'{"error": {"message": "bad key"}}'],
        status=401,
        headers={"content-type": "application/json"},
    )
    with pytest.raises(seltzer.APIStatusError) as info:
        response_items(server.url + "/s", mode, "openai-chat", True, [])
    assert info.value.status_code == 401
    assert info.value.body == {"error": {"message": "bad key"}}


@pytest.mark.parametrize("mode", MODES)
def test_dropped_connection_keeps_tokens_and_partial(server: LoopbackServer, mode: str) -> None:
    @server.route("/s")
    def _(conn: Conn) -> None:
        conn.head()
        conn.send(chat("one") + chat(" two") + b'data: {"choi')
        time.sleep(0.05)
        conn.drop()

    texts: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted) as info:
        response_items(server.url + "/s", mode, "openai-chat", True, texts)
    assert texts == ["one", " two"]
    assert info.value.partial == "one two"
    assert isinstance(info.value.__cause__, httpx.TransportError)


@given(st.sampled_from(list(seltzer.DIALECTS)), st.binary(max_size=600), st.integers(1, 50))
def test_random_bytes_give_tokens_or_seltzer_errors(dialect: str, body: bytes, size: int) -> None:
    def run(pieces: list[bytes]) -> tuple[list[Any], str | None]:
        decoder = seltzer.TokenDecoder(dialect, text_path="/a" if dialect == "json" else None)
        out: list[Any] = []
        try:
            for piece in pieces:
                out += [
                    (t.text, t.index, t.finish_reason, t.reasoning) for t in decoder.feed(piece)
                ]
            out += [(t.text, t.index, t.finish_reason, t.reasoning) for t in decoder.flush()]
        except seltzer.SeltzerError as exc:
            return out, type(exc).__name__
        return out, None

    whole = run([body])
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    assert run(pieces) == whole
