"""Real peers for the tests: websockets and aiohttp servers, and a scripted raw server.

All listen on 127.0.0.1 and run on one background event loop thread, so
the client under test (and its own loop thread) talk to them over real TCP.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import ssl
import threading
from typing import Any, Awaitable, Callable, Coroutine, Dict, Iterator, List, Optional, Tuple, TypeVar

import websockets
from aiohttp import WSMsgType as AioMsgType
from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers as WSHeaders
from websockets.http11 import Request, Response

T = TypeVar("T")
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BIG = 64 * 2**20


class ServerLoop:
    """An event loop in a daemon thread for the servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-servers", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# -- websockets server -----------------------------------------------------------

async def _ws_handler(ws: ServerConnection) -> None:
    """Behaviour chosen by path: /echo (default), /close/CODE, /info, /send/N, /silent."""
    path = ws.request.path if ws.request else "/"
    route = path.split("?")[0]
    if route.startswith("/close/"):
        code = int(route.split("/")[2])
        await ws.close(code, "server says bye")
        return
    if route.endswith("/info"):
        info = {
            "path": path,
            "headers": [[k, v] for k, v in ws.request.headers.raw_items()] if ws.request else [],
            "subprotocol": ws.subprotocol,
        }
        await ws.send(json.dumps(info))
    if route == "/silent":
        await ws.wait_closed()
        return
    try:
        async for message in ws:
            if message == "close cmd":
                await ws.send("close cmd")
                continue
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


def _process_request(conn: ServerConnection, request: Request) -> Optional[Response]:
    if request.path.startswith("/auth"):
        expected = "Basic " + base64.b64encode(b"user:secret").decode()
        if request.headers.get("Authorization") != expected:
            return conn.respond(401, "need credentials\n")
    if request.path.startswith("/status/"):
        return conn.respond(int(request.path.split("/")[2]), "no\n")
    return None


def _select_subprotocol(conn: ServerConnection, offered: Any) -> Any:
    for proto in ("chat.v2", "chat"):
        if proto in offered:
            return proto
    return None


async def start_websockets(
    ssl_context: Optional[ssl.SSLContext] = None, compression: Optional[str] = "deflate", host: str = "127.0.0.1"
) -> Tuple[Any, int]:
    server = await serve(
        _ws_handler,
        host,
        0,
        ssl=ssl_context,
        process_request=_process_request,
        select_subprotocol=_select_subprotocol,
        compression=compression,
        max_size=BIG,
        ping_interval=None,
    )
    port = next(iter(server.sockets)).getsockname()[1]
    return server, port


# -- aiohttp server --------------------------------------------------------------

async def _aiohttp_ws(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(protocols=("chat",), max_msg_size=BIG, compress=True)
    await ws.prepare(request)
    if request.path.startswith("/close/"):
        await ws.close(code=int(request.path.split("/")[2]), message=b"server says bye")
        return ws
    async for msg in ws:
        if msg.type == AioMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == AioMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def start_aiohttp(ssl_context: Optional[ssl.SSLContext] = None) -> Tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_get("/{tail:.*}", _aiohttp_ws)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


# -- scripted raw server -----------------------------------------------------------

Script = Callable[["RawPeer"], Awaitable[None]]


class RawPeer:
    """One accepted connection of the scripted server, as the script sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.request_head = b""

    async def read_request(self) -> Dict[str, str]:
        self.request_head = await self.reader.readuntil(b"\r\n\r\n")
        lines = self.request_head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return headers

    async def handshake(
        self, extra: str = "", *, accept: Optional[str] = None, status: str = "101 Switching Protocols"
    ) -> Dict[str, str]:
        headers = await self.read_request()
        key = headers.get("sec-websocket-key", "")
        if accept is None:
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.send(
            (f"HTTP/1.1 {status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n").encode()
        )
        return headers

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def send_slowly(self, data: bytes, chunk: int = 1) -> None:
        for i in range(0, len(data), chunk):
            self.writer.write(data[i : i + chunk])
            await self.writer.drain()

    async def read_frame(self) -> Tuple[int, bool, bytes]:
        """(opcode, fin, unmasked payload) of the next client frame; checks the mask bit."""
        b0, b1 = await self.reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(await self.reader.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await self.reader.readexactly(8), "big")
        assert b1 & 0x80, "client frames must be masked"
        mask = await self.reader.readexactly(4)
        data = await self.reader.readexactly(n)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data)) if n < 4096 else _unmask(data, mask)
        return b0 & 0x0F, bool(b0 & 0x80), payload

    async def read_close(self) -> Tuple[int, bytes]:
        """Skip to the client's close frame; return (code, reason)."""
        while True:
            opcode, _, payload = await self.read_frame()
            if opcode == 8:
                return int.from_bytes(payload[:2], "big") if payload else 1005, payload[2:]

    async def at_eof(self) -> bool:
        """True once the client closed TCP (reads and drops anything before that)."""
        while await self.reader.read(65536):
            pass
        return True


def _unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    m = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ m).to_bytes(n, "big")


def frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, length: Optional[int] = None
) -> bytes:
    """An unmasked server frame; ``length`` forces an encoding: 7, 16 or 64 bits."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    n = len(payload)
    size = length or (7 if n < 126 else 16 if n < 65536 else 64)
    if size == 7:
        head += bytes([n])
    elif size == 16:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload


class RawServer:
    """Runs ``script(peer)`` for every connection; records failures for the test to raise.
    With ``ssl`` (a server context) the peer talks TLS first."""

    def __init__(self, script: Script, ssl: Optional[ssl.SSLContext] = None) -> None:
        self.script = script
        self.ssl = ssl
        self.errors: List[BaseException] = []
        # Made by start(), on the server loop: on Python 3.9 asyncio.Event() binds the
        # current loop when made, and here (the test's thread) there may be none.
        self.done: asyncio.Event
        self.server: Optional[asyncio.AbstractServer] = None
        self.port = 0

    async def start(self) -> None:
        self.done = asyncio.Event()
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = RawPeer(reader, writer)
        try:
            await self.script(peer)
        except BaseException as exc:  # reported by the test, not swallowed
            self.errors.append(exc)
        finally:
            writer.close()
            self.done.set()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"


def serve_many(server_loop: ServerLoop, make: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """Body of a factory fixture: ``start(...)`` builds, starts and tracks a server; at
    teardown every one is stopped, then the first error a server's script raised fails the test."""
    started: List[Any] = []

    def start(*args: Any, **kwargs: Any) -> Any:
        server = make(*args, **kwargs)
        server_loop.run(server.start())
        started.append(server)
        return server

    yield start
    for server in started:
        server_loop.run(server.stop())
    for server in started:
        errors = getattr(server, "errors", None)
        if errors:
            raise errors[0]


__all__ = [
    "ServerLoop",
    "serve_many",
    "RawPeer",
    "RawServer",
    "frame",
    "start_websockets",
    "start_aiohttp",
    "WSHeaders",
]
