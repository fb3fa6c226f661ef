"""A SIGINT that the main thread's wait never sees land still ends the wait.

A signal delivered to another thread (or landing just before the main
thread starts to wait) only sets CPython's pending flag: a plain lock wait
would sleep on until it ends by itself, and Ctrl-C would seem ignored. The
main thread waits in slices, so the interrupt comes at the next slice. Each
test raises SIGINT in a helper thread (``signal.raise_signal`` signals the
calling thread) while the main thread is blocked with no time limit: the
outcome is KeyboardInterrupt, or, without slices, a hang that the
pytest-timeout limit turns into a failure.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

import syncws
from syncws.sync.loop_thread import get_loop_thread
from tests.reliability.support import main_blocked_in, wait_until
from tests.servers import RawPeer, frame

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.usefixtures("no_leaks"),
    pytest.mark.skipif(not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal"),
]


def _interrupted(blocked: Callable[[], bool], operation: Callable[[], Any]) -> None:
    assert threading.current_thread() is threading.main_thread()

    def signal_from_elsewhere() -> None:
        wait_until(blocked, what="the main thread blocked in the operation")
        signal.raise_signal(signal.SIGINT)  # handled by this thread's C handler: only the flag is set

    helper = threading.Thread(target=signal_from_elsewhere, daemon=True)
    helper.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            operation()
    finally:
        helper.join(10)


def test_receive(ws_url: str) -> None:
    with syncws.connect(ws_url, compress=0) as ws:
        _interrupted(main_blocked_in("receive"), lambda: ws.receive())
        ws.send_str("still usable")
        assert ws.receive_str(timeout=10) == "still usable"


def test_connect(raw_server: Any) -> None:
    gone = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.at_eof()
        gone.set()

    server = raw_server(script)
    _interrupted(main_blocked_in("run", "open_here"), lambda: syncws.connect(server.url, timeout=None))
    wait_until(gone.is_set, what="the abandoned connection to be closed")


def test_close(raw_server: Any) -> None:
    release = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        code, _ = await peer.read_close()
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 30)
        peer.send(frame(8, code.to_bytes(2, "big")))

    server = raw_server(script)
    ws = syncws.connect(server.url, timeout=None)
    _interrupted(main_blocked_in("run_callback"), ws.close)
    release.set()
    assert ws.close() is False  # joins the closing handshake, which went on without us
    assert ws.close_code == 1000 and ws.exception() is None


def test_send_blocked_by_backpressure(raw_server: Any) -> None:
    release = threading.Event()

    async def script(peer: RawPeer) -> None:
        peer.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2**16)
        await peer.handshake()
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 30)
        while (await peer.read_frame())[0] != 8:
            pass
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    ws = syncws.connect(server.url, compress=0)

    def flood() -> None:
        for _ in range(100_000):
            ws.send_bytes(b"\x00" * 2**16)

    _interrupted(main_blocked_in("wait_sync"), flood)
    release.set()
    ws.close()
    assert ws.close_code == 1000


def test_wait(ws_url: str) -> None:
    with syncws.connect(ws_url, compress=0) as ws:
        _interrupted(main_blocked_in("interruptible"), lambda: syncws.wait([ws]))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the signal mask from /proc")
def test_loop_thread_blocks_sigint() -> None:
    """The kernel never hands a process-wide SIGINT to the loop thread, which cannot act on it."""
    runner = get_loop_thread()
    status = Path(f"/proc/self/task/{runner.thread.native_id}/status").read_text()
    blocked = int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16)
    assert blocked & (1 << (signal.SIGINT - 1))
