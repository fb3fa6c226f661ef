"""Frame layout (RFC 6455 §5.2): opcodes and the client-side serialiser."""

from __future__ import annotations

import enum
import os
import secrets
import struct
from typing import List, Optional, Union

from .mask import mask_frame

__all__ = ["Opcode", "MaskKeys", "encode_frame", "MAX_CONTROL_PAYLOAD"]

MAX_CONTROL_PAYLOAD = 125

_HEAD_7 = struct.Struct("!BB")
_HEAD_16 = struct.Struct("!BBH")
_HEAD_64 = struct.Struct("!BBQ")


class Opcode(enum.IntEnum):
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


def encode_frame(
    opcode: int,
    payload: Union[bytes, bytearray, memoryview],
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bool = True,
    keys: Optional["MaskKeys"] = None,
) -> bytes:
    """One frame on the wire; clients mask with a fresh key from ``secrets``,
    drawn from ``keys`` if given, else from the process's pool."""
    first = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head = _HEAD_7.pack(first, bit | n)
    elif n < 65536:
        head = _HEAD_16.pack(first, bit | 126, n)
    else:
        head = _HEAD_64.pack(first, bit | 127, n)
    if not mask:
        return head + bytes(payload)
    key = (_shared if keys is None else keys).take()
    return mask_frame(head + key, payload, key)


# Mask keys come from ``secrets`` in batches: one getrandom() call per 256 keys
# instead of one per frame. One pool serves the whole process (about 12 KiB): a
# pool per connection held up to 256 bytes of keys for life, a thousand
# connections a quarter of a MiB (S5). Threads share it without a lock because
# ``list.pop`` and ``list.extend`` are single operations on a list: each key is
# taken once. A forked child empties its copy, so it never repeats its parent's.
_BATCH = 1024


class MaskKeys:
    """A pool of mask keys, safe to share between threads."""

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: List[bytes] = []

    def take(self) -> bytes:
        try:
            return self._keys.pop()
        except IndexError:
            batch = secrets.token_bytes(_BATCH)
            self._keys.extend([batch[i : i + 4] for i in range(4, _BATCH, 4)])
            return batch[:4]

    def forget(self) -> None:
        """Drop every key not yet taken (a forked child's copy of its parent's)."""
        self._keys.clear()


_shared = MaskKeys()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_shared.forget)
