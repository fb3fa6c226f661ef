"""One thread serving many blocking connections with syncws.wait(), like select().

    python examples/wait_many.py [ws://your.server/path]

wait() blocks until at least one connection has a message (or has closed),
so a receive() on each connection it returns does not block.
"""

from __future__ import annotations

import sys
from typing import Dict

import syncws


def main() -> None:
    if len(sys.argv) > 1:
        url = sys.argv[1]
    else:
        from local_server import start_echo_server

        url = start_echo_server()
    names = ["alpha", "beta", "gamma"]
    connections: Dict[syncws.SyncWebSocket, str] = {syncws.connect(url): name for name in names}
    try:
        for ws, name in connections.items():
            ws.send_str(f"hello from {name}")
        pending = set(connections)
        while pending:
            ready = syncws.wait(pending, timeout=10)
            if not ready:
                raise SystemExit("no answer within 10 s")
            for ws in ready:
                print(connections[ws], "got", ws.receive_str())
                pending.discard(ws)
    finally:
        for ws in connections:
            ws.close()
    print("all closed:", all(ws.closed for ws in connections))


if __name__ == "__main__":
    main()
