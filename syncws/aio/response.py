"""``ClientWebSocketResponse``: aiohttp's client WebSocket API over our connection."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
from typing import Any, AsyncIterable, AsyncIterator, Callable, Iterable, List, Optional, Tuple, Union, cast

from ..protocol.close_codes import WSCloseCode, check_close
from ..protocol.deflate import DeflateParams
from ..protocol.errors import ConnectionClosed, ConnectionClosedOK, ProtocolError
from ..protocol.fragments import (
    FRAGMENT_CUT_SHORT,
    PIECE,
    check_all,
    check_fragments,
    first_fragment,
    next_fragment,
)
from ..protocol.handshake import HandshakeResult, request_headers
from ..protocol.headers import Headers
from ..protocol.messages import JSONDecoder, WSMessage, WSMsgType
from ..protocol.writer import Payload
from .connection import WebSocketProtocol
from .errors import ConnectionClosedError, WSMessageTypeError
from .message_queue import CLOSED_MESSAGE, AsyncMessageQueue
from .offload import OFFLOAD_SEND
from .stream import AsyncMessageStream, PieceReceiver
from .turn import MessageTurn
from .writer import FrameWriter, Sent

__all__ = ["ClientWebSocketResponse", "ConnectionView", "WSMessageTypeError", "JSONEncoder", "check_str", "check_bytes"]

JSONEncoder = Callable[[Any], str]
_END = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)
_DATA = WSMsgType.BINARY  # TEXT and BINARY are the only types <= this (and CONTINUATION: pieces)
_NORMAL = (WSCloseCode.OK, WSCloseCode.GOING_AWAY, WSCloseCode.NO_STATUS_RECEIVED)
_NOTHING = object()
_TEXT = 1
_BINARY = 2
PACK_FAILED = b"could not compress a message"
Fragments = Union[Iterable[Union[str, Payload]], AsyncIterable[Union[str, Payload]]]


def check_str(data: object) -> str:
    if not isinstance(data, str):
        raise TypeError(f"data argument must be str ({type(data).__name__!r})")
    return data


def check_bytes(data: object) -> Payload:
    """Bytes, or any object with the buffer protocol (array.array, numpy arrays): its bytes are sent."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    if not isinstance(data, str):
        try:
            return memoryview(data)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise TypeError(f"data argument must be bytes or a buffer, e.g. bytearray or memoryview ({type(data).__name__!r})")


def check_timeout(timeout: Optional[float]) -> Optional[float]:
    """A receive timeout: None (the connection's default) or seconds >= 0, as connect() takes them."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0
    ):
        raise ValueError(f"timeout must be a number of seconds >= 0 or None, not {timeout!r}")
    return timeout


def control_payload(message: Union[bytes, str]) -> bytes:
    if isinstance(message, str):
        return message.encode("utf-8")
    if isinstance(message, (bytes, bytearray, memoryview)):
        return bytes(message)
    raise TypeError(f"message must be bytes or str, not {type(message).__name__}")


class ConnectionView:
    """What both faces show of a connection's state; reads only, safe from any thread."""

    _proto: WebSocketProtocol
    _handshake: HandshakeResult

    @property
    def closed(self) -> bool:
        return self._proto.closed

    @property
    def close_code(self) -> Optional[int]:
        return self._proto.close_code

    @property
    def close_reason(self) -> Optional[str]:
        """The reason in the server's close frame, once one came ("" if it gave none)."""
        return self._proto.close_reason

    @property
    def protocol(self) -> Optional[str]:
        """The subprotocol the server chose, if any."""
        return self._handshake.protocol

    @property
    def compress(self) -> int:
        """Window bits of our compressor (aiohttp's meaning); 0 without permessage-deflate."""
        params = self._handshake.deflate
        return params.client_max_window_bits if params else 0

    @property
    def client_notakeover(self) -> bool:
        params = self._handshake.deflate
        return bool(params and params.client_no_context_takeover)

    @property
    def deflate(self) -> Optional[DeflateParams]:
        """All negotiated permessage-deflate parameters, or None."""
        return self._handshake.deflate

    @property
    def response_headers(self) -> Headers:
        """The headers of the server's 101 answer."""
        return self._handshake.headers

    @property
    def request_headers(self) -> Headers:
        """The headers of our opening handshake request, as sent (credentials included:
        this is the application's own data; syncws's traces and errors redact them)."""
        return request_headers(self._proto.request)

    @property
    def local_address(self) -> Any:
        """Our end of the connection: (host, port) for TCP, a path for a Unix socket."""
        return self._address("sockname")

    @property
    def remote_address(self) -> Any:
        """The server's end (or the proxy's, through a tunnel): (host, port), or a path."""
        return self._address("peername")

    def _address(self, name: str) -> Any:
        transport = self._proto.transport
        return transport.get_extra_info(name) if transport is not None else None

    @property
    def url(self) -> str:
        """The URL connected to, after any redirects (never with credentials)."""
        return self._proto.url

    def exception(self) -> Optional[BaseException]:
        return self._proto.exception

    def _ended(self) -> ConnectionClosed:
        """The end, as `websockets` and websocket-client report it to blocking callers
        (and as a stream reports it, on both faces)."""
        code, reason = self.close_code, self.close_reason or ""
        cause = self._proto.exception
        what = f"the connection to {self.url}"
        if cause is None and code in _NORMAL:
            return ConnectionClosedOK(f"{what} closed (code {code}, reason {reason!r})", code, reason)
        why = f": {cause}" if cause is not None else ""
        err = ConnectionClosedError(f"{what} ended (code {code}, reason {reason!r}){why}", code, reason)
        err.__cause__ = cause
        return err


class ClientWebSocketResponse(ConnectionView, PieceReceiver):
    """One open WebSocket, used from the event loop that opened it, with aiohttp's
    semantics (docs/migration.md lists where and why syncws differs).

    ``send_*``, ``ping`` and ``pong`` write the frame when called and return a
    coroutine (``writer.Sent``) that waits for flow control: ``await``, tasks,
    ``gather`` and ``wait_for`` work as with aiohttp 3, and un-awaited calls in
    old aiohttp style still send. Only one task may ``receive()`` at a time.
    """

    def __init__(
        self,
        protocol: WebSocketProtocol,
        queue: AsyncMessageQueue,
        handshake: HandshakeResult,
        *,
        receive_timeout: Optional[float] = None,
    ) -> None:
        self._proto = protocol
        self._queue = queue
        self._handshake = handshake
        self._receive_timeout = receive_timeout
        assert protocol.writer is not None and protocol.conn is not None
        self._writer = cast(FrameWriter, protocol.writer)  # what the async API's protocols make
        self._conn = protocol.conn
        self._closed = False  # aiohttp's meaning: close() has run, or the connection is gone
        self._closing = False  # the server's close frame was returned (autoclose off), or close() began
        self._close_code: Optional[int] = None  # as the application has seen it (aiohttp's timing)
        self._exception: Optional[BaseException] = None  # likewise
        self._turn = MessageTurn(protocol.loop)  # a fragmented message's hold on data frames
        # Set while a big message is compressed in a worker (aio/offload.py), until it is written.
        self._packing: "Optional[asyncio.Future[None]]" = None
        self._close_waits = False  # close() waits for that message before its close frame
        self._init_pieces()

    @property
    def closed(self) -> bool:
        """True once ``close()`` has run (also implicitly, by autoclose) or the connection was
        lost; a close frame from the server alone, with ``autoclose=False``, does not set it."""
        return self._closed

    @property
    def close_code(self) -> Optional[int]:
        """Known once ``receive()`` has returned the end (CLOSE, ERROR, CLOSED) or ``close()``
        has run, as with aiohttp; a close frame still queued behind messages does not set it."""
        return self._close_code

    def exception(self) -> Optional[BaseException]:
        """What broke the connection, as aiohttp reports it: a dropped connection, a missing
        heartbeat pong, a close that timed out; known once ``receive()`` has returned the
        end or ``close()`` has run, like ``close_code``. None for a protocol violation: the
        ERROR message carries that one."""
        return self._exception

    @property
    def buffered_amount(self) -> int:
        """Bytes sent but not yet taken by the kernel; sends wait above ``write_limit``."""
        return self._writer.buffered

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        transport = self._proto.transport
        return transport.get_extra_info(name, default) if transport is not None else default

    # -- sending -----------------------------------------------------------------
    def send_str(self, data: str, compress: Optional[int] = None) -> Sent[None]:
        text = check_str(data)
        if len(text) >= OFFLOAD_SEND and self._deflating(compress):
            return self._send_big(_TEXT, text.encode("utf-8"))
        if self._turn.busy:
            return self._send_later(self._conn.send_text, text, _compress(compress))
        self._writer.send(self._conn.send_text, text, _compress(compress))
        return Sent(self._writer)

    def send_bytes(self, data: Payload, compress: Optional[int] = None) -> Sent[None]:
        payload = check_bytes(data)
        if len(payload) >= OFFLOAD_SEND and self._deflating(compress):
            # A copy of a mutable buffer: the caller may reuse it once this returns, as after any send.
            return self._send_big(_BINARY, payload if type(payload) is bytes else bytes(payload))
        if self._turn.busy:
            return self._send_later(self._conn.send_binary, payload, _compress(compress))
        self._writer.send(self._conn.send_binary, payload, _compress(compress))
        return Sent(self._writer)

    def _send_later(self, encode: Callable[..., bytes], *args: Any) -> Sent[None]:
        """Another task's fragmented message (or a big one being compressed) is going out:
        this one follows it, in line."""
        self._check_not_closing()
        return Sent(self._writer, after=self._turn.later(functools.partial(self._writer.send, encode, *args)))

    def _deflating(self, compress: Optional[int]) -> bool:
        deflater = self._conn.writer.deflater
        return _compress(compress) and deflater is not None and deflater.enabled

    def _send_big(self, opcode: int, payload: Payload) -> Sent[None]:
        """A message that would hold up the loop for milliseconds of zlib: compressed in the
        loop's default executor (aio/offload.py), written from the loop afterwards. It holds
        the data turn from this call on, so later sends wait behind it in call order."""
        self._check_not_closing()
        if not self._turn.busy:
            self._check_open()  # as a send now would: at once, not only when awaited
        return Sent(self._writer, after=self._turn.hold(functools.partial(self._pack_away, opcode, payload)))

    def _pack_away(self, opcode: int, payload: Payload, fut: "asyncio.Future[None]") -> bool:
        """The turn is ours: start compressing in a worker; False if the connection is closed."""
        try:
            self._check_open()
        except ConnectionClosed as exc:
            fut.set_exception(exc)
            return False
        loop = self._proto.loop
        pack = self._conn.writer.pack
        try:
            work = loop.run_in_executor(None, pack, payload)
        except RuntimeError:  # the loop's executor is shut down (the loop is ending): pack here
            work = loop.create_future()
            try:
                work.set_result(pack(payload))
            except Exception as exc:
                work.set_exception(exc)
        self._packing = done = loop.create_future()
        work.add_done_callback(functools.partial(self._packed, opcode, fut, done))
        return True

    def _packed(
        self,
        opcode: int,
        fut: "asyncio.Future[None]",
        done: "asyncio.Future[None]",
        work: "asyncio.Future[Tuple[Payload, bool]]",
    ) -> None:
        """Loop thread: write the compressed message, whether or not anyone awaits ``fut``
        (cancelling that wait does not unsend it), then hand the turn on."""
        self._packing = None
        deflater = self._conn.writer.deflater
        assert deflater is not None
        error = ConnectionClosed("cannot send: compression was cancelled") if work.cancelled() else work.exception()
        if error is not None:
            # The compressor may hold part of it: the peer's context can no longer follow ours.
            deflater.reset()
            self._turn.release(complete=False)
            self._proto.close_soon(WSCloseCode.INTERNAL_ERROR, PACK_FAILED)
            _settle(fut, error)
            done.set_result(None)  # after close_soon: a close() waiting on this joins that close
            return
        payload, rsv1 = work.result()
        try:
            self._writer.send(self._conn.send_packed, opcode, payload, rsv1)
        except Exception as exc:  # closed while compressing: packed, not sent
            deflater.reset()
            _settle(fut, exc)
        else:
            _settle(fut, None)
        self._turn.release(complete=True)
        done.set_result(None)

    def _check_open(self) -> None:
        """Raise what ``writer.send`` would on a closed connection."""
        writer = self._writer
        if writer.error is not None:
            raise writer._closed_error()
        self._conn._check_open()

    def _check_not_closing(self) -> None:
        if self._close_waits:
            raise ConnectionClosed("cannot send: the connection is closing", self._conn.close_code)

    async def send_fragments(self, fragments: Fragments, compress: Optional[int] = None) -> None:
        """Send one message in fragments, each as one frame as soon as ``fragments`` (an
        iterable or an async iterable) yields it: all str make a text message, all bytes
        (or other buffers) a binary one. A list or tuple marks its last fragment FIN;
        another iterable is ended by an empty frame. An empty iterable sends nothing.
        Each frame waits for flow control as ``await send_bytes()`` does. The message
        holds the connection's turn until its last frame: other tasks' messages wait
        in line and go out after it, in order (pings and pongs do not wait).

        A mixed or wrong type raises TypeError; for a list or tuple before anything is
        sent. If the iterable raises (or yields a wrong type), or this task is cancelled,
        part-way, half a message is on the wire: the connection is closed with 1011 and
        the exception re-raised.
        """
        fragments = check_fragments(fragments)
        compressed = _compress(compress)
        count: Optional[int] = None
        if hasattr(fragments, "__aiter__"):
            source = cast(AsyncIterable[Union[str, Payload]], fragments).__aiter__()
        else:
            source = _each(fragments)
        try:
            first = await source.__anext__()
        except StopAsyncIteration:
            return
        opcode, payload = first_fragment(first)
        if not hasattr(fragments, "__aiter__"):
            count = check_all(opcode, fragments)
        await self._turn.take()
        try:
            sent = 1
            await self._send_fragment(opcode, payload, count == 1, compressed)
            async for fragment in source:
                sent += 1
                await self._send_fragment(opcode, next_fragment(opcode, fragment), sent == count, compressed)
            if count is None:
                self._writer.send(self._conn.send_fragment, opcode, b"", True, compressed)
        except BaseException as exc:
            self._turn.release(complete=False)
            if not isinstance(exc, ConnectionClosed):
                self._proto.close_soon(WSCloseCode.INTERNAL_ERROR, FRAGMENT_CUT_SHORT)
            raise
        self._turn.release(complete=True)

    async def _send_fragment(self, opcode: int, payload: Payload, fin: bool, compressed: bool) -> None:
        """One frame of ``send_fragments``, whose turn this task holds. A fragment of
        OFFLOAD_SEND or more to compress is compressed in the loop's default executor, as a
        whole message is (aio/offload.py); the turn keeps every other data message off the
        compressor meanwhile."""
        conn = self._conn
        deflater = conn.writer.deflater
        if compressed and deflater is not None and deflater.enabled and len(payload) >= OFFLOAD_SEND:
            if type(payload) is not bytes:
                payload = bytes(payload)  # the caller may change its buffer while a worker reads it
            pack = functools.partial(conn.writer.pack_fragment, payload, fin=fin)
            try:
                work = self._proto.loop.run_in_executor(None, pack)
            except RuntimeError:  # the loop's executor is shut down (the loop is ending): pack here
                packed = pack()
            else:
                packed = await work
            self._writer.send(conn.send_packed_fragment, opcode, *packed, fin)
        else:
            self._writer.send(conn.send_fragment, opcode, payload, fin, compressed)
        await Sent(self._writer)

    def send_json(self, data: Any, compress: Optional[int] = None, *, dumps: JSONEncoder = json.dumps) -> Sent[None]:
        return self.send_str(dumps(data), compress)

    def ping(self, message: Union[bytes, str] = b"") -> "Sent[asyncio.Future[float]]":
        """Send a ping (4 random bytes when ``message`` is empty, so the pong is ours).
        ``await ws.ping()`` returns once written, as aiohttp's; its value is a future of
        the pong's round trip in seconds: ``latency = await (await ws.ping())``."""
        proto = self._proto
        waiter: "List[concurrent.futures.Future[float]]" = []
        self._writer.send(proto.ping_frame, proto.pings.payload(control_payload(message)), waiter)
        return Sent(self._writer, asyncio.wrap_future(waiter[0], loop=proto.loop))

    @property
    def latency(self) -> Optional[float]:
        """The last ping's round trip in seconds (heartbeat pings included); None before one."""
        return self._proto.pings.latency

    def pong(self, message: Union[bytes, str] = b"") -> Sent[None]:
        self._writer.send(self._conn.send_pong, control_payload(message))
        return Sent(self._writer)

    # -- closing -----------------------------------------------------------------
    async def close(self, *, code: int = WSCloseCode.OK, message: Union[bytes, str] = b"") -> bool:
        """Run the closing handshake; False if the connection was already closed.

        Returns once TCP is closed or given up on (``close_timeout``). A task
        waiting in ``receive()`` meanwhile gets CLOSING, as with aiohttp.
        Cancelling this call stops only the waiting: the handshake runs on to its
        end, and a later ``close()`` waits for it.
        """
        reason = control_payload(message)
        check_close(code, reason)  # a refused code leaves the connection as it was
        already = self._closed
        self._closed = self._closing = True
        try:
            if self._packing is None:
                started = await self._proto.close(code, reason)
            else:  # shielded: cancelling this call leaves the close to run on, as below
                self._close_waits = True  # from now on, as if our close frame were out
                started = await asyncio.shield(self._close_after_packs(code, reason))
        finally:
            self._seen_end()
        return started and not already

    async def _close_after_packs(self, code: int, reason: bytes) -> bool:
        """A big message sent before ``close()`` is being compressed: our close frame must not
        overtake it (nor the sends in line behind it). A fragmented message is not waited
        for: its task may be the one closing."""
        try:
            while self._packing is not None:
                await self._packing
        finally:
            self._close_waits = False
        return await self._proto.close(code, reason)

    async def _finish(self) -> None:
        """An end the server started (or a failure): wait until TCP is closed, as
        aiohttp's implicit close() does, so nothing is left open when the loop ends."""
        self._closed = self._closing = True
        try:
            await self._proto.close()
        finally:
            self._seen_end()

    def _seen_end(self) -> None:
        """The application has met the end: close_code and exception() show it from now on."""
        proto = self._proto
        self._close_code = proto.close_code
        self._exception = None if isinstance(proto.exception, ProtocolError) else proto.exception

    # -- receiving ---------------------------------------------------------------
    async def receive(self, timeout: Optional[float] = None) -> WSMessage:
        check_timeout(timeout)
        if self._closed:
            return CLOSED_MESSAGE
        if self._closing:  # the close frame was returned with autoclose off: close now
            await self._finish()
            return CLOSED_MESSAGE
        if self._stream is not None:
            self._leave_stream()
        if timeout is None:
            timeout = self._receive_timeout
        msg = await self._queue.get(timeout)
        if msg.type is PIECE:
            msg = await self._gather(msg, timeout)
        if msg.type > _DATA:
            return await self._other(msg)
        return msg

    async def _other(self, msg: WSMessage) -> WSMessage:
        """What the loop queued besides data: the end (or a ping or pong) as the application meets it."""
        kind = msg.type
        if kind is not WSMsgType.PING and kind is not WSMsgType.PONG:
            self._seen_end()
        if kind is WSMsgType.CLOSE:
            self._closing = True
            if self._proto.autoclose:
                await self._finish()
        elif kind is WSMsgType.CLOSING:
            self._closing = True
        elif kind is WSMsgType.CLOSED:
            self._closed = True
        elif kind is WSMsgType.ERROR:
            if isinstance(msg.data, ConnectionClosedError):  # dropped without a close frame
                await self._finish()
                return CLOSED_MESSAGE
            await self._finish()  # a violation (our close frame is out) or a missing pong
        return msg

    async def _gather(self, msg: WSMessage, timeout: Optional[float]) -> WSMessage:
        """A message the loop hands out in pieces, whole (``timeout`` for all of it), or what
        came in between (not a piece). What is gathered when the time runs out is kept for
        the next receive."""
        loop = self._proto.loop
        deadline = None if timeout is None else loop.time() + timeout
        gathered = self._gathered
        while True:
            got = gathered.receive(msg)
            if isinstance(got, ProtocolError):  # over max_msg_size: it and all after it are dropped, 1009
                self._queue.discard()
                self._proto.refuse(got)
                return WSMessage(WSMsgType.ERROR, got, None)
            if msg.extra.held:
                self._read_on()
            if got is not None:
                return got
            msg = await self._queue.get(None if deadline is None else max(deadline - loop.time(), 0.0))
            if msg.type is not PIECE:
                return msg

    async def receive_stream(self, timeout: Optional[float] = None) -> AsyncMessageStream:
        """The next data message, to read piece by piece with ``async for`` as it arrives, in
        bounded memory whatever its size: ``stream.type`` is TEXT or BINARY, and the pieces
        are str or bytes. Waits (``timeout``, ReceiveTimeout) for the message to begin;
        raises ConnectionClosed if the connection ends first. Pieces are not frames: they
        are what arrived, as it arrived (docs/threading.md, "Streamed messages")."""
        check_timeout(timeout)
        if timeout is None:
            timeout = self._receive_timeout
        if self._stream is not None:
            self._leave_stream()
        if self._closing and not self._closed:
            await self._finish()
        if self._closed:
            raise self._ended()
        first = self._gathered_so_far()
        if first is None:
            if not len(self._queue):
                self._proto.stream()
            first = await self._stream_item(timeout)
            self._stream_start(first)
        stream = AsyncMessageStream(self, first, timeout)
        self._opened(stream)
        return stream

    async def _stream_item(self, timeout: Optional[float]) -> WSMessage:
        """The next item for a stream, past the rest of a stream left unfinished; the end
        as the application meets it."""
        while True:
            msg = await self._queue.get(timeout)
            if not self._skipped(msg):
                return await self._other(msg) if msg.type > _DATA else msg

    def _read_on(self) -> None:
        self._proto.read_on()

    async def receive_str(self, *, timeout: Optional[float] = None) -> str:
        return (await self.receive(timeout)).text

    async def receive_bytes(self, *, timeout: Optional[float] = None) -> bytes:
        return (await self.receive(timeout)).binary

    async def receive_json(self, *, loads: JSONDecoder = json.loads, timeout: Optional[float] = None) -> Any:
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> "ClientWebSocketResponse":
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in _END:
            raise StopAsyncIteration
        return msg

    async def __aenter__(self) -> "ClientWebSocketResponse":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<ClientWebSocketResponse {state} protocol={self.protocol!r}>"


def _settle(fut: "asyncio.Future[None]", error: Optional[BaseException]) -> None:
    if fut.done():  # its waiter was cancelled
        return
    if error is None:
        fut.set_result(None)
    else:
        fut.set_exception(error)


def _compress(compress: Optional[int]) -> bool:
    """aiohttp's per-message ``compress=``: None uses the connection's setting, 0 sends this
    message uncompressed. Other values (aiohttp: a window size for this message) are refused:
    a second compressor would desynchronise the peer's context (docs/migration.md)."""
    if compress is None:
        return True
    if compress == 0 and not isinstance(compress, bool):
        return False
    raise ValueError(
        f"compress= takes None (the connection's setting) or 0 (this message uncompressed), not {compress!r}"
    )


async def _each(fragments: Iterable[Union[str, Payload]]) -> AsyncIterator[Union[str, Payload]]:
    for fragment in fragments:
        yield fragment
