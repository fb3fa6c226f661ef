"""``SyncWebSocket``: blocking calls over a connection that lives on the loop thread.

Sends frame and mask in the caller's thread and usually write straight to
the socket (sync/writer.py); receives wait on a queue the loop thread fills
and signals once per read. Only closing crosses threads with a future.
"""

from __future__ import annotations

import concurrent.futures
import json
import warnings
from typing import Any, Iterator, List, Optional, Union

from ..aio.connection import WebSocketProtocol
from ..aio.errors import ConnectionClosedError, PongTimeout, SendTimeout
from ..aio.response import ConnectionView, JSONEncoder, check_bytes, check_str, check_timeout, control_payload
from ..protocol.close_codes import WSCloseCode, check_close
from ..protocol.errors import ConnectionClosed, ConnectionClosedOK
from ..protocol.handshake import HandshakeResult
from ..protocol.messages import JSONDecoder, WSMessage, WSMsgType, expect
from ..protocol.writer import Payload
from . import loop_thread
from .blocking import wait_future
from .loop_thread import LoopStopped, LoopThread
from .message_queue import ThreadMessageQueue
from .writer import ThreadWriter

__all__ = ["SyncWebSocket"]

_END = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)
_NORMAL = (WSCloseCode.OK, WSCloseCode.GOING_AWAY, WSCloseCode.NO_STATUS_RECEIVED)


class SyncWebSocket(ConnectionView):
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
        self._generation = loop_thread.fork_generation

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
        self._writer.send(self._conn.send_text, check_str(data))
        self._after_send()

    def send_bytes(self, data: Payload) -> None:
        self._check_process()
        self._writer.send(self._conn.send_binary, check_bytes(data))
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
        return self._queue.get(timeout)

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

    def _ended(self) -> ConnectionClosed:
        """The end, as `websockets` and websocket-client report it to blocking callers."""
        code, reason = self.close_code, self.close_reason or ""
        cause = self.exception()
        what = f"the connection to {self.url}"
        if cause is None and code in _NORMAL:
            return ConnectionClosedOK(f"{what} closed (code {code}, reason {reason!r})", code, reason)
        why = f": {cause}" if cause is not None else ""
        err = ConnectionClosedError(f"{what} ended (code {code}, reason {reason!r}){why}", code, reason)
        err.__cause__ = cause
        return err

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
        try:
            return self._runner.run(self._proto.close(code, reason), what="close()")
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
        self._runner.call_soon(close_soon, proto)

    def __repr__(self) -> str:
        state = "closed" if self._proto.closed else "open"
        return f"<SyncWebSocket {state} protocol={self.protocol!r}>"


def close_soon(proto: WebSocketProtocol) -> None:
    """Close with 1001 without waiting (loop thread): for connections nobody holds any more."""
    if not proto.lost.done():
        proto.loop.create_task(proto.close(WSCloseCode.GOING_AWAY))


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
