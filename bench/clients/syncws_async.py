"""syncws adapter, aiohttp-compatible async API: ``syncws.ws_connect``."""
from __future__ import annotations

from typing import Any

from bench.clients._syncws_import import deflate_of, import_syncws


class _Conn:
    """Binds send directly; receive unwraps, close also leaves the connect context."""

    def __init__(self, ws: Any, exit_cm: Any, text: Any, binary: Any) -> None:
        self._ws = ws
        self._exit_cm = exit_cm
        self._receive = ws.receive
        self._text = text
        self._binary = binary
        self._kinds = (text, binary)
        self.send_text = ws.send_str
        self.send_bytes = ws.send_bytes
        self.deflate: bool | None = deflate_of(ws)  # type: ignore[assignment]

    async def recv(self) -> str | bytes:
        """Return text/binary data; anything else (close, error) is a failure."""
        msg = await self._receive()
        kind = msg.type
        if kind is self._text or kind is self._binary or kind in self._kinds:
            data: str | bytes = msg.data
            return data
        raise ConnectionError(f"unexpected message {kind!r}: {msg.data!r}")

    async def close(self) -> None:
        """Close the socket; if we entered a context manager, leave it too."""
        await self._ws.close()
        if self._exit_cm is not None:
            await self._exit_cm.__aexit__(None, None, None)


class Client:
    """asyncio syncws connections; compression off unless the scenario wants it."""

    supports_deflate = True

    def __init__(self) -> None:
        self._syncws = import_syncws("ws_connect", "WSMsgType")

    async def start(self) -> None:
        """No session object in syncws's async API."""

    async def stop(self) -> None:
        """No session object in syncws's async API."""

    async def connect(self, url: str, compress: bool) -> _Conn:
        """Accept ``ws_connect`` returning an awaitable (aiohttp style) or only a context."""
        kwargs: dict[str, Any] = {"max_msg_size": 0}
        if not compress:
            kwargs["compress"] = 0
        cm = self._syncws.ws_connect(url, **kwargs)
        kinds = self._syncws.WSMsgType
        if hasattr(cm, "__await__"):
            return _Conn(await cm, None, kinds.TEXT, kinds.BINARY)
        return _Conn(await cm.__aenter__(), cm, kinds.TEXT, kinds.BINARY)


def load() -> Client:
    """Build the client; raises ClientUnavailable while syncws is not importable."""
    return Client()
