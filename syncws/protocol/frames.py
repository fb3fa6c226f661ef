"""Frame layout (RFC 6455 §5.2): opcodes and the client-side serialiser."""

from __future__ import annotations

import enum
import os
import secrets
import struct
import threading
from typing import Union

from .mask import mask_frame

__all__ = ["Opcode", "encode_frame", "MAX_CONTROL_PAYLOAD"]

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
) -> bytes:
    """One frame on the wire; clients mask with a fresh key from ``secrets``."""
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
    key = _mask_key()
    return mask_frame(head + key, payload, key)


# Mask keys come from ``secrets`` in batches: one getrandom() call per batch
# instead of one per frame. The pool is per thread, and a forked child starts
# a new one so it never repeats its parent's keys. A thread's first batch is
# small and each refill doubles it up to 4 KiB, so the many threads that each
# send a few frames do not each hold 4 KiB, and a busy sender still draws
# 1,024 keys a call.
_FIRST_BATCH = 64
_MAX_BATCH = 4096
_pool = threading.local()
_generation = 0


def _mask_key() -> bytes:
    pool = _pool
    pos = getattr(pool, "pos", None)
    if pos is None or pos >= len(pool.keys) or pool.generation != _generation:
        pos = _refill(pool)
    pool.pos = pos + 4
    return pool.keys[pos : pos + 4]  # type: ignore[no-any-return]


def _refill(pool: threading.local) -> int:
    fresh = getattr(pool, "generation", None) != _generation
    pool.size = _FIRST_BATCH if fresh else min(pool.size * 2, _MAX_BATCH)
    pool.keys = secrets.token_bytes(pool.size)
    pool.generation = _generation
    return 0


def _new_generation() -> None:
    global _generation
    _generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_generation)
