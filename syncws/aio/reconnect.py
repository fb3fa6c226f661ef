"""Reconnecting: which failures deserve another try, how long to wait before it, and
which endings of a connection stop the loop. Shared by both APIs."""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import ssl
from typing import AsyncGenerator, Awaitable, Callable, Optional, Tuple

from ..protocol.close_codes import WSCloseCode
from ..protocol.errors import WSServerHandshakeError
from .caller import warn_at_caller
from .connection import WebSocketProtocol
from .errors import ProxyError, RedirectError
from .options import Options
from .response import ClientWebSocketResponse
from .tls import ClientSSLError, ServerFingerprintMismatch

__all__ = [
    "AsyncReconnecting",
    "Backoff",
    "Ending",
    "ReconnectWarning",
    "TrackedProtocol",
    "backoff_delay",
    "ending",
    "is_permanent",
    "logger",
]

logger = logging.getLogger("syncws")

# 4xx answers that mean "later", not "never".
_TRANSIENT_4XX = frozenset({408, 429})


def is_permanent(exc: BaseException) -> bool:
    """Whether trying again would fail the same way: bad arguments, a 4xx answer (but
    408, 429), a certificate that does not verify, a redirect we refuse.

    Refused or dropped connections, timeouts, 5xx answers and unreachable
    proxies are worth another try.
    """
    if isinstance(exc, ServerFingerprintMismatch):
        return True
    if isinstance(exc, ClientSSLError):
        return isinstance(exc.__cause__, ssl.SSLCertVerificationError)
    if isinstance(exc, RedirectError):
        return True
    if isinstance(exc, (WSServerHandshakeError, ProxyError)):
        status = exc.status
        if isinstance(exc, ProxyError) and status == 0:
            return False  # the proxy could not be reached or gave no HTTP answer
        return not (status in _TRANSIENT_4XX or 500 <= status <= 599)
    # Refused, reset, unreachable, timed out: worth another try. Anything else is
    # InvalidURL, InvalidHeader, TypeError, ImportError, or unforeseen: permanent.
    return not isinstance(exc, (OSError, asyncio.TimeoutError))


def backoff_delay(
    failures: int, initial: float, maximum: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0 for the first): random
    in [c/2, c] with c = min(maximum, initial * 2**failures), so waits grow but never
    line up across clients that lost the same server."""
    cap = min(maximum, initial * 2.0 ** min(failures, 64))
    return cap / 2 + cap / 2 * rand()


class TrackedProtocol(WebSocketProtocol):
    """Remembers whether our side asked to close while the connection was still open,
    which is what ends a reconnect loop."""

    closed_by_user = False

    def begin_close(self, code: int, reason: bytes) -> bool:
        # Every close of ours starts here, on the loop or in a sync caller's thread.
        started = super().begin_close(code, reason)
        if started:
            self.closed_by_user = True
        return started


class Ending(enum.Enum):
    STILL_OPEN = "still open"  # the loop body finished without closing: close it, connect again at once
    STOP = "stop"  # ws.close() by the user, or the server's normal close (1000)
    RECONNECT = "reconnect"  # anything else: connect again after a backoff


def ending(proto: WebSocketProtocol) -> Ending:
    if not proto.closed:
        return Ending.STILL_OPEN
    if isinstance(proto, TrackedProtocol) and proto.closed_by_user:
        return Ending.STOP
    if proto.exception is None and proto.close_code == WSCloseCode.OK:
        return Ending.STOP
    return Ending.RECONNECT


def _describe_end(proto: WebSocketProtocol) -> str:
    if proto.exception is not None:
        return f"{type(proto.exception).__name__}: {proto.exception}"
    return f"closed by the server with code {proto.close_code}"


class ReconnectWarning(UserWarning):
    """A reconnect loop is trying again: each retry is one, shown like any warning without
    configuring logging. ``warnings.simplefilter("ignore", syncws.ReconnectWarning)``
    silences them; the ``syncws`` logger has the same lines at INFO."""


def _warn(message: str) -> None:
    warn_at_caller(message, ReconnectWarning)


class Backoff:
    """The waits of one reconnect loop: growing over consecutive failures, reset by a
    successful handshake; each one logged."""

    def __init__(self, options: Options, url: str) -> None:
        self._initial = options.reconnect_initial
        self._max = options.reconnect_max
        self._url = url
        self._failures = 0

    def failed(self, exc: BaseException) -> float:
        """After a transient failure to connect."""
        wait = backoff_delay(self._failures, self._initial, self._max)
        self._failures += 1
        logger.info("connecting to %s failed (%s); next try in %.3g s", self._url, exc, wait)
        _warn(f"connecting to {self._url} failed ({exc}); try {self._failures + 1} in {wait:.3g} s")
        return wait

    def connected(self) -> None:
        self._failures = 0

    def lost(self, proto: WebSocketProtocol) -> float:
        """After a connection that worked ended abnormally: the first wait of a new series."""
        wait = backoff_delay(0, self._initial, self._max)
        self._failures = 1
        logger.info("connection to %s lost (%s); reconnecting in %.3g s", proto.url, _describe_end(proto), wait)
        _warn(f"connection to {proto.url} lost ({_describe_end(proto)}); reconnecting in {wait:.3g} s")
        return wait


Opener = Callable[[], Awaitable[Tuple[ClientWebSocketResponse, WebSocketProtocol]]]


def _never() -> bool:
    return False


class AsyncReconnecting:
    """What ``ws_connect(url, reconnect=True)`` returns: ``async for ws in ...`` yields a
    fresh connection after every abnormal end (rules in docs/connectivity.md).

    Leaving the loop (break, return, an exception) closes the current
    connection once the event loop finalises the iterator; to close it at
    once, keep the iterator (``it = ws_connect(...).__aiter__()``) and
    ``await it.aclose()``, or use ``contextlib.aclosing``.
    """

    def __init__(self, open_once: Opener, options: Options, url: str, *, stopped: Callable[[], bool] = _never) -> None:
        self._open = open_once
        self._options = options
        self._url = url
        self._stopped = stopped

    def __aiter__(self) -> AsyncGenerator[ClientWebSocketResponse, None]:
        return self._run()

    async def _run(self) -> AsyncGenerator[ClientWebSocketResponse, None]:
        backoff = Backoff(self._options, self._url)
        wait: Optional[float] = None
        while True:
            if wait is not None:
                await asyncio.sleep(wait)
            if self._stopped():
                return
            try:
                ws, proto = await self._open()
            except Exception as exc:
                if is_permanent(exc):
                    raise
                wait = backoff.failed(exc)
                continue
            backoff.connected()
            if self._stopped():  # e.g. the session closed while we connected
                await ws.close(code=WSCloseCode.GOING_AWAY)
                return
            try:
                yield ws
            except BaseException:  # GeneratorExit: the loop was left
                await ws.close()
                raise
            end = ending(proto)
            if end is Ending.STOP:
                return
            if end is Ending.STILL_OPEN:
                await ws.close()
                wait = None
            else:
                wait = backoff.lost(proto)
