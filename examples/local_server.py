"""A local echo server for the examples (the `websockets` package, from the test extra).

Runs in a daemon thread on 127.0.0.1 so an example needs no network.
"""

from __future__ import annotations

import asyncio
import threading


def start_echo_server() -> str:
    """Start the server; return its ws:// URL."""
    from websockets.asyncio.server import serve

    ready = threading.Event()
    url = []

    async def echo(ws) -> None:  # type: ignore[no-untyped-def]
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            url.append(f"ws://127.0.0.1:{port}/")
            ready.set()
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(main()), name="echo-server", daemon=True).start()
    ready.wait(10)
    return url[0]
