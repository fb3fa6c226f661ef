"""Plain-TCP floor: the same scenarios over a raw socket to a plain TCP echo server.

Messages carry a 5-byte header (type + length) so the shared scenario code can
run unchanged; there is no handshake, masking or WebSocket framing. The gap
between this row and a WebSocket client is what WebSocket costs in Python.

S7 (burst): the TCP echo is a byte pipe with no trigger to answer, so this client
sends the whole expected burst as one write (``send_texts``) and the echo returns
it with one write, like the WebSocket servers' burst; the burst comes back in one
segment and the receive side does the same per-message work as for a real burst.
"""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from bench.clients._rawio import Reader, open_socket

_TEXT, _BINARY = 1, 2


class Conn:
    """Connect is a bare TCP connect; close is a half-close and wait for EOF."""

    deflate: bool | None = False

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._sock = open_socket(parts.hostname or "127.0.0.1", parts.port or 80)
        self._reader = Reader(self._sock)
        self._lock = threading.Lock()

    def _send(self, kind: int, data: bytes) -> None:
        head = bytes((kind,)) + len(data).to_bytes(4, "big")
        with self._lock:
            if len(data) < 65536:
                self._sock.sendall(head + data)
            else:
                self._sock.sendall(head)
                self._sock.sendall(data)

    def send_text(self, data: str) -> None:
        """Send one text record."""
        self._send(_TEXT, data.encode())

    def send_bytes(self, data: bytes) -> None:
        """Send one binary record."""
        self._send(_BINARY, data)

    def send_texts(self, texts: list[str]) -> None:
        """Send several text records in one write (S7: the pipe echoes them in one)."""
        out = b"".join(bytes((_TEXT,)) + len(b).to_bytes(4, "big") + b
                       for b in (t.encode() for t in texts))
        with self._lock:
            self._sock.sendall(out)

    def recv(self) -> str | bytes:
        """Read one echoed record."""
        head = self._reader.read(5)
        n = int.from_bytes(head[1:], "big")
        data = self._reader.read(n) if n else b""
        return data.decode() if head[0] == _TEXT else data

    def close(self) -> None:
        """Half-close and wait for the echo server's FIN: one round trip, like a WS close."""
        try:
            self._sock.shutdown(socket.SHUT_WR)
            self._reader.at_eof()
        finally:
            self._sock.close()


class Client:
    """Factory for plain TCP connections."""

    supports_deflate = False

    def connect(self, url: str, compress: bool) -> Conn:
        """Open a TCP connection (no handshake exists at this layer)."""
        if compress:
            raise NotImplementedError("the TCP floor has no compression")
        return Conn(url)


def load() -> Client:
    """Always available: stdlib only."""
    return Client()
