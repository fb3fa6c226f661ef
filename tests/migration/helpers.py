"""What the migration checks share: a CONNECT proxy that records what it was asked, and
small readers of what the local servers saw."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Dict, List, Optional, Tuple

from tests.cli.proxy import _pipe
from tests.servers import RawPeer, RawServer, Script, ServerLoop, frame


class RecordingProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that writes down each request head; with
    ``authorization`` set it answers 407 to a CONNECT without that Proxy-Authorization.
    Anything but CONNECT (a forward proxy's ``GET ws://...``) gets 405."""

    def __init__(self, authorization: Optional[str] = None) -> None:
        self.authorization = authorization
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []  # (method, target, lower-case headers)
        self.port = 0
        self._server: Optional[asyncio.AbstractServer] = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tunnels(self) -> List[str]:
        """The targets of the CONNECT requests, in order."""
        return [target for method, target, _ in self.requests if method == "CONNECT"]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            return
        first, *lines = head.split("\r\n")
        method, target, _ = first.split(" ", 2)
        headers = {}
        for line in lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        self.requests.append((method, target, headers))
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        if self.authorization is not None and headers.get("proxy-authorization") != self.authorization:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        host, port = target.rsplit(":", 1)
        try:
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


class Seen:
    """What the /info route reports of the opening handshake request."""

    def __init__(self, first_message: Any) -> None:
        info = json.loads(first_message)
        self.path: str = info["path"]
        self.raw: List[Tuple[str, str]] = [(k, v) for k, v in info["headers"]]
        self.subprotocol: Optional[str] = info["subprotocol"]

    @property
    def headers(self) -> Dict[str, str]:
        """Lower-case names; repeated names joined with ", "."""
        out: Dict[str, str] = {}
        for name, value in self.raw:
            key = name.lower()
            out[key] = f"{out[key]}, {value}" if key in out else value
        return out


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


def parse_close(payload: bytes) -> Tuple[Optional[int], bytes]:
    if not payload:
        return None, b""
    return int.from_bytes(payload[:2], "big"), payload[2:]


async def until_eof(peer: RawPeer) -> None:
    """Until the client closes TCP (some clients end with a reset)."""
    try:
        await peer.at_eof()
    except ConnectionResetError:
        pass


def finished(server_loop: ServerLoop, server: RawServer) -> None:
    """Wait until a connection's script has ended (what it recorded is then complete)."""

    async def wait() -> None:
        await asyncio.wait_for(server.done.wait(), 10)

    server_loop.run(wait())


def ticking_server(seen: List[str], interval: float) -> Script:
    """Sends a message every interval / 6 for 2.5 intervals, then goes quiet; notes whether
    the client's first ping came during those messages or in the quiet after them."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        started = time.monotonic()
        first = asyncio.ensure_future(peer.read_frame())
        while time.monotonic() - started < 2.5 * interval and not first.done():
            peer.send(frame(1, b"tick"))
            await asyncio.wait({first}, timeout=interval / 6)  # the pace of the messages
        during = first.done()
        opcode, _, _ = await first
        seen.append(f"{'ping' if opcode == 9 else opcode} {'during the messages' if during else 'after them'}")
        peer.writer.transport.abort()

    return script
