"""Frame layout (RFC 6455 §5.2): opcodes and the client-side serialiser."""

from __future__ import annotations

import enum
import os
import secrets
import struct
import threading
from typing import Optional, Union

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
    drawn from ``keys`` (a writer's own) or else from this thread's pool."""
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
    if keys is None:
        keys = _thread_keys()
    key = keys.take()
    return mask_frame(head + key, payload, key)


# Mask keys come from ``secrets`` in batches: one getrandom() call per batch
# instead of one per frame. A pool belongs to one writer (whose callers take
# turns under its send lock) or, for bare ``encode_frame`` calls, to one thread.
# A forked child starts afresh so it never repeats its parent's keys. A pool's
# first batch is small and each refill doubles it up to 256 bytes: a connection
# holds its pool for life, and 64 keys a call already cost ~17 ns a key against
# ~11 for 1,024 (4 KiB held by every busy connection of a thousand).
_FIRST_BATCH = 64
_MAX_BATCH = 256
_generation = 0


class MaskKeys:
    """A pool of mask keys; not thread-safe (one writer's lock, or one thread)."""

    __slots__ = ("_generation", "_keys", "_pos", "_size")

    def __init__(self) -> None:
        self._keys = b""
        self._pos = 0
        self._size = 0
        self._generation = _generation

    def take(self) -> bytes:
        pos = self._pos
        if pos >= len(self._keys) or self._generation != _generation:
            pos = self._refill()
        self._pos = pos + 4
        return self._keys[pos : pos + 4]

    def _refill(self) -> int:
        if self._generation != _generation:  # forked: the parent's keys stay the parent's
            self._generation = _generation
            self._size = 0
        self._size = min(self._size * 2, _MAX_BATCH) if self._size else _FIRST_BATCH
        self._keys = secrets.token_bytes(self._size)
        return 0


_local = threading.local()


def _thread_keys() -> MaskKeys:
    keys: Optional[MaskKeys] = getattr(_local, "keys", None)
    if keys is None:
        keys = _local.keys = MaskKeys()
    return keys


def _new_generation() -> None:
    global _generation
    _generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_generation)
