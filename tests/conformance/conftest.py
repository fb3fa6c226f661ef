"""The conformance harness: one client interface over both APIs, and guarded scripts.

``client`` is parametrised over the sync API (``syncws.connect``) and the
async API (``syncws.ws_connect``, driven from the test thread by a private
event loop that runs only while a call is in progress, so nothing happens
"behind the test's back"). Scripts given to ``serve`` run under a guard
timeout: a client that never does what the script waits for makes the
script fail instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from typing import Any, Awaitable, Callable, Iterator, List, Optional, TypeVar, Union

import pytest

import syncws
from syncws.protocol.messages import WSMessage, WSMsgType
from tests.servers import RawPeer, RawServer, ServerLoop

T = TypeVar("T")

# Bounds that only stop a broken build from hanging the suite; no test asserts on time.
GUARD = 10.0
END_TYPES = (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


class Conn:
    """What every test needs from a connection, whichever API made it."""

    api: str
    ws: Any
    echo_refused: List[WSMessage]  # echoes echo_all() could not send: the connection was closing

    def send_str(self, data: str) -> None:
        raise NotImplementedError

    def send_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    def ping(self, payload: bytes = b"") -> None:
        raise NotImplementedError

    def receive(self, timeout: Optional[float] = GUARD) -> WSMessage:
        raise NotImplementedError

    def close(self, code: int = 1000, message: Union[bytes, str] = b"") -> bool:
        raise NotImplementedError

    def send_fragments(self, opcode: int, payload: bytes, fragment_size: int) -> None:
        """A data message as frames of ``fragment_size`` bytes.

        There is no public API for this yet: it goes through the core's
        ``ClientConnection.send_message`` under the connection's write lock.
        """
        ws = self.ws
        encode = functools.partial(ws._conn.send_message, fragment_size=fragment_size)
        ws._writer.send(encode, opcode, payload)

    # -- state, the same names on both APIs --------------------------------
    @property
    def closed(self) -> bool:
        return bool(self.ws.closed)

    @property
    def close_code(self) -> Optional[int]:
        return self.ws.close_code  # type: ignore[no-any-return]

    def exception(self) -> Optional[BaseException]:
        return self.ws.exception()  # type: ignore[no-any-return]

    @property
    def compress(self) -> int:
        return self.ws.compress  # type: ignore[no-any-return]

    @property
    def client_notakeover(self) -> bool:
        return self.ws.client_notakeover  # type: ignore[no-any-return]

    @property
    def deflate(self) -> Any:
        return self.ws.deflate

    # -- the Autobahn client role ------------------------------------------
    def echo_all(self) -> List[WSMessage]:
        """Echo every data message until the connection ends; return all received."""
        seen: List[WSMessage] = []
        while True:
            msg = self.receive()
            seen.append(msg)
            try:
                if msg.type is WSMsgType.TEXT:
                    self.send_str(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    self.send_bytes(msg.data)
            except syncws.ConnectionClosed:
                self.echo_refused.append(msg)
            if msg.type in END_TYPES:
                if msg.type is not WSMsgType.CLOSED:
                    seen.append(self.receive())
                return seen


class SyncConn(Conn):
    api = "sync"

    def __init__(self, ws: syncws.SyncWebSocket) -> None:
        self.ws = ws
        self.echo_refused = []

    def send_str(self, data: str) -> None:
        self.ws.send_str(data)

    def send_bytes(self, data: bytes) -> None:
        self.ws.send_bytes(data)

    def ping(self, payload: bytes = b"") -> None:
        self.ws.ping(payload)

    def receive(self, timeout: Optional[float] = GUARD) -> WSMessage:
        return self.ws.receive(timeout)

    def close(self, code: int = 1000, message: Union[bytes, str] = b"") -> bool:
        return self.ws.close(code=code, message=message)


class AsyncConn(Conn):
    api = "async"

    def __init__(self, ws: syncws.ClientWebSocketResponse, run: Callable[[Awaitable[T]], T]) -> None:
        self.ws = ws
        self.run = run
        self.echo_refused = []

    def send_str(self, data: str) -> None:
        self.run(self.ws.send_str(data))

    def send_bytes(self, data: bytes) -> None:
        self.run(self.ws.send_bytes(data))

    def ping(self, payload: bytes = b"") -> None:
        self.run(self.ws.ping(payload))

    def receive(self, timeout: Optional[float] = GUARD) -> WSMessage:
        return self.run(self.ws.receive(timeout))

    def close(self, code: int = 1000, message: Union[bytes, str] = b"") -> bool:
        return self.run(self.ws.close(code=code, message=message))


class Client:
    """Opens connections through one API and cleans up after the test."""

    def __init__(self, api: str, server_loop: ServerLoop) -> None:
        self.api = api
        self.server_loop = server_loop
        self.conns: List[Conn] = []
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        if api == "async":
            self.loop = asyncio.new_event_loop()

    def run(self, aw: Awaitable[T], timeout: float = GUARD * 3) -> T:
        assert self.loop is not None

        async def guarded() -> T:
            return await asyncio.wait_for(aw, timeout)

        return self.loop.run_until_complete(guarded())

    def connect(self, url: str, **options: Any) -> Conn:
        conn: Conn
        if self.api == "sync":
            conn = SyncConn(syncws.connect(url, **options))
        else:

            async def opening() -> syncws.ClientWebSocketResponse:
                return await syncws.ws_connect(url, **options)

            conn = AsyncConn(self.run(opening()), self.run)
        self.conns.append(conn)
        return conn

    def connect_error(self, url: str, **options: Any) -> BaseException:
        """The exception connecting raises (the test fails if it succeeds)."""
        try:
            self.connect(url, **options)
        except Exception as exc:
            return exc
        raise AssertionError(f"connecting to {url} with {options} succeeded")

    def wait(self, fut: "concurrent.futures.Future[T]", timeout: float = GUARD * 2) -> T:
        """Block on something the servers do; the async client's loop runs meanwhile."""
        if self.loop is None:
            return fut.result(timeout)
        return self.run(asyncio.wrap_future(fut, loop=self.loop), timeout)

    def finish(self, server: RawServer) -> None:
        """Wait for the server's script to end; raise what it found wrong."""
        fut = asyncio.run_coroutine_threadsafe(server.done.wait(), self.server_loop.loop)
        self.wait(fut)
        if server.errors:
            errors = list(server.errors)
            server.errors.clear()
            raise errors[0]

    def cleanup(self) -> None:
        for conn in self.conns:
            proto = conn.ws._proto
            if conn.api == "sync":
                loop = proto.loop

                async def cut(proto: Any = proto) -> None:
                    proto.abort()
                    await asyncio.wait_for(asyncio.shield(proto.lost), GUARD)

                if not proto.lost.done():
                    asyncio.run_coroutine_threadsafe(cut(), loop).result(GUARD)
            elif not proto.lost.done():
                proto.abort()
                self.run(asyncio.shield(proto.lost))
        if self.loop is not None:
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


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


Script = Callable[[RawPeer], Awaitable[None]]


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
