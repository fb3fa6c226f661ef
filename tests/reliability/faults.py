"""Scripted faulty peers for the fault matrix (test_fault_matrix.py): one per phase of a
connection's life, each either resetting (RST: SO_LINGER 0) or falling silent there.

"Silence at TCP connect" is a listener whose accept queue is full: ``listen(0)`` plus one
connection that is never accepted, so the kernel drops every further SYN and the client's
connect just waits (a black hole, on loopback). "Reset at TCP connect" is a port that is
bound but not listening: the kernel answers the SYN with RST (connection refused).
"""

from __future__ import annotations

import dataclasses
import socket
from typing import Any, Callable, Dict, List

from tests.reliability.support import reset_on_close
from tests.servers import RawPeer, frame

__all__ = ["PHASES", "FAULTS", "Fault", "PortTrap", "script_for", "proxy_script"]

# In the order a connection meets them.
PHASES = ["tcp", "proxy", "tls", "request", "response", "first_frame", "mid_message", "closing"]
FAULTS = ["reset", "silence"]
OPENING = {"tcp", "proxy", "tls", "request", "response"}

# What the peer sends before it resets or falls silent, per phase after the request.
PARTIAL_HEAD = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"  # no blank line: incomplete
HALF_FRAME = frame(2, b"y" * 1000)[:200]


@dataclasses.dataclass
class Fault:
    phase: str
    fault: str

    @property
    def id(self) -> str:
        return f"{self.phase}-{self.fault}"


async def _end(peer: RawPeer, fault: str) -> None:
    """Reset now, or read (and drop) whatever comes until the client hangs up."""
    if fault == "reset":
        reset_on_close(peer.writer)
    else:
        await peer.at_eof()


def script_for(fault: Fault, seen: Dict[str, Any]) -> Callable[[RawPeer], Any]:
    """The server's side of ``fault`` from the request phase on; ``seen`` records what it got."""

    async def script(peer: RawPeer) -> None:
        phase = fault.phase
        if phase == "tls":  # a plain TCP server: the ClientHello arrives, no TLS answers it
            seen["client_hello"] = await peer.reader.read(1)
            await _end(peer, fault.fault)
            return
        if phase in ("request", "response"):
            await peer.read_request()
            seen["request"] = peer.request_head
            if phase == "response":
                peer.send(PARTIAL_HEAD)
                await peer.writer.drain()
            await _end(peer, fault.fault)
            return
        await peer.handshake()
        if phase == "closing":
            seen["close"] = await peer.read_close()
        else:
            seen["go"] = await peer.read_frame()  # the client is open and asks for its data
            if phase == "mid_message":
                peer.send(HALF_FRAME)
                await peer.writer.drain()
        await _end(peer, fault.fault)

    return script


def proxy_script(fault: str, seen: Dict[str, Any]) -> Callable[[RawPeer], Any]:
    """An HTTP proxy that takes the CONNECT request, then resets or never answers."""

    async def script(peer: RawPeer) -> None:
        seen["connect"] = await peer.reader.readuntil(b"\r\n\r\n")
        await _end(peer, fault)

    return script


class PortTrap:
    """A local port that fails TCP connects: ``reset`` (bound, not listening: refused) or
    ``silence`` (accept queue full: SYNs are dropped and the connect waits)."""

    def __init__(self, fault: str) -> None:
        self.sockets: List[socket.socket] = []
        trap = self._socket()
        trap.bind(("127.0.0.1", 0))
        self.port: int = trap.getsockname()[1]
        if fault == "silence":
            trap.listen(0)
            filler = self._socket()
            filler.connect(("127.0.0.1", self.port))  # completes in the kernel, never accepted

    def _socket(self) -> socket.socket:
        sock = socket.socket()
        self.sockets.append(sock)
        return sock

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

