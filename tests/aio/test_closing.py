"""Our closing handshake (aio/closing.py): it runs to its end whoever waits on it, or stops waiting."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, List

import pytest

import syncws
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(30)


def _answers_when_told(raw_server: Any, seen: List[object]) -> Any:
    """Reads our close frame, says so, and answers it (close frame, then TCP) only when released."""
    got_close = threading.Event()
    answer = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        code, _ = await peer.read_close()
        seen.append(code)
        got_close.set()
        await asyncio.get_running_loop().run_in_executor(None, answer.wait, 20)
        peer.send(frame(0x8, code.to_bytes(2, "big")))

    server = raw_server(script)
    server.got_close, server.answer = got_close, answer
    return server


def test_a_cancelled_close_leaves_the_handshake_running(raw_server: Any) -> None:
    seen: List[object] = []
    server = _answers_when_told(raw_server, seen)

    async def main() -> None:
        ws = await syncws.ws_connect(server.url, close_timeout=20, compress=0)
        closing = asyncio.ensure_future(ws.close(code=4001))
        assert await asyncio.get_running_loop().run_in_executor(None, server.got_close.wait, 20)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert not ws._proto.lost.done()  # cancelling the wait did not cut TCP
        server.answer.set()
        assert await ws.close() is False  # joins the handshake still under way, to its end
        assert ws._proto.lost.done()
        assert (ws.closed, ws.close_code, ws.exception()) == (True, 4001, None)

    asyncio.run(main())
    assert seen == [4001]


def test_closes_that_join_return_when_tcp_is_closed(raw_server: Any) -> None:
    seen: List[object] = []
    server = _answers_when_told(raw_server, seen)

    async def main() -> None:
        ws = await syncws.ws_connect(server.url, close_timeout=20, compress=0)
        first = asyncio.ensure_future(ws.close())
        assert await asyncio.get_running_loop().run_in_executor(None, server.got_close.wait, 20)
        joining = [asyncio.ensure_future(ws.close()) for _ in range(3)]
        await asyncio.sleep(0)  # sleep-ok: one turn, so the joiners are waiting before the answer
        assert not any(c.done() for c in [first, *joining])
        server.answer.set()
        results = await asyncio.gather(first, *joining)
        assert results == [True, False, False, False]
        assert ws._proto.lost.done()
        assert ws.close_code == 1000 and ws.exception() is None

    asyncio.run(main())
    assert seen == [1000]
