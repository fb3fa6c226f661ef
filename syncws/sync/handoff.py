"""One result passed from the loop thread to one blocked caller.

``concurrent.futures.Future`` waits on a ``threading.Condition``: an RLock and a
deque made for every call. The deque's first block (528 bytes) comes from
``malloc``, and glibc keeps a block freed by the caller's thread in that
thread's own cache. With a thread per connection (S5), each such call left
about 0.75 KiB behind in every calling thread. Here the whole wait is one
pre-acquired lock, released once by the loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Generic, Optional, Tuple, TypeVar

__all__ = ["Handoff"]

T = TypeVar("T")


class Handoff(Generic[T]):
    """Set from the loop thread only (the first outcome wins); waited on by one caller.

    A caller that stops waiting (an interrupt) simply leaves: a later outcome
    goes nowhere, and nothing needs cancelling.
    """

    __slots__ = ("_done", "_outcome")

    def __init__(self) -> None:
        self._done = threading.Lock()
        self._done.acquire()  # held until the outcome is in
        self._outcome: Optional[Tuple[bool, Any]] = None  # (succeeded, result or exception)

    # -- loop thread ---------------------------------------------------------------
    def set_result(self, result: T) -> None:
        self._finish((True, result))

    def set_exception(self, exc: BaseException) -> None:
        self._finish((False, exc))

    def stop(self) -> None:
        """The loop is stopping before an outcome: the caller wakes to LoopStopped."""
        self._finish((False, None))

    def _finish(self, outcome: Tuple[bool, Any]) -> None:
        if self._outcome is None:
            self._outcome = outcome
            self._done.release()

    # -- the caller ------------------------------------------------------------------
    def wait(self, timeout: Optional[float]) -> bool:
        """True once the outcome is in (for ``blocking.interruptible``)."""
        return self._done.acquire(True, -1 if timeout is None else timeout)

    @property
    def done(self) -> bool:
        """The outcome is in."""
        return self._outcome is not None

    @property
    def cancelled(self) -> bool:
        """The outcome is a CancelledError (call after ``wait`` returned True)."""
        outcome = self._outcome
        return outcome is not None and isinstance(outcome[1], asyncio.CancelledError)

    @property
    def stopped(self) -> bool:
        """The loop stopped first: there is no result (call after ``wait`` returned True)."""
        outcome = self._outcome
        return outcome is not None and not outcome[0] and outcome[1] is None

    def result(self) -> T:
        """The result, or the exception raised; call after ``wait`` returned True."""
        outcome = self._outcome
        if outcome is None or self.stopped:
            raise RuntimeError("Handoff.result() before an outcome")
        succeeded, value = outcome
        if not succeeded:
            raise value
        return value  # type: ignore[no-any-return]
