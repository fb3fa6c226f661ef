"""Timed-section measurement: wall clock, client CPU, server CPU, threads and RSS.

Server CPU is read through the server's process CPU clock (nanosecond precision,
all threads), so it covers exactly the timed section rather than a whole run.
"""
from __future__ import annotations

import os
import threading
import time
from types import TracebackType


def process_cpu_clock(pid: int) -> int | None:
    """Linux CPU-time clock id of another process, or None if it can't be read."""
    clock = ((~pid) << 3) | 2  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
    try:
        time.clock_gettime(clock)
    except OSError:
        return None
    return clock


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy() -> float:
    """CPU seconds all CPUs spent busy (user+nice+system+irq+softirq), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[1:8])
    return (user + nice + system + irq + softirq) / _TICK


def proc_status(field: str) -> int:
    """One integer field of /proc/self/status (``Threads``, ``VmRSS`` in KiB, ...)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Meter:
    """Context manager around the timed section of one scenario."""

    def __init__(self, server_pid: int | None) -> None:
        self._clock = process_cpu_clock(server_pid) if server_pid else None
        self.elapsed = 0.0
        self.client_cpu = 0.0
        self.server_cpu: float | None = None

    def _server_time(self) -> float:
        if self._clock is None:
            return 0.0
        try:
            return time.clock_gettime(self._clock)
        except OSError:  # server gone: report no number rather than a wrong one
            self._clock = None
            return 0.0

    def __enter__(self) -> None:
        self._s0 = self._server_time()
        self._m0 = machine_busy()
        self._c0 = time.process_time()
        self._t0 = time.perf_counter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.elapsed = time.perf_counter() - self._t0
        self.client_cpu = time.process_time() - self._c0
        busy = machine_busy() - self._m0
        s1 = self._server_time()
        if self._clock is not None:
            self.server_cpu = s1 - self._s0
        # Anything else the machine did meanwhile: noise from other processes
        # (10 ms tick resolution, so only meaningful for sections of a second or more).
        self.other_cpu = max(0.0, busy - self.client_cpu - (self.server_cpu or 0.0))


class PeakSampler:
    """Samples thread count and RSS every few ms in a daemon thread (S5).

    The sampler's own thread is subtracted from the thread peak.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self.base_rss_kib = proc_status("VmRSS")
        self.peak_threads = proc_status("Threads")
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_threads = max(self.peak_threads, proc_status("Threads") - 1)

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample_now(self) -> None:
        """Extra sample at the moment every connection is open."""
        self.peak_threads = max(self.peak_threads, proc_status("Threads") - 1)

    @property
    def peak_rss_kib(self) -> int:
        """High-water RSS of the whole process (VmHWM)."""
        return proc_status("VmHWM")
