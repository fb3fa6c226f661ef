"""syncws.protocol.frames: the client-side serialiser, byte by byte."""

from __future__ import annotations

import os
import struct

import pytest

from syncws.protocol import frames
from syncws.protocol.frames import MAX_CONTROL_PAYLOAD, Opcode, encode_frame
from syncws.protocol.writer import MessageWriter

from ._util import parse_client_frames


def test_opcodes() -> None:
    assert [int(o) for o in Opcode] == [0x0, 0x1, 0x2, 0x8, 0x9, 0xA]
    assert MAX_CONTROL_PAYLOAD == 125


@pytest.mark.parametrize(
    ("size", "b1", "ext"),
    [
        (0, 0, b""),
        (1, 1, b""),
        (125, 125, b""),
        (126, 126, struct.pack("!H", 126)),
        (127, 126, struct.pack("!H", 127)),
        (65535, 126, struct.pack("!H", 65535)),
        (65536, 127, struct.pack("!Q", 65536)),
        (70000, 127, struct.pack("!Q", 70000)),
    ],
)
def test_length_encodings_at_the_boundaries(size: int, b1: int, ext: bytes) -> None:
    payload = bytes(i % 251 for i in range(size))
    unmasked = encode_frame(Opcode.BINARY, payload, mask=False)
    assert unmasked[0] == 0x82
    assert unmasked[1] == b1
    assert unmasked[2 : 2 + len(ext)] == ext
    assert unmasked[2 + len(ext) :] == payload
    masked = encode_frame(Opcode.BINARY, payload)
    assert masked[1] == 0x80 | b1
    assert masked[2 : 2 + len(ext)] == ext
    assert len(masked) == 2 + len(ext) + 4 + size
    ((op, fin, rsv, key, data),) = parse_client_frames(masked)
    assert (op, fin, rsv, len(key)) == (2, True, 0, 4)
    assert data == payload


@pytest.mark.parametrize(
    ("kwargs", "b0"),
    [
        ({}, 0x81),
        ({"fin": False}, 0x01),
        ({"rsv1": True}, 0xC1),
        ({"fin": False, "rsv1": True}, 0x41),
    ],
)
def test_first_byte(kwargs: dict, b0: int) -> None:
    assert encode_frame(Opcode.TEXT, b"x", mask=False, **kwargs)[0] == b0


@pytest.mark.parametrize("opcode", list(Opcode))
def test_every_opcode(opcode: Opcode) -> None:
    ((op, fin, _, _, data),) = parse_client_frames(encode_frame(opcode, b"abc"))
    assert op == opcode and fin and data == b"abc"


def test_mask_key_comes_from_secrets_and_is_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def token_bytes(n: int) -> bytes:
        calls.append(n)
        return bytes.fromhex("37fa213d") * (n // 4) + bytes(n % 4)

    monkeypatch.setattr(frames.secrets, "token_bytes", token_bytes)
    try:
        # Keys may be drawn ahead in a pool: go past any pool of up to 8 KiB of keys.
        for _ in range(2049):
            frame = encode_frame(Opcode.TEXT, b"Hello")
        assert calls
        # RFC 6455 §5.7, "A single-frame masked text message".
        assert frame == bytes.fromhex("818537fa213d7f9f4d5158")
    finally:
        monkeypatch.undo()
        for _ in range(2049):  # leave no predictable key behind for later tests
            encode_frame(Opcode.TEXT, b"")


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch of mask keys drawn from ``secrets``, in order."""
    sizes: list[int] = []
    real = frames.secrets.token_bytes

    def token_bytes(n: int) -> bytes:
        sizes.append(n)
        return real(n)

    monkeypatch.setattr(frames.secrets, "token_bytes", token_bytes)
    return sizes


def test_writers_hold_no_keys_of_their_own(batch_sizes: list[int]) -> None:
    """Every writer draws from the process's one pool, 256 keys a batch: a connection
    holds no keys of its own for life (S5's memory)."""
    writers = [MessageWriter() for _ in range(4)]
    for _ in range(64):
        for writer in writers:
            writer.binary(b"x")
    # 256 keys: one batch, or two if the pool had a few left before this test
    assert batch_sizes in ([1024], [1024, 1024])
    assert not any(hasattr(w, "_keys") for w in writers)
    drawn = len(batch_sizes)
    assert MessageWriter(mask=False).binary(b"x") == b"\x82\x01x"
    assert len(batch_sizes) == drawn


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_never_repeats_its_parents_keys() -> None:
    encode_frame(Opcode.TEXT, b"")  # the pool now holds keys the parent has not used yet
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write_end, encode_frame(Opcode.TEXT, b"")[2:6])
        finally:
            os._exit(0)
    os.close(write_end)
    child_key = os.read(read_end, 4)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert len(child_key) == 4
    assert child_key != encode_frame(Opcode.TEXT, b"")[2:6]  # without the fork hook these are the same bytes


def test_fresh_mask_per_frame() -> None:
    keys = {parse_client_frames(encode_frame(Opcode.BINARY, b"same payload"))[0][3] for _ in range(64)}
    assert len(keys) > 60  # 64 draws of 32 random bits: a repeat is very unlikely, all-equal impossible
    wires = {encode_frame(Opcode.BINARY, b"same payload") for _ in range(64)}
    assert len(wires) > 60


def test_masked_payload_differs_from_plain() -> None:
    payload = b"\x00" * 64
    frame = encode_frame(Opcode.BINARY, payload)
    key = frame[2:6]
    assert frame[6:] == key * 16


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_buffer_types(kind: type) -> None:
    ((_, _, _, _, data),) = parse_client_frames(encode_frame(Opcode.BINARY, kind(b"payload")))
    assert data == b"payload"
    assert encode_frame(Opcode.BINARY, kind(b"payload"), mask=False) == b"\x82\x07payload"
