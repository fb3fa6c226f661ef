"""Import syncws, turning "not written/installed yet" into ClientUnavailable.

A syncws that exists but fails to import is a real failure and is re-raised.
"""
from __future__ import annotations

from types import ModuleType

from bench.clients.base import ClientUnavailable


def import_syncws(*needed: str) -> ModuleType:
    """Return the syncws module if it has the attributes the adapter needs."""
    try:
        import syncws
    except ModuleNotFoundError as exc:
        if exc.name == "syncws":
            raise ClientUnavailable("syncws is not importable") from exc
        raise
    missing = [name for name in needed if not hasattr(syncws, name)]
    if missing:
        raise ClientUnavailable(f"syncws has no {', '.join(missing)} yet")
    return syncws


def deflate_of(ws: object) -> object:
    """Negotiated deflate if the connection tells (aiohttp-style ``compress``), else None."""
    value = getattr(ws, "compress", None)
    return bool(value) if isinstance(value, int) else None
