"""syncws.wait(): one thread, many connections, no polling."""

from __future__ import annotations

import threading
from typing import Any, List

import pytest

import syncws

pytestmark = pytest.mark.timeout(30)


def test_wait_returns_ready_connections(ws_url: str, aiohttp_url: str) -> None:
    conns = [syncws.connect(ws_url), syncws.connect(aiohttp_url), syncws.connect(ws_url)]
    try:
        assert syncws.wait(conns, timeout=0.05) == []
        conns[1].send_str("b")
        assert syncws.wait(conns, timeout=10) == [conns[1]]
        assert conns[1].receive_str() == "b"
        conns[0].send_str("a")
        conns[2].send_str("c")
        served: List[str] = []
        while len(served) < 2:
            for ws in syncws.wait(conns, timeout=10):
                served.append(ws.receive_str())
        assert sorted(served) == ["a", "c"]
    finally:
        for ws in conns:
            ws.close()
    ready = syncws.wait(conns, timeout=0)
    assert ready == conns, "closed connections are ready (receive returns CLOSED)"


def test_wait_wakes_on_message_from_another_thread(ws_url: str) -> None:
    with syncws.connect(ws_url) as quiet, syncws.connect(ws_url) as busy:
        result: List[Any] = []
        waiter = threading.Thread(target=lambda: result.append(syncws.wait([quiet, busy])))
        waiter.start()
        busy.send_str("wake up")
        waiter.join(10)
        assert result == [[busy]]


def test_wait_serves_hundreds_from_one_thread(ws_url: str) -> None:
    conns = [syncws.connect(ws_url, compress=0) for _ in range(100)]
    try:
        for i, ws in enumerate(conns):
            ws.send_str(str(i))
        got = {}
        while len(got) < len(conns):
            for ws in syncws.wait(conns, timeout=10):
                got[conns.index(ws)] = ws.receive_str()
        assert got == {i: str(i) for i in range(len(conns))}
    finally:
        for ws in conns:
            ws.close()


def test_wait_on_nothing_returns_at_once() -> None:
    assert syncws.wait([], timeout=None) == []
