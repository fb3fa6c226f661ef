"""The asyncio client, aiohttp's WebSocket API on top of the protocol core."""

from .connector import TCPConnector
from .errors import (
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
from .options import DEFAULT_USER_AGENT, ConnectOptions, Options
from .reconnect import AsyncReconnecting
from .response import ClientWebSocketResponse, WSMessageTypeError
from .session import ClientSession, ws_connect
from .stream import AsyncMessageStream
from .tls import ClientSSLError, Fingerprint, ProxySSLError, ServerFingerprintMismatch

__all__ = [
    "DEFAULT_USER_AGENT",
    "AsyncMessageStream",
    "AsyncReconnecting",
    "ClientConnectionError",
    "ClientSSLError",
    "ClientSession",
    "ClientWebSocketResponse",
    "CloseTimeout",
    "ConnectOptions",
    "ConnectionClosedError",
    "Fingerprint",
    "OpenTimeout",
    "PongTimeout",
    "Options",
    "ProxyError",
    "ProxySSLError",
    "ReceiveTimeout",
    "SendTimeout",
    "RedirectError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "TCPConnector",
    "TooManyRedirects",
    "WSMessageTypeError",
    "WSTimeoutError",
    "ws_connect",
]
