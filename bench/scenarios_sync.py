"""Scenario bodies for blocking clients; one caller thread per connection."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench import payloads
from bench.clients.base import SyncClient
from bench.common import burst_result, check_deflate, many_result, mismatch, result, stall_result
from bench.config import Scenario
from bench.meter import Meter, PeakSampler

Runner = Callable[[SyncClient, Scenario, str, Meter], dict[str, Any]]


def small(client: SyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S1: sequential 32-byte text round trips."""
    conn = client.connect(url, False)
    send, recv = conn.send_text, conn.recv
    msgs = payloads.small_texts(sc.count, sc.size)
    for i, m in enumerate(msgs[: sc.warmup]):
        send(m)
        if (r := recv()) != m:
            raise mismatch(sc.sid, i, m, r)
    with meter:
        for i, m in enumerate(msgs):
            send(m)
            r = recv()
            if r != m:
                raise mismatch(sc.sid, i, m, r)
    conn.close()
    return result(sc, meter.elapsed)


def pipelined(client: SyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S2: one thread sends everything while the calling thread receives."""
    conn = client.connect(url, False)
    send, recv = conn.send_bytes, conn.recv
    msgs = payloads.blobs(sc.count, sc.size)
    for i, m in enumerate(msgs[: sc.warmup]):
        send(m)
        if (r := recv()) != m:
            raise mismatch(sc.sid, i, m, r)
    def sender() -> None:
        for m in msgs:
            send(m)

    thread = threading.Thread(target=sender, name="bench-sender", daemon=True)
    with thread_errors() as errors, meter:
        thread.start()
        for i, m in enumerate(msgs):
            r = recv()
            if r != m:
                raise mismatch(sc.sid, i, m, r)
        thread.join()
    if errors:
        raise errors[0]
    conn.close()
    return result(sc, meter.elapsed)


def large(client: SyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S3 (binary, plain server) and S6 (JSON text, deflate server): big sequential echoes."""
    compressed = sc.kind == "compressed"
    conn = client.connect(url, compressed)
    if compressed:
        check_deflate(sc.sid, conn.deflate)
        docs: list[Any] = payloads.json_texts(sc.size)
        send: Callable[[Any], object] = conn.send_text
        sizes = [len(d.encode()) for d in docs]
    else:
        docs = payloads.large_blobs(sc.size)
        send = conn.send_bytes
        sizes = [len(d) for d in docs]
    recv = conn.recv
    n = len(docs)
    for i in range(sc.warmup):
        send(docs[i % n])
        if (r := recv()) != docs[i % n]:
            raise mismatch(sc.sid, i, docs[i % n], r)
    with meter:
        for i in range(sc.count):
            m = docs[i % n]
            send(m)
            r = recv()
            if r != m:
                raise mismatch(sc.sid, i, m, r)
    conn.close()
    moved = sum(sizes[i % n] for i in range(sc.count))
    return result(sc, meter.elapsed, moved, deflate=conn.deflate)


def connect(client: SyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S4: open + handshake + close, sequentially."""
    for _ in range(sc.warmup):
        client.connect(url, False).close()
    with meter:
        for _ in range(sc.count):
            client.connect(url, False).close()
    return result(sc, meter.elapsed)


def many(client: SyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S5 / S8: ``conns`` threads, each connects, waits for all, does ``count`` round trips
    (S8: 1 KiB JSON with permessage-deflate)."""
    sampler = PeakSampler()
    barrier = threading.Barrier(sc.conns, action=sampler.sample_now)
    compressed = sc.server == "ws-deflate"
    message = payloads.small_json if compressed else payloads.small_text

    def one(tag: int) -> None:
        conn = None
        try:
            conn = client.connect(url, compressed)
            if compressed:
                check_deflate(sc.sid, conn.deflate)
            barrier.wait(timeout=120)
            send, recv = conn.send_text, conn.recv
            for i in range(sc.count):
                m = message(tag, i, sc.size)
                send(m)
                r = recv()
                if r != m:
                    raise mismatch(sc.sid, i, m, r)
        except BaseException:
            barrier.abort()  # release the others instead of leaving them waiting
            raise
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    threads = [threading.Thread(target=one, args=(t,), daemon=True) for t in range(sc.conns)]
    with thread_errors() as errors, sampler, meter:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
        raise (real or errors)[0]
    return many_result(sc, meter, sampler)


def burst(client: SyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S7: send a small trigger, receive the ``batch`` messages the server writes at once.

    Each message's latency runs from just before the trigger is sent to just after
    that message is returned, so message k also carries the cost of unpacking the
    k-1 frames before it from the same read. A client with ``send_texts`` (the TCP
    floor, whose server only echoes) sends the burst itself in one write instead,
    and the echo server returns it in one write.
    """
    conn = client.connect(url, False)
    recv = conn.recv
    per = sc.batch
    triggers, expected = payloads.bursts(sc.count + sc.warmup, per, sc.size)
    push: Callable[[Any], object] = conn.send_text
    out: list[Any] = triggers
    send_texts = getattr(conn, "send_texts", None)
    if send_texts is not None:
        push, out = send_texts, expected
    for i in range(sc.warmup):
        push(out[i])
        for k in range(per):
            if (r := recv()) != expected[i][k]:
                raise mismatch(sc.sid, i * per + k, expected[i][k], r)
    latencies: list[float] = []
    add = latencies.append
    clock = time.perf_counter
    with meter:
        for i in range(sc.warmup, sc.warmup + sc.count):
            want = expected[i]
            t0 = clock()
            push(out[i])
            for k in range(per):
                r = recv()
                add(clock() - t0)
                if r != want[k]:
                    raise mismatch(sc.sid, i * per + k, want[k], r)
    conn.close()
    return burst_result(sc, meter, latencies)


def stall(client: SyncClient, sc: Scenario, url: str, meter: Meter) -> dict[str, Any]:
    """S9: ``conns`` threads do ``count`` 1 KiB JSON round trips each with nothing else
    going on, then round trips for as long as one more connection takes to receive
    ``batch`` ``size``-byte compressed JSON texts (blasts: bench/payloads.py), all with
    permessage-deflate. Latency per round trip."""
    clock = time.perf_counter
    big_conn = client.connect(url, True)
    conns = [client.connect(url, True) for _ in range(sc.conns)]
    for conn in [big_conn, *conns]:
        check_deflate(sc.sid, conn.deflate)
    docs = payloads.json_texts(sc.size)

    stop, sending = threading.Event(), threading.Event()

    def rounds(tag: int, start: int, out: list[float]) -> None:
        conn = conns[tag]
        i = start
        # start <= 0: a fixed count (warm-up, idle); start > 0: until the big messages are in
        while (i < start + sc.count) if start <= 0 else not stop.is_set():
            i += 1
            m = payloads.small_json(tag, i, 1024)
            t0 = clock()
            conn.send_text(m)
            r = conn.recv()
            out.append(clock() - t0)
            if r != m:
                raise mismatch(sc.sid, i, m, r)

    def all_rounds(start: int) -> list[float]:
        out: list[float] = []
        threads = [threading.Thread(target=rounds, args=(t, start, out), daemon=True) for t in range(sc.conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    big_done = [0]

    def big() -> None:
        for i in range(sc.batch):
            sending.set()
            big_conn.send_text(payloads.BLAST)
            r = big_conn.recv()
            if r != docs[0]:
                raise mismatch(sc.sid, i, docs[0], r)
            big_done[0] = i + 1
        stop.set()

    with thread_errors() as errors:
        for i in range(max(1, sc.warmup)):  # the first echo is what the server keeps to blast
            big_conn.send_text(docs[0])
            if big_conn.recv() != docs[0]:
                raise mismatch(sc.sid, i, docs[0], "?")
        all_rounds(-sc.count)  # warm-up round trips, not kept
        idle = all_rounds(0)
        thread = threading.Thread(target=big, name="bench-big", daemon=True)
        with meter:
            thread.start()
            sending.wait(60)
            busy = all_rounds(1)  # until the big messages are in
            thread.join()
    if errors:
        raise errors[0]
    for conn in [big_conn, *conns]:
        conn.close()
    return stall_result(sc, meter, busy, idle, big_done[0])


@contextlib.contextmanager
def thread_errors() -> Iterator[list[BaseException]]:
    """Collect exceptions raised in helper threads so the caller can re-raise them."""
    errors: list[BaseException] = []
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            errors.append(args.exc_value)

    threading.excepthook = hook
    try:
        yield errors
    finally:
        threading.excepthook = previous


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


def run(client: SyncClient, sc: Scenario, url: str, server_pid: int | None) -> dict[str, Any]:
    """Run one scenario and return its measurements."""
    meter = Meter(server_pid)
    out = RUNNERS[sc.kind](client, sc, url, meter)
    out["client_cpu"] = meter.client_cpu
    out["server_cpu"] = meter.server_cpu
    out["other_cpu"] = meter.other_cpu
    return out
