"""Holding Ctrl-C back while a few lines run (syncws/sync/held_interrupt.py)."""

from __future__ import annotations

import signal
import threading
from typing import List

import pytest

from syncws.sync.held_interrupt import whole


@pytest.fixture(autouse=True)
def in_main_thread() -> None:
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_sigint_inside_lands_after_the_work_is_done() -> None:
    done: List[str] = []

    def work() -> bool:
        signal.raise_signal(signal.SIGINT)  # without the hold, KeyboardInterrupt right here
        done.append("all of it")
        return True

    with pytest.raises(KeyboardInterrupt):
        whole(work)
    assert done == ["all of it"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_signal_returns_the_result_and_restores_the_handler() -> None:
    assert whole(lambda x: x == 2, 2) is True
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_sigint_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert whole(lambda: signal.raise_signal(signal.SIGINT) is None) is True
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_other_threads_call_straight_through() -> None:
    seen: List[object] = []

    def probe() -> bool:
        seen.append(signal.getsignal(signal.SIGINT))
        return True

    thread = threading.Thread(target=lambda: seen.append(whole(probe)))
    thread.start()
    thread.join(10)
    assert seen == [signal.default_int_handler, True]
