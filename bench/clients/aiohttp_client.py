"""aiohttp adapter: the async baseline, one ClientSession per process as real apps use it."""
from __future__ import annotations

from typing import Any

from bench.clients.base import ClientUnavailable


class _Conn:
    """Binds send/close directly; receive needs a type check to unwrap the message."""

    def __init__(self, ws: Any, text: Any, binary: Any) -> None:
        self._receive = ws.receive
        self._text = text
        self._binary = binary
        self.send_text = ws.send_str
        self.send_bytes = ws.send_bytes
        self.close = ws.close
        self.deflate: bool | None = bool(ws.compress)

    async def recv(self) -> str | bytes:
        """Return text/binary data; anything else (close, error) is a failure."""
        msg = await self._receive()
        kind = msg.type
        if kind is self._text or kind is self._binary:
            data: str | bytes = msg.data
            return data
        raise ConnectionError(f"unexpected message {kind!r}: {msg.data!r}")


class Client:
    """``ClientSession.ws_connect`` with an unlimited connector (S5 holds 1,000 sockets)."""

    supports_deflate = True

    def __init__(self) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._session: Any = None

    def use_zlib(self, name: str) -> None:
        """aiohttp >= 3.12 takes a zlib-compatible module for permessage-deflate."""
        if name == "zlib-ng":
            from zlib_ng import zlib_ng

            setter = getattr(self._aiohttp, "set_zlib_backend", None)
            if setter is None:
                raise ClientUnavailable("this aiohttp cannot use zlib-ng (set_zlib_backend needs 3.12)")
            setter(zlib_ng)

    async def start(self) -> None:
        """Sessions must be created inside the running loop."""
        aio = self._aiohttp
        self._session = aio.ClientSession(connector=aio.TCPConnector(limit=0))

    async def stop(self) -> None:
        """Close the session and its connector."""
        await self._session.close()

    async def connect(self, url: str, compress: bool) -> _Conn:
        """compress=15 is aiohttp's permessage-deflate offer; 0 (its default) disables it."""
        ws = await self._session.ws_connect(url, compress=15 if compress else 0, max_msg_size=0)
        kinds = self._aiohttp.WSMsgType
        return _Conn(ws, kinds.TEXT, kinds.BINARY)


def load() -> Client:
    """Build the client, or say the library is missing."""
    try:
        return Client()
    except ImportError as exc:
        raise ClientUnavailable(str(exc)) from exc
