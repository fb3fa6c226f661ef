"""Wire-level helpers for the conformance suite: what a scripted server needs
to read client frames exactly, speak permessage-deflate, and judge UTF-8.

Everything here is written independently of syncws (no imports from it), so
the tests do not share a bug with the code they check.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import List, NamedTuple, Optional, Tuple

from tests.servers import RawPeer, frame

__all__ = [
    "Frame",
    "read_frame",
    "read_message",
    "read_messages",
    "Received",
    "read_close",
    "expect_close",
    "close_frame",
    "Compressor",
    "Decompressor",
    "first_invalid_utf8",
    "DEFLATE",
]

DEFLATE = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
_TAIL = b"\x00\x00\xff\xff"


class Frame(NamedTuple):
    fin: bool
    rsv: int  # the three RSV bits as 0..7 (4 = RSV1)
    opcode: int
    payload: bytes


def _unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if not n:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


async def read_frame(peer: RawPeer) -> Frame:
    """The next client frame, exactly as sent; fails unless it is masked."""
    b0, b1 = await peer.reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await peer.reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await peer.reader.readexactly(8), "big")
    assert b1 & 0x80, "a client frame must be masked (RFC 6455 §5.3)"
    key = await peer.reader.readexactly(4)
    payload = _unmask(await peer.reader.readexactly(n), key)
    return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, payload)


class Received(NamedTuple):
    messages: List[Tuple[int, bytes]]  # (opcode, payload) of each data message, in order
    pongs: List[bytes]
    frames: List[Frame]  # every data frame, in order


async def read_messages(
    peer: RawPeer, count: int, inflater: Optional["Decompressor"] = None, *, pongs: int = 0
) -> Received:
    """``count`` client data messages and ``pongs`` pongs, in whatever order they interleave
    (the loop answers pings while the application echoes). Other frames fail the script."""
    got = Received([], [], [])
    current: List[Frame] = []
    while len(got.messages) < count or len(got.pongs) < pongs:
        f = await read_frame(peer)
        if f.opcode == 10:
            assert f.fin and not f.rsv, f"bad pong {f}"
            got.pongs.append(f.payload)
            continue
        assert f.opcode in (0, 1, 2), f"expected a data frame or a pong, got {f}"
        got.frames.append(f)
        if not current:
            assert f.opcode in (1, 2), f"message starts with {f}"
        else:
            assert f.opcode == 0 and not f.rsv, f"bad continuation {f}"
        current.append(f)
        if f.fin:
            payload = b"".join(x.payload for x in current)
            if current[0].rsv & 4:
                assert inflater is not None, "RSV1 set without permessage-deflate"
                payload = inflater.message(payload)
            else:
                assert not current[0].rsv, f"RSV bits {current[0].rsv} on {current[0]}"
            got.messages.append((current[0].opcode, payload))
            current = []
    return got


async def read_message(
    peer: RawPeer, inflater: Optional["Decompressor"] = None
) -> Tuple[int, bytes, List[Frame]]:
    """One client data message: (opcode, payload, its frames); nothing else may come first."""
    got = await read_messages(peer, 1, inflater)
    assert not got.pongs, f"unexpected pongs {got.pongs}"
    return got.messages[0][0], got.messages[0][1], got.frames


async def read_close(peer: RawPeer) -> Tuple[int, bytes]:
    """The client's next frame must be a close frame: (code, reason); 1005 when empty."""
    f = await read_frame(peer)
    assert f.opcode == 8 and f.fin and not f.rsv, f"expected a close frame, got {f}"
    assert len(f.payload) != 1 and len(f.payload) <= 125
    return (int.from_bytes(f.payload[:2], "big") if f.payload else 1005), f.payload[2:]


async def expect_close(peer: RawPeer, code: int, *, answer: bool = True) -> bytes:
    """The client's next frame is a close frame with ``code``; return its reason.

    ``answer``: echo it and end the script, closing TCP, as a server should
    (RFC 6455 §7.1.1). Otherwise stay silent and require the client to close
    TCP on its own (it must, within its close timeout).
    """
    got, reason = await read_close(peer)
    assert got == code, f"client closed with {got} {reason!r}, expected {code}"
    if answer:
        peer.send(close_frame(got))
        await peer.writer.drain()
    else:
        assert await peer.at_eof()
    return reason


async def close_from_server(peer: RawPeer, code: int = 1000, reason: bytes = b"") -> None:
    """The server starts the closing handshake and, once the client answers with ``code``,
    ends the script so that TCP closes from its side first (RFC 6455 §7.1.1). Waiting for the
    client's EOF instead would wait out the client's grace for the server's."""
    peer.send(close_frame(code, reason))
    got, _ = await read_close(peer)
    assert got == code, f"client answered {got}, expected {code}"


def close_frame(code: Optional[int] = 1000, reason: bytes = b"") -> bytes:
    return frame(8, b"" if code is None else code.to_bytes(2, "big") + reason)


class Compressor:
    """The server's side of permessage-deflate: one message in, RSV1 payload out."""

    def __init__(self, bits: int = 15, *, no_context_takeover: bool = False, level: int = 6) -> None:
        self.bits = max(bits, 9)  # zlib refuses 8 for raw deflate and keeps distances < 256 with 9
        self.reset = no_context_takeover
        self.level = level
        self.obj = zlib.compressobj(level, zlib.DEFLATED, -self.bits)

    def message(self, data: bytes) -> bytes:
        out = self.obj.compress(data) + self.obj.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(_TAIL)
        if self.reset:
            self.obj = zlib.compressobj(self.level, zlib.DEFLATED, -self.bits)
        return out[:-4]


class Decompressor:
    """Inflates client messages with exactly the window and context the server agreed to."""

    def __init__(self, bits: int = 15, *, no_context_takeover: bool = False) -> None:
        self.bits = bits
        self.reset = no_context_takeover
        self.obj = zlib.decompressobj(-bits)

    def message(self, payload: bytes) -> bytes:
        if self.reset:
            self.obj = zlib.decompressobj(-self.bits)
        return self.obj.decompress(payload + _TAIL)


def first_invalid_utf8(data: bytes) -> Optional[int]:
    """Index of the first byte after which ``data`` cannot be the prefix of valid UTF-8
    (RFC 3629), or None if it can. A reference written from the RFC's table."""
    i, n = 0, len(data)
    while i < n:
        lead = data[i]
        if lead < 0x80:
            i += 1
            continue
        if 0xC2 <= lead <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif lead == 0xE0:
            need, lo, hi = 2, 0xA0, 0xBF
        elif 0xE1 <= lead <= 0xEC or lead in (0xEE, 0xEF):
            need, lo, hi = 2, 0x80, 0xBF
        elif lead == 0xED:
            need, lo, hi = 2, 0x80, 0x9F
        elif lead == 0xF0:
            need, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= lead <= 0xF3:
            need, lo, hi = 3, 0x80, 0xBF
        elif lead == 0xF4:
            need, lo, hi = 3, 0x80, 0x8F
        else:
            return i
        for k in range(1, need + 1):
            if i + k >= n:
                return None
            byte = data[i + k]
            if not (lo <= byte <= hi if k == 1 else 0x80 <= byte <= 0xBF):
                return i + k
        i += need + 1
    return None


async def drain(peer: RawPeer) -> None:
    await peer.writer.drain()


async def never() -> None:
    """Wait until the script's guard timeout: a server that stays silent."""
    await asyncio.Event().wait()
