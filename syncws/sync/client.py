"""``syncws.connect()``: open a connection on the loop thread and wrap it."""

from __future__ import annotations

import asyncio
from typing import List

from typing_extensions import Unpack

from ..aio.client import open_websocket
from ..aio.options import ConnectOptions, Options
from ..protocol.url import parse_url
from .loop_thread import get_loop_thread
from .message_queue import ThreadMessageQueue
from .websocket import SyncWebSocket

__all__ = ["connect"]


def connect(url: str, **options: Unpack[ConnectOptions]) -> SyncWebSocket:
    """Open a WebSocket and return it once the handshake is done.

    Takes the keyword arguments of ``ws_connect`` (see ``syncws.Options``).
    Use it as ``with syncws.connect(url) as ws:`` so it is always closed.
    """
    opts = Options.from_kwargs(options)
    target = parse_url(url)
    runner = get_loop_thread()
    queues: List[ThreadMessageQueue] = []

    def make_queue(loop: asyncio.AbstractEventLoop) -> ThreadMessageQueue:
        queues.append(ThreadMessageQueue(loop, opts.max_queue))
        return queues[-1]

    protocol, result = runner.run(open_websocket(target, opts, make_queue), what="connect()")
    return SyncWebSocket(runner, protocol, queues[-1], result, receive_timeout=opts.receive_timeout)
