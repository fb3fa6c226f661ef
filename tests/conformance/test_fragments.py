"""Messages in fragments, both APIs: ``send_fragments(iterable)`` and ``receive_stream()``.

What goes out is read frame by frame by a scripted server (opcodes, FIN, RSV1,
continuations); what comes in is sent frame by frame by one. Round trips run
against the websockets and aiohttp servers. Memory bounds are tracemalloc
peaks, never timings.
"""

from __future__ import annotations

import hashlib
import random
import threading
import tracemalloc
from typing import Callable, Iterator, List, Union

import pytest

import syncws
from syncws import WSMsgType
from tests.apis import Client
from tests.conformance.helpers import (
    DEFLATE,
    Compressor,
    Decompressor,
    close_from_server,
    expect_close,
    read_frame,
    read_messages,
)
from tests.servers import RawPeer, RawServer, frame

pytestmark = pytest.mark.timeout(60)

Serve = Callable[..., RawServer]
MIB = 2**20


def gen(*fragments: Union[str, bytes]) -> Iterator[Union[str, bytes]]:
    yield from fragments


# -- what goes out ----------------------------------------------------------------


def test_a_list_marks_its_last_fragment_fin(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        frames = [await read_frame(peer) for _ in range(3)]
        assert [(f.fin, f.rsv, f.opcode, f.payload) for f in frames] == [
            (False, 0, 1, b"ab"),
            (False, 0, 0, "cé".encode()),
            (True, 0, 0, b"ef"),
        ]
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url)
    ws.send_parts(["ab", "cé", "ef"])
    ws.close()
    client.finish(server)


def test_an_iterator_ends_with_an_empty_fin_frame(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        frames = [await read_frame(peer) for _ in range(4)]
        assert [(f.fin, f.rsv, f.opcode, f.payload) for f in frames] == [
            (False, 0, 2, b"\x00\x01"),
            (False, 0, 0, b"\x02"),
            (False, 0, 0, b"\x03\x04"),
            (True, 0, 0, b""),
        ]
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url)
    ws.send_parts(gen(b"\x00\x01", bytearray(b"\x02"), memoryview(b"\x03\x04")))
    ws.close()
    client.finish(server)


def test_one_fragment_is_one_frame_and_none_is_nothing(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        got = [await read_frame(peer) for _ in range(2)]
        assert [(f.fin, f.opcode, f.payload) for f in got] == [(True, 2, b"x"), (True, 1, b"next")]
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url)
    ws.send_parts([b"x"])
    ws.send_parts([])  # nothing at all goes out
    ws.send_parts(gen())
    ws.send_str("next")
    ws.close()
    client.finish(server)


def test_compressed_fragments_rsv1_on_the_first_only(client: Client, serve: Serve) -> None:
    """With permessage-deflate each fragment is compressed and flushed, RSV1 on the first
    frame only; the context goes on into the next message (context takeover)."""
    text = ["The quick brown fox jumps over the lazy dog. " * 20, "κόσμε " * 50, "end"]

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        frames = [await read_frame(peer) for _ in range(3)]
        assert [(f.fin, f.rsv, f.opcode) for f in frames] == [(False, 4, 1), (False, 0, 0), (True, 0, 0)]
        assert all(f.payload for f in frames)
        inflate = Decompressor()
        assert inflate.message(b"".join(f.payload for f in frames)) == "".join(text).encode()
        got = await read_messages(peer, 1, inflate)
        assert got.messages == [(1, ("after " * 40).encode())]
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url)
    assert ws.deflate is not None
    ws.send_parts(text)
    ws.send_str("after " * 40)
    ws.close()
    client.finish(server)


@pytest.mark.parametrize(
    "fragments",
    [5, "text", b"bytes", ["a", b"b"], [b"a", "b"], [b"a", 3], [object()]],
    ids=["int", "str", "bytes", "str-then-bytes", "bytes-then-str", "bytes-then-int", "object"],
)
def test_wrong_types_raise_before_anything_is_sent(client: Client, serve: Serve, fragments: object) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        f = await read_frame(peer)
        assert (f.fin, f.opcode, f.payload) == (True, 1, b"still open"), f
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url)
    with pytest.raises(TypeError):
        ws.send_parts(fragments)
    ws.send_str("still open")
    ws.close()
    client.finish(server)


def failing(fragments: List[Union[str, bytes]], exc: BaseException) -> Iterator[Union[str, bytes]]:
    yield from fragments
    raise exc


@pytest.mark.parametrize("how", ["raises", "mixed"])
def test_half_a_message_closes_with_1011(client: Client, serve: Serve, how: str) -> None:
    """The iterable fails part-way (it raises, or yields the wrong type): the first frames are
    out, so the connection is closed with 1011 and the error reaches the caller."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        f = await read_frame(peer)
        assert (f.fin, f.opcode, f.payload) == (False, 1, b"first")
        await expect_close(peer, 1011)

    server = serve(script)
    ws = client.connect(server.url)
    if how == "raises":
        with pytest.raises(ValueError, match="from the iterator"):
            ws.send_parts(failing(["first"], ValueError("from the iterator")))
    else:
        with pytest.raises(TypeError):
            ws.send_parts(gen("first", b"second"))
    client.finish(server)
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_str("no more")
    assert ws.receive().type in (WSMsgType.CLOSE, WSMsgType.CLOSED)


def test_async_iterable_on_the_blocking_api_is_refused(sync_client: Client, ws_url: str) -> None:
    async def agen() -> object:
        yield b"x"

    ws = sync_client.connect(ws_url + "/echo")
    with pytest.raises(TypeError, match="asyncio"):
        ws.send_parts(agen())
    ws.close()


# -- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("server_url", ["ws_url", "aiohttp_url"])
@pytest.mark.parametrize("compress", [15, 0], ids=["deflate", "plain"])
def test_round_trips(client: Client, request: pytest.FixtureRequest, server_url: str, compress: int) -> None:
    url = request.getfixturevalue(server_url) + "/echo"
    ws = client.connect(url, compress=compress)
    assert (ws.deflate is not None) == bool(compress)
    text = ["héllo ", "wörld ", "😀" * 100]
    data = random.Random(1).randbytes(100_000)
    ws.send_parts(text)
    ws.send_parts(data[i : i + 7000] for i in range(0, len(data), 7000))
    ws.send_parts(tuple(memoryview(data)[i : i + 30000] for i in range(0, len(data), 30000)))
    assert ws.receive_str() == "".join(text)
    assert ws.receive().data == data
    stream = ws.receive_stream()
    assert stream.type is WSMsgType.BINARY and b"".join(stream) == data
    ws.send_parts(text)
    stream = ws.receive_stream()
    pieces = list(stream)
    assert stream.type is WSMsgType.TEXT and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == "".join(text)
    assert ws.close() is True


def test_async_iterable_round_trip(async_client: Client, aiohttp_url: str) -> None:
    async def agen() -> object:
        for i in range(5):
            yield f"{i}," * 100

    ws = async_client.connect(aiohttp_url + "/echo")
    ws.send_parts(agen())
    assert ws.receive_str() == "".join(f"{i}," * 100 for i in range(5))
    ws.close()


# -- what comes in ----------------------------------------------------------------------


def test_stream_with_a_ping_in_the_middle(client: Client, serve: Serve) -> None:
    """A ping between fragments is answered (autoping) while the stream is read."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, b"hel", fin=False) + frame(9, b"mid"))
        f = await read_frame(peer)
        assert (f.opcode, f.payload) == (10, b"mid")
        peer.send(frame(0, "lo wörld".encode(), fin=False))
        peer.send(frame(0, b"!"))
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url)
    stream = ws.receive_stream()
    assert stream.type is WSMsgType.TEXT
    assert "".join(stream) == "hello wörld!"
    ws.close()
    client.finish(server)


def test_stream_with_pings_handed_to_the_application(client: Client, serve: Serve) -> None:
    """autoping=False: a ping part-way raises WSMessageTypeError carrying it; the stream
    goes on, with every byte, in order."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(2, b"ab", fin=False) + frame(9, b"p1") + frame(0, b"cd", fin=False) + frame(0, b"ef"))
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url, autoping=False)
    pieces, pings = [], []
    while True:  # the ping comes first when the message was whole before the stream began
        try:
            stream = ws.receive_stream()
            break
        except syncws.WSMessageTypeError as exc:
            pings.append(exc.msg)
    while True:
        try:
            pieces.append(next(stream))
        except StopIteration:
            break
        except syncws.WSMessageTypeError as exc:
            assert pieces == [b"ab"], "what came before the ping is handed out before it"
            pings.append(exc.msg)
    assert b"".join(pieces) == b"abcdef"
    assert [(m.type, m.data) for m in pings] == [(WSMsgType.PING, b"p1")]
    ws.close()
    client.finish(server)


def test_close_in_the_middle_ends_the_stream(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(2, b"part", fin=False))
        await close_from_server(peer, 1001, b"bye")

    server = serve(script)
    ws = client.connect(server.url)
    with pytest.raises(syncws.ConnectionClosed) as info:  # at its start, or part-way
        list(ws.receive_stream())
    assert info.value.code == 1001
    client.finish(server)
    with pytest.raises(syncws.ConnectionClosed):
        ws.receive_stream()


def test_receive_after_an_unfinished_stream_skips_its_rest(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, b"first ", fin=False))  # over max_msg_size: handed out as it comes
        got = await read_frame(peer)
        assert got.payload == b"took the first piece"
        peer.send(frame(0, b"rest ", fin=False) + frame(0, b"of it"))
        peer.send(frame(1, b"2nd"))
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=5)
    stream = ws.receive_stream()
    assert next(stream) == "first "
    ws.send_str("took the first piece")
    assert ws.receive_str() == "2nd"
    with pytest.raises(RuntimeError):
        list(stream)  # its rest was skipped
    ws.close()
    client.finish(server)


def test_receive_gathers_what_comes_in_pieces(client: Client, serve: Serve) -> None:
    """After a stream, the next message may come in pieces too: receive() gathers it whole,
    and still refuses one over max_msg_size with 1009."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(2, b"a" * 10, fin=False))
        peer.send(frame(0, b"b" * 10))
        peer.send(frame(1, b"c" * 600, fin=False))
        peer.send(frame(0, b"d" * 400))
        peer.send(frame(2, b"e" * 600, fin=False))
        peer.send(frame(0, b"f" * 401))
        await expect_close(peer, 1009)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=1000)
    assert b"".join(ws.receive_stream()) == b"a" * 10 + b"b" * 10
    assert ws.receive_str() == "c" * 600 + "d" * 400
    msg = ws.receive()
    assert msg.type is WSMsgType.ERROR and msg.data.code == 1009
    assert ws.receive().type is WSMsgType.CLOSED
    client.finish(server)
    assert ws.close_code == 1009


def big_frames(size: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """One binary frame of ``size`` pseudo-random bytes, produced a chunk at a time."""
    yield frame(2, b"", length=64)[:2] + size.to_bytes(8, "big")
    rng = random.Random(size)
    for start in range(0, size, chunk):
        yield rng.randbytes(min(chunk, size - start))


def test_stream_three_times_max_msg_size_in_bounded_memory(client: Client, serve: Serve) -> None:
    """A 24 MiB message with max_msg_size=8 MiB: streamed whole, never refused. The receiver
    takes its first piece, then leaves the rest for as long as the server needs to send it
    all (bounded: with backpressure it cannot, once the kernel's buffers are full); the peak
    of everything Python allocated (both ends) stays within the queue's bound, far below
    the message."""
    limit, size = 8 * MIB, 24 * MIB
    expected = hashlib.sha256()
    for part in list(big_frames(size))[1:]:
        expected.update(part)
    all_sent = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        for part in big_frames(size):
            peer.send(part)
            await peer.writer.drain()
        all_sent.set()
        peer.send(frame(1, b"after"))
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=limit, max_queue=4)
    tracemalloc.start()
    try:
        stream = ws.receive_stream()
        got = hashlib.sha256()
        total = 0
        for piece in stream:
            if not total:
                all_sent.wait(0.5)  # a bound, not a condition: the loop has time to read ahead, if it would
            got.update(piece)
            total += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.type is WSMsgType.BINARY and total == size and got.digest() == expected.digest()
    assert peak < 4 * MIB, f"peak {peak} bytes while streaming {size}"
    assert ws.receive_str() == "after"
    ws.close()
    client.finish(server)


def test_compressed_stream_inflates_a_piece_at_a_time(client: Client, serve: Serve) -> None:
    """9 MiB of text deflated to a few hundred KiB: streamed with max_msg_size=256 KiB and
    max_queue=4, it is inflated a piece at a time as the receiver takes them, never all at
    once. The bound allows the queue full of pieces plus the piece in hand, its encoding
    and the decompressor's input (how far the loop gets ahead depends on scheduling), and is
    a third of the message, so gathering it whole fails."""
    limit = 256 * 1024
    queued = 4
    text = "".join(f"line {i:07d} of a very repetitive text\n" for i in range(240_000))
    data = text.encode()
    packed = Compressor().message(data)
    digest, size = hashlib.sha256(data).digest(), len(data)
    del text, data
    bound = (queued + 6) * limit
    assert size > 3 * bound and len(packed) < MIB

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        peer.send(frame(1, packed, rsv=4))
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=limit, max_queue=queued)
    tracemalloc.start()
    try:
        stream = ws.receive_stream()
        got = hashlib.sha256()
        biggest = 0
        for piece in stream:
            got.update(piece.encode())
            biggest = max(biggest, len(piece))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.digest() == digest
    assert biggest <= limit + 1  # the piece that crossed the limit holds the byte that showed it
    assert peak < bound, f"peak {peak} bytes while streaming {size}"
    ws.close()
    client.finish(server)


def test_receive_still_refuses_a_compressed_message_over_the_limit(client: Client, serve: Serve) -> None:
    limit = 64 * 1024
    packed = Compressor().message(b"z" * (4 * limit))

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        peer.send(frame(2, packed, rsv=4))
        await expect_close(peer, 1009)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=limit)
    msg = ws.receive()
    assert msg.type is WSMsgType.ERROR and msg.data.code == 1009
    client.finish(server)


@pytest.mark.parametrize("then", ["receive", "receive_stream"])
def test_a_timeout_part_way_loses_nothing(client: Client, serve: Serve, then: str) -> None:
    """receive() runs out of time half-way through a message that comes in pieces: what it
    gathered is kept, for the next receive() or receive_stream()."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        assert (await read_frame(peer)).payload == b"ready"
        peer.send(frame(1, b"ab", fin=False))
        assert (await read_frame(peer)).payload == b"go"
        peer.send(frame(0, b"cd"))
        await close_from_server(peer)

    server = serve(script)
    ws = client.connect(server.url)
    with pytest.raises(syncws.ReceiveTimeout):
        ws.receive_stream(timeout=0.1)  # nothing sent yet; the next message will come in pieces
    ws.send_str("ready")
    with pytest.raises(syncws.ReceiveTimeout):
        ws.receive(timeout=0.2)  # takes "ab", then waits in vain for the rest
    ws.send_str("go")
    if then == "receive":
        assert ws.receive_str() == "abcd"
    else:
        assert "".join(ws.receive_stream()) == "abcd"
    ws.close()
    client.finish(server)
