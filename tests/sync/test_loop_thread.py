"""The shared loop thread: lazy start, interpreter exit, fork."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
import textwrap
import threading
from typing import Any, List

import pytest

import syncws
from syncws.sync.loop_thread import LoopStopped, LoopThread, get_loop_thread
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


def test_a_connection_is_registered_while_open_only(ws_url: str) -> None:
    """Interpreter exit closes what the registry holds: an open connection is in it, and
    one that has ended leaves it (nothing keeps a closed connection alive)."""
    runner = get_loop_thread()
    with syncws.connect(ws_url, compress=0) as ws:
        proto = ws._proto
        assert proto in runner.connections.snapshot()
    runner.run(lambda: asyncio.sleep(0))  # sleep-ok: the lost future's callbacks run one loop turn after it is set
    assert proto not in runner.connections.snapshot()


def test_run_callback_returns_what_the_loop_settles() -> None:
    runner = get_loop_thread()

    def start(handoff: Any, a: int, b: int) -> None:
        runner.loop.call_soon(handoff.set_result, a + b)  # in a later turn, as close()'s is

    assert runner.run_callback(start, 2, 3) == 5


def test_run_callback_raises_what_the_callback_sets() -> None:
    runner = get_loop_thread()

    def start(handoff: Any) -> None:
        handoff.set_exception(ValueError("from the loop"))

    with pytest.raises(ValueError, match="from the loop"):
        runner.run_callback(start)




def test_run_returns_the_result_or_raises_the_exception() -> None:
    runner = get_loop_thread()

    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)  # sleep-ok: the result comes in a later loop turn, not at once
        return a + b

    async def fail() -> None:
        raise ValueError("from the coroutine")

    assert runner.run(lambda: add(2, 3)) == 5
    with pytest.raises(ValueError, match="from the coroutine"):
        runner.run(fail)


def test_run_that_times_out_cancels_the_task() -> None:
    runner = get_loop_thread()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(concurrent.futures.TimeoutError, match=r"took longer than 0\.05 s"):
        runner.run(forever, timeout=0.05, what="this wait")
    assert cancelled.wait(10)


def _never_settles(runner: LoopThread, started: threading.Event) -> None:
    def never(handoff: Any) -> None:
        started.set()

    runner.run_callback(never, what="close()")


def _never_returns(runner: LoopThread, started: threading.Event) -> None:
    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    runner.run(forever, what="close()")


@pytest.mark.parametrize("blocking_call", [_never_settles, _never_returns])
def test_a_waiter_wakes_when_the_loop_stops_first(blocking_call: Any) -> None:
    """Work that never finishes (its loop stopped first) must not leave the caller
    waiting: the stopping loop stops what is still waited on."""
    runner = LoopThread()  # a loop of its own, to stop
    started = threading.Event()
    outcome: List[BaseException] = []

    def caller() -> None:
        try:
            blocking_call(runner, started)
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
        blocking_call(runner, threading.Event())


def test_a_callers_blocking_calls_make_no_condition(ws_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """connect(), receive() and close() wait on plain locks: a Condition (what a
    concurrent.futures.Future waits on) brings an RLock and a deque whose 528-byte block
    comes from malloc, and stayed in each calling thread's malloc cache (S5's memory)."""
    get_loop_thread()  # started before counting: its own start waits on an Event
    made: List[str] = []
    real = threading.Condition

    class Counting(real):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(threading.current_thread().name)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(threading, "Condition", Counting)
    with syncws.connect(ws_url, compress=0) as ws:
        ws.send_str("no conditions")
        assert ws.receive_str(timeout=10) == "no conditions"
    assert made == []
