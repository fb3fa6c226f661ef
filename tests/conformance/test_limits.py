"""Autobahn group 9 (limits and performance) and max_msg_size.

Large messages go through both APIs against the two real servers (websockets
and aiohttp) and the scripted one; what is checked is that every byte comes
back, never how long it took.
"""

from __future__ import annotations

import functools
import hashlib
import random
from typing import Callable

import pytest

from syncws import WSMsgType
from tests.apis import Client
from tests.conformance.helpers import close_frame, expect_close, read_close, read_messages
from tests.servers import RawPeer, RawServer, frame

pytestmark = pytest.mark.timeout(60)

Serve = Callable[..., RawServer]
MIB = 2**20


@functools.cache
def big_text(size: int) -> str:
    line = "The quick brown fox jumps over the lazy dog; κόσμε 😀 {:08d}\n"
    out, i = [], 0
    total = 0
    while total < size:
        piece = line.format(i)
        out.append(piece)
        total += len(piece.encode())
        i += 1
    return "".join(out).encode()[:size].decode("utf-8", "ignore")


@functools.cache
def big_binary(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@pytest.mark.parametrize("server_url", ["ws_url", "aiohttp_url"])
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_9_16_mib_messages(client: Client, request: pytest.FixtureRequest, server_url: str, kind: str) -> None:
    """9.1.6 / 9.2.6: 16 MiB text (compressed) and binary (incompressible, sent plain) echo intact."""
    url = request.getfixturevalue(server_url)
    if kind == "text":
        data = big_text(16 * MIB)
        ws = client.connect(url + "/echo", max_msg_size=32 * MIB)
        assert ws.deflate is not None
        ws.send_str(data)
    else:
        data = big_binary(16 * MIB)  # type: ignore[assignment]
        ws = client.connect(url + "/echo", max_msg_size=32 * MIB, compress=0)
        ws.send_bytes(data)  # type: ignore[arg-type]
    msg = ws.receive()
    assert msg.type is (WSMsgType.TEXT if kind == "text" else WSMsgType.BINARY)
    assert len(msg.data) == len(data) and hashlib.sha1(_b(msg.data)).digest() == hashlib.sha1(_b(data)).digest()
    assert ws.close() is True


def _b(data: "str | bytes") -> bytes:
    return data.encode() if isinstance(data, str) else data


def test_9_3_client_sends_4_mib_in_64_byte_fragments(client: Client, aiohttp_url: str) -> None:
    """9.3.1 / 9.4.1 in the client's direction: 65536 frames of 64 bytes, one message back.
    (The websockets server refuses that many fragments with 1009; aiohttp takes them.)"""
    text = big_text(4 * MIB).encode()
    data = big_binary(4 * MIB)
    ws = client.connect(aiohttp_url + "/echo", max_msg_size=8 * MIB, compress=0)
    ws.send_fragments(1, text, fragment_size=64)
    ws.send_fragments(2, data, fragment_size=64)
    assert ws.receive().data == text.decode()
    assert ws.receive().data == data
    assert ws.close() is True


def test_9_3_client_fragments_on_the_wire(client: Client, serve: Serve) -> None:
    """The same 4 MiB message seen frame by frame: 64-byte payloads, one opcode, FIN on the last."""
    data = big_binary(4 * MIB)

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        got = await read_messages(peer, 1)
        assert got.messages == [(2, data)] and len(got.frames) == 4 * MIB // 64
        assert all(len(f.payload) == 64 for f in got.frames)
        peer.send(close_frame(1000))
        assert await read_close(peer) == (1000, b"")

    server = serve(script, guard=40)
    ws = client.connect(server.url)
    ws.send_fragments(2, data, fragment_size=64)
    ws.echo_all()
    client.finish(server)


@pytest.mark.parametrize("opcode", [1, 2], ids=["text", "binary"])
def test_9_3_server_sends_4_mib_in_64_byte_fragments(client: Client, serve: Serve, opcode: int) -> None:
    """9.3.1 / 9.4.1: the server fragments into 64-byte frames, the client reassembles and echoes."""
    data = big_text(4 * MIB).encode() if opcode == 1 else big_binary(4 * MIB)
    n = len(data)
    wire = b"".join(
        frame(opcode if i == 0 else 0, data[i : i + 64], fin=i + 64 >= n) for i in range(0, n, 64)
    )

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(wire)
        got = await read_messages(peer, 1)
        assert got.messages == [(opcode, data)]
        peer.send(close_frame(1000))
        assert await read_close(peer) == (1000, b"")

    server = serve(script, guard=40)
    ws = client.connect(server.url, max_msg_size=8 * MIB)
    seen = ws.echo_all()
    client.finish(server)
    assert _b(seen[0].data) == data


@pytest.mark.parametrize("chop", [64, 4096])
def test_9_5_message_in_small_tcp_writes(client: Client, serve: Serve, chop: int) -> None:
    """9.5.x / 9.6.x: one 256 KiB text message written to TCP in chops of 64 and 4096 bytes."""
    data = big_text(256 * 1024).encode()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.send_slowly(frame(1, data), chunk=chop)
        got = await read_messages(peer, 1)
        assert got.messages == [(1, data)]
        peer.send(close_frame(1000))
        assert await read_close(peer) == (1000, b"")

    server = serve(script, guard=40)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert seen[0].data == data.decode()


@pytest.mark.parametrize("server_url", ["ws_url", "aiohttp_url"])
def test_9_7_1000_round_trips(client: Client, request: pytest.FixtureRequest, server_url: str) -> None:
    """9.7.x / 9.8.x: a thousand small messages, each answered before the next goes."""
    ws = client.connect(request.getfixturevalue(server_url) + "/echo")
    for i in range(500):
        ws.send_str(f"message {i}" * (i % 4))
        assert ws.receive().data == f"message {i}" * (i % 4)
        ws.send_bytes(bytes([i % 256]) * (i % 7))
        assert ws.receive().data == bytes([i % 256]) * (i % 7)
    assert ws.close() is True


# -- max_msg_size on uncompressed messages -----------------------------------------


@pytest.mark.parametrize("length", [16, 64], ids=["16-bit", "64-bit"])
def test_oversized_frame_fails_on_its_header(client: Client, serve: Serve, length: int) -> None:
    """1009 as soon as the length is read: the payload is never sent, let alone buffered."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(2, b"\x00" * 1001, length=length)[: 4 if length == 16 else 10])  # header only
        await expect_close(peer, 1009)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=1000)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED] and ws.close_code == 1009
    assert "max_msg_size" in str(ws.failure())


def test_fragmented_message_over_the_limit(client: Client, serve: Serve) -> None:
    """The limit counts the whole message: the fragment that crosses it fails, on its header."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(2, b"a" * 600, fin=False) + frame(0, b"b" * 400))  # exactly 1000: fine
        got = await read_messages(peer, 1)
        assert got.messages == [(2, b"a" * 600 + b"b" * 400)]
        peer.send(frame(1, b"a" * 600, fin=False) + frame(0, b"b" * 401)[:4])  # the header of 401 more
        await expect_close(peer, 1009)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=1000)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.BINARY, WSMsgType.ERROR, WSMsgType.CLOSED]


def test_default_limit_with_a_real_server(client: Client, ws_url: str) -> None:
    """The default max_msg_size is 4 MiB: a 5 MiB echo fails the connection with 1009."""
    ws = client.connect(ws_url + "/echo", compress=0)
    ws.send_bytes(bytes(5 * MIB))
    msg = ws.receive()
    assert msg.type is WSMsgType.ERROR and msg.data.code == 1009
    assert ws.receive().type is WSMsgType.CLOSED
    assert ws.close_code == 1009


def test_zero_means_unlimited(client: Client, ws_url: str) -> None:
    ws = client.connect(ws_url + "/echo", compress=0, max_msg_size=0)
    data = bytes(6 * MIB)
    ws.send_bytes(data)
    assert ws.receive().data == data
    assert ws.close() is True
