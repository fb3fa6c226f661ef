"""Issue #17: a big message's compression runs outside the writer lock the loop thread
takes, so the one loop thread serving every connection never waits for a caller's zlib
(sync/writer.py, docs/threading.md).

The compressor of the connection under test is wrapped so that a test can stop a caller
inside compression, or make the step after it fail. No test sleeps; every wait is bounded
and releases what it holds, so a regression fails instead of hanging.
"""

from __future__ import annotations

import hashlib
import os
import threading
import zlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import syncws
from syncws.sync.loop_thread import get_loop_thread
from syncws.sync.websocket import SyncWebSocket
from syncws.sync.writer import PACK_APART
from tests.reliability.support import Snapshot, assert_no_leaks, thread_blocked_in, wait_until
from tests.servers import RawPeer, ServerLoop, frame

pytestmark = pytest.mark.timeout(120)

BIG = 2**20  # well over PACK_APART: compressed outside the lock
WAIT = 10.0  # generous bound for things that happen at once unless the code is wrong


@pytest.fixture
def no_leaks(ws_url: str) -> Iterator[None]:
    """No thread, file descriptor, syncws-loop task or open connection is left behind."""
    with syncws.connect(ws_url, compress=0) as ws:  # warm up: loop thread, resolver worker
        ws.send_str("warm")
        ws.receive(timeout=WAIT)
    baseline = Snapshot.take()
    yield
    assert_no_leaks(baseline)


def _big(tag: str, size: int = BIG) -> bytes:
    """``size`` compressible bytes, different for every ``tag`` (so a mix-up shows)."""
    block = hashlib.sha256(tag.encode()).hexdigest().encode() * 64 + os.urandom(256).hex().encode()
    return (tag.encode() + b":" + block * (size // len(block) + 1))[:size]


class _Compress:
    """Stands in for the deflater's ``compress``: ``hook(data)`` runs before the real one
    for messages of at least ``min_size`` bytes, ``after(out)`` after it."""

    def __init__(self, ws: SyncWebSocket, min_size: int = PACK_APART) -> None:
        deflater = ws._conn.writer.deflater
        assert deflater is not None, "permessage-deflate was not agreed"
        self.deflater = deflater
        self.real = deflater.compress
        self.min_size = min_size
        self.hook: Optional[Callable[[bytes], None]] = None
        self.after: Optional[Callable[[Optional[bytes]], None]] = None
        self.threads: List[int] = []
        self.active = 0
        self.overlapped = False  # two threads inside the compressor at once
        deflater.compress = self  # type: ignore[method-assign]

    def __call__(self, data: bytes) -> Optional[bytes]:
        self.active += 1
        try:
            self.overlapped |= self.active > 1
            big = len(data) >= self.min_size
            if big:
                self.threads.append(threading.get_ident())
                if self.hook is not None:
                    self.hook(data)
            out = self.real(data)
            if big and self.after is not None:
                self.after(out)
            return out
        finally:
            self.active -= 1


def _echo(ws: SyncWebSocket, data: bytes) -> None:
    ws.send_bytes(data)
    assert ws.receive_bytes(timeout=WAIT) == data


# -- the loop thread never waits for a caller's compression ------------------------------

def _loop_takes_the_lock(ws: SyncWebSocket, kind: str) -> bool:
    """Has the loop thread take the writer's lock, as a pong or a flush does, and waits
    (bounded) for it to have done so: False if it could not meanwhile."""
    proto, writer = ws._proto, ws._writer
    loop_got_lock = threading.Event()

    def on_loop() -> None:
        if kind == "pong":
            proto._send_quietly(proto._pong, b"from the loop")
        else:
            writer._flush()
        loop_got_lock.set()

    assert get_loop_thread().call_soon(on_loop)
    return loop_got_lock.wait(WAIT)


@pytest.mark.parametrize("kind", ["pong", "flush"])
def test_loop_takes_the_writer_lock_while_a_caller_compresses(ws_url: str, no_leaks: None, kind: str) -> None:
    """Failed on a5844a5 (compression under the lock): the loop blocked on the lock, the
    event was never set, and the wait below ran out."""
    with syncws.connect(ws_url) as ws:
        compress = _Compress(ws)
        waited: List[bool] = []

        def inside_compression(data: bytes) -> None:
            waited.append(_loop_takes_the_lock(ws, kind))  # on the old code: False after WAIT

        compress.hook = inside_compression
        data = _big("loop")
        ws.send_bytes(data)
        assert waited == [True], "the loop thread waited for the writer lock while a caller compressed"
        assert compress.threads == [threading.get_ident()]  # compressed in the caller's thread
        assert ws.receive_bytes(timeout=WAIT) == data
        _echo(ws, _big("after"))


@pytest.mark.parametrize("kind", ["pong", "flush"])
def test_loop_takes_the_writer_lock_while_a_caller_compresses_a_fragment(
    ws_url: str, no_leaks: None, kind: str
) -> None:
    """send_fragments: a fragment of PACK_APART or more is compressed outside the lock too,
    small ones under it. Failed before fragments were packed apart: each was compressed
    under the lock, and the wait below ran out."""
    with syncws.connect(ws_url, max_msg_size=4 * BIG) as ws:
        deflater = ws._conn.writer.deflater
        assert deflater is not None
        real = deflater.compress_fragment
        seen: List[Tuple[int, bool]] = []  # (bytes, lock held by this thread)
        waited: List[bool] = []

        def compress_fragment(data: bytes, fin: bool) -> bytes:
            seen.append((len(data), ws._writer._lock._is_owned()))  # type: ignore[attr-defined]
            if len(data) >= PACK_APART and not waited:
                waited.append(_loop_takes_the_lock(ws, kind))
            return real(data, fin)

        deflater.compress_fragment = compress_fragment  # type: ignore[method-assign]
        parts = [b"small, ", _big("fragment"), b", small again, ", _big("last fragment")]
        ws.send_fragments(parts)
        assert waited == [True], "the loop thread waited for the writer lock while a caller compressed"
        assert seen == [(7, True), (BIG, False), (15, True), (BIG, False)]
        assert ws.receive_bytes(timeout=WAIT) == b"".join(parts)
        _echo(ws, _big("after"))


def test_a_big_fragment_failing_to_compress_closes_1011(
    raw_server: Any, server_loop: ServerLoop, no_leaks: None
) -> None:
    """The compressor raising on a big fragment (outside the lock): the first fragment is
    out, so the connection closes with 1011 and the error reaches the caller. (A scripted
    peer: `websockets` answers a close inside a fragmented message with 1002.)"""
    seen: List[Tuple[int, bool, int]] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        opcode, fin, _ = await peer.read_frame()
        code, _ = await peer.read_close()
        seen.append((opcode, fin, code))
        peer.send(frame(8, code.to_bytes(2, "big")))
        await peer.at_eof()

    server = raw_server(script)
    with syncws.connect(server.url) as ws:
        deflater = ws._conn.writer.deflater
        assert deflater is not None
        real = deflater.compress_fragment

        def compress_fragment(data: bytes, fin: bool) -> bytes:
            if len(data) >= PACK_APART:
                raise MemoryError("no room to compress")
            return real(data, fin)

        deflater.compress_fragment = compress_fragment  # type: ignore[method-assign]
        with pytest.raises(MemoryError):
            ws.send_fragments([b"first", _big("too big"), b"never sent"])
        assert ws.receive(timeout=WAIT).type in (syncws.WSMsgType.CLOSE, syncws.WSMsgType.CLOSED)
        assert ws.close_code == 1011
    wait_until(lambda: server.done.is_set(), WAIT, "the script's end")
    server_loop.run(server.stop())
    assert not server.errors
    assert seen == [(2, False, 1011)]


def test_small_messages_keep_the_one_step_path(ws_url: str) -> None:
    """Below PACK_APART a message is compressed under the lock, in one step, as before."""
    with syncws.connect(ws_url) as ws:
        compress = _Compress(ws, min_size=0)
        held: List[bool] = []
        compress.hook = lambda data: held.append(ws._writer._lock._is_owned())  # type: ignore[attr-defined]
        ws.send_str("s" * 1000)
        assert ws.receive_str(timeout=WAIT) == "s" * 1000
        ws.send_str("b" * PACK_APART)
        assert ws.receive_str(timeout=WAIT) == "b" * PACK_APART
        assert held == [True, False]


# -- order ------------------------------------------------------------------------------

def test_many_threads_mixed_sizes_keep_each_threads_order(ws_url: str, no_leaks: None) -> None:
    threads, per_thread = 4, 6
    with syncws.connect(ws_url, max_msg_size=4 * BIG) as ws:
        compress = _Compress(ws)
        sent: Dict[str, List[str]] = {}
        errors: List[BaseException] = []
        start = threading.Barrier(threads)

        def sender(t: int) -> None:
            try:
                digests = sent.setdefault(f"t{t}", [])
                start.wait(WAIT)
                for k in range(per_thread):
                    tag = f"t{t}.{k}"
                    if k % 2 == 0:  # big and compressed apart: text, then binary, in turn
                        data = _big(tag, BIG + t * 1000 + k)
                        if k % 4 == 0:
                            ws.send_str(data.decode("ascii"))
                        else:
                            ws.send_bytes(data)
                    else:
                        data = f"{tag}:small".encode()
                        ws.send_bytes(data)
                    digests.append(hashlib.sha256(data).hexdigest())
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        workers = [threading.Thread(target=sender, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        got: Dict[str, List[str]] = {}
        for _ in range(threads * per_thread):
            msg = ws.receive(timeout=WAIT * 3)
            assert msg.type in (syncws.WSMsgType.TEXT, syncws.WSMsgType.BINARY), msg
            data = msg.data.encode("ascii") if isinstance(msg.data, str) else msg.data
            got.setdefault(data.split(b".", 1)[0].decode(), []).append(hashlib.sha256(data).hexdigest())
        for w in workers:
            w.join(WAIT)
        assert not errors
        assert got == sent
        assert len(set(compress.threads)) == threads and not compress.overlapped


# -- cut short between compressing and writing --------------------------------------------

class _Cut(BaseException):
    pass


@pytest.mark.parametrize("where", ["end of compression", "framing"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError, _Cut])
def test_cut_short_after_compression_resets_the_compressor(
    ws_url: str, no_leaks: None, where: str, error: type
) -> None:
    """The message is dropped, the caller gets the exception, and the compressor restarts:
    the next message, the same bytes (all back-references into the dropped one, if the
    context had kept it), still inflates at the peer."""
    data = _big("cut")
    with syncws.connect(ws_url, max_msg_size=4 * BIG) as ws:
        compress = _Compress(ws)
        fail = [True]

        def cut(*args: Any) -> None:
            if fail[0]:
                fail[0] = False
                raise error("cut short")

        if where == "end of compression":
            compress.after = cut  # the compressor has taken the whole message
        else:
            conn = ws._conn
            real_packed = conn.send_packed

            def send_packed(*args: Any) -> bytes:
                cut()
                return real_packed(*args)

            conn.send_packed = send_packed  # type: ignore[method-assign]
        with pytest.raises(error):
            ws.send_bytes(data)
        assert not ws.closed
        assert ws._writer._turn is None and not ws._writer._packing
        _echo(ws, data)
        _echo(ws, data)  # and the context goes on from there
        ws.send_str("small")
        assert ws.receive_str(timeout=WAIT) == "small"
    assert ws.close_code == 1000


def test_connection_closed_while_compressing_drops_the_message(ws_url: str, no_leaks: None) -> None:
    """The loop closes the connection (here: the server's close arrives) while a caller
    compresses: that send raises ConnectionClosed, nothing is written after the close."""
    with syncws.connect(f"{ws_url}/echo") as ws:
        compress = _Compress(ws)

        def close_meanwhile(data: bytes) -> None:
            get_loop_thread().call_soon(ws._proto.close_soon, 1001, b"")
            wait_until(lambda: ws._conn.close_sent is not None, WAIT, "the loop's close frame sent")

        compress.hook = close_meanwhile
        with pytest.raises(syncws.ConnectionClosed):
            ws.send_bytes(_big("late"))
        ws.close()
    assert ws.close_code == 1001


# -- close() from another thread ----------------------------------------------------------

def test_close_waits_for_a_message_being_compressed(
    raw_server: Any, server_loop: ServerLoop, no_leaks: None
) -> None:
    """close() from another thread while a big send compresses: the message goes out
    first, whole, then the close frame with 1000."""
    data = _big("before close")
    seen: List[Tuple[int, bytes]] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        opcode, fin, payload = await peer.read_frame()
        assert fin
        inflate = zlib.decompressobj(-15)
        seen.append((opcode, inflate.decompress(payload + b"\x00\x00\xff\xff")))
        code, _ = await peer.read_close()
        seen.append((8, code.to_bytes(2, "big")))
        peer.send(frame(8, code.to_bytes(2, "big")))
        await peer.at_eof()

    server = raw_server(script)
    ws = syncws.connect(server.url)
    compress = _Compress(ws)
    closer = threading.Thread(target=ws.close)

    def close_meanwhile(_: bytes) -> None:
        closer.start()
        wait_until(lambda: thread_blocked_in(closer, ["wait_packed"]), WAIT, "close() waiting for the send")

    compress.hook = close_meanwhile
    ws.send_bytes(data)
    closer.join(WAIT)
    assert not closer.is_alive()
    assert ws.close_code == 1000
    wait_until(lambda: server.done.is_set(), WAIT, "the script's end")
    server_loop.run(server.stop())  # its listening socket is no leak of ours
    assert not server.errors
    assert seen == [(2, data), (8, (1000).to_bytes(2, "big"))]
