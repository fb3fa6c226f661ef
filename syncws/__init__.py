"""syncws: a blocking WebSocket client on an asyncio core.

``with syncws.connect(url) as ws:`` for blocking code; ``syncws.ws_connect``
(aiohttp's API) for coroutines.
"""

from ._version import __version__
from .aio import (
    DEFAULT_USER_AGENT,
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
from .protocol import BasicAuth, DeflateParams, Headers, MsgType, WSCloseCode, WSMessage, WSMsgType
from .sync import SyncWebSocket, connect, wait

__all__ = [
    "__version__",
    "BasicAuth",
    "ClientSession",
    "ClientWebSocketResponse",
    "ConnectOptions",
    "DEFAULT_USER_AGENT",
    "DeflateParams",
    "Fingerprint",
    "Headers",
    "MsgType",
    "Options",
    "SyncWebSocket",
    "TCPConnector",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "connect",
    "wait",
    "ws_connect",
    *_exceptions,
]
