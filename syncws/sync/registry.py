"""The open connections of one loop thread, so that interpreter exit can close them.

Connections join from the loop thread as they open and leave as they end
(their ``lost`` future); exit reads a copy from another thread. One lock
covers all three. Plain references, no ``WeakSet``: a weak reference's
callback runs wherever the garbage collector happens to run, outside any
lock, and on Python 3.9 that made a copy fail with ``Set changed size
during iteration``. A connection stays referenced by its transport while
open anyway.
"""

from __future__ import annotations

import threading
from typing import Generic, Iterator, List, Set, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Items safe to add and discard from any thread while another iterates."""

    def __init__(self) -> None:
        self._items: Set[T] = set()
        self._lock = threading.Lock()

    def add(self, item: T) -> None:
        with self._lock:
            self._items.add(item)

    def discard(self, item: T) -> None:
        with self._lock:
            self._items.discard(item)

    def snapshot(self) -> List[T]:
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
