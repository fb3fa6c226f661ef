"""Large compressed messages: inflated off the event loop, yet in order and bounded.

A read that may inflate to a lot goes to a worker thread (syncws/aio/offload.py),
so one connection's 16 MiB message does not hold up the others on the same loop.
These tests check what that must not change: order with control frames and
small messages between, flow control (max_queue), the end of the connection
right behind a big message, and the max_msg_size bound, on both zlib backends.
"""

from __future__ import annotations

import base64
import random
import threading
from typing import List

import pytest

from syncws import WSMsgType
from syncws.protocol import deflate
from tests.apis import Client
from tests.conformance.helpers import Compressor, Decompressor, close_frame, read_close, read_messages
from tests.conformance.test_deflate import Serve, zeros_bomb
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(60)


def big_text(size: int, seed: int) -> bytes:
    """Text that deflate shrinks only by a quarter: its compressed form spans many reads."""
    return base64.b64encode(random.Random(seed).randbytes(size * 3 // 4))[:size]


@pytest.fixture
def inflating_threads(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Names of the threads that inflated data (a spy on the decompressor; nothing on the wire changes)."""
    names: List[str] = []
    real = deflate.Inflater.decompress

    def spy(self: deflate.Inflater, data: bytes, limit: object) -> bytes:
        names.append(threading.current_thread().name)
        return real(self, data, limit)  # type: ignore[arg-type]

    monkeypatch.setattr(deflate.Inflater, "decompress", spy)
    return names


def test_big_messages_inflate_off_the_loop_thread(
    client: Client, serve: Serve, zlib_name: str, inflating_threads: List[str]
) -> None:
    """Fails before the change: every byte was inflated on the loop thread."""
    data = big_text(3 * 2**20, 1)

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        peer.send(frame(1, Compressor().message(data), rsv=4))
        peer.send(close_frame(1000))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=2**23)
    loop_thread = client.run(_thread_name()) if client.is_async else _sync_loop_thread_name()
    assert ws.receive().data == data.decode()
    ws.echo_all()
    client.finish(server)
    assert inflating_threads[-1] != loop_thread  # the end of the message, with its 3 MiB join
    assert sum(name != loop_thread for name in inflating_threads) >= len(inflating_threads) // 2


async def _thread_name() -> str:
    return threading.current_thread().name


def _sync_loop_thread_name() -> str:
    from syncws.sync.loop_thread import get_loop_thread

    return get_loop_thread().submit(_thread_name()).result()


@pytest.mark.parametrize("max_queue", [1, 16])
def test_order_kept_with_pings_and_small_messages_between(
    client: Client, serve: Serve, zlib_name: str, max_queue: int
) -> None:
    bigs = [big_text(2**20 + i * 70001, i) for i in range(4)]
    wire = []
    out = Compressor(15)
    expected = []
    for i, big in enumerate(bigs):
        wire.append(frame(2 if i % 2 else 1, out.message(big), rsv=4))
        wire.append(frame(9, b"ping %d" % i))
        small = b"small %d" % i
        wire.append(frame(1, out.message(small * 10), rsv=4))
        wire.append(frame(2, small))  # uncompressed, between compressed ones
        expected += [(WSMsgType.BINARY if i % 2 else WSMsgType.TEXT, big), (WSMsgType.TEXT, small * 10),
                     (WSMsgType.BINARY, small)]

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        peer.send(b"".join(wire))
        got = await read_messages(peer, 0, pongs=len(bigs))
        assert got.pongs == [b"ping %d" % i for i in range(len(bigs))]
        peer.send(close_frame(1000))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=2**22, max_queue=max_queue)
    seen = []
    for _ in expected:
        msg = ws.receive()
        seen.append((msg.type, msg.data.encode() if isinstance(msg.data, str) else msg.data))
    assert seen == expected
    ws.echo_all()
    client.finish(server)
    assert ws.close_code == 1000


def test_end_of_tcp_right_behind_a_big_message(client: Client, serve: Serve, zlib_name: str) -> None:
    """The server sends a big message and closes TCP at once: the message still comes first
    (reading pauses while a worker inflates, so the end is seen after what precedes it)."""
    data = big_text(2**21, 7)

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        peer.send(frame(2, Compressor().message(data), rsv=4))
        peer.writer.close()

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=2**22)
    first = ws.receive()
    assert first.type is WSMsgType.BINARY and first.data == data
    seen = ws.echo_all()
    client.finish(server)
    assert seen[-1].type in (WSMsgType.CLOSED, WSMsgType.ERROR) and ws.close_code == 1006


def test_bomb_split_over_many_reads_fails_1009(client: Client, serve: Serve, zlib_name: str) -> None:
    """In a worker too, max_msg_size counts inflated bytes: 1 GiB of zeros stops at 4 MiB."""
    bomb = zeros_bomb(2**30)

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        peer.send(frame(1, b"x" * 100) + frame(2, bomb, rsv=4))
        got = await read_messages(peer, 1, Decompressor(12))  # the echo of the first message
        assert got.messages == [(1, b"x" * 100)]
        code, _ = await read_close(peer)
        assert code == 1009

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.TEXT, WSMsgType.ERROR, WSMsgType.CLOSED]
    assert ws.close_code == 1009
