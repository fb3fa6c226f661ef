"""syncws/aio/message_queue.py: the bounded queue both receivers share (QueueBase), via the
asyncio receiver's queue."""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
import weakref
from typing import Iterator

import pytest

from syncws.aio import message_queue
from syncws.aio.message_queue import AsyncMessageQueue
from syncws.protocol.messages import WSMessage, WSMsgType


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _text(data: str) -> WSMessage:
    return WSMessage(WSMsgType.TEXT, data, None)


def test_order_is_kept_however_puts_and_takes_interleave(loop: asyncio.AbstractEventLoop) -> None:
    """Single puts, batches and takes in a random mix: every message comes out once, in
    order, and the list never carries more taken slots than it holds messages (plus a few)."""
    rng = random.Random(1405)
    queue = AsyncMessageQueue(loop, max_queue=0)
    sent = taken = 0
    for _ in range(3000):
        if rng.random() < 0.5:
            batch = [_text(str(sent + i)) for i in range(rng.choice((1, 1, 3, 40)))]
            if len(batch) == 1:
                queue.put(batch[0])
            else:
                queue.put_batch(batch)
            sent += len(batch)
            assert len(queue._queue) <= 2 * len(queue) + 32
        for _ in range(rng.randrange(0, 30)):
            if not len(queue):
                break
            msg = loop.run_until_complete(queue.get())
            assert msg.data == str(taken)
            taken += 1
        assert len(queue) == sent - taken
    while len(queue):
        assert loop.run_until_complete(queue.get()).data == str(taken)
        taken += 1
    assert taken == sent > 10_000


class _Payload:
    """A message's data that can be watched for its release."""


def test_a_taken_message_is_not_kept_by_the_queue(loop: asyncio.AbstractEventLoop) -> None:
    queue = AsyncMessageQueue(loop, max_queue=0)
    payloads = [_Payload() for _ in range(3)]
    watched = weakref.ref(payloads[0])
    queue.put_batch([WSMessage(WSMsgType.BINARY, p, None) for p in payloads])  # type: ignore[arg-type]
    del payloads
    msg = loop.run_until_complete(queue.get())
    assert msg.data is watched()
    del msg
    gc.collect()
    assert watched() is None and len(queue) == 2


def test_a_drained_queue_holds_almost_nothing(loop: asyncio.AbstractEventLoop) -> None:
    """What a queue itself keeps once its messages are taken: an idle connection holds
    its queue for life (S5). A deque held 760 bytes or more; the list is empty."""
    tracemalloc.start()
    try:
        queues = []
        for _ in range(100):
            queue = AsyncMessageQueue(loop, max_queue=16)
            for _ in range(20):
                queue.put(_text("x"))
                loop.run_until_complete(queue.get())
            queues.append(queue)
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    mine = snapshot.filter_traces([tracemalloc.Filter(True, message_queue.__file__)])
    held = sum(stat.size for stat in mine.statistics("filename")) / len(queues)
    assert held < 512, f"{held:.0f} bytes per drained queue"
