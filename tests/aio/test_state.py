"""syncws/aio/state.py: the connection state machine, each transition on its own, then
each one as a real connection makes it, with who owns the socket in each state
(the table in docs/threading.md)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Iterator, List, Tuple

import pytest

import syncws
from syncws.aio.state import OWNERS, TRANSITIONS, ConnState, IllegalTransition, StateMachine
from syncws.sync.loop_thread import get_loop_thread
from tests.reliability.support import wait_until
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(60)

S = ConnState
ALLOWED = [(old, new) for old, news in TRANSITIONS.items() for new in news]


def test_the_table_has_every_forward_move_and_no_other() -> None:
    assert sorted((a.name, b.name) for a, b in ALLOWED) == [
        ("CLOSING", "CLOSED"), ("OPEN", "CLOSED"), ("OPEN", "CLOSING"), ("OPENING", "CLOSED"), ("OPENING", "OPEN"),
    ]
    assert set(OWNERS) == set(ConnState)


@pytest.mark.parametrize(("old", "new"), ALLOWED, ids=lambda s: s.name)
def test_each_allowed_transition(old: ConnState, new: ConnState) -> None:
    machine = StateMachine(old)
    assert machine.advance(new) is True
    assert machine.state is new


@pytest.mark.parametrize("old", list(ConnState), ids=lambda s: s.name)
def test_staying_or_going_back_changes_nothing(old: ConnState) -> None:
    for new in ConnState:
        if list(ConnState).index(new) <= list(ConnState).index(old):
            machine = StateMachine(old)
            assert machine.advance(new) is False
            assert machine.state is old


def test_skipping_open_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="OPENING -> CLOSING"):
        StateMachine().advance(S.CLOSING)


# -- the transitions real connections make -------------------------------------------------
@pytest.fixture
def moves(monkeypatch: pytest.MonkeyPatch) -> Iterator[List[Tuple[str, str]]]:
    """Every state change any connection makes during the test, in order."""
    seen: List[Tuple[str, str]] = []
    real = StateMachine.advance

    def spy(self: StateMachine, new: ConnState) -> bool:
        old = self.state
        moved = real(self, new)
        if moved:
            seen.append((old.name, new.name))
        return moved

    monkeypatch.setattr(StateMachine, "advance", spy)
    yield seen


OPENED = ("OPENING", "OPEN")


def test_our_close(ws_url: str, moves: List[Tuple[str, str]]) -> None:
    with syncws.connect(ws_url) as ws:
        assert ws._proto.state.state is S.OPEN
    assert moves == [OPENED, ("OPEN", "CLOSING"), ("CLOSING", "CLOSED")]


def test_their_close(ws_url: str, moves: List[Tuple[str, str]]) -> None:
    with syncws.connect(ws_url + "/close/1000") as ws:
        assert ws.receive(timeout=10).type is syncws.WSMsgType.CLOSE
        assert ws._proto.state.state in (S.CLOSING, S.CLOSED)
    assert moves == [OPENED, ("OPEN", "CLOSING"), ("CLOSING", "CLOSED")]


def test_tcp_dropped_without_close(raw_server: Any, moves: List[Tuple[str, str]]) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.writer.close()

    ws = syncws.connect(raw_server(script).url)
    assert ws.receive(timeout=10).type is syncws.WSMsgType.ERROR
    assert moves == [OPENED, ("OPEN", "CLOSED")]


def test_protocol_violation(raw_server: Any, moves: List[Tuple[str, str]]) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, b"x", rsv=2))  # RSV2 with nothing negotiated
        await peer.read_close()
        peer.writer.close()

    ws = syncws.connect(raw_server(script).url, compress=0)
    assert ws.receive(timeout=10).type is syncws.WSMsgType.ERROR
    ws.close()
    assert moves == [OPENED, ("OPEN", "CLOSING"), ("CLOSING", "CLOSED")]
    assert ws.close_code == 1002


def test_refused_handshake_on_the_loop(raw_server: Any, moves: List[Tuple[str, str]]) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        peer.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    async def main() -> None:
        with pytest.raises(syncws.WSServerHandshakeError):
            await syncws.ws_connect(raw_server(script).url)

    asyncio.run(main())
    assert moves == [("OPENING", "CLOSED")]


# -- who may read, write and close, state by state -----------------------------------------
def test_open_callers_write_the_socket_themselves(ws_plain_url: str) -> None:
    """OPEN: a send from a caller's thread reaches the server with the loop thread held."""
    with syncws.connect(ws_plain_url) as ws:
        held, release = threading.Event(), threading.Event()
        get_loop_thread().loop.call_soon_threadsafe(lambda: (held.set(), release.wait(30)))
        assert held.wait(10)
        try:
            ws.send_str("no loop needed")
            assert ws._writer.buffered == 0  # nothing left for the loop to flush
        finally:
            release.set()
        assert ws.receive_str(timeout=10) == "no loop needed"


def test_closing_refuses_data_but_answers_the_close(raw_server: Any) -> None:
    """CLOSING (our close frame out): data sends raise; only the loop writes."""
    answer = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.read_close()
        await asyncio.get_running_loop().run_in_executor(None, answer.wait, 30)
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    ws = syncws.connect(raw_server(script).url, compress=0)
    closer = threading.Thread(target=ws.close)
    closer.start()
    wait_until(lambda: ws._proto.state.state is S.CLOSING, what="closing")
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_str("too late")
    answer.set()
    closer.join(30)
    assert ws.close_code == 1000


def test_closed_nobody_writes(ws_url: str) -> None:
    """CLOSED: the writer has given the socket up, and every send raises."""
    ws = syncws.connect(ws_url)
    ws.close()
    assert ws._proto.state.state is S.CLOSED
    assert ws._writer._sock is None
    for send in (lambda: ws.send_str("x"), lambda: ws.send_bytes(b"x"), lambda: ws.ping()):
        with pytest.raises(syncws.ConnectionClosed):
            send()
