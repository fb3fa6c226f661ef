"""Autobahn groups 2 (ping/pong), 3 (reserved bits), 4 (opcodes) and 5 (fragmentation).

Each case is a list of server frames and what an echoing client must do
with them: which messages it echoes, which pongs it sends, and whether it
then fails the connection with a close code. Every case is sent three ways:
in one write, in 1-byte TCP writes ("chopped"), and frame by frame, through
both APIs. The script reads the client's frames in order, so "the pong is
not received" and "fails with 1002 right after the echo" are checked
exactly: any extra frame before the close fails the script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

import pytest

import syncws
from syncws import WSMsgType
from tests.apis import Client
from tests.conformance.helpers import close_frame, expect_close, read_close, read_messages
from tests.servers import RawPeer, RawServer, frame

pytestmark = pytest.mark.timeout(30)

Serve = Callable[..., RawServer]
HELLO = b"Hello, world!"
FRAGMENTS = [b"fragment1", b"fragment2", b"fragment3", b"fragment4", b"fragment5"]


@dataclass
class Case:
    frames: List[bytes]
    echoes: List[Tuple[int, bytes]] = field(default_factory=list)
    pongs: List[bytes] = field(default_factory=list)
    fail: Optional[int] = None  # the client's close code; None: the server closes cleanly


def _ping_case(payload: bytes) -> Case:
    return Case([frame(9, payload)], pongs=[payload])


CASES = {
    # -- 2: pings and pongs ------------------------------------------------------
    "2.1 ping, no payload": _ping_case(b""),
    "2.2 ping, small text payload": _ping_case(HELLO),
    "2.3 ping, small binary payload": _ping_case(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"),
    "2.4 ping, 125-byte payload": _ping_case(b"\xfe" * 125),
    "2.5 ping, 126-byte payload": Case([frame(9, b"\xfe" * 126)], fail=1002),
    "2.7 unsolicited pong, no payload": Case([frame(10)]),
    "2.8 unsolicited pong with payload": Case([frame(10, b"unsolicited pong payload")]),
    "2.9 unsolicited pong, then ping": Case(
        [frame(10, b"unsolicited pong payload"), frame(9, b"ping payload")], pongs=[b"ping payload"]
    ),
    "2.10 ten pings": Case(
        [frame(9, b"payload-%d" % i) for i in range(10)], pongs=[b"payload-%d" % i for i in range(10)]
    ),
    # -- 3: reserved bits, no extension negotiated --------------------------------
    "3.1 text with RSV1": Case([frame(1, HELLO, rsv=4)], fail=1002),
    "3.2 text, text with RSV2, ping": Case(
        [frame(1, HELLO), frame(1, HELLO, rsv=2), frame(9)], echoes=[(1, HELLO)], fail=1002
    ),
    "3.3 text, text with RSV2+3, ping": Case(
        [frame(1, HELLO), frame(1, HELLO, rsv=3), frame(9)], echoes=[(1, HELLO)], fail=1002
    ),
    "3.4 text, text with RSV1, ping": Case(
        [frame(1, HELLO), frame(1, HELLO, rsv=4), frame(9)], echoes=[(1, HELLO)], fail=1002
    ),
    "3.5 binary with RSV1+3": Case([frame(2, bytes(range(256)), rsv=5)], fail=1002),
    "3.6 ping with RSV1+2": Case([frame(9, HELLO, rsv=6)], fail=1002),
    "3.7 close with all RSV": Case([frame(8, b"\x03\xe8", rsv=7)], fail=1002),
    # -- 4: reserved opcodes -------------------------------------------------------
    **{
        f"4.{group}.{i} {kind}opcode {op}": Case(
            ([frame(1, HELLO)] if i >= 3 else [])
            + [frame(op, b"reserved opcode payload" if i in (2, 4, 5) else b"")]
            + ([frame(9)] if i >= 3 else []),
            echoes=[(1, HELLO)] if i >= 3 else [],
            fail=1002,
        )
        for group, base, kind in ((1, 3, "non-control "), (2, 11, "control "))
        for i, op in enumerate(range(base, base + 5), 1)
    },
    # -- 5: fragmentation ------------------------------------------------------------
    "5.1 ping in 2 fragments": Case([frame(9, b"frag1", fin=False), frame(0, b"frag2")], fail=1002),
    "5.2 pong in 2 fragments": Case([frame(10, b"frag1", fin=False), frame(0, b"frag2")], fail=1002),
    "5.3 text in 2 fragments": Case(
        [frame(1, b"fragment1", fin=False), frame(0, b"fragment2")], echoes=[(1, b"fragment1fragment2")]
    ),
    "5.6 text in 2 fragments, ping between": Case(
        [frame(1, b"fragment1", fin=False), frame(9, b"pongme!"), frame(0, b"fragment2")],
        echoes=[(1, b"fragment1fragment2")],
        pongs=[b"pongme!"],
    ),
    "5.9 continuation (FIN) with nothing to continue, then text": Case(
        [frame(0, b"non-continuation payload"), frame(1, HELLO)], fail=1002
    ),
    "5.12 continuation (no FIN) with nothing to continue, then text": Case(
        [frame(0, b"non-continuation payload", fin=False), frame(1, HELLO)], fail=1002
    ),
    "5.15 text in 2 fragments, then stray continuation, then text": Case(
        [
            frame(1, b"fragment1", fin=False),
            frame(0, b"fragment2"),
            frame(0, b"fragment3", fin=False),
            frame(1, b"fragment4"),
        ],
        echoes=[(1, b"fragment1fragment2")],
        fail=1002,
    ),
    "5.16 stray continuation (no FIN), then fragmented text, twice": Case(
        [frame(0, b"fragment1", fin=False), frame(1, b"fragment2", fin=False), frame(0, b"fragment3")] * 2,
        fail=1002,
    ),
    "5.17 stray continuation (FIN), then fragmented text, twice": Case(
        [frame(0, b"fragment1"), frame(1, b"fragment2", fin=False), frame(0, b"fragment3")] * 2,
        fail=1002,
    ),
    "5.18 text in 2 fragments, both with the text opcode": Case(
        [frame(1, b"fragment1", fin=False), frame(1, b"fragment2")], fail=1002
    ),
    "5.19 text in 5 fragments, pings between": Case(
        [
            frame(1, FRAGMENTS[0], fin=False),
            frame(0, FRAGMENTS[1], fin=False),
            frame(9, b"pongme 1!"),
            frame(0, FRAGMENTS[2], fin=False),
            frame(0, FRAGMENTS[3], fin=False),
            frame(9, b"pongme 2!"),
            frame(0, FRAGMENTS[4]),
        ],
        echoes=[(1, b"".join(FRAGMENTS))],
        pongs=[b"pongme 1!", b"pongme 2!"],
    ),
    # Not in Autobahn, but the same rules: a data frame starting a message inside a fragmented one.
    "5.x binary frame inside a fragmented text message": Case(
        [frame(1, b"frag", fin=False), frame(2, b"intruder")], fail=1002
    ),
    "5.x empty fragments": Case(
        [frame(2, b"", fin=False), frame(0, b"", fin=False), frame(0, b"")], echoes=[(2, b"")]
    ),
}

# Autobahn repeats cases in chops: 2.6/2.11 (pings), 5.4/5.7/5.10/5.13/5.20 (fragments) and so on.
MODES = ["one write", "1-byte writes", "frame by frame"]


async def send_case(peer: RawPeer, frames: List[bytes], mode: str) -> None:
    if mode == "one write":
        peer.send(b"".join(frames))
    elif mode == "1-byte writes":
        await peer.send_slowly(b"".join(frames), chunk=1)
    else:
        for data in frames:
            peer.send(data)
            await peer.writer.drain()


def run_case(client: Client, serve: Serve, case: Case, mode: str) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await send_case(peer, case.frames, mode)
        got = await read_messages(peer, len(case.echoes), pongs=len(case.pongs))
        assert got.messages == case.echoes
        assert got.pongs == case.pongs
        if case.fail is not None:
            await expect_close(peer, case.fail)  # and nothing (no pong, no echo) before it
        else:
            peer.send(close_frame(1000))
            assert await read_close(peer) == (1000, b"")

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    data = [(int(m.type), m.data.encode() if isinstance(m.data, str) else m.data) for m in seen[:-2]]
    assert data == case.echoes, "the application sees exactly the valid messages"
    assert not ws.echo_refused
    if case.fail is not None:
        assert [m.type for m in seen[-2:]] == [WSMsgType.ERROR, WSMsgType.CLOSED]
        assert ws.close_code == case.fail
        assert seen[-2].data is ws.failure()
        assert isinstance(ws.failure(), syncws.ProtocolError)
    else:
        assert [m.type for m in seen[-2:]] == [WSMsgType.CLOSE, WSMsgType.CLOSED]
        assert (seen[-2].data, ws.close_code, ws.failure()) == (1000, 1000, None)


# Echo, then fail (3.2-3.4, 4.x.3-5, 5.15): Autobahn's OK needs the echo on the wire before the
# close frame, so the connection defers its close until the receiver has taken what came before
# the violation (the message queues' when_taken() hook).


def _params() -> list:
    return [
        pytest.param(case, id=name)
        for name, case in CASES.items()
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", _params())
def test_case(client: Client, serve: Serve, case: Case, mode: str) -> None:
    run_case(client, serve, case, mode)


def test_failure_close_is_bounded_when_nobody_receives(client: Client, serve: Serve) -> None:
    """The deferred close of a failed connection still goes out, and TCP is still closed,
    when the application never comes back to receive: within close_timeout each."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, HELLO) + frame(1, HELLO, rsv=2))
        await expect_close(peer, 1002, answer=False)

    server = serve(script)
    ws = client.connect(server.url, close_timeout=0.5)
    client.finish(server)  # no receive() until the server has seen the close and the EOF
    assert [m.type for m in (ws.receive(), ws.receive(), ws.receive())] == [
        WSMsgType.TEXT,
        WSMsgType.ERROR,
        WSMsgType.CLOSED,
    ]
    assert ws.close_code == 1002
