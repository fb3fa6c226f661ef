"""syncws.protocol._speedups.join_parts: joins a message's pieces exactly as str.join and
bytes.join do, into the narrowest str kind, whichever path (GIL held or released) it takes."""

from __future__ import annotations

from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws.protocol import reader as reader_module

C_JOIN = reader_module._join if reader_module._join is not reader_module._py_join else None

needs_c = pytest.mark.skipif(C_JOIN is None, reason="C speedups not built")

# One character from each str kind: ASCII, Latin-1, UCS-2, UCS-4 (and NUL).
CHARS = st.sampled_from(["a", "\x00", "\x7f", "\xe9", "\xff", "\u0100", "\u20ac", "\uffff", "\U0001f600"])


@needs_c
@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(CHARS, max_size=6).map("".join), max_size=8))
def test_str_pieces_join_as_str_join(parts: List[str]) -> None:
    got = C_JOIN(parts, True)  # type: ignore[misc]
    want = "".join(parts)
    # == and hash() both depend on the kind a str is stored in: equal means the same form.
    assert type(got) is str and got == want and hash(got) == hash(want)
    assert got.isascii() == want.isascii()


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=20), max_size=8))
def test_bytes_pieces_join_as_bytes_join(parts: List[bytes]) -> None:
    got = C_JOIN(parts, False)  # type: ignore[misc]
    assert type(got) is bytes and got == b"".join(parts)


@needs_c
@pytest.mark.parametrize(
    "parts",
    [
        ["x" * 300_000, "y" * 300_000],  # one kind: plain copies
        ["a" * 200_000, "\xe9" * 100_000, "\u20ac" * 100_000, "\U0001f600", "z" * 70_000],  # widened
        ["\u20ac" * 150_000, "b" * 150_000],
        ["\U0001f600" * 70_000, "\u0100" * 10, "c" * 10],
    ],
)
def test_big_joins_copy_without_the_gil_and_still_match(parts: List[str]) -> None:
    """Past 256 KiB of result the copy runs with the GIL released."""
    got = C_JOIN(parts, True)  # type: ignore[misc]
    want = "".join(parts)
    assert got == want and hash(got) == hash(want)
    data = [p.encode() for p in parts]
    assert C_JOIN(data, False) == b"".join(data)  # type: ignore[misc]


@needs_c
def test_wrong_piece_types_raise_type_error() -> None:
    with pytest.raises(TypeError, match="str pieces"):
        C_JOIN(["a", b"b"], True)  # type: ignore[misc,list-item]
    with pytest.raises(TypeError, match="bytes pieces"):
        C_JOIN([b"a", "b"], False)  # type: ignore[misc,list-item]
    with pytest.raises(TypeError):
        C_JOIN(5, False)  # type: ignore[misc,arg-type]


def test_pure_python_join() -> None:
    assert reader_module._py_join(["a", "\u20ac"], True) == "a\u20ac"
    assert reader_module._py_join([b"a", b"b"], False) == b"ab"
