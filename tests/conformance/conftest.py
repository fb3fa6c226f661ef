"""The conformance harness: ``client`` over both APIs (tests/apis.py), and guarded scripts.

``client`` is parametrised over the sync API (``syncws.connect``) and the
async API (``syncws.ws_connect``). Scripts given to ``serve`` run under a
guard timeout: a client that never does what the script waits for makes the
script fail instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Iterator

import pytest

from tests.apis import GUARD, Client
from tests.servers import RawPeer, RawServer, Script, ServerLoop


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, server_loop: ServerLoop) -> Iterator[Client]:
    c = Client(request.param, server_loop)
    yield c
    c.cleanup()


@pytest.fixture
def sync_client(server_loop: ServerLoop) -> Iterator[Client]:
    c = Client("sync", server_loop)
    yield c
    c.cleanup()


@pytest.fixture
def async_client(server_loop: ServerLoop) -> Iterator[Client]:
    c = Client("async", server_loop)
    yield c
    c.cleanup()


@pytest.fixture
def serve(raw_server: Callable[[Script], RawServer]) -> Callable[..., RawServer]:
    """``serve(script)``: a scripted server whose script fails after ``guard`` seconds."""

    def start(script: Script, guard: float = GUARD) -> RawServer:
        async def guarded(peer: RawPeer) -> None:
            try:
                await asyncio.wait_for(script(peer), guard)
            except asyncio.TimeoutError:
                raise AssertionError(f"script gave up after {guard} s: the client never did what it waits for")

        return raw_server(guarded)

    return start
