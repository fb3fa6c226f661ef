"""Opening the byte stream under a WebSocket: TCP (and TLS on top)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Callable, Optional, Tuple

from ..protocol.url import WSURL
from .errors import ClientConnectionError
from .tls import ClientSSLError, SSLArg, resolve_ssl

__all__ = ["TCPConnector", "Connection"]

ProtocolFactory = Callable[[], asyncio.BaseProtocol]
# The transport, and the raw socket when writes may bypass the loop (plain TCP only).
Connection = Tuple[asyncio.Transport, Optional[socket.socket]]


class TCPConnector:
    """How to reach the server; aiohttp's ``connector=`` argument.

    ``ssl`` here is the default for connections that do not pass their own;
    ``local_addr`` binds the client side; ``family`` limits address families.
    """

    def __init__(
        self,
        *,
        ssl: SSLArg = None,
        family: int = 0,
        local_addr: Optional[Tuple[str, int]] = None,
    ) -> None:
        self.ssl = ssl
        self.family = family
        self.local_addr = local_addr

    async def connect(
        self,
        url: WSURL,
        factory: ProtocolFactory,
        *,
        ssl: SSLArg = None,
        server_hostname: Optional[str] = None,
    ) -> Connection:
        sock = await self._open_socket(url.host, url.port)
        return await start_transport(
            sock, factory, url, ssl if ssl is not None else self.ssl, server_hostname
        )

    async def _open_socket(self, host: str, port: int) -> socket.socket:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, family=self.family, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ClientConnectionError(f"cannot resolve {host}: {exc}", cause=exc) from exc
        errors = []
        for family, type_, proto, _, address in infos:
            sock = socket.socket(family, type_, proto)
            try:
                sock.setblocking(False)
                if self.local_addr is not None:
                    sock.bind(self.local_addr)
                await loop.sock_connect(sock, address)
            except OSError as exc:
                sock.close()
                errors.append(exc)
                continue
            except BaseException:
                sock.close()
                raise
            return sock
        detail = "; ".join(str(e) for e in errors) or "no addresses"
        raise ClientConnectionError(
            f"cannot connect to {host}:{port}: {detail}", cause=errors[-1] if errors else None
        )


async def start_transport(
    sock: socket.socket,
    factory: ProtocolFactory,
    url: WSURL,
    ssl_arg: SSLArg,
    server_hostname: Optional[str],
) -> Connection:
    """Wrap a connected socket in an asyncio transport, with TLS when the URL asks for it."""
    loop = asyncio.get_running_loop()
    context, pin = resolve_ssl(ssl_arg, url.secure)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        transport, _ = await loop.create_connection(
            factory,
            sock=sock,
            ssl=context,
            server_hostname=(server_hostname or url.host) if context is not None else None,
        )
    except ssl.SSLError as exc:
        sock.close()
        raise ClientSSLError(f"TLS handshake with {url.host}:{url.port} failed: {exc}", cause=exc) from exc
    except BaseException:
        sock.close()
        raise
    assert isinstance(transport, asyncio.Transport)
    if pin is not None:
        ssl_object = transport.get_extra_info("ssl_object")
        try:
            pin.check(ssl_object.getpeercert(binary_form=True) if ssl_object else None)
        except BaseException:
            transport.abort()
            raise
    return transport, (sock if context is None else None)
