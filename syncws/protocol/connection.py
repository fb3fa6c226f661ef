"""The client connection after the handshake: messages in and out, and the close state."""

from __future__ import annotations

import enum
from typing import List, Optional, Tuple

from .close_codes import WSCloseCode
from .deflate import DEFAULT_COMPRESS, CompressSettings, DeflateParams, Deflater, Inflater
from .errors import ConnectionClosed
from .messages import WSMessage, WSMsgType
from .reader import MessageReader
from .writer import MessageWriter, Payload

__all__ = ["ClientConnection", "State"]


class State(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"  # a close frame went one way
    CLOSED = "closed"  # close frames both ways, or the transport is gone


class ClientConnection:
    """Sans-I/O: ``receive_data`` turns bytes into messages, ``send_*`` turn
    messages into bytes. It tracks the closing handshake (RFC 6455 §7) and
    refuses to send data after our close frame; it performs no I/O and
    makes no policy (answering pings, timeouts) beyond the RFC's musts.
    ``streams``: messages may come in pieces (see ``MessageReader``).
    """

    def __init__(
        self,
        *,
        max_msg_size: int = 4 * 2**20,
        deflate: Optional[DeflateParams] = None,
        compress_settings: CompressSettings = DEFAULT_COMPRESS,
        streams: bool = False,
    ) -> None:
        self.deflate = deflate
        self.reader = MessageReader(
            max_msg_size=max_msg_size, inflater=Inflater(deflate) if deflate else None, streams=streams
        )
        self.writer = MessageWriter(Deflater(deflate, compress_settings) if deflate else None)
        self.close_sent: Optional[Tuple[int, bytes]] = None
        self.close_received: Optional[Tuple[int, str]] = None
        self.eof = False

    # -- input ------------------------------------------------------------
    def receive_data(self, data: bytes) -> List[WSMessage]:
        messages = self.reader.feed(data)
        if messages:
            last = messages[-1]
            if last.type is WSMsgType.CLOSE:
                self.close_received = (last.data, last.extra)
        return messages

    def receive_eof(self) -> None:
        self.eof = True

    @property
    def state(self) -> State:
        """Derived, never stored: input and output may be handled in different threads."""
        if self.eof or (self.close_sent is not None and self.close_received is not None):
            return State.CLOSED
        if self.close_sent is not None or self.close_received is not None or self.reader.error is not None:
            return State.CLOSING
        return State.OPEN

    # -- output -----------------------------------------------------------
    def _check_open(self) -> None:
        if self.close_sent is not None or self.eof:
            raise ConnectionClosed("cannot send: the connection is closing or closed", self.close_code)

    def send_text(self, text: str, compress: bool = True) -> bytes:
        self._check_open()
        return self.writer.text(text, compress)

    def send_binary(self, data: Payload, compress: bool = True) -> bytes:
        self._check_open()
        return self.writer.binary(data, compress)

    def send_message(self, opcode: int, payload: Payload, *, fragment_size: int = 0) -> bytes:
        self._check_open()
        return self.writer.message(opcode, payload, fragment_size=fragment_size)

    def send_packed(self, opcode: int, payload: Payload, rsv1: bool) -> bytes:
        """A whole message packed beforehand (``MessageWriter.pack``) as one frame."""
        self._check_open()
        return self.writer.framed(opcode, payload, rsv1)

    def send_fragment(self, opcode: int, payload: Payload, fin: bool, compress: bool = True) -> bytes:
        """One frame of a message sent in fragments (``MessageWriter.fragment``)."""
        self._check_open()
        return self.writer.fragment(opcode, payload, fin=fin, compress=compress)

    def send_packed_fragment(self, opcode: int, payload: Payload, first: bool, compressed: bool, fin: bool) -> bytes:
        """One fragment packed beforehand (``MessageWriter.pack_fragment``) as its frame."""
        self._check_open()
        return self.writer.framed_fragment(opcode, payload, first, compressed, fin)

    def send_ping(self, payload: Payload = b"") -> bytes:
        self._check_open()
        return self.writer.ping(payload)

    def send_pong(self, payload: Payload = b"") -> bytes:
        self._check_open()
        return self.writer.pong(payload)

    def send_close(self, code: int = WSCloseCode.OK, reason: bytes = b"") -> bytes:
        """Our close frame; empty when one was already sent or the transport is gone."""
        if self.close_sent is not None or self.eof:
            return b""
        frame = self.writer.close(code, reason)
        self.close_sent = (code, reason)
        return frame

    @property
    def closing_handshake_done(self) -> bool:
        return self.close_sent is not None and self.close_received is not None

    @property
    def close_code(self) -> Optional[int]:
        """The peer's close code once known, else ours, else 1006 after a lost transport."""
        if self.close_received is not None:
            return self.close_received[0]
        if self.reader.error is not None:
            return self.reader.error.code
        if self.eof:
            return WSCloseCode.ABNORMAL_CLOSURE
        if self.close_sent is not None:
            return self.close_sent[0]
        return None
