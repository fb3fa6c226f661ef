"""How bytes leave a connection on the asyncio side: encode, then ``transport.write``.

``WriterBase`` holds what every writer shares (the end state, what an
interrupted encode must undo); ``FrameWriter`` is the loop-only writer of the
asyncio API. The thread-safe writer of the blocking face lives in
``syncws/sync/writer.py`` and is handed to the protocol as its ``make_writer``.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Callable, Coroutine, Generator, List, Optional, TypeVar

from ..protocol.errors import ConnectionClosed

__all__ = ["HIGH_WATER", "FrameWriter", "MakeWriter", "Sent", "WriterBase"]

T = TypeVar("T")

# Bytes buffered above which senders wait for the peer to read.
HIGH_WATER = 2**20


class WriterBase:
    """The part of a writer the protocol relies on, whichever thread sends.

    ``send`` encodes and writes in one step so that compression state follows
    wire order; ``connection_lost`` is called by the protocol before the
    transport closes its socket, and every later ``send`` raises.
    """

    def __init__(self) -> None:
        self.error: Optional[BaseException] = None
        # Called when an encode was interrupted: the compressor may hold input it never flushed.
        self.on_abandon: Optional[Callable[[], None]] = None

    def send(self, encode: Callable[..., bytes], *args: Any) -> None:
        raise NotImplementedError

    def pause_writing(self) -> None:
        raise NotImplementedError

    def resume_writing(self) -> None:
        raise NotImplementedError

    def connection_lost(self, exc: BaseException) -> None:
        raise NotImplementedError

    @property
    def buffered(self) -> int:
        raise NotImplementedError

    def _encode_and_write(self, encode: Callable[..., bytes], args: Any, write: Callable[[bytes], None]) -> None:
        """``write(encode(*args))`` as one step: encoded means written, even if an interrupt
        (KeyboardInterrupt) lands in between, so compression state never runs ahead of the
        wire. An encode that fails or is cut short resets the compressor instead."""
        if self.error is not None:
            raise self._closed_error()
        data = b""
        try:
            data = encode(*args)
        except BaseException:
            self._abandon()
            raise
        finally:
            if data:
                try:
                    write(data)
                except BaseException:  # interrupted before the write: the message is dropped
                    self._abandon()
                    raise

    def _abandon(self) -> None:
        if self.on_abandon is not None:
            self.on_abandon()

    def _closed_error(self) -> BaseException:
        """A new exception for every failed send. Raising the stored one each time would grow
        its traceback by every frame it passed through (keeping their locals alive as long
        as the connection lives) and raise one object in several threads at once."""
        err = self.error
        if isinstance(err, ConnectionClosed):
            fresh = copy.copy(err)
            fresh.__cause__ = err.__cause__
            return fresh
        closed = ConnectionClosed("cannot send: the connection is closed")
        closed.__cause__ = err
        return closed


# (loop, transport, write_limit) -> writer; the protocol calls it in connection_made.
MakeWriter = Callable[[asyncio.AbstractEventLoop, asyncio.Transport, int], WriterBase]


class FrameWriter(WriterBase):
    """Loop thread only: the asyncio API's writer.

    Flow control is the transport's own: it calls ``pause_writing`` above
    ``high_water`` buffered bytes, and ``drain()`` waits until it resumes.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, *, high_water: int = HIGH_WATER
    ) -> None:
        super().__init__()
        self._loop = loop
        self._transport = transport
        self.high_water = high_water
        self._paused = False
        self._waiters: List["asyncio.Future[None]"] = []
        transport.set_write_buffer_limits(high=high_water)

    def send(self, encode: Callable[..., bytes], *args: Any) -> None:
        self._encode_and_write(encode, args, self._transport.write)

    @property
    def buffered(self) -> int:
        return self._transport.get_write_buffer_size()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def connection_lost(self, exc: BaseException) -> None:
        self.error = exc
        self._paused = False
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                if self.error is not None:
                    fut.set_exception(self._closed_error())
                else:
                    fut.set_result(None)

    def drain(self) -> "Sent[None]":
        return Sent(self)

    def _drain_future(self) -> "Optional[asyncio.Future[None]]":
        if self.error is not None:
            raise self._closed_error()
        if not self._paused:
            return None
        fut = self._loop.create_future()
        self._waiters.append(fut)
        return fut


def make_frame_writer(loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, write_limit: int) -> WriterBase:
    return FrameWriter(loop, transport, high_water=write_limit)


class Sent(Coroutine[Any, Any, T]):
    """What the asyncio API's ``send_*``, ``ping`` and ``pong`` return: the frame is
    already written; awaiting this waits until the transport has room again.

    A real ``collections.abc.Coroutine``, so ``await``, ``asyncio.create_task``,
    ``ensure_future``, ``gather`` and ``wait_for`` all take it, as they take
    aiohttp's coroutines; and old aiohttp code that never awaits its sends (the
    seed's style) still sends, with no "never awaited" warning. Its value is None,
    or ``value`` when given (``ping()``'s pong future). ``after``: the send waits in
    line behind a fragmented message (aio/turn.py); awaiting this waits for it too.
    """

    __slots__ = ("_after", "_gen", "_value", "_writer")

    def __init__(
        self, writer: FrameWriter, value: Any = None, after: "Optional[asyncio.Future[None]]" = None
    ) -> None:
        self._writer = writer
        self._value = value
        self._after = after
        self._gen: Optional[Generator[Any, None, T]] = None

    def _drained(self) -> Generator[Any, None, T]:
        if self._after is not None:
            yield from self._after.__await__()
        fut = self._writer._drain_future()
        if fut is not None:
            yield from fut.__await__()
        return self._value  # type: ignore[no-any-return]

    def _steps(self) -> Generator[Any, None, T]:
        if self._gen is None:
            self._gen = self._drained()
        return self._gen

    def __await__(self) -> Generator[Any, None, T]:
        return self._steps()

    def send(self, value: Any) -> Any:
        return self._steps().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if val is None and tb is None:
            return self._steps().throw(typ)
        return self._steps().throw(typ, val, tb)  # the old three-argument form, passed on as given

    def close(self) -> None:
        if self._gen is not None:
            self._gen.close()
