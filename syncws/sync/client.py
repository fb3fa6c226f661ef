"""``syncws.connect()``: open a connection on the loop thread and wrap it."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import List, Optional, Tuple, Type, Union, overload

from typing_extensions import Literal, Unpack

from ..aio.client import can_adopt, new_protocol, open_websocket
from ..aio.connection import WebSocketProtocol
from ..aio.options import ConnectOptions, Options
from ..aio.reconnect import TrackedProtocol
from ..protocol.errors import WSServerHandshakeError
from ..protocol.handshake import HandshakeResult
from ..protocol.url import WSURL, parse_url
from .direct_open import Opened, open_here, opens_here
from .direct_read import DirectReader
from .held_interrupt import whole
from .loop_thread import get_loop_thread
from .message_queue import ThreadMessageQueue
from .reconnect import Reconnecting
from .websocket import SyncWebSocket, close_soon

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

    # An interrupt may land anywhere here, even as run() returns: the opened
    # connection is handed over under a lock, and closed if nobody took it.
    handover = threading.Lock()
    opened: List[Tuple[WebSocketProtocol, HandshakeResult, Optional[DirectReader]]] = []
    # What this thread's own attempt gave (a socket to hand to the loop, or a redirect to
    # follow there); kept in a list, never a local name, so an interrupt cannot strand it.
    here: List[Union[Opened, WSServerHandshakeError]] = []
    started = time.monotonic()
    taken = abandoned = False

    def settle(protocol: WebSocketProtocol, result: HandshakeResult) -> None:
        """Loop thread, once connected: lend reading to the caller, hand over."""
        direct = DirectReader.lend_at_start(protocol, queues[-1], runner.sweeper)
        with handover:
            if abandoned:
                close_soon(protocol)
            else:
                opened.append((protocol, result, direct))

    def building() -> None:
        """Build the connection in this thread, which keeps the socket (see
        ``DirectReader.detached``): the loop is not involved until it is needed. Run
        whole (no interrupt in between), so the socket is always either in ``here``
        unclaimed or in a connection listed in ``opened``."""
        nonlocal taken
        first = here[0]
        assert isinstance(first, Opened)
        protocol = new_protocol(runner.loop, opts, make_queue, first.key, protocol_class)
        protocol.adopt_lent(first.result, first.sock)
        protocol.url = first.hop.url.url
        direct = DirectReader.detached(protocol, queues[-1], first.sock, runner.sweeper)
        taken = True
        opened.append((protocol, first.result, direct))
        if first.rest:  # the server's first frames came with its answer
            direct.feed_early(first.rest)
        if opts.heartbeat is not None:  # the loop's work from the start
            direct.attach_soon()

    async def opening() -> None:
        first = here[0] if here else None
        assert not isinstance(first, Opened)
        settle(*await open_websocket(
            target, opts, make_queue, protocol_class=protocol_class,
            redirected=first, spent=time.monotonic() - started,
        ))

    try:
        if opens_here(target, opts) and can_adopt(runner.loop):
            here.append(open_here(target, opts))
        if here and isinstance(here[0], Opened):
            whole(building)
        else:
            runner.run(opening(), what="connect()")
        protocol, result, direct = opened[0]
        # No local name holds the SyncWebSocket: if an interrupt lands as this
        # returns, the traceback keeps this frame alive but not the connection,
        # whose last reference then goes at once and __del__ closes it.
        return SyncWebSocket(
            runner, protocol, queues[-1], result, direct=direct, receive_timeout=opts.receive_timeout
        ), protocol
    except BaseException:
        with handover:
            abandoned = True
            left = opened[:]
            if here and not taken and isinstance(here[0], Opened):
                here[0].sock.close()
        for protocol, _, _ in left:
            runner.loop.call_soon_threadsafe(close_soon, protocol)
        raise


@overload
def connect(url: str, *, reconnect: Literal[False] = ..., **options: Unpack[ConnectOptions]) -> SyncWebSocket: ...


@overload
def connect(url: str, *, reconnect: Literal[True], **options: Unpack[ConnectOptions]) -> Reconnecting: ...


@overload
def connect(
    url: str, *, reconnect: bool, **options: Unpack[ConnectOptions]
) -> Union[SyncWebSocket, Reconnecting]: ...


def connect(
    url: str, *, reconnect: bool = False, **options: Unpack[ConnectOptions]
) -> Union[SyncWebSocket, Reconnecting]:
    """Open a WebSocket and return it once the handshake is done.

    Takes the keyword arguments of ``ws_connect`` (see ``syncws.Options``).
    Use it as ``with syncws.connect(url) as ws:`` so it is always closed.

    With ``reconnect=True`` it connects lazily and returns an iterable:
    ``for ws in syncws.connect(url, reconnect=True):`` gets a fresh
    connection after each abnormal end (see docs/connectivity.md).
    """
    opts = Options.from_kwargs(options)
    target = parse_url(url)
    if not isinstance(reconnect, bool):
        raise TypeError("reconnect must be a bool")
    if reconnect:
        if opts.sock is not None:
            raise ValueError("reconnect=True cannot be combined with sock=: a socket connects only once")
        return Reconnecting(lambda: _open(target, opts, TrackedProtocol), opts, target.url)
    return _open(target, opts)[0]
