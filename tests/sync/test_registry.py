"""syncws/sync/registry.py: open connections, added from any thread, copied on the loop."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from typing import Any, Callable, List

import pytest

from syncws.sync.registry import Registry


class Item:
    pass


def _copies_while_another_thread_adds(add: Callable[[Item], None], copy: Callable[[], List[Any]]) -> int:
    """How many of 3,000 copies failed while a second thread kept adding."""
    keep: List[Item] = []
    stop = threading.Event()

    def adder() -> None:
        while not stop.is_set():
            item = Item()
            keep.append(item)
            add(item)
            if len(keep) > 400:
                del keep[:200]

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    thread = threading.Thread(target=adder)
    thread.start()
    failures = 0
    try:
        for _ in range(3000):
            try:
                copy()
            except RuntimeError:
                failures += 1
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(switch)
    return failures


def test_a_weakset_alone_fails_here() -> None:
    """The hazard the registry exists for (so the next test can fail)."""
    items: "weakref.WeakSet[Item]" = weakref.WeakSet()
    assert _copies_while_another_thread_adds(items.add, lambda: list(items)) > 0


def test_copies_never_fail_while_another_thread_adds() -> None:
    registry: Registry[Item] = Registry()
    assert _copies_while_another_thread_adds(registry.add, registry.snapshot) == 0
    assert _copies_while_another_thread_adds(registry.add, lambda: list(registry)) == 0


def test_items_are_held_weakly() -> None:
    registry: Registry[Item] = Registry()
    kept = Item()
    registry.add(kept)
    registry.add(Item())
    gc.collect()
    assert registry.snapshot() == [kept]
    assert len(registry) == 1


@pytest.mark.parametrize("n", [0, 1, 5])
def test_snapshot_is_a_copy(n: int) -> None:
    registry: Registry[Item] = Registry()
    items = [Item() for _ in range(n)]
    for item in items:
        registry.add(item)
    copy = registry.snapshot()
    registry.add(Item())  # later additions do not change an earlier copy
    assert sorted(map(id, copy)) == sorted(map(id, items))
