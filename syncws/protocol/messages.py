"""What a receive returns: aiohttp's ``WSMsgType`` and ``WSMessage``, data only."""

from __future__ import annotations

import enum
import json
from typing import Any, Callable, NamedTuple, Optional

__all__ = ["WSMsgType", "MsgType", "WSMessage", "WSMessageTypeError", "JSONDecoder", "expect"]

JSONDecoder = Callable[[str], Any]


class WSMsgType(enum.IntEnum):
    """Message kinds; the wire opcodes keep their values, the rest are local states."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # The lower-case names of old aiohttp code (``MsgType.text``) stay valid.
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


MsgType = WSMsgType


class WSMessageTypeError(TypeError):
    """A message was read as a kind it is not (``receive_str`` or ``msg.text`` on a BINARY
    message, ...); ``msg`` is that message, handed back here rather than lost."""

    def __init__(self, text: str, msg: Optional["WSMessage"] = None) -> None:
        super().__init__(text)
        self.msg = msg


def expect(msg: "WSMessage", kind: WSMsgType) -> Any:
    """``msg.data`` if ``msg`` is of ``kind``, else WSMessageTypeError."""
    if msg.type is not kind:
        raise WSMessageTypeError(f"received message {msg.type.name} is not {kind.name}: {msg.data!r}"[:200], msg)
    return msg.data


class WSMessage(NamedTuple):
    """One received message.

    TEXT: ``data`` is str. BINARY, PING, PONG: bytes. CLOSE: ``data`` is the
    close code, ``extra`` the reason. ERROR: ``data`` is the exception.

    ``data`` stays ``Any``, as in aiohttp, so old code type-checks unchanged; ``text`` and
    ``binary`` are the same value typed, for code that knows which kind it expects.
    """

    type: WSMsgType
    data: Any
    extra: Any

    @property
    def tp(self) -> WSMsgType:
        """The name old aiohttp code uses for ``type``."""
        return self.type

    @property
    def text(self) -> str:
        """``data`` of a TEXT message; any other kind raises WSMessageTypeError."""
        data: str = expect(self, WSMsgType.TEXT)
        return data

    @property
    def binary(self) -> bytes:
        """``data`` of a BINARY message; any other kind raises WSMessageTypeError."""
        data: bytes = expect(self, WSMsgType.BINARY)
        return data

    def json(self, *, loads: JSONDecoder = json.loads) -> Any:
        return loads(self.data)
