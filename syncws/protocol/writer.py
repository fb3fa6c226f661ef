"""Outgoing messages as wire bytes: compression, fragmentation, masking."""

from __future__ import annotations

from typing import List, Optional, Tuple, Union

from .close_codes import build_close_payload, check_sendable_code
from .deflate import Deflater
from .frames import MAX_CONTROL_PAYLOAD, Opcode, encode_frame
from .trace import trace_frame, tracing

__all__ = ["MessageWriter", "Payload"]

Payload = Union[bytes, bytearray, memoryview]

# Plain ints for the per-message path: an enum member lookup costs as much as the header.
_TEXT = int(Opcode.TEXT)
_BINARY = int(Opcode.BINARY)


class MessageWriter:
    """Encodes what we send. Not thread-safe: compression state is ordered,
    so callers serialise ``encode`` and the write of its result under one lock."""

    def __init__(self, deflater: Optional[Deflater] = None, *, mask: bool = True) -> None:
        self.deflater = deflater
        self._mask = mask
        # A message being sent in fragments: None between messages, else whether it is compressed.
        self._fragmented: Optional[bool] = None

    def message(self, opcode: int, payload: Payload, *, fragment_size: int = 0, compress: bool = True) -> bytes:
        """A data message as one frame, or as frames of ``fragment_size`` bytes.

        ``compress=False`` sends this one message uncompressed even with
        permessage-deflate agreed (RFC 7692 allows it: RSV1 clear); the
        compressor's context is untouched, so the next message still inflates.
        """
        payload, rsv1 = self.pack(payload, compress)
        return self.framed(opcode, payload, rsv1, fragment_size=fragment_size)

    def pack(self, payload: Payload, compress: bool = True) -> Tuple[Payload, bool]:
        """A whole message's payload as it goes on the wire, and whether it is compressed
        (RSV1): ``message()``'s first half, the only one that steps the compressor.

        It may run in another thread (a big message's deflate, away from the event loop)
        while control frames are framed meanwhile: it touches the compressor and nothing
        else. The caller keeps the order: no other data message is packed or framed until
        this one is framed, and a packed message that is then not sent must be followed by
        ``deflater.reset()``, or the compressor's context runs ahead of the peer's.
        """
        if type(payload) is not bytes:
            payload = byte_view(payload)
        deflater = self.deflater
        if compress and deflater is not None and deflater.wants(len(payload)):
            packed = deflater.compress(bytes(payload))
            if packed is not None:
                return packed, True
        return payload, False

    def framed(self, opcode: int, payload: Payload, rsv1: bool, *, fragment_size: int = 0) -> bytes:
        """``message()``'s second half: a packed payload as one frame, or as frames of
        ``fragment_size`` bytes (RSV1 on the first only)."""
        if not fragment_size or len(payload) <= fragment_size:
            return self._frame(opcode, payload, rsv1=rsv1)
        view = memoryview(payload)
        frames: List[bytes] = []
        for start in range(0, len(view), fragment_size):
            piece = view[start : start + fragment_size]
            last = start + fragment_size >= len(view)
            frames.append(
                self._frame(opcode if not frames else Opcode.CONTINUATION, piece, fin=last, rsv1=rsv1 and not frames)
            )
        return b"".join(frames)

    def fragment(self, opcode: int, payload: Payload, *, fin: bool, compress: bool = True) -> bytes:
        """One frame of a message sent as fragments: ``opcode`` (TEXT or BINARY) on the first
        frame, CONTINUATION on the rest, FIN on the last. The first fragment settles whether
        the message is compressed (RSV1 on that frame only). Callers send a fragmented
        message's frames in one uninterrupted turn, with no other data frame in between."""
        payload, first, compressed = self.pack_fragment(payload, fin=fin, compress=compress)
        return self.framed_fragment(opcode, payload, first, compressed, fin)

    def pack_fragment(self, payload: Payload, *, fin: bool, compress: bool = True) -> Tuple[Payload, bool, bool]:
        """``fragment()``'s first half: the payload as it goes on the wire, whether this is
        the message's first frame, and whether the message is compressed.

        Like ``pack()`` it touches only the compressor (and this message's fragment state),
        so a big fragment may be compressed in another thread while control frames are
        framed. The caller frames each result (``framed_fragment``) before packing the next
        fragment; a packed fragment that is not sent leaves the message cut short.
        """
        compressed = self._fragmented
        first = compressed is None
        deflater = self.deflater
        if compressed is None:
            compressed = compress and deflater is not None and deflater.enabled
        if type(payload) is not bytes:
            payload = byte_view(payload)
        if compressed and deflater is not None:
            payload = deflater.compress_fragment(bytes(payload), fin)
        self._fragmented = None if fin else compressed
        return payload, first, compressed

    def framed_fragment(self, opcode: int, payload: Payload, first: bool, compressed: bool, fin: bool) -> bytes:
        """``fragment()``'s second half: one packed fragment as its frame."""
        return self._frame(
            opcode if first else Opcode.CONTINUATION, payload, fin=fin, rsv1=compressed and first
        )

    def _frame(self, opcode: int, payload: Payload, *, fin: bool = True, rsv1: bool = False) -> bytes:
        if tracing():
            trace_frame("send", opcode, fin, payload, compressed=rsv1)
        return encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=self._mask)

    def text(self, text: str, compress: bool = True) -> bytes:
        return self.message(_TEXT, text.encode("utf-8"), compress=compress)

    def binary(self, data: Payload, compress: bool = True) -> bytes:
        return self.message(_BINARY, data, compress=compress)

    def ping(self, payload: Payload = b"") -> bytes:
        return self._frame(Opcode.PING, _control_payload(payload))

    def pong(self, payload: Payload = b"") -> bytes:
        return self._frame(Opcode.PONG, _control_payload(payload))

    def close(self, code: int, reason: bytes = b"") -> bytes:
        check_sendable_code(code)
        return self._frame(Opcode.CLOSE, build_close_payload(code, reason))


def byte_view(data: Payload) -> Payload:
    """The bytes of any buffer as a flat run of bytes, so that ``len()`` counts bytes:
    a memoryview of ``array('i')`` or a numpy array has ``len()`` in items, and a
    strided view is not one run of memory at all."""
    if isinstance(data, (bytes, bytearray)):
        return data
    view = data if isinstance(data, memoryview) else memoryview(data)
    if view.ndim == 1 and view.format == "B":
        if view.c_contiguous:
            return view
    elif view.c_contiguous:
        return view.cast("B")
    return view.tobytes()


def _control_payload(payload: Payload) -> Payload:
    if len(payload) > MAX_CONTROL_PAYLOAD:
        raise ValueError(f"control frame payload is {len(payload)} bytes; at most {MAX_CONTROL_PAYLOAD}")
    return payload
