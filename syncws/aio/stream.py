"""A message received fragment by fragment: what both faces' streams share, and the asyncio one."""

from __future__ import annotations

from typing import Any, AsyncIterator, Optional, Union

from ..protocol.fragments import PIECE, StreamState
from ..protocol.messages import WSMessage, WSMsgType
from .errors import WSMessageTypeError

__all__ = ["AsyncMessageStream", "StreamBase"]


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
