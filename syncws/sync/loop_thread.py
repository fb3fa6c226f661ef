"""The one background thread whose event loop hosts every sync connection.

Started on first use, named ``syncws-loop``, a daemon. At interpreter exit
(before non-daemon threads are joined) open connections are closed with
1001 and the loop stops. A forked child starts a fresh thread on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import signal
import threading
from typing import Any, Awaitable, Coroutine, Optional, TypeVar

from ..aio.blocking import wait_future
from ..aio.connection import WebSocketProtocol
from ..protocol.close_codes import WSCloseCode
from .registry import Registry
from .sweeper import Sweeper

__all__ = ["LoopThread", "get_loop_thread", "EXIT_CLOSE_TIMEOUT"]

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
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()
        self.connections: "Registry[WebSocketProtocol]" = Registry()
        self.sweeper = Sweeper(self.loop)
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
            self.loop.close()

    def in_loop_thread(self) -> bool:
        return threading.get_ident() == self.thread.ident

    def check_caller(self, what: str) -> None:
        if threading.get_ident() == self.thread.ident:
            raise RuntimeError(
                f"{what} blocks, and was called from the syncws loop thread, which it would deadlock; "
                "use the async API (syncws.ws_connect) inside coroutines and callbacks of that loop"
            )

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        timeout: Optional[float] = None,
        what: str = "this call",
    ) -> T:
        """Run ``coro`` on the loop and wait; an interrupt here cancels it there."""
        try:
            self.check_caller(what)
        except RuntimeError:
            coro.close()
            raise
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            if not wait_future(future, timeout):
                raise concurrent.futures.TimeoutError(f"{what} took longer than {timeout} s")
            return future.result(0)
        except BaseException:
            future.cancel()
            raise

    def close_all(self, timeout: float = EXIT_CLOSE_TIMEOUT) -> None:
        """Close every open connection with 1001 (going away), then stop the loop."""
        if not self.thread.is_alive() or self.in_loop_thread():
            return

        async def close_everything() -> None:
            tasks: list[Awaitable[bool]] = []
            for proto in self.connections.snapshot():
                if not proto.lost.done():
                    proto.close_timeout = timeout
                    tasks.append(proto.close(WSCloseCode.GOING_AWAY))
            if tasks:
                await asyncio.wait([asyncio.ensure_future(t) for t in tasks], timeout=timeout)
            for proto in self.connections.snapshot():
                proto.abort()

        try:
            asyncio.run_coroutine_threadsafe(close_everything(), self.loop).result(timeout + 0.5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(0.5)


_lock = threading.Lock()
_current: Optional[LoopThread] = None
_exit_hook_registered = False


def get_loop_thread() -> LoopThread:
    global _current
    with _lock:
        current = _current
        if current is None or current.pid != os.getpid() or not current.thread.is_alive():
            current = _current = LoopThread()
            _register_exit_hook()
        return current


def _register_exit_hook() -> None:
    global _exit_hook_registered
    if _exit_hook_registered:
        return
    _exit_hook_registered = True
    # threading's hook runs before non-daemon threads are joined, so a thread
    # blocked in receive() is woken by the close instead of hanging the exit.
    register = getattr(threading, "_register_atexit", None)
    try:
        if register is not None:
            register(_at_exit)
            return
    except RuntimeError:  # interpreter already shutting down
        return
    atexit.register(_at_exit)


def _at_exit() -> None:
    current = _current
    if current is not None and current.pid == os.getpid():
        current.close_all()


# Bumped in every forked child: a connection remembers the value it was opened under.
fork_generation = 0


def _after_fork_in_child() -> None:
    global _lock, _current, _exit_hook_registered, fork_generation
    _lock = threading.Lock()
    _current = None  # the parent's thread does not exist here
    _exit_hook_registered = False
    fork_generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
