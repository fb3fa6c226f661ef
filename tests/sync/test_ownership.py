"""One owner per socket (docs/threading.md): the loop thread is the only reader after the
opening handshake; messages arrive whole, in order, and without a timer in the path.

Each test here failed on the socket-lending design it replaced (checked when written).
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any, List, Optional

import pytest

import syncws
from syncws.sync.loop_thread import get_loop_thread
from tests.reliability.support import wait_until
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(120)


class _CountingSignal:
    """Stands in for the queue's hand-off lock and records how much was queued at each wake-up."""

    def __init__(self, real: Any, queue: Any) -> None:
        self._real = real
        self._queue = queue
        self.queued_at_wakeup: List[int] = []

    def acquire(self, *args: Any) -> bool:
        return bool(self._real.acquire(*args))

    def release(self) -> None:
        self.queued_at_wakeup.append(len(self._queue))
        self._real.release()


def _block_loop() -> threading.Event:
    """Hold the loop thread until the returned event is set: nothing more is read meanwhile."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        held.set()
        release.wait(30)

    get_loop_thread().loop.call_soon_threadsafe(hold)
    assert held.wait(10)
    return release


@pytest.mark.parametrize("count", [2, 10])
def test_messages_of_one_read_wake_the_receiver_once(raw_server: Any, count: int) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.read_frame()  # the trigger
        peer.send(b"".join(frame(1, f"m{i}".encode()) for i in range(count)))  # one write
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0) as ws:
        signal = ws._queue._signal = _CountingSignal(ws._queue._signal, ws._queue)

        def trigger_once_waiting() -> None:
            wait_until(lambda: ws._queue._waiting, what="the receiver waiting")
            ws.send_str("go")

        trigger = threading.Thread(target=trigger_once_waiting)
        trigger.start()
        assert ws.receive_str(timeout=10) == "m0"
        trigger.join(10)
        release = _block_loop()
        try:  # the loop reads nothing now: the rest must already be queued
            rest = [ws.receive_str(timeout=0) for _ in range(count - 1)]
        finally:
            release.set()
    assert rest == [f"m{i}" for i in range(1, count)]
    assert signal.queued_at_wakeup == [count], "the receiver woke before the whole read was queued"


def _echo_in_order(ws: Any, n: int, size: int = 64) -> None:
    """Send ``n`` numbered binary messages from one thread while this one receives them."""
    failure: List[BaseException] = []

    def sender() -> None:
        try:
            for i in range(n):
                ws.send_bytes(struct.pack(">I", i) * (size // 4))
        except BaseException as exc:  # reported by the receiving thread
            failure.append(exc)

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        for i in range(n):
            data = ws.receive_bytes(timeout=30)
            assert data == struct.pack(">I", i) * (size // 4), f"message {i} out of order or corrupt"
    finally:
        thread.join(30)
    assert not failure, failure


@pytest.mark.parametrize("heartbeat", [None, 5.0])
def test_order_under_stress(ws_plain_url: str, heartbeat: Optional[float]) -> None:
    with syncws.connect(ws_plain_url, heartbeat=heartbeat) as ws:
        _echo_in_order(ws, 20_000)


def test_order_with_partial_writes_forced(ws_plain_url: str) -> None:
    """A tiny send buffer makes most sends partial, so bytes queue for the loop to flush
    while callers keep writing: order must hold across the two paths."""
    with syncws.connect(ws_plain_url) as ws:
        ws._proto.raw_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        _echo_in_order(ws, 3_000, size=16 * 1024)


@pytest.mark.parametrize("size", [4 * 2**20, 8 * 2**20])
def test_large_binary_echoes_are_intact(ws_plain_url: str, size: int) -> None:
    payload = bytes(range(256)) * (size // 256)
    with syncws.connect(ws_plain_url, max_msg_size=0, heartbeat=5.0) as ws:
        for i in range(6):
            data = bytes([i]) + payload
            ws.send_bytes(data)
            assert ws.receive_bytes(timeout=60) == data, f"echo {i} of {size} bytes corrupt"
