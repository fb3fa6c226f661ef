"""Client registry: which adapters exist, which are async, which server each talks to."""
from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass

from bench.clients.base import AsyncClient, ClientUnavailable, SyncClient

BASELINE = "websockets.sync"
ASYNC_BASELINE = "aiohttp"


@dataclass(frozen=True)
class ClientInfo:
    """Static facts about one adapter; the module is imported only in the worker."""

    name: str
    module: str
    is_async: bool
    transport: str = "ws"  # "tcp": talks to the plain TCP echo (the transport floor)
    # The zlib it compresses with: "zlib" (the stdlib's), "zlib-ng"; "" = the library's own choice.
    # A zlib-ng variant only runs the scenarios with permessage-deflate.
    zlib: str = ""


CLIENTS: list[ClientInfo] = [
    ClientInfo("syncws", "bench.clients.syncws_sync", False, zlib="zlib"),
    ClientInfo("syncws+zlib-ng", "bench.clients.syncws_sync", False, zlib="zlib-ng"),
    ClientInfo("syncws-async", "bench.clients.syncws_async", True, zlib="zlib"),
    ClientInfo("syncws-async+zlib-ng", "bench.clients.syncws_async", True, zlib="zlib-ng"),
    ClientInfo("websockets.sync", "bench.clients.websockets_sync", False),
    ClientInfo("websocket-client", "bench.clients.websocket_client", False),
    ClientInfo("aiohttp", "bench.clients.aiohttp_client", True),
    ClientInfo("aiohttp+zlib-ng", "bench.clients.aiohttp_client", True, zlib="zlib-ng"),
    ClientInfo("websockets-asyncio", "bench.clients.websockets_asyncio", True),
    ClientInfo("raw-socket", "bench.clients.raw_socket", False),
    ClientInfo("tcp-floor", "bench.clients.tcp_floor", False, transport="tcp"),
]

BY_NAME = {c.name: c for c in CLIENTS}


def load(info: ClientInfo) -> SyncClient | AsyncClient:
    """Import the adapter and build its client; raises ClientUnavailable if the library is missing."""
    if info.zlib:
        if info.zlib != "zlib" and importlib.util.find_spec(info.zlib.replace("-", "_")) is None:
            raise ClientUnavailable(f"{info.zlib} is not installed")
        os.environ["SYNCWS_ZLIB"] = info.zlib  # syncws reads it when first imported (below)
    module = importlib.import_module(info.module)
    client: SyncClient | AsyncClient = module.load()
    use_zlib = getattr(client, "use_zlib", None)
    if info.zlib and use_zlib is not None:
        use_zlib(info.zlib)
    return client


__all__ = ["ASYNC_BASELINE", "BASELINE", "BY_NAME", "CLIENTS", "ClientInfo", "ClientUnavailable", "load"]
