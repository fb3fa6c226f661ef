"""Drop-in for aiohttp: the same scripted servers, aiohttp's client and ``syncws.ws_connect``
side by side, comparing what a user observes: message types and data, ``closed``,
``close_code``, ``exception()``, and where iteration ends.

Every difference kept on purpose is named in ``KEPT`` with its reason, and listed
in docs/migration.md; anything else that differs fails.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, Tuple

import aiohttp
import pytest

import syncws
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(60)

Observed = List[Tuple[str, Any]]


def _close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


# -- the servers: one script per scenario -----------------------------------------------------
async def _until_closed(peer: RawPeer) -> None:
    """Until the client closes TCP: aiohttp ends with a reset where syncws waits for us."""
    try:
        await peer.at_eof()
    except ConnectionResetError:
        pass


async def echo_then_close(peer: RawPeer) -> None:
    await peer.handshake()
    opcode, _, payload = await peer.read_frame()
    peer.send(frame(opcode, payload))
    while (await peer.read_frame())[0] != 8:
        pass
    peer.send(frame(8, _close_payload(1000)))
    await _until_closed(peer)


async def server_closes(peer: RawPeer) -> None:
    await peer.handshake()
    peer.send(frame(1, b"one") + frame(1, b"two") + frame(8, _close_payload(4000, b"bye")))
    await peer.read_close()
    peer.writer.close()


async def pings_then_closes(peer: RawPeer) -> None:
    await peer.handshake()
    peer.send(frame(9, b"are you there"))
    opcode, _, payload = await peer.read_frame()  # the application's own pong
    peer.send(frame(1, f"got {opcode} {payload.decode()}".encode()))
    peer.send(frame(8, _close_payload(1000)))
    await peer.read_close()
    peer.writer.close()


async def drops_tcp(peer: RawPeer) -> None:
    await peer.handshake()
    peer.send(frame(1, b"last words"))
    await peer.writer.drain()
    peer.writer.transport.abort()


async def breaks_protocol(peer: RawPeer) -> None:
    await peer.handshake()
    peer.send(frame(1, b"fine") + frame(1, b"bad", rsv=2))
    await peer.read_close()
    peer.writer.close()


async def silent(peer: RawPeer) -> None:
    await peer.handshake()
    await peer.read_close()
    peer.send(frame(8, _close_payload(1000)))
    await _until_closed(peer)


SCRIPTS = {
    "client closes": echo_then_close,
    "server closes": server_closes,
    "server closes, autoclose off": server_closes,
    "autoping off": pings_then_closes,
    "tcp dropped": drops_tcp,
    "protocol error": breaks_protocol,
    "receive timeout": silent,
    "close during receive": silent,
    "iteration": server_closes,
}


# -- what a user does and sees, the same code for both clients -------------------------------
def _msg(msg: Any) -> Tuple[str, Any]:
    data = msg.data
    if msg.type.name == "ERROR":
        data = "exception"  # the exception classes are each library's own
    return msg.type.name, data


def _state(ws: Any) -> Tuple[str, Any]:
    exc = ws.exception()
    return "state", (ws.closed, ws.close_code, None if exc is None else "exception")


async def scenario(name: str, ws: Any) -> Observed:
    seen: Observed = []
    if name == "client closes":
        await ws.send_str("hi")
        seen.append(_msg(await ws.receive()))
        seen.append(("close()", await ws.close()))
        seen.append(_state(ws))
        seen.append(_msg(await ws.receive()))
    elif name in ("server closes", "server closes, autoclose off", "tcp dropped", "protocol error"):
        for _ in range(4):
            msg = await ws.receive()
            seen.append(_msg(msg))
            seen.append(_state(ws))
        seen.append(("close()", await ws.close()))
        seen.append(_state(ws))
    elif name == "autoping off":
        msg = await ws.receive()
        seen.append(_msg(msg))
        await ws.pong(msg.data)
        for _ in range(3):
            seen.append(_msg(await ws.receive()))
        seen.append(_state(ws))
    elif name == "receive timeout":
        try:
            await ws.receive(timeout=0.05)
        except asyncio.TimeoutError:
            seen.append(("raised", "asyncio.TimeoutError"))
        seen.append(("still open", not ws.closed))
        seen.append(("close()", await ws.close()))
        seen.append(_state(ws))
    elif name == "close during receive":
        receiving = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0)  # sleep-ok: one turn, so the receive is waiting
        seen.append(("close()", await ws.close()))
        seen.append(("receiver got", _msg(await receiving)))
        seen.append(_state(ws))
        seen.append(_msg(await ws.receive()))
    elif name == "iteration":
        async for msg in ws:
            seen.append(_msg(msg))
        seen.append(("loop ended", True))
        seen.append(_state(ws))
    return seen


OPTIONS: Dict[str, Dict[str, Any]] = {
    "server closes, autoclose off": {"autoclose": False},
    "autoping off": {"autoping": False},
}

# Differences kept on purpose: (scenario, index in the observations) -> (aiohttp, syncws, why).
KEPT: Dict[Tuple[str, int], Tuple[Any, Any, str]] = {
    ("receive timeout", 3): (
        ("state", (True, 1006, None)),
        ("state", (True, 1000, None)),
        "aiohttp sets close_code 1006 when a receive() times out, though the connection stays open, "
        "and keeps it through the close that follows; syncws leaves a timed-out receive() without "
        "effect on the connection, and reports the code the closing handshake ended with",
    ),
}


async def _with_aiohttp(name: str, url: str) -> Observed:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url, **OPTIONS.get(name, {}))
        try:
            return await scenario(name, ws)
        finally:
            await ws.close()


async def _with_syncws(name: str, url: str) -> Observed:
    ws = await syncws.ws_connect(url, **OPTIONS.get(name, {}))
    try:
        return await scenario(name, ws)
    finally:
        await ws.close()


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_same_as_aiohttp(raw_server: Callable[..., Any], name: str) -> None:
    server = raw_server(SCRIPTS[name])
    theirs = asyncio.run(_with_aiohttp(name, server.url))
    ours = asyncio.run(_with_syncws(name, server.url))
    assert len(theirs) == len(ours), (theirs, ours)
    for i, (a, b) in enumerate(zip(theirs, ours)):
        kept = KEPT.get((name, i))
        if kept is not None:
            assert (a, b) == kept[:2], f"a kept difference changed at {i}: {a!r} vs {b!r}"
        else:
            assert a == b, f"{name}, observation {i}: aiohttp {a!r}, syncws {b!r}\n{theirs}\n{ours}"


def test_sends_are_coroutines_as_in_aiohttp(ws_url: str) -> None:
    """``create_task``, ``ensure_future``, ``gather`` and ``wait_for`` take what send_* return."""

    async def main() -> List[str]:
        async with syncws.ws_connect(ws_url) as ws:
            await asyncio.create_task(ws.send_str("task"))
            await asyncio.ensure_future(ws.send_bytes(b"future"))
            await asyncio.gather(ws.send_json({"a": 1}), ws.ping(b"p"))
            await asyncio.wait_for(ws.send_str("wait_for"), 5)
            ws.send_str("not awaited")  # old aiohttp style: sent all the same
            return [str((await ws.receive(timeout=5)).data) for _ in range(5)]

    assert asyncio.run(main()) == ["task", "b'future'", '{"a": 1}', "wait_for", "not awaited"]


def test_per_message_compress(ws_url: str) -> None:
    """compress=0 sends one message uncompressed (RSV1 clear); the context stays in step."""

    async def main() -> None:
        async with syncws.ws_connect(ws_url, compress=15) as ws:
            assert ws.compress
            for i in range(3):
                await ws.send_str("x" * 500, compress=0)
                await ws.send_str("y" * 500)
                assert [await ws.receive_str(timeout=5) for _ in range(2)] == ["x" * 500, "y" * 500], i
            with pytest.raises(ValueError, match="compress"):
                await ws.send_str("z", compress=9)

    asyncio.run(main())


