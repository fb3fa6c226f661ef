"""Incremental frame parser and message assembler (RFC 6455 §5, §8; RFC 7692 §6.2).

Bytes may arrive in any chunking, one byte at a time included, and give the
same messages. Every rule is checked as soon as the bytes that break it are
seen: a bad header fails before its payload arrives, invalid UTF-8 fails at
the first bad byte, an oversized message fails before it is buffered.

With ``streams=True`` (what connections use) a message may instead be handed
out in pieces as it arrives (``WSMsgType.CONTINUATION`` items, see
protocol/fragments.py): once the receiver asked for it (``claim``), or once it
grows past ``max_msg_size``. In the second case the reader stops (``held``)
with at most ``max_msg_size`` of it handed out, flagged as too big, until the
receiver decides: ``resume`` streams the rest, ``stop`` refuses it.
"""

from __future__ import annotations

import codecs
from typing import Any, Callable, List, Optional, Tuple, Union

from .close_codes import WSCloseCode, parse_close_payload
from .deflate import Inflater
from .errors import ProtocolError
from .fragments import Piece
from .messages import WSMessage, WSMsgType
from .trace import PREVIEW_BYTES, trace_frame, trace_inflated, tracing

__all__ = ["MessageReader"]

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_PIECE = WSMsgType.CONTINUATION
_PROTOCOL = WSCloseCode.PROTOCOL_ERROR
_utf8_decoder = codecs.getincrementaldecoder("utf-8")
# Pieces shorter than this are packed _PACK at a time (see MessageReader._add).
_SMALL_PIECE = 1024
_PACK = 256

# The C scanner takes runs of whole plain data frames (most frames) off the
# Python loop below; the loop still judges everything it stops at.
_Scan = Callable[[bytes, int, int, List[Any], type, Any, Any, Any], int]
_scan: Optional[_Scan]
try:
    from ._speedups import scan_messages as _scan
except ImportError:  # no compiler at install time: the loop does it all
    _scan = None


def _py_join(parts: List[Union[bytes, str]], text: bool) -> Union[bytes, str]:
    return ("" if text else b"").join(parts)  # type: ignore[arg-type]


# A message's pieces are joined by C that copies a big message without the GIL (most of
# a 16 MiB copy is page faults on the new object, about 10 ms that would stall every
# other thread, the loop among them); joined here otherwise.
_join: Callable[[List[Union[bytes, str]], bool], Union[bytes, str]]
try:
    from ._speedups import join_parts as _join
except ImportError:
    _join = _py_join


def _bad_utf8_prefix(pending: bytes) -> bool:
    """True if an incomplete sequence is already invalid by its second byte.

    CPython's decoder waits for the third byte before rejecting some of these
    (surrogates ED A0..BF, for one); RFC 6455 wants us to fail now.
    """
    if len(pending) < 2:
        return False
    lead, second = pending[0], pending[1]
    if lead == 0xE0:
        return not 0xA0 <= second <= 0xBF
    if lead == 0xED:
        return not 0x80 <= second <= 0x9F
    if lead == 0xF0:
        return not 0x90 <= second <= 0xBF
    if lead == 0xF4:
        return not 0x80 <= second <= 0x8F
    return False


class MessageReader:
    """Turns server bytes into complete ``WSMessage`` values.

    After a violation it returns one ERROR message carrying the
    ``ProtocolError`` (its ``code`` is what to close with) and ignores all
    further input; after a close frame it ignores all further input too.
    Not thread-safe: one reader per connection, fed from one thread.
    """

    __slots__ = (
        "_claimed", "_compressed", "_decoder", "_discarding", "_fin", "_in_payload", "_inflated", "_inflater",
        "_leftover", "_max", "_msg_op", "_over", "_parts", "_pending", "_remaining", "_size", "_small",
        "_streaming", "_streams", "_too_big", "close_received", "error", "held",
    )

    def __init__(
        self, *, max_msg_size: int = 4 * 2**20, inflater: Optional[Inflater] = None, streams: bool = False
    ) -> None:
        if max_msg_size < 0:
            raise ValueError("max_msg_size must be >= 0 (0 means unlimited)")
        self._max = max_msg_size
        self._inflater = inflater
        self._streams = streams
        self._streaming = False  # the message in progress is handed out in pieces
        self._claimed = False  # the next message to start is streamed
        self._over = False  # the message in progress has passed max_msg_size
        self._too_big: Optional[ProtocolError] = None  # to flag the next piece with
        # Stopped until the receiver takes the last piece handed out (resume), or refuses
        # the message (stop); input meanwhile is kept, unparsed.
        self.held = False
        self._discarding = False  # our close began: data is dropped unread
        self._pending: Optional[Tuple[bytes, bool]] = None  # compressed input not yet inflated, and its `last`
        self._inflated = 0  # bytes inflated since the last piece handed out
        self._leftover = b""
        self._in_payload = False
        self._remaining = 0
        self._fin = False
        # The message being assembled; opcode 0 means none.
        self._msg_op = 0
        self._compressed = False
        self._size = 0
        self._parts: List[Union[bytes, str]] = []
        self._small = 0  # small pieces at the end of _parts, not yet packed
        self._decoder: Optional[codecs.IncrementalDecoder] = None
        self.error: Optional[ProtocolError] = None
        self.close_received = False

    @property
    def pending(self) -> int:
        """Bytes of the unfinished message held so far (inflated, when compressed); 0 between messages."""
        return self._size if self._msg_op else 0

    @property
    def done(self) -> bool:
        """True once a close frame or a violation ended the input."""
        return self.close_received or self.error is not None

    @property
    def mid_message(self) -> bool:
        """Part of a frame or of a fragmented message has arrived, not yet the rest
        (so that a lost connection can say it cut a message short)."""
        return bool(self._leftover) or self._in_payload or self._msg_op != 0

    def feed(self, data: bytes) -> List[WSMessage]:
        """Parse ``data``; return the messages it completed, in order."""
        out: List[WSMessage] = []
        if self.error is not None or self.close_received:
            return out
        if self.held:  # kept until the receiver has taken what was handed out; reading is paused
            self._leftover += data
            return out
        try:
            if self._pending is not None and self._inflate_pending(out):
                self._leftover += data  # what was pending inflated to a whole piece again
            else:
                if self._leftover:
                    data = self._leftover + data
                    self._leftover = b""
                self._parse(bytes(data) if not isinstance(data, bytes) else data, out)
        except ProtocolError as exc:
            self.error = exc
            out.append(WSMessage(WSMsgType.ERROR, exc, None))
            return out
        if self._streaming and (self._parts or self._too_big is not None or self.held):
            self._piece(False, out)  # what this read brought of a streamed message, as one piece
        return out

    def _inflate_pending(self, out: List[WSMessage]) -> bool:
        """Inflate on what a full piece left over; True if that fills a piece again (held)."""
        assert self._pending is not None
        rest, last = self._pending
        self._pending = None
        self._payload(rest, last, out)
        return self.held

    def claim(self) -> List[WSMessage]:
        """The receiver wants the message in progress, or else the next one, in pieces as it
        arrives; returns what that hands out now (what is held so far)."""
        if self.held:
            return self.resume()
        out: List[WSMessage] = []
        if not self._msg_op:
            self._claimed = True
        elif not self._streaming:
            self._streaming = True
            if self._parts:
                self._piece(False, out)
        return out

    def resume(self) -> List[WSMessage]:
        """The receiver streams the message the reader is held on: parse on."""
        if not self.held:
            return []
        self.held = False
        return self.feed(b"")

    def discard(self) -> None:
        """Our close began: data from now on is dropped unread (control frames still count),
        and a hold ends; what is kept is parsed with the next ``feed``."""
        self._discarding = True
        self.held = False
        self._pending = None
        self._too_big = None
        self._parts = []

    def stop(self, error: ProtocolError) -> None:
        """The receiver refused the message: all further input is ignored."""
        self.held = False
        self._leftover = b""
        self._pending = None
        if self.error is None:
            self.error = error

    def _passed_limit(self, size: int) -> None:
        """The message in progress reached ``size`` bytes, over max_msg_size."""
        err = ProtocolError(
            WSCloseCode.MESSAGE_TOO_BIG, f"message of at least {size} bytes exceeds max_msg_size={self._max}"
        )
        if self._discarding:
            self._over = True
            return
        if not self._streams:
            raise err
        self._over = True
        self._too_big = err
        if not self._streaming:  # nobody asked for it in pieces: wait for the receiver
            self._streaming = True
            self.held = True

    def _parse(self, data: bytes, out: List[WSMessage]) -> None:
        trace = tracing()
        scan = None if trace else _scan
        pos = 0
        end = len(data)
        while True:
            if not self._in_payload:
                if scan is not None and not self._msg_op:
                    pos = scan(data, pos, self._max, out, WSMessage, _TEXT, _BINARY, "")
                if end - pos < 2:
                    break
                b0 = data[pos]
                b1 = data[pos + 1]
                if b1 & 0x80:
                    raise ProtocolError(_PROTOCOL, "the server sent a masked frame")
                fin = b0 & 0x80
                rsv = b0 & 0x70
                opcode = b0 & 0x0F
                n = b1 & 0x7F
                if opcode > 2:
                    if opcode not in (0x8, 0x9, 0xA):
                        raise ProtocolError(_PROTOCOL, f"reserved opcode {opcode}")
                    if not fin:
                        raise ProtocolError(_PROTOCOL, "fragmented control frame")
                    if rsv:
                        raise ProtocolError(_PROTOCOL, "RSV bits set on a control frame")
                else:
                    if rsv:
                        if rsv != 0x40 or self._inflater is None:
                            raise ProtocolError(_PROTOCOL, "RSV bits set without a negotiated extension")
                        if opcode == 0:
                            raise ProtocolError(_PROTOCOL, "RSV1 set on a continuation frame")
                    if opcode == 0:
                        if not self._msg_op:
                            raise ProtocolError(_PROTOCOL, "continuation frame with no message to continue")
                    elif self._msg_op:
                        raise ProtocolError(_PROTOCOL, "new data frame inside a fragmented message")
                head = 2
                if n == 126:
                    if end - pos < 4:
                        break
                    n = (data[pos + 2] << 8) | data[pos + 3]
                    head = 4
                elif n == 127:
                    if end - pos < 10:
                        break
                    n = int.from_bytes(data[pos + 2 : pos + 10], "big")
                    if n >> 63:
                        raise ProtocolError(_PROTOCOL, "64-bit payload length with the top bit set")
                    head = 10
                if opcode > 2:
                    # Checked on the decoded length: a non-minimal encoding of a small one is fine.
                    if n > 125:
                        raise ProtocolError(_PROTOCOL, "control frame payload over 125 bytes")
                    if end - pos - head < n:
                        break  # control frames are small: wait for all of it
                    start = pos + head
                    pos = start + n
                    if trace:
                        trace_frame("recv", opcode, True, data[start:pos])
                    self._control(opcode, data[start:pos], out)
                    if self.close_received:
                        return  # anything after a close frame is ignored
                    continue
                pos += head
                if trace:
                    preview = data[pos : pos + min(n, PREVIEW_BYTES)]
                    trace_frame("recv", opcode, bool(fin), preview, compressed=bool(rsv), length=n)
                if opcode:
                    self._msg_op = opcode
                    self._compressed = bool(rsv)
                    self._size = 0
                    if self._claimed:
                        self._claimed = False
                        self._streaming = True
                if not self._compressed and self._max and self._size + n > self._max and not self._over:
                    self._passed_limit(self._size + n)
                    if self.held:  # before its payload: the receiver decides first
                        self._fin = bool(fin)
                        self._remaining = n
                        self._in_payload = True
                        self._leftover = data[pos:]
                        return
                if fin and opcode and not self._compressed and not self._streaming and end - pos >= n:
                    # Fast path: a whole unfragmented message in hand.
                    payload = data[pos : pos + n]
                    pos += n
                    self._msg_op = 0
                    if opcode == 1:
                        try:
                            out.append(WSMessage(_TEXT, payload.decode("utf-8"), ""))
                        except UnicodeDecodeError:
                            raise ProtocolError(WSCloseCode.INVALID_TEXT, "invalid UTF-8 in a text message") from None
                    else:
                        out.append(WSMessage(_BINARY, payload, ""))
                    continue
                self._fin = bool(fin)
                self._remaining = n
                self._in_payload = True
            take = end - pos
            if take > self._remaining:
                take = self._remaining
            chunk = data if (pos == 0 and take == end) else data[pos : pos + take]
            pos += take
            self._remaining -= take
            if take or not self._remaining:
                self._payload(chunk, not self._remaining and self._fin, out)
            if self._remaining:
                break
            self._in_payload = False
            if self.held:
                break
        if pos < end:
            self._leftover = data[pos:]

    def _payload(self, chunk: bytes, last: bool, out: List[WSMessage]) -> None:
        """Take one piece of a data frame's payload; ``last`` ends the message."""
        if self._discarding:
            if last:
                self._end_message()
            return
        if not self._compressed:
            self._data(chunk, last, out)
            return
        assert self._inflater is not None
        if self._streams and self._max:
            pieces, last = self._inflate_piece(chunk, last)
        else:  # nothing past max_msg_size is inflated
            limit = self._max - self._size if self._max else None
            pieces = self._inflater.decompress(chunk, limit) if chunk else []
            if last:
                used = sum(map(len, pieces))
                tail = self._inflater.finish(None if limit is None else limit - used)
                if tail:
                    pieces.append(tail)
        # Inflated in steps of at most INFLATE_STEP bytes, so that decoding each (with the
        # GIL held) stays short however well the read compressed.
        for piece in pieces[:-1]:
            self._data(piece, False, out)
        self._data(pieces[-1] if pieces else b"", last, out)

    def _data(self, chunk: bytes, last: bool, out: List[WSMessage]) -> None:
        """Take a piece of the message's (inflated) data; ``last`` ends the message."""
        self._size += len(chunk)
        if self._msg_op == 1:
            decoder = self._decoder
            if decoder is None:
                if last and not self._parts and not self._streaming:
                    try:
                        text = chunk.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ProtocolError(WSCloseCode.INVALID_TEXT, "invalid UTF-8 in a text message") from None
                    self._finish(text, out)
                    return
                decoder = self._decoder = _utf8_decoder()
            try:
                piece = decoder.decode(chunk, last)
            except UnicodeDecodeError:
                raise ProtocolError(WSCloseCode.INVALID_TEXT, "invalid UTF-8 in a text message") from None
            if not last and _bad_utf8_prefix(decoder.getstate()[0]):
                raise ProtocolError(WSCloseCode.INVALID_TEXT, "invalid UTF-8 in a text message")
            if piece:
                self._add(piece)
            if last:
                if self._streaming:
                    self._piece(True, out)
                    return
                self._finish(_join(self._parts, True), out)
        else:
            if chunk or not self._parts:
                self._add(chunk)
            if last:
                if self._streaming:
                    self._piece(True, out)
                    return
                parts = self._parts
                self._finish(parts[0] if len(parts) == 1 else _join(parts, False), out)

    def _inflate_piece(self, data: bytes, last: bool) -> Tuple[List[bytes], bool]:
        """With streams: inflate at most max_msg_size at a time (one past what is left of it,
        for a message not streamed). When that much comes out, the rest of ``data`` waits,
        held, until the receiver takes what was handed out (or decides, if the message just
        passed max_msg_size), so a compressed stream holds one piece at a time."""
        assert self._inflater is not None
        size = self._max - self._inflated if self._streaming else self._max - self._size + 1
        out: List[bytes] = []
        got = 0
        if data:
            if size > 0:
                out, data = self._inflater.decompress_some(data, size)
                got = sum(map(len, out))
            if got >= size:  # a whole piece: hold the rest
                self._pending = (data, last)
                last = False
                self.held = True
        self._inflated += got
        if last:
            tail = self._inflater.finish(self._max)
            if tail:
                out.append(tail)
                got += len(tail)
        if not self._over and self._size + got > self._max:
            self._passed_limit(self._size + got)
        return out, last

    def _add(self, piece: Union[bytes, str]) -> None:
        """Keep a piece of the message; runs of small pieces are packed together, so a
        peer trickling bytes one per read cannot make us hold many times max_msg_size."""
        parts = self._parts
        parts.append(piece)
        if len(piece) >= _SMALL_PIECE:
            self._small = 0
            return
        self._small += 1
        if self._small >= _PACK:
            run = parts[-_PACK:]
            del parts[-_PACK:]
            parts.append(run[0][:0].join(run))  # type: ignore[arg-type]
            self._small = 0

    def _piece(self, last: bool, out: List[WSMessage]) -> None:
        """Hand out what is gathered of a streamed message as one piece."""
        parts = self._parts
        data = parts[0] if len(parts) == 1 else _join(parts, self._msg_op == 1)
        out.append(WSMessage(_PIECE, data, Piece(last, self._too_big, self.held)))
        self._too_big = None
        self._inflated = 0
        self._parts = []
        self._small = 0
        if last:
            self._end_message()

    def _finish(self, data: Union[bytes, str], out: List[WSMessage]) -> None:
        if self._compressed and tracing():  # the frames were traced as deflate bytes
            trace_inflated(self._msg_op, data)
        out.append(WSMessage(_TEXT if self._msg_op == 1 else _BINARY, data, ""))
        self._end_message()

    def _end_message(self) -> None:
        self._msg_op = 0
        self._parts = []
        self._small = 0
        self._decoder = None
        self._streaming = False
        self._over = False
        self._inflated = 0

    def _control(self, opcode: int, payload: bytes, out: List[WSMessage]) -> None:
        if self._streaming and self._parts:
            self._piece(False, out)  # what came before it, first
        if opcode == 0x9:
            out.append(WSMessage(WSMsgType.PING, payload, ""))
        elif opcode == 0xA:
            out.append(WSMessage(WSMsgType.PONG, payload, ""))
        else:
            code, reason = parse_close_payload(payload)
            self.close_received = True
            out.append(WSMessage(WSMsgType.CLOSE, code, reason))
