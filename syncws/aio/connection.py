"""The loop side of one connection: an asyncio Protocol driving the sans-I/O core.

It reads the handshake answer, then feeds frames to ``ClientConnection``,
answers pings (autoping), completes closing handshakes (autoclose), runs
the heartbeat and the close timers, and hands messages to a sink. Both
faces, async and sync, sit on this one class; the loop thread is the only
thread that ever reads its socket.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import mmap
import socket
import threading
from typing import Any, Callable, List, Optional, Sequence, Tuple, cast

from ..protocol.close_codes import MAX_REASON_BYTES, WSCloseCode, check_close
from ..protocol.connection import ClientConnection
from ..protocol.deflate import DEFAULT_COMPRESS, CompressSettings
from ..protocol.errors import ConnectionClosed, ProtocolError, WSServerHandshakeError
from ..protocol.handshake import HandshakeResult, ResponseParser, validate_response
from ..protocol.messages import WSMessage, WSMsgType
from .closing import EOF_GRACE, CloseWait
from .errors import ClientConnectionError, CloseTimeout, ConnectionClosedError, ServerTimeoutError
from .message_queue import MessageSink
from .offload import offload_wanted
from .pings import Pings
from .state import ConnState, StateMachine
from .writer import HIGH_WATER, MakeWriter, WriterBase, make_frame_writer

__all__ = ["WebSocketProtocol"]

_DATA = WSMsgType.BINARY  # TEXT (1) and BINARY (2) are the only types <= this
# Why reading is paused: the sink's queue is full, or a worker is inflating a read.
_HOLD_SINK = 1
_HOLD_WORKER = 2
_HOLD_PIECE = 4  # the reader holds a message over max_msg_size for the receiver's choice


# asyncio's plain Protocol path receives with sock.recv(256 KiB): a fresh 256 KiB
# allocation (an mmap/munmap pair in glibc) per read, which dominated the cost
# of a small round trip. We read into one reused buffer per thread instead (a loop
# runs in one thread, and each read is copied out before the next one).
READ_BUFFER_SIZE = 256 * 1024
_buffers = threading.local()


def _read_buffer() -> memoryview:
    try:
        return _buffers.view  # type: ignore[no-any-return]
    except AttributeError:
        # Anonymous memory, not a bytearray: a bytearray is zero-filled, so all 256 KiB
        # are resident at once; here the system maps a page only when a read first
        # writes to it, and a thread whose reads stay small keeps a page or two.
        _buffers.view = memoryview(mmap.mmap(-1, READ_BUFFER_SIZE))
        return _buffers.view  # type: ignore[no-any-return]


class WebSocketProtocol(asyncio.BufferedProtocol):
    # Slots: one of these per connection, with more attributes than a dict shares keys for.
    __slots__ = (
        "__weakref__", "_after_worker", "_backlog", "_buffer", "_close_frame_seen", "_closing", "_compress",
        "_compress_settings",
        "_fail_close_pending", "_fail_timer", "_heartbeat_timer", "_key", "_last_recv", "_lost_later",
        "_make_writer", "_max_msg_size", "_parser", "_paused_early", "_pong_timer", "_protocols", "_read_holds",
        "_timer", "_upgraded", "_write_limit", "autoclose", "autoping",
        "close_code", "close_reason", "close_timeout", "closed", "conn", "exception", "handshake", "heartbeat",
        "loop", "lost", "pings", "raw_socket", "request", "sink", "state", "transport", "url", "writer",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sink: MessageSink,
        *,
        key: str,
        protocols: Sequence[str] = (),
        compress: int = 0,
        compress_settings: CompressSettings = DEFAULT_COMPRESS,
        max_msg_size: int = 4 * 2**20,
        autoping: bool = True,
        autoclose: bool = True,
        heartbeat: Optional[float] = None,
        close_timeout: Optional[float] = 10.0,
        write_limit: int = HIGH_WATER,
        make_writer: MakeWriter = make_frame_writer,
    ) -> None:
        self.loop = loop
        self.sink = sink
        self._key = key
        self._protocols = tuple(protocols)
        self._compress = compress
        self._compress_settings = compress_settings
        self._max_msg_size = max_msg_size
        self._make_writer = make_writer
        self._write_limit = write_limit
        self.autoping = autoping
        self.autoclose = autoclose
        self.heartbeat = heartbeat
        self.close_timeout = close_timeout
        self.url = ""  # the URL finally connected to (after redirects); set by open_websocket
        self.request = b""  # the opening handshake's request head, as sent
        self.pings = Pings()  # pings waiting for their pong, and the latency measured
        self.state = StateMachine()
        self._parser: Optional[ResponseParser] = ResponseParser()
        self._upgraded: Optional[Tuple[HandshakeResult, bytes]] = None  # see adopt_upgraded
        self.handshake: "asyncio.Future[HandshakeResult]" = loop.create_future()
        self.lost: "asyncio.Future[None]" = loop.create_future()
        self._close_frame_seen = False  # the server's close frame, or the input failed
        self.transport: Optional[asyncio.Transport] = None
        # The plain socket under the transport, when there is one (no TLS); set by whoever made it.
        self.raw_socket: Optional[socket.socket] = None
        self.writer: Optional[WriterBase] = None
        self.conn: Optional[ClientConnection] = None
        self.exception: Optional[BaseException] = None
        self.close_code: Optional[int] = None
        self.close_reason: Optional[str] = None
        self.closed = False  # closing started by either side, or the connection is gone
        self._closing: Optional[CloseWait] = None  # our closing handshake, once started
        self._timer: Optional[asyncio.TimerHandle] = None
        self._heartbeat_timer: Optional[asyncio.TimerHandle] = None
        self._pong_timer: Optional[asyncio.TimerHandle] = None
        self._fail_timer: Optional[asyncio.TimerHandle] = None
        self._fail_close_pending = False
        self._last_recv = 0.0
        self._buffer = memoryview(b"")
        self._paused_early = False
        self._read_holds = 0
        # While a worker feeds a read (aio/offload.py): later reads, in order; and a
        # connection_lost that came meanwhile, handled once the worker is done.
        self._backlog: Optional[List[bytes]] = None
        # The receiver's steps on the reader (stream, read on, refuse) that came meanwhile.
        self._after_worker: List[Callable[[ClientConnection], List[WSMessage]]] = []
        self._lost_later: Optional[Tuple[Optional[BaseException]]] = None

    # -- asyncio.Protocol -------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check here.
        self.transport = tp = cast(asyncio.Transport, transport)
        self.writer = self._make_writer(self.loop, tp, self._write_limit)
        if self._paused_early:
            self.writer.pause_writing()
        self.sink.attach(self._sink_full, self._resume_reading)
        upgraded, self._upgraded = self._upgraded, None
        if upgraded is not None:
            self._opened(*upgraded)

    def get_buffer(self, sizehint: int) -> memoryview:
        self._buffer = _read_buffer()
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._buffer[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            self._handshake_data(data)
            return
        if self.heartbeat is not None:
            self._alive()
        if self._backlog is not None:  # a worker is feeding an earlier read: keep the order
            self._backlog.append(data)
            return
        if offload_wanted(conn, len(data)):
            self._offload(conn, data)
            return
        self._read_done(conn, conn.receive_data(data))

    def _read_done(self, conn: ClientConnection, messages: List[WSMessage]) -> None:
        """A read's messages (loop thread), however it was fed."""
        if conn.reader.held:
            # A message over max_msg_size, not asked for in pieces: read no further until
            # the receiver chooses (stream it on, or refuse it): see stream() and refuse().
            self._hold_reading(_HOLD_PIECE)
        self._deliver(messages)

    def _deliver(self, messages: List[WSMessage]) -> None:
        if not messages:
            return
        # Data messages go to the sink in runs, so a waiting receiver wakes once and finds
        # every message of this read; control messages are handled in their place.
        start = 0
        for i, msg in enumerate(messages):
            if msg.type > _DATA:
                if i > start:
                    self.sink.put_batch(messages[start:i])
                start = i + 1
                self._control(msg)
        if start < len(messages):
            self.sink.put_batch(messages[start:] if start else messages)

    def eof_received(self) -> Optional[bool]:
        return False  # close our side too

    # -- reads inflated in a worker (aio/offload.py) --------------------------------
    def _offload(self, conn: ClientConnection, data: bytes) -> None:
        try:
            work = self.loop.run_in_executor(None, conn.receive_data, data)
        except RuntimeError:  # the loop's executor is shut down (the loop is ending): inflate here
            self._read_done(conn, conn.receive_data(data))
            return
        self._backlog = []
        self._hold_reading(_HOLD_WORKER)
        work.add_done_callback(self._offloaded)

    def _offloaded(self, work: "asyncio.Future[List[WSMessage]]") -> None:
        """Loop thread: the worker's messages, then what was read meanwhile, in order."""
        backlog, self._backlog = self._backlog or [], None
        error = None if work.cancelled() else work.exception()
        if work.cancelled() or error is not None:  # the worker failed (MemoryError) or was cancelled
            self.give_up(ClientConnectionError("reading stopped: could not inflate a message", cause=error))
        elif self.conn is not None:
            self._read_done(self.conn, work.result())
        steps, self._after_worker = self._after_worker, []
        for step in steps:
            self._reader_step(step)
        if backlog:
            self.data_received(b"".join(backlog))
        if self._worker_busy():
            return  # that went to a worker again
        self._release_reading(_HOLD_WORKER)
        lost, self._lost_later = self._lost_later, None
        if lost is not None:
            self.connection_lost(lost[0])

    def _worker_busy(self) -> bool:
        return self._backlog is not None

    def _hold_reading(self, why: int) -> None:
        if not self._read_holds and self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()
        self._read_holds |= why

    def _release_reading(self, why: int) -> None:
        if not self._read_holds & why:
            return
        self._read_holds &= ~why
        transport = self.transport
        if not self._read_holds and transport is not None and not transport.is_closing():
            transport.resume_reading()

    def _sink_full(self) -> None:
        self._hold_reading(_HOLD_SINK)

    def _resume_reading(self) -> None:
        # The queue has room again (loop thread).
        self._release_reading(_HOLD_SINK)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if self._worker_busy():
            # A worker still feeds what came before the end: its messages go first. The
            # socket closes when this returns, so callers stop writing to it now.
            self._lost_later = (exc,)
            if self.writer is not None:
                self.writer.connection_lost(ConnectionClosed("the connection is closed"))
            return
        self.state.advance(ConnState.CLOSED)
        self._cancel_timers()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            # The peer closed first. Python 3.9 and 3.10's TLS transport does not mark
            # itself closed then, and warns "unclosed transport" when collected.
            transport.close()
        conn = self.conn
        if conn is not None:
            conn.receive_eof()
        if not self.handshake.done():
            self.handshake.set_exception(
                ClientConnectionError(
                    f"connection to {self.url} {'closed' if exc is None else 'failed'} during the opening "
                    f"handshake ({self.opening_stage()})" + (f": {exc}" if exc is not None else ""),
                    cause=exc,
                )
            )
            self.handshake.exception()  # an opening that already gave up (TLS pin, timeout) never reads it
        elif self.exception is None and conn is not None and conn.close_received is None:
            err = ConnectionClosedError(
                f"connection to {self.url} lost without a close frame (1006){_when(conn)}"
                + (f": {exc}" if exc is not None else ""),
                WSCloseCode.ABNORMAL_CLOSURE,
            )
            err.__cause__ = exc
            self.exception = err
            self.close_code = WSCloseCode.ABNORMAL_CLOSURE
            self.sink.put(WSMessage(WSMsgType.ERROR, err, None))
        self.closed = True
        if self.writer is not None:
            # Before asyncio closes the socket (it does so right after this returns):
            # the writer stops every caller writing to it, under its lock.
            self.writer.connection_lost(
                self.exception or ConnectionClosed("the connection is closed", self.close_code)
            )
        self.sink.close()
        self.pings.closed(self.close_code)
        if not self.lost.done():
            self.lost.set_result(None)
        if self._closing is not None:
            self._closing.finish()

    def pause_writing(self) -> None:
        if self.writer is None:  # TLS transports may pause before connection_made()
            self._paused_early = True
            return
        self.writer.pause_writing()

    def resume_writing(self) -> None:
        if self.writer is None:
            self._paused_early = False
            return
        self.writer.resume_writing()

    # -- streamed receives (the receiver's choices; loop thread) -------------------
    def stream(self) -> None:
        """The receiver streams the message in progress, or else the next one: hand out
        what is gathered of it now, and if the reader was held on it, read on."""
        self._reader_step(lambda conn: conn.reader.claim())

    def read_on(self) -> None:
        """The receiver took the piece the reader was held on: read on."""
        self._reader_step(lambda conn: conn.reader.resume())

    def refuse(self, err: ProtocolError) -> None:
        """The receiver met a message over max_msg_size through ``receive()``: fail with 1009,
        as the reader itself does without streams (the receiver has dropped what is queued)."""

        def stop(conn: ClientConnection) -> List[WSMessage]:
            conn.reader.stop(err)
            if not self.closed:
                self._fail(err)
            return []

        if not self.closed:
            self._reader_step(stop)

    def _reader_step(self, step: Callable[[ClientConnection], List[WSMessage]]) -> None:
        """Run ``step`` on the reader now, or, while a worker feeds it a read, once that is
        done: the reader is never used by two threads at once."""
        conn = self.conn
        if conn is None or self.lost.done():
            return
        if self._worker_busy():
            self._after_worker.append(step)
            return
        self._deliver(step(conn))
        if not conn.reader.held:
            self._release_reading(_HOLD_PIECE)

    # -- opening handshake -----------------------------------------------------
    def _handshake_data(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            return
        try:
            response = parser.feed(data)
            if response is None:
                return
            result = validate_response(
                response,
                self._key,
                protocols=self._protocols,
                compress=self._compress,
                compress_window_bits=self._compress_settings.window_bits,
            )
        except WSServerHandshakeError as exc:
            self._parser = None
            if not self.handshake.done():
                self.handshake.set_exception(parser.refused(exc))
            assert self.transport is not None
            self.transport.abort()
            return
        self._parser = None
        if self.handshake.done():  # the connect call gave up (timeout, cancel)
            assert self.transport is not None
            self.transport.abort()
            return
        self._opened(result, parser.rest)

    def opening_stage(self) -> str:
        """Where the opening handshake stands, for messages about one that failed or stalled."""
        parser = self._parser
        return parser.stage() if parser is not None else "the handshake response was complete"

    def adopt_upgraded(self, result: HandshakeResult, rest: bytes, sock: socket.socket) -> None:
        """Before ``connection_made``: the opening handshake was done on ``sock`` by
        whoever opened it (sync/opening.py, in a caller's thread); ``rest`` is what
        the server sent after its answer. The transport made for ``sock`` then
        starts with the connection open."""
        self._parser = None
        self.raw_socket = sock
        self._upgraded = (result, rest)

    def _opened(self, result: HandshakeResult, rest: bytes) -> None:
        self._key = ""  # the answer's check was its only use
        self.conn = ClientConnection(
            max_msg_size=self._max_msg_size,
            deflate=result.deflate,
            compress_settings=self._compress_settings,
            streams=True,
        )
        self.state.advance(ConnState.OPEN)
        deflater = self.conn.writer.deflater
        if deflater is not None and self.writer is not None:
            self.writer.on_abandon = deflater.reset
        self.handshake.set_result(result)
        self._start_heartbeat()
        if rest:
            self.data_received(rest)

    # -- control frames and failures -------------------------------------------
    def _control(self, msg: WSMessage) -> None:
        kind = msg.type
        if kind is WSMsgType.PING:
            if self.autoping:
                self._send_quietly(self._pong, msg.data)
            else:
                self.sink.put(msg)
        elif kind is WSMsgType.PONG:
            self._cancel_pong_timer()
            self.pings.pong(msg.data)
            if not self.autoping:
                self.sink.put(msg)
        elif kind is WSMsgType.CLOSE:
            self._close_frame_received(msg)
        elif kind is WSMsgType.ERROR:
            self._fail(msg.data)

    def _pong(self, payload: bytes) -> bytes:
        conn = self.conn
        assert conn is not None
        return b"" if conn.close_sent is not None else conn.writer.pong(payload)

    def _send_quietly(self, encode: Callable[..., bytes], *args: Any) -> None:
        """A write the loop makes on its own; a connection already gone is not an error here."""
        assert self.writer is not None
        try:
            self.writer.send(encode, *args)
        except ConnectionClosed:
            pass

    def _close_frame_received(self, msg: WSMessage) -> None:
        conn = self.conn
        assert conn is not None
        self.close_code = msg.data
        self.close_reason = msg.extra
        self.state.advance(ConnState.CLOSING)
        self._input_ended()
        if conn.close_sent is not None:
            return  # our close() is waiting on this
        self.closed = True
        self.sink.put(msg)
        if self.autoclose:
            # Echo the code (RFC 6455 §5.5.1); 1005 means none was given.
            code = msg.data if msg.data != WSCloseCode.NO_STATUS_RECEIVED else WSCloseCode.OK
            self._send_quietly(conn.send_close, code, b"")
            self.sink.close()
            self._close_later(self.close_timeout)

    def _fail(self, exc: ProtocolError) -> None:
        """_Fail the WebSocket Connection_ (RFC 6455 §7.1.7): close code, then TCP.

        The reader stops at once. Our close frame waits until the receiver has
        taken the messages that came before the violation and the ERROR (at
        once if it is already waiting; at most close_timeout): what the
        server sent before breaking the protocol is the application's to
        answer first (Autobahn 3.2, 4.1.3, 5.15: the echo, then the close).
        """
        conn = self.conn
        assert conn is not None
        self.exception = exc
        self.close_code = exc.code
        self.closed = True
        self.state.advance(ConnState.CLOSING)
        # The reader has stopped: a close() waiting for the server's close frame
        # would wait in vain and then report a timeout instead of this failure.
        self._input_ended()
        self._fail_close_pending = True
        self.sink.put(WSMessage(WSMsgType.ERROR, exc, None))
        self.sink.close()
        timeout = self.close_timeout
        if timeout is None:  # unbounded: close now and leave TCP to the server
            self._send_fail_close()
            return
        # TCP is cut close_timeout after the failure whatever happens; the close
        # frame goes out when the receiver has caught up, or halfway there.
        self._abort_later(timeout)
        if self.sink.when_taken(self._send_fail_close):
            self._fail_timer = self.loop.call_later(timeout / 2, self._send_fail_close)
        else:
            self._send_fail_close()

    def _send_fail_close(self) -> None:
        """The close frame of a failed connection, then the countdown to cutting TCP (loop thread)."""
        if not self._fail_close_pending:
            return
        self._fail_close_pending = False
        if self._fail_timer is not None:
            self._fail_timer.cancel()
            self._fail_timer = None
        conn, exc = self.conn, self.exception
        assert conn is not None and isinstance(exc, ProtocolError)
        reason = exc.message.encode("utf-8")[:MAX_REASON_BYTES].decode("utf-8", "ignore").encode("utf-8")
        self._send_quietly(conn.send_close, exc.code, reason)

    def _abort_later(self, delay: Optional[float]) -> None:
        """Give the server ``delay`` seconds to close TCP, then cut it (None: no limit)."""
        if delay is not None and self._timer is None and self.transport is not None and not self.lost.done():
            self._timer = self.loop.call_later(delay, self.abort)

    def _close_later(self, limit: Optional[float]) -> None:
        """Both close frames are out: the server closes TCP first (RFC 6455 §7.1.1); we
        close it ourselves after EOF_GRACE (or ``limit``, if sooner), so nothing is
        left open when the application leaves without waiting."""
        grace = EOF_GRACE if limit is None else min(EOF_GRACE, limit)
        if self._timer is None and self.transport is not None and not self.lost.done():
            self._timer = self.loop.call_later(grace, self._close_transport)

    def _close_transport(self) -> None:
        self._timer = None
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # -- closing handshake we start --------------------------------------------
    async def close(self, code: int = WSCloseCode.OK, reason: bytes = b"") -> bool:
        """Run our closing handshake; ends when TCP is closed.

        True if this call started the close, False if it joined one already
        started or found the connection closed. Either way it returns once
        the connection is closed, or given up on within ``close_timeout``.
        Cancelling it leaves the closing handshake running.
        """
        started, closing = self.start_closing(code, reason)
        await closing.wait()
        return started

    def start_closing(self, code: int = WSCloseCode.OK, reason: bytes = b"") -> Tuple[bool, CloseWait]:
        """``close()`` without the wait (loop thread): start our closing handshake, or join
        the one under way. True if this call started it; the CloseWait tells when it ends."""
        check_close(code, reason)
        closing = self._closing
        if closing is not None:
            return False, closing
        self._closing = closing = CloseWait(self)
        if self._fail_close_pending:
            self._send_fail_close()  # already failing: its code, not ours, goes out now
        started = self.begin_close(code, reason)
        timeout = self.close_timeout
        deadline = None if timeout is None else self.loop.time() + timeout
        if started:
            closing.start(deadline, self._close_frame_seen)
        elif self.lost.done():
            closing.finish()
        else:
            # Closed from the other side or failed, TCP still open: wait for its end too,
            # so that nothing is left open when close() returns.
            closing.start(deadline, frame_seen=True)
        return started, closing

    def close_soon(self, code: int = WSCloseCode.GOING_AWAY, reason: bytes = b"") -> None:
        """Start our closing handshake without waiting for it (loop thread): for connections
        nobody holds any more (1001), or a fragmented send cut short (1011)."""
        if not self.lost.done():
            self.start_closing(code, reason)

    def begin_close(self, code: int, reason: bytes) -> bool:
        """Mark the connection closing and send our close frame (loop thread).

        False, with nothing sent, when the transport is gone (or given up on) or
        a close frame already went out.
        """
        conn = self.conn
        self.closed = True
        if conn is not None and self.transport is not None:
            # Data that comes now is dropped unread: a message held for the receiver
            # (docs/threading.md, "Streamed messages") no longer stops reading.
            self._reader_step(self._discard_input)
        self.sink.closing()
        if self.lost.done() or conn is None or conn.close_sent is not None or conn.eof:
            return False
        self.state.advance(ConnState.CLOSING)
        self._send_quietly(conn.send_close, code, reason)
        return True

    def _discard_input(self, conn: ClientConnection) -> List[WSMessage]:
        held = conn.reader.held
        conn.reader.discard()
        if held:  # what the reader kept back is read past on the next turn
            self.loop.call_soon(self.data_received, b"")
        return []

    def _input_ended(self) -> None:
        self._close_frame_seen = True
        if self._closing is not None:
            self._closing.frame_seen()

    def close_timed_out(self) -> None:
        self.close_code = WSCloseCode.ABNORMAL_CLOSURE
        self.exception = CloseTimeout(f"no close frame from {self.url} within {self.close_timeout} s")

    # -- heartbeat ----------------------------------------------------------------
    def _start_heartbeat(self) -> None:
        if self.heartbeat is not None:
            self._last_recv = self.loop.time()
            self._heartbeat_timer = self.loop.call_later(self.heartbeat, self._heartbeat_tick)

    def _alive(self) -> None:
        self._last_recv = self.loop.time()
        self._cancel_pong_timer()

    def _heartbeat_tick(self) -> None:
        heartbeat = self.heartbeat
        assert heartbeat is not None
        due = self._last_recv + heartbeat
        now = self.loop.time()
        if now < due:
            self._heartbeat_timer = self.loop.call_at(due, self._heartbeat_tick)
            return
        conn = self.conn
        assert conn is not None
        if conn.close_sent is None and self._pong_timer is None:
            self._send_quietly(self.ping_frame, self.pings.payload(b""), [])
            self._pong_timer = self.loop.call_later(heartbeat / 2, self._pong_missing)
        self._heartbeat_timer = self.loop.call_later(heartbeat, self._heartbeat_tick)

    def ping_frame(self, payload: bytes, waiter: "List[concurrent.futures.Future[float]]") -> bytes:
        """Encode a ping and register it for its pong, its future appended to ``waiter``.
        Runs as a writer's encode, under its lock: registration and wire order agree."""
        conn = self.conn
        assert conn is not None
        frame = conn.send_ping(payload)
        waiter.append(self.pings.sent(payload))
        return frame

    def _cancel_pong_timer(self) -> None:
        if self._pong_timer is not None:
            self._pong_timer.cancel()
            self._pong_timer = None

    def _pong_missing(self) -> None:
        self._pong_timer = None
        wait = (self.heartbeat or 0) / 2
        self.give_up(ServerTimeoutError(f"no pong within {wait} s of a heartbeat ping"))

    def give_up(self, err: BaseException) -> None:
        """The connection is dead or unusable (loop thread): ``err`` is why; code 1006, no
        closing handshake, TCP cut. A missing pong, a send that could not finish."""
        if self.exception is None:
            self.exception = err
            self.close_code = WSCloseCode.ABNORMAL_CLOSURE
            self.closed = True
            self.sink.put(WSMessage(WSMsgType.ERROR, err, None))
            self.sink.close()
        if self.conn is not None:
            self.conn.receive_eof()  # dead: sends fail now, not after the abort lands
        self.abort()

    def _cancel_timers(self) -> None:
        for timer in (self._timer, self._heartbeat_timer, self._pong_timer, self._fail_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._heartbeat_timer = self._pong_timer = self._fail_timer = None


def _when(conn: ClientConnection) -> str:
    """What a lost connection interrupted, if anything."""
    if conn.close_sent is not None:
        return " during the closing handshake"
    if conn.reader.mid_message:
        return " in the middle of a message"
    return ""
