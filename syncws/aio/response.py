"""``ClientWebSocketResponse``: aiohttp's client WebSocket API over our connection."""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, Union, cast

from ..protocol.close_codes import WSCloseCode
from ..protocol.deflate import DeflateParams
from ..protocol.handshake import HandshakeResult
from ..protocol.headers import Headers
from ..protocol.messages import JSONDecoder, WSMessage, WSMsgType
from ..protocol.writer import Payload
from .connection import WebSocketProtocol
from .message_queue import AsyncMessageQueue
from .writer import DrainAwaitable, FrameWriter

__all__ = ["ClientWebSocketResponse", "ConnectionView", "WSMessageTypeError", "JSONEncoder", "check_str", "check_bytes"]

JSONEncoder = Callable[[Any], str]
_END = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


class WSMessageTypeError(TypeError):
    """receive_str/bytes/json got a message of another type."""


def check_str(data: object) -> str:
    if not isinstance(data, str):
        raise TypeError(f"data argument must be str ({type(data).__name__!r})")
    return data


def check_bytes(data: object) -> Payload:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data argument must be bytes, bytearray or memoryview ({type(data).__name__!r})")
    return data


def control_payload(message: Union[bytes, str]) -> bytes:
    if isinstance(message, str):
        return message.encode("utf-8")
    if isinstance(message, (bytes, bytearray, memoryview)):
        return bytes(message)
    raise TypeError(f"message must be bytes or str, not {type(message).__name__}")


def expect(msg: WSMessage, kind: WSMsgType) -> Any:
    if msg.type is not kind:
        raise WSMessageTypeError(f"received message {msg.type.name} is not {kind.name}: {msg.data!r}"[:200])
    return msg.data


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
    def url(self) -> str:
        """The URL connected to, after any redirects (never with credentials)."""
        return self._proto.url

    def exception(self) -> Optional[BaseException]:
        return self._proto.exception


class ClientWebSocketResponse(ConnectionView):
    """One open WebSocket, used from the event loop that opened it.

    ``send_*``, ``ping`` and ``pong`` write at once and return an awaitable
    that waits for flow control, so both ``ws.send_str(x)`` and
    ``await ws.send_str(x)`` work. Only one task may ``receive()`` at a time.
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

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        transport = self._proto.transport
        return transport.get_extra_info(name, default) if transport is not None else default

    # -- sending -----------------------------------------------------------------
    def send_str(self, data: str, compress: Optional[int] = None) -> DrainAwaitable:
        self._writer.send(self._conn.send_text, check_str(data))
        return DrainAwaitable(self._writer)

    def send_bytes(self, data: Payload, compress: Optional[int] = None) -> DrainAwaitable:
        self._writer.send(self._conn.send_binary, check_bytes(data))
        return DrainAwaitable(self._writer)

    def send_json(
        self, data: Any, compress: Optional[int] = None, *, dumps: JSONEncoder = json.dumps
    ) -> DrainAwaitable:
        return self.send_str(dumps(data), compress)

    def ping(self, message: Union[bytes, str] = b"") -> DrainAwaitable:
        self._writer.send(self._conn.send_ping, control_payload(message))
        return DrainAwaitable(self._writer)

    def pong(self, message: Union[bytes, str] = b"") -> DrainAwaitable:
        self._writer.send(self._conn.send_pong, control_payload(message))
        return DrainAwaitable(self._writer)

    # -- closing -----------------------------------------------------------------
    async def close(self, *, code: int = WSCloseCode.OK, message: Union[bytes, str] = b"") -> bool:
        """Run the closing handshake; False if the connection was already closed.

        Cancelling this call stops only the waiting: the handshake runs on to its
        end (bounded by ``close_timeout``), and a later ``close()`` waits for it.
        """
        return await self._proto.close(code, control_payload(message))

    # -- receiving ---------------------------------------------------------------
    async def receive(self, timeout: Optional[float] = None) -> WSMessage:
        return await self._queue.get(timeout if timeout is not None else self._receive_timeout)

    async def receive_str(self, *, timeout: Optional[float] = None) -> str:
        return expect(await self.receive(timeout), WSMsgType.TEXT)  # type: ignore[no-any-return]

    async def receive_bytes(self, *, timeout: Optional[float] = None) -> bytes:
        return expect(await self.receive(timeout), WSMsgType.BINARY)  # type: ignore[no-any-return]

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


