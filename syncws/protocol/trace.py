"""One DEBUG line per frame on the ``syncws.trace`` logger (silent unless enabled).

Lives in the core so the reader and writer can call it; ``syncws.enable_trace()``
turns it on.
"""

from __future__ import annotations

import logging
from typing import List, Optional, Union

__all__ = [
    "PREVIEW_BYTES", "format_frame", "redact_head", "trace_frame", "trace_handshake", "trace_inflated", "trace_logger",
    "tracing",
]

trace_logger = logging.getLogger("syncws.trace")

# How much of a payload a trace line shows: enough to recognise a message,
# little enough that a 1 MiB frame costs one short line.
PREVIEW_BYTES = 32

_OPCODES = {0x0: "CONT", 0x1: "TEXT", 0x2: "BINARY", 0x8: "CLOSE", 0x9: "PING", 0xA: "PONG"}
_ARROWS = {">": ">", "send": ">", "<": "<", "recv": "<"}

Payload = Union[bytes, bytearray, memoryview]


def tracing() -> bool:
    """One level check; callers ask once per batch of frames, not per byte."""
    return trace_logger.isEnabledFor(logging.DEBUG)


def trace_frame(
    direction: str,
    opcode: int,
    fin: bool,
    payload: Payload,
    *,
    compressed: bool = False,
    length: Optional[int] = None,
) -> None:
    """Log one frame to ``syncws.trace`` at DEBUG; costs one level check when tracing is off.

    ``direction`` is ``"send"`` (or ``">"``) or ``"recv"`` (or ``"<"``);
    ``payload`` is unmasked; ``compressed`` marks a permessage-deflate frame
    (RSV1), whose bytes are shown as they are on the wire.
    """
    if trace_logger.isEnabledFor(logging.DEBUG):
        trace_logger.debug(
            "%s", format_frame(direction, opcode, fin, payload, compressed=compressed, length=length)
        )


def format_frame(
    direction: str,
    opcode: int,
    fin: bool,
    payload: Payload,
    *,
    compressed: bool = False,
    length: Optional[int] = None,
) -> str:
    """The trace line for one frame, e.g. ``> TEXT fin len=5 'hello'``.

    ``length`` is the frame's payload length when ``payload`` holds only its start.
    """
    try:
        arrow = _ARROWS[direction]
    except KeyError:
        raise ValueError(f"direction must be 'send' or 'recv', not {direction!r}") from None
    name = _OPCODES.get(opcode, f"OPCODE-{opcode:#x}")
    data = bytes(payload[: PREVIEW_BYTES + 2])  # + 2: a CLOSE frame's code
    size = len(payload) if length is None else length
    head = f"{arrow} {name} {'fin' if fin else 'more'}{' rsv1' if compressed else ''} len={size}"
    if opcode == 0x8 and not compressed:
        return f"{head} {_close_body(data, size)}"
    return f"{head} {_preview(opcode, data[:PREVIEW_BYTES], compressed)}{_rest(size, PREVIEW_BYTES)}"


def _preview(opcode: int, data: bytes, compressed: bool) -> str:
    if compressed or opcode == 0x2:
        return data.hex(" ") if data else "-"
    if opcode == 0x1:
        return repr(data.decode("utf-8", "replace"))
    return repr(data)


def _close_body(data: bytes, size: int) -> str:
    if size < 2:
        return "no code"
    code = int.from_bytes(data[:2], "big")
    reason = data[2 : PREVIEW_BYTES + 2].decode("utf-8", "replace")
    return f"code={code} reason={reason!r}{_rest(size - 2, PREVIEW_BYTES)}"


def _rest(size: int, shown: int) -> str:
    return f" ... (+{size - shown} bytes)" if size > shown else ""


# Header values that carry credentials: never logged, raised or shown as they are.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
REDACTED = "<redacted>"


def redact_head(head: bytes) -> List[str]:
    """An HTTP request or response head as lines, with credential values replaced."""
    lines = head.decode("latin-1").split("\r\n")
    out = []
    for line in lines:
        if not line:
            continue
        name, sep, _value = line.partition(":")
        if sep and name.strip().lower() in SECRET_HEADERS:
            line = f"{name}: {REDACTED}"
        # A server's header may carry control characters: never let them reach a terminal raw.
        out.append("".join(c if c.isprintable() else repr(c)[1:-1] for c in line))
    return out


def trace_handshake(direction: str, head: bytes) -> None:
    """The opening handshake's request (``"send"``) or answer (``"recv"``), one line each,
    credentials redacted; costs one level check when tracing is off."""
    if trace_logger.isEnabledFor(logging.DEBUG):
        arrow = _ARROWS[direction]
        for line in redact_head(head):
            trace_logger.debug("%s %s", arrow, line)


def trace_inflated(opcode: int, data: Union[bytes, str]) -> None:
    """A compressed message once inflated: its size and a bounded preview (receive side)."""
    if trace_logger.isEnabledFor(logging.DEBUG):
        raw = data.encode("utf-8") if isinstance(data, str) else data
        name = _OPCODES.get(opcode, f"OPCODE-{opcode:#x}")
        trace_logger.debug(
            "< %s inflated len=%d %s%s", name, len(raw), _preview(opcode, raw[:PREVIEW_BYTES], False),
            _rest(len(raw), PREVIEW_BYTES),
        )
