"""Receiving on a socket the loop lent to the caller (syncws/sync/direct_read.py)."""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import threading
from typing import Any, List

import pytest

import syncws
from syncws.aio.connection import WebSocketProtocol
from syncws.sync import direct_read
from syncws.sync.websocket import close_soon
from tests.reliability.support import wait_until
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(60)


def _lent(ws: syncws.SyncWebSocket) -> bool:
    return ws._direct is not None and ws._direct.lent


def _round_trip(ws: syncws.SyncWebSocket, text: str = "x") -> None:
    ws.send_str(text)
    assert ws.receive_str(timeout=10) == text


def test_a_blocked_receiver_is_lent_the_socket(ws_url: str) -> None:
    with syncws.connect(ws_url, compress=0) as ws:
        wait_until(lambda: not _lent(ws), what="the loop to take the idle socket back")
        got: List[str] = []
        receiver = threading.Thread(target=lambda: got.append(ws.receive_str(timeout=10)))
        receiver.start()
        wait_until(lambda: ws._queue._waiting, what="the receiver blocked in the queue")
        ws.send_str("wake")  # the loop reads the echo and wakes the blocked receiver: it lends
        receiver.join(10)
        assert got == ["wake"]
        assert _lent(ws)
        for i in range(200):  # read in this thread from now on
            _round_trip(ws, str(i))
        assert _lent(ws)
    assert ws.close_code == 1000 and ws.exception() is None


def test_tls_is_never_lent(wss_url: str, client_ssl: ssl.SSLContext) -> None:
    with syncws.connect(wss_url, ssl=client_ssl, compress=0) as ws:
        _round_trip(ws)
        assert ws._direct is None


def test_the_loop_takes_an_idle_socket_back_and_answers_pings(raw_server: Any) -> None:
    """Nobody receives for a while: the loop reads again, so a server's ping gets its pong."""
    pong: List[bytes] = []
    go = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        opcode, _, payload = await peer.read_frame()
        peer.send(frame(1, payload))  # the echo that gets the socket lent
        await asyncio.get_running_loop().run_in_executor(None, go.wait, 10)
        peer.send(frame(9, b"are you there"))
        opcode, _, payload = await peer.read_frame()
        pong.append(bytes([opcode]) + payload)
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0) as ws:
        _round_trip(ws, "lend")
        assert _lent(ws)
        wait_until(lambda: not _lent(ws), what=f"the loop to take the socket back after {direct_read.IDLE} s idle")
        go.set()
        wait_until(lambda: bool(pong), what="the pong")
    assert pong == [b"\x0aare you there"]


def test_a_receiver_polling_a_lent_socket_answers_pings(raw_server: Any) -> None:
    pong: List[bytes] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        _, _, payload = await peer.read_frame()
        peer.send(frame(1, payload))
        _, _, payload = await peer.read_frame()  # the client is receiving on the lent socket now
        peer.send(frame(9, b"ping"))
        opcode, _, answer = await peer.read_frame()
        pong.append(bytes([opcode]) + answer)
        peer.send(frame(1, b"after the ping"))
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0) as ws:
        _round_trip(ws, "lend")
        ws.send_str("now ping me")
        assert ws.receive_str(timeout=10) == "after the ping"
    assert pong == [b"\x0aping"]


def test_close_from_another_thread_wakes_a_receiver_on_a_lent_socket(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        _, _, payload = await peer.read_frame()
        peer.send(frame(1, payload))
        code, _ = await peer.read_close()
        peer.send(frame(8, code.to_bytes(2, "big")))

    server = raw_server(script)
    ws = syncws.connect(server.url, compress=0)
    _round_trip(ws, "lend")
    got: List[Any] = []
    receiver = threading.Thread(target=lambda: got.append(ws.receive(timeout=30)))
    receiver.start()
    wait_until(lambda: ws._queue.receiving, what="the receiver waiting")
    ws.close()
    receiver.join(10)
    assert not receiver.is_alive()
    assert got[0].type is syncws.WSMsgType.CLOSED
    assert ws.close_code == 1000


def test_a_receive_that_meets_a_close_running_here_waits_for_it(
    ws_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close() runs on the lent socket in this thread; a receive() started meanwhile in
    another thread waits and gets the end, not "another thread is already receiving"."""
    ws = syncws.connect(ws_url, compress=0)
    _round_trip(ws)
    outcome: List[Any] = []

    def receive() -> None:
        try:
            outcome.append(ws.receive(timeout=30))
        except Exception as exc:
            outcome.append(exc)

    receiver = threading.Thread(target=receive)
    real_begin_close = WebSocketProtocol.begin_close

    def begin_close_once_a_receiver_came(proto: WebSocketProtocol, code: int, reason: bytes) -> bool:
        receiver.start()  # close() holds the socket here; the receive starts now
        wait_until(lambda: bool(outcome) or ws._queue.receiving, what="the receive to fail or wait")
        return real_begin_close(proto, code, reason)

    monkeypatch.setattr(WebSocketProtocol, "begin_close", begin_close_once_a_receiver_came)
    assert ws.close() is True
    receiver.join(10)
    assert not receiver.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], syncws.WSMessage), outcome
    assert outcome[0].type is syncws.WSMsgType.CLOSED
    assert ws.close_code == 1000


def test_two_receivers_on_a_lent_socket_are_refused(raw_server: Any) -> None:
    release = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        _, _, payload = await peer.read_frame()
        peer.send(frame(1, payload))
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 10)
        peer.send(frame(1, b"for the first"))
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0) as ws:
        _round_trip(ws, "lend")
        got: List[str] = []
        first = threading.Thread(target=lambda: got.append(ws.receive_str(timeout=30)))
        first.start()
        wait_until(lambda: ws._queue.receiving, what="the first receiver waiting")
        with pytest.raises(RuntimeError, match="already receiving"):
            ws.receive(timeout=1)
        release.set()
        first.join(10)
        assert got == ["for the first"]


def test_ctrl_c_while_reading_a_lent_socket_loses_nothing(ws_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGINT lands after bytes left the socket and before they became messages: the
    messages are queued first, then KeyboardInterrupt, and the next receive() has them."""
    assert threading.current_thread() is threading.main_thread()
    feed = WebSocketProtocol.feed_from_caller
    fired: List[bool] = []

    def feed_with_ctrl_c(self: WebSocketProtocol, data: bytes, *args: Any) -> bool:
        if not fired:
            fired.append(True)
            signal.raise_signal(signal.SIGINT)  # its handler runs at the next bytecode boundary
        return feed(self, data, *args)

    with syncws.connect(ws_url, compress=0) as ws:
        _round_trip(ws, "lend")
        monkeypatch.setattr(WebSocketProtocol, "feed_from_caller", feed_with_ctrl_c)
        ws.send_str("kept")
        with pytest.raises(KeyboardInterrupt):
            ws.receive(timeout=10)
        assert fired
        monkeypatch.undo()
        assert ws.receive_str(timeout=10) == "kept"
        _round_trip(ws, "still in step")


def test_pipelined_messages_keep_their_order(ws_url: str) -> None:
    """The loop and the caller take turns reading (lend, take back, lend...), and a woken
    receiver reads again while the loop still queues the rest of its read: the messages of
    one read are queued before those of the next, whoever read them. Many threads at once
    make the interleavings likely."""
    failures: List[str] = []

    def one(idx: int) -> None:
        try:
            with syncws.connect(ws_url, compress=0) as ws:
                window, total = 32, 1_500
                sent = received = 0
                while received < total:
                    while sent < total and sent - received < window:
                        ws.send_str(str(sent))
                        sent += 1
                    got = ws.receive_str(timeout=20)
                    if got != str(received):
                        failures.append(f"conn {idx}: got {got} instead of {received}")
                        return
                    received += 1
        except Exception as exc:  # reported below
            failures.append(f"conn {idx}: {exc!r}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []


def test_heartbeat_pongs_are_read_while_nobody_receives(raw_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A heartbeat ping takes the socket back, so its pong is read even if the application
    is not receiving, with the idle take-back switched off here."""
    # Not by raising IDLE: the shared sweeper's next tick would then be that far off for later tests.
    monkeypatch.setattr(direct_read.DirectReader, "reclaim_if_idle", lambda self, now: None)

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        _, _, payload = await peer.read_frame()
        peer.send(frame(1, payload))  # the echo that gets the socket lent
        for _ in range(5):
            opcode, _, payload = await peer.read_frame()
            assert opcode == 9
            peer.send(frame(10, payload))
        peer.send(frame(1, b"five pongs"))
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0, heartbeat=0.2) as ws:
        _round_trip(ws, "lend")
        wait_until(lambda: ws._queue.ready, what="the server's message after five heartbeats")
        msg = ws.receive(timeout=10)
        assert (msg.type, msg.data) == (syncws.WSMsgType.TEXT, "five pongs"), ws.exception()
    assert ws.close_code == 1000


def test_close_after_idle_takes_the_socket_back_and_closes_here(
    raw_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop took an idle socket back; close() borrows it for one hop and runs the
    closing handshake in this thread, not as a task with futures on the loop."""
    ran_here: List[Any] = []
    real_close_here = direct_read.DirectReader.close_here

    def close_here(self: direct_read.DirectReader, code: int, reason: bytes) -> Any:
        started = real_close_here(self, code, reason)
        ran_here.append(started)
        return started

    monkeypatch.setattr(direct_read.DirectReader, "close_here", close_here)
    seen: List[Any] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        _, _, payload = await peer.read_frame()
        peer.send(frame(1, payload))
        seen.append(await peer.read_close())
        peer.send(frame(8, (1000).to_bytes(2, "big") + b"bye"))

    server = raw_server(script)
    ws = syncws.connect(server.url, compress=0)
    _round_trip(ws, "lend")
    wait_until(lambda: not _lent(ws), what="the loop to take the idle socket back")
    assert ws.close(code=4000, message=b"done") is True
    assert ran_here == [None, True]  # not lent at first; lent after one hop, closed here
    assert seen == [(4000, b"done")]
    assert ws.close_code == 1000 and ws.exception() is None
    assert ws._proto.lost.done()


@pytest.mark.parametrize("sizes", [[1 << 20, 5, 3000, 1 << 20, 1], [100] * 50 + [70000, 2]])
def test_read_sizes_adapt_and_lose_nothing(ws_url: str, sizes: List[int]) -> None:
    """Reads start under pymalloc's limit, grow while they fill, shrink when they do not."""
    with syncws.connect(ws_url, compress=0, max_msg_size=2 << 20) as ws:
        _round_trip(ws, "lend")
        reader = ws._direct
        assert reader is not None and reader.lent
        grown = []
        for i, n in enumerate(sizes):
            payload = bytes([i % 251]) * n
            ws.send_bytes(payload)
            assert ws.receive_bytes(timeout=10) == payload
            grown.append(reader._read_size)
        for _ in range(8):
            _round_trip(ws)  # small messages bring the read size back down
        assert reader._read_size == direct_read.READ_SIZE
    if sizes[0] == 1 << 20:
        assert grown[0] == direct_read.MAX_READ_SIZE


# -- connections built in the caller's thread (DirectReader.detached) -------------------


def test_connect_and_close_never_give_the_loop_the_socket(ws_url: str) -> None:
    """Opened, used and closed in this thread: no transport is ever made, and the socket
    is closed when close() returns; the loop only settles the futures afterwards."""
    ws = syncws.connect(ws_url, compress=0)
    sock = ws._proto.writer.direct_socket
    assert ws._direct is not None and ws._direct.owner == "caller"
    for i in range(20):
        _round_trip(ws, str(i))
    assert ws.close() is True
    assert sock.fileno() == -1, "closed on return"
    assert ws._proto.transport is None
    assert ws.close_code == 1000 and ws.exception() is None
    assert ws.receive(timeout=1).type is syncws.WSMsgType.CLOSED
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_str("after close")
    wait_until(lambda: ws._proto.lost.done(), what="the loop to settle the connection's futures")
    assert ws.close() is False


def test_the_loop_makes_the_transport_when_it_takes_an_idle_socket_back(ws_url: str) -> None:
    with syncws.connect(ws_url, compress=0) as ws:
        _round_trip(ws)
        assert ws._proto.transport is None
        wait_until(lambda: not _lent(ws), what="the sweeper to take the idle socket back")
        assert ws._proto.transport is not None and ws._direct.owner == "loop"
        _round_trip(ws, "read by the loop now")
    assert ws.close_code == 1000 and ws._proto.lost.done()


def test_a_write_the_kernel_cannot_take_makes_the_transport(raw_server: Any) -> None:
    """A partial write leaves bytes for the loop to flush: it needs a transport then."""
    release = threading.Event()
    sizes: List[int] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 30)  # read nothing yet
        _, _, payload = await peer.read_frame()
        sizes.append(len(payload))
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0, receive_timeout=None) as ws:
        ws._proto.writer.direct_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        assert ws._proto.transport is None

        def release_once_flushing() -> None:
            wait_until(lambda: ws._proto.transport is not None, what="the flush to make the transport")
            release.set()

        releaser = threading.Thread(target=release_once_flushing)
        releaser.start()
        # Far more than the kernel buffers while the server waits: this send waits for
        # room (backpressure) until the loop's flushes have drained it.
        ws.send_bytes(b"x" * (4 << 20))
        releaser.join(30)
        assert release.is_set()
        wait_until(lambda: ws._proto.writer.idle(), what="the rest flushed by the loop")
    assert sizes == [4 << 20]
    assert ws.close_code == 1000


def test_a_transport_that_cannot_be_made_loses_the_connection(ws_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no transport today")

    monkeypatch.setattr(direct_read, "connect_now", refuse)
    ws = syncws.connect(ws_url, compress=0)
    sock = ws._proto.writer.direct_socket
    wait_until(lambda: ws._proto.lost.done(), what="the loop to give up on the socket")
    assert sock.fileno() == -1
    err = ws.exception()
    assert isinstance(err, syncws.ConnectionClosedError) and isinstance(err.__cause__, OSError)
    assert ws.close_code == 1006
    msg = ws.receive(timeout=5)
    assert msg.type is syncws.WSMsgType.ERROR
    assert ws.receive(timeout=5).type is syncws.WSMsgType.CLOSED
    assert ws.close() is False


def test_a_close_joining_one_on_the_loop_borrows_nothing(raw_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """close() while the loop is closing: the socket must not be lent to a caller that
    will not read it (the loop would then wait for the sweeper to read the server's
    close frame)."""
    lent_while_closing: List[bool] = []
    real_lend = direct_read.DirectReader._lend

    def lend(self: direct_read.DirectReader) -> None:
        if self._proto.closed:
            lent_while_closing.append(True)
        real_lend(self)

    monkeypatch.setattr(direct_read.DirectReader, "_lend", lend)

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        code, _ = await peer.read_close()
        peer.send(frame(8, code.to_bytes(2, "big")))

    server = raw_server(script)
    ws = syncws.connect(server.url, compress=0)
    ws._runner.loop.call_soon_threadsafe(close_soon, ws._proto)  # a close begun on the loop (1001)
    wait_until(lambda: ws._proto.closed, what="the loop's close to begin")
    assert ws.close() is False  # joins it
    assert lent_while_closing == []
    assert ws.close_code == 1001 and ws._proto.lost.done()
