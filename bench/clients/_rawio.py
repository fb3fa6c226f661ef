"""Buffered exact-size socket reads shared by the hand-framed clients.

One recv serves many small frames (S1, S2); big payloads are read straight into
their final buffer with recv_into (S3) so the floor pays no extra copies.
"""
from __future__ import annotations

import socket

_CHUNK = 256 * 1024
_DIRECT = 64 * 1024


class Reader:
    """Reads exactly n bytes, or up to a delimiter, from a blocking socket."""

    __slots__ = ("_buf", "_pos", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def read(self, n: int) -> bytes:
        """Return exactly ``n`` bytes; raise ConnectionError on EOF."""
        pos = self._pos
        end = pos + n
        if end <= len(self._buf):
            self._pos = end
            return self._buf[pos:end]
        return self._fill(n)

    def _fill(self, n: int) -> bytes:
        rest = self._buf[self._pos:]
        self._buf = b""
        self._pos = 0
        if n >= _DIRECT:
            out = bytearray(n)
            view = memoryview(out)
            got = len(rest)
            view[:got] = rest
            while got < n:
                k = self._sock.recv_into(view[got:])
                if not k:
                    raise ConnectionError("connection closed mid-message")
                got += k
            return bytes(out)
        parts = [rest]
        have = len(rest)
        while have < n:
            chunk = self._sock.recv(_CHUNK)
            if not chunk:
                raise ConnectionError("connection closed mid-message")
            parts.append(chunk)
            have += len(chunk)
        buf = b"".join(parts)
        self._buf = buf
        self._pos = n
        return buf[:n]

    def read_until(self, delim: bytes, limit: int = 65536) -> bytes:
        """Return bytes up to and including ``delim`` (HTTP handshake)."""
        buf = self._buf[self._pos:]
        while delim not in buf:
            if len(buf) > limit:
                raise ConnectionError("header too long")
            chunk = self._sock.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed in handshake")
            buf += chunk
        end = buf.index(delim) + len(delim)
        self._buf = buf
        self._pos = end
        return buf[:end]

    def at_eof(self) -> bool:
        """Drain until the peer closes; True once EOF is seen (used by close)."""
        while self._sock.recv(_CHUNK):
            pass
        return True


def open_socket(host: str, port: int) -> socket.socket:
    """Blocking TCP socket with Nagle off, as every WebSocket library here sets it."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
