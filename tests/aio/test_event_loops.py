"""Other event loops: uvloop installed as the policy, and the async API inside ``uvloop.run``.

The blocking face always runs its own ``asyncio.SelectorEventLoop``, whatever
policy the application installed; the asyncio API runs on whatever loop its
caller runs, uvloop's included.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import trustme

import syncws

uvloop = pytest.importorskip("uvloop", reason="uvloop is a test extra on CPython/Unix")

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("server", ["ws_url", "wss_url"])
def test_async_api_inside_uvloop_run(request: pytest.FixtureRequest, server: str, client_ssl: ssl.SSLContext) -> None:
    url = request.getfixturevalue(server)

    async def main() -> None:
        import asyncio

        assert "uvloop" in type(asyncio.get_running_loop()).__module__
        async with syncws.ws_connect(url, ssl=client_ssl if url.startswith("wss") else None) as ws:
            await ws.send_str("on uvloop")
            assert await ws.receive_str(timeout=10) == "on uvloop"
            await ws.send_bytes(b"\x00" * 70_000)
            assert await ws.receive_bytes(timeout=10) == b"\x00" * 70_000
        assert ws.close_code == 1000 and ws.exception() is None

    uvloop.run(main())


def test_big_compressed_send_off_the_loop_inside_uvloop_run(ws_url: str) -> None:
    """A big message's compression goes to uvloop's default executor too (public APIs only),
    and the small message sent after it, un-awaited, still follows it."""
    import threading

    from syncws.aio.offload import OFFLOAD_SEND

    big = b"uvloop " * (OFFLOAD_SEND // 7 + 1)

    async def main() -> None:
        async with syncws.ws_connect(ws_url, compress=15, max_msg_size=2**22) as ws:
            deflater = ws._conn.writer.deflater
            assert deflater is not None
            threads = []
            real = deflater.compress

            def spy(data: bytes) -> object:
                threads.append(threading.get_ident())
                return real(data)

            deflater.compress = spy  # type: ignore[method-assign]
            ws.send_bytes(big)
            await ws.send_str("after it")
            assert await ws.receive_bytes(timeout=10) == big
            assert await ws.receive_str(timeout=10) == "after it"
            assert threads and threads[0] != threading.get_ident()

    uvloop.run(main())


_SYNC_UNDER_POLICY = textwrap.dedent(
    """
    import asyncio, ssl, sys
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the application's choice

    import syncws
    from syncws.sync import get_loop_thread

    context = ssl.create_default_context(cafile=sys.argv[3])
    for url in sys.argv[1:3]:
        with syncws.connect(url, ssl=context if url.startswith("wss") else None) as ws:
            ws.send_str("hello")
            assert ws.receive_str(timeout=10) == "hello"
        assert ws.close_code == 1000, ws.close_code
    print(type(get_loop_thread().loop).__name__)
    """
)


def test_sync_api_under_a_uvloop_policy(ws_url: str, wss_url: str, ca: trustme.CA, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    proc = subprocess.run(
        [sys.executable, "-c", _SYNC_UNDER_POLICY, ws_url, wss_url, str(ca_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # Our own loop, whatever the policy says: file descriptors never go to libuv.
    assert proc.stdout.strip() == "_UnixSelectorEventLoop", proc.stdout
