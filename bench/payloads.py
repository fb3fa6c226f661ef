"""Deterministic payloads: every message is distinct so echoes are checked for content and order."""
from __future__ import annotations

import json
import random

_PAD = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def small_text(tag: int, i: int, size: int = 32) -> str:
    """A ``size``-byte ASCII text carrying its connection tag and sequence number."""
    head = f"{tag:05d}:{i:08d}:"
    return (head + _PAD)[:size] if size >= len(head) else head[:size]


def small_texts(count: int, size: int = 32) -> list[str]:
    """Pre-built texts so string formatting stays out of the timed loop."""
    return [small_text(0, i, size) for i in range(count)]


def blobs(count: int, size: int, seed: int = 1) -> list[bytes]:
    """``count`` binary payloads: a 4-byte sequence number plus shared random filler."""
    filler = random.Random(seed).randbytes(max(0, size - 4))
    return [i.to_bytes(4, "big") + filler for i in range(count)]


def large_blobs(size: int, variants: int = 2) -> list[bytes]:
    """A few distinct incompressible payloads, sent in rotation (S3)."""
    return [random.Random(100 + v).randbytes(size) for v in range(variants)]


def json_texts(size: int, variants: int = 2) -> list[str]:
    """Compressible JSON documents of about ``size`` bytes, sent in rotation (S6)."""
    out = []
    for v in range(variants):
        rng = random.Random(200 + v)
        rows: list[dict[str, object]] = []
        length = 2
        while length < size - 200:
            i = len(rows)
            row = {
                "id": i,
                "user": f"user-{rng.randrange(5000)}",
                "email": f"user{rng.randrange(5000)}@example.com",
                "active": rng.random() < 0.5,
                "score": round(rng.random() * 100, 2),
                "tags": rng.sample(["alpha", "beta", "gamma", "delta", "omega", "prod"], 3),
                "variant": v,
            }
            rows.append(row)
            length += len(json.dumps(row)) + 2
        out.append(json.dumps({"variant": v, "rows": rows}))
    return out


def small_json(tag: int, i: int, size: int = 1024) -> str:
    """A JSON text of ``size`` bytes carrying its connection tag and sequence number (S8, S9)."""
    head = f'{{"conn": {tag}, "seq": {i}, "items": ['
    body = ", ".join(f'{{"id": {k}, "name": "item-{(tag * 31 + k) % 97}", "ok": true}}' for k in range(size // 30))
    text = head + body
    return text[: size - 2] + "]}" if len(text) >= size - 2 else text + " " * (size - 2 - len(text)) + "]}"


# S9 blasts. On a deflate echo server, a text of at least BLAST_KEEP bytes is echoed
# and kept, compressed once (level 1, a 512-byte window, no shared context); the text
# BLAST then asks for that kept text again as those pre-compressed bytes, written
# straight to the socket. The server spends no zlib time on a blast, so what S9's small
# round trips see is the client's own cost of receiving 16 MiB (its read, inflate and
# decode), not a server compressing on the CPU it shares with them.
BLAST = "blast"
BLAST_KEEP = 64 * 1024

# S7 bursts. The trigger names the burst's shape, so the servers need no configuration:
# "burst:<count>:<size>:<seq>". The echo servers (bench/server/echo.js and
# echo_server.py, plain "ws" kind only) answer it with ``count`` text messages of
# ``size`` bytes, all frames in one socket write; any other message is echoed as usual.
# Message k of a burst is its trigger + "#k:", padded with _PAD (repeated) or cut to
# ``size``: the servers build exactly the same strings, so content and order are checked.
BURST_PREFIX = "burst:"


def burst_trigger(seq: int, count: int, size: int) -> str:
    """The small text message that asks the server for one burst."""
    return f"{BURST_PREFIX}{count}:{size}:{seq:08d}"


def burst_messages(trigger: str, count: int, size: int) -> list[str]:
    """The ``count`` messages the server sends back for ``trigger``, in order."""
    out = []
    for k in range(count):
        body = f"{trigger}#{k}:"
        while len(body) < size:
            body += _PAD
        out.append(body[:size])
    return out


def bursts(count: int, per: int, size: int) -> tuple[list[str], list[list[str]]]:
    """Pre-built triggers and expected bursts, so formatting stays out of the timed loop."""
    triggers = [burst_trigger(i, per, size) for i in range(count)]
    return triggers, [burst_messages(t, per, size) for t in triggers]
