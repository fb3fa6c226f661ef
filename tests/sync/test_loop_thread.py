"""The shared loop thread: lazy start, interpreter exit, fork."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import textwrap
import threading
from typing import Any, List

import pytest

import syncws
from syncws.sync.loop_thread import LoopStopped, LoopThread, get_loop_thread, settle
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(60)


def _closing_server(raw_server: Any, codes: List[int], done: threading.Event) -> Any:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        code, _ = await peer.read_close()
        codes.append(code)
        peer.send(frame(0x8, code.to_bytes(2, "big")))
        done.set()

    return raw_server(script)


@pytest.mark.parametrize("blocked_thread", ["none", "daemon", "non-daemon"])
def test_interpreter_exit_closes_with_1001(raw_server: Any, blocked_thread: str) -> None:
    codes: List[int] = []
    done = threading.Event()
    server = _closing_server(raw_server, codes, done)
    program = textwrap.dedent(
        f"""
        import threading, syncws
        ws = syncws.connect({server.url!r})
        kind = {blocked_thread!r}
        if kind != "none":
            ready = threading.Event()
            def block():
                ready.set()
                ws.receive()
            threading.Thread(target=block, daemon=(kind == "daemon")).start()
            ready.wait()
        print("connected", flush=True)
        """
    )
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "connected" in proc.stdout
    assert done.wait(10)
    assert codes == [1001]


def test_loop_thread_is_lazy_and_named() -> None:
    code = "import threading, syncws; print(sorted(t.name for t in threading.enumerate()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30).stdout
    assert "syncws-loop" not in out
    runner = get_loop_thread()
    assert runner.thread.name == "syncws-loop" and runner.thread.daemon
    assert get_loop_thread() is runner


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_fork_child_gets_fresh_loop_thread(ws_url: str) -> None:
    parent = get_loop_thread()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: use syncws, report, exit without running pytest teardown
        status = 1
        try:
            child = get_loop_thread()
            with syncws.connect(ws_url) as ws:
                ws.send_str("from the child")
                ok = ws.receive_str(timeout=10) == "from the child"
            status = 0 if ok and child is not parent and child.thread.is_alive() else 2
        finally:
            os.write(w, bytes([status]))
            os._exit(0)
    os.close(w)
    result = os.read(r, 1)
    os.waitpid(pid, 0)
    os.close(r)
    assert result == b"\x00"


def test_run_callback_returns_what_the_loop_settles() -> None:
    runner = get_loop_thread()

    def start(future: Any, a: int, b: int) -> None:
        runner.loop.call_soon(settle, future, a + b)  # settled in a later turn, as close() is

    assert runner.run_callback(start, 2, 3) == 5


def test_run_callback_raises_what_the_callback_sets() -> None:
    runner = get_loop_thread()

    def start(future: Any) -> None:
        future.set_exception(ValueError("from the loop"))

    with pytest.raises(ValueError, match="from the loop"):
        runner.run_callback(start)


def test_run_callback_waiter_wakes_when_the_loop_stops_first() -> None:
    """A callback that never settles its future (its loop stopped first) must not leave
    the caller waiting: the stopping loop cancels what is still waited on."""
    runner = LoopThread()  # a loop of its own, to stop
    started = threading.Event()
    outcome: List[BaseException] = []

    def never(future: Any) -> None:
        started.set()

    def caller() -> None:
        try:
            runner.run_callback(never, what="close()")
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    assert started.wait(10)
    runner.call_soon(runner.loop.stop)
    thread.join(10)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], LoopStopped), outcome
    assert "close()" in str(outcome[0])
    runner.thread.join(10)
    with pytest.raises(LoopStopped):
        runner.run_callback(never)


def test_settle_after_the_caller_left_is_a_no_op() -> None:
    future: "concurrent.futures.Future[int]" = concurrent.futures.Future()
    future.cancel()
    settle(future, 1)  # no InvalidStateError
    assert future.cancelled()
