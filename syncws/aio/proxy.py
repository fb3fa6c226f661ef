"""Proxies: which one to use (given, or from the environment minus NO_PROXY) and the tunnel
through it: HTTP CONNECT here (on a socket; over TLS to an https:// proxy in
https_proxy.py), SOCKS through the optional python-socks package."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping, Optional, Tuple
from urllib.parse import unquote, urlsplit

from ..protocol.auth import BasicAuth
from ..protocol.errors import InvalidURL, WSServerHandshakeError
from ..protocol.handshake import ResponseParser
from ..protocol.headers import Headers, check_header
from ..protocol.trace import REDACTED
from ..protocol.url import WSURL
from .errors import ProxyError

__all__ = [
    "ProxyURL",
    "ConnectExchange",
    "parse_proxy",
    "redact_proxy_url",
    "proxy_from_env",
    "bypass_proxy",
    "open_tunnel",
    "require_socks",
    "SOCKS_INSTALL_HINT",
]

# SOCKS scheme -> whether the proxy resolves the host name (curl's meaning of the names).
_SOCKS = {"socks4": False, "socks4a": True, "socks5": False, "socks5h": True}
_DEFAULT_PORTS = {"http": 80, "https": 443, **{scheme: 1080 for scheme in _SOCKS}}
SOCKS_INSTALL_HINT = "SOCKS proxies need the optional python-socks package: pip install 'syncws[socks]'"
# python-socks applies its own 60 s limit when given none; the open deadline is ours to enforce.
_NO_SOCKS_LIMIT = 365 * 86400.0

OpenSocket = Callable[[str, int], Awaitable[socket.socket]]


@dataclass(frozen=True)
class ProxyURL:
    scheme: str  # http, https, socks4, socks4a, socks5 or socks5h
    host: str
    port: int
    auth: Optional[BasicAuth] = field(default=None, repr=False)  # never in a repr or a message

    @property
    def is_socks(self) -> bool:
        return self.scheme in _SOCKS

    @property
    def is_tls(self) -> bool:
        """TLS to the proxy itself (https://), under the tunnel's own TLS for wss://."""
        return self.scheme == "https"

    def __str__(self) -> str:
        """For messages: never the credentials."""
        return f"{self.scheme}://{_authority(self.host, self.port)}"


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_proxy(url: str) -> ProxyURL:
    """``http(s)://[user:pass@]host[:port]`` or a SOCKS URL; a bare ``host:port`` means http (as in curl)."""
    if not isinstance(url, str):
        raise TypeError(f"proxy must be a str URL, not {type(url).__name__}")
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise InvalidURL(f"proxy URL contains whitespace or control characters: {url!r}")
    raw = url if "://" in url else "http://" + url
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"invalid proxy URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL(f"proxy {url!r}: the scheme must be http, https, socks4, socks4a, socks5 or socks5h")
    if not parts.hostname:
        raise InvalidURL(f"proxy {url!r} has no host")
    auth = None
    if parts.username is not None:
        auth = BasicAuth(unquote(parts.username), unquote(parts.password or ""))
    return ProxyURL(scheme, parts.hostname, port or _DEFAULT_PORTS[scheme], auth)


def redact_proxy_url(url: str) -> str:
    """``url`` with the credentials in it, if any, replaced: for reprs and messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    netloc, slash, path = rest.partition("/")
    _, at, hostport = netloc.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}{REDACTED}@{hostport}{slash}{path}"


# -- the environment ---------------------------------------------------------------


def _getenv(environ: Mapping[str, str], name: str) -> Optional[str]:
    """Lower-case first, as curl; upper-case HTTP_PROXY is ignored under CGI, where a
    client's ``Proxy:`` header arrives as that variable ("httpoxy")."""
    value = environ.get(name)
    if not value and not (name == "http_proxy" and "REQUEST_METHOD" in environ):
        value = environ.get(name.upper())
    if not value or not value.strip():
        return None
    return value.strip()


def proxy_from_env(url: WSURL, environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The proxy the environment names for ``url``: HTTPS_PROXY for wss, HTTP_PROXY for ws,
    ALL_PROXY for both; None when NO_PROXY covers the host."""
    env = os.environ if environ is None else environ
    proxy = _getenv(env, "https_proxy" if url.secure else "http_proxy") or _getenv(env, "all_proxy")
    if proxy is None or bypass_proxy(url.host, url.port, _getenv(env, "no_proxy") or ""):
        return None
    return proxy


def bypass_proxy(host: str, port: int, no_proxy: str) -> bool:
    """Whether NO_PROXY covers ``host:port``.

    Entries are separated by commas or spaces: ``*`` (every host); a domain
    (``example.com``, ``.example.com`` and ``*.example.com`` all cover the
    domain and its subdomains); an IP address; a CIDR block (``10.0.0.0/8``,
    ``fd00::/8``, matched against IP-literal hosts only, no DNS); any of these
    with ``:port`` (``[v6]:port`` for IPv6) to cover that port only.
    """
    host = host.lower().rstrip(".")
    ip = _ip(host)
    for entry in re.split(r"[\s,]+", no_proxy.lower()):
        if not entry:
            continue
        if entry == "*":
            return True
        name, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if "/" in name:
            try:
                network = ipaddress.ip_network(name, strict=False)
            except ValueError:
                continue
            if ip is not None and ip.version == network.version and ip in network:
                return True
            continue
        entry_ip = _ip(name)
        if entry_ip is not None:
            if entry_ip == ip:
                return True
            continue
        name = name.lstrip("*").strip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _ip(text: str) -> Optional["ipaddress.IPv4Address | ipaddress.IPv6Address"]:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _split_port(entry: str) -> Tuple[str, Optional[int]]:
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            return name, int(rest[1:])
        return name + rest, None
    if entry.count(":") == 1:  # more than one: an IPv6 address, which has no port without brackets
        name, _, port = entry.partition(":")
        if port.isdigit():
            return name, int(port)
    return entry, None


# -- tunnels -----------------------------------------------------------------------


async def open_tunnel(
    proxy: ProxyURL,
    target: WSURL,
    open_socket: OpenSocket,
    *,
    headers: Optional[Headers] = None,
    local_addr: Optional[Tuple[str, int]] = None,
) -> socket.socket:
    """A socket whose bytes reach ``target`` through an http:// or SOCKS ``proxy``; TLS, if
    any, goes on top. (An https:// proxy needs TLS under the tunnel: https_proxy.py.)"""
    if proxy.is_socks:
        return await _socks_tunnel(proxy, target, local_addr)
    try:
        sock = await open_socket(proxy.host, proxy.port)
    except OSError as exc:
        raise ProxyError(f"cannot connect to proxy {proxy}: {exc}", cause=exc) from exc
    try:
        await _http_connect(sock, proxy, target, headers)
    except BaseException:
        sock.close()
        raise
    return sock


async def _http_connect(sock: socket.socket, proxy: ProxyURL, target: WSURL, headers: Optional[Headers]) -> None:
    loop = asyncio.get_running_loop()
    exchange = ConnectExchange(proxy, target, headers)
    try:
        await loop.sock_sendall(sock, exchange.request)
        while not exchange.feed(await loop.sock_recv(sock, 65536)):
            pass
    except ProxyError:
        raise
    except OSError as exc:
        raise exchange.failed(exc) from exc


class ConnectExchange:
    """One HTTP CONNECT (RFC 9110 §9.3.6) with the I/O left to the caller, who sends
    ``request`` and feeds the answer to ``feed`` until it returns True: any 2xx
    opens the tunnel. Every way the proxy can fail us is a ProxyError naming it."""

    def __init__(self, proxy: ProxyURL, target: WSURL, headers: Optional[Headers]) -> None:
        self.proxy = proxy
        self.authority = authority = _authority(target.host, target.port)
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        extra = headers or Headers()
        if proxy.auth is not None and "Proxy-Authorization" not in extra:
            lines.append(f"Proxy-Authorization: {proxy.auth.encode()}")
        for name, value in extra.items():
            check_header(name, value)
            lines.append(f"{name}: {value}")
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._parser = ResponseParser()

    def feed(self, data: bytes) -> bool:
        """True once the tunnel is open; ``b""`` is the proxy hanging up."""
        proxy = self.proxy
        if not data:
            raise ProxyError(f"proxy {proxy} closed the connection without answering CONNECT {self.authority}")
        try:
            response = self._parser.feed(data)
        except WSServerHandshakeError as exc:
            raise ProxyError(f"proxy {proxy} sent a malformed answer to CONNECT: {exc.message}") from None
        if response is None:
            return False
        if not 200 <= response.status < 300:
            raise ProxyError(
                f"proxy {proxy} refused CONNECT {self.authority}: {response.status} {response.reason}".rstrip(),
                status=response.status,
            )
        if self._parser.rest:
            raise self.early_data(response.status)
        return True

    def early_data(self, status: int = 200) -> ProxyError:
        """The client speaks first in a WebSocket tunnel: bytes before ours are not the server's."""
        return ProxyError(f"proxy {self.proxy} sent data before the tunnel was used", status=status)

    def failed(self, exc: OSError) -> ProxyError:
        return ProxyError(f"proxy {self.proxy} failed during CONNECT {self.authority}: {exc}", cause=exc)


def require_socks() -> Any:
    """python-socks' asyncio ``Proxy`` and its module, or the ImportError that says how to get them."""
    try:
        import python_socks
        from python_socks.async_.asyncio import Proxy
    except ImportError as exc:
        raise ImportError(SOCKS_INSTALL_HINT, name="python_socks") from exc
    return python_socks, Proxy


async def _socks_tunnel(proxy: ProxyURL, target: WSURL, local_addr: Optional[Tuple[str, int]]) -> socket.socket:
    python_socks, Proxy = require_socks()
    kind = python_socks.ProxyType.SOCKS5 if proxy.scheme.startswith("socks5") else python_socks.ProxyType.SOCKS4
    client = Proxy(
        kind,
        proxy.host,
        proxy.port,
        username=proxy.auth.login if proxy.auth else None,
        password=proxy.auth.password if proxy.auth else None,
        rdns=_SOCKS[proxy.scheme],
    )
    options = {"local_addr": local_addr} if local_addr is not None else {}
    try:
        sock: socket.socket = await client.connect(target.host, target.port, timeout=_NO_SOCKS_LIMIT, **options)
    except python_socks.ProxyConnectionError as exc:
        raise ProxyError(f"cannot connect to proxy {proxy}: {exc}", cause=exc) from exc
    except python_socks.ProxyError as exc:
        raise ProxyError(
            f"proxy {proxy} refused the connection to {_authority(target.host, target.port)}: {exc}", cause=exc
        ) from exc
    except python_socks.ProxyTimeoutError as exc:
        raise ProxyError(f"proxy {proxy} timed out: {exc}", cause=exc) from exc
    except OSError as exc:
        raise ProxyError(f"proxy {proxy} failed: {exc}", cause=exc) from exc
    sock.setblocking(False)
    return sock
