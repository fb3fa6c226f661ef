"""Many blocking connections from one process: every message echoed once, in order.

Used by test_load.py (scaled down, in CI) and soak.py (1,000 connections,
1,000,000 messages). One thread per connection, all connections on the one
``syncws-loop`` thread; each thread keeps ``window`` messages in flight and
checks every echo against the sequence it sent, then an end marker (so a
duplicate after the last message is seen too).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import List, Optional

import syncws
from tests.reliability.support import status_kib


@dataclasses.dataclass
class LoadResult:
    connections: int
    messages_per_connection: int
    payload_size: int
    messages_sent: int = 0
    messages_echoed: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    errors: List[str] = dataclasses.field(default_factory=list)
    concurrent_peak: int = 0
    connect_seconds: float = 0.0
    exchange_seconds: float = 0.0
    wall_seconds: float = 0.0
    rss_before_kib: int = 0
    rss_all_connected_kib: int = 0
    peak_rss_kib: int = 0

    @property
    def messages_total(self) -> int:
        return self.connections * self.messages_per_connection

    @property
    def rss_per_connection_kib(self) -> float:
        return (self.rss_all_connected_kib - self.rss_before_kib) / max(self.connections, 1)

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and self.lost == self.duplicated == self.out_of_order == 0
            and self.messages_echoed == self.messages_total
        )


def run_load(
    url: str,
    connections: int,
    messages_per_connection: int,
    *,
    payload_size: int = 32,
    window: int = 8,
    timeout: float = 120.0,
    stack_size: Optional[int] = 256 * 1024,
) -> LoadResult:
    result = LoadResult(connections, messages_per_connection, payload_size)
    lock = threading.Lock()
    open_now = [0]
    # every thread holds its connection open here, so all are open at once
    all_open = threading.Barrier(connections + 1, timeout=timeout)
    go = threading.Barrier(connections + 1, timeout=timeout)
    pad = "x" * max(0, payload_size - 16)

    def fail(msg: str) -> None:
        with lock:
            result.errors.append(msg)

    def worker(idx: int) -> None:
        ws = None
        try:
            ws = syncws.connect(url, compress=0, timeout=timeout, max_msg_size=0)
            with lock:
                open_now[0] += 1
                result.concurrent_peak = max(result.concurrent_peak, open_now[0])
            all_open.wait()
            go.wait()
            sent = received = 0
            n = messages_per_connection
            while received < n:
                while sent < n and sent - received < window:
                    ws.send_str(f"{idx}:{sent}:{pad}")
                    sent += 1
                msg = ws.receive(timeout=timeout)
                if msg.type is not syncws.WSMsgType.TEXT:
                    fail(f"conn {idx}: {msg.type.name} {msg.data!r} after {received} echoes")
                    break
                seq = int(msg.data.split(":", 2)[1])
                if seq == received:
                    received += 1
                elif seq < received:
                    with lock:
                        result.duplicated += 1
                else:
                    with lock:
                        result.out_of_order += 1
                        result.lost += seq - received
                    received = seq + 1
            ws.send_str(f"{idx}:end")
            last = ws.receive(timeout=timeout)
            if last.data != f"{idx}:end":
                with lock:
                    result.duplicated += 1
                fail(f"conn {idx}: expected the end marker, got {last.type.name} {str(last.data)[:40]!r}")
            with lock:
                result.messages_sent += sent
                result.messages_echoed += received
        except threading.BrokenBarrierError:
            fail(f"conn {idx}: another connection failed first")
        except Exception as exc:  # reported, and every barrier released so nothing hangs
            fail(f"conn {idx}: {type(exc).__name__}: {exc}")
            all_open.abort()
            go.abort()
        finally:
            if ws is not None:
                try:
                    ws.close()
                except Exception as exc:
                    fail(f"conn {idx}: close: {type(exc).__name__}: {exc}")
                with lock:
                    open_now[0] -= 1

    result.rss_before_kib = status_kib("VmRSS")
    old_stack = threading.stack_size(stack_size) if stack_size else None
    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,), name=f"load-{i}") for i in range(connections)]
    try:
        for t in threads:
            t.start()
    finally:
        if old_stack is not None:
            threading.stack_size(old_stack)
    try:
        all_open.wait()
        result.connect_seconds = time.monotonic() - start
        result.rss_all_connected_kib = status_kib("VmRSS")
        exchange = time.monotonic()
        go.wait()
    except threading.BrokenBarrierError:
        exchange = time.monotonic()
    for t in threads:
        t.join(timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        result.errors.append(f"{len(stuck)} threads still running after {timeout} s: {stuck[:5]}")
    end = time.monotonic()
    result.exchange_seconds = end - exchange
    result.wall_seconds = end - start
    result.peak_rss_kib = status_kib("VmHWM")
    return result
