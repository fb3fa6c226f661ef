"""Process plumbing: CPU pinning and dying with the runner, without preexec_fn."""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def pin_process(pid: int, cpus: set[int]) -> None:
    """Pin every existing thread of ``pid``; threads created later inherit the mask."""
    tasks = os.listdir(f"/proc/{pid}/task")
    for tid in tasks:
        with contextlib.suppress(ProcessLookupError):  # a thread may exit meanwhile
            os.sched_setaffinity(int(tid), cpus)


def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL us when the runner exits (Linux; best effort elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the runner died before prctl took effect
        os._exit(1)


def cpu_plan() -> tuple[set[int], set[int]] | None:
    """(server CPUs, client CPUs) for pinned mode, or None with fewer than two CPUs."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[0]}, {cpus[1]}


def all_cpus() -> set[int]:
    """Every CPU this process may use: the unpinned mode's affinity."""
    return set(os.sched_getaffinity(0))
