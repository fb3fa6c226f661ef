"""One face for both APIs, so each connectivity test runs through ``syncws.connect``
and through ``syncws.ws_connect``.

The async side drives a private event loop with ``run_until_complete`` for every
call, so the async API runs exactly as in a coroutine: timers, heartbeats and
closing handshakes happen while a call is in progress.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Coroutine, Dict, List, Optional, TypeVar

import syncws

T = TypeVar("T")


class Conn:
    """An open connection of either API, with blocking methods."""

    def __init__(self, api: "Api", ws: Any) -> None:
        self.api = api
        self.ws = ws

    def _do(self, result: Any) -> Any:
        return self.api.run(result) if self.api.is_async else result

    def send_str(self, text: str) -> None:
        self._do(self.ws.send_str(text))

    def receive(self, timeout: Optional[float] = None) -> syncws.WSMessage:
        return self._do(self.ws.receive(timeout))  # type: ignore[no-any-return]

    def receive_str(self, timeout: Optional[float] = 5) -> str:
        msg = self.receive(timeout)
        assert msg.type is syncws.WSMsgType.TEXT, msg
        return str(msg.data)

    def close(self, code: int = 1000) -> bool:
        return bool(self._do(self.ws.close(code=code)))

    @property
    def closed(self) -> bool:
        return bool(self.ws.closed)

    @property
    def close_code(self) -> Optional[int]:
        return self.ws.close_code  # type: ignore[no-any-return]

    def exception(self) -> Optional[BaseException]:
        return self.ws.exception()  # type: ignore[no-any-return]

    @property
    def url(self) -> str:
        return self.ws.url  # type: ignore[no-any-return]

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Api:
    def __init__(self, name: str) -> None:
        self.name = name
        self.is_async = name == "async"
        self.loop = asyncio.new_event_loop() if self.is_async else None
        self.opened: List[Conn] = []

    def run(self, coro: "Coroutine[Any, Any, T] | Any") -> T:
        assert self.loop is not None
        return self.loop.run_until_complete(coro)  # type: ignore[no-any-return]

    def connect(self, url: str, **options: Any) -> Conn:
        ws = self.run(_await(syncws.ws_connect(url, **options))) if self.is_async else syncws.connect(url, **options)
        conn = Conn(self, ws)
        self.opened.append(conn)
        return conn

    def info(self, url: str, **options: Any) -> Dict[str, Any]:
        """Connect to an /info route; its JSON, plus ``header(name)`` lookups."""
        with self.connect(url, **options) as conn:
            info: Dict[str, Any] = json.loads(conn.receive_str())
        return info

    def echo(self, url: str, text: str = "hello", **options: Any) -> str:
        with self.connect(url, **options) as conn:
            conn.send_str(text)
            return conn.receive_str()

    def finish(self) -> None:
        for conn in self.opened:
            if not conn.closed:
                try:
                    conn.close()
                except Exception:
                    pass
        if self.loop is not None:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


async def _await(awaitable: Any) -> Any:
    return await awaitable


def header(info: Dict[str, Any], name: str) -> List[str]:
    """Every value of ``name`` the server received, in order."""
    return [v for k, v in info["headers"] if k.lower() == name.lower()]
