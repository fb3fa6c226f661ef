"""Pings waiting for their pong: one registry per connection, safe from any thread.

A ping is registered before its frame is written (under the writer's lock, so in
wire order); the loop thread settles it when a pong with the same payload comes.
RFC 6455 §5.5.3 lets a pong answer only the latest of several pings, so a pong
settles every ping sent before the one it matches. The result is the round
trip in seconds, which is also the connection's ``latency``.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from typing import Dict, Optional, Tuple

from ..protocol.errors import ConnectionClosed

__all__ = ["Pings", "PongFuture"]

PongFuture = "concurrent.futures.Future[float]"


class Pings:
    __slots__ = ("_lock", "_waiting", "latency")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: Dict[bytes, Tuple[float, "concurrent.futures.Future[float]"]] = {}
        self.latency: Optional[float] = None  # the last round trip measured, in seconds

    def payload(self, given: bytes) -> bytes:
        """The payload to send: the caller's, or 4 random bytes so that the pong is ours."""
        return given if given else os.urandom(4)

    def sent(self, payload: bytes) -> "concurrent.futures.Future[float]":
        """Register a ping about to be written; its future gets the round trip."""
        future: "concurrent.futures.Future[float]" = concurrent.futures.Future()
        with self._lock:
            self._waiting[payload] = (time.monotonic(), future)
        return future

    def pong(self, payload: bytes) -> None:
        """A pong came (loop thread): settle the ping it answers and every earlier one."""
        now = time.monotonic()
        with self._lock:
            if payload not in self._waiting:
                return  # unsolicited, or answering a ping already settled
            settled = []
            for key in list(self._waiting):
                settled.append(self._waiting.pop(key))
                if key == payload:
                    break
        for sent_at, future in settled:
            if not future.done():
                future.set_result(now - sent_at)
        self.latency = now - settled[-1][0]

    def closed(self, code: Optional[int]) -> None:
        """The connection ended: no pong will come for what is still waiting."""
        with self._lock:
            waiting, self._waiting = list(self._waiting.values()), {}
        for _, future in waiting:
            if not future.done():
                future.set_exception(ConnectionClosed("the connection closed before the pong came", code))
