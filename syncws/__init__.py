"""syncws: a blocking WebSocket client on an asyncio core.

``with syncws.connect(url) as ws:`` for blocking code; ``syncws.ws_connect``
(aiohttp's API) for coroutines.
"""

from ._version import __version__
from .aio import (
    DEFAULT_USER_AGENT,
    AsyncMessageStream,
    AsyncReconnecting,
    ClientSession,
    ClientWebSocketResponse,
    ConnectOptions,
    Fingerprint,
    Options,
    TCPConnector,
    ws_connect,
)
from .exceptions import *  # noqa: F403
from .exceptions import __all__ as _exceptions
from .log import enable_trace
from .protocol import BasicAuth, DeflateParams, Headers, MsgType, WSCloseCode, WSMessage, WSMsgType
from .protocol.zlib_backend import use_zlib_backend, zlib_backend
from .sync import MessageStream, SyncWebSocket, connect, wait
from .sync.app import WebSocketApp
from .sync.reconnect import Reconnecting

__all__ = [
    "__version__",
    "AsyncMessageStream",
    "AsyncReconnecting",
    "BasicAuth",
    "ClientSession",
    "ClientWebSocketResponse",
    "ConnectOptions",
    "DEFAULT_USER_AGENT",
    "DeflateParams",
    "Fingerprint",
    "Headers",
    "MessageStream",
    "MsgType",
    "Options",
    "Reconnecting",
    "SyncWebSocket",
    "TCPConnector",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketApp",
    "connect",
    "enable_trace",
    "use_zlib_backend",
    "wait",
    "ws_connect",
    "zlib_backend",
    *_exceptions,
]
