"""Autobahn groups 1 (framing) and 10 (misc), and the frame-header rules of RFC 6455 §5.2.

Every test is a scripted server sending exact bytes to a client that echoes
what it receives (Autobahn's client role), through both APIs.
"""

from __future__ import annotations

from typing import Callable, List

import pytest

from syncws import WSMsgType
from tests.apis import Client
from tests.conformance.helpers import close_frame, expect_close, read_close, read_message, read_messages
from tests.servers import RawPeer, RawServer, frame

pytestmark = pytest.mark.timeout(30)

Serve = Callable[..., RawServer]

# Autobahn 1.1.1-1.1.7 / 1.2.1-1.2.7: every length-encoding boundary.
SIZES = [0, 125, 126, 127, 128, 65535, 65536]


def payload_of(size: int, opcode: int) -> bytes:
    if opcode == 1:
        return b"*" * size
    return bytes([0xFE]) * size


async def echo_checked(peer: RawPeer, opcode: int, payload: bytes) -> None:
    got_op, got, _ = await read_message(peer)
    assert (got_op, got) == (opcode, payload), f"echo of {len(payload)} bytes differs"


async def close_cleanly(peer: RawPeer) -> None:
    peer.send(close_frame(1000))
    assert await read_close(peer) == (1000, b"")


@pytest.mark.parametrize("opcode", [1, 2], ids=["text", "binary"])
@pytest.mark.parametrize("size", SIZES)
def test_1_x_payload_lengths(client: Client, serve: Serve, opcode: int, size: int) -> None:
    """1.1.1-1.1.7 (text) and 1.2.1-1.2.7 (binary)."""
    payload = payload_of(size, opcode)

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(opcode, payload))
        await echo_checked(peer, opcode, payload)
        await close_cleanly(peer)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=2**20)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType(opcode), WSMsgType.CLOSE, WSMsgType.CLOSED]
    assert ws.close_code == 1000 and ws.failure() is None


@pytest.mark.parametrize("opcode", [1, 2], ids=["text", "binary"])
def test_1_x_8_chopped_997(client: Client, serve: Serve, opcode: int) -> None:
    """1.1.8 / 1.2.8: 65536 bytes sent in 997-byte TCP writes."""
    payload = payload_of(65536, opcode)

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.send_slowly(frame(opcode, payload), chunk=997)
        await echo_checked(peer, opcode, payload)
        await close_cleanly(peer)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert seen[0].data == (payload.decode() if opcode == 1 else payload)


@pytest.mark.parametrize("length", [16, 64], ids=["16-bit", "64-bit"])
def test_non_minimal_length_accepted(client: Client, serve: Serve, length: int) -> None:
    """RFC 6455 §5.2 asks senders for minimal lengths; receivers accept the rest (data and control)."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, b"tiny", length=length))
        peer.send(frame(2, b"", length=length))
        peer.send(frame(9, b"pingdata", length=length))
        got = await read_messages(peer, 2, pongs=1)
        assert got.messages == [(1, b"tiny"), (2, b"")] and got.pongs == [b"pingdata"]
        await close_cleanly(peer)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [(m.type, m.data) for m in seen[:2]] == [(WSMsgType.TEXT, "tiny"), (WSMsgType.BINARY, b"")]


def test_64bit_length_top_bit_fails(client: Client, serve: Serve) -> None:
    """RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(bytes([0x82, 127]) + (2**63 + 5).to_bytes(8, "big"))  # header only: fail on it
        await expect_close(peer, 1002)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=0)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED]
    assert ws.close_code == 1002 and "64-bit" in str(ws.failure())


@pytest.mark.parametrize("opcode", [1, 9], ids=["text", "ping"])
def test_masked_server_frame_fails(client: Client, serve: Serve, opcode: int) -> None:
    """RFC 6455 §5.1: a client MUST close the connection on a masked frame."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        key = b"\x01\x02\x03\x04"
        body = bytes(b ^ key[i % 4] for i, b in enumerate(b"hello"))
        peer.send(bytes([0x80 | opcode, 0x80 | 5]) + key + body)
        await expect_close(peer, 1002)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED]
    assert "masked" in str(ws.failure())


def test_every_frame_in_one_byte_writes(client: Client, serve: Serve) -> None:
    """Frames chopped into 1-byte TCP writes: every header form, control frames between fragments."""
    frames: List[bytes] = [
        frame(1, "héllo €".encode()),
        frame(2, bytes(range(200))),  # 16-bit length
        frame(1, b"frag", fin=False),
        frame(9, b"p" * 125),
        frame(0, "ment ✓".encode()),
        frame(2, b"x" * 70000),  # 64-bit length
    ]

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        for data in frames:
            await peer.send_slowly(data, chunk=1)
        got = await read_messages(peer, 4, pongs=1)
        assert got.pongs == [b"p" * 125]
        assert got.messages == [
            (1, "héllo €".encode()),
            (2, bytes(range(200))),
            (1, "fragment ✓".encode()),
            (2, b"x" * 70000),
        ]
        await close_cleanly(peer)

    server = serve(script, guard=20)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.data for m in seen[:4]] == ["héllo €", bytes(range(200)), "fragment ✓", b"x" * 70000]


def test_10_1_1_auto_fragmented_1300(client: Client, serve: Serve) -> None:
    """10.1.1: a 65536-byte text message in 1300-byte fragments."""
    payload = b"*" * 65536
    pieces = [payload[i : i + 1300] for i in range(0, len(payload), 1300)]

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        for i, piece in enumerate(pieces):
            peer.send(frame(1 if i == 0 else 0, piece, fin=i == len(pieces) - 1))
        await echo_checked(peer, 1, payload)
        await close_cleanly(peer)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert seen[0].data == payload.decode()


def _buffers() -> List[object]:
    from array import array

    import numpy  # a test extra

    return [
        array("i", [1, 2, 3]),
        memoryview(array("d", [1.5, -2.25])),
        memoryview(bytes(range(40)))[::3],
        numpy.arange(6, dtype="<u4"),
        numpy.arange(24, dtype="<i2").reshape(4, 6)[:, ::2],
    ]


@pytest.mark.parametrize("compress", [0, 15])
def test_any_buffer_goes_out_as_its_bytes(client: Client, ws_url: str, compress: int) -> None:
    """send_bytes() of an array, a strided view or a numpy array sends exactly its bytes
    (a header that counted items, not bytes, made corrupt frames)."""
    with client.connect(ws_url, compress=compress) as conn:
        for buf in _buffers():
            conn.send_bytes(buf)  # type: ignore[arg-type]
            msg = conn.receive()
            assert msg.type is WSMsgType.BINARY and msg.data == memoryview(buf).tobytes(), buf  # type: ignore[arg-type]
