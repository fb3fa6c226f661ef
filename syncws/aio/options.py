"""Every connection option in one place: names, defaults and checks, shared by both APIs."""

from __future__ import annotations

import dataclasses
import platform
from typing import Any, Mapping, Optional, Sequence

from typing_extensions import TypedDict

from .._version import __version__
from ..protocol.auth import BasicAuth
from ..protocol.headers import HeadersLike
from .connector import TCPConnector
from .message_queue import DEFAULT_MAX_QUEUE
from .tls import SSLArg

__all__ = ["ConnectOptions", "Options", "DEFAULT_USER_AGENT"]

DEFAULT_USER_AGENT = f"syncws/{__version__} Python/{'.'.join(platform.python_version_tuple()[:2])}"


class ConnectOptions(TypedDict, total=False):
    """Keyword arguments of ``ws_connect()`` and ``syncws.connect()``; see ``Options``."""

    protocols: Sequence[str]
    timeout: Optional[float]
    open_timeout: Optional[float]
    close_timeout: Optional[float]
    receive_timeout: Optional[float]
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
    user_agent: Optional[str]


@dataclasses.dataclass(frozen=True)
class Options:
    """Connection options with their defaults.

    protocols: subprotocols to offer, in order of preference.
    timeout: seconds for the opening handshake (DNS, TCP, TLS, HTTP) and for the
        closing handshake, unless open_timeout / close_timeout say otherwise.
        None waits forever.
    receive_timeout: default for receive() calls; None waits forever.
    autoclose: answer the server's close frame at once (else receive() returns
        CLOSE and you call close()).
    autoping: answer pings with pongs at once (else receive() returns PING and PONG).
    heartbeat: send a ping after this many idle seconds; no pong within half
        of it closes the connection as dead (ServerTimeoutError, code 1006).
    max_msg_size: largest message accepted, after decompression (0: no limit).
    max_queue: received messages buffered before reading from the socket
        pauses (0: no limit).
    ssl: None (verify with certifi or SSL_CERT_FILE), an SSLContext,
        a Fingerprint pin, or False (no verification: insecure).
    compress: permessage-deflate window bits to offer (9..15), 0 for off.
    user_agent: User-Agent header; None sends none.
    """

    protocols: Sequence[str] = ()
    timeout: Optional[float] = 10.0
    open_timeout: Optional[float] = None
    close_timeout: Optional[float] = None
    receive_timeout: Optional[float] = None
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
    user_agent: Optional[str] = DEFAULT_USER_AGENT

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> "Options":
        names = {f.name for f in dataclasses.fields(cls)}
        for key in kwargs:
            if key not in names:
                raise TypeError(f"unexpected keyword argument {key!r}")
        return cls(**kwargs)

    def __post_init__(self) -> None:
        if isinstance(self.protocols, str):
            raise TypeError("protocols must be a sequence of str, not a str")
        for name in ("timeout", "open_timeout", "close_timeout", "receive_timeout", "heartbeat"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, not {value!r}")
        for name in ("max_msg_size", "max_queue"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, not {value!r}")
        if self.compress != 0 and not (isinstance(self.compress, int) and 9 <= self.compress <= 15):
            raise ValueError(f"compress must be 0 (off) or 9..15, not {self.compress!r}")
        if self.auth is not None and not isinstance(self.auth, BasicAuth):
            raise TypeError("auth must be a syncws.BasicAuth")

    @property
    def open_deadline(self) -> Optional[float]:
        return self.open_timeout if self.open_timeout is not None else self.timeout

    @property
    def close_deadline(self) -> Optional[float]:
        return self.close_timeout if self.close_timeout is not None else self.timeout
