"""The seed documentation's loop in blocking form: no coroutines anywhere."""

from __future__ import annotations

import sys

import syncws


def client(url: str) -> None:
    with syncws.connect(url) as ws:
        ws.send_str("hello")
        for msg in ws:
            if msg.type == syncws.WSMsgType.TEXT:
                print("received", msg.data)
                if msg.data == "close cmd":
                    ws.close()
                    break
                elif msg.data.count("/answer") >= 2:
                    ws.send_str("close cmd")
                else:
                    ws.send_str(msg.data + "/answer")
            elif msg.type == syncws.WSMsgType.ERROR:
                break


if __name__ == "__main__":
    if len(sys.argv) > 1:
        target = sys.argv[1]
    else:
        from local_server import start_echo_server

        target = start_echo_server()
    client(target)
