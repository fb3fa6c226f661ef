"""Large compressed sends on the asyncio API: deflated off the event loop, yet in order.

``send_str``/``send_bytes`` of OFFLOAD_SEND bytes or more with permessage-deflate
compress in the loop's default executor (syncws/aio/offload.py), holding the
connection's data turn meanwhile. These tests check, against real peers, that
the compressor leaves the loop thread, that call order is wire order (with
small sends, other tasks and fragmented messages between), that the loop
answers pings meanwhile, that close() waits for such a message, and what a lost
connection or a failed compression does. The compressor is spied on (wrapped
per connection); nothing on the wire changes. No test waits on time: a wrapped
compress that blocks is released by the loop or by the test's own events.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import threading
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import syncws
from syncws.aio.offload import OFFLOAD_SEND
from tests.apis import GUARD, Client
from tests.conformance.helpers import (
    DEFLATE,
    Decompressor,
    close_frame,
    expect_close,
    read_close,
    read_frame,
    read_messages,
)
from tests.reliability.support import Snapshot, assert_no_leaks
from tests.servers import RawPeer, RawServer

pytestmark = pytest.mark.timeout(60)

Serve = Callable[..., RawServer]
BIG = OFFLOAD_SEND + 12345


def big_data(size: int, seed: int) -> bytes:
    """Compressible (deflate shrinks it a lot, so the echo is cheap) and unique per seed."""
    line = b"%d: the quick brown fox jumps over the lazy dog %d\n" % (seed, seed)
    return (line * (size // len(line) + 1))[:size]


class Spy:
    """Wraps one connection's ``deflater.compress`` (whole messages; ``compress_fragment``
    for fragments): which thread ran it for how many bytes, and optionally a hook run
    first in that thread (to block or fail)."""

    def __init__(
        self, ws: Any, hook: Optional[Callable[[bytes], None]] = None, method: str = "compress"
    ) -> None:
        deflater = ws._conn.writer.deflater
        assert deflater is not None, "permessage-deflate was not agreed"
        self.calls: List[Tuple[int, int]] = []  # (thread ident, bytes)
        self.hook = hook
        real = getattr(deflater, method)

        def spied(data: bytes, *rest: Any) -> Optional[bytes]:
            self.calls.append((threading.get_ident(), len(data)))
            if self.hook is not None:
                self.hook(data)
            return real(data, *rest)  # type: ignore[no-any-return]

        setattr(deflater, method, spied)


class Blocker:
    """A hook that holds big messages' compression until ``release()``; ``entered`` is
    set on the loop once a worker is inside."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.entered = asyncio.Event()
        self.go = threading.Event()
        self.finished = threading.Event()

    def __call__(self, data: bytes) -> None:
        if len(data) < OFFLOAD_SEND:
            return
        self.loop.call_soon_threadsafe(self.entered.set)
        held = self.go.wait(GUARD)
        self.finished.set()
        assert held, "compression was never released: the loop must have been blocked"

    async def release(self) -> None:
        """Runs on the loop, so it can only run while the loop is free."""
        self.go.set()


async def echoes(ws: Any, count: int) -> List[bytes]:
    out = []
    for _ in range(count):
        msg = await ws.receive(timeout=GUARD)
        assert msg.type in (syncws.WSMsgType.TEXT, syncws.WSMsgType.BINARY), msg
        out.append(msg.data.encode() if isinstance(msg.data, str) else msg.data)
    return out


@pytest.fixture(params=["ws_url", "aiohttp_url"])
def echo_url(request: pytest.FixtureRequest) -> str:
    """websockets' and aiohttp's echo servers, both with permessage-deflate."""
    url: str = request.getfixturevalue(request.param)
    return url


@pytest.mark.parametrize("kind", ["str", "bytes"])
@pytest.mark.parametrize(
    "size, compress, offloaded",
    [(OFFLOAD_SEND, None, True), (4 * OFFLOAD_SEND, None, True), (OFFLOAD_SEND - 1, None, False), (64, None, False),
     (BIG, 0, False)],
)
def test_big_messages_compress_off_the_loop_thread(
    async_client: Client, echo_url: str, kind: str, size: int, compress: Optional[int], offloaded: bool
) -> None:
    """Fails before the change: every message was compressed on the loop thread."""
    data = big_data(size, size)
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    spy = Spy(ws)

    async def main() -> Tuple[int, List[bytes]]:
        send = ws.send_str if kind == "str" else ws.send_bytes
        await send(data.decode() if kind == "str" else data, compress=compress)
        return threading.get_ident(), await echoes(ws, 1)

    loop_thread, got = async_client.run(main())
    assert got == [data]
    if compress == 0:
        assert spy.calls == []
    else:
        assert [n for _, n in spy.calls] == [size]
        assert (spy.calls[0][0] != loop_thread) is offloaded
    async_client.conns[0].close()


def test_order_from_one_task(async_client: Client, echo_url: str) -> None:
    """big, small, big, small, without awaiting in between: echoed in call order."""
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    spy = Spy(ws)
    sent = [big_data(BIG, 1), b"small 1", big_data(BIG + 1, 2), b"small 2" * 10, big_data(2 * BIG, 3)]

    async def main() -> List[bytes]:
        loop_thread = threading.get_ident()
        pending = [
            ws.send_bytes(sent[0]),
            ws.send_str(sent[1].decode()),
            ws.send_str(sent[2].decode()),
            ws.send_bytes(sent[3]),
            ws.send_bytes(sent[4]),
        ]
        await asyncio.gather(*pending)
        assert sum(ident != loop_thread for ident, _ in spy.calls) == 3
        return await echoes(ws, len(sent))

    assert async_client.run(main()) == sent
    async_client.conns[0].close()


def test_buffer_reused_after_an_unawaited_send(async_client: Client, echo_url: str) -> None:
    """The call sends the buffer as it is then, as a small send does: changing it right after
    (the compression has not run yet) changes nothing on the wire."""
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    data = big_data(BIG, 14)
    buffer = bytearray(data)
    changed = threading.Event()
    writer = ws._conn.writer
    real = writer.pack

    def pack(payload: Any, compress: bool = True) -> Any:
        assert changed.wait(GUARD)  # the worker starts only once the buffer was changed
        return real(payload, compress)

    writer.pack = pack

    async def main() -> List[bytes]:
        sent = ws.send_bytes(buffer)
        buffer[:] = b"x" * len(buffer)
        changed.set()
        await sent
        return await echoes(ws, 1)

    assert async_client.run(main()) == [data]
    async_client.conns[0].close()


def test_order_from_two_tasks(async_client: Client, echo_url: str) -> None:
    """Two tasks take turns (events, not time, decide the calls' order): echoed in call order."""
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    big_a, small_a, small_b, big_b = big_data(BIG, 4), b"small a", b"small b", big_data(BIG + 7, 5)

    async def main() -> List[bytes]:
        first, second = asyncio.Event(), asyncio.Event()

        async def a() -> None:
            s1 = ws.send_bytes(big_a)
            first.set()
            await second.wait()
            s2 = ws.send_bytes(small_a)
            await s1
            await s2

        async def b() -> None:
            await first.wait()
            s1 = ws.send_bytes(small_b)
            s2 = ws.send_bytes(big_b)
            second.set()
            await asyncio.gather(s1, s2)

        await asyncio.gather(a(), b())
        return await echoes(ws, 4)

    assert async_client.run(main()) == [big_a, small_b, big_b, small_a]
    async_client.conns[0].close()


def test_order_with_a_fragmented_message_between(async_client: Client, echo_url: str) -> None:
    """A fragmented message sent while a big one compresses waits for it; whole messages sent
    after it wait for its last frame (the servers refuse a data frame inside a message)."""
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    big1, big2, small = big_data(BIG, 6), big_data(BIG + 3, 7), b"small after the fragments"
    parts = [b"fragment one, ", big_data(2 * BIG, 8), b", fragment three"]

    async def main() -> List[bytes]:
        started, go = asyncio.Event(), asyncio.Event()

        async def fragments() -> Any:
            started.set()
            yield parts[0]
            await go.wait()
            yield parts[1]
            yield parts[2]

        s1 = ws.send_bytes(big1)
        fragmented = asyncio.ensure_future(ws.send_fragments(fragments()))
        await started.wait()  # its task is now in line for the turn (it took its first fragment)
        s2 = ws.send_bytes(small)
        s3 = ws.send_bytes(big2)
        go.set()
        await asyncio.gather(s1, fragmented, s2, s3)
        return await echoes(ws, 4)

    assert async_client.run(main()) == [big1, b"".join(parts), small, big2]
    async_client.conns[0].close()


def test_big_fragments_compress_off_the_loop_thread(async_client: Client, echo_url: str) -> None:
    """send_fragments: a fragment of OFFLOAD_SEND or more is compressed in a worker, small
    ones on the loop, and the message arrives whole. Failed before fragments were packed
    apart: every fragment was compressed on the loop thread."""
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    spy = Spy(ws, method="compress_fragment")
    parts = [b"small first, ", big_data(BIG, 10), b", small last"]

    async def main() -> Tuple[int, List[bytes]]:
        await ws.send_fragments(parts)
        return threading.get_ident(), await echoes(ws, 1)

    loop_thread, got = async_client.run(main())
    assert got == [b"".join(parts)]
    assert [(n, thread == loop_thread) for thread, n in spy.calls] == [(13, True), (BIG, False), (12, True)]
    async_client.conns[0].close()


def aiohttp_keeps_compression_across_control_frames() -> bool:
    """aiohttp's reader before 3.14 (3.13.5 is the last for Python 3.9) lets a control frame
    between the fragments of a compressed message reset that message's RSV1 state, and hands
    its handler the raw deflate bytes (aio-libs/aiohttp#12988; docs/conformance.md). Checked
    good from 3.14.5, the oldest fixed release these tests have run against."""
    import aiohttp

    return tuple(int(part) for part in aiohttp.__version__.split(".")[:3]) >= (3, 14, 5)


def test_loop_answers_while_a_big_fragment_compresses(
    async_client: Client, echo_url: str, request: pytest.FixtureRequest
) -> None:
    """As below, for a fragment: the loop sends a ping and reads its pong while the big
    fragment's compression is held, so the ping goes out between the message's frames
    (RFC 6455 section 5.4); a whole message sent meanwhile waits for the last frame."""
    fixture = request.node.callspec.params["echo_url"]
    if fixture == "aiohttp_url" and not aiohttp_keeps_compression_across_control_frames():
        pytest.skip("this aiohttp server corrupts a compressed message with a ping between its frames")
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    parts = [b"first, ", big_data(BIG, 12), b", last"]

    async def main() -> List[bytes]:
        blocker = Blocker(asyncio.get_running_loop())
        Spy(ws, blocker, method="compress_fragment")
        fragmented = asyncio.ensure_future(ws.send_fragments(parts))
        await blocker.entered.wait()
        after = ws.send_bytes(b"after the fragments")
        latency = await (await ws.ping(b"while packing a fragment"))
        assert latency >= 0 and not blocker.finished.is_set()
        await blocker.release()
        await fragmented
        await after
        return await echoes(ws, 2)

    got = async_client.run(main())
    # Sizes and digests first: pytest's diff of two 1 MiB byte strings takes minutes.
    assert [(len(m), hashlib.sha256(m).hexdigest()) for m in got] == [
        (len(m), hashlib.sha256(m).hexdigest()) for m in (b"".join(parts), b"after the fragments")
    ]
    async_client.conns[0].close()


def test_loop_answers_while_a_big_message_compresses(async_client: Client, echo_url: str) -> None:
    """Compression of the big message blocks until a coroutine on the loop releases it, after
    a ping's pong came back: both can only happen while the loop is free."""
    ws = async_client.connect(echo_url, compress=15, max_msg_size=2**23).ws
    data = big_data(BIG, 9)

    async def main() -> List[bytes]:
        blocker = Blocker(asyncio.get_running_loop())
        Spy(ws, blocker)
        sent = ws.send_bytes(data)
        small = ws.send_bytes(b"queued behind the big one")
        await blocker.entered.wait()
        pong = await ws.ping(b"while packing")
        latency = await pong
        assert latency >= 0 and not blocker.finished.is_set()
        await blocker.release()
        await sent
        await small
        return await echoes(ws, 2)

    assert async_client.run(main()) == [data, b"queued behind the big one"]
    async_client.conns[0].close()


def test_close_right_after_an_unawaited_big_send(async_client: Client, serve: Serve) -> None:
    """Our close frame does not overtake a big message sent (not awaited) before close()."""
    data = big_data(2 * BIG, 10)
    got: List[Any] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        received = await read_messages(peer, 2, Decompressor())
        got.extend(received.messages)
        got.append(await read_close(peer))
        peer.send(close_frame(1000))
        await peer.writer.drain()

    server = serve(script)
    ws = async_client.connect(server.url, compress=15).ws

    async def main() -> bool:
        blocker = Blocker(asyncio.get_running_loop())
        Spy(ws, blocker)
        ws.send_bytes(data)  # old aiohttp style: never awaited
        ws.send_str("small, in line behind it")
        closing = asyncio.ensure_future(ws.close())
        await blocker.entered.wait()
        with pytest.raises(syncws.ConnectionClosed):
            ws.send_str("after close(): refused")
        await blocker.release()
        return await closing

    assert async_client.run(main()) is True
    async_client.finish(server)
    assert got == [(2, data), (1, b"small, in line behind it"), (1000, b"")]
    assert ws.close_code == 1000 and ws.exception() is None


def test_cancelled_close_still_closes_after_the_big_message(async_client: Client, serve: Serve) -> None:
    """Cancelling close() while it waits for the compression stops only the waiting, as
    always: the message goes out, then the close frame, and a later close() joins it."""
    data = big_data(BIG, 15)
    got: List[Any] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        got.extend((await read_messages(peer, 1, Decompressor())).messages)
        got.append(await read_close(peer))
        peer.send(close_frame(1000))
        await peer.writer.drain()

    server = serve(script)
    ws = async_client.connect(server.url, compress=15).ws

    async def main() -> bool:
        blocker = Blocker(asyncio.get_running_loop())
        Spy(ws, blocker)
        sent = ws.send_bytes(data)
        closing = asyncio.ensure_future(ws.close())
        await blocker.entered.wait()
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        await blocker.release()
        await sent
        return await ws.close()

    assert async_client.run(main()) is False  # the cancelled call started the close
    async_client.finish(server)
    assert got == [(2, data), (1000, b"")]
    assert ws.close_code == 1000


def test_connection_lost_while_compressing(async_client: Client, serve: Serve, server_loop: Any) -> None:
    """The server drops TCP while a big message compresses: awaiting the send raises
    ConnectionClosed, so does the send in line behind it; nothing is left open."""
    drop = server_loop.run(_make_event())

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        await drop.wait()
        peer.writer.transport.abort()

    server = serve(script)
    baseline = Snapshot.take()  # with the server's listening socket
    ws = async_client.connect(server.url, compress=15).ws

    async def main() -> None:
        blocker = Blocker(asyncio.get_running_loop())
        Spy(ws, blocker)
        sent = ws.send_bytes(big_data(BIG, 11))
        queued = ws.send_str("in line")
        await blocker.entered.wait()
        server_loop.loop.call_soon_threadsafe(drop.set)
        await asyncio.shield(ws._proto.lost)
        await blocker.release()
        with pytest.raises(syncws.ConnectionClosed):
            await sent
        with pytest.raises(syncws.ConnectionClosed):
            await queued
        with pytest.raises(syncws.ConnectionClosed):
            ws.send_bytes(big_data(BIG, 12))  # on a closed connection: at once, as a small send
        msg = await ws.receive(timeout=GUARD)
        assert msg.type in (syncws.WSMsgType.CLOSED, syncws.WSMsgType.ERROR), msg
        await asyncio.get_running_loop().shutdown_default_executor()  # its worker is done

    async_client.run(main())
    async_client.finish(server)
    assert ws.close_code == 1006
    assert ws._proto.transport.is_closing()
    assert_no_leaks(baseline)


def test_unawaited_sends_that_fail_log_nothing(async_client: Client, serve: Serve, server_loop: Any) -> None:
    """Sends are fire-and-forget for code that never awaits them (aiohttp's old style): when
    a big send and the one queued behind it fail because the connection dropped, asyncio
    must not log "Future exception was never retrieved" for them; the connection's end is
    reported by receive()."""
    drop = server_loop.run(_make_event())

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        await drop.wait()
        peer.writer.transport.abort()

    server = serve(script)
    ws = async_client.connect(server.url, compress=15).ws
    logged: List[Dict[str, Any]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: logged.append(context))
        try:
            blocker = Blocker(loop)
            Spy(ws, blocker)
            waits = [ws.send_bytes(big_data(BIG, 15))._after, ws.send_str("in line")._after]
            await blocker.entered.wait()
            server_loop.loop.call_soon_threadsafe(drop.set)
            await asyncio.shield(ws._proto.lost)
            await blocker.release()
            await asyncio.wait([w for w in waits if w is not None])  # settled; nothing retrieved
            assert all(w is not None and w.done() for w in waits)
            refs = [weakref.ref(w) for w in waits if w is not None]
            del waits
            gc.collect()
            assert [r() for r in refs] == [None, None], "a failed send's future outlives its use"
            msg = await ws.receive(timeout=GUARD)
            assert msg.type in (syncws.WSMsgType.CLOSED, syncws.WSMsgType.ERROR), msg
            await loop.shutdown_default_executor()
        finally:
            loop.set_exception_handler(None)

    async_client.run(main())
    async_client.finish(server)
    assert [c.get("message") for c in logged] == []


def test_compression_failure_closes_1011(async_client: Client, serve: Serve) -> None:
    """The compressor raising in its worker: the send raises it, the connection closes with
    1011 (a message may be half in the compressor), and the send in line behind it fails."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        await expect_close(peer, 1011)

    server = serve(script)
    ws = async_client.connect(server.url, compress=15).ws

    def fail(data: bytes) -> None:
        if len(data) >= OFFLOAD_SEND:
            raise MemoryError("no room to compress")

    Spy(ws, fail)

    async def main() -> None:
        sent = ws.send_bytes(big_data(BIG, 13))
        queued = ws.send_bytes(b"in line")
        with pytest.raises(MemoryError):
            await sent
        with pytest.raises(syncws.ConnectionClosed):
            await queued
        with pytest.raises(syncws.ConnectionClosed):
            ws.send_bytes(b"later")
        await asyncio.shield(ws._proto.lost)

    async_client.run(main())
    async_client.finish(server)
    assert ws._proto.close_code == 1011


async def _make_event() -> asyncio.Event:
    return asyncio.Event()


@pytest.mark.parametrize("how", ["fails", "cancelled"])
def test_a_big_fragment_cut_short_while_compressing_closes_1011(async_client: Client, serve: Serve, how: str) -> None:
    """The compressor raising on a big fragment, or the sending task cancelled while a worker
    compresses it: the first fragment is already out, so the connection closes with 1011
    and the error (or the cancellation) reaches the caller."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake(DEFLATE)
        first = await read_frame(peer)
        assert (first.fin, first.opcode, first.rsv) == (False, 2, 4), first
        await expect_close(peer, 1011)

    server = serve(script)
    ws = async_client.connect(server.url, compress=15).ws
    release = threading.Event()

    def hook(data: bytes) -> None:
        if len(data) < OFFLOAD_SEND:
            return
        if how == "fails":
            raise MemoryError("no room to compress")
        release.wait(GUARD)  # held until the task is cancelled

    spy = Spy(ws, hook, method="compress_fragment")

    async def main() -> None:
        task = asyncio.ensure_future(ws.send_fragments([b"first", big_data(BIG, 14), b"last"]))
        if how == "fails":
            with pytest.raises(MemoryError):
                await task
        else:
            while len(spy.calls) < 2:  # the worker is inside the big fragment's compression
                await asyncio.sleep(0)  # sleep-ok: one loop turn per look, no time passes
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            release.set()
        await asyncio.shield(ws._proto.lost)

    async_client.run(main())
    async_client.finish(server)
    assert ws._proto.close_code == 1011
