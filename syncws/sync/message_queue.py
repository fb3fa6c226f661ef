"""Finished messages handed from the loop thread to a blocked caller with one wake-up."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Optional

from ..aio.errors import ReceiveTimeout
from ..aio.message_queue import CLOSED_MESSAGE, DEFAULT_MAX_QUEUE, QueueBase
from ..protocol.messages import WSMessage

__all__ = ["ThreadMessageQueue"]


class ThreadMessageQueue(QueueBase):
    """``put``/``close`` run on the loop thread; ``get`` in any one caller thread at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        super().__init__(max_queue)
        self._loop = loop
        self._cond = threading.Condition(threading.Lock())
        self._receiving = False

    def put(self, msg: WSMessage) -> None:
        with self._cond:
            if self._push(msg):
                self._cond.notify()

    def close(self, discard: bool = False) -> None:
        with self._cond:
            self._end(discard)
            self._cond.notify_all()

    def _request_resume(self) -> None:
        self._loop.call_soon_threadsafe(self._resume)

    def get(self, timeout: Optional[float] = None) -> WSMessage:
        """The next message; CLOSED once closed and drained; ReceiveTimeout after ``timeout``.

        An interrupt (KeyboardInterrupt) while waiting takes nothing off the queue.
        """
        with self._cond:
            if self._receiving:
                raise RuntimeError("another thread is already receiving on this connection")
            if not self._queue:
                if self._closed:
                    return CLOSED_MESSAGE
                self._receiving = True
                try:
                    self._wait(timeout)
                finally:
                    self._receiving = False
                if not self._queue:
                    return CLOSED_MESSAGE
            return self._pop()

    def _wait(self, timeout: Optional[float]) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._queue and not self._closed:
            if deadline is None:
                self._cond.wait()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReceiveTimeout(f"no message within {timeout} s")
            self._cond.wait(remaining)

    def wake_all(self) -> None:
        with self._cond:
            self._cond.notify_all()
