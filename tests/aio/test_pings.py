"""syncws/aio/pings.py and ping() on both APIs: a pong you can wait for, and latency."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import syncws
from syncws.aio.pings import Pings
from tests.reliability.support import wait_until
from tests.servers import RawPeer

pytestmark = pytest.mark.timeout(30)


def test_a_pong_settles_its_ping_and_every_earlier_one() -> None:
    pings = Pings()
    first, second, third = (pings.sent(p) for p in (b"1", b"2", b"3"))
    pings.pong(b"unknown")  # unsolicited: nothing settles
    assert not first.done()
    pings.pong(b"2")
    assert first.result() >= 0 and second.result() >= 0 and not third.done()
    assert pings.latency is not None
    pings.closed(1006)
    with pytest.raises(syncws.ConnectionClosed):
        third.result()


def test_empty_payloads_become_random_ones() -> None:
    pings = Pings()
    assert pings.payload(b"mine") == b"mine"
    a, b = pings.payload(b""), pings.payload(b"")
    assert len(a) == 4 and a != b


def test_sync_ping_wait_and_latency(ws_url: str) -> None:
    with syncws.connect(ws_url) as ws:
        assert ws.latency is None
        waiter = ws.ping()
        rtt = waiter.wait(timeout=10)
        assert waiter.done() and rtt >= 0 and ws.latency is not None
        assert ws.ping(b"named").wait(10) >= 0
        ws.send_str("still open")
        assert ws.receive_str(timeout=10) == "still open"


def test_async_ping_awaits_its_pong(ws_url: str) -> None:
    async def main() -> None:
        async with syncws.ws_connect(ws_url) as ws:
            pong = await ws.ping()  # as aiohttp: returns once written
            rtt = await asyncio.wait_for(pong, 10)
            assert rtt >= 0 and ws.latency is not None

    asyncio.run(main())


def test_heartbeat_measures_latency(ws_url: str) -> None:
    # A pong deadline of half a second: loose enough for a loaded machine.
    with syncws.connect(ws_url, heartbeat=1.0) as ws:
        wait_until(lambda: ws.latency is not None, what="a heartbeat's pong")
        assert not ws.closed and ws.exception() is None


def test_a_pong_that_never_comes(raw_server: Any) -> None:
    release = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.read_frame()  # the ping, never answered
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 20)
        await peer.read_close()
        peer.writer.close()

    ws = syncws.connect(raw_server(script).url)
    waiter = ws.ping()
    with pytest.raises(syncws.PongTimeout):
        waiter.wait(timeout=0.05)
    assert not ws.closed  # a waiter's timeout leaves the connection alone
    release.set()
    ws.close()
    with pytest.raises(syncws.ConnectionClosed):
        waiter.wait(timeout=10)  # the connection ended first
