"""permessage-deflate (RFC 7692): the offer, the server's answer, and both directions of zlib."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, List, Optional, Tuple

from . import zlib_backend
from .close_codes import WSCloseCode
from .errors import ProtocolError

__all__ = [
    "DeflateParams",
    "CompressSettings",
    "DEFAULT_COMPRESS",
    "make_offer",
    "accept_response",
    "Deflater",
    "Inflater",
    "MIN_COMPRESS_SIZE",
]

EXTENSION = "permessage-deflate"
_TAIL = b"\x00\x00\xff\xff"
# With a faster zlib installed, messages and fragments this big are compressed with it
# (Deflater); smaller ones with the stdlib's, whose compressor a connection keeps.
FAST_COMPRESS = 64 * 1024
# Inflated bytes per zlib call. zlib runs without the GIL; what follows each call (a
# piece's UTF-8 decode into a new str) holds it and stalls every other thread, so small
# steps keep each stall well under a millisecond however many MiB one read inflates to
# (S9 in bench/RESULTS.md: with the GIL-free join, a 16 MiB receive now adds 1-4 ms
# to other connections' p99 instead of 7-9 ms).
INFLATE_STEP = 256 * 1024
# Below this many bytes deflate's framing overhead usually outweighs any saving.
MIN_COMPRESS_SIZE = 32


@dataclass(frozen=True)
class DeflateParams:
    """What was agreed; ``client_*`` applies to what we send, ``server_*`` to what we receive."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15


@dataclass(frozen=True)
class CompressSettings:
    """How we compress what we send (the receiving side is the server's choice).

    Defaults trade a little ratio for speed and memory (docs/performance.md): zlib
    level 1 is about 3x faster than its default 6 on JSON; memLevel 5 and a 12-bit
    window need about 40 KiB per connection instead of 260 KiB.
    """

    level: int = 1
    mem_level: int = 5
    window_bits: int = 12


DEFAULT_COMPRESS = CompressSettings()


def make_offer(compress: int, window_bits: int = 15) -> str:
    """The ``Sec-WebSocket-Extensions`` value we send; ``compress`` caps the server's window,
    ``window_bits`` (below 15) tells the server the largest window we compress with."""
    if not 9 <= compress <= 15:
        raise ValueError(f"compress must be 0 (off) or 9..15 window bits, not {compress!r}")
    if not 9 <= window_bits <= 15:
        raise ValueError(f"compress_window_bits must be 9..15, not {window_bits!r}")
    offer = f"{EXTENSION}; client_max_window_bits"
    if window_bits < 15:
        offer += f"={window_bits}"
    if compress < 15:
        offer += f"; server_max_window_bits={compress}"
    return offer


def _window_bits(name: str, value: Optional[str]) -> int:
    if value is None or not value.isdigit() or value[0] == "0" or not 8 <= int(value) <= 15:
        raise ValueError(f"{name} must be an integer from 8 to 15, got {value!r}")
    return int(value)


def accept_response(
    params: List[Tuple[str, Optional[str]]], compress: int, window_bits: int = 15
) -> DeflateParams:
    """Validate the server's permessage-deflate parameters against our offer.

    ``client_max_window_bits`` in the result is the window we will compress with: the
    server's limit or ``window_bits``, whichever is smaller (a server answering a larger
    value than we offered is not refused; we simply stay within our own).
    Raises ValueError naming the offending parameter.
    """
    seen = set()
    agreed = {
        "server_no_context_takeover": False,
        "client_no_context_takeover": False,
        "server_max_window_bits": 15,
        "client_max_window_bits": 15,
    }
    for name, value in params:
        if name in seen:
            raise ValueError(f"duplicate {EXTENSION} parameter {name}")
        seen.add(name)
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise ValueError(f"{name} takes no value, got {value!r}")
            agreed[name] = True
        elif name == "server_max_window_bits":
            bits = _window_bits(name, value)
            if bits > compress:
                raise ValueError(f"server_max_window_bits={bits} exceeds the {compress} we offered")
            agreed[name] = bits
        elif name == "client_max_window_bits":
            # A value-less answer means no limit beyond our own.
            agreed[name] = 15 if value is None else _window_bits(name, value)
        else:
            raise ValueError(f"unknown {EXTENSION} parameter {name}")
    if compress < 15 and "server_max_window_bits" not in seen:
        # RFC 7692 §7.1.2.1: accepting our offer means answering with this parameter.
        raise ValueError(f"server_max_window_bits={compress} was offered but the server did not accept it")
    return DeflateParams(
        server_no_context_takeover=bool(agreed["server_no_context_takeover"]),
        client_no_context_takeover=bool(agreed["client_no_context_takeover"]),
        server_max_window_bits=int(agreed["server_max_window_bits"]),
        client_max_window_bits=min(int(agreed["client_max_window_bits"]), window_bits),
    )


class Deflater:
    """Compresses outgoing messages; not thread-safe (callers hold the write lock).

    With a faster backend than the stdlib's (zlib-ng, ``syncws[speedups]``), only a
    message or fragment of FAST_COMPRESS bytes or more goes through it, in a compressor
    made for that call and primed with the last window of what was sent before: the
    peer's decompressor holds those same bytes, so back-references into them stay right.
    The compressor kept between messages is always the stdlib's. zlib-ng's keeps a 128 KiB
    hash table whatever ``mem_level`` says; one per connection would make a lean
    connection four times heavier (S8 in bench/RESULTS.md), while on small messages its
    speed saves microseconds.
    """

    def __init__(
        self,
        params: DeflateParams,
        settings: CompressSettings = DEFAULT_COMPRESS,
        zlib: Optional[ModuleType] = None,
    ) -> None:
        backend = zlib or zlib_backend.current()
        self._kept = zlib_backend.stdlib()
        self._fast: Optional[ModuleType] = None if backend is self._kept else backend
        self._sync_flush = self._kept.Z_SYNC_FLUSH
        # The negotiated window, which accept_response already capped at settings.window_bits.
        self._bits = params.client_max_window_bits
        self._reset_each = params.client_no_context_takeover
        self._level = settings.level
        self._mem_level = settings.mem_level
        # With a fast backend: the last window of what this context compressed, to prime
        # the next compressor with (see the class docstring).
        self._window = 1 << max(self._bits, 9)
        self._history = b""
        self.enabled = True
        self._obj = self._new(self._kept)

    def _new(self, z: ModuleType, history: bytes = b"") -> Any:
        # zlib refuses an 8-bit window for raw deflate; a 9-bit one is safe instead:
        # zlib never emits a match distance over 2**9 - 262 = 250 (MAX_DIST in
        # deflate.h; zlib-ng keeps the same bound), so a peer that holds us to 8 bits
        # (256) can inflate it.
        if history:
            return z.compressobj(self._level, z.DEFLATED, -max(self._bits, 9), self._mem_level, zdict=history)
        return z.compressobj(self._level, z.DEFLATED, -max(self._bits, 9), self._mem_level)

    def reset(self) -> None:
        """Drop the context: what follows inflates on its own (as with no context takeover)."""
        self._history = b""
        self._obj = self._new(self._kept)

    def wants(self, size: int) -> bool:
        return self.enabled and size >= MIN_COMPRESS_SIZE

    def compress(self, data: bytes) -> Optional[bytes]:
        """The compressed payload, or None when sending ``data`` as it is is better."""
        out = self._deflate(data)
        if out.endswith(_TAIL):
            out = out[:-4]
        if self._reset_each:
            # Without shared context, a message that did not shrink can go out raw.
            self.reset()
            if len(out) >= len(data):
                return None
        return out or b"\x00"

    def compress_fragment(self, data: bytes, last: bool) -> bytes:
        """One fragment of a compressed message, flushed so it can leave now (RFC 7692
        §7.2.1); only the last fragment drops the empty block's tail."""
        out = self._deflate(data)
        if last:
            if out.endswith(_TAIL):
                out = out[:-4]
            if self._reset_each:
                self.reset()
        return out

    def _deflate(self, data: bytes) -> bytes:
        """``data`` compressed and sync-flushed, by the compressor its size calls for."""
        fast = self._fast
        if fast is None:
            out: bytes = self._obj.compress(data) + self._obj.flush(self._sync_flush)
            return out
        if len(data) >= FAST_COMPRESS:
            obj = self._new(fast, self._history)
            out = obj.compress(data) + obj.flush(self._sync_flush)
            self._history = data[-self._window :]
            self._obj = self._new(self._kept, self._history)  # carries on from here
            return out
        out = self._obj.compress(data) + self._obj.flush(self._sync_flush)
        if len(data) >= self._window:
            self._history = data[-self._window :]
        else:
            self._history = (self._history + data)[-self._window :]
        return out


class Inflater:
    """Decompresses incoming messages, never producing more than the caller allows."""

    def __init__(self, params: DeflateParams, zlib: Optional[ModuleType] = None) -> None:
        self._zlib = zlib or zlib_backend.current()
        self._bits = max(params.server_max_window_bits, 9)
        self._reset_each = params.server_no_context_takeover
        self._obj: Any = self._zlib.decompressobj(-self._bits)

    def decompress(self, data: bytes, limit: Optional[int]) -> List[bytes]:
        """Inflate ``data``, in pieces of at most INFLATE_STEP bytes; ``limit`` (None:
        unbounded) caps the output, raising 1009 past it."""
        out, _ = self._steps(data, None if limit is None else limit + 1)
        if limit is not None and sum(map(len, out)) > limit:
            raise ProtocolError(WSCloseCode.MESSAGE_TOO_BIG, "decompressed message exceeds max_msg_size")
        return out

    def decompress_some(self, data: bytes, size: int) -> Tuple[List[bytes], bytes]:
        """Inflate at most ``size`` bytes of ``data`` (a streamed message, piece by piece),
        in pieces of at most INFLATE_STEP; also returns the input left over. With ``size``
        bytes out, more may be due."""
        return self._steps(data, size)

    def _steps(self, data: bytes, size: Optional[int]) -> Tuple[List[bytes], bytes]:
        """Up to ``size`` bytes (None: all there is) in pieces of at most INFLATE_STEP, and
        the input not yet inflated when ``size`` was reached."""
        out: List[bytes] = []
        while size is None or size > 0:
            step = INFLATE_STEP if size is None else min(size, INFLATE_STEP)
            piece = self._inflate(data, step)
            data = self._obj.unconsumed_tail
            if piece:
                out.append(piece)
            if len(piece) < step:  # all input taken, nothing more held back
                break
            if size is not None:
                size -= step
        return out, data

    def _inflate(self, data: bytes, max_length: int) -> bytes:
        try:
            out: bytes = self._obj.decompress(data, max_length)
            return out
        except self._zlib.error as exc:
            # 1007 (inconsistent data), not `websockets`' 1002: RFC 7692 names no code, and in
            # a text message a corrupt stream may first show as invalid UTF-8 (1007) or as
            # this, depending on how the bytes were cut; one code keeps the answer the same.
            raise ProtocolError(WSCloseCode.INVALID_TEXT, f"invalid compressed data: {exc}") from None

    def finish(self, limit: Optional[int]) -> bytes:
        """End of message: flush with the tail the sender stripped."""
        pieces = self.decompress(_TAIL, limit)
        out = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if self._reset_each or self._obj.eof:
            self._obj = self._zlib.decompressobj(-self._bits)
        return out
