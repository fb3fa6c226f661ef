"""A fragmented message holds the connection's turn: no other data frame goes out between
its first frame and its last (RFC 6455 §5.4), while control frames may, on both APIs.

A scripted server reads every frame and fails on a data frame inside an open message.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Iterator, List, Tuple

import pytest

import syncws
from tests.apis import Client
from tests.conformance.helpers import Frame, close_from_server, expect_close, read_frame
from tests.servers import RawPeer, RawServer

pytestmark = pytest.mark.timeout(60)

Serve = Callable[..., RawServer]


async def read_data_messages(peer: RawPeer, count: int) -> Tuple[List[Tuple[int, bytes]], List[Frame]]:
    """``count`` data messages as (opcode, payload), and every frame; a data frame that starts
    a message inside another, or a continuation with none open, fails the script."""
    messages: List[Tuple[int, bytes]] = []
    frames: List[Frame] = []
    current: List[Frame] = []
    while len(messages) < count:
        f = await read_frame(peer)
        frames.append(f)
        if f.opcode >= 8:
            continue
        if current:
            assert f.opcode == 0, f"a data frame {f} inside a fragmented message {current[0]}"
        else:
            assert f.opcode in (1, 2), f"a continuation {f} with no message open"
        current.append(f)
        if f.fin:
            messages.append((current[0].opcode, b"".join(part.payload for part in current)))
            current = []
    return messages, frames


def test_threads_wait_for_the_turn_and_pings_do_not(sync_client: Client, serve: Serve) -> None:
    """While one thread's generator is between fragments, another thread's send_str waits
    for the message's end; a ping sent meanwhile goes out between the fragments."""
    result: List[Any] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        messages, frames = await read_data_messages(peer, 2)
        result.extend([messages, [(f.opcode, f.fin) for f in frames]])
        await close_from_server(peer)

    server = serve(script)
    ws = sync_client.connect(server.url, compress=0).ws
    other = threading.Thread(target=ws.send_str, args=("whole",))

    def fragments() -> Iterator[str]:
        yield "first,"
        other.start()
        other.join(0.5)  # a bound, not a wait for anything: it cannot end until our last frame
        ws.ping(b"between")
        yield "second"

    ws.send_fragments(fragments())
    other.join(10)
    assert not other.is_alive()
    sync_client.finish(server)
    messages, frames = result
    assert messages == [(1, b"first,second"), (1, b"whole")]
    assert frames[:4] == [(1, False), (9, True), (0, False), (0, True)]
    ws.close()


def test_many_threads_many_fragmented_messages(sync_client: Client, serve: Serve) -> None:
    threads, each, parts = 4, 15, 5
    total = 2 * threads * each
    result: List[Any] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        messages, _ = await read_data_messages(peer, total)
        result.extend(messages)
        await close_from_server(peer)

    server = serve(script)
    ws = sync_client.connect(server.url).ws

    def fragmented(t: int) -> None:
        for i in range(each):
            ws.send_fragments(f"[{t}.{i}.{k}]" * 50 for k in range(parts))

    def whole(t: int) -> None:
        for i in range(each):
            ws.send_bytes(f"({t}.{i})".encode() * 20)

    workers = [threading.Thread(target=f, args=(t,)) for t in range(threads) for f in (fragmented, whole)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    sync_client.finish(server)
    expected = {(1, "".join(f"[{t}.{i}.{k}]" * 50 for k in range(parts)).encode()) for t in range(threads)
                for i in range(each)}
    expected |= {(2, f"({t}.{i})".encode() * 20) for t in range(threads) for i in range(each)}
    assert len(result) == total and set(result) == expected
    ws.close()


def test_tasks_wait_in_line_behind_a_fragmented_message(async_client: Client, serve: Serve) -> None:
    """asyncio: another task's send_str during a fragmented send is written after its last
    frame, in the order sent; a ping goes out between; awaiting the send waits for it."""
    result: List[Any] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        messages, frames = await read_data_messages(peer, 4)
        result.extend([messages, [(f.opcode, f.fin) for f in frames]])
        await close_from_server(peer)

    server = serve(script)
    ws = async_client.connect(server.url, compress=0).ws
    order: List[str] = []

    async def other(text: str) -> None:
        sent = ws.send_str(text)  # called now, while the fragments are going out
        order.append(f"called {text}")
        await sent
        order.append(f"sent {text}")

    async def fragments() -> Any:
        yield "first,"
        tasks.append(asyncio.ensure_future(other("one")))
        tasks.append(asyncio.ensure_future(other("two")))
        await asyncio.sleep(0)  # sleep-ok: one loop turn, in which both tasks call send_str
        assert order == ["called one", "called two"]
        await ws.ping(b"between")
        yield "second"

    async def main() -> None:
        await ws.send_fragments(fragments())
        ws.send_str("three")  # the line is empty again: written at once
        await asyncio.gather(*tasks)

    tasks: List["asyncio.Future[None]"] = []
    async_client.run(main())
    async_client.finish(server)
    messages, frames = result
    assert messages == [(1, b"first,second"), (1, b"one"), (1, b"two"), (1, b"three")]
    assert frames[:4] == [(1, False), (9, True), (0, False), (0, True)]
    assert order == ["called one", "called two", "sent one", "sent two"]
    async_client.run(ws.close())


def test_a_cut_message_fails_the_line(async_client: Client, serve: Serve) -> None:
    """asyncio: when the fragmented message is cut short, what waits in line is not written
    (it would land inside half a message): its awaiter gets ConnectionClosed; 1011 closes."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        f = await read_frame(peer)
        assert (f.opcode, f.fin, f.payload) == (1, False, b"first")
        await expect_close(peer, 1011)

    server = serve(script)
    ws = async_client.connect(server.url, compress=0).ws
    waiting: List[Any] = []

    async def queued() -> None:
        await ws.send_str("queued")

    async def fragments() -> Any:
        yield "first"
        waiting.append(asyncio.ensure_future(queued()))
        await asyncio.sleep(0)  # sleep-ok: one loop turn, in which it calls send_str and waits in line
        raise KeyError("cut")

    async def main() -> None:
        with pytest.raises(KeyError):
            await ws.send_fragments(fragments())
        with pytest.raises(syncws.ConnectionClosed):
            await waiting[0]
        with pytest.raises(syncws.ConnectionClosed):
            ws.send_str("after")

    async_client.run(main())
    async_client.finish(server)
