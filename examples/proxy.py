"""Reaching a WebSocket server through a proxy: HTTP CONNECT with credentials, the
proxy environment variables, and SOCKS (with ``pip install 'syncws[socks]'``).

    python examples/proxy.py [ws://server/path http://user:pass@proxy:port]

Without arguments it starts a local echo server and a local `pproxy` forward
proxy (from PyPI) that wants the credentials demo:secret.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from typing import Tuple

import syncws


def start_proxy() -> Tuple["subprocess.Popen[str]", str]:
    """pproxy on 127.0.0.1, HTTP and SOCKS5 on one port; its first line says which port.

    pproxy takes up uvloop when it is installed and then fails at start-up, so it
    is started with uvloop hidden from it.
    """
    hide_uvloop = (
        "import runpy, sys; sys.modules['uvloop'] = None; sys.argv[0] = 'pproxy'; "
        "runpy.run_module('pproxy', run_name='__main__')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", hide_uvloop, "-l", "http+socks5://127.0.0.1:0#demo:secret", "--auth", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = re.search(r"127\.0\.0\.1:(\d+)", proc.stdout.readline())
    assert port is not None, "pproxy did not start"
    return proc, f"http://demo:secret@127.0.0.1:{port.group(1)}"


def blocking(url: str, proxy: str) -> None:
    with syncws.connect(url, proxy=proxy) as ws:
        ws.send_str("hello through a tunnel")
        print("sync  via proxy       <-", ws.receive_str(timeout=5))


async def coroutine(url: str, proxy: str) -> None:
    # Credentials may also come apart from the URL.
    bare = re.sub(r"//[^@/]*@", "//", proxy)
    async with syncws.ws_connect(url, proxy=bare, proxy_auth=syncws.BasicAuth("demo", "secret")) as ws:
        await ws.send_str("hello from a coroutine")
        print("async via proxy       <-", await ws.receive_str(timeout=5))


def from_environment(url: str, proxy: str) -> None:
    # trust_env=True (the default): HTTP_PROXY for ws://, HTTPS_PROXY for wss://, ALL_PROXY for both.
    os.environ["HTTP_PROXY"] = proxy
    try:
        with syncws.connect(url) as ws:
            ws.send_str("proxy from the environment")
            print("env   via HTTP_PROXY  <-", ws.receive_str(timeout=5))
        os.environ["NO_PROXY"] = "127.0.0.1, localhost"  # hosts, domains, CIDR blocks, host:port
        with syncws.connect(url) as ws:
            ws.send_str("straight there")
            print("env   NO_PROXY        <-", ws.receive_str(timeout=5))
    finally:
        os.environ.pop("HTTP_PROXY", None)
        os.environ.pop("NO_PROXY", None)


def refused(url: str, proxy: str) -> None:
    bare = re.sub(r"//[^@/]*@", "//", proxy)
    try:
        syncws.connect(url, proxy=bare)
    except syncws.ProxyError as exc:
        print("no credentials        ->", type(exc).__name__, exc.status)


def socks(url: str, proxy: str) -> None:
    socks_proxy = proxy.replace("http://", "socks5h://", 1)  # socks5h: the proxy resolves the name
    try:
        ws = syncws.connect(url, proxy=socks_proxy)
    except ImportError as exc:
        print("socks5h               ->", exc)
        return
    with ws:
        ws.send_str("hello over SOCKS")
        print("sync  via socks5h     <-", ws.receive_str(timeout=5))


def main() -> None:
    if len(sys.argv) > 2:
        url, proxy, proc = sys.argv[1], sys.argv[2], None
    else:
        from local_server import start_echo_server

        url = start_echo_server()
        proc, proxy = start_proxy()
    try:
        blocking(url, proxy)
        asyncio.run(coroutine(url, proxy))
        from_environment(url, proxy)
        refused(url, proxy)
        socks(url, proxy)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
