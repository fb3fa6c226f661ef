"""TLS over an asyncio transport, with ``ssl.SSLObject`` and memory BIOs: the server's TLS
inside the proxy's, for ``wss://`` through an ``https://`` proxy.

asyncio puts TLS on sockets only: ``loop.start_tls`` over a TLS transport works
from Python 3.11, not on 3.9 and 3.10. This layer does the same job on every
version and every loop (uvloop's too): it is the protocol of the proxy's
transport on one side and the transport of the WebSocket protocol on the
other. Encryption is synchronous, so it buffers nothing of its own: write
buffer size, limits and pause_writing are the proxy transport's.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Callable, List, Optional, Tuple, cast

__all__ = ["TLSLayer", "start_tls_layer"]

_READ_SIZE = 256 * 1024


async def start_tls_layer(
    outer: asyncio.Transport,
    protocol: asyncio.BaseProtocol,
    context: ssl.SSLContext,
    server_hostname: str,
) -> "TLSLayer":
    """TLS with ``server_hostname`` over ``outer``, then ``protocol.connection_made(layer)``.

    Raises ``ssl.SSLError`` (certificate, name, alert) or ``ConnectionError``
    (the tunnel closed) when the handshake fails. The caller owns ``outer``
    and aborts it on any failure, cancellation included.
    """
    layer = TLSLayer(outer, protocol, context, server_hostname)
    layer.start()
    await layer.handshake
    return layer


class TLSLayer(asyncio.Protocol, asyncio.Transport):
    """Both faces of one TLS session: an ``asyncio.Protocol`` to the transport below
    and an ``asyncio.Transport`` to the protocol above. Loop thread only."""

    def __init__(
        self,
        outer: asyncio.Transport,
        protocol: asyncio.BaseProtocol,
        context: ssl.SSLContext,
        server_hostname: str,
    ) -> None:
        asyncio.Transport.__init__(self)
        self._outer = outer
        self._protocol = protocol
        self._context = context
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self._loop = asyncio.get_running_loop()
        self.handshake: "asyncio.Future[None]" = self._loop.create_future()
        self._connected = False  # protocol.connection_made was called, connection_lost not yet
        self._closing = False
        self._eof = False  # the protocol was told of the end of input
        self._input_closed = False  # the transport below has no more to give
        self._reading = True
        self._write_paused = False
        self._error: Optional[Exception] = None
        outer.set_protocol(self)

    def start(self) -> None:
        self._shake()

    # -- the TLS session ---------------------------------------------------------
    def _shake(self) -> None:
        try:
            self._ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except ssl.SSLError as exc:
            self._fail(exc)
            return
        self._flush()
        if self.handshake.done():  # the opening gave up (timeout, cancel): the caller aborts
            return
        self._connected = True
        self._protocol.connection_made(self)
        if self._write_paused:
            self._protocol.pause_writing()
        self.handshake.set_result(None)
        self._read()  # application data that came with the handshake's last flight

    def _read(self) -> None:
        """Decrypt what has arrived and hand it up in one piece, unless reading is paused."""
        if not self._connected or not self._reading:
            return
        chunks: List[bytes] = []
        ended = False
        while True:
            try:
                chunk = self._ssl.read(_READ_SIZE)
            except ssl.SSLWantReadError:
                ended = self._input_closed  # a truncated stream ends here too
                break
            except ssl.SSLZeroReturnError:  # the server's close_notify
                ended = True
                break
            except ssl.SSLError as exc:
                self._fail(exc)
                return
            if not chunk:
                ended = True
                break
            chunks.append(chunk)
        self._flush()  # post-handshake messages may want an answer
        if chunks:
            self._deliver(b"".join(chunks))
        if ended:
            self._end_of_input()

    def _deliver(self, data: bytes) -> None:
        protocol = self._protocol
        if not isinstance(protocol, asyncio.BufferedProtocol):
            cast(asyncio.Protocol, protocol).data_received(data)
            return
        view = memoryview(data)
        while view and self._connected:
            buffer = memoryview(protocol.get_buffer(len(view)))
            size = min(len(buffer), len(view))
            buffer[:size] = view[:size]
            protocol.buffer_updated(size)
            view = view[size:]

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data and not self._outer.is_closing():
            self._outer.write(data)

    def _fail(self, exc: Exception) -> None:
        """A TLS error: it goes to whoever waits (the handshake, else the protocol), and the
        connection is cut. What OpenSSL wrote (an alert) goes out first."""
        if self._error is None:
            self._error = exc
        self._flush()
        if not self.handshake.done():
            self.handshake.set_exception(exc)
        self._closing = True
        self._outer.abort()

    def _end_of_input(self) -> None:
        if self._eof:
            return
        self._eof = True
        eof_received: Optional[Callable[[], Optional[bool]]] = getattr(self._protocol, "eof_received", None)
        if self._connected and eof_received is not None and eof_received():
            return
        self.close()

    # -- facing the transport below (asyncio.Protocol) ---------------------------
    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        self._incoming.write(data)
        if self._connected:
            self._read()
        elif not self.handshake.done():
            self._shake()

    def eof_received(self) -> Optional[bool]:
        self._input_closed = True
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionResetError("the tunnel closed during the TLS handshake"))
        else:
            self._read()
        return None  # the transport below closes itself

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self._connected and not self._closing and self._error is None:
            # The server's last records may wait in the BIO while reading is paused:
            # they are handed up before the end rather than lost.
            self._reading = True
            self._read()
        self._closing = True
        if not self._outer.is_closing():
            self._outer.close()  # 3.9 and 3.10's TLS transport stays "open" after the peer closed
        if not self.handshake.done():
            self.handshake.set_exception(
                exc if exc is not None else ConnectionResetError("the tunnel closed during the TLS handshake")
            )
        if self._connected:
            self._connected = False
            self._protocol.connection_lost(self._error or exc)

    def pause_writing(self) -> None:
        self._write_paused = True
        if self._connected:
            self._protocol.pause_writing()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._connected:
            self._protocol.resume_writing()

    # -- facing the protocol above (asyncio.Transport) ---------------------------
    def write(self, data: Any) -> None:
        if self._closing or not data:
            return
        try:
            self._ssl.write(data)
        except ssl.SSLError as exc:
            self._fail(exc)
            return
        self._flush()

    def can_write_eof(self) -> bool:
        return False  # TLS ends both directions at once (close_notify)

    def close(self) -> None:
        """close_notify to the server, then the tunnel's own TLS and TCP close."""
        if self._closing:
            return
        self._closing = True
        try:
            self._ssl.unwrap()
        except ssl.SSLError:
            pass  # SSLWantReadError: our close_notify is written; the server's is not awaited
        self._flush()
        self._outer.close()

    def abort(self) -> None:
        self._closing = True
        self._outer.abort()

    def is_closing(self) -> bool:
        return self._closing or self._outer.is_closing()

    def pause_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._outer.pause_reading()

    def resume_reading(self) -> None:
        if not self._reading:
            self._reading = True
            self._outer.resume_reading()
            # Records that arrived while paused wait in the incoming BIO.
            self._loop.call_soon(self._read)

    def is_reading(self) -> bool:
        return self._reading and not self._closing

    def set_write_buffer_limits(self, high: Optional[int] = None, low: Optional[int] = None) -> None:
        self._outer.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._outer.get_write_buffer_size()

    def get_write_buffer_limits(self) -> Tuple[int, int]:
        return self._outer.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._ssl
        if name == "sslcontext":
            return self._context
        if name == "peercert":
            return self._ssl.getpeercert()
        if name == "cipher":
            return self._ssl.cipher()
        if name == "compression":
            return self._ssl.compression()
        return self._outer.get_extra_info(name, default)
