"""Hand-framed blocking WebSocket client: the floor for a pure-Python client.

A minimal RFC 6455 client (handshake, masking, framing, permessage-deflate)
written on a raw socket with no WebSocket library, so the report shows how much
of any library's time is framing overhead rather than socket and interpreter cost.
Masking is pure Python (big-int XOR), which is what bounds its large-message speed.
"""
from __future__ import annotations

import base64
import hashlib
import os
import threading
import zlib
from typing import Any
from urllib.parse import urlsplit

from bench.clients._rawio import Reader, open_socket

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CLOSE, _PING, _PONG = 1, 2, 8, 9, 10
_TAIL = b"\x00\x00\xff\xff"


def mask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated, using one big-int XOR."""
    n = len(data)
    if not n:
        return b""
    keys = int.from_bytes((key * (n // 4 + 1))[:n], "little")
    return (int.from_bytes(data, "little") ^ keys).to_bytes(n, "little")


def _header(first: int, n: int) -> bytes:
    if n < 126:
        return bytes((first, 0x80 | n))
    if n < 65536:
        return bytes((first, 0xFE)) + n.to_bytes(2, "big")
    return bytes((first, 0xFF)) + n.to_bytes(8, "big")


def _extension_params(value: str) -> dict[str, str] | None:
    """Parse a permessage-deflate response header into its parameters."""
    for offer in value.split(","):
        parts = [p.strip() for p in offer.split(";")]
        if parts[0].lower() == "permessage-deflate":
            params = {}
            for p in parts[1:]:
                key, _, val = p.partition("=")
                params[key.strip().lower()] = val.strip().strip('"')
            return params
    return None


class Conn:
    """One connection: ``recv`` from one thread while another ``send_*`` (S2) is safe."""

    def __init__(self, url: str, compress: bool) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self._sock = open_socket(host, port)
        self._reader = Reader(self._sock)
        self._lock = threading.Lock()
        self._deflater: Any = None
        self._inflater: Any = None
        self._reset_out = self._reset_in = False
        self._client_bits = 15
        self.deflate: bool | None = False
        self._handshake(host, port, parts.path or "/", compress)

    def _handshake(self, host: str, port: int, path: str, compress: bool) -> None:
        key = base64.b64encode(os.urandom(16))
        lines = [
            f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
            "Connection: Upgrade", f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if compress:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = self._reader.read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        if not head[0].startswith("HTTP/1.1 101"):
            raise ConnectionError(f"handshake refused: {head[0]}")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise ConnectionError("bad Sec-WebSocket-Accept")
        params = _extension_params(headers.get("sec-websocket-extensions", ""))
        if params is not None:
            self._setup_deflate(params)

    def _setup_deflate(self, params: dict[str, str]) -> None:
        self.deflate = True
        self._reset_out = "client_no_context_takeover" in params
        self._reset_in = "server_no_context_takeover" in params
        bits = params.get("client_max_window_bits")
        self._client_bits = max(9, int(bits)) if bits else 15
        self._deflater = zlib.compressobj(wbits=-self._client_bits)
        self._inflater = zlib.decompressobj(wbits=-15)

    def _send(self, opcode: int, payload: bytes) -> None:
        first = 0x80 | opcode
        if self._deflater is not None and opcode < 8:
            if self._reset_out:
                self._deflater = zlib.compressobj(wbits=-self._client_bits)
            payload = self._deflater.compress(payload) + self._deflater.flush(zlib.Z_SYNC_FLUSH)
            payload = payload[:-4] if payload.endswith(_TAIL) else payload
            first |= 0x40
        key = os.urandom(4)
        head = _header(first, len(payload)) + key
        body = mask(payload, key)
        with self._lock:
            if len(body) < 65536:
                self._sock.sendall(head + body)
            else:
                self._sock.sendall(head)
                self._sock.sendall(body)

    def send_text(self, data: str) -> None:
        """Send one text message."""
        self._send(_TEXT, data.encode())

    def send_bytes(self, data: bytes) -> None:
        """Send one binary message."""
        self._send(_BINARY, data)

    def recv(self) -> str | bytes:
        """Return the next data message; answer pings; raise on close."""
        read = self._reader.read
        parts: list[bytes] = []
        opcode = 0
        compressed = False
        while True:
            b0, b1 = read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(read(2), "big")
            elif n == 127:
                n = int.from_bytes(read(8), "big")
            if b1 & 0x80:
                raise ConnectionError("server frames must not be masked")
            payload = read(n) if n else b""
            op = b0 & 0x0F
            if op >= 8:
                if op == _PING:
                    self._send(_PONG, payload)
                elif op == _CLOSE:
                    raise ConnectionError(f"closed by server: {payload!r}")
                continue
            if op:
                opcode, compressed = op, bool(b0 & 0x40)
            parts.append(payload)
            if b0 & 0x80:
                break
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if compressed:
            if self._reset_in:
                self._inflater = zlib.decompressobj(wbits=-15)
            data = self._inflater.decompress(data + _TAIL)
        return data.decode() if opcode == _TEXT else data

    def close(self) -> None:
        """Close handshake: send 1000, wait for the server's close frame, then EOF."""
        try:
            self._send(_CLOSE, (1000).to_bytes(2, "big"))
            read = self._reader.read
            while True:
                b0, b1 = read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = int.from_bytes(read(2), "big")
                elif n == 127:
                    n = int.from_bytes(read(8), "big")
                read(n)
                if b0 & 0x0F == _CLOSE:
                    break
        finally:
            self._sock.close()


class Client:
    """Factory for hand-framed connections."""

    supports_deflate = True

    def connect(self, url: str, compress: bool) -> Conn:
        """Open, handshake, return a connection."""
        return Conn(url, compress)


def load() -> Client:
    """Always available: stdlib only."""
    return Client()
