"""Warnings that name the application's line, however deep in syncws (or asyncio) they start."""

from __future__ import annotations

import inspect
import warnings
from typing import Type

__all__ = ["warn_at_caller"]

_OURS = ("syncws", "asyncio", "concurrent.futures", "threading", "contextvars")


def warn_at_caller(message: str, category: Type[Warning]) -> None:
    """``warnings.warn`` with the stack level of the first frame outside syncws and the
    machinery that runs it (a reconnect loop's generator, the event loop): the
    application's own call, or its ``asyncio.run()`` where the loop drove the call."""
    frame = inspect.currentframe()
    level = 1
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not any(module == name or module.startswith(name + ".") for name in _OURS):
            break
        frame = frame.f_back
        level += 1
    del frame  # no reference cycle through this frame
    warnings.warn(message, category, stacklevel=level)
