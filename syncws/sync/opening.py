"""Opening a plain ``ws://`` connection in the caller's thread, then one hand-off.

Connecting and the opening handshake are one blocking exchange. Done in the
calling thread on a blocking socket they cost no loop turns; request, answer
parsing and every check are the sans-I/O core's, as on the loop's path. Once
the handshake is done the socket goes to the loop (``hand_over``), which is
its only reader from then on. Anything beyond a direct TCP connection (TLS,
a proxy, a Unix or given socket, a custom connector) goes the loop's way
from the start; a redirect answer is handed to the loop's path, which
follows it from there.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Callable, List, NamedTuple, Optional, Type, Union

from ..aio.client import new_protocol, request_for, route_for
from ..aio.connection import WebSocketProtocol
from ..aio.connector import DIRECT, literal_address
from ..aio.errors import ClientConnectionError, OpenTimeout
from ..aio.hop import Hop, describe_request, first_hop, redirect_location
from ..aio.message_queue import MessageSink
from ..aio.options import Options
from ..protocol.errors import WSServerHandshakeError
from ..protocol.handshake import HandshakeResult, ResponseParser, new_key, validate_response
from ..protocol.trace import trace_handshake
from ..protocol.url import WSURL
from .blocking import SLICE, in_main_thread
from .writer import make_thread_writer

__all__ = ["Opened", "hand_over", "open_here", "opens_here"]

# Reads of the answer start under pymalloc's 512-byte limit: larger ones come from
# malloc, whose per-thread arenas grow by kilobytes per connecting thread (S5).
READ_SIZE = 448


class Opened(NamedTuple):
    sock: socket.socket  # non-blocking from here on
    result: HandshakeResult
    rest: bytes  # what came after the answer: the server's first frames
    hop: Hop
    key: str
    request: bytes  # the request head sent


def opens_here(target: WSURL, options: Options) -> bool:
    """Plain TCP straight to the server: the case this module handles."""
    return (
        not target.secure
        and options.connector is None
        and options.sock is None
        and options.unix_socket is None
        and route_for(target, options) is DIRECT
    )


def open_here(target: WSURL, options: Options) -> Union[Opened, WSServerHandshakeError]:
    """Connect and shake hands in this thread; a redirect answer is returned for the loop's
    path to follow (aio.client.open_websocket's ``redirected``).

    Raises what the loop's path raises: ClientConnectionError, OpenTimeout,
    WSServerHandshakeError.
    """
    hop = first_hop(target, options)
    key = new_key()
    request = request_for(hop, key, options)
    deadline = options.open_deadline
    ends = None if deadline is None else time.monotonic() + deadline
    url = hop.url

    def remaining() -> Optional[float]:
        if ends is None:
            return None
        left = ends - time.monotonic()
        if left <= 0:
            raise socket.timeout
        return left

    # The socket lives in a list popped as it is returned: no local name holds it then, so if
    # an interrupt lands at the return, the traceback does not keep it open (it closes at once).
    held: List[socket.socket] = []
    parser = ResponseParser()
    stage = f"connecting to {url.host}:{url.port}"
    try:
        try:
            _connect(held, url.host, url.port, remaining())
        except OSError as exc:
            if isinstance(exc, socket.timeout):
                raise
            raise ClientConnectionError(f"cannot connect to {url.host}:{url.port}: {exc}", cause=exc) from exc
        sock = held[0]
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        trace_handshake("send", request)
        stage = "sending the handshake request"
        sock.sendall(request)
        stage = ""  # from here on, the parser knows
        while True:
            response = parser.feed(_read_answer(sock, remaining, url.url, parser))
            if response is not None:
                break
        try:
            result = validate_response(
                response,
                key,
                protocols=options.protocols,
                compress=options.compress,
                compress_window_bits=options.compress_window_bits,
            )
        except WSServerHandshakeError as exc:
            describe_request(parser.refused(exc), hop, request)
            if redirect_location(exc) is None:
                raise
            return exc
        sock.setblocking(False)
        del sock
        return Opened(held.pop(), result, parser.rest, hop, key, request)
    except socket.timeout:
        raise OpenTimeout(f"opening {url.url} took longer than {deadline} s ({stage or parser.stage()})") from None
    except (ConnectionError, OSError) as exc:
        if isinstance(exc, (ClientConnectionError, WSServerHandshakeError)):
            raise
        raise ClientConnectionError(
            f"connection to {url.url} failed during the opening handshake ({stage or parser.stage()}): {exc}",
            cause=exc,
        ) from exc
    finally:
        if held:
            held[0].close()


def _connect(held: List[socket.socket], host: str, port: int, timeout: Optional[float]) -> None:
    """A TCP connection to ``host``, put in ``held`` as soon as the socket exists (the caller
    closes it if anything fails, an interrupt included): no local name holds it.

    An IP address is connected to as it is, without ``getaddrinfo()``, as on the loop's
    path: there is nothing to look up, and the stdlib would encode the host for it with
    the idna codec, whose first use imports ``unicodedata`` (about 100 KiB resident).
    A name is resolved.
    """
    literal = literal_address(host, port, socket.AF_UNSPEC)
    if not literal:
        held.append(socket.create_connection((host, port), timeout=timeout))
        return
    family, kind, proto, _, address = literal[0]
    held.append(socket.socket(family, kind, proto))
    held[0].settimeout(timeout)
    held[0].connect(address)


def _read_answer(
    sock: socket.socket, remaining: Callable[[], Optional[float]], url: str, parser: ResponseParser
) -> bytes:
    """The next bytes of the answer; in the main thread waits in slices (see aio/blocking.py)."""
    main = in_main_thread()
    while True:
        left = remaining()
        sock.settimeout(SLICE if main and (left is None or left > SLICE) else left)
        try:
            data = sock.recv(READ_SIZE)
        except socket.timeout:
            continue  # remaining() raises once the deadline has passed
        if not data:
            raise ClientConnectionError(f"connection to {url} closed during the opening handshake ({parser.stage()})")
        return data


async def hand_over(
    opened: Opened,
    options: Options,
    make_sink: Callable[[asyncio.AbstractEventLoop], MessageSink],
    protocol_class: Type[WebSocketProtocol],
) -> WebSocketProtocol:
    """Loop thread: a transport for the upgraded socket; from here on the loop reads it.

    The frames that came with the answer (``opened.rest``) are fed before the
    transport's first read, so order is kept.
    """
    loop = asyncio.get_running_loop()
    protocol = new_protocol(loop, options, make_sink, opened.key, protocol_class, make_thread_writer)
    protocol.adopt_upgraded(opened.result, opened.rest, opened.sock)
    protocol.url = opened.hop.url.url
    protocol.request = opened.request
    try:
        await loop.create_connection(lambda: protocol, sock=opened.sock)
    except BaseException:
        opened.sock.close()
        raise
    return protocol
