"""Client-to-server masking (RFC 6455 §5.3): C when built, pure Python otherwise."""

from __future__ import annotations

from typing import Union

__all__ = ["apply_mask", "py_apply_mask", "SPEEDUPS"]

Buffer = Union[bytes, bytearray, memoryview]


def py_apply_mask(data: Buffer, mask: bytes) -> bytes:
    """XOR with the repeating mask via one big-int operation (about 0.5 GB/s)."""
    n = len(data)
    if n == 0:
        return b""
    if len(mask) != 4:
        raise ValueError("mask must be 4 bytes")
    repeated = (mask * ((n + 3) // 4))[:n]
    value = int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(n, "little")


try:
    from ._speedups import apply_mask as _c_apply_mask
except ImportError:  # no compiler at install time: stay correct, just slower
    apply_mask = py_apply_mask
    SPEEDUPS = False
else:
    apply_mask = _c_apply_mask
    SPEEDUPS = True
