"""Every exception syncws raises, in one namespace."""

from .aio.errors import (
    ClientConnectionError,
    CloseTimeout,
    ConnectionClosedError,
    OpenTimeout,
    ProxyError,
    ReceiveTimeout,
    ServerTimeoutError,
    WSTimeoutError,
)
from .aio.response import WSMessageTypeError
from .aio.tls import ClientSSLError, ServerFingerprintMismatch
from .protocol.errors import (
    ConnectionClosed,
    InvalidHeader,
    InvalidURL,
    ProtocolError,
    WebSocketError,
    WSServerHandshakeError,
)

__all__ = [
    "ClientConnectionError",
    "ClientSSLError",
    "CloseTimeout",
    "ConnectionClosed",
    "ConnectionClosedError",
    "InvalidHeader",
    "InvalidURL",
    "OpenTimeout",
    "ProtocolError",
    "ProxyError",
    "ReceiveTimeout",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "WSMessageTypeError",
    "WSServerHandshakeError",
    "WSTimeoutError",
    "WebSocketError",
]
