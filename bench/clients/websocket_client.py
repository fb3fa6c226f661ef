"""websocket-client adapter (no permessage-deflate support, so S6 is n/a)."""
from __future__ import annotations

from typing import Any

from bench.clients.base import ClientUnavailable


class _Conn:
    """Binds the library's own methods; ``send`` on a str sends a text frame."""

    deflate: bool | None = False

    def __init__(self, ws: Any) -> None:
        self.send_text = ws.send
        self.send_bytes = ws.send_binary
        self.recv = ws.recv
        self.close = ws.close


class Client:
    """Blocking connections from ``websocket.create_connection`` with library defaults."""

    supports_deflate = False

    def __init__(self) -> None:
        import websocket

        self._create = websocket.create_connection

    def connect(self, url: str, compress: bool) -> _Conn:
        """Library defaults (thread-safe sends, UTF-8 validation on)."""
        if compress:
            raise NotImplementedError("websocket-client has no permessage-deflate")
        return _Conn(self._create(url))


def load() -> Client:
    """Build the client, or say the library is missing."""
    try:
        return Client()
    except ImportError as exc:
        raise ClientUnavailable(str(exc)) from exc
