"""permessage-deflate (RFC 7692): Autobahn groups 12 and 13, negotiation, limits.

A scripted server plays the extension by the parameters it answered with:
it compresses with its window and context rules and inflates the client's
messages with exactly the window and context rules the client agreed to, so
a client that compresses with a larger window or keeps context it promised
to drop produces data the server cannot inflate, and the test fails.
"""

from __future__ import annotations

import random
import tracemalloc
import zlib
from typing import Callable, Dict, List, Optional

import pytest

import syncws
from syncws import WSMsgType
from syncws.aio.options import Options
from syncws.protocol.deflate import DEFAULT_COMPRESS, DeflateParams, Inflater
from syncws.protocol.reader import MessageReader
from tests.apis import Client
from tests.conformance.helpers import (
    Compressor,
    Decompressor,
    close_frame,
    expect_close,
    read_close,
    read_messages,
)
from tests.servers import RawPeer, RawServer, frame

pytestmark = pytest.mark.timeout(30)

Serve = Callable[..., RawServer]


def corpus(size: int, seed: int = 0) -> bytes:
    """Text that compresses, with matches far apart: words from a 4 KiB random vocabulary."""
    rng = random.Random(seed)
    vocab = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(3, 12))) for _ in range(400)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(vocab) + b" "
    return bytes(out[:size])


def parse_params(header: str) -> Dict[str, Optional[str]]:
    params: Dict[str, Optional[str]] = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        params[name] = value.strip('"') or None
    return params


# -- the offer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, offer",
    [
        ({}, "permessage-deflate; client_max_window_bits=12"),
        ({"compress": 15}, "permessage-deflate; client_max_window_bits=12"),
        ({"compress": 9}, "permessage-deflate; client_max_window_bits=12; server_max_window_bits=9"),
        ({"compress": 12}, "permessage-deflate; client_max_window_bits=12; server_max_window_bits=12"),
        ({"compress_window_bits": 15}, "permessage-deflate; client_max_window_bits"),
        (
            {"compress_window_bits": 9, "compress": 10},
            "permessage-deflate; client_max_window_bits=9; server_max_window_bits=10",
        ),
        ({"compress": 0}, None),
        ({"compress": 0, "compress_window_bits": 9}, None),
    ],
)
def test_offer(client: Client, serve: Serve, options: dict, offer: Optional[str]) -> None:
    async def script(peer: RawPeer) -> None:
        headers = await peer.handshake()
        assert headers.get("sec-websocket-extensions") == offer
        peer.send(close_frame(1000))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url, **options)
    assert ws.compress == 0 and ws.deflate is None and not ws.client_notakeover  # the server declined
    ws.echo_all()
    client.finish(server)


@pytest.mark.parametrize("compress", [1, 8, 16, -1, True])
def test_compress_values_refused_before_any_io(client: Client, compress: int) -> None:
    err = client.connect_error("ws://127.0.0.1:9/", compress=compress)  # port 9: never contacted
    assert isinstance(err, ValueError) and "compress" in str(err)


@pytest.mark.parametrize(
    "name, value",
    [("compress_level", v) for v in (-2, 10, True, 1.0, "1")]
    + [("compress_mem_level", v) for v in (0, 10, None)]
    + [("compress_window_bits", v) for v in (8, 16, 0, False)],
)
def test_compress_settings_refused_before_any_io(client: Client, name: str, value: object) -> None:
    err = client.connect_error("ws://127.0.0.1:9/", **{name: value})  # port 9: never contacted
    assert isinstance(err, ValueError) and name in str(err)


def test_default_compress_settings_are_one_object_for_all_connections() -> None:
    """Every connection keeps its settings for life: the defaults are shared, not copied."""
    assert Options.from_kwargs({}).compress_settings is DEFAULT_COMPRESS
    assert Options.from_kwargs({"compress_level": 1}).compress_settings is DEFAULT_COMPRESS
    custom = Options.from_kwargs({"compress_level": 6}).compress_settings
    assert custom.level == 6 and custom.mem_level == DEFAULT_COMPRESS.mem_level


# -- every valid answer, then Autobahn 12/13-style traffic ----------------------------

ANSWERS = {
    # Autobahn 13.1-13.7 server answers (client role), and everything else RFC 7692 allows.
    "13.1 plain": ("", DeflateParams()),
    "13.2 client_no_context_takeover": ("; client_no_context_takeover", DeflateParams(client_no_context_takeover=True)),
    "13.3 client_max_window_bits=8": ("; client_max_window_bits=8", DeflateParams(client_max_window_bits=8)),
    "13.4 client_max_window_bits=15": ("; client_max_window_bits=15", DeflateParams()),
    "13.5 no takeover + client window 8": (
        "; client_no_context_takeover; client_max_window_bits=8",
        DeflateParams(client_no_context_takeover=True, client_max_window_bits=8),
    ),
    "13.6 no takeover + client window 15": (
        "; client_no_context_takeover; client_max_window_bits=15",
        DeflateParams(client_no_context_takeover=True),
    ),
    "server_no_context_takeover": ("; server_no_context_takeover", DeflateParams(server_no_context_takeover=True)),
    **{
        f"server_max_window_bits={bits}": (
            f"; server_max_window_bits={bits}",
            DeflateParams(server_max_window_bits=bits),
        )
        for bits in range(8, 15)
    },
    **{
        f"client_max_window_bits={bits}": (
            f"; client_max_window_bits={bits}",
            DeflateParams(client_max_window_bits=bits),
        )
        for bits in range(9, 15)
    },
    "client_max_window_bits without value": ("; client_max_window_bits", DeflateParams()),
    'quoted "10"': ('; server_max_window_bits="10"', DeflateParams(server_max_window_bits=10)),
    "everything at once": (
        "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=9",
        DeflateParams(True, True, 8, 9),
    ),
    "case-insensitive names, odd spacing": (
        " ;Server_No_Context_Takeover ;  client_max_window_bits = 11",
        DeflateParams(server_no_context_takeover=True, client_max_window_bits=11),
    ),
}

# (size, auto-fragment size) from Autobahn's 12.x table, scaled to keep CI fast.
SIZES = [(16, 0), (64, 0), (256, 0), (1024, 0), (4096, 0), (16384, 0), (65536, 0), (131072, 0), (8192, 256),
         (65536, 1024), (131072, 32768)]


def deflate_echo_script(answer: str, params: DeflateParams, messages: List[bytes], frag: List[int]) -> Callable:
    async def script(peer: RawPeer) -> None:
        await peer.handshake(f"Sec-WebSocket-Extensions: permessage-deflate{answer}\r\n")
        out = Compressor(params.server_max_window_bits, no_context_takeover=params.server_no_context_takeover)
        inflate = Decompressor(params.client_max_window_bits, no_context_takeover=params.client_no_context_takeover)
        for i, (data, size) in enumerate(zip(messages, frag)):
            opcode = 1 if i % 2 == 0 else 2
            packed = out.message(data)
            if size:  # RSV1 on the first frame only (RFC 7692 §6.1)
                pieces = [packed[j : j + size] for j in range(0, len(packed), size)] or [b""]
                for j, piece in enumerate(pieces):
                    peer.send(frame(0 if j else opcode, piece, fin=j == len(pieces) - 1, rsv=0 if j else 4))
            else:
                peer.send(frame(opcode, packed, rsv=4))
            got = await read_messages(peer, 1, inflate)  # inflates with what the client agreed to
            assert got.messages == [(opcode, data)], f"message {i} ({len(data)} bytes) came back wrong"
            if len(data) >= 64:
                assert got.frames[0].rsv == 4, "a compressible message went out uncompressed"
        peer.send(close_frame(1000))
        assert await read_close(peer) == (1000, b"")

    return script


@pytest.mark.parametrize("name", list(ANSWERS))
def test_13_every_valid_answer_round_trips(client: Client, serve: Serve, zlib_name: str, name: str) -> None:
    """ANSWERS are what a server may say to an offer of full windows both ways."""
    answer, params = ANSWERS[name]
    sizes = [s for s, _ in SIZES]
    # Each size twice: the repeat is where context takeover (or its absence) shows.
    messages = [corpus(size, seed) for size in sizes for seed in (size, size)]
    frag = [f for _, f in SIZES for _ in (0, 1)]
    server = serve(deflate_echo_script(answer, params, messages, frag))
    ws = client.connect(server.url, max_msg_size=2**20, compress_window_bits=15, compress_level=6)
    assert ws.deflate == params
    assert ws.compress == params.client_max_window_bits
    assert ws.client_notakeover == params.client_no_context_takeover
    seen = ws.echo_all()
    client.finish(server)
    assert len(seen) == len(messages) + 2 and ws.close_code == 1000


@pytest.mark.parametrize(
    "bits, ours, server_bits, our_bits",
    [
        (12, "", 15, 12),  # our default: the server keeps to the window we said we use
        (12, "; client_max_window_bits=10", 15, 10),  # the server may lower it
        (12, "; client_max_window_bits=15", 15, 12),  # a server raising it is not followed
        (9, "; client_max_window_bits=8; server_max_window_bits=8", 8, 8),
        (15, "; client_max_window_bits=11", 15, 11),
    ],
)
def test_our_window_is_offered_and_kept(
    client: Client, serve: Serve, zlib_name: str, bits: int, ours: str, server_bits: int, our_bits: int
) -> None:
    """compress_window_bits is offered as client_max_window_bits and bounds our compressor,
    checked by a server that inflates with exactly the smaller window."""
    messages = [corpus(size, seed) for size in (100, 5000, 70000) for seed in (1, 1, 2)]
    params = DeflateParams(server_max_window_bits=server_bits, client_max_window_bits=our_bits)
    server = serve(deflate_echo_script(ours, params, messages, [0] * len(messages)))
    ws = client.connect(server.url, compress_window_bits=bits, compress=15)
    assert ws.compress == our_bits
    seen = ws.echo_all()
    client.finish(server)
    assert len(seen) == len(messages) + 2 and ws.close_code == 1000


@pytest.mark.parametrize("server_url", ["ws_url", "aiohttp_url"])
@pytest.mark.parametrize(
    "options",
    [
        {"compress": 15},  # our defaults: level 1, memLevel 5, 12-bit window
        {"compress": 12, "compress_window_bits": 15, "compress_level": 6, "compress_mem_level": 8},
        {"compress": 9, "compress_window_bits": 9, "compress_level": 9, "compress_mem_level": 1},
    ],
    ids=["defaults", "zlib defaults", "smallest"],
)
def test_12_real_servers(
    client: Client, request: pytest.FixtureRequest, zlib_name: str, server_url: str, options: dict
) -> None:
    """Autobahn 12.x against two independent implementations: many messages, all sizes."""
    url = request.getfixturevalue(server_url)
    compress = options["compress"]
    ws = client.connect(url + "/echo", max_msg_size=2**20, **options)
    params = ws.deflate
    assert params is not None and ws.compress == params.client_max_window_bits
    assert ws.compress <= options.get("compress_window_bits", 12)
    assert 9 <= params.server_max_window_bits <= compress
    for i, (size, _) in enumerate(SIZES * 3):
        data = corpus(size, i)
        if i % 2:
            ws.send_bytes(data)
            assert ws.receive().data == data
        else:
            ws.send_str(data.decode())
            assert ws.receive().data == data.decode()
    assert ws.close() is True


def test_context_takeover_is_used_and_dropped(client: Client, serve: Serve) -> None:
    """With takeover a repeated message costs almost nothing; with client_no_context_takeover
    it costs the same again (and the server inflates each with a fresh context)."""
    data = corpus(3000, 7)  # repeats within our default 12-bit (4 KiB) window
    sizes: Dict[str, List[int]] = {}

    def script_for(answer: str, fresh: bool) -> Callable:
        async def script(peer: RawPeer) -> None:
            await peer.handshake(f"Sec-WebSocket-Extensions: permessage-deflate{answer}\r\n")
            inflate = Decompressor(15, no_context_takeover=fresh)
            got = await read_messages(peer, 3, inflate)
            assert got.messages == [(2, data)] * 3
            sizes[answer] = [len(f.payload) for f in got.frames]
            peer.send(close_frame(1000))
            await read_close(peer)

        return script

    for answer, fresh in (("", False), ("; client_no_context_takeover", True)):
        server = serve(script_for(answer, fresh))
        ws = client.connect(server.url)
        for _ in range(3):
            ws.send_bytes(data)
        ws.echo_all()
        client.finish(server)
    kept, dropped = sizes[""], sizes["; client_no_context_takeover"]
    assert kept[1] < kept[0] // 10 and kept[2] < kept[0] // 10
    assert dropped[0] == dropped[1] == dropped[2] < len(data) * 3 // 4  # level 1 on 3 KB of words


def test_tiny_messages_are_not_compressed(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        got = await read_messages(peer, 3, Decompressor())
        assert got.messages == [(1, b""), (1, b"tiny"), (2, b"a" * 100)]
        assert [f.rsv for f in got.frames] == [0, 0, 4]
        peer.send(close_frame(1000))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url)
    ws.send_str("")
    ws.send_str("tiny")
    ws.send_bytes(b"a" * 100)
    ws.echo_all()
    client.finish(server)


def test_rsv1_only_on_the_first_fragment(client: Client, serve: Serve) -> None:
    data = corpus(50000, 3)

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        got = await read_messages(peer, 1, Decompressor())  # checks: continuations carry no RSV
        assert got.messages == [(1, data)]
        assert got.frames[0].rsv == 4 and len(got.frames) > 10
        assert all(len(f.payload) == 64 for f in got.frames[:-1])
        peer.send(close_frame(1000))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url)
    ws.send_fragments(1, data, fragment_size=64)
    ws.echo_all()
    client.finish(server)


def test_window_8_is_inflated_and_compressed(client: Client, serve: Serve, zlib_name: str) -> None:
    """server_max_window_bits=8: zlib compresses with 9, we must inflate it; and when held to
    client_max_window_bits=8 we still compress, in a form a true 8-bit inflater accepts."""
    block = bytes(random.Random(5).randrange(256) for _ in range(200))
    data = b"".join(block + bytes([i]) * 40 for i in range(60))  # repeats 240 bytes apart

    async def script(peer: RawPeer) -> None:
        await peer.handshake(
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8; client_max_window_bits=8\r\n"
        )
        peer.send(frame(2, Compressor(8).message(data), rsv=4))
        got = await read_messages(peer, 1, Decompressor(8))
        assert got.messages == [(2, data)] and got.frames[0].rsv == 4
        assert len(got.frames[0].payload) < len(data) // 2
        peer.send(close_frame(1000))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url)
    assert ws.compress == 8
    seen = ws.echo_all()
    client.finish(server)
    assert seen[0].data == data


@pytest.mark.parametrize("mode", ["one write", "1-byte writes"])
def test_fragmented_compressed_message_with_ping_between(client: Client, serve: Serve, mode: str) -> None:
    data = corpus(3000, 11)

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        packed = Compressor().message(data)
        third = len(packed) // 3
        wire = (
            frame(1, packed[:third], fin=False, rsv=4)
            + frame(9, b"mid-message")
            + frame(0, packed[third : 2 * third], fin=False)
            + frame(0, packed[2 * third :])
            + frame(1, data[:100])  # and an uncompressed one: allowed when negotiated
        )
        if mode == "one write":
            peer.send(wire)
        else:
            await peer.send_slowly(wire, chunk=1)
        got = await read_messages(peer, 2, Decompressor(), pongs=1)
        assert got.messages == [(1, data), (1, data[:100])] and got.pongs == [b"mid-message"]
        peer.send(close_frame(1000))
        await read_close(peer)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.data for m in seen[:2]] == [data.decode(), data[:100].decode()]


@pytest.mark.parametrize(
    "wire, code",
    [
        pytest.param(lambda p: frame(1, p, fin=False, rsv=4) + frame(0, p, rsv=4), 1002, id="RSV1 on a continuation"),
        pytest.param(lambda p: frame(9, b"x", rsv=4), 1002, id="RSV1 on a ping"),
        pytest.param(lambda p: frame(1, p, rsv=2), 1002, id="RSV2 with deflate"),
        # RFC 7692 names no code. 1007 (`websockets` says 1002): in a text message a corrupt
        # stream can show first as invalid UTF-8 or as a zlib error, depending on how the
        # bytes arrive, and the code must not depend on that (test_fuzz.py checks it).
        pytest.param(lambda p: frame(2, b"\xff\xff\xff\xff", rsv=4), 1007, id="not deflate data"),
        pytest.param(
            lambda p: frame(1, Compressor().message(b"ok \xed\xa0\x80"), rsv=4), 1007, id="inflates to bad UTF-8"
        ),
    ],
)
def test_deflate_violations_fail(client: Client, serve: Serve, wire: Callable[[bytes], bytes], code: int) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        peer.send(wire(Compressor().message(b"hello")))
        await expect_close(peer, code)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED] and ws.close_code == code


# -- invalid answers -----------------------------------------------------------------

BAD_ANSWERS = {
    "server_max_window_bits=7": "permessage-deflate; server_max_window_bits=7",
    "server_max_window_bits=16": "permessage-deflate; server_max_window_bits=16",
    "server_max_window_bits=08": "permessage-deflate; server_max_window_bits=08",
    "server_max_window_bits=abc": "permessage-deflate; server_max_window_bits=abc",
    "server_max_window_bits without value": "permessage-deflate; server_max_window_bits",
    "client_max_window_bits=7": "permessage-deflate; client_max_window_bits=7",
    "client_max_window_bits=16": "permessage-deflate; client_max_window_bits=16",
    "server_no_context_takeover=1": "permessage-deflate; server_no_context_takeover=1",
    "client_no_context_takeover=true": "permessage-deflate; client_no_context_takeover=true",
    "unknown parameter": "permessage-deflate; mystery_param",
    "duplicate parameter": "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "duplicate window bits": "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10",
    "accepted twice": "permessage-deflate, permessage-deflate",
    "unknown extension": "x-webkit-deflate-frame",
    "unknown extension after deflate": "permessage-deflate, mux",
    "malformed header": "permessage-deflate; =10",
}


@pytest.mark.parametrize("name", list(BAD_ANSWERS))
def test_invalid_answers_are_handshake_errors(client: Client, serve: Serve, name: str) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake(f"Sec-WebSocket-Extensions: {BAD_ANSWERS[name]}\r\n")
        assert await peer.at_eof()

    server = serve(script)
    err = client.connect_error(server.url)
    client.finish(server)
    assert isinstance(err, syncws.WSServerHandshakeError), repr(err)
    assert err.status == 101 and err.message


@pytest.mark.parametrize(
    "options, answer",
    [
        pytest.param({"compress": 0}, "permessage-deflate", id="deflate not offered"),
        pytest.param({"compress": 10}, "permessage-deflate; server_max_window_bits=12", id="window above our offer"),
        pytest.param({"compress": 10}, "permessage-deflate", id="our server_max_window_bits ignored"),
        pytest.param({"compress": 0}, "permessage-deflate; server_max_window_bits=10", id="not offered, with params"),
    ],
)
def test_answers_that_do_not_match_our_offer(client: Client, serve: Serve, options: dict, answer: str) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake(f"Sec-WebSocket-Extensions: {answer}\r\n")
        assert await peer.at_eof()

    server = serve(script)
    err = client.connect_error(server.url, **options)
    client.finish(server)
    assert isinstance(err, syncws.WSServerHandshakeError), repr(err)


def test_second_extensions_header_line_counts(client: Client, serve: Serve) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake(
            "Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
        )
        assert await peer.at_eof()

    server = serve(script)
    err = client.connect_error(server.url)
    client.finish(server)
    assert isinstance(err, syncws.WSServerHandshakeError) and "twice" in err.message


# -- max_msg_size applies to the inflated size -----------------------------------------


def zeros_bomb(total: int) -> bytes:
    """A deflate payload inflating to ``total`` zero bytes (a multiple of 1 MiB), built
    without ever holding the inflated data: after the first MiB every MiB compresses to
    the same bytes, so we repeat them."""
    mib = bytes(2**20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(mib) + c.flush(zlib.Z_SYNC_FLUSH)
    second = c.compress(mib) + c.flush(zlib.Z_SYNC_FLUSH)
    third = c.compress(mib) + c.flush(zlib.Z_SYNC_FLUSH)
    assert second == third
    payload = first + second * (total // 2**20 - 1)
    assert payload.endswith(b"\x00\x00\xff\xff")
    return payload[:-4]


def test_bomb_construction() -> None:
    small = zeros_bomb(4 * 2**20)
    d = zlib.decompressobj(-15)
    assert d.decompress(small + b"\x00\x00\xff\xff") == bytes(4 * 2**20)


def test_reader_inflates_at_most_max_msg_size(zlib_name: str) -> None:
    """The sans-I/O reader on a 1 GiB bomb: 1009, and memory stays near max_msg_size."""
    bomb = zeros_bomb(2**30)
    assert len(bomb) < 2**21  # about 1 MiB on the wire for 1 GiB inflated
    limit = 2**20
    reader = MessageReader(max_msg_size=limit, inflater=Inflater(DeflateParams()))
    wire = frame(2, bomb, rsv=4)
    tracemalloc.start()
    try:
        out = []
        for i in range(0, len(wire), 65536):  # as TCP would deliver it
            out += reader.feed(wire[i : i + 65536])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [m.type for m in out] == [WSMsgType.ERROR] and out[0].data.code == 1009
    assert peak < 8 * limit, f"peak {peak} bytes while inflating"


@pytest.mark.parametrize("inflated, limit", [(2**30, 4 * 2**20), (2**20, 64 * 2**10)], ids=["1 GiB", "1 MiB"])
def test_bomb_on_the_wire_fails_1009(
    client: Client, serve: Serve, zlib_name: str, inflated: int, limit: int
) -> None:
    """A frame that inflates far beyond max_msg_size: 1009 close, no memory spike."""
    bomb = zeros_bomb(inflated)

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        peer.send(frame(2, bomb, rsv=4))
        await expect_close(peer, 1009)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=limit)
    tracemalloc.start()
    try:
        seen = ws.echo_all()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED] and ws.close_code == 1009
    assert peak < 8 * limit + 4 * len(bomb) + 2**20, f"peak {peak} bytes"


def test_fragmented_compressed_message_over_the_limit(client: Client, serve: Serve, zlib_name: str) -> None:
    """The limit is on the whole inflated message, across fragments."""
    limit = 10000
    part = corpus(4000, 1)

    async def script(peer: RawPeer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        c = Compressor()
        exact = c.message(corpus(limit, 2))
        peer.send(frame(2, exact, rsv=4))  # exactly max_msg_size: fine
        got = await read_messages(peer, 1, Decompressor())
        assert got.messages == [(2, corpus(limit, 2))]
        packed = c.message(part * 3)  # 12000 bytes inflated, in three frames
        third = len(packed) // 3
        peer.send(frame(2, packed[:third], fin=False, rsv=4) + frame(0, packed[third : 2 * third], fin=False))
        peer.send(frame(0, packed[2 * third :]))
        await expect_close(peer, 1009)

    server = serve(script)
    ws = client.connect(server.url, max_msg_size=limit)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.BINARY, WSMsgType.ERROR, WSMsgType.CLOSED]
