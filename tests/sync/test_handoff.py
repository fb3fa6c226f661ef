"""Handoff (sync/handoff.py): one outcome from the loop thread to one blocked caller."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any, List

import pytest

from syncws.sync.handoff import Handoff

pytestmark = pytest.mark.timeout(30)


def test_the_caller_wakes_with_the_result_set_from_another_thread() -> None:
    handoff: "Handoff[int]" = Handoff()
    setter = threading.Thread(target=handoff.set_result, args=(7,))
    setter.start()
    assert handoff.wait(None)
    setter.join()
    assert not handoff.stopped
    assert handoff.result() == 7


def test_an_exception_is_raised_to_the_caller() -> None:
    handoff: "Handoff[int]" = Handoff()
    handoff.set_exception(ValueError("from the loop"))
    assert handoff.wait(0)
    with pytest.raises(ValueError, match="from the loop"):
        handoff.result()


def test_no_outcome_yet_means_the_wait_times_out() -> None:
    handoff: "Handoff[int]" = Handoff()
    assert handoff.wait(0) is False
    with pytest.raises(RuntimeError, match="before an outcome"):
        handoff.result()


def test_the_first_outcome_wins() -> None:
    handoff: "Handoff[int]" = Handoff()
    handoff.set_result(1)
    handoff.set_result(2)  # a late second outcome: no error, no effect
    handoff.set_exception(ValueError("late"))
    handoff.stop()
    assert handoff.wait(0)
    assert handoff.result() == 1 and not handoff.stopped


def test_stopped_before_an_outcome() -> None:
    handoff: "Handoff[int]" = Handoff()
    handoff.stop()
    assert handoff.wait(0) and handoff.stopped
    with pytest.raises(RuntimeError):
        handoff.result()


def test_an_outcome_after_the_caller_left_goes_nowhere() -> None:
    handoff: "Handoff[int]" = Handoff()
    assert handoff.wait(0) is False  # the caller gave up (an interrupt, say)
    handoff.set_result(3)  # the loop finishes later: no error
    assert handoff.wait(0) and handoff.result() == 3


def test_a_wait_holds_no_condition() -> None:
    """What it is for: nothing per call but one lock (a Future makes an RLock and a deque)."""
    made: List[Any] = []
    real = threading.Condition

    class Counting(real):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    threading.Condition = Counting  # type: ignore[misc]
    try:
        handoff: "Handoff[int]" = Handoff()
        handoff.set_result(1)
        assert handoff.wait(None) and handoff.result() == 1
        assert made == []
        concurrent.futures.Future()  # the check can see one
        assert len(made) == 1
    finally:
        threading.Condition = real  # type: ignore[misc]
