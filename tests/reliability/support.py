"""Shared tools of the reliability tests and of soak.py.

Leak accounting (threads, file descriptors, tasks on the syncws loop), a
TLS variant of the scripted raw server, a subprocess echo server, and deterministic interrupt
injection. Nothing here sleeps to synchronise: ``wait_until`` is a bounded
poll of another thread's state.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import linecache
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterable, List, Optional, Tuple

from syncws.sync.loop_thread import get_loop_thread
from tests.servers import RawServer, Script

ROOT = Path(__file__).resolve().parents[2]


# -- waiting on other threads ------------------------------------------------------

def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "state") -> None:
    """Poll another thread's state until ``predicate()`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        pause.wait(0.0005)  # sleep-ok: bounded poll of another thread's state, no event to wait on


def thread_blocked_in(thread: threading.Thread, names: Iterable[str]) -> bool:
    """True when ``thread``'s innermost Python frames include one of the function ``names``."""
    frame = sys._current_frames().get(thread.ident or -1)
    wanted = set(names)
    depth = 0
    while frame is not None and depth < 8:
        if frame.f_code.co_name in wanted:
            return True
        frame = frame.f_back
        depth += 1
    return False


def thread_at(thread: threading.Thread, function: str, source: str) -> bool:
    """True when ``thread``'s innermost Python frame is ``function`` at a line containing ``source``."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None or frame.f_code.co_name != function:
        return False
    return source in linecache.getline(frame.f_code.co_filename, frame.f_lineno)


def main_blocked_in(*callers: str) -> Callable[[], bool]:
    """A predicate: the main thread is at a blocking lock acquire (a Condition wait or a
    receive's) with one of the functions ``callers`` on its stack."""
    main = threading.main_thread()

    def check() -> bool:
        at_wait = (
            thread_at(main, "wait", "waiter.acquire(")
            or thread_at(main, "wait", "_done.acquire(")  # a Handoff (sync/handoff.py): close()
            or thread_at(main, "_acquire_signal", "_signal.acquire(")
            or thread_at(main, "_read", "if not poll(")  # receiving on a socket lent by the loop
            or thread_at(main, "_read_answer", "sock.recv(")  # connect(): the handshake answer
            or thread_at(main, "_read_until_end", "if not poll(")  # close() on a lent socket
        )
        return at_wait and thread_blocked_in(main, callers)

    return check


# -- leak accounting -------------------------------------------------------------------

def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _counted_threads() -> List[str]:
    # Pool workers ("asyncio_N": getaddrinfo on the syncws loop, run_in_executor on the
    # test servers' loop) are created on demand up to a fixed maximum and then reused,
    # so they are not leaks; every other thread counts.
    return sorted(t.name for t in threading.enumerate() if not t.name.startswith("asyncio_"))


def syncws_tasks() -> int:
    """Tasks alive on the syncws loop (the counting task itself excluded)."""

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    runner = get_loop_thread()
    return asyncio.run_coroutine_threadsafe(count(), runner.loop).result(10)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    threads: Tuple[str, ...]
    fds: int
    tasks: int
    connections: int

    @classmethod
    def take(cls, collect: bool = True) -> "Snapshot":
        if collect:
            gc.collect()
        runner = get_loop_thread()
        live = sum(1 for p in list(runner.connections) if not p.lost.done())
        return cls(tuple(_counted_threads()), open_fds(), syncws_tasks(), live)

    def within(self, baseline: "Snapshot") -> bool:
        """Nothing more than ``baseline`` (fewer is fine: an earlier test's leftovers went away)."""
        return (
            set(self.threads) <= set(baseline.threads)
            and self.fds <= baseline.fds
            and self.tasks <= baseline.tasks
            and self.connections <= baseline.connections
        )

    def diff(self, other: "Snapshot") -> str:
        return (
            f"threads {len(self.threads)} -> {len(other.threads)} "
            f"({sorted(set(other.threads) - set(self.threads))}), fds {self.fds} -> {other.fds}, "
            f"syncws tasks {self.tasks} -> {other.tasks}, open connections {self.connections} -> {other.connections}"
        )


def settle(baseline: Snapshot, timeout: float = 10.0, collect: bool = True) -> Snapshot:
    """Wait (bounded) for the counts to come back to ``baseline``; return the last snapshot.

    Servers in this process close their side asynchronously, so equality is
    polled for rather than expected at once.
    """
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        now = Snapshot.take(collect)
        if now.within(baseline) or time.monotonic() > deadline:
            return now
        pause.wait(0.01)  # sleep-ok: bounded poll for sockets other threads are closing


def assert_no_leaks(baseline: Snapshot, timeout: float = 10.0) -> None:
    after = settle(baseline, timeout)
    assert after.within(baseline), "leak: " + baseline.diff(after)


# -- scripted raw server over TLS --------------------------------------------------------

class TLSRawServer(RawServer):
    def __init__(self, script: Script, context: ssl.SSLContext, host: str = "localhost") -> None:
        super().__init__(script)
        self.context = context
        self.host = host

    async def start(self) -> None:
        self.done = asyncio.Event()
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"wss://{self.host}:{self.port}/"


def reset_on_close(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# -- an echo server in its own process ---------------------------------------------------

class EchoServerProcess:
    """``python -m tests.reliability.echo_server``: exits when its stdin closes (or after max_seconds)."""

    def __init__(self, *, backlog: int = 1024, max_seconds: float = 600) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.echo_server", "--backlog", str(backlog),
             "--max-seconds", str(max_seconds)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"echo server did not start: {line!r}")
        self.port = int(line)
        self.url = f"ws://127.0.0.1:{self.port}/"

    def peak_rss_kib(self) -> int:
        return status_kib("VmHWM", self.proc.pid)

    def stop(self) -> None:
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def status_kib(field: str, pid: Optional[int] = None) -> int:
    """A ``/proc/PID/status`` memory field (VmRSS, VmHWM) in KiB."""
    path = f"/proc/{pid if pid is not None else 'self'}/status"
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


# -- deterministic interrupt injection ------------------------------------------------------

SYNCWS_DIR = str(ROOT / "syncws")


def _held(handler: Any) -> bool:
    return type(getattr(handler, "__self__", None)).__name__ == "_HeldInterrupt"


class Interrupter:
    """Raise KeyboardInterrupt in this thread at the n-th point where a SIGINT handler could run in syncws code.

    CPython runs a signal's Python handler only at "eval breaker" checks:
    when a function starts and right after a call returns. The profile
    events ``call`` (a syncws function starts), ``return`` (a syncws
    function returns to its caller) and ``c_return`` (a builtin called from
    syncws code returned) are those points; raising there is exactly a
    Ctrl-C landing at that moment. ``run(fn)`` with n = 0, 1, 2, ... walks
    an operation through every one of them.
    """

    def __init__(self, n: int, events: Tuple[str, ...] = ("call", "return", "c_return")) -> None:
        self.n = n
        self.events = events
        self.seen = 0
        self.fired: Optional[str] = None

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if self.fired is not None or event not in self.events:
            return
        code = frame.f_code
        if not code.co_filename.startswith(SYNCWS_DIR):
            return
        if _held(signal.getsignal(signal.SIGINT)):
            return  # syncws holds SIGINT's handler back here: a real Ctrl-C would land at the release
        if self.seen == self.n:
            what = f" {getattr(arg, '__qualname__', arg)}" if event == "c_return" else ""
            self.fired = f"{event}{what} in {Path(code.co_filename).name}:{frame.f_lineno} {code.co_name}"
            # A real SIGINT's handler holds no reference to what was being returned; nor may we
            # (the traceback keeps this frame, and with it ``arg``, alive).
            del arg, frame, code
            raise KeyboardInterrupt(self.fired)
        self.seen += 1

    def run(self, fn: Callable[[], Any]) -> Any:
        sys.setprofile(self._profile)
        try:
            return fn()
        finally:
            sys.setprofile(None)
