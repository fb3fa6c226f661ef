"""MessageTurn's jobs (``hold``): a big message compressed away from any task holds the turn
like a fragmented message's task, and hands it on in line when it ends."""

from __future__ import annotations

import asyncio
from typing import Callable, List

import pytest

from syncws.aio.turn import MessageTurn
from syncws.protocol.errors import ConnectionClosed


def test_job_holds_the_turn_and_hands_it_on_in_order() -> None:
    async def main() -> None:
        turn = MessageTurn(asyncio.get_running_loop())
        log: List[str] = []
        jobs: List["asyncio.Future[None]"] = []

        def job(name: str) -> Callable[["asyncio.Future[None]"], bool]:
            def start(fut: "asyncio.Future[None]") -> bool:
                log.append(f"start {name}")
                jobs.append(fut)
                return True

            return start

        first = turn.hold(job("a"))
        assert turn.busy and turn.job and log == ["start a"]
        small = turn.later(lambda: log.append("small"))
        second = turn.hold(job("b"))
        in_line = asyncio.Event()

        async def take() -> None:
            in_line.set()
            await turn.take()  # in line before this step ends

        taker = asyncio.ensure_future(take())
        await in_line.wait()
        assert log == ["start a"] and not taker.done()

        first.set_result(None)
        turn.release(complete=True)  # job a ends: the small send goes, then job b starts and holds
        assert log == ["start a", "small", "start b"] and small.done() and turn.job
        assert not taker.done()
        second.set_result(None)
        turn.release(complete=True)  # job b ends: the task takes the turn
        await taker
        assert turn.owner is taker
        assert not turn.job
        turn.release(complete=True)
        assert not turn.busy

    asyncio.run(main())


def test_job_that_ends_at_once_leaves_the_turn_free() -> None:
    async def main() -> None:
        turn = MessageTurn(asyncio.get_running_loop())

        def closed(fut: "asyncio.Future[None]") -> bool:
            fut.set_exception(ConnectionClosed("closed"))
            return False

        fut = turn.hold(closed)
        assert not turn.busy and not turn.job
        with pytest.raises(ConnectionClosed):
            await fut

    asyncio.run(main())


def test_job_cut_short_fails_what_is_in_line() -> None:
    async def main() -> None:
        turn = MessageTurn(asyncio.get_running_loop())
        turn.hold(lambda fut: True)
        queued = turn.later(lambda: None)
        waiting_job = turn.hold(lambda fut: True)
        turn.release(complete=False)
        for fut in (queued, waiting_job):
            with pytest.raises(ConnectionClosed):
                await fut
        with pytest.raises(ConnectionClosed):
            turn.hold(lambda fut: True)

    asyncio.run(main())
