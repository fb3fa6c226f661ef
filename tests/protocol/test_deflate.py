"""syncws.protocol.deflate: the offer, the server's answer, and both directions of zlib."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from typing import List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws.protocol import deflate as deflate_module
from syncws.protocol import zlib_backend
from syncws.protocol.deflate import (
    FAST_COMPRESS,
    INFLATE_STEP,
    MIN_COMPRESS_SIZE,
    CompressSettings,
    DeflateParams,
    Deflater,
    Inflater,
    accept_response,
    make_offer,
)
from syncws.protocol.errors import ProtocolError
from syncws.protocol.headers import parse_extensions

TAIL = b"\x00\x00\xff\xff"


# -- make_offer ---------------------------------------------------------------------------


def test_offer_default_window() -> None:
    assert make_offer(15) == "permessage-deflate; client_max_window_bits"


@pytest.mark.parametrize("bits", range(9, 15))
def test_offer_caps_the_server_window(bits: int) -> None:
    assert parse_extensions([make_offer(bits)]) == [
        ("permessage-deflate", [("client_max_window_bits", None), ("server_max_window_bits", str(bits))])
    ]


@pytest.mark.parametrize("bits", [-1, 0, 1, 8, 16, True])
def test_offer_bad_values(bits: int) -> None:
    with pytest.raises(ValueError):
        make_offer(bits)
    with pytest.raises(ValueError):
        make_offer(15, bits)


@pytest.mark.parametrize("ours", range(9, 15))
def test_offer_names_our_window_below_15(ours: int) -> None:
    assert make_offer(15, ours) == f"permessage-deflate; client_max_window_bits={ours}"
    assert make_offer(10, ours) == f"permessage-deflate; client_max_window_bits={ours}; server_max_window_bits=10"
    assert make_offer(15, 15) == "permessage-deflate; client_max_window_bits"


@pytest.mark.parametrize("answer", [None, "8", "10", "12", "15"])
@pytest.mark.parametrize("ours", [9, 12, 15])
def test_accept_keeps_the_smaller_client_window(answer: Optional[str], ours: int) -> None:
    params: Params = [] if answer is None else [("client_max_window_bits", answer)]
    agreed = accept_response(params, 15, ours)
    assert agreed.client_max_window_bits == min(ours, 15 if answer is None else int(answer))


# -- accept_response ----------------------------------------------------------------------

Params = List[Tuple[str, Optional[str]]]


@pytest.mark.parametrize("s_nct", [False, True])
@pytest.mark.parametrize("c_nct", [False, True])
@pytest.mark.parametrize("s_bits", [None, 8, 9, 12, 15])
@pytest.mark.parametrize("c_bits", [None, "none", 8, 10, 15])
@pytest.mark.parametrize("compress", [9, 12, 15])
def test_accept_all_valid_combinations(
    s_nct: bool, c_nct: bool, s_bits: Optional[int], c_bits: object, compress: int
) -> None:
    params: Params = []
    if s_nct:
        params.append(("server_no_context_takeover", None))
    if c_nct:
        params.append(("client_no_context_takeover", None))
    if s_bits is not None:
        params.append(("server_max_window_bits", str(s_bits)))
    if c_bits == "none":
        params.append(("client_max_window_bits", None))
    elif c_bits is not None:
        params.append(("client_max_window_bits", str(c_bits)))
    if s_bits is not None and s_bits > compress:
        with pytest.raises(ValueError, match="server_max_window_bits"):
            accept_response(params, compress)
        return
    if s_bits is None and compress < 15:
        # RFC 7692 §7.1.2.1: a server accepts our server_max_window_bits by answering with it.
        with pytest.raises(ValueError, match="server_max_window_bits"):
            accept_response(params, compress)
        return
    expected = DeflateParams(
        server_no_context_takeover=s_nct,
        client_no_context_takeover=c_nct,
        server_max_window_bits=15 if s_bits is None else s_bits,
        client_max_window_bits=c_bits if isinstance(c_bits, int) else 15,
    )
    assert accept_response(params, compress) == expected
    assert accept_response(list(reversed(params)), compress) == expected


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ([("server_no_context_takeover", None), ("server_no_context_takeover", None)], "duplicate"),
        ([("client_max_window_bits", None), ("client_max_window_bits", "10")], "duplicate"),
        ([("server_max_window_bits", "10"), ("server_max_window_bits", "10")], "duplicate"),
        ([("foo", None)], "unknown"),
        ([("max_window_bits", "10")], "unknown"),
        ([("server_no_context_takeover", "1")], "no value"),
        ([("client_no_context_takeover", "")], "no value"),
        ([("server_max_window_bits", None)], "server_max_window_bits"),
        ([("server_max_window_bits", "")], "server_max_window_bits"),
        ([("server_max_window_bits", "7")], "server_max_window_bits"),
        ([("server_max_window_bits", "16")], "server_max_window_bits"),
        ([("server_max_window_bits", "015")], "server_max_window_bits"),
        ([("server_max_window_bits", "+9")], "server_max_window_bits"),
        ([("server_max_window_bits", "9.0")], "server_max_window_bits"),
        ([("client_max_window_bits", "7")], "client_max_window_bits"),
        ([("client_max_window_bits", "16")], "client_max_window_bits"),
        ([("client_max_window_bits", "0")], "client_max_window_bits"),
        ([("client_max_window_bits", "x")], "client_max_window_bits"),
    ],
)
def test_accept_refuses(params: Params, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        accept_response(params, 15)


# -- Deflater / Inflater ------------------------------------------------------------------


def test_deflater_strips_the_tail_and_raw_inflate_reads_it() -> None:
    d = Deflater(DeflateParams())
    data = b"abc" * 100
    packed = d.compress(data)
    assert packed is not None and not packed.endswith(TAIL)
    assert zlib.decompressobj(-15).decompress(packed + TAIL) == data


@pytest.mark.parametrize("takeover", [True, False])
def test_round_trip(takeover: bool) -> None:
    params = DeflateParams(server_no_context_takeover=not takeover, client_no_context_takeover=not takeover)
    d, i = Deflater(params), Inflater(params)
    for data in [b"hello " * 40, b"hello " * 40, os.urandom(100) * 3, b"\x00" * 5000]:
        packed = d.compress(data)
        assert packed is not None
        assert b"".join(i.decompress(packed, None)) + i.finish(None) == data


def test_context_takeover_shrinks_repeats_and_needs_shared_state() -> None:
    d = Deflater(DeflateParams())
    data = os.urandom(300)
    first, second = d.compress(data), d.compress(data)
    assert first is not None and second is not None
    assert len(second) < 50 < len(first)
    # A fresh inflater cannot read the second message alone: it refers to the first.
    with pytest.raises(ProtocolError):
        fresh = Inflater(DeflateParams())
        fresh.decompress(second, None)
        fresh.finish(None)


def test_no_context_takeover_messages_stand_alone() -> None:
    params = DeflateParams(client_no_context_takeover=True)
    d = Deflater(params)
    data = b"compressible " * 20
    first, second = d.compress(data), d.compress(data)
    assert first == second  # a fresh compressor each time
    assert first is not None
    assert zlib.decompressobj(-15).decompress(second + TAIL) == data


def test_no_context_takeover_incompressible_goes_raw() -> None:
    d = Deflater(DeflateParams(client_no_context_takeover=True))
    assert d.compress(os.urandom(100)) is None
    assert d.compress(b"a" * 100) is not None


def strict_inflate(packed: bytes, bits: int) -> bytes:
    """Inflate one output byte per call, so that zlib checks every distance against the window.

    (With a large output buffer zlib lets a match reach back into this call's own
    output, which would hide a sender that used a bigger window than agreed.)
    """
    d = zlib.decompressobj(-bits)
    out = bytearray()
    data = packed + TAIL
    while True:
        piece = d.decompress(data, 1)
        out += piece
        data = d.unconsumed_tail
        if not piece and not data:
            return bytes(out)


def test_strict_inflate_catches_a_too_wide_window() -> None:
    data = os.urandom(300) * 3  # repeats 300 bytes back: beyond an 8-bit (256) window
    wide = zlib.compressobj(wbits=-15)
    with pytest.raises(zlib.error, match="too far back"):
        strict_inflate((wide.compress(data) + wide.flush(zlib.Z_SYNC_FLUSH))[:-4], 8)


@pytest.mark.parametrize("level", [1, 6, 9])
@pytest.mark.parametrize("takeover", [True, False])
def test_eight_bit_client_window(zlib_name: str, takeover: bool, level: int) -> None:
    # zlib cannot compress with an 8-bit window: we must either send raw, or send what
    # a peer inflating with 256 bytes of history can read.
    settings = CompressSettings(level=level, mem_level=5)
    d = Deflater(DeflateParams(client_max_window_bits=8, client_no_context_takeover=not takeover), settings)
    history = b""
    for data in [os.urandom(300) * 3, b"abc" * 100, os.urandom(100) * 5, os.urandom(1000) + b"x" * 1000]:
        packed = d.compress(data) if d.wants(len(data)) else None
        if packed is None:
            continue  # sent uncompressed
        if takeover:
            history += packed + TAIL
            assert strict_inflate(history[:-4], 8).endswith(data)
        else:
            assert strict_inflate(packed, 8) == data
    for bits in range(9, 16):
        assert Deflater(DeflateParams(client_max_window_bits=bits)).wants(MIN_COMPRESS_SIZE)


CORPUS = os.urandom(3000) + b"json, json, json " * 300


def piece_of(seed: int, size: int) -> bytes:
    """``size`` bytes cut from CORPUS (repeating it), so later messages repeat earlier ones."""
    start = (seed * 7919) % len(CORPUS)
    return ((CORPUS * (size // len(CORPUS) + 2))[start : start + size])


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 2**16), st.booleans()), min_size=1, max_size=10),
    takeover=st.booleans(),
    bits=st.integers(8, 15),
)
def test_fast_and_kept_compressors_make_one_stream(
    sizes: List[Tuple[int, int, bool]], takeover: bool, bits: int
) -> None:
    """With zlib-ng, big messages and fragments go through a compressor made for them and
    small ones through the kept stdlib one, switching back and forth: a strict inflater
    with the agreed window (the peer) reads every message back, context carried across.
    FAST_COMPRESS is lowered to 600 bytes so that short data switches often."""
    if zlib_backend.ZLIB_NG not in zlib_backend.available_zlib_backends():
        pytest.skip("zlib-ng is not installed")
    fast = zlib_backend._load(zlib_backend.ZLIB_NG)
    params = DeflateParams(client_max_window_bits=bits, client_no_context_takeover=not takeover)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deflate_module, "FAST_COMPRESS", 600)
        d = Deflater(params, zlib=fast)
        stream = b""
        for size, seed, fragmented in sizes:
            data = piece_of(seed, size)
            if fragmented:  # three fragments: small, then maybe big, then the rest
                cut1, cut2 = len(data) // 5, len(data) * 3 // 4
                packed = b"".join(
                    d.compress_fragment(part, last)
                    for part, last in ((data[:cut1], False), (data[cut1:cut2], False), (data[cut2:], True))
                )
            else:
                out = d.compress(data)
                if out is None:
                    continue  # sent raw: the peer's inflater never sees it
                packed = out
            if takeover:
                stream += packed + TAIL
                assert strict_inflate(stream[:-4], bits).endswith(data)
            else:
                assert strict_inflate(packed, bits) == data


def test_big_messages_use_the_fast_backend_small_ones_the_stdlib(zlib_name: str) -> None:
    """Each compressor's own bytes (level 1 differs between zlib and zlib-ng): a big
    first message comes out as the chosen backend makes it, a small one as the stdlib's."""
    backend = zlib_backend.current()
    big, small = piece_of(1, FAST_COMPRESS), piece_of(2, FAST_COMPRESS - 1)
    for data, z in ((big, backend), (small, zlib)):
        c = z.compressobj(1, z.DEFLATED, -12, 5)
        want = (c.compress(data) + c.flush(z.Z_SYNC_FLUSH))[:-4]
        assert Deflater(DeflateParams(client_max_window_bits=12)).compress(data) == want


def test_a_connection_keeps_a_lean_compressor_on_either_backend(zlib_name: str) -> None:
    """What 20 deflaters hold after a small and a big message each, traced (both zlib
    modules allocate through Python's raw allocator): about 40 KiB each at the default
    settings. zlib-ng's own compressor holds about 160 KiB, kept only for one call."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = []
        for n in range(20):
            d = Deflater(DeflateParams(client_max_window_bits=12))
            d.compress(piece_of(n, 1000))
            d.compress(piece_of(n, FAST_COMPRESS))
            kept.append(d)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    per_deflater = sum(s.size_diff for s in after.compare_to(before, "filename")) / len(kept)
    assert per_deflater < 64 * 1024, f"{per_deflater / 1024:.1f} KiB per connection's compressor"


def test_wants_threshold() -> None:
    d = Deflater(DeflateParams())
    assert not d.wants(MIN_COMPRESS_SIZE - 1)
    assert d.wants(MIN_COMPRESS_SIZE)


@pytest.mark.parametrize("bits", range(9, 16))
def test_window_bits_respected(zlib_name: str, bits: int) -> None:
    # Data whose repeats lie just beyond a small window: the inflater with the agreed window reads it.
    params = DeflateParams(client_max_window_bits=bits, server_max_window_bits=bits)
    d, i = Deflater(params), Inflater(params)
    data = os.urandom(2 << bits) * 2  # repeats at twice the window: out of reach of a correct compressor
    packed = d.compress(data)
    assert packed is not None
    # Within the window nothing repeats: the compressor must not have found the copy.
    assert len(packed) > len(data) * 0.9
    if bits < 14:
        # Sanity: a 15-bit compressor does reach back that far.
        wide = zlib.compressobj(wbits=-15)
        assert len(wide.compress(data) + wide.flush(zlib.Z_SYNC_FLUSH)) < len(data) * 0.6
    assert zlib.decompressobj(-bits).decompress(packed + TAIL) == data
    assert b"".join(i.decompress(packed, None)) + i.finish(None) == data


def test_inflater_with_8_bit_server_window() -> None:
    i = Inflater(DeflateParams(server_max_window_bits=8))
    c = zlib.compressobj(wbits=-9)
    data = b"abcdefgh" * 40
    packed = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert b"".join(i.decompress(packed[:-4], None)) + i.finish(None) == data


def test_inflater_limit() -> None:
    data = b"\x00" * 10000
    c = zlib.compressobj(wbits=-15)
    packed = (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    i = Inflater(DeflateParams())
    assert b"".join(i.decompress(packed, 10000)) + i.finish(0) == data
    i = Inflater(DeflateParams())
    with pytest.raises(ProtocolError) as info:
        i.decompress(packed, 9999)
    assert info.value.code == 1009


def packed_run(size: int) -> Tuple[bytes, bytes]:
    """``size`` bytes that deflate about 1000:1, and their deflate stream without the tail."""
    data = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    c = zlib.compressobj(wbits=-15)
    return data, (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def test_inflater_hands_out_big_output_in_steps(zlib_name: str) -> None:
    """A few KiB that inflate to 5 MiB come out in pieces of at most INFLATE_STEP, in order,
    so no one step after zlib (decoding, copying: the GIL held) grows with the ratio."""
    data, packed = packed_run(5 * INFLATE_STEP + 123)
    pieces = Inflater(DeflateParams()).decompress(packed, None)
    assert [len(p) for p in pieces] == [INFLATE_STEP] * 5 + [123]
    assert b"".join(pieces) == data


@pytest.mark.parametrize("limit", [2 * INFLATE_STEP, 2 * INFLATE_STEP - 1, INFLATE_STEP + 7, 3])
def test_inflater_limit_holds_across_steps(zlib_name: str, limit: int) -> None:
    """max_msg_size counts every step's output: just at a step's end, just before, inside."""
    data, packed = packed_run(2 * INFLATE_STEP)
    i = Inflater(DeflateParams())
    if limit >= len(data):
        assert b"".join(i.decompress(packed, limit)) + i.finish(0) == data
        return
    with pytest.raises(ProtocolError) as info:
        i.decompress(packed, limit)
    assert info.value.code == 1009


def test_inflater_some_stops_at_size_and_keeps_the_rest(zlib_name: str) -> None:
    data, packed = packed_run(4 * INFLATE_STEP)
    i = Inflater(DeflateParams())
    size = 2 * INFLATE_STEP + 5
    pieces, rest = i.decompress_some(packed, size)
    assert [len(p) for p in pieces] == [INFLATE_STEP, INFLATE_STEP, 5] and rest
    more = i.decompress(rest, None)
    assert b"".join(pieces + more) + i.finish(None) == data


def test_inflater_garbage_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        Inflater(DeflateParams()).decompress(b"\xff\xff\xff\xff", None)


def test_inflater_resets_after_a_final_block() -> None:
    # A sender may end a message with BFINAL set; the next message then starts a new stream.
    i = Inflater(DeflateParams())
    c = zlib.compressobj(wbits=-15)
    packed = c.compress(b"one") + c.flush(zlib.Z_FINISH)
    assert b"".join(i.decompress(packed, None)) + i.finish(None) == b"one"
    c = zlib.compressobj(wbits=-15)
    packed = (c.compress(b"two") + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert b"".join(i.decompress(packed, None)) + i.finish(None) == b"two"


@settings(max_examples=100, deadline=None)
@given(
    messages=st.lists(st.binary(min_size=MIN_COMPRESS_SIZE, max_size=500), max_size=8),
    takeover=st.booleans(),
    bits=st.integers(9, 15),
    split=st.integers(0, 500),
)
def test_round_trip_property(messages: List[bytes], takeover: bool, bits: int, split: int) -> None:
    params = DeflateParams(
        client_no_context_takeover=not takeover,
        server_no_context_takeover=not takeover,
        client_max_window_bits=bits,
        server_max_window_bits=bits,
    )
    d, i = Deflater(params), Inflater(params)
    for data in messages:
        packed = d.compress(data)
        if packed is None:
            assert not takeover
            continue
        cut = split % (len(packed) + 1)
        out = b"".join(i.decompress(packed[:cut], None)) + b"".join(i.decompress(packed[cut:], None)) + i.finish(None)
        assert out == data


def test_backends_make_the_same_wire_format(zlib_name: str) -> None:
    """Either backend's output inflates with the other one (and with a strict stdlib inflater)."""
    params = DeflateParams(client_max_window_bits=10, server_max_window_bits=10)
    data = os.urandom(500) * 8 + b"json, json, json " * 200
    packed = Deflater(params).compress(data)
    assert packed is not None and len(packed) < len(data) // 2
    assert strict_inflate(packed, 10) == data
    for other in zlib_backend.available_zlib_backends():
        zlib_backend.use_zlib_backend(other)
        inflater = Inflater(params)
        zlib_backend.use_zlib_backend(zlib_name)
        assert b"".join(inflater.decompress(packed, len(data))) + inflater.finish(0) == data


def test_backend_choice() -> None:
    before = zlib_backend.zlib_backend()
    assert before in zlib_backend.available_zlib_backends()
    with pytest.raises(ValueError, match="unknown zlib backend"):
        zlib_backend.use_zlib_backend("isal")
    assert zlib_backend.zlib_backend() == before
    try:
        zlib_backend.use_zlib_backend("zlib")
        assert zlib_backend.current() is zlib
        assert type(Deflater(DeflateParams())._obj) is type(zlib.compressobj())
    finally:
        zlib_backend.use_zlib_backend(before)


@pytest.mark.parametrize(
    "value, expected",
    [("zlib", "zlib"), ("bogus", "unknown zlib backend 'bogus'; choose from zlib, zlib-ng")],
)
def test_backend_forced_from_the_environment(value: str, expected: str) -> None:
    """SYNCWS_ZLIB picks the backend at import; a name that means nothing fails loudly there."""
    code = "import syncws; print(syncws.zlib_backend())"
    env = {**os.environ, "SYNCWS_ZLIB": value}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert expected in (proc.stdout if proc.returncode == 0 else proc.stderr)
