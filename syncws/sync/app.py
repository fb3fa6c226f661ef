"""``WebSocketApp``: websocket-client's callback application on syncws connections.

The connection lives on the shared ``syncws-loop`` thread like every sync
connection; the callbacks run in the thread that called ``run_forever()``,
never on the loop thread, so a callback may block (it only delays the next
message, and the bounded queue pushes back on the server meanwhile).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from typing_extensions import Unpack

from ..aio.options import ConnectOptions, Options
from ..aio.reconnect import backoff_delay, is_permanent
from ..log import client_logger
from ..protocol.close_codes import WSCloseCode
from ..protocol.errors import ConnectionClosed
from ..protocol.headers import Headers
from ..protocol.messages import WSMsgType
from ..protocol.url import parse_url
from .blocking import interruptible
from .client import connect
from .websocket import SyncWebSocket

__all__ = ["WebSocketApp"]

HeaderList = Union[Mapping[str, str], Sequence[str], Sequence[Tuple[str, str]]]
HeaderArg = Union[None, HeaderList, Callable[[], HeaderList]]
Callback = Callable[..., Any]

_RECONNECT_MAX = 60.0


class WebSocketApp:
    """Callbacks over one connection at a time: ``on_open(app)``,
    ``on_message(app, str | bytes)``, ``on_error(app, exception)``,
    ``on_close(app, code, reason)``; ``on_reconnect(app)`` (instead of
    ``on_open`` after a reconnect), ``on_ping(app, bytes)``, ``on_pong(app, bytes)``.

    ``header`` is a mapping, ``"Name: value"`` strings, pairs, or a callable
    returning one of these (called at each connect); ``subprotocols`` are
    offered in order; ``cookie`` is a ready ``Cookie`` header value. Every
    other keyword is a ``syncws.connect()`` option.
    """

    def __init__(
        self,
        url: str,
        header: HeaderArg = None,
        *,
        on_open: Optional[Callback] = None,
        on_reconnect: Optional[Callback] = None,
        on_message: Optional[Callback] = None,
        on_error: Optional[Callback] = None,
        on_close: Optional[Callback] = None,
        on_ping: Optional[Callback] = None,
        on_pong: Optional[Callback] = None,
        subprotocols: Optional[Sequence[str]] = None,
        cookie: Optional[str] = None,
        **options: Unpack[ConnectOptions],
    ) -> None:
        for ours, theirs in (("header", "headers"), ("subprotocols", "protocols")):
            if theirs in options:
                raise TypeError(f"pass {ours}=, not {theirs}=, to WebSocketApp")
        for name in ("autoping", "heartbeat"):
            if name in options:
                raise TypeError(f"WebSocketApp sets {name} itself: give on_ping= / run_forever(ping_interval=)")
        self.url = url
        self.header = header
        self.on_open = on_open
        self.on_reconnect = on_reconnect
        self.on_message = on_message
        self.on_error = on_error
        self.on_close = on_close
        self.on_ping = on_ping
        self.on_pong = on_pong
        self.subprotocols = tuple(subprotocols or ())
        self.cookie = cookie
        self.keep_running = False
        self.ws: Optional[SyncWebSocket] = None  # the current connection, while there is one
        self._options: Dict[str, Any] = dict(options)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._running = False
        parse_url(url)
        if not callable(header):
            Options.from_kwargs(self._connect_options(None))  # bad arguments fail here, before any I/O

    # -- from any thread ---------------------------------------------------------------
    def send(self, data: Union[str, bytes], opcode: Optional[int] = None) -> None:
        """Send ``data``: str as text, bytes as binary (or as ``opcode`` 1 / 2 says).

        Safe from any thread; raises ``ConnectionClosed`` when not connected.
        """
        ws = self._current()
        if opcode == WSMsgType.BINARY or (opcode is None and not isinstance(data, str)):
            ws.send_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        elif opcode in (None, WSMsgType.TEXT):
            ws.send_str(data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data)
        else:
            raise ValueError(f"opcode must be 1 (text) or 2 (binary), not {opcode!r}")

    def send_text(self, text: str) -> None:
        """Send a text message (websocket-client's name)."""
        self._current().send_str(text)

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message (websocket-client's name)."""
        self._current().send_bytes(data)

    def close(self, status: int = WSCloseCode.OK, reason: Union[str, bytes] = b"") -> None:
        """Stop ``run_forever()``: close the connection (blocking until the closing
        handshake is done) and do not reconnect. Safe from any thread, callbacks included."""
        with self._lock:
            self.keep_running = False
            self._stop.set()
            ws = self.ws
        if ws is not None:
            ws.close(code=status, message=reason)

    def _current(self) -> SyncWebSocket:
        ws = self.ws
        if ws is None:
            raise ConnectionClosed("the WebSocketApp is not connected", None)
        return ws

    # -- the caller's thread ------------------------------------------------------------
    def run_forever(
        self, ping_interval: float = 0, ping_timeout: Optional[float] = None, reconnect: Optional[float] = None
    ) -> bool:
        """Connect and dispatch messages to the callbacks until closed; blocks this thread.

        ``ping_interval``: seconds of silence before a ping; with no pong
        within half of it the connection is dead (``heartbeat=``).
        ``ping_timeout`` is checked as websocket-client does (below
        ping_interval) but the pong deadline is always ping_interval / 2.
        ``reconnect``: seconds before connecting again after an abnormal end
        (doubling on each failure, with jitter, up to 60 s); None or 0: never.

        Returns True if an error ended it, Ctrl-C included (after ``on_error``
        with the KeyboardInterrupt); False after ``close()`` or a close frame
        from the server: websocket-client's meanings.
        """
        heartbeat = _check_ping(ping_interval, ping_timeout)
        if reconnect is not None and (not isinstance(reconnect, (int, float)) or reconnect < 0):
            raise ValueError(f"reconnect must be a number of seconds >= 0 or None, not {reconnect!r}")
        with self._lock:
            if self._running:
                raise RuntimeError("run_forever() is already running")
            self._running = True
            self._stop.clear()
            self.keep_running = True
        try:
            return self._run(heartbeat, float(reconnect or 0))
        finally:
            with self._lock:
                self._running = False
                self.keep_running = False
                self.ws = None

    def _run(self, heartbeat: Optional[float], reconnect: float) -> bool:
        failures = 0
        opened_before = False
        while True:
            try:
                ws = connect(self.url, **self._connect_options(heartbeat))
            except KeyboardInterrupt as exc:  # as websocket-client: an error, reported, then the end
                self._callback(self.on_error, exc)
                self._callback(self.on_close, None, None)
                return True
            except Exception as exc:
                self._callback(self.on_error, exc)
                if not reconnect or is_permanent(exc) or self._wait(reconnect, failures):
                    self._callback(self.on_close, None, None)
                    return True
                failures += 1
                continue
            failures = 0
            with self._lock:
                stopping = self._stop.is_set()
                if not stopping:
                    self.ws = ws
            if stopping:  # close() came while we were connecting
                ws.close()
                self._callback(self.on_close, ws.close_code, None)
                return False
            client_logger.info("connected to %s", self.url)
            if opened_before and self.on_reconnect is not None:
                self._callback(self.on_reconnect)
            else:
                self._callback(self.on_open)
            opened_before = True
            interrupted, error, normal = self._dispatch(ws)
            if interrupted:
                return True
            if self._stop.is_set() or normal or not reconnect:
                return error
            if self._wait(reconnect, 0):
                return error
            failures = 1

    def _wait(self, reconnect: float, failures: int) -> bool:
        """Back off before the next try; True if close() came meanwhile."""
        delay = backoff_delay(failures, reconnect, max(reconnect, _RECONNECT_MAX))
        client_logger.info("reconnecting to %s in %.3g s", self.url, delay)
        return interruptible(self._stop.wait, delay)

    def _dispatch(self, ws: SyncWebSocket) -> Tuple[bool, bool, bool]:
        """Deliver messages until this connection ends: (interrupted, error, normal end)."""
        code: Optional[int] = None
        reason: Optional[str] = None
        interrupted = False
        try:
            while True:
                msg = ws.receive()
                kind = msg.type
                if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
                    self._callback(self.on_message, msg.data)
                elif kind is WSMsgType.PING:
                    try:
                        ws.pong(msg.data)  # answered before on_ping runs, as autoping would
                    except ConnectionClosed:
                        pass  # the close behind it already went out: it ends the loop next
                    self._callback(self.on_ping, msg.data)
                elif kind is WSMsgType.PONG:
                    self._callback(self.on_pong, msg.data)
                elif kind is WSMsgType.CLOSE:
                    code, reason = msg.data, _reason(msg.extra)
                elif kind is WSMsgType.ERROR:
                    pass  # reported below, from ws.exception(), once
                else:  # CLOSING, CLOSED
                    break
        except KeyboardInterrupt as exc:
            interrupted = True
            with self._lock:
                self.keep_running = False
                self._stop.set()
            self._callback(self.on_error, exc)  # websocket-client reports Ctrl-C as an error
        with self._lock:
            self.ws = None
        try:
            ws.close(code=WSCloseCode.GOING_AWAY if interrupted else WSCloseCode.OK)
        except Exception as exc:  # a close that fails still ends this connection
            client_logger.debug("closing %s failed: %s", self.url, exc)
        error = ws.exception()
        if error is not None:
            self._callback(self.on_error, error)
        if code is None:  # our close, or the connection was lost: what the connection saw
            code, reason = ws.close_code, _reason(ws.close_reason)
        self._callback(self.on_close, code, reason)
        normal = error is None and (code is None or code == WSCloseCode.OK)
        return interrupted, error is not None, normal

    def _callback(self, callback: Optional[Callback], *args: Any) -> None:
        """Run a callback; an exception goes to on_error (or, without one, to the log)
        and the app goes on."""
        if callback is None:
            return
        try:
            callback(self, *args)
        except Exception as exc:
            if self.on_error is None or callback is self.on_error:
                client_logger.error("error from callback %r: %s", callback, exc, exc_info=True)
                return
            client_logger.debug("error from callback %r: %s", callback, exc, exc_info=True)
            try:
                self.on_error(self, exc)
            except Exception:
                client_logger.exception("error from on_error")

    def _connect_options(self, heartbeat: Optional[float]) -> Dict[str, Any]:
        options = dict(self._options)
        header = self.header() if callable(self.header) else self.header
        headers: List[Tuple[str, str]] = Headers(header).items() if header is not None else []
        if self.cookie:
            headers.append(("Cookie", self.cookie))
        if headers:
            options["headers"] = headers
        if self.subprotocols:
            options["protocols"] = self.subprotocols
        options["autoping"] = self.on_ping is None and self.on_pong is None
        options["heartbeat"] = heartbeat
        return options

    def __repr__(self) -> str:
        state = "running" if self._running else "idle"
        return f"<WebSocketApp {self.url} {state}>"


def _check_ping(ping_interval: float, ping_timeout: Optional[float]) -> Optional[float]:
    if not isinstance(ping_interval, (int, float)) or ping_interval < 0:
        raise ValueError(f"ping_interval must be a number of seconds >= 0, not {ping_interval!r}")
    if ping_timeout is not None:
        if not isinstance(ping_timeout, (int, float)) or ping_timeout <= 0:
            raise ValueError(f"ping_timeout must be a positive number or None, not {ping_timeout!r}")
        if ping_interval and ping_timeout >= ping_interval:
            raise ValueError("ping_interval must be greater than ping_timeout")
    return float(ping_interval) if ping_interval else None


def _reason(extra: Any) -> Optional[str]:
    if isinstance(extra, (bytes, bytearray)):
        return bytes(extra).decode("utf-8", "replace") or None
    return extra or None
