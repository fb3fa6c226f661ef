"""The blocking face's writer: any thread may send, and frames never interleave.

A sender frames its message in its own thread and, when nothing is queued
ahead of it, writes straight to the non-blocking socket: no thread hop. What
the kernel does not take at once is queued, and one loop callback hands the
queue to the transport in a single write. One lock covers encoding and
writing, so compression state and wire order agree.

The loop thread takes that lock too (pongs, heartbeat pings, close frames, the
flush), and it serves every connection of the process: nothing slow may run
under it. So a big whole message to compress (``PACK_APART`` bytes or more,
permessage-deflate agreed) is compressed *outside* the lock (``send_packing``):
the sender takes the turn under the lock, releases it, compresses, then frames
and writes under it again. A big fragment of ``send_fragments`` is compressed
before the lock is taken too, under the turn its message holds. Small messages
and fragments keep the one-step path.

A turn is held by a fragmented message from its first frame to its last, and
by a whole message while it is compressed apart: whole data messages from other
threads wait for it (control frames do not: RFC 6455 lets them in between,
and they never touch the compressor), so data messages keep their order and
the compressor is used by one thread at a time. A fragmented message cut short
leaves the turn cut, so no data frame follows it while the connection closes.

The socket rule (docs/threading.md): a caller writes the socket only under
this lock, and the loop withdraws that right under the same lock
(``connection_lost``, which asyncio calls before it closes the socket), so no
write ever lands on a closed, or reused, file descriptor.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Callable, List, Optional, Tuple

from ..aio.writer import HIGH_WATER, WriterBase
from ..protocol.errors import ConnectionClosed
from ..protocol.writer import Payload
from .blocking import interruptible

__all__ = ["PACK_APART", "ThreadWriter", "make_thread_writer"]

_CUT = -1  # the turn of a fragmented message that never ended: no data frame may follow

# A whole message this big (bytes; characters for text) is compressed outside the lock the
# loop takes: about 0.2 ms of zlib at level 1 and growing. Below it the lock round trip
# would cost more than the loop could wait (aio/offload.py's read threshold, for symmetry).
PACK_APART = 64 * 1024


class ThreadWriter(WriterBase):
    """``send`` from any thread; ``pause_writing``/``resume_writing``/``connection_lost`` from the loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.Transport,
        *,
        high_water: int = HIGH_WATER,
    ) -> None:
        super().__init__()
        self._loop = loop
        self._transport = transport
        self._sock: Optional[socket.socket] = None  # see allow_direct
        self._loop_thread = threading.get_ident()  # made in connection_made, on the loop
        self.high_water = high_water
        self._lock = threading.RLock()
        self._space: Optional[threading.Condition] = None  # made on first need
        self._queue: List[bytes] = []
        self._queued = 0
        self._flush_scheduled = False
        self._transport_size = 0  # bytes the transport holds, as last seen (loop writes it)
        self._busy = False  # the transport holds unsent bytes: writing past it would reorder
        self._turn: Optional[int] = None  # the thread sending a fragmented message, or _CUT
        self._packing = False  # the turn is a whole message's, compressing outside the lock
        self._turn_free: Optional[threading.Condition] = None  # made on first need
        transport.set_write_buffer_limits(high=0)  # hear of every unsent byte

    def allow_direct(self, sock: Optional[socket.socket]) -> None:
        """Loop thread: callers may write ``sock`` (the plain socket under the transport;
        never under TLS, whose state lives in the transport) while the connection lasts."""
        with self._lock:
            if self.error is None:
                self._sock = sock

    # -- sending ------------------------------------------------------------
    def send(self, encode: Callable[..., bytes], *args: Any) -> None:
        with self._lock:
            self._encode_and_write(encode, args, self._write_locked)

    def send_data(self, encode: Callable[..., bytes], *args: Any) -> None:
        """``send`` for a whole data message: after any fragmented message in progress."""
        with self._lock:
            if self._turn is not None:
                self._wait_turn()
            self._encode_and_write(encode, args, self._write_locked)

    def send_packing(
        self,
        pack: Callable[[Payload], Tuple[Payload, bool]],
        frame: Callable[[int, Payload, bool], bytes],
        opcode: int,
        payload: Payload,
    ) -> None:
        """``send_data`` for a big message to compress: ``pack(payload)`` runs outside the
        lock, holding the turn (so no other data message is compressed or framed meanwhile,
        and the loop's frames never wait for zlib); ``frame(opcode, *packed)`` and the write
        run under it. Whatever cuts this short (an exception, an interrupt, the connection
        closing meanwhile) drops the message, unless it was written, and resets the
        compressor either way: a fresh one's output inflates with the peer's old context,
        so the next message still does."""
        me = threading.get_ident()
        mine = False
        try:
            with self._lock:
                if self._turn is not None:
                    self._wait_turn()
                if self.error is not None:
                    raise self._closed_error()
                # Plain stores up to the block's end: no point where an interrupt can land
                # (CPython runs handlers at calls), so ``mine`` is True exactly when the turn is ours.
                mine = True
                self._turn = me
                self._packing = True
            packed, rsv1 = pack(payload)
            with self._lock:
                self._encode_and_write(frame, (opcode, packed, rsv1), self._write_locked)
        except BaseException:
            if mine:
                self._abandon()  # still our turn: nobody else touches the compressor
            raise
        finally:
            if mine:
                with self._lock:
                    self._packing = False
                    self._turn = None
                    if self._turn_free is not None:
                        self._turn_free.notify_all()

    def wait_packed(self) -> None:
        """Caller thread: until no whole message is being compressed (``close()`` waits so,
        and its close frame never overtakes a message whose send had begun)."""
        with self._lock:
            while self._packing and self.error is None:
                if self._turn_free is None:
                    self._turn_free = threading.Condition(self._lock)
                interruptible(self._turn_free.wait, None)

    def take_turn(self) -> None:
        """Start a fragmented message: wait for the one in progress, if any, to end."""
        with self._lock:
            self._wait_turn()
            self._turn = threading.get_ident()

    def end_turn(self, complete: bool) -> None:
        """The fragmented message ended; ``complete=False``: cut short, the turn stays cut."""
        with self._lock:
            self._turn = None if complete else _CUT
            if self._turn_free is not None:
                self._turn_free.notify_all()

    def _wait_turn(self) -> None:
        """Under the lock: until no other thread's fragmented message, or message being
        compressed, is in progress."""
        while self._turn is not None:
            if self._turn == threading.get_ident():
                if self._packing:  # a signal handler sending while its thread compresses
                    raise RuntimeError("this thread is already sending a message: another now would split it")
                raise RuntimeError(
                    "this thread is sending a fragmented message: another message now would split it"
                )
            if self._turn == _CUT:
                raise ConnectionClosed("cannot send: a fragmented message was cut short and the connection is failing")
            if self.error is not None:
                raise self._closed_error()
            if self._turn_free is None:
                self._turn_free = threading.Condition(self._lock)
            interruptible(self._turn_free.wait, None)

    def _write_locked(self, data: bytes) -> None:
        if threading.get_ident() == self._loop_thread:
            if self._queue:  # a caller's bytes are waiting for the flush: keep their place
                self._append(data)
            else:
                self._transport.write(data)
                self._transport_size = self._transport.get_write_buffer_size()
            return
        sock = self._sock
        if not self._queue and not self._busy and sock is not None:
            try:
                sent = sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = 0  # reset: the loop reads the same error and tears down
            if sent == len(data):
                return
            data = data[sent:]
        self._append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon_threadsafe(self._flush)

    def _append(self, data: bytes) -> None:
        self._queue.append(data)
        self._queued += len(data)

    def _flush(self) -> None:
        """Loop thread: hand what callers queued to the transport, in one write."""
        with self._lock:
            self._flush_scheduled = False
            if not self._queue or self.error is not None:
                return
            data = self._queue[0] if len(self._queue) == 1 else b"".join(self._queue)
            self._queue = []
            self._queued = 0
            self._transport.write(data)
            self._transport_size = self._transport.get_write_buffer_size()
            if not self._transport_size:
                self._wake()

    # -- flow control -------------------------------------------------------
    @property
    def buffered(self) -> int:
        """Bytes written by ``send`` that the kernel has not taken yet (any thread)."""
        return self._queued + self._transport_size

    def pause_writing(self) -> None:
        # Called from inside transport.write, which runs under our lock.
        self._busy = True

    def resume_writing(self) -> None:
        with self._lock:
            self._busy = False
            self._transport_size = 0
            self._wake()

    def wait_sync(self, timeout: Optional[float] = None) -> bool:
        """Block a caller thread while more than ``high_water`` bytes are buffered;
        False on timeout. Raises ConnectionClosed if the connection ends meanwhile."""
        with self._lock:
            while self.buffered > self.high_water:
                if self.error is not None:
                    raise self._closed_error()
                if self._space is None:
                    self._space = threading.Condition(self._lock)
                if not interruptible(self._space.wait, timeout):
                    return False
            return True

    def _wake(self) -> None:
        if self._space is not None:
            self._space.notify_all()

    # -- end ------------------------------------------------------------------
    def connection_lost(self, exc: BaseException) -> None:
        """Loop thread, before asyncio closes the socket: no caller writes it after this."""
        with self._lock:
            self.error = exc
            self._sock = None
            self._queue = []
            self._queued = 0
            self._transport_size = 0
            self._wake()
            if self._turn_free is not None:
                self._turn_free.notify_all()


def make_thread_writer(loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, write_limit: int) -> WriterBase:
    return ThreadWriter(loop, transport, high_water=write_limit)
