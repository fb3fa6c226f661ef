"""ws_connect and ClientSession against real servers: the aiohttp client API."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import pytest

import syncws
from tests.servers import RawPeer, ServerLoop, frame, start_websockets

pytestmark = pytest.mark.timeout(30)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


SIZES = [0, 125, 126, 65535, 65536, 2**20]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("server", ["ws_url", "aiohttp_url"])
def test_echo_sizes(request: pytest.FixtureRequest, server: str, size: int) -> None:
    url = request.getfixturevalue(server)

    async def main() -> None:
        async with syncws.ws_connect(url + "/echo") as ws:
            text = "é" * (size // 2) + "a" * (size % 2)
            await ws.send_str(text)
            assert (await ws.receive()).data == text
            data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
            await ws.send_bytes(data)
            msg = await ws.receive()
            assert msg.type is syncws.WSMsgType.BINARY and msg.data == data
        assert ws.closed and ws.close_code == 1000

    run(main())


def test_await_form_and_session(ws_url: str) -> None:
    async def main() -> None:
        ws = await syncws.ws_connect(ws_url)
        await ws.send_bytes(bytearray(b"ba"))
        await ws.send_bytes(memoryview(b"mv"))
        assert await ws.receive_bytes() == b"ba"
        assert await ws.receive_bytes() == b"mv"
        assert await ws.close() is True
        assert await ws.close() is False
        async with syncws.ClientSession() as session:
            async with session.ws_connect(ws_url) as ws2:
                await ws2.send_json({"a": [1, 2]})
                assert await ws2.receive_json() == {"a": [1, 2]}
            ws3 = await session.ws_connect(ws_url)
        assert ws3.closed, "closing the session closes its connections"
        with pytest.raises(RuntimeError):
            session.ws_connect(ws_url)

    run(main())


def test_seed_example_loop_async(ws_url: str) -> None:
    """The seed documentation's loop, in old aiohttp style (un-awaited send, msg.tp, MsgType.text)."""

    async def main() -> list[str]:
        seen = []
        session = syncws.ClientSession()
        async with session.ws_connect(ws_url + "/echo") as ws:
            ws.send_str("hello")
            async for msg in ws:
                if msg.tp == syncws.MsgType.text:
                    seen.append(msg.data)
                    if msg.data == "close cmd":
                        await ws.close()
                        break
                    elif msg.data.endswith("/answer/answer"):
                        ws.send_str("close cmd")
                    else:
                        ws.send_str(msg.data + "/answer")
                elif msg.tp == syncws.MsgType.closed or msg.tp == syncws.MsgType.error:
                    break
        await session.close()
        return seen

    assert run(main()) == ["hello", "hello/answer", "hello/answer/answer", "close cmd"]


def test_type_errors(ws_url: str) -> None:
    async def main() -> None:
        async with syncws.ws_connect(ws_url) as ws:
            with pytest.raises(TypeError):
                ws.send_str(b"bytes")  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                ws.send_bytes("str")  # type: ignore[arg-type]
            with pytest.raises(ValueError):
                ws.ping(b"x" * 126)
            with pytest.raises(ValueError):
                await ws.close(code=1005)
            await ws.send_str("still fine")
            assert await ws.receive_str() == "still fine"
            await ws.send_str("not bytes")
            with pytest.raises(syncws.WSMessageTypeError):
                await ws.receive_bytes()

    run(main())


def test_bad_url_and_options_fail_before_io() -> None:
    with pytest.raises(syncws.InvalidURL):
        syncws.ws_connect("ftp://127.0.0.1:1/")
    with pytest.raises(syncws.InvalidURL):
        syncws.ws_connect("ws:///nohost")
    with pytest.raises(TypeError):
        syncws.ws_connect("ws://127.0.0.1:1/", no_such_option=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        syncws.ws_connect("ws://127.0.0.1:1/", compress=3)

    async def evil() -> None:
        await syncws.ws_connect("ws://127.0.0.1:1/", headers={"X-Evil": "a\r\nHost: b"})

    with pytest.raises(syncws.InvalidHeader):
        run(evil())


def test_url_forms(ws_port: int, ws6_url: str) -> None:
    async def main() -> None:
        for url in (f"http://127.0.0.1:{ws_port}/echo?x=1", f"ws://localhost:{ws_port}", f"{ws6_url}/"):
            async with syncws.ws_connect(url) as ws:
                await ws.send_str(url)
                assert await ws.receive_str() == url

    run(main())


def test_subprotocol_auth_origin_headers(ws_url: str) -> None:
    async def main() -> None:
        async with syncws.ws_connect(
            "ws://user:secret@" + ws_url[5:] + "/auth/info",
            protocols=["nope", "chat"],
            origin="http://example.test",
            headers=[("X-Twice", "1"), ("X-Twice", "2")],
        ) as ws:
            assert ws.protocol == "chat"
            info = await ws.receive_json()
            headers = info["headers"]
            assert ["Origin", "http://example.test"] in headers
            assert [h for h in headers if h[0] == "X-Twice"] == [["X-Twice", "1"], ["X-Twice", "2"]]
            assert any(h[0] == "User-Agent" and h[1].startswith("syncws/") for h in headers)
        async with syncws.ws_connect(ws_url + "/auth", auth=syncws.BasicAuth("user", "secret")) as ws:
            assert ws.protocol is None
        with pytest.raises(syncws.WSServerHandshakeError) as err:
            await syncws.ws_connect(ws_url + "/auth")
        assert err.value.status == 401 and "101" in err.value.message

    run(main())


def test_server_initiated_close(ws_url: str, aiohttp_url: str) -> None:
    async def main() -> None:
        for url in (ws_url, aiohttp_url):
            async with syncws.ws_connect(url + "/close/4001") as ws:
                msg = await ws.receive()
                assert msg.type is syncws.WSMsgType.CLOSE
                assert (msg.data, msg.extra) == (4001, "server says bye")
                assert ws.closed and ws.close_code == 4001
                assert (await ws.receive()).type is syncws.WSMsgType.CLOSED
                assert ws.exception() is None

    run(main())


def test_open_timeout_on_silent_server(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.at_eof()

    server = raw_server(script)
    async def main() -> None:
        await syncws.ws_connect(server.url, timeout=0.3)

    with pytest.raises(syncws.OpenTimeout) as err:
        run(main())
    assert isinstance(err.value, asyncio.TimeoutError)


def test_receive_timeout_keeps_connection(ws_url: str) -> None:
    async def main() -> None:
        async with syncws.ws_connect(ws_url, receive_timeout=0.05) as ws:
            with pytest.raises(syncws.ReceiveTimeout):
                await ws.receive()
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive(timeout=0.01)
            await ws.send_str("after")
            assert await ws.receive_str(timeout=5) == "after"

    run(main())


def test_concurrent_receive_refused(ws_url: str) -> None:
    async def main() -> None:
        async with syncws.ws_connect(ws_url) as ws:
            first = asyncio.ensure_future(ws.receive())
            await asyncio.sleep(0)  # sleep-ok: lets the first receive start waiting
            with pytest.raises(RuntimeError, match="Concurrent"):
                await ws.receive()
            await ws.send_str("x")
            assert (await first).data == "x"

    run(main())


def test_autoping_and_manual_ping(raw_server: Any) -> None:
    got: dict[str, Any] = {}

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(0x9, b"are you there"))
        first, second = await peer.read_frame(), await peer.read_frame()
        frames = {f[0]: f for f in (first, second)}  # our pong and the client's ping may cross
        got["pong"], got["ping"] = frames.get(0xA), frames.get(0x9)
        peer.send(frame(0xA, b"unsolicited") + frame(0x1, b"done"))
        got["close"] = await peer.read_close()
        peer.send(frame(0x8, (1000).to_bytes(2, "big")))

    server = raw_server(script)

    async def main() -> None:
        async with syncws.ws_connect(server.url, compress=0) as ws:
            await ws.ping(b"mine")
            assert (await ws.receive()).data == "done"

    run(main())
    assert got["pong"] == (0xA, True, b"are you there")
    assert got["ping"] == (0x9, True, b"mine")
    assert got["close"] == (1000, b"")


def test_autoping_off_delivers_ping_and_pong(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(0x9, b"p") + frame(0xA, b"q"))
        assert await peer.read_frame() == (0xA, True, b"manual")
        await peer.read_close()

    server = raw_server(script)

    async def main() -> None:
        async with syncws.ws_connect(server.url, autoping=False, timeout=2) as ws:
            ping = await ws.receive()
            pong = await ws.receive()
            assert (ping.type, ping.data) == (syncws.WSMsgType.PING, b"p")
            assert (pong.type, pong.data) == (syncws.WSMsgType.PONG, b"q")
            await ws.pong(b"manual")

    run(main())


def test_autoclose_off_waits_for_user(raw_server: Any) -> None:
    order: list[str] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(0x8, (4002).to_bytes(2, "big") + b"go"))
        code, _ = await peer.read_close()
        order.append(f"client replied {code}")

    server = raw_server(script)

    async def main() -> None:
        async with syncws.ws_connect(server.url, autoclose=False) as ws:
            msg = await ws.receive()
            assert (msg.type, msg.data, msg.extra) == (syncws.WSMsgType.CLOSE, 4002, "go")
            order.append("user saw close")
            await ws.close(code=4002)

    run(main())
    assert order == ["user saw close", "client replied 4002"]


def test_heartbeat_detects_dead_peer(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.at_eof()  # reads pings, never answers

    server = raw_server(script)

    async def main() -> None:
        async with syncws.ws_connect(server.url, heartbeat=0.1) as ws:
            msg = await ws.receive(timeout=10)
            assert msg.type is syncws.WSMsgType.ERROR
            assert isinstance(msg.data, syncws.ServerTimeoutError)
            assert ws.close_code == 1006 and isinstance(ws.exception(), syncws.ServerTimeoutError)
            assert (await ws.receive()).type is syncws.WSMsgType.CLOSED

    run(main())


def test_heartbeat_with_live_peer(ws_url: str) -> None:
    async def main() -> None:
        # A pong deadline of half a second: loose enough for a loaded machine; two pings pass.
        async with syncws.ws_connect(ws_url, heartbeat=1.0) as ws:
            with pytest.raises(syncws.ReceiveTimeout):
                await ws.receive(timeout=2.5)  # heartbeats at 1 s and 2 s, both answered
            assert not ws.closed and ws.exception() is None

    run(main())


def test_tls(wss_url: str, client_ssl: ssl.SSLContext, aiohttp_wss_url: str) -> None:
    async def main() -> None:
        for url in (wss_url, aiohttp_wss_url, "https" + wss_url[3:]):
            async with syncws.ws_connect(url, ssl=client_ssl) as ws:
                await ws.send_str("secure")
                assert await ws.receive_str() == "secure"
                assert ws.get_extra_info("ssl_object") is not None
        with pytest.raises(syncws.ClientSSLError) as err:
            await syncws.ws_connect(wss_url)  # trustme CA is not in certifi's bundle
        assert isinstance(err.value, ssl.SSLError)

    run(main())


def test_tls_ssl_false_warns(wss_url: str) -> None:
    async def main() -> None:
        async with syncws.ws_connect(wss_url, ssl=False) as ws:
            await ws.send_str("unverified")
            assert await ws.receive_str() == "unverified"

    import syncws.aio.tls as tls

    tls._warned_insecure.clear()
    with pytest.warns(UserWarning, match="not verified"):
        run(main())


def test_ssl_cert_file_env(wss_url: str, ca: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))

    async def main() -> None:
        async with syncws.ws_connect(wss_url) as ws:
            await ws.send_str("env")
            assert await ws.receive_str() == "env"

    run(main())


def test_msg_types_and_aliases() -> None:
    assert syncws.MsgType is syncws.WSMsgType
    assert syncws.WSMsgType.text is syncws.WSMsgType.TEXT
    assert syncws.WSMsgType.closed == 0x101
    msg = syncws.WSMessage(syncws.WSMsgType.TEXT, json.dumps([1]), "")
    assert msg.tp is msg.type and msg.json() == [1]
    t, d, e = msg
    assert (t, d, e) == (syncws.WSMsgType.TEXT, "[1]", "")


def test_response_class_and_loop_arguments(ws_url: str) -> None:
    class Mine(syncws.ClientWebSocketResponse):
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with syncws.ws_connect(ws_url, ws_response_class=Mine, loop=loop) as ws:
            assert isinstance(ws, Mine)

    run(main())


def test_refused_connection() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    async def main() -> None:
        await syncws.ws_connect(f"ws://127.0.0.1:{port}/")

    with pytest.raises(syncws.ClientConnectionError) as err:
        run(main())
    assert isinstance(err.value, ConnectionError)


def test_abnormal_drop(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(0x1, b"last words"))
        await peer.writer.drain()

    server = raw_server(script)

    async def main() -> None:
        ws = await syncws.ws_connect(server.url)
        assert (await ws.receive()).data == "last words"
        msg = await ws.receive()
        assert msg.type is syncws.WSMsgType.CLOSED  # as aiohttp: a drop reads as CLOSED
        assert ws.close_code == 1006 and ws.closed
        assert isinstance(ws.exception(), syncws.ConnectionClosedError)  # aiohttp also sets one
        assert (await ws.receive()).type is syncws.WSMsgType.CLOSED
        with pytest.raises(syncws.ConnectionClosed):
            ws.send_str("too late")

    run(main())


def test_compress_negotiated(ws_url: str, ws_plain_url: str) -> None:
    async def main() -> None:
        async with syncws.ws_connect(ws_url) as ws:
            assert ws.compress and ws.deflate is not None
            await ws.send_str("z" * 10000)
            assert await ws.receive_str() == "z" * 10000
        async with syncws.ws_connect(ws_url, compress=0) as ws:
            assert ws.compress == 0 and ws.deflate is None
        async with syncws.ws_connect(ws_plain_url) as ws:
            assert ws.compress == 0

    run(main())


def test_many_servers_restartable(server_loop: ServerLoop) -> None:
    server, port = server_loop.run(start_websockets())

    async def main() -> None:
        async with syncws.ws_connect(f"ws://127.0.0.1:{port}") as ws:
            await ws.send_str("ok")
            assert await ws.receive_str() == "ok"

    run(main())

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    server_loop.run(stop())
