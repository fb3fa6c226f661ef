"""syncws/sync/message_queue.py: the hand-off from the loop thread to one blocked receiver."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Iterator, List

import pytest

from syncws.aio.errors import ReceiveTimeout
from syncws.protocol.messages import WSMessage, WSMsgType
from syncws.sync.message_queue import ThreadMessageQueue
from tests.reliability.support import wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def queue() -> Iterator[ThreadMessageQueue]:
    loop = asyncio.new_event_loop()  # never run: only receives the resume requests
    yield ThreadMessageQueue(loop, max_queue=4)
    loop.close()


def _text(data: str) -> WSMessage:
    return WSMessage(WSMsgType.TEXT, data, None)


class _AfterWake:
    """The hand-off lock, with ``hook`` run in the receiver's thread right after a wake-up."""

    def __init__(self, real: Any, hook: Any) -> None:
        self._real, self._hook = real, hook

    def acquire(self, *args: Any) -> bool:
        got = bool(self._real.acquire(*args))
        if got and self._hook is not None:
            hook, self._hook = self._hook, None
            hook()
        return got

    def release(self) -> None:
        self._real.release()


def test_a_batch_wakes_once_and_is_all_there(queue: ThreadMessageQueue) -> None:
    got: List[WSMessage] = []
    receiver = threading.Thread(target=lambda: got.append(queue.get(10)))
    receiver.start()
    wait_until(lambda: queue._waiting, what="the receiver waiting")
    queue.put_batch([_text("a"), _text("b"), _text("c")])
    receiver.join(10)
    assert [m.data for m in got] == ["a"]
    assert [queue.get(0).data for _ in range(2)] == ["b", "c"]


def test_a_wake_up_whose_messages_were_dropped_waits_on(queue: ThreadMessageQueue) -> None:
    """Our close drops what is queued: a receiver woken for it must not report a timeout,
    but wait on until the close ends and then get CLOSED."""
    queue._signal = _AfterWake(queue._signal, queue.closing)  # the drop lands right after the wake-up
    got: List[Any] = []

    def receive() -> None:
        try:
            got.append(queue.get(10))
        except ReceiveTimeout as exc:
            got.append(exc)

    receiver = threading.Thread(target=receive)
    receiver.start()
    wait_until(lambda: queue._waiting, what="the receiver waiting")
    queue.put_batch([_text("dropped")])
    wait_until(lambda: queue._waiting, what="the receiver waiting again")
    assert got == []
    queue.close()
    receiver.join(10)
    assert [m.type for m in got] == [WSMsgType.CLOSED]


def test_timeout_and_second_receiver(queue: ThreadMessageQueue) -> None:
    with pytest.raises(ReceiveTimeout):
        queue.get(0)
    with pytest.raises(ReceiveTimeout):
        queue.get(-1)
    receiver = threading.Thread(target=lambda: queue.get(10))
    receiver.start()
    wait_until(lambda: queue._waiting, what="the receiver waiting")
    with pytest.raises(RuntimeError, match="already receiving"):
        queue.get(0)
    queue.put(_text("x"))
    receiver.join(10)
    assert not queue.receiving
