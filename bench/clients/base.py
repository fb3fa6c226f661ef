"""The small surface every adapter provides, so all clients run the very same scenario code.

Adapters expose send/recv as attributes so they can bind a library's own bound
methods directly: the benchmark then adds no Python call layer of its own.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol


class ClientUnavailable(Exception):
    """The library under test is not installed (e.g. syncws not importable yet)."""


class SyncConn(Protocol):
    """One open blocking connection."""

    send_text: Callable[[str], object]
    send_bytes: Callable[[bytes], object]
    recv: Callable[[], str | bytes]  # str for text, bytes for binary; raises on close
    close: Callable[[], object]
    deflate: bool | None  # negotiated permessage-deflate, None if the library won't say


class SyncClient(Protocol):
    """Factory for blocking connections."""

    supports_deflate: bool

    def connect(self, url: str, compress: bool) -> SyncConn:
        """Open, handshake, return a connection."""
        ...


class AsyncConn(Protocol):
    """One open asyncio connection."""

    send_text: Callable[[str], Awaitable[object]]
    send_bytes: Callable[[bytes], Awaitable[object]]
    recv: Callable[[], Awaitable[str | bytes]]
    close: Callable[[], Awaitable[object]]
    deflate: bool | None


class AsyncClient(Protocol):
    """Factory for asyncio connections, with a per-process session (aiohttp needs one)."""

    supports_deflate: bool

    async def start(self) -> None:
        """Create shared state (e.g. a ClientSession) inside the running loop."""
        ...

    async def stop(self) -> None:
        """Release what :meth:`start` created."""
        ...

    async def connect(self, url: str, compress: bool) -> AsyncConn:
        """Open, handshake, return a connection."""
        ...
