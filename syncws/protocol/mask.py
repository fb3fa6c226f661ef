"""Client-to-server masking (RFC 6455 §5.3): C when built, pure Python otherwise."""

from __future__ import annotations

from typing import Union

__all__ = ["apply_mask", "mask_frame", "py_apply_mask", "py_mask_frame", "SPEEDUPS"]

Buffer = Union[bytes, bytearray, memoryview]


def py_apply_mask(data: Buffer, mask: bytes) -> bytes:
    """XOR with the repeating mask via one big-int operation (about 0.5 GB/s)."""
    if len(mask) != 4:
        raise ValueError("mask must be 4 bytes")
    n = len(data)
    if n == 0:
        return b""
    repeated = (mask * ((n + 3) // 4))[:n]
    value = int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(n, "little")


def py_mask_frame(prefix: Buffer, data: Buffer, mask: bytes) -> bytes:
    """``prefix`` followed by the masked ``data`` (the C version does it in one allocation)."""
    return bytes(prefix) + py_apply_mask(data, mask)


try:
    from ._speedups import apply_mask as _c_apply_mask
    from ._speedups import mask_frame as _c_mask_frame
except ImportError:  # no compiler at install time: stay correct, just slower
    apply_mask = py_apply_mask
    mask_frame = py_mask_frame
    SPEEDUPS = False
else:
    apply_mask = _c_apply_mask
    mask_frame = _c_mask_frame
    SPEEDUPS = True
