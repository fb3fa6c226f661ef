"""websockets.sync adapter: the baseline every ratio in the report is taken against."""
from __future__ import annotations

from typing import Any

from bench.clients.base import ClientUnavailable


class _Conn:
    """Binds the library's own methods, so the bench adds no call layer."""

    def __init__(self, ws: Any) -> None:
        self.send_text = ws.send
        self.send_bytes = ws.send
        self.recv = ws.recv
        self.close = ws.close
        self.deflate: bool | None = bool(ws.protocol.extensions)


class Client:
    """Blocking connections from ``websockets.sync.client.connect``."""

    supports_deflate = True

    def __init__(self) -> None:
        from websockets.sync.client import connect

        self._connect = connect

    def connect(self, url: str, compress: bool) -> _Conn:
        """Library defaults except compression toggled and no message-size cap."""
        ws = self._connect(url, compression="deflate" if compress else None, max_size=None)
        return _Conn(ws)


def load() -> Client:
    """Build the client, or say the library is missing."""
    try:
        return Client()
    except ImportError as exc:
        raise ClientUnavailable(str(exc)) from exc
