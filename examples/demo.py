"""syncws in one minute: a blocking and an async round trip against a local echo server.

    python examples/demo.py [ws://your.server/path]
"""

from __future__ import annotations

import asyncio
import sys
import time

from local_server import start_echo_server

import syncws


def blocking(url: str) -> None:
    with syncws.connect(url) as ws:
        ws.send_str("hello from blocking code")
        print("sync  <-", ws.receive(timeout=5).data)
        ws.send_bytes(b"\x00\x01" * 50_000)
        print("sync  <-", len(ws.receive_bytes(timeout=5)), "bytes back")
        n = 2000
        start = time.perf_counter()
        for i in range(n):
            ws.send_str(f"ping {i}")
            ws.receive_str(timeout=5)
        elapsed = time.perf_counter() - start
        print(f"sync  {n} round trips in {elapsed:.3f} s ({n / elapsed:,.0f}/s)")
    print("sync  closed with code", ws.close_code)


async def asynchronous(url: str) -> None:
    async with syncws.ws_connect(url) as ws:
        await ws.send_json({"hello": "from a coroutine"})
        print("async <-", await ws.receive_json(timeout=5))
    print("async closed with code", ws.close_code)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else start_echo_server()
    print("server", url)
    blocking(url)
    asyncio.run(asynchronous(url))


if __name__ == "__main__":
    main()
