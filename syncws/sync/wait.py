"""``wait()``: one thread serving many connections, like ``select()``."""

from __future__ import annotations

import threading
import time
from typing import Iterable, List, Optional

from .blocking import interruptible
from .websocket import SyncWebSocket

__all__ = ["wait"]


def wait(connections: Iterable[SyncWebSocket], timeout: Optional[float] = None) -> List[SyncWebSocket]:
    """Block until at least one connection has a message to receive (or is closed).

    Returns the ready connections in the order given — a ``receive()`` on any
    of them will not block — or an empty list after ``timeout`` seconds.
    The loop thread wakes the caller; nothing polls.
    """
    conns = list(connections)
    woken = threading.Event()
    queues = [ws._queue for ws in conns]
    for queue in queues:
        queue.add_listener(woken.set)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            woken.clear()
            ready = [ws for ws, queue in zip(conns, queues) if queue.ready]
            if ready or not conns:
                return ready
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return []
            interruptible(woken.wait, remaining)
    finally:
        for queue in queues:
            queue.remove_listener(woken.set)
