"""The one path by which bytes leave a connection, from the loop thread or any other.

A send from a caller thread frames its message in that thread and, when
nothing is queued ahead of it, writes straight to the non-blocking socket:
no thread hop. Otherwise the bytes join a queue that one loop callback
hands to the transport in a single write. Order is kept by one lock,
which also covers encoding, so compression state follows wire order.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Callable, Generator, List, Optional

from ..protocol.errors import ConnectionClosed
from .blocking import interruptible

__all__ = ["FrameWriter", "HIGH_WATER"]

# Bytes buffered (queue + transport) above which senders wait for the peer to read.
HIGH_WATER = 2**20


class FrameWriter:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: Optional[asyncio.Transport],
        *,
        high_water: int = HIGH_WATER,
    ) -> None:
        """``transport`` None: built in a caller thread that writes the socket itself;
        the loop ``attach``es one before it writes anything (``needs_transport``)."""
        self._loop = loop
        self._transport: Optional[asyncio.Transport] = None
        self._sock: Optional[socket.socket] = None  # see allow_direct()
        self.high_water = high_water
        self._lock = threading.RLock()
        # Sync senders wait here; made on first need (its deque is most of a writer's memory).
        self._space: Optional[threading.Condition] = None
        self._queue: List[bytes] = []
        self._queued = 0
        self._flush_scheduled = False
        self._transport_size = 0  # last seen transport buffer size (loop thread writes it)
        self._busy = False  # the transport holds unsent bytes
        self._waiters: List["asyncio.Future[None]"] = []  # async senders waiting to drain
        self._loop_thread: Optional[int] = None
        self.error: Optional[BaseException] = None
        self.on_abandon: Optional[Callable[[], None]] = None
        # Loop thread: called before a flush when there is no transport yet.
        self.needs_transport: Optional[Callable[[], None]] = None
        if transport is not None:
            self.attach(transport)

    def attach(self, transport: asyncio.Transport) -> None:
        """Loop thread: loop-side writes and flushes go to ``transport`` from now on."""
        self._transport = transport
        self._loop_thread = threading.get_ident()
        transport.set_write_buffer_limits(high=0)  # hear of every unsent byte

    def allow_direct(self, sock: Optional[socket.socket]) -> None:
        """Let caller threads write to ``sock`` themselves (plain TCP only: TLS state lives in the transport)."""
        self._sock = sock

    @property
    def direct_socket(self) -> Optional[socket.socket]:
        return self._sock

    # -- sending ------------------------------------------------------------
    def send(self, encode: Callable[..., bytes], *args: Any) -> None:
        """Encode under the lock, then write; safe from any thread."""
        with self._lock:
            if self.error is not None:
                raise self._closed_error()
            data = b""
            try:
                data = encode(*args)
            except BaseException:
                # Interrupted mid-encode (KeyboardInterrupt): the compressor may have
                # taken input it never flushed; start it afresh so the next message inflates.
                if self.on_abandon is not None:
                    self.on_abandon()
                raise
            finally:
                if data:  # encoded means sent, even if an interrupt arrives right now
                    try:
                        self._write_locked(data)
                    except BaseException:  # interrupted before the write: the message is dropped
                        if self.on_abandon is not None:
                            self.on_abandon()
                        raise

    def _write_locked(self, data: bytes) -> None:
        if threading.get_ident() == self._loop_thread:
            if self._queue:
                self._queue.append(data)
                self._queued += len(data)
            else:
                transport = self._transport
                assert transport is not None  # the loop thread's id is known once attached
                transport.write(data)
                self._transport_size = transport.get_write_buffer_size()
            return
        if not self._queue and not self._busy and self._sock is not None:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = 0  # the loop sees the same error and tears down properly
            if sent == len(data):
                return
            data = data[sent:]
        self._queue.append(data)
        self._queued += len(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        if self._transport is None and self.error is None and self.needs_transport is not None:
            self.needs_transport()
        with self._lock:
            self._flush_scheduled = False
            if not self._queue or self.error is not None:
                return
            data = self._queue[0] if len(self._queue) == 1 else b"".join(self._queue)
            self._queue = []
            self._queued = 0
            transport = self._transport
            if transport is None:  # never attached: the connection ended first
                return
            transport.write(data)
            self._transport_size = transport.get_write_buffer_size()
            if not self._transport_size and self._space is not None:
                self._space.notify_all()

    def idle(self) -> bool:
        """Nothing queued here or held by the transport (any thread)."""
        with self._lock:
            return not self._queue and not self._busy and not self._transport_size

    # -- flow control -------------------------------------------------------
    @property
    def buffered(self) -> int:
        return self._queued + self._transport_size

    def pause_writing(self) -> None:
        self._busy = True

    def resume_writing(self) -> None:
        with self._lock:
            self._busy = False
            self._transport_size = 0
            self._wake()

    def _wake(self) -> None:
        if self._space is not None:
            self._space.notify_all()
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                if self.error is not None:
                    fut.set_exception(self._closed_error())
                else:
                    fut.set_result(None)

    def wait_sync(self, timeout: Optional[float] = None) -> bool:
        """Block a caller thread while too much is buffered; False on timeout."""
        with self._lock:
            while self.buffered > self.high_water:
                if self.error is not None:
                    raise self._closed_error()
                if self._space is None:
                    self._space = threading.Condition(self._lock)
                if not interruptible(self._space.wait, timeout):
                    return False
            return True

    def drain(self) -> "DrainAwaitable":
        return DrainAwaitable(self)

    def _drain_future(self) -> "Optional[asyncio.Future[None]]":
        if self.error is not None:
            raise self._closed_error()
        if self.buffered <= self.high_water:
            return None
        fut = self._loop.create_future()
        self._waiters.append(fut)
        return fut

    # -- end ------------------------------------------------------------------
    def connection_lost(self, exc: BaseException) -> None:
        with self._lock:
            self.error = exc
            self._queue = []
            self._queued = 0
            self._transport_size = 0
            self._wake()

    def _closed_error(self) -> BaseException:
        err = self.error
        if isinstance(err, ConnectionClosed):
            return err
        closed = ConnectionClosed("cannot send: the connection is closed")
        closed.__cause__ = err
        return closed


class DrainAwaitable:
    """What ``send_*`` return: the write already happened; awaiting waits for flow control.

    Never awaiting it is fine (old aiohttp style) and warns about nothing.
    """

    __slots__ = ("_writer",)

    def __init__(self, writer: FrameWriter) -> None:
        self._writer = writer

    def __await__(self) -> Generator[Any, None, None]:
        fut = self._writer._drain_future()
        if fut is not None:
            yield from fut.__await__()
