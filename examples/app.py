"""websocket-client's WebSocketApp style on syncws: callbacks, run_forever(), close().

    python examples/app.py [ws://your.server/path]

Callbacks run in the thread that called run_forever() (here the main thread),
so they may block; the connection itself lives on syncws's loop thread.
"""

from __future__ import annotations

import sys
from typing import Optional, Union

import syncws


def on_open(app: syncws.WebSocketApp) -> None:
    print("open")
    for word in ("one", "two", "three"):
        app.send(word)


def on_message(app: syncws.WebSocketApp, message: Union[str, bytes]) -> None:
    print("message", message)
    if message == "three":
        app.close()


def on_error(app: syncws.WebSocketApp, error: BaseException) -> None:
    print("error", error)


def on_close(app: syncws.WebSocketApp, code: Optional[int], reason: Optional[str]) -> None:
    print("closed with code", code)


def main() -> None:
    if len(sys.argv) > 1:
        url = sys.argv[1]
    else:
        from local_server import start_echo_server

        url = start_echo_server()
    app = syncws.WebSocketApp(url, on_open=on_open, on_message=on_message, on_error=on_error, on_close=on_close)
    failed = app.run_forever(ping_interval=20, reconnect=5)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
