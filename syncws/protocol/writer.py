"""Outgoing messages as wire bytes: compression, fragmentation, masking."""

from __future__ import annotations

from typing import List, Optional, Union

from .close_codes import build_close_payload, check_sendable_code
from .deflate import Deflater
from .frames import MAX_CONTROL_PAYLOAD, Opcode, encode_frame

__all__ = ["MessageWriter", "Payload"]

Payload = Union[bytes, bytearray, memoryview]


class MessageWriter:
    """Encodes what we send. Not thread-safe: compression state is ordered,
    so callers serialise ``encode`` and the write of its result under one lock."""

    def __init__(self, deflater: Optional[Deflater] = None, *, mask: bool = True) -> None:
        self.deflater = deflater
        self._mask = mask

    def message(self, opcode: int, payload: Payload, *, fragment_size: int = 0) -> bytes:
        """A data message as one frame, or as frames of ``fragment_size`` bytes."""
        rsv1 = False
        deflater = self.deflater
        if deflater is not None and deflater.wants(len(payload)):
            packed = deflater.compress(bytes(payload))
            if packed is not None:
                payload, rsv1 = packed, True
        if not fragment_size or len(payload) <= fragment_size:
            return encode_frame(opcode, payload, rsv1=rsv1, mask=self._mask)
        view = memoryview(payload)
        frames: List[bytes] = []
        for start in range(0, len(view), fragment_size):
            piece = view[start : start + fragment_size]
            last = start + fragment_size >= len(view)
            frames.append(
                encode_frame(
                    opcode if not frames else Opcode.CONTINUATION,
                    piece,
                    fin=last,
                    rsv1=rsv1 and not frames,
                    mask=self._mask,
                )
            )
        return b"".join(frames)

    def text(self, text: str) -> bytes:
        return self.message(Opcode.TEXT, text.encode("utf-8"))

    def binary(self, data: Payload) -> bytes:
        return self.message(Opcode.BINARY, data)

    def ping(self, payload: Payload = b"") -> bytes:
        return encode_frame(Opcode.PING, _control_payload(payload), mask=self._mask)

    def pong(self, payload: Payload = b"") -> bytes:
        return encode_frame(Opcode.PONG, _control_payload(payload), mask=self._mask)

    def close(self, code: int, reason: bytes = b"") -> bytes:
        check_sendable_code(code)
        return encode_frame(Opcode.CLOSE, build_close_payload(code, reason), mask=self._mask)


def _control_payload(payload: Payload) -> Payload:
    if len(payload) > MAX_CONTROL_PAYLOAD:
        raise ValueError(f"control frame payload is {len(payload)} bytes; at most {MAX_CONTROL_PAYLOAD}")
    return payload
