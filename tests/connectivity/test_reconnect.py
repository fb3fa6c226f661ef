"""``for ws in connect(url, reconnect=True)`` and ``async for ws in ws_connect(url, reconnect=True)``.

Servers follow a script per connection. Backoff waits are a few milliseconds
(reconnect_initial / reconnect_max), so nothing waits for real backoff times.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from typing import Any, Awaitable, Callable, List, Optional

import pytest
import trustme

import syncws
from syncws.aio.reconnect import backoff_delay, is_permanent
from tests.connectivity.peers import AppServer, ScriptedServer
from tests.relay import Relay
from tests.servers import RawPeer, RawServer, ServerLoop, frame

pytestmark = pytest.mark.timeout(30)

FAST: syncws.ConnectOptions = {"reconnect_initial": 0.001, "reconnect_max": 0.004}
Handler = Callable[[Any], Awaitable[None]]


# -- server scripts ------------------------------------------------------------------

def send_then_drop(text: str) -> Handler:
    """Send, wait for the client's ack, then vanish without a close frame (1006)."""

    async def run(ws: Any) -> None:
        await ws.send(text)
        assert await ws.recv() == "ack " + text
        ws.transport.abort()

    return run


def send_then_close(text: str, code: int) -> Handler:
    async def run(ws: Any) -> None:
        await ws.send(text)
        assert await ws.recv() == "ack " + text
        await ws.close(code, "bye")

    return run


async def echo(ws: Any) -> None:
    async for message in ws:
        await ws.send(message)


async def hold(ws: Any) -> None:
    await ws.wait_closed()


# -- client loops, one per API ---------------------------------------------------------

def sync_client(url: str, **options: Any) -> List[str]:
    """Acks every text, records it, and leaves each connection when it ends."""
    got = []
    for ws in syncws.connect(url, reconnect=True, **FAST, **options):
        with ws:  # closing a connection that already ended does not stop the loop
            for msg in ws:
                if msg.type is syncws.WSMsgType.TEXT:
                    got.append(msg.data)
                    ws.send_str("ack " + msg.data)
    return got


def async_client(url: str, **options: Any) -> List[str]:
    async def main() -> List[str]:
        got = []
        async for ws in syncws.ws_connect(url, reconnect=True, **FAST, **options):
            async with ws:
                async for msg in ws:
                    if msg.type is syncws.WSMsgType.TEXT:
                        got.append(msg.data)
                        await ws.send_str("ack " + msg.data)
        return got

    return asyncio.run(main())


CLIENTS = {"sync": sync_client, "async": async_client}


@pytest.fixture(params=sorted(CLIENTS))
def client(request: pytest.FixtureRequest) -> Callable[..., List[str]]:
    return CLIENTS[request.param]


# -- the rules -----------------------------------------------------------------------

def test_abnormal_ends_reconnect_and_a_normal_close_ends_the_loop(
    client: Callable[..., List[str]], scripted: Callable[..., ScriptedServer], server_loop: ServerLoop
) -> None:
    server = scripted(
        [
            send_then_drop("first"),  # 1006: reconnect
            send_then_close("second", 1001),  # going away (a restart): reconnect
            send_then_close("third", 1011),  # server error: reconnect
            send_then_close("fourth", 1000),  # normal closure: done
            echo,
        ]
    )
    assert client(server.url) == ["first", "second", "third", "fourth"]
    assert server.connections == 4
    assert server_loop.run(server.closed(4)) == [1006, 1001, 1011, 1000]


def test_transient_open_failures_are_retried(
    client: Callable[..., List[str]],
    scripted: Callable[..., ScriptedServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = scripted([send_then_close("at last", 1000)], refuse={0: 503, 1: 429, 2: 502, 3: 408})
    with caplog.at_level(logging.INFO, logger="syncws"), pytest.warns(syncws.ReconnectWarning) as retries:
        assert client(server.url) == ["at last"]
    assert server.requests == 5
    # each retry is visible without configuring logging: one warning each, naming the status
    first = str(retries[0].message)
    assert "503" in first and "try 2" in first
    assert len(retries) == 4 and all(server.url in str(w.message) for w in retries)
    assert {w.filename for w in retries} == {__file__}, "the warning names the application's loop"
    waits = [float(w) for w in re.findall(r"next try in ([0-9.e-]+) s", caplog.text)]
    assert len(waits) == 4
    for n, wait in enumerate(waits):  # the documented bounds: [c/2, c], c = min(max, initial * 2**n)
        cap = min(FAST["reconnect_max"], FAST["reconnect_initial"] * 2**n)
        assert cap / 2 * 0.99 <= wait <= cap * 1.01


def test_dropped_handshakes_are_retried(client: Callable[..., List[str]], raw_server: Callable[..., RawServer]) -> None:
    attempts = []

    async def script(peer: RawPeer) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            await peer.read_request()
            return  # hang up mid-handshake: ClientConnectionError, worth another try
        await peer.handshake()
        peer.send(frame(0x1, b"third time lucky"))
        await peer.read_frame()  # the ack
        peer.send(frame(0x8, (1000).to_bytes(2, "big")))
        await peer.read_close()

    server = raw_server(script)
    assert client(server.url, compress=0) == ["third time lucky"]
    assert len(attempts) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_4xx_is_permanent(
    client: Callable[..., List[str]],
    scripted: Callable[..., ScriptedServer],
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = scripted([echo], refuse={0: status})
    with caplog.at_level(logging.INFO, logger="syncws"), pytest.raises(syncws.WSServerHandshakeError) as err:
        client(server.url)
    assert err.value.status == status
    assert server.requests == 1 and "next try" not in caplog.text


def test_tls_verification_failure_is_permanent(
    client: Callable[..., List[str]],
    scripted: Callable[..., ScriptedServer],
    localhost_cert: trustme.LeafCert,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    localhost_cert.configure_cert(ctx)
    server = scripted([echo], ssl=ctx)
    with caplog.at_level(logging.INFO, logger="syncws"), pytest.raises(syncws.ClientSSLError):
        client(f"wss://localhost:{server.port}/")  # the test CA is not trusted by default
    assert "next try" not in caplog.text


def test_invalid_url_and_options_fail_at_the_call() -> None:
    with pytest.raises(syncws.InvalidURL):
        syncws.connect("ftp://example.com/", reconnect=True)
    with pytest.raises(syncws.InvalidURL):
        syncws.ws_connect("ftp://example.com/", reconnect=True)
    with pytest.raises(ValueError):
        syncws.connect("ws://example.com/", reconnect=True, reconnect_initial=0)
    with pytest.raises(TypeError):
        syncws.connect("ws://example.com/", reconnect="yes")  # type: ignore[call-overload]


def test_user_close_ends_the_loop(scripted: Callable[..., ScriptedServer], server_loop: ServerLoop) -> None:
    server = scripted([echo])
    rounds = 0
    for ws in syncws.connect(server.url, reconnect=True, **FAST):
        rounds += 1
        ws.send_str("one")
        assert ws.receive_str(timeout=5) == "one"
        ws.close(code=4000)  # whatever the code: the user asked
    assert rounds == 1

    async def main() -> int:
        n = 0
        async for ws in syncws.ws_connect(server.url, reconnect=True, **FAST):
            n += 1
            await ws.close()
        return n

    assert asyncio.run(main()) == 1
    assert server_loop.run(server.closed(2)) == [4000, 1000]


def test_continue_with_an_open_connection_reconnects_at_once(
    scripted: Callable[..., ScriptedServer], server_loop: ServerLoop
) -> None:
    server = scripted([hold, hold, send_then_close("done", 1000), hold, hold, send_then_close("done", 1000)])
    seen = []
    for ws in syncws.connect(server.url, reconnect=True, **FAST):
        seen.append(ws)
        if len(seen) < 3:
            continue  # leaves it open: syncws closes it (1000) and connects again
        msg = ws.receive(timeout=5)
        ws.send_str("ack " + msg.data)
        assert ws.receive(timeout=5).type is syncws.WSMsgType.CLOSE

    async def main() -> int:
        n = 0
        async for ws in syncws.ws_connect(server.url, reconnect=True, **FAST):
            n += 1
            if n < 3:
                continue
            msg = await ws.receive(timeout=5)
            await ws.send_str("ack " + msg.data)
            assert (await ws.receive(timeout=5)).type is syncws.WSMsgType.CLOSE
        return n

    assert asyncio.run(main()) == 3
    assert server_loop.run(server.closed(6)) == [1000, 1000, 1000, 1000, 1000, 1000]


def test_leaving_the_loop_closes_the_connection(
    scripted: Callable[..., ScriptedServer], server_loop: ServerLoop
) -> None:
    server = scripted([hold])
    for ws in syncws.connect(server.url, reconnect=True, **FAST):  # noqa: B007 (ws is used after the loop)
        break
    assert server_loop.run(server.closed(1)) == [1000]
    assert ws.closed

    async def main() -> Any:
        it = syncws.ws_connect(server.url, reconnect=True, **FAST).__aiter__()
        async for ws in it:  # noqa: B007 (ws is used after the loop)
            break
        await it.aclose()  # what contextlib.aclosing does
        return ws

    assert asyncio.run(main()).closed
    assert server_loop.run(server.closed(2)) == [1000, 1000]


def test_half_open_connection_detected_and_replaced(
    relay: Callable[[int], Relay], app: AppServer, caplog: pytest.LogCaptureFixture
) -> None:
    r = relay(app.port)
    url = f"ws://127.0.0.1:{r.port}/"
    ends: List[Optional[BaseException]] = []
    with caplog.at_level(logging.INFO, logger="syncws"):
        for ws in syncws.connect(url, reconnect=True, heartbeat=0.1, reconnect_initial=0.001, reconnect_max=0.004):
            ws.send_str("ping")
            assert ws.receive_str(timeout=5) == "ping"
            if not ends:
                r.cut()  # the peer stops answering and never closes
                for _ in ws:
                    pass
                ends.append(ws.exception())
            else:
                ws.close()
    assert isinstance(ends[0], syncws.ServerTimeoutError)
    assert "ServerTimeoutError" in caplog.text and "reconnecting in" in caplog.text


def test_session_close_ends_its_reconnect_loop(scripted: Callable[..., ScriptedServer]) -> None:
    server = scripted([echo])

    async def main() -> int:
        n = 0
        async with syncws.ClientSession() as session:
            async for ws in session.ws_connect(server.url, reconnect=True, **FAST):
                n += 1
                await session.close()
                assert ws.closed
        return n

    assert asyncio.run(main()) == 1


def test_without_reconnect_connect_returns_the_websocket(app_url: str) -> None:
    ws = syncws.connect(app_url)
    assert isinstance(ws, syncws.SyncWebSocket)
    ws.close()
    loop = syncws.connect(app_url, reconnect=True)
    assert isinstance(loop, syncws.Reconnecting) and not hasattr(loop, "receive")
    assert isinstance(syncws.ws_connect(app_url, reconnect=True), syncws.AsyncReconnecting)


# -- the policy, without I/O -----------------------------------------------------------

def test_backoff_bounds() -> None:
    for n in range(12):
        cap = min(60.0, 1.0 * 2**n)
        assert backoff_delay(n, 1.0, 60.0, rand=lambda: 0.0) == cap / 2
        assert backoff_delay(n, 1.0, 60.0, rand=lambda: 1.0) == cap
    assert backoff_delay(10_000, 1.0, 60.0) <= 60.0  # no overflow however long it fails


def test_permanent_or_transient() -> None:
    def handshake(status: int) -> syncws.WSServerHandshakeError:
        return syncws.WSServerHandshakeError("x", status=status)

    permanent = [
        handshake(400), handshake(401), handshake(403), handshake(404), handshake(200), handshake(101),
        syncws.ProxyError("x", status=407), syncws.ProxyError("x", status=403),
        syncws.InvalidURL("x"), syncws.InvalidHeader("x"), ImportError("x"),
        syncws.RedirectError("x", status=302), syncws.TooManyRedirects("x", status=302),
        syncws.ServerFingerprintMismatch(b"a" * 32, b"b" * 32),
        syncws.ClientSSLError("x", cause=ssl.SSLCertVerificationError("x")),
    ]
    transient = [
        handshake(408), handshake(429), handshake(500), handshake(502), handshake(503),
        syncws.ProxyError("x"), syncws.ProxyError("x", status=502),
        syncws.ClientConnectionError("refused"), syncws.OpenTimeout("slow"), ConnectionResetError(),
        syncws.ClientSSLError("x", cause=ssl.SSLEOFError("x")),
    ]
    assert [e for e in permanent if not is_permanent(e)] == []
    assert [e for e in transient if is_permanent(e)] == []
