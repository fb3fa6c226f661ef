"""Blocking waits in a caller's thread that still notice Ctrl-C.

CPython runs a signal's Python handler in the main thread between
bytecodes. A lock or condition wait is cut short by a signal only if that
signal lands on the waiting thread while it waits: one that arrives just
before the wait begins, or is delivered to another thread, stays pending
until the wait ends, which may be never. So the main thread waits in
slices of ``SLICE`` seconds, and a pending KeyboardInterrupt is raised at
the next slice boundary. Other threads never run signal handlers; they
wait in one piece. Only the blocking face blocks callers, so it lives here.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any, Callable, Optional

__all__ = ["SLICE", "in_main_thread", "interruptible", "wait_future"]

# Longest a pending Ctrl-C waits in the main thread.
SLICE = 0.05


def in_main_thread() -> bool:
    """The thread where CPython runs signal handlers (and so raises KeyboardInterrupt)."""
    return threading.get_ident() == threading.main_thread().ident  # follows fork()


def interruptible(wait: Callable[[Optional[float]], bool], timeout: Optional[float]) -> bool:
    """``wait(seconds) -> bool`` until it returns True or ``timeout`` (None: no limit) passes.

    ``wait`` is a timed wait such as ``condition.wait`` (None: no limit);
    the result is its last answer.
    """
    if not in_main_thread():
        return wait(None if timeout is None else max(timeout, 0.0))
    if timeout is None:
        while not wait(SLICE):
            pass  # the loop's backward jump is where CPython runs a pending signal handler
        return True
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= SLICE:
            return wait(max(remaining, 0.0))
        if wait(SLICE):
            return True


def wait_future(future: "concurrent.futures.Future[Any]", timeout: Optional[float]) -> bool:
    """Wait for ``future`` like ``interruptible``; True once it is done (or cancelled)."""

    def done(seconds: Optional[float]) -> bool:
        try:
            future.exception(seconds)
        except concurrent.futures.TimeoutError:
            return False
        except concurrent.futures.CancelledError:
            pass
        return True

    return interruptible(done, timeout)

