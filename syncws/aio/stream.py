"""A message received fragment by fragment: what both faces share (the stream, and the
receiver's side of pieces), and the asyncio stream."""

from __future__ import annotations

from typing import Any, AsyncIterator, Optional, Union

from ..protocol.errors import ConnectionClosed
from ..protocol.fragments import PIECE, Gathered, Piece, StreamState, join
from ..protocol.messages import WSMessage, WSMsgType
from .errors import WSMessageTypeError

__all__ = ["AsyncMessageStream", "PieceReceiver", "StreamBase"]


class StreamBase:
    """One data message as it arrives: ``type`` is TEXT or BINARY; iterating yields its
    pieces (str for text, bytes for binary) until the message ends.

    Each wait for a piece takes at most the ``timeout`` given to ``receive_stream()``
    (ReceiveTimeout; iterate again to go on). If the connection ends part-way, iteration
    raises ConnectionClosed. With ``autoping=False`` a ping or pong arriving part-way
    raises WSMessageTypeError carrying it (``exc.msg``); iterate again to go on.
    Receiving again before the stream's end skips the rest of its message.
    """

    def __init__(self, ws: Any, first: WSMessage, timeout: Optional[float]) -> None:
        self._ws = ws
        self._state = StreamState(first)
        self._timeout = timeout
        self.abandoned = False
        self.type: WSMsgType = self._state.type
        if self._state.read_on:
            ws._read_on()

    @property
    def done(self) -> bool:
        """The last piece has come (it may not all have been iterated yet)."""
        return self._state.done

    def _ready(self) -> Optional[Union[str, bytes]]:
        """A piece taken and not yet handed out; None if the next must be waited for."""
        piece = self._state.next_piece()
        if piece is None and self.abandoned and not self._state.done:
            raise RuntimeError("this stream was left for a later receive, which skipped the rest of its message")
        return piece

    def _handle(self, msg: WSMessage) -> None:
        """Take the next queued item: a piece, or what interrupts the message."""
        ws = self._ws
        if msg.type is PIECE:
            if self._state.take(msg):
                ws._read_on()
            if self.done:
                ws._stream_done(self)
            return
        if msg.type is WSMsgType.PING or msg.type is WSMsgType.PONG:
            raise WSMessageTypeError(f"received {msg.type.name} in the middle of a streamed message", msg)
        self._state.done = True
        ws._stream_done(self)
        raise ws._ended()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type.name}{' done' if self.done else ''}>"


class AsyncMessageStream(StreamBase):
    __doc__ = StreamBase.__doc__

    def __aiter__(self) -> AsyncIterator[Union[str, bytes]]:
        return self

    async def __anext__(self) -> Union[str, bytes]:
        while True:
            piece = self._ready()
            if piece is not None:
                return piece
            if self.done:
                raise StopAsyncIteration
            self._handle(await self._ws._stream_item(self._timeout))


class PieceReceiver:
    """The receiving side of pieces on a connection, either face: the stream being read,
    and what ``receive()`` gathered of a message. One receiver at a time."""

    _stream: Optional[StreamBase]
    _gathered: Gathered

    def _init_pieces(self) -> None:
        self._gathered = Gathered()
        self._stream = None

    def _ended(self) -> ConnectionClosed:
        raise NotImplementedError

    def _read_on(self) -> None:
        """A piece the reader was held on was taken: tell the loop to read on."""
        raise NotImplementedError

    def _stream_done(self, stream: StreamBase) -> None:
        if self._stream is stream:
            self._stream = None

    def _leave_stream(self) -> None:
        """A receive before the stream's end: the rest of its message is skipped."""
        stream, self._stream = self._stream, None
        if stream is not None and not stream.done:
            stream.abandoned = True
            self._gathered.skip()

    def _gathered_so_far(self) -> Optional[WSMessage]:
        """What receive() gathered of a message before its time ran out, as the first piece
        of a stream (the rest is on its way in pieces), or None."""
        parts = self._gathered.parts
        if not parts:
            return None
        self._gathered.parts = []
        return WSMessage(PIECE, join(parts).data, Piece(False, None))

    def _skipped(self, msg: WSMessage) -> bool:
        """True for a piece of a stream left unfinished: dropped as it comes."""
        if msg.type is not PIECE or not self._gathered.skipping:
            return False
        self._gathered.receive(msg)
        if msg.extra.held:
            self._read_on()
        return True

    def _stream_start(self, first: WSMessage) -> None:
        """What may begin a stream: a piece or a whole data message; else raise."""
        kind = first.type
        if kind is WSMsgType.PING or kind is WSMsgType.PONG:
            raise WSMessageTypeError(f"received {kind.name}, not a data message to stream", first)
        if kind is not PIECE and kind is not WSMsgType.TEXT and kind is not WSMsgType.BINARY:
            raise self._ended()

    def _opened(self, stream: StreamBase) -> None:
        if not stream.done:
            self._stream = stream
