"""Faults: every one ends in a typed exception within its timeout, and leaves nothing behind.

Peer killed (SIGKILL) mid-message, TCP RST, half-open connections (a relay
that black-holes traffic), slow-loris servers, servers that never close.
Timeouts are small; the assertions are on outcomes, never on durations.
Each test also checks (``no_leaks``) that threads, file descriptors, tasks
on the syncws loop and open connections are back to where they were.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import threading
from typing import Any, Callable, Dict, List

import pytest

import syncws
from syncws.sync.loop_thread import get_loop_thread
from tests.relay import Relay
from tests.reliability.support import (
    EchoServerProcess,
    Snapshot,
    assert_no_leaks,
    reset_on_close,
    thread_blocked_in,
    wait_until,
)
from tests.servers import RawPeer, frame

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]

SMALL = 0.5  # every timeout under test

# A raw peer in its own process: handshake, half a message, then nothing (it never reads).
_PEER = textwrap.dedent(
    r"""
    import base64, hashlib, socket, sys
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv(4096)
    key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key")][0]
    accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    conn.sendall(bytes([0x82, 126]) + (1000).to_bytes(2, "big") + b"x" * 100)  # 100 of 1000 bytes
    print("mid-message", flush=True)
    sys.stdin.read()
    """
)


def _blocked_sender(ws: Any, errors: List[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            for _ in range(10_000):
                ws.send_bytes(b"\x00" * 2**18)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    wait_until(lambda: thread_blocked_in(t, {"wait_sync"}), what="sender blocked by backpressure")
    return t


def _blocked_receiver(ws: Any, got: List[Any]) -> threading.Thread:
    t = threading.Thread(target=lambda: got.append(ws.receive()))
    t.start()
    wait_until(lambda: ws._queue.receiving, what="receiver blocked")
    return t


def _assert_ended_abnormally(ws: Any, expected: type = syncws.ConnectionClosedError) -> None:
    assert isinstance(ws.exception(), expected), repr(ws.exception())
    assert isinstance(ws.exception(), syncws.WebSocketError)
    assert ws.closed and ws.close_code == 1006
    msg = ws.receive(timeout=5)
    if msg.type is syncws.WSMsgType.ERROR:  # not taken yet by a receiver: it comes first, then CLOSED
        assert msg.data is ws.exception()
        msg = ws.receive(timeout=5)
    assert msg.type is syncws.WSMsgType.CLOSED
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_str("after the end")
    assert ws.close() is False


# -- peer process killed ------------------------------------------------------------------

@pytest.mark.parametrize("blocked", ["receive", "send"])
def test_peer_killed_mid_message(blocked: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _PEER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        ws = syncws.connect(f"ws://127.0.0.1:{port}/", close_timeout=SMALL, compress=0)
        assert proc.stdout.readline().strip() == "mid-message"
        got: List[Any] = []
        errors: List[BaseException] = []
        t = _blocked_receiver(ws, got) if blocked == "receive" else _blocked_sender(ws, errors)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        t.join(10)
        assert not t.is_alive()
        if blocked == "receive":
            assert got[0].type is syncws.WSMsgType.ERROR and isinstance(got[0].data, syncws.ConnectionClosedError)
        else:
            assert len(errors) == 1 and isinstance(errors[0], syncws.ConnectionClosed)
        _assert_ended_abnormally(ws)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for f in (proc.stdin, proc.stdout):
            if f is not None:
                f.close()


def test_echo_server_process_killed_under_load() -> None:
    """Many connections mid-traffic when the server process dies: every thread ends with a typed error."""
    server = EchoServerProcess(max_seconds=60)
    try:
        conns = [syncws.connect(server.url, compress=0, close_timeout=SMALL) for _ in range(20)]
        echoes = [0] * len(conns)
        outcomes: List[Any] = [None] * len(conns)

        def talk(i: int) -> None:
            ws = conns[i]
            try:
                while True:
                    ws.send_str(f"{i}:{echoes[i]}")
                    msg = ws.receive()
                    if msg.type is not syncws.WSMsgType.TEXT:
                        outcomes[i] = msg
                        return
                    echoes[i] += 1
            except Exception as exc:
                outcomes[i] = exc

        threads = [threading.Thread(target=talk, args=(i,)) for i in range(len(conns))]
        for t in threads:
            t.start()
        wait_until(lambda: min(echoes) >= 10, what="traffic on every connection")
        server.proc.send_signal(signal.SIGKILL)
        for t in threads:
            t.join(10)
        assert not any(t.is_alive() for t in threads)
        for ws, out in zip(conns, outcomes):
            if isinstance(out, BaseException):
                assert isinstance(out, syncws.ConnectionClosed), repr(out)
            else:
                assert out.type is syncws.WSMsgType.ERROR and isinstance(out.data, syncws.ConnectionClosedError)
            _assert_ended_abnormally(ws)
    finally:
        server.proc.kill()
        server.stop()


# -- TCP reset ------------------------------------------------------------------------------

def _resetting_server(raw_server: Any, when: str) -> Any:
    go = threading.Event()

    async def script(peer: RawPeer) -> None:
        if when == "handshake":
            await peer.read_request()
            reset_on_close(peer.writer)
            return
        await peer.handshake()
        peer.send(frame(2, b"y" * 1000)[:200])  # a message cut short
        await asyncio.get_running_loop().run_in_executor(None, go.wait, 30)
        reset_on_close(peer.writer)

    server = raw_server(script)
    server.go = go
    return server


def test_rst_during_handshake(raw_server: Any) -> None:
    server = _resetting_server(raw_server, "handshake")
    for _ in range(3):
        with pytest.raises(syncws.ClientConnectionError) as err:
            syncws.connect(server.url, open_timeout=5)
        assert isinstance(err.value, syncws.WebSocketError)


@pytest.mark.parametrize("blocked", ["receive", "send", "idle"])
def test_rst_mid_message(raw_server: Any, blocked: str) -> None:
    server = _resetting_server(raw_server, "open")
    ws = syncws.connect(server.url, compress=0, close_timeout=SMALL)
    got: List[Any] = []
    errors: List[BaseException] = []
    t = None
    if blocked == "receive":
        t = _blocked_receiver(ws, got)
    elif blocked == "send":
        t = _blocked_sender(ws, errors)
    server.go.set()
    if t is not None:
        t.join(10)
        assert not t.is_alive()
    if blocked == "receive":
        assert got[0].type is syncws.WSMsgType.ERROR
        assert isinstance(got[0].data, syncws.ConnectionClosedError)
        assert isinstance(got[0].data.__cause__, ConnectionResetError)
    elif blocked == "send":
        assert len(errors) == 1 and isinstance(errors[0], syncws.ConnectionClosed)
    else:
        msg = ws.receive(timeout=10)
        assert msg.type is syncws.WSMsgType.ERROR
    _assert_ended_abnormally(ws)


# -- half-open: traffic black-holed, nothing closed ----------------------------------------

def _half_open(relay: Callable[[int], Relay], ws_port: int, **options: Any) -> "tuple[Any, Relay]":
    r = relay(ws_port)
    ws = syncws.connect(r.url, compress=0, **options)
    ws.send_str("through the relay")
    assert ws.receive_str(timeout=10) == "through the relay"
    r.cut()
    return ws, r


def test_half_open_close_times_out_and_cuts_tcp(relay: Any, ws_port: int) -> None:
    ws, _ = _half_open(relay, ws_port, close_timeout=SMALL)
    assert ws.close() is True
    assert isinstance(ws.exception(), syncws.CloseTimeout)
    assert ws.close_code == 1006

    async def tcp_cut() -> None:
        await asyncio.shield(ws._proto.lost)

    # TCP was cut, not left half-open: abort() ends it in the loop turn after the timeout
    # woke close(), so wait for that turn (a connection left half-open never gets there).
    get_loop_thread().run(tcp_cut, timeout=10)


def test_half_open_heartbeat_fails_blocked_receive(relay: Any, ws_port: int) -> None:
    ws, _ = _half_open(relay, ws_port, heartbeat=SMALL, close_timeout=SMALL)
    msg = ws.receive(timeout=30)  # no timeout of its own would end it: the heartbeat does
    assert msg.type is syncws.WSMsgType.ERROR and isinstance(msg.data, syncws.ServerTimeoutError)
    _assert_ended_abnormally(ws, syncws.ServerTimeoutError)
    assert ws._proto.lost.done()


def test_half_open_heartbeat_fails_blocked_send(relay: Any, ws_port: int) -> None:
    ws, _ = _half_open(relay, ws_port, heartbeat=SMALL, close_timeout=SMALL)
    errors: List[BaseException] = []
    t = _blocked_sender(ws, errors)
    t.join(30)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], syncws.ConnectionClosed)
    _assert_ended_abnormally(ws, syncws.ServerTimeoutError)


def test_half_open_receive_timeout_keeps_connection(relay: Any, ws_port: int) -> None:
    ws, _ = _half_open(relay, ws_port, close_timeout=SMALL)
    with pytest.raises(syncws.ReceiveTimeout):
        ws.receive(timeout=SMALL)
    assert not ws.closed  # documented: ReceiveTimeout leaves the connection open
    ws.close()
    assert isinstance(ws.exception(), syncws.CloseTimeout)


# -- slow-loris servers ----------------------------------------------------------------------

def _drip(raw_server: Any, bytes_per_second: float, response: bytes) -> "tuple[Any, Dict[str, Any]]":
    seen: Dict[str, Any] = {"sent": 0, "client_closed": False}

    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        try:
            for byte in response:
                try:
                    # paces the drip; returns early (b"") when the client hangs up
                    if await asyncio.wait_for(peer.reader.read(1), 1 / bytes_per_second) == b"":
                        break
                except asyncio.TimeoutError:
                    pass
                peer.send(bytes([byte]))
                seen["sent"] += 1
            else:
                return
        except (ConnectionError, OSError):
            pass
        seen["client_closed"] = True

    return raw_server(script), seen


def test_slow_loris_handshake_open_timeout(raw_server: Any) -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" + b"X-Pad: " + b"z" * 1000
    server, seen = _drip(raw_server, 1.0, head)  # 1 byte/s
    with pytest.raises(syncws.OpenTimeout) as err:
        syncws.connect(server.url, open_timeout=1.5)
    assert isinstance(err.value, TimeoutError)
    wait_until(lambda: seen["client_closed"], what="the server to see the client hang up")
    assert 0 < seen["sent"] < len(head)


def test_silent_server_open_timeout(raw_server: Any) -> None:
    done = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.at_eof()
        done.set()

    server = raw_server(script)
    with pytest.raises(syncws.OpenTimeout):
        syncws.connect(server.url, open_timeout=SMALL)
    assert done.wait(10)  # the client closed TCP


def test_tls_server_that_never_answers_open_timeout(raw_server: Any) -> None:
    done = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.at_eof()  # takes the ClientHello, says nothing
        done.set()

    server = raw_server(script)
    with pytest.raises(syncws.OpenTimeout):
        syncws.connect(server.url.replace("ws://", "wss://"), open_timeout=SMALL)
    assert done.wait(10)


# -- servers that never close ----------------------------------------------------------------

def test_server_never_answers_close(raw_server: Any) -> None:
    saw: Dict[str, Any] = {}

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        saw["code"], _ = await peer.read_close()
        saw["eof"] = await peer.at_eof()  # returns only when the client cuts TCP

    server = raw_server(script)
    ws = syncws.connect(server.url, close_timeout=SMALL)
    assert ws.close() is True
    assert isinstance(ws.exception(), syncws.CloseTimeout)
    assert ws.close_code == 1006
    wait_until(lambda: saw.get("eof") is True, what="the server to see TCP cut")
    assert saw["code"] == 1000


def test_server_answers_close_but_keeps_tcp_open(raw_server: Any) -> None:
    saw: Dict[str, Any] = {}

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        code, _ = await peer.read_close()
        peer.send(frame(8, code.to_bytes(2, "big")))
        saw["eof"] = await peer.at_eof()

    server = raw_server(script)
    ws = syncws.connect(server.url, close_timeout=SMALL)
    assert ws.close() is True
    assert ws.exception() is None and ws.close_code == 1000  # a clean close; we close TCP ourselves
    wait_until(lambda: saw.get("eof") is True, what="the server to see TCP closed")


def test_server_closes_first_but_keeps_tcp_open(raw_server: Any) -> None:
    saw: Dict[str, Any] = {}

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(8, (4001).to_bytes(2, "big")))
        saw["reply"], _ = await peer.read_close()
        saw["eof"] = await peer.at_eof()

    server = raw_server(script)
    ws = syncws.connect(server.url, close_timeout=SMALL)
    msg = ws.receive(timeout=10)
    assert (msg.type, msg.data) == (syncws.WSMsgType.CLOSE, 4001)
    wait_until(lambda: saw.get("eof") is True, what="the client to cut TCP after close_timeout")
    assert saw["reply"] == 4001
    assert ws.receive(timeout=5).type is syncws.WSMsgType.CLOSED
    assert ws.close() is False


# -- connect/close cycles leave nothing behind ------------------------------------------------

CYCLES = 400


def test_connect_close_cycles_leak_nothing(ws_url: str) -> None:
    baseline = Snapshot.take()
    for i in range(CYCLES):
        with syncws.connect(ws_url, compress=0) as ws:
            ws.send_str(str(i))
            assert ws.receive_str(timeout=10) == str(i)
    assert_no_leaks(baseline)


def test_failed_connects_leak_nothing(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        peer.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    server = raw_server(script)
    baseline = Snapshot.take()
    for _ in range(100):
        with pytest.raises(syncws.WSServerHandshakeError):
            syncws.connect(server.url)
        with pytest.raises(syncws.ClientConnectionError):
            syncws.connect("ws://127.0.0.1:9/")  # nothing listens on the discard port
    assert_no_leaks(baseline)
