"""iter_sse / aiter_sse over byte iterables: one body per case, run sync, on asyncio
and on uvloop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator

import pytest

import seltzer
from seltzer import ServerSentEvent
from tests.conftest import MODES, acollect, run_async


async def _aiter(chunks: Iterable[bytes], pause: bool = True) -> AsyncIterator[bytes]:
    for chunk in chunks:
        if pause:
            await asyncio.sleep(0)
        yield chunk


def collect(chunks: list[bytes], mode: str, **kwargs: int) -> list[ServerSentEvent]:
    if mode == "sync":
        return list(seltzer.iter_sse(chunks, **kwargs))
    return run_async(acollect(seltzer.aiter_sse(_aiter(chunks), **kwargs)), mode)


def drain_into(
    seen: list[ServerSentEvent],
    mode: str,
    sync_events: Callable[[], Iterator[ServerSentEvent]],
    async_events: Callable[[], AsyncIterator[ServerSentEvent]],
) -> None:
    """Appends every event to ``seen`` as it arrives, through the API ``mode`` names."""
    if mode == "sync":
        for ev in sync_events():
            seen.append(ev)
        return

    async def main() -> None:
        async for ev in async_events():
            seen.append(ev)

    run_async(main(), mode)


@pytest.mark.parametrize("mode", MODES)
def test_events_across_chunks(mode: str) -> None:
    chunks = [b"data: 1\n", b"\ndata: 2\r", b"\n\r\n", b"event: e\ndata: 3\n\ndata: lost"]
    assert collect(chunks, mode) == [
        ServerSentEvent(data="1"),
        ServerSentEvent(data="2"),
        ServerSentEvent(event="e", data="3"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_byte_by_byte(mode: str) -> None:
    body = "data: h\u00e9llo\r\n\r\n: c\ndata: x\n\n".encode()
    chunks = [body[i : i + 1] for i in range(len(body))]
    assert collect(chunks, mode) == [ServerSentEvent(data="h\u00e9llo"), ServerSentEvent(data="x")]


@pytest.mark.parametrize("mode", MODES)
def test_empty_source(mode: str) -> None:
    assert collect([], mode) == []


@pytest.mark.parametrize("mode", MODES)
def test_error_after_events_yields_events_first(mode: str) -> None:
    chunks = [b"data: a\n\ndata: b\n\ndata: 0123456789abcdefghij\n\n", b"data: c\n\n"]
    seen: list[ServerSentEvent] = []

    with pytest.raises(seltzer.SSEError, match="max_event_bytes=16"):
        drain_into(
            seen,
            mode,
            lambda: seltzer.iter_sse(chunks, max_event_bytes=16),
            lambda: seltzer.aiter_sse(_aiter(chunks), max_event_bytes=16),
        )
    assert seen == [ServerSentEvent(data="a"), ServerSentEvent(data="b")]


@pytest.mark.parametrize("mode", MODES)
def test_source_exception_propagates_after_events(mode: str) -> None:
    class Boom(Exception):
        pass

    def gen() -> Iterable[bytes]:
        yield b"data: a\n\n"
        raise Boom("source failed")

    async def agen() -> AsyncIterator[bytes]:
        yield b"data: a\n\n"
        await asyncio.sleep(0)
        raise Boom("source failed")

    seen: list[ServerSentEvent] = []
    with pytest.raises(Boom):
        drain_into(seen, mode, lambda: seltzer.iter_sse(gen()), lambda: seltzer.aiter_sse(agen()))
    assert seen == [ServerSentEvent(data="a")]


@pytest.mark.parametrize("mode", ["asyncio", "uvloop"])
def test_async_iterator_ends_and_stays_ended(mode: str) -> None:
    async def main() -> None:
        it = seltzer.aiter_sse(_aiter([b"data: a\n\n"]))
        assert await it.__anext__() == ServerSentEvent(data="a")
        for _ in range(2):
            with pytest.raises(StopAsyncIteration):
                await it.__anext__()

    run_async(main(), mode)


@pytest.mark.parametrize("mode", ["asyncio", "uvloop"])
def test_cancellation_while_waiting_for_bytes(mode: str) -> None:
    closed = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        try:
            yield b"data: a\n\n"
            await asyncio.sleep(30)
            yield b"data: never\n\n"
        finally:
            closed.set()

    async def main() -> None:
        seen = []

        async def consume() -> None:
            src = slow()
            try:
                async for ev in seltzer.aiter_sse(src):
                    seen.append(ev)
            finally:
                await src.aclose()

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen == [ServerSentEvent(data="a")]
        assert closed.is_set()

    run_async(asyncio.wait_for(main(), 5), mode)


@pytest.mark.parametrize("mode", ["asyncio", "uvloop"])
def test_ready_events_do_not_yield_to_the_loop(mode: str) -> None:
    """Events already decoded are handed out without an event-loop round trip."""

    async def main() -> None:
        body = b"".join(b"data: %d\n\n" % i for i in range(100))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = ticks
        events = [ev async for ev in seltzer.aiter_sse(_aiter([body], pause=False))]
        after = ticks
        task.cancel()
        assert len(events) == 100
        assert after == before

    run_async(main(), mode)


def test_anext_works_with_wait_for() -> None:
    async def main() -> ServerSentEvent:
        it = seltzer.aiter_sse(_aiter([b"data: a\n\n"]))
        return await asyncio.wait_for(it.__anext__(), 1)

    assert asyncio.run(main()) == ServerSentEvent(data="a")


def test_awaitable_passes_sent_values_and_throws_through_to_the_source() -> None:
    """Event loops other than asyncio (trio) resume awaitables with values and throw
    into them: the iterator must forward both to the source's pending read."""
    import types

    @types.coroutine
    def wait_for_value():  # type: ignore[no-untyped-def]
        value = yield "suspend"
        return value

    class Source:
        def __aiter__(self) -> Source:
            return self

        async def __anext__(self) -> bytes:
            value = await wait_for_value()
            return b"data: " + value + b"\n\n"

    it = seltzer.aiter_sse(Source())
    awaitable = it.__anext__().__await__()
    assert awaitable.send(None) == "suspend"
    with pytest.raises(StopIteration) as stop:
        awaitable.send(b"sent")
    assert stop.value.value == ServerSentEvent(data="sent")

    awaitable = it.__anext__().__await__()
    assert awaitable.send(None) == "suspend"
    with pytest.raises(KeyError, match="thrown"):
        awaitable.throw(KeyError("thrown"))
    with pytest.raises(StopAsyncIteration):
        it.__anext__().__await__().send(None)


def test_reentrant_use_is_refused() -> None:
    holder: list[object] = []

    class Source:
        def __aiter__(self) -> Source:
            return self

        async def __anext__(self) -> bytes:
            # Awaiting the iterator that is awaiting us.
            return await holder[0].__anext__()  # type: ignore[attr-defined, no-any-return]

    it = seltzer.aiter_sse(Source())
    holder.append(it)
    with pytest.raises(RuntimeError, match="already running"):
        it.__anext__().__await__().send(None)
