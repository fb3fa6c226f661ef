"""Ctrl-C (SIGINT → KeyboardInterrupt) during connect, send, receive and close.

Two kinds of tests:

* Real signals: a helper thread waits until the main thread is blocked in
  the operation (state, not sleeps), then ``signal.pthread_kill``s it with
  SIGINT; repeated many times. After each interrupt the connection is
  either fully usable or cleanly closed, and no message is lost.
* Interrupt sweeps: a KeyboardInterrupt injected at every line of syncws
  code that the calling thread runs (the points where a SIGINT handler can
  run), one point per attempt — the deterministic version of pressing
  Ctrl-C at every possible moment.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import socket
import threading
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import syncws
from syncws.sync.loop_thread import get_loop_thread
from tests.reliability.support import (
    Interrupter,
    Snapshot,
    assert_no_leaks,
    main_blocked_in,
    settle,
    wait_until,
)
from tests.servers import RawPeer, frame

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.usefixtures("no_leaks"),
    pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill"),
]

ROUNDS = 120
DEFERRED: List[int] = [0]  # signals that had to be sent again (see Interrupt); soak.py reports it


@pytest.fixture(autouse=True)
def in_main_thread() -> None:
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class Interrupt:
    """A helper thread that SIGINTs the main thread once ``ready()`` holds.

    The main thread calls ``got_it()`` first thing in its ``except
    KeyboardInterrupt``. A signal that lands after the main thread's last
    bytecode but before its lock wait starts is only handled when that wait
    ends (CPython runs signal handlers between bytecodes, and a lock wait
    does not look for pending ones before blocking): the helper then sends
    again, and counts it in ``deferred``.
    """

    def __init__(self, ready: Callable[[], bool], after: Optional[threading.Event] = None) -> None:
        self.ready = ready
        self.after = after
        self.ack = threading.Event()
        self.deferred = 0
        self.sent = 0
        self.stopped = ""  # why it stopped sending: what a failing test reports
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        main = threading.main_thread().ident
        assert main is not None
        wait_until(self.ready, what="the main thread blocked in the operation")
        self.stopped = "50 signals sent, none acknowledged"
        for _ in range(50):
            signal.pthread_kill(main, signal.SIGINT)
            self.sent += 1
            if self.ack.wait(0.2):
                self.stopped = "acknowledged"
                break
            if not self.ready():
                self.stopped = "the main thread left the wait, unacknowledged"
                break
            self.deferred += 1
            DEFERRED[0] += 1
        if self.after is not None:
            self.after.set()

    def got_it(self) -> None:
        self.ack.set()

    def join(self) -> None:
        self.thread.join(20)
        assert not self.thread.is_alive()


# -- real signals ----------------------------------------------------------------------------

def test_sigint_during_connect(raw_server: Any) -> None:
    """The server answers only after the signal: each connect is interrupted, and cleanly abandoned."""
    state: Dict[str, Any] = {}

    async def script(peer: RawPeer) -> None:
        request_seen, signalled = state["request_seen"], state["signalled"]
        await peer.read_request()
        request_seen.set()
        await asyncio.get_running_loop().run_in_executor(None, signalled.wait, 20)
        try:
            peer.send(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")  # too late: the client is gone
            state["closed"] = await asyncio.wait_for(peer.at_eof(), 10)
        except (ConnectionError, OSError):
            state["closed"] = True

    server = raw_server(script)
    outcomes = {"interrupted": 0, "connected": 0}
    in_run = main_blocked_in("run", "open_here")
    for _ in range(ROUNDS):
        state.update(request_seen=threading.Event(), signalled=threading.Event(), closed=False)
        helper = Interrupt(lambda: state["request_seen"].is_set() and in_run(), state["signalled"])
        try:
            ws = syncws.connect(server.url, open_timeout=20)
        except KeyboardInterrupt:
            helper.got_it()
            outcomes["interrupted"] += 1
        except syncws.WSServerHandshakeError as exc:  # the answer the server sends after the signal
            helper.join()
            raise AssertionError(
                f"connect() read the late answer: no KeyboardInterrupt after {helper.sent} SIGINT(s); "
                f"helper: {helper.stopped}; {exc}"
            ) from exc
        else:  # would mean the interrupt was lost
            outcomes["connected"] += 1
            ws.close()
        helper.join()
        wait_until(lambda: state["closed"], what="the server to see the abandoned connection closed")
    assert outcomes == {"interrupted": ROUNDS, "connected": 0}


def test_sigint_during_send_blocked_by_backpressure(raw_server: Any) -> None:
    """An interrupted send() had already queued its message: every message arrives once, in order."""
    allow = threading.Event()
    received: List[int] = []
    texts: List[bytes] = []

    async def script(peer: RawPeer) -> None:
        peer.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2**16)
        await peer.handshake()
        loop = asyncio.get_running_loop()
        while True:
            if not allow.is_set():
                await loop.run_in_executor(None, allow.wait, 30)
            opcode, _, payload = await peer.read_frame()
            if opcode == 8:
                peer.send(frame(8, payload[:2]))
                return
            if opcode == 1:
                texts.append(payload)
            else:
                received.append(int.from_bytes(payload[:4], "big"))

    server = raw_server(script)
    ws = syncws.connect(server.url, compress=0)
    ws._proto.raw_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2**16)
    pad = b"\x00" * (2**16 - 4)
    seq = 0
    interrupted: List[int] = []
    rounds = ROUNDS // 2
    for _ in range(rounds):
        allow.clear()
        helper = Interrupt(main_blocked_in("wait_sync"))
        try:
            for _ in range(10_000):
                ws.send_bytes(seq.to_bytes(4, "big") + pad)
                seq += 1
        except KeyboardInterrupt:
            helper.got_it()
            interrupted.append(seq)
            seq += 1  # it was queued before the wait that the interrupt ended
        helper.join()
        allow.set()
        wait_until(lambda n=seq: len(received) == n, what="the server to read everything")
    ws.send_str("still usable")
    ws.close()  # the server reads the text before the close frame (its read may race this test)
    assert ws.exception() is None and ws.close_code == 1000
    assert len(interrupted) == rounds
    assert received == list(range(seq))
    assert texts == [b"still usable"]


def test_sigint_during_receive(ws_url: str) -> None:
    with syncws.connect(ws_url, compress=0) as ws:
        for i in range(ROUNDS):
            helper = Interrupt(main_blocked_in("receive"))
            try:
                ws.receive(timeout=30)
            except KeyboardInterrupt:
                helper.got_it()
            helper.join()
            assert helper.ack.is_set()
            assert not ws.closed and not ws._queue.receiving
            ws.send_str(str(i))
            assert ws.receive_str(timeout=10) == str(i)
        assert len(ws._queue) == 0


def test_sigint_during_close(raw_server: Any) -> None:
    """The closing handshake goes on without the interrupted caller; the next close() joins it."""
    state: Dict[str, Any] = {}

    async def script(peer: RawPeer) -> None:
        close_seen, signalled = state["close_seen"], state["signalled"]
        await peer.handshake()
        code, _ = await peer.read_close()
        close_seen.set()
        await asyncio.get_running_loop().run_in_executor(None, signalled.wait, 20)
        peer.send(frame(8, code.to_bytes(2, "big")))
        state["eof"] = True  # and the server closes TCP first, as RFC 6455 §7.1.1 wants

    server = raw_server(script)
    in_run = main_blocked_in("run_callback")
    for _ in range(ROUNDS):
        state.update(close_seen=threading.Event(), signalled=threading.Event(), eof=False)
        ws = syncws.connect(server.url, close_timeout=20)
        helper = Interrupt(lambda: state["close_seen"].is_set() and in_run(), state["signalled"])
        try:
            ws.close()
        except KeyboardInterrupt:
            helper.got_it()
        helper.join()
        assert helper.ack.is_set()
        assert ws.closed
        assert ws.close() is False  # joins the close already running, and returns when it is done
        assert ws._proto.lost.done() and ws.exception() is None and ws.close_code == 1000
        wait_until(lambda: state["eof"], what="the server to close TCP")


# -- interrupt sweeps ------------------------------------------------------------------------

def _sweep(
    attempt: Callable[[Interrupter], Optional[str]],
    limit: int = 2000,
    events: Tuple[str, ...] = ("call", "return", "c_return"),
) -> List[str]:
    """Run ``attempt`` with the interrupt at point 0, 1, 2, ... until it completes uninterrupted.

    ``attempt`` returns None when the outcome is acceptable, else what went wrong.
    """
    failures: List[str] = []
    for n in range(limit):
        inj = Interrupter(n, events)
        problem = attempt(inj)
        if inj.fired is None:
            assert n > 0, "the sweep never entered syncws code"
            return failures
        if problem is not None:
            failures.append(f"{inj.fired}: {problem}")
    raise AssertionError(f"more than {limit} interrupt points")


class _CountingPops:
    """Wraps a queue's ``_pop``, counting the messages taken off it. An interrupt inside
    ``_pop`` counts as taken once ``_head`` has moved: that store is what takes a message
    (the receiver holds the queue's mutex throughout, so nothing else moves it)."""

    def __init__(self, queue: Any) -> None:
        self.taken = 0
        self._queue = queue
        self._pop = queue._pop

    def __call__(self) -> Any:
        head = self._queue._head
        try:
            msg = self._pop()
        except BaseException:
            if self._queue._head != head:
                self.taken += 1
            raise
        self.taken += 1
        return msg


def _echo_ok(ws: Any, text: str) -> bool:
    ws.send_str(text)
    msg = ws.receive(timeout=10)
    return msg.type is syncws.WSMsgType.TEXT and msg.data == text


def _connect_attempt(url: str) -> Callable[[Interrupter], Optional[str]]:
    def attempt(inj: Interrupter) -> Optional[str]:
        baseline = Snapshot.take(collect=False)
        ws = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ws = inj.run(lambda: syncws.connect(url, compress=0))
            except KeyboardInterrupt:
                pass
            if ws is None:
                gc.collect(0)  # young objects only: the interrupt's frames are gone; what they held warns now
        unawaited = [str(w.message) for w in caught if "never awaited" in str(w.message)]
        if unawaited:
            return "; ".join(unawaited)
        if ws is None:
            after = settle(baseline, timeout=0.5, collect=False)
            if after.within(baseline):
                return None
            _abort_orphans()
            return "connection leaked: " + baseline.diff(after)
        try:
            return None if _echo_ok(ws, "usable") else "connected but unusable"
        finally:
            ws.close()

    return attempt


def _abort_orphans() -> None:
    """Cut connections that nobody holds (what the connect bug leaves behind), so later tests start clean."""
    from syncws.aio.connection import WebSocketProtocol

    runner = get_loop_thread()
    held = set(map(id, runner.connections))
    for obj in gc.get_objects():
        if isinstance(obj, WebSocketProtocol) and not obj.lost.done() and id(obj) not in held:
            runner.loop.call_soon_threadsafe(obj.abort)


def test_interrupt_sweep_connect_before_handshake_done(raw_server: Any) -> None:
    """Interrupts while the handshake is still pending (the server never answers) abandon it cleanly."""

    async def script(peer: RawPeer) -> None:
        try:
            await peer.read_request()
        except asyncio.IncompleteReadError:
            return  # interrupted between connecting and sending the request
        await peer.at_eof()

    server = raw_server(script)

    def attempt(inj: Interrupter) -> Optional[str]:
        baseline = Snapshot.take(collect=False)
        try:
            inj.run(lambda: syncws.connect(server.url, open_timeout=0.05))
        except KeyboardInterrupt:
            after = settle(baseline, timeout=0.5, collect=False)
            return None if after.within(baseline) else "connection leaked: " + baseline.diff(after)
        except syncws.OpenTimeout:
            after = settle(baseline, timeout=0.5, collect=False)  # the abort lands on the loop just after
            return None if after.within(baseline) else "leaked after the timeout: " + baseline.diff(after)
        return "connected to a server that never answers"

    assert _sweep(attempt) == []


def test_interrupt_sweep_connect(ws_url: str) -> None:
    assert _sweep(_connect_attempt(ws_url)) == []


@pytest.mark.parametrize(
    "compress, words",
    [
        (0, 20),
        (15, 20),
        (15, 6000),  # 78 KB: compressed outside the writer lock (sync/writer.py, send_packing)
    ],
)
def test_interrupt_sweep_send(ws_url: str, compress: int, words: int) -> None:
    """The interrupted message arrives whole or not at all; the connection stays usable."""
    conn: List[Any] = [None]
    probe = "probe, long enough to be compressed " * 3

    def attempt(inj: Interrupter) -> Optional[str]:
        if conn[0] is None or conn[0].closed:
            conn[0] = syncws.connect(ws_url, compress=compress)
        ws = conn[0]
        text = f"interrupted {inj.n} " + "compressible " * words
        try:
            inj.run(lambda: ws.send_str(text))
        except KeyboardInterrupt:
            pass
        ws.send_str(probe)
        got: List[Any] = []
        while True:
            try:
                msg = ws.receive(timeout=3)
            except syncws.ReceiveTimeout:
                ws.close()
                return f"then received {got!r:.120} and nothing more"
            got.append(msg.data if msg.type is syncws.WSMsgType.TEXT else msg)
            if msg.type is not syncws.WSMsgType.TEXT or msg.data == probe:
                break
        if got not in ([probe], [text, probe]):
            problem = f"then received {got!r:.120}"
            ws.close()
            return problem
        return None

    try:
        assert _sweep(attempt) == []
    finally:
        if conn[0] is not None:
            conn[0].close()


@pytest.mark.parametrize(
    "arrives",
    [
        "before receive()",
        "while receive() waits",
    ],
)
def test_interrupt_sweep_receive(ws_url: str, arrives: str) -> None:
    """A message that the interrupted receive() had not taken off the queue is there for the next one.

    An interrupt that lands after the message left the queue (in ``_pop`` after
    its store to ``_head``, or as ``get``/``receive`` return) loses it: Python has no way to
    hand a value to the caller atomically with respect to signals, and
    ``queue.Queue.get`` has the same window. The connection must stay usable.
    """
    with syncws.connect(ws_url, compress=0) as ws:
        queue = ws._queue
        finished = threading.Event()
        counting = queue._pop = _CountingPops(queue)

        def attempt(inj: Interrupter) -> Optional[str]:
            text = f"message {inj.n}"
            before = counting.taken
            finished.clear()
            sender = None
            if arrives == "before receive()":
                ws.send_str(text)
                wait_until(lambda: len(queue) > 0, what="the echo queued")
            else:
                def send_when_waiting() -> None:
                    wait_until(lambda: queue.receiving or finished.is_set(), what="receiver waiting")
                    ws.send_str(text)

                sender = threading.Thread(target=send_when_waiting)
                sender.start()
            msg = None
            try:
                msg = inj.run(lambda: ws.receive(timeout=10))
            except KeyboardInterrupt:
                pass
            finally:
                finished.set()
                if sender is not None:
                    sender.join(10)
            if msg is None:
                try:
                    msg = ws.receive(timeout=0.3)
                except RuntimeError as exc:
                    # unusable from now on: reset by hand so the sweep can go on
                    queue._receiving = queue._waiting = False
                    while queue._signal.acquire(False):
                        pass
                    return f"connection left unusable: {exc}"
                except syncws.ReceiveTimeout:
                    if counting.taken > before:
                        return None  # taken off the queue before the interrupt: the caller's to lose
                    return "message lost"
            if msg.type is not syncws.WSMsgType.TEXT or msg.data != text:
                return f"got {msg!r} instead of {text!r}"
            return None

        assert _sweep(attempt) == []


def test_interrupt_sweep_close(ws_url: str) -> None:
    """After an interrupted close() the connection is either open and usable or closes cleanly."""

    def attempt(inj: Interrupter) -> Optional[str]:
        ws = syncws.connect(ws_url, compress=0)
        try:
            inj.run(ws.close)
        except KeyboardInterrupt:
            # A close already handed to the loop goes on without us (one handed over but not
            # started is cancelled): let the loop take what was handed to it, then look.
            get_loop_thread().run(lambda: asyncio.sleep(0))  # sleep-ok: one loop turn as a barrier, no time passes
        if not ws.closed:
            ok = _echo_ok(ws, "still usable")
            ws.close()
            return None if ok else "open but unusable"
        ws.close()
        try:
            # A connection the loop never had settles at the sweeper's next tick (IDLE).
            wait_until(lambda: ws._proto.lost.done(), timeout=2, what="the connection settled")
        except AssertionError as exc:
            return str(exc)
        if ws.exception() is not None or ws.close_code != 1000:
            return f"not cleanly closed: code {ws.close_code}, exception {ws.exception()!r}"
        return None

    assert _sweep(attempt) == []


def test_no_leak_after_interrupt_rounds(ws_url: str) -> None:
    """Interrupted receives and closes, many times over, leave nothing behind."""
    baseline = Snapshot.take()
    for _ in range(50):
        ws = syncws.connect(ws_url, compress=0)
        helper = Interrupt(main_blocked_in("receive"))
        try:
            ws.receive()
        except KeyboardInterrupt:
            helper.got_it()
        helper.join()
        ws.close()
    assert_no_leaks(baseline)
