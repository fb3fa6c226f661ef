"""An HTTP CONNECT proxy on 127.0.0.1 for the tests: it records each request it was asked,
and the tunnels it opened; with ``ssl`` it speaks TLS itself (an https:// proxy)."""

from __future__ import annotations

import asyncio
import ssl
from typing import Dict, List, Optional, Tuple

__all__ = ["ConnectProxy", "pipe"]


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that writes down each request head; with
    ``authorization`` set it answers 407 to a CONNECT without that Proxy-Authorization.
    Anything but CONNECT (a forward proxy's ``GET ws://...``) gets 405. With ``ssl``
    (a server context) clients talk TLS to it, and ``url`` is https://."""

    def __init__(self, authorization: Optional[str] = None, ssl: Optional[ssl.SSLContext] = None) -> None:
        self.authorization = authorization
        self.ssl = ssl
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []  # (method, target, lower-case headers)
        self.port = 0
        self._server: Optional[asyncio.AbstractServer] = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl is not None else 'http'}://127.0.0.1:{self.port}"

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
        try:
            host, port = target.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except (OSError, ValueError):
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
