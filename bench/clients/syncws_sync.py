"""syncws adapter, blocking API: ``syncws.connect`` / ``send_*`` / ``receive``."""
from __future__ import annotations

from typing import Any

from bench.clients._syncws_import import deflate_of, import_syncws


class _Conn:
    """Binds send/close directly; receive needs a type check to unwrap the message."""

    def __init__(self, ws: Any, text: Any, binary: Any) -> None:
        self._receive = ws.receive
        self._text = text
        self._binary = binary
        self._kinds = (text, binary)
        self.send_text = ws.send_str
        self.send_bytes = ws.send_bytes
        self.close = ws.close
        self.deflate: bool | None = deflate_of(ws)  # type: ignore[assignment]

    def recv(self) -> str | bytes:
        """Return text/binary data; anything else (close, error) is a failure."""
        msg = self._receive()
        kind = msg.type
        if kind is self._text or kind is self._binary or kind in self._kinds:
            data: str | bytes = msg.data
            return data
        raise ConnectionError(f"unexpected message {kind!r}: {msg.data!r}")


class Client:
    """Blocking syncws connections; compression off unless the scenario wants it."""

    supports_deflate = True

    def __init__(self) -> None:
        self._syncws = import_syncws("connect", "WSMsgType")

    def connect(self, url: str, compress: bool) -> _Conn:
        """Default ``compress`` offers permessage-deflate; 0 turns it off."""
        kwargs: dict[str, Any] = {"max_msg_size": 0}
        if not compress:
            kwargs["compress"] = 0
        ws = self._syncws.connect(url, **kwargs)
        kinds = self._syncws.WSMsgType
        return _Conn(ws, kinds.TEXT, kinds.BINARY)


def load() -> Client:
    """Build the client; raises ClientUnavailable while syncws is not importable."""
    return Client()
