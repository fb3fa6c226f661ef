"""The seed documentation's loop, as old aiohttp code wrote it, running on syncws.

Replies to every text message with ``msg.data + '/answer'`` and stops on 'close cmd'.
"""

from __future__ import annotations

import asyncio
import sys

import syncws


async def client(url: str) -> None:
    session = syncws.ClientSession()
    async with session.ws_connect(url) as ws:
        ws.send_str("hello")  # writes at once; awaiting it is optional
        async for msg in ws:
            if msg.tp == syncws.MsgType.text:
                print("received", msg.data)
                if msg.data == "close cmd":
                    await ws.close()
                    break
                elif msg.data.count("/answer") >= 2:
                    ws.send_str("close cmd")
                else:
                    ws.send_str(msg.data + "/answer")
            elif msg.tp == syncws.MsgType.closed or msg.tp == syncws.MsgType.error:
                break
    await session.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        target = sys.argv[1]
    else:
        from local_server import start_echo_server

        target = start_echo_server()
    asyncio.run(client(target))
