"""Autobahn group 7 (close handling) and the closing handshake of RFC 6455 §7.

Server-started closes, client-started closes, codes and reasons both ways,
servers that never answer, servers that vanish, and what a failed
connection does afterwards: the close code, closing TCP on its own within
close_timeout, ``exception()``, and ``receive()`` returning ERROR then CLOSED.
"""

from __future__ import annotations

from typing import Callable

import pytest

import syncws
from syncws import WSMsgType
from tests.apis import Client
from tests.conformance.helpers import (
    close_frame,
    expect_close,
    read_close,
    read_frame,
    read_message,
)
from tests.servers import RawPeer, RawServer, frame

pytestmark = pytest.mark.timeout(30)

Serve = Callable[..., RawServer]
HELLO = b"Hello, world!"

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


# -- 7.1: close frames and what may follow them ---------------------------------


def test_7_1_1_echo_then_close(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, HELLO))
        assert (await read_message(peer))[:2] == (1, HELLO)
        peer.send(close_frame(1000))
        assert await read_close(peer) == (1000, b"")

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.TEXT, WSMsgType.CLOSE, WSMsgType.CLOSED]
    assert ws.closed and ws.close_code == 1000 and ws.failure() is None


@pytest.mark.parametrize(
    "after",
    [
        pytest.param([close_frame(1000)], id="7.1.2 close twice"),
        pytest.param([frame(9, b"ping after close")], id="7.1.3 ping after close"),
        pytest.param([frame(1, HELLO)], id="7.1.4 text after close"),
        pytest.param([frame(0, b"fragment2")], id="7.1.5 rest of a fragmented message after close"),
        pytest.param([frame(3), frame(1, b"\xff"), b"\xff\xff garbage"], id="invalid frames after close"),
    ],
)
def test_7_1_data_after_close_is_ignored(client: Client, serve: Serve, after: list) -> None:
    """Nothing after the server's close frame is processed: no pong, no echo, no failure."""
    before = [frame(1, b"fragment1", fin=False)] if b"fragment2" in after[0] else []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(b"".join([*before, close_frame(1000), *after]))
        assert await read_close(peer) == (1000, b"")  # the next frame is the echo, not a pong or text
        # Then the client sends nothing more; the server closes TCP first (RFC 6455 §7.1.1).

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.CLOSE, WSMsgType.CLOSED]
    assert ws.close_code == 1000 and ws.failure() is None


def test_7_1_6_large_message_then_close_then_ping(client: Client, serve: Serve) -> None:
    """7.1.6: 256 KiB text, close, ping back to back. The text is delivered; no pong."""
    big = b"BAsd7&jh23" * 26214

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, big) + close_frame(1000) + frame(9, b"ping after close"))
        f = await read_frame(peer)
        if f.opcode == 1:  # the echo may be sent before the client processed the close...
            assert f.payload == big
            f = await read_frame(peer)
        assert f.opcode == 8 and f.payload == b"\x03\xe8"  # ...and then the close echo, no pong

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert seen[0].data == big.decode()
    assert [m.type for m in seen[1:]] == [WSMsgType.CLOSE, WSMsgType.CLOSED]


# -- 7.3, 7.5, 7.7, 7.9, 7.13: close frame payloads --------------------------------


@pytest.mark.parametrize(
    "payload, echo, reason",
    [
        pytest.param(b"", 1000, "", id="7.3.1 empty payload"),
        pytest.param(b"\x03\xe8", 1000, "", id="7.3.3 code only"),
        pytest.param(b"\x03\xe8" + HELLO, 1000, "Hello, world!", id="7.3.4 code and reason"),
        pytest.param(b"\x03\xe8" + b"*" * 123, 1000, "*" * 123, id="7.3.5 123-byte reason"),
        pytest.param(b"\x0f\xa0" + "κόσμε".encode(), 4000, "κόσμε", id="UTF-8 reason"),
    ],
)
def test_7_3_valid_close_payloads(client: Client, serve: Serve, payload: bytes, echo: int, reason: str) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(8, payload))
        code, _ = await read_close(peer)
        assert code == echo

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [(m.type, m.extra) for m in seen[:1]] == [(WSMsgType.CLOSE, reason)]
    expected_code = 1005 if not payload else echo
    assert seen[0].data == expected_code and ws.close_code == expected_code
    assert ws.failure() is None


@pytest.mark.parametrize("code", VALID_CODES)
def test_7_7_valid_codes_are_echoed(client: Client, serve: Serve, code: int) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(close_frame(code, b"bye"))
        assert (await read_close(peer))[0] == code

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert (seen[0].type, seen[0].data, seen[0].extra) == (WSMsgType.CLOSE, code, "bye")
    assert ws.close_code == code


@pytest.mark.parametrize(
    "payload, code",
    [
        pytest.param(b"\x03", 1002, id="7.3.2 1-byte payload"),
        pytest.param(b"\x03\xe8" + b"*" * 124, 1002, id="7.3.6 126-byte payload"),
        pytest.param(b"\x03\xe8" + "κόσμε".encode() + b"\xed\xa0\x80edited", 1007, id="7.5.1 invalid UTF-8 reason"),
        *[
            pytest.param(c.to_bytes(2, "big"), 1002, id=f"7.9/7.13 invalid code {c}")
            for c in INVALID_CODES
        ],
    ],
)
def test_7_invalid_close_payloads_fail(client: Client, serve: Serve, payload: bytes, code: int) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(8, payload))
        await expect_close(peer, code)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED]
    assert ws.close_code == code and isinstance(ws.failure(), syncws.ProtocolError)


# -- the closing handshake, either side first ------------------------------------


@pytest.mark.parametrize("code, reason", [(1000, ""), (1001, "going"), (4321, "κόσμε" * 10)])
def test_client_starts_close_code_and_reason_round_trip(client: Client, serve: Serve, code: int, reason: str) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        got = await read_close(peer)
        assert got == (code, reason.encode())
        peer.send(close_frame(code, b"server agrees"))  # then the script ends: the server closes TCP

    server = serve(script)
    ws = client.connect(server.url)
    assert ws.close(code=code, message=reason) is True
    client.finish(server)
    assert ws.closed and ws.close_code == code and ws.failure() is None
    assert ws.receive().type is WSMsgType.CLOSED
    assert ws.close() is False
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_str("after close")


@pytest.mark.parametrize("server_url, answer", [("ws_url", 4002), ("aiohttp_url", 1000)])
def test_real_servers_close_both_ways(
    client: Client, request: pytest.FixtureRequest, server_url: str, answer: int
) -> None:
    """websockets echoes our code; aiohttp answers 1000. close_code is the server's answer."""
    url = request.getfixturevalue(server_url)
    ws = client.connect(url + "/close/4001")
    msg = ws.receive()
    assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4001, "server says bye")
    assert ws.receive().type is WSMsgType.CLOSED
    assert ws.close_code == 4001 and ws.failure() is None

    ws = client.connect(url + "/echo")
    ws.send_str("hi")
    assert ws.receive().data == "hi"
    assert ws.close(code=4002, message="client says bye") is True
    assert ws.close_code == answer and ws.failure() is None


def test_server_never_answers_our_close(client: Client, serve: Serve) -> None:
    """close() is bounded by close_timeout: then TCP is cut and the timeout reported."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        assert await read_close(peer) == (1000, b"")
        assert await peer.at_eof()  # silence: the client must close TCP by itself

    server = serve(script)
    ws = client.connect(server.url, close_timeout=0.5)
    assert ws.close() is True
    client.finish(server)
    assert ws.closed and ws.close_code == 1006
    assert isinstance(ws.failure(), syncws.CloseTimeout)


def test_server_answers_close_but_keeps_tcp_open(client: Client, serve: Serve) -> None:
    """After both close frames the server should close TCP first; if it does not, the client does."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        assert await read_close(peer) == (1000, b"")
        peer.send(close_frame(1000))
        assert await peer.at_eof()

    server = serve(script)
    ws = client.connect(server.url, close_timeout=0.5)
    assert ws.close() is True
    client.finish(server)
    assert ws.close_code == 1000 and ws.failure() is None


def test_server_starts_close_then_keeps_tcp_open(client: Client, serve: Serve) -> None:
    """Server-started close answered at once; a server that then never closes TCP is cut off."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(close_frame(1001, b"restart"))
        assert await read_close(peer) == (1001, b"")
        assert await peer.at_eof()

    server = serve(script)
    ws = client.connect(server.url, close_timeout=0.5)
    seen = ws.echo_all()
    client.finish(server)
    assert (seen[0].type, seen[0].data, seen[0].extra) == (WSMsgType.CLOSE, 1001, "restart")
    assert ws.close_code == 1001 and ws.failure() is None


def test_tcp_dropped_without_close_frame_is_1006(client: Client, serve: Serve) -> None:
    """A server that drops TCP without a close frame: ERROR (ConnectionClosedError, 1006), then CLOSED."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, HELLO))
        assert (await read_message(peer))[1] == HELLO
        peer.send(frame(1, b"partial", fin=False))
        await peer.writer.drain()
        peer.writer.transport.abort()  # no close frame: the connection just ends

    server = serve(script)
    ws = client.connect(server.url)
    assert ws.receive().data == HELLO.decode()
    ws.send_str(HELLO.decode())
    end = ws.receive()
    if client.is_async:  # as aiohttp: the drop reads as CLOSED, and exception() stays None
        assert end.type is WSMsgType.CLOSED
    else:  # the blocking API says what happened: ERROR(ConnectionClosedError), then CLOSED
        assert end.type is WSMsgType.ERROR and isinstance(end.data, syncws.ConnectionClosedError)
        assert ws.receive().type is WSMsgType.CLOSED
    client.finish(server)
    assert ws.closed and ws.close_code == 1006
    err = ws.failure()
    assert isinstance(err, syncws.ConnectionClosedError) and "1006" in str(err)
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_str("gone")
    assert ws.close() is False


def test_tcp_dropped_while_we_close_is_1006(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await read_close(peer)
        peer.writer.transport.abort()

    server = serve(script)
    ws = client.connect(server.url)
    ws.close()
    client.finish(server)
    assert ws.close_code == 1006
    assert isinstance(ws.failure(), syncws.ConnectionClosedError)


# -- failing the connection -----------------------------------------------------


@pytest.mark.parametrize(
    "wire, code",
    [
        pytest.param(frame(1, HELLO, rsv=4), 1002, id="1002 protocol error"),
        pytest.param(frame(1, b"\xce\xba\xed\xa0"), 1007, id="1007 invalid UTF-8"),
        pytest.param(frame(2, b"", length=64)[:2] + (2**20 + 1).to_bytes(8, "big"), 1009, id="1009 too big"),
    ],
)
def test_failure_then_tcp_closed_even_if_server_is_silent(client: Client, serve: Serve, wire: bytes, code: int) -> None:
    """_Fail the WebSocket Connection_: close frame with the right code, then TCP closed
    by the client within close_timeout though the server never answers."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(wire)
        await expect_close(peer, code, answer=False)  # reads the close, then waits for the client's EOF

    server = serve(script)
    ws = client.connect(server.url, close_timeout=0.5, max_msg_size=2**20)
    msg = ws.receive()
    assert msg.type is WSMsgType.ERROR
    assert isinstance(msg.data, syncws.ProtocolError) and msg.data.code == code
    assert ws.receive().type is WSMsgType.CLOSED  # no raise: ERROR, then CLOSED, then CLOSED again
    assert ws.receive().type is WSMsgType.CLOSED
    client.finish(server)  # the script saw the client's EOF
    assert ws.failure() is msg.data and ws.close_code == code and ws.closed
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_bytes(b"after failure")
    assert ws.close() is False


def test_failure_during_our_close_reports_the_failure(client: Client, serve: Serve) -> None:
    """A protocol violation while we wait for the server's close frame: 1002 wins, not a timeout."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        assert await read_close(peer) == (1000, b"")
        peer.send(frame(1, HELLO, rsv=2))  # instead of a close frame
        peer.send(close_frame(1000))
        assert await peer.at_eof()

    server = serve(script)
    ws = client.connect(server.url, close_timeout=0.5)
    ws.close()
    client.finish(server)
    assert ws.close_code == 1002
    assert isinstance(ws.failure(), syncws.ProtocolError)


def test_iteration_yields_error_then_stops(client: Client, serve: Serve) -> None:
    """aiohttp's iteration: data, then the ERROR message, then the loop ends (no raise)."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, HELLO) + frame(4))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url)
    if ws.api == "sync":
        seen = list(ws.ws)
    else:

        async def collect() -> list:
            return [m async for m in ws.ws]

        seen = client.run(collect())
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.TEXT, WSMsgType.ERROR]
