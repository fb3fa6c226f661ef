"""What the migration checks share: the recording CONNECT proxy (tests/proxy.py), and
small readers of what the local servers saw."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Dict, List, Optional, Tuple

from tests.servers import RawPeer, RawServer, Script, ServerLoop, frame


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
