"""Close codes (RFC 6455 §7.4) and the close frame payload."""

from __future__ import annotations

import enum
from typing import Tuple

from .errors import ProtocolError

__all__ = [
    "WSCloseCode",
    "is_valid_received_code",
    "check_sendable_code",
    "parse_close_payload",
    "build_close_payload",
    "MAX_REASON_BYTES",
]

MAX_REASON_BYTES = 123  # 125-byte control payload minus the 2-byte code


class WSCloseCode(enum.IntEnum):
    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RECEIVED = 1005  # never on the wire
    ABNORMAL_CLOSURE = 1006  # never on the wire
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015  # never on the wire

    # str() and format() give the number on every Python, as IntEnum does from 3.11;
    # before 3.11 str() gave "WSCloseCode.ABNORMAL_CLOSURE". repr() keeps the name.
    def __str__(self) -> str:
        return int.__repr__(self)

    def __format__(self, format_spec: str) -> str:
        return int.__format__(self, format_spec)


# 1004-1006 and 1015 are reserved or local-only; 1016-2999 are unassigned.
_ON_WIRE = frozenset(range(1000, 1004)) | frozenset(range(1007, 1015))


def is_valid_received_code(code: int) -> bool:
    return code in _ON_WIRE or 3000 <= code <= 4999


def check_sendable_code(code: int) -> None:
    if not isinstance(code, int) or isinstance(code, bool) or not is_valid_received_code(code):
        raise ValueError(
            f"invalid close code {code!r}: use 1000-1003, 1007-1014 or 3000-4999"
        )


def check_close(code: int, reason: bytes) -> None:
    """What a close() may send: a sendable code and a reason that fits a control frame."""
    check_sendable_code(code)
    if len(reason) > MAX_REASON_BYTES:
        raise ValueError(f"close reason is {len(reason)} bytes; at most {MAX_REASON_BYTES}")


def parse_close_payload(payload: bytes) -> Tuple[int, str]:
    """Code and reason of a received close frame; an empty payload means 1005."""
    if not payload:
        return WSCloseCode.NO_STATUS_RECEIVED, ""
    if len(payload) == 1:
        raise ProtocolError(WSCloseCode.PROTOCOL_ERROR, "close frame with a 1-byte payload")
    code = int.from_bytes(payload[:2], "big")
    if not is_valid_received_code(code):
        raise ProtocolError(WSCloseCode.PROTOCOL_ERROR, f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(WSCloseCode.INVALID_TEXT, "close reason is not valid UTF-8") from None
    return code, reason


def build_close_payload(code: int, reason: bytes) -> bytes:
    if len(reason) > MAX_REASON_BYTES:
        raise ValueError(f"close reason is {len(reason)} bytes; at most {MAX_REASON_BYTES}")
    return code.to_bytes(2, "big") + reason
