"""One face for both APIs, so a test runs through ``syncws.connect`` and through
``syncws.ws_connect`` alike (the conformance and connectivity suites).

The async side drives a private event loop with ``run_until_complete`` for
every call: the async API runs exactly as in a coroutine (timers, heartbeats
and closing handshakes happen while a call is in progress), and nothing
happens "behind the test's back" between calls. Every call is bounded by a
guard that only stops a broken build from hanging the suite; no test asserts
on time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
from typing import Any, Awaitable, Dict, List, Optional, TypeVar, Union

import syncws
from syncws.protocol.messages import WSMessage, WSMsgType
from tests.servers import RawServer, ServerLoop

__all__ = ["Client", "Conn", "END_TYPES", "GUARD", "Stream", "header"]

T = TypeVar("T")

GUARD = 10.0
END_TYPES = (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


class Conn:
    """An open connection of either API, with blocking methods and the same state names."""

    def __init__(self, client: "Client", ws: Any) -> None:
        self.client = client
        self.api = client.api
        self.ws = ws
        self.echo_refused: List[WSMessage] = []  # echoes echo_all() could not send: closing

    def _do(self, result: Any) -> Any:
        return self.client.run(result) if self.client.is_async else result

    def send_str(self, data: str) -> None:
        self._do(self.ws.send_str(data))

    def send_bytes(self, data: bytes) -> None:
        self._do(self.ws.send_bytes(data))

    def ping(self, payload: bytes = b"") -> None:
        self._do(self.ws.ping(payload))

    def receive(self, timeout: Optional[float] = GUARD) -> WSMessage:
        return self._do(self.ws.receive(timeout))  # type: ignore[no-any-return]

    def receive_str(self, timeout: Optional[float] = GUARD) -> str:
        msg = self.receive(timeout)
        assert msg.type is WSMsgType.TEXT, msg
        return str(msg.data)

    def close(self, code: int = 1000, message: Union[bytes, str] = b"") -> bool:
        return bool(self._do(self.ws.close(code=code, message=message)))

    def send_fragments(self, opcode: int, payload: bytes, fragment_size: int) -> None:
        """A data message as frames of exactly ``fragment_size`` bytes, through the core's
        ``ClientConnection.send_message`` under the connection's write lock (the public
        ``send_fragments``, see ``send_parts``, frames what an iterable yields instead)."""
        ws = self.ws
        encode = functools.partial(ws._conn.send_message, fragment_size=fragment_size)
        ws._writer.send(encode, opcode, payload)

    def send_parts(self, fragments: Any) -> None:
        """``send_fragments(fragments)``: one message from an iterable of fragments."""
        self._do(self.ws.send_fragments(fragments))

    def receive_stream(self, timeout: Optional[float] = GUARD) -> "Stream":
        return Stream(self, self._do(self.ws.receive_stream(timeout)))

    # -- state, the same names on both APIs --------------------------------
    @property
    def closed(self) -> bool:
        return bool(self.ws.closed)

    @property
    def close_code(self) -> Optional[int]:
        return self.ws.close_code  # type: ignore[no-any-return]

    def exception(self) -> Optional[BaseException]:
        return self.ws.exception()  # type: ignore[no-any-return]

    def failure(self) -> Optional[BaseException]:
        """What the connection failed with, whichever the API, after checking that
        ``exception()`` reports it by that API's rule: the blocking API always; the
        asyncio API as aiohttp does, leaving out protocol violations (its ERROR
        message carries those)."""
        err: Optional[BaseException] = self.ws._proto.exception
        if self.client.is_async and isinstance(err, syncws.ProtocolError):
            assert self.exception() is None, self.exception()
        else:
            assert self.exception() is err, (self.exception(), err)
        return err

    @property
    def url(self) -> str:
        return self.ws.url  # type: ignore[no-any-return]

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

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Stream:
    """A ``receive_stream()`` of either API, iterated with blocking calls; ``type`` as given."""

    def __init__(self, conn: Conn, stream: Any) -> None:
        self.conn = conn
        self.stream = stream
        self.type: WSMsgType = stream.type

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> Union[str, bytes]:
        if not self.conn.client.is_async:
            return next(self.stream)  # type: ignore[no-any-return]
        try:
            return self.conn.client.run(self.stream.__anext__())  # type: ignore[no-any-return]
        except StopAsyncIteration:
            raise StopIteration from None


class Client:
    """Opens connections through one API (``"sync"`` or ``"async"``); ``cleanup()`` cuts
    whatever the test left open."""

    def __init__(self, api: str, server_loop: Optional[ServerLoop] = None) -> None:
        self.api = api
        self.is_async = api == "async"
        self.server_loop = server_loop
        self.conns: List[Conn] = []
        self.loop = asyncio.new_event_loop() if self.is_async else None

    def run(self, aw: Awaitable[T], timeout: float = GUARD * 3) -> T:
        assert self.loop is not None

        async def guarded() -> T:
            return await asyncio.wait_for(aw, timeout)

        return self.loop.run_until_complete(guarded())

    def connect(self, url: str, **options: Any) -> Conn:
        ws = self.run(_opening(url, options)) if self.is_async else syncws.connect(url, **options)
        conn = Conn(self, ws)
        self.conns.append(conn)
        return conn

    def connect_error(self, url: str, **options: Any) -> BaseException:
        """The exception connecting raises (the test fails if it succeeds)."""
        try:
            self.connect(url, **options)
        except Exception as exc:
            return exc
        raise AssertionError(f"connecting to {url} with {options} succeeded")

    def info(self, url: str, **options: Any) -> Dict[str, Any]:
        """Connect to an /info route (tests/connectivity/peers.py); its JSON."""
        with self.connect(url, **options) as conn:
            info: Dict[str, Any] = json.loads(conn.receive_str())
        return info

    def echo(self, url: str, text: str = "hello", **options: Any) -> str:
        with self.connect(url, **options) as conn:
            conn.send_str(text)
            return conn.receive_str()

    def wait(self, fut: "concurrent.futures.Future[T]", timeout: float = GUARD * 2) -> T:
        """Block on something the servers do; the async client's loop runs meanwhile."""
        if self.loop is None:
            return fut.result(timeout)
        return self.run(asyncio.wrap_future(fut, loop=self.loop), timeout)

    def finish(self, server: RawServer) -> None:
        """Wait for the server's script to end; raise what it found wrong."""
        assert self.server_loop is not None
        fut = asyncio.run_coroutine_threadsafe(server.done.wait(), self.server_loop.loop)
        self.wait(fut)
        if server.errors:
            errors = list(server.errors)
            server.errors.clear()
            raise errors[0]

    def cleanup(self) -> None:
        for conn in self.conns:
            proto = conn.ws._proto
            if proto.lost.done():
                continue
            if self.is_async:
                proto.abort()
                self.run(asyncio.shield(proto.lost))
            else:

                async def cut(proto: Any = proto) -> None:
                    proto.abort()
                    await asyncio.wait_for(asyncio.shield(proto.lost), GUARD)

                asyncio.run_coroutine_threadsafe(cut(), proto.loop).result(GUARD)
        if self.loop is not None:
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


async def _opening(url: str, options: Dict[str, Any]) -> syncws.ClientWebSocketResponse:
    return await syncws.ws_connect(url, **options)


def header(info: Dict[str, Any], name: str) -> List[str]:
    """Every value of ``name`` the server received, in order."""
    return [v for k, v in info["headers"] if k.lower() == name.lower()]
