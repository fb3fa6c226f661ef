"""docs/migration.md, "From aiohttp": each row of the table, run with aiohttp's client and
then with syncws's asyncio API against the same local server, comparing what a user sees.

Closing, iteration, ``closed`` / ``close_code`` / ``exception()`` in many scenarios, and
``autoclose=`` / ``autoping=`` are compared in tests/aio/test_aiohttp_parity.py; this
module does not repeat them (test_parity_module_covers_its_rows checks they are there).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import socket
import ssl
import time
import warnings
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp
import pytest

import syncws
from tests.migration.conftest import PROXY_CREDENTIALS
from tests.migration.helpers import Seen, close_payload, finished, ticking_server, until_eof
from tests.proxy import ConnectProxy as RecordingProxy
from tests.servers import RawPeer, RawServer, Script, ServerLoop, frame

pytestmark = pytest.mark.timeout(60)

RawServerFactory = Callable[[Script], RawServer]
LIBS: Dict[str, ModuleType] = {"aiohttp": aiohttp, "syncws": syncws}
TIMEOUTS = (asyncio.TimeoutError, TimeoutError)


def seen(lib: ModuleType, url: str, session: Optional[Dict[str, Any]] = None, **options: Any) -> Seen:
    """What the /info route saw of the library's request."""

    async def main() -> Seen:
        async with lib.ClientSession(**(session or {})) as s, s.ws_connect(url + "/info", **options) as ws:
            return Seen(await ws.receive_str(timeout=5))

    return asyncio.run(main())


def both(call: Callable[[ModuleType], Any]) -> Tuple[Any, Any]:
    """``call(aiohttp)``, then ``call(syncws)``."""
    return call(aiohttp), call(syncws)


def quietly(call: Callable[[], Any]) -> Any:
    """``call()`` with warnings silenced (ssl=False, aiohttp's deprecated arguments)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


# -- ClientSession ------------------------------------------------------------------------


def test_session_headers(ws_url: str) -> None:
    theirs, ours = both(lambda lib: seen(lib, ws_url, session={"headers": {"X-Client": "demo"}}).headers)
    assert theirs["x-client"] == ours["x-client"] == "demo"


def test_session_auth(ws_url: str) -> None:
    def outcome(lib: ModuleType, auth: Any) -> Any:
        try:
            return quietly(lambda: seen(lib, ws_url + "/auth", session={"auth": auth}).path)
        except lib.WSServerHandshakeError as exc:
            return exc.status

    credentials = both(lambda lib: quietly(lambda: lib.BasicAuth("user", "secret")))
    assert (outcome(aiohttp, credentials[0]), outcome(syncws, credentials[1])) == ("/auth/info", "/auth/info")
    assert both(lambda lib: outcome(lib, None)) == (401, 401)


def test_session_connector(wss_url: str) -> None:
    """A connector's defaults: here ssl=False (no verification) and IPv4 only. (aiohttp 3.14
    deprecates BasicAuth, auth= and proxy_auth=; syncws keeps them.)"""

    def path(lib: ModuleType) -> str:
        async def main() -> str:
            connector = lib.TCPConnector(ssl=False, family=socket.AF_INET)  # aiohttp's: made in a loop
            async with lib.ClientSession(connector=connector) as s, s.ws_connect(wss_url + "/info") as ws:
                return Seen(await ws.receive_str(timeout=5)).path

        return str(quietly(lambda: asyncio.run(main())))

    assert both(path) == ("/info", "/info")


@pytest.mark.parametrize(
    "variables",
    [{"WSS_PROXY": "proxy", "HTTPS_PROXY": "proxy"}, {"HTTPS_PROXY": "proxy"}, {"WSS_PROXY": "proxy"}],
    ids=["WSS_PROXY and HTTPS_PROXY", "HTTPS_PROXY only", "WSS_PROXY only"],
)
def test_session_trust_env(
    wss_url: str, client_ssl: ssl.SSLContext, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch,
    variables: Dict[str, str],
) -> None:
    """trust_env: aiohttp's default is False, syncws's True. With it, aiohttp takes the proxy
    for wss:// from WSS_PROXY (ws:// from WS_PROXY), syncws from HTTPS_PROXY (ws:// from
    HTTP_PROXY), as curl and `websockets` do."""
    for name in variables:
        monkeypatch.setenv(name, proxy.url)
    target = wss_url.split("//")[1]

    def route(lib: ModuleType, **session: Any) -> str:
        before = len(proxy.tunnels)
        seen(lib, wss_url, session=session, ssl=client_ssl)
        return "proxy" if proxy.tunnels[before:] == [target] else "direct"

    assert both(lambda lib: route(lib)) == ("direct", "proxy" if "HTTPS_PROXY" in variables else "direct")
    aiohttp_route = "proxy" if "WSS_PROXY" in variables else "direct"
    syncws_route = "proxy" if "HTTPS_PROXY" in variables else "direct"
    assert both(lambda lib: route(lib, trust_env=True)) == (aiohttp_route, syncws_route)
    assert both(lambda lib: route(lib, trust_env=False)) == ("direct", "direct")


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "WS_PROXY"])
def test_session_trust_env_for_ws_urls(
    ws_url: str, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """For ws://, with trust_env=True: aiohttp reads WS_PROXY and asks the proxy with
    ``GET ws://...`` (a CONNECT-only proxy refuses it: 405); syncws reads HTTP_PROXY and
    tunnels with CONNECT."""
    monkeypatch.setenv(variable, proxy.url)

    def route(lib: ModuleType) -> Any:
        try:
            seen(lib, ws_url, session={"trust_env": True})
        except lib.WSServerHandshakeError as exc:
            return exc.status
        return [method for method, _, _ in proxy.requests]

    theirs, ours = both(route)
    if variable == "HTTP_PROXY":
        assert (theirs, ours) == ([], ["CONNECT"])
    else:
        assert (theirs, ours) == (405, ["GET"])  # syncws went direct: the GET is aiohttp's


def test_session_makes_websocket_connections_only() -> None:
    for name in ("get", "post", "request", "cookie_jar"):
        assert hasattr(aiohttp.ClientSession, name) and not hasattr(syncws.ClientSession, name)
    assert "base_url" in inspect.signature(aiohttp.ClientSession).parameters
    assert "base_url" not in inspect.signature(syncws.ClientSession).parameters


def test_basic_auth_is_not_deprecated() -> None:
    """aiohttp 3.14 deprecates BasicAuth (and auth=, proxy_auth=); syncws keeps them."""
    version = tuple(int(part) for part in aiohttp.__version__.split(".")[:2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aiohttp.BasicAuth("user", "pw")
        theirs = any(issubclass(w.category, DeprecationWarning) for w in caught)
        caught.clear()
        syncws.BasicAuth("user", "pw")
        assert not caught
    assert theirs is (version >= (3, 14))


# -- ws_connect() options -----------------------------------------------------------------


def test_ws_connect_protocols(ws_url: str) -> None:
    def chosen(lib: ModuleType) -> Tuple[Optional[str], Optional[str]]:
        async def main() -> Tuple[Optional[str], Optional[str]]:
            async with lib.ClientSession() as s, s.ws_connect(ws_url + "/info", protocols=["chat"]) as ws:
                return Seen(await ws.receive_str(timeout=5)).subprotocol, ws.protocol

        return asyncio.run(main())

    assert both(chosen) == (("chat", "chat"), ("chat", "chat"))


def test_ws_connect_receive_timeout(ws_url: str) -> None:
    """receive() raises asyncio.TimeoutError (syncws's ReceiveTimeout is one). What aiohttp
    then does to close_code is compared in test_aiohttp_parity ("receive timeout")."""

    def raised(lib: ModuleType) -> bool:
        async def main() -> bool:
            async with lib.ClientSession() as s, s.ws_connect(ws_url + "/echo", receive_timeout=0.05) as ws:
                try:
                    await ws.receive()
                except TIMEOUTS:
                    return True
                return False

        return bool(quietly(lambda: asyncio.run(main())))

    assert both(raised) == (True, True)


def test_ws_connect_auth_origin_headers_params(ws_url: str) -> None:
    def request(lib: ModuleType) -> Tuple[str, str, str, str]:
        info = quietly(lambda: seen(
            lib, ws_url + "/auth", auth=lib.BasicAuth("user", "secret"), origin="https://app.example",
            headers={"X-Client": "demo"}, params={"a": "1", "b": "2"},
        ))
        h = info.headers
        return info.path, h["authorization"], h["origin"], h["x-client"]

    theirs, ours = both(request)
    user_secret = "Basic dXNlcjpzZWNyZXQ="
    assert theirs == ours == ("/auth/info?a=1&b=2", user_secret, "https://app.example", "demo")


def test_ws_connect_headers_as_pairs(ws_url: str) -> None:
    """Pairs work in both; syncws also takes websocket-client's "Name: value" strings."""
    theirs, ours = both(lambda lib: seen(lib, ws_url, headers=[("X-Client", "demo")]).headers["x-client"])
    assert theirs == ours == seen(syncws, ws_url, headers=["X-Client: demo"]).headers["x-client"] == "demo"


def test_header_with_a_line_break_is_refused(ws_url: str) -> None:
    bad = {"X-Client": "a\r\nX-Smuggled: yes"}
    with pytest.raises(ValueError):
        seen(aiohttp, ws_url, headers=bad)
    with pytest.raises(syncws.InvalidHeader):
        seen(syncws, ws_url, headers=bad)
    assert issubclass(syncws.InvalidHeader, ValueError)


def test_ws_connect_proxy_and_proxy_headers(wss_url: str, client_ssl: ssl.SSLContext, proxy: RecordingProxy) -> None:
    both(lambda lib: seen(lib, wss_url, ssl=client_ssl, proxy=proxy.url, proxy_headers={"X-Via": "demo"}))
    target = wss_url.split("//")[1]
    assert [(method, where, headers["x-via"]) for method, where, headers in proxy.requests] == [
        ("CONNECT", target, "demo")
    ] * 2


def test_ws_connect_proxy_for_ws_urls(ws_url: str, proxy: RecordingProxy) -> None:
    """For ws:// aiohttp asks the proxy with ``GET ws://...`` (a forward proxy's request),
    which a CONNECT-only proxy refuses; syncws tunnels with CONNECT for ws:// too."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as theirs:
        seen(aiohttp, ws_url, proxy=proxy.url)
    assert seen(syncws, ws_url, proxy=proxy.url).path == "/info"
    target = ws_url.split("//")[1]
    assert [(method, where) for method, where, _ in proxy.requests] == [("GET", f"ws://{target}/info"),
                                                                         ("CONNECT", target)]
    assert theirs.value.status == 405


def test_ws_connect_proxy_auth(wss_url: str, client_ssl: ssl.SSLContext, auth_proxy: RecordingProxy) -> None:
    both(lambda lib: quietly(lambda: seen(
        lib, wss_url, ssl=client_ssl, proxy=auth_proxy.url, proxy_auth=lib.BasicAuth("user", "pw"))))
    assert [headers.get("proxy-authorization") for _, _, headers in auth_proxy.requests] == [PROXY_CREDENTIALS] * 2


def test_ws_connect_ssl(wss_url: str, client_ssl: ssl.SSLContext) -> None:
    assert both(lambda lib: seen(lib, wss_url, ssl=client_ssl).path) == ("/info", "/info")
    assert both(lambda lib: quietly(lambda: seen(lib, wss_url, ssl=False).path)) == ("/info", "/info")

    def refused(lib: ModuleType) -> bool:
        try:
            seen(lib, wss_url)  # the test CA is not trusted by default
        except lib.ClientConnectionError as exc:
            return isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError)
        return False

    assert both(refused) == (True, True)


def test_ws_connect_server_hostname(wss_url: str, client_ssl: ssl.SSLContext) -> None:
    url = wss_url.replace("localhost", "127.0.0.1")
    assert both(lambda lib: seen(lib, url, ssl=client_ssl, server_hostname="localhost").path) == ("/info", "/info")

    def wrong(lib: ModuleType) -> str:
        with pytest.raises(lib.ClientConnectionError) as info:
            seen(lib, url, ssl=client_ssl, server_hostname="wrong.test")
        return "ClientSSLError" if isinstance(info.value, lib.ClientSSLError) else type(info.value).__name__

    assert both(wrong) == ("ClientSSLError", "ClientSSLError")


def _dead_server(seen_frames: List[Any]) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        try:
            while True:
                opcode, _, _ = await peer.read_frame()
                seen_frames.append("ping" if opcode == 9 else opcode)
        except (ConnectionError, EOFError):  # IncompleteReadError is an EOFError
            seen_frames.append("eof")

    return script


def test_ws_connect_heartbeat(raw_server: RawServerFactory, server_loop: ServerLoop) -> None:
    """No pong: receive() returns ERROR (a ServerTimeoutError), close_code 1006, and TCP is
    cut without a close frame, in both."""

    def run(lib: ModuleType) -> Tuple[Any, ...]:
        frames: List[Any] = []
        server = raw_server(_dead_server(frames))

        async def main() -> Tuple[Any, ...]:
            async with lib.ClientSession() as s, s.ws_connect(server.url, heartbeat=0.3) as ws:
                msg = await ws.receive(timeout=5)
                return msg.type.name, type(msg.data).__name__, ws.close_code, type(ws.exception()).__name__

        observed = asyncio.run(main())
        finished(server_loop, server)
        return (*observed, frames)

    theirs, ours = both(run)
    assert theirs == ours == ("ERROR", "ServerTimeoutError", 1006, "ServerTimeoutError", ["ping", "eof"])


def test_ws_connect_heartbeat_after_silence(raw_server: RawServerFactory) -> None:
    """Both send the heartbeat ping only after ``heartbeat`` seconds without a message."""
    first: List[str] = []
    url = raw_server(ticking_server(first, 0.3)).url

    def run(lib: ModuleType) -> None:
        async def main() -> None:
            async with lib.ClientSession() as s, s.ws_connect(url, heartbeat=0.3) as ws:
                async for _ in ws:
                    pass

        asyncio.run(main())

    both(run)
    assert first == ["ping after them", "ping after them"]


def test_ws_connect_compress(ws_url: str) -> None:
    """compress=15 offers permessage-deflate in both, compress=0 in neither; the defaults
    differ: aiohttp does not offer it (compress=0), syncws does (compress=15)."""

    def offered(lib: ModuleType, **options: Any) -> bool:
        return "sec-websocket-extensions" in seen(lib, ws_url, **options).headers

    assert both(lambda lib: offered(lib, compress=15)) == (True, True)
    assert both(lambda lib: offered(lib, compress=0)) == (False, False)
    assert both(lambda lib: offered(lib)) == (False, True)

    def negotiated(lib: ModuleType) -> Tuple[int, str]:
        async def main() -> Tuple[int, str]:
            async with lib.ClientSession() as s, s.ws_connect(ws_url + "/echo", compress=15) as ws:
                await ws.send_str("x" * 1000)
                return ws.compress, await ws.receive_str(timeout=5)

        return asyncio.run(main())

    theirs, ours = both(negotiated)
    assert theirs == ours and ours[1] == "x" * 1000


def test_ws_connect_max_msg_size(ws_plain_url: str) -> None:
    """A message over the limit: receive() returns ERROR and the connection closes with 1009."""

    def run(lib: ModuleType) -> Tuple[Any, ...]:
        async def main() -> Tuple[Any, ...]:
            async with lib.ClientSession() as s, s.ws_connect(ws_plain_url + "/echo", max_msg_size=100) as ws:
                await ws.send_str("x" * 101)
                msg = await ws.receive(timeout=5)
                return msg.type.name, ws.close_code

        return asyncio.run(main())

    assert both(run) == (("ERROR", 1009), ("ERROR", 1009))


def test_parity_module_covers_its_rows() -> None:
    """autoclose=, autoping=, the receive timeout, closing and iteration are compared with
    aiohttp in tests/aio/test_aiohttp_parity.py."""
    from tests.aio import test_aiohttp_parity as parity

    assert parity.OPTIONS["server closes, autoclose off"] == {"autoclose": False}
    assert parity.OPTIONS["autoping off"] == {"autoping": False}
    for scenario in ("receive timeout", "client closes", "server closes", "iteration", "tcp dropped"):
        assert scenario in parity.SCRIPTS


# -- timeouts -----------------------------------------------------------------------------


async def _never_answers_close(peer: RawPeer) -> None:
    await peer.handshake()
    await peer.read_close()
    await until_eof(peer)


def test_client_ws_timeout(ws_url: str, raw_server: RawServerFactory) -> None:
    """ClientWSTimeout(ws_receive=, ws_close=) becomes receive_timeout=, close_timeout=."""
    never = raw_server(_never_answers_close).url

    def run(lib: ModuleType, receive: Dict[str, Any], close: Dict[str, Any]) -> Tuple[Any, ...]:
        async def main() -> Tuple[Any, ...]:
            async with lib.ClientSession() as s:
                async with s.ws_connect(ws_url + "/echo", **receive) as ws:
                    try:
                        await ws.receive()
                        timed_out = False
                    except TIMEOUTS:
                        timed_out = True
                ws = await s.ws_connect(never, **close)
                started = time.monotonic()
                returned = await ws.close()
                took = time.monotonic() - started
                return timed_out, returned, ws.closed, 0.15 < took < 3

        return tuple(asyncio.run(main()))

    theirs = run(aiohttp, {"timeout": aiohttp.ClientWSTimeout(ws_receive=0.05)},
                 {"timeout": aiohttp.ClientWSTimeout(ws_close=0.2)})
    ours = run(syncws, {"receive_timeout": 0.05}, {"close_timeout": 0.2})
    assert theirs == ours == (True, True, True, True)


def test_timeout_as_a_number(silent_url: str) -> None:
    """syncws's timeout= number bounds opening and closing; aiohttp's (deprecated) number
    is ws_close only: the opening is bounded by the session's ClientTimeout."""
    with pytest.warns(DeprecationWarning, match="timeout"):
        theirs = asyncio.run(_open_within(aiohttp, silent_url, {"timeout": aiohttp.ClientTimeout(total=0.2)},
                                          timeout=5.0))
    ours = asyncio.run(_open_within(syncws, silent_url, {}, timeout=0.2))
    assert theirs == ours == "timed out"
    with pytest.raises((TypeError, ValueError)):
        syncws.ws_connect(silent_url, timeout=aiohttp.ClientWSTimeout(ws_receive=1))  # type: ignore[arg-type]


async def _open_within(lib: ModuleType, url: str, session: Dict[str, Any], **options: Any) -> str:
    async with lib.ClientSession(**session) as s:
        try:
            await s.ws_connect(url, **options)
        except TIMEOUTS:
            return "timed out"
    return "opened"


# -- TLS pins -------------------------------------------------------------------------------


def _digest(wss_url: str) -> bytes:
    host, port = wss_url.split("//")[1].split(":")
    pem = ssl.get_server_certificate((host, int(port)))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest()


def test_fingerprint_and_verify_ssl(wss_url: str) -> None:
    digest = _digest(wss_url)
    assert quietly(lambda: seen(aiohttp, wss_url, fingerprint=digest).path) == "/info"  # deprecated in aiohttp
    assert both(lambda lib: seen(lib, wss_url, ssl=lib.Fingerprint(digest)).path) == ("/info", "/info")
    assert quietly(lambda: seen(aiohttp, wss_url, verify_ssl=False).path) == "/info"  # deprecated in aiohttp
    assert quietly(lambda: seen(syncws, wss_url, ssl=False).path) == "/info"

    def mismatch(lib: ModuleType) -> str:
        with pytest.raises(lib.ServerFingerprintMismatch) as info:
            seen(lib, wss_url, ssl=lib.Fingerprint(bytes(32)))
        return type(info.value).__name__

    assert both(mismatch) == ("ServerFingerprintMismatch", "ServerFingerprintMismatch")


# -- the connection's methods -------------------------------------------------------------


def _controls_server(frames: List[Tuple[int, bytes]]) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        for _ in range(2):
            opcode, _, payload = await peer.read_frame()
            frames.append((opcode, payload))
        peer.send(frame(1, b"ok"))
        code, reason = await peer.read_close()
        frames.append((8, close_payload(code, reason)))
        peer.send(frame(8, close_payload(code, reason)))

    return script


def test_methods(ws_url: str, raw_server: RawServerFactory, server_loop: ServerLoop) -> None:
    def run(lib: ModuleType) -> Tuple[Any, ...]:
        frames: List[Tuple[int, bytes]] = []
        server = raw_server(_controls_server(frames))

        async def main() -> Tuple[Any, ...]:
            async with lib.ClientSession() as s:
                async with s.ws_connect(ws_url + "/echo", protocols=["chat"]) as ws:
                    await ws.send_str("text")
                    await ws.send_bytes(b"\x00")
                    await ws.send_json({"a": 1})
                    data = [await ws.receive_str(), await ws.receive_bytes(), await ws.receive_json()]
                    peer = ws.get_extra_info("peername")
                    state = [ws.protocol, ws.closed, ws.close_code, ws.exception()]
                    returned = [await ws.close(code=4000, message=b"bye"), await ws.close()]
                    state += [ws.closed, ws.close_code, ws.exception()]
                ws = await s.ws_connect(server.url)
                await ws.ping(b"p")
                await ws.pong(b"q")
                data.append(await ws.receive_str(timeout=5))
                await ws.close()
                return data, peer, state, returned

        observed = asyncio.run(main())
        finished(server_loop, server)
        return (*observed, frames)

    theirs, ours = both(run)
    assert theirs == ours
    data, peer, state, returned, frames = ours
    assert data == ["text", b"\x00", {"a": 1}, "ok"] and peer == ("127.0.0.1", int(ws_url.rsplit(":", 1)[1]))
    assert state == ["chat", False, None, None, True, 4000, None] and returned == [True, False]
    assert frames == [(9, b"p"), (10, b"q"), (8, close_payload(1000))]


def test_ping_round_trip(ws_url: str) -> None:
    """``await ws.ping()`` returns once the ping is written: None with aiohttp; with syncws a
    future of the pong's round trip in seconds."""

    def run(lib: ModuleType) -> Any:
        async def main() -> Any:
            async with lib.ClientSession() as s, s.ws_connect(ws_url + "/echo") as ws:
                written = await ws.ping(b"p")
                return written if written is None else await asyncio.wait_for(written, 5)

        return asyncio.run(main())

    theirs, ours = both(run)
    assert theirs is None and isinstance(ours, float) and 0 <= ours < 5


def test_sends_without_await(ws_url: str) -> None:
    """An un-awaited send_str() (old aiohttp style) sends nothing with aiohttp (a coroutine
    never run) and sends with syncws: its send_* write when called."""

    def run(lib: ModuleType) -> List[str]:
        async def main() -> List[str]:
            async with lib.ClientSession() as s, s.ws_connect(ws_url + "/echo") as ws:
                pending = ws.send_str("not awaited")
                await ws.send_str("awaited")
                got = [await ws.receive_str(timeout=5)]
                try:
                    got.append(await ws.receive_str(timeout=0.2))
                except TIMEOUTS:
                    pass
                pending.close()  # aiohttp's would warn "never awaited"; syncws's is done already
                return got

        return list(asyncio.run(main()))

    assert both(run) == (["awaited"], ["not awaited", "awaited"])


def test_send_errors_come_at_the_call(ws_url: str) -> None:
    """aiohttp raises a send's errors at the await; syncws at the call."""

    def run(lib: ModuleType) -> List[Tuple[str, str]]:
        async def main() -> List[Tuple[str, str]]:
            where: List[Tuple[str, str]] = []
            async with lib.ClientSession() as s, s.ws_connect(ws_url + "/echo") as ws:
                for data, closed in ((b"bytes, not str", False), ("after close", True)):
                    if closed:
                        await ws.close()
                    try:
                        pending = ws.send_str(data)
                    except Exception as exc:
                        where.append(("call", type(exc).__name__))
                        continue
                    try:
                        await pending
                        where.append(("sent", ""))
                    except Exception as exc:
                        where.append(("await", type(exc).__name__))
            return where

        return list(asyncio.run(main()))

    theirs, ours = both(run)
    assert theirs == [("await", "TypeError"), ("await", "ClientConnectionResetError")]
    assert ours == [("call", "TypeError"), ("call", "ConnectionClosed")]


def test_per_message_compress(ws_url: str) -> None:
    """compress=0 on one message: uncompressed, in both. A window size per message (aiohttp)
    is refused by syncws with ValueError."""

    def run(lib: ModuleType) -> List[Any]:
        async def main() -> List[Any]:
            async with lib.ClientSession() as s, s.ws_connect(ws_url + "/echo", compress=15) as ws:
                out: List[Any] = []
                for compress in (0, 9):
                    try:
                        await ws.send_str("x" * 100, compress=compress)
                        out.append(len(await ws.receive_str(timeout=5)))
                    except ValueError:
                        out.append("ValueError")
                return out

        return list(asyncio.run(main()))

    assert both(run) == ([100, 100], [100, "ValueError"])


async def _drops(peer: RawPeer) -> None:
    await peer.handshake()
    peer.send(frame(1, b"last words"))
    await peer.writer.drain()
    peer.writer.transport.abort()


def test_exception_after_a_tcp_drop(raw_server: RawServerFactory) -> None:
    """What exception() says once the server dropped TCP without a close frame."""
    url = raw_server(_drops).url

    def run(lib: ModuleType) -> Tuple[Any, ...]:
        async def main() -> Tuple[Any, ...]:
            async with lib.ClientSession() as s, s.ws_connect(url) as ws:
                kinds = [(await ws.receive(timeout=5)).type.name for _ in range(2)]
                return kinds, ws.close_code, ws.exception()

        return tuple(asyncio.run(main()))

    (theirs_kinds, theirs_code, theirs_exc), (ours_kinds, ours_code, ours_exc) = both(run)
    assert theirs_kinds == ours_kinds == ["TEXT", "CLOSED"] and theirs_code == ours_code == 1006
    assert isinstance(theirs_exc, aiohttp.ClientConnectionError)  # ClientConnectionResetError
    assert isinstance(ours_exc, syncws.ConnectionClosedError) and ours_exc.code == 1006


# -- names --------------------------------------------------------------------------------


def test_same_names() -> None:
    assert {m.name: m.value for m in aiohttp.WSMsgType}.items() <= {m.name: m.value for m in syncws.WSMsgType}.items()
    codes = {m.name: m.value for m in syncws.WSCloseCode}
    assert {m.name: m.value for m in aiohttp.WSCloseCode}.items() <= codes.items()
    assert set(codes) - {m.name for m in aiohttp.WSCloseCode} == {"NO_STATUS_RECEIVED", "TLS_HANDSHAKE"}
    assert aiohttp.WSMessage._fields == syncws.WSMessage._fields == ("type", "data", "extra")
    for name in ("WSServerHandshakeError", "ClientConnectionError", "ServerTimeoutError", "ClientSSLError",
                 "ServerFingerprintMismatch"):
        assert issubclass(getattr(aiohttp, name), aiohttp.ClientError)
        assert issubclass(getattr(syncws, name), syncws.ClientError)


def test_client_connection_error(unused_port: int) -> None:
    def refused(lib: ModuleType) -> bool:
        with pytest.raises(lib.ClientConnectionError) as info:
            seen(lib, f"ws://127.0.0.1:{unused_port}")
        return isinstance(info.value, OSError)

    assert both(refused) == (True, True)


def test_ws_server_handshake_error(ws_url: str) -> None:
    def refused(lib: ModuleType) -> Tuple[Any, ...]:
        with pytest.raises(lib.WSServerHandshakeError) as info:
            seen(lib, ws_url + "/status/403")
        exc = info.value
        req = exc.request_info
        return exc.status, exc.headers["content-type"], req.method, str(req.url), str(req.real_url), exc.history

    theirs, ours = both(refused)
    url = ws_url + "/status/403/info"
    assert theirs == ours == (403, "text/plain; charset=utf-8", "GET", url, url, ())


def test_old_aiohttp_names() -> None:
    """aiohttp 1.x's msg.tp and MsgType.text (the old code itself cannot run here: aiohttp 1
    is not installed)."""
    assert not hasattr(aiohttp, "MsgType")
    assert syncws.MsgType is syncws.WSMsgType and syncws.WSMsgType.text is syncws.WSMsgType.TEXT
    assert syncws.MsgType.closed is syncws.WSMsgType.CLOSED and syncws.MsgType.error is syncws.WSMsgType.ERROR
    msg = syncws.WSMessage(syncws.WSMsgType.TEXT, "x", "")
    assert msg.tp is msg.type
