"""Through an ``https://`` proxy: TLS to the proxy (its own certificate check, ``proxy_ssl=``),
HTTP CONNECT inside that, then for ``wss://`` the server's TLS inside the tunnel.

The proxy's TLS is asyncio's own, on the socket. The server's TLS cannot be
asyncio's on Python 3.9 and 3.10 (no TLS over a TLS transport), so it is
tls_layer.py's everywhere, one behaviour on every version and loop.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Awaitable, Callable, List, Optional

from ..protocol.headers import Headers
from ..protocol.url import WSURL
from .errors import ClientConnectionError, ProxyError
from .proxy import ConnectExchange, ProxyURL
from .tls import ClientSSLError, ProxySSLError, SSLArg, check_pin, resolve_proxy_ssl, resolve_ssl
from .tls_layer import start_tls_layer

__all__ = ["open_via_https_proxy"]

OpenSocket = Callable[[str, int], Awaitable[socket.socket]]


async def open_via_https_proxy(
    proxy: ProxyURL,
    url: WSURL,
    factory: Callable[[], asyncio.BaseProtocol],
    open_socket: OpenSocket,
    *,
    proxy_ssl: SSLArg,
    headers: Optional[Headers],
    ssl_arg: SSLArg,
    server_hostname: Optional[str],
) -> asyncio.Transport:
    """The transport the WebSocket protocol from ``factory`` is connected to (its
    ``connection_made`` called): the proxy's TLS transport for ``ws://``, a TLS
    layer over it for ``wss://``."""
    outer = await _open_tls_to_proxy(proxy, open_socket, proxy_ssl)
    try:
        await _ask_for_tunnel(outer, proxy, url, headers)
        protocol = factory()
        context, pin = resolve_ssl(ssl_arg, url.secure)
        if context is None:
            outer.set_protocol(protocol)
            protocol.connection_made(outer)
            return outer
        try:
            inner = await start_tls_layer(outer, protocol, context, server_hostname or url.host)
        except ssl.SSLError as exc:
            raise ClientSSLError(
                f"TLS handshake with {url.host}:{url.port} through proxy {proxy} failed: {exc}", cause=exc
            ) from exc
        except OSError as exc:  # the tunnel closed or broke
            raise ClientConnectionError(
                f"connection to {url.host}:{url.port} through proxy {proxy} failed during the TLS handshake: {exc!r}",
                cause=exc,
            ) from exc
        check_pin(inner, pin)
        return inner
    except BaseException:
        outer.abort()
        raise


async def _open_tls_to_proxy(proxy: ProxyURL, open_socket: OpenSocket, proxy_ssl: SSLArg) -> asyncio.Transport:
    context = resolve_proxy_ssl(proxy_ssl)
    try:
        sock = await open_socket(proxy.host, proxy.port)
    except OSError as exc:
        raise ProxyError(f"cannot connect to proxy {proxy}: {exc}", cause=exc) from exc
    loop = asyncio.get_running_loop()
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport, _ = await loop.create_connection(
            lambda: _ConnectAnswer(loop), sock=sock, ssl=context, server_hostname=proxy.host
        )
    except ssl.SSLError as exc:
        sock.close()
        raise ProxySSLError(f"TLS handshake with proxy {proxy} failed: {exc}", cause=exc) from exc
    except OSError as exc:
        sock.close()
        raise ProxyError(f"proxy {proxy} failed during the TLS handshake: {exc!r}", cause=exc) from exc
    except BaseException:
        sock.close()
        raise
    # No isinstance check on the transport: uvloop's are not asyncio.Transport subclasses.
    return transport


async def _ask_for_tunnel(
    transport: asyncio.Transport, proxy: ProxyURL, url: WSURL, headers: Optional[Headers]
) -> None:
    reader = transport.get_protocol()
    if not isinstance(reader, _ConnectAnswer):  # our own protocol, whichever the loop
        raise TypeError(f"unexpected protocol {reader!r} on the proxy's transport")
    exchange = ConnectExchange(proxy, url, headers)
    transport.write(exchange.request)
    await reader.read(exchange)
    if reader.early:  # the WebSocket protocol takes over next: nothing may come before it
        raise exchange.early_data()


class _ConnectAnswer(asyncio.Protocol):
    """Reads the proxy's answer to CONNECT off its TLS transport; ``early`` is set when
    more came after it, before the tunnel was handed on."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._answered: "asyncio.Future[None]" = loop.create_future()
        self._exchange: Optional[ConnectExchange] = None
        self._pending: List[bytes] = []  # what came before the request was sent: fed with it
        self.early = False

    async def read(self, exchange: ConnectExchange) -> None:
        self._exchange = exchange
        for data in self._pending:
            self._feed(data)
        self._pending = []
        await self._answered

    def data_received(self, data: bytes) -> None:
        self._feed(data)

    def eof_received(self) -> Optional[bool]:
        self._feed(b"")
        return None

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if isinstance(exc, OSError) and self._exchange is not None and not self._answered.done():
            self._answered.set_exception(self._exchange.failed(exc))
        self._feed(b"")

    def _feed(self, data: bytes) -> None:
        if self._answered.done():
            self.early = self.early or bool(data)
        elif self._exchange is None:
            self._pending.append(data)
        else:
            try:
                if self._exchange.feed(data):
                    self._answered.set_result(None)
            except ProxyError as exc:
                self._answered.set_exception(exc)
