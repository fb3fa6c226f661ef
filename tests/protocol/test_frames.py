"""syncws.protocol.frames: the client-side serialiser, byte by byte."""

from __future__ import annotations

import os
import struct
import threading

import pytest

from syncws.protocol import frames
from syncws.protocol.frames import MAX_CONTROL_PAYLOAD, MaskKeys, Opcode, encode_frame
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


def test_mask_key_batches_start_small_per_thread(batch_sizes: list[int]) -> None:
    """A thread that sends a few frames holds a few keys, not 4 KiB of them (S5's memory)."""
    sizes = batch_sizes

    def send(frames_to_send: int) -> None:
        for _ in range(frames_to_send):
            encode_frame(Opcode.TEXT, b"x")

    worker = threading.Thread(target=send, args=(16,))
    worker.start()
    worker.join()
    assert sizes == [64]  # 16 keys from one small batch
    sizes.clear()
    worker = threading.Thread(target=send, args=(3000,))
    worker.start()
    worker.join()
    # 3,000 keys: doubling to 256 bytes (64 keys) a batch and no further, so a busy
    # connection holds 256 bytes of keys, not 4 KiB.
    assert sizes == [64, 128] + [256] * 47  # 16 + 32 + 47 * 64 = 3,056 keys


def test_each_writer_draws_from_its_own_pool(batch_sizes: list[int]) -> None:
    """A connection's keys are its own: one busy connection does not grow another's batch."""
    sizes = batch_sizes
    busy, quiet = MessageWriter(), MessageWriter()
    for _ in range(17):
        busy.binary(b"x")
    quiet.binary(b"x")
    assert sizes == [64, 128, 64]
    assert MessageWriter(mask=False).binary(b"x") == b"\x82\x01x"
    assert sizes == [64, 128, 64]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_never_repeats_its_parents_keys() -> None:
    keys = MaskKeys()
    keys.take()  # the pool now holds keys the parent has not used yet
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write_end, keys.take())
        finally:
            os._exit(0)
    os.close(write_end)
    child_key = os.read(read_end, 4)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert len(child_key) == 4
    assert child_key != keys.take()  # without the fork hook these are the same bytes


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
