"""Opening the byte stream under a WebSocket: TCP, a proxy tunnel, a Unix socket or a socket
the caller connected, and TLS on top."""

from __future__ import annotations

import asyncio
import socket
import ssl
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..protocol.headers import Headers
from ..protocol.url import WSURL
from .errors import ClientConnectionError
from .https_proxy import open_via_https_proxy
from .proxy import ProxyURL, open_tunnel
from .tls import ClientSSLError, SSLArg, check_pin, resolve_ssl

__all__ = ["TCPConnector", "Connection", "Route", "DIRECT", "literal_address", "start_transport", "opening_stage"]

ProtocolFactory = Callable[[], asyncio.BaseProtocol]
# The transport, and the raw socket when writes may bypass the loop (plain TCP only).
Connection = Tuple[asyncio.Transport, Optional[socket.socket]]


@dataclass(frozen=True)
class Route:
    """Where the bytes go; all None is TCP straight to the URL's host and port.

    ``proxy_headers`` go on a proxy's CONNECT request, ``proxy_ssl`` sets up
    TLS to an https:// proxy. The URL's host still names the server for
    ``Host`` and TLS on every route.
    """

    proxy: Optional[ProxyURL] = None
    proxy_headers: Optional[Headers] = field(default=None, repr=False)  # may hold Proxy-Authorization
    proxy_ssl: SSLArg = None
    unix_socket: Optional[str] = None
    sock: Optional[socket.socket] = None

    def __str__(self) -> str:
        if self.proxy is not None:
            return f"proxy {self.proxy}"
        if self.unix_socket is not None:
            return f"unix socket {self.unix_socket}"
        return "the given socket" if self.sock is not None else "direct"


DIRECT = Route()

# What an opening is waiting for, for OpenTimeout's message: open_websocket puts a list in
# the context (a list, so that wait_for's task on Python < 3.11 shares it) and each step of
# the connector writes its name there. Custom connectors need not.
opening_stage: "ContextVar[Optional[List[str]]]" = ContextVar("syncws_opening_stage", default=None)


def _at(stage: str) -> None:
    holder = opening_stage.get()
    if holder is not None:
        holder[:] = [stage]


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
        route: Route = DIRECT,
    ) -> Connection:
        ssl = ssl if ssl is not None else self.ssl
        if route.proxy is not None and route.proxy.is_tls:
            transport = await open_via_https_proxy(
                route.proxy, url, factory, self._open_socket, proxy_ssl=route.proxy_ssl,
                headers=route.proxy_headers, ssl_arg=ssl, server_hostname=server_hostname,
            )
            return transport, None  # TLS to the proxy at least: no writes past the transport
        if route.sock is not None:
            sock = adopt_socket(route.sock)
        elif route.unix_socket is not None:
            sock = await open_unix_socket(route.unix_socket)
        elif route.proxy is not None:
            proxy = route.proxy

            async def to_proxy(host: str, port: int) -> socket.socket:
                sock = await self._open_socket(host, port)
                _at(f"waiting for proxy {proxy} to answer CONNECT")
                return sock

            _at(f"opening a tunnel through proxy {proxy}")
            sock = await open_tunnel(proxy, url, to_proxy, headers=route.proxy_headers, local_addr=self.local_addr)
        else:
            sock = await self._open_socket(url.host, url.port)
        return await start_transport(sock, factory, url, ssl, server_hostname)

    async def _open_socket(self, host: str, port: int) -> socket.socket:
        _at(f"connecting to {_authority(host, port)}")
        loop = asyncio.get_running_loop()
        infos: Sequence[AddrInfo] = literal_address(host, port, self.family)
        if not infos:
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


AddrInfo = Tuple[int, int, int, str, Tuple[Any, ...]]


def literal_address(host: str, port: int, family: int) -> List[AddrInfo]:
    """An IP literal needs no resolver: skip getaddrinfo, which asyncio runs in a worker thread."""
    for fam in (socket.AF_INET, socket.AF_INET6):
        if family not in (0, fam):
            continue
        try:
            socket.inet_pton(fam, host)
        except OSError:
            continue
        address: Tuple[Any, ...] = (host, port) if fam == socket.AF_INET else (host, port, 0, 0)
        return [(fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]
    return []


async def open_unix_socket(path: str) -> socket.socket:
    family = getattr(socket, "AF_UNIX", None)
    if family is None:
        raise ClientConnectionError("unix_socket= needs Unix domain sockets, which this platform lacks")
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, path)
    except OSError as exc:
        sock.close()
        raise ClientConnectionError(f"cannot connect to unix socket {path}: {exc}", cause=exc) from exc
    except BaseException:
        sock.close()
        raise
    return sock


def adopt_socket(sock: socket.socket) -> socket.socket:
    """A connected stream socket from the caller; from here on the connection owns and closes it."""
    if sock.type != socket.SOCK_STREAM:
        raise ValueError(f"sock= must be a connected SOCK_STREAM socket, not {sock.type!r}")
    sock.setblocking(False)
    return sock


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
    if context is not None:
        _at(f"in the TLS handshake with {_authority(url.host, url.port)}")
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
    except ConnectionError as exc:  # reset or closed during the TLS handshake
        sock.close()
        raise ClientConnectionError(
            f"connection to {url.host}:{url.port} failed during the TLS handshake: {exc!r}", cause=exc
        ) from exc
    except BaseException:
        sock.close()
        raise
    # No isinstance check on the transport: uvloop's are not asyncio.Transport subclasses.
    check_pin(transport, pin)
    return transport, (sock if context is None else None)


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
