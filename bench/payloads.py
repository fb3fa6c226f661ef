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
