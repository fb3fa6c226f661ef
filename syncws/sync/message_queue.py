"""Finished messages handed from the loop thread to a blocked caller with one wake-up.

One receiver at a time, so instead of a Condition (a fresh lock per wait,
Python-level bookkeeping on both sides) the hand-off is a single
pre-acquired lock used as a binary semaphore: the loop releases it once
for a waiting receiver, the receiver's blocked ``acquire`` returns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable, List, Optional, Tuple

from ..aio.errors import ReceiveTimeout
from ..aio.message_queue import CLOSED_MESSAGE, DEFAULT_MAX_QUEUE, QueueBase
from ..protocol.messages import WSMessage
from .blocking import interruptible

__all__ = ["ThreadMessageQueue"]


class ThreadMessageQueue(QueueBase):
    """``put``/``put_batch``/``closing``/``close`` run on the loop thread; ``get`` in
    any one caller thread at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        super().__init__(max_queue)
        self._loop = loop
        self._mutex = threading.Lock()
        self._signal = threading.Lock()
        self._signal.acquire()  # held: no wake-up pending
        self._waiting = False  # a receiver is blocked on _signal
        self._receiving = False
        self._listeners: Tuple[Callable[[], None], ...] = ()  # replaced, never changed in place

    # -- loop side ---------------------------------------------------------------
    def put(self, msg: WSMessage) -> None:
        with self._mutex:
            if self._push(msg):
                self._wake()

    def put_batch(self, messages: List[WSMessage]) -> None:
        with self._mutex:
            if self._push_many(messages):
                self._wake()

    def closing(self) -> None:
        """Our close began: drop what is queued, and let a waiting receiver sleep on
        until ``close()``, when the close code and reason are known."""
        with self._mutex:
            self._stop_accepting()

    def close(self, discard: bool = False) -> None:
        with self._mutex:
            self._end(discard)
            self._wake()

    def _wake(self) -> None:
        if self._waiting:
            self._waiting = False
            self._signal.release()
        for listener in self._listeners:
            listener()

    def _request_resume(self) -> None:
        self._loop.call_soon_threadsafe(self._resume)

    def _call_on_loop(self, callback: Callable[[], None]) -> None:
        self._loop.call_soon_threadsafe(callback)

    def discard(self) -> None:
        with self._mutex:
            self._stop_accepting()

    def when_taken(self, callback: Callable[[], None]) -> bool:
        with self._mutex:
            return super().when_taken(callback)

    # -- receiver side -------------------------------------------------------------
    def get(self, timeout: Optional[float] = None) -> WSMessage:
        """The next message; CLOSED once closed and drained; ReceiveTimeout after ``timeout``.

        A wake-up that finds nothing (what woke it was dropped by our close) waits
        on for what is left of ``timeout``. An interrupt (KeyboardInterrupt) while
        waiting takes nothing off the queue.
        """
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        registered = False
        try:
            while True:
                with self._mutex:
                    msg = self._take()
                    if msg is not None:
                        return msg
                    if not registered:
                        if self._receiving:
                            raise RuntimeError("another thread is already receiving on this connection")
                        registered = True  # before the flag: an interrupt after this line is undone below
                        self._receiving = True
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise ReceiveTimeout(f"no message from {self.source} within {timeout} s")
                    self._waiting = True
                woken = False
                try:
                    woken = interruptible(self._acquire_signal, left)
                finally:
                    if not woken:  # timeout or interrupt: withdraw, or absorb a wake-up that raced us
                        with self._mutex:
                            if self._waiting:
                                self._waiting = False
                            else:
                                self._signal.acquire(False)
                # Woken, or out of time: look again (a message that raced the timeout is returned).
        finally:
            if registered:
                with self._mutex:
                    self._receiving = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _acquire_signal(self, timeout: Optional[float]) -> bool:
        return self._signal.acquire(True, -1 if timeout is None else timeout)

    def _take(self) -> Optional[WSMessage]:
        if len(self):
            return self._pop()
        return CLOSED_MESSAGE if self._closed else None

    @property
    def ready(self) -> bool:
        """A receive() now would not block."""
        with self._mutex:  # the loop may be trimming the list
            return len(self) > 0 or self._closed

    @property
    def receiving(self) -> bool:
        return self._receiving

    def add_listener(self, callback: Callable[[], None]) -> None:
        """``callback`` runs (on the loop thread) after every put and at close; keep it tiny."""
        with self._mutex:
            self._listeners += (callback,)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        with self._mutex:
            listeners = list(self._listeners)
            listeners.remove(callback)
            self._listeners = tuple(listeners)
