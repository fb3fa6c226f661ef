"""fork(): a child must not use (or damage) the connections it inherited from its parent.

tests/sync/test_loop_thread.py checks that a child gets a fresh loop thread.
The gap covered here: a SyncWebSocket object copied into the child refers to
the parent's socket, and the child has no loop thread serving it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

import syncws

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()"),
]


def _in_child(fn: Any) -> bytes:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report one line, exit without running the parent's teardown
        try:
            result = fn()
        except BaseException as exc:
            result = f"{type(exc).__name__}: {exc}"
        os.write(w, str(result).encode()[:500])
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        data = os.read(r, 4096)
        if not data:
            break
        chunks.append(data)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def test_inherited_connection_is_refused_in_child(ws_url: str) -> None:
    with syncws.connect(ws_url, compress=0) as ws:

        def child() -> str:
            outcomes = []
            for op in (lambda: ws.send_str("from the child"), lambda: ws.receive(timeout=1)):
                try:
                    op()
                    outcomes.append("allowed")
                except syncws.ReceiveTimeout:
                    outcomes.append("timed out")  # a plain receive() would have hung
                except (RuntimeError, syncws.ConnectionClosed):
                    outcomes.append("refused")
            return ",".join(outcomes)

        assert _in_child(child) == b"refused,refused"
        # and the parent's connection is untouched
        ws.send_str("from the parent")
        assert ws.receive_str(timeout=10) == "from the parent"
