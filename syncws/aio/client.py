"""Opening a connection: URL, request, transport, handshake, all within one deadline."""

from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

from ..protocol.auth import BasicAuth
from ..protocol.deflate import make_offer
from ..protocol.handshake import HandshakeResult, build_request, new_key
from ..protocol.url import WSURL
from .connection import WebSocketProtocol
from .connector import TCPConnector
from .errors import OpenTimeout
from .message_queue import MessageSink
from .options import Options

__all__ = ["open_websocket"]

T = TypeVar("T")


async def open_websocket(
    target: WSURL,
    options: Options,
    make_sink: Callable[[asyncio.AbstractEventLoop], MessageSink],
) -> "tuple[WebSocketProtocol, HandshakeResult]":
    """Connect and complete the opening handshake; everything is checked before any I/O."""
    auth = options.auth
    if auth is None and target.credentials is not None:
        auth = BasicAuth(*target.credentials)
    key = new_key()
    request = build_request(
        target,
        key,
        protocols=options.protocols,
        origin=options.origin,
        extensions=make_offer(options.compress) if options.compress else None,
        headers=options.headers,
        authorization=auth.encode() if auth is not None else None,
        user_agent=options.user_agent,
    )
    loop = asyncio.get_running_loop()
    connector = options.connector or TCPConnector()
    protocol = WebSocketProtocol(
        loop,
        make_sink(loop),
        key=key,
        protocols=options.protocols,
        compress=options.compress,
        max_msg_size=options.max_msg_size,
        autoping=options.autoping,
        autoclose=options.autoclose,
        heartbeat=options.heartbeat,
        close_timeout=options.close_deadline,
    )

    async def handshake() -> HandshakeResult:
        transport, sock = await connector.connect(
            target, lambda: protocol, ssl=options.ssl, server_hostname=options.server_hostname
        )
        try:
            assert protocol.writer is not None
            protocol.writer.allow_direct(sock)
            transport.write(request)
            return await protocol.handshake
        except BaseException:
            transport.abort()
            raise

    deadline = options.open_deadline
    try:
        result = await asyncio.wait_for(handshake(), deadline)
    except asyncio.TimeoutError:
        raise OpenTimeout(f"opening handshake with {target.url} took longer than {deadline} s") from None
    return protocol, result
