"""Holding Ctrl-C back for a few lines of the main thread.

CPython runs a signal's Python handler in the main thread between bytecodes,
so a KeyboardInterrupt can land between taking bytes off a socket and
queuing the messages they complete, losing them. ``whole(fn)`` runs ``fn``
with SIGINT's handler swapped for one that only notes the signal, then puts
the handler back and runs it if the signal came. Other threads never run
signal handlers, so there it is a plain call.
"""

from __future__ import annotations

import importlib
import signal
from types import FrameType
from typing import Any, Callable, Optional, TypeVar

from ..aio.blocking import in_main_thread

__all__ = ["whole"]

T = TypeVar("T")


def _raw_signal() -> Any:
    """CPython's C module: signal.signal/getsignal wrap it in enum conversions costing 10x the call."""
    try:
        return importlib.import_module("_signal")
    except ImportError:  # pragma: no cover - other interpreters
        return signal


_get_handler: Callable[[int], Any] = _raw_signal().getsignal
_set_handler: Callable[[int, Any], Any] = _raw_signal().signal
_SIGINT = int(signal.SIGINT)


def whole(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with Ctrl-C held back until it returns (main thread; elsewhere none lands)."""
    if not in_main_thread():
        return fn(*args)
    with _HeldInterrupt():
        return fn(*args)


class _HeldInterrupt:
    """Hold SIGINT's Python handler back for a few lines (main thread only), then run it.

    Restores the handler before looking for a held signal, so one that
    lands in between runs through the real handler at once: none is lost.
    """

    __slots__ = ("_held", "_previous")

    def __init__(self) -> None:
        self._previous: Any = None
        self._held: Optional[FrameType] = None

    def _hold(self, signum: int, frame: Optional[FrameType]) -> None:
        self._held = frame

    def __enter__(self) -> None:
        previous = _get_handler(_SIGINT)
        if callable(previous):  # else ignored, default or not Python's: no exception to hold back
            self._previous = previous
            _set_handler(_SIGINT, self._hold)

    def __exit__(self, *exc_info: object) -> None:
        previous = self._previous
        if previous is None:
            return
        _set_handler(_SIGINT, previous)
        if self._held is not None:
            previous(_SIGINT, self._held)
