"""The end of a closing handshake we started, driven by the protocol's callbacks.

After our close frame goes out we wait for the server's, then for the server
to close TCP first (RFC 6455 §7.1.1), all within ``close_timeout``. Run as a
task, that costs a turn of the loop to start it and two per wait it makes
(a done-callback, then the wake-up); driven by the protocol's own callbacks
and one timer it costs none, and ``close()`` wakes straight from
``connection_lost``. It also survives the cancellation of any ``close()``
waiting on it, as the closing handshake must.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable, List, Optional

if TYPE_CHECKING:
    from .connection import WebSocketProtocol

__all__ = ["CloseWait", "EOF_GRACE"]

# After both close frames, how long we wait for the server to close TCP first.
EOF_GRACE = 1.0


class CloseWait:
    """One per connection, once it is closing from our side (loop thread)."""

    __slots__ = ("_await_eof", "_callbacks", "_deadline", "_proto", "_timer", "_waiters", "done")

    def __init__(self, proto: "WebSocketProtocol") -> None:
        self._proto = proto
        self._deadline: Optional[float] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._waiters: List["asyncio.Future[None]"] = []
        self._callbacks: List[Callable[[], None]] = []
        self._await_eof = False
        self.done = False

    def start(self, deadline: Optional[float], frame_seen: bool) -> None:
        """Our close frame is out; ``deadline`` on the loop's clock (None: no limit)."""
        self._deadline = deadline
        if frame_seen or self._proto.lost.done():
            self.frame_seen()
        elif deadline is not None:
            self._timer = self._proto.loop.call_at(deadline, self._no_frame)

    def frame_seen(self) -> None:
        """The server's close frame came, or the input failed: now TCP's end."""
        if self.done or self._await_eof:
            return
        self._await_eof = True
        self._cancel_timer()
        proto = self._proto
        if proto.lost.done():
            self.finish()
            return
        loop = proto.loop
        deadline = self._deadline
        grace = EOF_GRACE if deadline is None else max(0.0, min(EOF_GRACE, deadline - loop.time()))
        self._timer = loop.call_later(grace, self._no_eof)

    def _no_frame(self) -> None:
        self._timer = None
        proto = self._proto
        try:
            proto.close_timed_out()
            proto.abort()
        finally:  # whatever happens, no close() waits on past its deadline
            self.finish()

    def _no_eof(self) -> None:
        self._timer = None
        transport = self._proto.transport
        try:
            if transport is not None:
                transport.close()
        finally:
            self.finish()

    def finish(self) -> None:
        """Done (TCP closed, or given up on): wake every ``close()`` waiting."""
        self.done = True
        self._cancel_timer()
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def when_done(self, callback: Callable[[], None]) -> None:
        """``callback()`` once the close is done (at once if it is): a waiter that costs
        no task, for callers outside this loop (the blocking ``close()``)."""
        if self.done:
            callback()
        else:
            self._callbacks.append(callback)

    async def wait(self) -> None:
        if self.done:
            return
        waiter: "asyncio.Future[None]" = self._proto.loop.create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:  # cancelled: the close goes on without this caller
                self._waiters.remove(waiter)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
