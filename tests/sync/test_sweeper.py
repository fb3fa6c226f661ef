"""syncws/sync/sweeper.py: the loop's one timer for lent sockets and ended connections."""

from __future__ import annotations

import threading
from typing import Any, Dict, List

from syncws.sync.loop_thread import get_loop_thread
from syncws.sync.sweeper import Sweeper
from tests.reliability.support import wait_until


class _Reader:
    def __init__(self) -> None:
        self.offers: List[float] = []

    def reclaim_if_idle(self, now: float) -> None:
        self.offers.append(now)


class _Ended:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.settled = threading.Event()

    def finish_detached(self) -> None:
        self.settled.set()
        if self.fail:
            raise RuntimeError("settling failed")


def test_readers_are_offered_back_each_tick_and_the_timer_stops_without_them() -> None:
    sweeper = Sweeper(get_loop_thread().loop)
    reader = _Reader()
    sweeper.add_from_caller(reader)  # type: ignore[arg-type]
    wait_until(lambda: len(reader.offers) >= 2, what="two ticks")
    assert reader.offers == sorted(reader.offers)
    sweeper.discard(reader)  # type: ignore[arg-type]
    wait_until(lambda: sweeper._timer is None and not sweeper._arming, what="the timer to stop")


def test_ended_connections_are_settled_at_the_next_tick_even_if_one_fails() -> None:
    loop = get_loop_thread().loop
    sweeper = Sweeper(loop)
    reported: List[Dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        bad, good = _Ended(fail=True), _Ended()
        sweeper.settle_later(bad)  # type: ignore[arg-type]
        sweeper.settle_later(good)  # type: ignore[arg-type]
        assert good.settled.wait(5) and bad.settled.is_set()
        wait_until(lambda: bool(reported), what="the failure reported")
        assert isinstance(reported[0]["exception"], RuntimeError)
        wait_until(lambda: sweeper._timer is None, what="the timer to stop")
    finally:
        loop.set_exception_handler(previous)
