"""syncws/sync/registry.py: open connections, added from any thread, copied on the loop."""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, List

import pytest

from syncws.sync.registry import Registry


class Item:
    pass


def _copies_while_another_thread_changes(registry: Registry[Item], copy: Callable[[], List[Any]]) -> int:
    """How many of 3,000 copies failed while a second thread kept adding items, dropping
    them, and discarding them, as connections open and end on the loop thread."""
    keep: List[Item] = []
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            item = Item()
            keep.append(item)
            registry.add(item)
            if len(keep) > 400:
                for old in keep[:200]:
                    registry.discard(old)
                del keep[:200]  # and the last references go: no callback may touch the registry

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    thread = threading.Thread(target=churn)
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


def test_copies_never_fail_while_another_thread_changes_it() -> None:
    registry: Registry[Item] = Registry()
    assert _copies_while_another_thread_changes(registry, registry.snapshot) == 0
    assert _copies_while_another_thread_changes(registry, lambda: list(registry)) == 0


def test_discarded_items_leave() -> None:
    registry: Registry[Item] = Registry()
    kept, gone = Item(), Item()
    registry.add(kept)
    registry.add(gone)
    registry.discard(gone)
    registry.discard(Item())  # never added: no error
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
