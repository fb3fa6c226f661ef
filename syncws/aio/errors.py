"""Exceptions the I/O layers add: timeouts, lost connections, refused transports."""

from __future__ import annotations

import asyncio
import sys
from typing import Optional

from ..protocol.errors import ClientError, ConnectionClosed, WebSocketError, WSServerHandshakeError
from ..protocol.messages import WSMessageTypeError  # one class for both faces, re-exported here

__all__ = [
    "WSTimeoutError",
    "OpenTimeout",
    "ReceiveTimeout",
    "PongTimeout",
    "SendTimeout",
    "CloseTimeout",
    "ServerTimeoutError",
    "ConnectionClosedError",
    "ClientConnectionError",
    "ProxyError",
    "RedirectError",
    "TooManyRedirects",
    "WSMessageTypeError",
]

if sys.version_info >= (3, 11):  # asyncio.TimeoutError is the builtin there

    class _TimeoutBase(WebSocketError, TimeoutError):
        pass

else:

    class _TimeoutBase(WebSocketError, asyncio.TimeoutError, TimeoutError):
        pass


class WSTimeoutError(_TimeoutBase):
    """A syncws timeout; also an ``asyncio.TimeoutError`` and a builtin ``TimeoutError``."""


class OpenTimeout(WSTimeoutError):
    """Connecting (DNS, TCP, TLS, proxy, opening handshake) took longer than allowed."""


class ReceiveTimeout(WSTimeoutError):
    """No message arrived in time. The connection stays open and usable."""


class PongTimeout(WSTimeoutError):
    """No pong answered a ``ping()`` within the time its waiter was given; the
    connection stays open (a heartbeat's missing pong is ServerTimeoutError)."""


class SendTimeout(WSTimeoutError):
    """A blocking send waited ``send_timeout`` for the peer to read, in vain. The message is
    queued but may never go out whole, so the connection is failed (close code 1006)."""


class CloseTimeout(WSTimeoutError):
    """The peer did not finish the closing handshake in time; the connection was cut."""


class ServerTimeoutError(WSTimeoutError, ClientError):
    """No pong answered a heartbeat ping in time: the peer is considered dead (aiohttp's name)."""


class ConnectionClosedError(ConnectionClosed):
    """The connection ended abnormally (close code 1006 or a protocol failure)."""


class ClientConnectionError(ClientError, ConnectionError):
    """The transport could not be opened (refused, unreachable, TLS failure)."""

    def __init__(self, message: str, *, cause: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self.__cause__ = cause

    def __str__(self) -> str:
        return str(self.args[0])


class ProxyError(ClientConnectionError):
    """The proxy refused or broke the tunnel; ``status`` is its HTTP status when it gave one."""

    def __init__(self, message: str, *, status: int = 0, cause: Optional[BaseException] = None) -> None:
        super().__init__(message, cause=cause)
        self.status = status


class RedirectError(WSServerHandshakeError):
    """A redirect answer to the opening handshake could not be followed (bad Location,
    a wss:// to ws:// downgrade, or ``sock=``, which is a single connection)."""


class TooManyRedirects(RedirectError):
    """More than ``max_redirects`` redirects; ``status`` is the last redirect's."""

