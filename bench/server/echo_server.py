"""Fallback echo servers (websockets asyncio, asyncio TCP) for when Node or npm is missing.

Only ``--quick`` uses them, to check correctness in CI; they are far slower than
the Node servers, so the full benchmark refuses to run on them. Same command
line and ready line as echo.js: ``python echo_server.py ws|ws-deflate|tcp``.

S7 (burst), plain ``ws`` kind only, as in echo.js: the text message
``burst:<count>:<size>:<seq>`` is answered with ``count`` text messages of ``size``
bytes, all frames handed to the transport in one write; message k is the trigger
+ ``#k:`` padded with _PAD (repeated) or cut to ``size`` (bench/payloads.py builds
the same strings to check them). Every other message is echoed unchanged.

S9 (blast), ``ws-deflate`` kind only, as in echo.js: a text of at least _KEEP bytes is
echoed and kept as one pre-compressed frame, which the text ``blast`` asks for again.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import struct
import sys
import threading
import zlib
from importlib.metadata import version
from typing import Any

_PAD = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BLAST = "blast"
_KEEP = 64 * 1024
_TRIGGER = re.compile(r"burst:(\d{1,4}):(\d{1,5}):\d{1,12}")


def _burst(text: str) -> list[bytes] | None:
    """The payloads answering a burst trigger, or None if ``text`` is not one."""
    m = _TRIGGER.fullmatch(text)
    if m is None:
        return None
    count, size = int(m[1]), int(m[2])
    if not (1 <= count <= 1000 and 1 <= size <= 65535):
        return None
    out = []
    for k in range(count):
        body = f"{text}#{k}:"
        while len(body) < size:
            body += _PAD
        out.append(body[:size].encode())
    return out


def _kept_frame(text: str) -> bytes:
    """``text`` as one compressed frame that inflates on its own (echo.js's keptFrame)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -9)
    payload = (packer.compress(text.encode()) + packer.flush(zlib.Z_SYNC_FLUSH))[:-4]
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0xC1, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0xC1, 126, n)
    else:
        head = struct.pack("!BBQ", 0xC1, 127, n)
    return head + payload


class _TcpEcho(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport: Any = transport

    def data_received(self, data: bytes) -> None:
        self._transport.write(data)


async def _serve(kind: str) -> None:
    extra: dict[str, Any] = {}
    if kind == "tcp":
        loop = asyncio.get_running_loop()
        server: Any = await loop.create_server(_TcpEcho, "127.0.0.1", 0, backlog=4096)
    else:
        from websockets.asyncio.server import ServerConnection, serve

        bursts = kind == "ws"
        blasts = kind == "ws-deflate"

        async def echo(ws: ServerConnection) -> None:
            kept: bytes | None = None
            async for message in ws:
                if blasts and isinstance(message, str):
                    if len(message) >= _KEEP:
                        kept = _kept_frame(message)
                    elif kept is not None and message == _BLAST:
                        ws.transport.write(kept)  # nothing of websockets' is queued: see echo.js
                        continue
                if bursts and isinstance(message, str) and message.startswith("burst:"):
                    payloads = _burst(message)
                    if payloads is not None:
                        # websockets frames them (sans-I/O protocol), then one
                        # transport.write sends them all; no await in between, so
                        # no other send can interleave.
                        for payload in payloads:
                            ws.protocol.send_text(payload)
                        ws.transport.write(b"".join(ws.protocol.data_to_send()))
                        continue
                await ws.send(message)

        compression = "deflate" if kind == "ws-deflate" else None
        server = await serve(echo, "127.0.0.1", 0, compression=compression,
                             max_size=None, backlog=4096)
        extra = {"websockets": version("websockets"), "bufferutil": None}
    port = server.sockets[0].getsockname()[1]
    info = {"kind": kind, "port": port, "pid": os.getpid(), "impl": "python", **extra}
    print(json.dumps(info), flush=True)
    await asyncio.Event().wait()


def _exit_on_stdin_eof() -> None:
    """The runner holds our stdin; EOF means it is gone, so stop."""
    sys.stdin.buffer.read()
    os._exit(0)


def main() -> None:
    """Serve one kind until the runner goes away."""
    threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    asyncio.run(_serve(sys.argv[1] if len(sys.argv) > 1 else "ws"))


if __name__ == "__main__":
    main()
