"""``syncws.connect()``: open a connection on the loop thread and wrap it."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from functools import partial
from typing import TYPE_CHECKING, Any, List, Mapping, Tuple, Type, Union, overload

from typing_extensions import Literal, Unpack

from ..aio.client import open_websocket
from ..aio.connection import WebSocketProtocol
from ..aio.options import ConnectOptions, Options
from ..aio.reconnect import TrackedProtocol
from ..aio.tls import warn_unverified
from ..protocol.errors import WSServerHandshakeError
from ..protocol.handshake import HandshakeResult
from ..protocol.url import WSURL, parse_url
from .loop_thread import get_loop_thread
from .message_queue import ThreadMessageQueue
from .opening import Opened, hand_over, open_here, opens_here
from .reconnect import Reconnecting
from .registry import Registry
from .websocket import SyncWebSocket
from .writer import ThreadWriter, make_thread_writer

if TYPE_CHECKING:
    from ..aio.options import InvalidOption

__all__ = ["connect"]


def _open(
    target: WSURL, opts: Options, protocol_class: Type[WebSocketProtocol] = WebSocketProtocol
) -> Tuple[SyncWebSocket, WebSocketProtocol]:
    runner = get_loop_thread()
    runner.check_caller("connect()")
    queues: List[ThreadMessageQueue] = []

    def make_queue(loop: asyncio.AbstractEventLoop) -> ThreadMessageQueue:
        queues.append(ThreadMessageQueue(loop, opts.max_queue))
        return queues[-1]

    # Ownership across the hand-off, under one lock, so that an interrupt anywhere
    # leaves nothing open: the socket opened here is this thread's until the loop
    # takes it; the opened connection is the loop's until this thread takes it.
    handover = threading.Lock()
    here: List[Union[Opened, WSServerHandshakeError]] = []  # a list: an interrupt cannot strand it
    opened: List[Tuple[WebSocketProtocol, HandshakeResult]] = []
    taken = abandoned = False
    started = time.monotonic()

    async def opening() -> None:
        nonlocal taken
        first = here[0] if here else None
        if isinstance(first, Opened):
            with handover:
                if abandoned:
                    return
                taken = True
            protocol = await hand_over(first, opts, make_queue, protocol_class)
            result = first.result
        else:
            protocol, result = await open_websocket(
                target, opts, make_queue, protocol_class=protocol_class, make_writer=make_thread_writer,
                redirected=first, spent=time.monotonic() - started,
            )
        writer = protocol.writer
        assert isinstance(writer, ThreadWriter)
        writer.allow_direct(protocol.raw_socket)
        runner.connections.add(protocol)
        protocol.lost.add_done_callback(partial(_leave, runner.connections, protocol), context=_NO_CONTEXT)
        with handover:
            if abandoned:
                protocol.close_soon()
            else:
                opened.append((protocol, result))

    try:
        if opens_here(target, opts):
            here.append(open_here(target, opts))
        runner.run(opening, what="connect()")
        protocol, result = opened[0]
        queues[-1].source = protocol.url
        # No local name holds the SyncWebSocket: if an interrupt lands as this
        # returns, the traceback keeps this frame alive but not the connection,
        # whose last reference then goes at once and __del__ closes it.
        return SyncWebSocket(
            runner, protocol, queues[-1], result,
            receive_timeout=opts.receive_timeout, send_timeout=opts.send_deadline,
        ), protocol
    except BaseException:
        with handover:
            abandoned = True
            left = opened[:]
            if here and not taken and isinstance(here[0], Opened):
                here[0].sock.close()  # still ours: the loop never took it
        for protocol, _ in left:
            runner.call_soon(protocol.close_soon)
        raise


# For a callback that reads no context variables: add_done_callback would otherwise
# keep a copy of the opener's context for each connection's life.
_NO_CONTEXT = contextvars.Context()


def _leave(connections: "Registry[WebSocketProtocol]", protocol: WebSocketProtocol, _lost: object) -> None:
    connections.discard(protocol)


def _proxy_as_websockets(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """``proxy=`` with `websockets`' meanings: a URL; True (the default), the environment's
    proxy variables; None, no proxy at all (the asyncio API keeps aiohttp's meanings)."""
    if "proxy" not in options:
        return options
    proxy = options["proxy"]
    rest = {k: v for k, v in options.items() if k != "proxy"}
    if proxy is True:
        return rest
    if proxy is None:
        return {**rest, "trust_env": False}
    return options


@overload
def connect(url: str, *, reconnect: Literal[False] = ..., **options: Unpack[ConnectOptions]) -> SyncWebSocket: ...


@overload
def connect(url: str, *, reconnect: Literal[True], **options: Unpack[ConnectOptions]) -> Reconnecting: ...


@overload
def connect(
    url: str, *, reconnect: bool, **options: Unpack[ConnectOptions]
) -> Union[SyncWebSocket, Reconnecting]: ...


@overload
def connect(  # never matches: it makes mypy name a misspelled keyword (see InvalidOption)
    url: str, *, reconnect: bool = ..., **options: InvalidOption[ConnectOptions]
) -> Union[SyncWebSocket, Reconnecting]: ...


def connect(url: str, *, reconnect: bool = False, **options: Any) -> Union[SyncWebSocket, Reconnecting]:
    """Open a WebSocket and return it once the handshake is done.

    Takes the keyword arguments of ``ws_connect`` (see ``syncws.Options``), with
    one difference: ``proxy=None`` turns proxies off, as in `websockets`
    (``proxy=True``, the default, takes them from the environment).
    Use it as ``with syncws.connect(url) as ws:`` so it is always closed.

    With ``reconnect=True`` it connects lazily and returns an iterable:
    ``for ws in syncws.connect(url, reconnect=True):`` gets a fresh
    connection after each abnormal end (see docs/connectivity.md).
    """
    opts = Options.from_kwargs(_proxy_as_websockets(options))
    target = parse_url(url)
    warn_unverified(opts.ssl, opts.proxy_ssl)  # names the application's line
    if not isinstance(reconnect, bool):
        raise TypeError("reconnect must be a bool")
    if reconnect:
        if opts.sock is not None:
            raise ValueError("reconnect=True cannot be combined with sock=: a socket connects only once")
        return Reconnecting(lambda: _open(target, opts, TrackedProtocol), opts, target.url)
    return _open(target, opts)[0]
