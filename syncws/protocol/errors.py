"""Exceptions raised by the protocol core; the I/O layers add their own on top."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Tuple

from .headers import Headers

__all__ = [
    "ClientError",
    "ConnectionClosedOK",
    "RequestInfo",
    "WebSocketError",
    "InvalidURL",
    "InvalidHeader",
    "ProtocolError",
    "WSServerHandshakeError",
    "ConnectionClosed",
]


class WebSocketError(Exception):
    """Base class of every exception syncws raises on purpose."""


class ClientError(WebSocketError):
    """aiohttp's base for what the network or the server did to a client call:
    ``except syncws.ClientError`` catches ClientConnectionError (and ProxyError,
    ClientSSLError), WSServerHandshakeError (and the redirect errors) and
    ServerTimeoutError, as ``except aiohttp.ClientError`` does."""


class InvalidURL(WebSocketError, ValueError):
    """The URL cannot name a WebSocket endpoint; raised before any I/O."""


class InvalidHeader(WebSocketError, ValueError):
    """A header we were asked to send is malformed (e.g. would inject CR/LF)."""


class ProtocolError(WebSocketError):
    """The peer broke RFC 6455/7692; ``code`` is the close code we answer with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"


class RequestInfo(NamedTuple):
    """aiohttp's ``RequestInfo`` of the request a handshake error answers (no credentials in ``url``)."""

    url: str
    method: str
    headers: Headers
    real_url: str


class WSServerHandshakeError(ClientError):
    """The server's answer to the opening handshake is not a valid upgrade.

    ``status`` is the HTTP status (0 when no status line was read), ``headers``
    the response headers, ``message`` says exactly which rule failed.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        headers: Optional[Headers] = None,
        request_info: Optional[RequestInfo] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers if headers is not None else Headers()
        # aiohttp's attributes; request_info is filled in by the I/O layer that sent the request.
        self.request_info = request_info
        self.history: Tuple[Any, ...] = ()
        self.body = b""  # the start of the answer's body, when it came with the head

    @property
    def code(self) -> int:
        """aiohttp's name for ``status``."""
        return self.status

    @property
    def url(self) -> Optional[str]:
        """The URL the refused request went to (no credentials), once the I/O layer set it."""
        return self.request_info.url if self.request_info is not None else None

    def __str__(self) -> str:
        text = f"{self.status}, message={self.message!r}" if self.status else self.message
        if self.url is not None:
            text += f", url={self.url!r}"  # aiohttp's form
        if self.body:  # repr() escapes control characters: nothing raw reaches a terminal
            text += f", body={self.body[:BODY_PREVIEW].decode('utf-8', 'replace')!r}"
        return text


# How much of a refused handshake's body an error keeps and shows.
BODY_PREVIEW = 512


class ConnectionClosed(WebSocketError, ConnectionResetError):
    """The connection is closed (or closing): nothing more can be sent.

    ``code`` and ``reason`` are the close code and reason when known.
    """

    def __init__(self, message: str, code: Optional[int] = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "connection closed"


class ConnectionClosedOK(ConnectionClosed):
    """The connection ended with a normal closing handshake (1000, 1001, or no code):
    what a blocking ``receive_str()`` and friends raise at the end (`websockets`' name)."""
