"""close() from any thread wakes every blocked receive() and send(), even when the peer never answers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

import pytest

import syncws
from tests.reliability.support import thread_blocked_in, wait_until
from tests.servers import RawPeer

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]

CLOSE_TIMEOUT = 0.5


def _deaf_server(raw_server: Any, reading: bool) -> Any:
    """Completes the handshake, then never answers: reads and drops (``reading``) or reads nothing."""
    release = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        if reading:
            await peer.at_eof()  # the client's close frame arrives and is ignored
        else:
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 30)

    server = raw_server(script)
    server.release = release
    return server


@pytest.mark.parametrize("closer", ["main thread", "another thread"])
def test_close_wakes_every_blocked_receiver(raw_server: Any, closer: str) -> None:
    server = _deaf_server(raw_server, reading=True)
    conns = [syncws.connect(server.url, close_timeout=CLOSE_TIMEOUT) for _ in range(3)]
    got: Dict[int, Any] = {}
    lock = threading.Lock()

    def receiver(i: int) -> None:
        msg = conns[i].receive()  # no timeout: only the close can end it
        with lock:
            got[i] = (msg, conns[i].close_code)

    receivers = [threading.Thread(target=receiver, args=(i,)) for i in range(len(conns))]
    for t in receivers:
        t.start()
    wait_until(lambda: all(ws._queue.receiving for ws in conns), what="all receivers blocked")

    results: List[bool] = []

    def close_all() -> None:
        for ws in conns:
            results.append(ws.close())

    if closer == "main thread":
        close_all()
    else:
        t = threading.Thread(target=close_all)
        t.start()
        t.join(30)
    for t in receivers:
        t.join(30)
    assert not any(t.is_alive() for t in receivers)
    # each receiver woke when its close ended, and saw how it ended
    assert all(msg.type is syncws.WSMsgType.CLOSED for msg, _ in got.values()) and len(got) == len(conns)
    assert [code for _, code in got.values()] == [1006] * len(conns)
    assert results == [True] * len(conns)
    for ws in conns:
        assert isinstance(ws.exception(), syncws.CloseTimeout)
        assert ws.close_code == 1006
        assert ws.closed


def test_concurrent_closes_all_return(raw_server: Any) -> None:
    server = _deaf_server(raw_server, reading=True)
    ws = syncws.connect(server.url, close_timeout=CLOSE_TIMEOUT)
    results: List[Any] = []
    closers = [threading.Thread(target=lambda: results.append(ws.close())) for _ in range(5)]
    for t in closers:
        t.start()
    for t in closers:
        t.join(30)
    assert sorted(results) == [False] * 4 + [True]
    assert isinstance(ws.exception(), syncws.CloseTimeout)


@pytest.mark.parametrize("closer", ["main thread", "another thread"])
def test_close_wakes_sender_blocked_by_backpressure(raw_server: Any, closer: str) -> None:
    server = _deaf_server(raw_server, reading=False)
    ws = syncws.connect(server.url, close_timeout=CLOSE_TIMEOUT, compress=0)
    outcome: List[BaseException] = []
    chunk = b"\x00" * 2**18

    def sender() -> None:
        try:
            for _ in range(10_000):  # ~2.5 GB: far more than any buffer
                ws.send_bytes(chunk)
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=sender)
    t.start()
    wait_until(lambda: thread_blocked_in(t, {"wait_sync"}), what="sender blocked by backpressure")
    results: List[bool] = []
    if closer == "main thread":
        results.append(ws.close())
    else:
        c = threading.Thread(target=lambda: results.append(ws.close()))
        c.start()
        c.join(30)
    t.join(30)
    server.release.set()
    assert not t.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], syncws.ConnectionClosed), outcome
    assert results == [True]
    # the close frame is stuck behind the unread data: the closing handshake times out
    assert isinstance(ws.exception(), syncws.CloseTimeout)


def test_async_close_wakes_receive_and_blocked_send(raw_server: Any) -> None:
    server = _deaf_server(raw_server, reading=False)

    async def main() -> Dict[str, Any]:
        ws = await syncws.ws_connect(server.url, close_timeout=CLOSE_TIMEOUT, compress=0)
        chunk = b"\x00" * 2**18

        async def flood() -> None:
            for _ in range(10_000):
                await ws.send_bytes(chunk)

        receiving = asyncio.ensure_future(ws.receive())
        sending = asyncio.ensure_future(flood())
        for _ in range(10_000):  # until the flood waits on flow control
            await asyncio.sleep(0)  # sleep-ok: yields until the flood blocks (bounded loop)
            if ws._writer._waiters:
                break
        else:
            raise AssertionError("the sender never waited on flow control")
        assert not receiving.done() and not sending.done()
        closed = await ws.close()
        done, _ = await asyncio.wait([receiving, sending], timeout=10)
        return {
            "closed": closed,
            "done": len(done),
            "received": receiving.result(),
            "send_error": sending.exception(),
            "exception": ws.exception(),
        }

    out = asyncio.run(main())
    server.release.set()
    assert out["closed"] is True and out["done"] == 2
    assert out["received"].type is syncws.WSMsgType.CLOSING  # as aiohttp: close() from another task
    assert isinstance(out["send_error"], syncws.ConnectionClosed)
    assert isinstance(out["exception"], syncws.CloseTimeout)
