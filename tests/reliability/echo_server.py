"""A `websockets` echo server in its own process, for the load test and soak.py.

Prints its port on stdout, then echoes every message on every connection
until its stdin is closed (or ``--max-seconds`` pass: it always stops by itself).
Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


async def echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    async with serve(
        echo,
        "127.0.0.1",
        args.port,
        compression=None,
        max_size=2**24,
        ping_interval=None,
        backlog=args.backlog,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        stdin_closed = asyncio.Event()

        def watch_stdin() -> None:
            sys.stdin.read()
            loop.call_soon_threadsafe(stdin_closed.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
        try:
            await asyncio.wait_for(stdin_closed.wait(), args.max_seconds)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--backlog", type=int, default=1024)
    parser.add_argument("--max-seconds", type=float, default=600)
    try:
        asyncio.run(main(parser.parse_args()))
    except KeyboardInterrupt:
        pass
