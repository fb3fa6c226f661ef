"""Nothing is left open, whichever side closes: every socket and transport is closed by
the time the connection's owner is done with it (``-X dev -W error::ResourceWarning``).

Each scenario runs in a fresh interpreter, so an unclosed socket's ResourceWarning at
garbage collection or at exit shows on its stderr.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import trustme

pytestmark = pytest.mark.timeout(120)

_SCENARIOS = textwrap.dedent(
    """
    import asyncio, gc, ssl, sys
    import syncws

    plain, secure, ca_file, which = sys.argv[1:5]
    context = ssl.create_default_context(cafile=ca_file)

    def opts(url):
        return {"ssl": context} if url.startswith("wss") else {}

    async def async_client_closes(url):
        async with syncws.ws_connect(url, **opts(url)) as ws:
            await ws.send_str("x")
            assert await ws.receive_str(timeout=10) == "x"

    async def async_server_closes(url):
        async with syncws.ws_connect(url + "/close/1000", **opts(url)) as ws:
            msg = await ws.receive(timeout=10)
            assert msg.type is syncws.WSMsgType.CLOSE, msg
        # asyncio.run ends right after: nothing may be left for the server to close

    def sync_client_closes(url):
        with syncws.connect(url, **opts(url)) as ws:
            ws.send_str("x")
            assert ws.receive_str(timeout=10) == "x"

    def sync_server_closes(url):
        with syncws.connect(url + "/close/1000", **opts(url)) as ws:
            assert ws.receive(timeout=10).type is syncws.WSMsgType.CLOSE

    for url in (plain, secure):
        for round in range(3):
            if which == "async":
                asyncio.run(async_client_closes(url))
                asyncio.run(async_server_closes(url))
            else:
                sync_client_closes(url)
                sync_server_closes(url)
            gc.collect()
    print("done")
    """
)


@pytest.mark.parametrize("which", ["async", "sync"])
def test_nothing_left_unclosed(which: str, ws_url: str, wss_url: str, ca: trustme.CA, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", _SCENARIOS,
         ws_url, wss_url, str(ca_file), which],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "done"
    assert "ResourceWarning" not in proc.stderr and "unclosed" not in proc.stderr, proc.stderr
