"""connect() / ws_connect() types: a websocket without reconnect, an iterable with it,
and nothing else; checked by running mypy --strict on code that uses them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

USES = '''
from typing import Union

from typing_extensions import assert_type

import syncws


def blocking(flag: bool) -> None:
    ws = syncws.connect("ws://x/", heartbeat=1.0)
    assert_type(ws, syncws.SyncWebSocket)
    for msg in ws:
        assert_type(msg, syncws.WSMessage)
        assert_type(msg.text, str)
        assert_type(msg.binary, bytes)
    assert_type(ws.receive(timeout=1).text, str)
    count: int = ws.receive().text  # E
    for fresh in syncws.connect("ws://x/", reconnect=True, reconnect_initial=0.5):
        assert_type(fresh, syncws.SyncWebSocket)
    assert_type(syncws.connect("ws://x/", reconnect=flag), Union[syncws.SyncWebSocket, syncws.Reconnecting])
    syncws.connect("ws://x/", no_such_option=1)  # E "no_such_option"
    syncws.connect("ws://x/", timeout="3")  # E "timeout"
    syncws.connect("ws://x/", reconnect=True, timout=1)  # E "timout"
    syncws.connect("ws://x/", reconnect=flag, heartbeet=1.0)  # E "heartbeet"
    syncws.connect("ws://x/", reconnect=True).send_str("x")  # E


async def coroutine() -> None:
    async with syncws.ws_connect("ws://x/", proxy="http://p:1") as a:
        assert_type(a, syncws.ClientWebSocketResponse)
        assert_type((await a.receive()).text, str)
        assert_type((await a.receive(timeout=1)).binary, bytes)
        async for m in a:
            assert_type(m.binary, bytes)
    assert_type(await syncws.ws_connect("ws://x/"), syncws.ClientWebSocketResponse)
    async for b in syncws.ws_connect("ws://x/", reconnect=True):
        assert_type(b, syncws.ClientWebSocketResponse)
    async with syncws.ClientSession() as session:
        async for c in session.ws_connect("ws://x/", reconnect=True):
            assert_type(c, syncws.ClientWebSocketResponse)
    async for d in syncws.ws_connect("ws://x/"):  # E
        pass
    await syncws.ws_connect("ws://x/", reconnect=True)  # E
    syncws.ws_connect("ws://x/", timout=1)  # E "timout"
    syncws.ws_connect("ws://x/", heartbeat="3")  # E "heartbeat"
    syncws.ws_connect("ws://x/", reconnect=True, heartbeet=1.0)  # E "heartbeet"
    syncws.ClientSession().ws_connect("ws://x/", timout=1)  # E "timout"
'''


@pytest.mark.timeout(60)
def test_overloads_type_check(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    source = tmp_path / "uses.py"
    source.write_text(USES)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(source)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    errors = {int(n) for n in re.findall(r"uses\.py:(\d+): error", proc.stdout)}
    marked = {n: line.partition("# E")[2].strip() for n, line in enumerate(USES.splitlines(), 1) if "# E" in line}
    assert errors == set(marked), proc.stdout
    # A keyword that is misspelled or of the wrong type is named in the error itself, and mypy
    # does not fall back to listing every overload (#16).
    for n, name in marked.items():
        if name:
            said = re.findall(rf"uses\.py:{n}: (?:error|note): (.*)", proc.stdout)
            assert any(name in line for line in said if not line.startswith(" ")), (n, said)
            assert not any("overload variant" in line for line in said), (n, said)
