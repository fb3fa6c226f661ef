"""The loop side of one connection: an asyncio Protocol driving the sans-I/O core.

It reads the handshake answer, then feeds frames to ``ClientConnection``,
answers pings (autoping), completes closing handshakes (autoclose), runs
the heartbeat and the close timers, and hands messages to a sink. Both
faces, async and sync, sit on this one class.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Callable, Optional, Sequence

from ..protocol.close_codes import MAX_REASON_BYTES, WSCloseCode, check_close
from ..protocol.connection import ClientConnection
from ..protocol.errors import ConnectionClosed, ProtocolError, WSServerHandshakeError
from ..protocol.handshake import HandshakeResult, ResponseParser, validate_response
from ..protocol.messages import WSMessage, WSMsgType
from .closing import CloseWait
from .errors import ClientConnectionError, CloseTimeout, ConnectionClosedError, ServerTimeoutError
from .message_queue import MessageSink
from .writer import FrameWriter

__all__ = ["WebSocketProtocol"]

_DATA = WSMsgType.BINARY  # TEXT (1) and BINARY (2) are the only types <= this


# asyncio's plain Protocol path receives with sock.recv(256 KiB): a fresh 256 KiB
# allocation (an mmap/munmap pair in glibc) per read, which dominated the cost
# of a small round trip. We read into one reused buffer per thread instead.
READ_BUFFER_SIZE = 256 * 1024
_buffers = threading.local()


def _read_buffer() -> memoryview:
    try:
        return _buffers.view  # type: ignore[no-any-return]
    except AttributeError:
        _buffers.view = memoryview(bytearray(READ_BUFFER_SIZE))
        return _buffers.view  # type: ignore[no-any-return]


class WebSocketProtocol(asyncio.BufferedProtocol):
    # Slots: one of these per connection, with more attributes than a dict shares keys for.
    __slots__ = (
        "__weakref__", "_adopted", "_close_frame_seen", "_closing", "_compress", "_direct_sock",
        "_fail_close_pending", "_fail_timer", "_feed_lock", "_heartbeat_timer", "_key", "_last_recv",
        "_lent", "_max_msg_size", "_parser", "_paused_early", "_pong_timer", "_protocols", "_timer",
        "_view", "autoclose", "autoping", "caller_read_error", "close_code", "close_timeout", "closed",
        "conn", "ensure_transport", "exception", "handshake", "heartbeat", "loop", "lost", "sink", "take_back_reading",
        "transport", "url", "writer",
    )
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sink: MessageSink,
        *,
        key: str,
        protocols: Sequence[str] = (),
        compress: int = 0,
        max_msg_size: int = 4 * 2**20,
        autoping: bool = True,
        autoclose: bool = True,
        heartbeat: Optional[float] = None,
        close_timeout: Optional[float] = 10.0,
    ) -> None:
        self.loop = loop
        self.sink = sink
        self._key = key
        self._protocols = tuple(protocols)
        self._compress = compress
        self._max_msg_size = max_msg_size
        self.autoping = autoping
        self.autoclose = autoclose
        self.heartbeat = heartbeat
        self.close_timeout = close_timeout
        self.url = ""  # the URL finally connected to (after redirects); set by open_websocket
        self._parser: Optional[ResponseParser] = ResponseParser()
        self.handshake: "asyncio.Future[HandshakeResult]" = loop.create_future()
        self.lost: "asyncio.Future[None]" = loop.create_future()
        self._close_frame_seen = False  # the server's close frame, or the input failed
        self.transport: Optional[asyncio.Transport] = None
        self.writer: Optional[FrameWriter] = None
        self.conn: Optional[ClientConnection] = None
        self.exception: Optional[BaseException] = None
        self.close_code: Optional[int] = None
        self.closed = False  # aiohttp's meaning: closing started by either side or connection gone
        self._closing: Optional[CloseWait] = None  # our closing handshake, once started
        self._timer: Optional[asyncio.TimerHandle] = None
        self._heartbeat_timer: Optional[asyncio.TimerHandle] = None
        self._pong_timer: Optional[asyncio.TimerHandle] = None
        self._fail_timer: Optional[asyncio.TimerHandle] = None
        self._fail_close_pending = False
        self._last_recv = 0.0
        self._view = memoryview(b"")
        self._paused_early = False
        self._lent = False  # a caller thread reads the socket (see lend_reading)
        self._feed_lock = threading.Lock()  # orders the messages of the loop's reads and a caller's
        self._direct_sock: Optional[socket.socket] = None
        self._adopted: Optional[HandshakeResult] = None  # see adopt_lent
        # Set by adopt_lent's owner; called (loop thread) before anything needs the transport.
        self.ensure_transport: Optional[Callable[[], None]] = None
        self.caller_read_error: Optional[OSError] = None
        # Set by whoever borrowed reading; called (loop thread) when closing needs it back.
        self.take_back_reading: Optional[Callable[[], None]] = None

    # -- asyncio.Protocol -------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ensure_transport = None
        if self.writer is None:
            self.writer = FrameWriter(self.loop, transport)
        else:  # built by adopt_lent: the handshake was done before the transport existed
            self.writer.attach(transport)
        if self._paused_early:
            self.writer.pause_writing()
        self.sink.attach(transport.pause_reading, self._resume_reading)
        if self._settle_adopted():
            self._start_heartbeat()

    def get_buffer(self, sizehint: int) -> memoryview:
        self._view = _read_buffer()
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._view[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            self._handshake_data(data)
            return
        # Held while a chunk's messages are queued: putting the first one may lend the
        # socket to a woken receiver, whose next read must queue behind the rest.
        with self._feed_lock:
            messages = conn.receive_data(data)
            if self.heartbeat is not None:
                self._alive()
            put = self.sink.put
            for msg in messages:
                if msg.type <= _DATA:
                    put(msg)
                else:
                    self._control(msg)

    def eof_received(self) -> Optional[bool]:
        return False  # close our side too

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if exc is None:
            exc = self.caller_read_error  # seen by a caller reading the lent socket
        self._cancel_timers()
        conn = self.conn
        if conn is not None:
            conn.receive_eof()
        if not self.handshake.done():
            self.handshake.set_exception(
                ClientConnectionError("connection closed during the opening handshake", cause=exc)
            )
            self.handshake.exception()  # an opening that already gave up (TLS pin, timeout) never reads it
        elif self.exception is None and conn is not None and conn.close_received is None:
            err = ConnectionClosedError(
                "connection lost without a close frame (1006)", WSCloseCode.ABNORMAL_CLOSURE
            )
            err.__cause__ = exc
            self.exception = err
            self.close_code = WSCloseCode.ABNORMAL_CLOSURE
            self.sink.put(WSMessage(WSMsgType.ERROR, err, None))
        self.closed = True
        self.sink.close()
        if self.writer is not None:
            self.writer.connection_lost(
                self.exception or ConnectionClosed("the connection is closed", self.close_code)
            )
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

    def _resume_reading(self) -> None:
        # The queue has room again (loop thread). A lent socket stays with its caller.
        transport = self.transport
        if transport is not None and not transport.is_closing() and not self._lent:
            transport.resume_reading()

    # -- reading lent to a caller thread (sync facade, plain TCP) ----------------
    def lend_reading(self) -> bool:
        """Stop reading here so that a caller thread may read the socket itself (loop thread)."""
        transport, conn = self.transport, self.conn
        if self._lent or transport is None or transport.is_closing() or conn is None or conn.reader.done:
            return False
        transport.pause_reading()
        self._lent = True
        return True

    def reclaim_reading(self) -> None:
        """Read here again (loop thread); the queue's own pause still holds."""
        if not self._lent:
            return
        self._need_transport()
        self._lent = False
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()
            self.sink.reapply_pause()

    def stop_lending(self) -> None:
        """The lent socket is being closed by its borrower (loop thread): read it no more."""
        self._lent = False

    def feed_from_caller(
        self, data: bytes, put: Callable[[WSMessage], None], ending: Optional[Callable[[WSMessage], None]] = None
    ) -> bool:
        """Bytes a caller thread read from the lent socket, handled in that thread.

        Messages go to ``put``, pings are answered; False once a close frame
        or a violation ended the input: the loop acts on that message
        (``control_from_caller``), sent there now or, if given, by ``ending``.
        """
        conn = self.conn
        assert conn is not None
        with self._feed_lock:
            return self._feed_from_caller(conn, data, put, ending)

    def _feed_from_caller(
        self,
        conn: ClientConnection,
        data: bytes,
        put: Callable[[WSMessage], None],
        ending: Optional[Callable[[WSMessage], None]],
    ) -> bool:
        messages = conn.receive_data(data)
        if self.heartbeat is not None:
            self._last_recv = self.loop.time()  # monotonic: safe from any thread
            if self._pong_timer is not None:
                self.loop.call_soon_threadsafe(self._cancel_pong_timer)
        for msg in messages:
            kind = msg.type
            if kind <= _DATA:
                put(msg)
            elif kind is WSMsgType.PING and self.autoping:
                self._send_quietly(self._pong, msg.data)
            elif kind is WSMsgType.PING or kind is WSMsgType.PONG:
                if not self.autoping:
                    put(msg)
            else:  # CLOSE or ERROR
                if ending is None:
                    self.loop.call_soon_threadsafe(self._control, msg)
                else:
                    ending(msg)
                return False
        return True

    def control_from_caller(self, msg: WSMessage) -> None:
        """Loop thread: a close frame or a violation that a caller read on the lent socket."""
        self._control(msg)

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
                response, self._key, protocols=self._protocols, compress=self._compress
            )
        except WSServerHandshakeError as exc:
            self._parser = None
            if not self.handshake.done():
                self.handshake.set_exception(exc)
            assert self.transport is not None
            self.transport.abort()
            return
        self._parser = None
        if self.handshake.done():  # the connect call gave up (timeout, cancel)
            assert self.transport is not None
            self.transport.abort()
            return
        self.conn = self._new_conn(result)
        self.handshake.set_result(result)
        self._start_heartbeat()
        self._hook_abandon()
        if parser.rest:
            self.data_received(parser.rest)

    def adopt_lent(self, result: HandshakeResult, sock: socket.socket) -> None:
        """The handshake was done on the plain TCP ``sock`` in the caller thread, before
        the loop knows this protocol (``sync.direct_open``). That thread goes
        on reading and writing ``sock`` itself; the loop gives it a transport only when
        it needs one (``ensure_transport``, then ``connection_made``, which also starts
        the heartbeat and settles the handshake future), or never, if the connection
        closes first (``finish_detached``)."""
        self._parser = None
        self._direct_sock = sock
        self.conn = self._new_conn(result)
        self._adopted = result
        self.writer = FrameWriter(self.loop, None)
        self.writer.allow_direct(sock)
        self.writer.needs_transport = self._need_transport
        self._hook_abandon()
        self._lent = True

    def finish_detached(self, exc: Optional[BaseException] = None) -> None:
        """Loop thread: an ``adopt_lent`` connection that never got a transport has ended
        (closed in its caller's thread, or ``exc``: no transport could be made, which
        loses the connection); settle the futures and the rest as ``connection_lost``."""
        self._settle_adopted()
        self.ensure_transport = None
        if exc is not None and self._direct_sock is not None:
            self._direct_sock.close()
        self.connection_lost(exc)

    def _settle_adopted(self) -> bool:
        """Loop thread: the handshake future of an ``adopt_lent`` connection; False if none."""
        adopted, self._adopted = self._adopted, None
        if adopted is None or self.handshake.done():
            return False
        self.handshake.set_result(adopted)
        return True

    def _new_conn(self, result: HandshakeResult) -> ClientConnection:
        return ClientConnection(max_msg_size=self._max_msg_size, deflate=result.deflate)

    def _need_transport(self) -> None:
        if self.transport is None and self.ensure_transport is not None:
            self.ensure_transport()

    def _hook_abandon(self) -> None:
        assert self.conn is not None
        if self.conn.writer.deflater is not None and self.writer is not None:
            self.writer.on_abandon = self.conn.writer.deflater.reset

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
            self._abort_later(self.close_timeout)

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
        self._need_transport()
        if delay is not None and self._timer is None and self.transport is not None and not self.lost.done():
            self._timer = self.loop.call_later(delay, self.abort)

    def abort(self) -> None:
        self._need_transport()
        if self.transport is not None:
            self.transport.abort()

    # -- closing handshake we start --------------------------------------------
    async def close(self, code: int = WSCloseCode.OK, reason: bytes = b"") -> bool:
        """Run our closing handshake; ends when TCP is closed.

        True if this call started the close, False if it joined one already
        started or found the connection closed. Cancelling it leaves the
        closing handshake running.
        """
        check_close(code, reason)
        closing = self._closing
        if closing is not None:
            await closing.wait()
            return False
        self._closing = closing = CloseWait(self)
        if self.take_back_reading is not None:
            self.take_back_reading()  # the server's close frame must be read by someone
        if self._fail_close_pending:
            self._send_fail_close()  # already failing: its code, not ours, goes out now
        if not self.begin_close(code, reason):
            closing.finish()
            return False
        timeout = self.close_timeout
        closing.start(None if timeout is None else self.loop.time() + timeout, self._close_frame_seen)
        await closing.wait()
        return True

    def begin_close(self, code: int, reason: bytes) -> bool:
        """Mark the connection closing and send our close frame (any thread).

        False, with nothing sent, when the transport is gone (or given up on) or
        a close frame already went out.
        """
        conn = self.conn
        self.closed = True
        self.sink.close(discard=True)
        if self.lost.done() or conn is None or conn.close_sent is not None or conn.eof:
            return False
        self._send_quietly(conn.send_close, code, reason)
        return True

    def _input_ended(self) -> None:
        self._close_frame_seen = True
        if self._closing is not None:
            self._closing.frame_seen()

    def close_timed_out(self) -> None:
        self.close_code = WSCloseCode.ABNORMAL_CLOSURE
        self.exception = CloseTimeout(f"no close frame from the server within {self.close_timeout} s")

    def finish_close_later(self, deadline: Optional[float]) -> None:
        """Loop thread: a close begun elsewhere (our frame is out) ends on the loop;
        later close() calls join it. ``deadline`` is on the loop's clock."""
        self.reclaim_reading()
        if self._closing is None:
            self._closing = CloseWait(self)
            self._closing.start(deadline, self._close_frame_seen)

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
            self._send_quietly(conn.send_ping, b"")
            self._pong_timer = self.loop.call_later(heartbeat / 2, self._pong_missing)
            if self.take_back_reading is not None:
                self.take_back_reading()  # someone must read the pong, even if nobody receives
        self._heartbeat_timer = self.loop.call_later(heartbeat, self._heartbeat_tick)

    def _cancel_pong_timer(self) -> None:
        if self._pong_timer is not None:
            self._pong_timer.cancel()
            self._pong_timer = None

    def _pong_missing(self) -> None:
        self._pong_timer = None
        if self.exception is None:
            wait = (self.heartbeat or 0) / 2
            err = ServerTimeoutError(f"no pong within {wait} s of a heartbeat ping")
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
