"""``for ws in syncws.connect(url, reconnect=True)``: the blocking reconnect loop, with
the rules of ``syncws.aio.reconnect``."""

from __future__ import annotations

import time
from typing import Callable, Generator, Optional, Tuple

from ..aio.connection import WebSocketProtocol
from ..aio.options import Options
from ..aio.reconnect import Backoff, Ending, ending, is_permanent
from ..protocol.close_codes import WSCloseCode
from .loop_thread import get_loop_thread
from .websocket import SyncWebSocket

__all__ = ["Reconnecting"]

Opener = Callable[[], Tuple[SyncWebSocket, WebSocketProtocol]]


class Reconnecting:
    """What ``syncws.connect(url, reconnect=True)`` returns: iterating it yields a fresh
    connection after every abnormal end (rules in docs/connectivity.md).

    Leaving the loop (break, return, an exception) closes the current connection.
    """

    def __init__(self, open_once: Opener, options: Options, url: str) -> None:
        self._open = open_once
        self._options = options
        self._url = url

    def __iter__(self) -> Generator[SyncWebSocket, None, None]:
        backoff = Backoff(self._options, self._url)
        wait: Optional[float] = None
        while True:
            if wait is not None:
                time.sleep(wait)
            try:
                ws, proto = self._open()
            except Exception as exc:
                if is_permanent(exc):
                    raise
                wait = backoff.failed(exc)
                continue
            backoff.connected()
            try:
                yield ws
            except BaseException:  # GeneratorExit: the for loop was left
                _close(ws, proto)
                raise
            end = ending(proto)
            if end is Ending.STOP:
                return
            if end is Ending.STILL_OPEN:
                ws.close()
                wait = None
            else:
                wait = backoff.lost(proto)

    def __repr__(self) -> str:
        return f"<Reconnecting {self._url}>"


def _close(ws: SyncWebSocket, proto: WebSocketProtocol) -> None:
    """Close from whichever thread finalises the loop; the loop thread itself must not block."""
    if get_loop_thread().in_loop_thread():
        proto.close_soon(WSCloseCode.OK)
    else:
        ws.close()
