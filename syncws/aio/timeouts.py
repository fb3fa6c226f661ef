"""Bounded waits that cost no extra Task (``asyncio.wait_for`` before 3.12 makes one per call)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Awaitable, Optional, TypeVar

__all__ = ["wait_done", "with_timeout"]

T = TypeVar("T")


async def wait_done(fut: "asyncio.Future[Any]", timeout: Optional[float]) -> bool:
    """Wait until ``fut`` is done, at most ``timeout`` seconds, never cancelling it.

    True if it is done.
    """
    if fut.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: "asyncio.Future[None]" = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    fut.add_done_callback(wake)
    timer = loop.call_later(timeout, wake) if timeout is not None else None
    try:
        await waiter
    finally:
        fut.remove_done_callback(wake)
        if timer is not None:
            timer.cancel()
    return fut.done()


if sys.version_info >= (3, 11):

    async def with_timeout(aw: Awaitable[T], timeout: Optional[float]) -> T:
        """``aw`` within ``timeout`` seconds, else ``TimeoutError`` (``aw`` is cancelled)."""
        async with asyncio.timeout(timeout):
            return await aw

else:  # pragma: no cover - exercised on 3.9/3.10

    async def with_timeout(aw: Awaitable[T], timeout: Optional[float]) -> T:
        """``aw`` within ``timeout`` seconds, else ``TimeoutError`` (``aw`` is cancelled)."""
        return await asyncio.wait_for(aw, timeout)
