"""A connection's life as one state machine, with who owns its socket in each state.

The protocol (``aio/connection.py``) moves it forward at the few points where
a connection changes state; this module is the one place that says which
moves exist. ``OWNERS`` is the table docs/threading.md shows, and the tests
check each row against what the code does.
"""

from __future__ import annotations

import enum
from typing import Dict, FrozenSet, NamedTuple

__all__ = ["ConnState", "IllegalTransition", "OWNERS", "Owners", "StateMachine", "TRANSITIONS"]


class ConnState(enum.Enum):
    OPENING = "opening"  # TCP, TLS, proxy and the opening handshake
    OPEN = "open"  # messages both ways
    CLOSING = "closing"  # a close frame went one way, or the input failed
    CLOSED = "closed"  # TCP is closed (or given up on); the socket is gone


_ORDER = {state: i for i, state in enumerate(ConnState)}

TRANSITIONS: Dict[ConnState, FrozenSet[ConnState]] = {
    ConnState.OPENING: frozenset({ConnState.OPEN, ConnState.CLOSED}),
    ConnState.OPEN: frozenset({ConnState.CLOSING, ConnState.CLOSED}),
    ConnState.CLOSING: frozenset({ConnState.CLOSED}),
    ConnState.CLOSED: frozenset(),
}


class Owners(NamedTuple):
    read: str
    write: str
    close: str


OWNERS: Dict[ConnState, Owners] = {
    ConnState.OPENING: Owners(
        read="the opener: the caller's thread (plain ws://, direct) or the loop thread",
        write="the opener",
        close="the opener",
    ),
    ConnState.OPEN: Owners(
        read="the loop thread only",
        write="any thread under the writer lock (straight to the socket when nothing is queued); the loop",
        close="the loop thread, after revoking direct writes under the writer lock",
    ),
    ConnState.CLOSING: Owners(
        read="the loop thread only",
        write="the loop thread (close and pong frames); data sends raise ConnectionClosed",
        close="the loop thread, after revoking direct writes under the writer lock",
    ),
    ConnState.CLOSED: Owners(read="nobody", write="nobody: sends raise ConnectionClosed", close="nobody: closed"),
}


class IllegalTransition(RuntimeError):
    """A move the table does not have: a bug in syncws, never the peer's doing."""


class StateMachine:
    """Moves only forward. An event that comes after a later state was reached (a
    second ``close()``, a close frame after the connection was lost) changes nothing."""

    __slots__ = ("state",)

    def __init__(self, state: ConnState = ConnState.OPENING) -> None:
        self.state = state

    def advance(self, new: ConnState) -> bool:
        """Move to ``new``; False when already there or past it."""
        old = self.state
        if _ORDER[new] <= _ORDER[old]:
            return False
        if new not in TRANSITIONS[old]:
            raise IllegalTransition(f"{old.name} -> {new.name}")
        self.state = new
        return True

    def __repr__(self) -> str:
        return f"<StateMachine {self.state.name}>"
