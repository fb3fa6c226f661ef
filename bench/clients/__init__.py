"""Client registry: which adapters exist, which are async, which server each talks to."""
from __future__ import annotations

import importlib
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


CLIENTS: list[ClientInfo] = [
    ClientInfo("syncws", "bench.clients.syncws_sync", False),
    ClientInfo("syncws-async", "bench.clients.syncws_async", True),
    ClientInfo("websockets.sync", "bench.clients.websockets_sync", False),
    ClientInfo("websocket-client", "bench.clients.websocket_client", False),
    ClientInfo("aiohttp", "bench.clients.aiohttp_client", True),
    ClientInfo("websockets-asyncio", "bench.clients.websockets_asyncio", True),
    ClientInfo("raw-socket", "bench.clients.raw_socket", False),
    ClientInfo("tcp-floor", "bench.clients.tcp_floor", False, transport="tcp"),
]

BY_NAME = {c.name: c for c in CLIENTS}


def load(info: ClientInfo) -> SyncClient | AsyncClient:
    """Import the adapter and build its client; raises ClientUnavailable if the library is missing."""
    module = importlib.import_module(info.module)
    client: SyncClient | AsyncClient = module.load()
    return client


__all__ = ["ASYNC_BASELINE", "BASELINE", "BY_NAME", "CLIENTS", "ClientInfo", "ClientUnavailable", "load"]
