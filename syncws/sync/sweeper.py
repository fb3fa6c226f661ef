"""One timer per loop for the sockets lent to callers (see ``direct_read``).

It takes a lent socket back from a caller that stopped receiving, so that
pings and close frames are answered while the application is busy elsewhere,
and it settles the futures of connections that ended in a caller's thread
without the loop ever having their socket.
"""

from __future__ import annotations

import threading
import time
from typing import Any, List, Set

from ..aio.connection import WebSocketProtocol
from .direct_read import IDLE, DirectReader

__all__ = ["Sweeper"]


class Sweeper:
    """Takes lent sockets back from callers that stopped receiving (one per loop).

    Connections built in a caller's thread join from there (``add_from_caller``):
    that costs the loop a wake-up only when its timer is not running already. The
    same timer settles the futures of connections that ended without the loop ever
    having their socket (``settle_later``): a wake-up of the loop per close would
    cost more than the rest of such a connection's loop-side work.
    """

    def __init__(self, loop: Any) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._readers: Set[DirectReader] = set()
        self._ended: List[WebSocketProtocol] = []
        self._timer: Any = None
        self._arming = False

    def add(self, reader: DirectReader) -> None:
        """Loop thread."""
        with self._lock:
            self._readers.add(reader)
        self._arm()

    def add_from_caller(self, reader: DirectReader) -> None:
        with self._lock:
            self._readers.add(reader)
        self._arm_from_caller()

    def settle_later(self, proto: WebSocketProtocol) -> None:
        """``proto.finish_detached()`` on the loop at the next tick (any thread)."""
        with self._lock:
            self._ended.append(proto)
        self._arm_from_caller()

    def _arm_from_caller(self) -> None:
        with self._lock:
            if self._timer is not None or self._arming:
                return
            self._arming = True
        try:
            self._loop.call_soon_threadsafe(self._arm)
        except BaseException:
            with self._lock:
                self._arming = False
            raise

    def discard(self, reader: DirectReader) -> None:
        with self._lock:
            self._readers.discard(reader)

    def _arm(self) -> None:
        with self._lock:
            self._arming = False
            if self._timer is None and (self._readers or self._ended):
                self._timer = self._loop.call_later(IDLE, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._timer = None
            readers = list(self._readers)
            ended, self._ended = self._ended, []
        try:
            for proto in ended:
                try:
                    proto.finish_detached()
                except Exception as exc:  # one connection's failure is not the others'
                    self._loop.call_exception_handler({"message": "settling a closed connection", "exception": exc})
            for reader in readers:
                reader.reclaim_if_idle(now)
        finally:
            self._arm()
