"""Staying connected: ``for ws in syncws.connect(url, reconnect=True)`` gets a fresh
connection after every abnormal end, with exponential backoff and jitter.

    python examples/reconnect.py [ws://your.server/path]

Without an argument it starts a local server that misbehaves on purpose: it drops
the first connection without a close frame, closes the second with 1001 (going
away, as a restarting server does), and ends the third with a normal close (1000),
which ends the loop. Reconnect attempts are logged on the "syncws" logger.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import Any, List

import syncws

# Short waits for the demo; the defaults are 1 s growing to at most 60 s.
BACKOFF = {"reconnect_initial": 0.05, "reconnect_max": 1.0}


def start_flaky_server() -> str:
    """A `websockets` server in a daemon thread; connection n follows step n."""
    from websockets.asyncio.server import serve

    async def step(ws: Any, n: int) -> None:
        await ws.send(f"tick {n}")
        await ws.recv()  # the client's ack
        if n % 3 == 1:
            ws.transport.abort()  # vanish: the client sees 1006
        elif n % 3 == 2:
            await ws.close(1001, "restarting")
        else:
            await ws.close(1000, "all done")

    count: List[int] = [0]
    ready = threading.Event()
    url: List[str] = []

    async def handler(ws: Any) -> None:
        count[0] += 1
        await step(ws, count[0])

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0) as server:
            url.append(f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}/")
            ready.set()
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(main()), name="flaky-server", daemon=True).start()
    ready.wait(10)
    return url[0]


def blocking(url: str) -> None:
    for ws in syncws.connect(url, reconnect=True, **BACKOFF):
        with ws:
            for msg in ws:
                if msg.type == syncws.WSMsgType.TEXT:
                    print("sync  <-", msg.data)
                    ws.send_str("ack")
            # ERROR (then CLOSED) after a drop, CLOSE after the server's close frame
            print("sync  connection ended with", ws.close_code)
    print("sync  loop ended after a normal close")


async def coroutine(url: str) -> None:
    async for ws in syncws.ws_connect(url, reconnect=True, **BACKOFF):
        async with ws:
            async for msg in ws:
                if msg.type == syncws.WSMsgType.TEXT:
                    print("async <-", msg.data)
                    await ws.send_str("ack")
            print("async connection ended with", ws.close_code)
    print("async loop ended after a normal close")


def main() -> None:
    logging.basicConfig(format="%(name)s: %(message)s")
    logging.getLogger("syncws").setLevel(logging.INFO)  # shows each reconnect and its wait
    url = sys.argv[1] if len(sys.argv) > 1 else start_flaky_server()
    blocking(url)
    asyncio.run(coroutine(url))


if __name__ == "__main__":
    main()
