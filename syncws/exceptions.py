"""Every exception syncws raises, in one namespace."""

from .aio.errors import (
    ClientConnectionError,
    CloseTimeout,
    ConnectionClosedError,
    OpenTimeout,
    PongTimeout,
    ProxyError,
    ReceiveTimeout,
    RedirectError,
    SendTimeout,
    ServerTimeoutError,
    TooManyRedirects,
    WSTimeoutError,
)
from .aio.reconnect import ReconnectWarning
from .aio.response import WSMessageTypeError
from .aio.tls import ClientSSLError, ProxySSLError, ServerFingerprintMismatch
from .protocol.errors import (
    ClientError,
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidHeader,
    InvalidURL,
    ProtocolError,
    RequestInfo,
    WebSocketError,
    WSServerHandshakeError,
)

__all__ = [
    "ClientConnectionError",
    "ClientError",
    "ConnectionClosedOK",
    "RequestInfo",
    "ClientSSLError",
    "CloseTimeout",
    "ConnectionClosed",
    "ConnectionClosedError",
    "InvalidHeader",
    "InvalidURL",
    "OpenTimeout",
    "PongTimeout",
    "ProtocolError",
    "ProxyError",
    "ProxySSLError",
    "ReceiveTimeout",
    "ReconnectWarning",
    "SendTimeout",
    "RedirectError",
    "TooManyRedirects",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "WSMessageTypeError",
    "WSServerHandshakeError",
    "WSTimeoutError",
    "WebSocketError",
]
