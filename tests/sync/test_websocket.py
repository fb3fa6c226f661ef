"""SyncWebSocket against real servers: the blocking face of every feature."""

from __future__ import annotations

import asyncio
import gc
import ssl
import threading
from typing import Any, List

import pytest

import syncws
from syncws.sync.loop_thread import get_loop_thread
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(30)

SIZES = [0, 125, 126, 65535, 65536, 2**20]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("server", ["ws_url", "aiohttp_url"])
def test_echo_sizes(request: pytest.FixtureRequest, server: str, size: int) -> None:
    url = request.getfixturevalue(server)
    with syncws.connect(url + "/echo") as ws:
        text = "€" * (size // 3) + "a" * (size % 3)
        ws.send_str(text)
        assert ws.receive_str() == text
        data = bytes(range(256)) * (size // 256) + b"y" * (size % 256)
        ws.send_bytes(data)
        assert ws.receive_bytes() == data
    assert ws.closed and ws.close_code == 1000


def test_api_surface(ws_url: str) -> None:
    with syncws.connect(ws_url, protocols=("chat",)) as ws:
        assert ws.protocol == "chat" and not ws.closed and ws.exception() is None
        ws.send_json({"k": "v"})
        assert ws.receive_json() == {"k": "v"}
        ws.send_bytes(memoryview(b"view"))
        msg = ws.receive()
        assert (msg.type, msg.data, msg.tp) == (syncws.WSMsgType.BINARY, b"view", syncws.MsgType.binary)
        ws.ping(b"p")
        ws.pong(b"unsolicited")  # allowed by RFC 6455 §5.5.3
        with pytest.raises(TypeError):
            ws.send_str(b"no")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ws.send_bytes("no")  # type: ignore[arg-type]
        with pytest.raises(syncws.ReceiveTimeout):
            ws.receive(timeout=0.05)
        ws.send_str("after timeout")
        assert ws.receive(timeout=5).data == "after timeout"
        assert ws.close(code=4000, message="done") is True
        assert ws.close() is False
    assert ws.close_code == 4000
    assert ws.receive().type is syncws.WSMsgType.CLOSED
    with pytest.raises(syncws.ConnectionClosed):
        ws.send_str("closed")


def test_seed_example_loop_sync(ws_url: str) -> None:
    """The seed example's loop in blocking form."""
    seen = []
    with syncws.connect(ws_url + "/echo") as ws:
        ws.send_str("hello")
        for msg in ws:
            if msg.type == syncws.WSMsgType.TEXT:
                seen.append(msg.data)
                if msg.data == "close cmd":
                    ws.close()
                    break
                if msg.data.endswith("/answer/answer"):
                    ws.send_str("close cmd")
                else:
                    ws.send_str(msg.data + "/answer")
            elif msg.type == syncws.WSMsgType.ERROR:
                break
    assert seen == ["hello", "hello/answer", "hello/answer/answer", "close cmd"]


def test_iteration_ends_on_server_close(aiohttp_url: str) -> None:
    with syncws.connect(aiohttp_url + "/close/4003") as ws:
        assert list(ws) == []
        assert ws.close_code == 4003


def test_tls_and_auth(wss_url: str, client_ssl: ssl.SSLContext, ws_url: str) -> None:
    with syncws.connect(wss_url, ssl=client_ssl) as ws:
        ws.send_str("secure")
        assert ws.receive_str() == "secure"
    with pytest.raises(syncws.ClientSSLError):
        syncws.connect(wss_url)
    with syncws.connect(ws_url.replace("ws://", "ws://user:secret@") + "/auth"):
        pass
    with pytest.raises(syncws.WSServerHandshakeError) as err:
        syncws.connect(ws_url + "/status/403")
    assert err.value.status == 403


def test_bad_url_before_io() -> None:
    with pytest.raises(syncws.InvalidURL):
        syncws.connect("mailto:someone")


def test_one_shared_daemon_loop_thread(ws_url: str) -> None:
    with syncws.connect(ws_url) as a, syncws.connect(ws_url) as b:
        a.send_str("a")
        b.send_str("b")
        assert (a.receive_str(), b.receive_str()) == ("a", "b")
    loops = [t for t in threading.enumerate() if t.name == "syncws-loop"]
    assert len(loops) == 1 and loops[0].daemon


def test_concurrent_senders_never_interleave(ws_url: str) -> None:
    threads, per_thread = 8, 200
    with syncws.connect(ws_url, max_msg_size=0) as ws:
        def sender(n: int) -> None:
            for i in range(per_thread):
                ws.send_str(f"{n}:{i}:" + "x" * (i * 37 % 3000))

        workers = [threading.Thread(target=sender, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        got: List[str] = [ws.receive_str(timeout=10) for _ in range(threads * per_thread)]
        for w in workers:
            w.join()
    by_thread: dict[int, list[int]] = {}
    for text in got:
        n, i, pad = text.split(":")
        assert pad == "x" * (int(i) * 37 % 3000)
        by_thread.setdefault(int(n), []).append(int(i))
    assert all(seq == list(range(per_thread)) for seq in by_thread.values())
    assert len(by_thread) == threads


def test_two_receivers_refused(ws_url: str) -> None:
    with syncws.connect(ws_url) as ws:
        errors: List[BaseException] = []
        results: List[Any] = []
        first = threading.Thread(target=lambda: results.append(ws.receive(timeout=10)))
        first.start()
        _wait_until(lambda: ws._queue.receiving)
        with pytest.raises(RuntimeError, match="already receiving"):
            ws.receive()
        ws.send_str("one")
        first.join()
        assert results[0].data == "one" and not errors


def _wait_until(predicate: Any) -> None:
    """Wait for another thread to reach a state (event-driven enough for a test: yields the GIL)."""
    done = threading.Event()
    for _ in range(100000):
        if predicate():
            return
        done.wait(0.0005)  # sleep-ok: polling another thread's state with a bound
    raise AssertionError("state not reached")


def test_blocking_call_from_loop_thread_is_refused(ws_url: str) -> None:
    with syncws.connect(ws_url) as ws:
        outcome: List[BaseException] = []
        finished = threading.Event()

        def on_loop() -> None:
            try:
                ws.receive(timeout=1)
            except BaseException as exc:
                outcome.append(exc)
            finished.set()

        get_loop_thread().loop.call_soon_threadsafe(on_loop)
        assert finished.wait(10)
        assert isinstance(outcome[0], RuntimeError) and "deadlock" in str(outcome[0])


def test_works_inside_running_event_loop(ws_url: str) -> None:
    async def notebook_cell() -> str:
        with syncws.connect(ws_url) as ws:
            ws.send_str("from a coroutine")
            return ws.receive_str()

    assert asyncio.run(notebook_cell()) == "from a coroutine"


def test_unclosed_connection_warns_and_closes(raw_server: Any) -> None:
    closed = threading.Event()
    codes: List[int] = []

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        code, _ = await peer.read_close()
        codes.append(code)
        peer.send(frame(0x8, code.to_bytes(2, "big")))
        closed.set()

    server = raw_server(script)
    ws = syncws.connect(server.url)
    with pytest.warns(ResourceWarning, match="unclosed"):
        del ws
        gc.collect()
    assert closed.wait(10)
    assert codes == [1001]


def test_keyboard_interrupt_in_receive_loses_nothing(raw_server: Any) -> None:
    import signal

    release = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 10)
        peer.send(frame(0x1, b"after the interrupt"))
        await peer.read_close()
        peer.send(frame(0x8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url) as ws:
        main = threading.main_thread().ident
        assert main == threading.get_ident()

        def interrupt() -> None:
            _wait_until(lambda: ws._queue.receiving)
            signal.pthread_kill(main, signal.SIGINT)  # type: ignore[arg-type]

        t = threading.Thread(target=interrupt)
        t.start()
        with pytest.raises(KeyboardInterrupt):
            ws.receive(timeout=10)
        t.join()
        release.set()
        assert ws.receive(timeout=10).data == "after the interrupt"
        assert not ws.closed


def test_server_drop_gives_1006(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()

    server = raw_server(script)
    with syncws.connect(server.url) as ws:
        msg = ws.receive(timeout=10)
        assert msg.type is syncws.WSMsgType.ERROR
        assert isinstance(ws.exception(), syncws.ConnectionClosedError)
        assert ws.close_code == 1006
        assert ws.receive().type is syncws.WSMsgType.CLOSED


def test_close_wakes_blocked_receiver(ws_url: str) -> None:
    with syncws.connect(ws_url) as ws:
        results: List[Any] = []
        t = threading.Thread(target=lambda: results.append(ws.receive(timeout=20)))
        t.start()
        _wait_until(lambda: ws._queue.receiving)
        ws.close()
        t.join(10)
        assert results and results[0].type is syncws.WSMsgType.CLOSED
