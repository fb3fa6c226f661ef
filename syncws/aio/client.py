"""Opening a connection: route, request, transport, handshake and redirects, all within
one deadline."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Callable, List, Optional, Tuple, Type

from ..protocol.deflate import make_offer
from ..protocol.errors import InvalidURL, WSServerHandshakeError
from ..protocol.handshake import HandshakeResult, build_request, new_key
from ..protocol.headers import Headers
from ..protocol.trace import trace_handshake
from ..protocol.url import WSURL
from .connection import WebSocketProtocol
from .connector import DIRECT, Route, TCPConnector, opening_stage
from .errors import OpenTimeout, RedirectError, TooManyRedirects
from .hop import Hop, describe_request, first_hop, next_hop, redirect_location
from .message_queue import MessageSink
from .options import Options
from .proxy import parse_proxy, proxy_from_env
from .timeouts import with_timeout
from .writer import MakeWriter, make_frame_writer

__all__ = ["new_protocol", "open_websocket", "request_for", "route_for"]


def route_for(url: WSURL, options: Options) -> Route:
    """How to reach ``url``: the caller's socket, a Unix socket, a proxy (given, else
    from the environment when trust_env), or straight there."""
    if options.sock is not None:
        return Route(sock=options.sock)
    if options.unix_socket is not None:
        return Route(unix_socket=str(options.unix_socket))
    proxy_url = options.proxy
    if proxy_url is None and options.trust_env:
        proxy_url = proxy_from_env(url)
        if proxy_url is None:
            return DIRECT
        try:
            proxy = parse_proxy(proxy_url)
        except InvalidURL as exc:
            raise InvalidURL(f"proxy from the environment for {url.url}: {exc}") from None
    elif proxy_url is None:
        return DIRECT
    else:
        proxy = parse_proxy(proxy_url)
    if options.proxy_auth is not None:
        proxy = dataclasses.replace(proxy, auth=options.proxy_auth)
    headers = Headers()
    if options.user_agent is not None:
        headers.add("User-Agent", options.user_agent)
    if options.proxy_headers is not None:
        headers.extend(options.proxy_headers)
    return Route(proxy=proxy, proxy_headers=headers, proxy_ssl=options.proxy_ssl)


def request_for(hop: Hop, key: str, options: Options) -> bytes:
    """The opening handshake request of one hop."""
    return build_request(
        hop.url,
        key,
        protocols=options.protocols,
        origin=options.origin,
        extensions=make_offer(options.compress, options.compress_window_bits) if options.compress else None,
        headers=hop.headers,
        authorization=hop.auth.encode() if hop.auth is not None else None,
        user_agent=options.user_agent,
    )


def new_protocol(
    loop: asyncio.AbstractEventLoop,
    options: Options,
    make_sink: Callable[[asyncio.AbstractEventLoop], MessageSink],
    key: str,
    protocol_class: Type[WebSocketProtocol] = WebSocketProtocol,
    make_writer: MakeWriter = make_frame_writer,
) -> WebSocketProtocol:
    return protocol_class(
        loop,
        make_sink(loop),
        key=key,
        protocols=options.protocols,
        compress=options.compress,
        compress_settings=options.compress_settings,
        max_msg_size=options.max_msg_size,
        autoping=options.autoping,
        autoclose=options.autoclose,
        heartbeat=options.heartbeat,
        close_timeout=options.close_deadline,
        write_limit=options.write_limit,
        make_writer=make_writer,
    )


async def open_websocket(
    target: WSURL,
    options: Options,
    make_sink: Callable[[asyncio.AbstractEventLoop], MessageSink],
    *,
    protocol_class: Type[WebSocketProtocol] = WebSocketProtocol,
    make_writer: MakeWriter = make_frame_writer,
    redirected: Optional[WSServerHandshakeError] = None,
    spent: float = 0.0,
) -> "tuple[WebSocketProtocol, HandshakeResult]":
    """Connect and complete the opening handshake, following redirects.

    The first request and route are checked before any I/O; ``protocol.url``
    is the URL finally connected to. ``redirected``: the redirect answer to a
    first attempt made elsewhere (sync/direct_open.py), ``spent`` seconds ago.
    """
    hop = first_hop(target, options)
    key = new_key()
    request = request_for(hop, key, options)
    route = route_for(hop.url, options)
    loop = asyncio.get_running_loop()
    connector = options.connector or TCPConnector()

    async def attempt() -> Tuple[WebSocketProtocol, HandshakeResult]:
        protocol = new_protocol(loop, options, make_sink, key, protocol_class, make_writer)
        protocol.url = hop.url.url  # for the messages of a connection lost from here on
        stage[:] = ["connecting"]
        transport, sock = await connector.connect(
            hop.url, lambda: protocol, ssl=options.ssl, server_hostname=hop.server_hostname, route=route
        )
        protocol.raw_socket = sock
        stage[:] = []
        current[:] = [protocol]
        try:
            trace_handshake("send", request)
            transport.write(request)
            result = await protocol.handshake
        except WSServerHandshakeError as exc:
            transport.abort()
            raise describe_request(exc, hop, request) from None
        except BaseException:
            transport.abort()
            raise
        protocol.url = hop.url.url
        protocol.request = request
        return protocol, result

    redirects = 0
    stage: List[str] = []  # the connector's step while there is no transport yet
    current: List[WebSocketProtocol] = []  # the attempt's protocol, once it has a transport

    def follow(exc: WSServerHandshakeError) -> None:
        """Move on to where a redirect answer points, or raise."""
        nonlocal hop, key, request, route, redirects
        location = redirect_location(exc)
        if location is None:
            raise exc
        if redirects >= options.max_redirects:
            raise TooManyRedirects(
                f"more than max_redirects={options.max_redirects} redirects (last from {hop.url.url})",
                status=exc.status,
                headers=exc.headers,
            ) from None
        if options.sock is not None:
            raise RedirectError(
                f"cannot follow the redirect from {hop.url.url}: sock= is a single connection",
                status=exc.status,
                headers=exc.headers,
            ) from None
        hop = next_hop(hop, exc, location)
        redirects += 1
        key = new_key()
        request = request_for(hop, key, options)
        route = route_for(hop.url, options)

    async def follow_redirects() -> Tuple[WebSocketProtocol, HandshakeResult]:
        if redirected is not None:
            follow(redirected)
        while True:
            try:
                return await attempt()
            except WSServerHandshakeError as exc:
                follow(exc)

    deadline = options.open_deadline
    token = opening_stage.set(stage)
    try:
        return await with_timeout(follow_redirects(), None if deadline is None else max(0.0, deadline - spent))
    except asyncio.TimeoutError:
        via = "" if route is DIRECT else f" via {route}"
        where = stage[0] if stage else current[0].opening_stage() if current else "connecting"
        raise OpenTimeout(f"opening {hop.url.url}{via} took longer than {deadline} s ({where})") from None
    finally:
        opening_stage.reset(token)
