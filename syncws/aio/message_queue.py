"""Hand-off of finished messages from the loop to whoever receives them.

The loop side only ever calls ``put`` and ``close``; a full queue pauses
reading from the socket, so a slow consumer pushes back on the server
through TCP instead of growing memory.
"""

from __future__ import annotations

import asyncio
from typing import Callable, List, Optional, cast

from typing_extensions import Protocol

from ..protocol.messages import WSMessage, WSMsgType
from .errors import ReceiveTimeout

__all__ = ["AsyncMessageQueue", "CLOSED_MESSAGE", "CLOSING_MESSAGE", "DEFAULT_MAX_QUEUE", "MessageSink", "QueueBase"]

CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)
CLOSING_MESSAGE = WSMessage(WSMsgType.CLOSING, None, None)
DEFAULT_MAX_QUEUE = 16
_TRIM_AT = 32  # taken slots that a queue which never drains may carry


class MessageSink(Protocol):
    """What the protocol (loop thread) hands messages to."""

    def put(self, msg: WSMessage) -> None: ...

    def put_batch(self, messages: List[WSMessage]) -> None:
        """The data messages of one read, in order: a waiting receiver wakes once for all."""

    def closing(self) -> None:
        """Our close has begun: what is queued is dropped, and nothing more arrives."""

    def close(self, discard: bool = False) -> None:
        """No more messages: a receiver gets what is queued (unless ``discard``), then CLOSED."""

    def when_taken(self, callback: Callable[[], None]) -> bool: ...

    def attach(self, pause: Callable[[], None], resume: Callable[[], None]) -> None: ...

    @property
    def paused(self) -> bool:
        """Full: the connection's reading is paused until the receiver takes some."""


class QueueBase:
    """The bounded queue and its reading pause; subclasses add how a receiver waits."""

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue < 0:
            raise ValueError("max_queue must be >= 0 (0 means unbounded)")
        # A list read from ``_head`` on rather than a deque: an idle connection holds an
        # empty list (56 bytes) instead of a deque and its first block (760), and a short
        # queue's storage stays under pymalloc's 512 bytes, out of the threads' malloc
        # caches (S5). Messages are ``_queue[_head:]``. Taking one is a single store to
        # ``_head``, so an interrupt in a receiving thread finds either the message still
        # queued or taken; the list is trimmed only where messages are added (the loop).
        self._queue: List[Optional[WSMessage]] = []
        self._head = 0
        self._max = max_queue
        self._low = max_queue // 4
        self._closed = False  # a receiver gets CLOSED once the queue is drained
        self._accepting = True  # False from our close on: messages that arrive are dropped
        self._paused = False
        self._pause: Callable[[], None] = _nothing
        self._resume: Callable[[], None] = _nothing
        self._on_taken: Optional[Callable[[], None]] = None
        self.source = "the server"  # named by ReceiveTimeout: the URL, once the connection is open

    def attach(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        """Called by the connection with the transport's pause/resume (loop thread)."""
        self._pause = pause
        self._resume = resume

    def _push(self, msg: WSMessage) -> bool:
        if self._closed or not self._accepting:
            return False
        self._trim()
        self._queue.append(msg)
        self._check_full()
        return True

    def _push_many(self, messages: List[WSMessage]) -> bool:
        if self._closed or not self._accepting:
            return False
        self._trim()
        self._queue.extend(messages)
        self._check_full()
        return True

    def _trim(self) -> None:
        """Drop the slots of taken messages: all of them once drained, else once they are
        at least half the list (amortised O(1) per message)."""
        head = self._head
        if head >= len(self._queue):
            self._queue.clear()
            self._head = 0
        elif head >= _TRIM_AT and 2 * head >= len(self._queue):
            del self._queue[:head]
            self._head = 0

    def _check_full(self) -> None:
        if self._max and not self._paused and len(self) >= self._max:
            self._paused = True
            self._pause()

    def _pop(self) -> WSMessage:
        head = self._head
        msg = cast(WSMessage, self._queue[head])
        self._head = head + 1  # taken
        self._queue[head] = None  # the receiver's alone from here on
        if self._paused and len(self) <= self._low:
            self._paused = False
            self._request_resume()
        if self._on_taken is not None and not len(self):
            self._taken()
        return msg

    @property
    def paused(self) -> bool:
        return self._paused

    def discard(self) -> None:
        """The receiver refused the message at the head of the queue (over max_msg_size):
        drop what is queued, and everything that arrives after it, until close()."""
        self._stop_accepting()

    def when_taken(self, callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the loop once the receiver has taken all that is queued.

        False (and no call) when nothing is queued. A failing connection uses
        it so the application can answer what came before the violation
        before our close frame goes out.
        """
        if not len(self):
            return False
        self._on_taken = callback
        return True

    def _taken(self) -> None:
        callback, self._on_taken = self._on_taken, None
        if callback is not None:
            self._call_on_loop(callback)

    def _call_on_loop(self, callback: Callable[[], None]) -> None:
        callback()

    def _request_resume(self) -> None:
        self._resume()

    def _end(self, discard: bool) -> None:
        self._closed = True
        if discard:
            self._drop()
        self._unpause()

    def _stop_accepting(self) -> None:
        self._accepting = False
        self._drop()
        self._unpause()

    def _drop(self) -> None:
        self._queue.clear()
        self._head = 0
        self._taken()

    def _unpause(self) -> None:
        if self._paused:
            # Nobody will drain the queue now: read on, or the peer's close frame is never seen.
            self._paused = False
            self._request_resume()

    def __len__(self) -> int:
        return len(self._queue) - self._head


def _nothing() -> None:
    pass


class AsyncMessageQueue(QueueBase):
    """For ``ClientWebSocketResponse``: lives on the loop, one receiving task at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        super().__init__(max_queue)
        self._loop = loop
        self._getter: Optional["asyncio.Future[None]"] = None

    def put(self, msg: WSMessage) -> None:
        if self._push(msg):
            self._wake()

    def put_batch(self, messages: List[WSMessage]) -> None:
        if self._push_many(messages):
            self._wake()

    def closing(self) -> None:
        """Our close began: what is queued goes; a task waiting in receive() gets CLOSING,
        as with aiohttp, and every later receive() CLOSED."""
        waiting = self._getter is not None and not self._getter.done()
        self._end(discard=True)
        if waiting:
            self._trim()
            self._queue.append(CLOSING_MESSAGE)
        self._wake()

    def close(self, discard: bool = False) -> None:
        self._end(discard)
        self._wake()

    def _wake(self) -> None:
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    async def get(self, timeout: Optional[float] = None) -> WSMessage:
        if self._getter is not None:
            raise RuntimeError("Concurrent call to receive() is not allowed")
        while not len(self):
            if self._closed:
                return CLOSED_MESSAGE
            getter = self._getter = self._loop.create_future()
            timer = None if timeout is None else self._loop.call_later(timeout, self._expire, getter, timeout)
            try:
                await getter
            finally:
                self._getter = None
                if timer is not None:
                    timer.cancel()
        return self._pop()

    def _expire(self, fut: "asyncio.Future[None]", timeout: float) -> None:
        if not fut.done():
            fut.set_exception(ReceiveTimeout(f"no message from {self.source} within {timeout} s"))
