"""The one background thread whose event loop hosts every sync connection.

Started on first use, named ``syncws-loop``, a daemon. When the main thread
ends (before non-daemon threads are joined) a small ``syncws-exit`` thread
closes open connections with 1001 and stops the loop. A forked child starts
fresh threads on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import threading
from typing import Any, Awaitable, Callable, Coroutine, Optional, TypeVar

from ..aio.connection import WebSocketProtocol
from ..protocol.close_codes import WSCloseCode
from .blocking import interruptible
from .handoff import Handoff
from .registry import Registry

__all__ = ["EXIT_CLOSE_TIMEOUT", "LoopStopped", "LoopThread", "get_loop_thread"]

T = TypeVar("T")

# Total time interpreter exit gives open connections to close politely: with the
# interpreter's own teardown the process is gone within 1 s of sending 1001.
EXIT_CLOSE_TIMEOUT = 0.8
_ROUTED_AWAY = {
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
}


def leave_signals_to_main() -> None:
    """Block the usual process signals in the calling (helper) thread.

    The kernel may deliver a process-directed signal (Ctrl-C, ``kill``) to any
    thread that does not block it. Only the main thread runs Python's handlers,
    and one landing in a helper thread does not wake a main thread blocked in
    a lock wait: the signal would be lost until that wait ends.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _ROUTED_AWAY)


class LoopThread:
    """The ``syncws-loop`` thread and its event loop.

    The loop is an ``asyncio.SelectorEventLoop`` made here, whatever event-loop
    policy the application installed (uvloop's, say): the blocking face relies on
    asyncio's documented selector-loop behaviour and on nothing a policy changes.
    """

    def __init__(self) -> None:
        self.loop = asyncio.SelectorEventLoop()
        self.pid = os.getpid()
        self.connections: "Registry[WebSocketProtocol]" = Registry()
        self._lock = threading.Lock()  # orders submissions against the loop's stop
        self._stopped = False
        self._waiting: "set[Handoff[Any]]" = set()  # run()'s and run_callback()'s, until they return
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="syncws-loop", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        leave_signals_to_main()
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        try:
            self.loop.run_forever()
        finally:
            with self._lock:
                self._stopped = True  # no submission gets past run() from here on
                waiting = list(self._waiting)
            for handoff in waiting:  # their callbacks will never run, or never finish them
                handoff.stop()
            self._finish_tasks()
            self.loop.close()

    def _finish_tasks(self) -> None:
        """Cancel what is still running, so no caller waits on a loop that is gone."""
        tasks = asyncio.all_tasks(self.loop)
        for task in tasks:
            task.cancel()
        if tasks:
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    def in_loop_thread(self) -> bool:
        return threading.get_ident() == self.thread.ident

    def check_caller(self, what: str) -> None:
        if threading.get_ident() == self.thread.ident:
            raise RuntimeError(
                f"{what} blocks, and was called from the syncws loop thread, which it would deadlock; "
                "use the async API (syncws.ws_connect) inside coroutines and callbacks of that loop"
            )

    def submit(self, coro: Coroutine[Any, Any, T]) -> "concurrent.futures.Future[T]":
        """Schedule ``coro`` on the loop; LoopStopped once the loop has stopped (interpreter exit)."""
        with self._lock:
            if self._stopped:
                coro.close()
                raise LoopStopped("the syncws loop thread has stopped (interpreter exit)")
            return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> bool:
        """``callback(*args)`` on the loop; False (and no call) once the loop has stopped."""
        with self._lock:
            if self._stopped:
                return False
            self.loop.call_soon_threadsafe(callback, *args)
            return True

    def run(
        self,
        make: Callable[[], Coroutine[Any, Any, T]],
        timeout: Optional[float] = None,
        what: str = "this call",
    ) -> T:
        """Run ``make()`` on the loop as a task and wait; an interrupt here cancels it there.

        The coroutine is made on the loop, so an interrupt before it starts leaves no
        coroutine behind, never awaited. Raises LoopStopped if the loop stops before
        it finishes.
        """
        self.check_caller(what)
        handoff: "_TaskHandoff[T]" = _TaskHandoff()
        try:
            with self._lock:
                if self._stopped:
                    raise LoopStopped("the syncws loop thread has stopped (interpreter exit)")
                self._waiting.add(handoff)
                self.loop.call_soon_threadsafe(_start_task, self.loop, make, handoff)
            if not interruptible(handoff.wait, timeout):
                raise concurrent.futures.TimeoutError(f"{what} took longer than {timeout} s")
            if handoff.stopped or (handoff.cancelled and self._stopped):
                raise LoopStopped(f"{what} was cut short: the syncws loop thread stopped (interpreter exit)")
            return handoff.result()
        except BaseException:
            if not handoff.done:  # the caller leaves first: the task goes too, or never starts
                self.call_soon(_cancel_task, handoff)
            raise
        finally:
            with self._lock:
                self._waiting.discard(handoff)

    def run_callback(
        self,
        start: Callable[..., None],
        *args: Any,
        what: str = "this call",
    ) -> Any:
        """Call ``start(handoff, *args)`` on the loop, then wait for ``handoff``'s outcome.

        For loop work that ends in a callback rather than a coroutine: no task, and
        the caller wakes in the loop turn that sets the outcome (``Handoff``).
        An interrupt here leaves the work running; LoopStopped if the loop stops first.
        """
        self.check_caller(what)
        handoff: "Handoff[Any]" = Handoff()
        with self._lock:
            if self._stopped:
                raise LoopStopped("the syncws loop thread has stopped (interpreter exit)")
            self._waiting.add(handoff)
            self.loop.call_soon_threadsafe(start, handoff, *args)
        try:
            interruptible(handoff.wait, None)
            if handoff.stopped:
                raise LoopStopped(f"{what} was cut short: the syncws loop thread stopped (interpreter exit)")
            return handoff.result()
        finally:
            with self._lock:
                self._waiting.discard(handoff)

    def close_all(self, timeout: float = EXIT_CLOSE_TIMEOUT) -> None:
        """Close every open connection with 1001 (going away), then stop the loop.

        Closes already under way (a thread inside ``close()``) are joined, not
        replaced: they end with their own code.
        """
        if not self.thread.is_alive() or self.in_loop_thread():
            return

        async def close_everything() -> None:
            tasks: list[Awaitable[bool]] = []
            for proto in self.connections.snapshot():
                if not proto.lost.done():
                    if proto.close_timeout is None or proto.close_timeout > timeout:
                        proto.close_timeout = timeout
                    tasks.append(proto.close(WSCloseCode.GOING_AWAY))
            if tasks:
                await asyncio.wait([asyncio.ensure_future(t) for t in tasks], timeout=timeout)
            for proto in self.connections.snapshot():
                proto.abort()
            await asyncio.sleep(0)  # let the aborts' connection_lost run: waiters wake with a code

        try:
            self.submit(close_everything()).result(timeout + 0.5)
        except Exception:
            pass
        self.call_soon(self.loop.stop)
        self.thread.join(0.5)


class _TaskHandoff(Handoff[T]):
    """``run()``'s: the outcome of the task running its coroutine, which the caller
    cancels if it stops waiting (loop thread, after the task was made: callbacks run in order)."""

    __slots__ = ("abandoned", "task")

    def __init__(self) -> None:
        super().__init__()
        self.task: "Optional[asyncio.Task[T]]" = None
        self.abandoned = False

    def from_task(self, task: "asyncio.Task[T]") -> None:
        if task.cancelled():
            self.set_exception(asyncio.CancelledError())
            return
        exc = task.exception()
        if exc is not None:
            self.set_exception(exc)
        else:
            self.set_result(task.result())


def _start_task(
    loop: asyncio.AbstractEventLoop, make: Callable[[], Coroutine[Any, Any, T]], handoff: "_TaskHandoff[T]"
) -> None:
    if handoff.abandoned:
        return
    try:
        coro = make()
    except Exception as exc:
        handoff.set_exception(exc)
        return
    task = handoff.task = loop.create_task(coro)
    task.add_done_callback(handoff.from_task)


def _cancel_task(handoff: "_TaskHandoff[Any]") -> None:
    handoff.abandoned = True
    if handoff.task is not None:
        handoff.task.cancel()


class LoopStopped(RuntimeError):
    """A blocking call needed the loop thread after it stopped at interpreter exit."""


_lock = threading.Lock()
_current: Optional[LoopThread] = None


def get_loop_thread() -> LoopThread:
    global _current
    with _lock:
        current = _current
        if current is None or current.pid != os.getpid() or not current.thread.is_alive():
            current = _current = LoopThread()
            _watch_exit(current)
        return current


def _watch_exit(runner: LoopThread) -> None:
    """Close ``runner``'s connections as soon as the main thread ends.

    That is before the interpreter joins non-daemon threads, so a thread blocked
    in ``receive()`` is woken by the close instead of hanging the exit. Joining
    the main thread from a helper is public API that returns at that point on
    every supported Python; ``atexit`` would run only after the join.
    """

    def watch() -> None:
        leave_signals_to_main()
        threading.main_thread().join()
        if runner.pid == os.getpid():
            runner.close_all()

    threading.Thread(target=watch, name="syncws-exit", daemon=False).start()


# Bumped in every forked child: a connection remembers the value it was opened under.
fork_generation = 0


def _after_fork_in_child() -> None:
    global _lock, _current, fork_generation
    _lock = threading.Lock()
    _current = None  # the parent's threads do not exist here
    fork_generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
