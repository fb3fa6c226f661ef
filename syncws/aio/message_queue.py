"""Hand-off of finished messages from the loop to whoever receives them.

The loop side only ever calls ``put`` and ``close``; a full queue pauses
reading from the socket, so a slow consumer pushes back on the server
through TCP instead of growing memory.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Callable, Deque, Optional

from typing_extensions import Protocol

from ..protocol.messages import WSMessage, WSMsgType
from .errors import ReceiveTimeout

__all__ = ["MessageSink", "QueueBase", "AsyncMessageQueue", "CLOSED_MESSAGE", "DEFAULT_MAX_QUEUE"]

CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)
DEFAULT_MAX_QUEUE = 16


class MessageSink(Protocol):
    def put(self, msg: WSMessage) -> None: ...

    def close(self, discard: bool = False) -> None: ...

    def when_taken(self, callback: Callable[[], None]) -> bool: ...

    def attach(self, pause: Callable[[], None], resume: Callable[[], None]) -> None: ...

    def reapply_pause(self) -> None: ...


class QueueBase:
    """The bounded queue and its reading pause; subclasses add how a receiver waits."""

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue < 0:
            raise ValueError("max_queue must be >= 0 (0 means unbounded)")
        self._queue: Deque[WSMessage] = collections.deque()
        self._max = max_queue
        self._low = max_queue // 4
        self._closed = False
        self._paused = False
        self._pause: Callable[[], None] = _nothing
        self._resume: Callable[[], None] = _nothing
        self._on_taken: Optional[Callable[[], None]] = None

    def attach(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        """Called by the connection with the transport's pause/resume (loop thread)."""
        self._pause = pause
        self._resume = resume

    def _push(self, msg: WSMessage, pause: bool = True) -> bool:
        if self._closed:
            return False
        self._queue.append(msg)
        if pause and self._max and not self._paused and len(self._queue) >= self._max:
            self._paused = True
            self._pause()
        return True

    def reapply_pause(self) -> None:
        """After reading resumed for another reason (loop thread): pause again if still full."""
        if self._max and len(self._queue) >= self._max:
            self._paused = True
        if self._paused:
            self._pause()

    def _pop(self) -> WSMessage:
        msg = self._queue.popleft()
        if self._paused and len(self._queue) <= self._low:
            self._paused = False
            self._request_resume()
        if not self._queue and self._on_taken is not None:
            self._taken()
        return msg

    def when_taken(self, callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the loop once the receiver has taken all that is queued.

        False (and no call) when nothing is queued. A failing connection uses
        it so the application can answer what came before the violation
        before our close frame goes out.
        """
        if not self._queue:
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
            self._queue.clear()
            self._taken()
        if self._paused:
            # Nobody will drain the queue now: read on, or the peer's close frame is never seen.
            self._paused = False
            self._request_resume()

    def __len__(self) -> int:
        return len(self._queue)


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
        while not self._queue:
            if self._closed:
                return CLOSED_MESSAGE
            getter = self._getter = self._loop.create_future()
            timer = None if timeout is None else self._loop.call_later(timeout, _expire, getter, timeout)
            try:
                await getter
            finally:
                self._getter = None
                if timer is not None:
                    timer.cancel()
        return self._pop()


def _expire(fut: "asyncio.Future[None]", timeout: float) -> None:
    if not fut.done():
        fut.set_exception(ReceiveTimeout(f"no message within {timeout} s"))
