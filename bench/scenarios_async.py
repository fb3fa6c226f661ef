"""Scenario bodies for asyncio clients; one task per connection (S5), two tasks in S2."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import payloads
from bench.clients.base import AsyncClient
from bench.common import burst_result, check_deflate, many_result, mismatch, result, stall_result
from bench.config import Scenario
from bench.meter import Meter, PeakSampler

Runner = Callable[[AsyncClient, Scenario, str, Meter], Awaitable[dict[str, Any]]]


async def small(client: AsyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S1: sequential 32-byte text round trips."""
    conn = await client.connect(url, False)
    send, recv = conn.send_text, conn.recv
    msgs = payloads.small_texts(sc.count, sc.size)
    for i, m in enumerate(msgs[: sc.warmup]):
        await send(m)
        if (r := await recv()) != m:
            raise mismatch(sc.sid, i, m, r)
    with meter:
        for i, m in enumerate(msgs):
            await send(m)
            r = await recv()
            if r != m:
                raise mismatch(sc.sid, i, m, r)
    await conn.close()
    return result(sc, meter.elapsed)


async def pipelined(client: AsyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S2: one task sends everything while another receives."""
    conn = await client.connect(url, False)
    send, recv = conn.send_bytes, conn.recv
    msgs = payloads.blobs(sc.count, sc.size)
    for i, m in enumerate(msgs[: sc.warmup]):
        await send(m)
        if (r := await recv()) != m:
            raise mismatch(sc.sid, i, m, r)

    async def sender() -> None:
        for m in msgs:
            await send(m)

    with meter:
        task = asyncio.ensure_future(sender())
        for i, m in enumerate(msgs):
            r = await recv()
            if r != m:
                task.cancel()
                raise mismatch(sc.sid, i, m, r)
        await task
    await conn.close()
    return result(sc, meter.elapsed)


async def large(client: AsyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S3 (binary, plain server) and S6 (JSON text, deflate server): big sequential echoes."""
    compressed = sc.kind == "compressed"
    conn = await client.connect(url, compressed)
    if compressed:
        check_deflate(sc.sid, conn.deflate)
        docs: list[Any] = payloads.json_texts(sc.size)
        send: Callable[[Any], Awaitable[object]] = conn.send_text
        sizes = [len(d.encode()) for d in docs]
    else:
        docs = payloads.large_blobs(sc.size)
        send = conn.send_bytes
        sizes = [len(d) for d in docs]
    recv = conn.recv
    n = len(docs)
    for i in range(sc.warmup):
        await send(docs[i % n])
        if (r := await recv()) != docs[i % n]:
            raise mismatch(sc.sid, i, docs[i % n], r)
    with meter:
        for i in range(sc.count):
            m = docs[i % n]
            await send(m)
            r = await recv()
            if r != m:
                raise mismatch(sc.sid, i, m, r)
    await conn.close()
    moved = sum(sizes[i % n] for i in range(sc.count))
    return result(sc, meter.elapsed, moved, deflate=conn.deflate)


async def connect(client: AsyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S4: open + handshake + close, sequentially."""
    for _ in range(sc.warmup):
        await (await client.connect(url, False)).close()
    with meter:
        for _ in range(sc.count):
            await (await client.connect(url, False)).close()
    return result(sc, meter.elapsed)


async def many(client: AsyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S5 / S8: ``conns`` tasks, each connects, waits for all, does ``count`` round trips
    (S8: 1 KiB JSON with permessage-deflate)."""
    sampler = PeakSampler()
    all_open = asyncio.Event()
    opened = 0
    compressed = sc.server == "ws-deflate"
    message = payloads.small_json if compressed else payloads.small_text

    async def one(tag: int) -> None:
        nonlocal opened
        conn = None
        try:
            conn = await client.connect(url, compressed)
            if compressed:
                check_deflate(sc.sid, conn.deflate)
            opened += 1
            if opened == sc.conns:
                sampler.sample_now()
                all_open.set()
            await asyncio.wait_for(all_open.wait(), 120)
            send, recv = conn.send_text, conn.recv
            for i in range(sc.count):
                m = message(tag, i, sc.size)
                await send(m)
                r = await recv()
                if r != m:
                    raise mismatch(sc.sid, i, m, r)
        except BaseException:
            all_open.set()  # don't leave the others waiting for a connection that failed
            raise
        finally:
            if conn is not None:
                await conn.close()

    with sampler, meter:
        await asyncio.gather(*(one(t) for t in range(sc.conns)))
    return many_result(sc, meter, sampler)


async def burst(client: AsyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S7: send a small trigger, receive the ``batch`` messages the server writes at once.

    Each message's latency runs from just before the trigger is sent to just after
    that message is returned (see the sync version).
    """
    conn = await client.connect(url, False)
    recv = conn.recv
    per = sc.batch
    push = conn.send_text
    out, expected = payloads.bursts(sc.count + sc.warmup, per, sc.size)
    for i in range(sc.warmup):
        await push(out[i])
        for k in range(per):
            if (r := await recv()) != expected[i][k]:
                raise mismatch(sc.sid, i * per + k, expected[i][k], r)
    latencies: list[float] = []
    add = latencies.append
    clock = time.perf_counter
    with meter:
        for i in range(sc.warmup, sc.warmup + sc.count):
            want = expected[i]
            t0 = clock()
            await push(out[i])
            for k in range(per):
                r = await recv()
                add(clock() - t0)
                if r != want[k]:
                    raise mismatch(sc.sid, i * per + k, want[k], r)
    await conn.close()
    return burst_result(sc, meter, latencies)


async def stall(client: AsyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S9: ``conns`` tasks do ``count`` 1 KiB JSON round trips each alone, then round trips
    while one more connection receives ``batch`` ``size``-byte compressed JSON texts (see the
    sync version)."""
    clock = time.perf_counter
    big_conn = await client.connect(url, True)
    conns = [await client.connect(url, True) for _ in range(sc.conns)]
    for conn in [big_conn, *conns]:
        check_deflate(sc.sid, conn.deflate)
    docs = payloads.json_texts(sc.size)

    stop, sending = asyncio.Event(), asyncio.Event()

    async def rounds(tag: int, start: int, out: list[float]) -> None:
        conn = conns[tag]
        i = start
        # start <= 0: a fixed count (warm-up, idle); start > 0: until the big messages are in
        while (i < start + sc.count) if start <= 0 else not stop.is_set():
            i += 1
            m = payloads.small_json(tag, i, 1024)
            t0 = clock()
            await conn.send_text(m)
            r = await conn.recv()
            out.append(clock() - t0)
            if r != m:
                raise mismatch(sc.sid, i, m, r)

    async def all_rounds(start: int) -> list[float]:
        out: list[float] = []
        await asyncio.gather(*(rounds(t, start, out) for t in range(sc.conns)))
        return out

    big_done = 0

    async def big() -> None:
        nonlocal big_done
        for i in range(sc.batch):
            sending.set()
            await big_conn.send_text(payloads.BLAST)
            r = await big_conn.recv()
            if r != docs[0]:
                raise mismatch(sc.sid, i, docs[0], r)
            big_done = i + 1
        stop.set()

    for i in range(max(1, sc.warmup)):  # the first echo is what the server keeps to blast
        await big_conn.send_text(docs[0])
        if await big_conn.recv() != docs[0]:
            raise mismatch(sc.sid, i, docs[0], "?")
    await all_rounds(-sc.count)  # warm-up round trips, not kept
    idle = await all_rounds(0)
    with meter:
        task = asyncio.ensure_future(big())
        await sending.wait()
        busy = await all_rounds(1)  # until the big messages are in
        await task
    for conn in [big_conn, *conns]:
        await conn.close()
    return stall_result(sc, meter, busy, idle, big_done)


RUNNERS: dict[str, Runner] = {
    "small": small,
    "pipelined": pipelined,
    "large": large,
    "compressed": large,
    "connect": connect,
    "many": many,
    "burst": burst,
    "stall": stall,
}


def run(client: AsyncClient, sc: Scenario, url: str, server_pid: int | None) -> dict[str, Any]:
    """Run one scenario in a fresh event loop and return its measurements."""

    async def main() -> dict[str, Any]:
        meter = Meter(server_pid)
        await client.start()
        try:
            out = await RUNNERS[sc.kind](client, sc, url, meter)
        finally:
            await client.stop()
        out["client_cpu"] = meter.client_cpu
        out["server_cpu"] = meter.server_cpu
        out["other_cpu"] = meter.other_cpu
        return out

    return asyncio.run(main())
