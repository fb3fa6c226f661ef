"""Receiving in the caller's own thread: the loop lends the socket to a busy receiver.

A message that reaches a blocked receiver through the loop costs two
wake-ups (the loop thread's, then the caller's) and a turn of asyncio's
machinery. So while a thread keeps receiving on a plain TCP connection,
the loop lends it the socket: ``receive()`` waits in ``poll()`` and reads,
parses and answers pings in the calling thread, one wake-up per message,
like a plain blocking client. The loop lends when it hands a message to a
blocked receiver (it is running then anyway), and takes the socket back:

* when the receiver has waited ``SPIN`` seconds with nothing to read (it
  then blocks on the queue as usual, where close() and failures wake it),
* when it needs it (close(), a close frame or a violation read by the
  caller, end of stream, wait()), at once or as the active reader lets go,
* when nobody has received for ``IDLE`` seconds, so pings and close frames
  are answered while the application is busy elsewhere.

Bytes taken off the socket are never lost to Ctrl-C: in the main thread the
read and the parse run with SIGINT's handler held back (``held_interrupt``),
and the interrupt is raised once the messages are safely queued.
"""

from __future__ import annotations

import select
import threading
import time
from _thread import LockType
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from ..aio.blocking import SLICE, in_main_thread, interruptible
from ..aio.closing import EOF_GRACE
from ..aio.connection import WebSocketProtocol
from ..aio.connector import connect_now
from ..aio.errors import ReceiveTimeout
from ..protocol.errors import ConnectionClosed
from ..protocol.messages import WSMessage, WSMsgType
from .held_interrupt import whole
from .message_queue import ThreadMessageQueue

if TYPE_CHECKING:
    from .sweeper import Sweeper

__all__ = ["DirectReader", "SPIN", "IDLE"]

SPIN = 0.02  # a receiver with nothing to read for this long gives the socket back
IDLE = 0.05  # the loop takes back a socket nobody has received on for this long
# A read allocates its whole size up front. Reads start small enough for
# Python's own small-object allocator (with the bytes header, under 512 bytes):
# larger ones come from malloc, whose per-thread arenas grew by about 5 KiB
# per connection with 200 threads receiving at once (S5). A read that fills
# its buffer makes the next one 4 times larger, up to MAX_READ_SIZE (below
# glibc's mmap threshold); one that uses less than a quarter makes it smaller.
READ_SIZE = 448
MAX_READ_SIZE = 65536
_SLICE_MS = int(SLICE * 1000)
# Who holds the socket's transport side: the caller that opened it and has not needed
# the loop yet (no transport), the loop, or nobody (closed in the caller's thread).
_CALLER, _LOOP, _GONE = "caller", "loop", "gone"


class DirectReader:
    """The lending state of one connection. ``lent``: the loop has stopped reading;
    ``active``: a caller is reading now; ``returning``: handed back, the loop has
    not resumed yet; ``claimed``: the loop wants it back from the active caller."""

    def __init__(self, proto: WebSocketProtocol, queue: ThreadMessageQueue, sock: Any, sweeper: "Sweeper") -> None:
        self._proto = proto
        self._queue = queue
        self._sock = sock
        self._sweeper = sweeper
        self._loop = proto.loop
        self._lock = threading.Lock()
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        self.lent = False
        self.active = False
        self.returning = False
        self.claimed = False
        self.idle_since = 0.0
        self.owner = _LOOP
        self._read_size = READ_SIZE
        queue.on_receiver_woken = self._lend
        proto.take_back_reading = self.reclaim

    @classmethod
    def lend_at_start(
        cls, proto: WebSocketProtocol, queue: ThreadMessageQueue, sweeper: "Sweeper"
    ) -> Optional["DirectReader"]:
        """For a plain TCP connection just opened (loop thread): lent to the caller from the
        start, so its first receive() reads the socket itself. None for TLS, or if the
        server already hung up."""
        assert proto.writer is not None
        sock = proto.writer.direct_socket
        if sock is None or sock.fileno() < 0:
            return None
        reader = cls(proto, queue, sock, sweeper)
        reader._lend()
        return reader

    @classmethod
    def detached(
        cls, proto: WebSocketProtocol, queue: ThreadMessageQueue, sock: Any, sweeper: "Sweeper"
    ) -> "DirectReader":
        """For a connection built in the caller's thread (``WebSocketProtocol.adopt_lent``):
        lent from the start, and the loop has no transport for it until it needs one
        (``_attach``). One that closes before that never costs the loop any work but the
        settling of its futures."""
        reader = cls(proto, queue, sock, sweeper)
        reader.owner = _CALLER
        reader.lent = True
        reader.idle_since = time.monotonic()
        proto.ensure_transport = reader._attach
        sweeper.add_from_caller(reader)
        return reader

    def feed_early(self, rest: bytes) -> None:
        """Frames that came with the handshake answer of a ``detached`` connection (caller
        thread, before its first receive): queued here; a close frame or a violation
        among them goes to the loop, and the socket with it, as ``receive`` does."""
        if self._proto.feed_from_caller(rest, self._queue.put_direct):
            return
        with self._lock:
            self.returning = True
        self._loop.call_soon_threadsafe(self._handed_back)

    def attach_soon(self) -> None:
        """Have the loop give a ``detached`` connection its transport now, not when it
        first needs one (the heartbeat starts with it)."""
        self._loop.call_soon_threadsafe(self._attach)

    # -- loop side ------------------------------------------------------------------
    def _attach(self) -> None:
        """Give the socket its transport (loop thread), if the caller still holds it alone;
        reading stays paused while it is lent."""
        with self._lock:
            if self.owner != _CALLER:
                return
            self.owner = _LOOP
        proto = self._proto
        try:
            connect_now(self._loop, self._sock, proto, paused=True)
        except Exception as exc:
            if proto.transport is None:  # else the transport's abort reports the loss
                proto.finish_detached(exc)

    def _lend(self) -> None:
        with self._lock:
            if self.lent or not self._proto.lend_reading():
                return
            self.lent = True
            self.claimed = False
            self.idle_since = time.monotonic()
        self._sweeper.add(self)

    def reclaim(self) -> None:
        """Read on the loop again: now, or when the active caller lets go (loop thread)."""
        with self._lock:
            if not self.lent or self.returning:
                return
            if self.active:
                self.claimed = True
                return
            self.lent = False
        self._returned_to_loop()

    def reclaim_if_idle(self, now: float) -> None:
        with self._lock:
            if not self.lent or self.active or self.returning or now - self.idle_since < IDLE:
                return
            self.lent = False
        self._returned_to_loop()

    def _handed_back(self) -> None:
        with self._lock:
            self.lent = self.returning = False
        self._returned_to_loop()

    def _returned_to_loop(self) -> None:
        self._sweeper.discard(self)
        self._proto.reclaim_reading()

    # -- caller side ----------------------------------------------------------------
    def receive(self, timeout: Optional[float]) -> Optional[WSMessage]:
        """A message read in this thread, or None: the socket is (or went) back with the
        loop, and the caller waits on the queue as usual for what is left of ``timeout``."""
        queue = self._queue
        msg = queue.take_nowait()
        if msg is not None:
            return msg
        claimed = [False]
        mine = [False]  # set with ``active`` in one step: an interrupt cannot part them
        try:
            queue.start_receiving(claimed)  # RuntimeError if another thread is receiving
            give_back = True
            try:
                with self._lock:
                    # active: close() is running here in another thread; wait on the queue for it
                    if not self.lent or self.returning or self.claimed or self.active:
                        return None
                    self.active = mine[0] = True
                msg, give_back = self._read(timeout)
                return msg
            except ReceiveTimeout:
                give_back = False  # still receiving, by the look of it: keep the socket
                raise
            finally:
                if mine[0]:
                    with self._lock:
                        self.active = False
                        self.idle_since = time.monotonic()
                        if (give_back or self.claimed) and not self.returning:
                            self.returning = True
                        else:
                            give_back = False
                    if give_back:
                        self._loop.call_soon_threadsafe(self._handed_back)
        finally:
            if claimed[0]:
                queue.stop_receiving()

    def _read(self, timeout: Optional[float]) -> Tuple[Optional[WSMessage], bool]:
        """(message or None, whether to give the socket back)."""
        queue = self._queue
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout
        spin_end = now + SPIN
        poll = self._poll.poll
        while True:
            if self.claimed:
                return None, True
            if deadline is not None and now >= deadline:
                raise ReceiveTimeout(f"no message within {timeout} s")
            if now >= spin_end:
                return None, True
            limit = spin_end if deadline is None else min(spin_end, deadline)
            # Poll first: right after a send the answer is not there yet, and a
            # readable socket costs no more this way.
            if not poll(int((limit - now) * 1000) + 1):
                if queue.closed:  # close() from another thread
                    return queue.take_nowait(), True
                now = time.monotonic()
                continue
            more = whole(self._read_once)
            msg = queue.take_nowait()
            if msg is not None:
                return msg, not more
            if not more:
                return None, True
            now = time.monotonic()
            spin_end = now + SPIN

    def _read_once(self, ending: Optional[Callable[[WSMessage], None]] = None) -> bool:
        """Read what is there and queue its messages; False when the loop must take over."""
        size = self._read_size
        try:
            data = self._sock.recv(size)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError as exc:  # reset, or the loop closed the socket under us
            if self._sock.fileno() != -1:
                self._proto.caller_read_error = exc
            return False
        if not data:
            return False  # end of stream: the loop reads it again and closes
        n = len(data)
        if n == size:
            self._read_size = min(size * 4, MAX_READ_SIZE)
        elif n * 4 <= size:
            self._read_size = max(size // 4, READ_SIZE)
        return self._proto.feed_from_caller(data, self._queue.put_direct, ending)


    # -- closing in the caller's thread ------------------------------------------------
    def close_here(self, code: int, reason: bytes) -> Optional[bool]:
        """Our closing handshake, run in this thread on the lent socket: send our close
        frame, read until the server's, then until it closes TCP (RFC 6455 §7.1.1),
        as the loop would (``WebSocketProtocol.close``) but without a turn of it per
        step. None when the loop has to do it (not lent, busy, or closing already). A
        receive() in another thread meanwhile waits on the queue for the end.
        """
        proto = self._proto
        mine = [False]  # set with ``active`` in one step: an interrupt cannot part them
        finished = False
        endings: List[WSMessage] = []  # the close frame (or violation) read here, for the loop
        timeout = proto.close_timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with self._lock:
                if not self.lent or self.active or self.returning or self.claimed or proto.closed:
                    return None
                self.active = mine[0] = True
            if not whole(proto.begin_close, code, reason):  # marked closing and frame sent, or neither
                return False
            ended = self._read_until_end(deadline, endings.append)
            conn = proto.conn
            assert conn is not None
            if not ended:
                proto.close_timed_out()
            elif conn.close_received is not None or conn.reader.error is not None:
                grace = EOF_GRACE if deadline is None else min(EOF_GRACE, deadline - time.monotonic())
                self._read_until_end(time.monotonic() + max(0.0, grace))
            if ended and endings and endings[-1].type is WSMsgType.CLOSE and whole(self._finish_here, endings[-1]):
                return True
            self._end_close(endings, cut=not ended)
            finished = True
            return True
        finally:
            if not mine[0] or finished or self.owner == _GONE:  # not ours, or done (_finish_here runs whole)
                pass
            elif _closing(proto):  # interrupted once closing began: the loop carries it through
                left = None if deadline is None else deadline - time.monotonic()
                self._loop.call_soon_threadsafe(self._close_on_loop, code, reason, left, endings)
            else:
                with self._lock:
                    self.active = False

    def borrow(self) -> bool:
        """Ask the loop for the socket (one hop), so that close() runs in this thread; False
        if the loop keeps it (closing, or the input ended). Closing on the loop would
        spread over several turns and hold a task and futures meanwhile. If an
        interrupt cuts the wait short, the socket is lent to nobody until the sweeper
        takes it back."""
        lent = threading.Lock()
        lent.acquire()

        def lend() -> None:
            try:
                if not self._proto.closed:  # else close_here would not use it: lent to nobody
                    self._lend()
            finally:
                lent.release()

        self._loop.call_soon_threadsafe(lend)
        interruptible(_acquiring(lent), None)
        return self.lent

    def _read_until_end(
        self, deadline: Optional[float], ending: Optional[Callable[[WSMessage], None]] = None
    ) -> bool:
        """Read and handle input until it ends (close frame, violation, EOF); False at ``deadline``."""
        poll = self._poll.poll
        main = in_main_thread()
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            wait = -1 if left is None else int(left * 1000) + 1
            if main:  # see aio/blocking.py: a pending Ctrl-C is seen at the next slice
                wait = _SLICE_MS if wait < 0 else min(wait, _SLICE_MS)
            if not poll(wait):
                continue
            if not whole(self._read_once, ending):
                return True

    def _finish_here(self, close: WSMessage) -> bool:
        """After a clean closing handshake on a socket the loop never had: close it here,
        and leave the loop only the settling of the futures (not waited for). False
        if the loop has the socket now, or bytes are still queued for it."""
        proto = self._proto
        writer = proto.writer
        assert writer is not None
        with self._lock:
            if self.owner != _CALLER or not writer.idle():
                return False
            self.owner = _GONE
            self.lent = self.active = False
            proto.close_code = close.data
            writer.connection_lost(ConnectionClosed("the connection is closed", proto.close_code))
        self._sweeper.discard(self)
        self._sock.close()
        self._sweeper.settle_later(proto)
        return True

    def _end_close(self, endings: List[WSMessage], cut: bool) -> None:
        """Close (or cut) TCP on the loop, and wait until it is done there."""
        finished = threading.Lock()  # lighter than an Event: many threads may close at once
        finished.acquire()
        release = finished.release  # called exactly once, below

        def end() -> None:
            self._stop_lending()
            proto = self._proto
            for msg in endings:
                proto.control_from_caller(msg)
            if proto.lost.done():
                release()
                return
            transport = proto.transport
            if transport is None or transport.get_write_buffer_size():
                proto.lost.add_done_callback(lambda _: release())  # after the flush, whenever
            else:
                # Nothing left to write: closing schedules connection_lost for the next turn,
                # and this runs right after it (a done-callback would take one more turn).
                self._loop.call_soon(release)
            if cut:
                proto.abort()
            elif transport is not None:
                transport.close()

        self._loop.call_soon_threadsafe(end)
        interruptible(_acquiring(finished), None)

    def _close_on_loop(self, code: int, reason: bytes, left: Optional[float], endings: List[WSMessage]) -> None:
        self._stop_lending(resume=True)
        proto = self._proto
        for msg in endings:
            proto.control_from_caller(msg)
        conn = proto.conn
        if conn is not None and conn.close_sent is None:  # marked closing, frame not sent yet
            self._loop.create_task(proto.close(code, reason))
        else:
            proto.finish_close_later(None if left is None else self._loop.time() + max(0.0, left))

    def _stop_lending(self, resume: bool = False) -> None:
        """Loop thread: the caller is done with the socket; the loop reads it again if ``resume``."""
        self._attach()
        with self._lock:
            self.lent = self.active = self.returning = False
        self._sweeper.discard(self)
        if resume:
            self._proto.reclaim_reading()
        else:
            self._proto.stop_lending()


def _acquiring(lock: LockType) -> Callable[[Optional[float]], bool]:
    """A wait for ``interruptible``: acquire the lock the loop will release."""
    return lambda seconds: lock.acquire(True, -1 if seconds is None else seconds)


def _closing(proto: WebSocketProtocol) -> bool:
    """Read ``closed`` afresh (it may have changed since the caller last looked)."""
    return proto.closed
