"""syncws.protocol.mask: the C speedups and the pure-Python fallback agree."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws.protocol import mask
from syncws.protocol.mask import apply_mask, py_apply_mask

try:
    from syncws.protocol import _speedups
except ImportError:  # pragma: no cover - only without a compiler
    _speedups = None  # type: ignore[assignment]

needs_c = pytest.mark.skipif(_speedups is None, reason="C speedups not built")


def naive(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def test_speedups_flag_matches_what_is_used() -> None:
    if mask.SPEEDUPS:
        assert _speedups is not None and apply_mask is _speedups.apply_mask
    else:
        assert apply_mask is py_apply_mask


@pytest.mark.skipif(not hasattr(mask, "mask_frame"), reason="no mask_frame in this version")
@settings(max_examples=100, deadline=None)
@given(prefix=st.binary(max_size=14), data=st.binary(max_size=600), key=st.binary(min_size=4, max_size=4))
def test_mask_frame_c_and_python_identical(prefix: bytes, data: bytes, key: bytes) -> None:
    expected = prefix + naive(data, key)
    assert mask.mask_frame(prefix, data, key) == expected
    assert mask.py_mask_frame(prefix, data, key) == expected


def test_rfc6455_example() -> None:
    # RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
    key = bytes.fromhex("37fa213d")
    assert py_apply_mask(b"Hello", key) == bytes.fromhex("7f9f4d5158")
    assert apply_mask(b"Hello", key) == bytes.fromhex("7f9f4d5158")


SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 125, 126, 127, 1000, 4095, 4096, 4097, 65536]


@pytest.mark.parametrize("size", SIZES)
def test_py_matches_naive(size: int) -> None:
    data = os.urandom(size)
    key = os.urandom(4)
    assert py_apply_mask(data, key) == naive(data, key)


@needs_c
@pytest.mark.parametrize("size", SIZES)
def test_c_matches_naive(size: int) -> None:
    data = os.urandom(size)
    key = os.urandom(4)
    assert _speedups.apply_mask(data, key) == naive(data, key)


@needs_c
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), key=st.binary(min_size=4, max_size=4), offset=st.integers(0, 7))
def test_c_and_python_identical(data: bytes, key: bytes, offset: int) -> None:
    # The offset makes the C loop start on unaligned buffers too.
    view = memoryview(b"\xaa" * offset + data)[offset:]
    c = _speedups.apply_mask(view, key)
    p = py_apply_mask(view, key)
    assert type(c) is bytes and type(p) is bytes
    assert c == p == naive(data, key)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=600), key=st.binary(min_size=4, max_size=4))
def test_mask_is_an_involution(data: bytes, key: bytes) -> None:
    assert apply_mask(apply_mask(data, key), key) == data
    assert py_apply_mask(py_apply_mask(data, key), key) == data


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_buffer_types(kind: type) -> None:
    data = os.urandom(77)
    key = os.urandom(4)
    expected = naive(data, key)
    assert apply_mask(kind(data), key) == expected
    assert py_apply_mask(kind(data), key) == expected


@pytest.mark.parametrize("key", [b"", b"abc", b"abcde"])
def test_bad_key_length_refused(key: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        apply_mask(b"data", key)
    with pytest.raises(ValueError, match="4 bytes"):
        py_apply_mask(b"data", key)


@needs_c
def test_bad_key_length_refused_on_empty_data_too() -> None:
    with pytest.raises(ValueError):
        _speedups.apply_mask(b"", b"abc")
    with pytest.raises(ValueError):
        py_apply_mask(b"", b"abc")
