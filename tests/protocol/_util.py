"""Helpers shared by the protocol tests: hand-made frames and chunked feeding."""

from __future__ import annotations

import struct
from typing import Iterable, List, Optional, Sequence, Tuple

from syncws.protocol.mask import py_apply_mask
from syncws.protocol.messages import WSMessage
from syncws.protocol.reader import MessageReader


def server_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    length: Optional[int] = None,
    width: Optional[int] = None,
    mask: Optional[bytes] = None,
) -> bytes:
    """One frame as a server would send it, built byte by byte, independently of syncws.

    ``rsv`` is the raw 0x70 bits, ``length`` overrides the declared length,
    ``width`` forces the 7/16/64-bit length encoding (for non-minimal lengths).
    """
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | opcode
    bit = 0x80 if mask is not None else 0
    if width is None:
        width = 7 if n < 126 else 16 if n < 65536 else 64
    if width == 7:
        head = bytes([b0, bit | n])
    elif width == 16:
        head = bytes([b0, bit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, bit | 127]) + struct.pack("!Q", n)
    if mask is not None:
        return head + mask + py_apply_mask(payload, mask)
    return head + payload


def chunks(data: bytes, cuts: Iterable[int]) -> List[bytes]:
    """Split ``data`` at the given offsets (taken modulo len+1, sorted, deduplicated)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    out = []
    prev = 0
    for p in points:
        out.append(data[prev:p])
        prev = p
    out.append(data[prev:])
    return out


def feed_all(reader: MessageReader, pieces: Iterable[bytes]) -> List[WSMessage]:
    out: List[WSMessage] = []
    for piece in pieces:
        out.extend(reader.feed(piece))
    return out


def feed_bytewise(reader: MessageReader, data: bytes) -> List[WSMessage]:
    return feed_all(reader, (data[i : i + 1] for i in range(len(data))))


def parse_client_frames(data: bytes) -> List[Tuple[int, bool, int, bytes, bytes]]:
    """(opcode, fin, rsv bits, mask key, unmasked payload) of each masked frame in ``data``.

    A minimal independent parser; every frame must be masked and complete.
    """
    frames = []
    pos = 0
    while pos < len(data):
        b0, b1 = data[pos], data[pos + 1]
        assert b1 & 0x80, "client frame without the mask bit"
        n = b1 & 0x7F
        pos += 2
        if n == 126:
            (n,) = struct.unpack("!H", data[pos : pos + 2])
            pos += 2
        elif n == 127:
            (n,) = struct.unpack("!Q", data[pos : pos + 8])
            pos += 8
        key = data[pos : pos + 4]
        pos += 4
        payload = data[pos : pos + n]
        assert len(payload) == n, "truncated frame"
        pos += n
        unmasked = bytes(p ^ key[i % 4] for i, p in enumerate(payload)) if n < 4096 else py_apply_mask(payload, key)
        frames.append((b0 & 0x0F, bool(b0 & 0x80), b0 & 0x70, key, unmasked))
    return frames


def types_and_data(messages: Sequence[WSMessage]) -> List[Tuple[int, object]]:
    return [(int(m.type), m.data) for m in messages]
