"""A loopback TCP relay that can go half-open: the peer that never answers and never closes."""

from __future__ import annotations

import asyncio
from typing import List, Optional, Set

__all__ = ["Relay"]


class Relay:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target_port``, on the test servers' loop.

    ``cut()`` (from any thread) makes the connections open so far half-open: the relay
    stops reading both sides and closes nothing, so bytes pile up in kernel buffers
    (a sender ends up blocked), as behind a dead NAT, a pulled cable or a vanished
    host. Connections made after the cut work.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server: Optional[asyncio.AbstractServer] = None
        self._links: List[asyncio.Event] = []  # set while a connection open so far forwards
        self._writers: List[asyncio.StreamWriter] = []
        self._tasks: Set["asyncio.Task[None]"] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def cut(self) -> None:
        """Returns once the cut holds: nothing the client sends from here on gets through."""
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._cut(), self._loop).result(10)

    async def _cut(self) -> None:
        for forwarding in self._links:
            forwarding.clear()
        self._links = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        forwarding = asyncio.Event()
        forwarding.set()
        self._links.append(forwarding)
        pumps = {
            asyncio.ensure_future(_pump(reader, up_writer, forwarding)),
            asyncio.ensure_future(_pump(up_reader, writer, forwarding)),
        }
        self._tasks |= pumps
        await asyncio.gather(*pumps, return_exceptions=True)
        for w in (writer, up_writer):
            w.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        for w in self._writers:
            w.transport.abort()
        await asyncio.sleep(0)  # sleep-ok: one loop pass so the aborts run


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, forwarding: asyncio.Event) -> None:
    try:
        while True:
            await forwarding.wait()
            data = await reader.read(65536)
            if not data:
                writer.close()
                return
            await forwarding.wait()  # read just before the cut: held back, never delivered
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        writer.close()
