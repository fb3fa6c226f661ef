"""close() from any thread, any number of times at once, and at interpreter exit.

Every close() returns once the closing handshake has finished or timed out,
and all of them, and every receiver woken by the close, see the same code.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from typing import Any, Dict, List, Tuple

import pytest

import syncws
from tests.reliability.support import wait_until
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(120)


def _close_from_threads(ws: Any, closers: int) -> Tuple[List[Tuple[bool, Any]], Dict[str, Any]]:
    """``closers`` threads call close() together while one receives and one sends.

    Returns what each close() returned with the close code it saw right after,
    and what the receiver and the sender saw.
    """
    results: List[Tuple[bool, Any]] = []
    seen: Dict[str, Any] = {}
    lock = threading.Lock()
    start = threading.Barrier(closers + 1)

    def closer() -> None:
        start.wait(10)
        started = ws.close()
        with lock:
            results.append((started, ws.close_code))

    def receiver() -> None:
        while True:
            msg = ws.receive(timeout=30)
            if msg.type in (syncws.WSMsgType.CLOSE, syncws.WSMsgType.CLOSED):
                seen["receiver"] = (msg.type, ws.close_code, ws.close_reason)
                return

    def sender() -> None:
        try:
            while True:
                ws.send_str("x" * 100)
        except syncws.ConnectionClosed as exc:
            seen["sender"] = exc
        except BaseException as exc:  # any other type is the failure this test looks for
            seen["sender"] = exc

    threads = [threading.Thread(target=closer) for _ in range(closers)]
    threads += [threading.Thread(target=receiver), threading.Thread(target=sender)]
    for t in threads:
        t.start()
    wait_until(lambda: ws._queue.receiving or ws.closed, what="the receiver waiting")
    start.wait(10)
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    return results, seen


@pytest.mark.parametrize("closers", [2, 8])
def test_close_from_many_threads_at_once(ws_url: str, closers: int) -> None:
    ws = syncws.connect(ws_url)
    results, seen = _close_from_threads(ws, closers)
    assert sorted(started for started, _ in results) == [False] * (closers - 1) + [True]
    assert [code for _, code in results] == [1000] * closers, "a close() returned before the end"
    assert seen["receiver"][:2] == (syncws.WSMsgType.CLOSED, 1000)
    assert isinstance(seen["sender"], syncws.ConnectionClosed)
    assert ws._proto.lost.done() and ws.exception() is None


def test_close_from_many_threads_against_a_deaf_server(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.at_eof()  # reads our close frame and never answers

    ws = syncws.connect(raw_server(script).url, close_timeout=0.5)
    results, seen = _close_from_threads(ws, 4)
    assert sorted(started for started, _ in results) == [False, False, False, True]
    assert [code for _, code in results] == [1006] * 4
    assert seen["receiver"][:2] == (syncws.WSMsgType.CLOSED, 1006)
    assert isinstance(ws.exception(), syncws.CloseTimeout)


def test_a_receiver_woken_by_close_sees_the_servers_code_and_reason(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.read_close()
        peer.send(frame(8, (4001).to_bytes(2, "big") + b"see you"))

    ws = syncws.connect(raw_server(script).url)
    got: List[Any] = []

    def receiver() -> None:
        msg = ws.receive(timeout=30)
        got.append((msg.type, ws.close_code, ws.close_reason))

    thread = threading.Thread(target=receiver)
    thread.start()
    wait_until(lambda: ws._queue.receiving, what="the receiver waiting")
    ws.close()
    thread.join(30)
    assert got == [(syncws.WSMsgType.CLOSED, 4001, "see you")]


def test_app_close_from_a_timer_reports_the_real_code(ws_url: str) -> None:
    def on_open(app: Any) -> None:
        threading.Timer(0, app.close).start()  # another thread, at once

    for _ in range(12):
        closes: List[Tuple[Any, Any]] = []
        app = syncws.WebSocketApp(ws_url, on_open=on_open, on_close=lambda app, *args: app.closes.append(args))
        app.closes = closes
        app.run_forever()
        assert closes == [(1000, None)], closes  # None: the server's close frame gave no reason


_EXIT_RACE = textwrap.dedent(
    """
    import sys, threading
    import syncws

    ws = syncws.connect(sys.argv[1])
    inside = threading.Event()

    def closer():
        inside.set()
        ws.close()
        print("closed", ws.close_code, flush=True)

    threading.Thread(target=closer).start()
    inside.wait()
    # the main thread ends now, while the other thread is inside close()
    """
)


def test_close_racing_interpreter_exit(ws_url: str) -> None:
    for _ in range(16):
        proc = subprocess.run(
            [sys.executable, "-X", "dev", "-c", _EXIT_RACE, ws_url], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == "", proc.stderr
        assert proc.stdout.split() in (["closed", "1000"], ["closed", "1001"]), proc.stdout


def test_close_runs_on_the_loop_without_a_task(ws_url: str) -> None:
    """The blocking close() is the protocol's callbacks and a future settled from them:
    no task (nor its extra loop turns) between the caller and the closing handshake."""
    ws = syncws.connect(ws_url)
    loop = ws._runner.loop
    made: List[Any] = []

    def recording(loop: Any, coro: Any, **kwargs: Any) -> Any:
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    ws._runner.call_soon(loop.set_task_factory, recording)  # runs before close()'s callback
    try:
        assert ws.close() is True
        assert ws.close() is False  # joining a close already done: no task either
        during = list(made)
    finally:
        ws._runner.call_soon(loop.set_task_factory, None)
    assert ws.close_code == 1000
    assert during == []
