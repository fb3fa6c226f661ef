"""What a receive returns: aiohttp's ``WSMsgType`` and ``WSMessage``, data only."""

from __future__ import annotations

import enum
import json
from typing import Any, Callable, NamedTuple

__all__ = ["WSMsgType", "MsgType", "WSMessage", "JSONDecoder"]

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


class WSMessage(NamedTuple):
    """One received message.

    TEXT: ``data`` is str. BINARY, PING, PONG: bytes. CLOSE: ``data`` is the
    close code, ``extra`` the reason. ERROR: ``data`` is the exception.
    """

    type: WSMsgType
    data: Any
    extra: Any

    @property
    def tp(self) -> WSMsgType:
        """The name old aiohttp code uses for ``type``."""
        return self.type

    def json(self, *, loads: JSONDecoder = json.loads) -> Any:
        return loads(self.data)
