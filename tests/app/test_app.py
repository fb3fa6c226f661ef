"""WebSocketApp against real servers: callback order, the caller's thread, errors,
close() from anywhere, reconnects, heartbeats and pings."""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, List, Optional, Tuple

import pytest

import syncws
from syncws import WebSocketApp
from syncws.sync.loop_thread import get_loop_thread
from tests.servers import RawPeer, RawServer, Script, frame

RawServerFactory = Callable[[Script], RawServer]


class Recorder:
    """Callbacks that write down what happened, and in which thread."""

    def __init__(self) -> None:
        self.events: List[Tuple[Any, ...]] = []
        self.threads: List[int] = []
        self.errors: List[BaseException] = []

    def note(self, *event: Any) -> None:
        self.events.append(event)
        self.threads.append(threading.get_ident())

    def on_open(self, app: WebSocketApp) -> None:
        self.note("open")

    def on_message(self, app: WebSocketApp, message: Any) -> None:
        self.note("message", message)

    def on_ping(self, app: WebSocketApp, data: bytes) -> None:
        self.note("ping", data)

    def on_error(self, app: WebSocketApp, error: BaseException) -> None:
        self.errors.append(error)
        self.note("error", type(error).__name__)

    def on_close(self, app: WebSocketApp, code: Optional[int], reason: Optional[str]) -> None:
        self.note("close", code, reason)

    def callbacks(self) -> dict:  # type: ignore[type-arg]
        return {
            "on_open": self.on_open,
            "on_message": self.on_message,
            "on_error": self.on_error,
            "on_close": self.on_close,
        }


def test_echo_round_trip_in_the_callers_thread(ws_url: str) -> None:
    rec = Recorder()

    def on_open(app: WebSocketApp) -> None:
        rec.note("open")
        app.send("hello")
        app.send(b"\x00\x01")

    def on_message(app: WebSocketApp, message: Any) -> None:
        rec.note("message", message)
        if isinstance(message, bytes):
            app.close()

    app = WebSocketApp(ws_url + "/echo", **{**rec.callbacks(), "on_open": on_open, "on_message": on_message})
    assert app.run_forever() is False
    assert rec.events == [("open",), ("message", "hello"), ("message", b"\x00\x01"), ("close", 1000, None)]
    assert set(rec.threads) == {threading.get_ident()}
    assert get_loop_thread().thread.ident not in rec.threads
    assert app.ws is None and app.keep_running is False


def test_send_variants(ws_url: str) -> None:
    got: List[Any] = []

    def on_open(app: WebSocketApp) -> None:
        app.send(b"as text", opcode=1)
        app.send("as binary", opcode=2)
        app.send_text("text")
        app.send_bytes(b"bytes")
        with pytest.raises(ValueError, match="opcode"):
            app.send("x", opcode=9)

    def on_message(app: WebSocketApp, message: Any) -> None:
        got.append(message)
        if len(got) == 4:
            app.close()

    assert WebSocketApp(ws_url, on_open=on_open, on_message=on_message).run_forever() is False
    assert got == ["as text", b"as binary", "text", b"bytes"]


def test_server_close_code_and_reason_reach_on_close(ws_url: str) -> None:
    rec = Recorder()
    app = WebSocketApp(ws_url + "/close/4001", **rec.callbacks())
    assert app.run_forever() is False  # a close frame is not an error
    assert rec.events == [("open",), ("close", 4001, "server says bye")]


def test_refused_connection_calls_on_error_then_on_close(unused_port: int) -> None:
    rec = Recorder()
    app = WebSocketApp(f"ws://127.0.0.1:{unused_port}/", **rec.callbacks())
    assert app.run_forever() is True
    assert rec.events == [("error", "ClientConnectionError"), ("close", None, None)]


def test_handshake_refusal_is_not_retried_even_with_reconnect(ws_url: str) -> None:
    rec = Recorder()
    app = WebSocketApp(ws_url + "/status/403", **rec.callbacks())
    assert app.run_forever(reconnect=0.01) is True  # a 403 would fail the same way again
    assert rec.events == [("error", "WSServerHandshakeError"), ("close", None, None)]


def test_exception_in_a_callback_goes_to_on_error_and_the_app_goes_on(ws_url: str) -> None:
    rec = Recorder()

    def on_open(app: WebSocketApp) -> None:
        app.send("boom")
        app.send("fine")

    def on_message(app: WebSocketApp, message: Any) -> None:
        rec.note("message", message)
        if message == "boom":
            raise LookupError("bad message")
        app.close()

    app = WebSocketApp(ws_url, on_open=on_open, on_message=on_message, on_error=rec.on_error)
    assert app.run_forever() is False
    assert rec.events == [("message", "boom"), ("error", "LookupError"), ("message", "fine")]


def test_close_from_another_thread_ends_run_forever(ws_url: str) -> None:
    opened = threading.Event()
    rec = Recorder()
    results: List[bool] = []
    app = WebSocketApp(ws_url + "/silent", on_open=lambda app: opened.set(), on_close=rec.on_close)
    runner = threading.Thread(target=lambda: results.append(app.run_forever()))
    runner.start()
    assert opened.wait(10)
    app.close(status=1001, reason="bye")
    runner.join(10)
    assert results == [False]
    assert rec.events == [("close", 1001, "bye")]  # the server echoed our code and reason


def test_close_before_run_forever_connects(ws_url: str) -> None:
    rec = Recorder()
    app = WebSocketApp(ws_url, **rec.callbacks())
    app.close()  # nothing to close yet; run_forever() starts afresh
    with pytest.raises(syncws.ConnectionClosed):
        app.send("not connected")

    def on_open(app: WebSocketApp) -> None:
        rec.note("open")
        app.close()

    app.on_open = on_open
    assert app.run_forever() is False
    assert rec.events == [("open",), ("close", 1000, None)]


def test_header_cookie_and_subprotocols(ws_url: str) -> None:
    info: List[Any] = []

    def on_message(app: WebSocketApp, message: Any) -> None:
        info.append(json.loads(message))
        app.close()

    app = WebSocketApp(
        ws_url + "/info",
        header=["X-One: 1", "X-Two: two"],
        cookie="a=1; b=2",
        subprotocols=["chat"],
        on_message=on_message,
        on_open=lambda app: info.append(app.ws.protocol if app.ws else None),
    )
    assert app.run_forever() is False
    assert info[0] == "chat"
    headers = {k.lower(): v for k, v in info[1]["headers"]}
    assert headers["x-one"] == "1" and headers["x-two"] == "two" and headers["cookie"] == "a=1; b=2"
    assert info[1]["subprotocol"] == "chat"


def test_header_callable_is_called_at_each_connect(ws_url: str) -> None:
    calls: List[int] = []
    seen: List[str] = []

    def header() -> dict:  # type: ignore[type-arg]
        calls.append(1)
        return {"X-Call": str(len(calls))}

    def on_message(app: WebSocketApp, message: Any) -> None:
        seen.append(dict((k.lower(), v) for k, v in json.loads(message)["headers"])["x-call"])
        app.close()

    assert WebSocketApp(ws_url + "/info", header=header, on_message=on_message).run_forever() is False
    assert calls == [1] and seen == ["1"]


def test_bad_arguments_fail_before_any_io() -> None:
    with pytest.raises(syncws.InvalidURL):
        WebSocketApp("ftp://127.0.0.1/")
    with pytest.raises(syncws.InvalidHeader):
        WebSocketApp("ws://127.0.0.1/", header={"X-Bad": "a\r\nb"})
    with pytest.raises(ValueError, match="Name: value"):
        WebSocketApp("ws://127.0.0.1/", header=["no colon"])
    with pytest.raises(TypeError, match="header="):
        WebSocketApp("ws://127.0.0.1/", headers={"a": "b"})
    with pytest.raises(TypeError, match="subprotocols="):
        WebSocketApp("ws://127.0.0.1/", protocols=["chat"])
    with pytest.raises(TypeError, match="ping_interval"):
        WebSocketApp("ws://127.0.0.1/", heartbeat=5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        WebSocketApp("ws://127.0.0.1/", on_data=print)  # type: ignore[call-arg]
    app = WebSocketApp("ws://127.0.0.1/")
    with pytest.raises(ValueError, match="greater than ping_timeout"):
        app.run_forever(ping_interval=5, ping_timeout=5)
    with pytest.raises(ValueError, match="reconnect"):
        app.run_forever(reconnect=-1)


def test_run_forever_twice_at_once_is_refused(ws_url: str) -> None:
    inner: List[BaseException] = []

    def on_open(app: WebSocketApp) -> None:
        try:
            app.run_forever()
        except RuntimeError as exc:
            inner.append(exc)
        app.close()

    assert WebSocketApp(ws_url, on_open=on_open).run_forever() is False
    assert len(inner) == 1 and "already running" in str(inner[0])


def test_keyboard_interrupt_is_an_error_closes_with_1001_and_returns_true(ws_url: str) -> None:
    """As websocket-client: on_error(KeyboardInterrupt), then on_close, and run_forever()
    returns True; the close frame on the wire says 1001 (going away)."""
    rec = Recorder()

    def on_open(app: WebSocketApp) -> None:
        app.send("go")

    def on_message(app: WebSocketApp, message: Any) -> None:
        raise KeyboardInterrupt

    app = WebSocketApp(ws_url, on_open=on_open, on_message=on_message, on_error=rec.on_error, on_close=rec.on_close)
    assert app.run_forever(reconnect=0.01) is True
    assert rec.events == [("error", "KeyboardInterrupt"), ("close", 1001, None)]


def test_reconnects_after_an_abnormal_end(raw_server: RawServerFactory) -> None:
    connections: List[int] = []

    async def script(peer: RawPeer) -> None:
        connections.append(1)
        await peer.handshake()
        if len(connections) == 1:
            return  # drop TCP without a close frame: 1006
        peer.send(frame(1, b"second"))
        await peer.read_close()
        peer.send(frame(8, b"\x03\xe8"))

    server = raw_server(script)
    rec = Recorder()

    def on_message(app: WebSocketApp, message: Any) -> None:
        rec.note("message", message)
        app.close()

    app = WebSocketApp(
        server.url, on_open=rec.on_open, on_reconnect=lambda app: rec.note("reconnect"),
        on_message=on_message, on_error=rec.on_error, on_close=rec.on_close,
    )
    assert app.run_forever(reconnect=0.01) is False
    assert rec.events == [
        ("open",),
        ("error", "ConnectionClosedError"),
        ("close", 1006, None),
        ("reconnect",),
        ("message", "second"),
        ("close", 1000, None),
    ]
    assert len(connections) == 2


def test_without_reconnect_an_abnormal_end_returns_true(raw_server: RawServerFactory) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()

    rec = Recorder()
    app = WebSocketApp(raw_server(script).url, **rec.callbacks())
    assert app.run_forever() is True
    assert rec.events == [("open",), ("error", "ConnectionClosedError"), ("close", 1006, None)]


def test_ping_interval_detects_a_server_that_never_answers(raw_server: RawServerFactory) -> None:
    pings: List[int] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        opcode, _, _ = await peer.read_frame()
        pings.append(opcode)
        await peer.at_eof()  # never pong; the client gives up and cuts TCP

    rec = Recorder()
    app = WebSocketApp(raw_server(script).url, **rec.callbacks())
    assert app.run_forever(ping_interval=0.2, ping_timeout=0.1) is True
    assert pings == [9]
    assert rec.events == [("open",), ("error", "ServerTimeoutError"), ("close", 1006, None)]


def test_on_ping_and_on_pong(raw_server: RawServerFactory) -> None:
    pongs: List[bytes] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(9, b"are you there"))
        opcode, _, payload = await peer.read_frame()
        assert opcode == 10
        pongs.append(payload)
        opcode, _, payload = await peer.read_frame()  # the client's ping, from on_ping
        assert opcode == 9
        peer.send(frame(10, payload))
        await peer.read_close()
        peer.send(frame(8, b"\x03\xe8"))

    rec = Recorder()

    def on_ping(app: WebSocketApp, data: bytes) -> None:
        rec.note("ping", data)
        assert app.ws is not None
        app.ws.ping(b"and you?")

    def on_pong(app: WebSocketApp, data: bytes) -> None:
        rec.note("pong", data)
        app.close()

    app = WebSocketApp(raw_server(script).url, on_ping=on_ping, on_pong=on_pong, on_close=rec.on_close)
    assert app.run_forever() is False
    assert pongs == [b"are you there"]  # answered before on_ping ran
    assert rec.events == [("ping", b"are you there"), ("pong", b"and you?"), ("close", 1000, None)]


def test_close_during_the_reconnect_wait(unused_port: int) -> None:
    failed = threading.Event()
    rec = Recorder()

    def on_error(app: WebSocketApp, error: BaseException) -> None:
        rec.note("error", type(error).__name__)
        failed.set()

    app = WebSocketApp(f"ws://127.0.0.1:{unused_port}/", on_error=on_error, on_close=rec.on_close)
    results: List[bool] = []
    runner = threading.Thread(target=lambda: results.append(app.run_forever(reconnect=30)))
    runner.start()
    assert failed.wait(10)
    app.close()  # wakes the 15..30 s wait at once
    runner.join(10)
    assert not runner.is_alive()
    assert results == [True]
    assert rec.events == [("error", "ClientConnectionError"), ("close", None, None)]


def test_repr(ws_url: str) -> None:
    app = WebSocketApp(ws_url)
    assert repr(app) == f"<WebSocketApp {ws_url} idle>"


def test_without_on_error_a_callback_exception_is_logged(ws_url: str, caplog: pytest.LogCaptureFixture) -> None:
    def on_open(app: WebSocketApp) -> None:
        app.send("x")
        raise ZeroDivisionError("in on_open")

    app = WebSocketApp(ws_url, on_open=on_open, on_message=lambda app, message: app.close())
    with caplog.at_level("ERROR", logger="syncws.client"):
        assert app.run_forever() is False  # the app went on to on_message, which closed it
    records = [r for r in caplog.records if r.name == "syncws.client"]
    assert len(records) == 1 and records[0].levelname == "ERROR"
    assert "in on_open" in records[0].getMessage() and records[0].exc_info is not None


def test_a_ping_right_before_the_servers_close_still_ends_with_on_close(raw_server: RawServerFactory) -> None:
    """With on_ping set the app answers pings itself; a ping and the close in one write
    made that pong fail with ConnectionClosed out of run_forever(), and on_close never ran."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(9, b"last ping") + frame(8, b"\x03\xe8bye"))
        await peer.read_close()
        peer.writer.close()

    for _ in range(5):
        rec = Recorder()
        app = WebSocketApp(
            raw_server(script).url, on_ping=rec.on_ping, on_close=rec.on_close, on_error=rec.on_error
        )
        assert app.run_forever() is False
        assert rec.events == [("ping", b"last ping"), ("close", 1000, "bye")]
