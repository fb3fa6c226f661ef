"""The open connections of one loop thread, so that interpreter exit can close them.

A ``WeakSet`` alone is not enough: connections are added from the threads
that open them, and iterating a ``WeakSet`` while another thread adds to it
raises ``RuntimeError: Set changed size during iteration``. At exit that
would cost every connection its polite close. So adding and copying take
one lock; iteration works on a copy.
"""

from __future__ import annotations

import threading
import weakref
from typing import Generic, Iterator, List, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Weakly held items, safe to add to from any thread while another iterates."""

    def __init__(self) -> None:
        self._items: "weakref.WeakSet[T]" = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, item: T) -> None:
        with self._lock:
            self._items.add(item)

    def snapshot(self) -> List[T]:
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
