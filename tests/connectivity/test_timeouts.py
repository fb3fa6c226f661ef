"""Every timeout, each with its exception: open (also inside a stuck proxy), receive
(per call and per connection), close, and heartbeat against a half-open peer.

Half-open: a relay in front of the real server that stops forwarding in both
directions without closing anything, as a dead NAT or a pulled cable would.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Tuple

import pytest

import syncws
from tests.apis import Client, Conn
from tests.connectivity.peers import AppServer, ProxyProcess
from tests.relay import Relay
from tests.servers import RawPeer, RawServer

pytestmark = pytest.mark.timeout(30)


def test_documented_defaults() -> None:
    options = syncws.Options()
    assert options.open_deadline == 10.0 and options.close_deadline == 10.0
    assert options.receive_timeout is None and options.heartbeat is None
    assert syncws.Options(timeout=3).open_deadline == 3 and syncws.Options(timeout=3, open_timeout=1).open_deadline == 1


def test_open_timeout(api: Client, raw_server: Callable[..., RawServer]) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.at_eof()  # accepts, reads, never answers

    server = raw_server(script)
    with pytest.raises(syncws.OpenTimeout) as err:
        api.connect(server.url, open_timeout=0.2)
    assert isinstance(err.value, TimeoutError) and isinstance(err.value, asyncio.TimeoutError)


def test_open_timeout_inside_a_stuck_proxy(api: Client, stuck_proxy: ProxyProcess, app_url: str) -> None:
    since = stuck_proxy.mark()
    with pytest.raises(syncws.OpenTimeout, match=r"via proxy http://127\.0\.0\.1") as err:
        api.connect(app_url, proxy=stuck_proxy.url(), open_timeout=0.3)
    stuck_proxy.wait_for(f"-> {app_url[5:]}", since)  # the request did reach the proxy chain
    assert "took longer than 0.3 s" in str(err.value)


def test_receive_timeout_per_call_and_per_connection(api: Client, app_url: str) -> None:
    with api.connect(app_url, receive_timeout=0.05) as conn:
        with pytest.raises(syncws.ReceiveTimeout):
            conn.receive(timeout=None)  # None: the connection's default (the harness passes a guard otherwise)
        with pytest.raises(syncws.ReceiveTimeout):
            conn.receive(timeout=0.01)  # this call's
        conn.send_str("still usable")
        assert conn.receive_str(timeout=5) == "still usable"
        assert not conn.closed


def _half_open(api: Client, relay: Callable[[int], Relay], app: AppServer, **options: object) -> Tuple[Conn, Relay]:
    r = relay(app.port)
    conn = api.connect(f"ws://127.0.0.1:{r.port}/", **options)
    conn.send_str("alive")
    assert conn.receive_str() == "alive"
    r.cut()
    return conn, r


def test_close_timeout(api: Client, relay: Callable[[int], Relay], app: AppServer) -> None:
    conn, _ = _half_open(api, relay, app, close_timeout=0.2)
    assert conn.close() is True
    assert isinstance(conn.exception(), syncws.CloseTimeout)
    assert conn.close_code == 1006


def test_heartbeat_detects_a_half_open_connection(api: Client, relay: Callable[[int], Relay], app: AppServer) -> None:
    conn, _ = _half_open(api, relay, app, heartbeat=0.1)
    msg = conn.receive(timeout=10)
    assert msg.type is syncws.WSMsgType.ERROR and isinstance(msg.data, syncws.ServerTimeoutError)
    assert isinstance(conn.exception(), syncws.ServerTimeoutError)
    assert conn.close_code == 1006
    assert conn.receive().type is syncws.WSMsgType.CLOSED


def test_heartbeat_keeps_a_live_connection(api: Client, app_url: str) -> None:
    # A pong deadline of half a second: loose enough for a loaded machine; two pings pass.
    with api.connect(app_url, heartbeat=1.0) as conn:
        with pytest.raises(syncws.ReceiveTimeout):
            conn.receive(timeout=2.5)  # pings go out at 1 s and 2 s and are answered meanwhile
        assert not conn.closed and conn.exception() is None
