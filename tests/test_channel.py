"""The hand-off between the task running a Runnable and the ``astream_events``
consumer: every item in order, from the loop and from threads; and a producer that
makes way for a woken consumer, at most one loop turn per wake-up."""

from __future__ import annotations

import asyncio
import threading

from seltzer.runnables.channel import BACKLOG, Channel


def push(channel: Channel, item: int) -> None:
    """How a producer on the loop's thread sends without a call into the channel."""
    channel.items.append(item)
    if channel.waiter is not None:
        channel.wake()


def test_items_arrive_in_order_from_the_loop_and_from_threads() -> None:
    async def main() -> list[int]:
        channel = Channel(asyncio.get_running_loop())

        async def produce() -> None:
            for i in range(5):
                channel.send(i)
            await asyncio.sleep(0)
            worker = threading.Thread(target=lambda: [channel.send(i) for i in range(5, 10)])
            worker.start()
            await asyncio.to_thread(worker.join)
            for i in range(10, 15):
                push(channel, i)
            channel.close()

        task = asyncio.create_task(produce())
        got = [item async for item in channel]
        await task
        return got

    assert asyncio.run(main()) == list(range(15))


def test_more_takes_batches_and_ends_after_close() -> None:
    async def main() -> list[list[int]]:
        channel = Channel(asyncio.get_running_loop())
        batches: list[list[int]] = []

        async def produce() -> None:
            for batch in ([0, 1, 2], [3], [4, 5]):
                for i in batch:
                    channel.send(i)
                await asyncio.sleep(0)
            channel.close()

        task = asyncio.create_task(produce())
        while await channel.more():
            batches.append(list(channel.items))
            channel.items.clear()
        await task
        return batches

    assert asyncio.run(main()) == [[0, 1, 2], [3], [4, 5]]


def test_producer_makes_way_for_a_woken_consumer_only() -> None:
    async def main() -> tuple[int, bool, int]:
        channel = Channel(asyncio.get_running_loop())
        taken: list[int] = []
        elsewhere = asyncio.Event()

        async def consume() -> None:
            await channel.more()
            taken.extend(channel.items)
            channel.items.clear()
            await elsewhere.wait()  # busy with something else, not the channel

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)  # the consumer waits for items
        for i in range(BACKLOG):
            push(channel, i)
        await channel.make_way()  # woken, with a backlog: it runs first
        after_way = len(taken)
        for i in range(BACKLOG):
            push(channel, i)
        ran = False

        async def other() -> None:
            nonlocal ran
            ran = True

        task = asyncio.create_task(other())
        await channel.make_way()  # nobody woken: no loop turn
        ran_before = ran
        elsewhere.set()
        await task
        await consumer
        return after_way, ran_before, len(channel.items)

    assert asyncio.run(main()) == (BACKLOG, False, BACKLOG)


def test_make_way_returns_at_once_below_the_backlog() -> None:
    async def main() -> bool:
        channel = Channel(asyncio.get_running_loop())
        ran = False

        async def other() -> None:
            nonlocal ran
            ran = True

        async def consume() -> None:
            await channel.more()

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        channel.send(1)  # wakes the consumer
        task = asyncio.create_task(other())
        await channel.make_way()  # one item: no reason to step aside
        ran_before = ran
        await task
        await consumer
        return ran_before

    assert asyncio.run(main()) is False
