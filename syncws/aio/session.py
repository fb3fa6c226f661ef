"""``ws_connect`` and ``ClientSession``: the entry points of the async API."""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, Any, Awaitable, Coroutine, Generator, Optional, Tuple, Type, Union, overload

from typing_extensions import Literal, Unpack

from ..protocol.auth import BasicAuth
from ..protocol.headers import Headers, HeadersLike
from ..protocol.url import WSURL, parse_url
from .client import open_websocket
from .connection import WebSocketProtocol
from .connector import TCPConnector
from .message_queue import AsyncMessageQueue
from .options import ConnectOptions, Options
from .reconnect import AsyncReconnecting, TrackedProtocol
from .response import ClientWebSocketResponse
from .tls import warn_unverified

if TYPE_CHECKING:
    from .options import InvalidOption

__all__ = ["ws_connect", "ClientSession"]


class _WSConnectContext:
    """Both ``await ws_connect(...)`` and ``async with ws_connect(...) as ws``."""

    def __init__(self, coro: Coroutine[Any, Any, ClientWebSocketResponse]) -> None:
        self._coro = coro
        self._ws: Optional[ClientWebSocketResponse] = None

    def __await__(self) -> Generator[Any, None, ClientWebSocketResponse]:
        return self._coro.__await__()

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._ws = await self._coro
        return self._ws

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ws is not None:
            await self._ws.close()


async def _open(
    url: WSURL,
    response_class: Type[ClientWebSocketResponse],
    options: Options,
    protocol_class: Type[WebSocketProtocol] = WebSocketProtocol,
) -> Tuple[ClientWebSocketResponse, WebSocketProtocol]:
    queues = []

    def make_queue(loop: asyncio.AbstractEventLoop) -> AsyncMessageQueue:
        queue = AsyncMessageQueue(loop, options.max_queue)
        queues.append(queue)
        return queue

    protocol, result = await open_websocket(url, options, make_queue, protocol_class=protocol_class)
    queues[-1].source = protocol.url
    ws = response_class(protocol, queues[-1], result, receive_timeout=options.receive_timeout)
    return ws, protocol


async def _connect(
    url: WSURL,
    response_class: Type[ClientWebSocketResponse],
    options: Options,
) -> ClientWebSocketResponse:
    ws, _ = await _open(url, response_class, options)
    return ws


def _check_reconnect(reconnect: bool, options: Options) -> None:
    if not isinstance(reconnect, bool):
        raise TypeError("reconnect must be a bool")
    if reconnect and options.sock is not None:
        raise ValueError("reconnect=True cannot be combined with sock=: a socket connects only once")


@overload
def ws_connect(
    url: str,
    *,
    reconnect: Literal[False] = ...,
    ws_response_class: Type[ClientWebSocketResponse] = ...,
    loop: Optional[asyncio.AbstractEventLoop] = ...,
    **options: Unpack[ConnectOptions],
) -> _WSConnectContext: ...


@overload
def ws_connect(
    url: str,
    *,
    reconnect: Literal[True],
    ws_response_class: Type[ClientWebSocketResponse] = ...,
    loop: Optional[asyncio.AbstractEventLoop] = ...,
    **options: Unpack[ConnectOptions],
) -> AsyncReconnecting: ...


@overload
def ws_connect(
    url: str,
    *,
    reconnect: bool,
    ws_response_class: Type[ClientWebSocketResponse] = ...,
    loop: Optional[asyncio.AbstractEventLoop] = ...,
    **options: Unpack[ConnectOptions],
) -> Union[_WSConnectContext, AsyncReconnecting]: ...

@overload
def ws_connect(  # never matches: it makes mypy name a misspelled keyword (see InvalidOption)
    url: str,
    *,
    reconnect: bool = ...,
    ws_response_class: Type[ClientWebSocketResponse] = ...,
    loop: Optional[asyncio.AbstractEventLoop] = ...,
    **options: InvalidOption[ConnectOptions],
) -> Union[_WSConnectContext, AsyncReconnecting]: ...


def ws_connect(
    url: str,
    *,
    reconnect: bool = False,
    ws_response_class: Type[ClientWebSocketResponse] = ClientWebSocketResponse,
    loop: Optional[asyncio.AbstractEventLoop] = None,
    **options: Any,
) -> Union[_WSConnectContext, AsyncReconnecting]:
    """Open a WebSocket; see ``Options`` for every keyword and its default.

    With ``reconnect=True``, returns an async iterable instead:
    ``async for ws in ws_connect(url, reconnect=True)`` connects again after
    each abnormal end (see docs/connectivity.md).

    ``loop`` is accepted for old aiohttp code and otherwise ignored: the
    connection always lives on the running loop.
    """
    opts = Options.from_kwargs(options)  # bad arguments fail here, before any I/O
    target = parse_url(url)
    warn_unverified(opts.ssl, opts.proxy_ssl)  # names the application's line
    _check_reconnect(reconnect, opts)
    if reconnect:
        return AsyncReconnecting(lambda: _open(target, ws_response_class, opts, TrackedProtocol), opts, target.url)
    return _WSConnectContext(_connect(target, ws_response_class, opts))


class ClientSession:
    """aiohttp's session, reduced to what WebSockets need: shared defaults and
    closing every connection it opened."""

    def __init__(
        self,
        *,
        connector: Optional[TCPConnector] = None,
        headers: Optional[HeadersLike] = None,
        auth: Optional[BasicAuth] = None,
        trust_env: bool = True,
        loop: Optional[asyncio.AbstractEventLoop] = None,
    ) -> None:
        self._connector = connector
        self._headers = Headers(headers) if headers is not None else None
        self._auth = auth
        self._trust_env = trust_env
        self._open: "weakref.WeakSet[ClientWebSocketResponse]" = weakref.WeakSet()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @overload
    def ws_connect(
        self,
        url: str,
        *,
        reconnect: Literal[False] = ...,
        ws_response_class: Type[ClientWebSocketResponse] = ...,
        loop: Optional[asyncio.AbstractEventLoop] = ...,
        **options: Unpack[ConnectOptions],
    ) -> _WSConnectContext: ...

    @overload
    def ws_connect(
        self,
        url: str,
        *,
        reconnect: Literal[True],
        ws_response_class: Type[ClientWebSocketResponse] = ...,
        loop: Optional[asyncio.AbstractEventLoop] = ...,
        **options: Unpack[ConnectOptions],
    ) -> AsyncReconnecting: ...

    @overload
    def ws_connect(
        self,
        url: str,
        *,
        reconnect: bool,
        ws_response_class: Type[ClientWebSocketResponse] = ...,
        loop: Optional[asyncio.AbstractEventLoop] = ...,
        **options: Unpack[ConnectOptions],
    ) -> Union[_WSConnectContext, AsyncReconnecting]: ...

    @overload
    def ws_connect(  # never matches: it makes mypy name a misspelled keyword (see InvalidOption)
        self,
        url: str,
        *,
        reconnect: bool = ...,
        ws_response_class: Type[ClientWebSocketResponse] = ...,
        loop: Optional[asyncio.AbstractEventLoop] = ...,
        **options: InvalidOption[ConnectOptions],
    ) -> Union[_WSConnectContext, AsyncReconnecting]: ...

    def ws_connect(
        self,
        url: str,
        *,
        reconnect: bool = False,
        ws_response_class: Type[ClientWebSocketResponse] = ClientWebSocketResponse,
        loop: Optional[asyncio.AbstractEventLoop] = None,
        **options: Any,
    ) -> Union[_WSConnectContext, AsyncReconnecting]:
        """``ws_connect`` with this session's defaults; closing the session closes its
        connections and ends its reconnect loops."""
        if self._closed:
            raise RuntimeError("Session is closed")
        merged: dict[str, Any] = dict(options)
        if self._connector is not None:
            merged.setdefault("connector", self._connector)
        if self._auth is not None:
            merged.setdefault("auth", self._auth)
        merged.setdefault("trust_env", self._trust_env)
        if self._headers is not None:
            headers = Headers(self._headers)
            if merged.get("headers") is not None:
                headers.extend(merged["headers"])
            merged["headers"] = headers
        opts = Options.from_kwargs(merged)
        target = parse_url(url)
        warn_unverified(opts.ssl, opts.proxy_ssl)  # names the application's line
        _check_reconnect(reconnect, opts)
        if reconnect:
            return AsyncReconnecting(
                lambda: self._track_pair(_open(target, ws_response_class, opts, TrackedProtocol)),
                opts,
                target.url,
                stopped=lambda: self._closed,
            )
        return _WSConnectContext(self._track(_connect(target, ws_response_class, opts)))

    async def _track(
        self, coro: Coroutine[Any, Any, ClientWebSocketResponse]
    ) -> ClientWebSocketResponse:
        ws = await coro
        self._open.add(ws)
        return ws

    async def _track_pair(
        self, coro: Coroutine[Any, Any, Tuple[ClientWebSocketResponse, WebSocketProtocol]]
    ) -> Tuple[ClientWebSocketResponse, WebSocketProtocol]:
        ws, proto = await coro
        self._open.add(ws)
        return ws, proto

    def close(self) -> Awaitable[None]:
        """Close every connection of this session; awaiting it is optional (old aiohttp style)."""
        self._closed = True
        return asyncio.ensure_future(self._close_all())

    async def _close_all(self) -> None:
        sockets = list(self._open)
        if sockets:
            await asyncio.gather(*(ws.close(code=1001) for ws in sockets), return_exceptions=True)

    async def __aenter__(self) -> "ClientSession":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
