"""``SyncWebSocket``: blocking calls over a connection that lives on the loop thread.

Sends frame and mask in the caller's thread and usually write straight to
the socket (sync/writer.py); receives wait on a queue the loop thread fills
and signals once per read. Only closing crosses threads with a future.
"""

from __future__ import annotations

import concurrent.futures
import json
import sys
import time
import warnings
from functools import partial
from typing import Any, Iterable, Iterator, List, Optional, Union

from ..aio.connection import WebSocketProtocol
from ..aio.errors import PongTimeout, SendTimeout
from ..aio.response import (
    ConnectionView,
    JSONEncoder,
    check_bytes,
    check_str,
    check_timeout,
    control_payload,
)
from ..aio.stream import PieceReceiver
from ..protocol.close_codes import WSCloseCode, check_close
from ..protocol.errors import ConnectionClosed, ProtocolError
from ..protocol.fragments import (
    FRAGMENT_CUT_SHORT,
    PIECE,
    check_all,
    check_fragments,
    first_fragment,
    next_fragment,
)
from ..protocol.handshake import HandshakeResult
from ..protocol.messages import JSONDecoder, WSMessage, WSMsgType, expect
from ..protocol.writer import Payload
from . import loop_thread
from .blocking import wait_future
from .handoff import Handoff
from .loop_thread import LoopStopped, LoopThread
from .message_queue import ThreadMessageQueue
from .stream import MessageStream
from .writer import PACK_APART, ThreadWriter

__all__ = ["SyncWebSocket"]

_NOTHING = object()
_TEXT = int(WSMsgType.TEXT)
_BINARY = int(WSMsgType.BINARY)
_END = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


class SyncWebSocket(ConnectionView, PieceReceiver):
    """A blocking WebSocket. Any number of threads may send at once (frames
    never interleave); one thread at a time may receive."""

    def __init__(
        self,
        runner: LoopThread,
        protocol: WebSocketProtocol,
        queue: ThreadMessageQueue,
        handshake: HandshakeResult,
        *,
        receive_timeout: Optional[float] = None,
        send_timeout: Optional[float] = None,
    ) -> None:
        writer = protocol.writer
        assert isinstance(writer, ThreadWriter) and protocol.conn is not None
        self._runner = runner
        self._proto = protocol
        self._queue = queue
        self._handshake = handshake
        self._receive_timeout = receive_timeout
        self._send_timeout = send_timeout
        self._writer = writer
        self._conn = protocol.conn
        # Messages this long are compressed outside the writer's lock (sync/writer.py);
        # without permessage-deflate nothing is compressed, and every send takes one step.
        self._pack_apart = PACK_APART if protocol.conn.writer.deflater is not None else sys.maxsize
        self._generation = loop_thread.fork_generation
        self._init_pieces()

    def _check_process(self) -> None:
        if self._generation != loop_thread.fork_generation:
            raise RuntimeError(
                "this connection belongs to the process that opened it; after fork() open a new one"
            )

    # -- sending -----------------------------------------------------------------
    def _after_send(self) -> None:
        writer = self._writer
        if writer.buffered > writer.high_water:
            self._runner.check_caller("send")
            if not writer.wait_sync(self._send_timeout):
                self._send_timed_out()

    def _send_timed_out(self) -> None:
        err = SendTimeout(
            f"the peer read nothing for {self._send_timeout} s with {self._writer.buffered} bytes "
            f"waiting (write_limit {self._writer.high_water}); the connection is failed"
        )
        self._runner.call_soon(self._proto.give_up, err)
        raise err

    @property
    def buffered_amount(self) -> int:
        """Bytes sent but not yet taken by the kernel: the peer's backpressure, as it stands.
        A send waits while this is over ``write_limit``, for at most ``send_timeout``."""
        return self._writer.buffered

    def send_str(self, data: str) -> None:
        self._check_process()
        text = check_str(data)
        if len(text) < self._pack_apart:
            self._writer.send_data(self._conn.send_text, text)
        else:
            self._send_packing(_TEXT, text.encode("utf-8"))
        self._after_send()

    def send_bytes(self, data: Payload) -> None:
        self._check_process()
        payload = check_bytes(data)
        if len(payload) < self._pack_apart:
            self._writer.send_data(self._conn.send_binary, payload)
        else:
            self._send_packing(_BINARY, payload)
        self._after_send()

    def _send_packing(self, opcode: int, payload: Payload) -> None:
        """A big message, compressed outside the lock the loop thread takes (sync/writer.py)."""
        conn = self._conn
        self._writer.send_packing(conn.writer.pack, conn.send_packed, opcode, payload)

    def send_fragments(self, fragments: Iterable[Union[str, Payload]]) -> None:
        """Send one message in fragments, each as one frame as soon as ``fragments`` yields it:
        all str make a text message, all bytes (or other buffers) a binary one. A list or
        tuple marks its last fragment FIN; another iterable is ended by an empty frame. An
        empty iterable sends nothing. The message holds the connection's turn until its
        last frame: other threads' messages wait (pings and pongs do not).

        A mixed or wrong type raises TypeError; for a list or tuple before anything is
        sent. If the iterable raises (or yields a wrong type) part-way, half a message is
        on the wire: the connection is closed with 1011 and the exception re-raised.
        """
        self._check_process()
        fragments = check_fragments(fragments)
        if not hasattr(fragments, "__iter__"):
            raise TypeError("an async iterable needs the asyncio API (syncws.ws_connect)")
        it = iter(fragments)
        first = next(it, _NOTHING)
        if first is _NOTHING:
            return
        opcode, payload = first_fragment(first)
        count = check_all(opcode, fragments)
        writer = self._writer
        writer.take_turn()
        try:
            sent = 1
            self._send_fragment(opcode, payload, count == 1)
            for fragment in it:
                sent += 1
                self._send_fragment(opcode, next_fragment(opcode, fragment), sent == count)
            if count is None:
                self._send_fragment(opcode, b"", True)
        except BaseException as exc:
            writer.end_turn(complete=False)
            if not isinstance(exc, ConnectionClosed):
                self._runner.call_soon(self._proto.close_soon, WSCloseCode.INTERNAL_ERROR, FRAGMENT_CUT_SHORT)
            raise
        writer.end_turn(complete=True)

    def _send_fragment(self, opcode: int, payload: Payload, fin: bool) -> None:
        """One frame of ``send_fragments``, whose turn this thread holds. A big fragment is
        compressed before the writer lock is taken, as ``send_packing`` does for a whole
        message: the turn keeps every other data message off the compressor meanwhile."""
        conn = self._conn
        if len(payload) < self._pack_apart:
            self._writer.send(conn.send_fragment, opcode, payload, fin)
        else:
            packed, first, compressed = conn.writer.pack_fragment(payload, fin=fin)
            self._writer.send(conn.send_packed_fragment, opcode, packed, first, compressed, fin)
        self._after_send()

    def send_json(self, data: Any, *, dumps: JSONEncoder = json.dumps) -> None:
        self.send_str(dumps(data))

    def ping(self, message: Union[bytes, str] = b"") -> "PongWaiter":
        """Send a ping (4 random bytes when ``message`` is empty, so the pong is ours);
        ``ws.ping().wait(timeout)`` blocks for its pong and returns the round trip."""
        self._check_process()
        proto = self._proto
        waiter: "List[concurrent.futures.Future[float]]" = []
        self._writer.send(proto.ping_frame, proto.pings.payload(control_payload(message)), waiter)
        self._after_send()
        return PongWaiter(waiter[0])

    @property
    def latency(self) -> Optional[float]:
        """The last ping's round trip in seconds (heartbeat pings included); None before one."""
        return self._proto.pings.latency

    def pong(self, message: Union[bytes, str] = b"") -> None:
        self._check_process()
        self._writer.send(self._conn.send_pong, control_payload(message))
        self._after_send()

    # -- receiving ---------------------------------------------------------------
    def receive(self, timeout: Optional[float] = None) -> WSMessage:
        """The next message; raises ReceiveTimeout (the connection stays usable)."""
        self._check_process()
        self._runner.check_caller("receive()")
        check_timeout(timeout)
        if timeout is None:
            timeout = self._receive_timeout
        if self._stream is not None:
            self._leave_stream()
        msg = self._queue.get(timeout)
        if msg.type is PIECE:
            return self._gather(msg, timeout)
        return msg

    def _gather(self, msg: WSMessage, timeout: Optional[float]) -> WSMessage:
        """A message the loop hands out in pieces, whole (``timeout`` for all of it). What is
        gathered when the time runs out is kept for the next receive."""
        deadline = None if timeout is None else time.monotonic() + timeout
        gathered = self._gathered
        while True:
            got = gathered.receive(msg)
            if isinstance(got, ProtocolError):
                return self._refuse(got)
            if msg.extra.held:
                self._read_on()
            if got is not None:
                return got
            msg = self._queue.get(None if deadline is None else max(deadline - time.monotonic(), 0.0))
            if msg.type is not PIECE:
                return msg

    def _refuse(self, err: ProtocolError) -> WSMessage:
        """A message over max_msg_size met by receive(): it and all after it are dropped and
        the connection fails with 1009, as when no stream is possible."""
        self._queue.discard()
        try:
            self._runner.run(partial(_call, self._proto.refuse, err), what="receive()")
        except LoopStopped:
            pass
        return WSMessage(WSMsgType.ERROR, err, None)

    def receive_stream(self, timeout: Optional[float] = None) -> MessageStream:
        """The next data message, to read piece by piece as it arrives, in bounded memory
        whatever its size: ``stream.type`` is TEXT or BINARY, and iterating the stream
        yields str or bytes pieces. Waits (``timeout``, ReceiveTimeout) for the message to
        begin; raises ConnectionClosed if the connection ends first. Pieces are not frames:
        they are what arrived, as it arrived (docs/threading.md, "Streamed messages").
        """
        self._check_process()
        self._runner.check_caller("receive_stream()")
        check_timeout(timeout)
        if timeout is None:
            timeout = self._receive_timeout
        if self._stream is not None:
            self._leave_stream()
        first = self._gathered_so_far()
        if first is None:
            if not len(self._queue):
                self._runner.call_soon(self._proto.stream)
            first = self._stream_item(timeout)
            self._stream_start(first)
        stream = MessageStream(self, first, timeout)
        self._opened(stream)
        return stream

    def _stream_item(self, timeout: Optional[float]) -> WSMessage:
        """The next item for a stream, past the rest of a stream left unfinished."""
        while True:
            msg = self._queue.get(timeout)
            if not self._skipped(msg):
                return msg

    def _read_on(self) -> None:
        self._runner.call_soon(self._proto.read_on)

    def receive_str(self, *, timeout: Optional[float] = None) -> str:
        """The next message, which must be text. At the end of the connection raises
        ConnectionClosedOK (a normal close) or ConnectionClosedError, each with
        ``code`` and ``reason``; another data type raises WSMessageTypeError, whose
        ``msg`` is the message."""
        return str(self._expect(self.receive(timeout), WSMsgType.TEXT))

    def receive_bytes(self, *, timeout: Optional[float] = None) -> bytes:
        """As ``receive_str``, for a binary message."""
        return bytes(self._expect(self.receive(timeout), WSMsgType.BINARY))

    def _expect(self, msg: WSMessage, kind: WSMsgType) -> Any:
        if msg.type in _END or msg.type is WSMsgType.ERROR:
            raise self._ended()
        return expect(msg, kind)

    def receive_json(self, *, loads: JSONDecoder = json.loads, timeout: Optional[float] = None) -> Any:
        return loads(self.receive_str(timeout=timeout))

    def __iter__(self) -> Iterator[WSMessage]:
        return self

    def __next__(self) -> WSMessage:
        msg = self.receive()
        if msg.type in _END:
            raise StopIteration
        return msg

    # -- closing -----------------------------------------------------------------
    def close(self, code: int = WSCloseCode.OK, message: Union[bytes, str] = b"") -> bool:
        """Run the closing handshake (bounded by close_timeout), from any thread.

        Every call, however many run at once, returns once the connection is
        closed or given up on; True for the one call that started the close.
        """
        self._check_process()
        reason = control_payload(message)
        check_close(code, reason)
        self._runner.check_caller("close()")
        self._writer.wait_packed()  # a big message already compressing goes out first
        try:
            return bool(self._runner.run_callback(_close_on_loop, self._proto, code, reason, what="close()"))
        except LoopStopped:  # interpreter exit closed it meanwhile
            return False

    def __enter__(self) -> "SyncWebSocket":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        proto = getattr(self, "_proto", None)
        if proto is None or proto.lost.done() or proto.closed:
            return
        if getattr(self, "_generation", None) != loop_thread.fork_generation:
            return  # inherited through fork(): the parent owns it
        warnings.warn(f"unclosed {self!r}; closing it", ResourceWarning, source=self, stacklevel=2)
        self._runner.call_soon(proto.close_soon)

    def __repr__(self) -> str:
        state = "closed" if self._proto.closed else "open"
        return f"<SyncWebSocket {state} protocol={self.protocol!r}>"


async def _call(function: Any, *args: Any) -> None:
    function(*args)


def _close_on_loop(done: "Handoff[bool]", proto: WebSocketProtocol, code: int, reason: bytes) -> None:
    """Loop thread: start or join the closing handshake; ``done`` gets its outcome as it ends,
    from the same callback that ends it (connection_lost, a timer), with no task between."""
    try:
        started, closing = proto.start_closing(code, reason)
    except Exception as exc:  # the caller gets it, rather than waiting forever
        done.set_exception(exc)
        return
    closing.when_done(lambda: done.set_result(started))


class PongWaiter:
    """The pong of one ``SyncWebSocket.ping()``."""

    __slots__ = ("_future",)

    def __init__(self, future: "concurrent.futures.Future[float]") -> None:
        self._future = future

    def wait(self, timeout: Optional[float] = None) -> float:
        """The round trip in seconds, once the pong came. Raises PongTimeout after
        ``timeout`` (the connection stays open), ConnectionClosed if it ends first."""
        check_timeout(timeout)
        if not wait_future(self._future, timeout):
            raise PongTimeout(f"no pong within {timeout} s")
        return self._future.result(0)

    def done(self) -> bool:
        return self._future.done()
