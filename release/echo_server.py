"""A tiny WebSocket echo server on 127.0.0.1, standard library only (release/wheel_smoke.sh).

It runs in a venv that holds nothing but the wheel under test and its two dependencies, so it may
import no third-party package. It answers the opening handshake (RFC 6455 section 4.2), then echoes
every data frame as it came (same opcode and FIN bit, unmasked, no extensions), answers a ping with a
pong and a close frame with a close frame carrying the same status, and then closes the connection.

    python echo_server.py PORT_FILE [--lifetime SECONDS]

It listens on an ephemeral port and writes that port to PORT_FILE once it accepts connections
(written to a temporary name and renamed, so a reader never sees half of it). It stops by itself
after --lifetime seconds (default 120), so a killed caller cannot leave it running for ever.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import struct
import sys

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 16 * 1024
MAX_PAYLOAD = 16 * 1024 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def valid_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        return False


def unmask(mask: bytes, data: bytes) -> bytes:
    if not data:
        return data
    repeated = (mask * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(data), "big")


def frame(first_byte: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first_byte, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", first_byte, 126, n)
    else:
        header = struct.pack("!BBQ", first_byte, 127, n)
    return header + payload


async def handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return False
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    key = headers.get("sec-websocket-key", "")
    if (
        method != "GET"
        or not rest.endswith("HTTP/1.1")
        or headers.get("upgrade", "").lower() != "websocket"
        or "upgrade" not in [t.strip().lower() for t in headers.get("connection", "").split(",")]
        or headers.get("sec-websocket-version") != "13"
        or not valid_key(key)
    ):
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return False
    writer.write(
        (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
            "\r\n"
        ).encode("ascii")
    )
    await writer.drain()
    return True


async def echo_frames(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        b0, b1 = await reader.readexactly(2)
        fin, opcode = b0 & 0x80, b0 & 0x0F
        if not b1 & 0x80:  # a client's frames are always masked
            writer.write(frame(0x80 | OP_CLOSE, struct.pack("!H", 1002)))
            return
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await reader.readexactly(8))
        if length > MAX_PAYLOAD:
            writer.write(frame(0x80 | OP_CLOSE, struct.pack("!H", 1009)))
            return
        mask = await reader.readexactly(4)
        payload = unmask(mask, await reader.readexactly(length))
        if opcode == OP_CLOSE:
            writer.write(frame(0x80 | OP_CLOSE, payload[:2]))  # the peer's status code back, no reason
            await writer.drain()
            return
        if opcode == OP_PING:
            writer.write(frame(0x80 | OP_PONG, payload))
        elif opcode in (OP_CONT, OP_TEXT, OP_BINARY):
            writer.write(frame(fin | opcode, payload))
        await writer.drain()  # pong frames from the client are dropped


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        if await handshake(reader, writer):
            await echo_frames(reader, writer)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def main(port_file: str, lifetime: float) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=MAX_HEADER)
    port = server.sockets[0].getsockname()[1]
    tmp = f"{port_file}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, port_file)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), lifetime)
        except asyncio.TimeoutError:
            print(f"echo_server: stopping after {lifetime:g} s", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port_file")
    parser.add_argument("--lifetime", type=float, default=120.0)
    args = parser.parse_args()
    try:
        asyncio.run(main(args.port_file, args.lifetime))
    except KeyboardInterrupt:
        pass
