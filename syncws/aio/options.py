"""Every connection option in one place: names, defaults and checks, shared by both APIs."""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import socket
import ssl
from typing import TYPE_CHECKING, Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

from typing_extensions import Protocol, TypedDict

from .._version import __version__
from ..protocol.auth import BasicAuth
from ..protocol.deflate import DEFAULT_COMPRESS, CompressSettings
from ..protocol.errors import InvalidHeader
from ..protocol.headers import Headers, HeadersLike, check_header
from ..protocol.trace import REDACTED, SECRET_HEADERS
from .connector import TCPConnector
from .message_queue import DEFAULT_MAX_QUEUE
from .proxy import parse_proxy, redact_proxy_url, require_socks
from .tls import SSLArg
from .writer import HIGH_WATER

__all__ = ["ConnectOptions", "Options", "DEFAULT_USER_AGENT", "CookiesLike", "ParamsLike"]

DEFAULT_USER_AGENT = f"syncws/{__version__} Python/{'.'.join(platform.python_version_tuple()[:2])}"

CookiesLike = Union[Mapping[str, str], Iterable[Tuple[str, str]]]
ParamValue = Union[str, int, float]
ParamsLike = Union[Mapping[str, ParamValue], Iterable[Tuple[str, ParamValue]]]
PathLike = Union[str, "os.PathLike[str]"]

# RFC 6265 §4.1.1: a cookie name is a token; a value must not end the pair or the header.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE_BAD = re.compile(r"[\x00-\x1f\x7f;]")


if TYPE_CHECKING:
    _T_co = TypeVar("_T_co", covariant=True)

    class InvalidOption(Protocol[_T_co]):
        """A type no value has, for the last overload of ``connect()`` and ``ws_connect()``.

        A misspelled keyword fits none of the real overloads. mypy then blames the first
        overload that fits once type parameters are erased: this one, whose ``**options``
        erase to "anything". Checked for real, the value's ``__class__`` is not
        ``type[ConnectOptions]``, so mypy reports the keyword by name
        (``Argument "timout" ... expected "InvalidOption[ConnectOptions]"``) instead of
        printing every overload. Typing only: it never exists at run time.
        """

        @property  # type: ignore[misc]
        def __class__(self) -> Type[_T_co]: ...  # type: ignore[override]


class ConnectOptions(TypedDict, total=False):
    """Keyword arguments of ``ws_connect()`` and ``syncws.connect()``; see ``Options``."""

    protocols: Sequence[str]
    timeout: Optional[float]
    open_timeout: Optional[float]
    close_timeout: Optional[float]
    receive_timeout: Optional[float]
    send_timeout: Optional[float]
    write_limit: int
    connector: Optional[TCPConnector]
    auth: Optional[BasicAuth]
    autoclose: bool
    autoping: bool
    origin: Optional[str]
    headers: Optional[HeadersLike]
    heartbeat: Optional[float]
    max_msg_size: int
    max_queue: int
    ssl: SSLArg
    server_hostname: Optional[str]
    compress: int
    compress_level: int
    compress_mem_level: int
    compress_window_bits: int
    user_agent: Optional[str]
    cookies: Optional[CookiesLike]
    params: Optional[ParamsLike]
    proxy: Union[str, bool, None]  # bool: syncws.connect() only (websockets' meanings)
    proxy_auth: Optional[BasicAuth]
    proxy_headers: Optional[HeadersLike]
    proxy_ssl: SSLArg
    trust_env: bool
    unix_socket: Optional[PathLike]
    sock: Optional[socket.socket]
    max_redirects: int
    reconnect_initial: float
    reconnect_max: float


@dataclasses.dataclass(frozen=True)
class Options:
    """Connection options with their defaults.

    - protocols: subprotocols to offer, in order of preference.
    - timeout: seconds for the opening handshake (DNS, TCP, TLS, HTTP) and for the
      closing handshake, unless open_timeout / close_timeout say otherwise.
      None waits forever.
    - receive_timeout: default for receive() calls; None waits forever.
    - send_timeout: how long a blocking send may wait for the peer to take what is
      buffered beyond write_limit (default: timeout; None waits forever). Past it
      the send raises SendTimeout and the connection is failed (1006): the peer
      has stopped reading, and a message is already half on its way.
    - write_limit: bytes a connection may buffer for a slow peer before sends wait
      (a blocking send blocks; the asyncio API's await waits). ``buffered_amount``
      shows how much is buffered now.
    - autoclose: answer the server's close frame at once (else receive() returns
      CLOSE and you call close()).
    - autoping: answer pings with pongs at once (else receive() returns PING and PONG).
    - heartbeat: send a ping after this many idle seconds; no pong within half
      of it closes the connection as dead (ServerTimeoutError, code 1006).
    - max_msg_size: largest message accepted, after decompression (0: no limit).
    - max_queue: received messages buffered before reading from the socket
      pauses (0: no limit).
    - ssl: None (verify with certifi or SSL_CERT_FILE), an SSLContext,
      a Fingerprint pin, or False (no verification: insecure).
    - compress: permessage-deflate window bits to offer (9..15), 0 for off. This
      caps the server's window, so it sizes our decompressor (2**bits bytes).
    - compress_level: zlib level for what we send, 0..9 or -1 (zlib's default, 6).
      1, the default, is the fastest; higher levels shrink JSON by 10-30 % more
      at 2-3x the CPU (docs/performance.md).
    - compress_mem_level: zlib memLevel for what we send, 1..9 (default 5): the
      compressor's hash table, 2**(mem_level + 9) bytes.
    - compress_window_bits: the window we compress with, 9..15 (default 12),
      offered as ``client_max_window_bits`` when below 15; the server may lower it.
      The compressor needs about 2**(bits + 2) bytes for it.
    - user_agent: User-Agent header (also sent to a proxy on CONNECT); None sends none.
    - cookies: name -> value (or pairs), sent as one Cookie header.
    - params: name -> value (or pairs), added to the URL's query string.
    - proxy: ``http://[user:pass@]host:port`` (HTTP CONNECT), ``https://...``
      (the same inside TLS to the proxy) or a socks4, socks4a, socks5 or socks5h
      URL (needs ``syncws[socks]``). Used for every connection.
    - proxy_auth: credentials for the proxy; win over those in its URL.
    - proxy_headers: extra headers for the CONNECT request.
    - proxy_ssl: TLS to an https:// proxy, checked apart from ``ssl``: None
      (verify with certifi or SSL_CERT_FILE), an SSLContext, or False (no
      verification: insecure). An error with an explicit non-https proxy.
    - trust_env: with no proxy=, take one from HTTPS_PROXY (wss) / HTTP_PROXY (ws)
      / ALL_PROXY unless NO_PROXY covers the host, as curl does.
    - unix_socket: connect to this Unix socket path instead of the URL's host.
    - sock: an already connected socket to use instead; the connection owns it.
    - max_redirects: 301/302/303/307/308 answers followed (0: none).
    - reconnect_initial, reconnect_max: with reconnect=True, the n-th wait
      after consecutive failures is random in [c/2, c], where
      c = min(reconnect_max, reconnect_initial * 2**n).
    """

    protocols: Sequence[str] = ()
    timeout: Optional[float] = 10.0
    open_timeout: Optional[float] = None
    close_timeout: Optional[float] = None
    receive_timeout: Optional[float] = None
    send_timeout: Optional[float] = None
    write_limit: int = HIGH_WATER
    connector: Optional[TCPConnector] = None
    auth: Optional[BasicAuth] = None
    autoclose: bool = True
    autoping: bool = True
    origin: Optional[str] = None
    headers: Optional[HeadersLike] = None
    heartbeat: Optional[float] = None
    max_msg_size: int = 4 * 2**20
    max_queue: int = DEFAULT_MAX_QUEUE
    ssl: SSLArg = None
    server_hostname: Optional[str] = None
    compress: int = 15
    compress_level: int = CompressSettings.level
    compress_mem_level: int = CompressSettings.mem_level
    compress_window_bits: int = CompressSettings.window_bits
    user_agent: Optional[str] = DEFAULT_USER_AGENT
    cookies: Optional[CookiesLike] = None
    params: Optional[ParamsLike] = None
    proxy: Optional[str] = None
    proxy_auth: Optional[BasicAuth] = None
    proxy_headers: Optional[HeadersLike] = None
    proxy_ssl: SSLArg = None
    trust_env: bool = True
    unix_socket: Optional[PathLike] = None
    sock: Optional[socket.socket] = None
    max_redirects: int = 10
    reconnect_initial: float = 1.0
    reconnect_max: float = 60.0
    # cookies and params as checked (name, value) pairs, for the request
    cookie_pairs: Tuple[Tuple[str, str], ...] = dataclasses.field(init=False, repr=False, compare=False, default=())
    param_pairs: Tuple[Tuple[str, str], ...] = dataclasses.field(init=False, repr=False, compare=False, default=())

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> "Options":
        names = _init_names(cls)
        for key in kwargs:
            if key not in names:
                raise TypeError(f"unexpected keyword argument {key!r}")
        return cls(**kwargs)

    def __post_init__(self) -> None:
        if isinstance(self.proxy, bool):
            raise TypeError(
                "proxy=True/False is syncws.connect()'s (websockets' meanings); "
                "ws_connect() takes a proxy URL or None, as aiohttp does"
            )
        if isinstance(self.protocols, str):
            raise TypeError("protocols must be a sequence of str, not a str")
        for name in ("timeout", "open_timeout", "close_timeout", "receive_timeout", "send_timeout", "heartbeat"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, not {value!r}")
        for name in ("max_msg_size", "max_queue"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, not {value!r}")
        if not isinstance(self.write_limit, int) or isinstance(self.write_limit, bool) or self.write_limit < 1:
            raise ValueError(f"write_limit must be an int >= 1 (bytes), not {self.write_limit!r}")
        if self.compress != 0 and not (isinstance(self.compress, int) and 9 <= self.compress <= 15):
            raise ValueError(f"compress must be 0 (off) or 9..15, not {self.compress!r}")
        for name, low, high in (
            ("compress_level", -1, 9),
            ("compress_mem_level", 1, 9),
            ("compress_window_bits", 9, 15),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be an int from {low} to {high}, not {value!r}")
        for name in ("auth", "proxy_auth"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), BasicAuth):
                raise TypeError(f"{name} must be a syncws.BasicAuth")
        self._check_request_parts()
        self._check_route()
        if not isinstance(self.max_redirects, int) or self.max_redirects < 0:
            raise ValueError(f"max_redirects must be an int >= 0, not {self.max_redirects!r}")
        for name in ("reconnect_initial", "reconnect_max"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        if self.reconnect_max < self.reconnect_initial:
            raise ValueError("reconnect_max must be >= reconnect_initial")

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # normalising a frozen instance once, here

    def _check_request_parts(self) -> None:
        """Everything that goes into a request head is checked here, before any I/O."""
        for name in ("headers", "proxy_headers"):
            value = getattr(self, name)
            if value is not None:
                headers = Headers(value)
                for key, item in headers.items():
                    check_header(key, item)
                self._set(name, headers)
        if self.origin is not None:
            check_header("Origin", self.origin)
        if self.user_agent is not None and self.user_agent != DEFAULT_USER_AGENT:
            check_header("User-Agent", self.user_agent)
        if self.cookies is not None:
            cookies = tuple(_pairs(self.cookies, "cookies"))
            for key, item in cookies:
                if not isinstance(item, str) or not _COOKIE_NAME.fullmatch(key) or _COOKIE_VALUE_BAD.search(item):
                    raise InvalidHeader(
                        f"invalid cookie {key!r}={item!r}: the name must be a token, the value without ';' "
                        "or control characters"
                    )
                check_header("Cookie", item)
            self._set("cookie_pairs", cookies)
        if self.params is not None:
            params = tuple(_pairs(self.params, "params"))
            for _, item in params:
                if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                    raise TypeError(f"params values must be str, int or float, not {type(item).__name__}")
            self._set("param_pairs", tuple((key, str(item)) for key, item in params))

    def _check_route(self) -> None:
        if not isinstance(self.trust_env, bool):
            raise TypeError("trust_env must be a bool")
        proxy = parse_proxy(self.proxy) if self.proxy is not None else None
        if proxy is not None and proxy.is_socks:
            require_socks()  # say "install syncws[socks]" now rather than at connect time
        if self.proxy_ssl is not None:
            if not isinstance(self.proxy_ssl, (bool, ssl.SSLContext)):
                raise TypeError(
                    f"proxy_ssl must be None, True, False or an SSLContext, not {type(self.proxy_ssl).__name__}"
                )
            if proxy is not None and not proxy.is_tls:
                raise ValueError(f"proxy_ssl is for https:// proxies; proxy {proxy} speaks no TLS")
        if self.sock is not None and not isinstance(self.sock, socket.socket):
            raise TypeError(f"sock must be a socket.socket, not {type(self.sock).__name__}")
        if self.unix_socket is not None:
            self._set("unix_socket", os.fspath(self.unix_socket))
        chosen = [name for name in ("proxy", "unix_socket", "sock") if getattr(self, name) is not None]
        if len(chosen) > 1:
            raise ValueError(f"{' and '.join(chosen)} are alternatives; pass one")

    def __repr__(self) -> str:
        """The dataclass's, with credentials redacted (BasicAuth hides its own password)."""
        shown = ", ".join(
            f"{f.name}={_redacted(f.name, getattr(self, f.name))}" for f in dataclasses.fields(self) if f.repr
        )
        return f"{type(self).__name__}({shown})"

    @property
    def compress_settings(self) -> CompressSettings:
        settings = CompressSettings(self.compress_level, self.compress_mem_level, self.compress_window_bits)
        return DEFAULT_COMPRESS if settings == DEFAULT_COMPRESS else settings  # one object held by all

    @property
    def open_deadline(self) -> Optional[float]:
        return self.open_timeout if self.open_timeout is not None else self.timeout

    @property
    def close_deadline(self) -> Optional[float]:
        return self.close_timeout if self.close_timeout is not None else self.timeout

    @property
    def send_deadline(self) -> Optional[float]:
        return self.send_timeout if self.send_timeout is not None else self.timeout


def _redacted(name: str, value: Any) -> str:
    if value is None:
        return "None"
    if name == "proxy" and isinstance(value, str):  # without the URL's user:password
        try:
            return repr(str(parse_proxy(value)))
        except ValueError:
            return repr(redact_proxy_url(value))
    if name == "cookies":
        return repr(REDACTED)
    if isinstance(value, Headers):  # headers, proxy_headers: secret values only
        return repr(Headers([(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in value.items()]))
    return repr(value)


_names: Dict[type, "frozenset[str]"] = {}


def _init_names(cls: Any) -> "frozenset[str]":
    names = _names.get(cls)
    if names is None:
        names = _names[cls] = frozenset(f.name for f in dataclasses.fields(cls) if f.init)
    return names


def _pairs(value: Any, name: str) -> Iterable[Tuple[str, Any]]:
    items = value.items() if isinstance(value, Mapping) else value
    if isinstance(items, (str, bytes)):
        raise TypeError(f"{name} must be a mapping or pairs, not {type(value).__name__}")
    for pair in items:
        key, item = pair
        if not isinstance(key, str):
            raise TypeError(f"{name} names must be str, not {type(key).__name__}")
        yield key, item
