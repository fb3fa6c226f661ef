"""Backpressure both ways: bounded write buffer (HIGH_WATER), bounded receive queue (max_queue).

A peer that stops reading makes send() block (sync) or await (async) once
HIGH_WATER bytes are buffered in syncws; what is beyond that sits in the
kernel's socket buffers, also bounded. A client that stops receiving holds
at most ``max_queue`` messages (plus those of one socket read) and then stops
reading the socket, so the server's writes stall.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Dict, List

import pytest

import syncws
from syncws.aio.writer import HIGH_WATER
from tests.reliability.support import thread_blocked_in, wait_until
from tests.servers import RawPeer, frame

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]

CHUNK = 2**18  # 256 KiB per message
FRAME_OVERHEAD = 14
SMALL_BUFFER = 2**16  # the server's socket buffers, so the kernel's share is small and known
MESSAGES = 64  # 16 MiB: far beyond HIGH_WATER plus the kernel buffers


def _stalling_reader(raw_server: Any) -> Any:
    """Handshake, then read nothing until ``resume`` is set; then read every frame, recording sizes."""
    resume = threading.Event()
    received: List[int] = []

    async def script(peer: RawPeer) -> None:
        sock = peer.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        await peer.handshake()
        await asyncio.get_running_loop().run_in_executor(None, resume.wait, 30)
        while True:
            opcode, _, payload = await peer.read_frame()
            if opcode == 8:
                peer.send(frame(8, payload[:2]))
                return
            received.append(payload[0])

    server = raw_server(script)
    server.resume = resume
    server.received = received
    return server


def _kernel_share(ws: Any) -> int:
    """What the kernel may hold between the two applications: our send buffer and the server's receive buffer."""
    sock = ws._proto.raw_socket  # plain TCP: the socket itself
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) + 2 * SMALL_BUFFER


def test_sync_send_blocks_at_high_water(raw_server: Any) -> None:
    server = _stalling_reader(raw_server)
    ws = syncws.connect(server.url, compress=0)
    sent: List[int] = []
    peak: List[int] = [0]

    def sender() -> None:
        for i in range(MESSAGES):
            ws.send_bytes(bytes([i]) * CHUNK)
            sent.append(i)
            peak[0] = max(peak[0], ws._writer.buffered)

    t = threading.Thread(target=sender)
    t.start()
    wait_until(lambda: thread_blocked_in(t, {"wait_sync"}), what="sender blocked")
    blocked_at = len(sent)
    # The documented bound: a send returns with at most HIGH_WATER buffered, plus the one message it added.
    # (Once a sender waits, the kernel may still take some bytes, so the buffer can be lower by now.)
    assert ws._writer.buffered <= HIGH_WATER + CHUNK + FRAME_OVERHEAD
    assert peak[0] <= HIGH_WATER + CHUNK + FRAME_OVERHEAD
    accepted = (blocked_at + 1) * (CHUNK + FRAME_OVERHEAD)
    assert accepted <= HIGH_WATER + CHUNK + FRAME_OVERHEAD + _kernel_share(ws) + CHUNK
    assert blocked_at < MESSAGES
    t.join(0.3)  # it stays blocked: the peer still reads nothing
    assert t.is_alive() and len(sent) == blocked_at
    server.resume.set()
    t.join(30)
    assert not t.is_alive() and sent == list(range(MESSAGES))
    ws.close()
    assert server.received == list(range(MESSAGES))  # all of it, in order, once


def test_several_blocked_senders_stay_bounded(raw_server: Any) -> None:
    server = _stalling_reader(raw_server)
    ws = syncws.connect(server.url, compress=0)
    ws._proto.raw_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    senders = 4  # each has far more to send than every buffer together holds

    def sender(k: int) -> None:
        for _ in range(MESSAGES // senders):
            ws.send_bytes(bytes([k]) * CHUNK)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    wait_until(lambda: all(thread_blocked_in(t, {"wait_sync"}) for t in threads), what="all senders blocked")
    # each sender adds at most one message past the high-water mark before it waits
    assert ws._writer.buffered <= HIGH_WATER + senders * (CHUNK + FRAME_OVERHEAD)
    server.resume.set()
    for t in threads:
        t.join(30)
    ws.close()
    assert sorted(server.received) == sorted(k for k in range(senders) for _ in range(MESSAGES // senders))


def test_async_send_awaits_at_high_water(raw_server: Any) -> None:
    server = _stalling_reader(raw_server)

    async def main() -> Dict[str, Any]:
        ws = await syncws.ws_connect(server.url, compress=0)
        sent: List[int] = []

        async def sender() -> None:
            for i in range(MESSAGES):
                await ws.send_bytes(bytes([i]) * CHUNK)
                sent.append(i)

        task = asyncio.ensure_future(sender())
        for _ in range(100_000):
            await asyncio.sleep(0)  # sleep-ok: yields until the sender blocks (bounded loop)
            if ws._writer._waiters:
                break
        else:
            raise AssertionError("the sender never awaited flow control")
        state = {"buffered": ws._writer.buffered, "blocked_at": len(sent), "task_done": task.done()}
        server.resume.set()
        await asyncio.wait_for(task, 30)
        state["sent"] = list(sent)
        await ws.close()
        return state

    state = asyncio.run(main())
    assert not state["task_done"]
    assert state["buffered"] <= HIGH_WATER + CHUNK + FRAME_OVERHEAD
    assert state["blocked_at"] < MESSAGES
    assert state["sent"] == list(range(MESSAGES))
    assert server.received == list(range(MESSAGES))


def test_receive_queue_bounded_and_server_writes_stall(raw_server: Any) -> None:
    max_queue = 4
    flood = 128  # 32 MiB offered by the server
    state: Dict[str, Any] = {"written": 0, "in_drain": False, "done": False}

    async def script(peer: RawPeer) -> None:
        sock = peer.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
        await peer.handshake()
        for i in range(flood):
            peer.send(frame(2, bytes([i]) * CHUNK))
            state["written"] += 1
            state["in_drain"] = True
            await peer.writer.drain()
            state["in_drain"] = False
        state["done"] = True
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    ws = syncws.connect(server.url, compress=0, max_queue=max_queue)
    # Nobody receives, so the loop reads until the queue is full, then stops.
    wait_until(
        lambda: len(ws._queue) >= max_queue and not ws._proto.transport.is_reading() and state["in_drain"],
        what="client paused with a full queue, server in drain",
    )
    # The server is stuck in drain(): the kernel takes no more of its bytes.
    written = state["written"]
    queued = len(ws._queue)
    client_sock = ws._proto.transport.get_extra_info("socket")
    rcvbuf = client_sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    # At most max_queue messages, plus those completed by the one socket read that crossed it.
    per_read = 2**18 // CHUNK + 1
    assert max_queue <= queued <= max_queue + per_read
    # Everything the server managed to write is accounted for by bounded buffers.
    in_flight = (written - queued) * (CHUNK + 10)
    assert in_flight <= rcvbuf + 2 * SMALL_BUFFER + 2 * CHUNK + 2**16 + 2**18, (written, queued, rcvbuf)
    assert written < flood and not state["done"]
    # Receiving resumes the flow, in order, nothing lost.
    for i in range(flood):
        msg = ws.receive(timeout=30)
        assert msg.type is syncws.WSMsgType.BINARY and msg.data[0] == i % 256 and len(msg.data) == CHUNK
        assert len(ws._queue) <= max_queue + per_read
    assert state["done"]
    ws.close()


# -- bounded sends --------------------------------------------------------------------
def test_a_send_the_peer_never_reads_times_out_and_fails_the_connection(raw_server: Any) -> None:
    resume = threading.Event()

    async def script(peer: RawPeer) -> None:
        peer.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        await peer.handshake()
        await asyncio.get_running_loop().run_in_executor(None, resume.wait, 30)
        try:
            await peer.at_eof()  # the client gave up on us: it cut TCP
        except ConnectionResetError:
            pass

    ws = syncws.connect(raw_server(script).url, compress=0, send_timeout=0.3, write_limit=2**16)
    ws._proto.raw_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    chunk = b"\x00" * 2**16
    seen_backlog = 0
    with pytest.raises(syncws.SendTimeout) as raised:
        for _ in range(10_000):  # bounded: the kernel buffers hold far less than this
            ws.send_bytes(chunk)
            seen_backlog = max(seen_backlog, ws.buffered_amount)
    assert seen_backlog > 0, "the backlog was never visible"
    assert "write_limit" in str(raised.value)
    assert ws.receive(timeout=10).type is syncws.WSMsgType.ERROR  # the connection says why it ended
    assert ws.receive(timeout=10).type is syncws.WSMsgType.CLOSED
    assert isinstance(ws.exception(), syncws.SendTimeout) and ws.close_code == 1006
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_bytes(b"more")
    ws.close()
    resume.set()


@pytest.mark.parametrize("options", [{"send_timeout": -1}, {"send_timeout": 0}, {"write_limit": 0}])
def test_bad_send_bounds_are_refused_before_any_io(options: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        syncws.connect("ws://127.0.0.1:9/", **options)


def test_negative_receive_timeouts_are_refused_on_both_apis(ws_url: str) -> None:
    with syncws.connect(ws_url) as ws:
        for bad in (-1, -0.5, float("nan")):
            with pytest.raises(ValueError):
                ws.receive(timeout=bad)

    async def main() -> None:
        async with syncws.ws_connect(ws_url) as ws:
            with pytest.raises(ValueError):
                await ws.receive(timeout=-1)

    asyncio.run(main())
