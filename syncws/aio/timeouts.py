"""A bounded await: ``asyncio.timeout`` where there is one (3.11+, no extra Task), else ``wait_for``."""

from __future__ import annotations

import asyncio
import sys
from typing import Awaitable, Optional, TypeVar

__all__ = ["with_timeout"]

T = TypeVar("T")

if sys.version_info >= (3, 11):

    async def with_timeout(aw: Awaitable[T], timeout: Optional[float]) -> T:
        """``aw`` within ``timeout`` seconds, else ``TimeoutError`` (``aw`` is cancelled)."""
        async with asyncio.timeout(timeout):
            return await aw

else:  # pragma: no cover - exercised on 3.9/3.10

    async def with_timeout(aw: Awaitable[T], timeout: Optional[float]) -> T:
        """``aw`` within ``timeout`` seconds, else ``TimeoutError`` (``aw`` is cancelled)."""
        return await asyncio.wait_for(aw, timeout)
