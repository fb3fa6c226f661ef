"""Whose turn it is to send data frames on an asyncio connection.

A task sending a message in fragments holds the turn from its first frame to
its last, across the awaits in between (its iterable, flow control). Whole
messages sent meanwhile by other tasks wait in line and are written, in the
order they were sent, when the turn ends; so are fragmented messages of other
tasks. Control frames never wait (RFC 6455 §5.4 lets them in between). A
fragmented message cut short leaves the turn cut: nothing waiting is written,
and every later data send raises ConnectionClosed while the connection closes.

A job may hold the turn too (``hold``): a big message compressed in a worker
thread, so that messages sent after it wait for it as they would for a frame
already written.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from typing import Callable, Deque, Optional, Tuple

from ..protocol.errors import ConnectionClosed

__all__ = ["MessageTurn"]

# In line: a send to make when the turn comes (None: a task waiting to take the turn), its
# future, the waiting task, and whether the send starts a job that holds the turn.
_Waiting = Tuple[Optional[Callable[[], object]], "asyncio.Future[None]", "Optional[asyncio.Task[object]]", bool]


class MessageTurn:
    """Loop thread only; one per connection."""

    __slots__ = ("_cut", "_line", "_loop", "busy", "job", "owner")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.owner: "Optional[asyncio.Task[object]]" = None
        self._line: Deque[_Waiting] = collections.deque()
        self._cut = False
        self.busy = False  # a data send now must wait (``later``) instead of writing
        self.job = False  # a job holds the turn (``hold``), not a task

    def later(self, send: Callable[[], None]) -> "asyncio.Future[None]":
        """``send()`` when the turn ends, in line; the future holds its outcome."""
        self._check()
        fut = self._loop.create_future()
        fut.add_done_callback(_quiet)
        self._line.append((send, fut, None, False))
        return fut

    def hold(self, start: "Callable[[asyncio.Future[None]], bool]") -> "asyncio.Future[None]":
        """Hold the turn for a job no task awaits: ``start(fut)`` now if the turn is free, else
        when it comes, in line. ``start`` returns False if the job ended at once (it settled
        ``fut``); otherwise the job settles ``fut`` and calls ``release`` when done."""
        self._check()
        fut = self._loop.create_future()
        fut.add_done_callback(_quiet)
        begin = functools.partial(start, fut)
        if self.owner is None and not self.job and not self._line:
            self.busy = self.job = True
            if not begin():
                self.busy = self.job = False
        else:
            self._line.append((begin, fut, None, True))
        return fut

    async def take(self) -> None:
        """Hold the turn (after whatever is in line); ``release`` must follow."""
        self._check()
        task = asyncio.current_task()
        if self.owner is None and not self.job and not self._line:
            self.owner = task
            self.busy = True
            return
        fut = self._loop.create_future()
        self._line.append((None, fut, task, False))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None and self.owner is task:
                self.release(complete=True)  # handed over as we were cancelled: pass it on
            raise

    def release(self, complete: bool) -> None:
        """The fragmented message, or the job, ended (``complete=False``: cut short)."""
        self.owner = None
        self.job = False
        self.busy = self._cut = self._cut or not complete
        while self._line:
            send, fut, task, job = self._line.popleft()
            if fut.done():  # its task was cancelled while waiting
                continue
            if self._cut:
                fut.set_exception(self._cut_error())
                continue
            if send is None:
                self.owner = task
                self.busy = True
                fut.set_result(None)
                return
            if job:
                self.busy = self.job = True
                if send():
                    return
                self.busy = self.job = False
                continue
            try:
                send()
            except Exception as exc:
                fut.set_exception(exc)
            else:
                fut.set_result(None)

    def _check(self) -> None:
        if self._cut:
            raise self._cut_error()
        task = asyncio.current_task(self._loop)  # the loop may not be running: a send made outside it
        if task is not None and task is self.owner:
            raise RuntimeError("this task is sending a fragmented message: another message now would split it")

    @staticmethod
    def _cut_error() -> ConnectionClosed:
        return ConnectionClosed("cannot send: a fragmented message was cut short and the connection is failing")


def _quiet(fut: "asyncio.Future[None]") -> None:
    """A send's outcome is its caller's to await or not (old aiohttp code never awaits its
    sends), so a failure nobody awaited is not logged as "never retrieved" when the future
    is collected. Awaiting still raises it, and receive() reports the connection's end."""
    if not fut.cancelled():
        fut.exception()
